/* group_commit.c: the shared slot table, its leader and followers. */
#include "config.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "group_commit.h"
#include "log.h"

#define GC_SLOTS	512	/* workers of every generation at once */
#define GC_WAIT_MS	20	/* a follower looks at its leader this often */

/* A slot's state is also its futex word. */
enum gc_state {
	SLOT_FREE = 0,		/* nobody's */
	SLOT_IDLE,		/* its owner's, nothing queued */
	SLOT_QUEUED,		/* waits for a leader */
	SLOT_TAKEN,		/* in a leader's batch */
	SLOT_LEAD,		/* its owner was handed the lead */
	SLOT_DONE		/* the verdict is in */
};

struct gc_slot {
	_Atomic uint32_t	 state;
	pid_t			 owner;
	pid_t			 taken_by;	/* SLOT_TAKEN: the leader */
	uint64_t		 arrival;
	struct gc_item		 item;
};

/* A lead: one batch (or one lone commit) in progress. */
struct gc_lead {
	pid_t			 pid;		/* 0: free */
	int64_t			 event_id;	/* its batch's event and pool */
	char			 pool[CLASS_CODE_MAX + 1];
	unsigned long		 session;	/* its database session, 0 */
	int64_t			 boot_s;	/* until it writes */
};

struct gc_table {
	pthread_mutex_t		 mu;	/* robust, process-shared */
	struct gc_lead		 lead[GC_LEADERS_MAX];
	int			 leaders;	/* of them in use (config) */
	int			 used;		/* slots ever claimed: 0..used-1 */
	uint64_t		 arrivals;
	struct gc_slot		 slot[GC_SLOTS];
};

static struct gc_table	*table;
static int		 mine = -1;	/* this worker's slot */
/* Slots whose owners wait for a change made under the mutex: woken after
   it is let go, so that they do not wake only to wait for it. */
static _Atomic uint32_t	*to_wake[GC_SLOTS];
static int		 nwake;

int
gc_init(void)
{
	pthread_mutexattr_t	 a;
	void			*p;

	p = mmap(NULL, sizeof *table, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return (-1);
	table = p;	/* zero pages: every slot SLOT_FREE */
	if (pthread_mutexattr_init(&a) != 0 ||
	    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) != 0 ||
	    pthread_mutex_init(&table->mu, &a) != 0) {
		munmap(p, sizeof *table);
		table = NULL;
		errno = EINVAL;
		return (-1);
	}
	pthread_mutexattr_destroy(&a);
	return (0);
}

static void
gc_lock(void)
{
	/* Its last holder died inside: every update below leaves the table
	   usable at each step, so it is consistent as it is. */
	if (pthread_mutex_lock(&table->mu) == EOWNERDEAD)
		pthread_mutex_consistent(&table->mu);
}

static void
gc_unlock(void)
{
	int	i;

	pthread_mutex_unlock(&table->mu);
	for (i = 0; i < nwake; i++)
		syscall(SYS_futex, to_wake[i], FUTEX_WAKE, 1, NULL, NULL, 0);
	nwake = 0;
}

static bool
alive(pid_t pid)
{
	return (pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH));
}

static void
set_state(struct gc_slot *s, enum gc_state st, bool wake)
{
	atomic_store(&s->state, st);
	if (!wake)
		return;
	if (nwake < GC_SLOTS)
		to_wake[nwake++] = &s->state;
	else
		syscall(SYS_futex, &s->state, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* This worker's slot: kept, or a free one, or one whose owner is gone. */
static struct gc_slot *
claim(void)
{
	struct gc_slot	*s;
	uint32_t	 st;
	int		 i;

	if (mine >= 0 && table->slot[mine].owner == getpid())
		return (&table->slot[mine]);
	for (i = 0; i < GC_SLOTS; i++) {
		s = &table->slot[i];
		st = atomic_load(&s->state);
		if (st == SLOT_FREE || ((st == SLOT_IDLE || st == SLOT_DONE) &&
		    !alive(s->owner))) {
			s->owner = getpid();
			set_state(s, SLOT_IDLE, false);
			if (i >= table->used)
				table->used = i + 1;
			mine = i;
			return (s);
		}
	}
	return (NULL);
}

/* The lead this process holds, or -1. */
static int
my_lead(void)
{
	int	i;

	for (i = 0; i < GC_LEADERS_MAX; i++)
		if (table->lead[i].pid == getpid())
			return (i);
	return (-1);
}

/* The oldest queued slot, or NULL. */
static struct gc_slot *
oldest_queued(void)
{
	struct gc_slot	*s, *best = NULL;
	int		 i;

	for (i = 0; i < table->used; i++) {
		s = &table->slot[i];
		if (atomic_load(&s->state) == SLOT_QUEUED &&
		    (best == NULL || s->arrival < best->arrival))
			best = s;
	}
	return (best);
}

/* Hand lead `l` to the oldest waiting worker, or leave it free. */
static void
hand_off(int l)
{
	struct gc_slot	*next = l < table->leaders ? oldest_queued() : NULL;

	table->lead[l].pid = next != NULL ? next->owner : 0;
	table->lead[l].session = 0;
	if (next != NULL)
		set_state(next, SLOT_LEAD, true);
}

/*
 * Lead `l`'s holder is gone: its batch's followers learn it (with the
 * session to fence), and the lead passes on. A slot it was handed the lead
 * in is dropped.
 */
static void
reap(int l)
{
	pid_t		 dead = table->lead[l].pid;
	struct gc_slot	*s;
	int		 i;

	for (i = 0; i < table->used; i++) {
		s = &table->slot[i];
		if (atomic_load(&s->state) == SLOT_TAKEN && s->taken_by == dead) {
			s->item.verdict = GC_LEADER_LOST;
			s->item.leader_session = table->lead[l].session;
			s->item.leader_boot_s = table->lead[l].boot_s;
			set_state(s, SLOT_DONE, true);
		} else if (atomic_load(&s->state) == SLOT_LEAD && s->owner == dead)
			set_state(s, SLOT_IDLE, false);
	}
	log_warn("group commit: leader %ld died; its batch is resolved by its "
	    "followers", (long)dead);
	hand_off(l);
}

static void
reap_dead(void)
{
	int	i;

	for (i = 0; i < GC_LEADERS_MAX; i++)
		if (table->lead[i].pid != 0 && table->lead[i].pid != getpid() &&
		    !alive(table->lead[i].pid))
			reap(i);
}

/*
 * Lead `l` with one batch headed by this worker's queued slot; the mutex is
 * held on entry and on return. The verdict is in *me's item.
 */
static void
lead(int l, struct gc_slot *me, gc_run_fn run, void *ctx)
{
	struct gc_item	*items[GC_BATCH_MAX];
	struct gc_slot	*taken[GC_BATCH_MAX], *s, *t;
	pid_t		 self = getpid();
	int		 i, n = 0;

	table->lead[l].pid = self;
	table->lead[l].event_id = me->item.event_id;
	snprintf(table->lead[l].pool, sizeof table->lead[l].pool, "%s",
	    me->item.pool);
	table->lead[l].session = 0;	/* named again before it writes */
	taken[n++] = me;
	/* FIFO: the oldest first, up to the batch's size. */
	while (n < GC_BATCH_MAX) {
		s = NULL;
		for (i = 0; i < table->used; i++) {
			t = &table->slot[i];
			if (t != me && atomic_load(&t->state) == SLOT_QUEUED &&
			    t->item.event_id == me->item.event_id &&
			    strcmp(t->item.pool, me->item.pool) == 0 &&
			    (s == NULL || t->arrival < s->arrival))
				s = t;
		}
		if (s == NULL)
			break;
		s->taken_by = self;
		set_state(s, SLOT_TAKEN, false);
		taken[n++] = s;
	}
	if (n == 1) {
		/* It keeps the lead while it commits alone: whoever comes
		   meanwhile queues, and the next leader takes them all. */
		me->item.verdict = GC_ALONE;
		set_state(me, SLOT_IDLE, false);
		return;
	}
	me->taken_by = self;
	set_state(me, SLOT_TAKEN, false);
	for (i = 0; i < n; i++)
		items[i] = &taken[i]->item;
	gc_unlock();
	run(ctx, items, n);
	gc_lock();
	for (i = 1; i < n; i++)
		if (atomic_load(&taken[i]->state) == SLOT_TAKEN &&
		    taken[i]->taken_by == self)
			set_state(taken[i], SLOT_DONE, true);
	set_state(me, SLOT_IDLE, false);
	hand_off(l);
}

void
gc_leader_session(unsigned long session, int64_t boot_s)
{
	int	l;

	if (table == NULL)
		return;
	gc_lock();
	if ((l = my_lead()) >= 0) {
		table->lead[l].session = session;
		table->lead[l].boot_s = boot_s;
	}
	gc_unlock();
}

/* A free lead, or -1; *same: a lead of this event and pool is busy. */
static int
free_lead(const struct gc_item *item, bool *same)
{
	int	i, l = -1;

	*same = false;
	for (i = 0; i < GC_LEADERS_MAX; i++) {
		if (table->lead[i].pid == 0) {
			if (l < 0 && i < table->leaders)
				l = i;
		} else if (table->lead[i].event_id == item->event_id &&
		    strcmp(table->lead[i].pool, item->pool) == 0)
			*same = true;
	}
	return (l);
}

enum gc_verdict
gc_submit(struct gc_item *item, int leaders, gc_run_fn run, void *ctx)
{
	struct gc_slot	*me;
	struct timespec	 slice = { 0, GC_WAIT_MS * 1000000L };
	uint32_t	 st;
	bool		 same;
	int		 l;

	if (table == NULL)
		return (item->verdict = GC_ALONE);
	gc_lock();
	table->leaders = leaders < GC_LEADERS_MAX ? leaders : GC_LEADERS_MAX;
	reap_dead();
	l = free_lead(item, &same);
	/* Every lead another event's: nothing to share, and never wait
	   behind them (a lock wait there must not stall this event). */
	if ((l < 0 && !same) || (me = claim()) == NULL) {
		gc_unlock();
		return (item->verdict = GC_ALONE);
	}
	me->item = *item;
	me->arrival = ++table->arrivals;
	set_state(me, SLOT_QUEUED, false);
	for (;;) {
		st = atomic_load(&me->state);
		if (st == SLOT_DONE) {
			set_state(me, SLOT_IDLE, false);
			break;
		}
		if (st == SLOT_LEAD)
			l = my_lead();
		else if (st == SLOT_QUEUED)
			l = free_lead(item, &same);
		if ((st == SLOT_LEAD || st == SLOT_QUEUED) && l >= 0) {
			set_state(me, SLOT_QUEUED, false);
			lead(l, me, run, ctx);
			break;
		}
		gc_unlock();
		syscall(SYS_futex, &me->state, FUTEX_WAIT, st, &slice, NULL, 0);
		gc_lock();
		reap_dead();
	}
	*item = me->item;
	gc_unlock();
	return (item->verdict);
}

void
gc_release(void)
{
	int	l;

	if (table == NULL)
		return;
	gc_lock();
	if ((l = my_lead()) >= 0)
		hand_off(l);
	gc_unlock();
}
