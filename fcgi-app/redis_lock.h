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

/* 1 acquired (token filled), 0 held by someone else, -1 Redis error. */
int	 redis_lock_acquire(struct redis_conn *, const char *key, int ttl_ms,
	    char token[LOCK_TOKEN_LEN + 1], char *err, size_t errlen)
	    __attribute__((warn_unused_result));
/* 1 released, 0 no longer ours (expired), -1 Redis error. */
int	 redis_lock_release(struct redis_conn *, const char *key,
	    const char *token, char *err, size_t errlen);
/* A fresh random token (hex). */
void	 redis_lock_token(char token[LOCK_TOKEN_LEN + 1]);

#endif
