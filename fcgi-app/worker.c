/* worker.c: the FastCGI accept loop of one prefork worker. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <json-c/json.h>

#include "app.h"
#include "child.h"
#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "response.h"
#include "router.h"
#include "routes.h"
#include "timeutil.h"
#include "worker.h"

static volatile sig_atomic_t	worker_quit;
static volatile sig_atomic_t	worker_listen_fd = -1;

/*
 * SIGQUIT: finish the request in hand, then stop. The worker blocks SIGQUIT
 * except while it waits in accept(), so this runs only there: closing the
 * listening socket makes the accept fail at once (php-fpm does the same),
 * which also closes the window between checking the flag and blocking in
 * accept.
 */
static void
on_quit(int sig)
{
	int	saved = errno;

	(void)sig;
	worker_quit = 1;
	if (worker_listen_fd >= 0) {
		close(worker_listen_fd);
		worker_listen_fd = -1;
	}
	errno = saved;
}

/*
 * The next connection from nginx, or -1 when the worker is to stop (or
 * accept failed: errno says which). We accept, not libfcgi: its accept for
 * a unix socket then waits in select() for the request, which a signal
 * interrupts, and it drops the connection it holds (nginx: 502). SIGQUIT
 * is unblocked for the accept alone, so a connection once accepted is
 * always served. The connection is handed to FCGX_Accept_r in the
 * request's ipcFd, which libfcgi 2.4's header counts as its own; it reads
 * a request from a connection it finds there (tests/integration:
 * test_process.py, test_fcgi_direct.py).
 */
static int
next_connection(const sigset_t *quit)
{
	int	fd, saved;

	for (;;) {
		if (worker_quit)
			return (-1);
		sigprocmask(SIG_UNBLOCK, quit, NULL);
		fd = accept(worker_listen_fd, NULL, NULL);
		saved = errno;
		sigprocmask(SIG_BLOCK, quit, NULL);
		if (fd >= 0)
			return (fd);
		if (worker_quit)
			return (-1);
		/* A connection reset before we took it. */
		if (saved == EINTR || saved == ECONNABORTED || saved == EPROTO)
			continue;
		errno = saved;
		return (-1);
	}
}

static ssize_t
fcgx_read(void *ctx, char *buf, size_t n)
{
	int	got;

	got = FCGX_GetStr(buf, n > 1 << 20 ? 1 << 20 : (int)n, ctx);
	return (got < 0 ? -1 : got);
}

static bool
has_body_method(const char *m)
{
	return (strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 ||
	    strcmp(m, "PATCH") == 0);
}

size_t
worker_dispatch(struct app *app, struct request *req, struct response *resp,
    ssize_t (*readfn)(void *, char *, size_t), void *readctx)
{
	const struct route	*routes, *route = NULL;
	size_t			 nroutes;
	char			 allow[64];
	int			 status;

	routes = routes_table(&nroutes);
	/*
	 * Transport checks come before routing, as they would at any proxy:
	 * an oversized or non-JSON body is refused whatever its target.
	 */
	if (req->content_length > (long long)app->conf->max_body_bytes) {
		resp_error(resp, 413, "PAYLOAD_TOO_LARGE",
		    "The request body is too large.", NULL);
		return (nroutes);
	}
	if (has_body_method(req->method) && (req->content_length > 0 ||
	    req->content_type != NULL) && !request_is_json(req)) {
		resp_error(resp, 415, "UNSUPPORTED_MEDIA_TYPE",
		    "Send the body as application/json.", NULL);
		return (nroutes);
	}
	switch (router_match(routes, nroutes, req, &route, allow,
	    sizeof allow)) {
	case ROUTE_NOT_FOUND:
		resp_error(resp, 404, "NOT_FOUND", "No such route.", NULL);
		return (nroutes);
	case ROUTE_BAD_METHOD:
		resp_error(resp, 405, "METHOD_NOT_ALLOWED",
		    "This route does not accept that method.", NULL);
		resp_header(resp, "Allow", "%s", allow);
		return (nroutes);
	case ROUTE_FOUND:
		break;
	}
	if (has_body_method(req->method) && request_read_body(req, readfn,
	    readctx, (size_t)app->conf->max_body_bytes, &status) == -1) {
		if (status == 413)
			resp_error(resp, 413, "PAYLOAD_TOO_LARGE",
			    "The request body is too large.", NULL);
		else
			resp_error(resp, 400, "INVALID_REQUEST",
			    "The request body could not be read.", NULL);
		return ((size_t)(route - routes));
	}
	route->handler(app, req, resp);
	if (resp->status == 0)
		app_internal_error(app, resp, "handler set no response",
		    route->name);
	return ((size_t)(route - routes));
}

static void
log_request(struct app *app, const struct request *req, int status,
    int64_t us)
{
	struct json_object	*f;
	bool			 slow;

	slow = us / 1000 >= app->conf->slow_request_ms &&
	    app->conf->slow_request_ms > 0;
	if (status < 500 && !slow)
		return;
	f = json_object_new_object();
	json_object_object_add(f, "requestId",
	    json_object_new_string(req->request_id));
	json_object_object_add(f, "method", json_object_new_string(req->method));
	json_object_object_add(f, "path", json_object_new_string(
	    req->path != NULL ? req->path : ""));
	json_object_object_add(f, "status", json_object_new_int(status));
	json_object_object_add(f, "durationMs",
	    json_object_new_double((double)us / 1000.0));
	log_fields(status >= 500 ? LOG_LVL_ERROR : LOG_LVL_WARN, f,
	    status >= 500 ? "request failed" : "slow request");
}

static void
serve(struct app *app, FCGX_Request *fr)
{
	struct request	 req;
	struct response	 resp;
	char		 err[256], *out, *end;
	size_t		 len;
	int64_t		 t0 = time_mono_us(), us;
	size_t		 route;

	resp_init(&resp);
	routes_table(&route);	/* "unmatched" until dispatch says otherwise */
	if (request_init(&req, fr->envp, err, sizeof err) == -1)
		resp_error(&resp, 400, "INVALID_REQUEST", err, NULL);
	else {
		app->req = &req;
		route = worker_dispatch(app, &req, &resp, fcgx_read, fr->in);
		app->req = NULL;
	}
	out = resp_serialize(&resp, req.request_id, &len);
	/* RFC 3875 4.3.3: no body for HEAD; the headers are GET's. */
	if (strcmp(req.method, "HEAD") == 0 && (end = strstr(out,
	    "\r\n\r\n")) != NULL)
		len = (size_t)(end + 4 - out);
	/* A client that went away is not an error worth more than a note. */
	if (FCGX_PutStr(out, (int)len, fr->out) < 0)
		log_debug("client went away before the response was written");
	free(out);
	us = time_mono_us() - t0;
	metrics_request(route, resp.status, us);
	log_request(app, &req, resp.status, us);
	request_free(&req);
	resp_free(&resp);
}

/*
 * End the request without libfcgi's lingering close, which shuts the
 * connection down and then waits for nginx to close its end first: a sleep
 * and a wake-up for every request, while the worker could accept the next
 * one. The linger guards a response against a reset while the peer still
 * sends. Here stdin is read to its end first, after which nginx sends
 * nothing more on this connection (with fastcgi_keep_conn on, libfcgi keeps
 * it open for the next request and nothing is closed here).
 */
static void
finish(FCGX_Request *fr)
{
	char	buf[4096];

	while (fr->in != NULL && FCGX_GetStr(buf, sizeof buf, fr->in) > 0)
		continue;
	(void)FCGX_Detach(fr);
	FCGX_Finish_r(fr);
}

unsigned long long
worker_request_limit(int max_requests, int jitter, long r)
{
	if (max_requests <= 0)
		return (0);
	return ((unsigned long long)max_requests + (jitter > 0 ?
	    (unsigned long long)r % ((unsigned long long)jitter + 1) : 0));
}

void
worker_main(const struct bo_conf *conf, int listen_fd, int slot)
{
	FCGX_Request	 fr;
	struct app	*app;
	sigset_t	 quit;
	int64_t		 started = time_mono_ms();
	bool		 failed = false;
	unsigned long long limit;
	const struct timeval header_wait = { 2, 0 }, no_wait = { 0, 0 };
	int		 fd;

	/*
	 * SIGQUIT is blocked from here on but in next_connection()'s accept()
	 * and between the requests of a kept connection, so no read or write
	 * of a request sees it. The accept it interrupts
	 * restarts (SA_RESTART) on the socket on_quit closed, and gets EBADF.
	 */
	child_setup("bo-worker", on_quit, true);
	sigemptyset(&quit);
	sigaddset(&quit, SIGQUIT);
	sigprocmask(SIG_BLOCK, &quit, NULL);
	srandom((unsigned)(getpid() << 16) ^ (unsigned)time(NULL));
	worker_listen_fd = listen_fd;
	limit = worker_request_limit(conf->max_requests,
	    conf->max_requests_jitter, random());

	if (FCGX_Init() != 0) {
		log_error("worker: FCGX_Init failed");
		exit(WORKER_EXIT_FATAL);
	}
	/* No listening socket for libfcgi: next_connection() accepts, and
	   libfcgi reads the request from the connection it is handed. */
	if (FCGX_InitRequest(&fr, -1, 0) != 0) {
		log_error("worker: FCGX_InitRequest failed");
		exit(WORKER_EXIT_FATAL);
	}
	app = app_new(conf, slot);
	app_warm_up(app);

	for (;;) {
		if (fr.ipcFd >= 0) {
			/* nginx kept the connection (fastcgi_keep_conn): its
			   next request comes on it, unless we are to stop. */
			sigprocmask(SIG_UNBLOCK, &quit, NULL);
			sigprocmask(SIG_BLOCK, &quit, NULL);
			if (worker_quit)
				break;
		} else {
			if ((fd = next_connection(&quit)) < 0) {
				if (worker_quit)
					break;
				log_error("worker: accept failed: %s",
				    strerror(errno));
				failed = true;
				break;
			}
			/* keepConnection: FCGX_Accept_r first finishes the
			   request before, and would close this connection
			   with it; the request's own flags replace it. A
			   peer that sends nothing holds the worker for 2 s at
			   most (libfcgi's own accept waited as long). */
			fr.ipcFd = fd;
			fr.keepConnection = 1;
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO,
			    &header_wait, sizeof header_wait);
		}
		if (FCGX_Accept_r(&fr) < 0) {
			/* No request came (the peer closed, or 2 s passed):
			   libfcgi closed the connection, and its own accept
			   on no socket then failed. */
			log_debug("worker: a connection closed before its "
			    "request");
			continue;
		}
		(void)setsockopt(fr.ipcFd, SOL_SOCKET, SO_RCVTIMEO, &no_wait,
		    sizeof no_wait);
		serve(app, &fr);
		finish(&fr);
		app->requests++;
		if (limit > 0 && app->requests >= limit) {
			log_info("worker recycled after %llu requests",
			    (unsigned long long)app->requests);
			break;
		}
	}
	if (worker_quit)
		log_debug("worker stopping gracefully after %llu requests, "
		    "%lld ms", (unsigned long long)app->requests,
		    (long long)(time_mono_ms() - started));
	FCGX_Free(&fr, 1);
	app_free(app);
	/* A failing accept is a crash to the master's crash-loop guard. */
	exit(failed ? WORKER_EXIT_ACCEPT : 0);
}
