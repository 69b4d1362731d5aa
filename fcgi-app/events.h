/*
 * events.h: the event model, its Redis cache and its handlers.
 *
 * An event's static fields are cached in Redis (bo:{ev:ID}:event, TTL
 * cache_ttl_s) and evicted after every committed update. Its availability is
 * not part of the cache entry: it is read live from the gate counter, so a
 * reservation never has to evict anything.
 *
 * A struct event owns its strings; event_free() releases them.
 */
#ifndef BO_EVENTS_H
#define BO_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct app;
struct json_object;
struct request;
struct response;

enum event_status { EVENT_ACTIVE = 0, EVENT_CLOSED, EVENT_CANCELLED };

struct event {
	int64_t		 id;
	char		*name;
	char		*venue;		/* NULL when none */
	int64_t		 date_ms;
	int64_t		 total;
	int		 per_user_limit;
	int		 max_per_request;
	int		 shards;
	int		 status;	/* enum event_status */
	int64_t		 created_ms;
	int64_t		 updated_ms;
};

void	 event_free(struct event *);
const char *event_status_name(int);
/*
 * Load from the database. 1 found (and *available = SUM of the shards, when
 * available is not NULL), 0 not found, -1 error in err.
 */
int	 event_load(struct app *, int64_t id, struct event *,
	    int64_t *available, char *err, size_t errlen)
	    __attribute__((warn_unused_result));
/*
 * Load through the cache. *hit tells whether Redis had it. On a miss one
 * worker (single flight) refills the cache. Same results as event_load();
 * *available is the database sum on a miss, -1 on a hit. When gate is not
 * NULL the gate counter comes back in the same round trip (-1: none).
 */
int	 event_fetch(struct app *, int64_t id, struct event *, bool *hit,
	    int64_t *available, int64_t *gate, char *err, size_t errlen)
	    __attribute__((warn_unused_result));
/* Drop the cache entry (after a commit that changed the event). */
void	 event_cache_evict(struct app *, int64_t id);
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
