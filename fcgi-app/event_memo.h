/*
 * event_memo.h: the events this worker read last, as they were.
 *
 * A reservation judged on a remembered event need not read the event
 * first: the gate's script takes its seats only while the event's cache
 * entry still carries the remembered version (gate_current_call()), and
 * anything else sends the request down the reading path. So the memo is
 * never trusted on its own and needs no invalidation. It is per process
 * (workers fill it after fork) and keeps no strings: only what judges a
 * reservation.
 */
#ifndef BO_EVENT_MEMO_H
#define BO_EVENT_MEMO_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"

/* Remember ev (its name, venue and address are not kept). */
void	 event_memo_put(const struct event *ev);
/*
 * The remembered event by id into *out, without strings (event_free() on
 * it is harmless); false when none.
 */
bool	 event_memo_get(int64_t id, struct event *out);
/* Forget them all (tests). */
void	 event_memo_clear(void);

#endif
