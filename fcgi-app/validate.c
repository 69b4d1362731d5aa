/* validate.c: checks on ids, JSON bodies, query parameters and dates. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "request.h"
#include "response.h"
#include "validate.h"
#include "xmalloc.h"

void
fe_init(struct fielderrs *fe)
{
	fe->details = json_object_new_object();
	fe->n = 0;
}

void
fe_add(struct fielderrs *fe, const char *field, const char *fmt, ...)
{
	char	msg[256];
	va_list	ap;

	/* The first problem with a field is the one worth reading. */
	if (json_object_object_get_ex(fe->details, field, NULL))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	json_object_object_add(fe->details, field, json_object_new_string(msg));
	fe->n++;
}

bool
fe_respond(struct fielderrs *fe, struct response *resp)
{
	if (fe->n == 0)
		return (false);
	resp_error(resp, 400, "INVALID_REQUEST",
	    "The request has invalid fields; see details.", fe->details);
	fe->details = NULL;
	fe->n = 0;
	return (true);
}

void
fe_free(struct fielderrs *fe)
{
	json_object_put(fe->details);
	fe->details = NULL;
}

bool
parse_id(const char *s, int64_t *out)
{
	char		*end;
	long long	 v;

	if (s == NULL || !isdigit((unsigned char)*s) || strlen(s) > 19)
		return (false);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0)
		return (false);
	*out = v;
	return (true);
}

bool
capture_id(const struct request *req, struct response *resp, const char *name,
    int64_t *out)
{
	struct json_object	*d;

	if (parse_id(request_capture(req, name), out))
		return (true);
	d = json_object_new_object();
	json_object_object_add(d, name, json_object_new_string(
	    "must be a positive 64-bit integer"));
	resp_error(resp, 400, "INVALID_REQUEST", "The id in the path is "
	    "invalid.", d);
	return (false);
}

struct json_object *
body_object(const struct request *req, struct response *resp)
{
	struct json_tokener	*tok;
	struct json_object	*obj, *d;
	enum json_tokener_error	 jerr;
	char			 msg[160];
	size_t			 off;

	if (req->body == NULL) {
		d = json_object_new_object();
		json_object_object_add(d, "body", json_object_new_string(
		    "a JSON object is required"));
		resp_error(resp, 400, "INVALID_REQUEST", "The request body is "
		    "empty.", d);
		return (NULL);
	}
	tok = json_tokener_new();
	/* Invalid UTF-8 is the client's error, not a failure further on. */
	json_tokener_set_flags(tok, JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, req->body, (int)req->body_len);
	jerr = json_tokener_get_error(tok);
	off = json_tokener_get_parse_end(tok);
	/* Anything but whitespace after the value is an error too. */
	if (obj != NULL && jerr == json_tokener_success) {
		while (off < req->body_len && isspace((unsigned char)
		    req->body[off]))
			off++;
		if (off < req->body_len) {
			json_object_put(obj);
			obj = NULL;
			snprintf(msg, sizeof msg, "unexpected data after the "
			    "JSON value at offset %zu", off);
		}
	} else {
		json_object_put(obj);
		obj = NULL;
		snprintf(msg, sizeof msg, "malformed JSON at offset %zu: %s",
		    off, jerr == json_tokener_continue ?
		    "unexpected end of input" : json_tokener_error_desc(jerr));
	}
	json_tokener_free(tok);
	if (obj != NULL && !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		obj = NULL;
		snprintf(msg, sizeof msg, "the body must be a JSON object");
	}
	if (obj == NULL) {
		d = json_object_new_object();
		json_object_object_add(d, "body", json_object_new_string(msg));
		resp_error(resp, 400, "INVALID_REQUEST", "The request body is "
		    "not valid JSON.", d);
	}
	return (obj);
}

static struct json_object *
get_field(struct json_object *o, const char *name)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, name, &v) || v == NULL)
		return (NULL);
	return (v);
}

enum field_result
field_int(struct json_object *o, const char *name, int64_t min, int64_t max,
    bool required, int64_t *out, struct fielderrs *fe)
{
	struct json_object	*v = get_field(o, name);
	int64_t			 n;

	if (v == NULL) {
		if (required)
			fe_add(fe, name, "is required");
		return (FIELD_ABSENT);
	}
	/* Strict: "2" and 1.5 are not integers. */
	if (!json_object_is_type(v, json_type_int)) {
		fe_add(fe, name, "must be an integer from %lld to %lld",
		    (long long)min, (long long)max);
		return (FIELD_INVALID);
	}
	errno = 0;
	n = json_object_get_int64(v);
	/* json-c saturates at INT64_MAX; a larger value is out of range. */
	if (n == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX)
		errno = ERANGE;
	if (errno != 0 || n < min || n > max) {
		fe_add(fe, name, "must be an integer from %lld to %lld",
		    (long long)min, (long long)max);
		return (FIELD_INVALID);
	}
	*out = n;
	return (FIELD_OK);
}

bool
printable_ascii(const char *s, size_t max)
{
	size_t	len = strlen(s), i;
	bool	blank = true;

	if (len == 0 || len > max)
		return (false);
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return (false);
		if (s[i] != ' ')
			blank = false;
	}
	return (!blank);
}

/* Characters, not bytes: UTF-8 continuation bytes do not count. */
static size_t
utf8_chars(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return (n);
}

/*
 * Well-formed UTF-8 without control characters. json-c's own check
 * (JSON_TOKENER_VALIDATE_UTF8) only looks at the shape of each sequence: it
 * lets overlong forms, surrogates and code points past U+10FFFF through,
 * which MariaDB's utf8mb4 then refuses (error 1366, a 500; found by
 * fuzz_validate).
 */
static bool
utf8_text(const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	uint32_t		 cp, min;
	int			 more;

	while (*s != 0) {
		if (*s < 0x80) {
			if (*s < 0x20 || *s == 0x7f)
				return (false);
			s++;
			continue;
		}
		if ((*s & 0xe0) == 0xc0) {
			cp = *s & 0x1f;
			more = 1;
			min = 0x80;
		} else if ((*s & 0xf0) == 0xe0) {
			cp = *s & 0x0f;
			more = 2;
			min = 0x800;
		} else if ((*s & 0xf8) == 0xf0) {
			cp = *s & 0x07;
			more = 3;
			min = 0x10000;
		} else
			return (false);
		for (s++; more > 0; s++, more--) {
			if ((*s & 0xc0) != 0x80)
				return (false);
			cp = cp << 6 | (*s & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return (false);
	}
	return (true);
}

enum field_result
field_string(struct json_object *o, const char *name, size_t minlen,
    size_t maxlen, bool ascii, bool required, const char **out,
    struct fielderrs *fe)
{
	struct json_object	*v = get_field(o, name);
	const char		*s;
	size_t			 len;

	if (v == NULL) {
		if (required)
			fe_add(fe, name, "is required");
		return (FIELD_ABSENT);
	}
	if (!json_object_is_type(v, json_type_string)) {
		fe_add(fe, name, "must be a string");
		return (FIELD_INVALID);
	}
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len != strlen(s)) {
		fe_add(fe, name, "must not contain NUL characters");
		return (FIELD_INVALID);
	}
	if (!ascii)
		len = utf8_chars(s);
	if (len < minlen || len > maxlen ||
	    (ascii ? !printable_ascii(s, maxlen) : !utf8_text(s)) ||
	    (minlen > 0 && strspn(s, " ") == len)) {
		fe_add(fe, name, "must be %zu to %zu %s", minlen, maxlen,
		    ascii ? "printable ASCII characters" :
		    "characters of valid UTF-8 without control characters");
		return (FIELD_INVALID);
	}
	*out = s;
	return (FIELD_OK);
}

static bool
digits(const char *s, int n, int *out)
{
	int	v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return (false);
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return (true);
}

bool
parse_iso8601(const char *s, int64_t *ms)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	struct tm	 tm;
	int		 y, mo, d, h, mi, sec, frac = 0, fdigits = 0, oh, om;
	int64_t		 offset = 0, v;
	time_t		 t;
	const char	*p;

	if (strlen(s) < 19 || !digits(s, 4, &y) || s[4] != '-' ||
	    !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !digits(s + 11, 2, &h) || s[13] != ':' ||
	    !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return (false);
	p = s + 19;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++, fdigits++)
			if (fdigits < 3)
				frac = frac * 10 + (*p - '0');
		if (fdigits == 0 || fdigits > 9)
			return (false);
		for (; fdigits < 3; fdigits++)
			frac *= 10;
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		if (!digits(p + 1, 2, &oh) || p[3] != ':' ||
		    !digits(p + 4, 2, &om) || oh > 23 || om > 59)
			return (false);
		offset = ((int64_t)oh * 3600 + om * 60) * 1000;
		if (*p == '+')
			offset = -offset;
		p += 6;
	}
	if (*p != '\0')
		return (false);
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 59)
		return (false);
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) ||
	    y % 400 == 0))
		return (false);
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	v = (int64_t)t * 1000 + frac + offset;
	/*
	 * The instant, not only its written fields, must be in range:
	 * 9999-12-31T23:00:00-05:00 is in year 10000 in UTC, which neither
	 * DATETIME nor our own timestamps can hold (found by fuzz_validate).
	 */
	if (v < 0 || v > ISO8601_MAX_MS)
		return (false);
	*ms = v;
	return (true);
}

enum field_result
field_datetime(struct json_object *o, const char *name, bool required,
    int64_t *ms, struct fielderrs *fe)
{
	struct json_object	*v = get_field(o, name);

	if (v == NULL) {
		if (required)
			fe_add(fe, name, "is required");
		return (FIELD_ABSENT);
	}
	if (!json_object_is_type(v, json_type_string) ||
	    !parse_iso8601(json_object_get_string(v), ms)) {
		fe_add(fe, name, "must be an ISO-8601 date-time such as "
		    "2027-01-31T19:30:00Z");
		return (FIELD_INVALID);
	}
	return (FIELD_OK);
}

bool
query_int(const struct request *req, const char *name, int64_t def,
    int64_t min, int64_t max, int64_t *out, struct fielderrs *fe)
{
	const char	*s = request_query(req, name);
	char		*end;
	long long	 v;

	if (s == NULL) {
		*out = def;
		return (true);
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max ||
	    !(isdigit((unsigned char)*s) || *s == '-')) {
		fe_add(fe, name, "must be an integer from %lld to %lld",
		    (long long)min, (long long)max);
		return (false);
	}
	*out = v;
	return (true);
}
