/* rate_limit.c: the per-user token bucket. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "rate_limit.h"
#include "redis_conn.h"
#include "redis_script.h"
#include "store.h"

/*
 * ARGV: tokens per ms, burst. Returns 0 when a token was taken, else the
 * ms until one is there. The key lives as long as a full refill takes.
 */
static struct redis_script bucket_script = REDIS_SCRIPT("rate_bucket",
    "local t = redis.call('TIME') "
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) "
    "local rate = tonumber(ARGV[1]) local burst = tonumber(ARGV[2]) "
    "local b = redis.call('HMGET', KEYS[1], 't', 'ts') "
    "local tokens = tonumber(b[1]) or burst "
    "local ts = tonumber(b[2]) or now "
    "tokens = math.min(burst, tokens + math.max(0, now - ts) * rate) "
    "local wait = 0 "
    "if tokens < 1 then wait = math.ceil((1 - tokens) / rate) "
    "else tokens = tokens - 1 end "
    "redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(now)) "
    "redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate) + 1000) "
    "return wait");

bool
rate_call(struct store *st, const char *user, struct rate_check *rc,
    struct script_call *call)
{
	const struct bo_conf	*c = st->conf;

	if (c->rate_limit_per_minute == 0)
		return (false);
	memset(call, 0, sizeof *call);
	/* The length keeps "a:b" apart from another user's prefix. */
	snprintf(rc->key, sizeof rc->key, "bo:rl:{u:%zu:%s}", strlen(user),
	    user);
	snprintf(rc->rate, sizeof rc->rate, "%.9f",
	    c->rate_limit_per_minute / 60000.0);
	snprintf(rc->burst, sizeof rc->burst, "%d", c->rate_limit_burst);
	call->script = &bucket_script;
	call->keys[0] = rc->key;
	call->nkeys = 1;
	call->args[0] = rc->rate;
	call->args[1] = rc->burst;
	call->nargs = 2;
	return (true);
}

bool
rate_answer(struct store *st, const redisReply *r, int *retry_after_s)
{
	long long	wait_ms = 0;

	*retry_after_s = 0;
	if (r == NULL) {
		log_debug("rate limit not checked (fails open): %s",
		    redis_conn_errstr(st->redis));
		return (true);
	}
	if (r->type == REDIS_REPLY_INTEGER)
		wait_ms = r->integer;
	if (wait_ms <= 0)
		return (true);
	METRIC_INC(rate_limited);
	*retry_after_s = (int)((wait_ms + 999) / 1000);
	return (false);
}

bool
rate_take(struct store *st, const char *user, int *retry_after_s)
{
	struct rate_check	rc;
	struct script_call	call;
	redisReply		*r;
	bool			ok;

	*retry_after_s = 0;
	if (!rate_call(st, user, &rc, &call))
		return (true);
	r = redis_script_run(st->redis, call.script, call.nkeys, call.keys,
	    call.nargs, call.args);
	ok = rate_answer(st, r, retry_after_s);
	if (r != NULL)
		freeReplyObject(r);
	return (ok);
}
