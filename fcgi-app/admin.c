/* admin.c: admin-only operations. */
#include "config.h"

#include <json-c/json.h>

#include "admin.h"
#include "app.h"
#include "auth.h"
#include "housekeeping.h"
#include "request.h"
#include "response.h"

void
handle_admin_reconcile(struct app *app, struct request *req,
    struct response *resp)
{
	struct json_object	*data;
	struct reconcile_stats	 s;
	char			 err[512];

	if (!admin_check(app, req, resp))
		return;
	if (reconcile_gates(&app->st, RECONCILE_NOW, &s, err,
	    sizeof err) == -1) {
		app_unavailable(app, resp, "reconcile failed", err);
		return;
	}
	data = json_object_new_object();
	json_object_object_add(data, "events", json_object_new_int(s.events));
	json_object_object_add(data, "corrected",
	    json_object_new_int(s.corrected));
	resp_success(resp, 200, data, "Gate counters reconciled.");
}
