/*
 * cancel.h: giving a reservation's seats back, exactly once.
 *
 * One transaction locks the reservation row (two cancels take turns),
 * marks it CANCELLED, lowers the user's tally, returns the seats to the
 * shards they came from and writes the audit row. It is re-run whole after
 * a deadlock, a lock wait timeout or a connection lost before COMMIT; a
 * lost COMMIT answer is resolved by the attempt's txn id. The gate counter
 * gets the seats back only after a commit that is known.
 */
#ifndef BO_CANCEL_H
#define BO_CANCEL_H

#include <stdint.h>

#include "reservation.h"

struct store;

enum cancel_outcome {
	CANCEL_OK,		/* *res is the cancelled row */
	CANCEL_NOT_FOUND,
	CANCEL_ALREADY,		/* it was cancelled before */
	CANCEL_UNAVAILABLE,	/* database unreachable, or outcome unknown */
	CANCEL_FAILED		/* refused; detail says why (log only) */
};

/* owner: when not NULL, another user's reservation is CANCEL_NOT_FOUND. */
enum cancel_outcome cancel_reservation(struct store *, int64_t id,
	    const char *owner, const char *request_id, struct reservation *res,
	    char *detail, size_t detaillen);

#endif
