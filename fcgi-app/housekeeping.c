/* housekeeping.c: gate reconciliation and idempotency key expiry. */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "db.h"
#include "housekeeping.h"
#include "inventory.h"
#include "log.h"
#include "metrics.h"
#include "redis_conn.h"
#include "redis_gate.h"
#include "store.h"
#include "timeutil.h"
#include "xmalloc.h"

#define CHUNK		500	/* events per round trip */
#define RACE_RETRIES	2
#define SECOND_LOOK_MS	200	/* longer than a reservation transaction */
#define LOW_MAX		64	/* low pools remembered across passes */
#define LOW_PERSIST_MS	1000	/* longer than a reservation takes when all
				   is well */

/*
 * Low counters. A counter below the database may only show admissions in
 * flight, and how long one stays in flight has no bound a look can wait
 * out: under group commit a reservation waits for the batch before its
 * own, and a stalled leader holds its followers (in CI a 200-ms look once
 * raised a counter for eight admissions that then committed). And a
 * counter that a surge keeps moving is never unchanged at all. So the
 * timer's pass raises no low counter at its look: the pool is remembered
 * with the smallest deficit (database minus counter) of its looks, and when
 * passes LOW_PERSIST_MS or more apart all found it low, that deficit is
 * given back with gate_adjust, which leaves the surge's own moves alone.
 * An admission lost for good (a worker killed between it and its
 * compensation) is low at every pass; one in flight is gone by the next.
 * Only a reservation in flight at every look would be given back too: that
 * over-admits, which the database refuses and a later pass sets right (a
 * high counter is set at once). The operator's pass (RECONCILE_NOW) still
 * sets a counter that its second look finds unchanged.
 */
struct low_pool {
	int64_t		event_id;
	char		pool[24];
	int64_t		deficit;	/* the smallest seen */
	int64_t		since_ms;	/* first seen */
	int		passes;		/* passes that found it low */
	bool		seen;		/* low and racing in this pass */
	bool		fine;		/* some look of this pass was not */
};

static struct low_pool	lows[LOW_MAX];
static int		nlows;

/* The pools of ACTIVE events after (event, pool), at most CHUNK; -1. */
static int
active_pools(struct store *st, const struct gate_check *after,
    struct gate_check *c)
{
	struct db_res	*res;
	char		**row, sql[400];
	int		 n = 0;

	/* Pool codes are [A-Za-z0-9_-]: safe to quote. */
	snprintf(sql, sizeof sql, "SELECT DISTINCT i.event_id, i.class_code FROM "
	    "event_inventory i JOIN events e ON e.id = i.event_id WHERE "
	    "e.status = 'ACTIVE' AND (i.event_id, i.class_code) > (%" PRId64
	    ", '%s') ORDER BY i.event_id, i.class_code LIMIT %d",
	    after->event_id, after->pool, CHUNK);
	if ((res = db_query(st->db, sql)) == NULL)
		return (-1);
	while ((row = db_res_next(res)) != NULL && n < CHUNK) {
		memset(&c[n], 0, sizeof c[n]);
		c[n].event_id = strtoll(row[0], NULL, 10);
		snprintf(c[n++].pool, sizeof c[0].pool, "%s", row[1]);
	}
	db_res_free(res);
	return (n);
}

/* The database's unsold seats of each check, as want. */
static int
read_wants(struct store *st, struct gate_check *c, int n)
{
	struct inv_sum	sums[CHUNK];
	int		i;

	for (i = 0; i < n; i++) {
		sums[i].event_id = c[i].event_id;
		snprintf(sums[i].pool, sizeof sums[i].pool, "%s", c[i].pool);
	}
	if (inventory_sums(st->db, sums, (size_t)n) == -1)
		return (-1);
	for (i = 0; i < n; i++)
		c[i].want = sums[i].available;
	return (0);
}

static void
count_sets(const struct gate_check *c, int n, struct reconcile_stats *s)
{
	int	i;

	for (i = 0; i < n; i++) {
		if (c[i].result != GATE_SET)
			continue;
		s->corrected++;
		METRIC_INC(gate_corrections);
		if (c[i].had >= 0)
			log_info("reconcile: event %" PRId64 "%s%s gate counter "
			    "was %" PRId64 ", database says %" PRId64,
			    c[i].event_id, *c[i].pool != '\0' ? " class " : "",
			    c[i].pool, c[i].had, c[i].want);
	}
}

/* The remembered low pool of c; a new one (NULL when full) if add. */
static struct low_pool *
low_find(const struct gate_check *c, bool add)
{
	struct low_pool	*l;
	int		 i;

	for (i = 0; i < nlows; i++)
		if (lows[i].event_id == c->event_id &&
		    strcmp(lows[i].pool, c->pool) == 0)
			return (&lows[i]);
	if (!add || nlows == LOW_MAX)
		return (NULL);
	l = &lows[nlows++];
	memset(l, 0, sizeof *l);
	l->event_id = c->event_id;
	snprintf(l->pool, sizeof l->pool, "%s", c->pool);
	l->deficit = INT64_MAX;
	l->since_ms = time_mono_ms();
	return (l);
}

/* One look at c: low and racing (deficit > 0), or not (deficit 0). */
static void
low_note(const struct gate_check *c, int64_t deficit)
{
	struct low_pool	*l = low_find(c, deficit > 0);

	if (l == NULL)
		return;
	if (deficit <= 0) {
		l->fine = true;
		return;
	}
	l->seen = true;
	if (deficit < l->deficit)
		l->deficit = deficit;
}

/*
 * After a whole pass: give back what stayed missing at two passes or more,
 * LOW_PERSIST_MS or more apart (one pass may take that long: it sleeps
 * once per chunk); forget the pools that were fine at some look or not
 * seen. A failed pass (complete false) decides nothing.
 */
static void
low_settle(struct store *st, bool complete, struct reconcile_stats *s)
{
	struct low_pool	*l;
	int		 i = 0;

	while (i < nlows) {
		l = &lows[i];
		if (complete && l->seen && !l->fine)
			l->passes++;
		if (complete && l->seen && !l->fine && l->passes >= 2 &&
		    time_mono_ms() - l->since_ms >= LOW_PERSIST_MS &&
		    gate_adjust(st->redis, l->event_id, l->pool, l->deficit) ==
		    0) {
			s->corrected++;
			METRIC_INC(gate_corrections);
			log_info("reconcile: event %" PRId64 "%s%s gate counter "
			    "stayed below the database; gave %"
			    PRId64 " back", l->event_id, *l->pool != '\0' ?
			    " class " : "", l->pool, l->deficit);
			l->fine = true;
		}
		if (complete && (!l->seen || l->fine)) {
			lows[i] = lows[--nlows];
			continue;
		}
		l->seen = l->fine = false;
		i++;
	}
}

/*
 * Versions and counters first, then the database, then the compare-and-
 * set. A counter below the database may only show reservations in flight:
 * those get a second look SECOND_LOOK_MS later, counter and database read
 * again. The operator's pass raises one whose counter did not move
 * meanwhile; the rest are left to low_settle with the smaller deficit.
 */
static int
reconcile_chunk(struct store *st, enum reconcile_mode mode,
    struct gate_check *c, int n, struct reconcile_stats *s)
{
	struct gate_check	low[CHUNK];
	int64_t			first[CHUNK], second;
	int			i, nlow = 0, nnow = 0;

	if (gate_versions(st->redis, c, (size_t)n) == -1 ||
	    read_wants(st, c, n) == -1)
		return (-1);
	for (i = 0; i < n; i++) {
		c[i].quiet = c[i].counter[0] != '\0' &&
		    strtoll(c[i].counter, NULL, 10) < c[i].want;
		if (c[i].quiet) {
			first[nlow] = c[i].want - strtoll(c[i].counter, NULL,
			    10);
			low[nlow++] = c[i];
		} else
			c[nnow++] = c[i];
	}
	if (gate_reconcile(st->redis, c, (size_t)nnow) == -1)
		return (-1);
	count_sets(c, nnow, s);
	for (i = 0; i < nnow; i++)
		low_note(&c[i], 0);
	if (nlow > 0) {
		nanosleep(&(struct timespec){ 0, SECOND_LOOK_MS * 1000000L },
		    NULL);
		if (mode == RECONCILE_NOW) {
			if (read_wants(st, low, nlow) == -1 ||
			    gate_reconcile(st->redis, low, (size_t)nlow) == -1)
				return (-1);
			count_sets(low, nlow, s);
		} else {
			/* nothing set, low_settle decides: the counter again
			   before the database, as at the first look */
			if (gate_versions(st->redis, low, (size_t)nlow) == -1 ||
			    read_wants(st, low, nlow) == -1)
				return (-1);
			for (i = 0; i < nlow; i++) {
				low[i].result = GATE_SAME;	/* not tried again */
				low[i].had = low[i].counter[0] == '\0' ? -1 :
				    strtoll(low[i].counter, NULL, 10);
			}
		}
		/* low at both looks (and not set): the smaller deficit */
		for (i = 0; i < nlow; i++) {
			second = low[i].had >= 0 ? low[i].want - low[i].had : 0;
			low_note(&low[i], mode == RECONCILE_NOW &&
			    low[i].result != GATE_RACED ? 0 :
			    first[i] < second ? first[i] : second);
		}
		memcpy(c + nnow, low, (size_t)nlow * sizeof *low);
	}
	return (0);
}

/* Move the raced ones to the front; their count. */
static int
keep_raced(struct gate_check *c, int n)
{
	int	i, m = 0;

	for (i = 0; i < n; i++)
		if (c[i].result == GATE_RACED)
			c[m++] = c[i];
	return (m);
}

int
reconcile_gates(struct store *st, enum reconcile_mode mode,
    struct reconcile_stats *s, char *err, size_t errlen)
{
	struct gate_check	*c = xcalloc(CHUNK, sizeof *c), after;
	int			 n, i, rv = 0;

	memset(s, 0, sizeof *s);
	if (redis_conn_connect(st->redis, true) == -1) {
		snprintf(err, errlen, "%s", redis_conn_errstr(st->redis));
		free(c);
		return (-1);
	}
	memset(&after, 0, sizeof after);
	while (rv == 0 && (n = active_pools(st, &after, c)) > 0) {
		after = c[n - 1];
		s->events += n;
		rv = reconcile_chunk(st, mode, c, n, s);
		for (i = 0; rv == 0 && i < RACE_RETRIES &&
		    (n = keep_raced(c, n)) > 0; i++)
			rv = reconcile_chunk(st, mode, c, n, s);
		if (rv == 0)
			s->raced += keep_raced(c, n);
	}
	if (rv == 0 && n == -1)
		rv = -1;
	low_settle(st, rv == 0, s);
	s->pending = nlows;
	if (rv == -1)
		snprintf(err, errlen, "%s%s", db_errstr(st->db),
		    redis_conn_errstr(st->redis));
	free(c);
	return (rv);
}

int64_t
reconcile_next_ms(const struct reconcile_stats *s, int interval_s)
{
	int64_t	interval_ms = (int64_t)interval_s * 1000;

	return (s->pending > 0 && LOW_PERSIST_MS < interval_ms ?
	    LOW_PERSIST_MS : interval_ms);
}

void
expire_idempotency_keys(struct store *st)
{
	char	sql[320];

	snprintf(sql, sizeof sql, "UPDATE reservations SET idempotency_key = "
	    "NULL, request_hash = NULL WHERE idempotency_key IS NOT NULL AND "
	    "created_at < UTC_TIMESTAMP(3) - INTERVAL %d SECOND LIMIT 1000",
	    st->conf->idempotency_ttl_s);
	if (db_exec(st->db, sql) == -1)
		log_warn("housekeeping: expiring idempotency keys: %s",
		    db_errstr(st->db));
	else if (db_affected(st->db) > 0)
		log_info("housekeeping: forgot %" PRId64 " idempotency keys",
		    db_affected(st->db));
}
