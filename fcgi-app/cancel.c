/* cancel.c: the cancel transaction. */
#include "config.h"

#include <inttypes.h>
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

enum attempt { ATTEMPT_OK, ATTEMPT_RETRY, ATTEMPT_FINAL };

/* What the locked row says. */
struct locked_row {
	int64_t	event_id, qty;
	char	user[USER_ID_MAX + 1];
	char	alloc[INVENTORY_ALLOC_MAX];
};

static enum cancel_outcome
failed(struct store *st)
{
	return (db_fault_unavailable(db_fault(st->db)) ? CANCEL_UNAVAILABLE :
	    CANCEL_FAILED);
}

/* START; the row FOR UPDATE. CANCEL_OK when it may be cancelled. */
static enum cancel_outcome
lock_row(struct store *st, int64_t id, const char *owner, struct locked_row *lr)
{
	struct db_res		*res;
	char			**row, sql[256];
	enum cancel_outcome	 o = CANCEL_OK;

	if (db_begin(st->db) == -1)
		return (failed(st));
	snprintf(sql, sizeof sql, "SELECT event_id, user_id, quantity, status, "
	    "shard_alloc FROM reservations WHERE id = %" PRId64 " FOR UPDATE",
	    id);
	if ((res = db_query(st->db, sql)) == NULL)
		return (failed(st));
	/* Another user's reservation does not exist, as far as they know. */
	if ((row = db_res_next(res)) == NULL ||
	    (owner != NULL && strcmp(row[1], owner) != 0))
		o = CANCEL_NOT_FOUND;
	else if (strcmp(row[3], "CANCELLED") == 0)
		o = CANCEL_ALREADY;
	else {
		lr->event_id = strtoll(row[0], NULL, 10);
		snprintf(lr->user, sizeof lr->user, "%s", row[1]);
		lr->qty = strtoll(row[2], NULL, 10);
		snprintf(lr->alloc, sizeof lr->alloc, "%s", row[4]);
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
cancel_writes(struct store *st, int64_t id, const struct locked_row *lr,
    const char *request_id, const char *txn_id)
{
	char	*user = db_quote(lr->user), *rid = db_quote(request_id);
	int	 rv = -1;

	/* Tally before inventory: the same lock order as reserving. */
	if (exec_one(st, xasprintf("UPDATE reservations SET status = "
	    "'CANCELLED', cancelled_at = CURRENT_TIMESTAMP(3) WHERE id = %"
	    PRId64 " AND status = 'CONFIRMED'", id)) == 0 &&
	    exec_one(st, xasprintf("UPDATE user_event_tally SET seats = seats - %"
	    PRId64 " WHERE event_id = %" PRId64 " AND user_id = %s AND seats >= %"
	    PRId64, lr->qty, lr->event_id, user, lr->qty)) == 0 &&
	    inventory_give_back(st->db, lr->event_id, lr->alloc) == INV_OK &&
	    exec_one(st, xasprintf("INSERT INTO reservation_audit "
	    "(reservation_id, event_id, user_id, action, quantity, request_id, "
	    "txn_id) VALUES (%" PRId64 ", %" PRId64 ", %s, 'CANCEL', %" PRId64
	    ", %s, '%s')", id, lr->event_id, user, lr->qty, rid, txn_id)) == 0)
		rv = db_commit(st->db);
	free(user);
	free(rid);
	return (rv);
}

static enum txn_lookup
lookup_txn(struct store *st, const char *txn_id)
{
	struct db_res	*res;
	char		 sql[160];
	enum txn_lookup	 l = TXN_UNKNOWN;

	snprintf(sql, sizeof sql, "SELECT 1 FROM reservation_audit WHERE "
	    "txn_id = '%s'", txn_id);
	if ((res = db_query(st->db, sql)) != NULL) {
		l = db_res_count(res) > 0 ? TXN_COMMITTED : TXN_NOT_COMMITTED;
		db_res_free(res);
	}
	txn_count_lookup(l);
	return (l);
}

static enum attempt
cancel_once(struct store *st, int64_t id, const char *owner,
    const char *request_id, struct locked_row *lr, enum cancel_outcome *out)
{
	char	txn_id[TXN_ID_LEN + 1];

	txn_new_id(txn_id);
	if ((*out = lock_row(st, id, owner, lr)) != CANCEL_OK) {
		db_rollback(st->db);
		return (*out == CANCEL_UNAVAILABLE && db_fault_retryable(
		    db_fault(st->db)) ? ATTEMPT_RETRY : ATTEMPT_FINAL);
	}
	if (cancel_writes(st, id, lr, request_id, txn_id) == 0)
		return (ATTEMPT_OK);
	if (db_fault(st->db) == DB_AMBIGUOUS) {
		*out = CANCEL_UNAVAILABLE;
		switch (lookup_txn(st, txn_id)) {
		case TXN_COMMITTED:
			return (ATTEMPT_OK);
		case TXN_NOT_COMMITTED:
			return (ATTEMPT_RETRY);
		case TXN_UNKNOWN:
			return (ATTEMPT_FINAL);
		}
	}
	/* A guard that held (an UPDATE that changed no row) is a refusal. */
	*out = db_fault(st->db) == DB_OK ? CANCEL_FAILED : failed(st);
	db_rollback(st->db);
	return (db_fault_retryable(db_fault(st->db)) ? ATTEMPT_RETRY :
	    ATTEMPT_FINAL);
}

enum cancel_outcome
cancel_reservation(struct store *st, int64_t id, const char *owner,
    const char *request_id, struct reservation *res, char *detail,
    size_t detaillen)
{
	struct locked_row	lr;
	enum cancel_outcome	out = CANCEL_UNAVAILABLE;
	enum attempt		a = ATTEMPT_RETRY;
	enum db_fault		why = DB_OK;
	int			n;

	memset(&lr, 0, sizeof lr);
	detail[0] = '\0';
	for (n = 0; n < TXN_ATTEMPTS && a == ATTEMPT_RETRY; n++) {
		if (n > 0)
			txn_backoff(n, why);
		a = cancel_once(st, id, owner, request_id, &lr, &out);
		why = db_fault(st->db);
	}
	if (a != ATTEMPT_OK) {
		snprintf(detail, detaillen, "%s", db_fault(st->db) == DB_OK ?
		    "a guard refused the change (tally or shard capacity)" :
		    db_errstr(st->db));
		return (out);
	}
	if (gate_adjust(st->redis, lr.event_id, lr.qty) == -1)
		log_debug("gate counter not adjusted after a cancel: %s",
		    redis_conn_errstr(st->redis));
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
