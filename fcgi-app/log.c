/* log.c: JSON line logging. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "log.h"
#include "timeutil.h"
#include "xmalloc.h"

static int		log_fd = STDERR_FILENO;
static enum log_level	log_level = LOG_LVL_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

int
log_open(const char *path, enum log_level level, char *err, size_t errlen)
{
	int	fd;

	log_level = level;
	if (path == NULL || *path == '\0') {
		if (log_fd != STDERR_FILENO)
			close(log_fd);
		log_fd = STDERR_FILENO;
		return (0);
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1) {
		snprintf(err, errlen, "cannot open log file %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = fd;
	return (0);
}

static bool
log_enabled(enum log_level level)
{
	return (level <= log_level);
}

void
log_fields(enum log_level level, struct json_object *fields, const char *msg)
{
	struct json_object	*rec;
	char			 ts[40];
	const char		*line;
	char			*out;
	size_t			 len;
	ssize_t			 n;

	if (!log_enabled(level)) {
		json_object_put(fields);
		return;
	}
	time_iso8601_now(ts, sizeof ts);
	/* The fixed fields go first so the lines scan well by eye. */
	rec = json_object_new_object();
	json_object_object_add(rec, "ts", json_object_new_string(ts));
	json_object_object_add(rec, "level",
	    json_object_new_string(level_names[level]));
	json_object_object_add(rec, "pid", json_object_new_int((int)getpid()));
	json_object_object_add(rec, "msg", json_object_new_string(msg));
	if (fields != NULL) {
		json_object_object_foreach(fields, k, v)
			json_object_object_add(rec, k, json_object_get(v));
		json_object_put(fields);
	}
	line = json_object_to_json_string_length(rec,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	/* One write per record keeps lines whole between processes. */
	out = xmalloc(len + 1);
	memcpy(out, line, len);
	out[len] = '\n';
	do {
		n = write(log_fd, out, len + 1);
	} while (n == -1 && errno == EINTR);
	free(out);
	json_object_put(rec);
}

static void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char	msg[1024];

	if (!log_enabled(level))
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	log_fields(level, NULL, msg);
}

#define LOG_FN(name, level)				\
void							\
name(const char *fmt, ...)				\
{							\
	va_list	ap;					\
							\
	va_start(ap, fmt);				\
	log_vmsg(level, fmt, ap);			\
	va_end(ap);					\
}
LOG_FN(log_error, LOG_LVL_ERROR)
LOG_FN(log_warn, LOG_LVL_WARN)
LOG_FN(log_info, LOG_LVL_INFO)
LOG_FN(log_debug, LOG_LVL_DEBUG)

void
fatal(const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_error("fatal: %s", msg);
	exit(1);
}
