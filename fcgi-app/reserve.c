/* reserve.c: the reservation transaction and what surrounds it. */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "db.h"
#include "event.h"
#include "event_cache.h"
#include "event_memo.h"
#include "group_commit.h"
#include "holds.h"
#include "idempotency.h"
#include "inventory.h"
#include "log.h"
#include "metrics.h"
#include "rate_limit.h"
#include "redis_conn.h"
#include "redis_gate.h"
#include "redis_lock.h"
#include "redis_script.h"
#include "reserve.h"
#include "store.h"
#include "timeutil.h"
#include "txn.h"
#include "waitroom.h"
#include "xmalloc.h"

#define EVENT_LOCK_TTL_MS	10000	/* longer than a transaction */
#define RECLAIM_MAX		20	/* run-out holds expired in the path */

/* One attempt's outcome, before the retry loop judges it. */
enum attempt {
	ATTEMPT_OK,		/* committed */
	ATTEMPT_RETRY,		/* known not committed; may run again */
	ATTEMPT_FINAL,		/* *out says why; not committed */
	ATTEMPT_SHORT		/* the one-call path's shard is short: run
				   the batches (rolled back, nothing open) */
};

/* One reservation's state across its attempts. */
struct attempt_ctx {
	const struct reserve_req	*rq;
	struct reserve_result		*res;
	int				 shards;	/* of the event */
	bool				 unknown;	/* outcome not learned */
	bool				 duplicate;	/* a twin has the key */
	bool				 admitted;	/* a valid admission */
	bool				 alone;		/* group_call() ran the
							   one call itself */
	int64_t				 admission;	/* its queue number */
	char				 pool[CLASS_CODE_MAX + 1];
	char				 seat_type[CLASS_CODE_MAX + 1];
						/* "" for none */
	int64_t				 unit_price;	/* -1: no prices */
	/* The event was judged from the memo, at this version. */
	bool				 memo;
	int64_t				 memo_version;
	bool				 memo_waiting_room;
	/* The admission's use count, read beside the event. */
	struct cache_side		 used;
	char				 used_key[80];
	struct idem_mark		*mark;		/* the key's in-flight marker */
};

/* How the request got past Redis, and what to undo. */
struct admission {
	bool	admitted;			/* gate counter taken */
	bool	locked;				/* event lock held */
	char	lockkey[64];
	char	token[LOCK_TOKEN_LEN + 1];
};

static enum reserve_outcome
store_down(struct store *st, struct reserve_result *out)
{
	snprintf(out->detail, sizeof out->detail, "%s", db_errstr(st->db));
	return (db_fault_unavailable(db_fault(st->db)) ? RESERVE_UNAVAILABLE :
	    RESERVE_FAILED);
}

/*
 * The seat class asked for: the pool it sells from, its shards and price.
 * An event without classes sells its common pool, without prices.
 * (Classes never change after the event is created: the cache may say.)
 */
static enum reserve_outcome
pick_class(const struct event *ev, const struct reserve_req *rq,
    struct reserve_result *out, struct attempt_ctx *c)
{
	const struct seat_class	*sc;
	size_t			 used;
	int			 i;

	c->pool[0] = '\0';
	c->shards = ev->shards;
	c->seat_type[0] = '\0';
	c->unit_price = -1;
	if (ev->nclasses == 0)
		return (rq->seat_type == NULL ? RESERVE_OK : RESERVE_BAD_CLASS);
	/* The seed's seatType is optional: the first class, then. */
	if ((sc = rq->seat_type == NULL ? &ev->classes[0] : event_class(ev,
	    rq->seat_type)) != NULL) {
		snprintf(c->seat_type, sizeof c->seat_type, "%s", sc->code);
		snprintf(c->pool, sizeof c->pool, "%s", class_pool(sc));
		c->shards = sc->own_seats >= 0 ? sc->shards : ev->shards;
		c->unit_price = sc->price;
		return (RESERVE_OK);
	}
	for (i = 0, used = 0; i < ev->nclasses; i++) {
		used = strlen(out->classes);
		snprintf(out->classes + used, sizeof out->classes - used,
		    "%s%s", i > 0 ? ", " : "", ev->classes[i].code);
	}
	return (RESERVE_BAD_CLASS);
}

/* What the event says of the request, its class picked. */
static enum reserve_outcome
judge(const struct event *ev, const struct reserve_req *rq,
    struct reserve_result *out, struct attempt_ctx *c)
{
	enum reserve_outcome	o;

	if ((o = pick_class(ev, rq, out, c)) != RESERVE_OK)
		return (o);
	out->per_user_limit = ev->per_user_limit;
	out->max_per_request = ev->max_per_request;
	out->event_status = ev->status;
	out->event_past = ev->date_ms <= time_real_ms();
	if (!event_on_sale(ev, time_real_ms()))
		return (RESERVE_NOT_ON_SALE);
	if (rq->qty > ev->max_per_request)
		return (RESERVE_TOO_MANY);
	if (ev->waiting_room && !c->admitted)
		return (RESERVE_ADMISSION_REQUIRED);
	return (RESERVE_OK);
}

/* The cached (or loaded) event may refuse at once; only SQL accepts. */
static enum reserve_outcome
precheck(struct store *st, const struct reserve_req *rq,
    struct reserve_result *out, struct attempt_ctx *c)
{
	struct event		ev;
	enum reserve_outcome	o;
	bool			hit;
	int64_t			available;

	c->memo = false;
	/* A token's use count comes in the event's round trip. */
	c->admission = admission_number(st->conf, rq->event_id, rq->user,
	    rq->admission, c->used_key, sizeof c->used_key, &c->used);
	switch (event_fetch(st, rq->event_id, &ev, &hit, &available, &c->used,
	    c->admission > 0 ? 1 : 0)) {
	case LOOKUP_ERROR:
		return (store_down(st, out));
	case LOOKUP_NONE:
		return (RESERVE_NO_EVENT);
	case LOOKUP_FOUND:
		break;
	}
	if (st->conf->event_memo)
		event_memo_put(&ev);
	/* Checked whenever a token comes: the transaction has the last word. */
	c->admitted = c->admission > 0 && admission_left(st->conf, &c->used);
	o = judge(&ev, rq, out, c);
	event_free(&ev);
	return (o);
}

/*
 * The gate's requests judged on the event this worker remembers: true when
 * it would let the request try, and the gate's script will check that the
 * event is still that version (admit()). A refusal is never the memo's:
 * the reading path judges again.
 */
static bool
precheck_memo(struct store *st, const struct reserve_req *rq,
    struct reserve_result *out, struct attempt_ctx *c)
{
	struct event	ev;

	if (!st->conf->event_memo || st->conf->reservation_strategy !=
	    STRATEGY_GATE || !event_memo_get(rq->event_id, &ev))
		return (false);
	c->admission = admission_number(st->conf, rq->event_id, rq->user,
	    rq->admission, c->used_key, sizeof c->used_key, &c->used);
	/* The token's use count is not read yet: admit() judges it. */
	c->admitted = c->admission > 0;
	if (judge(&ev, rq, out, c) != RESERVE_OK) {
		out->classes[0] = '\0';
		return (false);
	}
	c->memo = true;
	c->memo_version = ev.version;
	c->memo_waiting_room = ev.waiting_room;
	return (true);
}

/*
 * Build the gate counter from the database, one worker at a time; the
 * version read first keeps a give-back made meanwhile from being lost.
 */
static void
gate_refill(struct store *st, int64_t event_id, const char *pool)
{
	char	lock[96], token[LOCK_TOKEN_LEN + 1], version[24];
	int64_t	available;
	bool	set;

	snprintf(lock, sizeof lock, "bo:{ev:%" PRId64 "}:rebuild:%s", event_id,
	    pool);
	if (redis_lock_acquire(st->redis, lock, 2000, token) != LOCK_ACQUIRED)
		return;
	if (gate_version(st->redis, event_id, pool, version, sizeof version) ==
	    0 && inventory_available(st->db, event_id, pool, &available) ==
	    INV_OK && gate_rebuild(st->redis, event_id, pool, available,
	    version, &set) == 0 && set)
		METRIC_INC(gate_rebuilds);
	(void)redis_lock_release(st->redis, lock, token);
}

/* Seats the gate admitted that this request will not use. */
static void
give_back(struct store *st, const struct attempt_ctx *c)
{
	METRIC_INC(gate_compensations);
	if (gate_adjust(st->redis, c->rq->event_id, c->pool, c->rq->qty) ==
	    -1)
		log_warn("could not give back a gate admission of event %"
		    PRId64 "; reconciliation will: %s", c->rq->event_id,
		    redis_conn_errstr(st->redis));
}

/*
 * The memo's path in one round trip: the key's in-flight marker, the
 * user's token bucket, and the gate's script that checks the event is the
 * version precheck_memo() judged. GATE_STALE when it is not, or Redis did
 * not answer, and nothing was taken: the reading path must judge the
 * request. *refused: the bucket was empty or the key is another request's
 * (then whatever the gate took is given back), else RESERVE_OK.
 */
static enum gate_result
admit_current(struct store *st, struct attempt_ctx *c,
    struct reserve_result *out, enum reserve_outcome *refused)
{
	const struct reserve_req	*rq = c->rq;
	struct script_call		 call[3];
	struct gate_current		 gc;
	struct rate_check		 rc;
	char				 key[64];
	enum gate_result		 g;
	enum reserve_outcome		 o;
	int				 n = 0, i, mark = -1, rate = -1;

	event_cache_key(rq->event_id, key, sizeof key);
	if (idem_begin_call(rq, c->mark, &call[n]))
		mark = n++;
	if (rate_call(st, rq->user, &rc, &call[n]))
		rate = n++;
	gate_current_call(&gc, &call[n++], rq->event_id, c->pool,
	    (int)rq->qty, key, c->memo_version, &c->used,
	    c->admission > 0 ? 1 : 0);
	/* A failed connection leaves every reply NULL: judged as such. */
	if (redis_scripts_run(st->redis, call, n) == -1)
		log_debug("gate, bucket and marker: %s",
		    redis_conn_errstr(st->redis));
	/* As on the reading path: the bucket first, then the key. */
	*refused = RESERVE_OK;
	if (rate >= 0 && !rate_answer(st, call[rate].reply,
	    &out->retry_after_s))
		*refused = RESERVE_RATE_LIMITED;
	/* Judged even when refused: a marker it set is to be removed. */
	if (mark >= 0 && (o = idem_begin_answer(c->mark, call[mark].reply)) !=
	    RESERVE_OK && *refused == RESERVE_OK)
		*refused = o;
	g = gate_current_answer(&gc, call[n - 1].reply, &out->available);
	for (i = 0; i < n; i++)
		if (call[i].reply != NULL)
			freeReplyObject(call[i].reply);
	if (*refused != RESERVE_OK && g == GATE_ADMITTED)
		give_back(st, c);
	if (*refused != RESERVE_OK || g == GATE_STALE || g == GATE_DOWN)
		return (GATE_STALE);
	METRIC_INC(cache_hits);
	METRIC_INC(event_memo_hits);
	c->admitted = c->admission > 0 && admission_left(st->conf, &c->used);
	return (g);
}

/*
 * The gate or the event lock. RESERVE_OK lets the request try. On the
 * memo's path the user's token bucket and the key's marker are checked
 * here, in the gate's round trip; else reserve() checked them.
 */
static enum reserve_outcome
admit(struct store *st, struct attempt_ctx *c, struct admission *a,
    struct reserve_result *out)
{
	const struct reserve_req	*rq = c->rq;
	enum reserve_outcome	o;
	enum gate_result	g = GATE_STALE;
	enum lock_result	l;

	memset(a, 0, sizeof *a);
	if (st->conf->reservation_strategy == STRATEGY_EVENT_LOCK) {
		snprintf(a->lockkey, sizeof a->lockkey, "bo:{ev:%" PRId64
		    "}:lock", rq->event_id);
		l = redis_lock_acquire(st->redis, a->lockkey,
		    EVENT_LOCK_TTL_MS, a->token);
		if (l == LOCK_BUSY)
			return (RESERVE_BUSY);
		/* Redis down: the SQL guard alone keeps it correct. */
		a->locked = l == LOCK_ACQUIRED;
		return (RESERVE_OK);
	}
	if (c->memo) {
		if ((g = admit_current(st, c, out, &o)) == GATE_STALE &&
		    o != RESERVE_OK)
			return (o);
		/* precheck() reads the event and forgets the memo's. */
		if (g == GATE_STALE && (o = precheck(st, rq, out, c)) !=
		    RESERVE_OK)
			return (o);
	}
	if (c->memo && c->memo_waiting_room && !c->admitted) {
		/* A used-up admission, learned in the script. */
		if (g == GATE_ADMITTED)
			give_back(st, c);
		return (RESERVE_ADMISSION_REQUIRED);
	}
	if (!c->memo)
		g = gate_admit(st->redis, rq->event_id, c->pool, (int)rq->qty,
		    &out->available);
	if (g == GATE_MISSING) {
		gate_refill(st, rq->event_id, c->pool);
		g = gate_admit(st->redis, rq->event_id, c->pool, (int)rq->qty,
		    &out->available);
	}
	switch (g) {
	case GATE_REJECTED:
		METRIC_INC(gate_rejects);
		if (out->available < 0)
			out->available = 0;
		return (RESERVE_SOLD_OUT);
	case GATE_ADMITTED:
		METRIC_INC(gate_admits);
		a->admitted = true;
		break;
	case GATE_MISSING:
	case GATE_DOWN:
	case GATE_STALE:
		METRIC_INC(gate_bypass);
		log_debug("gate unavailable, using the database path: %s",
		    redis_conn_errstr(st->redis));
		break;
	}
	return (RESERVE_OK);
}

/* Undo the admission: the lock always, the gate when nothing committed. */
static void
admission_end(struct store *st, const struct attempt_ctx *c,
    struct admission *a, bool give)
{
	if (a->locked)
		(void)redis_lock_release(st->redis, a->lockkey, a->token);
	if (a->admitted && give)
		give_back(st, c);
}

/*
 * The event row as the transaction saw it: status, "in the future",
 * max_per_request, per_user_limit, waiting_room. RESERVE_OK when it may
 * sell this request.
 */
static enum reserve_outcome
event_check(const struct attempt_ctx *c, char **row)
{
	struct reserve_result	*res = c->res;

	res->event_status = event_status_parse(row[0]);
	res->event_past = strcmp(row[1], "1") != 0;
	res->max_per_request = atoi(row[2]);
	res->per_user_limit = atoi(row[3]);
	return (res->event_status != EVENT_ACTIVE || res->event_past ?
	    RESERVE_NOT_ON_SALE : c->rq->qty > res->max_per_request ?
	    RESERVE_TOO_MANY : strcmp(row[4], "0") != 0 && !c->admitted ?
	    RESERVE_ADMISSION_REQUIRED : RESERVE_OK);
}

/*
 * Round trip 1: lock the event row shared and check it, add to the
 * per-user tally (its row lock serialises one user's requests, its CHECK
 * is the limit), take the seats from one shard.
 */
static enum attempt
round_trip_1(struct store *st, const struct attempt_ctx *c, int shard,
    char *alloc, enum reserve_outcome *out)
{
	const struct reserve_req	*rq = c->rq;
	struct reserve_result		*res = c->res;
	struct db_stmt	 s[4];
	char		**row, *user = db_quote(rq->user), *take, *sql;
	enum db_fault	 fault;
	int		 rv;

	*out = RESERVE_OK;
	take = inventory_take_one_sql(rq->event_id, c->pool, shard, rq->qty);
	sql = xasprintf("START TRANSACTION; "
	    "SELECT status, event_date > UTC_TIMESTAMP(3), max_per_request, "
	    "per_user_limit, waiting_room FROM events WHERE id = %" PRId64
	    " LOCK IN SHARE MODE; "
	    "INSERT INTO user_event_tally (event_id, user_id, seats, seat_limit)"
	    " SELECT id, %s, %" PRId64 ", per_user_limit FROM events WHERE id = %"
	    PRId64 " ON DUPLICATE KEY UPDATE seats = seats + VALUES(seats); %s",
	    rq->event_id, user, rq->qty, rq->event_id, take);
	free(user);
	free(take);
	rv = db_batch(st->db, sql, DB_BEGINS | DB_STATEMENTS, s, 4);
	free(sql);
	/* The event as the transaction sees it comes first. */
	if (s[1].ran && (row = db_res_next(s[1].res)) == NULL)
		*out = RESERVE_NO_EVENT;
	else if (s[1].ran)
		*out = event_check(c, row);
	db_stmts_free(s, 4);
	if (s[1].ran && *out != RESERVE_OK) {
		db_rollback(st->db);
		return (ATTEMPT_FINAL);
	}
	if (rv == -1) {
		fault = db_fault(st->db);
		*out = s[1].ran && fault == DB_CHECK ? RESERVE_LIMIT :
		    store_down(st, res);
		db_rollback(st->db);
		return (db_fault_retryable(fault) ? ATTEMPT_RETRY :
		    ATTEMPT_FINAL);
	}
	if (s[3].affected == 1)
		inventory_alloc_one(alloc, INVENTORY_ALLOC_MAX, c->pool, shard,
		    rq->qty);
	else
		alloc[0] = '\0';
	return (ATTEMPT_OK);
}

/* The reservation's status, hold, class and prices, before the insert. */
static void
fill_row(const struct store *st, const struct attempt_ctx *c,
    struct reservation *r)
{
	const struct reserve_req	*rq = c->rq;

	/* The row's timestamps come from here, so the 201 can echo them. */
	r->created_ms = r->updated_ms = time_real_ms();
	r->status = rq->hold ? RES_STATUS_HELD : RES_STATUS_CONFIRMED;
	r->expires_ms = rq->hold ? r->created_ms + st->conf->hold_ttl_s * 1000LL :
	    0;
	snprintf(r->seat_type, sizeof r->seat_type, "%s", c->seat_type);
	r->unit_price = c->unit_price;
	r->total_price = c->unit_price >= 0 ? c->unit_price * rq->qty : -1;
}

/* "'text'" or NULL, and an integer or NULL, for the insert. */
static void
sql_values(const struct reservation *r, char until[48], char type[24],
    char unit[24], char total[24])
{
	char	ts[40];

	if (r->expires_ms != 0) {
		time_sql_datetime(r->expires_ms, ts, sizeof ts);
		snprintf(until, 48, "'%s'", ts);
	} else
		snprintf(until, 48, "NULL");
	/* Class codes are [A-Za-z0-9_-]: safe to quote. */
	snprintf(type, 24, r->seat_type[0] != '\0' ? "'%s'" : "NULL",
	    r->seat_type);
	if (r->unit_price >= 0) {
		snprintf(unit, 24, "%" PRId64, r->unit_price);
		snprintf(total, 24, "%" PRId64, r->total_price);
	} else {
		snprintf(unit, 24, "NULL");
		snprintf(total, 24, "NULL");
	}
}

/* Round trip 2: the reservation row, its audit row, COMMIT. */
static int
round_trip_2(struct store *st, const struct attempt_ctx *c, const char *alloc,
    const char *txn_id, struct reservation *r)
{
	const struct reserve_req	*rq = c->rq;
	struct db_stmt	 s[3];
	char		 now[40], until[48], type[24], unit[24], total[24];
	char		*user = db_quote(rq->user), *sql, *canon, *hash, *rid;
	char		*key = db_quote(rq->idem_key);
	int		 rv;

	canon = rq->idem_key != NULL ? idem_canonical(rq) : NULL;
	hash = canon != NULL ? xasprintf("SHA2(%s, 256)", canon) :
	    xstrdup("NULL");
	rid = db_quote(rq->request_id);
	fill_row(st, c, r);
	time_sql_datetime(r->created_ms, now, sizeof now);
	sql_values(r, until, type, unit, total);
	sql = xasprintf("INSERT INTO reservations (event_id, user_id, quantity,"
	    " seat_type, unit_price, total_price, status, shard_alloc, "
	    "idempotency_key, request_hash, created_at, updated_at, expires_at)"
	    " VALUES (%" PRId64 ", %s, %" PRId64 ", %s, %s, %s, '%s', '%s', %s,"
	    " %s, '%s', '%s', %s); "
	    "INSERT INTO reservation_audit (reservation_id, event_id, user_id, "
	    "action, quantity, request_id, txn_id, idempotency_key) VALUES "
	    "(LAST_INSERT_ID(), %" PRId64 ", %s, '%s', %" PRId64 ", %s, '%s', "
	    "%s); COMMIT", rq->event_id, user, rq->qty, type, unit, total,
	    reservation_status_name(r->status), alloc, key, hash, now, now,
	    until, rq->event_id, user, rq->hold ? "HOLD" : "CREATE", rq->qty,
	    rid, txn_id, key);
	rv = db_batch(st->db, sql, DB_COMMITS | DB_STATEMENTS, s, 3);
	if (s[0].ran)
		r->id = (int64_t)s[0].insert_id;
	db_stmts_free(s, 3);
	free(sql);
	free(user);
	free(key);
	free(canon);
	free(hash);
	free(rid);
	return (rv);
}

/* After a lost COMMIT answer: did this attempt's txn id commit? */
static enum txn_lookup
ask_txn(struct store *st, const char *txn_id, void *out)
{
	struct db_res	*res;
	char		**row, sql[640];
	enum txn_lookup	 l = TXN_UNKNOWN;

	snprintf(sql, sizeof sql, "SELECT " RESERVATION_COLUMNS " FROM "
	    "reservation_audit a JOIN reservations r ON r.id = "
	    "a.reservation_id WHERE a.txn_id = '%s'", txn_id);
	if ((res = db_query(st->db, sql)) != NULL) {
		l = TXN_NOT_COMMITTED;
		if ((row = db_res_next(res)) != NULL) {
			reservation_from_row(row, out);
			l = TXN_COMMITTED;
		}
		db_res_free(res);
	}
	return (l);
}

/* The committing step failed: learn a lost COMMIT's outcome, or roll back. */
static enum attempt
commit_failed(struct store *st, struct attempt_ctx *c, const char *txn_id,
    enum reserve_outcome *out)
{
	struct reserve_result	*res = c->res;

	if (db_fault(st->db) == DB_AMBIGUOUS) {
		*out = RESERVE_UNAVAILABLE;
		switch (txn_resolve(st, txn_id, ask_txn, &res->res)) {
		case TXN_COMMITTED:
			return (ATTEMPT_OK);
		case TXN_NOT_COMMITTED:
			return (ATTEMPT_RETRY);
		case TXN_UNKNOWN:
			snprintf(res->detail, sizeof res->detail, "outcome of a "
			    "lost COMMIT unknown: %s", db_errstr(st->db));
			c->unknown = true;
			return (ATTEMPT_FINAL);
		}
	}
	/* Also after an error inside the procedure: a lock wait timeout
	   leaves its transaction open. */
	db_rollback(st->db);
	c->duplicate = db_fault(st->db) == DB_DUPLICATE;
	*out = store_down(st, res);
	return (db_fault_retryable(db_fault(st->db)) ? ATTEMPT_RETRY :
	    ATTEMPT_FINAL);
}

/* What the procedure's one row says; row[2..6] is the event as seen. */
static enum attempt
one_call_answer(struct attempt_ctx *c, char **row, enum reserve_outcome *out)
{
	struct reserve_result	*res = c->res;

	if (strcmp(row[0], "SHORT") == 0)
		return (ATTEMPT_SHORT);
	if (row[2] == NULL) {
		*out = RESERVE_NO_EVENT;
		return (ATTEMPT_FINAL);
	}
	*out = event_check(c, row + 2);
	if (strcmp(row[0], "OK") == 0 && *out == RESERVE_OK && row[1] != NULL) {
		res->res.id = strtoll(row[1], NULL, 10);
		return (ATTEMPT_OK);
	}
	if (strcmp(row[0], "REFUSED") != 0 || *out == RESERVE_OK) {
		snprintf(res->detail, sizeof res->detail, "reserve_one_shard "
		    "answered %s", row[0]);
		*out = RESERVE_FAILED;
	}
	return (ATTEMPT_FINAL);
}

/*
 * The common path in one round trip: the procedure reserve_one_shard
 * (sql/migrations/007) runs both round trips' statements with shard
 * `shard` and commits, refuses, or says the shard is short. It never
 * leaves the transaction open. MariaDB answers each statement of a batch
 * with a packet of its own; the procedure answers once.
 */
static enum attempt
one_call(struct store *st, struct attempt_ctx *c, int shard,
    const char *txn_id, enum reserve_outcome *out)
{
	static bool			 warned;
	const struct reserve_req	*rq = c->rq;
	struct reservation		*r = &c->res->res;
	struct db_stmt	 s[2];
	char		 alloc[INVENTORY_ALLOC_MAX], now[40], until[48], type[24];
	char		 unit[24], total[24], **row;
	char		*user = db_quote(rq->user), *key = db_quote(rq->idem_key);
	char		*rid = db_quote(rq->request_id), *canon, *sql;
	enum attempt	 a;
	int		 rv;

	canon = rq->idem_key != NULL ? idem_canonical(rq) : xstrdup("NULL");
	inventory_alloc_one(alloc, sizeof alloc, c->pool, shard, rq->qty);
	fill_row(st, c, r);
	time_sql_datetime(r->created_ms, now, sizeof now);
	sql_values(r, until, type, unit, total);
	sql = xasprintf("CALL reserve_one_shard(%" PRId64 ", %s, %" PRId64
	    ", %d, '%s', %d, '%s', '%s', %s, %s, %s, %s, %s, '%s', %s, '%s', "
	    "%s, '%s')", rq->event_id, user, rq->qty, c->admitted ? 1 : 0,
	    c->pool, shard, alloc, reservation_status_name(r->status), type,
	    unit, total, key, canon, now, until, rq->hold ? "HOLD" : "CREATE",
	    rid, txn_id);
	free(user);
	free(key);
	free(rid);
	free(canon);
	/* It may commit: a lost answer is ambiguous, as a lost COMMIT. */
	rv = db_batch(st->db, sql, DB_BEGINS | DB_COMMITS, s, 2);
	free(sql);
	if (rv == -1)
		db_stmts_free(s, 2);
	if (rv == -1 && db_fault(st->db) == DB_CHECK) {
		/* The tally's CHECK (MariaDB 4025, MySQL 3819): over the limit. */
		db_rollback(st->db);
		*out = RESERVE_LIMIT;
		return (ATTEMPT_FINAL);
	}
	if (rv == -1 && (db_server_errno(st->db) == DB_ER_NO_PROCEDURE ||
	    db_server_errno(st->db) == DB_ER_NO_EXECUTE)) {
		/* A schema before migration 007, or no grant: the batches
		   still work. */
		if (!warned)
			log_warn("reserve_one_shard is missing or not granted "
			    "(run the migrations); reserving with the batches: "
			    "%s", db_errstr(st->db));
		warned = true;
		return (ATTEMPT_SHORT);
	}
	if (rv == -1)
		return (commit_failed(st, c, txn_id, out));
	if (s[0].res == NULL || (row = db_res_next(s[0].res)) == NULL ||
	    row[0] == NULL) {
		snprintf(c->res->detail, sizeof c->res->detail,
		    "reserve_one_shard answered no row");
		*out = RESERVE_FAILED;
		a = ATTEMPT_FINAL;
	} else
		a = one_call_answer(c, row, out);
	db_stmts_free(s, 2);
	return (a);
}

/* The event row the batch read may sell every item. */
static bool
batch_sellable(char **row, struct gc_item **it, int n)
{
	int	i;

	if (row[0] == NULL || strcmp(row[0], "ACTIVE") != 0 || row[1] == NULL ||
	    strcmp(row[1], "1") != 0 || row[2] == NULL || row[3] == NULL ||
	    row[4] == NULL || row[5] == NULL)
		return (false);
	for (i = 0; i < n; i++)
		if (it[i]->qty > strtoll(row[2], NULL, 10) ||
		    (strcmp(row[4], "0") != 0 && !it[i]->admitted))
			return (false);
	return (true);
}

/* Every item's verdict, and its id when committed. */
static void
batch_verdict(struct gc_item **it, int n, enum gc_verdict v, int64_t first,
    int64_t inc)
{
	int	i;

	if (v == GC_NOT_COMMITTED)
		METRIC_INC(group_rollbacks);
	for (i = 0; i < n; i++) {
		it[i]->verdict = v;
		it[i]->id = v == GC_COMMITTED ? first + i * inc : 0;
	}
}

/* Append to a batch's text; the caller sized it for every item. */
static char *
put(char *p, const char *end, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static char *
put(char *p, const char *end, const char *fmt, ...)
{
	va_list	ap;
	int	len;

	va_start(ap, fmt);
	len = vsnprintf(p, (size_t)(end - p), fmt, ap);
	va_end(ap);
	if (len < 0 || len >= end - p)
		fatal("group commit: batch text over its size");
	return (p + len);
}

/*
 * The leader's batch: the statements of one reservation, each once for
 * all items, on one shard, in two round trips:
 *   1. START; the event row LOCK IN SHARE MODE (it must sell every item);
 *      the tallies (one upsert, each row's CHECK is its user's limit, read
 *      from that row in the same statement); the shard's conditional
 *      UPDATE by the items' sum;
 *   2. the reservation rows, their audit rows (each with its own item's
 *      txn id), COMMIT.
 * The event row is judged when the first answer is in, after the writes
 * of its round trip: a row that refuses rolls them back with the rest.
 * Anything refused rolls the whole batch back and every item runs alone,
 * where its own refusal is told apart. The rows' ids are consecutive
 * (one multi-row INSERT: InnoDB allocates a "simple insert" its ids in one
 * block in every autoinc lock mode), auto_increment_increment apart; the
 * audit rows check it.
 */
static void
group_run(void *arg, struct gc_item **it, int n)
{
	struct store	*st = arg;
	struct reservation r;
	struct db_stmt	 s[4];
	char		**row, *sql, *p, *end;
	int64_t		 total = 0, inc = 1, boot;
	unsigned long	 session;
	int		 shard = (int)(random() % it[0]->shards), i, j;
	size_t		 cap;

	for (i = 0; i < n; i++)
		total += it[i]->qty;
	/* The first round trip writes: a follower fences the session that
	   sends it if we die, so it is named first. */
	if (db_connect(st->db) == -1) {
		batch_verdict(it, n, GC_NOT_COMMITTED, 0, 0);
		return;
	}
	session = db_session(st->db, &boot);
	gc_leader_session(session, boot);

	cap = 1024 + (size_t)n * (sizeof it[0]->user_sql + sizeof it[0]->row_sql +
	    sizeof it[0]->audit_sql + sizeof it[0]->alloc + 200);
	sql = xmalloc(cap);
	end = sql + cap;
	p = put(sql, end, "START TRANSACTION; SELECT status, event_date > "
	    "UTC_TIMESTAMP(3), max_per_request, per_user_limit, waiting_room, "
	    "@@auto_increment_increment FROM events WHERE id = %" PRId64
	    " LOCK IN SHARE MODE; INSERT INTO user_event_tally (event_id, "
	    "user_id, seats, seat_limit) VALUES ", it[0]->event_id);
	for (i = 0; i < n; i++)
		p = put(p, end, "%s(%" PRId64 ", %s, %" PRId64 ", (SELECT "
		    "per_user_limit FROM events WHERE id = %" PRId64 "))",
		    i > 0 ? ", " : "", it[i]->event_id, it[i]->user_sql,
		    it[i]->qty, it[i]->event_id);
	put(p, end, " ON DUPLICATE KEY UPDATE seats = seats + VALUES(seats);"
	    " UPDATE event_inventory SET available = available - %" PRId64
	    " WHERE event_id = %" PRId64 " AND class_code = '%s' AND shard = %d"
	    " AND available >= %" PRId64, total, it[0]->event_id, it[0]->pool,
	    shard, total);
	if (db_batch(st->db, sql, DB_BEGINS | DB_STATEMENTS, s, 4) == -1 ||
	    (row = db_res_next(s[1].res)) == NULL ||
	    !batch_sellable(row, it, n) || s[3].affected != 1) {
		free(sql);
		db_stmts_free(s, 4);
		db_rollback(st->db);
		batch_verdict(it, n, GC_NOT_COMMITTED, 0, 0);
		return;
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < 5; j++)
			snprintf(it[i]->event_row[j], sizeof it[i]->event_row[j],
			    "%s", row[j]);
	inc = strtoll(row[5], NULL, 10);
	db_stmts_free(s, 4);

	p = put(sql, end, "INSERT INTO reservations (event_id, user_id, "
	    "quantity, seat_type, unit_price, total_price, status, "
	    "idempotency_key, request_hash, created_at, updated_at, expires_at,"
	    " shard_alloc) VALUES ");
	for (i = 0; i < n; i++) {
		inventory_alloc_one(it[i]->alloc, sizeof it[i]->alloc,
		    it[i]->pool, shard, it[i]->qty);
		p = put(p, end, "%s%s'%s')", i > 0 ? ", " : "", it[i]->row_sql,
		    it[i]->alloc);
	}
	p = put(p, end, "; SET @bo_first = LAST_INSERT_ID(); INSERT INTO "
	    "reservation_audit (reservation_id, event_id, user_id, action, "
	    "quantity, request_id, txn_id, idempotency_key) VALUES ");
	/* Each audit row finds its reservation by id, event and user: were
	   the ids not consecutive, reservation_id would be NULL and the batch
	   would fail before its COMMIT (strict mode), never point elsewhere. */
	for (i = 0; i < n; i++)
		p = put(p, end, "%s((SELECT id FROM reservations WHERE id = "
		    "@bo_first + %" PRId64 " AND event_id = %" PRId64 " AND "
		    "user_id = %s)%s", i > 0 ? ", " : "", (int64_t)i * inc,
		    it[i]->event_id, it[i]->user_sql, it[i]->audit_sql);
	put(p, end, "; COMMIT");
	if (db_batch(st->db, sql, DB_COMMITS | DB_STATEMENTS, s, 4) == 0) {
		METRIC_INC(group_commits);
		batch_verdict(it, n, GC_COMMITTED, (int64_t)s[0].insert_id, inc);
	} else if (db_fault(st->db) == DB_AMBIGUOUS) {
		/* The batch committed whole or not at all: one look says. */
		switch (txn_resolve(st, it[0]->txn_id, ask_txn, &r)) {
		case TXN_COMMITTED:
			METRIC_INC(group_commits);
			batch_verdict(it, n, GC_COMMITTED, r.id, inc);
			break;
		case TXN_NOT_COMMITTED:
			batch_verdict(it, n, GC_NOT_COMMITTED, 0, 0);
			break;
		case TXN_UNKNOWN:
			batch_verdict(it, n, GC_UNKNOWN, 0, 0);
			break;
		}
	} else {
		db_rollback(st->db);
		batch_verdict(it, n, GC_NOT_COMMITTED, 0, 0);
	}
	db_stmts_free(s, 4);
	free(sql);
}

/*
 * The reservation rendered for a leader, or false when it does not fit a
 * slot (it runs alone then).
 */
static bool
group_item(struct store *st, struct attempt_ctx *c, const char *txn_id,
    struct gc_item *it)
{
	const struct reserve_req	*rq = c->rq;
	struct reservation		*r = &c->res->res;
	char	 now[40], until[48], type[24], unit[24], total[24], *hash;
	char	*user = db_quote(rq->user), *key = db_quote(rq->idem_key);
	char	*rid = db_quote(rq->request_id), *canon;
	bool	 fits;

	canon = rq->idem_key != NULL ? idem_canonical(rq) : NULL;
	hash = canon != NULL ? xasprintf("SHA2(%s, 256)", canon) :
	    xstrdup("NULL");
	fill_row(st, c, r);
	time_sql_datetime(r->created_ms, now, sizeof now);
	sql_values(r, until, type, unit, total);
	it->event_id = rq->event_id;
	snprintf(it->pool, sizeof it->pool, "%s", c->pool);
	it->shards = c->shards;
	it->qty = rq->qty;
	it->admitted = c->admitted;
	snprintf(it->txn_id, sizeof it->txn_id, "%s", txn_id);
	fits = (size_t)snprintf(it->user_sql, sizeof it->user_sql, "%s", user) <
	    sizeof it->user_sql &&
	    (size_t)snprintf(it->row_sql, sizeof it->row_sql, "(%" PRId64
	    ", %s, %" PRId64 ", %s, %s, %s, '%s', %s, %s, '%s', '%s', %s, ",
	    rq->event_id, user, rq->qty, type, unit, total,
	    reservation_status_name(r->status), key, hash, now, now, until) <
	    sizeof it->row_sql &&
	    (size_t)snprintf(it->audit_sql, sizeof it->audit_sql, ", %" PRId64
	    ", %s, '%s', %" PRId64 ", %s, '%s', %s)", rq->event_id, user,
	    rq->hold ? "HOLD" : "CREATE", rq->qty, rid, txn_id, key) <
	    sizeof it->audit_sql;
	free(user);
	free(key);
	free(rid);
	free(canon);
	free(hash);
	return (fits);
}

/*
 * The common path shared: this reservation in a group commit with the
 * others of its event that are committing now (group_commit.h).
 * ATTEMPT_SHORT when it is to run alone (nothing of it committed); when
 * nobody shared, it ran alone here (c->alone), as one_call().
 */
static enum attempt
group_call(struct store *st, struct attempt_ctx *c, int shard,
    const char *txn_id, enum reserve_outcome *out)
{
	struct reserve_result	*res = c->res;
	struct gc_item		 it;
	char			*row[5];
	enum attempt		 a;
	int			 i;

	c->alone = false;
	if (!group_item(st, c, txn_id, &it))
		return (ATTEMPT_SHORT);
	switch (gc_submit(&it, st->conf->reserve_group_leaders, group_run, st)) {
	case GC_COMMITTED:
		for (i = 0; i < 5; i++)
			row[i] = it.event_row[i];
		/* The batch checked the row for every item: committed is
		   committed, and the answer says so whatever this says. */
		if (event_check(c, row) != RESERVE_OK)
			log_warn("group commit: reservation %" PRId64 " sold "
			    "on an event row that refuses it", it.id);
		*out = RESERVE_OK;
		res->res.id = it.id;
		METRIC_INC(group_committed);
		return (ATTEMPT_OK);
	case GC_ALONE:
		/* Holding the lead: the one call, or the batches after. */
		a = st->conf->reserve_in_one_call ? one_call(st, c, shard,
		    txn_id, out) : ATTEMPT_SHORT;
		gc_release();
		c->alone = true;
		return (a);
	case GC_NOT_COMMITTED:
		return (ATTEMPT_SHORT);
	case GC_LEADER_LOST:
		/* Nothing written before it named its session. */
		if (it.leader_session == 0)
			return (ATTEMPT_SHORT);
		if (db_fence_session(st->db, it.leader_session,
		    it.leader_boot_s) == -1)
			log_warn("group commit: fencing the dead leader's "
			    "session: %s", db_errstr(st->db));
		switch (txn_resolve(st, txn_id, ask_txn, &res->res)) {
		case TXN_COMMITTED:
			*out = RESERVE_OK;
			return (ATTEMPT_OK);
		case TXN_NOT_COMMITTED:
			return (ATTEMPT_SHORT);
		case TXN_UNKNOWN:
			break;
		}
		/* FALLTHROUGH */
	case GC_UNKNOWN:
		snprintf(res->detail, sizeof res->detail, "outcome of a group "
		    "commit unknown");
		c->unknown = true;
		*out = RESERVE_UNAVAILABLE;
		return (ATTEMPT_FINAL);
	}
	return (ATTEMPT_SHORT);
}

int
reserve_warm_up(struct store *st)
{
	struct db_stmt	s[2];
	int		rv;

	if (!st->conf->reserve_in_one_call || !db_connected(st->db))
		return (0);
	/* Event 0 does not exist (ids start at 1): REFUSED before any write. */
	rv = db_batch(st->db, "CALL reserve_one_shard(0, '', 1, 0, '', 0, '', "
	    "'CONFIRMED', NULL, NULL, NULL, NULL, NULL, '1970-01-01 00:00:01', "
	    "NULL, 'CREATE', NULL, '')", 0, s, 2);
	db_stmts_free(s, 2);
	if (rv == -1)
		db_rollback(st->db);
	return (rv);
}

/*
 * One whole attempt of the transaction: one call, or when its shard is
 * short, the two batches, which can take the seats from other shards.
 */
static enum attempt
reserve_once(struct store *st, struct attempt_ctx *c, enum reserve_outcome *out)
{
	const struct reserve_req	*rq = c->rq;
	struct reserve_result		*res = c->res;
	char		 txn_id[TXN_ID_LEN + 1], alloc[INVENTORY_ALLOC_MAX];
	int		 shard = (int)(random() % c->shards);
	enum attempt	 a;
	enum inv_result	 inv;

	snprintf(res->res.user, sizeof res->res.user, "%s", rq->user);
	res->res.event_id = rq->event_id;
	res->res.quantity = rq->qty;
	txn_new_id(txn_id);
	c->alone = false;
	if (st->conf->reserve_group_commit && (a = group_call(st, c, shard,
	    txn_id, out)) != ATTEMPT_SHORT)
		return (a);
	txn_new_id(txn_id);
	if (!c->alone && st->conf->reserve_in_one_call && (a = one_call(st, c,
	    shard, txn_id, out)) != ATTEMPT_SHORT)
		return (a);
	txn_new_id(txn_id);
	if ((a = round_trip_1(st, c, shard, alloc, out)) != ATTEMPT_OK)
		return (a);
	if (alloc[0] == '\0' && (inv = inventory_take(st->db, rq->event_id,
	    c->pool, rq->qty, shard, alloc, sizeof alloc, &res->available)) !=
	    INV_OK) {
		db_rollback(st->db);
		*out = inv == INV_SHORT ? RESERVE_SOLD_OUT : store_down(st, res);
		return (inv == INV_ERROR && db_fault_retryable(db_fault(st->db)) ?
		    ATTEMPT_RETRY : ATTEMPT_FINAL);
	}
	if (round_trip_2(st, c, alloc, txn_id, &res->res) == 0)
		return (ATTEMPT_OK);
	return (commit_failed(st, c, txn_id, out));
}

/* The transaction, re-run whole while that is safe. */
static enum reserve_outcome
reserve_txn(struct store *st, struct attempt_ctx *c)
{
	enum reserve_outcome	out = RESERVE_UNAVAILABLE;
	enum attempt		a = ATTEMPT_RETRY;
	enum db_fault		why = DB_OK;
	bool			reclaimed = false;
	int			n;

	for (n = 0; n < TXN_ATTEMPTS && a == ATTEMPT_RETRY; n++) {
		if (n > 0)
			txn_backoff(n, why);
		out = RESERVE_OK;
		a = reserve_once(st, c, &out);
		why = db_fault(st->db);
		/* Sold out, unless holds ran out: reclaim them, try once more. */
		if (out == RESERVE_SOLD_OUT && !reclaimed) {
			reclaimed = true;
			if (holds_sweep(st, c->rq->event_id, RECLAIM_MAX,
			    "lazy-reclaim") > 0) {
				a = ATTEMPT_RETRY;
				why = DB_LOST;
			}
		}
	}
	return (a == ATTEMPT_OK ? RESERVE_OK : out);
}

/* A business refusal, after which a keyed request looks for its twin. */
static bool
refusal(enum reserve_outcome o)
{
	switch (o) {
	case RESERVE_SOLD_OUT:
	case RESERVE_LIMIT:
	case RESERVE_BUSY:
	case RESERVE_NOT_ON_SALE:
	case RESERVE_TOO_MANY:
	case RESERVE_ADMISSION_REQUIRED:
	case RESERVE_NO_EVENT:
		return (true);
	default:
		return (false);
	}
}

/* An idempotency lookup that failed says why in the log's detail. */
static enum reserve_outcome
idem_failed(struct store *st, enum reserve_outcome o,
    struct reserve_result *out)
{
	if (o == RESERVE_UNAVAILABLE || o == RESERVE_FAILED)
		snprintf(out->detail, sizeof out->detail, "idempotency key: %s",
		    *db_errstr(st->db) != '\0' ? db_errstr(st->db) :
		    "its reservation is gone");
	return (o);
}

enum reserve_outcome
reserve(struct store *st, const struct reserve_req *rq,
    struct reserve_result *out)
{
	struct attempt_ctx	c = { .rq = rq, .res = out };
	struct admission	a;
	struct idem_mark	mark;
	enum reserve_outcome	o;

	memset(out, 0, sizeof *out);
	memset(&mark, 0, sizeof mark);
	if (!precheck_memo(st, rq, out, &c) &&
	    (o = precheck(st, rq, out, &c)) != RESERVE_OK)
		goto done;
	/* The memo's path checks both in the gate's round trip (admit()). */
	if (!c.memo && !rate_take(st, rq->user, &out->retry_after_s)) {
		o = RESERVE_RATE_LIMITED;
		goto done;
	}
	c.mark = &mark;
	if ((o = c.memo ? RESERVE_OK : idem_begin(st, rq, &mark)) ==
	    RESERVE_OK) {
		if ((o = admit(st, &c, &a, out)) == RESERVE_OK) {
			o = reserve_txn(st, &c);
			/* Give back only what is known not to have committed. */
			admission_end(st, &c, &a, o != RESERVE_OK && !c.unknown);
			if (o == RESERVE_OK && c.admitted)
				admission_used(st, rq->event_id, c.admission);
		}
		/* A retry of a request that committed is refused first. */
		if (refusal(o))
			o = idem_failed(st, idem_twin(st, rq, o, &out->res),
			    out);
	}
	out->outcome_unknown = o == RESERVE_UNAVAILABLE && c.unknown;
	/* A twin with the same key committed first: answer what it got. */
	if (c.duplicate)
		o = idem_failed(st, idem_twin(st, rq, RESERVE_FAILED,
		    &out->res), out);
	idem_end(st, &mark);
done:
	if (o == RESERVE_ADMISSION_REQUIRED)
		METRIC_INC(queue_refused);
	METRIC_INC(reservations[o == RESERVE_OK ? RES_CONFIRMED :
	    o == RESERVE_SOLD_OUT ? RES_INSUFFICIENT : o == RESERVE_LIMIT ?
	    RES_LIMIT : o == RESERVE_UNAVAILABLE || o == RESERVE_FAILED ?
	    RES_ERROR : RES_CONFLICT]);
	return (o);
}
