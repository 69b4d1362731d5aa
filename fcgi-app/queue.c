/* queue.c: the waiting room's handlers: parse, call, render. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "app.h"
#include "auth.h"
#include "queue.h"
#include "request.h"
#include "reservation.h"
#include "response.h"
#include "timeutil.h"
#include "validate.h"
#include "waitroom.h"

/* Every outcome but QUEUE_OK, as the API says it. */
static void
queue_failure(struct app *app, struct response *resp, enum queue_outcome o,
    const char *what)
{
	switch (o) {
	case QUEUE_NO_EVENT:
		resp_error(resp, 404, "EVENT_NOT_FOUND", "No such event.", NULL);
		break;
	case QUEUE_NO_ROOM:
		resp_error(resp, 404, "NOT_FOUND", "This event has no waiting "
		    "room: reserve directly.", NULL);
		break;
	case QUEUE_FORGED:
		resp_error(resp, 403, "FORBIDDEN", "This ticket was not issued "
		    "for this event's waiting room.", NULL);
		break;
	case QUEUE_NOT_YET:
	case QUEUE_OK:
		break;
	case QUEUE_UNAVAILABLE:
		/* Fail closed: nobody gets in while the queue cannot count. */
		app_unavailable(app, resp, what, "waiting room unavailable "
		    "(Redis or the database down, or no admission_secret)");
		break;
	}
}

/* The one string field of a small body, or a 400 already answered. */
static struct json_object *
string_body(struct request *req, struct response *resp, const char *name,
    size_t maxlen, bool required, const char **out)
{
	struct json_object	*body;
	struct fielderrs	 fe;

	*out = NULL;
	if ((body = body_object(req, resp)) == NULL)
		return (NULL);
	fe_init(&fe);
	field_string(body, name, 1, maxlen, true, required, out, &fe);
	if (fe_respond(&fe, resp)) {
		json_object_put(body);
		return (NULL);
	}
	fe_free(&fe);
	return (body);
}

void
handle_queue_join(struct app *app, struct request *req, struct response *resp)
{
	struct json_object	*body, *d;
	struct queue_join	 j;
	enum queue_outcome	 o;
	enum caller		 c;
	const char		*user;
	char			 who[USER_ID_MAX + 1];
	int64_t			 id;

	if ((c = auth_caller(app, req, resp, who)) == CALLER_REFUSED ||
	    !capture_id(req, resp, "id", &id) || (body = string_body(req, resp,
	    "userId", USER_ID_MAX, c != CALLER_USER, &user)) == NULL)
		return;
	/* With a token, its user queues: a body may only repeat it. */
	if (c == CALLER_USER && user != NULL && strcmp(user, who) != 0) {
		resp_error(resp, 403, "FORBIDDEN", "userId is not the user of "
		    "the bearer token.", NULL);
		json_object_put(body);
		return;
	}
	if (c == CALLER_USER)
		user = who;
	if ((o = queue_join(&app->st, id, user, &j)) == QUEUE_OK) {
		d = json_object_new_object();
		json_object_object_add(d, "ticket",
		    json_object_new_string(j.ticket));
		json_object_object_add(d, "number", json_object_new_int64(j.number));
		json_object_object_add(d, "serving",
		    json_object_new_int64(j.serving));
		json_object_object_add(d, "pollAfterMs",
		    json_object_new_int(j.poll_after_ms));
		resp_success(resp, 201, d, "In the queue.");
	} else
		queue_failure(app, resp, o, "queue join failed");
	json_object_put(body);
}

void
handle_queue_poll(struct app *app, struct request *req, struct response *resp)
{
	struct json_object	*d;
	struct queue_state	 q;
	enum queue_outcome	 o;
	int64_t			 id;

	if (!capture_id(req, resp, "id", &id))
		return;
	if ((o = queue_poll(&app->st, id, &q)) != QUEUE_OK) {
		queue_failure(app, resp, o, "queue poll failed");
		return;
	}
	d = json_object_new_object();
	json_object_object_add(d, "serving", json_object_new_int64(q.serving));
	json_object_object_add(d, "issued", json_object_new_int64(q.issued));
	json_object_object_add(d, "admitPerSecond",
	    json_object_new_int(q.admit_per_second));
	json_object_object_add(d, "soldOut", json_object_new_boolean(q.sold_out));
	resp_success(resp, 200, d, NULL);
	/* The same for everyone: nginx and browsers may keep it a second. */
	resp_header(resp, "Cache-Control", "public, max-age=1");
}

void
handle_queue_admission(struct app *app, struct request *req,
    struct response *resp)
{
	struct json_object	*body, *d;
	struct queue_admission	 a;
	enum queue_outcome	 o;
	const char		*ticket;
	char			 ts[40];
	int64_t			 id;

	if (!capture_id(req, resp, "id", &id) || (body = string_body(req, resp,
	    "ticket", TOKEN_MAX - 1, true, &ticket)) == NULL)
		return;
	if ((o = queue_admit(&app->st, id, ticket, &a)) == QUEUE_OK) {
		d = json_object_new_object();
		json_object_object_add(d, "admissionToken",
		    json_object_new_string(a.token));
		time_iso8601_ms(a.expires_ms, ts, sizeof ts);
		json_object_object_add(d, "expiresAt", json_object_new_string(ts));
		resp_success(resp, 201, d, "Admitted: reserve with this token.");
	} else if (o == QUEUE_NOT_YET) {
		resp_error(resp, 409, "NOT_YET_SERVED", "Your number has not "
		    "been served yet; keep polling.", NULL);
		resp_header(resp, "Retry-After", "%d", a.retry_after_s);
	} else
		queue_failure(app, resp, o, "queue admission failed");
	json_object_put(body);
}
