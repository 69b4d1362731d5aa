/* housekeeper.c: the housekeeping child of the master, and its lease. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "conf.h"
#include "db.h"
#include "holds.h"
#include "housekeeping.h"
#include "log.h"
#include "metrics.h"
#include "redis_conn.h"
#include "redis_lock.h"
#include "store.h"
#include "timeutil.h"
#include "waitroom.h"

#define TICK_MS		1000
#define SWEEP_PER_TICK	500	/* run-out holds expired a second, at most */
/*
 * Waiting rooms move ten times a tick: a room that moved once a second
 * let a second's worth of buyers in at one instant, and their
 * reservations queued behind each other (p99 of ~100 ms at a quarter of
 * capacity, measured); in tenths they arrive spread out.
 */
#define ROOM_STEPS	10

static volatile sig_atomic_t	hk_quit;

static void
on_quit(int sig)
{
	(void)sig;
	hk_quit = 1;
}

/* Hold the lease: take it when free, renew it when ours. */
static bool
lease_hold(struct store *st, bool held, char token[LOCK_TOKEN_LEN + 1])
{
	enum lock_result	r;

	if (held)
		r = redis_lock_renew(st->redis, LEASE_KEY, token, LEASE_TTL_MS);
	else
		r = redis_lock_acquire(st->redis, LEASE_KEY, LEASE_TTL_MS,
		    token);
	if (r == LOCK_ACQUIRED && !held)
		log_info("housekeeping: took the lease");
	if (r != LOCK_ACQUIRED && held)
		log_warn("housekeeping: lost the lease (%s)", r == LOCK_DOWN ?
		    redis_conn_errstr(st->redis) : "expired or taken");
	METRIC_SET(housekeeping_leader, r == LOCK_ACQUIRED ? 1 : 0);
	return (r == LOCK_ACQUIRED);
}

/* One pass; the milliseconds until the next one is due. */
static int64_t
housekeeping_pass(struct store *st)
{
	struct reconcile_stats	s;
	char			err[512];
	int64_t			t0 = time_mono_ms();

	METRIC_INC(housekeeping_passes);
	if (reconcile_gates(st, RECONCILE_TIMER, &s, err, sizeof err) == -1) {
		log_warn("housekeeping: reconcile failed: %s", err);
		s.pending = 0;
	} else if (s.corrected > 0 || s.raced > 0)
		log_info("housekeeping: reconciled %d events in %lld ms, %d "
		    "corrected, %d left for the next pass", s.events,
		    (long long)(time_mono_ms() - t0), s.corrected, s.raced);
	expire_idempotency_keys(st);
	return (reconcile_next_ms(&s, st->conf->reconcile_interval_s));
}

void
housekeeper_main(const struct bo_conf *conf)
{
	struct store	st = { conf, db_new(conf), redis_conn_new(conf) };
	char		token[LOCK_TOKEN_LEN + 1] = "";
	int64_t		next_pass = 0, now;
	bool		held = false, rooms_ok = true;
	unsigned	step = 0;
	struct timespec	tick = { 0, TICK_MS / ROOM_STEPS * 1000000L };

	/* No SA_RESTART: the tick's sleep ends at once on QUIT. */
	child_setup("bo-housekeeper", on_quit, false);
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));
	for (; !hk_quit; step++) {
		/*
		 * Only the lease holder works: it moves the waiting rooms (and
		 * reports them) every step; once a tick it renews the lease,
		 * gives run-out holds' seats back and, when due, reconciles.
		 */
		if (step % ROOM_STEPS == 0) {
			held = lease_hold(&st, held, token);
			if (held && holds_sweep(&st, 0, SWEEP_PER_TICK,
			    "hold-sweeper") == -1)
				log_warn("housekeeping: hold sweep failed: %s",
				    db_errstr(st.db));
			now = time_mono_ms();
			if (held && now >= next_pass)
				next_pass = now + housekeeping_pass(&st);
		}
		/*
		 * A failed listing (database down) waits for the next tick,
		 * so an outage costs one query and one log line a second.
		 */
		if (held && (rooms_ok || step % ROOM_STEPS == 0)) {
			if (!(rooms_ok = waitroom_advance_all(&st) == 0))
				log_warn("waiting rooms not advanced: %s",
				    db_errstr(st.db));
		} else if (!held)
			metrics_queue_clear(0);
		if (!hk_quit)
			nanosleep(&tick, NULL);
	}
	if (held)
		(void)redis_lock_release(st.redis, LEASE_KEY, token);
	METRIC_SET(housekeeping_leader, 0);
	db_free(st.db);
	redis_conn_free(st.redis);
	log_debug("housekeeper stopping");
	exit(0);
}
