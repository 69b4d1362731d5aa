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

void
redis_conn_fail(struct redis_conn *rc)
{
	rc->errors++;
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

/* AUTH and SELECT on a fresh connection. */
static int
redis_conn_setup(struct redis_conn *rc, char *err, size_t errlen)
{
	const struct bo_conf	*c = rc->conf;
	redisReply		*r;

	if (*c->redis_password != '\0') {
		r = redisCommand(rc->ctx, "AUTH %s", c->redis_password);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			snprintf(err, errlen, "AUTH failed: %s", r != NULL ?
			    r->str : rc->ctx->errstr);
			if (r != NULL)
				freeReplyObject(r);
			return (-1);
		}
		freeReplyObject(r);
	}
	if (c->redis_db != 0) {
		r = redisCommand(rc->ctx, "SELECT %d", c->redis_db);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			snprintf(err, errlen, "SELECT failed: %s", r != NULL ?
			    r->str : rc->ctx->errstr);
			if (r != NULL)
				freeReplyObject(r);
			return (-1);
		}
		freeReplyObject(r);
	}
	return (0);
}

redisContext *
redis_conn_get(struct redis_conn *rc, bool force, char *err, size_t errlen)
{
	const struct bo_conf	*c = rc->conf;
	redisContext		*ctx;

	if (rc->ctx != NULL)
		return (rc->ctx);
	if (!force && time_mono_ms() < rc->retry_at_ms) {
		snprintf(err, errlen, "redis marked down, retry pending");
		return (NULL);
	}
	ctx = redisConnectWithTimeout(c->redis_host, c->redis_port,
	    ms_to_tv(c->redis_connect_timeout_ms));
	if (ctx == NULL || ctx->err) {
		snprintf(err, errlen, "connect %s:%d: %s", c->redis_host,
		    c->redis_port, ctx != NULL ? ctx->errstr : "out of memory");
		if (ctx != NULL)
			redisFree(ctx);
		redis_conn_fail(rc);
		return (NULL);
	}
	rc->ctx = ctx;
	if (redisSetTimeout(ctx, ms_to_tv(c->redis_timeout_ms)) != REDIS_OK ||
	    redis_conn_setup(rc, err, errlen) == -1) {
		if (*err == '\0')
			snprintf(err, errlen, "cannot set the socket timeout");
		redis_conn_fail(rc);
		return (NULL);
	}
	redisEnableKeepAlive(ctx);
	rc->connects++;
	if (rc->connects > 1) {
		METRIC_INC(redis_reconnects);
		log_info("reconnected to redis");
	}
	return (ctx);
}

redisReply *
redis_conn_command(struct redis_conn *rc, char *err, size_t errlen, int argc,
    const char **argv, const size_t *argvlen)
{
	redisContext	*ctx;
	redisReply	*r;

	*err = '\0';
	if ((ctx = redis_conn_get(rc, false, err, errlen)) == NULL)
		return (NULL);
	r = redisCommandArgv(ctx, argc, argv, argvlen);
	if (r == NULL) {
		snprintf(err, errlen, "%s: %s", argv[0], ctx->errstr);
		redis_conn_fail(rc);
		return (NULL);
	}
	return (r);
}

redisReply *
redis_conn_commandf(struct redis_conn *rc, char *err, size_t errlen,
    const char *fmt, ...)
{
	redisContext	*ctx;
	redisReply	*r;
	va_list		 ap;

	*err = '\0';
	if ((ctx = redis_conn_get(rc, false, err, errlen)) == NULL)
		return (NULL);
	va_start(ap, fmt);
	r = redisvCommand(ctx, fmt, ap);
	va_end(ap);
	if (r == NULL) {
		snprintf(err, errlen, "%s", ctx->errstr);
		redis_conn_fail(rc);
		return (NULL);
	}
	return (r);
}

int
redis_conn_ping(struct redis_conn *rc, char *err, size_t errlen)
{
	redisContext	*ctx;
	redisReply	*r;

	*err = '\0';
	if ((ctx = redis_conn_get(rc, true, err, errlen)) == NULL)
		return (-1);
	if ((r = redisCommand(ctx, "PING")) == NULL) {
		snprintf(err, errlen, "PING: %s", ctx->errstr);
		redis_conn_fail(rc);
		return (-1);
	}
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(err, errlen, "PING: %s", r->str);
		freeReplyObject(r);
		return (-1);
	}
	freeReplyObject(r);
	return (0);
}
