/*
 * db.h: a worker's MariaDB connection.
 *
 * Opened lazily after fork, with the connect/read/write timeouts from the
 * config, and reopened after a connection-level error. There is no
 * auto-reconnect in the client library on purpose: a silent reconnect would
 * lose the session and any transaction in flight without telling us.
 *
 * A statement that finds the connection gone (a server restart, an Aurora
 * failover) outside a transaction is retried once on a new connection:
 * nothing was sent that could have taken effect. Inside a transaction the
 * error is returned, since the server has already rolled it back.
 *
 * The struct db owns the MYSQL handle; db_free() closes it.
 */
#ifndef BO_DB_H
#define BO_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

struct bo_conf;

struct db {
	const struct bo_conf	*conf;
	MYSQL			*mysql;		/* NULL when not connected */
	uint64_t		 connects;	/* successful connects */
	uint64_t		 errors;	/* errors seen (any kind) */
	unsigned int		 last_errno;	/* of the last failed call */
	bool			 in_txn;	/* between START and COMMIT */
};

struct db	*db_new(const struct bo_conf *);
void		 db_free(struct db *);
/*
 * The live handle, connecting first when needed. NULL with a message in err
 * when the server cannot be reached.
 */
MYSQL		*db_get(struct db *, char *err, size_t errlen);
/*
 * Record the error on the handle into err ("1213: Deadlock found ...").
 * When it is a connection-level error the handle is closed so the next
 * db_get() reconnects.
 */
void		 db_error(struct db *, char *err, size_t errlen);
/* Round trip to the server; 0 or -1 with err. */
int		 db_ping(struct db *, char *err, size_t errlen)
		    __attribute__((warn_unused_result));
/* Run a statement that returns no rows. 0 or -1 with err. */
int		 db_exec(struct db *, const char *sql, char *err,
		    size_t errlen) __attribute__((warn_unused_result));
/*
 * Run a statement and return its affected rows (matched rows: the client
 * sets CLIENT_FOUND_ROWS), or -1 with err.
 */
int64_t		 db_affected(struct db *, const char *sql, char *err,
		    size_t errlen) __attribute__((warn_unused_result));
/*
 * Run a query and return its whole result; the caller frees it with
 * mysql_free_result(). NULL with err on failure.
 */
MYSQL_RES	*db_select(struct db *, const char *sql, char *err,
		    size_t errlen) __attribute__((warn_unused_result));
/*
 * s as a quoted SQL string literal ('...'), escaped for the connection's
 * character set. The caller frees it. NULL when not connected.
 */
char		*db_quote(struct db *, const char *s, char *err, size_t errlen);
/*
 * Send several statements, separated by ';', in one round trip (the
 * connection allows multi-statements). The server stops at the first
 * failing one. affected[i] and insert_id[i] are filled for each statement
 * that ran (arrays of at least n). Returns how many succeeded: n, or the
 * index of the one that failed, with err and last_errno set; -1 when the
 * connection could not be used at all.
 */
int		 db_batch(struct db *, const char *sql, int n, int64_t *affected,
		    uint64_t *insert_id, char *err, size_t errlen)
		    __attribute__((warn_unused_result));
/* ROLLBACK, ignoring errors: the caller is already on a failure path. */
void		 db_rollback(struct db *);
/* True for deadlock and lock wait timeout: the transaction may be retried. */
bool		 db_errno_is_retryable(unsigned int);
/* True for errors that mean the connection is gone. */
bool		 db_errno_is_fatal(unsigned int);

#endif
