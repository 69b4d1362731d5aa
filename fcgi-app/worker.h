/*
 * worker.h: one prefork responder.
 *
 * A worker accepts FastCGI connections on the shared listening socket, one
 * request at a time. SIGQUIT lets the request in hand finish, then exits;
 * SIGTERM exits at once (an open transaction rolls back with the
 * connection). After max_requests the worker exits 0 and the master starts a
 * fresh one.
 */
#ifndef BO_WORKER_H
#define BO_WORKER_H

#include <stddef.h>
#include <sys/types.h>

struct bo_conf;
struct app;
struct request;
struct response;

/* Exit status of a worker that cannot run at all: do not respawn at once. */
#define WORKER_EXIT_FATAL	2
/* accept() failed: an abnormal exit to the crash-loop guard. */
#define WORKER_EXIT_ACCEPT	3

/*
 * The requests a worker serves before it recycles: max_requests plus
 * r mod (jitter + 1); 0 (never) when max_requests is 0. r is random().
 */
unsigned long long worker_request_limit(int max_requests, int jitter,
	    long r);

/* Run the accept loop; never returns. */
void	 worker_main(const struct bo_conf *, int listen_fd, int slot)
	    __attribute__((noreturn));

/*
 * Route and run one parsed request: 404/405/413/415 handling, body reading
 * through readfn, then the handler. Exposed for tests.
 */
struct request;
/* Returns the route's index in the table, or the table size if none. */
size_t	 worker_dispatch(struct app *, struct request *, struct response *,
	    ssize_t (*readfn)(void *, char *, size_t), void *readctx);

#endif
