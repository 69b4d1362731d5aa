/*
 * reservations.h: taking seats, giving them back, and reading reservations.
 *
 * The invariant lives here: seats are taken by a conditional UPDATE of an
 * inventory shard inside the same transaction as the reservation row, and
 * given back in the same transaction as the status change. Redis (the gate
 * or the event lock) only decides whether a request gets to try.
 */
#ifndef BO_RESERVATIONS_H
#define BO_RESERVATIONS_H

struct app;
struct request;
struct response;

void	 handle_reservation_create(struct app *, struct request *,
	    struct response *);
void	 handle_reservation_get(struct app *, struct request *,
	    struct response *);
void	 handle_reservation_cancel(struct app *, struct request *,
	    struct response *);
/* POST /api/reservations/{id}/confirm: HELD to CONFIRMED. */
void	 handle_reservation_confirm(struct app *, struct request *,
	    struct response *);
void	 handle_reservations_by_user(struct app *, struct request *,
	    struct response *);
void	 handle_user_stats(struct app *, struct request *, struct response *);

#endif
