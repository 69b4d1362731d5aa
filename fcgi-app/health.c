/* health.c: liveness, readiness and the test-only sleep endpoint. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "app.h"
#include "conf.h"
#include "health.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "redis_conn.h"
#include "request.h"
#include "response.h"
#include "router.h"
#include "routes.h"
#include "timeutil.h"

/* Liveness for the load balancer: answers without touching a dependency. */
void
handle_health(struct app *app, struct request *req, struct response *resp)
{
	struct json_object	*data = json_object_new_object();

	json_object_object_add(data, "status", json_object_new_string("UP"));
	resp_success(resp, 200, data, "alive");
}

static struct json_object *
component(bool up, int64_t us)
{
	struct json_object	*c = json_object_new_object();

	json_object_object_add(c, "status",
	    json_object_new_string(up ? "UP" : "DOWN"));
	json_object_object_add(c, "latencyMs",
	    json_object_new_double((double)us / 1000.0));
	return (c);
}

/*
 * Readiness: the database is required, Redis is not (requests fall back to
 * the database path without it), so Redis down is DEGRADED, not DOWN.
 */
void
handle_ready(struct app *app, struct request *req, struct response *resp)
{
	struct json_object	*data, *comps;
	int64_t			 t0, db_us, redis_us;
	bool			 db_up, redis_up;

	t0 = time_mono_us();
	db_up = db_ping(app->st.db) == 0;
	db_us = time_mono_us() - t0;
	t0 = time_mono_us();
	redis_up = redis_conn_ping(app->st.redis) == 0;
	redis_us = time_mono_us() - t0;

	comps = json_object_new_object();
	json_object_object_add(comps, "db", component(db_up, db_us));
	json_object_object_add(comps, "redis", component(redis_up, redis_us));
	if (!db_up) {
		log_warn("ready: database down: %s", db_errstr(app->st.db));
		resp_error(resp, 503, "SERVICE_UNAVAILABLE",
		    "The database is unavailable.", comps);
		resp_header(resp, "Retry-After", "1");
		return;
	}
	if (!redis_up)
		log_warn("ready: redis down: %s",
		    redis_conn_errstr(app->st.redis));
	data = json_object_new_object();
	json_object_object_add(data, "status",
	    json_object_new_string(redis_up ? "UP" : "DEGRADED"));
	json_object_object_add(data, "components", comps);
	resp_success(resp, 200, data, redis_up ? "ready" :
	    "ready without redis: reservations use the database path");
}

/* Sleeps ?ms=N (at most 10 s); only routed when debug_endpoints is on. */
void
handle_debug_sleep(struct app *app, struct request *req, struct response *resp)
{
	struct json_object	*data;
	const char		*ms = request_query(req, "ms");
	struct timespec		 ts;
	char			*end;
	long			 v;

	if (!app->conf->debug_endpoints) {
		resp_error(resp, 404, "NOT_FOUND", "No such route.", NULL);
		return;
	}
	v = ms != NULL ? strtol(ms, &end, 10) : -1;
	if (ms == NULL || *end != '\0' || v < 0 || v > 10000) {
		resp_error(resp, 400, "INVALID_REQUEST",
		    "ms must be an integer from 0 to 10000.", NULL);
		return;
	}
	ts.tv_sec = v / 1000;
	ts.tv_nsec = (v % 1000) * 1000000L;
	/* Signals interrupt nanosleep; resume so the request really lasts. */
	while (nanosleep(&ts, &ts) == -1)
		;
	data = json_object_new_object();
	json_object_object_add(data, "sleptMs", json_object_new_int((int)v));
	resp_success(resp, 200, data, "slept");
}

/* Prometheus text; nginx lets only internal addresses reach it. */
void
handle_metrics(struct app *app, struct request *req, struct response *resp)
{
	const struct route	*routes;
	size_t			 n, len;
	char			*text;

	routes = routes_table(&n);
	text = metrics_render(routes, n, &len);
	resp_text(resp, 200, "text/plain; version=0.0.4; charset=utf-8", text,
	    len);
}
