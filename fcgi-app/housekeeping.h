/*
 * housekeeping.h: periodic upkeep, run by one instance at a time.
 *
 * After a worker has answered a request it may check whether upkeep is
 * due (every reconcile_interval_s). The instance that wins the lease lock
 * bo:lease:housekeeping (SET NX PX, token, expiring by itself) reconciles
 * the gate counters with the database and forgets idempotency keys older
 * than idempotency_ttl_s. No client waits for it.
 */
#ifndef BO_HOUSEKEEPING_H
#define BO_HOUSEKEEPING_H

#include <stddef.h>

struct app;

/*
 * Set every ACTIVE event's gate counter to the database's count of unsold
 * seats. *events gets how many were looked at, *corrected how many were
 * off (or missing). 0, or -1 with err when the DB or Redis is unreachable.
 */
int	 reconcile_gates(struct app *, int *events, int *corrected, char *err,
	    size_t errlen) __attribute__((warn_unused_result));
/* Run the upkeep if it is due and this worker wins the lease. */
void	 housekeeping_tick(struct app *);

#endif
