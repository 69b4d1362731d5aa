/* admin.c: admin authentication and the reconcile endpoint. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "admin.h"
#include "app.h"
#include "conf.h"
#include "housekeeping.h"
#include "request.h"
#include "response.h"

bool
consttime_equal(const char *a, const char *b)
{
	size_t		la = strlen(a), lb = strlen(b), i;
	unsigned char	diff = la != lb;

	/* Walk the whole secret whatever the input, so timing tells nothing. */
	for (i = 0; i < lb; i++)
		diff |= (unsigned char)(b[i] ^ (i < la ? a[i] : 0));
	return (diff == 0);
}

bool
admin_check(struct app *app, const struct request *req, struct response *resp)
{
	const char	*h = request_env(req, "HTTP_AUTHORIZATION");

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0 || h[7] == '\0') {
		resp_error(resp, 401, "UNAUTHORIZED", "This endpoint needs "
		    "Authorization: Bearer <admin token>.", NULL);
		resp_header(resp, "WWW-Authenticate", "Bearer");
		return (false);
	}
	if (*app->conf->admin_token == '\0' ||
	    !consttime_equal(h + 7, app->conf->admin_token)) {
		resp_error(resp, 403, "FORBIDDEN", "The token does not grant "
		    "admin access.", NULL);
		return (false);
	}
	return (true);
}

void
handle_admin_reconcile(struct app *app, struct request *req,
    struct response *resp)
{
	struct json_object	*data;
	struct reconcile_stats	 s;
	char			 err[512];

	if (!admin_check(app, req, resp))
		return;
	if (reconcile_gates(&app->st, &s, err, sizeof err) == -1) {
		app_unavailable(app, resp, "reconcile failed", err);
		return;
	}
	data = json_object_new_object();
	json_object_object_add(data, "events", json_object_new_int(s.events));
	json_object_object_add(data, "corrected",
	    json_object_new_int(s.corrected));
	resp_success(resp, 200, data, "Gate counters reconciled.");
}
