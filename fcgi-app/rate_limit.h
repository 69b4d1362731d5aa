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

#include <hiredis.h>

struct script_call;
struct store;

/*
 * Take a token for user. False when the bucket is empty; *retry_after_s
 * says when the next one comes (at least 1).
 */
bool	 rate_take(struct store *, const char *user, int *retry_after_s);

/*
 * rate_take() in halves, so that the bucket's script can share a round
 * trip with others (redis_scripts_run()): the call for user (false when
 * the limit is off; its strings live in *rc, which must outlive it), then
 * its reply judged (NULL: Redis failed, and the limit fails open).
 */
struct rate_check {
	char	key[128];
	char	rate[32];
	char	burst[16];
};
bool	 rate_call(struct store *, const char *user, struct rate_check *,
	    struct script_call *);
bool	 rate_answer(struct store *, const redisReply *, int *retry_after_s);

#endif
