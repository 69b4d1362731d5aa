/*
 * fuzz_validate.c: JSON bodies and field checks (validate.c), with the
 * fields of the API's bodies, then the error envelope they produce
 * (response.c).
 *
 * Input: one byte that picks the body's shape (reservation, event create,
 * event update, queue join, queue admission), then the body. The raw input
 * also goes through the date, id and query checks on their own.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include <json-c/json.h>

#include "request.h"
#include "response.h"
#include "timeutil.h"
#include "validate.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet_log();
	return (0);
}

/*
 * Well-formed UTF-8 (Unicode 15, table 3-7): no overlong forms, no
 * surrogates, nothing past U+10FFFF. What MariaDB's utf8mb4 stores.
 */
static bool
utf8_well_formed(const unsigned char *s)
{
	while (*s != 0) {
		unsigned char	c = *s++, lo = 0x80, hi = 0xbf;
		int		n;

		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			if (c == 0xe0)
				lo = 0xa0;
			if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			if (c == 0xf0)
				lo = 0x90;
			if (c == 0xf4)
				hi = 0x8f;
		} else
			return (false);
		if (*s < lo || *s > hi)
			return (false);
		for (s++, n--; n > 0; s++, n--)
			if (*s < 0x80 || *s > 0xbf)
				return (false);
	}
	return (true);
}

/* The field readers' contract: 1 valid, 0 absent, -1 invalid + an error. */
static void
check_rc(enum field_result rc, int errs_before, const struct fielderrs *fe,
    bool required)
{
	FUZZ_ASSERT(rc == FIELD_ABSENT || rc == FIELD_OK || rc == FIELD_INVALID);
	if (rc == FIELD_INVALID || (rc == FIELD_ABSENT && required))
		FUZZ_ASSERT(fe->n >= 1);
	if (rc == FIELD_OK)
		FUZZ_ASSERT(fe->n == errs_before);
}

static void
check_string(struct json_object *o, const char *name, size_t minlen,
    size_t maxlen, bool ascii, bool required, struct fielderrs *fe)
{
	const char	*s = NULL;
	int		 before = fe->n;
	enum field_result rc;

	rc = field_string(o, name, minlen, maxlen, ascii, required, &s, fe);
	check_rc(rc, before, fe, required);
	if (rc == FIELD_OK) {
		FUZZ_ASSERT(s != NULL && strlen(s) >= minlen);
		if (ascii)
			FUZZ_ASSERT(printable_ascii(s, maxlen));
		/* Text goes to utf8mb4 columns and JSON answers as is. */
		FUZZ_ASSERT(utf8_well_formed((const unsigned char *)s));
	}
}

static void
check_int(struct json_object *o, const char *name, int64_t min, int64_t max,
    bool required, struct fielderrs *fe)
{
	int64_t	v = 0;
	int	before = fe->n;
	enum field_result rc;

	rc = field_int(o, name, min, max, required, &v, fe);
	check_rc(rc, before, fe, required);
	if (rc == FIELD_OK)
		FUZZ_ASSERT(v >= min && v <= max);
}

static void
check_date(struct json_object *o, const char *name, bool required,
    struct fielderrs *fe)
{
	int64_t	ms = 0;
	int	before = fe->n;
	enum field_result rc;

	rc = field_datetime(o, name, required, &ms, fe);
	check_rc(rc, before, fe, required);
}

/* The bodies as reservations.c and events.c read them. */
static void
read_shape(int shape, struct json_object *body, struct fielderrs *fe)
{
	switch (shape) {
	case 0:		/* POST /api/reservations */
		check_int(body, "eventId", 1, INT64_MAX, true, fe);
		check_string(body, "userId", 1, 64, true, true, fe);
		check_int(body, "quantity", 1, 100, true, fe);
		check_string(body, "seatType", 1, 32, true, false, fe);
		break;
	case 1:		/* POST /api/events */
	case 2:		/* PUT /api/events/{id}: every field optional */
		check_string(body, "eventName", 1, 200, false, shape == 1, fe);
		check_int(body, "totalSeats", 1, 10000000, shape == 1, fe);
		check_date(body, "eventDate", shape == 1, fe);
		check_string(body, "venue", 1, 200, false, false, fe);
		check_int(body, "perUserLimit", 1, 10000, false, fe);
		check_int(body, "maxPerRequest", 1, 100, false, fe);
		if (shape == 2) {
			struct json_object	*wr;

			check_string(body, "status", 1, 16, true, false, fe);
			/* {"waitingRoom": {"enabled": true, "admitPerSecond"}} */
			if (json_object_object_get_ex(body, "waitingRoom", &wr) &&
			    json_object_is_type(wr, json_type_object))
				check_int(wr, "admitPerSecond", 1, 100000, true,
				    fe);
		}
		break;
	case 3:		/* POST /api/events/{id}/queue */
		check_string(body, "userId", 1, 64, true, true, fe);
		break;
	default:	/* POST /api/events/{id}/queue/admission */
		check_string(body, "ticket", 1, 255, true, true, fe);
		break;
	}
}

/* The envelope a client would get must itself be a JSON object. */
static void
check_envelope(const struct response *resp, int status)
{
	struct json_object	*o;
	char			*out, *body;
	size_t			 len;

	FUZZ_ASSERT(resp->status == status && resp->json != NULL);
	out = resp_serialize(resp, "fuzz", &len);
	FUZZ_ASSERT(strlen(out) == len);
	body = strstr(out, "\r\n\r\n");
	FUZZ_ASSERT(body != NULL);
	o = json_tokener_parse(body + 4);
	FUZZ_ASSERT(o != NULL && json_object_is_type(o, json_type_object));
	json_object_put(o);
	free(out);
}

static void
try_body(int shape, const uint8_t *data, size_t size)
{
	struct request		 req;
	struct response		 resp;
	struct fielderrs	 fe;
	struct json_object	*body;

	memset(&req, 0, sizeof req);
	resp_init(&resp);
	if (size > 0) {
		req.body = malloc(size + 1);
		memcpy(req.body, data, size);
		req.body[size] = '\0';
		req.body_len = size;
	}
	if ((body = body_object(&req, &resp)) == NULL)
		check_envelope(&resp, 400);
	else {
		FUZZ_ASSERT(resp.status == 0);
		FUZZ_ASSERT(json_object_is_type(body, json_type_object));
		fe_init(&fe);
		read_shape(shape, body, &fe);
		if (fe_respond(&fe, &resp))
			check_envelope(&resp, 400);
		else
			FUZZ_ASSERT(resp.status == 0);
		fe_free(&fe);
		json_object_put(body);
	}
	resp_free(&resp);
	free(req.body);
}

/* Scalar checks on the raw text, as it would come in a path or query. */
static void
try_scalars(const uint8_t *data, size_t size)
{
	struct request		 req;
	struct response		 resp;
	struct fielderrs	 fe;
	char			*s;
	int64_t			 v, ms;

	s = strndup((const char *)data, size);
	if (parse_id(s, &v))
		FUZZ_ASSERT(v > 0);
	if (parse_iso8601(s, &ms)) {
		char	back[64];
		int64_t	again = -1;

		/*
		 * What we accept, we can store and send back: the instant,
		 * written the way responses and SQL write it, parses again.
		 */
		time_iso8601_ms(ms, back, sizeof back);
		FUZZ_ASSERT(parse_iso8601(back, &again) && again == ms);
	}
	(void)printable_ascii(s, 64);

	memset(&req, 0, sizeof req);
	req.nquery = 1;
	req.query_names[0] = (char *)"size";
	req.query_values[0] = s;
	fe_init(&fe);
	if (query_int(&req, "size", 20, 1, 100, &v, &fe))
		FUZZ_ASSERT(v >= 1 && v <= 100 && fe.n == 0);
	else
		FUZZ_ASSERT(fe.n == 1);
	FUZZ_ASSERT(query_int(&req, "page", 0, 0, 10, &v, &fe) && v == 0);
	fe_free(&fe);

	/* The same text as a path capture: an id, or a 400 envelope. */
	req.ncaptures = 1;
	req.capture_names[0] = "id";
	req.capture_values[0] = s;
	resp_init(&resp);
	if (capture_id(&req, &resp, "id", &v))
		FUZZ_ASSERT(v > 0 && resp.status == 0);
	else
		check_envelope(&resp, 400);
	resp_free(&resp);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return (0);
	try_body(data[0] % 5, data + 1, size - 1);
	try_scalars(data + 1, size - 1);
	return (0);
}
