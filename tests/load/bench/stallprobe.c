/*
 * stallprobe.c: what the machine itself did during a bench run, second by second, so that a
 * latency spike can be told apart from the daemon's own stalls. Two probes:
 *   - a timer that should wake every TICK_MS (SCHED_FIFO when allowed): how late it woke is a
 *     stall of the whole guest (the hypervisor took the vCPU, or the kernel did not schedule);
 *   - a 4-KB write and fdatasync(2) every FSYNC_GAP_MS on a file of the filesystem that holds
 *     MariaDB's data: the time a durable commit's log flush waits for the disk.
 * and, from /proc/stat, the steal time the hypervisor reports.
 *
 *   stallprobe FILE OUT.tsv MAX_SECONDS
 *
 * Writes one line per wall-clock second to OUT.tsv (flushed each line):
 *   unix_s  timer_late_max_us  fsyncs  fsync_max_us  steal_ms  busy_pct
 * An fsync still running when a second ends counts with its time so far, so a stall shows in
 * the second it happens, not only in the one it ends. Ends on SIGTERM or SIGINT, or after
 * MAX_SECONDS; removes FILE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS		10
#define FSYNC_GAP_MS	20

static volatile sig_atomic_t stop;
static atomic_int_fast64_t fsync_max_us;	/* this second's slowest fsync, done or running */
static atomic_int_fast64_t fsyncs;		/* fsyncs completed this second */
static atomic_int_fast64_t fsync_started;	/* the running fsync's start (monotonic us), 0 none */
static int fd;

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

static void
raise_max(atomic_int_fast64_t *m, int64_t v)
{
	int64_t cur = atomic_load(m);

	while (v > cur && !atomic_compare_exchange_weak(m, &cur, v))
		;
}

static void *
fsync_loop(void *arg)
{
	static char block[4096];
	struct timespec gap = { 0, FSYNC_GAP_MS * 1000000L };

	(void)arg;
	memset(block, 'p', sizeof block);
	while (!stop) {
		int64_t t = mono_us();

		atomic_store(&fsync_started, t);
		if (pwrite(fd, block, sizeof block, 0) != (ssize_t)sizeof block || fdatasync(fd) == -1) {
			perror("stallprobe: write");
			atomic_store(&fsync_started, 0);
			break;
		}
		atomic_store(&fsync_started, 0);
		raise_max(&fsync_max_us, mono_us() - t);
		atomic_fetch_add(&fsyncs, 1);
		nanosleep(&gap, NULL);
	}
	return (NULL);
}

/* the steal, busy and total ticks of all CPUs so far (/proc/stat's first line); busy as
 * scripts/bench's cpu_ticks counts it: user, nice, system, irq, softirq (not steal) */
static int
cpu_ticks(int64_t *steal, int64_t *busy, int64_t *total)
{
	int64_t v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (f == NULL)
		return (-1);
	n = fscanf(f, "cpu %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64
	    " %" SCNd64 " %" SCNd64, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n != 8)
		return (-1);
	*steal = v[7];
	*busy = v[0] + v[1] + v[2] + v[5] + v[6];
	*total = *busy + v[3] + v[4] + v[7];
	return (0);
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	struct sched_param sp = { .sched_priority = 1 };
	struct sigaction sa;
	struct timespec next;
	pthread_t th;
	FILE *out;
	int64_t max_s, t_end, late_max = 0, st0 = 0, bz0 = 0, tt0 = 0, st, bz, tt;
	long hz = sysconf(_SC_CLK_TCK);
	time_t sec;

	if (argc != 4 || (max_s = strtoll(argv[3], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: stallprobe FILE OUT.tsv MAX_SECONDS\n");
		return (2);
	}
	if ((fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1) {
		perror(argv[1]);
		return (1);
	}
	if ((out = fopen(argv[2], "w")) == NULL) {
		perror(argv[2]);
		return (1);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* real-time for the timer only (the fsync thread is created first and keeps the default
	 * policy): then its lateness is the guest's stall, not the bench's load on two vCPUs */
	if (pthread_create(&th, NULL, fsync_loop, NULL) != 0) {
		fprintf(stderr, "stallprobe: no thread\n");
		return (1);
	}
	fprintf(out, "# unix_s\ttimer_late_max_us\tfsyncs\tfsync_max_us\tsteal_ms\tbusy_pct\t(timer %s)\n",
	    sched_setscheduler(0, SCHED_FIFO, &sp) == 0 ? "SCHED_FIFO" : "SCHED_OTHER");
	fflush(out);
	if (cpu_ticks(&st0, &bz0, &tt0) == -1)
		st0 = bz0 = tt0 = 0;
	t_end = mono_us() + max_s * 1000000;
	sec = time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!stop && mono_us() < t_end) {
		int64_t late, due;

		next.tv_nsec += TICK_MS * 1000000L;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			continue;
		due = (int64_t)next.tv_sec * 1000000 + next.tv_nsec / 1000;
		late = mono_us() - due;
		if (late > late_max)
			late_max = late;
		if (late > TICK_MS * 1000) {
			/* a long stall: start again from now rather than firing the missed ticks */
			clock_gettime(CLOCK_MONOTONIC, &next);
		}
		if (time(NULL) != sec) {
			int64_t running = atomic_load(&fsync_started);

			if (running != 0)
				raise_max(&fsync_max_us, mono_us() - running);
			if (cpu_ticks(&st, &bz, &tt) == -1)
				st = st0, bz = bz0, tt = tt0;
			fprintf(out, "%lld\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\n",
			    (long long)sec, late_max, (int64_t)atomic_exchange(&fsyncs, 0),
			    (int64_t)atomic_exchange(&fsync_max_us, 0), (st - st0) * 1000 / hz,
			    tt > tt0 ? 100 * (bz - bz0) / (tt - tt0) : 0);
			fflush(out);
			st0 = st, bz0 = bz, tt0 = tt;
			late_max = 0;
			sec = time(NULL);
		}
	}
	stop = 1;
	pthread_join(th, NULL);
	fclose(out);
	close(fd);
	unlink(argv[1]);
	return (0);
}
