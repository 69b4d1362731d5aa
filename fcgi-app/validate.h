/*
 * validate.h: type and range checks on request input.
 *
 * Failures are collected per field into a JSON object ({"quantity": "must
 * be an integer from 1 to 10"}) that becomes the details of a 400
 * INVALID_REQUEST. The struct fielderrs owns that object until
 * fe_respond() hands it to the response, or fe_free() drops it.
 */
#ifndef BO_VALIDATE_H
#define BO_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;
struct request;
struct response;

struct fielderrs {
	struct json_object	*details;
	int			 n;
};

void	 fe_init(struct fielderrs *);
void	 fe_add(struct fielderrs *, const char *field, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* When there are errors: answer 400 with them and return true. */
bool	 fe_respond(struct fielderrs *, struct response *);
void	 fe_free(struct fielderrs *);

/* A positive 64-bit id written in decimal, nothing else. */
bool	 parse_id(const char *, int64_t *);
/* The {name} path capture as an id, or a 400 answer and false. */
bool	 capture_id(const struct request *, struct response *,
	    const char *name, int64_t *out);

/*
 * The body as a JSON object. On failure answers 400 (with the parser's
 * error and offset) and returns NULL. The caller frees the object with
 * json_object_put().
 */
struct json_object *body_object(const struct request *, struct response *);

/* What a field reader found. JSON null counts as absent. */
enum field_result {
	FIELD_ABSENT,		/* out untouched; an error is added if required */
	FIELD_OK,		/* present and valid: out is set */
	FIELD_INVALID		/* present but invalid: an error is added */
};

enum field_result field_int(struct json_object *, const char *name, int64_t min,
	    int64_t max, bool required, int64_t *out, struct fielderrs *);
/* With ascii, strings must be printable ASCII of minlen..maxlen bytes;
 * otherwise well-formed UTF-8 (no overlong forms, surrogates or code points
 * past U+10FFFF) of minlen..maxlen characters without control characters.
 * The returned pointer belongs to the JSON object. */
enum field_result field_string(struct json_object *, const char *name,
	    size_t minlen,
	    size_t maxlen, bool ascii, bool required, const char **out,
	    struct fielderrs *);
/* An ISO-8601 date-time; no zone means UTC. */
enum field_result field_datetime(struct json_object *, const char *name,
	    bool required,
	    int64_t *ms, struct fielderrs *);

/* Query parameter as an integer in [min, max]; def when absent. */
bool	 query_int(const struct request *, const char *name, int64_t def,
	    int64_t min, int64_t max, int64_t *out, struct fielderrs *);

/* 9999-12-31T23:59:59.999Z: the last instant DATETIME(3) can store. */
#define ISO8601_MAX_MS	INT64_C(253402300799999)

/*
 * Parse "YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM|-HH:MM]" to epoch ms, which must
 * fall from 1970-01-01T00:00:00Z to ISO8601_MAX_MS once the offset is
 * applied.
 */
bool	 parse_iso8601(const char *, int64_t *ms);
/* 1..max bytes of printable ASCII (0x20..0x7e), not all spaces. */
bool	 printable_ascii(const char *, size_t max);

#endif
