/*
 * db.h: a worker's MariaDB connection.
 *
 * Opened lazily after fork, with the connect/read/write timeouts from the
 * config, and reopened after a connection-level error. There is no
 * auto-reconnect in the client library on purpose: a silent reconnect would
 * lose the session and any transaction in flight without telling us.
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
/* True for errors that mean the connection is gone. */
bool		 db_errno_is_fatal(unsigned int);

#endif
