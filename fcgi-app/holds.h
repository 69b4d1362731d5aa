/*
 * holds.h: HELD reservations: confirming them, and returning the seats of
 * those that ran out.
 *
 * A hold keeps its seats (inventory, tally, gate) for hold_ttl_s. Confirm
 * turns it CONFIRMED under its row lock, if it has not run out by the
 * database's clock; a run-out hold is expired instead, right there. Seats
 * of run-out holds also go back through the housekeeping sweeper (every
 * second, on the lease holder) and the reservation path's lazy reclaim
 * (when an event looks sold out). All three go through hold_expire()
 * (cancel.c), whose row lock and status check make the seats go back
 * exactly once, whoever comes first.
 */
#ifndef BO_HOLDS_H
#define BO_HOLDS_H

#include <stddef.h>
#include <stdint.h>

#include "reservation.h"

struct store;

enum confirm_outcome {
	CONFIRM_OK,		/* CONFIRMED now, or before: *res */
	CONFIRM_NOT_FOUND,
	CONFIRM_EXPIRED,	/* the hold ran out; its seats are back */
	CONFIRM_CANCELLED,
	CONFIRM_UNAVAILABLE,	/* database unreachable, or outcome unknown */
	CONFIRM_FAILED		/* refused; detail says why (log only) */
};

/*
 * Confirm hold id (owner: when not NULL, another user's is NOT_FOUND),
 * storing payment_ref (NULL: none).
 */
enum confirm_outcome hold_confirm(struct store *, int64_t id,
	    const char *owner, const char *payment_ref, const char *request_id,
	    struct reservation *res, char *detail, size_t detaillen);

/*
 * Expire up to limit run-out holds, of one event (event_id > 0) or any;
 * who is the audit rows' request id. The number expired, or -1 when the
 * database failed.
 */
int	 holds_sweep(struct store *, int64_t event_id, int limit,
	    const char *who);

#endif
