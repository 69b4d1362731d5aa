/*
 * app.h: what a request handler sees of its worker.
 *
 * One struct app per worker process, created after fork. It owns the
 * worker's database and Redis connections (app_free() closes them); the
 * config belongs to the master's copy inherited at fork and is read-only.
 */
#ifndef BO_APP_H
#define BO_APP_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct bo_conf;
struct request;
struct response;
struct route;

struct app {
	const struct bo_conf	*conf;
	struct store		 st;		/* db and redis of this worker */
	int			 slot;		/* worker slot number */
	uint64_t		 requests;	/* served by this worker */
	const struct request	*req;		/* the one being served */
};

struct app	*app_new(const struct bo_conf *, int slot);
void		 app_free(struct app *);
/* Try both connections once so the first request does not pay for it. */
void		 app_warm_up(struct app *);

/*
 * Answer 500 INTERNAL_SERVER_ERROR with a generic message and log what
 * happened (the detail never reaches the client), tagged with the request id.
 */
void	 app_internal_error(struct app *, struct response *, const char *what,
	    const char *detail);
/* Answer 503 SERVICE_UNAVAILABLE with Retry-After, and log the detail. */
void	 app_unavailable(struct app *, struct response *, const char *what,
	    const char *detail);
/*
 * The same 503, for a write whose COMMIT answer was lost and could not be
 * learned: details.outcome = "unknown" tells the client it may have
 * happened, and how to find out.
 */
void	 app_outcome_unknown(struct app *, struct response *, const char *what,
	    const char *detail);

/*
 * A database failure: 503 SERVICE_UNAVAILABLE when the database could not
 * be reached or the outcome is unknown (the client may retry), 500
 * otherwise. The detail (db_errstr) is only logged.
 */
void	 app_db_failure(struct app *, struct response *, const char *what);

#endif
