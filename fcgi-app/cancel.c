/* cancel.c: the release transaction: cancel, and the expiry of a hold. */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cancel.h"
#include "db.h"
#include "inventory.h"
#include "log.h"
#include "redis_conn.h"
#include "redis_gate.h"
#include "store.h"
#include "txn.h"
#include "xmalloc.h"

enum kind { KIND_CANCEL, KIND_EXPIRE };

/* One release: what it may do, and what the locked row says. */
struct release {
	int64_t		 id;
	const char	*owner;		/* NULL: anyone's */
	const char	*request_id;
	enum kind	 kind;		/* a cancel of a run-out hold expires it */
	int64_t		 event_id, qty;
	char		 user[USER_ID_MAX + 1];
	char		 alloc[INVENTORY_ALLOC_MAX];
	enum cancel_outcome out;	/* why an attempt stopped */
};

static enum cancel_outcome
failed(struct store *st)
{
	return (db_fault_unavailable(db_fault(st->db)) ? CANCEL_UNAVAILABLE :
	    CANCEL_FAILED);
}

/* What a row in this state allows; KIND_CANCEL may turn into an expiry. */
static enum cancel_outcome
judge(struct release *r, const char *status, bool run_out)
{
	bool	held = strcmp(status, "HELD") == 0;

	if (r->kind == KIND_EXPIRE)
		return (held && run_out ? CANCEL_OK : CANCEL_NOTHING);
	if (strcmp(status, "CANCELLED") == 0)
		return (CANCEL_ALREADY);
	if (strcmp(status, "EXPIRED") == 0)
		return (CANCEL_EXPIRED);
	if (held && run_out)
		r->kind = KIND_EXPIRE;
	return (CANCEL_OK);
}

/* START; the row FOR UPDATE. CANCEL_OK when it may be released. */
static enum cancel_outcome
lock_row(struct store *st, struct release *r)
{
	struct db_res		*res;
	char			**row, sql[320];
	enum cancel_outcome	 o;

	if (db_begin(st->db) == -1)
		return (failed(st));
	snprintf(sql, sizeof sql, "SELECT event_id, user_id, quantity, status, "
	    "shard_alloc, COALESCE(expires_at <= UTC_TIMESTAMP(3), 0) FROM "
	    "reservations WHERE id = %" PRId64 " FOR UPDATE", r->id);
	if ((res = db_query(st->db, sql)) == NULL)
		return (failed(st));
	/* Another user's reservation does not exist, as far as they know. */
	if ((row = db_res_next(res)) == NULL ||
	    (r->owner != NULL && strcmp(row[1], r->owner) != 0))
		o = CANCEL_NOT_FOUND;
	else if ((o = judge(r, row[3], strcmp(row[5], "1") == 0)) ==
	    CANCEL_OK) {
		r->event_id = strtoll(row[0], NULL, 10);
		snprintf(r->user, sizeof r->user, "%s", row[1]);
		r->qty = strtoll(row[2], NULL, 10);
		snprintf(r->alloc, sizeof r->alloc, "%s", row[4]);
	}
	db_res_free(res);
	return (o);
}

/* A statement that must change exactly one row. */
static int
exec_one(struct store *st, char *sql)
{
	int	rv = db_exec(st->db, sql);

	free(sql);
	return (rv == 0 && db_affected(st->db) == 1 ? 0 : -1);
}

/* Everything after the lock, COMMIT included. 0, or -1 (db_fault). */
static int
release_writes(struct store *st, const struct release *r, const char *txn_id)
{
	char	*user = db_quote(r->user), *rid = db_quote(r->request_id);
	int	 rv = -1;

	/* Tally before inventory: the same lock order as reserving. */
	if (exec_one(st, r->kind == KIND_CANCEL ? xasprintf("UPDATE "
	    "reservations SET status = 'CANCELLED', cancelled_at = "
	    "CURRENT_TIMESTAMP(3) WHERE id = %" PRId64 " AND status IN "
	    "('CONFIRMED', 'HELD')", r->id) : xasprintf("UPDATE reservations "
	    "SET status = 'EXPIRED' WHERE id = %" PRId64 " AND status = 'HELD'",
	    r->id)) == 0 &&
	    exec_one(st, xasprintf("UPDATE user_event_tally SET seats = seats - %"
	    PRId64 " WHERE event_id = %" PRId64 " AND user_id = %s AND seats >= %"
	    PRId64, r->qty, r->event_id, user, r->qty)) == 0 &&
	    inventory_give_back(st->db, r->event_id, r->alloc) == INV_OK &&
	    exec_one(st, xasprintf("INSERT INTO reservation_audit "
	    "(reservation_id, event_id, user_id, action, quantity, request_id, "
	    "txn_id) VALUES (%" PRId64 ", %" PRId64 ", %s, '%s', %" PRId64
	    ", %s, '%s')", r->id, r->event_id, user, r->kind == KIND_CANCEL ?
	    "CANCEL" : "EXPIRE", r->qty, rid, txn_id)) == 0)
		rv = db_commit(st->db);
	free(user);
	free(rid);
	return (rv);
}

/* One attempt; r->out says why when it stops. */
static enum txn_step
release_once(struct store *st, void *ctx, const char *txn_id)
{
	struct release	*r = ctx;

	if ((r->out = lock_row(st, r)) != CANCEL_OK) {
		db_rollback(st->db);
		return (r->out == CANCEL_UNAVAILABLE && db_fault_retryable(
		    db_fault(st->db)) ? STEP_AGAIN : STEP_STOP);
	}
	if (release_writes(st, r, txn_id) == 0)
		return (STEP_COMMITTED);
	if (db_fault(st->db) == DB_AMBIGUOUS)
		return (STEP_LOST_COMMIT);
	/* A guard that held (an UPDATE that changed no row) is a refusal. */
	r->out = db_fault(st->db) == DB_OK ? CANCEL_FAILED : failed(st);
	db_rollback(st->db);
	return (db_fault_retryable(db_fault(st->db)) ? STEP_AGAIN : STEP_STOP);
}

/* The attempts of one release; on success the gate gets the seats back. */
static enum cancel_outcome
release(struct store *st, struct release *r, char *detail, size_t detaillen)
{
	struct txn_job	job = { release_once, r, "reservation_audit" };
	char		pool[CLASS_CODE_MAX + 1];

	detail[0] = '\0';
	switch (txn_run(st, &job)) {
	case TXN_DONE:
		break;
	case TXN_STOPPED:
		if (r->out == CANCEL_FAILED)
			snprintf(detail, detaillen, "%s", db_fault(st->db) ==
			    DB_OK ? "a guard refused the change (tally or shard "
			    "capacity)" : db_errstr(st->db));
		return (r->out);
	case TXN_GAVE_UP:
	case TXN_LOST:
		snprintf(detail, detaillen, "%s", db_errstr(st->db));
		return (failed(st) == CANCEL_FAILED ? CANCEL_FAILED :
		    CANCEL_UNAVAILABLE);
	}
	inventory_alloc_pool(r->alloc, pool);
	if (gate_adjust(st->redis, r->event_id, pool, r->qty) == -1)
		log_debug("gate counter not adjusted after a release: %s",
		    redis_conn_errstr(st->redis));
	return (CANCEL_OK);
}

enum cancel_outcome
cancel_reservation(struct store *st, int64_t id, const char *owner,
    const char *request_id, struct reservation *res, char *detail,
    size_t detaillen)
{
	struct release		r = { .id = id, .owner = owner,
				    .request_id = request_id,
				    .kind = KIND_CANCEL };
	enum cancel_outcome	o;

	if ((o = release(st, &r, detail, detaillen)) != CANCEL_OK)
		return (o);
	if (r.kind == KIND_EXPIRE)
		return (CANCEL_EXPIRED);
	switch (reservation_load(st->db, id, res)) {
	case LOOKUP_FOUND:
		return (CANCEL_OK);
	case LOOKUP_NONE:
		snprintf(detail, detaillen, "cancelled row %" PRId64 " vanished",
		    id);
		return (CANCEL_FAILED);
	case LOOKUP_ERROR:
		break;
	}
	snprintf(detail, detaillen, "%s", db_errstr(st->db));
	return (CANCEL_UNAVAILABLE);
}

enum cancel_outcome
hold_expire(struct store *st, int64_t id, const char *request_id,
    char *detail, size_t detaillen)
{
	struct release	r = { .id = id, .request_id = request_id,
			    .kind = KIND_EXPIRE };

	return (release(st, &r, detail, detaillen));
}
