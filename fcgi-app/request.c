/* request.c: parse FastCGI params, query strings and bodies. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "random_hex.h"
#include "request.h"
#include "xmalloc.h"

static const char *
env_get(char *const *envp, const char *name)
{
	size_t	len = strlen(name);

	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, name, len) == 0 && (*envp)[len] == '=')
			return (*envp + len + 1);
	return (NULL);
}

const char *
request_env(const struct request *r, const char *name)
{
	return (env_get(r->envp, name));
}

const char *
request_header(const struct request *r, const char *name)
{
	char	var[128];
	size_t	i, j;

	memcpy(var, "HTTP_", 5);
	for (i = 0, j = 5; name[i] != '\0' && j < sizeof var - 1; i++, j++)
		var[j] = name[i] == '-' ? '_' :
		    (char)toupper((unsigned char)name[i]);
	var[j] = '\0';
	return (env_get(r->envp, var));
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	return (-1);
}

int
url_decode(char *s, bool plus)
{
	char	*out = s;
	int	 hi, lo;

	for (; *s != '\0'; s++) {
		if (*s == '%') {
			/* %00 too: a NUL would cut the string short. */
			if ((hi = hexval((unsigned char)s[1])) == -1 ||
			    (lo = hexval((unsigned char)s[2])) == -1 ||
			    (hi | lo) == 0)
				return (-1);
			*out++ = (char)(hi << 4 | lo);
			s += 2;
		} else if (plus && *s == '+')
			*out++ = ' ';
		else
			*out++ = *s;
	}
	*out = '\0';
	return (0);
}

static int
parse_query(struct request *r, char *err, size_t errlen)
{
	char	*copy, *pair, *save = NULL, *eq;

	if (*r->query == '\0')
		return (0);
	copy = xstrdup(r->query);
	for (pair = strtok_r(copy, "&", &save); pair != NULL;
	    pair = strtok_r(NULL, "&", &save)) {
		char	*name, *value;
		int	 i, dup = 0;

		if ((eq = strchr(pair, '=')) != NULL)
			*eq = '\0';
		name = xstrdup(pair);
		value = xstrdup(eq != NULL ? eq + 1 : "");
		if (url_decode(name, true) == -1 ||
		    url_decode(value, true) == -1) {
			snprintf(err, errlen, "malformed query string");
			free(name);
			free(value);
			free(copy);
			return (-1);
		}
		for (i = 0; i < r->nquery; i++)
			if (strcmp(r->query_names[i], name) == 0)
				dup = 1;
		if (dup || r->nquery == REQ_MAX_QUERY) {
			if (!dup) {
				snprintf(err, errlen, "too many query "
				    "parameters (at most %d)", REQ_MAX_QUERY);
				free(name);
				free(value);
				free(copy);
				return (-1);
			}
			free(name);
			free(value);
			continue;
		}
		r->query_names[r->nquery] = name;
		r->query_values[r->nquery++] = value;
	}
	free(copy);
	return (0);
}

/* A client's id is kept only when it is short and safe to log and echo. */
static bool
valid_request_id(const char *id)
{
	size_t	len = strlen(id);

	if (len == 0 || len > REQ_ID_MAX)
		return (false);
	for (; *id != '\0'; id++)
		if (!isalnum((unsigned char)*id) && strchr("-_.:", *id) == NULL)
			return (false);
	return (true);
}

int
request_init(struct request *r, char *const *envp, char *err, size_t errlen)
{
	const char	*method, *uri, *q, *ctype, *clen, *id;
	char		*end;

	memset(r, 0, sizeof *r);
	r->envp = envp;
	r->content_length = -1;

	/* The id comes first: even a request we reject is answered with it. */
	id = env_get(envp, "HTTP_X_REQUEST_ID");
	if (id != NULL && valid_request_id(id))
		snprintf(r->request_id, sizeof r->request_id, "%s", id);
	else
		random_hex(r->request_id, 16);

	method = env_get(envp, "REQUEST_METHOD");
	snprintf(r->method, sizeof r->method, "%s", method ? method : "GET");

	/*
	 * Route on the path as sent: decoding first would turn %2F into a
	 * segment separator. nginx's DOCUMENT_URI (decoded) is the fallback.
	 */
	if ((uri = env_get(envp, "REQUEST_URI")) != NULL && *uri == '/') {
		r->raw_path = xstrndup(uri, strcspn(uri, "?"));
		r->path = xstrdup(r->raw_path);
		if (url_decode(r->path, false) == -1) {
			snprintf(err, errlen, "malformed path");
			return (-1);
		}
	} else if ((uri = env_get(envp, "DOCUMENT_URI")) != NULL)
		r->path = xstrdup(uri);
	else
		r->path = xstrdup("/");
	q = env_get(envp, "QUERY_STRING");
	r->query = xstrdup(q != NULL ? q : "");
	if ((ctype = env_get(envp, "CONTENT_TYPE")) != NULL && *ctype != '\0')
		r->content_type = xstrdup(ctype);
	if ((clen = env_get(envp, "CONTENT_LENGTH")) != NULL && *clen != '\0') {
		r->content_length = strtoll(clen, &end, 10);
		if (*end != '\0' || r->content_length < 0) {
			snprintf(err, errlen, "malformed Content-Length");
			return (-1);
		}
	}
	return (parse_query(r, err, errlen));
}

int
request_read_body(struct request *r, request_read_fn readfn, void *ctx,
    size_t max, int *status)
{
	size_t	want, have = 0, cap;
	ssize_t	n;

	if (r->content_length == 0)
		return (0);
	if (r->content_length > 0 && (unsigned long long)r->content_length > max) {
		*status = 413;
		return (-1);
	}
	/* Without a length, read one byte past the limit to detect excess. */
	want = r->content_length > 0 ? (size_t)r->content_length : max + 1;
	cap = want < 8192 ? want : 8192;
	r->body = xmalloc(cap + 1);
	while (have < want) {
		if (have == cap) {
			cap = cap * 2 < want ? cap * 2 : want;
			r->body = xrealloc(r->body, cap + 1);
		}
		n = readfn(ctx, r->body + have, cap - have);
		if (n < 0) {
			*status = 400;
			return (-1);
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	if (have > max) {
		*status = 413;
		return (-1);
	}
	if (r->content_length > 0 && have != (size_t)r->content_length) {
		*status = 400;
		return (-1);
	}
	r->body[have] = '\0';
	r->body_len = have;
	if (have == 0) {
		free(r->body);
		r->body = NULL;
	}
	return (0);
}

const char *
request_capture(const struct request *r, const char *name)
{
	int	i;

	for (i = 0; i < r->ncaptures; i++)
		if (strcmp(r->capture_names[i], name) == 0)
			return (r->capture_values[i]);
	return (NULL);
}

const char *
request_query(const struct request *r, const char *name)
{
	int	i;

	for (i = 0; i < r->nquery; i++)
		if (strcmp(r->query_names[i], name) == 0)
			return (r->query_values[i]);
	return (NULL);
}

bool
request_is_json(const struct request *r)
{
	size_t	len = sizeof "application/json" - 1;

	if (r->content_type == NULL)
		return (false);
	return (strncasecmp(r->content_type, "application/json", len) == 0 &&
	    (r->content_type[len] == '\0' || r->content_type[len] == ';' ||
	    r->content_type[len] == ' '));
}

void
request_free(struct request *r)
{
	int	i;

	free(r->path);
	free(r->raw_path);
	free(r->query);
	free(r->content_type);
	free(r->body);
	for (i = 0; i < r->ncaptures; i++)
		free(r->capture_values[i]);
	for (i = 0; i < r->nquery; i++) {
		free(r->query_names[i]);
		free(r->query_values[i]);
	}
	memset(r, 0, sizeof *r);
}
