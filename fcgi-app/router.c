/* router.c: segment-wise path matching with captures. */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"
#include "router.h"
#include "xmalloc.h"

/*
 * Compare pattern with path segment by segment. Returns the number of
 * literal segments matched, or -1 when the path does not fit. When r is not
 * NULL the captures are stored in it.
 */
static int
match_pattern(const char *pattern, const char *path, struct request *r)
{
	const char	*p = pattern, *s = path;
	int		 literals = 0;

	for (;;) {
		size_t	plen, slen;

		if (*p != '/' || *s != '/')
			return (-1);
		p++;
		s++;
		plen = strcspn(p, "/");
		slen = strcspn(s, "/");
		if (plen > 2 && p[0] == '{' && p[plen - 1] == '}') {
			if (slen == 0)
				return (-1);
			if (r != NULL && r->ncaptures < REQ_MAX_CAPTURES) {
				char	*v = xstrndup(s, slen);

				/* request_init() checked that it decodes. */
				if (r->raw_path != NULL)
					(void)url_decode(v, false);
				r->capture_names[r->ncaptures] = NULL;
				r->capture_values[r->ncaptures++] = v;
			}
		} else {
			if (plen != slen || strncmp(p, s, plen) != 0)
				return (-1);
			literals++;
		}
		p += plen;
		s += slen;
		if (*p == '\0' && *s == '\0')
			return (literals);
		if (*p == '\0' || *s == '\0')
			return (-1);
	}
}

/* Point the capture names at the pattern's {name} text (static storage). */
static void
name_captures(const char *pattern, struct request *r)
{
	static char	 names[REQ_MAX_CAPTURES][32];
	const char	*p = pattern;
	int		 i = 0;

	while ((p = strchr(p, '{')) != NULL && i < r->ncaptures) {
		size_t	len = strcspn(p + 1, "}");

		if (len >= sizeof names[i])
			len = sizeof names[i] - 1;
		memcpy(names[i], p + 1, len);
		names[i][len] = '\0';
		r->capture_names[i] = names[i];
		i++;
		p += len + 1;
	}
}

/* Append method to the "GET, PUT" list in allow unless it is there. */
static void
allow_add(char *allow, size_t allowlen, const char *method)
{
	size_t	mlen = strlen(method);
	char	*p;

	for (p = allow; (p = strstr(p, method)) != NULL; p += mlen)
		if ((p == allow || p[-1] == ' ') &&
		    (p[mlen] == '\0' || p[mlen] == ','))
			return;
	if (*allow != '\0')
		strncat(allow, ", ", allowlen - strlen(allow) - 1);
	strncat(allow, method, allowlen - strlen(allow) - 1);
}

enum route_result
router_match(const struct route *routes, size_t n, struct request *r,
    const struct route **found, char *allow, size_t allowlen)
{
	const char	*path = r->raw_path != NULL ? r->raw_path : r->path;
	int		 best = -1, score, pass;
	size_t		 i;
	bool		 head = strcmp(r->method, "HEAD") == 0;

	/* The best literal score among all matching patterns picks the resource. */
	for (i = 0; i < n; i++) {
		score = match_pattern(routes[i].pattern, path, NULL);
		if (score > best)
			best = score;
	}
	if (best < 0)
		return (ROUTE_NOT_FOUND);
	/*
	 * An exact method wins; then HEAD falls back to the resource's GET
	 * (RFC 9110 9.3.2: the same answer without a body; nginx drops the
	 * body we send, as CGI's RFC 3875 4.3.2 asks of the server).
	 */
	for (pass = 0; pass < (head ? 2 : 1); pass++) {
		for (i = 0; i < n; i++) {
			if (strcmp(routes[i].method, pass == 0 ? r->method :
			    "GET") != 0 ||
			    match_pattern(routes[i].pattern, path, NULL) != best)
				continue;
			match_pattern(routes[i].pattern, path, r);
			name_captures(routes[i].pattern, r);
			*found = &routes[i];
			return (ROUTE_FOUND);
		}
	}
	if (allowlen == 0)
		return (ROUTE_BAD_METHOD);
	allow[0] = '\0';
	for (i = 0; i < n; i++) {
		if (match_pattern(routes[i].pattern, path, NULL) != best)
			continue;
		allow_add(allow, allowlen, routes[i].method);
		if (strcmp(routes[i].method, "GET") == 0)
			allow_add(allow, allowlen, "HEAD");
	}
	return (ROUTE_BAD_METHOD);
}
