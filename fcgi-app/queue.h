/* queue.h: the handlers of an event's waiting room (waitroom.h). */
#ifndef BO_QUEUE_H
#define BO_QUEUE_H

struct app;
struct request;
struct response;

/* POST /api/events/{id}/queue {userId}: 201 {ticket, number, ...}. */
void	 handle_queue_join(struct app *, struct request *, struct response *);
/* GET /api/events/{id}/queue: the same answer for everyone (cacheable). */
void	 handle_queue_poll(struct app *, struct request *, struct response *);
/* POST /api/events/{id}/queue/admission {ticket}: 201 or 409 not yet. */
void	 handle_queue_admission(struct app *, struct request *,
	    struct response *);

#endif
