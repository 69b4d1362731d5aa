/*
 * log.h: one JSON object per line, to stderr or a file.
 *
 * Every record has ts, level, pid and msg. Request records add the request
 * id, method, path, status and duration so a client's X-Request-Id leads
 * straight to the line. Internal error text (SQL, Redis) goes here and never
 * to a client.
 */
#ifndef BO_LOG_H
#define BO_LOG_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/*
 * Open path for appending (NULL or "" means stderr). Returns 0, or -1 with a
 * message in err. May be called again to reopen after rotation.
 */
int	 log_open(const char *path, enum log_level, char *err, size_t errlen)
	    __attribute__((warn_unused_result));

void	 log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));

/*
 * Write a record with extra fields. Takes ownership of fields (a JSON object,
 * may be NULL) and adds ts, level, pid and msg to it.
 */
void	 log_fields(enum log_level, struct json_object *fields, const char *msg);
/* Log a message and exit(1). For conditions the process cannot survive. */
void	 fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
