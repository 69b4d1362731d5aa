/* reservations.c: the reservation transaction, cancel, and the reads. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <mysql.h>
#include <mysqld_error.h>

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
#include "reservations.h"
#include "response.h"
#include "timeutil.h"
#include "validate.h"
#include "xmalloc.h"

/* MariaDB reports a failed CHECK as 4025; MySQL 8 (Aurora) as 3819. */
#define ER_CHECK_FAILED_MARIADB	4025
#define ER_CHECK_FAILED_MYSQL	3819

#define EVENT_LOCK_TTL_MS	10000	/* longer than any transaction */
#define INFLIGHT_TTL_MS		30000	/* an idempotent request in progress */
#define TXN_ATTEMPTS		3	/* on deadlock or lock wait timeout */

#define RES_COLUMNS \
	"id, event_id, user_id, quantity, status, " \
	"TIMESTAMPDIFF(MICROSECOND, '1970-01-01', created_at) DIV 1000, " \
	"TIMESTAMPDIFF(MICROSECOND, '1970-01-01', updated_at) DIV 1000, " \
	"TIMESTAMPDIFF(MICROSECOND, '1970-01-01', cancelled_at) DIV 1000"

static struct json_object *
row_to_json(MYSQL_ROW row)
{
	struct json_object	*o = json_object_new_object();
	char			 ts[40];

	json_object_object_add(o, "id",
	    json_object_new_int64(strtoll(row[0], NULL, 10)));
	json_object_object_add(o, "eventId",
	    json_object_new_int64(strtoll(row[1], NULL, 10)));
	json_object_object_add(o, "userId", json_object_new_string(row[2]));
	json_object_object_add(o, "quantity",
	    json_object_new_int(atoi(row[3])));
	json_object_object_add(o, "status", json_object_new_string(row[4]));
	time_iso8601_ms(strtoll(row[5], NULL, 10), ts, sizeof ts);
	json_object_object_add(o, "createdAt", json_object_new_string(ts));
	time_iso8601_ms(strtoll(row[6], NULL, 10), ts, sizeof ts);
	json_object_object_add(o, "updatedAt", json_object_new_string(ts));
	if (row[7] != NULL) {
		time_iso8601_ms(strtoll(row[7], NULL, 10), ts, sizeof ts);
		json_object_object_add(o, "cancelledAt",
		    json_object_new_string(ts));
	} else
		json_object_object_add(o, "cancelledAt", NULL);
	return (o);
}

/* A reservation just committed, from what the transaction wrote. */
static struct json_object *
confirmed_json(int64_t id, int64_t event_id, const char *user, int64_t qty,
    int64_t created_ms)
{
	struct json_object	*o = json_object_new_object();
	char			 ts[40];

	time_iso8601_ms(created_ms, ts, sizeof ts);
	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "eventId", json_object_new_int64(event_id));
	json_object_object_add(o, "userId", json_object_new_string(user));
	json_object_object_add(o, "quantity", json_object_new_int64(qty));
	json_object_object_add(o, "status", json_object_new_string("CONFIRMED"));
	json_object_object_add(o, "createdAt", json_object_new_string(ts));
	json_object_object_add(o, "updatedAt", json_object_new_string(ts));
	json_object_object_add(o, "cancelledAt", NULL);
	return (o);
}

/* One reservation as JSON: 1 found, 0 not found, -1 error. */
static int
reservation_load(struct app *app, int64_t id, struct json_object **out,
    char *err, size_t errlen)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	char		*sql;
	int		 found = 0;

	sql = xasprintf("SELECT " RES_COLUMNS " FROM reservations WHERE id = %"
	    PRId64, id);
	res = db_select(app->db, sql, err, errlen);
	free(sql);
	if (res == NULL)
		return (-1);
	if ((row = mysql_fetch_row(res)) != NULL) {
		*out = row_to_json(row);
		found = 1;
	}
	mysql_free_result(res);
	return (found);
}

enum txn_outcome {
	TXN_OK,
	TXN_INSUFFICIENT,	/* *available = what the database has */
	TXN_LIMIT,		/* the per-user CHECK refused the tally */
	TXN_DUPLICATE,		/* the idempotency key is taken */
	TXN_ERROR		/* err says what */
};

struct reserve_req {
	const struct event	*ev;
	const char		*user;		/* validated printable ASCII */
	int64_t			 qty;
	const char		*idem_key;	/* NULL when none */
	const char		*canon;		/* canonical request text */
	const char		*request_id;
};

/*
 * The slow path, after the random shard proved too short: take qty seats
 * from any other shards; writes "shard:n[,shard:n...]" to alloc.
 */
static enum txn_outcome
take_seats(struct app *app, const struct reserve_req *rr, int tried,
    char *alloc, size_t alloclen, int64_t *available, char *err,
    size_t errlen)
{
	const struct event	*ev = rr->ev;
	MYSQL_RES		*res;
	MYSQL_ROW		 row;
	char			*sql;
	int64_t			 affected, sum = 0, left, n;
	int			 shard;
	size_t			 used;

	/* Fall back across the shards that still have enough, fullest first. */
	sql = xasprintf("SELECT shard, available FROM event_inventory WHERE "
	    "event_id = %" PRId64 " AND available > 0 ORDER BY available DESC",
	    ev->id);
	res = db_select(app->db, sql, err, errlen);
	free(sql);
	if (res == NULL)
		return (TXN_ERROR);
	while ((row = mysql_fetch_row(res)) != NULL) {
		shard = atoi(row[0]);
		n = strtoll(row[1], NULL, 10);
		sum += n;
		if (n < rr->qty || shard == tried)
			continue;
		sql = xasprintf("UPDATE event_inventory SET available = "
		    "available - %" PRId64 " WHERE event_id = %" PRId64 " AND "
		    "shard = %d AND available >= %" PRId64, rr->qty, ev->id,
		    shard, rr->qty);
		affected = db_affected(app->db, sql, err, errlen);
		free(sql);
		if (affected != 0) {
			mysql_free_result(res);
			if (affected < 0)
				return (TXN_ERROR);
			snprintf(alloc, alloclen, "%d:%" PRId64, shard, rr->qty);
			return (TXN_OK);
		}
	}
	mysql_free_result(res);
	if (sum < rr->qty) {
		*available = sum;
		return (TXN_INSUFFICIENT);
	}
	/*
	 * No single shard has enough but together they might: lock them all
	 * in ascending order (as every multi-shard writer does, so two such
	 * requests cannot deadlock) and take from each in turn.
	 */
	sql = xasprintf("SELECT shard, available FROM event_inventory WHERE "
	    "event_id = %" PRId64 " ORDER BY shard FOR UPDATE", ev->id);
	res = db_select(app->db, sql, err, errlen);
	free(sql);
	if (res == NULL)
		return (TXN_ERROR);
	sum = 0;
	while ((row = mysql_fetch_row(res)) != NULL)
		sum += strtoll(row[1], NULL, 10);
	if (sum < rr->qty) {
		mysql_free_result(res);
		*available = sum;
		return (TXN_INSUFFICIENT);
	}
	mysql_data_seek(res, 0);
	left = rr->qty;
	*alloc = '\0';
	while (left > 0 && (row = mysql_fetch_row(res)) != NULL) {
		shard = atoi(row[0]);
		n = strtoll(row[1], NULL, 10);
		if (n == 0)
			continue;
		if (n > left)
			n = left;
		sql = xasprintf("UPDATE event_inventory SET available = "
		    "available - %" PRId64 " WHERE event_id = %" PRId64 " AND "
		    "shard = %d AND available >= %" PRId64, n, ev->id, shard, n);
		affected = db_affected(app->db, sql, err, errlen);
		free(sql);
		if (affected != 1) {
			mysql_free_result(res);
			if (affected == 0)
				snprintf(err, errlen, "shard %d changed under "
				    "its lock", shard);
			return (TXN_ERROR);
		}
		used = strlen(alloc);
		snprintf(alloc + used, alloclen - used, "%s%d:%" PRId64,
		    used > 0 ? "," : "", shard, n);
		left -= n;
	}
	mysql_free_result(res);
	return (TXN_OK);
}

/*
 * The reservation transaction, in two round trips when the randomly picked
 * shard has the seats:
 *   1. START; add to the per-user tally (its row lock serialises one user's
 *      requests, its CHECK is the limit); take the seats from one shard;
 *   2. the reservation row, its audit row, COMMIT.
 * The hot row's lock is held from the end of 1 to the end of 2. Any
 * failure rolls everything back. *created_ms is the row's timestamp.
 */
static enum txn_outcome
reserve_txn(struct app *app, const struct reserve_req *rr, int64_t *res_id,
    int64_t *created_ms, int64_t *available, char *err, size_t errlen)
{
	const struct event	*ev = rr->ev;
	enum txn_outcome	 out;
	char			 alloc[1024], now[40], *user = NULL, *key = NULL;
	char			*canon = NULL, *rid = NULL, *sql;
	int64_t			 affected[3];
	uint64_t		 ids[3];
	unsigned int		 e;
	int			 shard, done;

	if ((user = db_quote(app->db, rr->user, err, errlen)) == NULL ||
	    (rid = db_quote(app->db, rr->request_id, err, errlen)) == NULL ||
	    (rr->idem_key != NULL && ((key = db_quote(app->db, rr->idem_key,
	    err, errlen)) == NULL || (canon = db_quote(app->db, rr->canon,
	    err, errlen)) == NULL))) {
		out = TXN_ERROR;
		goto done;
	}
	shard = (int)(random() % ev->shards);
	sql = xasprintf("START TRANSACTION; "
	    "INSERT INTO user_event_tally (event_id, user_id, seats, seat_limit) "
	    "VALUES (%" PRId64 ", %s, %" PRId64 ", %d) ON DUPLICATE KEY UPDATE "
	    "seats = seats + VALUES(seats); "
	    "UPDATE event_inventory SET available = available - %" PRId64
	    " WHERE event_id = %" PRId64 " AND shard = %d AND available >= %"
	    PRId64, ev->id, user, rr->qty, ev->per_user_limit, rr->qty, ev->id,
	    shard, rr->qty);
	done = db_batch(app->db, sql, 3, affected, ids, err, errlen);
	free(sql);
	if (done != 3) {
		e = app->db->last_errno;
		out = done == 1 && (e == ER_CHECK_FAILED_MARIADB ||
		    e == ER_CHECK_FAILED_MYSQL) ? TXN_LIMIT : TXN_ERROR;
		goto rollback;
	}
	if (affected[2] == 1)
		snprintf(alloc, sizeof alloc, "%d:%" PRId64, shard, rr->qty);
	else if ((out = take_seats(app, rr, shard, alloc, sizeof alloc,
	    available, err, errlen)) != TXN_OK)
		goto rollback;
	/* The row's timestamps come from here, so the 201 can echo them. */
	*created_ms = time_real_ms();
	time_sql_datetime(*created_ms, now, sizeof now);
	sql = xasprintf("INSERT INTO reservations (event_id, user_id, quantity,"
	    " status, shard_alloc, idempotency_key, request_hash, created_at, "
	    "updated_at) VALUES (%" PRId64 ", %s, %" PRId64 ", 'CONFIRMED', "
	    "'%s', %s, %s%s%s, '%s', '%s'); "
	    "INSERT INTO reservation_audit (reservation_id, event_id, user_id, "
	    "action, quantity, request_id, idempotency_key) VALUES "
	    "(LAST_INSERT_ID(), %" PRId64 ", %s, 'CREATE', %" PRId64 ", %s, %s);"
	    " COMMIT", ev->id, user, rr->qty, alloc, key != NULL ? key : "NULL",
	    canon != NULL ? "SHA2(" : "", canon != NULL ? canon : "NULL",
	    canon != NULL ? ", 256)" : "", now, now, ev->id, user, rr->qty, rid,
	    key != NULL ? key : "NULL");
	done = db_batch(app->db, sql, 3, affected, ids, err, errlen);
	free(sql);
	if (done != 3) {
		out = done == 0 && app->db->last_errno == ER_DUP_ENTRY ?
		    TXN_DUPLICATE : TXN_ERROR;
		goto rollback;
	}
	*res_id = (int64_t)ids[0];
	out = TXN_OK;
	goto done;
rollback:
	db_rollback(app->db);
done:
	free(user);
	free(key);
	free(canon);
	free(rid);
	return (out);
}

/*
 * What an idempotency key already stands for: 1 the same request (its
 * reservation id in *res_id), 2 a different request, 0 unknown, -1 error.
 */
static int
idem_lookup(struct app *app, const char *user, const char *key,
    const char *canon, int64_t *res_id, char *err, size_t errlen)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	char		*u, *k = NULL, *c = NULL, *sql;
	int		 rv = -1;

	if ((u = db_quote(app->db, user, err, errlen)) == NULL ||
	    (k = db_quote(app->db, key, err, errlen)) == NULL ||
	    (c = db_quote(app->db, canon, err, errlen)) == NULL)
		goto done;
	sql = xasprintf("SELECT id, request_hash = SHA2(%s, 256) FROM "
	    "reservations WHERE user_id = %s AND idempotency_key = %s", c, u,
	    k);
	res = db_select(app->db, sql, err, errlen);
	free(sql);
	if (res == NULL)
		goto done;
	rv = 0;
	if ((row = mysql_fetch_row(res)) != NULL) {
		*res_id = strtoll(row[0], NULL, 10);
		rv = row[1] != NULL && strcmp(row[1], "1") == 0 ? 1 : 2;
	}
	mysql_free_result(res);
done:
	free(u);
	free(k);
	free(c);
	return (rv);
}

static void
answer_replay(struct app *app, struct response *resp, int64_t res_id)
{
	struct json_object	*o;
	char			 err[512];

	if (reservation_load(app, res_id, &o, err, sizeof err) != 1) {
		app_db_failure(app, resp, "idempotent replay failed", err);
		return;
	}
	resp_success(resp, 201, o, "Reservation confirmed (replayed).");
	resp_header(resp, "Idempotent-Replayed", "true");
}

static void
answer_idem_conflict(struct response *resp)
{
	resp_error(resp, 422, "IDEMPOTENCY_CONFLICT", "This Idempotency-Key "
	    "was already used with a different request.", NULL);
}

/*
 * Mark an idempotent request as in flight in Redis. Returns 1 marked, 0
 * Redis unavailable (the database's unique key still protects us), 2 the
 * same request is in flight, 3 a different one holds the key.
 */
static int
inflight_mark(struct app *app, const char *marker, const char *canon)
{
	const char	*argv[] = { "SET", marker, canon, "NX", "PX", "30000" };
	char		 err[256];
	redisReply	*r;
	int		 rv;

	r = redis_conn_command(app->redis, err, sizeof err, 6, argv, NULL);
	if (r == NULL)
		return (0);
	rv = r->type == REDIS_REPLY_STATUS ? 1 : -1;
	freeReplyObject(r);
	if (rv == 1)
		return (1);
	argv[0] = "GET";
	if ((r = redis_conn_command(app->redis, err, sizeof err, 2, argv,
	    NULL)) == NULL)
		return (0);
	rv = r->type == REDIS_REPLY_STRING && strcmp(r->str, canon) == 0 ?
	    2 : 3;
	if (r->type == REDIS_REPLY_NIL)
		rv = 0;		/* it just finished: let the database decide */
	freeReplyObject(r);
	return (rv);
}

void
handle_reservation_create(struct app *app, struct request *req,
    struct response *resp)
{
	struct json_object	*body, *d;
	struct fielderrs	 fe;
	struct reserve_req	 rr;
	struct event		 ev;
	const char		*user = NULL, *key;
	char			 err[512], gerr[256], canon[160], marker[300];
	char			 token[LOCK_TOKEN_LEN + 1], lockkey[64];
	int64_t			 event_id = 0, qty = 0, res_id = 0, value = 0;
	int64_t			 db_available = -1, ignored, created_ms = 0;
	enum txn_outcome	 out = TXN_ERROR;
	enum gate_result	 g;
	bool			 hit, admitted = false, locked = false;
	int			 found, marked = 0, attempt, lk, idem;

	if ((body = body_object(req, resp)) == NULL)
		return;
	fe_init(&fe);
	field_int(body, "eventId", 1, INT64_MAX, true, &event_id, &fe);
	field_string(body, "userId", 1, 64, true, true, &user, &fe);
	field_int(body, "quantity", 1, 100, true, &qty, &fe);
	key = request_header(req, "Idempotency-Key");
	if (key != NULL && !printable_ascii(key, 128))
		fe_add(&fe, "Idempotency-Key", "must be 1 to 128 printable "
		    "ASCII characters");
	if (fe_respond(&fe, resp)) {
		json_object_put(body);
		return;
	}
	fe_free(&fe);

	found = event_fetch(app, event_id, &ev, &hit, &ignored, NULL, err,
	    sizeof err);
	if (found != 1) {
		if (found == 0)
			resp_error(resp, 404, "EVENT_NOT_FOUND", "No such event.",
			    NULL);
		else
			app_db_failure(app, resp, "event lookup failed", err);
		json_object_put(body);
		return;
	}
	fe_init(&fe);
	if (ev.status != EVENT_ACTIVE || ev.date_ms <= time_real_ms())
		fe_add(&fe, "eventId", "the event is not on sale (%s)",
		    ev.status != EVENT_ACTIVE ? event_status_name(ev.status) :
		    "it has already taken place");
	else if (qty > ev.max_per_request)
		fe_add(&fe, "quantity", "must be an integer from 1 to %d for "
		    "this event", ev.max_per_request);
	if (fe_respond(&fe, resp))
		goto out;
	fe_free(&fe);

	memset(&rr, 0, sizeof rr);
	rr.ev = &ev;
	rr.user = user;
	rr.qty = qty;
	rr.idem_key = key;
	rr.canon = canon;
	rr.request_id = req->request_id;
	snprintf(canon, sizeof canon, "%" PRId64 "|%s|%" PRId64, event_id,
	    user, qty);

	if (key != NULL) {
		idem = idem_lookup(app, user, key, canon, &res_id, err,
		    sizeof err);
		if (idem == -1) {
			app_db_failure(app, resp, "idempotency lookup failed",
			    err);
			goto out;
		}
		if (idem == 1) {
			answer_replay(app, resp, res_id);
			goto out;
		}
		if (idem == 2) {
			answer_idem_conflict(resp);
			goto out;
		}
		/* The user's length keeps "a:b"+"c" apart from "a"+"b:c". */
		snprintf(marker, sizeof marker, "bo:{idem}:%zu:%s:%s",
		    strlen(user), user, key);
		marked = inflight_mark(app, marker, canon);
		if (marked == 2 || marked == 3) {
			if (marked == 3)
				answer_idem_conflict(resp);
			else {
				resp_error(resp, 409, "CONCURRENT_RESERVATION",
				    "A request with this Idempotency-Key is "
				    "still in progress.", NULL);
				resp_header(resp, "Retry-After", "1");
			}
			marked = 0;
			goto out;
		}
	}

	if (app->conf->reservation_strategy == STRATEGY_GATE) {
		g = gate_admit(app->redis, event_id, (int)qty, &value, gerr,
		    sizeof gerr);
		if (g == GATE_MISSING && gate_rebuild(app->redis, app->db,
		    event_id, gerr, sizeof gerr) >= 0)
			g = gate_admit(app->redis, event_id, (int)qty, &value,
			    gerr, sizeof gerr);
		if (g == GATE_REJECTED) {
			METRIC_INC(gate_rejects);
			METRIC_INC(reservations[RES_INSUFFICIENT]);
			/* Sold out at the gate: MySQL never hears of it. */
			d = json_object_new_object();
			json_object_object_add(d, "requested",
			    json_object_new_int64(qty));
			json_object_object_add(d, "available",
			    json_object_new_int64(value > 0 ? value : 0));
			resp_error(resp, 409, "INSUFFICIENT_SEATS", "Not enough "
			    "seats left.", d);
			goto out;
		}
		admitted = g == GATE_ADMITTED;
		if (admitted)
			METRIC_INC(gate_admits);
		else
			METRIC_INC(gate_bypass);
		if (g == GATE_DOWN)
			log_debug("gate unavailable, using the database path: "
			    "%s", gerr);
	} else {
		snprintf(lockkey, sizeof lockkey, "bo:{ev:%" PRId64 "}:lock",
		    event_id);
		lk = redis_lock_acquire(app->redis, lockkey, EVENT_LOCK_TTL_MS,
		    token, gerr, sizeof gerr);
		if (lk == 0) {
			METRIC_INC(reservations[RES_CONFLICT]);
			resp_error(resp, 409, "CONCURRENT_RESERVATION", "Another "
			    "reservation for this event is in progress; retry.",
			    NULL);
			resp_header(resp, "Retry-After", "1");
			goto out;
		}
		/* Redis down: the SQL guard alone is enough to stay correct. */
		locked = lk == 1;
	}

	for (attempt = 0; attempt < TXN_ATTEMPTS; attempt++) {
		out = reserve_txn(app, &rr, &res_id, &created_ms,
		    &db_available, err, sizeof err);
		if (out != TXN_ERROR ||
		    !db_errno_is_retryable(app->db->last_errno))
			break;
	}
	if (locked && redis_lock_release(app->redis, lockkey, token, gerr,
	    sizeof gerr) != 1)
		log_warn("event lock %s was not ours at release: %s", lockkey,
		    gerr);
	/* Keep the gate counter in step with what the database did. */
	if (out != TXN_OK && admitted)
		METRIC_INC(gate_compensations);
	if (out != TXN_OK && admitted &&
	    gate_adjust(app->redis, event_id, qty, gerr, sizeof gerr) == -1)
		log_warn("could not give back a gate admission of event %"
		    PRId64 "; reconciliation will: %s", event_id, gerr);
	if (out == TXN_OK && !admitted &&
	    gate_adjust(app->redis, event_id, -qty, gerr, sizeof gerr) == -1)
		log_debug("gate counter not adjusted: %s", gerr);

	METRIC_INC(reservations[out == TXN_OK ? RES_CONFIRMED :
	    out == TXN_INSUFFICIENT ? RES_INSUFFICIENT : out == TXN_LIMIT ?
	    RES_LIMIT : out == TXN_ERROR ? RES_ERROR : RES_CONFLICT]);
	switch (out) {
	case TXN_OK:
		resp_success(resp, 201, confirmed_json(res_id, event_id, user,
		    qty, created_ms), "Reservation confirmed.");
		break;
	case TXN_INSUFFICIENT:
		d = json_object_new_object();
		json_object_object_add(d, "requested",
		    json_object_new_int64(qty));
		json_object_object_add(d, "available",
		    json_object_new_int64(db_available));
		resp_error(resp, 409, "INSUFFICIENT_SEATS", "Not enough seats "
		    "left.", d);
		break;
	case TXN_LIMIT:
		d = json_object_new_object();
		json_object_object_add(d, "perUserLimit",
		    json_object_new_int(ev.per_user_limit));
		json_object_object_add(d, "requested",
		    json_object_new_int64(qty));
		resp_error(resp, 409, "LIMIT_EXCEEDED", "This would take the "
		    "user past the event's per-user limit.", d);
		break;
	case TXN_DUPLICATE:
		/* A twin with the same key committed first. */
		idem = idem_lookup(app, user, key != NULL ? key : "", canon,
		    &res_id, err, sizeof err);
		if (idem == 1)
			answer_replay(app, resp, res_id);
		else if (idem == 2)
			answer_idem_conflict(resp);
		else
			app_db_failure(app, resp, "idempotency lookup failed",
			    err);
		break;
	case TXN_ERROR:
		app_db_failure(app, resp, "reservation failed", err);
		break;
	}
out:
	if (marked == 1)
		(void)redis_lock_release(app->redis, marker, canon, gerr,
		    sizeof gerr);
	event_free(&ev);
	json_object_put(body);
}

void
handle_reservation_get(struct app *app, struct request *req,
    struct response *resp)
{
	struct json_object	*o;
	char			 err[512];
	int64_t			 id;
	int			 found;

	if (!capture_id(req, resp, "id", &id))
		return;
	if ((found = reservation_load(app, id, &o, err, sizeof err)) == -1)
		app_db_failure(app, resp, "reservation lookup failed", err);
	else if (found == 0)
		resp_error(resp, 404, "RESERVATION_NOT_FOUND", "No such "
		    "reservation.", NULL);
	else
		resp_success(resp, 200, o, NULL);
}

/* Give back the seats of one allocation, ascending by shard. */
static int
return_seats(struct app *app, int64_t event_id, const char *alloc, char *err,
    size_t errlen)
{
	int	shards[64], i, j, n = 0;
	int64_t	counts[64], affected;
	char	*sql;
	const char *p = alloc;

	while (*p != '\0' && n < 64) {
		shards[n] = atoi(p);
		if ((p = strchr(p, ':')) == NULL)
			break;
		counts[n++] = strtoll(p + 1, NULL, 10);
		p += strcspn(p, ",");
		if (*p == ',')
			p++;
	}
	if (n == 0) {
		snprintf(err, errlen, "bad shard allocation '%s'", alloc);
		return (-1);
	}
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && shards[j - 1] > shards[j]; j--) {
			int	ts = shards[j];
			int64_t	tc = counts[j];

			shards[j] = shards[j - 1];
			counts[j] = counts[j - 1];
			shards[j - 1] = ts;
			counts[j - 1] = tc;
		}
	for (i = 0; i < n; i++) {
		sql = xasprintf("UPDATE event_inventory SET available = "
		    "available + %" PRId64 " WHERE event_id = %" PRId64 " AND "
		    "shard = %d AND available + %" PRId64 " <= capacity",
		    counts[i], event_id, shards[i], counts[i]);
		affected = db_affected(app->db, sql, err, errlen);
		free(sql);
		if (affected != 1) {
			if (affected == 0)
				snprintf(err, errlen, "shard %d of event %"
				    PRId64 " cannot take back %" PRId64
				    " seats", shards[i], event_id, counts[i]);
			return (-1);
		}
	}
	return (0);
}

void
handle_reservation_cancel(struct app *app, struct request *req,
    struct response *resp)
{
	struct json_object	*o;
	MYSQL_RES		*res;
	MYSQL_ROW		 row;
	char			 err[512], gerr[256], *sql, *user = NULL;
	char			*alloc = NULL, *rid = NULL;
	int64_t			 id, event_id = 0, qty = 0;
	int			 attempt;
	enum { C_OK, C_NOTFOUND, C_CANCELLED, C_ERROR } st = C_ERROR;

	if (!capture_id(req, resp, "id", &id))
		return;
	for (attempt = 0; attempt < TXN_ATTEMPTS; attempt++) {
		free(user);
		free(alloc);
		free(rid);
		user = alloc = rid = NULL;
		st = C_ERROR;
		if (db_exec(app->db, "START TRANSACTION", err, sizeof err) == -1)
			break;
		/* The row lock makes two concurrent cancels take turns. */
		sql = xasprintf("SELECT event_id, user_id, quantity, status, "
		    "shard_alloc FROM reservations WHERE id = %" PRId64
		    " FOR UPDATE", id);
		res = db_select(app->db, sql, err, sizeof err);
		free(sql);
		if (res == NULL)
			goto rollback;
		if ((row = mysql_fetch_row(res)) == NULL) {
			mysql_free_result(res);
			st = C_NOTFOUND;
			goto rollback;
		}
		event_id = strtoll(row[0], NULL, 10);
		qty = strtoll(row[2], NULL, 10);
		if (strcmp(row[3], "CANCELLED") == 0) {
			mysql_free_result(res);
			st = C_CANCELLED;
			goto rollback;
		}
		alloc = xstrdup(row[4]);
		user = db_quote(app->db, row[1], err, sizeof err);
		mysql_free_result(res);
		if (user == NULL || (rid = db_quote(app->db, req->request_id,
		    err, sizeof err)) == NULL)
			goto rollback;
		sql = xasprintf("UPDATE reservations SET status = 'CANCELLED', "
		    "cancelled_at = CURRENT_TIMESTAMP(3) WHERE id = %" PRId64
		    " AND status = 'CONFIRMED'", id);
		if (db_affected(app->db, sql, err, sizeof err) != 1) {
			free(sql);
			goto rollback;
		}
		free(sql);
		/* Tally before inventory: the same lock order as reserving. */
		sql = xasprintf("UPDATE user_event_tally SET seats = seats - %"
		    PRId64 " WHERE event_id = %" PRId64 " AND user_id = %s AND "
		    "seats >= %" PRId64, qty, event_id, user, qty);
		if (db_affected(app->db, sql, err, sizeof err) != 1) {
			free(sql);
			goto rollback;
		}
		free(sql);
		if (return_seats(app, event_id, alloc, err, sizeof err) == -1)
			goto rollback;
		sql = xasprintf("INSERT INTO reservation_audit (reservation_id, "
		    "event_id, user_id, action, quantity, request_id) VALUES (%"
		    PRId64 ", %" PRId64 ", %s, 'CANCEL', %" PRId64 ", %s)", id,
		    event_id, user, qty, rid);
		if (db_exec(app->db, sql, err, sizeof err) == -1) {
			free(sql);
			goto rollback;
		}
		free(sql);
		if (db_exec(app->db, "COMMIT", err, sizeof err) == -1)
			goto rollback;
		st = C_OK;
		break;
rollback:
		db_rollback(app->db);
		if (st != C_ERROR || !db_errno_is_retryable(app->db->last_errno))
			break;
	}
	free(user);
	free(alloc);
	free(rid);
	switch (st) {
	case C_OK:
		if (gate_adjust(app->redis, event_id, qty, gerr,
		    sizeof gerr) == -1)
			log_debug("gate counter not adjusted: %s", gerr);
		if (reservation_load(app, id, &o, err, sizeof err) != 1) {
			app_db_failure(app, resp, "reading the reservation "
			    "failed", err);
			return;
		}
		resp_success(resp, 200, o, "Reservation cancelled.");
		return;
	case C_NOTFOUND:
		resp_error(resp, 404, "RESERVATION_NOT_FOUND", "No such "
		    "reservation.", NULL);
		return;
	case C_CANCELLED:
		resp_error(resp, 409, "ALREADY_CANCELLED", "The reservation is "
		    "already cancelled.", NULL);
		return;
	case C_ERROR:
		app_db_failure(app, resp, "cancel failed", err);
		return;
	}
}

static bool
user_capture(const struct request *req, struct response *resp,
    const char **user)
{
	struct fielderrs	fe;

	*user = request_capture(req, "userId");
	if (*user != NULL && printable_ascii(*user, 64))
		return (true);
	fe_init(&fe);
	fe_add(&fe, "userId", "must be 1 to 64 printable ASCII characters");
	fe_respond(&fe, resp);
	return (false);
}

void
handle_reservations_by_user(struct app *app, struct request *req,
    struct response *resp)
{
	struct fielderrs	 fe;
	struct json_object	*content;
	MYSQL_RES		*res;
	MYSQL_ROW		 row;
	const char		*user, *status;
	char			 err[512], where[32] = "", *u, *sql;
	int64_t			 page, size, total;

	if (!user_capture(req, resp, &user))
		return;
	fe_init(&fe);
	query_int(req, "page", 0, 0, 1000000, &page, &fe);
	query_int(req, "size", 20, 1, 100, &size, &fe);
	if ((status = request_query(req, "status")) != NULL) {
		if (strcmp(status, "CONFIRMED") == 0 ||
		    strcmp(status, "CANCELLED") == 0)
			snprintf(where, sizeof where, " AND status = '%s'",
			    status);
		else
			fe_add(&fe, "status", "must be CONFIRMED or CANCELLED");
	}
	if (fe_respond(&fe, resp))
		return;
	fe_free(&fe);
	if ((u = db_quote(app->db, user, err, sizeof err)) == NULL) {
		app_db_failure(app, resp, "reservation list failed", err);
		return;
	}
	sql = xasprintf("SELECT COUNT(*) FROM reservations WHERE user_id = %s%s",
	    u, where);
	total = count_rows(app, sql, err, sizeof err);
	free(sql);
	if (total < 0) {
		free(u);
		app_db_failure(app, resp, "reservation count failed", err);
		return;
	}
	sql = xasprintf("SELECT " RES_COLUMNS " FROM reservations WHERE "
	    "user_id = %s%s ORDER BY id DESC LIMIT %" PRId64 " OFFSET %" PRId64,
	    u, where, size, page * size);
	free(u);
	res = db_select(app->db, sql, err, sizeof err);
	free(sql);
	if (res == NULL) {
		app_db_failure(app, resp, "reservation list failed", err);
		return;
	}
	content = json_object_new_array();
	while ((row = mysql_fetch_row(res)) != NULL)
		json_object_array_add(content, row_to_json(row));
	mysql_free_result(res);
	resp_success(resp, 200, page_json(content, page, size, total), NULL);
}

void
handle_user_stats(struct app *app, struct request *req, struct response *resp)
{
	struct json_object	*o;
	MYSQL_RES		*res;
	MYSQL_ROW		 row;
	const char		*user;
	char			 err[512], *u, *sql;

	if (!user_capture(req, resp, &user))
		return;
	if ((u = db_quote(app->db, user, err, sizeof err)) == NULL) {
		app_db_failure(app, resp, "user statistics failed", err);
		return;
	}
	sql = xasprintf("SELECT COUNT(*), "
	    "COALESCE(SUM(CASE WHEN status = 'CONFIRMED' THEN quantity END), 0),"
	    " COALESCE(SUM(status = 'CANCELLED'), 0) FROM reservations WHERE "
	    "user_id = %s", u);
	free(u);
	res = db_select(app->db, sql, err, sizeof err);
	free(sql);
	if (res == NULL || (row = mysql_fetch_row(res)) == NULL) {
		if (res != NULL)
			mysql_free_result(res);
		app_db_failure(app, resp, "user statistics failed", err);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "userId", json_object_new_string(user));
	json_object_object_add(o, "totalReservations",
	    json_object_new_int64(strtoll(row[0], NULL, 10)));
	json_object_object_add(o, "totalTickets",
	    json_object_new_int64(strtoll(row[1], NULL, 10)));
	json_object_object_add(o, "cancelledReservations",
	    json_object_new_int64(strtoll(row[2], NULL, 10)));
	mysql_free_result(res);
	resp_success(resp, 200, o, NULL);
}
