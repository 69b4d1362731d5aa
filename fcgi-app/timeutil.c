/* timeutil.c: clocks and ISO-8601 timestamps. */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include "timeutil.h"

int64_t
time_mono_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

int64_t
time_mono_ms(void)
{
	return (time_mono_us() / 1000);
}

int64_t
time_real_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

void
time_iso8601_ms(int64_t ms, char *buf, size_t len)
{
	time_t		secs = (time_t)(ms / 1000);
	struct tm	tm;

	gmtime_r(&secs, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

void
time_iso8601_now(char *buf, size_t len)
{
	time_iso8601_ms(time_real_ms(), buf, len);
}

void
time_sql_datetime(int64_t ms, char *buf, size_t len)
{
	time_t		secs = (time_t)(ms / 1000);
	struct tm	tm;

	gmtime_r(&secs, &tm);
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d.%03d",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}
