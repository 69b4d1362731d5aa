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
#define METRICS_MAX_QUEUES	16	/* waiting rooms reported, by event id */

enum res_outcome {
	RES_CONFIRMED = 0, RES_INSUFFICIENT, RES_LIMIT, RES_CONFLICT,
	RES_ERROR, RES_NOUTCOMES
};

/*
 * Every plain counter and gauge, declared once: the struct's fields and
 * the Prometheus renderer both come from this table.
 * X(field, type, name, help): type is COUNTER or GAUGE.
 */
#define METRICS_TABLE(X)						\
	X(gate_admits, COUNTER, "boxoffice_gate_admits_total",		\
	    "Admissions by the Redis gate.")				\
	X(gate_rejects, COUNTER, "boxoffice_gate_rejects_total",	\
	    "Requests the gate turned away (sold out) without touching "\
	    "the database.")						\
	X(gate_compensations, COUNTER,					\
	    "boxoffice_gate_compensations_total",			\
	    "Admissions given back after the database step did not "	\
	    "commit.")							\
	X(gate_rebuilds, COUNTER, "boxoffice_gate_rebuilds_total",	\
	    "Gate counters rebuilt from the database.")			\
	X(gate_bypass, COUNTER, "boxoffice_gate_bypass_total",		\
	    "Reservations that took the database path because Redis "	\
	    "was unavailable.")						\
	X(gate_corrections, COUNTER, "boxoffice_gate_corrections_total",\
	    "Gate counters set by a reconcile pass (off, or missing).")	\
	X(lock_acquired, COUNTER, "boxoffice_lock_acquired_total",	\
	    "Redis locks acquired.")					\
	X(lock_busy, COUNTER, "boxoffice_lock_busy_total",		\
	    "Redis lock attempts that found the lock held (the caller " \
	    "did not wait).")						\
	X(lock_expired, COUNTER, "boxoffice_lock_expired_total",	\
	    "Redis locks that timed out before their holder released "	\
	    "them.")							\
	X(cache_hits, COUNTER, "boxoffice_cache_hits_total",		\
	    "Event cache hits.")					\
	X(cache_misses, COUNTER, "boxoffice_cache_misses_total",	\
	    "Event cache misses.")					\
	X(event_memo_hits, COUNTER, "boxoffice_event_memo_hits_total",	\
	    "Reservations judged on the event the worker remembered, "	\
	    "found current by the gate's script (one Redis round trip "	\
	    "for the event and the gate).")				\
	X(db_errors, COUNTER, "boxoffice_db_errors_total",		\
	    "Database errors.")						\
	X(db_reconnects, COUNTER, "boxoffice_db_reconnects_total",	\
	    "Database reconnects.")					\
	X(db_fences, COUNTER, "boxoffice_db_fences_total",		\
	    "Database sessions lost with a statement in flight that "	\
	    "were killed and waited for before going on.")		\
	X(group_commits, COUNTER, "boxoffice_group_commits_total",	\
	    "Transactions that committed several reservations at once "	\
	    "(reserve_group_commit).")					\
	X(group_committed, COUNTER,					\
	    "boxoffice_group_committed_reservations_total",		\
	    "Reservations committed in a group commit.")		\
	X(group_rollbacks, COUNTER, "boxoffice_group_rollbacks_total",	\
	    "Group commits rolled back whole (an item refused, a fault):"	\
	    " their reservations ran alone.")				\
	X(txn_retries, COUNTER, "boxoffice_txn_retries_total",		\
	    "Transactions run again from the start (deadlock, lock "	\
	    "wait timeout, connection lost before COMMIT).")		\
	X(redis_errors, COUNTER, "boxoffice_redis_errors_total",	\
	    "Redis errors (each sends its request down the database "	\
	    "path).")							\
	X(redis_reconnects, COUNTER, "boxoffice_redis_reconnects_total",\
	    "Redis reconnects.")					\
	X(housekeeping_passes, COUNTER,					\
	    "boxoffice_housekeeping_passes_total",			\
	    "Housekeeping passes run by this instance.")		\
	X(housekeeping_leader, GAUGE, "boxoffice_housekeeping_leader",	\
	    "1 while this instance holds the housekeeping lease.")	\
	X(queue_joined, COUNTER, "boxoffice_queue_joined_total",	\
	    "Buyers who joined a waiting room (a second join is not "	\
	    "counted).")						\
	X(queue_admitted, COUNTER, "boxoffice_queue_admitted_total",	\
	    "Admission tokens handed out by waiting rooms.")		\
	X(queue_refused, COUNTER, "boxoffice_queue_refused_total",	\
	    "Reservations refused for want of a valid admission token.")\
	X(holds_expired, COUNTER, "boxoffice_holds_expired_total",	\
	    "Holds that ran out and gave their seats back.")		\
	X(rate_limited, COUNTER, "boxoffice_rate_limited_total",	\
	    "Reservations refused by the per-user rate limit (429).")	\
	X(workers_alive, GAUGE, "boxoffice_workers_alive",		\
	    "Workers running now.")					\
	X(worker_respawns, COUNTER, "boxoffice_worker_respawns_total",	\
	    "Workers started to replace one that exited.")

struct metrics {
	_Atomic uint64_t	requests[METRICS_MAX_ROUTES][METRICS_NSTATUS];
	_Atomic uint64_t	latency[METRICS_MAX_ROUTES][METRICS_NBUCKETS];
	_Atomic uint64_t	latency_sum_us[METRICS_MAX_ROUTES];
	_Atomic uint64_t	reservations[RES_NOUTCOMES];
	/* Lost COMMIT answers, by what the lookup found (enum txn_lookup). */
	_Atomic uint64_t	txn_lookups[3];
	/* Waiting rooms, as the housekeeping lease holder last moved them. */
	struct {
		_Atomic int64_t	event_id;	/* 0: slot unused */
		_Atomic int64_t	serving;
		_Atomic int64_t	issued;
	} queues[METRICS_MAX_QUEUES];
#define METRIC_FIELD(field, type, name, help)	_Atomic int64_t field;
	METRICS_TABLE(METRIC_FIELD)
#undef METRIC_FIELD
};

extern struct metrics	*metrics;

#define METRIC_ADD(field, n) do {					\
	if (metrics != NULL)						\
		atomic_fetch_add_explicit(&metrics->field, (n),		\
		    memory_order_relaxed);				\
} while (0)
#define METRIC_INC(field)	METRIC_ADD(field, 1)
#define METRIC_SET(field, v) do {					\
	if (metrics != NULL)						\
		atomic_store_explicit(&metrics->field, (v),		\
		    memory_order_relaxed);				\
} while (0)

/* Map the shared page; fatal when the kernel refuses. Call before fork. */
void	 metrics_init(void);
/* Waiting room slot i: its event, serving number and numbers handed out. */
void	 metrics_queue(size_t i, int64_t event_id, int64_t serving,
	    int64_t issued);
/* Empty the slots from i on (rooms that closed). */
void	 metrics_queue_clear(size_t from);
/* Count one request: route index (n = unmatched), status, duration. */
void	 metrics_request(size_t route_index, int status, int64_t us);
/*
 * The Prometheus text exposition of every counter. Returns a new string
 * the caller frees; *len gets its length.
 */
char	*metrics_render(const struct route *, size_t nroutes, size_t *len);

#endif
