/*
 * fuzz_router.c: method and path matching with captures (router.c), on the
 * daemon's own route table and on a synthetic one with more captures than a
 * request can hold.
 *
 * Input: the method, a newline, then the path as sent (REQUEST_URI, still
 * percent-encoded, with an optional query).
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "request.h"
#include "router.h"
#include "routes.h"
#include "fuzz.h"

static void h(struct app *a, struct request *q, struct response *p) {}

static const struct route synthetic[] = {
	{ "GET", "/a/{x}/{y}/{z}/{w}/{v}", h, "five" },
	{ "GET", "/a/{x}", h, "one" },
	{ "PUT", "/a/{x}", h, "one_put" },
	{ "HEAD", "/a/b", h, "b_head" },
	{ "POST", "/a/b", h, "b_post" },
	{ "GET", "/a/b", h, "b_get" },	/* HEAD twice: Allow names it once */
	{ "DELETE", "/{x}/b/{y}", h, "x_b_y" },
	{ "GET", "/", h, "root" },
	{ "GET", "/{averyveryveryverylongcapturenamethatgoeson}", h, "long" },
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet_log();
	return (0);
}

/* True when allow ("GET, HEAD") names method as a whole token. */
static bool
allow_has(const char *allow, const char *method)
{
	size_t		 len = strlen(method);
	const char	*p = allow;

	while (*p != '\0') {
		size_t	tok = strcspn(p, ",");

		if (tok == len && strncmp(p, method, len) == 0)
			return (true);
		p += tok;
		while (*p == ',' || *p == ' ')
			p++;
	}
	return (false);
}

/* No method appears twice in allow. */
static bool
allow_unique(const char *allow)
{
	const char	*p = allow;
	char		 tok[64];

	while (*p != '\0') {
		size_t	len = strcspn(p, ",");

		FUZZ_ASSERT(len < sizeof tok);
		memcpy(tok, p, len);
		tok[len] = '\0';
		p += len;
		while (*p == ',' || *p == ' ')
			p++;
		if (allow_has(p, tok))
			return (false);
	}
	return (true);
}

/* allowlen 0: the caller wants no Allow text (router.h allows it). */
static void
try_table(const struct route *routes, size_t n, char *const *env,
    size_t allowlen)
{
	struct request		 r;
	const struct route	*found = NULL;
	char			 err[256], allow[64];
	enum route_result	 res;
	const char		*p;
	int			 braces = 0, i;

	if (request_init(&r, env, err, sizeof err) == -1) {
		request_free(&r);
		return;
	}
	res = router_match(routes, n, &r, &found, allow, allowlen);
	switch (res) {
	case ROUTE_FOUND:
		FUZZ_ASSERT(found >= routes && found < routes + n);
		FUZZ_ASSERT(strcmp(found->method, r.method) == 0 ||
		    (strcmp(r.method, "HEAD") == 0 &&
		    strcmp(found->method, "GET") == 0));
		for (p = found->pattern; (p = strchr(p, '{')) != NULL; p++)
			braces++;
		if (braces > REQ_MAX_CAPTURES)
			braces = REQ_MAX_CAPTURES;
		FUZZ_ASSERT(r.ncaptures == braces);
		for (i = 0; i < r.ncaptures; i++) {
			FUZZ_ASSERT(r.capture_names[i] != NULL);
			FUZZ_ASSERT(r.capture_values[i] != NULL &&
			    r.capture_values[i][0] != '\0');
			FUZZ_ASSERT(request_capture(&r, r.capture_names[i]) !=
			    NULL);
		}
		break;
	case ROUTE_BAD_METHOD:
		if (allowlen == 0)
			break;
		FUZZ_ASSERT(allow[0] != '\0');
		FUZZ_ASSERT(!allow_has(allow, r.method));
		FUZZ_ASSERT(allow_unique(allow));
		break;
	case ROUTE_NOT_FOUND:
		FUZZ_ASSERT(r.ncaptures == 0);
		break;
	}
	request_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct route	*routes;
	size_t			 n, mlen;
	char			*method, *uri, *doc, *q;
	char			*env[5];
	const uint8_t		*nl;

	if ((nl = memchr(data, '\n', size)) == NULL)
		return (0);
	mlen = (size_t)(nl - data);
	method = malloc(sizeof "REQUEST_METHOD=" + mlen);
	memcpy(method, "REQUEST_METHOD=", sizeof "REQUEST_METHOD=" - 1);
	memcpy(method + sizeof "REQUEST_METHOD=" - 1, data, mlen);
	method[sizeof "REQUEST_METHOD=" - 1 + mlen] = '\0';
	uri = malloc(sizeof "REQUEST_URI=" + (size - mlen - 1));
	memcpy(uri, "REQUEST_URI=", sizeof "REQUEST_URI=" - 1);
	memcpy(uri + sizeof "REQUEST_URI=" - 1, nl + 1, size - mlen - 1);
	uri[sizeof "REQUEST_URI=" - 1 + size - mlen - 1] = '\0';
	/* nginx's DOCUMENT_URI is the decoded path, without the query. */
	doc = malloc(strlen(uri) + sizeof "DOCUMENT_URI=");
	strcpy(doc, "DOCUMENT_URI=");
	strcat(doc, uri + sizeof "REQUEST_URI=" - 1);
	if ((q = strchr(doc, '?')) != NULL)
		*q = '\0';
	if (url_decode(doc + sizeof "DOCUMENT_URI=" - 1, false) == -1)
		strcpy(doc, "DOCUMENT_URI=/");

	env[0] = method;
	env[1] = uri;
	env[2] = doc;
	env[3] = NULL;
	routes = routes_table(&n);
	try_table(routes, n, env, 64);
	try_table(synthetic, sizeof synthetic / sizeof synthetic[0], env, 64);
	/* Without REQUEST_URI the router falls back to DOCUMENT_URI. */
	env[1] = doc;
	env[2] = NULL;
	try_table(routes, n, env, 64);
	try_table(synthetic, sizeof synthetic / sizeof synthetic[0], env, 0);

	free(method);
	free(uri);
	free(doc);
	return (0);
}
