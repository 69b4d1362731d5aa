/* waitroom.c: the queue, the shared poll, admission and its pace. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "db.h"
#include "event.h"
#include "event_cache.h"
#include "inventory.h"
#include "log.h"
#include "metrics.h"
#include "redis_conn.h"
#include "redis_gate.h"
#include "redis_script.h"
#include "store.h"
#include "timeutil.h"
#include "waitroom.h"

#define CATCH_UP_MS	2000	/* a new lease holder admits at most 2 s late */
#define ROOMS_PER_TICK	1000

/* {number, 1 if new, serving}. */
static struct redis_script join_script = REDIS_SCRIPT("queue_join",
    "local n = redis.call('HGET', KEYS[1], ARGV[1]) "
    "local new = 0 "
    "if not n then "
    "n = redis.call('INCR', KEYS[2]) "
    "redis.call('HSET', KEYS[1], ARGV[1], n) "
    "new = 1 end "
    "return {tonumber(n), new, tonumber(redis.call('GET', KEYS[3]) or '0')}");

/*
 * Move serving by rate per second since `at`, never more than one second
 * of numbers past the last one issued, never backwards. ARGV: now_ms,
 * rate, the longest gap to catch up. Returns {serving, issued}.
 */
static struct redis_script advance_script = REDIS_SCRIPT("queue_advance",
    "local now = tonumber(ARGV[1]) local rate = tonumber(ARGV[2]) "
    "local at = tonumber(redis.call('GET', KEYS[3]) or ARGV[1]) "
    "local serving = tonumber(redis.call('GET', KEYS[1]) or '0') "
    "local seq = tonumber(redis.call('GET', KEYS[2]) or '0') "
    "if now - at > tonumber(ARGV[3]) then at = now - tonumber(ARGV[3]) end "
    "local add = math.floor((now - at) * rate / 1000) "
    "local target = serving + add "
    "if target >= seq + rate then "
    "target = math.max(serving, seq + rate) at = now "
    "else at = at + math.floor(add * 1000 / rate) end "
    "redis.call('SET', KEYS[1], target) "
    "redis.call('SET', KEYS[3], string.format('%d', at)) "
    "return {target, seq}");

static void
qkey(int64_t event_id, const char *what, char *buf, size_t len)
{
	snprintf(buf, len, "bo:{ev:%" PRId64 "}:q:%s", event_id, what);
}

/* A room's numbers, read beside its event (room_of). */
struct room_numbers {
	int64_t	serving;	/* the highest number admitted (0: none) */
	int64_t	issued;		/* numbers handed out (0: none) */
	int64_t	gate;		/* the common pool's counter, -1: none */
};

/*
 * The event, which must have its waiting room on; with nums, the room's
 * numbers too, in the same round trip (Redis down: QUEUE_UNAVAILABLE).
 */
static enum queue_outcome
room_of(struct store *st, int64_t event_id, struct event *ev,
    struct room_numbers *nums)
{
	struct cache_side	side[3];
	char			skey[64], seq[64], avail[80];
	int64_t			available;
	bool			hit;

	qkey(event_id, "serving", skey, sizeof skey);
	qkey(event_id, "seq", seq, sizeof seq);
	gate_key(event_id, "", avail, sizeof avail);
	side[0].key = skey;
	side[1].key = seq;
	side[2].key = avail;
	switch (event_fetch(st, event_id, ev, &hit, &available, side,
	    nums != NULL ? 3 : 0)) {
	case LOOKUP_ERROR:
		return (QUEUE_UNAVAILABLE);
	case LOOKUP_NONE:
		return (QUEUE_NO_EVENT);
	case LOOKUP_FOUND:
		break;
	}
	if (!ev->waiting_room) {
		event_free(ev);
		return (QUEUE_NO_ROOM);
	}
	/* No secret, no room: tokens signed with "" would be forgeable. */
	if (*st->conf->admission_secret == '\0') {
		log_warn("waiting room of event %" PRId64 " is on but "
		    "admission_secret is empty: it stays closed", event_id);
		event_free(ev);
		return (QUEUE_UNAVAILABLE);
	}
	if (nums == NULL)
		return (QUEUE_OK);
	if (!side[0].read) {
		event_free(ev);
		return (QUEUE_UNAVAILABLE);
	}
	nums->serving = side[0].value < 0 ? 0 : side[0].value;
	nums->issued = side[1].value < 0 ? 0 : side[1].value;
	nums->gate = side[2].value;
	return (QUEUE_OK);
}

enum queue_outcome
queue_join(struct store *st, int64_t event_id, const char *user,
    struct queue_join *out)
{
	struct event		 ev;
	struct waitroom_pass	 p;
	enum queue_outcome	 o;
	char			 users[64], seq[64], serving[64];
	const char		*keys[3] = { users, seq, serving };
	redisReply		*r;
	int64_t			 ahead;

	memset(out, 0, sizeof *out);
	if ((o = room_of(st, event_id, &ev, NULL)) != QUEUE_OK)
		return (o);
	qkey(event_id, "users", users, sizeof users);
	qkey(event_id, "seq", seq, sizeof seq);
	qkey(event_id, "serving", serving, sizeof serving);
	r = redis_script_run(st->redis, &join_script, 3, keys, 1, &user);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
		if (r != NULL)
			freeReplyObject(r);
		event_free(&ev);
		return (QUEUE_UNAVAILABLE);
	}
	out->number = r->element[0]->integer;
	out->serving = r->element[2]->integer;
	if (r->element[1]->integer == 1)
		METRIC_INC(queue_joined);
	freeReplyObject(r);
	memset(&p, 0, sizeof p);
	p.event_id = event_id;
	p.number = out->number;
	snprintf(p.user, sizeof p.user, "%s", user);
	ticket_encode(st->conf->admission_secret, &p, out->ticket);
	/* Poll about five times before the turn comes, 1 to 15 s apart. */
	ahead = out->number - out->serving;
	out->poll_after_ms = ahead <= 0 ? 1000 : (int)(ahead * 200 /
	    ev.admit_per_second);
	if (out->poll_after_ms < 1000)
		out->poll_after_ms = 1000;
	if (out->poll_after_ms > 15000)
		out->poll_after_ms = 15000;
	event_free(&ev);
	return (QUEUE_OK);
}

enum queue_outcome
queue_poll(struct store *st, int64_t event_id, struct queue_state *out)
{
	struct event		ev;
	struct room_numbers	n;
	enum queue_outcome	o;

	memset(out, 0, sizeof *out);
	if ((o = room_of(st, event_id, &ev, &n)) != QUEUE_OK)
		return (o);
	out->admit_per_second = ev.admit_per_second;
	out->serving = n.serving;
	out->issued = n.issued;
	/*
	 * The common pool's gate counter, or the database when there is none
	 * or the seats are in classes' pools.
	 */
	if ((n.gate < 0 || ev.nclasses > 0) && inventory_available(st->db,
	    event_id, NULL, &n.gate) == INV_ERROR) {
		event_free(&ev);
		return (QUEUE_UNAVAILABLE);
	}
	out->sold_out = n.gate <= 0 || !event_on_sale(&ev, time_real_ms());
	event_free(&ev);
	return (QUEUE_OK);
}

enum queue_outcome
queue_admit(struct store *st, int64_t event_id, const char *ticket,
    struct queue_admission *out)
{
	struct waitroom_pass	p;
	struct event		ev;
	struct room_numbers	n;
	enum queue_outcome	o;
	int64_t			wait;

	memset(out, 0, sizeof *out);
	if ((o = room_of(st, event_id, &ev, &n)) != QUEUE_OK)
		return (o);
	if (ticket_decode(st->conf->admission_secret, ticket, event_id,
	    &p) != TOKEN_OK)
		o = QUEUE_FORGED;
	else if (p.number > n.serving) {
		wait = (p.number - n.serving + ev.admit_per_second - 1) /
		    ev.admit_per_second;
		out->retry_after_s = wait < 1 ? 1 : wait > 60 ? 60 : (int)wait;
		o = QUEUE_NOT_YET;
	} else {
		p.expires_s = time_real_ms() / 1000 + st->conf->admission_ttl_s;
		out->expires_ms = p.expires_s * 1000;
		admission_encode(st->conf->admission_secret, &p, out->token);
		METRIC_INC(queue_admitted);
	}
	event_free(&ev);
	return (o);
}

int64_t
admission_number(const struct bo_conf *conf, int64_t event_id,
    const char *user, const char *token, char *key, size_t keylen,
    struct cache_side *side)
{
	struct waitroom_pass	p;

	if (token == NULL || *conf->admission_secret == '\0' ||
	    admission_decode(conf->admission_secret, token, event_id, user,
	    time_real_ms() / 1000, &p) != TOKEN_OK)
		return (-1);
	snprintf(key, keylen, "bo:{ev:%" PRId64 "}:q:used:%" PRId64, event_id,
	    p.number);
	side->key = key;
	return (p.number);
}

bool
admission_left(const struct bo_conf *conf, const struct cache_side *side)
{
	return (!side->read || side->value < conf->admission_max_uses);
}

void
admission_used(struct store *st, int64_t event_id, int64_t number)
{
	char		 used[80], ttl[16];
	const char	*incr[] = { "INCR", used }, *expire[] = { "EXPIRE", used,
			    ttl }, **argv[] = { incr, expire };
	const int	 argc[] = { 2, 3 };
	redisReply	*r[2];

	snprintf(used, sizeof used, "bo:{ev:%" PRId64 "}:q:used:%" PRId64,
	    event_id, number);
	snprintf(ttl, sizeof ttl, "%d", st->conf->admission_ttl_s);
	/* One round trip; a lost count only lets a token be used once more. */
	if (redis_conn_pipeline(st->redis, 2, argc, argv, r) == 0)
		for (int i = 0; i < 2; i++)
			if (r[i] != NULL)
				freeReplyObject(r[i]);
}

/* One room's step; its numbers go to the metrics slot i. */
static void
advance(struct store *st, int64_t event_id, int rate, size_t i)
{
	char		 serving[64], seq[64], at[64], now[24], r_s[16], cu[16];
	const char	*keys[3] = { serving, seq, at }, *args[3] = { now, r_s,
			    cu };
	redisReply	*r;

	qkey(event_id, "serving", serving, sizeof serving);
	qkey(event_id, "seq", seq, sizeof seq);
	qkey(event_id, "at", at, sizeof at);
	snprintf(now, sizeof now, "%" PRId64, time_real_ms());
	snprintf(r_s, sizeof r_s, "%d", rate);
	snprintf(cu, sizeof cu, "%d", CATCH_UP_MS);
	if ((r = redis_script_run(st->redis, &advance_script, 3, keys, 3,
	    args)) == NULL)
		return;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2)
		metrics_queue(i, event_id, r->element[0]->integer,
		    r->element[1]->integer);
	freeReplyObject(r);
}

int
waitroom_advance_all(struct store *st)
{
	struct db_res	*res;
	char		**row, sql[200];
	size_t		 i = 0;

	snprintf(sql, sizeof sql, "SELECT id, admit_per_second FROM events "
	    "WHERE waiting_room = 1 AND status = 'ACTIVE' ORDER BY id LIMIT %d",
	    ROOMS_PER_TICK);
	if ((res = db_query(st->db, sql)) == NULL)
		return (-1);
	while ((row = db_res_next(res)) != NULL)
		advance(st, strtoll(row[0], NULL, 10), atoi(row[1]), i++);
	db_res_free(res);
	metrics_queue_clear(i);
	return (0);
}
