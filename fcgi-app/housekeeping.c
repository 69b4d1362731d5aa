/* housekeeping.c: gate reconciliation and idempotency key expiry. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <mysql.h>

#include "app.h"
#include "conf.h"
#include "db.h"
#include "housekeeping.h"
#include "log.h"
#include "redis_conn.h"
#include "redis_gate.h"
#include "redis_lock.h"
#include "timeutil.h"
#include "xmalloc.h"

#define LEASE_KEY	"bo:lease:housekeeping"
#define MAX_EVENTS	10000	/* reconciled per pass */

int
reconcile_gates(struct app *app, int *events, int *corrected, char *err,
    size_t errlen)
{
	MYSQL_RES	*res, *sum;
	MYSQL_ROW	 row, srow;
	char		*sql;
	int64_t		 id, want, have;
	int		 found, rv = 0;

	*events = *corrected = 0;
	if (redis_conn_get(app->redis, true, err, errlen) == NULL)
		return (-1);
	sql = xasprintf("SELECT id FROM events WHERE status = 'ACTIVE' "
	    "ORDER BY id LIMIT %d", MAX_EVENTS);
	res = db_select(app->db, sql, err, errlen);
	free(sql);
	if (res == NULL)
		return (-1);
	while ((row = mysql_fetch_row(res)) != NULL && rv == 0) {
		id = strtoll(row[0], NULL, 10);
		/* Read and set back to back: the window for a race is short. */
		sql = xasprintf("SELECT COALESCE(SUM(available), 0) FROM "
		    "event_inventory WHERE event_id = %" PRId64, id);
		sum = db_select(app->db, sql, err, errlen);
		free(sql);
		if (sum == NULL) {
			rv = -1;
			break;
		}
		srow = mysql_fetch_row(sum);
		want = srow != NULL ? strtoll(srow[0], NULL, 10) : 0;
		mysql_free_result(sum);
		(*events)++;
		found = gate_read(app->redis, id, &have, err, errlen);
		if (found == -1) {
			rv = -1;
			break;
		}
		if (found == 1 && have == want)
			continue;
		if (gate_set(app->redis, id, want, err, errlen) == -1) {
			rv = -1;
			break;
		}
		(*corrected)++;
		if (found == 1)
			log_info("reconcile: event %" PRId64 " gate counter was %"
			    PRId64 ", database says %" PRId64, id, have, want);
	}
	mysql_free_result(res);
	return (rv);
}

static void
expire_idempotency_keys(struct app *app)
{
	char	*sql, err[512];
	int64_t	 n;

	sql = xasprintf("UPDATE reservations SET idempotency_key = NULL, "
	    "request_hash = NULL WHERE idempotency_key IS NOT NULL AND "
	    "created_at < UTC_TIMESTAMP(3) - INTERVAL %d SECOND LIMIT 1000",
	    app->conf->idempotency_ttl_s);
	n = db_affected(app->db, sql, err, sizeof err);
	free(sql);
	if (n < 0)
		log_warn("housekeeping: expiring idempotency keys: %s", err);
	else if (n > 0)
		log_info("housekeeping: forgot %" PRId64 " idempotency keys", n);
}

void
housekeeping_tick(struct app *app)
{
	char	token[LOCK_TOKEN_LEN + 1], err[512];
	int64_t	now = time_mono_ms();
	int	events, corrected;

	if (now < app->next_housekeeping_ms)
		return;
	/* Spread the attempts: workers need not all race for the lease. */
	app->next_housekeeping_ms = now + app->conf->reconcile_interval_s *
	    1000 / 2 + random() % (app->conf->reconcile_interval_s * 500 + 1);
	if (app->redis->ctx == NULL)
		return;
	/* The lease expires by itself: the next pass is one interval away. */
	if (redis_lock_acquire(app->redis, LEASE_KEY,
	    app->conf->reconcile_interval_s * 1000, token, err,
	    sizeof err) != 1)
		return;
	if (reconcile_gates(app, &events, &corrected, err, sizeof err) == -1)
		log_warn("housekeeping: reconcile failed: %s", err);
	else if (corrected > 0)
		log_info("housekeeping: reconciled %d events, %d corrected",
		    events, corrected);
	expire_idempotency_keys(app);
}
