/* redis_script.c: EVALSHA with a NOSCRIPT fallback. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_conn.h"
#include "redis_script.h"
#include "xmalloc.h"

static int
script_load(struct redis_conn *rc, struct redis_script *s, char *err,
    size_t errlen)
{
	redisReply	*r;

	r = redis_conn_commandf(rc, err, errlen, "SCRIPT LOAD %s", s->src);
	if (r == NULL)
		return (-1);
	if (r->type != REDIS_REPLY_STRING || r->len != 40) {
		snprintf(err, errlen, "SCRIPT LOAD %s: %s", s->name,
		    r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		freeReplyObject(r);
		return (-1);
	}
	memcpy(s->sha, r->str, 40);
	s->sha[40] = '\0';
	freeReplyObject(r);
	return (0);
}

redisReply *
redis_script_run(struct redis_conn *rc, struct redis_script *s, int nkeys,
    const char **keys, int nargs, const char **args, char *err, size_t errlen)
{
	const char	**argv;
	char		  nk[16];
	redisReply	 *r = NULL;
	int		  argc = 3 + nkeys + nargs, i, attempt;

	argv = xcalloc((size_t)argc, sizeof *argv);
	snprintf(nk, sizeof nk, "%d", nkeys);
	argv[0] = "EVALSHA";
	argv[2] = nk;
	for (i = 0; i < nkeys; i++)
		argv[3 + i] = keys[i];
	for (i = 0; i < nargs; i++)
		argv[3 + nkeys + i] = args[i];
	for (attempt = 0; attempt < 2; attempt++) {
		if (s->sha[0] == '\0' && script_load(rc, s, err, errlen) == -1)
			break;
		argv[1] = s->sha;
		r = redis_conn_command(rc, err, errlen, argc, argv, NULL);
		if (r == NULL)
			break;
		if (r->type != REDIS_REPLY_ERROR)
			break;
		if (strncmp(r->str, "NOSCRIPT", 8) == 0 && attempt == 0) {
			s->sha[0] = '\0';
			freeReplyObject(r);
			r = NULL;
			continue;
		}
		snprintf(err, errlen, "%s: %s", s->name, r->str);
		freeReplyObject(r);
		r = NULL;
		break;
	}
	free(argv);
	return (r);
}
