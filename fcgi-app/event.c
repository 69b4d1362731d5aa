/* event.c: the event model and reading event rows. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "event.h"
#include "log.h"
#include "xmalloc.h"

static const char *const status_names[] = { "ACTIVE", "CLOSED", "CANCELLED" };

const char *
event_status_name(int s)
{
	return (s >= 0 && s <= EVENT_CANCELLED ? status_names[s] : "ACTIVE");
}

int
event_status_parse(const char *s)
{
	int	i;

	for (i = 0; i <= EVENT_CANCELLED; i++)
		if (strcmp(s, status_names[i]) == 0)
			return (i);
	return (-1);
}

bool
event_on_sale(const struct event *ev, int64_t now_ms)
{
	return (ev->status == EVENT_ACTIVE && ev->date_ms > now_ms);
}

void
event_free(struct event *ev)
{
	free(ev->name);
	free(ev->venue);
	free(ev->venue_address);
	memset(ev, 0, sizeof *ev);
}

const struct seat_class *
event_class(const struct event *ev, const char *code)
{
	int	i;

	for (i = 0; i < ev->nclasses; i++)
		if (strcmp(ev->classes[i].code, code) == 0)
			return (&ev->classes[i]);
	return (NULL);
}

const char *
class_pool(const struct seat_class *c)
{
	return (c->own_seats >= 0 ? c->code : "");
}

int64_t
event_common_seats(const struct event *ev)
{
	int64_t	own = 0;
	int	i;

	for (i = 0; i < ev->nclasses; i++)
		if (ev->classes[i].own_seats > 0)
			own += ev->classes[i].own_seats;
	return (ev->total - own);
}

void
event_from_row(char **row, struct event *ev, int64_t *available)
{
	memset(ev, 0, sizeof *ev);
	ev->id = strtoll(row[0], NULL, 10);
	ev->name = xstrdup(row[1]);
	ev->venue = row[2] != NULL ? xstrdup(row[2]) : NULL;
	ev->venue_address = row[3] != NULL ? xstrdup(row[3]) : NULL;
	ev->venue_capacity = row[4] != NULL ? strtoll(row[4], NULL, 10) : -1;
	snprintf(ev->currency, sizeof ev->currency, "%s",
	    row[5] != NULL ? row[5] : "");
	row += 3;	/* the rest as before the venue details came */
	ev->date_ms = strtoll(row[3], NULL, 10);
	ev->total = strtoll(row[4], NULL, 10);
	ev->per_user_limit = atoi(row[5]);
	ev->max_per_request = atoi(row[6]);
	ev->shards = atoi(row[7]);
	ev->status = event_status_parse(row[8]);
	ev->created_ms = strtoll(row[9], NULL, 10);
	ev->updated_ms = strtoll(row[10], NULL, 10);
	ev->version = strtoll(row[11], NULL, 10);
	ev->waiting_room = strcmp(row[12], "0") != 0;
	ev->admit_per_second = atoi(row[13]);
	if (available != NULL)
		*available = strtoll(row[14], NULL, 10);
}

static enum lookup
load(struct db *db, int64_t id, struct event *ev, int64_t *available,
    const char *suffix)
{
	struct db_res	*res;
	char		**row, sql[1024];
	enum lookup	 found = LOOKUP_NONE;

	snprintf(sql, sizeof sql, "SELECT " EVENT_COLUMNS " FROM events e "
	    "WHERE e.id = %" PRId64 "%s", id, suffix);
	if ((res = db_query(db, sql)) == NULL)
		return (LOOKUP_ERROR);
	if ((row = db_res_next(res)) != NULL) {
		event_from_row(row, ev, available);
		found = LOOKUP_FOUND;
	}
	db_res_free(res);
	if (found == LOOKUP_FOUND && event_classes_load(db, ev, 1) == -1) {
		event_free(ev);
		return (LOOKUP_ERROR);
	}
	return (found);
}

enum lookup
event_load(struct db *db, int64_t id, struct event *ev, int64_t *available)
{
	return (load(db, id, ev, available, ""));
}

enum lookup
event_lock(struct db *db, int64_t id, struct event *ev, int64_t *available)
{
	return (load(db, id, ev, available, " FOR UPDATE"));
}

int
event_classes_load(struct db *db, struct event *evs, size_t n)
{
	struct db_res		*res;
	struct seat_class	*c;
	char			**row;
	size_t			 i;
	int64_t			 id, *ids;

	if (n == 0)
		return (0);
	ids = xcalloc(n, sizeof *ids);
	for (i = 0; i < n; i++) {
		ids[i] = evs[i].id;
		evs[i].nclasses = 0;
	}
	res = db_query_ids(db, "SELECT event_id, code, price, own_seats, "
	    "shards FROM event_classes WHERE event_id IN ", ids, n,
	    " ORDER BY event_id, position");
	free(ids);
	if (res == NULL)
		return (-1);
	while ((row = db_res_next(res)) != NULL) {
		id = strtoll(row[0], NULL, 10);
		for (i = 0; i < n; i++) {
			if (evs[i].id != id ||
			    evs[i].nclasses == EVENT_MAX_CLASSES)
				continue;
			c = &evs[i].classes[evs[i].nclasses++];
			snprintf(c->code, sizeof c->code, "%s", row[1]);
			c->price = strtoll(row[2], NULL, 10);
			c->own_seats = row[3] != NULL ? strtoll(row[3], NULL,
			    10) : -1;
			c->shards = row[4] != NULL ? atoi(row[4]) : 0;
		}
	}
	db_res_free(res);
	return (0);
}

int
event_pools_load(struct db *db, struct event *evs, size_t n)
{
	struct db_res	*res;
	struct event	*ev;
	char		**row;
	size_t		 i, asked = 0;
	int64_t		 id, *ids;

	ids = xcalloc(n + 1, sizeof *ids);
	for (i = 0; i < n; i++) {
		evs[i].npools = 0;
		if (evs[i].nclasses > 0)
			ids[asked++] = evs[i].id;
	}
	res = asked > 0 ? db_query_ids(db, "SELECT event_id, class_code, "
	    "SUM(available) FROM event_inventory WHERE event_id IN ", ids,
	    asked, " GROUP BY event_id, class_code ORDER BY event_id, "
	    "class_code") : NULL;
	free(ids);
	if (asked == 0)
		return (0);
	if (res == NULL)
		return (-1);
	while ((row = db_res_next(res)) != NULL) {
		id = strtoll(row[0], NULL, 10);
		for (i = 0; i < n; i++) {
			ev = &evs[i];
			if (ev->id != id || ev->npools > EVENT_MAX_CLASSES)
				continue;
			snprintf(ev->pools[ev->npools].code,
			    sizeof ev->pools[0].code, "%s", row[1]);
			ev->pools[ev->npools++].available = strtoll(row[2],
			    NULL, 10);
		}
	}
	db_res_free(res);
	return (0);
}

/* The events of a SELECT of EVENT_COLUMNS. */
static int
select_events(struct db *db, const char *sql, struct event_page *p)
{
	struct db_res	*res;
	char		**row;
	size_t		 n;

	if ((res = db_query(db, sql)) == NULL)
		return (-1);
	n = db_res_count(res);
	p->items = xcalloc(n + 1, sizeof *p->items);
	p->available = xcalloc(n + 1, sizeof *p->available);
	while ((row = db_res_next(res)) != NULL && p->count < n) {
		event_from_row(row, &p->items[p->count],
		    &p->available[p->count]);
		p->count++;
	}
	db_res_free(res);
	if (event_classes_load(db, p->items, p->count) == -1)
		return (-1);
	return (event_pools_load(db, p->items, p->count));
}

int
event_list(struct db *db, int status, enum event_sort sort, bool descending,
    int64_t page, int64_t size, struct event_page *p)
{
	static const char *const cols[] = { "e.event_date", "e.id",
	    "e.event_name" };
	const char	*dir = descending ? "DESC" : "ASC";
	struct db_res	*res;
	char		 where[64] = "", **row, *sql;
	int		 rv;

	memset(p, 0, sizeof *p);
	if (status >= 0)
		snprintf(where, sizeof where, "WHERE e.status = '%s'",
		    event_status_name(status));
	sql = xasprintf("SELECT COUNT(*) FROM events e %s", where);
	res = db_query(db, sql);
	free(sql);
	if (res == NULL)
		return (-1);
	if ((row = db_res_next(res)) != NULL)
		p->total = strtoll(row[0], NULL, 10);
	db_res_free(res);
	sql = xasprintf("SELECT " EVENT_COLUMNS " FROM events e %s ORDER BY %s "
	    "%s, e.id %s LIMIT %" PRId64 " OFFSET %" PRId64, where, cols[sort],
	    dir, dir, size, page * size);
	rv = select_events(db, sql, p);
	free(sql);
	return (rv);
}

int
event_list_filtered(struct db *db, enum event_filter filter, int64_t max,
    struct event_page *p)
{
	char	*sql;
	int	 rv;

	memset(p, 0, sizeof *p);
	sql = xasprintf("SELECT " EVENT_COLUMNS " FROM events e WHERE "
	    "e.status = 'ACTIVE' AND %s ORDER BY e.event_date, e.id LIMIT %"
	    PRId64, filter == EVENT_UPCOMING ? "e.event_date > UTC_TIMESTAMP(3)"
	    : "EXISTS (SELECT 1 FROM event_inventory i WHERE i.event_id = e.id "
	    "AND i.available > 0)", max);
	rv = select_events(db, sql, p);
	free(sql);
	p->total = (int64_t)p->count;
	return (rv);
}

void
event_page_free(struct event_page *p)
{
	size_t	i;

	for (i = 0; i < p->count; i++)
		event_free(&p->items[i]);
	free(p->items);
	free(p->available);
	memset(p, 0, sizeof *p);
}
