/*
 * request.h: one HTTP request as nginx hands it over FastCGI.
 *
 * request_init() copies what it needs out of the FastCGI params, so a request
 * never points into libfcgi's buffers except through envp, which is only read
 * while the request is being served. request_free() releases everything the
 * request owns (path, query, body, captures).
 */
#ifndef BO_REQUEST_H
#define BO_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define REQ_MAX_CAPTURES	4
#define REQ_MAX_QUERY		32
#define REQ_ID_MAX		64

struct request {
	char		 method[16];
	char		*path;		/* percent-decoded, without the query */
	char		*raw_path;	/* as sent (REQUEST_URI), still encoded,
					   so that %2F stays inside a segment;
					   NULL when only DOCUMENT_URI came */
	char		*query;		/* raw query string, "" when none */
	char		*content_type;	/* NULL when the client sent none */
	long long	 content_length;	/* -1 when absent */
	char		*body;		/* NUL-terminated, NULL when empty */
	size_t		 body_len;
	char		 request_id[REQ_ID_MAX + 1];
	char *const	*envp;		/* FastCGI params, valid while served */

	/* Path parameters, filled by the router. */
	int		 ncaptures;
	const char	*capture_names[REQ_MAX_CAPTURES];
	char		*capture_values[REQ_MAX_CAPTURES];

	/* Query parameters, decoded; duplicates keep the first. */
	int		 nquery;
	char		*query_names[REQ_MAX_QUERY];
	char		*query_values[REQ_MAX_QUERY];
};

/* Reads up to n bytes of body; returns bytes read, 0 at the end, -1 error. */
typedef ssize_t (*request_read_fn)(void *ctx, char *buf, size_t n);

/*
 * Parse the params. Returns 0, or -1 with a client-facing reason in err
 * (a malformed path or query).
 */
int	 request_init(struct request *, char *const *envp, char *err,
	    size_t errlen) __attribute__((warn_unused_result));
/*
 * Read the body, at most max bytes. Returns 0; or -1 with *status set to
 * 413 (too large) or 400 (short or unreadable body).
 */
int	 request_read_body(struct request *, request_read_fn, void *ctx,
	    size_t max, int *status) __attribute__((warn_unused_result));
void	 request_free(struct request *);

/* A param from envp, e.g. "CONTENT_TYPE"; NULL when absent. */
const char *request_env(const struct request *, const char *name);
/* A request header by its HTTP name ("Idempotency-Key"); NULL when absent. */
const char *request_header(const struct request *, const char *name);
/* A path parameter captured by the router ("id"); NULL when absent. */
const char *request_capture(const struct request *, const char *name);
/* A decoded query parameter; NULL when absent. */
const char *request_query(const struct request *, const char *name);
/* True when the content type is application/json (parameters allowed). */
bool	 request_is_json(const struct request *);

/*
 * Decode %XX and (when plus is true) '+' in place. -1 on a bad escape, and on
 * %00, which would cut the string short ("size=5%00x" read as "5").
 */
int	 url_decode(char *, bool plus);

#endif
