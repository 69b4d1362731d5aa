/*
 * waitroom.h: the virtual waiting room of an event.
 *
 * When an event's waiting room is on, buyers join a FIFO queue and get a
 * signed ticket with their number; everyone polls the same serving number
 * (one answer for all, so nginx caches it); once the serving number reaches
 * theirs they exchange the ticket for an admission token (waitroom_token.h)
 * that reservations on the event require, for admission_ttl_s and at most
 * admission_max_uses reservations.
 *
 * The queue lives in Redis, under the event's hash tag:
 *   bo:{ev:ID}:q:seq       the last number handed out
 *   bo:{ev:ID}:q:users     user -> number (joining twice gives the same)
 *   bo:{ev:ID}:q:serving   the highest number admitted
 *   bo:{ev:ID}:q:at        when the serving number last moved (ms)
 *   bo:{ev:ID}:q:used:N    reservations made with admission N
 * The serving number moves by admit_per_second a second, in tenths of a
 * second (so a second's buyers are not let in at one instant), on the one
 * instance holding the housekeeping lease; it never runs more than one
 * second ahead of the queue, so an empty room admits at once and a crowd
 * that arrives later still queues. Redis down: joining and admission fail
 * closed (503); admission tokens already handed out keep working.
 */
#ifndef BO_WAITROOM_H
#define BO_WAITROOM_H

#include <stdbool.h>
#include <stdint.h>

#include "waitroom_token.h"

struct bo_conf;
struct cache_side;
struct store;

enum queue_outcome {
	QUEUE_OK,
	QUEUE_NO_EVENT,
	QUEUE_NO_ROOM,		/* the event's waiting room is off */
	QUEUE_FORGED,		/* a ticket that is not ours, or another event's */
	QUEUE_NOT_YET,		/* its number is not served yet */
	QUEUE_UNAVAILABLE	/* Redis or the database down, or no secret */
};

struct queue_state {
	int64_t	serving;		/* the highest number admitted */
	int64_t	issued;			/* numbers handed out so far */
	int	admit_per_second;
	bool	sold_out;
};

struct queue_join {
	char	ticket[TOKEN_MAX];
	int64_t	number;
	int64_t	serving;
	int	poll_after_ms;		/* a polite interval for this place */
};

struct queue_admission {
	char	token[TOKEN_MAX];
	int64_t	expires_ms;
	int	retry_after_s;		/* QUEUE_NOT_YET: when to try again */
};

enum queue_outcome queue_join(struct store *, int64_t event_id,
	    const char *user, struct queue_join *);
enum queue_outcome queue_poll(struct store *, int64_t event_id,
	    struct queue_state *);
enum queue_outcome queue_admit(struct store *, int64_t event_id,
	    const char *ticket, struct queue_admission *);

/*
 * A reservation's admission, in two steps so that its count is read beside
 * the event (event_cache.h): admission_number() checks the token's
 * signature, event, user and expiry (no I/O) and gives its queue number,
 * or -1; *side is then the count's key. admission_left() judges the count
 * read: used-up tokens are refused; with Redis down the count is not known
 * and they pass.
 */
int64_t	 admission_number(const struct bo_conf *, int64_t event_id,
	    const char *user, const char *token, char *key, size_t keylen,
	    struct cache_side *side);
bool	 admission_left(const struct bo_conf *, const struct cache_side *);
/* After a committed reservation: count it against the admission. */
void	 admission_used(struct store *, int64_t event_id, int64_t number);

/*
 * Housekeeping, every step on the lease holder: move every serving number.
 * -1 when the rooms could not be listed (the database's errstr says why);
 * a room whose Redis step fails is left for the next step.
 */
int	 waitroom_advance_all(struct store *)
	    __attribute__((warn_unused_result));

#endif
