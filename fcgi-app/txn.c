/* txn.c: txn ids, retry backoff, and resolving a lost COMMIT. */
#include "config.h"

#include <stdlib.h>
#include <time.h>

#include <stdio.h>

#include "conf.h"
#include "db.h"
#include "metrics.h"
#include "random_hex.h"
#include "store.h"
#include "txn.h"

void
txn_new_id(char id[TXN_ID_LEN + 1])
{
	random_hex(id, TXN_ID_LEN / 2);
}

void
txn_backoff(int attempt, enum db_fault why)
{
	long	max_us, us;

	METRIC_INC(txn_retries);
	if (why == DB_LOST || attempt < 1)
		return;
	/* Jitter keeps two deadlocked transactions from meeting again. */
	max_us = 5000L << (attempt > 6 ? 6 : attempt);
	us = max_us / 2 + random() % (max_us / 2 + 1);
	nanosleep(&(struct timespec){ us / 1000000, (us % 1000000) * 1000 },
	    NULL);
}

/* Did the attempt with this txn id commit? */
static enum txn_lookup
ask_audit(struct store *st, const char *txn_id, void *table)
{
	struct db_res	*res;
	char		 sql[160];
	enum txn_lookup	 l = TXN_UNKNOWN;

	snprintf(sql, sizeof sql, "SELECT 1 FROM %s WHERE txn_id = '%s'",
	    (const char *)table, txn_id);
	if ((res = db_query(st->db, sql)) != NULL) {
		l = db_res_count(res) > 0 ? TXN_COMMITTED : TXN_NOT_COMMITTED;
		db_res_free(res);
	}
	return (l);
}

static long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1000L + ts.tv_nsec / 1000000);
}

enum txn_lookup
txn_resolve(struct store *st, const char *txn_id, txn_ask_fn ask, void *ctx)
{
	enum txn_lookup	l;
	long		deadline = now_ms() + st->conf->txn_lookup_wait_ms;
	long		pause_ms = 50, left;

	while ((l = ask(st, txn_id, ctx)) == TXN_UNKNOWN &&
	    (left = deadline - now_ms()) > 0) {
		if (pause_ms > left)
			pause_ms = left;
		nanosleep(&(struct timespec){ pause_ms / 1000,
		    (pause_ms % 1000) * 1000000 }, NULL);
		if (pause_ms < 400)
			pause_ms *= 2;
	}
	METRIC_INC(txn_lookups[l]);
	return (l);
}

enum txn_result
txn_run(struct store *st, const struct txn_job *job)
{
	char		txn_id[TXN_ID_LEN + 1];
	enum txn_step	step = STEP_AGAIN;
	enum db_fault	why = DB_OK;
	int		n;

	for (n = 0; n < TXN_ATTEMPTS && step == STEP_AGAIN; n++) {
		if (n > 0)
			txn_backoff(n, why);
		txn_new_id(txn_id);
		if ((step = job->once(st, job->ctx, txn_id)) == STEP_AGAIN)
			why = db_fault(st->db);
		if (step != STEP_LOST_COMMIT)
			continue;
		switch (txn_resolve(st, txn_id, ask_audit,
		    (void *)job->audit_table)) {
		case TXN_COMMITTED:
			step = STEP_COMMITTED;
			break;
		case TXN_NOT_COMMITTED:
			step = STEP_AGAIN;
			why = DB_LOST;
			break;
		case TXN_UNKNOWN:
			return (TXN_LOST);
		}
	}
	return (step == STEP_COMMITTED ? TXN_DONE : step == STEP_STOP ?
	    TXN_STOPPED : TXN_GAVE_UP);
}
