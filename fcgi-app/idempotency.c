/* idempotency.c: replay, conflict and in-flight duplicates. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "idempotency.h"
#include "redis_conn.h"
#include "redis_lock.h"
#include "redis_script.h"
#include "store.h"
#include "xmalloc.h"

#define INFLIGHT_TTL	"30000"	/* ms: longer than any reservation takes */

/*
 * "eventId|user|qty", then "|H" for a hold and "|C:code" for a seat class:
 * what a key stands for. (Keys stored before holds and classes existed
 * keep their meaning.)
 */
static char *
canonical(const struct reserve_req *rq)
{
	return (xasprintf("%" PRId64 "|%s|%" PRId64 "%s%s%s", rq->event_id,
	    rq->user, rq->qty, rq->hold ? "|H" : "", rq->seat_type != NULL ?
	    "|C:" : "", rq->seat_type != NULL ? rq->seat_type : ""));
}

char *
idem_canonical(const struct reserve_req *rq)
{
	char	*c = canonical(rq), *q = db_quote(c);

	free(c);
	return (q);
}

enum idem_state { IDEM_NEW, IDEM_SAME, IDEM_OTHER, IDEM_ERROR };

/* What the key already stands for in the database. */
static enum idem_state
idem_lookup(struct store *st, const struct reserve_req *rq, int64_t *res_id)
{
	struct db_res	*res;
	char		**row, *u = db_quote(rq->user), *k = db_quote(rq->idem_key);
	char		*c = idem_canonical(rq), *sql;
	enum idem_state	 s = IDEM_NEW;

	sql = xasprintf("SELECT id, request_hash = SHA2(%s, 256) FROM "
	    "reservations WHERE user_id = %s AND idempotency_key = %s", c, u, k);
	free(u);
	free(k);
	free(c);
	res = db_query(st->db, sql);
	free(sql);
	if (res == NULL)
		return (IDEM_ERROR);
	if ((row = db_res_next(res)) != NULL) {
		*res_id = strtoll(row[0], NULL, 10);
		s = row[1] != NULL && strcmp(row[1], "1") == 0 ? IDEM_SAME :
		    IDEM_OTHER;
	}
	db_res_free(res);
	return (s);
}

static enum reserve_outcome
answer(struct store *st, enum idem_state s, int64_t res_id,
    struct reservation *res)
{
	switch (s) {
	case IDEM_NEW:
		return (RESERVE_OK);
	case IDEM_OTHER:
		return (RESERVE_IDEM_CONFLICT);
	case IDEM_ERROR:
		return (db_fault(st->db) == DB_REFUSED ? RESERVE_FAILED :
		    RESERVE_UNAVAILABLE);
	case IDEM_SAME:
		break;
	}
	switch (reservation_load(st->db, res_id, res)) {
	case LOOKUP_FOUND:
		return (RESERVE_REPLAY);
	case LOOKUP_NONE:
		return (RESERVE_FAILED);
	case LOOKUP_ERROR:
		break;
	}
	return (RESERVE_UNAVAILABLE);
}

/*
 * The in-flight marker: set it (1), or say what another request's marker
 * stands for (its text), or 0 when it went meanwhile. ARGV: the text, the
 * TTL in ms.
 */
static struct redis_script mark_script = REDIS_SCRIPT("idem_mark",
    "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then "
    "return 1 end "
    "return redis.call('GET', KEYS[1]) or 0");

bool
idem_begin_call(const struct reserve_req *rq, struct idem_mark *m,
    struct script_call *call)
{
	memset(m, 0, sizeof *m);
	if (rq->idem_key == NULL)
		return (false);
	/* The user's length keeps "a:b"+"c" apart from "a"+"b:c". */
	snprintf(m->key, sizeof m->key, "bo:{idem}:%zu:%s:%s", strlen(rq->user),
	    rq->user, rq->idem_key);
	m->canon = canonical(rq);
	memset(call, 0, sizeof *call);
	call->script = &mark_script;
	call->keys[0] = m->key;
	call->nkeys = 1;
	call->args[0] = m->canon;
	call->args[1] = INFLIGHT_TTL;
	call->nargs = 2;
	return (true);
}

enum reserve_outcome
idem_begin_answer(struct idem_mark *m, const redisReply *r)
{
	/* Redis unavailable, or the marker just went: the database decides. */
	if (r == NULL || (r->type == REDIS_REPLY_INTEGER && r->integer == 0))
		return (RESERVE_OK);
	if (r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
		m->held = true;
		return (RESERVE_OK);
	}
	if (r->type != REDIS_REPLY_STRING)
		return (RESERVE_OK);
	return (strcmp(r->str, m->canon) == 0 ? RESERVE_IDEM_IN_FLIGHT :
	    RESERVE_IDEM_CONFLICT);
}

enum reserve_outcome
idem_begin(struct store *st, const struct reserve_req *rq,
    struct idem_mark *m)
{
	struct script_call	call;
	enum reserve_outcome	o;
	redisReply		*r;

	if (!idem_begin_call(rq, m, &call))
		return (RESERVE_OK);
	r = redis_script_run(st->redis, call.script, call.nkeys, call.keys,
	    call.nargs, call.args);
	o = idem_begin_answer(m, r);
	if (r != NULL)
		freeReplyObject(r);
	return (o);
}

enum reserve_outcome
idem_twin(struct store *st, const struct reserve_req *rq,
    enum reserve_outcome o, struct reservation *res)
{
	enum idem_state	s;
	int64_t		res_id = 0;

	if (rq->idem_key == NULL)
		return (o);
	s = idem_lookup(st, rq, &res_id);
	return (s == IDEM_NEW ? o : answer(st, s, res_id, res));
}

void
idem_end(struct store *st, struct idem_mark *m)
{
	if (m->held)
		(void)redis_lock_release(st->redis, m->key, m->canon);
	free(m->canon);
	memset(m, 0, sizeof *m);
}
