/*
 * fuzz_event_cache.c: the cached-event decoder (event_cache.c).
 *
 * Redis is shared by every instance and outlives releases, so an entry may be
 * of another version's shape, cut short, or written by hand: whatever it
 * holds, a decode must either refuse it (a miss: the database answers) or
 * give an event every later step can trust.
 *
 * Input: the entry as stored, "<version>|<json>" (or the tombstone), for
 * event id 7.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "event.h"
#include "event_cache.h"
#include "xmalloc.h"
#include "fuzz.h"

#define ID	7

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	return (0);
}

/* What the reserve path and the renderers assume of a decoded event. */
static void
check_event(const struct event *ev)
{
	int	i;

	FUZZ_ASSERT(ev->id == ID && ev->version >= 1);
	FUZZ_ASSERT(ev->name != NULL);
	FUZZ_ASSERT(ev->total >= 1 && ev->total <= 10000000);
	FUZZ_ASSERT(ev->per_user_limit >= 1 && ev->max_per_request >= 1);
	FUZZ_ASSERT(ev->shards >= 1 && ev->shards <= EVENT_MAX_SHARDS);
	FUZZ_ASSERT(ev->status >= EVENT_ACTIVE && ev->status <= EVENT_CANCELLED);
	FUZZ_ASSERT(ev->waiting_room == (ev->admit_per_second > 0));
	FUZZ_ASSERT(strlen(ev->currency) <= 3);
	FUZZ_ASSERT(ev->nclasses >= 0 && ev->nclasses <= EVENT_MAX_CLASSES);
	for (i = 0; i < ev->nclasses; i++) {
		const struct seat_class	*c = &ev->classes[i];

		FUZZ_ASSERT(c->code[0] != '\0' &&
		    strlen(c->code) <= CLASS_CODE_MAX);
		FUZZ_ASSERT(c->price >= 0);
		/* A class with seats of its own has shards for them. */
		FUZZ_ASSERT((c->own_seats >= 0) == (c->shards > 0));
		FUZZ_ASSERT(c->shards <= EVENT_MAX_SHARDS);
	}
}

/* Encoding a decoded event gives an entry that decodes to the same. */
static void
check_round_trip(const struct event *ev)
{
	struct event	 again;
	char		*s = event_cache_encode(ev);
	int		 i;

	FUZZ_ASSERT(event_cache_decode(s, ID, &again) == LOOKUP_FOUND);
	FUZZ_ASSERT(strcmp(again.name, ev->name) == 0);
	FUZZ_ASSERT((again.venue == NULL) == (ev->venue == NULL));
	FUZZ_ASSERT(again.venue == NULL || strcmp(again.venue, ev->venue) == 0);
	FUZZ_ASSERT(again.version == ev->version && again.total == ev->total &&
	    again.date_ms == ev->date_ms && again.status == ev->status &&
	    again.shards == ev->shards && again.nclasses == ev->nclasses &&
	    again.admit_per_second == ev->admit_per_second &&
	    again.venue_capacity == ev->venue_capacity);
	FUZZ_ASSERT(strcmp(again.currency, ev->currency) == 0);
	for (i = 0; i < ev->nclasses; i++)
		FUZZ_ASSERT(strcmp(again.classes[i].code,
		    ev->classes[i].code) == 0 &&
		    again.classes[i].price == ev->classes[i].price &&
		    again.classes[i].own_seats == ev->classes[i].own_seats);
	event_free(&again);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event	 ev;
	char		*s = xmalloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	switch (event_cache_decode(s, ID, &ev)) {
	case LOOKUP_FOUND:
		check_event(&ev);
		check_round_trip(&ev);
		event_free(&ev);
		break;
	case LOOKUP_NONE:
	case LOOKUP_ERROR:
		/* Nothing to free: a refused entry leaves the event empty. */
		FUZZ_ASSERT(ev.name == NULL && ev.venue == NULL &&
		    ev.venue_address == NULL);
		break;
	}
	free(s);
	return (0);
}
