/* event_admin.c: the create, update and delete transactions of events. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "db.h"
#include "event_admin.h"
#include "event_cache.h"
#include "inventory.h"
#include "log.h"
#include "redis_conn.h"
#include "redis_gate.h"
#include "store.h"
#include "timeutil.h"
#include "txn.h"
#include "xmalloc.h"

enum attempt { ATTEMPT_OK, ATTEMPT_RETRY, ATTEMPT_FINAL, ATTEMPT_AMBIGUOUS };

/* One operation: its input, and the body of one attempt. */
struct admin_op {
	int64_t				 id;
	const struct event_changes	*ch;
	const char			*request_id;
	struct admin_result		*out;
	int64_t				 prev_total;	/* before an update */
	enum admin_outcome		 outcome;	/* when FINAL */
	enum attempt			(*once)(struct store *,
					    struct admin_op *, const char *);
};

static enum admin_outcome
failed(struct store *st, struct admin_result *out)
{
	snprintf(out->detail, sizeof out->detail, "%s", db_fault(st->db) ==
	    DB_OK ? "a guard refused the change" : db_errstr(st->db));
	return (db_fault_unavailable(db_fault(st->db)) ? ADMIN_UNAVAILABLE :
	    ADMIN_FAILED);
}

/* A failed step: roll back, and say whether the whole may run again. */
static enum attempt
step_failed(struct store *st, struct admin_op *op)
{
	enum db_fault	f = db_fault(st->db);

	if (f == DB_AMBIGUOUS)
		return (ATTEMPT_AMBIGUOUS);
	op->outcome = failed(st, op->out);
	db_rollback(st->db);
	return (db_fault_retryable(f) ? ATTEMPT_RETRY : ATTEMPT_FINAL);
}

static int
audit(struct store *st, const char *action, const struct event *ev,
    const char *request_id, const char *txn_id)
{
	char	*rid = db_quote(request_id), *sql;
	int	 rv;

	sql = xasprintf("INSERT INTO event_audit (event_id, action, version, "
	    "total_seats, request_id, txn_id) VALUES (%" PRId64 ", '%s', %"
	    PRId64 ", %" PRId64 ", %s, '%s')", ev->id, action, ev->version,
	    ev->total, rid, txn_id);
	rv = db_exec(st->db, sql);
	free(sql);
	free(rid);
	return (rv);
}

/* The audit row of an attempt whose COMMIT answer was lost. */
static enum txn_lookup
ask_txn(struct store *st, const char *txn_id, void *event_id)
{
	struct db_res	*res;
	char		**row, sql[160];
	enum txn_lookup	 l = TXN_UNKNOWN;

	snprintf(sql, sizeof sql, "SELECT event_id FROM event_audit WHERE "
	    "txn_id = '%s'", txn_id);
	if ((res = db_query(st->db, sql)) != NULL) {
		l = TXN_NOT_COMMITTED;
		if ((row = db_res_next(res)) != NULL) {
			*(int64_t *)event_id = strtoll(row[0], NULL, 10);
			l = TXN_COMMITTED;
		}
		db_res_free(res);
	}
	return (l);
}

/* The attempts of one operation, and the lookup after a lost COMMIT. */
static enum admin_outcome
run(struct store *st, struct admin_op *op)
{
	char		txn_id[TXN_ID_LEN + 1];
	enum attempt	a = ATTEMPT_RETRY;
	enum db_fault	why = DB_OK;
	int64_t		id = 0;
	int		n;

	for (n = 0; n < TXN_ATTEMPTS && a == ATTEMPT_RETRY; n++) {
		if (n > 0)
			txn_backoff(n, why);
		txn_new_id(txn_id);
		op->outcome = ADMIN_OK;
		event_free(&op->out->ev);
		if ((a = op->once(st, op, txn_id)) != ATTEMPT_AMBIGUOUS) {
			why = db_fault(st->db);
			continue;
		}
		switch (txn_resolve(st, txn_id, ask_txn, &id)) {
		case TXN_COMMITTED:
			op->id = id;
			a = ATTEMPT_OK;
			break;
		case TXN_NOT_COMMITTED:
			a = ATTEMPT_RETRY;
			why = DB_LOST;
			break;
		case TXN_UNKNOWN:
			op->outcome = failed(st, op->out);
			a = ATTEMPT_FINAL;
			break;
		}
	}
	if (a == ATTEMPT_RETRY)
		op->outcome = failed(st, op->out);
	return (a == ATTEMPT_OK ? ADMIN_OK : op->outcome);
}

/* The shards of a pool of n seats. */
static int
shards_for(const struct store *st, int64_t n)
{
	return (n < st->conf->inventory_shards ? (int)n :
	    st->conf->inventory_shards);
}

/* The classes' rows, and the inventory of each pool. 0 or -1. */
static int
create_pools(struct store *st, int64_t id, const struct event_changes *ch)
{
	const struct seat_class	*c;
	int64_t			 common = ch->total;
	char			*sql;
	int			 i, rv = 0;

	for (i = 0; i < ch->nclasses && rv == 0; i++) {
		c = &ch->classes[i];
		if (c->own_seats < 0)
			sql = xasprintf("INSERT INTO event_classes (event_id, "
			    "code, position, price) VALUES (%" PRId64 ", '%s', "
			    "%d, %" PRId64 ")", id, c->code, i, c->price);
		else {
			common -= c->own_seats;
			sql = xasprintf("INSERT INTO event_classes (event_id, "
			    "code, position, price, own_seats, shards) VALUES (%"
			    PRId64 ", '%s', %d, %" PRId64 ", %" PRId64 ", %d)", id,
			    c->code, i, c->price, c->own_seats, shards_for(st,
			    c->own_seats));
		}
		rv = db_exec(st->db, sql);
		free(sql);
		if (rv == 0 && c->own_seats > 0 && inventory_spread(st->db, id,
		    c->code, c->own_seats, shards_for(st, c->own_seats)) !=
		    INV_OK)
			rv = -1;
	}
	if (rv == 0 && common > 0 && inventory_spread(st->db, id, "", common,
	    shards_for(st, common)) != INV_OK)
		rv = -1;
	return (rv);
}

static enum attempt
create_once(struct store *st, struct admin_op *op, const char *txn_id)
{
	const struct event_changes	*ch = op->ch;
	char	date[40], *name = db_quote(ch->name), *venue = db_quote(ch->venue);
	char	*addr = db_quote(ch->venue_address), *cur;
	char	*sql, cap[24] = "NULL";
	int64_t	 common = ch->total;
	int	 i, rv;

	/* Classes without a currency are priced in the default one. */
	cur = db_quote(ch->currency != NULL ? ch->currency : ch->nclasses > 0 ?
	    st->conf->default_currency : NULL);
	for (i = 0; i < ch->nclasses; i++)
		if (ch->classes[i].own_seats > 0)
			common -= ch->classes[i].own_seats;
	if (ch->venue_capacity >= 0)
		snprintf(cap, sizeof cap, "%" PRId64, ch->venue_capacity);
	time_sql_datetime(ch->date_ms, date, sizeof date);
	sql = xasprintf("INSERT INTO events (event_name, venue, venue_address, "
	    "venue_capacity, currency, event_date, total_seats, per_user_limit, "
	    "max_per_request, shards, waiting_room, admit_per_second) VALUES "
	    "(%s, %s, %s, %s, %s, '%s', %" PRId64 ", %" PRId64 ", %" PRId64
	    ", %d, %d, %" PRId64 ")", name, venue, addr, cap, cur, date,
	    ch->total, ch->per_user_limit, ch->max_per_request,
	    common > 0 ? shards_for(st, common) : 1, ch->has_room && ch->room,
	    ch->has_room && ch->room ? ch->admit_per_second : 0);
	free(name);
	free(venue);
	free(addr);
	free(cur);
	rv = db_begin(st->db) == 0 ? db_exec(st->db, sql) : -1;
	free(sql);
	if (rv == -1)
		return (step_failed(st, op));
	op->id = (int64_t)db_insert_id(st->db);
	if (create_pools(st, op->id, ch) == -1 ||
	    event_lock(st->db, op->id, &op->out->ev, &op->out->available) !=
	    LOOKUP_FOUND ||
	    audit(st, "CREATE", &op->out->ev, op->request_id, txn_id) == -1 ||
	    db_commit(st->db) == -1)
		return (step_failed(st, op));
	return (ATTEMPT_OK);
}

/* UPDATE events SET ..., version + 1: the fields the changes name. */
static char *
update_sql(int64_t id, const struct event_changes *ch)
{
	char	*sql, *q, date[40];
	size_t	 len;
	FILE	*f;

	if ((f = open_memstream(&sql, &len)) == NULL)
		fatal("open_memstream failed");
	fprintf(f, "UPDATE events SET version = version + 1, updated_at = "
	    "CURRENT_TIMESTAMP(3)");
	if (ch->has_name) {
		fprintf(f, ", event_name = %s", q = db_quote(ch->name));
		free(q);
	}
	if (ch->has_venue) {
		fprintf(f, ", venue = %s", q = db_quote(ch->venue));
		free(q);
	}
	if (ch->has_date) {
		time_sql_datetime(ch->date_ms, date, sizeof date);
		fprintf(f, ", event_date = '%s'", date);
	}
	if (ch->has_total)
		fprintf(f, ", total_seats = %" PRId64, ch->total);
	if (ch->has_limit)
		fprintf(f, ", per_user_limit = %" PRId64, ch->per_user_limit);
	if (ch->has_max)
		fprintf(f, ", max_per_request = %" PRId64, ch->max_per_request);
	if (ch->has_status)
		fprintf(f, ", status = '%s'", event_status_name(ch->status));
	if (ch->has_room && ch->room)
		fprintf(f, ", waiting_room = 1, admit_per_second = %" PRId64,
		    ch->admit_per_second);
	else if (ch->has_room)
		fprintf(f, ", waiting_room = 0");
	fprintf(f, " WHERE id = %" PRId64, id);
	fclose(f);
	return (sql);
}

static enum attempt
update_once(struct store *st, struct admin_op *op, const char *txn_id)
{
	const struct event_changes	*ch = op->ch;
	struct event			 before;
	enum lookup		 found;
	enum inv_result			 inv = INV_OK;
	int64_t				 own;
	char				*sql;
	int				 rv;

	if (db_begin(st->db) == -1)
		return (step_failed(st, op));
	/* The row lock makes concurrent updates of one event take turns. */
	if ((found = event_lock(st->db, op->id, &before, NULL)) != LOOKUP_FOUND) {
		if (found == LOOKUP_ERROR)
			return (step_failed(st, op));
		db_rollback(st->db);
		op->outcome = ADMIN_NOT_FOUND;
		return (ATTEMPT_FINAL);
	}
	op->prev_total = before.total;
	/* Only the common pool grows or shrinks; classes keep their own. */
	own = before.total - event_common_seats(&before);
	if (ch->has_total && ch->total != before.total && (own > 0 &&
	    event_common_seats(&before) == 0)) {
		event_free(&before);
		db_rollback(st->db);
		op->outcome = ADMIN_FIXED_TOTAL;
		return (ATTEMPT_FINAL);
	}
	if (ch->has_total && ch->total != before.total)
		inv = ch->total <= own ? INV_SHORT : inventory_resize(st->db,
		    op->id, before.total - own, ch->total - own, &op->out->sold);
	op->out->sold += own > 0 && inv == INV_SHORT ? own : 0;
	event_free(&before);
	if (inv == INV_SHORT) {
		db_rollback(st->db);
		op->outcome = ADMIN_BELOW_SOLD;
		return (ATTEMPT_FINAL);
	}
	sql = update_sql(op->id, ch);
	rv = inv == INV_OK ? db_exec(st->db, sql) : -1;
	free(sql);
	if (rv == 0 && ch->has_limit) {
		/* Holders over a lowered limit keep their seats, buy no more. */
		sql = xasprintf("UPDATE user_event_tally SET seat_limit = "
		    "GREATEST(seats, %" PRId64 ") WHERE event_id = %" PRId64,
		    ch->per_user_limit, op->id);
		rv = db_exec(st->db, sql);
		free(sql);
	}
	/* Read back under the row lock: the answer is this update's state. */
	if (rv == -1 || event_lock(st->db, op->id, &op->out->ev,
	    &op->out->available) != LOOKUP_FOUND ||
	    audit(st, "UPDATE", &op->out->ev, op->request_id, txn_id) == -1 ||
	    db_commit(st->db) == -1)
		return (step_failed(st, op));
	return (ATTEMPT_OK);
}

static enum attempt
delete_once(struct store *st, struct admin_op *op, const char *txn_id)
{
	enum lookup	found;
	char			sql[256];

	if (db_begin(st->db) == -1 || (found = event_lock(st->db, op->id,
	    &op->out->ev, NULL)) == LOOKUP_ERROR)
		return (step_failed(st, op));
	if (found == LOOKUP_NONE) {
		db_rollback(st->db);
		op->outcome = ADMIN_NOT_FOUND;
		return (ATTEMPT_FINAL);
	}
	/* The FK on reservations refuses too; this gives the clear answer. */
	snprintf(sql, sizeof sql, "DELETE FROM events WHERE id = %" PRId64
	    " AND NOT EXISTS (SELECT 1 FROM reservations r WHERE r.event_id = %"
	    PRId64 ")", op->id, op->id);
	if (db_exec(st->db, sql) == -1 && db_fault(st->db) != DB_REFERENCED)
		return (step_failed(st, op));
	if (db_fault(st->db) == DB_REFERENCED || db_affected(st->db) != 1) {
		db_rollback(st->db);
		op->outcome = ADMIN_HAS_RESERVATIONS;
		return (ATTEMPT_FINAL);
	}
	if (audit(st, "DELETE", &op->out->ev, op->request_id, txn_id) == -1 ||
	    db_commit(st->db) == -1)
		return (step_failed(st, op));
	return (ATTEMPT_OK);
}

/* After a lookup found the commit, the answer is read again. */
static enum admin_outcome
reload(struct store *st, struct admin_op *op)
{
	if (op->out->ev.name != NULL)
		return (ADMIN_OK);
	switch (event_load(st->db, op->id, &op->out->ev, &op->out->available)) {
	case LOOKUP_FOUND:
		return (ADMIN_OK);
	case LOOKUP_NONE:
		return (ADMIN_NOT_FOUND);
	case LOOKUP_ERROR:
		break;
	}
	return (failed(st, op->out));
}

enum admin_outcome
event_create(struct store *st, const struct event_changes *ch,
    const char *request_id, struct admin_result *out)
{
	struct admin_op		op = { 0, ch, request_id, out, -1, ADMIN_OK,
				    create_once };
	enum admin_outcome	o;
	bool			set;
	int			i;

	memset(out, 0, sizeof *out);
	if ((o = run(st, &op)) != ADMIN_OK || (o = reload(st, &op)) != ADMIN_OK)
		return (o);
	for (i = 0; i < out->ev.nclasses; i++)
		if (out->ev.classes[i].own_seats > 0 && gate_init(st->redis,
		    op.id, out->ev.classes[i].code, out->ev.classes[i].own_seats,
		    &set) == -1)
			break;
	if (event_common_seats(&out->ev) > 0)
		(void)gate_init(st->redis, op.id, "", event_common_seats(
		    &out->ev), &set);
	if (*redis_conn_errstr(st->redis) != '\0')
		log_info("gate counters of event %" PRId64 " not set (they will "
		    "be rebuilt): %s", op.id, redis_conn_errstr(st->redis));
	event_cache_put(st, &out->ev);
	return (ADMIN_OK);
}

enum admin_outcome
event_update(struct store *st, int64_t id, const struct event_changes *ch,
    const char *request_id, struct admin_result *out)
{
	struct admin_op		op = { id, ch, request_id, out, -1, ADMIN_OK,
				    update_once };
	enum admin_outcome	o;

	memset(out, 0, sizeof *out);
	if ((o = run(st, &op)) != ADMIN_OK || (o = reload(st, &op)) != ADMIN_OK)
		return (o);
	/* After the commit, never before: a reader cannot refill stale data. */
	event_cache_put(st, &out->ev);
	if (op.prev_total >= 0 && out->ev.total != op.prev_total &&
	    gate_adjust(st->redis, id, "", out->ev.total - op.prev_total) == -1)
		log_warn("gate counter of event %" PRId64 " not adjusted; the "
		    "reconciliation will: %s", id, redis_conn_errstr(st->redis));
	return (ADMIN_OK);
}

enum admin_outcome
event_delete(struct store *st, int64_t id, const char *request_id,
    struct admin_result *out)
{
	struct admin_op		op = { id, NULL, request_id, out, -1, ADMIN_OK,
				    delete_once };
	enum admin_outcome	o;
	int			i;

	memset(out, 0, sizeof *out);
	if ((o = run(st, &op)) != ADMIN_OK)
		return (o);
	event_cache_bury(st, id);
	for (i = 0; i < out->ev.nclasses; i++)
		(void)gate_forget(st->redis, id, out->ev.classes[i].code);
	if (gate_forget(st->redis, id, "") == -1)
		log_warn("gate counters of deleted event %" PRId64 " not "
		    "removed: %s", id, redis_conn_errstr(st->redis));
	return (ADMIN_OK);
}
