/*
 * event_cache.h: events read through their Redis cache.
 *
 * bo:{ev:ID}:event holds an event's own fields as "<version>|<json>" (TTL
 * cache_ttl_s); availability is not in it (the gate counter is read beside
 * it). Entries are versioned by events.version: a write keeps the newer of
 * what is there and what it brings, so a slow reader's fill can never put
 * back an older row after an update, and a deleted event leaves a tombstone
 * newer than any row. A cached event only ever makes a request fail fast:
 * the reservation transaction checks the row itself.
 *
 * Any entry that does not decode, or decodes to values out of range, is a
 * miss, never trusted.
 */
#ifndef BO_EVENT_CACHE_H
#define BO_EVENT_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"

#define EVENT_SIDES_MAX	4	/* side keys read beside an event */

struct store;

/*
 * Integer keys of the event's {ev:ID} slot read in the same round trip as
 * the event (an MGET): a gate counter, a queue number. read says whether
 * Redis answered; value is -1 when the key is missing or not read.
 */
struct cache_side {
	const char	*key;
	int64_t		 value;
	bool		 read;
};

/*
 * The event by id: from the cache, or from the database on a miss (one
 * worker refills the cache, single flight). *hit says which. *available is
 * the database's sum on a miss, -1 on a hit. The nside sides (may be 0)
 * are read whether the event's entry is there or not.
 */
enum lookup event_fetch(struct store *, int64_t id, struct event *,
		    bool *hit, int64_t *available, struct cache_side *side,
		    int nside) __attribute__((warn_unused_result));
/* The event's entry key ("bo:{ev:ID}:event"); buf holds 64 bytes. */
void		 event_cache_key(int64_t id, char *buf, size_t len);
/* After a commit: cache the committed row (unless a newer one is there). */
void		 event_cache_put(struct store *, const struct event *);
/* After a delete: a tombstone that no fill can overwrite. */
void		 event_cache_bury(struct store *, int64_t id);

/* The entry's text (the caller frees it), and back. */
char		*event_cache_encode(const struct event *);
enum lookup event_cache_decode(const char *s, int64_t id,
		    struct event *ev);

#endif
