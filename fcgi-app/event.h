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
#define EVENT_MAX_CLASSES	16
#define CLASS_CODE_MAX		16	/* [A-Za-z0-9_-] */

/*
 * A class of seats with its price. It sells from its own pool of seats,
 * or (own_seats < 0) from the event's common pool, which the seed's
 * "price": {vip, r, s} shorthand makes. The common pool's code is "".
 */
struct seat_class {
	char	code[CLASS_CODE_MAX + 1];
	int64_t	price;			/* minor units of the event's currency */
	int64_t	own_seats;		/* -1: shares the common pool */
	int	shards;			/* of its own pool (0 when shared) */
};

/* Unsold seats of each pool of an event. */
struct pool_seats {
	char	code[CLASS_CODE_MAX + 1];	/* "" for the common pool */
	int64_t	available;
};
struct event {
	int64_t		 id;
	char		*name;
	char		*venue;		/* NULL when none */
	char		*venue_address;	/* NULL when none */
	int64_t		 venue_capacity;	/* -1 when none */
	char		 currency[4];	/* ISO 4217, "" when the event has no prices */
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
	int		 nclasses;	/* 0: one implicit class, no prices */
	struct seat_class classes[EVENT_MAX_CLASSES];
	/* Unsold seats per pool, when loaded (event_pools_load; not cached). */
	int		 npools;
	struct pool_seats pools[EVENT_MAX_CLASSES + 1];
};

void		 event_free(struct event *);
/* The class of that code, or NULL. */
const struct seat_class *event_class(const struct event *, const char *code);
/* The pool a class sells from: its code, or "" for the common pool. */
const char	*class_pool(const struct seat_class *);
/* The seats of the common pool: total_seats less the classes' own. */
int64_t		 event_common_seats(const struct event *);
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
	"e.id, e.event_name, e.venue, e.venue_address, e.venue_capacity, " \
	"e.currency, " \
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
/* Fill the classes of n events (one query). 0 or -1. */
int		 event_classes_load(struct db *, struct event *evs, size_t n)
		    __attribute__((warn_unused_result));

/* Fill the pools of those of n events that have classes. 0 or -1. */
int		 event_pools_load(struct db *, struct event *evs, size_t n)
		    __attribute__((warn_unused_result));

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
