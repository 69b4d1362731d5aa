/*
 * openloop.c: the open-loop latency client of scripts/bench (issue 13). Requests arrive on a
 * fixed schedule, request i at t0 + i / RATE, whatever happened to the earlier ones, as users
 * arrive at a service running below its capacity. (A closed-loop client such as wrk sends the
 * next request only when an answer came back, so a slow server slows the client down and its
 * p99 reads as queueing of its own connections: coordinated omission.)
 *
 *   openloop PORT MODE EVENT RATE SECONDS TAG OUT.json
 *
 *   MODE reserve  POST /api/reservations {"eventId":E,"userId":"TAG-i","quantity":1}
 *                 (a distinct user per request)
 *        get      GET /api/events/E
 *
 * One thread, epoll, non-blocking sockets to 127.0.0.1:PORT (HTTP/1.1 keep-alive). A due
 * request goes on an idle connection, or on a new one while fewer than CONN_CAP are open;
 * when none is free it waits for the next connection to come free, and its latency still
 * counts from its scheduled time. Every latency is measured from the scheduled send time; the
 * JSON also gives the time from the actual send (service) and the client's own lag behind the
 * schedule (send lag), so that a client falling behind cannot pass for a slow server.
 *
 * Bounded: once the schedule has ended it waits at most GRACE_S for the answers still out,
 * then counts them (and any request it never managed to send) as timeouts; those enter the
 * latency percentiles with their latency at that moment, a lower bound.
 *
 * Writes one JSON object to OUT.json: rate, seconds, scheduled, sent, completed, the achieved
 * rate (requests sent per second over the schedule: below RATE, the client could not keep up or
 * waited for connections), the answers per second that came back within the schedule, statuses,
 * socket errors, timeouts, connections, latency_us {p50 p90 p99 p999 max}, the wall-clock
 * time of the schedule's start (t0_unix_ms) and, for each second of the schedule in which a
 * request was due that took longer than SLOW_MS (or failed, or never came back), [second,
 * how many, the slowest in ms]: slow_seconds, to set beside scripts/bench's stall probe.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#ifndef CONN_CAP
#define CONN_CAP	2000	/* connections at most (-DCONN_CAP=N to test the wait) */
#endif
#define GRACE_S		10
#define SLOW_MS		50	/* issue 13's target for p99 */
#define TIMER_SLOT	UINT32_MAX

enum cstate { C_FREE, C_CONNECTING, C_IDLE, C_BUSY };

struct conn {
	int		 fd;
	enum cstate	 state;
	int64_t		 req;		/* the request in hand, -1 none */
	int		 served;	/* answers read on this connection */
	int		 close;		/* the answer in hand says "Connection: close" */
	int		 out;		/* EPOLLOUT is on */
	int		 prev, next;	/* the idle list */
	size_t		 wlen, woff;
	char		 wbuf[1024];
	size_t		 len, cap;
	char		*buf;
};

static struct conn	 conns[CONN_CAP];
static int		 idle_head = -1, free_top, free_slots[CONN_CAP];
static int		 nopen, max_open, opened, ep;
static int		 port, event, mode_reserve;
static const char	*tag;
static double		 rate;
static int64_t		 nreq, t0, t_end, deadline;
static int64_t		*sched_lat;	/* per request: latency from the schedule; -1 none yet, -2 failed */
static int64_t		*sent_at;	/* per request: when it was (last) sent, 0 never */
static int64_t		 sent, completed, resent, queued, inflight, last_sent;
static int64_t		 in_window;	/* answers that came back before the schedule ended */
static int64_t		 err_connect, err_read, err_write, failed;
static int64_t		 statuses[600];
static int64_t		*svc, nsvc, *lag, nlag;

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

static int64_t
due(int64_t i)
{
	return (t0 + (int64_t)((double)i * 1e6 / rate));
}

static void
idle_push(int s)
{
	struct conn *c = &conns[s];

	c->state = C_IDLE;
	c->prev = -1;
	c->next = idle_head;
	if (idle_head != -1)
		conns[idle_head].prev = s;
	idle_head = s;
}

static void
idle_remove(int s)
{
	struct conn *c = &conns[s];

	if (c->prev != -1)
		conns[c->prev].next = c->next;
	else
		idle_head = c->next;
	if (c->next != -1)
		conns[c->next].prev = c->prev;
	c->prev = c->next = -1;
}

static void
conn_close(int s)
{
	struct conn *c = &conns[s];

	if (c->state == C_IDLE)
		idle_remove(s);
	close(c->fd);	/* also leaves the epoll set */
	c->fd = -1;
	c->state = C_FREE;
	c->req = -1;
	c->len = 0;
	free_slots[free_top++] = s;
	nopen--;
}

static void
set_out(int s, int on)
{
	struct conn *c = &conns[s];
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.u32 = (uint32_t)s };

	if (c->out != on) {
		epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		c->out = on;
	}
}

/* A new connection (its connect may still be under way); -1 at the cap or on failure. */
static int
dial(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct epoll_event ev;
	struct conn *c;
	int fd, s, one = 1;

	if (free_top == 0)
		return (-1);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		err_connect++;
		return (-1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	s = free_slots[--free_top];
	c = &conns[s];
	c->fd = fd;
	c->req = -1;
	c->served = c->close = 0;
	c->prev = c->next = -1;
	c->len = c->wlen = c->woff = 0;
	c->state = C_CONNECTING;
	c->out = 1;
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.u32 = (uint32_t)s;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1 ||
	    (connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1 && errno != EINPROGRESS)) {
		err_connect++;
		nopen++;
		conn_close(s);
		return (-1);
	}
	nopen++;
	opened++;
	if (nopen > max_open)
		max_open = nopen;
	return (s);
}

/* Request i ended without an answer: its connection failed or broke (a socket error). */
static void
mark_failed(int64_t i)
{
	failed++;
	sched_lat[i] = -2;
}

static void
fail(int64_t i)
{
	mark_failed(i);
	inflight--;
}

static void start(int s, int64_t i);

/*
 * A kept connection the server closed as the request went out (before any byte of the
 * answer): the request goes again on another connection, its latency still counting from
 * its scheduled time.
 */
static void
resend(int s)
{
	int64_t i = conns[s].req;
	int s2;

	resent++;
	conn_close(s);
	if ((s2 = idle_head) == -1 && (s2 = dial()) == -1)
		fail(i);
	else
		start(s2, i);
}

static void
flush_out(int s)
{
	struct conn *c = &conns[s];
	ssize_t n;

	while (c->woff < c->wlen) {
		n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			set_out(s, 1);
			return;
		}
		if (n == -1 && c->served > 0 && c->woff == 0) {
			resend(s);
			return;
		}
		if (n == -1) {
			err_write++;
			fail(c->req);
			conn_close(s);
			return;
		}
		c->woff += (size_t)n;
	}
	set_out(s, 0);
}

static void
start(int s, int64_t i)
{
	struct conn *c = &conns[s];
	char body[256];
	int blen;

	if (c->state == C_IDLE)
		idle_remove(s);
	if (c->state != C_CONNECTING)
		c->state = C_BUSY;
	c->req = i;
	c->len = 0;
	c->close = 0;
	if (mode_reserve) {
		blen = snprintf(body, sizeof body, "{\"eventId\":%d,\"userId\":\"%s-%" PRId64 "\",\"quantity\":1}",
		    event, tag, i);
		c->wlen = (size_t)snprintf(c->wbuf, sizeof c->wbuf, "POST /api/reservations HTTP/1.1\r\n"
		    "Host: 127.0.0.1:%d\r\nContent-Type: application/json\r\nAccept: application/json\r\n"
		    "Content-Length: %d\r\n\r\n%s", port, blen, body);
	} else
		c->wlen = (size_t)snprintf(c->wbuf, sizeof c->wbuf, "GET /api/events/%d HTTP/1.1\r\n"
		    "Host: 127.0.0.1:%d\r\n\r\n", event, port);
	c->woff = 0;
	if (sent_at[i] == 0) {
		int64_t t = now_us();

		sent++;
		lag[nlag++] = t - due(i);
		last_sent = t;
		sent_at[i] = t;
	}
	if (c->state == C_BUSY)
		flush_out(s);
	/* a connection still connecting writes once it is writable */
}

/* Put request i on a connection: an idle one (the most recent), else a new one. */
static int
place(int64_t i)
{
	int s = idle_head;

	if (s == -1 && (s = dial()) == -1)
		return (-1);
	inflight++;
	start(s, i);
	return (0);
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x < y ? -1 : x > y);
}

static int64_t
pctl(const int64_t *v, int64_t n, double q)
{
	return (n == 0 ? 0 : v[(int64_t)(q * (double)(n - 1) + 0.5)]);
}

/* Whether the header line at p (up to its CRLF) contains word, in any case. */
static int
line_has(const char *p, const char *word)
{
	size_t n = strlen(word);

	for (; *p != '\0' && *p != '\r'; p++)
		if (strncasecmp(p, word, n) == 0)
			return (1);
	return (0);
}

/* Where the answer in c->buf ends, 0 when it is not all there, -1 when it is malformed. */
static int64_t
answer_end(struct conn *c, int *status)
{
	char *e, *p, *hend, *line;
	long clen = -1;
	int chunked = 0;

	if ((e = memmem(c->buf, c->len, "\r\n\r\n", 4)) == NULL)
		return (0);
	if (sscanf(c->buf, "HTTP/1.%*d %d", status) != 1)
		return (-1);
	hend = e + 2;
	for (line = strstr(c->buf, "\r\n") + 2; line < hend; line = strstr(line, "\r\n") + 2) {
		if (strncasecmp(line, "Content-Length:", 15) == 0)
			clen = strtol(line + 15, NULL, 10);
		else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0 && line_has(line + 18, "chunked"))
			chunked = 1;
		else if (strncasecmp(line, "Connection:", 11) == 0 && strncasecmp(line + 11, " close", 6) == 0)
			c->close = 1;
	}
	p = e + 4;
	if (*status == 204 || *status == 304 || (*status >= 100 && *status < 200))
		return (p - c->buf);
	if (chunked) {
		for (;;) {	/* size line, data, CRLF; then the last chunk and the trailers */
			long size;
			char *nl = memmem(p, c->len - (size_t)(p - c->buf), "\r\n", 2);

			if (nl == NULL)
				return (0);
			size = strtol(p, NULL, 16);
			p = nl + 2;
			if (size == 0) {
				if ((size_t)(p - c->buf) + 2 > c->len)
					return (0);
				if (p[0] == '\r' && p[1] == '\n')
					return (p + 2 - c->buf);
				nl = memmem(p, c->len - (size_t)(p - c->buf), "\r\n\r\n", 4);
				return (nl == NULL ? 0 : nl + 4 - c->buf);
			}
			if ((size_t)(p - c->buf) + (size_t)size + 2 > c->len)
				return (0);
			p += size + 2;
		}
	}
	if (clen < 0)	/* no length: the body ends when the server closes */
		return (0);
	return ((size_t)(p - c->buf) + (size_t)clen <= c->len ? (p - c->buf) + clen : 0);
}

static void
answered(int s, int status)
{
	struct conn *c = &conns[s];
	int64_t t = now_us(), i = c->req;

	statuses[status >= 0 && status < 600 ? status : 0]++;
	sched_lat[i] = t - due(i);
	svc[nsvc++] = t - sent_at[i];
	completed++;
	inflight--;
	if (t <= t_end)
		in_window++;
	c->served++;
	c->req = -1;
	c->len = 0;
	if (c->close)
		conn_close(s);
	else
		idle_push(s);
}

static void
on_readable(int s)
{
	struct conn *c = &conns[s];
	ssize_t r;
	int64_t end;
	int status = 0;

	for (;;) {
		if (c->cap - c->len < 4096) {
			c->cap = c->cap ? 2 * c->cap : 16384;
			if ((c->buf = realloc(c->buf, c->cap + 1)) == NULL) {
				perror("openloop: realloc");
				exit(1);
			}
		}
		r = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && errno == EAGAIN)
			return;
		if (r <= 0)
			break;
		if (c->state != C_BUSY) {	/* nothing was asked: a stray byte */
			err_read++;
			conn_close(s);
			return;
		}
		c->len += (size_t)r;
		c->buf[c->len] = '\0';
		if ((end = answer_end(c, &status)) < 0) {
			fprintf(stderr, "openloop: bad answer: %.80s\n", c->buf);
			err_read++;
			fail(c->req);
			conn_close(s);
			return;
		}
		if (end > 0) {
			answered(s, status);
			return;	/* no pipelining: whatever follows is not ours */
		}
	}
	/* end of stream or an error */
	if (c->state == C_IDLE) {	/* the server closed a kept connection */
		conn_close(s);
		return;
	}
	if (c->state == C_BUSY && c->len > 0 && r == 0 && strstr(c->buf, "\r\n\r\n") != NULL) {
		/* an answer without a length ends with the connection */
		sscanf(c->buf, "HTTP/1.%*d %d", &status);
		c->close = 1;
		answered(s, status);
		return;
	}
	if (c->state == C_BUSY && c->len == 0 && c->served > 0) {
		resend(s);
		return;
	}
	err_read++;
	if (c->req >= 0)
		fail(c->req);
	conn_close(s);
}

static void
on_event(uint32_t s, uint32_t events)
{
	struct conn *c = &conns[s];

	if (c->state == C_FREE)
		return;
	if (c->state == C_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof err;

		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err != 0) {
			err_connect++;
			if (c->req >= 0)
				fail(c->req);
			conn_close((int)s);
			return;
		}
		c->state = C_BUSY;	/* a connection is only dialled for a request */
		flush_out((int)s);
		return;
	}
	if ((events & EPOLLOUT) && c->state == C_BUSY && c->woff < c->wlen) {
		flush_out((int)s);
		if (c->state == C_FREE)
			return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		on_readable((int)s);
}

static void
arm(int tfd, int64_t at)
{
	static int64_t armed = -1;
	struct itimerspec its = { 0 };

	if (at == armed)
		return;
	armed = at;
	if (at > 0) {
		its.it_value.tv_sec = at / 1000000;
		its.it_value.tv_nsec = (at % 1000000) * 1000;
	}
	timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[256];
	int64_t next = 0, i, nlat = 0, timeouts = 0, unsent, *lat, t0_unix_ms;
	int blocked = 0;	/* due requests are waiting for a connection */
	double seconds;
	FILE *out;
	int tfd, n, k;

	if (argc != 8 || (strcmp(argv[2], "reserve") != 0 && strcmp(argv[2], "get") != 0)) {
		fprintf(stderr, "usage: openloop PORT reserve|get EVENT RATE SECONDS TAG OUT.json\n");
		return (2);
	}
	port = atoi(argv[1]);
	mode_reserve = strcmp(argv[2], "reserve") == 0;
	event = atoi(argv[3]);
	rate = atof(argv[4]);
	seconds = atof(argv[5]);
	tag = argv[6];
	if (port < 1 || port > 65535 || rate <= 0 || seconds <= 0) {
		fprintf(stderr, "openloop: bad port, rate or seconds\n");
		return (2);
	}
	nreq = (int64_t)(rate * seconds);
	if (nreq < 1)
		nreq = 1;
	sched_lat = malloc((size_t)nreq * sizeof *sched_lat);
	sent_at = calloc((size_t)nreq, sizeof *sent_at);
	svc = malloc((size_t)nreq * sizeof *svc);
	lag = malloc((size_t)nreq * sizeof *lag);
	lat = malloc((size_t)nreq * sizeof *lat);
	if (!sched_lat || !sent_at || !svc || !lag || !lat) {
		fprintf(stderr, "openloop: out of memory\n");
		return (1);
	}
	for (i = 0; i < nreq; i++)
		sched_lat[i] = -1;
	for (k = 0; k < CONN_CAP; k++) {
		conns[k].fd = -1;
		free_slots[free_top++] = CONN_CAP - 1 - k;
	}
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) == -1) {
		perror("openloop: epoll/timerfd");
		return (1);
	}
	{
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = TIMER_SLOT };
		epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	}
	/* wake up on time: the default 50 us of timer slack would all count as latency */
	prctl(PR_SET_TIMERSLACK, 1000UL);
	t0 = now_us() + 10000;
	{
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		t0_unix_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 10;
	}
	t_end = t0 + (int64_t)(seconds * 1e6);
	deadline = t_end + GRACE_S * 1000000LL;

	for (;;) {
		int64_t t = now_us(), wait_ms;

		/* every request that is due, while a connection can take it */
		for (;;) {
			if (next == nreq || due(next) > t) {
				blocked = 0;
				break;
			}
			if (place(next) == -1) {
				if (free_top == 0) {	/* at the cap: wait for a connection */
					blocked = 1;
					break;
				}
				mark_failed(next);	/* the dial failed (counted) */
			} else if (blocked)
				queued++;
			next++;
		}
		if ((next == nreq && inflight == 0) || t >= deadline)
			break;
		/* the timer wakes us for the next due request, if a connection could take it */
		arm(tfd, next < nreq && (idle_head != -1 || free_top > 0) && due(next) > t ? due(next) : 0);
		wait_ms = (deadline - t) / 1000 + 1;
		if (wait_ms > 100)
			wait_ms = 100;
		n = epoll_wait(ep, evs, 256, (int)wait_ms);
		for (k = 0; k < n; k++) {
			if (evs[k].data.u32 == TIMER_SLOT) {
				uint64_t x;

				if (read(tfd, &x, sizeof x) == -1 && errno != EAGAIN)
					perror("openloop: timerfd");
				continue;
			}
			on_event(evs[k].data.u32, evs[k].events);
		}
	}

	/* what is still out at the deadline, and what was never sent, timed out: their latency
	 * so far goes into the percentiles (a lower bound); failed requests have none */
	unsent = nreq - next;
	/* OPENLOOP_TRACE=FILE: one line per request, "due_ms latency_us" (-1 unanswered, -2
	 * failed), to find when a stall happened */
	if (getenv("OPENLOOP_TRACE") != NULL && (out = fopen(getenv("OPENLOOP_TRACE"), "w")) != NULL) {
		for (i = 0; i < nreq; i++)
			fprintf(out, "%.3f %" PRId64 "\n", (double)(due(i) - t0) / 1000.0, sched_lat[i]);
		fclose(out);
	}
	for (i = 0; i < nreq; i++) {
		if (sched_lat[i] >= 0)
			lat[nlat++] = sched_lat[i];
		else if (sched_lat[i] == -1) {
			lat[nlat++] = deadline - due(i);
			timeouts++;
		}
	}
	qsort(lat, (size_t)nlat, sizeof *lat, cmp64);
	qsort(svc, (size_t)nsvc, sizeof *svc, cmp64);
	qsort(lag, (size_t)nlag, sizeof *lag, cmp64);

	if ((out = fopen(argv[7], "w")) == NULL) {
		perror(argv[7]);
		return (1);
	}
	{
		/* request i is due at i / RATE: the last one sent, plus one interval, is the span */
		double span = sent > 0 ? (double)(last_sent - t0) / 1e6 + 1.0 / rate : 0.0;

		fprintf(out, "{\"mode\": \"%s\", \"event\": %d, \"rate\": %.1f, \"seconds\": %.1f, "
		    "\"scheduled\": %" PRId64 ", \"sent\": %" PRId64 ", \"completed\": %" PRId64 ", "
		    "\"achieved_rate\": %.1f, \"answered_in_schedule_per_s\": %.1f, \"statuses\": {",
		    argv[2], event, rate, seconds, nreq, sent, completed, span > 0 ? sent / span : 0.0,
		    in_window / seconds);
	}
	for (k = 0, n = 0; k < 600; k++)
		if (statuses[k])
			fprintf(out, "%s\"%d\": %" PRId64, n++ ? ", " : "", k, statuses[k]);
	fprintf(out, "}, \"socket_errors\": {\"connect\": %" PRId64 ", \"read\": %" PRId64 ", \"write\": %" PRId64
	    ", \"timeout\": %" PRId64 "}, \"failed\": %" PRId64 ", \"unsent\": %" PRId64 ", \"resent\": %" PRId64 ", "
	    "\"waited_for_connection\": %" PRId64 ", \"connections\": {\"opened\": %d, \"max_open\": %d, \"cap\": %d}, "
	    "\"latency_us\": {\"count\": %" PRId64 ", \"p50\": %" PRId64 ", \"p90\": %" PRId64 ", \"p99\": %" PRId64
	    ", \"p999\": %" PRId64 ", \"max\": %" PRId64 "}, "
	    "\"service_us\": {\"p50\": %" PRId64 ", \"p99\": %" PRId64 ", \"max\": %" PRId64 "}, "
	    "\"send_lag_us\": {\"p50\": %" PRId64 ", \"p99\": %" PRId64 ", \"max\": %" PRId64 "}",
	    err_connect, err_read, err_write, timeouts, failed, unsent, resent, queued, opened, max_open, CONN_CAP,
	    nlat, pctl(lat, nlat, 0.50), pctl(lat, nlat, 0.90), pctl(lat, nlat, 0.99), pctl(lat, nlat, 0.999),
	    nlat ? lat[nlat - 1] : 0,
	    pctl(svc, nsvc, 0.50), pctl(svc, nsvc, 0.99), nsvc ? svc[nsvc - 1] : 0,
	    pctl(lag, nlag, 0.50), pctl(lag, nlag, 0.99), nlag ? lag[nlag - 1] : 0);
	/* still unanswered at the deadline (-1) count with their time so far; failed (-2) as slow */
	fprintf(out, ", \"t0_unix_ms\": %" PRId64 ", \"slow_ms\": %d, \"slow_seconds\": [", t0_unix_ms, SLOW_MS);
	for (i = 0, n = 0; i < nreq; ) {
		int64_t s = (due(i) - t0) / 1000000, nslow = 0, worst = 0;

		for (; i < nreq && (due(i) - t0) / 1000000 == s; i++) {
			int64_t l = sched_lat[i] == -1 ? deadline - due(i) : sched_lat[i];

			if (sched_lat[i] == -2 || l > SLOW_MS * 1000) {
				nslow++;
				if (l > worst)
					worst = l;
			}
		}
		if (nslow > 0)
			fprintf(out, "%s[%" PRId64 ", %" PRId64 ", %" PRId64 "]", n++ ? ", " : "", s, nslow, worst / 1000);
	}
	fprintf(out, "]}\n");
	fclose(out);
	printf("openloop %s: %" PRId64 " scheduled at %.0f/s, %" PRId64 " answered, %" PRId64 " timeouts, "
	    "p50 %.2f ms, p99 %.2f ms\n", argv[2], nreq, rate, completed, timeouts,
	    pctl(lat, nlat, 0.50) / 1000.0, pctl(lat, nlat, 0.99) / 1000.0);
	return (0);
}
