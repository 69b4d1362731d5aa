/*
 * cancel.h: giving a reservation's seats back, exactly once.
 *
 * Two ways seats go back: a cancel (CONFIRMED or a live HELD becomes
 * CANCELLED) and an expiry (a HELD past expires_at becomes EXPIRED). Both
 * are one transaction: lock the reservation row (whoever comes second
 * waits, then finds it no longer releasable), change its status, lower the
 * user's tally, return the seats to the shards they came from, write the
 * audit row, commit. Re-run whole after a deadlock, a lock wait timeout or
 * a connection lost before COMMIT; a lost COMMIT answer is resolved by the
 * attempt's txn id. The gate counter gets the seats back only after a
 * commit that is known. "Expired" is decided by the database's clock.
 */
#ifndef BO_CANCEL_H
#define BO_CANCEL_H

#include <stddef.h>
#include <stdint.h>

#include "reservation.h"

struct store;

enum cancel_outcome {
	CANCEL_OK,		/* released; *res is the row now */
	CANCEL_NOT_FOUND,
	CANCEL_ALREADY,		/* it was cancelled before */
	CANCEL_EXPIRED,		/* a hold past its time: EXPIRED (now or before) */
	CANCEL_NOTHING,		/* (expiry) not a hold that has run out */
	CANCEL_UNAVAILABLE,	/* database unreachable, or outcome unknown */
	CANCEL_FAILED		/* refused; detail says why (log only) */
};

/*
 * Cancel reservation id. owner: when not NULL, another user's reservation
 * is CANCEL_NOT_FOUND. A hold that has run out is expired instead
 * (CANCEL_EXPIRED). *res is filled on CANCEL_OK.
 */
enum cancel_outcome cancel_reservation(struct store *, int64_t id,
	    const char *owner, const char *request_id, struct reservation *res,
	    char *detail, size_t detaillen);
/*
 * Expire reservation id if it is a hold past its time: CANCEL_OK (it was
 * released by this call), CANCEL_NOTHING, or a failure.
 */
enum cancel_outcome hold_expire(struct store *, int64_t id,
	    const char *request_id, char *detail, size_t detaillen);

#endif
