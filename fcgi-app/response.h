/*
 * response.h: the API's JSON envelopes and the CGI response text.
 *
 * Success: {"success":true,"data":...,"message":"...","timestamp":"...Z"}
 * Error:   {"success":false,"error":{"code","message","details"},"timestamp"}
 *
 * A struct response owns its body and headers; resp_free() releases them.
 * Setting a new body replaces (and frees) the previous one.
 */
#ifndef BO_RESPONSE_H
#define BO_RESPONSE_H

#include <stddef.h>

struct json_object;

#define RESP_MAX_HEADERS	8

struct response {
	int			 status;	/* 0 until a handler sets one */
	struct json_object	*json;		/* the envelope, or NULL */
	char			*text;		/* a non-JSON body, or NULL */
	size_t			 text_len;
	const char		*text_type;	/* static content type */
	int			 nheaders;
	char			*header_names[RESP_MAX_HEADERS];
	char			*header_values[RESP_MAX_HEADERS];
};

void	 resp_init(struct response *);
void	 resp_free(struct response *);
/* Add a header; copies name and the formatted value. */
void	 resp_header(struct response *, const char *name, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Success envelope. Takes ownership of data (NULL gives "data":null). */
void	 resp_success(struct response *, int status, struct json_object *data,
	    const char *message);
/*
 * Error envelope. Takes ownership of details (NULL omits them, except for
 * INVALID_REQUEST, which always has details: {"request": message}).
 */
void	 resp_error(struct response *, int status, const char *code,
	    const char *message, struct json_object *details);
/* A plain body (e.g. Prometheus text). Takes ownership of text. */
void	 resp_text(struct response *, int status, const char *content_type,
	    char *text, size_t len);
/*
 * The whole CGI response: Status line, headers (with X-Request-Id), blank
 * line and body. Returns a new buffer the caller frees; *len gets its size.
 */
char	*resp_serialize(const struct response *, const char *request_id,
	    size_t *len);
/* "Not Found" for 404; "Unknown" for codes we never send. */
const char *http_reason(int status);

#endif
