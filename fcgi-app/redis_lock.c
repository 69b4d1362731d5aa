/* redis_lock.c: token locks with compare-and-delete release. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "random_hex.h"
#include "redis_conn.h"
#include "redis_lock.h"
#include "redis_script.h"

static struct redis_script release_script = REDIS_SCRIPT("lock_release",
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "return redis.call('DEL', KEYS[1]) end return 0");

static struct redis_script renew_script = REDIS_SCRIPT("lock_renew",
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0");

void
redis_lock_token(char token[LOCK_TOKEN_LEN + 1])
{
	random_hex(token, LOCK_TOKEN_LEN / 2);
}

enum lock_result
redis_lock_acquire(struct redis_conn *rc, const char *key, int ttl_ms,
    char token[LOCK_TOKEN_LEN + 1])
{
	redisReply	*r;
	bool		 got;

	redis_lock_token(token);
	r = redis_conn_commandf(rc, "SET %s %s NX PX %d", key, token, ttl_ms);
	if (r == NULL)
		return (LOCK_DOWN);
	got = r->type == REDIS_REPLY_STATUS;
	freeReplyObject(r);
	if (got)
		METRIC_INC(lock_acquired);
	else
		METRIC_INC(lock_busy);
	return (got ? LOCK_ACQUIRED : LOCK_BUSY);
}

enum lock_result
redis_lock_renew(struct redis_conn *rc, const char *key, const char *token,
    int ttl_ms)
{
	const char	*args[2];
	char		 ttl[16];
	redisReply	*r;
	bool		 ours;

	snprintf(ttl, sizeof ttl, "%d", ttl_ms);
	args[0] = token;
	args[1] = ttl;
	if ((r = redis_script_run(rc, &renew_script, 1, &key, 2, args)) == NULL)
		return (LOCK_DOWN);
	ours = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
	freeReplyObject(r);
	return (ours ? LOCK_ACQUIRED : LOCK_BUSY);
}

int
redis_lock_release(struct redis_conn *rc, const char *key, const char *token)
{
	redisReply	*r;
	bool		 released;

	if ((r = redis_script_run(rc, &release_script, 1, &key, 1,
	    &token)) == NULL) {
		log_debug("lock %s not released: %s", key,
		    redis_conn_errstr(rc));
		return (-1);
	}
	released = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
	freeReplyObject(r);
	if (!released) {
		METRIC_INC(lock_expired);
		log_warn("lock %s was no longer ours at release", key);
		return (-1);
	}
	return (0);
}
