/* events.c: the handlers of /api/events: parse, call the domain, render. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "app.h"
#include "auth.h"
#include "conf.h"
#include "db.h"
#include "event.h"
#include "event_admin.h"
#include "event_body.h"
#include "event_cache.h"
#include "events.h"
#include "inventory.h"
#include "log.h"
#include "paging.h"
#include "redis_gate.h"
#include "request.h"
#include "response.h"
#include "timeutil.h"
#include "validate.h"

#define MAX_LIST	500	/* upcoming/available return at most this many */

/* The seed's venue object, when the event was given more than a name. */
static struct json_object *
venue_json(const struct event *ev)
{
	struct json_object	*v;

	if (ev->venue_address == NULL && ev->venue_capacity < 0)
		return (NULL);
	v = json_object_new_object();
	json_object_object_add(v, "name", ev->venue != NULL ?
	    json_object_new_string(ev->venue) : NULL);
	json_object_object_add(v, "address", ev->venue_address != NULL ?
	    json_object_new_string(ev->venue_address) : NULL);
	json_object_object_add(v, "capacity", ev->venue_capacity >= 0 ?
	    json_object_new_int64(ev->venue_capacity) : NULL);
	return (v);
}

/* Unsold seats of a pool, when the pools were loaded; -1 when not. */
static int64_t
pool_available(const struct event *ev, const char *pool)
{
	int	i;

	for (i = 0; i < ev->npools; i++)
		if (strcmp(ev->pools[i].code, pool) == 0)
			return (ev->pools[i].available);
	return (ev->npools > 0 ? 0 : -1);
}

/* [{code, price, seats (its own, or null), availableSeats}] */
static struct json_object *
classes_json(const struct event *ev)
{
	struct json_object	*arr = json_object_new_array(), *c;
	const struct seat_class	*sc;
	int64_t			 avail;
	int			 i;

	for (i = 0; i < ev->nclasses; i++) {
		sc = &ev->classes[i];
		c = json_object_new_object();
		json_object_object_add(c, "code", json_object_new_string(
		    sc->code));
		json_object_object_add(c, "price", json_object_new_int64(
		    sc->price));
		json_object_object_add(c, "seats", sc->own_seats >= 0 ?
		    json_object_new_int64(sc->own_seats) : NULL);
		avail = pool_available(ev, class_pool(sc));
		json_object_object_add(c, "availableSeats", avail >= 0 ?
		    json_object_new_int64(avail) : NULL);
		json_object_array_add(arr, c);
	}
	return (arr);
}

struct json_object *
event_json(const struct event *ev, int64_t available)
{
	struct json_object	*o = json_object_new_object(), *room;
	char			 ts[40];

	if (available < 0)
		available = 0;
	if (available > ev->total)
		available = ev->total;
	json_object_object_add(o, "id", json_object_new_int64(ev->id));
	json_object_object_add(o, "eventName", json_object_new_string(ev->name));
	json_object_object_add(o, "venue", ev->venue != NULL ?
	    json_object_new_string(ev->venue) : NULL);
	time_iso8601_ms(ev->date_ms, ts, sizeof ts);
	json_object_object_add(o, "eventDate", json_object_new_string(ts));
	json_object_object_add(o, "totalSeats", json_object_new_int64(ev->total));
	json_object_object_add(o, "availableSeats",
	    json_object_new_int64(available));
	json_object_object_add(o, "perUserLimit",
	    json_object_new_int(ev->per_user_limit));
	json_object_object_add(o, "maxPerRequest",
	    json_object_new_int(ev->max_per_request));
	json_object_object_add(o, "status",
	    json_object_new_string(event_status_name(ev->status)));
	time_iso8601_ms(ev->created_ms, ts, sizeof ts);
	json_object_object_add(o, "createdAt", json_object_new_string(ts));
	time_iso8601_ms(ev->updated_ms, ts, sizeof ts);
	json_object_object_add(o, "updatedAt", json_object_new_string(ts));
	room = json_object_new_object();
	json_object_object_add(room, "enabled",
	    json_object_new_boolean(ev->waiting_room));
	json_object_object_add(room, "admitPerSecond",
	    json_object_new_int(ev->waiting_room ? ev->admit_per_second : 0));
	json_object_object_add(o, "waitingRoom", room);
	json_object_object_add(o, "venueDetails", venue_json(ev));
	json_object_object_add(o, "currency", ev->currency[0] != '\0' ?
	    json_object_new_string(ev->currency) : NULL);
	json_object_object_add(o, "seatClasses", classes_json(ev));
	return (o);
}

static void
no_event(struct response *resp)
{
	resp_error(resp, 404, "EVENT_NOT_FOUND", "No such event.", NULL);
}

void
handle_event_get(struct app *app, struct request *req, struct response *resp)
{
	struct event		ev;
	struct cache_side	gate;
	char			gkey[80];
	int64_t			id, available;
	bool			hit;
	int			i;

	if (!capture_id(req, resp, "id", &id))
		return;
	gate_key(id, "", gkey, sizeof gkey);
	gate.key = gkey;
	switch (event_fetch(&app->st, id, &ev, &hit, &available, &gate, 1)) {
	case LOOKUP_ERROR:
		app_db_failure(app, resp, "event lookup failed");
		return;
	case LOOKUP_NONE:
		no_event(resp);
		return;
	case LOOKUP_FOUND:
		break;
	}
	/*
	 * Live availability: the gate counter when there is one; an event
	 * with classes reads its pools (nginx caches this answer a second).
	 */
	if (ev.nclasses > 0 && event_pools_load(app->st.db, &ev, 1) == 0)
		for (available = 0, i = 0; i < ev.npools; i++)
			available += ev.pools[i].available;
	else if (gate.value >= 0)
		available = gate.value;
	else if (available < 0 && inventory_available(app->st.db, id, NULL,
	    &available) != INV_OK)
		available = 0;
	resp_success(resp, 200, event_json(&ev, available), NULL);
	resp_header(resp, "X-Cache", "%s", hit ? "HIT" : "MISS");
	event_free(&ev);
}

static struct json_object *
events_array(const struct event_page *p)
{
	struct json_object	*arr = json_object_new_array();
	size_t			 i;

	for (i = 0; i < p->count; i++)
		json_object_array_add(arr, event_json(&p->items[i],
		    p->available[i]));
	return (arr);
}

/* ?sort=field[,asc|desc]; false (with an error) when it is not one. */
static bool
parse_sort(const char *sort, enum event_sort *by, bool *desc,
    struct fielderrs *fe)
{
	static const char *const names[] = { "eventDate", "id", "eventName" };
	size_t	flen, i;

	*by = EVENT_SORT_DATE;
	*desc = false;
	if (sort == NULL)
		return (true);
	flen = strcspn(sort, ",");
	for (i = 0; i < 3; i++)
		if (strlen(names[i]) == flen && strncmp(sort, names[i],
		    flen) == 0)
			break;
	*by = (enum event_sort)i;
	if (sort[flen] == ',')
		*desc = strcasecmp(sort + flen + 1, "desc") == 0;
	if (i == 3 || (sort[flen] == ',' && !*desc &&
	    strcasecmp(sort + flen + 1, "asc") != 0)) {
		fe_add(fe, "sort", "must be eventDate, id or eventName, "
		    "optionally followed by ,asc or ,desc");
		return (false);
	}
	return (true);
}

void
handle_events_list(struct app *app, struct request *req, struct response *resp)
{
	struct fielderrs	 fe;
	struct event_page	 p;
	const char		*status = request_query(req, "status");
	enum event_sort		 by;
	int64_t			 page, size;
	int			 st = -1;
	bool			 desc;

	fe_init(&fe);
	page_params(req, &page, &size, &fe);
	(void)parse_sort(request_query(req, "sort"), &by, &desc, &fe);
	if (status != NULL && (st = event_status_parse(status)) == -1)
		fe_add(&fe, "status", "must be ACTIVE, CLOSED or CANCELLED");
	if (fe_respond(&fe, resp))
		return;
	fe_free(&fe);
	if (event_list(app->st.db, st, by, desc, page, size, &p) == -1) {
		event_page_free(&p);
		app_db_failure(app, resp, "event list failed");
		return;
	}
	resp_success(resp, 200, page_json(events_array(&p), page, size,
	    p.total), NULL);
	event_page_free(&p);
}

static void
filtered(struct app *app, struct response *resp, enum event_filter f)
{
	struct event_page	p;

	if (event_list_filtered(app->st.db, f, MAX_LIST, &p) == -1) {
		event_page_free(&p);
		app_db_failure(app, resp, "event list failed");
		return;
	}
	resp_success(resp, 200, events_array(&p), NULL);
	event_page_free(&p);
}

void
handle_events_upcoming(struct app *app, struct request *req,
    struct response *resp)
{
	(void)req;
	filtered(app, resp, EVENT_UPCOMING);
}

void
handle_events_available(struct app *app, struct request *req,
    struct response *resp)
{
	(void)req;
	filtered(app, resp, EVENT_AVAILABLE);
}

/*
 * Per-class availability for an answer about a committed change: without
 * it (a database blip) the classes show null, the change still stands.
 */
static void
with_pools(struct event *ev, struct app *app)
{
	if (ev->nclasses > 0 && event_pools_load(app->st.db, ev, 1) == -1)
		log_warn("per-class availability of event %" PRId64 " not "
		    "read: %s", ev->id, db_errstr(app->st.db));
}

/* The body's changes, or a 400 already answered (NULL). */
static struct json_object *
changes_of(struct request *req, struct response *resp, bool create,
    struct event_changes *ch)
{
	struct json_object	*body;
	struct fielderrs	 fe;

	if ((body = body_object(req, resp)) == NULL)
		return (NULL);
	fe_init(&fe);
	event_body_read(body, create, ch, &fe);
	if (fe_respond(&fe, resp)) {
		json_object_put(body);
		return (NULL);
	}
	fe_free(&fe);
	return (body);
}

/* The answer to an admin operation that did not succeed. */
static void
admin_failure(struct app *app, struct response *resp, enum admin_outcome o,
    const struct admin_result *r, const char *what)
{
	struct fielderrs	fe;

	switch (o) {
	case ADMIN_OK:
		break;
	case ADMIN_NOT_FOUND:
		no_event(resp);
		break;
	case ADMIN_BELOW_SOLD:
		fe_init(&fe);
		fe_add(&fe, "totalSeats", "must not be below the %" PRId64
		    " seats already sold", r->sold);
		fe_respond(&fe, resp);
		break;
	case ADMIN_FIXED_TOTAL:
		fe_init(&fe);
		fe_add(&fe, "totalSeats", "cannot change: every seat of this "
		    "event belongs to a class of its own");
		fe_respond(&fe, resp);
		break;
	case ADMIN_HAS_RESERVATIONS:
		resp_error(resp, 409, "CANNOT_DELETE_EVENT", "The event has "
		    "reservations and cannot be deleted; set its status to "
		    "CANCELLED instead.", NULL);
		break;
	case ADMIN_UNAVAILABLE:
		app_unavailable(app, resp, what, r->detail);
		break;
	case ADMIN_FAILED:
		app_internal_error(app, resp, what, r->detail);
		break;
	}
}

void
handle_event_create(struct app *app, struct request *req,
    struct response *resp)
{
	struct json_object	*body;
	struct event_changes	 ch;
	struct admin_result	 r;
	enum admin_outcome	 o;

	if (!admin_check(app, req, resp) ||
	    (body = changes_of(req, resp, true, &ch)) == NULL)
		return;
	if ((o = event_create(&app->st, &ch, req->request_id, &r)) == ADMIN_OK) {
		with_pools(&r.ev, app);
		resp_success(resp, 201, event_json(&r.ev, r.available),
		    "Event created.");
	}
	else
		admin_failure(app, resp, o, &r, "event create failed");
	event_free(&r.ev);
	json_object_put(body);
}

void
handle_event_update(struct app *app, struct request *req,
    struct response *resp)
{
	struct json_object	*body;
	struct event_changes	 ch;
	struct admin_result	 r;
	enum admin_outcome	 o;
	int64_t			 id;

	if (!admin_check(app, req, resp) || !capture_id(req, resp, "id", &id) ||
	    (body = changes_of(req, resp, false, &ch)) == NULL)
		return;
	o = event_update(&app->st, id, &ch, req->request_id, &r);
	if (o == ADMIN_OK) {
		with_pools(&r.ev, app);
		resp_success(resp, 200, event_json(&r.ev, r.available),
		    "Event updated.");
	}
	else
		admin_failure(app, resp, o, &r, "event update failed");
	event_free(&r.ev);
	json_object_put(body);
}

void
handle_event_delete(struct app *app, struct request *req,
    struct response *resp)
{
	struct admin_result	r;
	enum admin_outcome	o;
	int64_t			id;

	if (!admin_check(app, req, resp) || !capture_id(req, resp, "id", &id))
		return;
	if ((o = event_delete(&app->st, id, req->request_id, &r)) == ADMIN_OK)
		resp_success(resp, 204, NULL, NULL);
	else
		admin_failure(app, resp, o, &r, "event delete failed");
	event_free(&r.ev);
}
