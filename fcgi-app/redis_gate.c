/* redis_gate.c: the Lua admission gate and its counter upkeep. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_cache.h"
#include "log.h"
#include "metrics.h"
#include "redis_conn.h"
#include "redis_gate.h"
#include "redis_script.h"
#include "xmalloc.h"

/*
 * The admission of ARGV[1] seats from counter KEYS[k] into out[1] and
 * out[2]: {1, left} admitted; {0, have} too few; {-1, 0} no counter.
 */
#define ADMIT_LUA(k)							\
    "local v = redis.call('GET', KEYS[" k "]) "				\
    "if not v then out[1] = -1 return out end "			\
    "v = tonumber(v) "							\
    "local q = tonumber(ARGV[1]) "					\
    "if v < q then out[1] = 0 out[2] = v return out end "		\
    "out[1] = 1 out[2] = redis.call('DECRBY', KEYS[" k "], q) return out"

static struct redis_script admit_script = REDIS_SCRIPT("gate_admit",
    "local out = {0, 0} " ADMIT_LUA("1"));

/*
 * The same on KEYS[2], only while the event's cache entry KEYS[1] begins
 * with ARGV[2] ("version|"), else {-2, 0}; the values of KEYS[3..] follow
 * either way (false when missing).
 */
static struct redis_script admit_current_script = REDIS_SCRIPT(
    "gate_admit_current",
    "local out = {0, 0} "
    "for i = 3, #KEYS do out[i] = redis.call('GET', KEYS[i]) end "
    "local e = redis.call('GET', KEYS[1]) "
    "if not e or string.sub(e, 1, #ARGV[2]) ~= ARGV[2] then "
    "out[1] = -2 return out end " ADMIT_LUA("2"));

/* An increment bumps the version even without a counter (see the .h). */
static struct redis_script adjust_script = REDIS_SCRIPT("gate_adjust",
    "local d = tonumber(ARGV[1]) "
    "if d > 0 then redis.call('INCR', KEYS[2]) end "
    "if redis.call('EXISTS', KEYS[1]) == 1 then "
    "return redis.call('INCRBY', KEYS[1], d) end return false");

/* 1 set; 0 a counter exists, or an increment bumped the version since. */
static struct redis_script rebuild_script = REDIS_SCRIPT("gate_rebuild",
    "if (redis.call('GET', KEYS[2]) or '') ~= ARGV[2] then return 0 end "
    "if redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 1 end "
    "return 0");

/*
 * 0 same, 1 set, -1 the version (or, unless ARGV[3] is '*', the counter)
 * moved since it was read; the counter before is {_, had}.
 */
static struct redis_script reconcile_script = REDIS_SCRIPT("gate_reconcile",
    "local v = redis.call('GET', KEYS[2]) or '' "
    "local had = redis.call('GET', KEYS[1]) "
    "if v ~= ARGV[2] then return {-1, had or -1} end "
    "if ARGV[3] ~= '*' and (had or '') ~= ARGV[3] then "
    "return {-1, had or -1} end "
    "if had == ARGV[1] then return {0, had} end "
    "redis.call('SET', KEYS[1], ARGV[1]) "
    "return {1, had or -1}");

/* ":c:" keeps a class named "v" apart from the common pool's version. */
void
gate_key(int64_t event_id, const char *pool, char *buf, size_t len)
{
	if (*pool == '\0')
		snprintf(buf, len, "bo:{ev:%" PRId64 "}:avail", event_id);
	else
		snprintf(buf, len, "bo:{ev:%" PRId64 "}:c:%s:avail", event_id,
		    pool);
}

static void
version_key(int64_t event_id, const char *pool, char *buf, size_t len)
{
	char	key[80];

	gate_key(event_id, pool, key, sizeof key);
	snprintf(buf, len, "%s:v", key);
}

/* An admission script's answer: {code, value, side values...}. */
static enum gate_result
admit_answer(const redisReply *r, struct cache_side *side, int nside,
    int64_t *value)
{
	const redisReply	*e;
	int			 i;

	if (r->type != REDIS_REPLY_ARRAY || r->elements != (size_t)(2 +
	    nside) || r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->type != REDIS_REPLY_INTEGER)
		return (GATE_DOWN);
	for (i = 0; i < nside; i++) {
		e = r->element[2 + i];
		side[i].read = true;
		side[i].value = e->type == REDIS_REPLY_STRING ?
		    strtoll(e->str, NULL, 10) : -1;
	}
	*value = r->element[1]->integer;
	switch (r->element[0]->integer) {
	case 1:
		return (GATE_ADMITTED);
	case 0:
		return (GATE_REJECTED);
	case -1:
		return (GATE_MISSING);
	default:
		return (GATE_STALE);
	}
}

enum gate_result
gate_admit(struct redis_conn *rc, int64_t event_id, const char *pool, int qty,
    int64_t *value)
{
	char		 key[80], arg[16];
	const char	*k = key, *a = arg;
	redisReply	*r;
	enum gate_result result;

	gate_key(event_id, pool, key, sizeof key);
	snprintf(arg, sizeof arg, "%d", qty);
	if ((r = redis_script_run(rc, &admit_script, 1, &k, 1, &a)) == NULL)
		return (GATE_DOWN);
	result = admit_answer(r, NULL, 0, value);
	freeReplyObject(r);
	return (result);
}

void
gate_current_call(struct gate_current *g, struct script_call *call,
    int64_t event_id, const char *pool, int qty, const char *entry_key,
    int64_t version, struct cache_side *side, int nside)
{
	int	i;

	if (nside > EVENT_SIDES_MAX)
		fatal("gate_current_call: %d side keys", nside);
	memset(call, 0, sizeof *call);
	gate_key(event_id, pool, g->key, sizeof g->key);
	snprintf(g->qty, sizeof g->qty, "%d", qty);
	snprintf(g->prefix, sizeof g->prefix, "%" PRId64 "|", version);
	g->side = side;
	g->nside = nside;
	call->script = &admit_current_script;
	call->keys[0] = entry_key;
	call->keys[1] = g->key;
	for (i = 0; i < nside; i++) {
		side[i].value = -1;
		side[i].read = false;
		call->keys[2 + i] = side[i].key;
	}
	call->nkeys = 2 + nside;
	call->args[0] = g->qty;
	call->args[1] = g->prefix;
	call->nargs = 2;
}

enum gate_result
gate_current_answer(const struct gate_current *g, const redisReply *r,
    int64_t *value)
{
	return (r == NULL ? GATE_DOWN : admit_answer(r, g->side, g->nside,
	    value));
}

int
gate_adjust(struct redis_conn *rc, int64_t event_id, const char *pool,
    int64_t delta)
{
	char		 key[80], vkey[88], arg[32];
	const char	*keys[2] = { key, vkey }, *a = arg;
	redisReply	*r;

	gate_key(event_id, pool, key, sizeof key);
	version_key(event_id, pool, vkey, sizeof vkey);
	snprintf(arg, sizeof arg, "%" PRId64, delta);
	if ((r = redis_script_run(rc, &adjust_script, 2, keys, 1, &a)) == NULL)
		return (-1);
	freeReplyObject(r);
	return (0);
}

int
gate_init(struct redis_conn *rc, int64_t event_id, const char *pool,
    int64_t value, bool *set)
{
	char		 key[80];
	redisReply	*r;

	*set = false;
	gate_key(event_id, pool, key, sizeof key);
	if ((r = redis_conn_commandf(rc, "SET %s %lld NX", key,
	    (long long)value)) == NULL)
		return (-1);
	*set = r->type == REDIS_REPLY_STATUS;
	freeReplyObject(r);
	return (0);
}

int
gate_version(struct redis_conn *rc, int64_t event_id, const char *pool,
    char *buf, size_t len)
{
	char		 vkey[88];
	redisReply	*r;

	version_key(event_id, pool, vkey, sizeof vkey);
	if ((r = redis_conn_commandf(rc, "GET %s", vkey)) == NULL)
		return (-1);
	snprintf(buf, len, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
	freeReplyObject(r);
	return (0);
}

int
gate_rebuild(struct redis_conn *rc, int64_t event_id, const char *pool,
    int64_t value, const char *version, bool *set)
{
	char		 key[80], vkey[88], arg[32];
	const char	*keys[2] = { key, vkey }, *args[2] = { arg, version };
	redisReply	*r;

	*set = false;
	gate_key(event_id, pool, key, sizeof key);
	version_key(event_id, pool, vkey, sizeof vkey);
	snprintf(arg, sizeof arg, "%" PRId64, value);
	if ((r = redis_script_run(rc, &rebuild_script, 2, keys, 2, args)) ==
	    NULL)
		return (-1);
	*set = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
	freeReplyObject(r);
	return (0);
}

int
gate_forget(struct redis_conn *rc, int64_t event_id, const char *pool)
{
	char		 key[80], vkey[88];
	redisReply	*r;

	gate_key(event_id, pool, key, sizeof key);
	version_key(event_id, pool, vkey, sizeof vkey);
	if ((r = redis_conn_commandf(rc, "DEL %s %s", key, vkey)) == NULL)
		return (-1);
	freeReplyObject(r);
	return (0);
}

int
gate_versions(struct redis_conn *rc, struct gate_check *c, size_t n)
{
	redisReply	**replies, *r;
	const char	***argv;
	char		(*keys)[2][96];
	int		 *argc, rv;
	size_t		  i;

	if (n == 0)
		return (0);
	replies = xcalloc(n, sizeof *replies);
	argv = xcalloc(n, sizeof *argv);
	argc = xcalloc(n, sizeof *argc);
	keys = xcalloc(n, sizeof *keys);
	for (i = 0; i < n; i++) {
		version_key(c[i].event_id, c[i].pool, keys[i][0],
		    sizeof keys[i][0]);
		gate_key(c[i].event_id, c[i].pool, keys[i][1],
		    sizeof keys[i][1]);
		argv[i] = xcalloc(3, sizeof **argv);
		argv[i][0] = "MGET";
		argv[i][1] = keys[i][0];
		argv[i][2] = keys[i][1];
		argc[i] = 3;
	}
	rv = redis_conn_pipeline(rc, (int)n, argc, argv, replies);
	for (i = 0; i < n; i++) {
		r = replies[i];
		c[i].version[0] = c[i].counter[0] = '\0';
		if (rv == 0 && (r == NULL || r->type != REDIS_REPLY_ARRAY ||
		    r->elements != 2))
			rv = -1;
		if (rv == 0 && r->element[0]->type == REDIS_REPLY_STRING)
			snprintf(c[i].version, sizeof c[i].version, "%s",
			    r->element[0]->str);
		if (rv == 0 && r->element[1]->type == REDIS_REPLY_STRING)
			snprintf(c[i].counter, sizeof c[i].counter, "%s",
			    r->element[1]->str);
		if (r != NULL)
			freeReplyObject(r);
		free(argv[i]);
	}
	free(replies);
	free(argv);
	free(argc);
	free(keys);
	return (rv);
}

int
gate_reconcile(struct redis_conn *rc, struct gate_check *c, size_t n)
{
	struct script_call	 *call;
	char			(*kbuf)[2][96], (*want)[24];
	redisReply		 *r;
	int			  rv;
	size_t			  i;

	if (n == 0)
		return (0);
	call = xcalloc(n, sizeof *call);
	kbuf = xcalloc(n, sizeof *kbuf);
	want = xcalloc(n, sizeof *want);
	for (i = 0; i < n; i++) {
		gate_key(c[i].event_id, c[i].pool, kbuf[i][0],
		    sizeof kbuf[i][0]);
		version_key(c[i].event_id, c[i].pool, kbuf[i][1],
		    sizeof kbuf[i][1]);
		snprintf(want[i], sizeof want[i], "%" PRId64, c[i].want);
		call[i].script = &reconcile_script;
		call[i].nkeys = 2;
		call[i].keys[0] = kbuf[i][0];
		call[i].keys[1] = kbuf[i][1];
		call[i].nargs = 3;
		call[i].args[0] = want[i];
		call[i].args[1] = c[i].version;
		call[i].args[2] = c[i].quiet ? c[i].counter : "*";
	}
	rv = redis_scripts_run(rc, call, (int)n);
	for (i = 0; i < n; i++) {
		r = call[i].reply;
		if (rv == 0 && (r == NULL || r->type != REDIS_REPLY_ARRAY ||
		    r->elements != 2 || r->element[0]->type !=
		    REDIS_REPLY_INTEGER))
			rv = -1;
		if (rv == 0) {
			c[i].result = r->element[0]->integer == 0 ? GATE_SAME :
			    r->element[0]->integer == 1 ? GATE_SET : GATE_RACED;
			c[i].had = r->element[1]->type == REDIS_REPLY_STRING ?
			    strtoll(r->element[1]->str, NULL, 10) : -1;
		}
		if (r != NULL)
			freeReplyObject(r);
	}
	free(call);
	free(kbuf);
	free(want);
	return (rv);
}
