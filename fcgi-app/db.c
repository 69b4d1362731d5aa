/* db.c: the per-worker MariaDB connection. */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "conf.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "timeutil.h"
#include "xmalloc.h"

/* MariaDB reports a failed CHECK as 4025; MySQL 8 (Aurora) as 3819. */
#define ER_CHECK_FAILED_MARIADB	4025
#define ER_CHECK_FAILED_MYSQL	3819
/* Two estimates of one server's start differ by rounding, not by more. */
#define BOOT_SLACK_S		2

struct db {
	const struct bo_conf	*conf;
	MYSQL			*mysql;		/* NULL when not connected */
	bool			 in_txn;	/* between begin and commit/rollback */
	bool			 statements;	/* the session's multi-statement
						   mode is on */
	unsigned long		 thread_id;	/* of the live session */
	int64_t			 boot_s;	/* the server's start (wall clock) */
	/* A session lost with a statement in flight, to fence before use. */
	unsigned long		 fence_id;
	int64_t			 fence_boot_s;
	uint64_t		 connects;
	enum db_fault		 fault;
	unsigned int		 server_errno;	/* of the last error the server
						   answered, 0 for none */
	char			 errstr[256];
	int64_t			 affected;
	uint64_t		 insert_id;
};

struct db_res {
	MYSQL_RES	*res;
};

struct db *
db_new(const struct bo_conf *conf)
{
	struct db	*db = xcalloc(1, sizeof *db);

	db->conf = conf;
	return (db);
}

static void
db_close(struct db *db)
{
	if (db->mysql != NULL) {
		mysql_close(db->mysql);
		db->mysql = NULL;
	}
	db->in_txn = false;
}

void
db_free(struct db *db)
{
	if (db == NULL)
		return;
	db_close(db);
	free(db);
}

bool
db_connected(const struct db *db)
{
	return (db->mysql != NULL);
}

enum db_fault
db_fault(const struct db *db)
{
	return (db->fault);
}

unsigned int
db_server_errno(const struct db *db)
{
	return (db->server_errno);
}

const char *
db_errstr(const struct db *db)
{
	return (db->errstr);
}

bool
db_fault_retryable(enum db_fault f)
{
	return (f == DB_RETRY || f == DB_LOST);
}

bool
db_fault_unavailable(enum db_fault f)
{
	return (f == DB_DOWN || f == DB_LOST || f == DB_AMBIGUOUS ||
	    f == DB_RETRY);
}

int64_t
db_affected(const struct db *db)
{
	return (db->affected);
}

uint64_t
db_insert_id(const struct db *db)
{
	return (db->insert_id);
}

static void
db_ok(struct db *db)
{
	db->fault = DB_OK;
	db->server_errno = 0;
	db->errstr[0] = '\0';
}

static int
db_fail(struct db *db, enum db_fault f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
db_fail(struct db *db, enum db_fault f, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(db->errstr, sizeof db->errstr, fmt, ap);
	va_end(ap);
	db->fault = f;
	db->server_errno = 0;
	METRIC_INC(db_errors);
	return (-1);
}

/* Errors after which the session is gone, or must be treated as gone. */
static bool
errno_breaks_connection(unsigned int e)
{
	switch (e) {
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_SERVER_LOST_EXTENDED:
	case CR_COMMANDS_OUT_OF_SYNC:
	case ER_SERVER_SHUTDOWN:
	case ER_CONNECTION_KILLED:
	case ER_QUERY_INTERRUPTED:
		return (true);
	}
	return (false);
}

static enum db_fault
fault_of(unsigned int e)
{
	switch (e) {
	case ER_LOCK_DEADLOCK:
	case ER_LOCK_WAIT_TIMEOUT:
		return (DB_RETRY);
	case ER_DUP_ENTRY:
		return (DB_DUPLICATE);
	case ER_CHECK_FAILED_MARIADB:
	case ER_CHECK_FAILED_MYSQL:
		return (DB_CHECK);
	case ER_ROW_IS_REFERENCED:
	case ER_ROW_IS_REFERENCED_2:
		return (DB_REFERENCED);
	}
	return (DB_REFUSED);
}

/* An error the server answered: its number stays for db_server_errno(). */
static int
server_refused(struct db *db, unsigned int e)
{
	db_fail(db, fault_of(e), "%u: %s", e, mysql_error(db->mysql));
	db->server_errno = e;
	return (-1);
}

/*
 * The connection broke with a statement in flight. Its session may live
 * on (a read timeout does not end it), so remember it for the fence.
 */
static void
db_lost(struct db *db, bool commit_sent)
{
	unsigned int	e = mysql_errno(db->mysql);

	db_fail(db, commit_sent ? DB_AMBIGUOUS : DB_LOST, "%u: %s", e,
	    mysql_error(db->mysql));
	if (db->thread_id != 0 && e != ER_CONNECTION_KILLED) {
		db->fence_id = db->thread_id;
		db->fence_boot_s = db->boot_s;
	}
	db_close(db);
}

/* Reading a result set failed: the connection, or the server, said no. */
static int
store_failed(struct db *db, bool commit_sent)
{
	unsigned int	e = mysql_errno(db->mysql);

	if (mysql_field_count(db->mysql) == 0)
		return (db_fail(db, DB_REFUSED, "the statement returned no rows"));
	if (e == 0 || errno_breaks_connection(e)) {
		db_lost(db, commit_sent);
		return (-1);
	}
	return (server_refused(db, e));
}

/* A statement on the live connection, during connect and fence. */
static MYSQL_RES *
raw_query(struct db *db, const char *sql)
{
	MYSQL_RES	*res;

	if (mysql_query(db->mysql, sql) != 0)
		return (NULL);
	if ((res = mysql_store_result(db->mysql)) == NULL)
		return (NULL);
	return (res);
}

/* The server's start, from its uptime: tells a restarted server apart. */
static int64_t
server_boot_s(struct db *db)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	int64_t		 boot = 0;

	if ((res = raw_query(db, "SHOW GLOBAL STATUS LIKE 'Uptime'")) == NULL)
		return (0);
	if ((row = mysql_fetch_row(res)) != NULL && row[1] != NULL)
		boot = (int64_t)time(NULL) - strtoll(row[1], NULL, 10);
	mysql_free_result(res);
	return (boot);
}

/*
 * Make sure the session we lost no longer runs: KILL it and wait until the
 * server has let it go. A different server lifetime (restart, failover)
 * has no such session, and its ids start over: never KILL there.
 */
static int
db_fence(struct db *db)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	char		 sql[128];
	int64_t		 deadline;
	unsigned long	 id = db->fence_id;
	bool		 gone = false;

	if (db->fence_boot_s == 0 || db->boot_s == 0 ||
	    llabs(db->boot_s - db->fence_boot_s) > BOOT_SLACK_S) {
		db->fence_id = 0;
		return (0);
	}
	snprintf(sql, sizeof sql, "KILL CONNECTION %lu", id);
	if (mysql_query(db->mysql, sql) != 0 &&
	    mysql_errno(db->mysql) != ER_NO_SUCH_THREAD)
		return (db_fail(db, DB_DOWN, "fencing session %lu: %u: %s", id,
		    mysql_errno(db->mysql), mysql_error(db->mysql)));
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM "
	    "information_schema.PROCESSLIST WHERE ID = %lu", id);
	deadline = time_mono_ms() + db->conf->mysql_read_timeout_s * 1000;
	while (!gone) {
		if ((res = raw_query(db, sql)) == NULL)
			return (db_fail(db, DB_DOWN, "fencing session %lu: "
			    "%u: %s", id, mysql_errno(db->mysql),
			    mysql_error(db->mysql)));
		row = mysql_fetch_row(res);
		gone = row != NULL && strcmp(row[0], "0") == 0;
		mysql_free_result(res);
		if (!gone && time_mono_ms() >= deadline)
			return (db_fail(db, DB_DOWN, "session %lu still runs "
			    "after KILL", id));
		if (!gone)
			nanosleep(&(struct timespec){ 0, 10 * 1000000L }, NULL);
	}
	METRIC_INC(db_fences);
	log_info("fenced database session %lu lost with a statement in flight",
	    id);
	db->fence_id = 0;
	return (0);
}

int
db_connect(struct db *db)
{
	const struct bo_conf	*c = db->conf;
	unsigned int		 ct = (unsigned int)c->mysql_connect_timeout_s;
	unsigned int		 rt = (unsigned int)c->mysql_read_timeout_s;
	unsigned int		 wt = (unsigned int)c->mysql_write_timeout_s;
	my_bool			 off = 0;
	MYSQL			*m;
	bool			 sock = *c->mysql_socket != '\0';

	if (db->mysql == NULL) {
		if ((m = mysql_init(NULL)) == NULL)
			fatal("mysql_init: out of memory");
		mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
		mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &rt);
		mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &wt);
		mysql_options(m, MYSQL_OPT_RECONNECT, &off);
		mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
		/*
		 * UTC; strict mode even if the server default drifts, and
		 * never NO_BACKSLASH_ESCAPES (db_quote escapes with '\').
		 * READ COMMITTED so that a conditional UPDATE that matched
		 * nothing (a shard too short) releases its row lock at once.
		 */
		mysql_options(m, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00', "
		    "sql_mode = REPLACE(CONCAT(@@sql_mode, ',STRICT_ALL_TABLES'),"
		    " 'NO_BACKSLASH_ESCAPES', '')");
		/* A separate statement: MySQL 8 has no tx_isolation variable. */
		mysql_options(m, MYSQL_INIT_COMMAND,
		    "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
		if (mysql_real_connect(m, sock ? NULL : c->mysql_host,
		    c->mysql_user, c->mysql_password, c->mysql_database,
		    sock ? 0 : (unsigned int)c->mysql_port,
		    sock ? c->mysql_socket : NULL,
		    CLIENT_FOUND_ROWS | CLIENT_MULTI_RESULTS) == NULL) {
			db_fail(db, DB_DOWN, "connect: %u: %s", mysql_errno(m),
			    mysql_error(m));
			mysql_close(m);
			return (-1);
		}
		db->mysql = m;
		db->in_txn = false;
		db->statements = false;
		db->thread_id = mysql_thread_id(m);
		db->boot_s = server_boot_s(db);
		if (++db->connects > 1) {
			METRIC_INC(db_reconnects);
			log_info("reconnected to the database");
		}
	}
	if (db->fence_id != 0 && db_fence(db) == -1)
		return (-1);
	db_ok(db);
	return (0);
}

unsigned long
db_session(const struct db *db, int64_t *boot_s)
{
	*boot_s = db->mysql != NULL ? db->boot_s : 0;
	return (db->mysql != NULL ? db->thread_id : 0);
}

int
db_fence_session(struct db *db, unsigned long id, int64_t boot_s)
{
	if (db->fence_id != 0 && db_connect(db) == -1)
		return (-1);
	db->fence_id = id;
	db->fence_boot_s = boot_s;
	return (db_connect(db));
}

/*
 * The session takes several statements per query only while a batch needs
 * it: a query built wrong elsewhere can then never smuggle in a second
 * statement. A CALL's result sets need only CLIENT_MULTI_RESULTS. 0, or -1
 * with the connection's error unread (nothing was sent).
 */
static int
statements_mode(struct db *db, bool on)
{
	if (db->statements == on)
		return (0);
	if (mysql_set_server_option(db->mysql, on ?
	    MYSQL_OPTION_MULTI_STATEMENTS_ON :
	    MYSQL_OPTION_MULTI_STATEMENTS_OFF) != 0)
		return (-1);
	db->statements = on;
	return (0);
}

/*
 * Send one query (several statements when `statements`) and read its first
 * result status. Outside a transaction a broken connection is replaced and
 * a standalone statement sent again, once; nothing inside a transaction,
 * and no COMMIT, is ever resent.
 */
static int
db_send(struct db *db, const char *sql, bool standalone, bool commits,
    bool statements)
{
	unsigned int	e;
	int		attempt;
	bool		sent;

	for (attempt = 0; attempt < 2; attempt++) {
		if (db_connect(db) == -1)
			return (-1);
		/*
		 * Sent and answered apart: a statement that could not even be
		 * written never ran, so its loss is not ambiguous, even if it
		 * commits (a connection that died while idle, a server that is
		 * down).
		 */
		sent = statements_mode(db, statements) == 0 &&
		    mysql_send_query(db->mysql, sql, strlen(sql)) == 0;
		if (sent && mysql_read_query_result(db->mysql) == 0)
			return (0);
		e = mysql_errno(db->mysql);
		if (!errno_breaks_connection(e))
			return (server_refused(db, e));
		db_lost(db, commits && sent);
		if (!standalone || commits)
			return (-1);
	}
	return (-1);
}

int
db_ping(struct db *db)
{
	struct db_res	*r;

	if ((r = db_query(db, "SELECT 1")) == NULL)
		return (-1);
	db_res_free(r);
	return (0);
}

int
db_exec(struct db *db, const char *sql)
{
	MYSQL_RES	*res;

	if (db_send(db, sql, !db->in_txn, false, false) == -1)
		return (-1);
	if ((res = mysql_store_result(db->mysql)) != NULL)
		mysql_free_result(res);
	db->affected = (int64_t)mysql_affected_rows(db->mysql);
	db->insert_id = (uint64_t)mysql_insert_id(db->mysql);
	db_ok(db);
	return (0);
}

struct db_res *
db_query(struct db *db, const char *sql)
{
	struct db_res	*r;
	MYSQL_RES	*res;

	if (db_send(db, sql, !db->in_txn, false, false) == -1)
		return (NULL);
	if ((res = mysql_store_result(db->mysql)) == NULL) {
		store_failed(db, false);
		return (NULL);
	}
	r = xmalloc(sizeof *r);
	r->res = res;
	db_ok(db);
	return (r);
}

struct db_res *
db_query_ids(struct db *db, const char *head, const int64_t *ids, size_t n,
    const char *tail)
{
	struct db_res	*r;
	char		*sql;
	size_t		 len, i;
	FILE		*f;

	if ((f = open_memstream(&sql, &len)) == NULL)
		fatal("open_memstream failed");
	fprintf(f, "%s(", head);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%" PRId64, i > 0 ? ", " : "", ids[i]);
	fprintf(f, ")%s", tail);
	fclose(f);
	r = db_query(db, sql);
	free(sql);
	return (r);
}

int
db_batch(struct db *db, const char *sql, int flags, struct db_stmt *st, int n)
{
	MYSQL_RES	*res;
	unsigned int	 e;
	bool		 commits = (flags & DB_COMMITS) != 0;
	int		 i, status;

	memset(st, 0, (size_t)n * sizeof *st);
	if (db_send(db, sql, false, commits,
	    (flags & DB_STATEMENTS) != 0) == -1) {
		if (db->mysql == NULL)
			db->in_txn = false;
		return (-1);
	}
	for (i = 0;; i++) {
		res = mysql_store_result(db->mysql);
		if (res == NULL && mysql_field_count(db->mysql) != 0)
			return (store_failed(db, commits));
		if (i < n) {
			st[i].ran = true;
			st[i].affected = (int64_t)mysql_affected_rows(db->mysql);
			st[i].insert_id = (uint64_t)mysql_insert_id(db->mysql);
			if (res != NULL) {
				st[i].res = xmalloc(sizeof *st[i].res);
				st[i].res->res = res;
				res = NULL;
			}
		}
		if (res != NULL)
			mysql_free_result(res);
		if (i == 0 && (flags & DB_BEGINS))
			db->in_txn = true;
		if ((status = mysql_next_result(db->mysql)) == -1)
			break;
		if (status > 0) {
			e = mysql_errno(db->mysql);
			if (errno_breaks_connection(e)) {
				db_lost(db, commits);
				return (-1);
			}
			/* The rest did not run; the transaction is still open. */
			return (server_refused(db, e));
		}
	}
	if (commits)
		db->in_txn = false;
	if (i + 1 != n)
		return (db_fail(db, DB_REFUSED, "batch ran %d statements, "
		    "expected %d", i + 1, n));
	db_ok(db);
	return (0);
}

void
db_stmts_free(struct db_stmt *st, int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		db_res_free(st[i].res);
		st[i].res = NULL;
	}
}

int
db_begin(struct db *db)
{
	if (db->in_txn)
		return (db_fail(db, DB_REFUSED, "a transaction is already open"));
	if (db_send(db, "START TRANSACTION", true, false, false) == -1)
		return (-1);
	db->in_txn = true;
	db_ok(db);
	return (0);
}

int
db_commit(struct db *db)
{
	if (!db->in_txn || db->mysql == NULL)
		return (db_fail(db, DB_LOST, "no open transaction to commit"));
	if (db_send(db, "COMMIT", false, true, false) == -1) {
		/* A refused COMMIT rolled back; a lost one is ambiguous. */
		if (db->mysql != NULL)
			db_rollback(db);
		return (-1);
	}
	db->in_txn = false;
	db_ok(db);
	return (0);
}

void
db_rollback(struct db *db)
{
	if (db->mysql == NULL) {
		db->in_txn = false;
		return;
	}
	/* A connection that cannot roll back cannot be trusted either. */
	if (mysql_query(db->mysql, "ROLLBACK") != 0) {
		log_warn("rollback failed: %u: %s; closing the connection",
		    mysql_errno(db->mysql), mysql_error(db->mysql));
		db_close(db);
	}
	db->in_txn = false;
}

char **
db_res_next(struct db_res *r)
{
	return (mysql_fetch_row(r->res));
}

size_t
db_res_count(const struct db_res *r)
{
	return ((size_t)mysql_num_rows(r->res));
}

void
db_res_rewind(struct db_res *r)
{
	mysql_data_seek(r->res, 0);
}

void
db_res_free(struct db_res *r)
{
	if (r == NULL)
		return;
	mysql_free_result(r->res);
	free(r);
}

char *
db_quote(const char *s)
{
	char	*out, *p;

	if (s == NULL)
		return (xstrdup("NULL"));
	p = out = xmalloc(strlen(s) * 2 + 3);
	*p++ = '\'';
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '\n':
			*p++ = '\\';
			*p++ = 'n';
			break;
		case '\r':
			*p++ = '\\';
			*p++ = 'r';
			break;
		case '\032':
			*p++ = '\\';
			*p++ = 'Z';
			break;
		case '\\':
		case '\'':
		case '"':
			*p++ = '\\';
			/* FALLTHROUGH */
		default:
			*p++ = *s;
		}
	}
	*p++ = '\'';
	*p = '\0';
	return (out);
}
