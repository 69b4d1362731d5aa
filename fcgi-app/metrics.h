/*
 * metrics.h: counters shared by the master and every worker.
 *
 * The master maps one anonymous shared page set before it forks, so every
 * worker increments the same counters. Increments are relaxed atomics: no
 * lock on the hot path, and a scrape may see a request counted in one
 * series a moment before another, which Prometheus tolerates.
 *
 * Before metrics_init() (unit tests, --check-config) every METRIC_* call
 * is a no-op.
 */
#ifndef BO_METRICS_H
#define BO_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct route;

#define METRICS_MAX_ROUTES	32	/* route table size, plus "unmatched" */
#define METRICS_NSTATUS		16
#define METRICS_NBUCKETS	13

enum res_outcome {
	RES_CONFIRMED = 0, RES_INSUFFICIENT, RES_LIMIT, RES_CONFLICT,
	RES_ERROR, RES_NOUTCOMES
};

struct metrics {
	_Atomic uint64_t	requests[METRICS_MAX_ROUTES][METRICS_NSTATUS];
	_Atomic uint64_t	latency[METRICS_MAX_ROUTES][METRICS_NBUCKETS];
	_Atomic uint64_t	latency_sum_us[METRICS_MAX_ROUTES];
	_Atomic uint64_t	reservations[RES_NOUTCOMES];
	_Atomic uint64_t	gate_admits;
	_Atomic uint64_t	gate_rejects;
	_Atomic uint64_t	gate_compensations;
	_Atomic uint64_t	gate_rebuilds;
	_Atomic uint64_t	gate_bypass;	/* Redis down: DB path */
	_Atomic uint64_t	lock_acquired;
	_Atomic uint64_t	lock_busy;	/* contended: caller backed off */
	_Atomic uint64_t	lock_expired;	/* gone before release */
	_Atomic uint64_t	cache_hits;
	_Atomic uint64_t	cache_misses;
	_Atomic uint64_t	db_errors;
	_Atomic uint64_t	db_reconnects;
	_Atomic uint64_t	redis_errors;
	_Atomic uint64_t	redis_reconnects;
	_Atomic int64_t		workers_alive;
	_Atomic uint64_t	worker_respawns;
};

extern struct metrics	*metrics;

#define METRIC_ADD(field, n) do {					\
	if (metrics != NULL)						\
		atomic_fetch_add_explicit(&metrics->field, (n),		\
		    memory_order_relaxed);				\
} while (0)
#define METRIC_INC(field)	METRIC_ADD(field, 1)

/* Map the shared page; fatal when the kernel refuses. Call before fork. */
void	 metrics_init(void);
/* Count one request: route index (n = unmatched), status, duration. */
void	 metrics_request(size_t route_index, int status, int64_t us);
/*
 * The Prometheus text exposition of every counter. Returns a new string
 * the caller frees; *len gets its length.
 */
char	*metrics_render(const struct route *, size_t nroutes, size_t *len);

#endif
