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
	/* UTC everywhere; strict mode even if the server default drifts. */
	mysql_options(m, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00', "
	    "sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES')");
	if (mysql_real_connect(m,
	    *c->mysql_socket != '\0' ? NULL : c->mysql_host,
	    c->mysql_user, c->mysql_password, c->mysql_database,
	    *c->mysql_socket != '\0' ? 0 : (unsigned int)c->mysql_port,
	    *c->mysql_socket != '\0' ? c->mysql_socket : NULL,
	    CLIENT_FOUND_ROWS) == NULL) {
		snprintf(err, errlen, "connect: %u: %s", mysql_errno(m),
		    mysql_error(m));
		db->errors++;
		mysql_close(m);
		return (NULL);
	}
	db->mysql = m;
	db->connects++;
	if (db->connects > 1)
		log_info("reconnected to the database");
	return (m);
}

void
db_error(struct db *db, char *err, size_t errlen)
{
	unsigned int	e;

	db->errors++;
	if (db->mysql == NULL) {
		snprintf(err, errlen, "not connected");
		return;
	}
	e = mysql_errno(db->mysql);
	snprintf(err, errlen, "%u: %s", e, mysql_error(db->mysql));
	if (db_errno_is_fatal(e))
		db_close(db);
}

int
db_ping(struct db *db, char *err, size_t errlen)
{
	MYSQL	*m;

	if ((m = db_get(db, err, errlen)) == NULL)
		return (-1);
	if (mysql_ping(m) != 0) {
		db_error(db, err, errlen);
		/* A failed ping means the handle is unusable either way. */
		db_close(db);
		return (-1);
	}
	return (0);
}

int
db_exec(struct db *db, const char *sql, char *err, size_t errlen)
{
	MYSQL	*m;

	if ((m = db_get(db, err, errlen)) == NULL)
		return (-1);
	if (mysql_query(m, sql) != 0) {
		db_error(db, err, errlen);
		return (-1);
	}
	return (0);
}
