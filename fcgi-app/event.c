/* event.c: the event model and reading event rows. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "event.h"
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
	memset(ev, 0, sizeof *ev);
}

void
event_from_row(char **row, struct event *ev, int64_t *available)
{
	memset(ev, 0, sizeof *ev);
	ev->id = strtoll(row[0], NULL, 10);
	ev->name = xstrdup(row[1]);
	ev->venue = row[2] != NULL ? xstrdup(row[2]) : NULL;
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
	enum lookup found = LOOKUP_NONE;

	snprintf(sql, sizeof sql, "SELECT " EVENT_COLUMNS " FROM events e "
	    "WHERE e.id = %" PRId64 "%s", id, suffix);
	if ((res = db_query(db, sql)) == NULL)
		return (LOOKUP_ERROR);
	if ((row = db_res_next(res)) != NULL) {
		event_from_row(row, ev, available);
		found = LOOKUP_FOUND;
	}
	db_res_free(res);
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
	return (0);
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
