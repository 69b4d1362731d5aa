/*
 * group_commit.h: reservations of concurrent workers in one transaction.
 *
 * A worker's commit is most of what the database spends on a reservation
 * (docs/PERFORMANCE.md, txbench items1/set8), and under an on-sale many
 * workers commit reservations of the same event at once. Each worker puts
 * its reservation in a slot of a table shared by the prefork pool; one of
 * them, the leader, takes every queued reservation of the same event and
 * seat pool, runs them as one transaction on its own connection, and wakes
 * the others with their verdicts. A leader hands the lead to the oldest
 * waiting worker when it is done, so no worker serves others for long. Up
 * to reserve_group_leaders leads run at once (1 by default); a worker that
 * finds one free leads at once, alone if nobody is queued, and keeps the
 * lead while it commits, so that batches form only while commits are busy.
 *
 * Failures:
 * - a leader that dies while it runs a batch: its followers see it gone
 *   (they wait in slices and look), and get GC_LEADER_LOST with the
 *   leader's database session, which they fence before they look their own
 *   txn id up: the batch committed whole or not at all;
 * - a leader that dies holding the table's mutex: it is robust, the next
 *   locker makes it consistent;
 * - a follower that dies while queued: its reservation may still commit,
 *   as one whose client hung up would; its slot is reused after.
 * The invariant is not here: the batch's statements are the same guarded
 * statements as a single reservation's (reserve.c).
 *
 * gc_init() maps the table before the master forks; workers share it.
 */
#ifndef BO_GROUP_COMMIT_H
#define BO_GROUP_COMMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "txn.h"

#define GC_BATCH_MAX	64	/* reservations in one transaction */
#define GC_LEADERS_MAX	16	/* reserve_group_leaders' bound */

enum gc_verdict {
	GC_COMMITTED,		/* committed; id is the reservation's */
	GC_NOT_COMMITTED,	/* rolled back: run the reservation alone */
	GC_ALONE,		/* nobody to share with: run it alone, then
				   gc_release() */
	GC_UNKNOWN,		/* the batch's COMMIT answer was lost and could
				   not be learned */
	GC_LEADER_LOST		/* the leader died: fence its session, then
				   look the txn id up */
};

/* One reservation, rendered by its worker for the leader's statements. */
struct gc_item {
	/* Only reservations with the same event and pool share a commit. */
	int64_t		 event_id;
	char		 pool[CLASS_CODE_MAX + 1];
	int		 shards;		/* the pool's */
	int64_t		 qty;
	bool		 admitted;		/* holds a valid admission */
	char		 user_sql[144];		/* the user id, quoted */
	/* The reservation row's values before shard_alloc (the leader picks
	   the shard), and the audit row's after reservation_id. */
	char		 row_sql[1280];
	char		 audit_sql[512];
	char		 txn_id[TXN_ID_LEN + 1];

	/* The verdict, filled in by the leader. */
	enum gc_verdict	 verdict;
	int64_t		 id;
	char		 alloc[48];		/* the leader's: its shard_alloc */
	/* The event row as the batch saw it (status, in the future,
	   max_per_request, per_user_limit, waiting_room). */
	char		 event_row[5][24];
	unsigned long	 leader_session;	/* GC_LEADER_LOST: to fence */
	int64_t		 leader_boot_s;
};

/*
 * The leader's work: run items[0..n-1] (n >= 2, same event and pool) as
 * one transaction and set each one's verdict, id and event_row.
 * Before its first statement it calls gc_leader_session().
 */
typedef void (*gc_run_fn)(void *ctx, struct gc_item **items, int n);

/* Map the shared table (the master, before it forks). 0 or -1 (errno). */
int		 gc_init(void) __attribute__((warn_unused_result));

/*
 * Queue *item, wait for its verdict (copied back into *item), leading a
 * batch with run(ctx, ...) when it is this worker's turn: when fewer than
 * `leaders` batches (or lone commits) are in flight, it leads at once. GC_ALONE when
 * the table is not mapped or full, when the lead is another event's (it
 * runs alone at once, as without group commit: a lock wait there must not
 * stall this event), or when nobody else was waiting: then this worker may
 * hold the lead (others of its event queue behind it while it commits
 * alone). After GC_ALONE, call gc_release() when the commit is over.
 */
enum gc_verdict	 gc_submit(struct gc_item *item, int leaders, gc_run_fn run,
		    void *ctx);
void		 gc_release(void);

/* The leader's database session, for followers to fence if it dies. */
void		 gc_leader_session(unsigned long session, int64_t boot_s);

#endif
