/* redis_conn.c: the per-worker Redis connection. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis.h>

#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "redis_conn.h"
#include "timeutil.h"
#include "xmalloc.h"

struct redis_conn {
	const struct bo_conf	*conf;
	redisContext		*ctx;		/* NULL when not connected */
	int64_t			 retry_at_ms;	/* monotonic; 0 = try now */
	uint64_t		 connects;
	char			 errstr[256];
};

struct redis_conn *
redis_conn_new(const struct bo_conf *conf)
{
	struct redis_conn	*rc = xcalloc(1, sizeof *rc);

	rc->conf = conf;
	return (rc);
}

void
redis_conn_free(struct redis_conn *rc)
{
	if (rc == NULL)
		return;
	if (rc->ctx != NULL)
		redisFree(rc->ctx);
	free(rc);
}

bool
redis_conn_connected(const struct redis_conn *rc)
{
	return (rc->ctx != NULL);
}

const char *
redis_conn_errstr(const struct redis_conn *rc)
{
	return (rc->errstr);
}

static void
set_err(struct redis_conn *rc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_err(struct redis_conn *rc, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(rc->errstr, sizeof rc->errstr, fmt, ap);
	va_end(ap);
}

/* Drop the connection and start the retry interval. */
static void
conn_down(struct redis_conn *rc)
{
	METRIC_INC(redis_errors);
	if (rc->ctx != NULL) {
		redisFree(rc->ctx);
		rc->ctx = NULL;
	}
	rc->retry_at_ms = time_mono_ms() + rc->conf->redis_retry_interval_ms;
}

static struct timeval
ms_to_tv(int ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return (tv);
}

/* Error replies that mean "this server cannot serve now". */
static bool
reply_means_down(const redisReply *r)
{
	static const char *const prefixes[] = { "LOADING", "BUSY",
	    "MASTERDOWN", "READONLY", "TRYAGAIN", "CLUSTERDOWN", "MISCONF",
	    "OOM", "NOREPLICAS", "NOAUTH", "MOVED", "ASK" };
	size_t	i, n;

	for (i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		n = strlen(prefixes[i]);
		if (r->len >= n && strncmp(r->str, prefixes[i], n) == 0 &&
		    (r->len == n || r->str[n] == ' '))
			return (true);
	}
	return (false);
}

/* AUTH and SELECT on a fresh connection. */
static int
conn_setup(struct redis_conn *rc)
{
	const struct bo_conf	*c = rc->conf;
	redisReply		*r = NULL;

	if (*c->redis_password != '\0')
		r = redisCommand(rc->ctx, "AUTH %s", c->redis_password);
	if (r != NULL && r->type == REDIS_REPLY_ERROR) {
		set_err(rc, "AUTH: %s", r->str);
		freeReplyObject(r);
		return (-1);
	}
	if (r == NULL && *c->redis_password != '\0') {
		set_err(rc, "AUTH: %s", rc->ctx->errstr);
		return (-1);
	}
	if (r != NULL)
		freeReplyObject(r);
	if (c->redis_db == 0)
		return (0);
	if ((r = redisCommand(rc->ctx, "SELECT %d", c->redis_db)) == NULL ||
	    r->type == REDIS_REPLY_ERROR) {
		set_err(rc, "SELECT: %s", r != NULL ? r->str : rc->ctx->errstr);
		if (r != NULL)
			freeReplyObject(r);
		return (-1);
	}
	freeReplyObject(r);
	return (0);
}

int
redis_conn_connect(struct redis_conn *rc, bool force)
{
	const struct bo_conf	*c = rc->conf;
	redisContext		*ctx;

	if (rc->ctx != NULL)
		return (0);
	if (!force && time_mono_ms() < rc->retry_at_ms) {
		set_err(rc, "redis marked down, retry pending");
		return (-1);
	}
	ctx = redisConnectWithTimeout(c->redis_host, c->redis_port,
	    ms_to_tv(c->redis_connect_timeout_ms));
	if (ctx == NULL || ctx->err) {
		set_err(rc, "connect %s:%d: %s", c->redis_host, c->redis_port,
		    ctx != NULL ? ctx->errstr : "out of memory");
		if (ctx != NULL)
			redisFree(ctx);
		conn_down(rc);
		return (-1);
	}
	rc->ctx = ctx;
	if (redisSetTimeout(ctx, ms_to_tv(c->redis_timeout_ms)) != REDIS_OK) {
		set_err(rc, "cannot set the socket timeout");
		conn_down(rc);
		return (-1);
	}
	if (conn_setup(rc) == -1) {
		conn_down(rc);
		return (-1);
	}
	redisEnableKeepAlive(ctx);
	if (++rc->connects > 1) {
		METRIC_INC(redis_reconnects);
		log_info("reconnected to redis");
	}
	rc->errstr[0] = '\0';
	return (0);
}

/* Judge a reply: NULL (transport), down-meaning errors, other errors. */
static redisReply *
judge(struct redis_conn *rc, redisReply *r, const char *what, bool raw)
{
	if (r == NULL) {
		set_err(rc, "%s: %s", what, rc->ctx->errstr);
		conn_down(rc);
		return (NULL);
	}
	if (r->type == REDIS_REPLY_ERROR) {
		set_err(rc, "%s: %s", what, r->str);
		if (reply_means_down(r)) {
			freeReplyObject(r);
			conn_down(rc);
			return (NULL);
		}
		if (raw)
			return (r);
		METRIC_INC(redis_errors);
		freeReplyObject(r);
		return (NULL);
	}
	rc->errstr[0] = '\0';
	return (r);
}

redisReply *
redis_conn_command(struct redis_conn *rc, int argc, const char **argv,
    const size_t *argvlen)
{
	if (redis_conn_connect(rc, false) == -1)
		return (NULL);
	return (judge(rc, redisCommandArgv(rc->ctx, argc, argv, argvlen),
	    argv[0], false));
}

redisReply *
redis_conn_command_raw(struct redis_conn *rc, int argc, const char **argv,
    const size_t *argvlen)
{
	if (redis_conn_connect(rc, false) == -1)
		return (NULL);
	return (judge(rc, redisCommandArgv(rc->ctx, argc, argv, argvlen),
	    argv[0], true));
}

redisReply *
redis_conn_commandf(struct redis_conn *rc, const char *fmt, ...)
{
	redisReply	*r;
	va_list		 ap;

	if (redis_conn_connect(rc, false) == -1)
		return (NULL);
	va_start(ap, fmt);
	r = redisvCommand(rc->ctx, fmt, ap);
	va_end(ap);
	return (judge(rc, r, "command", false));
}

int
redis_conn_pipeline(struct redis_conn *rc, int n, const int *argc,
    const char ***argv, redisReply **replies)
{
	void	*r;
	int	 i;

	memset(replies, 0, (size_t)n * sizeof *replies);
	if (redis_conn_connect(rc, false) == -1)
		return (-1);
	for (i = 0; i < n; i++)
		if (redisAppendCommandArgv(rc->ctx, argc[i], argv[i], NULL) !=
		    REDIS_OK)
			fatal("redisAppendCommandArgv: out of memory");
	for (i = 0; i < n; i++) {
		if (redisGetReply(rc->ctx, &r) != REDIS_OK) {
			set_err(rc, "pipeline: %s", rc->ctx->errstr);
			while (i-- > 0)
				if (replies[i] != NULL)
					freeReplyObject(replies[i]);
			memset(replies, 0, (size_t)n * sizeof *replies);
			conn_down(rc);
			return (-1);
		}
		replies[i] = r;
		if (replies[i] != NULL && replies[i]->type == REDIS_REPLY_ERROR) {
			set_err(rc, "%s: %s", argv[i][0], replies[i]->str);
			if (reply_means_down(replies[i])) {
				/* Read the rest, then give up on them all. */
				freeReplyObject(replies[i]);
				replies[i] = NULL;
				while (++i < n && redisGetReply(rc->ctx, &r) ==
				    REDIS_OK)
					freeReplyObject(r);
				for (i = 0; i < n; i++)
					if (replies[i] != NULL)
						freeReplyObject(replies[i]);
				memset(replies, 0, (size_t)n * sizeof *replies);
				conn_down(rc);
				return (-1);
			}
			freeReplyObject(replies[i]);
			replies[i] = NULL;
		}
	}
	return (0);
}

int
redis_conn_ping(struct redis_conn *rc)
{
	redisReply	*r;

	if (redis_conn_connect(rc, true) == -1)
		return (-1);
	if ((r = judge(rc, redisCommand(rc->ctx, "PING"), "PING",
	    false)) == NULL)
		return (-1);
	freeReplyObject(r);
	return (0);
}
