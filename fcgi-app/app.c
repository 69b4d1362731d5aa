/* app.c: a worker's handler context and the route table. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "app.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "redis_conn.h"
#include "request.h"
#include "reserve.h"
#include "response.h"
#include "xmalloc.h"

struct app *
app_new(const struct bo_conf *conf, int slot)
{
	struct app	*app = xcalloc(1, sizeof *app);

	app->conf = conf;
	app->slot = slot;
	app->st.conf = conf;
	app->st.db = db_new(conf);
	app->st.redis = redis_conn_new(conf);
	/* Latencies read better as 0.517 than 0.51700000000000002. */
	json_c_set_serialization_double_format("%.3f", JSON_C_OPTION_GLOBAL);
	return (app);
}

void
app_free(struct app *app)
{
	if (app == NULL)
		return;
	db_free(app->st.db);
	redis_conn_free(app->st.redis);
	free(app);
}

void
app_warm_up(struct app *app)
{
	if (db_connect(app->st.db) == -1)
		log_warn("worker start: database not reachable yet: %s",
		    db_errstr(app->st.db));
	else if (reserve_warm_up(&app->st) == -1)
		log_debug("worker start: reserve_one_shard not warmed up: %s",
		    db_errstr(app->st.db));
	if (redis_conn_connect(app->st.redis, true) == -1)
		log_warn("worker start: redis not reachable yet: %s",
		    redis_conn_errstr(app->st.redis));
}

static void
log_failure(struct app *app, const char *what, const char *detail, int status)
{
	struct json_object	*f = json_object_new_object();

	if (app->req != NULL) {
		json_object_object_add(f, "requestId",
		    json_object_new_string(app->req->request_id));
		json_object_object_add(f, "method",
		    json_object_new_string(app->req->method));
		json_object_object_add(f, "path",
		    json_object_new_string(app->req->path));
	}
	json_object_object_add(f, "status", json_object_new_int(status));
	json_object_object_add(f, "detail",
	    json_object_new_string(detail != NULL ? detail : ""));
	log_fields(LOG_LVL_ERROR, f, what);
}

void
app_internal_error(struct app *app, struct response *resp, const char *what,
    const char *detail)
{
	log_failure(app, what, detail, 500);
	resp_error(resp, 500, "INTERNAL_SERVER_ERROR",
	    "The server could not complete the request. Quote the request id "
	    "when you report it.", NULL);
}

void
app_unavailable(struct app *app, struct response *resp, const char *what,
    const char *detail)
{
	log_failure(app, what, detail, 503);
	resp_error(resp, 503, "SERVICE_UNAVAILABLE",
	    "The service is temporarily unavailable. Retry later.", NULL);
	resp_header(resp, "Retry-After", "1");
}

void
app_outcome_unknown(struct app *app, struct response *resp, const char *what,
    const char *detail)
{
	struct json_object	*d = json_object_new_object();

	log_failure(app, what, detail, 503);
	json_object_object_add(d, "outcome", json_object_new_string("unknown"));
	resp_error(resp, 503, "SERVICE_UNAVAILABLE", "The database failed "
	    "while this request was being committed; it may have succeeded. "
	    "Send it again with the same Idempotency-Key, or list your "
	    "reservations, to find out.", d);
	resp_header(resp, "Retry-After", "1");
}

void
app_db_failure(struct app *app, struct response *resp, const char *what)
{
	if (db_fault_unavailable(db_fault(app->st.db)))
		app_unavailable(app, resp, what, db_errstr(app->st.db));
	else
		app_internal_error(app, resp, what, db_errstr(app->st.db));
}
