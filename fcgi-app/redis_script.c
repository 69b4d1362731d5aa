/* redis_script.c: EVALSHA with a NOSCRIPT fallback. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "redis_conn.h"
#include "redis_script.h"
#include "xmalloc.h"

static int
script_load(struct redis_conn *rc, struct redis_script *s)
{
	redisReply	*r;

	if ((r = redis_conn_commandf(rc, "SCRIPT LOAD %s", s->src)) == NULL)
		return (-1);
	if (r->type != REDIS_REPLY_STRING || r->len != 40) {
		freeReplyObject(r);
		return (-1);
	}
	memcpy(s->sha, r->str, 40);
	s->sha[40] = '\0';
	freeReplyObject(r);
	return (0);
}

/* argv[0..2+nkeys+nargs): EVALSHA sha nkeys keys... args... */
static void
fill_argv(struct redis_script *s, int nkeys, const char **keys, int nargs,
    const char **args, const char **argv, char nk[16])
{
	int	i;

	snprintf(nk, 16, "%d", nkeys);
	argv[0] = "EVALSHA";
	argv[1] = s->sha;
	argv[2] = nk;
	for (i = 0; i < nkeys; i++)
		argv[3 + i] = keys[i];
	for (i = 0; i < nargs; i++)
		argv[3 + nkeys + i] = args[i];
}

redisReply *
redis_script_run(struct redis_conn *rc, struct redis_script *s, int nkeys,
    const char **keys, int nargs, const char **args)
{
	const char	**argv;
	char		  nk[16];
	redisReply	 *r = NULL;
	int		  argc = 3 + nkeys + nargs, attempt;
	bool		  retry;

	argv = xcalloc((size_t)argc, sizeof *argv);
	for (attempt = 0; attempt < 2; attempt++) {
		if (s->sha[0] == '\0' && script_load(rc, s) == -1)
			break;
		fill_argv(s, nkeys, keys, nargs, args, argv, nk);
		if ((r = redis_conn_command_raw(rc, argc, argv, NULL)) == NULL ||
		    r->type != REDIS_REPLY_ERROR)
			break;
		/* A restarted or failed-over Redis forgot the script. */
		retry = strncmp(r->str, "NOSCRIPT", 8) == 0;
		freeReplyObject(r);
		r = NULL;
		if (!retry)
			break;
		s->sha[0] = '\0';
	}
	free(argv);
	return (r);
}

int
redis_scripts_run(struct redis_conn *rc, struct script_call *c, int n)
{
	enum { PER = 3 + 2 * SCRIPT_CALL_MAX_ARGV };
	const char	***argv, **buf;
	char		 (*nk)[16];
	redisReply	 **replies;
	int		  *argc, i, rv = -1;

	if (n < 1)
		fatal("redis_scripts_run: %d calls", n);
	for (i = 0; i < n; i++)
		c[i].reply = NULL;
	argv = xcalloc((size_t)n, sizeof *argv);
	buf = xcalloc((size_t)n * PER, sizeof *buf);
	nk = xcalloc((size_t)n, sizeof *nk);
	replies = xcalloc((size_t)n, sizeof *replies);
	argc = xcalloc((size_t)n, sizeof *argc);
	for (i = 0; i < n; i++) {
		if (c[i].nkeys > SCRIPT_CALL_MAX_ARGV ||
		    c[i].nargs > SCRIPT_CALL_MAX_ARGV)
			fatal("redis_scripts_run: %s: too many keys or args",
			    c[i].script->name);
		if (c[i].script->sha[0] == '\0' &&
		    script_load(rc, c[i].script) == -1)
			goto out;
		argv[i] = buf + (size_t)i * PER;
		fill_argv(c[i].script, c[i].nkeys, c[i].keys, c[i].nargs,
		    c[i].args, argv[i], nk[i]);
		argc[i] = 3 + c[i].nkeys + c[i].nargs;
	}
	if (redis_conn_pipeline(rc, n, argc, argv, replies) == -1)
		goto out;
	for (i = 0; i < n; i++)
		c[i].reply = replies[i] != NULL ? replies[i] :
		    redis_script_run(rc, c[i].script, c[i].nkeys, c[i].keys,
		    c[i].nargs, c[i].args);
	rv = 0;
out:
	free(argv);
	free(buf);
	free(nk);
	free(replies);
	free(argc);
	return (rv);
}
