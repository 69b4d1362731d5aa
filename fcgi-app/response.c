/* response.c: envelopes and serialisation. */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "log.h"
#include "response.h"
#include "timeutil.h"
#include "xmalloc.h"

void
resp_init(struct response *r)
{
	memset(r, 0, sizeof *r);
}

static void
resp_clear_body(struct response *r)
{
	json_object_put(r->json);
	r->json = NULL;
	free(r->text);
	r->text = NULL;
	r->text_len = 0;
	r->text_type = NULL;
}

void
resp_free(struct response *r)
{
	int	i;

	resp_clear_body(r);
	for (i = 0; i < r->nheaders; i++) {
		free(r->header_names[i]);
		free(r->header_values[i]);
	}
	memset(r, 0, sizeof *r);
}

void
resp_header(struct response *r, const char *name, const char *fmt, ...)
{
	va_list	 ap;
	char	*value;

	if (r->nheaders == RESP_MAX_HEADERS)
		fatal("resp_header: more than %d headers", RESP_MAX_HEADERS);
	va_start(ap, fmt);
	if (vasprintf(&value, fmt, ap) == -1)
		fatal("resp_header: out of memory");
	va_end(ap);
	r->header_names[r->nheaders] = xstrdup(name);
	r->header_values[r->nheaders++] = value;
}

static void
add_timestamp(struct json_object *o)
{
	char	ts[40];

	time_iso8601_now(ts, sizeof ts);
	json_object_object_add(o, "timestamp", json_object_new_string(ts));
}

void
resp_success(struct response *r, int status, struct json_object *data,
    const char *message)
{
	struct json_object	*o = json_object_new_object();

	resp_clear_body(r);
	json_object_object_add(o, "success", json_object_new_boolean(1));
	json_object_object_add(o, "data", data);
	json_object_object_add(o, "message",
	    json_object_new_string(message != NULL ? message : "OK"));
	add_timestamp(o);
	r->status = status;
	r->json = o;
}

void
resp_error(struct response *r, int status, const char *code,
    const char *message, struct json_object *details)
{
	struct json_object	*o = json_object_new_object();
	struct json_object	*e = json_object_new_object();

	resp_clear_body(r);
	/*
	 * The API promises INVALID_REQUEST with details (openapi.yaml's
	 * CodeInvalidRequest); a caller with no field to name (a malformed
	 * path or query string) gets its message filed under "request".
	 */
	if (details == NULL && strcmp(code, "INVALID_REQUEST") == 0) {
		details = json_object_new_object();
		json_object_object_add(details, "request",
		    json_object_new_string(message));
	}
	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(message));
	if (details != NULL)
		json_object_object_add(e, "details", details);
	json_object_object_add(o, "success", json_object_new_boolean(0));
	json_object_object_add(o, "error", e);
	add_timestamp(o);
	r->status = status;
	r->json = o;
}

void
resp_text(struct response *r, int status, const char *content_type,
    char *text, size_t len)
{
	resp_clear_body(r);
	r->status = status;
	r->text = text;
	r->text_len = len;
	r->text_type = content_type;
}

const char *
http_reason(int status)
{
	switch (status) {
	case 200: return ("OK");
	case 201: return ("Created");
	case 204: return ("No Content");
	case 400: return ("Bad Request");
	case 401: return ("Unauthorized");
	case 403: return ("Forbidden");
	case 404: return ("Not Found");
	case 405: return ("Method Not Allowed");
	case 409: return ("Conflict");
	case 413: return ("Payload Too Large");
	case 415: return ("Unsupported Media Type");
	case 422: return ("Unprocessable Entity");
	case 429: return ("Too Many Requests");
	case 500: return ("Internal Server Error");
	case 503: return ("Service Unavailable");
	}
	return ("Unknown");
}

/* The serialised response as it grows: one buffer, the body's room kept. */
struct out_buf {
	char	*b;
	size_t	 len, cap;
};

static void
out_put(struct out_buf *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->b = xrealloc(o->b, o->cap);
	}
	memcpy(o->b + o->len, s, n);
	o->len += n;
	o->b[o->len] = '\0';
}

static void
out_str(struct out_buf *o, const char *s)
{
	out_put(o, s, strlen(s));
}

/*
 * Built by hand into one buffer sized for the usual headers and the body:
 * every request ends here, and a memstream with a printf per header cost
 * more than the rest of serve() for /api/health.
 */
char *
resp_serialize(const struct response *r, const char *request_id, size_t *len)
{
	const char	*body = "", *type = "application/json";
	size_t		 body_len = 0, i;
	struct out_buf	 o;
	char		 num[48];
	int		 status = r->status != 0 ? r->status : 500;
	bool		 own_cc = false;	/* the handler set Cache-Control */

	if (r->json != NULL)
		body = json_object_to_json_string_length(r->json,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		    &body_len);
	else if (r->text != NULL) {
		body = r->text;
		body_len = r->text_len;
		type = r->text_type;
	}
	if (status == 204)
		body_len = 0;
	o.cap = 512 + body_len;
	o.b = xmalloc(o.cap);
	o.len = 0;
	snprintf(num, sizeof num, "Status: %d ", status);
	out_str(&o, num);
	out_str(&o, http_reason(status));
	out_str(&o, "\r\n");
	if (status != 204) {
		out_str(&o, "Content-Type: ");
		out_str(&o, type);
		if (strcmp(type, "application/json") == 0)
			out_str(&o, "; charset=utf-8");
		snprintf(num, sizeof num, "\r\nContent-Length: %zu\r\n",
		    body_len);
		out_str(&o, num);
	}
	out_str(&o, "X-Request-Id: ");
	out_str(&o, request_id);
	out_str(&o, "\r\n");
	for (i = 0; i < (size_t)r->nheaders; i++) {
		out_str(&o, r->header_names[i]);
		out_str(&o, ": ");
		out_str(&o, r->header_values[i]);
		out_str(&o, "\r\n");
		if (strcasecmp(r->header_names[i], "Cache-Control") == 0)
			own_cc = true;
	}
	/* no-store unless the handler said otherwise (the waiting room's poll):
	 * two Cache-Control headers would contradict each other */
	if (!own_cc)
		out_str(&o, "Cache-Control: no-store\r\n");
	out_str(&o, "\r\n");
	out_put(&o, body, body_len);
	*len = o.len;
	return (o.b);
}
