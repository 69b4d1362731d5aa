/*
 * db.h: a worker's MariaDB connection, as an opaque handle.
 *
 * Opened lazily after fork with bounded connect, read and write timeouts.
 * The client library's auto-reconnect stays off: it would drop an open
 * transaction without telling anyone.
 *
 * What a fault does, and what the caller sees:
 *   - A standalone statement outside a transaction that finds the connection
 *     gone is sent once more on a new connection (START TRANSACTION too:
 *     nothing of the transaction exists yet).
 *   - Inside a transaction nothing is ever resent. The call fails with
 *     DB_LOST and the caller re-runs the whole transaction from its start.
 *   - A connection lost while a statement was in flight may leave its session
 *     running on the server: a client read timeout does not stop it. Before
 *     the next statement, the new connection fences it: KILL CONNECTION, then
 *     wait until the session is gone, so nothing it does can land after we
 *     look (db_connect fails with DB_DOWN if that cannot be made sure).
 *   - A connection lost after COMMIT was sent is DB_AMBIGUOUS: the caller
 *     looks the outcome up instead of guessing.
 *
 * Errors follow hiredis: calls return 0 or -1 (or NULL), and db_fault(),
 * db_errstr() describe the last failure; every call that succeeds clears
 * them, so no decision ever reads an older error.
 *
 * Ownership: db_new() returns a handle freed with db_free(); a struct db_res
 * belongs to the caller (db_res_free()); strings from db_quote() are freed
 * with free().
 */
#ifndef BO_DB_H
#define BO_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bo_conf;
struct db;
struct db_res;

enum db_fault {
	DB_OK = 0,
	DB_DOWN,	/* no usable connection (or the old session not fenced) */
	DB_LOST,	/* the connection broke before any COMMIT was sent */
	DB_AMBIGUOUS,	/* the connection broke after COMMIT was sent */
	DB_RETRY,	/* deadlock or lock wait timeout: re-run the transaction */
	DB_DUPLICATE,	/* a unique key refused the row */
	DB_CHECK,	/* a CHECK constraint refused the row */
	DB_REFERENCED,	/* a foreign key refused the change */
	DB_REFUSED	/* any other error the server answered */
};

/* A read by key: found, no such row, or a failure (see db_fault()). */
enum lookup { LOOKUP_ERROR = -1, LOOKUP_NONE = 0, LOOKUP_FOUND = 1 };

/* Flags of db_batch(). */
#define DB_BEGINS	0x1	/* its first statement is START TRANSACTION */
#define DB_COMMITS	0x2	/* its last statement is COMMIT */
#define DB_STATEMENTS	0x4	/* several statements separated by ';' (else
				   one, such as a CALL, that may return several
				   results): the session's multi-statement mode
				   is turned on for it, and off again for the
				   next query without this flag */

/* What one statement of a batch did; res is set when it returned rows. */
struct db_stmt {
	bool		 ran;		/* it completed without error */
	int64_t		 affected;	/* matched rows (CLIENT_FOUND_ROWS) */
	uint64_t	 insert_id;
	struct db_res	*res;		/* the caller frees it (db_stmts_free) */
};

struct db	*db_new(const struct bo_conf *);
void		 db_free(struct db *);

/* Connect (and fence a lost session) unless connected. 0 or -1. */
int		 db_connect(struct db *) __attribute__((warn_unused_result));
bool		 db_connected(const struct db *);
/*
 * The live session's id and its server's start (0 when not connected): what
 * another process fences if this one dies with a statement in flight.
 */
unsigned long	 db_session(const struct db *, int64_t *boot_s);
/*
 * Fence another process's session that may still run (a group commit's
 * leader that died): KILL it and wait until it is gone, after this
 * connection's own lost session if any. 0, or -1 with the fence still
 * pending: the next statement tries it again first.
 */
int		 db_fence_session(struct db *, unsigned long id, int64_t boot_s)
		    __attribute__((warn_unused_result));
/* Round trip to the server. 0 or -1. */
int		 db_ping(struct db *) __attribute__((warn_unused_result));

/* The last failure; DB_OK and "" after a success. */
enum db_fault	 db_fault(const struct db *);
const char	*db_errstr(const struct db *);
/* The number of the last error the server answered (ER_*), 0 when the last
   failure was not one. */
unsigned int	 db_server_errno(const struct db *);
#define DB_ER_NO_PROCEDURE	1305	/* ER_SP_DOES_NOT_EXIST */
#define DB_ER_NO_EXECUTE	1370	/* ER_PROCACCESS_DENIED_ERROR: also
					   what a user without EXECUTE gets
					   for a procedure that is missing */
/* True for the faults after which a transaction may be re-run whole. */
bool		 db_fault_retryable(enum db_fault);
/*
 * True for the faults that mean "the database is not usable now, retry
 * later" (503 to a client) rather than "it refused this" (500).
 */
bool		 db_fault_unavailable(enum db_fault);

/* A statement that returns no rows. 0 or -1. */
int		 db_exec(struct db *, const char *sql)
		    __attribute__((warn_unused_result));
/* Of the last successful db_exec(). */
int64_t		 db_affected(const struct db *);
uint64_t	 db_insert_id(const struct db *);
/* A query's whole result, or NULL on failure. */
struct db_res	*db_query(struct db *, const char *sql)
		    __attribute__((warn_unused_result));
/* db_query of "<head>(id, id, ...)<tail>", a batch read by key; n > 0. */
struct db_res	*db_query_ids(struct db *, const char *head,
		    const int64_t *ids, size_t n, const char *tail)
		    __attribute__((warn_unused_result));
/*
 * Several statements separated by ';' in one round trip (DB_STATEMENTS),
 * or one CALL: its result sets and its final status (n = result sets + 1).
 * The server stops at the first that fails. st[0..n-1] describe each one
 * (ran is false from the failing one on). 0 when all n ran, else -1. flags
 * say whether the batch begins or commits a transaction: a batch that
 * commits and loses its connection after it was sent is DB_AMBIGUOUS (one
 * that could not be written is DB_LOST: it never ran). The caller frees
 * the results with db_stmts_free() whatever the outcome.
 */
int		 db_batch(struct db *, const char *sql, int flags,
		    struct db_stmt *st, int n) __attribute__((warn_unused_result));
void		 db_stmts_free(struct db_stmt *, int n);

/* START TRANSACTION. 0 or -1. */
int		 db_begin(struct db *) __attribute__((warn_unused_result));
/* COMMIT. 0, or -1 (DB_AMBIGUOUS when the answer was lost). */
int		 db_commit(struct db *) __attribute__((warn_unused_result));
/* ROLLBACK when a transaction is open; failures only close the connection. */
void		 db_rollback(struct db *);

/* Rows of a result. */
char		**db_res_next(struct db_res *);	/* NULL after the last */
size_t		 db_res_count(const struct db_res *);
void		 db_res_rewind(struct db_res *);
void		 db_res_free(struct db_res *);

/*
 * s as a quoted SQL string literal for a utf8mb4 connection ('...'); the
 * session's sql_mode never has NO_BACKSLASH_ESCAPES. NULL gives "NULL".
 */
char		*db_quote(const char *s);

#endif
