/*
 * events.h: the HTTP handlers of /api/events.
 *
 * They parse and validate, call the event domain (event.h, event_cache.h,
 * event_admin.h) and render JSON; no SQL or Redis here.
 */
#ifndef BO_EVENTS_H
#define BO_EVENTS_H

#include <stdint.h>

struct app;
struct event;
struct json_object;
struct request;
struct response;

/* The API's view of an event; the caller owns the object. */
struct json_object *event_json(const struct event *, int64_t available);

void	 handle_events_list(struct app *, struct request *, struct response *);
void	 handle_events_upcoming(struct app *, struct request *,
	    struct response *);
void	 handle_events_available(struct app *, struct request *,
	    struct response *);
void	 handle_event_get(struct app *, struct request *, struct response *);
void	 handle_event_create(struct app *, struct request *, struct response *);
void	 handle_event_update(struct app *, struct request *, struct response *);
void	 handle_event_delete(struct app *, struct request *, struct response *);

#endif
