/* txn.c: txn ids, retry backoff and lookup accounting. */
#include "config.h"

#include <stdlib.h>
#include <time.h>

#include "metrics.h"
#include "random_hex.h"
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

void
txn_count_lookup(enum txn_lookup l)
{
	METRIC_INC(txn_lookups[l]);
}
