/* event_cache.c: the versioned Redis cache of events. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "conf.h"
#include "event_cache.h"
#include "log.h"
#include "metrics.h"
#include "redis_conn.h"
#include "redis_gate.h"
#include "redis_lock.h"
#include "redis_script.h"
#include "store.h"
#include "xmalloc.h"

/* 2^53 - 1: Lua's numbers are doubles; no real version gets near it. */
#define TOMBSTONE_VERSION	"9007199254740991"

/* Keep the newer entry: ARGV = version, entry, ttl. 1 written, 0 kept. */
static struct redis_script put_script = REDIS_SCRIPT("event_cache_put",
    "local cur = redis.call('GET', KEYS[1]) "
    "if cur then "
    "local v = tonumber(string.match(cur, '^(%d+)|')) "
    "if v and v >= tonumber(ARGV[1]) then return 0 end "
    "end "
    "redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) "
    "return 1");

/* Drop an entry that does not decode, unless it changed meanwhile. */
static struct redis_script drop_script = REDIS_SCRIPT("event_cache_drop",
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "return redis.call('DEL', KEYS[1]) end return 0");

void
event_cache_key(int64_t id, char *buf, size_t len)
{
	snprintf(buf, len, "bo:{ev:%" PRId64 "}:event", id);
}

/* [[code, price, own seats or -1, shards], ...] */
static struct json_object *
classes_encode(const struct event *ev)
{
	struct json_object	*arr = json_object_new_array(), *c;
	int			 i;

	for (i = 0; i < ev->nclasses; i++) {
		c = json_object_new_array();
		json_object_array_add(c, json_object_new_string(
		    ev->classes[i].code));
		json_object_array_add(c, json_object_new_int64(
		    ev->classes[i].price));
		json_object_array_add(c, json_object_new_int64(
		    ev->classes[i].own_seats));
		json_object_array_add(c, json_object_new_int(
		    ev->classes[i].shards));
		json_object_array_add(arr, c);
	}
	return (arr);
}

char *
event_cache_encode(const struct event *ev)
{
	struct json_object	*o = json_object_new_object();
	char			*s;

	json_object_object_add(o, "id", json_object_new_int64(ev->id));
	json_object_object_add(o, "n", json_object_new_string(ev->name));
	json_object_object_add(o, "v", ev->venue != NULL ?
	    json_object_new_string(ev->venue) : NULL);
	json_object_object_add(o, "d", json_object_new_int64(ev->date_ms));
	json_object_object_add(o, "t", json_object_new_int64(ev->total));
	json_object_object_add(o, "u", json_object_new_int(ev->per_user_limit));
	json_object_object_add(o, "m", json_object_new_int(ev->max_per_request));
	json_object_object_add(o, "k", json_object_new_int(ev->shards));
	json_object_object_add(o, "s", json_object_new_int(ev->status));
	json_object_object_add(o, "c", json_object_new_int64(ev->created_ms));
	json_object_object_add(o, "p", json_object_new_int64(ev->updated_ms));
	json_object_object_add(o, "w", json_object_new_int(
	    ev->waiting_room ? ev->admit_per_second : 0));
	json_object_object_add(o, "a", ev->venue_address != NULL ?
	    json_object_new_string(ev->venue_address) : NULL);
	json_object_object_add(o, "vc", json_object_new_int64(ev->venue_capacity));
	json_object_object_add(o, "cu", json_object_new_string(ev->currency));
	json_object_object_add(o, "cl", classes_encode(ev));
	s = xasprintf("%" PRId64 "|%s", ev->version,
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return (s);
}

/* An integer member within [min, max]. */
static bool
get_int(struct json_object *o, const char *key, int64_t min, int64_t max,
    int64_t *out)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return (false);
	*out = json_object_get_int64(v);
	return (*out >= min && *out <= max);
}

/* An element of an array as an integer in [min, max]. */
static bool
elem_int(struct json_object *a, size_t i, int64_t min, int64_t max,
    int64_t *out)
{
	struct json_object	*v = json_object_array_get_idx(a, i);

	if (v == NULL || !json_object_is_type(v, json_type_int))
		return (false);
	*out = json_object_get_int64(v);
	return (*out >= min && *out <= max);
}

static bool
decode_classes(struct json_object *o, struct event *ev)
{
	struct json_object	*cl, *c, *code;
	struct seat_class	*sc;
	int64_t			 shards;
	size_t			 i, n;

	if (!json_object_object_get_ex(o, "cl", &cl) ||
	    !json_object_is_type(cl, json_type_array) ||
	    (n = json_object_array_length(cl)) > EVENT_MAX_CLASSES)
		return (false);
	for (i = 0; i < n; i++) {
		sc = &ev->classes[i];
		c = json_object_array_get_idx(cl, i);
		if (c == NULL || !json_object_is_type(c, json_type_array) ||
		    json_object_array_length(c) != 4 ||
		    (code = json_object_array_get_idx(c, 0)) == NULL ||
		    !json_object_is_type(code, json_type_string) ||
		    json_object_get_string_len(code) < 1 ||
		    json_object_get_string_len(code) > CLASS_CODE_MAX ||
		    !elem_int(c, 1, 0, INT64_MAX, &sc->price) ||
		    !elem_int(c, 2, -1, 10000000, &sc->own_seats) ||
		    !elem_int(c, 3, 0, EVENT_MAX_SHARDS, &shards) ||
		    (sc->own_seats >= 0) != (shards > 0))
			return (false);
		snprintf(sc->code, sizeof sc->code, "%s",
		    json_object_get_string(code));
		sc->shards = (int)shards;
	}
	ev->nclasses = (int)n;
	return (true);
}

/* A string member, or null when nullable. */
static bool
get_str(struct json_object *o, const char *key, bool nullable,
    const char **out)
{
	struct json_object	*v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v))
		return (false);
	if (v == NULL)
		return (nullable);
	if (!json_object_is_type(v, json_type_string))
		return (false);
	*out = json_object_get_string(v);
	return (true);
}

static bool
decode_fields(struct json_object *o, struct event *ev)
{
	const char		*name, *venue, *address, *currency;
	int64_t			 u, m, k, s, w;

	if (!get_int(o, "d", 0, INT64_MAX, &ev->date_ms) ||
	    !get_int(o, "t", 1, 10000000, &ev->total) ||
	    !get_int(o, "u", 1, 10000, &u) ||
	    !get_int(o, "m", 1, 100, &m) ||
	    !get_int(o, "k", 1, EVENT_MAX_SHARDS, &k) ||
	    !get_int(o, "s", EVENT_ACTIVE, EVENT_CANCELLED, &s) ||
	    !get_int(o, "c", 0, INT64_MAX, &ev->created_ms) ||
	    !get_int(o, "p", 0, INT64_MAX, &ev->updated_ms) ||
	    !get_int(o, "w", 0, 100000, &w) ||
	    !get_int(o, "vc", -1, INT64_MAX, &ev->venue_capacity) ||
	    !get_str(o, "n", false, &name) || !get_str(o, "v", true, &venue) ||
	    !get_str(o, "a", true, &address) ||
	    !get_str(o, "cu", false, &currency) || strlen(currency) > 3 ||
	    !decode_classes(o, ev))
		return (false);
	ev->per_user_limit = (int)u;
	ev->max_per_request = (int)m;
	ev->shards = (int)k;
	ev->status = (int)s;
	/* The waiting room's pace, 0 when it is off. */
	ev->waiting_room = w > 0;
	ev->admit_per_second = (int)w;
	ev->name = xstrdup(name);
	ev->venue = venue != NULL ? xstrdup(venue) : NULL;
	ev->venue_address = address != NULL ? xstrdup(address) : NULL;
	snprintf(ev->currency, sizeof ev->currency, "%s", currency);
	return (true);
}

enum lookup
event_cache_decode(const char *s, int64_t id, struct event *ev)
{
	struct json_object	*o;
	char			*end;
	int64_t			 got;
	long long		 version;
	bool			 ok;

	memset(ev, 0, sizeof *ev);
	version = strtoll(s, &end, 10);
	if (end == s || *end != '|' || version < 1)
		return (LOOKUP_ERROR);
	if (strcmp(s, TOMBSTONE_VERSION "|-") == 0)
		return (LOOKUP_NONE);
	if ((o = json_tokener_parse(end + 1)) == NULL)
		return (LOOKUP_ERROR);
	ok = json_object_is_type(o, json_type_object) &&
	    get_int(o, "id", id, id, &got) && decode_fields(o, ev);
	json_object_put(o);
	if (!ok) {
		event_free(ev);
		return (LOOKUP_ERROR);
	}
	ev->id = id;
	ev->version = version;
	return (LOOKUP_FOUND);
}

/* SET unless a newer entry is there. */
static void
cache_write(struct store *st, int64_t id, const char *version,
    const char *entry)
{
	char		 key[64], ttl[16];
	const char	*k = key, *args[3];
	redisReply	*r;

	event_cache_key(id, key, sizeof key);
	snprintf(ttl, sizeof ttl, "%d", st->conf->cache_ttl_s);
	args[0] = version;
	args[1] = entry;
	args[2] = ttl;
	if ((r = redis_script_run(st->redis, &put_script, 1, &k, 3,
	    args)) == NULL) {
		/* The old entry lives out its TTL; the SQL still decides. */
		log_warn("cache: could not write %s: %s", key,
		    redis_conn_errstr(st->redis));
		return;
	}
	freeReplyObject(r);
}

void
event_cache_put(struct store *st, const struct event *ev)
{
	char	*entry = event_cache_encode(ev), version[24];

	snprintf(version, sizeof version, "%" PRId64, ev->version);
	cache_write(st, ev->id, version, entry);
	free(entry);
}

void
event_cache_bury(struct store *st, int64_t id)
{
	cache_write(st, id, TOMBSTONE_VERSION, TOMBSTONE_VERSION "|-");
}

/* Refill after a miss, when this worker wins the single-flight lock. */
static void
cache_fill(struct store *st, const struct event *ev)
{
	char	lock[80], token[LOCK_TOKEN_LEN + 1];

	snprintf(lock, sizeof lock, "bo:{ev:%" PRId64 "}:fill", ev->id);
	if (redis_lock_acquire(st->redis, lock, 1000, token) != LOCK_ACQUIRED)
		return;
	event_cache_put(st, ev);
	(void)redis_lock_release(st->redis, lock, token);
}

/* A bad entry must not outlive this miss: the fill could not replace it. */
static void
cache_drop(struct store *st, const char *key, const char *bad)
{
	redisReply	*r;

	log_warn("cache: %s does not decode; dropped", key);
	if ((r = redis_script_run(st->redis, &drop_script, 1, &key, 1,
	    &bad)) != NULL)
		freeReplyObject(r);
}

enum lookup
event_fetch(struct store *st, int64_t id, struct event *ev, bool *hit,
    int64_t *available, struct cache_side *side, int nside)
{
	char			 key[64];
	const char		*argv[1 + 1 + EVENT_SIDES_MAX];
	redisReply		*r, *c = NULL, *e;
	enum lookup	 found = LOOKUP_ERROR;
	int			 i;

	if (nside > EVENT_SIDES_MAX)
		fatal("event_fetch: %d side keys", nside);
	*hit = false;
	*available = -1;
	event_cache_key(id, key, sizeof key);
	argv[0] = "MGET";
	argv[1] = key;
	for (i = 0; i < nside; i++) {
		side[i].value = -1;
		side[i].read = false;
		argv[2 + i] = side[i].key;
	}
	/* The sides share the {ev:ID} hash slot: one round trip for all. */
	if ((r = redis_conn_command(st->redis, 2 + nside, argv, NULL)) !=
	    NULL) {
		if (r->type == REDIS_REPLY_ARRAY && r->elements ==
		    (size_t)(1 + nside)) {
			c = r->element[0];
			for (i = 0; i < nside; i++) {
				e = r->element[1 + i];
				side[i].read = true;
				if (e->type == REDIS_REPLY_STRING)
					side[i].value = strtoll(e->str, NULL,
					    10);
			}
		}
		if (c != NULL && c->type == REDIS_REPLY_STRING &&
		    (found = event_cache_decode(c->str, id, ev)) == LOOKUP_ERROR)
			cache_drop(st, key, c->str);
		freeReplyObject(r);
		if (found != LOOKUP_ERROR) {
			*hit = true;
			METRIC_INC(cache_hits);
			return (found);
		}
	}
	METRIC_INC(cache_misses);
	if ((found = event_load(st->db, id, ev, available)) == LOOKUP_FOUND &&
	    redis_conn_connected(st->redis))
		cache_fill(st, ev);
	return (found);
}
