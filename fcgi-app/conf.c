/* conf.c: the configuration key table, the INI parser and env overrides. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "xmalloc.h"

static const char *const level_values[] = {
	"error", "warn", "info", "debug", NULL
};
static const char *const strategy_values[] = { "gate", "event-lock", NULL };
static const char *const auth_values[] = { "none", "jwt", NULL };
static const char *const jwt_alg_values[] = { "HS256", "RS256", "ES256", NULL };

#define OFF(f)	offsetof(struct bo_conf, f)
#define STR(n, d, fl)		{ #n, CONF_STRING, OFF(n), d, 0, 0, NULL, fl }
#define INT(n, d, lo, hi, fl)	{ #n, CONF_INT, OFF(n), d, lo, hi, NULL, fl }
#define BOOL(n, d, fl)		{ #n, CONF_BOOL, OFF(n), d, 0, 1, NULL, fl }
#define ENUM(n, d, v, fl)	{ #n, CONF_ENUM, OFF(n), d, 0, 0, v, fl }

/*
 * Every key the daemon knows. conf/boxoffice.conf.example documents each
 * one; tests/unit/check_conf.c checks that the two agree.
 */
static const struct conf_key keys[] = {
	STR(listen, "unix:/run/boxoffice/boxoffice.sock", CONF_RESTART),
	INT(listen_backlog, "1024", 1, 65535, CONF_RESTART),
	{ "socket_mode", CONF_OCTAL, OFF(socket_mode), "0660", 0, 0777, NULL,
	    CONF_RESTART },
	INT(workers, "64", 1, 1024, 0),
	INT(max_requests, "10000", 0, INT_MAX, 0),
	INT(max_requests_jitter, "1000", 0, INT_MAX, 0),
	STR(pid_file, "", CONF_RESTART),
	STR(log_file, "", 0),
	ENUM(log_level, "info", level_values, 0),
	INT(slow_request_ms, "500", 0, 3600000, 0),
	INT(max_body_bytes, "65536", 1, 16777216, 0),
	INT(graceful_timeout_s, "30", 1, 3600, 0),
	INT(terminate_timeout_ms, "3000", 10, 600000, 0),
	INT(crash_loop_threshold, "10", 1, 100000, 0),
	INT(crash_loop_window_s, "10", 1, 3600, 0),

	STR(mysql_host, "127.0.0.1", 0),
	INT(mysql_port, "3306", 1, 65535, 0),
	STR(mysql_socket, "", 0),
	STR(mysql_user, "boxoffice", 0),
	STR(mysql_password, "", CONF_SECRET),
	STR(mysql_password_file, "", 0),
	STR(mysql_database, "boxoffice", 0),
	INT(mysql_connect_timeout_s, "2", 1, 60, 0),
	INT(mysql_read_timeout_s, "5", 1, 600, 0),
	INT(mysql_write_timeout_s, "5", 1, 600, 0),
	INT(txn_lookup_wait_ms, "5000", 0, 120000, 0),

	STR(redis_host, "127.0.0.1", 0),
	INT(redis_port, "6379", 1, 65535, 0),
	STR(redis_password, "", CONF_SECRET),
	STR(redis_password_file, "", 0),
	INT(redis_db, "0", 0, 15, 0),
	INT(redis_connect_timeout_ms, "200", 1, 60000, 0),
	INT(redis_timeout_ms, "200", 1, 60000, 0),
	INT(redis_retry_interval_ms, "1000", 0, 600000, 0),

	STR(admin_token, "", CONF_SECRET),
	STR(admin_token_file, "", 0),
	ENUM(reservation_strategy, "gate", strategy_values, 0),
	INT(inventory_shards, "16", 1, 64, 0),
	BOOL(reserve_in_one_call, "on", 0),
	BOOL(reserve_group_commit, "on", 0),
	INT(reserve_group_leaders, "1", 1, 16, 0),	/* GC_LEADERS_MAX */
	BOOL(event_memo, "on", 0),
	INT(cache_ttl_s, "300", 1, 86400, 0),
	INT(idempotency_ttl_s, "86400", 60, 30 * 86400, 0),
	INT(hold_ttl_s, "900", 1, 86400, 0),
	STR(default_currency, "KRW", 0),
	INT(reconcile_interval_s, "5", 1, 86400, 0),
	ENUM(auth_mode, "none", auth_values, 0),
	ENUM(jwt_algorithm, "RS256", jwt_alg_values, 0),
	STR(jwt_key_file, "", 0),
	STR(jwt_issuer, "", 0),
	STR(jwt_audience, "", 0),
	INT(jwt_leeway_s, "30", 0, 600, 0),
	INT(rate_limit_per_minute, "100", 0, 1000000, 0),
	INT(rate_limit_burst, "20", 1, 100000, 0),
	STR(admission_secret, "", CONF_SECRET),
	STR(admission_secret_file, "", 0),
	INT(admission_ttl_s, "600", 10, 86400, 0),
	INT(admission_max_uses, "3", 1, 100, 0),
	BOOL(debug_endpoints, "off", 0),
};

const struct conf_key *
conf_keys(size_t *n)
{
	*n = sizeof keys / sizeof keys[0];
	return (keys);
}

static const struct conf_key *
conf_find(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strcmp(keys[i].name, name) == 0)
			return (&keys[i]);
	return (NULL);
}

static int
parse_long(const char *s, int base, long *out)
{
	char	*end;
	long	 v;

	if (*s == '\0' || isspace((unsigned char)*s))
		return (-1);
	errno = 0;
	v = strtol(s, &end, base);
	if (errno != 0 || *end != '\0')
		return (-1);
	*out = v;
	return (0);
}

static int
parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "on", "yes", "true", "1" };
	static const char *const no[] = { "off", "no", "false", "0" };
	size_t	i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return (0);
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return (0);
		}
	}
	return (-1);
}

int
conf_set(struct bo_conf *c, const char *name, const char *value, char *err,
    size_t errlen)
{
	const struct conf_key	*k;
	char			*base = (char *)c;
	long			 v;
	bool			 b;
	size_t			 i;

	if ((k = conf_find(name)) == NULL) {
		snprintf(err, errlen, "unknown key '%s'", name);
		return (-1);
	}
	switch (k->type) {
	case CONF_STRING: {
		char	**p = (char **)(base + k->offset);

		free(*p);
		*p = xstrdup(value);
		return (0);
	}
	case CONF_INT:
	case CONF_OCTAL:
		if (parse_long(value, k->type == CONF_OCTAL ? 8 : 10, &v) == -1) {
			snprintf(err, errlen, "%s: '%s' is not %s", name, value,
			    k->type == CONF_OCTAL ? "an octal mode" : "an integer");
			return (-1);
		}
		if (v < k->min || v > k->max) {
			if (k->type == CONF_OCTAL)
				snprintf(err, errlen, "%s: %s is out of range "
				    "(0 to 0%lo)", name, value, k->max);
			else
				snprintf(err, errlen, "%s: %s is out of range "
				    "(%ld to %ld)", name, value, k->min, k->max);
			return (-1);
		}
		*(int *)(base + k->offset) = (int)v;
		return (0);
	case CONF_BOOL:
		if (parse_bool(value, &b) == -1) {
			snprintf(err, errlen, "%s: '%s' is not on or off", name,
			    value);
			return (-1);
		}
		*(bool *)(base + k->offset) = b;
		return (0);
	case CONF_ENUM:
		for (i = 0; k->values[i] != NULL; i++) {
			if (strcmp(value, k->values[i]) == 0) {
				*(int *)(base + k->offset) = (int)i;
				return (0);
			}
		}
		{
			char	list[256] = "";

			for (i = 0; k->values[i] != NULL; i++) {
				if (i > 0)
					strncat(list, ", ", sizeof list -
					    strlen(list) - 1);
				strncat(list, k->values[i], sizeof list -
				    strlen(list) - 1);
			}
			snprintf(err, errlen, "%s: '%s' is not one of: %s",
			    name, value, list);
		}
		return (-1);
	}
	snprintf(err, errlen, "%s: unsupported type", name);
	return (-1);
}

void
conf_defaults(struct bo_conf *c)
{
	char	err[256];
	size_t	i;

	memset(c, 0, sizeof *c);
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (conf_set(c, keys[i].name, keys[i].def, err, sizeof err) == -1)
			fatal("bad built-in default: %s", err);
}

static char *
trim(char *s)
{
	char	*end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return (s);
}

int
conf_load_file(struct bo_conf *c, const char *path, char *err, size_t errlen)
{
	FILE	*f;
	char	 line[4096], msg[512];
	char	*s, *eq, *key, *value;
	int	 lineno = 0;
	size_t	 len;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s:0: cannot open: %s", path,
		    strerror(errno));
		return (-1);
	}
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		len = strlen(line);
		if (len == sizeof line - 1 && line[len - 1] != '\n') {
			snprintf(err, errlen, "%s:%d: line too long", path,
			    lineno);
			goto fail;
		}
		s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			if (strcmp(s, "[boxoffice]") != 0) {
				snprintf(err, errlen, "%s:%d: unknown section "
				    "%s (only [boxoffice])", path, lineno, s);
				goto fail;
			}
			continue;
		}
		if ((eq = strchr(s, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected 'key = value'",
			    path, lineno);
			goto fail;
		}
		*eq = '\0';
		key = trim(s);
		value = trim(eq + 1);
		len = strlen(value);
		/* Quotes allow leading or trailing spaces in a value. */
		if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
			value[len - 1] = '\0';
			value++;
		}
		if (*key == '\0') {
			snprintf(err, errlen, "%s:%d: missing key before '='",
			    path, lineno);
			goto fail;
		}
		if (conf_set(c, key, value, msg, sizeof msg) == -1) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
			goto fail;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s:%d: read error", path, lineno);
		goto fail;
	}
	fclose(f);
	free(c->path);
	c->path = xstrdup(path);
	return (0);
fail:
	fclose(f);
	return (-1);
}

int
conf_apply_env(struct bo_conf *c, char *err, size_t errlen)
{
	char		 var[128], msg[512];
	const char	*value;
	size_t		 i, j;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		snprintf(var, sizeof var, "BOXOFFICE_%s", keys[i].name);
		for (j = sizeof "BOXOFFICE_" - 1; var[j] != '\0'; j++)
			var[j] = (char)toupper((unsigned char)var[j]);
		if ((value = getenv(var)) == NULL)
			continue;
		if (conf_set(c, keys[i].name, value, msg, sizeof msg) == -1) {
			snprintf(err, errlen, "environment %s: %s", var, msg);
			return (-1);
		}
	}
	return (0);
}

/*
 * Secrets that may live in a file of their own. A file is read at every load,
 * so rewriting it and sending SIGHUP rolls the workers onto a rotated
 * credential; the environment is fixed at start and cannot do that.
 */
#define SECRET_FILE(n)	{ #n "_file", #n, OFF(n##_file), OFF(n) }
static const struct {
	const char	*key;		/* the *_file key */
	const char	*name;		/* the secret's own key */
	size_t		 file;		/* offsets into struct bo_conf */
	size_t		 secret;
} secret_files[] = {
	SECRET_FILE(mysql_password),
	SECRET_FILE(redis_password),
	SECRET_FILE(admin_token),
	SECRET_FILE(admission_secret),
};

#define SECRET_MAX	1024

static int
read_secret(const char *key, const char *path, char **out, char *err,
    size_t errlen)
{
	FILE	*f;
	char	 buf[SECRET_MAX + 2];
	size_t	 len;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot open %s: %s", key, path,
		    strerror(errno));
		return (-1);
	}
	if (fgets(buf, sizeof buf, f) == NULL) {
		/*
		 * Refuse an empty file rather than log in without a password:
		 * a file truncated by a failed write must not roll the workers.
		 */
		snprintf(err, errlen, "%s: %s is %s", key, path,
		    ferror(f) ? "unreadable" : "empty");
		fclose(f);
		return (-1);
	}
	fclose(f);
	len = strcspn(buf, "\r\n");
	if (len == 0 || len > SECRET_MAX) {
		snprintf(err, errlen, "%s: %s: the first line must hold 1 to "
		    "%d bytes", key, path, SECRET_MAX);
		explicit_bzero(buf, sizeof buf);
		return (-1);
	}
	buf[len] = '\0';
	free(*out);
	*out = xstrdup(buf);
	explicit_bzero(buf, sizeof buf);
	return (0);
}

int
conf_read_secret_files(struct bo_conf *c, char *err, size_t errlen)
{
	char	*base = (char *)c;
	size_t	 i;

	for (i = 0; i < sizeof secret_files / sizeof secret_files[0]; i++) {
		const char	 *path = *(char **)(base + secret_files[i].file);
		char		**secret = (char **)(base + secret_files[i].secret);

		if (*path == '\0')
			continue;
		/* Two sources for one secret: say which one is meant. */
		if (**secret != '\0') {
			snprintf(err, errlen, "%s and %s are both set; keep "
			    "one", secret_files[i].key, secret_files[i].name);
			return (-1);
		}
		if (read_secret(secret_files[i].key, path, secret, err,
		    errlen) == -1)
			return (-1);
	}
	return (0);
}

static int
validate_listen(const char *listen, char *err, size_t errlen)
{
	const char	*colon;
	long		 port;

	if (strncmp(listen, "unix:", 5) == 0)
		listen += 5;
	if (*listen == '/') {
		if (strlen(listen) >= 108) {
			snprintf(err, errlen, "listen: socket path is longer "
			    "than 107 bytes");
			return (-1);
		}
		return (0);
	}
	if ((colon = strrchr(listen, ':')) == NULL || colon == listen ||
	    parse_long(colon + 1, 10, &port) == -1 || port < 1 ||
	    port > 65535) {
		snprintf(err, errlen, "listen: '%s' is neither unix:/path nor "
		    "host:port", listen);
		return (-1);
	}
	return (0);
}

int
conf_validate(const struct bo_conf *c, char *err, size_t errlen)
{
	if (validate_listen(c->listen, err, errlen) == -1)
		return (-1);
	if (*c->mysql_database == '\0') {
		snprintf(err, errlen, "mysql_database must not be empty");
		return (-1);
	}
	if (*c->mysql_socket == '\0' && *c->mysql_host == '\0') {
		snprintf(err, errlen, "set mysql_host or mysql_socket");
		return (-1);
	}
	if (strlen(c->default_currency) != 3 || strspn(c->default_currency,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3) {
		snprintf(err, errlen, "default_currency must be an ISO 4217 "
		    "code such as KRW");
		return (-1);
	}
	if (c->auth_mode == AUTH_JWT && *c->jwt_key_file == '\0') {
		snprintf(err, errlen, "auth_mode = jwt needs jwt_key_file");
		return (-1);
	}
	/* An empty secret leaves waiting rooms closed; a short one is weak. */
	if (*c->admission_secret != '\0' && strlen(c->admission_secret) < 32) {
		snprintf(err, errlen, "admission_secret must be at least 32 "
		    "characters (or empty: waiting rooms stay closed)");
		return (-1);
	}
	return (0);
}

int
conf_load(struct bo_conf *c, const char *path, char *err, size_t errlen)
{
	conf_defaults(c);
	if ((path != NULL && conf_load_file(c, path, err, errlen) == -1) ||
	    conf_apply_env(c, err, errlen) == -1 ||
	    conf_read_secret_files(c, err, errlen) == -1 ||
	    conf_validate(c, err, errlen) == -1) {
		conf_free(c);
		return (-1);
	}
	return (0);
}

void
conf_keep_restart_keys(struct bo_conf *newc, const struct bo_conf *old)
{
	const char	*ob = (const char *)old;
	char		*nb = (char *)newc;
	size_t		 i;
	bool		 changed;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const struct conf_key	*k = &keys[i];

		if (!(k->flags & CONF_RESTART))
			continue;
		if (k->type == CONF_STRING) {
			char		**np = (char **)(nb + k->offset);
			char *const	 *op = (char *const *)(ob + k->offset);

			changed = strcmp(*np, *op) != 0;
			if (changed) {
				free(*np);
				*np = xstrdup(*op);
			}
		} else {
			int		*np = (int *)(nb + k->offset);
			const int	*op = (const int *)(ob + k->offset);

			changed = *np != *op;
			*np = *op;
		}
		if (changed)
			log_warn("config key %s changed, but it needs a restart;"
			    " keeping the running value", k->name);
	}
}

void
conf_free(struct bo_conf *c)
{
	size_t	i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (keys[i].type == CONF_STRING)
			free(*(char **)((char *)c + keys[i].offset));
	free(c->path);
	memset(c, 0, sizeof *c);
}
