/*
 * inventory.h: every statement on event_inventory.
 *
 * An event's unsold seats are split over K shard rows (hot-row relief).
 * Seats are taken only by a conditional, relative UPDATE (available >= n)
 * inside the caller's transaction, never written back from a value read
 * earlier. Whoever locks several shards locks them in ascending shard
 * order, so two such transactions cannot deadlock.
 *
 * An event's seats may be in several pools: the common pool (code "")
 * and one per seat class with seats of its own (event.h); each pool has
 * its own shards, so every statement names its pool.
 *
 * An allocation ("shard:n[,shard:n...]", "POOL/shard:n,..." for a class's
 * own pool; stored with the reservation) says where a reservation's seats
 * came from, so a cancel returns them to the same shards.
 *
 * Every function runs inside the caller's transaction unless it says
 * otherwise, and leaves the detail of a database failure in the db handle.
 */
#ifndef BO_INVENTORY_H
#define BO_INVENTORY_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

struct db;

#define INVENTORY_ALLOC_MAX	1024	/* bytes of an allocation string */

enum inv_result {
	INV_OK,
	INV_SHORT,	/* not enough unsold seats (*available tells) */
	INV_ERROR	/* see db_fault() */
};

/*
 * The fast path's statement, for a batch: take n seats from one shard.
 * It affects one row when the shard had them. The caller frees it.
 */
char		*inventory_take_one_sql(int64_t event_id, const char *pool,
		    int shard, int64_t n);
/* The allocation of a fast-path take. */
void		 inventory_alloc_one(char *alloc, size_t len, const char *pool,
		    int shard, int64_t n);
/*
 * The slow path, after shard `tried` proved short: take n seats from any
 * other shard that has them, or from several (locked in ascending order).
 * Writes the allocation to alloc.
 */
enum inv_result	 inventory_take(struct db *, int64_t event_id,
		    const char *pool, int64_t n, int tried, char *alloc,
		    size_t alloclen, int64_t *available)
		    __attribute__((warn_unused_result));
/* The pool of an allocation ("" for the common pool, or a class code). */
void		 inventory_alloc_pool(const char *alloc,
		    char pool[CLASS_CODE_MAX + 1]);
/* Give an allocation's seats back, shard by shard in ascending order. */
enum inv_result	 inventory_give_back(struct db *, int64_t event_id,
		    const char *alloc) __attribute__((warn_unused_result));
/* The rows of a new pool: total spread over k shards. */
enum inv_result	 inventory_spread(struct db *, int64_t event_id,
		    const char *pool, int64_t total, int k)
		    __attribute__((warn_unused_result));
/*
 * Move the common pool to a new total: more seats are spread over the
 * shards, fewer are taken from unsold ones. INV_SHORT when new_total is
 * below the seats sold (*sold tells).
 */
enum inv_result	 inventory_resize(struct db *, int64_t event_id,
		    int64_t old_total, int64_t new_total, int64_t *sold)
		    __attribute__((warn_unused_result));
/*
 * Unsold seats of one pool (NULL: all pools) of an event, outside any
 * transaction (a gate rebuild). INV_SHORT when there are no rows.
 */
enum inv_result	 inventory_available(struct db *, int64_t event_id,
		    const char *pool, int64_t *available)
		    __attribute__((warn_unused_result));

/* Unsold seats of many pools at once (a reconcile pass). */
struct inv_sum {
	int64_t	event_id;
	char	pool[CLASS_CODE_MAX + 1];
	int64_t	available;
};
/*
 * Fill sums[i].available for each (event_id, pool) (0 for one without
 * rows), in one statement. 0 or -1.
 */
int		 inventory_sums(struct db *, struct inv_sum *sums, size_t n)
		    __attribute__((warn_unused_result));

#endif
