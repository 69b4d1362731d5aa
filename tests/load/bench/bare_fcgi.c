/*
 * bare_fcgi.c: the bare libfcgi responder of scripts/bench (issue 13), the ceiling that the
 * daemon's GET /api/health is compared with. A prefork pool as the daemon's (one listening
 * unix socket, N workers each looping FCGX_Accept_r), answering every request with what the
 * daemon's /api/health answers (fcgi-app/health.c, response.c: the same status line, headers
 * and JSON shape, a fresh timestamp) and ending it as the daemon does (worker.c finish()),
 * and doing nothing else: no routing, no JSON library, no logging. What the daemon costs on
 * top of this is its own work.
 *
 *   bare_fcgi SOCKET_PATH WORKERS [BACKLOG]
 *
 * BACKLOG defaults to 1024, the daemon's listen_backlog. The parent waits; on TERM or INT it
 * stops its workers (TERM), waits for them and removes the socket. A worker whose parent is
 * gone gets TERM from the kernel (PR_SET_PDEATHSIG), so nothing outlives a killed parent.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

static volatile sig_atomic_t	stop;

static void
on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void
worker(int fd, int slot)
{
	FCGX_Request	 r;
	unsigned long	 n = 0;
	char		 out[512], body[256];
	struct timespec	 ts;
	struct tm	 tm;
	int		 blen, len;

	if (FCGX_InitRequest(&r, fd, 0) != 0) {
		fprintf(stderr, "bare_fcgi: FCGX_InitRequest failed\n");
		_exit(1);
	}
	while (FCGX_Accept_r(&r) >= 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		blen = snprintf(body, sizeof body, "{\"success\":true,\"data\":{\"status\":\"UP\"},"
		    "\"message\":\"alive\",\"timestamp\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\"}",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    ts.tv_nsec / 1000000);
		/* one write of headers and body, as the daemon's resp_serialize() */
		len = snprintf(out, sizeof out, "Status: 200 OK\r\n"
		    "Content-Type: application/json; charset=utf-8\r\nContent-Length: %d\r\n"
		    "X-Request-Id: bare-%d-%d-%lu\r\nCache-Control: no-store\r\n\r\n%s",
		    blen, getpid(), slot, ++n, body);
		FCGX_PutStr(out, len, r.out);
		/* ended as the daemon ends one (worker.c finish()): stdin read
		   to its end, then closed without libfcgi's lingering close */
		while (FCGX_GetStr(body, sizeof body, r.in) > 0)
			continue;
		(void)FCGX_Detach(&r);
		FCGX_Finish_r(&r);
	}
	_exit(0);
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	pid_t		*kids, parent = getpid();
	int		 fd, n, i, alive, backlog = 1024;

	if (argc < 3 || (n = atoi(argv[2])) < 1 || n > 1024 ||
	    (argc > 3 && (backlog = atoi(argv[3])) < 1)) {
		fprintf(stderr, "usage: bare_fcgi SOCKET_PATH WORKERS [BACKLOG]\n");
		return (2);
	}
	if (FCGX_Init() != 0) {
		fprintf(stderr, "bare_fcgi: FCGX_Init failed\n");
		return (1);
	}
	unlink(argv[1]);
	umask(0);	/* nginx's workers may run as another user */
	if ((fd = FCGX_OpenSocket(argv[1], backlog)) < 0) {
		fprintf(stderr, "bare_fcgi: cannot listen on %s\n", argv[1]);
		return (1);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;	/* no SA_RESTART: waitpid() must return on TERM */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if ((kids = calloc((size_t)n, sizeof *kids)) == NULL)
		return (1);
	for (i = 0; i < n && !stop; i++) {
		if ((kids[i] = fork()) == -1) {
			perror("bare_fcgi: fork");
			stop = 1;
			break;
		}
		if (kids[i] == 0) {
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (getppid() != parent)	/* it died before prctl() */
				_exit(0);
			worker(fd, i);
		}
	}
	fprintf(stderr, "bare_fcgi: %d workers on %s\n", i, argv[1]);
	alive = i;
	while (!stop && alive > 0) {
		pid_t p = waitpid(-1, NULL, 0);

		if (p > 0) {
			fprintf(stderr, "bare_fcgi: worker %d exited\n", (int)p);
			for (i = 0; i < n; i++)
				if (kids[i] == p)
					kids[i] = 0;
			alive--;
		} else if (errno != EINTR)
			break;
	}
	for (i = 0; i < n; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGTERM);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	unlink(argv[1]);
	return (0);
}
