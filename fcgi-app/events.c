/* events.c: events in MariaDB, their cache in Redis, and the handlers. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "admin.h"
#include "app.h"
#include "conf.h"
#include "db.h"
#include "events.h"
#include "log.h"
#include "metrics.h"
#include "redis_conn.h"
#include "redis_gate.h"
#include "redis_lock.h"
#include "request.h"
#include "response.h"
#include "timeutil.h"
#include "validate.h"
#include "xmalloc.h"

#define MAX_LIST	500	/* upcoming/available return at most this many */

static const char *const status_names[] = { "ACTIVE", "CLOSED", "CANCELLED" };

/* Columns in the order row_to_event() reads them; alias e, then avail. */
#define EVENT_COLUMNS \
	"e.id, e.event_name, e.venue, " \
	"TIMESTAMPDIFF(MICROSECOND, '1970-01-01', e.event_date) DIV 1000, e.total_seats, " \
	"e.per_user_limit, e.max_per_request, e.shards, e.status, " \
	"TIMESTAMPDIFF(MICROSECOND, '1970-01-01', e.created_at) DIV 1000, " \
	"TIMESTAMPDIFF(MICROSECOND, '1970-01-01', e.updated_at) DIV 1000, " \
	"(SELECT COALESCE(SUM(i.available), 0) FROM event_inventory i " \
	"WHERE i.event_id = e.id)"

const char *
event_status_name(int s)
{
	return (s >= 0 && s <= EVENT_CANCELLED ? status_names[s] : "ACTIVE");
}

static int
status_parse(const char *s)
{
	int	i;

	for (i = 0; i <= EVENT_CANCELLED; i++)
		if (strcmp(s, status_names[i]) == 0)
			return (i);
	return (-1);
}

void
event_free(struct event *ev)
{
	free(ev->name);
	free(ev->venue);
	memset(ev, 0, sizeof *ev);
}

static void
row_to_event(MYSQL_ROW row, struct event *ev, int64_t *available)
{
	memset(ev, 0, sizeof *ev);
	ev->id = strtoll(row[0], NULL, 10);
	ev->name = xstrdup(row[1]);
	ev->venue = row[2] != NULL ? xstrdup(row[2]) : NULL;
	ev->date_ms = strtoll(row[3], NULL, 10);
	ev->total = strtoll(row[4], NULL, 10);
	ev->per_user_limit = atoi(row[5]);
	ev->max_per_request = atoi(row[6]);
	ev->shards = atoi(row[7]);
	ev->status = status_parse(row[8]);
	ev->created_ms = strtoll(row[9], NULL, 10);
	ev->updated_ms = strtoll(row[10], NULL, 10);
	if (available != NULL)
		*available = strtoll(row[11], NULL, 10);
}

int
event_load(struct app *app, int64_t id, struct event *ev, int64_t *available,
    char *err, size_t errlen)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	char		*sql;
	int		 found = 0;

	sql = xasprintf("SELECT " EVENT_COLUMNS " FROM events e WHERE e.id = %"
	    PRId64, id);
	res = db_select(app->db, sql, err, errlen);
	free(sql);
	if (res == NULL)
		return (-1);
	if ((row = mysql_fetch_row(res)) != NULL) {
		row_to_event(row, ev, available);
		found = 1;
	}
	mysql_free_result(res);
	return (found);
}

struct json_object *
event_json(const struct event *ev, int64_t available)
{
	struct json_object	*o = json_object_new_object();
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
	return (o);
}

/* The cache entry: the event's own fields, in an internal layout. */
static char *
event_to_cache(const struct event *ev)
{
	struct json_object	*o = json_object_new_object();
	char			*s;

	json_object_object_add(o, "id", json_object_new_int64(ev->id));
	json_object_object_add(o, "n", json_object_new_string(ev->name));
	json_object_object_add(o, "v", ev->venue != NULL ?
	    json_object_new_string(ev->venue) : NULL);
	json_object_object_add(o, "d", json_object_new_int64(ev->date_ms));
	json_object_object_add(o, "t", json_object_new_int64(ev->total));
	json_object_object_add(o, "u", json_object_new_int(ev->per_user_limit));
	json_object_object_add(o, "m", json_object_new_int(ev->max_per_request));
	json_object_object_add(o, "k", json_object_new_int(ev->shards));
	json_object_object_add(o, "s", json_object_new_int(ev->status));
	json_object_object_add(o, "c", json_object_new_int64(ev->created_ms));
	json_object_object_add(o, "p", json_object_new_int64(ev->updated_ms));
	s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return (s);
}

static bool
event_from_cache(const char *s, struct event *ev)
{
	struct json_object	*o, *v;
	static const char *const keys[] = { "id", "n", "d", "t", "u", "m",
	    "k", "s", "c", "p" };
	size_t			 i;

	if ((o = json_tokener_parse(s)) == NULL)
		return (false);
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (!json_object_object_get_ex(o, keys[i], NULL)) {
			json_object_put(o);
			return (false);
		}
	}
	memset(ev, 0, sizeof *ev);
	json_object_object_get_ex(o, "id", &v);
	ev->id = json_object_get_int64(v);
	json_object_object_get_ex(o, "n", &v);
	ev->name = xstrdup(json_object_get_string(v));
	if (json_object_object_get_ex(o, "v", &v) && v != NULL)
		ev->venue = xstrdup(json_object_get_string(v));
	json_object_object_get_ex(o, "d", &v);
	ev->date_ms = json_object_get_int64(v);
	json_object_object_get_ex(o, "t", &v);
	ev->total = json_object_get_int64(v);
	json_object_object_get_ex(o, "u", &v);
	ev->per_user_limit = json_object_get_int(v);
	json_object_object_get_ex(o, "m", &v);
	ev->max_per_request = json_object_get_int(v);
	json_object_object_get_ex(o, "k", &v);
	ev->shards = json_object_get_int(v);
	json_object_object_get_ex(o, "s", &v);
	ev->status = json_object_get_int(v);
	json_object_object_get_ex(o, "c", &v);
	ev->created_ms = json_object_get_int64(v);
	json_object_object_get_ex(o, "p", &v);
	ev->updated_ms = json_object_get_int64(v);
	json_object_put(o);
	return (true);
}

static void
cache_key(int64_t id, char *buf, size_t len)
{
	snprintf(buf, len, "bo:{ev:%" PRId64 "}:event", id);
}

void
event_cache_evict(struct app *app, int64_t id)
{
	char		 key[64], err[256];
	redisReply	*r;

	cache_key(id, key, sizeof key);
	if ((r = redis_conn_commandf(app->redis, err, sizeof err, "DEL %s",
	    key)) == NULL) {
		/* The entry then lives out its TTL; say so. */
		log_warn("cache: could not evict %s: %s", key, err);
		return;
	}
	freeReplyObject(r);
}

int
event_fetch(struct app *app, int64_t id, struct event *ev, bool *hit,
    int64_t *available, int64_t *gate, char *err, size_t errlen)
{
	char		 key[64], gkey[64], lock[80], rerr[256];
	char		 token[LOCK_TOKEN_LEN + 1], *val;
	redisReply	*r, *c = NULL;
	int		 found, locked;

	*hit = false;
	*available = -1;
	if (gate != NULL)
		*gate = -1;
	cache_key(id, key, sizeof key);
	gate_key(id, gkey, sizeof gkey);
	/* Both keys share the {ev:ID} hash slot: one round trip for both. */
	if (gate != NULL)
		r = redis_conn_commandf(app->redis, rerr, sizeof rerr,
		    "MGET %s %s", key, gkey);
	else
		r = redis_conn_commandf(app->redis, rerr, sizeof rerr,
		    "GET %s", key);
	if (r != NULL) {
		if (gate != NULL && r->type == REDIS_REPLY_ARRAY &&
		    r->elements == 2) {
			c = r->element[0];
			if (r->element[1]->type == REDIS_REPLY_STRING)
				*gate = strtoll(r->element[1]->str, NULL, 10);
		} else if (gate == NULL)
			c = r;
		if (c != NULL && c->type == REDIS_REPLY_STRING &&
		    event_from_cache(c->str, ev)) {
			freeReplyObject(r);
			*hit = true;
			METRIC_INC(cache_hits);
			return (1);
		}
		freeReplyObject(r);
	}
	METRIC_INC(cache_misses);
	if ((found = event_load(app, id, ev, available, err, errlen)) != 1)
		return (found);
	if (app->redis->ctx == NULL)
		return (1);
	/* Single flight: one worker refills, the others just read the DB. */
	snprintf(lock, sizeof lock, "bo:{ev:%" PRId64 "}:fill", id);
	locked = redis_lock_acquire(app->redis, lock, 1000, token, rerr,
	    sizeof rerr);
	if (locked == 1) {
		val = event_to_cache(ev);
		r = redis_conn_commandf(app->redis, rerr, sizeof rerr,
		    "SET %s %s EX %d", key, val, app->conf->cache_ttl_s);
		if (r != NULL)
			freeReplyObject(r);
		free(val);
		(void)redis_lock_release(app->redis, lock, token, rerr,
		    sizeof rerr);
	}
	return (1);
}

/* Live availability: the gate counter when there is one, else the DB. */
static int64_t
live_available(struct app *app, const struct event *ev, int64_t gate,
    int64_t db_available)
{
	char	err[256];
	int64_t	v;

	if (gate >= 0)
		return (gate);
	if (db_available >= 0)
		return (db_available);
	{
		struct event	tmp;

		if (event_load(app, ev->id, &tmp, &v, err, sizeof err) == 1) {
			event_free(&tmp);
			return (v);
		}
	}
	return (0);
}

void
handle_event_get(struct app *app, struct request *req, struct response *resp)
{
	struct event	ev;
	int64_t		id, available, gate;
	char		err[512];
	bool		hit;
	int		found;

	if (!capture_id(req, resp, "id", &id))
		return;
	found = event_fetch(app, id, &ev, &hit, &available, &gate, err,
	    sizeof err);
	if (found == -1) {
		app_db_failure(app, resp, "event lookup failed", err);
		return;
	}
	if (found == 0) {
		resp_error(resp, 404, "EVENT_NOT_FOUND", "No such event.", NULL);
		return;
	}
	resp_success(resp, 200, event_json(&ev, live_available(app, &ev, gate,
	    available)), NULL);
	resp_header(resp, "X-Cache", "%s", hit ? "HIT" : "MISS");
	event_free(&ev);
}

/* Run a SELECT of EVENT_COLUMNS and put each row into arr. */
static int
select_events(struct app *app, const char *sql, struct json_object *arr,
    char *err, size_t errlen)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	struct event	 ev;
	int64_t		 available;

	if ((res = db_select(app->db, sql, err, errlen)) == NULL)
		return (-1);
	while ((row = mysql_fetch_row(res)) != NULL) {
		row_to_event(row, &ev, &available);
		json_object_array_add(arr, event_json(&ev, available));
		event_free(&ev);
	}
	mysql_free_result(res);
	return (0);
}

struct json_object *
page_json(struct json_object *content, int64_t page, int64_t size,
    int64_t total)
{
	struct json_object	*o = json_object_new_object();
	int64_t			 pages = (total + size - 1) / size;

	json_object_object_add(o, "content", content);
	json_object_object_add(o, "page", json_object_new_int64(page));
	json_object_object_add(o, "size", json_object_new_int64(size));
	json_object_object_add(o, "totalElements", json_object_new_int64(total));
	json_object_object_add(o, "totalPages", json_object_new_int64(pages));
	json_object_object_add(o, "last", json_object_new_boolean(
	    page + 1 >= pages));
	return (o);
}

int64_t
count_rows(struct app *app, const char *sql, char *err, size_t errlen)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	int64_t		 n = -1;

	if ((res = db_select(app->db, sql, err, errlen)) == NULL)
		return (-1);
	if ((row = mysql_fetch_row(res)) != NULL)
		n = strtoll(row[0], NULL, 10);
	mysql_free_result(res);
	return (n);
}

void
handle_events_list(struct app *app, struct request *req, struct response *resp)
{
	static const struct { const char *api, *col; } sorts[] = {
		{ "eventDate", "e.event_date" }, { "id", "e.id" },
		{ "eventName", "e.event_name" },
	};
	struct fielderrs	 fe;
	struct json_object	*content;
	const char		*sort = request_query(req, "sort");
	const char		*status = request_query(req, "status");
	const char		*col = "e.event_date", *dir = "ASC";
	char			 where[64] = "", err[512], *sql;
	int64_t			 page, size, total;
	size_t			 i, flen;
	int			 st;

	fe_init(&fe);
	query_int(req, "page", 0, 0, 1000000, &page, &fe);
	query_int(req, "size", 20, 1, 100, &size, &fe);
	if (sort != NULL) {
		flen = strcspn(sort, ",");
		col = NULL;
		for (i = 0; i < sizeof sorts / sizeof sorts[0]; i++)
			if (strlen(sorts[i].api) == flen &&
			    strncmp(sort, sorts[i].api, flen) == 0)
				col = sorts[i].col;
		if (sort[flen] == ',') {
			if (strcasecmp(sort + flen + 1, "desc") == 0)
				dir = "DESC";
			else if (strcasecmp(sort + flen + 1, "asc") != 0)
				col = NULL;
		}
		if (col == NULL)
			fe_add(&fe, "sort", "must be eventDate, id or eventName,"
			    " optionally followed by ,asc or ,desc");
	}
	if (status != NULL) {
		if ((st = status_parse(status)) == -1)
			fe_add(&fe, "status", "must be ACTIVE, CLOSED or "
			    "CANCELLED");
		else
			snprintf(where, sizeof where, "WHERE e.status = '%s'",
			    status_names[st]);
	}
	if (fe_respond(&fe, resp))
		return;
	fe_free(&fe);

	sql = xasprintf("SELECT COUNT(*) FROM events e %s", where);
	total = count_rows(app, sql, err, sizeof err);
	free(sql);
	if (total < 0) {
		app_db_failure(app, resp, "event count failed", err);
		return;
	}
	content = json_object_new_array();
	sql = xasprintf("SELECT " EVENT_COLUMNS " FROM events e %s ORDER BY %s "
	    "%s, e.id %s LIMIT %" PRId64 " OFFSET %" PRId64, where, col, dir,
	    dir, size, page * size);
	if (select_events(app, sql, content, err, sizeof err) == -1) {
		free(sql);
		json_object_put(content);
		app_db_failure(app, resp, "event list failed", err);
		return;
	}
	free(sql);
	resp_success(resp, 200, page_json(content, page, size, total), NULL);
}

static void
event_array(struct app *app, struct response *resp, const char *filter)
{
	struct json_object	*arr = json_object_new_array();
	char			 err[512], *sql;

	sql = xasprintf("SELECT " EVENT_COLUMNS " FROM events e WHERE "
	    "e.status = 'ACTIVE' AND %s ORDER BY e.event_date, e.id LIMIT %d",
	    filter, MAX_LIST);
	if (select_events(app, sql, arr, err, sizeof err) == -1) {
		free(sql);
		json_object_put(arr);
		app_db_failure(app, resp, "event list failed", err);
		return;
	}
	free(sql);
	resp_success(resp, 200, arr, NULL);
}

void
handle_events_upcoming(struct app *app, struct request *req,
    struct response *resp)
{
	event_array(app, resp, "e.event_date > UTC_TIMESTAMP(3)");
}

void
handle_events_available(struct app *app, struct request *req,
    struct response *resp)
{
	event_array(app, resp, "EXISTS (SELECT 1 FROM event_inventory i "
	    "WHERE i.event_id = e.id AND i.available > 0)");
}

/* Fields shared by create and update; each one read at most once. */
struct event_input {
	const char	*name, *venue, *status;
	bool		 venue_null;
	int64_t		 date_ms, total, per_user_limit, max_per_request;
	int		 has_name, has_venue, has_date, has_total, has_limit,
			 has_max, has_status;
};

static void
read_event_input(struct json_object *body, bool create, struct event_input *in,
    struct fielderrs *fe)
{
	struct json_object	*v;

	memset(in, 0, sizeof *in);
	in->has_name = field_string(body, "eventName", 1, 200, false, create,
	    &in->name, fe);
	in->has_total = field_int(body, "totalSeats", 1, 10000000, create,
	    &in->total, fe);
	in->has_date = field_datetime(body, "eventDate", create, &in->date_ms,
	    fe);
	if (in->has_date == 1 && in->date_ms <= time_real_ms()) {
		fe_add(fe, "eventDate", "must be in the future");
		in->has_date = -1;
	}
	if (json_object_object_get_ex(body, "venue", &v) && v == NULL) {
		in->venue_null = true;
		in->has_venue = 1;
	} else
		in->has_venue = field_string(body, "venue", 1, 200, false,
		    false, &in->venue, fe);
	in->has_limit = field_int(body, "perUserLimit", 1, 10000, false,
	    &in->per_user_limit, fe);
	in->has_max = field_int(body, "maxPerRequest", 1, 100, false,
	    &in->max_per_request, fe);
	if (!create) {
		in->has_status = field_string(body, "status", 1, 16, true,
		    false, &in->status, fe);
		if (in->has_status == 1 && status_parse(in->status) == -1) {
			fe_add(fe, "status", "must be ACTIVE, CLOSED or "
			    "CANCELLED");
			in->has_status = -1;
		}
	}
}

/* One quoted value or NULL for SQL; the caller frees. */
static char *
sql_str(struct app *app, const char *s, char *err, size_t errlen)
{
	return (s == NULL ? xstrdup("NULL") : db_quote(app->db, s, err, errlen));
}

void
handle_event_create(struct app *app, struct request *req,
    struct response *resp)
{
	struct json_object	*body;
	struct fielderrs	 fe;
	struct event_input	 in;
	struct event		 ev;
	char			 err[512], *name = NULL, *venue = NULL, *sql;
	char			 gerr[256], date[40];
	int64_t			 id, k, base, extra, i, available;
	FILE			*f;
	size_t			 len;

	if (!admin_check(app, req, resp))
		return;
	if ((body = body_object(req, resp)) == NULL)
		return;
	fe_init(&fe);
	read_event_input(body, true, &in, &fe);
	if (fe_respond(&fe, resp)) {
		json_object_put(body);
		return;
	}
	fe_free(&fe);
	time_sql_datetime(in.date_ms, date, sizeof date);
	if (in.has_limit != 1)
		in.per_user_limit = 10;
	if (in.has_max != 1)
		in.max_per_request = 10;
	k = app->conf->inventory_shards;
	if (k > in.total)
		k = in.total;
	if ((name = sql_str(app, in.name, err, sizeof err)) == NULL ||
	    (venue = sql_str(app, in.venue_null ? NULL : in.venue, err,
	    sizeof err)) == NULL)
		goto dbfail;
	if (db_exec(app->db, "START TRANSACTION", err, sizeof err) == -1)
		goto dbfail;
	sql = xasprintf("INSERT INTO events (event_name, venue, event_date, "
	    "total_seats, per_user_limit, max_per_request, shards) VALUES "
	    "(%s, %s, '%s', %" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64
	    ")", name, venue, date, in.total, in.per_user_limit,
	    in.max_per_request, k);
	if (db_exec(app->db, sql, err, sizeof err) == -1) {
		free(sql);
		goto rollback;
	}
	free(sql);
	id = (int64_t)mysql_insert_id(app->db->mysql);
	/* Spread the seats: every shard gets total/k, the first ones one more. */
	base = in.total / k;
	extra = in.total % k;
	if ((f = open_memstream(&sql, &len)) == NULL)
		fatal("open_memstream failed");
	fprintf(f, "INSERT INTO event_inventory (event_id, shard, available, "
	    "capacity) VALUES ");
	for (i = 0; i < k; i++) {
		int64_t	cap = base + (i < extra ? 1 : 0);

		fprintf(f, "%s(%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64
		    ")", i > 0 ? ", " : "", id, i, cap, cap);
	}
	fclose(f);
	if (db_exec(app->db, sql, err, sizeof err) == -1) {
		free(sql);
		goto rollback;
	}
	free(sql);
	if (db_exec(app->db, "COMMIT", err, sizeof err) == -1)
		goto rollback;
	free(name);
	free(venue);
	json_object_put(body);
	if (gate_set(app->redis, id, in.total, gerr, sizeof gerr) == -1)
		log_info("gate counter for event %" PRId64 " not set (it will "
		    "be rebuilt): %s", id, gerr);
	if (event_load(app, id, &ev, &available, err, sizeof err) != 1) {
		app_db_failure(app, resp, "reading the new event failed", err);
		return;
	}
	resp_success(resp, 201, event_json(&ev, available), "Event created.");
	event_free(&ev);
	return;
rollback:
	db_rollback(app->db);
dbfail:
	free(name);
	free(venue);
	json_object_put(body);
	app_db_failure(app, resp, "event create failed", err);
}

/* Shard rows of one event, locked. */
struct shard_row {
	int	shard;
	int64_t	available, capacity;
};

static int
lock_shards(struct app *app, int64_t id, struct shard_row **rows, int *n,
    char *err, size_t errlen)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	char		*sql;
	int		 i = 0;

	/* Ascending shard order, like every multi-shard writer. */
	sql = xasprintf("SELECT shard, available, capacity FROM event_inventory"
	    " WHERE event_id = %" PRId64 " ORDER BY shard FOR UPDATE", id);
	res = db_select(app->db, sql, err, errlen);
	free(sql);
	if (res == NULL)
		return (-1);
	*n = (int)mysql_num_rows(res);
	*rows = xcalloc((size_t)(*n > 0 ? *n : 1), sizeof **rows);
	while ((row = mysql_fetch_row(res)) != NULL) {
		(*rows)[i].shard = atoi(row[0]);
		(*rows)[i].available = strtoll(row[1], NULL, 10);
		(*rows)[i].capacity = strtoll(row[2], NULL, 10);
		i++;
	}
	mysql_free_result(res);
	return (0);
}

/*
 * Move the inventory to a new total inside the caller's transaction: more
 * seats are spread over the shards, fewer are taken from unsold ones.
 * Every statement is relative and conditional. Returns 0, 1 when fewer
 * than delta unsold seats exist (*sold set), or -1 on a DB error.
 */
static int
resize_inventory(struct app *app, int64_t id, int64_t old_total,
    int64_t new_total, int64_t *sold, char *err, size_t errlen)
{
	struct shard_row	*rows = NULL;
	int64_t			 delta = new_total - old_total, unsold = 0;
	int64_t			 take, share, extra;
	char			*sql;
	int			 n = 0, i, rv = 0;

	if (lock_shards(app, id, &rows, &n, err, errlen) == -1)
		return (-1);
	for (i = 0; i < n; i++)
		unsold += rows[i].available;
	*sold = old_total - unsold;
	if (n == 0 || new_total < *sold) {
		free(rows);
		return (1);
	}
	share = delta > 0 ? delta / n : 0;
	extra = delta > 0 ? delta % n : 0;
	for (i = 0; i < n && delta != 0 && rv == 0; i++) {
		int64_t	affected;

		if (delta > 0) {
			take = share + (i < extra ? 1 : 0);
			if (take == 0)
				continue;
			sql = xasprintf("UPDATE event_inventory SET available ="
			    " available + %" PRId64 ", capacity = capacity + %"
			    PRId64 " WHERE event_id = %" PRId64 " AND shard = %d",
			    take, take, id, rows[i].shard);
		} else {
			take = rows[i].available < -delta ?
			    rows[i].available : -delta;
			if (take == 0)
				continue;
			sql = xasprintf("UPDATE event_inventory SET available ="
			    " available - %" PRId64 ", capacity = capacity - %"
			    PRId64 " WHERE event_id = %" PRId64 " AND shard = %d"
			    " AND available >= %" PRId64, take, take, id,
			    rows[i].shard, take);
			delta += take;
		}
		affected = db_affected(app->db, sql, err, errlen);
		free(sql);
		if (affected != 1)
			rv = -1;
		if (affected == 0)
			snprintf(err, errlen, "shard %d changed under its lock",
			    rows[i].shard);
	}
	free(rows);
	return (rv);
}

void
handle_event_update(struct app *app, struct request *req,
    struct response *resp)
{
	struct json_object	*body;
	struct fielderrs	 fe;
	struct event_input	 in;
	struct event		 ev, after;
	char			 err[512], gerr[256], *q = NULL, *sql;
	int64_t			 id, sold = 0, available;
	MYSQL_RES		*res;
	FILE			*f;
	size_t			 len;
	int			 found, r;

	if (!admin_check(app, req, resp) || !capture_id(req, resp, "id", &id))
		return;
	if ((body = body_object(req, resp)) == NULL)
		return;
	fe_init(&fe);
	read_event_input(body, false, &in, &fe);
	if (fe_respond(&fe, resp)) {
		json_object_put(body);
		return;
	}
	fe_free(&fe);
	if (db_exec(app->db, "START TRANSACTION", err, sizeof err) == -1)
		goto dbfail;
	/* Lock the event row: concurrent updates of one event serialise. */
	sql = xasprintf("SELECT id FROM events WHERE id = %" PRId64
	    " FOR UPDATE", id);
	res = db_select(app->db, sql, err, sizeof err);
	free(sql);
	if (res == NULL)
		goto rollback_nofree;
	mysql_free_result(res);
	if ((found = event_load(app, id, &ev, NULL, err, sizeof err)) != 1) {
		db_rollback(app->db);
		json_object_put(body);
		if (found == 0)
			resp_error(resp, 404, "EVENT_NOT_FOUND", "No such event.",
			    NULL);
		else
			app_db_failure(app, resp, "event update failed", err);
		return;
	}
	if (in.has_total == 1 && in.total != ev.total) {
		r = resize_inventory(app, id, ev.total, in.total, &sold, err,
		    sizeof err);
		if (r != 0) {
			db_rollback(app->db);
			json_object_put(body);
			event_free(&ev);
			if (r == -1) {
				app_db_failure(app, resp, "inventory resize "
				    "failed", err);
				return;
			}
			fe_init(&fe);
			fe_add(&fe, "totalSeats", "must not be below the %"
			    PRId64 " seats already sold", sold);
			fe_respond(&fe, resp);
			return;
		}
	}
	if ((f = open_memstream(&sql, &len)) == NULL)
		fatal("open_memstream failed");
	fprintf(f, "UPDATE events SET updated_at = CURRENT_TIMESTAMP(3)");
	if (in.has_name == 1) {
		if ((q = db_quote(app->db, in.name, err, sizeof err)) == NULL)
			goto memfail;
		fprintf(f, ", event_name = %s", q);
		free(q);
	}
	if (in.has_venue == 1) {
		if ((q = sql_str(app, in.venue_null ? NULL : in.venue, err,
		    sizeof err)) == NULL)
			goto memfail;
		fprintf(f, ", venue = %s", q);
		free(q);
	}
	if (in.has_date == 1) {
		char	date[40];

		time_sql_datetime(in.date_ms, date, sizeof date);
		fprintf(f, ", event_date = '%s'", date);
	}
	if (in.has_total == 1)
		fprintf(f, ", total_seats = %" PRId64, in.total);
	if (in.has_limit == 1)
		fprintf(f, ", per_user_limit = %" PRId64, in.per_user_limit);
	if (in.has_max == 1)
		fprintf(f, ", max_per_request = %" PRId64, in.max_per_request);
	if (in.has_status == 1)
		fprintf(f, ", status = '%s'",
		    status_names[status_parse(in.status)]);
	fprintf(f, " WHERE id = %" PRId64, id);
	fclose(f);
	if (db_exec(app->db, sql, err, sizeof err) == -1) {
		free(sql);
		goto rollback;
	}
	free(sql);
	if (in.has_limit == 1) {
		/* Holders over a lowered limit keep their seats, buy no more. */
		sql = xasprintf("UPDATE user_event_tally SET seat_limit = "
		    "GREATEST(seats, %" PRId64 ") WHERE event_id = %" PRId64,
		    in.per_user_limit, id);
		r = db_exec(app->db, sql, err, sizeof err);
		free(sql);
		if (r == -1)
			goto rollback;
	}
	/* Read back under the row lock: the answer is this update's state. */
	if (event_load(app, id, &after, &available, err, sizeof err) != 1)
		goto rollback;
	if (db_exec(app->db, "COMMIT", err, sizeof err) == -1) {
		event_free(&after);
		goto rollback;
	}
	json_object_put(body);
	/* After the commit, never before: a reader cannot refill stale data. */
	event_cache_evict(app, id);
	if (in.has_total == 1 && in.total != ev.total &&
	    gate_adjust(app->redis, id, in.total - ev.total, gerr,
	    sizeof gerr) == -1)
		log_warn("gate counter of event %" PRId64 " not adjusted; the "
		    "reconciliation will: %s", id, gerr);
	event_free(&ev);
	resp_success(resp, 200, event_json(&after, available), "Event updated.");
	event_free(&after);
	return;
memfail:
	fclose(f);
	free(sql);
rollback:
	event_free(&ev);
rollback_nofree:
	db_rollback(app->db);
dbfail:
	json_object_put(body);
	app_db_failure(app, resp, "event update failed", err);
}

void
handle_event_delete(struct app *app, struct request *req,
    struct response *resp)
{
	struct event	ev;
	char		err[512], gerr[256], *sql;
	int64_t		id, affected;
	int		found;

	if (!admin_check(app, req, resp) || !capture_id(req, resp, "id", &id))
		return;
	/* The FK on reservations refuses too; this gives the clear answer. */
	sql = xasprintf("DELETE FROM events WHERE id = %" PRId64 " AND NOT "
	    "EXISTS (SELECT 1 FROM reservations r WHERE r.event_id = %" PRId64
	    ")", id, id);
	affected = db_affected(app->db, sql, err, sizeof err);
	free(sql);
	if (affected == -1 && app->db->last_errno != ER_ROW_IS_REFERENCED_2) {
		app_db_failure(app, resp, "event delete failed", err);
		return;
	}
	if (affected == 1) {
		event_cache_evict(app, id);
		if (gate_forget(app->redis, id, gerr, sizeof gerr) == -1)
			log_warn("gate counter of deleted event %" PRId64
			    " not removed: %s", id, gerr);
		resp_success(resp, 204, NULL, NULL);
		return;
	}
	if ((found = event_load(app, id, &ev, NULL, err, sizeof err)) == -1) {
		app_db_failure(app, resp, "event delete failed", err);
		return;
	}
	if (found == 0) {
		resp_error(resp, 404, "EVENT_NOT_FOUND", "No such event.", NULL);
		return;
	}
	event_free(&ev);
	resp_error(resp, 409, "CANNOT_DELETE_EVENT", "The event has "
	    "reservations and cannot be deleted; set its status to CANCELLED "
	    "instead.", NULL);
}
