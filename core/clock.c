/* clock.c: monotonic and wall-clock time. */
#include "config.h"

#include <time.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/clock.h"

int64_t
clock_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
clock_real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
clock_iso8601(char buf[32])
{
	clock_iso8601_ms(clock_real_ms(), buf);
}

void
clock_iso8601_ms(int64_t ms, char buf[32])
{
	time_t		 s = (time_t)(ms / 1000);
	struct tm	 tm;
	size_t		 n;

	gmtime_r(&s, &tm);
	n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}
