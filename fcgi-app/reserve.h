/*
 * reserve.h: taking seats.
 *
 * The invariant lives here and in inventory.c: seats are taken by a
 * conditional UPDATE of an inventory shard inside the same transaction as
 * the reservation row, and that transaction itself checks that the event is
 * on sale (a cached event only ever makes a request fail fast). Redis (the
 * gate or the event lock) only decides who gets to try, and an idempotency
 * key's in-flight marker only saves work: the unique key in MariaDB
 * decides.
 *
 * Most attempts are one CALL of the procedure reserve_one_shard (one
 * answer instead of one per statement); when its shard is short, two
 * batches that can take seats from several shards. Either is all or
 * nothing whatever fails: it is re-run whole after a deadlock, a lock wait
 * timeout or a connection lost before COMMIT; a lost answer to a
 * committing statement is resolved by looking the attempt's txn id up; and
 * the gate admission is given back only when the row is known not to have
 * committed.
 */
#ifndef BO_RESERVE_H
#define BO_RESERVE_H

#include <stdbool.h>
#include <stdint.h>

#include "reservation.h"

struct store;

struct reserve_req {
	int64_t		 event_id;
	const char	*user;		/* validated: 1-64 printable ASCII */
	int64_t		 qty;		/* validated: 1-100 */
	const char	*idem_key;	/* NULL when none */
	const char	*request_id;	/* the client's, kept in the audit */
	const char	*admission;	/* X-Admission-Token, NULL when none */
	bool		 hold;		/* HELD for hold_ttl_s, not CONFIRMED */
	const char	*seat_type;	/* a class code; NULL for none */
};

enum reserve_outcome {
	RESERVE_OK,		/* committed; result.res is the row */
	RESERVE_REPLAY,		/* the key's earlier reservation; result.res */
	RESERVE_IDEM_CONFLICT,	/* the key was used for another request */
	RESERVE_IDEM_IN_FLIGHT,	/* the same request is still in progress */
	RESERVE_NO_EVENT,
	RESERVE_NOT_ON_SALE,	/* result.event_status, result.event_past */
	RESERVE_TOO_MANY,	/* qty > result.max_per_request */
	RESERVE_BAD_CLASS,	/* seatType missing, unknown, or given for an
				   event without classes (result.classes) */
	RESERVE_SOLD_OUT,	/* result.available seats left */
	RESERVE_LIMIT,		/* over result.per_user_limit */
	RESERVE_BUSY,		/* event-lock: another reservation holds it */
	RESERVE_ADMISSION_REQUIRED,	/* waiting room on, no valid admission */
	RESERVE_RATE_LIMITED,	/* the user's bucket is empty; retry_after_s */
	RESERVE_UNAVAILABLE,	/* database unreachable, or outcome unknown */
	RESERVE_FAILED		/* the database refused; result.detail */
};

struct reserve_result {
	struct reservation	 res;
	int64_t			 available;
	int			 per_user_limit;
	int			 max_per_request;
	int			 event_status;	/* enum event_status */
	bool			 event_past;
	int			 retry_after_s;	/* RESERVE_RATE_LIMITED */
	bool			 outcome_unknown;	/* UNAVAILABLE after a
						   COMMIT whose answer was lost
						   and could not be learned */
	char			 classes[EVENT_MAX_CLASSES * (CLASS_CODE_MAX + 2)];
						/* "VIP, R, S" (BAD_CLASS) */
	char			 detail[256];	/* for the log, never a client */
};

enum reserve_outcome reserve(struct store *, const struct reserve_req *,
	    struct reserve_result *);

/*
 * Before a worker's first request: call reserve_one_shard once for no event
 * (refused, rolled back, nothing written), so that loading and parsing the
 * procedure into the connection's cache is not paid by a buyer. Measured:
 * a new connection's first CALL took 4-10 ms against ~1 ms, and sixteen
 * new workers paying it together stalled an on-sale for ~0.3 s. 0, or -1
 * (the database's errstr says why; the request path copes on its own).
 */
int		 reserve_warm_up(struct store *)
		    __attribute__((warn_unused_result));

#endif
