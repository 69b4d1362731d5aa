/*
 * waitroom.c: the waiting-room scenario of scripts/bench (issue 11). N simulated buyers go
 * through one event's waiting room over C keep-alive connections to nginx on loopback:
 *
 *   join     POST /api/events/E/queue {"userId"}            -> ticket, number
 *   poll     GET  /api/events/E/queue (nginx's micro-cache)  -> serving, admitPerSecond
 *            as the on-sale page does (web/app.js): with the turn eta = (number - serving) /
 *            admitPerSecond away, less the answer's age (now - its "timestamp": it may come
 *            from the micro-cache), again after clamp(eta / 5, 5 s, 15 s); once eta <= 5 s,
 *            no more polls: straight to the admission at eta + 150 ms. (Polling every second,
 *            20,000 buyers cost nginx as much CPU as the admitted buyers' reservations: p50
 *            58 ms instead of 6 ms at 400 admissions/s, measured.)
 *   admit    POST /api/events/E/queue/admission {"ticket"}  -> admissionToken
 *            (409 NOT_YET_SERVED: poll again after Retry-After)
 *   reserve  POST /api/reservations, X-Admission-Token       -> 201 (the latency is recorded)
 *
 * Any 503 (nginx at capacity) is retried after its Retry-After. Connections are kept alive as
 * a browser keeps them: an answer with "Connection: close" (nginx's keepalive_requests) closes
 * it, and a request that met the end of a kept connection before any byte of its answer is
 * sent again on a new one (each reservation carries an Idempotency-Key, so a resend cannot
 * reserve twice; joins and admissions are idempotent by contract). Two phases, as at an on-sale:
 * the room is open at 1 admission/s (the caller sets that) while every buyer joins, in index
 * order; then the program sets the room's rate to RATE (PUT /api/events/E as the admin,
 * $BENCH_ADMIN_TOKEN) and the buyers poll, get admitted and reserve until every one is done
 * or the deadline passes. Meanwhile it sends PROBES reservations that must all be refused:
 * without a token, with a forged one, and with another buyer's real token. Every buyer is a
 * distinct userId "TAG-i".
 *
 *   waitroom PORT EVENT USERS CONNECTIONS RATE TAG DEADLINE_S PROBES OUT.json
 *
 * Writes one JSON object (counts, the FIFO checks, nginx's 503s by step, reservation latency
 * percentiles from the send and from the admission's answer, the probes' statuses). Bounded:
 * it stops at DEADLINE_S whatever is left, and opens only CONNECTIONS sockets to 127.0.0.1:PORT.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum step { JOIN, POLL, ADMIT, RESERVE, PROBE, DONE };

#define ETA_MARGIN_MS	150	/* the room moves in tenths of a second */
#define ETA_DIRECT_MS	5000	/* a turn this close: no more polls (web/app.js) */

struct user {
	enum step	step;
	int64_t		number;
	int64_t		join_sent_us, join_done_us, admit_sent_us, admit_us, reserve_sent_us;
	int		reserve_status, reserve_us, polls, not_yet, shed;
	char		*ticket, *token;
};

struct conn {
	int	fd, user;	/* user -1: idle */
	int	close;		/* the last answer said "Connection: close" */
	size_t	len;
	char	buf[16384];
};

static struct user	*users;
static int		 nusers, port, event, rate;
static const char	*tag;
static int		*heap, nheap;	/* users by due time, then index */
static int64_t		*due;
static int64_t		 t0;
/* probes: users nusers .. nusers + nprobes - 1, kind = i % 3 */
static int		 nprobes, probe_status[3][6];	/* 201 403 409 429 503 other */
/* a NOT_YET_SERVED for number n, to a request sent at t, for the FIFO check */
struct nys { int64_t number, t; };
static struct nys	*nys;
static int		 nnys, cnys;

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

static int
before(int a, int b)
{
	return (due[a] < due[b] || (due[a] == due[b] && a < b));
}

static void
heap_push(int u, int64_t when)
{
	int i = nheap++, p;

	due[u] = when;
	heap[i] = u;
	while (i > 0 && before(heap[i], heap[p = (i - 1) / 2])) {
		int t = heap[i]; heap[i] = heap[p]; heap[p] = t; i = p;
	}
}

static int
heap_pop(void)
{
	int top = heap[0], i = 0, l, s;

	heap[0] = heap[--nheap];
	for (;;) {
		l = 2 * i + 1; s = i;
		if (l < nheap && before(heap[l], heap[s])) s = l;
		if (l + 1 < nheap && before(heap[l + 1], heap[s])) s = l + 1;
		if (s == i) break;
		int t = heap[i]; heap[i] = heap[s]; heap[s] = t; i = s;
	}
	return (top);
}

static int
dial(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd, one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		perror("waitroom: connect");
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return (fd);
}

static void
send_all(struct conn *c, const char *req, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(c->fd, req, len)) == -1) {
			if (errno == EINTR)
				continue;
			perror("waitroom: write");
			exit(1);
		}
		req += n; len -= (size_t)n;
	}
}

/* The request of user u's current step. */
static void
send_step(struct conn *c, int u)
{
	char body[1024], req[2048], hdr[700] = "";
	struct user *us = &users[u];
	int n, blen;

	c->user = u;
	c->len = 0;
	switch (us->step) {
	case JOIN:
		blen = snprintf(body, sizeof body, "{\"userId\":\"%s-%d\"}", tag, u);
		n = snprintf(req, sizeof req, "POST /api/events/%d/queue HTTP/1.1\r\nHost: b\r\n"
		    "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", event, blen, body);
		us->join_sent_us = now_us();
		break;
	case POLL:
		n = snprintf(req, sizeof req, "GET /api/events/%d/queue HTTP/1.1\r\nHost: b\r\n\r\n", event);
		us->polls++;
		break;
	case ADMIT:
		us->admit_sent_us = now_us();
		blen = snprintf(body, sizeof body, "{\"ticket\":\"%s\"}", us->ticket);
		n = snprintf(req, sizeof req, "POST /api/events/%d/queue/admission HTTP/1.1\r\nHost: b\r\n"
		    "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", event, blen, body);
		break;
	case RESERVE:
	case PROBE: {
		int kind = (u - nusers) % 3, victim = (u - nusers) % (nusers > 0 ? nusers : 1);

		if (us->step == RESERVE)
			snprintf(hdr, sizeof hdr, "X-Admission-Token: %s\r\n", us->token);
		else if (kind == 1)	/* forged: a well-formed looking token nobody signed */
			snprintf(hdr, sizeof hdr, "X-Admission-Token: a1.%d.1.9999999999.Zm9yZ2Vk.%064d\r\n",
			    event, 0);
		else if (kind == 2) {	/* another buyer's real token */
			int v = victim, tries;

			for (tries = 0; tries < nusers && users[v].token == NULL; tries++)
				v = (v + 1) % nusers;
			if (users[v].token == NULL)
				abort();	/* probes start once buyers hold tokens */
			snprintf(hdr, sizeof hdr, "X-Admission-Token: %s\r\n", users[v].token);
		}
		if (us->step == RESERVE)
			blen = snprintf(body, sizeof body, "{\"eventId\":%d,\"userId\":\"%s-%d\",\"quantity\":1}",
			    event, tag, u);
		else
			blen = snprintf(body, sizeof body, "{\"eventId\":%d,\"userId\":\"%s-intruder-%d\","
			    "\"quantity\":1}", event, tag, u - nusers);
		n = snprintf(req, sizeof req, "POST /api/reservations HTTP/1.1\r\nHost: b\r\n%s"
		    "Idempotency-Key: %s-%d\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		    hdr, tag, u, blen, body);
		us->reserve_sent_us = now_us();
		break;
	}
	default:
		abort();
	}
	send_all(c, req, (size_t)n);
}

/* How old an answer is: now less its "timestamp" (UTC, ms), 0..5 s. */
static int64_t
answer_age_ms(const char *body)
{
	const char *p = strstr(body, "\"timestamp\":\"");
	struct tm tm = { 0 };
	struct timespec ts;
	int ms = 0;
	int64_t age;

	if (p == NULL || sscanf(p + 13, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
		return (0);
	tm.tm_year -= 1900; tm.tm_mon -= 1;
	clock_gettime(CLOCK_REALTIME, &ts);
	age = ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000) - ((int64_t)timegm(&tm) * 1000 + ms);
	return (age < 0 ? 0 : age > 5000 ? 5000 : age);
}

static int64_t
json_int(const char *body, const char *key)
{
	const char *p = strstr(body, key);

	return (p == NULL ? -1 : strtoll(p + strlen(key), NULL, 10));
}

static char *
json_str(const char *body, const char *key)
{
	const char *p = strstr(body, key), *e;

	if (p == NULL || (e = strchr(p += strlen(key), '"')) == NULL)
		return (NULL);
	return (strndup(p, (size_t)(e - p)));
}

static int
status_slot(int st)
{
	switch (st) {
	case 201: return (0);
	case 403: return (1);
	case 409: return (2);
	case 429: return (3);
	case 503: return (4);
	default: return (5);
	}
}

static int statuses[1000];	/* every answer by status */
static int shed_by_step[DONE];	/* nginx's 503s by the step they answered */
static int resent, redials;	/* requests sent again after a closed connection; new connections */
static int64_t *lat;		/* reservation latencies of admitted buyers, us: from the send */
static int64_t *lat_admit;	/* the same from the admission's answer: the buyer's wait, with
				   any wait for a free connection and any 503's Retry-After */
static int nlat, joined, admitted, reserved, done_users, phase_admit;
static int64_t admit_phase_us;

/* A whole answer is in c->buf: act on it. */
static void
handle(struct conn *c, int st, int retry_after, const char *body)
{
	int u = c->user;
	struct user *us = &users[u];
	int64_t t = now_us();

	c->user = -1;
	statuses[st >= 0 && st < 1000 ? st : 0]++;
	if (st == 503) {	/* shed by nginx: again after Retry-After */
		us->shed++;
		shed_by_step[us->step]++;
		heap_push(u, t + (retry_after > 0 ? retry_after : 1) * 1000000LL);
		return;
	}
	switch (us->step) {
	case JOIN:
		if (st != 201) { fprintf(stderr, "waitroom: join %d: %d %s\n", u, st, body); exit(1); }
		us->join_done_us = t;
		us->number = json_int(body, "\"number\":");
		us->ticket = json_str(body, "\"ticket\":\"");
		joined++;
		us->step = POLL;
		return;	/* pushed again when the admission phase starts */
	case POLL: {
		int64_t serving = json_int(body, "\"serving\":"), rate = json_int(body, "\"admitPerSecond\":");
		int64_t eta_ms, wait_ms;

		if (st != 200) { fprintf(stderr, "waitroom: poll: %d %s\n", st, body); exit(1); }
		if (us->number <= serving) {
			us->step = ADMIT;
			heap_push(u, t);
			return;
		}
		eta_ms = rate > 0 ? (us->number - serving) * 1000 / rate - answer_age_ms(body) : 15000;
		if (eta_ms < 0) eta_ms = 0;
		wait_ms = eta_ms / 5;
		if (wait_ms < 5000) wait_ms = 5000;
		if (wait_ms > 15000) wait_ms = 15000;
		/* due soon: ask for admission when due (the answer may be up to ~2 s old,
		 * so this is late rather than early; a NOT_YET_SERVED says how long) */
		if (eta_ms <= ETA_DIRECT_MS) {
			us->step = ADMIT;
			wait_ms = eta_ms + ETA_MARGIN_MS;
		}
		heap_push(u, t + wait_ms * 1000);
		return;
	}
	case ADMIT:
		if (st == 409 && strstr(body, "NOT_YET_SERVED") != NULL) {
			us->not_yet++;
			if (nnys == cnys) {
				cnys = cnys ? 2 * cnys : 1024;
				nys = realloc(nys, (size_t)cnys * sizeof *nys);
			}
			nys[nnys++] = (struct nys){ us->number, us->admit_sent_us };
			us->step = POLL;
			heap_push(u, t + (retry_after > 0 ? retry_after : 1) * 1000000LL);
			return;
		}
		if (st != 201) { fprintf(stderr, "waitroom: admit %d: %d %s\n", u, st, body); exit(1); }
		us->token = json_str(body, "\"admissionToken\":\"");
		us->admit_us = t;
		admitted++;
		us->step = RESERVE;
		heap_push(u, t);
		return;
	case RESERVE:
		us->reserve_status = st;
		us->reserve_us = (int)(t - us->reserve_sent_us);
		if (st == 201) {
			reserved++;
			lat_admit[nlat] = t - us->admit_us;
			lat[nlat++] = t - us->reserve_sent_us;
		}
		us->step = DONE;
		done_users++;
		return;
	case PROBE:
		probe_status[(u - nusers) % 3][status_slot(st)]++;
		us->step = DONE;
		return;
	default:
		abort();
	}
}

/* Parse what c has read; 1 when a whole answer was handled. */
static int
parse(struct conn *c)
{
	char *e, *p, *body;
	int st, ra = 0, chunked = 0;
	long clen = 0;

	c->buf[c->len] = '\0';
	if ((e = strstr(c->buf, "\r\n\r\n")) == NULL)
		return (0);
	if (sscanf(c->buf, "HTTP/1.%*d %d", &st) != 1) {
		fprintf(stderr, "waitroom: bad answer: %.80s\n", c->buf);
		exit(1);
	}
	for (p = c->buf; p < e; p = strstr(p, "\r\n") + 2) {
		if (strncasecmp(p, "Content-Length:", 15) == 0)
			clen = strtol(p + 15, NULL, 10);
		else if (strncasecmp(p, "Retry-After:", 12) == 0)
			ra = atoi(p + 12);
		else if (strncasecmp(p, "Connection:", 11) == 0 && strncasecmp(p + 11, " close", 6) == 0)
			c->close = 1;
		else if (strncasecmp(p, "Transfer-Encoding:", 18) == 0)
			chunked = 1;
	}
	body = e + 4;
	if (chunked) {
		/* only nginx's held 503 comes chunked (echo module); its status and
		 * Retry-After are all that is read: wait for the last chunk */
		if (c->len < 5 || memcmp(c->buf + c->len - 5, "0\r\n\r\n", 5) != 0)
			return (0);
		if (st != 503) {
			fprintf(stderr, "waitroom: a chunked %d answer was not expected\n", st);
			exit(1);
		}
	} else if ((size_t)(body - c->buf) + (size_t)clen > c->len)
		return (0);
	else
		body[clen] = '\0';
	handle(c, st, ra, body);
	c->len = 0;
	return (1);
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x < y ? -1 : x > y);
}

static int64_t
pctl(const int64_t *v, double q)
{
	size_t i;

	if (nlat == 0)
		return (0);
	i = (size_t)(q * (nlat - 1) + 0.5);
	return (v[i]);
}

/* join order: users sorted by join_sent; ok when number rises with it, checked as: no buyer
 * whose join was answered before another's was sent has the higher number. */
static int join_by_done_cmp(const void *a, const void *b)
{
	const struct user *x = &users[*(const int *)a], *y = &users[*(const int *)b];

	return (x->join_done_us < y->join_done_us ? -1 : x->join_done_us > y->join_done_us);
}

/* PUT the room's rate on an idle connection and wait for the 200. */
static void
set_rate(struct conn *c)
{
	char body[128], req[1024];
	int n, blen, st;
	ssize_t r;

	blen = snprintf(body, sizeof body, "{\"waitingRoom\":{\"enabled\":true,\"admitPerSecond\":%d}}", rate);
	n = snprintf(req, sizeof req, "PUT /api/events/%d HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", event,
	    getenv("BENCH_ADMIN_TOKEN"), blen, body);
	send_all(c, req, (size_t)n);
	c->len = 0;
	for (;;) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		char *e, *cl;

		if (poll(&pfd, 1, 10000) != 1 ||
		    (r = read(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len)) <= 0) {
			fprintf(stderr, "waitroom: no answer to the rate change\n");
			exit(1);
		}
		c->len += (size_t)r;
		c->buf[c->len] = '\0';
		if ((e = strstr(c->buf, "\r\n\r\n")) != NULL && (cl = strcasestr(c->buf, "Content-Length:")) != NULL &&
		    cl < e && (size_t)(e + 4 - c->buf) + (size_t)strtol(cl + 15, NULL, 10) <= c->len)
			break;
	}
	if (sscanf(c->buf, "HTTP/1.%*d %d", &st) != 1 || st != 200) {
		fprintf(stderr, "waitroom: rate change: %.300s\n", c->buf);
		exit(1);
	}
	c->len = 0;
}

/* A new connection in c's place (the old one is closed). */
static void
redial(int ep, struct conn *c, uint32_t slot)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = slot };

	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = dial();
	c->len = 0;
	c->close = 0;
	redials++;
	epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

int
main(int argc, char **argv)
{
	struct epoll_event ev, evs[256];
	struct conn *conns;
	int nconn, deadline_s, ep, i, k, total;
	int64_t deadline;
	FILE *out;

	if (argc != 10) {
		fprintf(stderr, "usage: waitroom PORT EVENT USERS CONNECTIONS RATE TAG DEADLINE_S PROBES OUT.json\n");
		return (2);
	}
	port = atoi(argv[1]); event = atoi(argv[2]); nusers = atoi(argv[3]);
	nconn = atoi(argv[4]); rate = atoi(argv[5]); tag = argv[6]; deadline_s = atoi(argv[7]);
	nprobes = atoi(argv[8]);
	if (nusers < 1 || nconn < 1 || nconn > 4096 || rate < 1 || deadline_s < 1 || nprobes < 0 ||
	    getenv("BENCH_ADMIN_TOKEN") == NULL)
		return (2);
	total = nusers + nprobes;
	users = calloc((size_t)total, sizeof *users);
	heap = calloc((size_t)total, sizeof *heap);
	due = calloc((size_t)total, sizeof *due);
	lat = calloc((size_t)nusers, sizeof *lat);
	lat_admit = calloc((size_t)nusers, sizeof *lat_admit);
	conns = calloc((size_t)nconn, sizeof *conns);
	if ((ep = epoll_create1(0)) == -1) { perror("epoll_create1"); return (1); }
	for (i = 0; i < nconn; i++) {
		conns[i].fd = dial();
		conns[i].user = -1;
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)i;
		epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
	}
	t0 = now_us();
	deadline = t0 + (int64_t)deadline_s * 1000000;
	for (i = 0; i < nusers; i++)
		heap_push(i, t0);
	while (now_us() < deadline) {
		int64_t t = now_us(), wait_ms;
		int busy = 0, n;

		if (!phase_admit && joined == nusers) {
			/* every buyer holds a ticket: open the gates at RATE */
			printf("joined %d in %.3f s; admitting %d/s\n", joined, (now_us() - t0) / 1e6, rate);
			fflush(stdout);
			set_rate(&conns[0]);
			phase_admit = 1;
			admit_phase_us = t = now_us();
			/*
			 * First polls at random moments of the next second: buyers who joined at
			 * different times poll out of step. (In join order they would poll in
			 * number order, and each second's admitted block would arrive at once.)
			 */
			srandom(1);
			for (i = 0; i < nusers; i++)
				heap_push(i, t + random() % 1000000);
		}
		/* probes once a tenth of the buyers hold tokens */
		if (phase_admit && nprobes > 0 && admitted >= nusers / 10 && users[nusers].step == JOIN) {
			for (i = nusers; i < total; i++) {
				users[i].step = PROBE;
				heap_push(i, t + (int64_t)(i - nusers) * 1000);
			}
		}
		if (phase_admit && done_users == nusers) {
			for (i = nusers; i < total && (users[i].step == DONE || nprobes == 0); i++)
				;
			if (i == total) {
				for (k = 0; k < nconn && conns[k].user == -1; k++)
					;
				if (k == nconn)
					break;
			}
		}
		for (k = 0; k < nconn; k++) {
			if (conns[k].user != -1) { busy++; continue; }
			if (nheap == 0 || due[heap[0]] > t)
				continue;
			send_step(&conns[k], heap_pop());
			busy++;
		}
		wait_ms = 50;
		if (nheap > 0 && busy < nconn) {
			int64_t d = (due[heap[0]] - t) / 1000;
			if (d < wait_ms) wait_ms = d < 0 ? 0 : d;
		}
		n = epoll_wait(ep, evs, 256, (int)wait_ms);
		for (i = 0; i < n; i++) {
			struct conn *c = &conns[evs[i].data.u32];
			ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len);

			if (r <= 0) {
				int u = c->user;

				if (r == -1 && errno == EINTR)
					continue;
				if (u != -1 && c->len > 0) {
					fprintf(stderr, "waitroom: connection closed mid-answer (%s, %zu bytes in)\n",
					    r == 0 ? "EOF" : strerror(errno), c->len);
					return (1);
				}
				redial(ep, c, evs[i].data.u32);
				if (u != -1) {	/* the server closed it before it read this request */
					int64_t sent = users[u].reserve_sent_us;

					resent++;
					send_step(c, u);
					users[u].reserve_sent_us = sent;	/* the latency counts both tries */
				}
				continue;
			}
			c->len += (size_t)r;
			if (c->user != -1 && parse(c) && c->close)
				redial(ep, c, evs[i].data.u32);
		}
	}

	/* ---- checks ---- */
	int64_t *numbers = calloc((size_t)nusers, sizeof *numbers);
	int *order = calloc((size_t)nusers, sizeof *order);
	int dup = 0, gaps = 0, join_inv = 0, fifo_viol = 0, no_token_201 = 0;
	int64_t maxn = 0;

	for (i = 0; i < nusers; i++) numbers[i] = users[i].number;
	qsort(numbers, (size_t)nusers, sizeof *numbers, cmp64);
	for (i = 1; i < nusers; i++) if (numbers[i] == numbers[i - 1]) dup++;
	gaps = (int)(numbers[nusers - 1] - numbers[0] + 1 - nusers + dup);
	/* join order: for each buyer, the highest number among joins answered before it was sent */
	for (i = 0; i < nusers; i++) order[i] = i;
	qsort(order, (size_t)nusers, sizeof *order, join_by_done_cmp);
	{
		int64_t *pmax = calloc((size_t)nusers, sizeof *pmax);
		for (i = 0; i < nusers; i++) {
			maxn = users[order[i]].number > maxn ? users[order[i]].number : maxn;
			pmax[i] = maxn;
		}
		for (i = 0; i < nusers; i++) {
			int lo = 0, hi = nusers;	/* first in order with join_done >= sent */
			while (lo < hi) {
				int mid = (lo + hi) / 2;
				if (users[order[mid]].join_done_us < users[i].join_sent_us) lo = mid + 1; else hi = mid;
			}
			if (lo > 0 && pmax[lo - 1] > users[i].number) join_inv++;
		}
		free(pmax);
	}
	/* admission FIFO: a NOT_YET_SERVED for number a, to a request sent at t, when some b > a
	 * had its admission answered before t (so the server admitted b before it saw a's
	 * request). Not the 409's arrival: answers on different connections may arrive out of
	 * the order the server gave them in. Admitted numbers sorted by answer time, prefix max. */
	{
		int na = 0;
		int64_t (*adm)[2] = calloc((size_t)nusers, sizeof *adm);
		for (i = 0; i < nusers; i++)
			if (users[i].admit_us > 0) { adm[na][0] = users[i].admit_us; adm[na][1] = users[i].number; na++; }
		qsort(adm, (size_t)na, sizeof *adm, cmp64);	/* by time (first field) */
		maxn = 0;
		for (i = 0; i < na; i++) { maxn = adm[i][1] > maxn ? adm[i][1] : maxn; adm[i][1] = maxn; }
		for (k = 0; k < nnys; k++) {
			int lo = 0, hi = na;
			while (lo < hi) { int mid = (lo + hi) / 2; if (adm[mid][0] < nys[k].t) lo = mid + 1; else hi = mid; }
			if (lo > 0 && adm[lo - 1][1] > nys[k].number) fifo_viol++;
		}
		free(adm);
	}
	for (k = 0; k < 3; k++) no_token_201 += probe_status[k][0];
	qsort(lat, (size_t)nlat, sizeof *lat, cmp64);
	qsort(lat_admit, (size_t)nlat, sizeof *lat_admit, cmp64);

	int64_t last_reserve = 0, sum_polls = 0, sum_nys = 0, sum_shed = 0;
	int not_done = 0;
	for (i = 0; i < nusers; i++) {
		sum_polls += users[i].polls; sum_nys += users[i].not_yet; sum_shed += users[i].shed;
		if (users[i].step != DONE) not_done++;
		if (users[i].reserve_sent_us + users[i].reserve_us > last_reserve && users[i].reserve_status)
			last_reserve = users[i].reserve_sent_us + users[i].reserve_us;
	}
	if ((out = fopen(argv[9], "w")) == NULL) { perror(argv[9]); return (1); }
	fprintf(out, "{\"users\": %d, \"connections\": %d, \"admit_per_second\": %d, \"joined\": %d, \"admitted\": %d, \"reserved\": %d, "
	    "\"not_done\": %d, \"join_seconds\": %.3f, \"admission_phase_seconds\": %.3f, "
	    "\"reserved_per_s\": %.1f, \"polls\": %" PRId64 ", \"not_yet_served\": %" PRId64 ", \"shed_503\": %" PRId64 ", "
	    "\"numbers\": {\"first\": %" PRId64 ", \"last\": %" PRId64 ", \"duplicates\": %d, \"gaps\": %d}, "
	    "\"join_order_inversions\": %d, \"admission_fifo_violations\": %d, \"probes\": %d, "
	    "\"shed_by_step\": {\"join\": %d, \"poll\": %d, \"admit\": %d, \"reserve\": %d, \"probe\": %d}, "
	    "\"resent\": %d, \"redials\": %d, "
	    "\"probes_by_kind\": {",
	    nusers, nconn, rate, joined, admitted, reserved, not_done,
	    ((phase_admit ? admit_phase_us : now_us()) - t0) / 1e6,
	    phase_admit ? (last_reserve - admit_phase_us) / 1e6 : 0.0,
	    phase_admit && last_reserve > admit_phase_us ? reserved / ((last_reserve - admit_phase_us) / 1e6) : 0.0,
	    sum_polls, sum_nys, sum_shed, numbers[0], numbers[nusers - 1], dup, gaps,
	    join_inv, fifo_viol, nprobes, shed_by_step[JOIN], shed_by_step[POLL], shed_by_step[ADMIT],
	    shed_by_step[RESERVE], shed_by_step[PROBE], resent, redials);
	{
		static const char *kinds[3] = { "no_token", "forged_token", "another_buyers_token" };
		for (k = 0; k < 3; k++)
			fprintf(out, "%s\"%s\": {\"201\": %d, \"403\": %d, \"409\": %d, \"429\": %d, \"503\": %d, \"other\": %d}",
			    k ? ", " : "", kinds[k], probe_status[k][0], probe_status[k][1], probe_status[k][2],
			    probe_status[k][3], probe_status[k][4], probe_status[k][5]);
	}
	fprintf(out, "}, \"probes_reserved\": %d, \"reserve_latency_us\": {\"count\": %d, \"p50\": %" PRId64
	    ", \"p90\": %" PRId64 ", \"p99\": %" PRId64 ", \"max\": %" PRId64 "}, "
	    "\"reserve_from_admission_us\": {\"p50\": %" PRId64 ", \"p90\": %" PRId64 ", \"p99\": %" PRId64
	    ", \"max\": %" PRId64 "}, \"statuses\": {",
	    no_token_201, nlat, pctl(lat, 0.50), pctl(lat, 0.90), pctl(lat, 0.99), nlat ? lat[nlat - 1] : 0,
	    pctl(lat_admit, 0.50), pctl(lat_admit, 0.90), pctl(lat_admit, 0.99), nlat ? lat_admit[nlat - 1] : 0);
	for (i = 0, k = 0; i < 1000; i++)
		if (statuses[i]) fprintf(out, "%s\"%d\": %d", k++ ? ", " : "", i, statuses[i]);
	fprintf(out, "}}\n");
	fclose(out);
	printf("done: %d reserved, %d not done\n", reserved, not_done);
	return (not_done > 0);
}
