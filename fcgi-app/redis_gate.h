/*
 * redis_gate.h: the per-event admission gate in Redis.
 *
 * bo:{ev:ID}:avail holds the seats an event still has, as far as Redis
 * knows. A Lua script checks and decrements it atomically, so a sold-out
 * surge is answered without touching MySQL. The gate may over-admit (the
 * database still decides); it must not under-admit for long: an admission
 * whose database step fails is given back, a missing counter is rebuilt
 * from the database under a single-flight lock, and all counters are
 * reconciled with the database periodically.
 *
 * The counters carry no TTL, so maxmemory-policy volatile-lru never evicts
 * them (allkeys-lru could, and the gate would then be rebuilt under load).
 */
#ifndef BO_REDIS_GATE_H
#define BO_REDIS_GATE_H

#include <stddef.h>
#include <stdint.h>

struct db;
struct redis_conn;

enum gate_result {
	GATE_ADMITTED,		/* counter decremented */
	GATE_REJECTED,		/* fewer seats than asked; *value = counter */
	GATE_MISSING,		/* no counter: rebuild, or use the database */
	GATE_DOWN		/* Redis unreachable: use the database */
};

/* Key names; buf should hold 64 bytes. */
void	 gate_key(int64_t event_id, char *buf, size_t len);

enum gate_result gate_admit(struct redis_conn *, int64_t event_id, int qty,
	    int64_t *value, char *err, size_t errlen);
/*
 * Add delta to the counter when it exists (a missing counter is left for
 * the rebuild). Used to give an admission back (+qty), after a cancel
 * (+qty), and after a commit that did not pass the gate (-qty).
 */
int	 gate_adjust(struct redis_conn *, int64_t event_id, int64_t delta,
	    char *err, size_t errlen);
/* 1 and *value when present, 0 when missing, -1 on error. */
int	 gate_read(struct redis_conn *, int64_t event_id, int64_t *value,
	    char *err, size_t errlen);
/* Set the counter outright (reconciliation). */
int	 gate_set(struct redis_conn *, int64_t event_id, int64_t value,
	    char *err, size_t errlen);
/* Drop the counter so the next request rebuilds it. */
int	 gate_forget(struct redis_conn *, int64_t event_id, char *err,
	    size_t errlen);
/*
 * Rebuild a missing counter from the database, if this worker wins the
 * single-flight lock. Returns 1 rebuilt, 0 someone else is at it (or it
 * already exists), -1 error.
 */
int	 gate_rebuild(struct redis_conn *, struct db *, int64_t event_id,
	    char *err, size_t errlen);

#endif
