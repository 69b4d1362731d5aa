/*
 * event_admin.h: creating, changing and deleting events.
 *
 * Each is one transaction with an event_audit row carrying the attempt's
 * txn id: re-run whole after a deadlock, a lock wait timeout or a
 * connection lost before COMMIT, and looked up when the COMMIT answer was
 * lost. After a commit the cache gets the new row (versioned, see
 * event_cache.h) and the gate counter the change of seats.
 */
#ifndef BO_EVENT_ADMIN_H
#define BO_EVENT_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

struct store;

/* Fields to set; has_* says which are present (validated by the caller). */
struct event_changes {
	bool		 has_name, has_venue, has_date, has_total, has_limit,
			 has_max, has_status, has_room;
	const char	*name;
	const char	*venue;		/* NULL clears it */
	int64_t		 date_ms;
	int64_t		 total;
	int64_t		 per_user_limit;
	int64_t		 max_per_request;
	int		 status;	/* enum event_status */
	bool		 room;		/* the waiting room on or off */
	int64_t		 admit_per_second;	/* when room */
	/* Create only: venue details, currency and seat classes. */
	const char	*venue_address;	/* NULL when none */
	int64_t		 venue_capacity;	/* -1 when none */
	const char	*currency;	/* NULL when the event has no prices */
	int		 nclasses;
	struct seat_class classes[EVENT_MAX_CLASSES];
};

enum admin_outcome {
	ADMIN_OK,
	ADMIN_NOT_FOUND,
	ADMIN_BELOW_SOLD,	/* totalSeats under the seats sold (*sold) */
	ADMIN_FIXED_TOTAL,	/* its seats are all in classes of their own */
	ADMIN_HAS_RESERVATIONS,	/* delete refused */
	ADMIN_UNAVAILABLE,	/* database unreachable, or outcome unknown */
	ADMIN_FAILED		/* refused; detail says why (log only) */
};

/* What a create or update committed. ev is freed with event_free(). */
struct admin_result {
	struct event	 ev;
	int64_t		 available;
	int64_t		 sold;
	char		 detail[256];
};

/* Create (every field but venue/limits present); *out the new event. */
enum admin_outcome event_create(struct store *, const struct event_changes *,
	    const char *request_id, struct admin_result *out);
enum admin_outcome event_update(struct store *, int64_t id,
	    const struct event_changes *, const char *request_id,
	    struct admin_result *out);
enum admin_outcome event_delete(struct store *, int64_t id,
	    const char *request_id, struct admin_result *out);

#endif
