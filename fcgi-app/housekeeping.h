/*
 * housekeeping.h: periodic upkeep, and the child process that runs it.
 *
 * Each master forks one housekeeping child beside its workers. The child
 * runs on a 1-second tick whether or not requests arrive. Of all the
 * instances' children, the one that holds the lease bo:lease:housekeeping
 * (SET NX PX with a token, renewed every tick, LEASE_TTL_MS) does the
 * work; when its holder dies, the lease expires and another child takes it
 * within LEASE_TTL_MS plus a tick. The work, every reconcile_interval_s:
 *   - reconcile every ACTIVE event's gate counter with the database (a
 *     false "sold out" lasts at most one interval plus LOW_PERSIST_MS, 1 s:
 *     a low counter must show at two passes; see redis_gate.h);
 *   - forget idempotency keys older than idempotency_ttl_s.
 */
#ifndef BO_HOUSEKEEPING_H
#define BO_HOUSEKEEPING_H

#include <stddef.h>
#include <stdint.h>

struct bo_conf;
struct store;

#define LEASE_KEY	"bo:lease:housekeeping"
#define LEASE_TTL_MS	5000

struct reconcile_stats {
	int	events;		/* looked at */
	int	corrected;	/* counters set (off, or missing) */
	int	raced;		/* skipped: a give-back raced the pass */
	int	pending;	/* low pools, to look at again */
};

/*
 * Who runs a pass. RECONCILE_TIMER: housekeeping; a counter below the
 * database is raised only when passes LOW_PERSIST_MS or more apart all
 * found it low, by the smallest deficit (an admission may stay in flight
 * longer than any one look). RECONCILE_NOW: an operator; a low counter
 * that a second look 200 ms later finds unchanged is set at once.
 */
enum reconcile_mode { RECONCILE_TIMER, RECONCILE_NOW };

/*
 * Set every ACTIVE event's gate counter to the database's unsold seats,
 * unless an increment raced the read (tried again, twice, then left to the
 * next pass); low counters as mode says. 0, or -1 (the detail in the db or
 * redis handle, in err).
 */
int	 reconcile_gates(struct store *, enum reconcile_mode,
	    struct reconcile_stats *, char *err, size_t errlen)
	    __attribute__((warn_unused_result));
/*
 * Milliseconds until the next pass after one that ended with s: a pool left
 * low is looked at again as soon as its give-back may be due
 * (LOW_PERSIST_MS), not a whole interval_s later; else interval_s.
 */
int64_t	 reconcile_next_ms(const struct reconcile_stats *s, int interval_s);
/* Forget idempotency keys older than idempotency_ttl_s (1,000 a pass). */
void	 expire_idempotency_keys(struct store *);

/* The housekeeping child: runs until SIGQUIT or SIGTERM; never returns. */
void	 housekeeper_main(const struct bo_conf *) __attribute__((noreturn));

#endif
