/* redis_gate.c: the Lua admission gate and its counter upkeep. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "db.h"
#include "metrics.h"
#include "redis_conn.h"
#include "redis_gate.h"
#include "redis_lock.h"
#include "redis_script.h"
#include "xmalloc.h"

/* {1, left} admitted; {0, have} too few; {-1, 0} no counter. */
static struct redis_script admit_script = REDIS_SCRIPT("gate_admit",
    "local v = redis.call('GET', KEYS[1]) "
    "if not v then return {-1, 0} end "
    "v = tonumber(v) "
    "local q = tonumber(ARGV[1]) "
    "if v < q then return {0, v} end "
    "return {1, redis.call('DECRBY', KEYS[1], q)}");

static struct redis_script adjust_script = REDIS_SCRIPT("gate_adjust",
    "if redis.call('EXISTS', KEYS[1]) == 1 then "
    "return redis.call('INCRBY', KEYS[1], ARGV[1]) end return false");

void
gate_key(int64_t event_id, char *buf, size_t len)
{
	snprintf(buf, len, "bo:{ev:%" PRId64 "}:avail", event_id);
}

enum gate_result
gate_admit(struct redis_conn *rc, int64_t event_id, int qty, int64_t *value,
    char *err, size_t errlen)
{
	char		 key[64], arg[16];
	const char	*k = key, *a = arg;
	redisReply	*r;
	enum gate_result result;

	gate_key(event_id, key, sizeof key);
	snprintf(arg, sizeof arg, "%d", qty);
	r = redis_script_run(rc, &admit_script, 1, &k, 1, &a, err, errlen);
	if (r == NULL)
		return (GATE_DOWN);
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->type != REDIS_REPLY_INTEGER) {
		snprintf(err, errlen, "gate_admit: unexpected reply");
		freeReplyObject(r);
		return (GATE_DOWN);
	}
	*value = r->element[1]->integer;
	switch (r->element[0]->integer) {
	case 1:
		result = GATE_ADMITTED;
		break;
	case 0:
		result = GATE_REJECTED;
		break;
	default:
		result = GATE_MISSING;
		break;
	}
	freeReplyObject(r);
	return (result);
}

int
gate_adjust(struct redis_conn *rc, int64_t event_id, int64_t delta, char *err,
    size_t errlen)
{
	char		 key[64], arg[32];
	const char	*k = key, *a = arg;
	redisReply	*r;

	gate_key(event_id, key, sizeof key);
	snprintf(arg, sizeof arg, "%" PRId64, delta);
	if ((r = redis_script_run(rc, &adjust_script, 1, &k, 1, &a, err,
	    errlen)) == NULL)
		return (-1);
	freeReplyObject(r);
	return (0);
}

int
gate_read(struct redis_conn *rc, int64_t event_id, int64_t *value, char *err,
    size_t errlen)
{
	char		 key[64];
	redisReply	*r;
	int		 found = 0;

	gate_key(event_id, key, sizeof key);
	if ((r = redis_conn_commandf(rc, err, errlen, "GET %s", key)) == NULL)
		return (-1);
	if (r->type == REDIS_REPLY_STRING) {
		*value = strtoll(r->str, NULL, 10);
		found = 1;
	} else if (r->type == REDIS_REPLY_ERROR) {
		snprintf(err, errlen, "GET %s: %s", key, r->str);
		found = -1;
	}
	freeReplyObject(r);
	return (found);
}

int
gate_set(struct redis_conn *rc, int64_t event_id, int64_t value, char *err,
    size_t errlen)
{
	char		 key[64];
	redisReply	*r;
	int		 rv = 0;

	gate_key(event_id, key, sizeof key);
	r = redis_conn_commandf(rc, err, errlen, "SET %s %lld", key,
	    (long long)value);
	if (r == NULL)
		return (-1);
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(err, errlen, "SET %s: %s", key, r->str);
		rv = -1;
	}
	freeReplyObject(r);
	return (rv);
}

int
gate_forget(struct redis_conn *rc, int64_t event_id, char *err, size_t errlen)
{
	char		 key[64];
	redisReply	*r;

	gate_key(event_id, key, sizeof key);
	if ((r = redis_conn_commandf(rc, err, errlen, "DEL %s", key)) == NULL)
		return (-1);
	freeReplyObject(r);
	return (0);
}

int
gate_rebuild(struct redis_conn *rc, struct db *db, int64_t event_id,
    char *err, size_t errlen)
{
	char		 key[64], lock[80], token[LOCK_TOKEN_LEN + 1], *sql;
	char		 lerr[256];
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	redisReply	*r;
	int		 got, rv = -1;

	gate_key(event_id, key, sizeof key);
	snprintf(lock, sizeof lock, "bo:{ev:%" PRId64 "}:rebuild", event_id);
	if ((got = redis_lock_acquire(rc, lock, 2000, token, err,
	    errlen)) != 1)
		return (got == 0 ? 0 : -1);
	sql = xasprintf("SELECT COALESCE(SUM(available), 0), COUNT(*) FROM "
	    "event_inventory WHERE event_id = %" PRId64, event_id);
	res = db_select(db, sql, err, errlen);
	free(sql);
	if (res != NULL) {
		row = mysql_fetch_row(res);
		if (row != NULL && strtoll(row[1], NULL, 10) > 0) {
			/* NX: a counter set meanwhile is at least as fresh. */
			r = redis_conn_commandf(rc, err, errlen,
			    "SET %s %s NX", key, row[0]);
			if (r != NULL) {
				rv = r->type == REDIS_REPLY_STATUS ? 1 : 0;
				freeReplyObject(r);
			}
			if (rv == 1)
				METRIC_INC(gate_rebuilds);
		} else
			rv = 0;
		mysql_free_result(res);
	}
	if (redis_lock_release(rc, lock, token, lerr, sizeof lerr) == -1 &&
	    rv != -1)
		snprintf(err, errlen, "%s", lerr);
	return (rv);
}
