/*
 * redis_conn.h: a worker's Redis connection, opaque, with a short circuit
 * breaker.
 *
 * Redis is an accelerator, never the guard: when it fails, callers take the
 * database path. "Fails" includes every error reply that says the server
 * cannot serve now (LOADING, BUSY, MASTERDOWN, READONLY after a failover,
 * TRYAGAIN, CLUSTERDOWN, MISCONF, OOM, NOREPLICAS): those drop the
 * connection like a timeout does. After a failure no new attempt is made
 * for redis_retry_interval_ms, so a dead Redis costs one timeout per
 * interval rather than one per request.
 *
 * Errors follow hiredis: NULL or -1, with the detail in redis_conn_errstr(),
 * cleared by every call that succeeds. Replies belong to the caller, who
 * frees them with freeReplyObject().
 */
#ifndef BO_REDIS_CONN_H
#define BO_REDIS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis.h>

struct bo_conf;
struct redis_conn;

struct redis_conn *redis_conn_new(const struct bo_conf *);
void		 redis_conn_free(struct redis_conn *);
/*
 * Connect unless connected. Inside the retry interval it fails at once,
 * unless force is true. 0 or -1.
 */
int		 redis_conn_connect(struct redis_conn *, bool force)
		    __attribute__((warn_unused_result));
bool		 redis_conn_connected(const struct redis_conn *);
const char	*redis_conn_errstr(const struct redis_conn *);
/*
 * Run a command (argv form). NULL on a transport failure or any error
 * reply (a "server cannot serve" error also drops the connection).
 */
redisReply	*redis_conn_command(struct redis_conn *, int argc,
		    const char **argv, const size_t *argvlen);
/* printf-style variant of the above. */
redisReply	*redis_conn_commandf(struct redis_conn *, const char *fmt, ...);
/*
 * Like redis_conn_command, but an ordinary error reply (not one that means
 * the server cannot serve) comes back as REDIS_REPLY_ERROR for the caller
 * to judge: EVALSHA's NOSCRIPT.
 */
redisReply	*redis_conn_command_raw(struct redis_conn *, int argc,
		    const char **argv, const size_t *argvlen);
/*
 * Send n commands in one round trip. replies[i] gets each reply (NULL for
 * an error reply). 0, or -1 when the connection failed (all NULL).
 */
int		 redis_conn_pipeline(struct redis_conn *, int n,
		    const int *argc, const char ***argv, redisReply **replies)
		    __attribute__((warn_unused_result));
/* PING, bypassing the retry interval. 0 or -1. */
int		 redis_conn_ping(struct redis_conn *)
		    __attribute__((warn_unused_result));

#endif
