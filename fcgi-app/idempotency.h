/*
 * idempotency.h: the Idempotency-Key of POST /api/reservations.
 *
 * The same key, user and body replays the stored reservation; the same key
 * with another body is a conflict. The unique key (user_id,
 * idempotency_key) in MariaDB decides; a Redis marker (SET NX, 30 s) only
 * answers a duplicate that is still in flight without running it. Redis
 * unavailable (any error): no marker, and the database still decides.
 * Keys are forgotten after idempotency_ttl_s (housekeeping).
 */
#ifndef BO_IDEMPOTENCY_H
#define BO_IDEMPOTENCY_H

#include <stdbool.h>

#include <hiredis.h>

#include "reserve.h"

struct script_call;
struct store;

/* The marker a request holds while in flight; idem_end() removes it. */
struct idem_mark {
	bool	held;
	char	key[300];
	char	*canon;		/* owned */
};

/* The canonical text of a request, quoted for SQL; the caller frees it. */
char	*idem_canonical(const struct reserve_req *);
/*
 * Before the transaction: RESERVE_OK to go on (a marker may be held),
 * RESERVE_IDEM_CONFLICT or RESERVE_IDEM_IN_FLIGHT (the marker of a request
 * in flight). Without a key: RESERVE_OK and nothing held. The database is
 * not asked: a key that committed before is found by the transaction's
 * duplicate key, or by idem_twin() when it is refused before the
 * insert, so a new request pays no lookup.
 */
enum reserve_outcome idem_begin(struct store *, const struct reserve_req *,
	    struct idem_mark *);
/*
 * idem_begin() in halves, so that the marker's script can share a round
 * trip with others (redis_scripts_run()): the call, when the request has a
 * key (else false and nothing to run; *m is ready for idem_end() either
 * way, and holds the call's strings), then its reply judged (NULL: Redis
 * unavailable, no marker).
 */
bool	 idem_begin_call(const struct reserve_req *, struct idem_mark *,
	    struct script_call *);
enum reserve_outcome idem_begin_answer(struct idem_mark *,
	    const redisReply *);
/*
 * The key's earlier reservation, looked up after the request failed with
 * o: a refusal (sold out, over the limit, ...) or the unique key's
 * duplicate. RESERVE_REPLAY with *res, or a conflict, if there is one;
 * RESERVE_UNAVAILABLE if that cannot be known; else o.
 */
enum reserve_outcome idem_twin(struct store *, const struct reserve_req *,
	    enum reserve_outcome o, struct reservation *res);
void	 idem_end(struct store *, struct idem_mark *);

#endif
