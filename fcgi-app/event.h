/*
 * event.h: the event model and its rows in MariaDB.
 *
 * A struct event owns its strings; event_free() releases them (and leaves
 * the struct zeroed, so freeing twice is harmless).
 */
#ifndef BO_EVENT_H
#define BO_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

enum event_status { EVENT_ACTIVE = 0, EVENT_CLOSED, EVENT_CANCELLED };

#define EVENT_MAX_SHARDS	64

struct event {
	int64_t		 id;
	char		*name;
	char		*venue;		/* NULL when none */
	int64_t		 date_ms;
	int64_t		 total;
	int		 per_user_limit;
	int		 max_per_request;
	int		 shards;
	int		 status;	/* enum event_status */
	int64_t		 created_ms;
	int64_t		 updated_ms;
	int64_t		 version;	/* bumped by every committed change */
	bool		 waiting_room;	/* reservations need an admission */
	int		 admit_per_second;	/* the waiting room's pace */
};

void		 event_free(struct event *);
/* "ACTIVE", ...; and back (-1 when unknown). */
const char	*event_status_name(int);
int		 event_status_parse(const char *);
/* ACTIVE and not yet begun. */
bool		 event_on_sale(const struct event *, int64_t now_ms);

/*
 * One event from the database; *available (when not NULL) is the sum of
 * its shards. LOOKUP_ERROR leaves the detail in the db handle.
 */
enum lookup event_load(struct db *, int64_t id, struct event *,
		    int64_t *available) __attribute__((warn_unused_result));
/* The same, FOR UPDATE: inside a transaction, the row stays locked. */
enum lookup event_lock(struct db *, int64_t id, struct event *,
		    int64_t *available) __attribute__((warn_unused_result));

/* Columns in the order event_from_row() reads them; alias e. */
#define EVENT_COLUMNS \
	"e.id, e.event_name, e.venue, " \
	"TIMESTAMPDIFF(MICROSECOND, '1970-01-01', e.event_date) DIV 1000, " \
	"e.total_seats, e.per_user_limit, e.max_per_request, e.shards, " \
	"e.status, " \
	"TIMESTAMPDIFF(MICROSECOND, '1970-01-01', e.created_at) DIV 1000, " \
	"TIMESTAMPDIFF(MICROSECOND, '1970-01-01', e.updated_at) DIV 1000, " \
	"e.version, e.waiting_room, e.admit_per_second, " \
	"(SELECT COALESCE(SUM(i.available), 0) FROM event_inventory i " \
	"WHERE i.event_id = e.id)"

/* A row of EVENT_COLUMNS into ev; *available (when not NULL) its sum. */
void		 event_from_row(char **row, struct event *ev,
		    int64_t *available);

/* A list of events with their database availability. */
struct event_page {
	struct event	*items;
	int64_t		*available;
	size_t		 count;
	int64_t		 total;		/* matching events in all */
};
enum event_sort { EVENT_SORT_DATE, EVENT_SORT_ID, EVENT_SORT_NAME };
/* A page of all events, or of one status (-1 for any). 0 or -1. */
int		 event_list(struct db *, int status, enum event_sort,
		    bool descending, int64_t page, int64_t size,
		    struct event_page *) __attribute__((warn_unused_result));
enum event_filter { EVENT_UPCOMING, EVENT_AVAILABLE };
/* ACTIVE events that are upcoming, or have seats; at most max. 0 or -1. */
int		 event_list_filtered(struct db *, enum event_filter,
		    int64_t max, struct event_page *)
		    __attribute__((warn_unused_result));
void		 event_page_free(struct event_page *);

#endif
