/* event_memo.c: a direct-mapped table of the events read last. */
#include "config.h"

#include <string.h>

#include "event_memo.h"

/* An on-sale is a handful of events; a collision only costs a read. */
#define MEMO_SLOTS	64

static struct event	memo[MEMO_SLOTS];

static struct event *
slot(int64_t id)
{
	return (&memo[(uint64_t)id % MEMO_SLOTS]);
}

void
event_memo_put(const struct event *ev)
{
	struct event	*m = slot(ev->id);

	*m = *ev;
	m->name = m->venue = m->venue_address = NULL;
	m->npools = 0;
}

bool
event_memo_get(int64_t id, struct event *out)
{
	const struct event	*m = slot(id);

	/* Ids start at 1: an empty slot (id 0) is never asked for. */
	if (id < 1 || m->id != id)
		return (false);
	*out = *m;
	return (true);
}

void
event_memo_clear(void)
{
	memset(memo, 0, sizeof memo);
}
