/*
 * redis_script.h: Lua scripts run by EVALSHA, loaded on first use.
 *
 * A script's SHA is learned with SCRIPT LOAD and kept for the life of the
 * worker. When Redis answers NOSCRIPT (a restart or a failover to a replica
 * that never saw the script) it is loaded again and the call retried once.
 */
#ifndef BO_REDIS_SCRIPT_H
#define BO_REDIS_SCRIPT_H

#include <stddef.h>

#include <hiredis.h>

struct redis_conn;

struct redis_script {
	const char	*name;		/* for logs */
	const char	*src;
	char		 sha[41];	/* "" until loaded */
};

#define REDIS_SCRIPT(n, s)	{ (n), (s), "" }

/*
 * Run script with nkeys keys followed by nargs arguments. Returns the reply
 * (the caller frees it with freeReplyObject()), or NULL on a transport
 * failure or an error reply (redis_conn_errstr() says which).
 */
redisReply	*redis_script_run(struct redis_conn *, struct redis_script *,
		    int nkeys, const char **keys, int nargs, const char **args);
/* One call of a batch (redis_scripts_run()); keys and args are the caller's. */
#define SCRIPT_CALL_MAX_ARGV	16	/* keys, and args, per call */

struct script_call {
	struct redis_script	*script;
	int			 nkeys;
	int			 nargs;
	const char		*keys[SCRIPT_CALL_MAX_ARGV];
	const char		*args[SCRIPT_CALL_MAX_ARGV];
	redisReply		*reply;		/* out; the caller frees it */
};

/*
 * Run n (>= 1) calls in one round trip, each on its own (a pipeline, not a
 * transaction: each runs whatever the others did). A call that got an
 * error reply (a Redis that forgot the script) runs again alone, as
 * redis_script_run(). reply is NULL where redis_script_run() would return
 * NULL. 0, or -1 when the connection failed (every reply NULL).
 */
int		 redis_scripts_run(struct redis_conn *, struct script_call *,
		    int n) __attribute__((warn_unused_result));

#endif
