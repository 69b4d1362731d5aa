/*
 * conf.h: the daemon's configuration.
 *
 * One table (conf.c) lists every key with its type, bounds, default and
 * whether a change needs a restart. Defaults are strings that go through the
 * same setter as the file and the environment, so they cannot drift from the
 * parser. Precedence: defaults, then the file, then BOXOFFICE_<KEY> variables,
 * then the secret files (mysql_password_file & co.), which every load reads
 * again so that a SIGHUP picks up a rotated credential.
 *
 * A struct bo_conf owns its strings; conf_free() releases them.
 */
#ifndef BO_CONF_H
#define BO_CONF_H

#include <stdbool.h>
#include <stddef.h>

enum reservation_strategy {
	STRATEGY_GATE = 0,	/* Redis admission gate in front of the DB */
	STRATEGY_EVENT_LOCK	/* the seed's per-event lock, done right */
};

enum auth_mode {
	AUTH_NONE = 0,		/* the body's userId is believed (local demos) */
	AUTH_JWT		/* the user is a verified bearer token's sub */
};

enum jwt_algorithm { JWT_HS256 = 0, JWT_RS256, JWT_ES256 };

struct bo_conf {
	char	*path;			/* file loaded, or NULL */

	/* Process model. */
	char	*listen;		/* unix:/path, /path or host:port */
	int	 listen_backlog;
	int	 socket_mode;		/* unix socket permissions */
	int	 workers;
	int	 max_requests;		/* recycle a worker after this; 0 never */
	int	 max_requests_jitter;	/* plus up to this, drawn per worker */
	char	*pid_file;
	char	*log_file;		/* "" for stderr */
	int	 log_level;		/* enum log_level */
	int	 slow_request_ms;
	int	 max_body_bytes;
	int	 graceful_timeout_s;	/* SIGQUIT: wait this long, then TERM */
	int	 terminate_timeout_ms;	/* SIGTERM: wait this long, then KILL */
	int	 crash_loop_threshold;	/* abnormal exits ... */
	int	 crash_loop_window_s;	/* ... within this window pause respawn */

	/* MariaDB / Aurora. */
	char	*mysql_host;
	int	 mysql_port;
	char	*mysql_socket;		/* "" to use TCP */
	char	*mysql_user;
	char	*mysql_password;
	char	*mysql_password_file;	/* "" or a file holding the password */
	char	*mysql_database;
	int	 mysql_connect_timeout_s;
	int	 mysql_read_timeout_s;
	int	 mysql_write_timeout_s;
	int	 txn_lookup_wait_ms;	/* keep asking a lost COMMIT's outcome */

	/* Redis. */
	char	*redis_host;
	int	 redis_port;
	char	*redis_password;
	char	*redis_password_file;
	int	 redis_db;
	int	 redis_connect_timeout_ms;
	int	 redis_timeout_ms;
	int	 redis_retry_interval_ms;	/* after a failure, skip Redis */

	/* Application. */
	char	*admin_token;		/* "" refuses every admin call */
	char	*admin_token_file;
	int	 reservation_strategy;	/* enum reservation_strategy */
	int	 inventory_shards;	/* shards for new events */
	bool	 reserve_in_one_call;	/* CALL reserve_one_shard first */
	bool	 reserve_group_commit;	/* share commits (group_commit.h) */
	int	 reserve_group_leaders;	/* batches in flight at once */
	bool	 event_memo;		/* judge on the event last read */
	int	 cache_ttl_s;
	int	 idempotency_ttl_s;
	int	 hold_ttl_s;		/* how long a HELD reservation keeps its seats */
	char	*default_currency;	/* of seat classes created without one */
	int	 reconcile_interval_s;	/* gate counter reconciliation */
	int	 auth_mode;		/* enum auth_mode */
	int	 jwt_algorithm;		/* enum jwt_algorithm */
	char	*jwt_key_file;		/* HS256 secret, or the IdP's public key */
	char	*jwt_issuer;		/* "" accepts any iss */
	char	*jwt_audience;		/* "" accepts any aud */
	int	 jwt_leeway_s;		/* on exp and nbf */
	int	 rate_limit_per_minute;	/* reservations per user; 0 off */
	int	 rate_limit_burst;	/* the bucket's size */
	char	*admission_secret;	/* HMAC key of waiting-room tokens */
	char	*admission_secret_file;
	int	 admission_ttl_s;	/* an admission token's lifetime */
	int	 admission_max_uses;	/* reservations per admission */
	bool	 debug_endpoints;	/* test-only routes under /api/_debug */
};

#define CONF_RESTART	0x1	/* a reload cannot change it */
#define CONF_SECRET	0x2	/* never printed */

enum conf_type { CONF_STRING, CONF_INT, CONF_BOOL, CONF_ENUM, CONF_OCTAL };

struct conf_key {
	const char		*name;
	enum conf_type		 type;
	size_t			 offset;	/* into struct bo_conf */
	const char		*def;		/* default, as the file spells it */
	long			 min, max;	/* CONF_INT / CONF_OCTAL bounds */
	const char *const	*values;	/* CONF_ENUM names, NULL-ended */
	int			 flags;		/* CONF_RESTART | CONF_SECRET */
};

/* The key table; *n receives its length. Static storage. */
const struct conf_key	*conf_keys(size_t *n);

/* Fill c with the defaults. c must be zeroed or freed before. */
void	 conf_defaults(struct bo_conf *c);
/*
 * Set one key from its text form. Returns 0, or -1 with "message" in err.
 */
int	 conf_set(struct bo_conf *, const char *key, const char *value,
	    char *err, size_t errlen) __attribute__((warn_unused_result));
/* Parse a file over c. Errors read "path:line: message". */
int	 conf_load_file(struct bo_conf *, const char *path, char *err,
	    size_t errlen) __attribute__((warn_unused_result));
/* Apply BOXOFFICE_<KEY> variables from the environment. */
int	 conf_apply_env(struct bo_conf *, char *err, size_t errlen)
	    __attribute__((warn_unused_result));
/* Checks that involve more than one key, or the listen address. */
int	 conf_validate(const struct bo_conf *, char *err, size_t errlen)
	    __attribute__((warn_unused_result));
/*
 * Read every *_file key that is set into its secret (mysql_password_file into
 * mysql_password, ... admission_secret_file into admission_secret): the first
 * line, without its newline.
 */
int	 conf_read_secret_files(struct bo_conf *, char *err, size_t errlen)
	    __attribute__((warn_unused_result));
/*
 * Defaults, file (if path is not NULL), environment, secret files and
 * validation in one step. On failure c holds nothing to free.
 */
int	 conf_load(struct bo_conf *c, const char *path, char *err,
	    size_t errlen) __attribute__((warn_unused_result));
/*
 * For a reload: copy restart-only values from old into new, logging each
 * one that the new file tried to change.
 */
void	 conf_keep_restart_keys(struct bo_conf *newc,
	    const struct bo_conf *old);
void	 conf_free(struct bo_conf *);

#endif
