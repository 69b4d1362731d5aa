/* redis_lock.c: token locks with compare-and-delete release. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "random_hex.h"
#include "redis_conn.h"
#include "redis_lock.h"
#include "redis_script.h"

static struct redis_script release_script = REDIS_SCRIPT("lock_release",
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "return redis.call('DEL', KEYS[1]) end return 0");

void
redis_lock_token(char token[LOCK_TOKEN_LEN + 1])
{
	random_hex(token, LOCK_TOKEN_LEN / 2);
}

int
redis_lock_acquire(struct redis_conn *rc, const char *key, int ttl_ms,
    char token[LOCK_TOKEN_LEN + 1], char *err, size_t errlen)
{
	redisReply	*r;
	int		 got;

	redis_lock_token(token);
	r = redis_conn_commandf(rc, err, errlen, "SET %s %s NX PX %d", key,
	    token, ttl_ms);
	if (r == NULL)
		return (-1);
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(err, errlen, "SET NX %s: %s", key, r->str);
		freeReplyObject(r);
		return (-1);
	}
	got = r->type == REDIS_REPLY_STATUS;
	freeReplyObject(r);
	if (got)
		METRIC_INC(lock_acquired);
	else
		METRIC_INC(lock_busy);
	return (got);
}

int
redis_lock_release(struct redis_conn *rc, const char *key, const char *token,
    char *err, size_t errlen)
{
	redisReply	*r;
	int		 released;

	r = redis_script_run(rc, &release_script, 1, &key, 1, &token, err,
	    errlen);
	if (r == NULL)
		return (-1);
	released = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
	freeReplyObject(r);
	if (!released)
		METRIC_INC(lock_expired);
	return (released);
}
