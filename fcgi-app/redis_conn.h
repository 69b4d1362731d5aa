/*
 * redis_conn.h: a worker's Redis connection, with a short circuit breaker.
 *
 * Redis is an accelerator, never the guard: when it fails, callers take the
 * database path. After a failure the connection is dropped (hiredis: once
 * c->err is set the context cannot be reused) and no new attempt is made for
 * redis_retry_interval_ms, so a dead Redis costs one timeout per interval
 * rather than one per request.
 *
 * Replies returned by redis_conn_command() belong to the caller, who frees
 * them with freeReplyObject().
 */
#ifndef BO_REDIS_CONN_H
#define BO_REDIS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis.h>

struct bo_conf;

struct redis_conn {
	const struct bo_conf	*conf;
	redisContext		*ctx;		/* NULL when not connected */
	int64_t			 retry_at_ms;	/* monotonic; 0 = try now */
	uint64_t		 connects;
	uint64_t		 errors;
};

struct redis_conn *redis_conn_new(const struct bo_conf *);
void		 redis_conn_free(struct redis_conn *);
/*
 * The live context, connecting when needed. NULL with err when Redis is down
 * or inside its retry interval (unless force is true).
 */
redisContext	*redis_conn_get(struct redis_conn *, bool force, char *err,
		    size_t errlen);
/*
 * Run a command (argv form). Returns the reply, or NULL with err on a
 * transport failure (the connection is then dropped). Error replies are
 * returned as REDIS_REPLY_ERROR for the caller to judge.
 */
redisReply	*redis_conn_command(struct redis_conn *, char *err,
		    size_t errlen, int argc, const char **argv,
		    const size_t *argvlen);
/* printf-style variant of the above. */
redisReply	*redis_conn_commandf(struct redis_conn *, char *err,
		    size_t errlen, const char *fmt, ...);
/* PING, bypassing the retry interval. 0 or -1 with err. */
int		 redis_conn_ping(struct redis_conn *, char *err, size_t errlen)
		    __attribute__((warn_unused_result));
/* Drop the connection and start the retry interval. */
void		 redis_conn_fail(struct redis_conn *);

#endif
