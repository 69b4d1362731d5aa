/* reservation.c: the reservation model and its reads. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "reservation.h"
#include "xmalloc.h"

static const char *const status_names[] = { "CONFIRMED", "CANCELLED", "HELD",
    "EXPIRED" };

const char *
reservation_status_name(int s)
{
	return (s >= 0 && s <= RES_STATUS_EXPIRED ? status_names[s] :
	    status_names[0]);
}

int
reservation_status_parse(const char *s)
{
	int	i;

	for (i = 0; i <= RES_STATUS_EXPIRED; i++)
		if (strcmp(s, status_names[i]) == 0)
			return (i);
	return (-1);
}

void
reservation_from_row(char **row, struct reservation *r)
{
	memset(r, 0, sizeof *r);
	r->id = strtoll(row[0], NULL, 10);
	r->event_id = strtoll(row[1], NULL, 10);
	snprintf(r->user, sizeof r->user, "%s", row[2]);
	r->quantity = strtoll(row[3], NULL, 10);
	r->status = reservation_status_parse(row[4]);
	r->created_ms = strtoll(row[5], NULL, 10);
	r->updated_ms = strtoll(row[6], NULL, 10);
	r->cancelled_ms = row[7] != NULL ? strtoll(row[7], NULL, 10) : 0;
	r->expires_ms = row[8] != NULL ? strtoll(row[8], NULL, 10) : 0;
	snprintf(r->payment_ref, sizeof r->payment_ref, "%s",
	    row[9] != NULL ? row[9] : "");
	snprintf(r->seat_type, sizeof r->seat_type, "%s",
	    row[10] != NULL ? row[10] : "");
	r->unit_price = row[11] != NULL ? strtoll(row[11], NULL, 10) : -1;
	r->total_price = row[12] != NULL ? strtoll(row[12], NULL, 10) : -1;
}

enum lookup
reservation_load(struct db *db, int64_t id, struct reservation *r)
{
	struct db_res		*res;
	char			**row, sql[512];
	enum lookup	 found = LOOKUP_NONE;

	snprintf(sql, sizeof sql, "SELECT " RESERVATION_COLUMNS " FROM "
	    "reservations r WHERE r.id = %" PRId64, id);
	if ((res = db_query(db, sql)) == NULL)
		return (LOOKUP_ERROR);
	if ((row = db_res_next(res)) != NULL) {
		reservation_from_row(row, r);
		found = LOOKUP_FOUND;
	}
	db_res_free(res);
	return (found);
}

/* The first column of the first row as an integer; -1 on error. */
static int64_t
count_rows(struct db *db, const char *sql)
{
	struct db_res	*res;
	char		**row;
	int64_t		 n = -1;

	if ((res = db_query(db, sql)) == NULL)
		return (-1);
	if ((row = db_res_next(res)) != NULL)
		n = strtoll(row[0], NULL, 10);
	db_res_free(res);
	return (n);
}

int
reservation_list_by_user(struct db *db, const char *user, int status,
    int64_t page, int64_t size, struct reservation_page *p)
{
	struct db_res	*res;
	char		**row, *u = db_quote(user), *sql, where[48] = "";
	size_t		 i = 0;

	memset(p, 0, sizeof *p);
	if (status >= 0)
		snprintf(where, sizeof where, " AND r.status = '%s'",
		    reservation_status_name(status));
	sql = xasprintf("SELECT COUNT(*) FROM reservations r WHERE "
	    "r.user_id = %s%s", u, where);
	p->total = count_rows(db, sql);
	free(sql);
	if (p->total < 0) {
		free(u);
		return (-1);
	}
	sql = xasprintf("SELECT " RESERVATION_COLUMNS " FROM reservations r "
	    "WHERE r.user_id = %s%s ORDER BY r.id DESC LIMIT %" PRId64
	    " OFFSET %" PRId64, u, where, size, page * size);
	free(u);
	res = db_query(db, sql);
	free(sql);
	if (res == NULL)
		return (-1);
	p->items = xcalloc(db_res_count(res) + 1, sizeof *p->items);
	while ((row = db_res_next(res)) != NULL)
		reservation_from_row(row, &p->items[i++]);
	p->count = i;
	db_res_free(res);
	return (0);
}

void
reservation_page_free(struct reservation_page *p)
{
	free(p->items);
	memset(p, 0, sizeof *p);
}

int
user_stats_load(struct db *db, const char *user, struct user_stats *s)
{
	struct db_res	*res;
	char		**row, *u = db_quote(user), *sql;

	memset(s, 0, sizeof *s);
	sql = xasprintf("SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = "
	    "'CONFIRMED' THEN quantity END), 0), COALESCE(SUM(status = "
	    "'CANCELLED'), 0) FROM reservations WHERE user_id = %s", u);
	free(u);
	res = db_query(db, sql);
	free(sql);
	if (res == NULL)
		return (-1);
	if ((row = db_res_next(res)) != NULL) {
		s->reservations = strtoll(row[0], NULL, 10);
		s->tickets = strtoll(row[1], NULL, 10);
		s->cancelled = strtoll(row[2], NULL, 10);
	}
	db_res_free(res);
	return (0);
}
