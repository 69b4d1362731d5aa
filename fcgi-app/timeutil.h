/* timeutil.h: clocks and ISO-8601 timestamps. No allocation. */
#ifndef BO_TIMEUTIL_H
#define BO_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Monotonic milliseconds and microseconds, for durations and deadlines. */
int64_t	 time_mono_ms(void);
int64_t	 time_mono_us(void);
/* Wall clock, milliseconds since the epoch. */
int64_t	 time_real_ms(void);
/* "2026-11-25T13:00:00.123Z" (UTC) for the given epoch ms into buf. */
void	 time_iso8601_ms(int64_t, char *, size_t);
void	 time_iso8601_now(char *, size_t);
/* "2026-11-25 13:00:00.123" (UTC), a DATETIME(3) literal's text. */
void	 time_sql_datetime(int64_t, char *, size_t);

#endif
