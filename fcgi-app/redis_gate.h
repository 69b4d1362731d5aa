/*
 * redis_gate.h: the per-event admission gate in Redis.
 *
 * bo:{ev:ID}:avail holds the seats an event's common pool still has, as
 * far as Redis knows; bo:{ev:ID}:c:CODE:avail those of a seat class with
 * seats of its own (one counter per pool, inventory.h). A Lua script checks and decrements it atomically, so a sold-out
 * surge is answered without touching MySQL. The gate may over-admit (the
 * database still decides); it must not under-admit for long:
 *   - an admission whose database step fails is given back;
 *   - a missing counter is rebuilt from the database (by the caller, under
 *     a single-flight lock: this module runs no SQL);
 *   - the housekeeping child reconciles every counter with the database
 *     every reconcile_interval_s, so a give-back that never happened (a
 *     worker killed between admission and compensation, a Redis timeout
 *     after the script ran) makes a false "sold out" for at most that long
 *     and a second more (the deficit must show at two passes,
 *     housekeeping.c).
 *
 * Reconciliation must not itself make a counter low: a cancel that returns
 * seats between its read of the database and its write would be lost. So
 * every increment also bumps bo:{ev:ID}:avail:v, and the reconcile writes
 * only if that version is what it read before reading the database.
 * Decrements do not bump it: one lost to a reconcile makes the counter
 * high, which is safe. Nor should it make a counter high for nothing: a
 * counter below the database may only show a reservation still in flight,
 * so it is raised only when passes a second apart all find it low
 * (housekeeping.c).
 *
 * The keys carry no TTL, so maxmemory-policy volatile-lru never evicts them.
 * Every call that fails means "Redis unavailable": use the database.
 */
#ifndef BO_REDIS_GATE_H
#define BO_REDIS_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis.h>

struct cache_side;
struct redis_conn;
struct script_call;

enum gate_result {
	GATE_ADMITTED,		/* counter decremented */
	GATE_REJECTED,		/* fewer seats than asked; *value = counter */
	GATE_MISSING,		/* no counter: rebuild, or use the database */
	GATE_DOWN,		/* Redis unavailable: use the database */
	GATE_STALE		/* gate_current_call(): the event's entry
				   is not that version; nothing taken */
};

/* A pool's counter key (pool "" is the common pool); buf holds 80 bytes. */
void	 gate_key(int64_t event_id, const char *pool, char *buf, size_t len);

enum gate_result gate_admit(struct redis_conn *, int64_t event_id,
	    const char *pool, int qty, int64_t *value)
	    __attribute__((warn_unused_result));
/*
 * gate_admit(), in one script with a look at the event's cache entry
 * (entry_key, event_cache.h): the seats are taken only while the entry is
 * still version `version`, so a request judged on that version of the
 * event was judged on the current one; else GATE_STALE. The nside side
 * keys (at most EVENT_SIDES_MAX, of the same hash slot) are read whatever
 * the outcome but GATE_DOWN. In halves, so that the script can share a
 * round trip with others (redis_scripts_run()): the call (its strings live
 * in *g, which must outlive it), then its reply judged (NULL: GATE_DOWN).
 */
struct gate_current {
	char			 key[80];
	char			 qty[16];
	char			 prefix[24];
	struct cache_side	*side;
	int			 nside;
};
void	 gate_current_call(struct gate_current *, struct script_call *,
	    int64_t event_id, const char *pool, int qty, const char *entry_key,
	    int64_t version, struct cache_side *side, int nside);
enum gate_result gate_current_answer(const struct gate_current *,
	    const redisReply *, int64_t *value);
/*
 * Add delta to the counter when it exists (a missing one is left for the
 * rebuild). +qty gives an admission back or returns cancelled seats; a
 * resize adds or takes. 0 or -1.
 */
int	 gate_adjust(struct redis_conn *, int64_t event_id, const char *pool,
	    int64_t delta);
/*
 * Set the counter unless one exists (a rebuild, a new event). 0 (*set
 * says whether this call set it) or -1.
 */
int	 gate_init(struct redis_conn *, int64_t event_id, const char *pool,
	    int64_t value, bool *set);
/* The pool's version as it is now ("" when none), in buf. 0 or -1. */
int	 gate_version(struct redis_conn *, int64_t event_id, const char *pool,
	    char *buf, size_t len);
/*
 * A counter rebuilt from the database: set to value unless one exists or an
 * increment bumped the version since gate_version read it before the
 * database (a give-back that found no counter would be lost: the counter
 * stays missing for the next rebuild). 0 (*set says whether it was set) or
 * -1.
 */
int	 gate_rebuild(struct redis_conn *, int64_t event_id, const char *pool,
	    int64_t value, const char *version, bool *set);
/* Drop a pool's counter and its version (a deleted event). 0 or -1. */
int	 gate_forget(struct redis_conn *, int64_t event_id, const char *pool);

/* One event's part in a reconcile pass. */
struct gate_check {
	int64_t		 event_id;
	char		 pool[24];	/* "" for the common pool */
	char		 version[24];	/* as read before the database */
	char		 counter[24];	/* likewise ("" when there is none) */
	bool		 quiet;		/* set only if the counter is unchanged */
	int64_t		 want;		/* the database's unsold seats */
	enum { GATE_SAME, GATE_SET, GATE_RACED } result;
	int64_t		 had;		/* the counter before (-1: none) */
};
/* Read the version and counter of n events in one round trip. 0 or -1. */
int	 gate_versions(struct redis_conn *, struct gate_check *, size_t n)
	    __attribute__((warn_unused_result));
/*
 * Set each counter to its want, unless its version moved since
 * gate_versions() or, for a quiet check, its counter did (GATE_RACED: try
 * again later). One round trip. 0 or -1.
 */
int	 gate_reconcile(struct redis_conn *, struct gate_check *, size_t n)
	    __attribute__((warn_unused_result));

#endif
