/* housekeeping.c: gate reconciliation and idempotency key expiry. */
#include "config.h"

#include <inttypes.h>
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
#include "xmalloc.h"

#define CHUNK		500	/* events per round trip */
#define RACE_RETRIES	2
#define SECOND_LOOK_MS	200	/* longer than a reservation transaction */

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

/*
 * Versions and counters first, then the database, then the compare-and-
 * set. A counter below the database may only show reservations in flight:
 * those get a second look SECOND_LOOK_MS later, with the database read
 * again, and are raised only if their counter did not move meanwhile.
 */
static int
reconcile_chunk(struct store *st, struct gate_check *c, int n,
    struct reconcile_stats *s)
{
	struct gate_check	low[CHUNK];
	int			i, nlow = 0, nnow = 0;

	if (gate_versions(st->redis, c, (size_t)n) == -1 ||
	    read_wants(st, c, n) == -1)
		return (-1);
	for (i = 0; i < n; i++) {
		c[i].quiet = c[i].counter[0] != '\0' &&
		    strtoll(c[i].counter, NULL, 10) < c[i].want;
		if (c[i].quiet)
			low[nlow++] = c[i];
		else
			c[nnow++] = c[i];
	}
	if (gate_reconcile(st->redis, c, (size_t)nnow) == -1)
		return (-1);
	count_sets(c, nnow, s);
	if (nlow > 0) {
		nanosleep(&(struct timespec){ 0, SECOND_LOOK_MS * 1000000L },
		    NULL);
		if (read_wants(st, low, nlow) == -1 ||
		    gate_reconcile(st->redis, low, (size_t)nlow) == -1)
			return (-1);
		count_sets(low, nlow, s);
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
reconcile_gates(struct store *st, struct reconcile_stats *s, char *err,
    size_t errlen)
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
		rv = reconcile_chunk(st, c, n, s);
		for (i = 0; rv == 0 && i < RACE_RETRIES &&
		    (n = keep_raced(c, n)) > 0; i++)
			rv = reconcile_chunk(st, c, n, s);
		if (rv == 0)
			s->raced += keep_raced(c, n);
	}
	if (rv == 0 && n == -1)
		rv = -1;
	if (rv == -1)
		snprintf(err, errlen, "%s%s", db_errstr(st->db),
		    redis_conn_errstr(st->redis));
	free(c);
	return (rv);
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
