/* reservations.c: the handlers of reservations and user statistics. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "app.h"
#include "auth.h"
#include "cancel.h"
#include "event.h"
#include "holds.h"
#include "paging.h"
#include "request.h"
#include "reservation.h"
#include "reservations.h"
#include "reserve.h"
#include "response.h"
#include "timeutil.h"
#include "validate.h"

static struct json_object *
reservation_json(const struct reservation *r)
{
	struct json_object	*o = json_object_new_object();
	char			 ts[40];

	json_object_object_add(o, "id", json_object_new_int64(r->id));
	/* The seed's documented name, beside ours. */
	json_object_object_add(o, "reservationId", json_object_new_int64(r->id));
	json_object_object_add(o, "eventId", json_object_new_int64(r->event_id));
	json_object_object_add(o, "userId", json_object_new_string(r->user));
	json_object_object_add(o, "quantity", json_object_new_int64(r->quantity));
	json_object_object_add(o, "status", json_object_new_string(
	    reservation_status_name(r->status)));
	time_iso8601_ms(r->created_ms, ts, sizeof ts);
	json_object_object_add(o, "createdAt", json_object_new_string(ts));
	json_object_object_add(o, "reservedAt", json_object_new_string(ts));
	time_iso8601_ms(r->updated_ms, ts, sizeof ts);
	json_object_object_add(o, "updatedAt", json_object_new_string(ts));
	if (r->cancelled_ms != 0) {
		time_iso8601_ms(r->cancelled_ms, ts, sizeof ts);
		json_object_object_add(o, "cancelledAt",
		    json_object_new_string(ts));
	} else
		json_object_object_add(o, "cancelledAt", NULL);
	if (r->expires_ms != 0) {
		time_iso8601_ms(r->expires_ms, ts, sizeof ts);
		json_object_object_add(o, "expiresAt", json_object_new_string(ts));
	} else
		json_object_object_add(o, "expiresAt", NULL);
	json_object_object_add(o, "paymentRef", r->payment_ref[0] != '\0' ?
	    json_object_new_string(r->payment_ref) : NULL);
	json_object_object_add(o, "seatType", r->seat_type[0] != '\0' ?
	    json_object_new_string(r->seat_type) : NULL);
	json_object_object_add(o, "unitPrice", r->unit_price >= 0 ?
	    json_object_new_int64(r->unit_price) : NULL);
	json_object_object_add(o, "totalPrice", r->total_price >= 0 ?
	    json_object_new_int64(r->total_price) : NULL);
	return (o);
}

static bool	same_user(struct response *, const char *, const char **);
static void	hold_expired(struct response *);

/* An optional boolean field (false when absent or null). */
static bool
field_flag(struct json_object *body, const char *name, struct fielderrs *fe)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(body, name, &v) || v == NULL)
		return (false);
	if (!json_object_is_type(v, json_type_boolean)) {
		fe_add(fe, name, "must be true or false");
		return (false);
	}
	return (json_object_get_boolean(v));
}

/*
 * The body of POST /api/reservations; false when a 400 or 403 was answered.
 * With a token, the user is its sub: a body userId may only repeat it.
 */
static bool
read_reserve(struct request *req, struct response *resp, const char *who,
    struct json_object **body, struct reserve_req *rq)
{
	struct fielderrs	fe;

	memset(rq, 0, sizeof *rq);
	if ((*body = body_object(req, resp)) == NULL)
		return (false);
	fe_init(&fe);
	field_int(*body, "eventId", 1, INT64_MAX, true, &rq->event_id, &fe);
	field_string(*body, "userId", 1, USER_ID_MAX, true, who == NULL,
	    &rq->user, &fe);
	field_int(*body, "quantity", 1, 100, true, &rq->qty, &fe);
	rq->hold = field_flag(*body, "hold", &fe);
	field_string(*body, "seatType", 1, CLASS_CODE_MAX, true, false,
	    &rq->seat_type, &fe);
	rq->idem_key = request_header(req, "Idempotency-Key");
	if (rq->idem_key != NULL && !printable_ascii(rq->idem_key, 128))
		fe_add(&fe, "Idempotency-Key", "must be 1 to 128 printable "
		    "ASCII characters");
	rq->request_id = req->request_id;
	rq->admission = request_header(req, "X-Admission-Token");
	if (fe_respond(&fe, resp) || !same_user(resp, who, &rq->user)) {
		json_object_put(*body);
		return (false);
	}
	fe_free(&fe);
	return (true);
}

/* A token's user stands; a body may only name the same one (else 403). */
static bool
same_user(struct response *resp, const char *who, const char **user)
{
	if (who == NULL)
		return (true);
	if (*user != NULL && strcmp(*user, who) != 0) {
		resp_error(resp, 403, "FORBIDDEN", "userId is not the user of "
		    "the bearer token.", NULL);
		return (false);
	}
	*user = who;
	return (true);
}

static void
seats_error(struct response *resp, const char *code, const char *message,
    const char *k1, int64_t v1, const char *k2, int64_t v2)
{
	struct json_object	*d = json_object_new_object();

	json_object_object_add(d, k1, json_object_new_int64(v1));
	json_object_object_add(d, k2, json_object_new_int64(v2));
	resp_error(resp, 409, code, message, d);
}

static void
field_error(struct response *resp, const char *field, const char *msg)
{
	struct fielderrs	fe;

	fe_init(&fe);
	fe_add(&fe, field, "%s", msg);
	fe_respond(&fe, resp);
}

/* Everything but a success, as the API says it. */
static void
reserve_failure(struct app *app, struct response *resp, enum reserve_outcome o,
    const struct reserve_req *rq, const struct reserve_result *r)
{
	char	msg[400];

	switch (o) {
	case RESERVE_NO_EVENT:
		resp_error(resp, 404, "EVENT_NOT_FOUND", "No such event.", NULL);
		break;
	case RESERVE_NOT_ON_SALE:
		snprintf(msg, sizeof msg, "the event is not on sale (%s)",
		    r->event_status != EVENT_ACTIVE ? event_status_name(
		    r->event_status) : "it has already taken place");
		field_error(resp, "eventId", msg);
		break;
	case RESERVE_TOO_MANY:
		snprintf(msg, sizeof msg, "must be an integer from 1 to %d for "
		    "this event", r->max_per_request);
		field_error(resp, "quantity", msg);
		break;
	case RESERVE_BAD_CLASS:
		if (r->classes[0] != '\0')
			snprintf(msg, sizeof msg, "must be one of %s",
			    r->classes);
		else
			snprintf(msg, sizeof msg, "this event has no seat "
			    "classes: leave it out");
		field_error(resp, "seatType", msg);
		break;
	case RESERVE_SOLD_OUT:
		seats_error(resp, "INSUFFICIENT_SEATS", "Not enough seats left.",
		    "requested", rq->qty, "available", r->available);
		break;
	case RESERVE_LIMIT:
		seats_error(resp, "LIMIT_EXCEEDED", "This would take the user "
		    "past the event's per-user limit.", "perUserLimit",
		    r->per_user_limit, "requested", rq->qty);
		break;
	case RESERVE_BUSY:
	case RESERVE_IDEM_IN_FLIGHT:
		resp_error(resp, 409, "CONCURRENT_RESERVATION", o == RESERVE_BUSY ?
		    "Another reservation for this event is in progress; retry." :
		    "A request with this Idempotency-Key is still in progress.",
		    NULL);
		resp_header(resp, "Retry-After", "1");
		break;
	case RESERVE_ADMISSION_REQUIRED:
		resp_error(resp, 403, "ADMISSION_REQUIRED", "This event has a "
		    "waiting room: join its queue and reserve with the admission "
		    "token you get when your number is served (header "
		    "X-Admission-Token).", NULL);
		break;
	case RESERVE_RATE_LIMITED:
		resp_error(resp, 429, "RATE_LIMITED", "Too many reservations "
		    "for this user; retry later.", NULL);
		resp_header(resp, "Retry-After", "%d", r->retry_after_s);
		break;
	case RESERVE_IDEM_CONFLICT:
		resp_error(resp, 422, "IDEMPOTENCY_CONFLICT", "This "
		    "Idempotency-Key was already used with a different request.",
		    NULL);
		break;
	case RESERVE_UNAVAILABLE:
		if (r->outcome_unknown)
			app_outcome_unknown(app, resp, "reservation failed",
			    r->detail);
		else
			app_unavailable(app, resp, "reservation failed",
			    r->detail);
		break;
	case RESERVE_FAILED:
	case RESERVE_OK:
	case RESERVE_REPLAY:
		app_internal_error(app, resp, "reservation failed", r->detail);
		break;
	}
}

void
handle_reservation_create(struct app *app, struct request *req,
    struct response *resp)
{
	struct json_object	*body;
	struct reserve_req	 rq;
	struct reserve_result	 r;
	enum reserve_outcome	 o;
	enum caller		 c;
	char			 who[USER_ID_MAX + 1];

	if ((c = auth_caller(app, req, resp, who)) == CALLER_REFUSED ||
	    !read_reserve(req, resp, c == CALLER_USER ? who : NULL, &body, &rq))
		return;
	o = reserve(&app->st, &rq, &r);
	if (o == RESERVE_OK)
		resp_success(resp, 201, reservation_json(&r.res), rq.hold ?
		    "Seats held; confirm before expiresAt." :
		    "Reservation confirmed.");
	else if (o == RESERVE_REPLAY) {
		resp_success(resp, 201, reservation_json(&r.res),
		    "Reservation confirmed (replayed).");
		resp_header(resp, "Idempotent-Replayed", "true");
	} else
		reserve_failure(app, resp, o, &rq, &r);
	json_object_put(body);
}

void
handle_reservation_get(struct app *app, struct request *req,
    struct response *resp)
{
	struct reservation	r;
	enum caller		c;
	enum lookup		l;
	char			who[USER_ID_MAX + 1];
	int64_t			id;

	if ((c = auth_caller(app, req, resp, who)) == CALLER_REFUSED ||
	    !capture_id(req, resp, "id", &id))
		return;
	/* Another user's reservation is not there, as far as they know. */
	if ((l = reservation_load(app->st.db, id, &r)) == LOOKUP_FOUND &&
	    !auth_owns(c, who, r.user))
		l = LOOKUP_NONE;
	switch (l) {
	case LOOKUP_ERROR:
		app_db_failure(app, resp, "reservation lookup failed");
		break;
	case LOOKUP_NONE:
		resp_error(resp, 404, "RESERVATION_NOT_FOUND", "No such "
		    "reservation.", NULL);
		break;
	case LOOKUP_FOUND:
		resp_success(resp, 200, reservation_json(&r), NULL);
		break;
	}
}

void
handle_reservation_cancel(struct app *app, struct request *req,
    struct response *resp)
{
	struct reservation	r;
	enum caller		c;
	char			detail[256], who[USER_ID_MAX + 1];
	int64_t			id;

	if ((c = auth_caller(app, req, resp, who)) == CALLER_REFUSED ||
	    !capture_id(req, resp, "id", &id))
		return;
	switch (cancel_reservation(&app->st, id, c == CALLER_USER ? who : NULL,
	    req->request_id, &r, detail, sizeof detail)) {
	case CANCEL_OK:
		resp_success(resp, 200, reservation_json(&r),
		    "Reservation cancelled.");
		break;
	case CANCEL_NOT_FOUND:
		resp_error(resp, 404, "RESERVATION_NOT_FOUND", "No such "
		    "reservation.", NULL);
		break;
	case CANCEL_ALREADY:
		resp_error(resp, 409, "ALREADY_CANCELLED", "The reservation is "
		    "already cancelled.", NULL);
		break;
	case CANCEL_EXPIRED:
		hold_expired(resp);
		break;
	case CANCEL_UNAVAILABLE:
		app_unavailable(app, resp, "cancel failed", detail);
		break;
	case CANCEL_NOTHING:
	case CANCEL_FAILED:
		app_internal_error(app, resp, "cancel failed", detail);
		break;
	}
}

static void
hold_expired(struct response *resp)
{
	resp_error(resp, 409, "HOLD_EXPIRED", "The hold ran out before it was "
	    "confirmed; its seats went back on sale.", NULL);
}

/* The optional {"paymentRef"} of a confirm; false when a 400 was answered. */
static bool
read_confirm(struct request *req, struct response *resp,
    struct json_object **body, const char **ref)
{
	struct fielderrs	fe;

	*body = NULL;
	*ref = NULL;
	if (req->body == NULL || req->body_len == 0)
		return (true);
	if ((*body = body_object(req, resp)) == NULL)
		return (false);
	fe_init(&fe);
	field_string(*body, "paymentRef", 1, PAYMENT_REF_MAX, true, false, ref,
	    &fe);
	if (fe_respond(&fe, resp)) {
		json_object_put(*body);
		return (false);
	}
	fe_free(&fe);
	return (true);
}

void
handle_reservation_confirm(struct app *app, struct request *req,
    struct response *resp)
{
	struct json_object	*body;
	struct reservation	 r;
	enum caller		 c;
	const char		*ref;
	char			 detail[256], who[USER_ID_MAX + 1];
	int64_t			 id;

	if ((c = auth_caller(app, req, resp, who)) == CALLER_REFUSED ||
	    !capture_id(req, resp, "id", &id) ||
	    !read_confirm(req, resp, &body, &ref))
		return;
	switch (hold_confirm(&app->st, id, c == CALLER_USER ? who : NULL, ref,
	    req->request_id, &r, detail, sizeof detail)) {
	case CONFIRM_OK:
		resp_success(resp, 200, reservation_json(&r),
		    "Reservation confirmed.");
		break;
	case CONFIRM_NOT_FOUND:
		resp_error(resp, 404, "RESERVATION_NOT_FOUND", "No such "
		    "reservation.", NULL);
		break;
	case CONFIRM_EXPIRED:
		hold_expired(resp);
		break;
	case CONFIRM_CANCELLED:
		resp_error(resp, 409, "ALREADY_CANCELLED", "The reservation is "
		    "cancelled.", NULL);
		break;
	case CONFIRM_UNAVAILABLE:
		app_unavailable(app, resp, "confirm failed", detail);
		break;
	case CONFIRM_FAILED:
		app_internal_error(app, resp, "confirm failed", detail);
		break;
	}
	json_object_put(body);
}

/*
 * The {userId} of the path, if this caller may see that user: a token's
 * user sees only themselves (another user is 404, so ids leak nothing).
 */
static bool
user_capture(struct app *app, const struct request *req,
    struct response *resp, const char **user)
{
	enum caller	c;
	char		who[USER_ID_MAX + 1];

	if ((c = auth_caller(app, req, resp, who)) == CALLER_REFUSED)
		return (false);
	*user = request_capture(req, "userId");
	if (*user == NULL || !printable_ascii(*user, USER_ID_MAX)) {
		field_error(resp, "userId", "must be 1 to 64 printable ASCII "
		    "characters");
		return (false);
	}
	if (!auth_owns(c, who, *user)) {
		resp_error(resp, 404, "NOT_FOUND", "No such user.", NULL);
		return (false);
	}
	return (true);
}

void
handle_reservations_by_user(struct app *app, struct request *req,
    struct response *resp)
{
	struct fielderrs	 fe;
	struct reservation_page	 p;
	struct json_object	*content;
	const char		*user, *status;
	int64_t			 page, size;
	int			 st = -1;
	size_t			 i;

	if (!user_capture(app, req, resp, &user))
		return;
	fe_init(&fe);
	page_params(req, &page, &size, &fe);
	if ((status = request_query(req, "status")) != NULL &&
	    (st = reservation_status_parse(status)) == -1)
		fe_add(&fe, "status", "must be CONFIRMED, HELD, CANCELLED or "
		    "EXPIRED");
	if (fe_respond(&fe, resp))
		return;
	fe_free(&fe);
	if (reservation_list_by_user(app->st.db, user, st, page, size,
	    &p) == -1) {
		reservation_page_free(&p);
		app_db_failure(app, resp, "reservation list failed");
		return;
	}
	content = json_object_new_array();
	for (i = 0; i < p.count; i++)
		json_object_array_add(content, reservation_json(&p.items[i]));
	resp_success(resp, 200, page_json(content, page, size, p.total), NULL);
	reservation_page_free(&p);
}

void
handle_user_stats(struct app *app, struct request *req, struct response *resp)
{
	struct json_object	*o;
	struct user_stats	 s;
	const char		*user;

	if (!user_capture(app, req, resp, &user))
		return;
	if (user_stats_load(app->st.db, user, &s) == -1) {
		app_db_failure(app, resp, "user statistics failed");
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "userId", json_object_new_string(user));
	json_object_object_add(o, "totalReservations",
	    json_object_new_int64(s.reservations));
	json_object_object_add(o, "totalTickets", json_object_new_int64(s.tickets));
	json_object_object_add(o, "cancelledReservations",
	    json_object_new_int64(s.cancelled));
	resp_success(resp, 200, o, NULL);
}
