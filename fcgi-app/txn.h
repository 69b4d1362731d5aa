/*
 * txn.h: what every whole-transaction retry loop shares.
 *
 * A domain transaction (reserve, cancel, event create/update/delete) runs
 * as a function that can be re-run from START: on deadlock, lock wait
 * timeout, or a connection lost before COMMIT was sent, it is run again on
 * a fresh transaction, at most TXN_ATTEMPTS times, with jittered backoff.
 * Each attempt carries its own txn id, written into the audit row in the
 * same transaction, so that an attempt whose COMMIT answer was lost can be
 * looked up rather than guessed.
 */
#ifndef BO_TXN_H
#define BO_TXN_H

#include <stdbool.h>

#include "db.h"

#define TXN_ATTEMPTS	3
#define TXN_ID_LEN	32	/* hex digits */

/* A fresh txn id. */
void	 txn_new_id(char id[TXN_ID_LEN + 1]);
/*
 * Before attempt n (1, 2, ...): a lost connection is retried at once (the
 * next one is fresh); lock conflicts back off 5 ms x 2^n, jittered.
 */
void	 txn_backoff(int attempt, enum db_fault why);

/* How an ambiguous COMMIT was resolved. */
enum txn_lookup { TXN_COMMITTED, TXN_NOT_COMMITTED, TXN_UNKNOWN };

struct store;

/* One look for a txn id's audit row; TXN_UNKNOWN if the database failed. */
typedef enum txn_lookup (*txn_ask_fn)(struct store *, const char *txn_id,
    void *ctx);

/*
 * Ask until the answer is known or conf->txn_lookup_wait_ms has passed: a
 * restarting server refuses connections for a second or two, and a guess
 * either way sells a seat twice or loses a sale. The first question fences
 * the lost session (db.h), so a "not committed" holds. Counts the final
 * answer in the metrics.
 */
enum txn_lookup	 txn_resolve(struct store *, const char *txn_id, txn_ask_fn,
    void *ctx);

/* What one attempt did. */
enum txn_step {
	STEP_COMMITTED,		/* done */
	STEP_AGAIN,		/* rolled back; may run again (db_fault says) */
	STEP_STOP,		/* rolled back for good; the job's ctx says why */
	STEP_LOST_COMMIT	/* COMMIT sent, its answer lost */
};

/* A transaction that writes its txn id into audit_table in the same txn. */
struct txn_job {
	enum txn_step	(*once)(struct store *, void *ctx, const char *txn_id);
	void		*ctx;
	const char	*audit_table;
};

enum txn_result {
	TXN_DONE,		/* committed (perhaps learned by the lookup) */
	TXN_STOPPED,		/* once() stopped it */
	TXN_GAVE_UP,		/* every attempt failed; db_fault() says why */
	TXN_LOST		/* a lost COMMIT whose outcome could not be learned */
};

/*
 * Run job->once up to TXN_ATTEMPTS times, a fresh txn id each time, with
 * backoff; after STEP_LOST_COMMIT resolve the txn id (txn_resolve):
 * committed is TXN_DONE, not committed runs again.
 */
enum txn_result txn_run(struct store *, const struct txn_job *);

#endif
