/* db.c: the per-worker MariaDB connection. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "conf.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "xmalloc.h"

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
db_errno_is_fatal(unsigned int e)
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

MYSQL *
db_get(struct db *db, char *err, size_t errlen)
{
	const struct bo_conf	*c = db->conf;
	unsigned int		 ct = (unsigned int)c->mysql_connect_timeout_s;
	unsigned int		 rt = (unsigned int)c->mysql_read_timeout_s;
	unsigned int		 wt = (unsigned int)c->mysql_write_timeout_s;
	my_bool			 off = 0;
	MYSQL			*m;

	if (db->mysql != NULL)
		return (db->mysql);
	if ((m = mysql_init(NULL)) == NULL)
		fatal("mysql_init: out of memory");
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
	mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &rt);
	mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &wt);
	mysql_options(m, MYSQL_OPT_RECONNECT, &off);
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	/*
	 * UTC everywhere; strict mode even if the server default drifts; READ
	 * COMMITTED so that a conditional UPDATE that matched nothing (a shard
	 * too short) releases its row lock at once instead of holding it to
	 * the end of the transaction.
	 */
	mysql_options(m, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00', "
	    "sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES')");
	/* A separate statement: MySQL 8 has no tx_isolation variable. */
	mysql_options(m, MYSQL_INIT_COMMAND,
	    "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
	if (mysql_real_connect(m,
	    *c->mysql_socket != '\0' ? NULL : c->mysql_host,
	    c->mysql_user, c->mysql_password, c->mysql_database,
	    *c->mysql_socket != '\0' ? 0 : (unsigned int)c->mysql_port,
	    *c->mysql_socket != '\0' ? c->mysql_socket : NULL,
	    CLIENT_FOUND_ROWS | CLIENT_MULTI_STATEMENTS) == NULL) {
		snprintf(err, errlen, "connect: %u: %s", mysql_errno(m),
		    mysql_error(m));
		db->last_errno = CR_CONNECTION_ERROR;
		db->errors++;
		METRIC_INC(db_errors);
		mysql_close(m);
		return (NULL);
	}
	db->mysql = m;
	db->connects++;
	if (db->connects > 1) {
		METRIC_INC(db_reconnects);
		log_info("reconnected to the database");
	}
	return (m);
}

void
db_error(struct db *db, char *err, size_t errlen)
{
	unsigned int	e;

	db->errors++;
	METRIC_INC(db_errors);
	if (db->mysql == NULL) {
		db->last_errno = CR_SERVER_GONE_ERROR;
		snprintf(err, errlen, "not connected");
		return;
	}
	e = mysql_errno(db->mysql);
	db->last_errno = e;
	snprintf(err, errlen, "%u: %s", e, mysql_error(db->mysql));
	if (db_errno_is_fatal(e))
		db_close(db);
}

/*
 * Send one statement. Outside a transaction a dead connection is replaced
 * and the statement sent again, once.
 */
static int
db_run(struct db *db, const char *sql, char *err, size_t errlen)
{
	MYSQL		*m;
	unsigned int	 e;
	int		 attempt;
	bool		 begins = strncmp(sql, "START TRANSACTION", 17) == 0;
	bool		 ends = strcmp(sql, "COMMIT") == 0 ||
			    strcmp(sql, "ROLLBACK") == 0;

	for (attempt = 0; attempt < 2; attempt++) {
		if ((m = db_get(db, err, errlen)) == NULL)
			return (-1);
		if (mysql_query(m, sql) == 0) {
			if (begins)
				db->in_txn = true;
			if (ends)
				db->in_txn = false;
			return (0);
		}
		e = mysql_errno(m);
		db_error(db, err, errlen);
		if (db->mysql == NULL || ends)
			db->in_txn = false;
		/* Only a dead connection outside a transaction is retried. */
		if (!db_errno_is_fatal(e) || ends || db->mysql != NULL ||
		    (db->in_txn && !begins))
			return (-1);
	}
	return (-1);
}

int
db_ping(struct db *db, char *err, size_t errlen)
{
	MYSQL_RES	*res;

	if (db_run(db, "SELECT 1", err, errlen) == -1)
		return (-1);
	if ((res = mysql_store_result(db->mysql)) != NULL)
		mysql_free_result(res);
	return (0);
}

int
db_exec(struct db *db, const char *sql, char *err, size_t errlen)
{
	return (db_run(db, sql, err, errlen));
}

int64_t
db_affected(struct db *db, const char *sql, char *err, size_t errlen)
{
	if (db_run(db, sql, err, errlen) == -1)
		return (-1);
	return ((int64_t)mysql_affected_rows(db->mysql));
}

MYSQL_RES *
db_select(struct db *db, const char *sql, char *err, size_t errlen)
{
	MYSQL_RES	*res;

	if (db_run(db, sql, err, errlen) == -1)
		return (NULL);
	if ((res = mysql_store_result(db->mysql)) == NULL)
		db_error(db, err, errlen);
	return (res);
}

int
db_batch(struct db *db, const char *sql, int n, int64_t *affected,
    uint64_t *insert_id, char *err, size_t errlen)
{
	MYSQL		*m;
	MYSQL_RES	*res;
	int		 i = 0, status;

	if (db_run(db, sql, err, errlen) == -1)
		return (db->mysql == NULL ? -1 : 0);
	m = db->mysql;
	for (;;) {
		/* Every result must be consumed or the connection is stuck. */
		if ((res = mysql_store_result(m)) != NULL)
			mysql_free_result(res);
		if (i < n) {
			affected[i] = (int64_t)mysql_affected_rows(m);
			insert_id[i] = (uint64_t)mysql_insert_id(m);
		}
		i++;
		if ((status = mysql_next_result(m)) == -1)
			break;
		if (status > 0) {
			db_error(db, err, errlen);
			if (db->mysql == NULL)
				db->in_txn = false;
			return (db->mysql == NULL && i == 0 ? -1 : i);
		}
	}
	/* A batch that ends in COMMIT ends the transaction db_run saw begin. */
	if (strlen(sql) >= 6 && strcmp(sql + strlen(sql) - 6, "COMMIT") == 0)
		db->in_txn = false;
	return (i);
}

char *
db_quote(struct db *db, const char *s, char *err, size_t errlen)
{
	MYSQL	*m;
	size_t	 len = strlen(s);
	char	*out;

	if ((m = db_get(db, err, errlen)) == NULL)
		return (NULL);
	out = xmalloc(len * 2 + 3);
	out[0] = '\'';
	len = mysql_real_escape_string(m, out + 1, s, (unsigned long)len);
	out[len + 1] = '\'';
	out[len + 2] = '\0';
	return (out);
}

void
db_rollback(struct db *db)
{
	char	err[256];

	if (db->mysql != NULL)
		(void)db_run(db, "ROLLBACK", err, sizeof err);
	db->in_txn = false;
}

bool
db_errno_is_retryable(unsigned int e)
{
	return (e == ER_LOCK_DEADLOCK || e == ER_LOCK_WAIT_TIMEOUT);
}
