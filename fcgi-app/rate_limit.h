/*
 * rate_limit.h: reservations per user, a token bucket in Redis.
 *
 * Each user has a bucket of rate_limit_burst tokens that refills at
 * rate_limit_per_minute; a reservation takes one. One Lua call, on Redis's
 * own clock, so every instance shares one bucket per user. Redis
 * unavailable: the limit fails open (nginx still limits per address).
 */
#ifndef BO_RATE_LIMIT_H
#define BO_RATE_LIMIT_H

#include <stdbool.h>

struct store;

/*
 * Take a token for user. False when the bucket is empty; *retry_after_s
 * says when the next one comes (at least 1).
 */
bool	 rate_take(struct store *, const char *user, int *retry_after_s);

#endif
