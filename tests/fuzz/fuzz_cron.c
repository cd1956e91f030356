/* fuzz_cron.c: cron expressions of schedules and their next ticks in a time zone
 * (core/cron.c), from any bytes. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cron.h"
#include "tests/fuzz/fuzz.h"

/* Zones with what makes them hard: two DST rules, a 30-minute DST change (Lord Howe),
 * a day skipped (Apia, 2011-12-30), an offset of 5:45 (Kathmandu), none (UTC). */
static const char *const zones[] = {
	"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Pacific/Apia",
	"Asia/Kathmandu", "Europe/../etc", "No/Such_Zone",
};

/* An error message is non-empty printable ASCII that fits its buffer. */
static void
check_err(const char *err)
{
	size_t	 i, n = strlen(err);

	FUZZ_ASSERT(n > 0 && n < CRON_ERR_MAX);
	for (i = 0; i < n; i++)
		FUZZ_ASSERT(err[i] >= 0x20 && err[i] < 0x7f);
}

static int
day_matches(const struct cron *c, const struct tm *tm)
{
	int	 dom = (c->dom >> tm->tm_mday) & 1, dow = (c->dow >> tm->tm_wday) & 1;

	if (c->dom_restricted && c->dow_restricted)
		return dom || dow;
	return dom && dow;
}

/*
 * Bytes 0-4: the instant `after` (modulo CRON_TIME_MAX + 1); byte 5: the zone; the
 * rest: the expression.  A refused expression or zone has an error of printable ASCII;
 * a parsed one has its bits within each field's range and none empty.  A next tick is
 * later than `after`, at most CRON_TIME_MAX, the same from the second before it (no
 * tick lies between), and in the zone's local time matches the expression, unless it
 * is the first instant after a gap (the offset changes there).  TZ is as it was.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		 expr[CRON_EXPR_MAX + 2], err[CRON_ERR_MAX];
	const char	*zone;
	struct cron	 c;
	struct tm	 tm, before;
	int64_t		 after = 0, next, again;
	time_t		 t;
	size_t		 i, n;
	int		 rc;

	if (size < 6)
		return 0;
	for (i = 0; i < 5; i++)
		after = after << 8 | data[i];
	after %= CRON_TIME_MAX + 1;
	zone = zones[data[5] % (sizeof(zones) / sizeof(zones[0]))];
	n = size - 6 < sizeof(expr) - 1 ? size - 6 : sizeof(expr) - 1;
	memcpy(expr, data + 6, n);
	expr[n] = '\0';

	err[0] = '\0';
	if (cron_parse(expr, &c, err, sizeof(err)) < 0) {
		check_err(err);
		return 0;
	}
	FUZZ_ASSERT(c.minute != 0 && c.minute < UINT64_C(1) << 60);
	FUZZ_ASSERT(c.hour != 0 && c.hour < UINT32_C(1) << 24);
	FUZZ_ASSERT(c.dom != 0 && (c.dom & 1) == 0);
	FUZZ_ASSERT(c.month != 0 && (c.month & 1) == 0 && c.month < 1 << 13);
	FUZZ_ASSERT(c.dow != 0 && c.dow < 1 << 7);

	setenv("TZ", "UTC0", 1);
	err[0] = '\0';
	rc = cron_next(&c, zone, after, &next, err, sizeof(err));
	FUZZ_ASSERT(strcmp(getenv("TZ"), "UTC0") == 0);
	if (rc < 0) {
		check_err(err);
		return 0;
	}
	FUZZ_ASSERT(next > after && next <= CRON_TIME_MAX);
	FUZZ_ASSERT(cron_next(&c, zone, next - 1, &again, err, sizeof(err)) == 0);
	FUZZ_ASSERT(again == next);

	/* The local time of the tick, read the way cron.c reads it. */
	setenv("TZ", strcmp(zone, "UTC") == 0 ? "UTC0" : zone, 1);
	tzset();
	t = (time_t)next;
	FUZZ_ASSERT(localtime_r(&t, &tm) != NULL);
	t = (time_t)(next - 1);
	FUZZ_ASSERT(localtime_r(&t, &before) != NULL);
	setenv("TZ", "UTC0", 1);
	tzset();
	if (before.tm_gmtoff != tm.tm_gmtoff)
		return 0;
	FUZZ_ASSERT(tm.tm_sec == 0);
	FUZZ_ASSERT((c.minute >> tm.tm_min) & 1);
	FUZZ_ASSERT((c.hour >> tm.tm_hour) & 1);
	FUZZ_ASSERT((c.month >> (tm.tm_mon + 1)) & 1);
	FUZZ_ASSERT(day_matches(&c, &tm));
	return 0;
}
