/* holds.c: confirming holds, and sweeping the ones that ran out. */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cancel.h"
#include "db.h"
#include "holds.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "txn.h"
#include "xmalloc.h"

struct confirm {
	int64_t			 id;
	const char		*owner;
	const char		*payment_ref;
	const char		*request_id;
	enum confirm_outcome	 out;
	bool			 run_out;	/* a HELD past its time */
};

static enum confirm_outcome
failed(struct store *st)
{
	return (db_fault_unavailable(db_fault(st->db)) ? CONFIRM_UNAVAILABLE :
	    CONFIRM_FAILED);
}

/* What the locked row is. */
enum hold_state {
	HOLD_LIVE, HOLD_CONFIRMED, HOLD_RUN_OUT, HOLD_EXPIRED, HOLD_CANCELLED,
	HOLD_MISSING, HOLD_ERROR
};

/* START; the row FOR UPDATE, judged by the database's clock. */
static enum hold_state
lock_hold(struct store *st, const struct confirm *c, char user[USER_ID_MAX + 1],
    int64_t *event_id, int64_t *qty)
{
	struct db_res		*res;
	char			**row, sql[320];
	enum hold_state		 h;

	if (db_begin(st->db) == -1)
		return (HOLD_ERROR);
	snprintf(sql, sizeof sql, "SELECT user_id, status, COALESCE(expires_at "
	    "<= UTC_TIMESTAMP(3), 0), event_id, quantity FROM reservations "
	    "WHERE id = %" PRId64 " FOR UPDATE", c->id);
	if ((res = db_query(st->db, sql)) == NULL)
		return (HOLD_ERROR);
	if ((row = db_res_next(res)) == NULL ||
	    (c->owner != NULL && strcmp(row[0], c->owner) != 0))
		h = HOLD_MISSING;
	else if (strcmp(row[1], "HELD") != 0)
		h = strcmp(row[1], "CONFIRMED") == 0 ? HOLD_CONFIRMED :
		    strcmp(row[1], "EXPIRED") == 0 ? HOLD_EXPIRED :
		    HOLD_CANCELLED;
	else if (strcmp(row[2], "1") == 0)
		h = HOLD_RUN_OUT;
	else {
		h = HOLD_LIVE;
		snprintf(user, USER_ID_MAX + 1, "%s", row[0]);
		*event_id = strtoll(row[3], NULL, 10);
		*qty = strtoll(row[4], NULL, 10);
	}
	db_res_free(res);
	return (h);
}

/* The answer to a row that is not a live hold. */
static enum confirm_outcome
outcome_of(enum hold_state h)
{
	switch (h) {
	case HOLD_CONFIRMED:
		return (CONFIRM_OK);	/* confirming twice is not an error */
	case HOLD_RUN_OUT:
	case HOLD_EXPIRED:
		return (CONFIRM_EXPIRED);
	case HOLD_CANCELLED:
		return (CONFIRM_CANCELLED);
	case HOLD_MISSING:
		return (CONFIRM_NOT_FOUND);
	case HOLD_LIVE:
	case HOLD_ERROR:
		break;
	}
	return (CONFIRM_FAILED);
}

/* CONFIRMED, and the audit row, then COMMIT. 0 or -1 (db_fault). */
static int
confirm_writes(struct store *st, const struct confirm *c, const char *user,
    int64_t event_id, int64_t qty, const char *txn_id)
{
	char	*u = db_quote(user), *ref = db_quote(c->payment_ref);
	char	*rid = db_quote(c->request_id), *sql;
	int	 rv;

	sql = xasprintf("UPDATE reservations SET status = 'CONFIRMED', "
	    "confirmed_at = CURRENT_TIMESTAMP(3), payment_ref = %s WHERE id = %"
	    PRId64 " AND status = 'HELD'", ref, c->id);
	rv = db_exec(st->db, sql) == 0 && db_affected(st->db) == 1 ? 0 : -1;
	free(sql);
	sql = xasprintf("INSERT INTO reservation_audit (reservation_id, "
	    "event_id, user_id, action, quantity, request_id, txn_id) VALUES (%"
	    PRId64 ", %" PRId64 ", %s, 'CONFIRM', %" PRId64 ", %s, '%s')", c->id,
	    event_id, u, qty, rid, txn_id);
	if (rv == 0 && db_exec(st->db, sql) == 0)
		rv = db_commit(st->db);
	else
		rv = -1;
	free(sql);
	free(u);
	free(ref);
	free(rid);
	return (rv);
}

static enum txn_step
confirm_once(struct store *st, void *ctx, const char *txn_id)
{
	struct confirm	*c = ctx;
	char		 user[USER_ID_MAX + 1];
	int64_t		 event_id = 0, qty = 0;
	enum hold_state	 h;

	if ((h = lock_hold(st, c, user, &event_id, &qty)) != HOLD_LIVE) {
		db_rollback(st->db);
		if (h == HOLD_ERROR) {
			c->out = failed(st);
			return (db_fault_retryable(db_fault(st->db)) ?
			    STEP_AGAIN : STEP_STOP);
		}
		c->run_out = h == HOLD_RUN_OUT;
		c->out = outcome_of(h);
		return (STEP_STOP);
	}
	if (confirm_writes(st, c, user, event_id, qty, txn_id) == 0)
		return (STEP_COMMITTED);
	if (db_fault(st->db) == DB_AMBIGUOUS)
		return (STEP_LOST_COMMIT);
	c->out = failed(st);
	db_rollback(st->db);
	return (db_fault_retryable(db_fault(st->db)) ? STEP_AGAIN : STEP_STOP);
}

enum confirm_outcome
hold_confirm(struct store *st, int64_t id, const char *owner,
    const char *payment_ref, const char *request_id, struct reservation *res,
    char *detail, size_t detaillen)
{
	struct confirm	c = { id, owner, payment_ref, request_id, CONFIRM_OK,
			    false };
	struct txn_job	job = { confirm_once, &c, "reservation_audit" };

	detail[0] = '\0';
	switch (txn_run(st, &job)) {
	case TXN_DONE:
		break;
	case TXN_STOPPED:
		/* A run-out hold gives its seats back now, not at the sweep. */
		if (c.run_out && hold_expire(st, id, request_id, detail,
		    detaillen) == CANCEL_UNAVAILABLE)
			log_info("hold %" PRId64 " ran out; the sweeper will "
			    "return its seats: %s", id, detail);
		if (c.out != CONFIRM_OK)
			return (c.out);
		break;
	case TXN_GAVE_UP:
	case TXN_LOST:
		snprintf(detail, detaillen, "%s", db_errstr(st->db));
		return (failed(st) == CONFIRM_FAILED ? CONFIRM_FAILED :
		    CONFIRM_UNAVAILABLE);
	}
	switch (reservation_load(st->db, id, res)) {
	case LOOKUP_FOUND:
		return (CONFIRM_OK);
	case LOOKUP_NONE:
		return (CONFIRM_NOT_FOUND);
	case LOOKUP_ERROR:
		break;
	}
	snprintf(detail, detaillen, "%s", db_errstr(st->db));
	return (CONFIRM_UNAVAILABLE);
}

int
holds_sweep(struct store *st, int64_t event_id, int limit, const char *who)
{
	struct db_res	*res;
	char		**row, sql[256], where[64] = "", detail[256];
	int		 n = 0;

	if (event_id > 0)
		snprintf(where, sizeof where, " AND event_id = %" PRId64,
		    event_id);
	snprintf(sql, sizeof sql, "SELECT id FROM reservations WHERE status = "
	    "'HELD' AND expires_at <= UTC_TIMESTAMP(3)%s ORDER BY expires_at "
	    "LIMIT %d", where, limit);
	if ((res = db_query(st->db, sql)) == NULL)
		return (-1);
	while ((row = db_res_next(res)) != NULL)
		if (hold_expire(st, strtoll(row[0], NULL, 10), who, detail,
		    sizeof detail) == CANCEL_OK) {
			METRIC_INC(holds_expired);
			n++;
		}
	db_res_free(res);
	return (n);
}
