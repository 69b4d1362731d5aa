/* master.c: spawn, watch, reload and stop the workers. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "housekeeping.h"
#include "listen.h"
#include "log.h"
#include "master.h"
#include "metrics.h"
#include "timeutil.h"
#include "worker.h"
#include "xmalloc.h"

enum slot_state {
	SLOT_FREE = 0,
	SLOT_RUNNING,		/* serving, current or old generation */
	SLOT_QUITTING,		/* sent QUIT, deadline = graceful end */
	SLOT_TERMINATING,	/* sent TERM, deadline = KILL */
	SLOT_KILLED		/* sent KILL, waiting to reap */
};

enum slot_kind {
	KIND_WORKER = 0,	/* a FastCGI responder */
	KIND_HOUSEKEEPER	/* the one upkeep child (housekeeping.h) */
};

static const char *const kind_names[] = { "worker", "housekeeper" };

struct slot {
	pid_t		 pid;
	enum slot_kind	 kind;
	enum slot_state	 state;
	unsigned	 generation;
	int64_t		 started_ms;
	int64_t		 deadline_ms;	/* for QUITTING and TERMINATING */
};

static volatile sig_atomic_t	sig_child, sig_reload, sig_quit,
				sig_terminate, sig_reopen, sig_alarm;

static struct slot	*slots;
static int		 nslots;
static unsigned		 generation;
static int64_t		 respawn_paused_until;
static int		 respawns_due;	/* exits that the next spawns replace */
static int64_t		*crash_times;	/* ring of abnormal exit times */
static int		 crash_cap;	/* its size: crash_loop_threshold */
static int		 crash_next;

static void
on_signal(int sig)
{
	int	saved = errno;

	switch (sig) {
	case SIGCHLD:
		sig_child = 1;
		break;
	case SIGHUP:
		sig_reload = 1;
		break;
	case SIGQUIT:
		sig_quit = 1;
		break;
	case SIGTERM:
	case SIGINT:
		sig_terminate = 1;
		break;
	case SIGUSR1:
		sig_reopen = 1;
		break;
	case SIGALRM:
		sig_alarm = 1;
		break;
	}
	errno = saved;
}

static void
master_signals(sigset_t *blocked)
{
	static const int	 sigs[] = { SIGCHLD, SIGHUP, SIGQUIT, SIGTERM,
				    SIGINT, SIGUSR1, SIGALRM };
	struct sigaction	 sa;
	size_t			 i;

	sigemptyset(blocked);
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		sigaddset(blocked, sigs[i]);
		sigaction(sigs[i], &sa, NULL);
	}
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigprocmask(SIG_BLOCK, blocked, NULL);
}

static struct slot *
slot_find(pid_t pid)
{
	int	i;

	for (i = 0; i < nslots; i++)
		if (slots[i].state != SLOT_FREE && slots[i].pid == pid)
			return (&slots[i]);
	return (NULL);
}

static struct slot *
slot_alloc(void)
{
	int	i, old = nslots;

	for (i = 0; i < nslots; i++)
		if (slots[i].state == SLOT_FREE)
			return (&slots[i]);
	nslots = nslots == 0 ? 16 : nslots * 2;
	slots = xreallocarray(slots, (size_t)nslots, sizeof *slots);
	memset(slots + old, 0, (size_t)(nslots - old) * sizeof *slots);
	return (&slots[old]);
}

static int
count_children(void)
{
	int	i, n = 0;

	for (i = 0; i < nslots; i++)
		if (slots[i].state != SLOT_FREE)
			n++;
	return (n);
}

static int
count_serving(enum slot_kind kind)
{
	int	i, n = 0;

	for (i = 0; i < nslots; i++)
		if (slots[i].state == SLOT_RUNNING && slots[i].kind == kind &&
		    slots[i].generation == generation)
			n++;
	return (n);
}

static void
spawn_child(const struct bo_conf *conf, int listen_fd, enum slot_kind kind)
{
	struct slot	*s = slot_alloc();
	pid_t		 pid;
	int		 index = (int)(s - slots);

	/* Signals stay blocked across fork; the worker resets its mask. */
	pid = fork();
	if (pid == -1) {
		log_error("fork failed: %s", strerror(errno));
		respawn_paused_until = time_mono_ms() + 1000;
		return;
	}
	if (pid == 0) {
		free(slots);
		free(crash_times);
		if (kind == KIND_HOUSEKEEPER) {
			close(listen_fd);
			housekeeper_main(conf);
		}
		worker_main(conf, listen_fd, index);
	}
	if (kind == KIND_WORKER && respawns_due > 0) {
		respawns_due--;
		METRIC_INC(worker_respawns);
	}
	if (kind == KIND_WORKER)
		METRIC_ADD(workers_alive, 1);
	s->pid = pid;
	s->kind = kind;
	s->state = SLOT_RUNNING;
	s->generation = generation;
	s->started_ms = time_mono_ms();
	s->deadline_ms = 0;
	log_debug("%s %d started (slot %d, generation %u)", kind_names[kind],
	    (int)pid, index, generation);
}

static void
signal_slot(struct slot *s, int sig, enum slot_state state, int64_t deadline)
{
	if (kill(s->pid, sig) == -1 && errno != ESRCH)
		log_error("kill %d: %s", (int)s->pid, strerror(errno));
	s->state = state;
	s->deadline_ms = deadline;
}

/* Record an abnormal exit; pause respawning when they come too fast. */
static void
note_crash(const struct bo_conf *conf, bool fatal_exit)
{
	int64_t	now = time_mono_ms(), window = conf->crash_loop_window_s * 1000;
	int	i, recent = 0, n = conf->crash_loop_threshold;

	if (crash_cap != n) {
		free(crash_times);
		crash_times = xcalloc((size_t)n, sizeof *crash_times);
		crash_cap = n;
		crash_next = 0;
	}
	crash_times[crash_next] = now;
	crash_next = (crash_next + 1) % n;
	for (i = 0; i < n; i++)
		if (crash_times[i] != 0 && now - crash_times[i] < window)
			recent++;
	if (fatal_exit || recent >= n) {
		respawn_paused_until = now + window;
		log_error("%s: pausing respawn for %d s",
		    fatal_exit ? "a worker could not initialise" :
		    "workers are crashing in a loop",
		    conf->crash_loop_window_s);
		memset(crash_times, 0, (size_t)n * sizeof *crash_times);
	}
}

static void
reap(const struct bo_conf *conf)
{
	struct slot	*s;
	pid_t		 pid;
	int		 status;
	int64_t		 uptime;
	bool		 expected, abnormal;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((s = slot_find(pid)) == NULL)
			continue;
		uptime = time_mono_ms() - s->started_ms;
		/* Exits we asked for are not crashes. */
		expected = s->state != SLOT_RUNNING;
		if (WIFEXITED(status)) {
			abnormal = WEXITSTATUS(status) != 0 && !expected;
			(abnormal ? log_warn : log_info)("%s %d exited with "
			    "code %d after %.1f s", kind_names[s->kind],
			    (int)pid, WEXITSTATUS(status),
			    (double)uptime / 1000.0);
		} else {
			abnormal = !expected;
			(abnormal ? log_warn : log_info)("%s %d exited on "
			    "signal %d (%s)%s after %.1f s",
			    kind_names[s->kind], (int)pid, WTERMSIG(status),
			    strsignal(WTERMSIG(status)),
			    WCOREDUMP(status) ? ", core dumped" : "",
			    (double)uptime / 1000.0);
		}
		if (s->kind == KIND_WORKER) {
			if (!expected && s->generation == generation)
				respawns_due++;
			METRIC_ADD(workers_alive, -1);
		}
		s->state = SLOT_FREE;
		s->pid = 0;
		if (abnormal)
			note_crash(conf, WIFEXITED(status) &&
			    WEXITSTATUS(status) == WORKER_EXIT_FATAL);
	}
}

/* Begin a stop: every child gets sig with the matching deadline. */
static void
stop_all(int sig, enum slot_state state, int64_t deadline)
{
	int	i;

	for (i = 0; i < nslots; i++) {
		if (slots[i].state == SLOT_FREE || slots[i].state == SLOT_KILLED)
			continue;
		if (state == SLOT_QUITTING &&
		    slots[i].state != SLOT_RUNNING)
			continue;
		signal_slot(&slots[i], sig, state, deadline);
	}
}

/* Escalate overdue children: QUIT -> TERM -> KILL. */
static void
escalate(const struct bo_conf *conf)
{
	int64_t	now = time_mono_ms();
	int	i;

	for (i = 0; i < nslots; i++) {
		struct slot	*s = &slots[i];

		if (s->deadline_ms == 0 || now < s->deadline_ms)
			continue;
		if (s->state == SLOT_QUITTING) {
			log_warn("worker %d still busy after graceful_timeout_s;"
			    " sending TERM", (int)s->pid);
			signal_slot(s, SIGTERM, SLOT_TERMINATING,
			    now + conf->terminate_timeout_ms);
		} else if (s->state == SLOT_TERMINATING) {
			log_warn("worker %d ignored TERM; sending KILL",
			    (int)s->pid);
			signal_slot(s, SIGKILL, SLOT_KILLED, 0);
		}
	}
}

/* Arm SIGALRM for the nearest deadline, so sigsuspend wakes for it. */
static void
arm_timer(void)
{
	struct itimerval	it;
	int64_t			now = time_mono_ms(), next = 0, d;
	int			i;

	for (i = 0; i < nslots; i++) {
		d = slots[i].deadline_ms;
		if (slots[i].state != SLOT_FREE && d != 0 &&
		    (next == 0 || d < next))
			next = d;
	}
	if (respawn_paused_until > now &&
	    (next == 0 || respawn_paused_until < next))
		next = respawn_paused_until;
	memset(&it, 0, sizeof it);
	if (next != 0) {
		d = next - now;
		if (d < 1)
			d = 1;
		it.it_value.tv_sec = d / 1000;
		it.it_value.tv_usec = (d % 1000) * 1000;
	}
	setitimer(ITIMER_REAL, &it, NULL);
}

static void
reload(struct bo_conf **confp, const char *conf_path)
{
	struct bo_conf	*newc = xcalloc(1, sizeof *newc);
	char		 err[512];
	int64_t		 now = time_mono_ms();
	int		 i;

	log_info("got SIGHUP, reloading %s", conf_path != NULL ? conf_path :
	    "(built-in defaults)");
	if (conf_load(newc, conf_path, err, sizeof err) == -1) {
		log_error("reload failed, keeping the running config: %s", err);
		free(newc);
		return;
	}
	conf_keep_restart_keys(newc, *confp);
	if (log_open(newc->log_file, (enum log_level)newc->log_level, err,
	    sizeof err) == -1) {
		log_error("reload failed, keeping the running config: %s", err);
		conf_free(newc);
		free(newc);
		if (log_open((*confp)->log_file,
		    (enum log_level)(*confp)->log_level, err, sizeof err) == -1 &&
		    log_open(NULL, (enum log_level)(*confp)->log_level, err,
		    sizeof err) == 0)
			log_error("cannot reopen the old log either: %s", err);
		return;
	}
	conf_free(*confp);
	free(*confp);
	*confp = newc;
	/*
	 * Roll: the next loop pass forks a full new generation; the old one
	 * finishes what it holds and exits. Both accept on the same socket,
	 * so the kernel queues new connections while the hand-over happens.
	 */
	generation++;
	for (i = 0; i < nslots; i++)
		if (slots[i].state == SLOT_RUNNING)
			signal_slot(&slots[i], SIGQUIT, SLOT_QUITTING,
			    now + newc->graceful_timeout_s * 1000);
	log_info("config reloaded; rolling to generation %u with %d workers",
	    generation, newc->workers);
}

int
pidfile_write(const char *path, char *err, size_t errlen)
{
	char	buf[32];
	long	other;
	int	fd, n;
	FILE	*f;

	if ((f = fopen(path, "r")) != NULL) {
		if (fscanf(f, "%ld", &other) == 1 && other > 0 &&
		    other != (long)getpid() && kill((pid_t)other, 0) == 0) {
			fclose(f);
			snprintf(err, errlen, "%s: another master (pid %ld) "
			    "is running", path, other);
			return (-1);
		}
		fclose(f);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	close(fd);
	return (0);
}

/* Turn the flags the handlers set into actions. */
static void
handle_signals(struct bo_conf **confp, const char *conf_path, bool *stopping)
{
	struct bo_conf	*conf = *confp;
	char		 err[512];

	if (sig_child) {
		sig_child = 0;
		reap(conf);
	}
	if (sig_terminate) {
		/* Also cuts a graceful stop short. */
		sig_terminate = 0;
		log_info("got SIGTERM, stopping fast");
		*stopping = true;
		stop_all(SIGTERM, SLOT_TERMINATING,
		    time_mono_ms() + conf->terminate_timeout_ms);
	}
	if (sig_quit) {
		sig_quit = 0;
		if (!*stopping) {
			log_info("got SIGQUIT, stopping gracefully");
			*stopping = true;
			stop_all(SIGQUIT, SLOT_QUITTING, time_mono_ms() +
			    conf->graceful_timeout_s * 1000);
		}
	}
	if (sig_reload) {
		sig_reload = 0;
		if (!*stopping)
			reload(confp, conf_path);
	}
	if (sig_reopen) {
		sig_reopen = 0;
		if (log_open((*confp)->log_file,
		    (enum log_level)(*confp)->log_level, err, sizeof err) == -1)
			log_error("reopening the log: %s", err);
	}
	sig_alarm = 0;
}

/* Every worker of this generation, and one housekeeper, unless paused. */
static void
spawn_missing(const struct bo_conf *conf, int listen_fd)
{
	while (count_serving(KIND_WORKER) < conf->workers &&
	    time_mono_ms() >= respawn_paused_until)
		spawn_child(conf, listen_fd, KIND_WORKER);
	if (count_serving(KIND_HOUSEKEEPER) == 0 &&
	    time_mono_ms() >= respawn_paused_until)
		spawn_child(conf, listen_fd, KIND_HOUSEKEEPER);
}

int
master_run(struct bo_conf *conf, const char *conf_path, int listen_fd)
{
	sigset_t	 blocked, empty;
	bool		 stopping = false;
	char		*pid_file = xstrdup(conf->pid_file);
	char		*listen_spec = xstrdup(conf->listen);

	master_signals(&blocked);
	sigemptyset(&empty);
	log_info("boxoffice %s master started: %d workers on %s", VERSION,
	    conf->workers, conf->listen);
	for (;;) {
		handle_signals(&conf, conf_path, &stopping);
		escalate(conf);
		if (stopping && count_children() == 0)
			break;
		if (!stopping)
			spawn_missing(conf, listen_fd);
		arm_timer();
		/*
		 * Signals are blocked everywhere else, so one that arrived
		 * during this pass is pending and ends sigsuspend at once.
		 */
		sigsuspend(&empty);
	}
	close(listen_fd);
	listen_unlink(listen_spec);
	if (*pid_file != '\0')
		unlink(pid_file);
	log_info("master stopped");
	free(pid_file);
	free(listen_spec);
	free(slots);
	free(crash_times);
	conf_free(conf);
	free(conf);
	return (0);
}
