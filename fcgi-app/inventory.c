/* inventory.c: taking, returning, spreading and resizing shard seats. */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "event.h"
#include "inventory.h"
#include "log.h"
#include "xmalloc.h"

struct shard_row {
	int	shard;
	int64_t	available, capacity;
};

/* Pool codes are [A-Za-z0-9_-] (validated at creation): safe to quote. */
char *
inventory_take_one_sql(int64_t event_id, const char *pool, int shard,
    int64_t n)
{
	return (xasprintf("UPDATE event_inventory SET available = available - %"
	    PRId64 " WHERE event_id = %" PRId64 " AND class_code = '%s' AND "
	    "shard = %d AND available >= %" PRId64, n, event_id, pool, shard,
	    n));
}

void
inventory_alloc_one(char *alloc, size_t len, const char *pool, int shard,
    int64_t n)
{
	snprintf(alloc, len, "%s%s%d:%" PRId64, pool, *pool != '\0' ? "/" : "",
	    shard, n);
}

/*
 * One relative UPDATE of one shard; INV_SHORT when its guard held. Taking
 * needs available >= n; giving back must never go above the shard's
 * capacity (seats that were never taken); a resize moves capacity along.
 */
static enum inv_result
shard_add(struct db *db, int64_t event_id, const char *pool, int shard,
    int64_t delta, bool capacity_too)
{
	char	sql[512], cap[64] = "", guard[96];

	if (capacity_too)
		snprintf(cap, sizeof cap, ", capacity = capacity + (%" PRId64
		    ")", delta);
	if (delta < 0)
		snprintf(guard, sizeof guard, " AND available >= %" PRId64,
		    -delta);
	else if (!capacity_too)
		snprintf(guard, sizeof guard, " AND available + %" PRId64
		    " <= capacity", delta);
	else
		guard[0] = '\0';
	snprintf(sql, sizeof sql, "UPDATE event_inventory SET available = "
	    "available + (%" PRId64 ")%s WHERE event_id = %" PRId64 " AND "
	    "class_code = '%s' AND shard = %d%s", delta, cap, event_id, pool,
	    shard, guard);
	if (db_exec(db, sql) == -1)
		return (INV_ERROR);
	return (db_affected(db) == 1 ? INV_OK : INV_SHORT);
}

/* Every shard of the event, locked, in ascending order. */
static int
lock_shards(struct db *db, int64_t event_id, const char *pool,
    struct shard_row **rows, int *n)
{
	struct db_res	*res;
	char		**row, sql[256];
	int		 i = 0;

	snprintf(sql, sizeof sql, "SELECT shard, available, capacity FROM "
	    "event_inventory WHERE event_id = %" PRId64 " AND class_code = '%s' "
	    "ORDER BY shard FOR UPDATE", event_id, pool);
	if ((res = db_query(db, sql)) == NULL)
		return (-1);
	*n = (int)db_res_count(res);
	*rows = xcalloc((size_t)(*n > 0 ? *n : 1), sizeof **rows);
	while ((row = db_res_next(res)) != NULL && i < *n) {
		(*rows)[i].shard = atoi(row[0]);
		(*rows)[i].available = strtoll(row[1], NULL, 10);
		(*rows)[i].capacity = strtoll(row[2], NULL, 10);
		i++;
	}
	db_res_free(res);
	return (0);
}

/* Another single shard with n seats, fullest first, without locking all. */
static enum inv_result
take_from_one(struct db *db, int64_t event_id, const char *pool, int64_t n,
    int tried, char *alloc, size_t alloclen, int64_t *sum)
{
	struct db_res	*res;
	char		**row, sql[256];
	int		 shard;
	int64_t		 have;
	enum inv_result	 r = INV_SHORT;

	snprintf(sql, sizeof sql, "SELECT shard, available FROM "
	    "event_inventory WHERE event_id = %" PRId64 " AND class_code = '%s' "
	    "AND available > 0 ORDER BY available DESC", event_id, pool);
	if ((res = db_query(db, sql)) == NULL)
		return (INV_ERROR);
	*sum = 0;
	while ((row = db_res_next(res)) != NULL) {
		shard = atoi(row[0]);
		have = strtoll(row[1], NULL, 10);
		*sum += have;
		if (r != INV_SHORT || have < n || shard == tried)
			continue;
		if ((r = shard_add(db, event_id, pool, shard, -n, false)) ==
		    INV_OK)
			inventory_alloc_one(alloc, alloclen, pool, shard, n);
	}
	db_res_free(res);
	return (r);
}

enum inv_result
inventory_take(struct db *db, int64_t event_id, const char *pool, int64_t n,
    int tried, char *alloc, size_t alloclen, int64_t *available)
{
	struct shard_row	*rows = NULL;
	enum inv_result		 r;
	int64_t			 sum = 0, left = n, take;
	size_t			 used;
	int			 count = 0, i;

	if ((r = take_from_one(db, event_id, pool, n, tried, alloc, alloclen,
	    &sum)) != INV_SHORT || sum < n) {
		*available = sum;
		return (r);
	}
	/* No single shard has enough but together they might. */
	if (lock_shards(db, event_id, pool, &rows, &count) == -1)
		return (INV_ERROR);
	for (sum = 0, i = 0; i < count; i++)
		sum += rows[i].available;
	*available = sum;
	if (*pool != '\0')
		snprintf(alloc, alloclen, "%s/", pool);
	else
		*alloc = '\0';
	for (i = 0; i < count && left > 0 && sum >= n; i++) {
		take = rows[i].available < left ? rows[i].available : left;
		if (take == 0)
			continue;
		if ((r = shard_add(db, event_id, pool, rows[i].shard, -take,
		    false)) != INV_OK) {
			free(rows);
			/* Short under our own lock cannot be: say so. */
			return (INV_ERROR);
		}
		used = strlen(alloc);
		snprintf(alloc + used, alloclen - used, "%s%d:%" PRId64,
		    used > 0 && alloc[used - 1] != '/' ? "," : "", rows[i].shard,
		    take);
		left -= take;
	}
	free(rows);
	return (left == 0 ? INV_OK : INV_SHORT);
}

/*
 * "[POOL/]shard:n[,...]" into the pool and arrays sorted by shard; the
 * count or -1.
 */
static int
parse_alloc(const char *alloc, char pool[CLASS_CODE_MAX + 1], int *shards,
    int64_t *counts, int max)
{
	const char	*p = alloc, *slash = strchr(alloc, '/');
	char		*end;
	int		 n = 0, i, j;

	pool[0] = '\0';
	if (slash != NULL) {
		if (slash == alloc || slash - alloc > CLASS_CODE_MAX ||
		    strspn(alloc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrst"
		    "uvwxyz0123456789_-") != (size_t)(slash - alloc))
			return (-1);
		memcpy(pool, alloc, (size_t)(slash - alloc));
		pool[slash - alloc] = '\0';
		p = slash + 1;
	}

	while (*p != '\0') {
		if (n == max)
			return (-1);
		shards[n] = (int)strtol(p, &end, 10);
		if (end == p || *end != ':' || shards[n] < 0)
			return (-1);
		p = end + 1;
		counts[n] = strtoll(p, &end, 10);
		if (end == p || counts[n] < 1 || (*end != ',' && *end != '\0'))
			return (-1);
		n++;
		p = *end == ',' ? end + 1 : end;
	}
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && shards[j - 1] > shards[j]; j--) {
			int	ts = shards[j];
			int64_t	tc = counts[j];

			shards[j] = shards[j - 1];
			counts[j] = counts[j - 1];
			shards[j - 1] = ts;
			counts[j - 1] = tc;
		}
	return (n);
}

void
inventory_alloc_pool(const char *alloc, char pool[CLASS_CODE_MAX + 1])
{
	int	shards[EVENT_MAX_SHARDS];
	int64_t	counts[EVENT_MAX_SHARDS];

	if (parse_alloc(alloc, pool, shards, counts, EVENT_MAX_SHARDS) < 1)
		pool[0] = '\0';
}

enum inv_result
inventory_give_back(struct db *db, int64_t event_id, const char *alloc)
{
	char		pool[CLASS_CODE_MAX + 1];
	int		shards[EVENT_MAX_SHARDS];
	int64_t		counts[EVENT_MAX_SHARDS];
	int		n, i;
	enum inv_result	r;

	if ((n = parse_alloc(alloc, pool, shards, counts, EVENT_MAX_SHARDS)) < 1)
		return (INV_ERROR);
	for (i = 0; i < n; i++)
		if ((r = shard_add(db, event_id, pool, shards[i], counts[i],
		    false)) != INV_OK)
			return (r);
	return (INV_OK);
}

enum inv_result
inventory_spread(struct db *db, int64_t event_id, const char *pool,
    int64_t total, int k)
{
	int64_t	 base = total / k, extra = total % k, cap;
	char	*sql;
	FILE	*f;
	size_t	 len;
	int	 i, rv;

	if ((f = open_memstream(&sql, &len)) == NULL)
		fatal("open_memstream failed");
	fprintf(f, "INSERT INTO event_inventory (event_id, class_code, shard, "
	    "available, capacity) VALUES ");
	/* Every shard gets total/k, the first total%k one more. */
	for (i = 0; i < k; i++) {
		cap = base + (i < extra ? 1 : 0);
		fprintf(f, "%s(%" PRId64 ", '%s', %d, %" PRId64 ", %" PRId64 ")",
		    i > 0 ? ", " : "", event_id, pool, i, cap, cap);
	}
	fclose(f);
	rv = db_exec(db, sql);
	free(sql);
	return (rv == 0 ? INV_OK : INV_ERROR);
}

enum inv_result
inventory_resize(struct db *db, int64_t event_id, int64_t old_total,
    int64_t new_total, int64_t *sold)
{
	struct shard_row	*rows = NULL;
	int64_t			 delta = new_total - old_total, unsold = 0;
	int64_t			 take, share, extra;
	enum inv_result		 r = INV_OK;
	int			 n = 0, i;

	if (lock_shards(db, event_id, "", &rows, &n) == -1)
		return (INV_ERROR);
	for (i = 0; i < n; i++)
		unsold += rows[i].available;
	*sold = old_total - unsold;
	if (n == 0 || new_total < *sold) {
		free(rows);
		return (INV_SHORT);
	}
	share = delta > 0 ? delta / n : 0;
	extra = delta > 0 ? delta % n : 0;
	for (i = 0; i < n && delta != 0 && r == INV_OK; i++) {
		if (delta > 0)
			take = share + (i < extra ? 1 : 0);
		else {
			take = rows[i].available < -delta ?
			    rows[i].available : -delta;
			delta += take;
			take = -take;
		}
		if (take != 0)
			r = shard_add(db, event_id, "", rows[i].shard, take,
			    true);
	}
	free(rows);
	/* Short under our own lock cannot be: an error, not a refusal. */
	return (r == INV_OK ? INV_OK : INV_ERROR);
}

enum inv_result
inventory_available(struct db *db, int64_t event_id, const char *pool,
    int64_t *available)
{
	struct db_res	*res;
	char		**row, sql[256], where[64] = "";
	enum inv_result	 r = INV_SHORT;

	if (pool != NULL)
		snprintf(where, sizeof where, " AND class_code = '%s'", pool);
	snprintf(sql, sizeof sql, "SELECT COALESCE(SUM(available), 0), "
	    "COUNT(*) FROM event_inventory WHERE event_id = %" PRId64 "%s",
	    event_id, where);
	if ((res = db_query(db, sql)) == NULL)
		return (INV_ERROR);
	if ((row = db_res_next(res)) != NULL && strtoll(row[1], NULL, 10) > 0) {
		*available = strtoll(row[0], NULL, 10);
		r = INV_OK;
	}
	db_res_free(res);
	return (r);
}

int
inventory_sums(struct db *db, struct inv_sum *sums, size_t n)
{
	struct db_res	*res;
	char		**row;
	size_t		 i;
	int64_t		 id, *ids;

	if (n == 0)
		return (0);
	ids = xcalloc(n, sizeof *ids);
	for (i = 0; i < n; i++) {
		ids[i] = sums[i].event_id;
		sums[i].available = 0;
	}
	res = db_query_ids(db, "SELECT event_id, class_code, SUM(available) "
	    "FROM event_inventory WHERE event_id IN ", ids, n,
	    " GROUP BY event_id, class_code");
	free(ids);
	if (res == NULL)
		return (-1);
	while ((row = db_res_next(res)) != NULL) {
		id = strtoll(row[0], NULL, 10);
		for (i = 0; i < n; i++)
			if (sums[i].event_id == id &&
			    strcmp(sums[i].pool, row[1]) == 0)
				sums[i].available = strtoll(row[2], NULL, 10);
	}
	db_res_free(res);
	return (0);
}
