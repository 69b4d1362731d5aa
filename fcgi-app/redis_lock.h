/*
 * redis_lock.h: short Redis locks that save work, never guard data.
 *
 * SET key token NX PX ttl, with a random token per holder, released by a
 * compare-and-delete script, so a holder whose lock expired can never
 * release somebody else's. Correctness never depends on these locks: the
 * database statements that follow carry their own guards.
 */
#ifndef BO_REDIS_LOCK_H
#define BO_REDIS_LOCK_H

#include <stddef.h>

struct redis_conn;

#define LOCK_TOKEN_LEN	32

enum lock_result {
	LOCK_ACQUIRED,		/* token filled in */
	LOCK_BUSY,		/* someone else holds it */
	LOCK_DOWN		/* Redis unavailable (redis_conn_errstr) */
};

enum lock_result redis_lock_acquire(struct redis_conn *, const char *key,
	    int ttl_ms, char token[LOCK_TOKEN_LEN + 1])
	    __attribute__((warn_unused_result));
/*
 * Extend a lock we hold to ttl_ms (a lease renewal). LOCK_ACQUIRED while
 * still ours, LOCK_BUSY when it expired and is gone or someone else's.
 */
enum lock_result redis_lock_renew(struct redis_conn *, const char *key,
	    const char *token, int ttl_ms)
	    __attribute__((warn_unused_result));
/* 0 released, -1 no longer ours or Redis unavailable (said in the log). */
int	 redis_lock_release(struct redis_conn *, const char *key,
	    const char *token);
/* A fresh random token (hex). */
void	 redis_lock_token(char token[LOCK_TOKEN_LEN + 1]);

#endif
