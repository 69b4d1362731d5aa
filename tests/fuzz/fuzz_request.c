/*
 * fuzz_request.c: FastCGI params, query strings and bodies (request.c).
 *
 * Input: NUL-separated "NAME=value" params as nginx would send them, then an
 * empty param (two NULs in a row), then the request body. The body reaches
 * request_read_body() in uneven chunks, as FCGX_GetStr() may return it; a
 * 0xff byte at the start of a chunk reads as an I/O error. The body limit is
 * 16 bytes or 16 KiB, by the body's length, so both the 413 path and buffer
 * growth past 8 KiB are reachable.
 */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <sys/types.h>

#include "request.h"
#include "fuzz.h"

#define MAX_PARAMS	64

struct src {
	const uint8_t	*data;
	size_t		 off, len;
};

static ssize_t
src_read(void *ctx, char *buf, size_t n)
{
	struct src	*s = ctx;
	size_t		 take = s->len - s->off;
	size_t		 chunk = 1 + (s->off * 7) % 13;

	if (take > n)
		take = n;
	if (take > chunk)
		take = chunk;
	if (take > 0 && s->data[s->off] == 0xff)
		return (-1);
	memcpy(buf, s->data + s->off, take);
	s->off += take;
	return ((ssize_t)take);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet_log();
	return (0);
}

/* What serve() relies on; after a failed init only the id and the path. */
static void
check_request(const struct request *r, bool ok)
{
	const char	*id = r->request_id;
	int		 i;

	FUZZ_ASSERT(r->path != NULL);
	FUZZ_ASSERT(!ok || r->query != NULL);
	/* The id is echoed in a header and in logs: short and plain. */
	FUZZ_ASSERT(strlen(id) > 0 && strlen(id) <= REQ_ID_MAX);
	for (; *id != '\0'; id++)
		FUZZ_ASSERT(isalnum((unsigned char)*id) ||
		    strchr("-_.:", *id) != NULL);
	FUZZ_ASSERT(r->nquery >= 0 && r->nquery <= REQ_MAX_QUERY);
	for (i = 0; i < r->nquery; i++) {
		FUZZ_ASSERT(r->query_names[i] != NULL);
		FUZZ_ASSERT(r->query_values[i] != NULL);
		FUZZ_ASSERT(request_query(r, r->query_names[i]) != NULL);
	}
	FUZZ_ASSERT(!ok || r->content_length >= -1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*copy, *env[MAX_PARAMS + 1], err[256], *p, *end;
	struct request	 r;
	struct src	 body = { NULL, 0, 0 };
	int		 n = 0, status = 0, rc;
	size_t		 max, escapes, len;

	/* Params are C strings: split a NUL-terminated copy at each NUL. */
	copy = malloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	end = copy + size;
	for (p = copy; p < end && n < MAX_PARAMS; p += strlen(p) + 1) {
		if (*p == '\0') {
			body.data = (const uint8_t *)p + 1;
			body.len = (size_t)(end - p - 1);
			break;
		}
		env[n++] = p;
	}
	env[n] = NULL;

	rc = request_init(&r, env, err, sizeof err);
	check_request(&r, rc == 0);
	if (rc == -1)
		FUZZ_ASSERT(err[0] != '\0');
	else {
		(void)request_header(&r, "Idempotency-Key");
		(void)request_header(&r, "Authorization");
		(void)request_env(&r, "REMOTE_ADDR");
		(void)request_is_json(&r);
		if (body.data != NULL) {
			max = body.len % 2 == 0 ? 16 : 16384;
			rc = request_read_body(&r, src_read, &body, max,
			    &status);
			if (rc == -1)
				FUZZ_ASSERT(status == 400 || status == 413);
			else {
				FUZZ_ASSERT(r.body_len <= max);
				FUZZ_ASSERT((r.body == NULL) ==
				    (r.body_len == 0));
				if (r.body != NULL)
					FUZZ_ASSERT(r.body[r.body_len] == '\0');
			}
		}
	}
	request_free(&r);

	/*
	 * url_decode() on its own, with and without '+'. What it accepts
	 * loses exactly two bytes per escape: a decoded NUL would cut the
	 * string short, so that "size=5%00x" read as "5".
	 */
	p = strndup((const char *)data, size);
	escapes = 0;
	for (end = p; *end != '\0'; end++)
		escapes += *end == '%';
	len = strlen(p);
	if (url_decode(p, (size & 1) != 0) == 0)
		FUZZ_ASSERT(strlen(p) == len - 2 * escapes);
	free(p);
	free(copy);
	return (0);
}
