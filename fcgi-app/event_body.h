/*
 * event_body.h: reading the body of POST and PUT /api/events.
 *
 * Besides the plain fields it takes the seed's documented shapes: venue as
 * a string or {name, address, capacity}; seat classes as "seatClasses":
 * [{code, price, seats?}] with a "currency", or the shorthand "price":
 * {vip, r, s} for classes VIP, R and S that share the event's seats.
 */
#ifndef BO_EVENT_BODY_H
#define BO_EVENT_BODY_H

#include <stdbool.h>

struct event_changes;
struct fielderrs;
struct json_object;

/*
 * Fill ch from body (create: the required fields must be there; classes,
 * currency and venue details are taken at creation only). Problems go to
 * fe, one per field. ch points into body: keep body until ch is used.
 */
void	 event_body_read(struct json_object *body, bool create,
	    struct event_changes *ch, struct fielderrs *fe);

#endif
