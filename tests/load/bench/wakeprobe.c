/*
 * wakeprobe.c: what a wakeup costs on this machine, for scripts/bench (issue 13). A reservation
 * crosses about ten processes (client, nginx, a worker, Redis, the batch's leader, MariaDB and
 * back), and each hop wakes the next process. When the machine is busy the wakee's CPU is
 * running anyway; below capacity it is often idle, and waking an idle vCPU costs what the
 * hypervisor charges for it. This measures both ends: a one-byte ping-pong over two pipes
 * between two processes pinned to the same CPU, then to two different CPUs.
 *
 *   wakeprobe ROUND_TRIPS OUT.json
 *
 * Each placement runs three times; the JSON gives the median round trip of each in µs
 * (null when the machine has one CPU), and the CPUs used. Bounded: 2 x 3 x ROUND_TRIPS round
 * trips, each child exits on EOF or when its parent dies.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now_us(void)
{
	struct timespec	 t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec * 1e6 + t.tv_nsec / 1e3);
}

static int
pin(int cpu)
{
	cpu_set_t	 set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return (sched_setaffinity(0, sizeof set, &set));
}

/* One run: the parent on cpu a, the child on cpu b; the mean round trip in µs, or -1. */
static double
pingpong(int a, int b, int n)
{
	int	 to[2], from[2], i, st;
	char	 c = 'x';
	double	 t0, t1;
	pid_t	 pid;

	if (pipe(to) == -1 || pipe(from) == -1)
		return (-1);
	if ((pid = fork()) == -1)
		return (-1);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(to[1]);
		close(from[0]);
		if (pin(b) == -1)
			_exit(1);
		while (read(to[0], &c, 1) == 1)
			if (write(from[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(to[0]);
	close(from[1]);
	if (pin(a) == -1)
		goto fail;
	/* a few round trips first, so that both sides have run on their CPUs */
	for (i = 0; i < 100; i++)
		if (write(to[1], &c, 1) != 1 || read(from[0], &c, 1) != 1)
			goto fail;
	t0 = now_us();
	for (i = 0; i < n; i++)
		if (write(to[1], &c, 1) != 1 || read(from[0], &c, 1) != 1)
			goto fail;
	t1 = now_us();
	close(to[1]);
	close(from[0]);
	waitpid(pid, &st, 0);
	return ((t1 - t0) / n);
fail:
	close(to[1]);
	close(from[0]);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return (-1);
}

static int
cmp(const void *x, const void *y)
{
	double	 a = *(const double *)x, b = *(const double *)y;

	return ((a > b) - (a < b));
}

/* The median of three runs, or -1 if one failed. */
static double
median3(int a, int b, int n)
{
	double	 r[3];
	int	 i;

	for (i = 0; i < 3; i++)
		if ((r[i] = pingpong(a, b, n)) < 0)
			return (-1);
	qsort(r, 3, sizeof r[0], cmp);
	return (r[1]);
}

int
main(int argc, char **argv)
{
	cpu_set_t	 set;
	int		 n, cpus[2], k = 0, i;
	double		 same, cross = -1;
	FILE		*out;

	if (argc != 3 || (n = atoi(argv[1])) < 1) {
		fprintf(stderr, "usage: wakeprobe ROUND_TRIPS OUT.json\n");
		return (2);
	}
	/* the first two CPUs this process may run on */
	if (sched_getaffinity(0, sizeof set, &set) == -1) {
		perror("wakeprobe: sched_getaffinity");
		return (1);
	}
	for (i = 0; i < CPU_SETSIZE && k < 2; i++)
		if (CPU_ISSET(i, &set))
			cpus[k++] = i;
	if ((same = median3(cpus[0], cpus[0], n)) < 0) {
		perror("wakeprobe: same CPU");
		return (1);
	}
	if (k == 2 && (cross = median3(cpus[0], cpus[1], n)) < 0) {
		perror("wakeprobe: two CPUs");
		return (1);
	}
	if ((out = fopen(argv[2], "w")) == NULL) {
		perror(argv[2]);
		return (1);
	}
	fprintf(out, "{\"round_trips\": %d, \"runs\": 3, \"cpus\": [%d", n, cpus[0]);
	if (k == 2)
		fprintf(out, ", %d", cpus[1]);
	fprintf(out, "], \"same_cpu_us\": %.2f, \"cross_cpu_us\": ", same);
	if (cross < 0)
		fprintf(out, "null}\n");
	else
		fprintf(out, "%.2f}\n", cross);
	if (fclose(out) != 0) {
		perror(argv[2]);
		return (1);
	}
	printf("wakeprobe: round trip %.1f us on one CPU, ", same);
	if (cross < 0)
		printf("one CPU only\n");
	else
		printf("%.1f us across two\n", cross);
	return (0);
}
