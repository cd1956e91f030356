/* test_cron.c: cron expressions and their next ticks (core/cron.c).  Every expected
 * instant was worked out apart from the code, with date(1): `date -u -d '2026-03-29
 * 01:00 UTC' +%s` for the instant and `TZ=Europe/Berlin date -d @N` for its local time. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cron.h"
#include "tests/unit/unit.h"

static char	 last_err[CRON_ERR_MAX];

/* The next tick of expr in zone after `after`, or -1 with last_err. */
static int64_t
next(const char *expr, const char *zone, int64_t after)
{
	struct cron	 c;
	int64_t		 t;

	last_err[0] = '\0';
	if (cron_parse(expr, &c, last_err, sizeof(last_err)) < 0)
		return -1;
	if (cron_next(&c, zone, after, &t, last_err, sizeof(last_err)) < 0)
		return -1;
	return t;
}

/* The parse error of expr ("" when it parses). */
static const char *
parse_err(const char *expr)
{
	struct cron	 c;

	last_err[0] = '\0';
	if (cron_parse(expr, &c, last_err, sizeof(last_err)) == 0)
		return "";
	return last_err;
}

/* A tick to check: expr's next in zone after `after` is want. */
struct tick {
	const char	*expr, *zone;
	int64_t		 after, want;
};

/* Checks each tick, naming the one that fails (its index given as the line). */
static void
ticks(const struct tick *t, size_t n)
{
	char	 msg[512];
	int64_t	 got;
	size_t	 i;

	for (i = 0; i < n; i++) {
		got = next(t[i].expr, t[i].zone, t[i].after);
		snprintf(msg, sizeof(msg), "next(\"%.80s\", %.40s, %lld) == %lld (got %lld%s%.120s)",
		    t[i].expr, t[i].zone, (long long)t[i].after, (long long)t[i].want,
		    (long long)got, got < 0 ? ": " : "", got < 0 ? last_err : "");
		CU_assertImplementation(got == t[i].want ? CU_TRUE : CU_FALSE, (unsigned)i,
		    msg, __FILE__, "ticks", CU_FALSE);
	}
}

static void
test_cron_parse_good(void)
{
	struct cron	 c;
	char		 err[CRON_ERR_MAX];

	CU_ASSERT_EQUAL_FATAL(cron_parse("*/15 0,12 1-5 * *", &c, err, sizeof(err)), 0);
	CU_ASSERT(c.minute == ((UINT64_C(1) << 0) | (UINT64_C(1) << 15) |
	    (UINT64_C(1) << 30) | (UINT64_C(1) << 45)));
	UNIT_ASSERT_INT(c.hour, (1 << 0) | (1 << 12));
	UNIT_ASSERT_INT(c.dom, 0x3e);
	UNIT_ASSERT_INT(c.month, 0x1ffe);
	UNIT_ASSERT_INT(c.dow, 0x7f);
	UNIT_ASSERT_INT(c.dom_restricted, 1);
	UNIT_ASSERT_INT(c.dow_restricted, 0);

	/* Names in any case, in ranges and lists; 7 is Sunday. */
	CU_ASSERT_EQUAL_FATAL(cron_parse("0 0 * jan-Mar,DEC sun,Tue-thu,7", &c, err,
	    sizeof(err)), 0);
	UNIT_ASSERT_INT(c.month, (1 << 1) | (1 << 2) | (1 << 3) | (1 << 12));
	UNIT_ASSERT_INT(c.dow, (1 << 0) | (1 << 2) | (1 << 3) | (1 << 4));
	CU_ASSERT_EQUAL_FATAL(cron_parse("0 0 * * 5-7", &c, err, sizeof(err)), 0);
	UNIT_ASSERT_INT(c.dow, (1 << 0) | (1 << 5) | (1 << 6));
	CU_ASSERT_EQUAL_FATAL(cron_parse("10-50/20 */6 * * *", &c, err, sizeof(err)), 0);
	CU_ASSERT(c.minute == ((UINT64_C(1) << 10) | (UINT64_C(1) << 30) |
	    (UINT64_C(1) << 50)));
	UNIT_ASSERT_INT(c.hour, (1 << 0) | (1 << 6) | (1 << 12) | (1 << 18));

	/* Restricted means some day left out, however it is written. */
	CU_ASSERT_EQUAL_FATAL(cron_parse("0 0 1-31 * 0-7", &c, err, sizeof(err)), 0);
	UNIT_ASSERT_INT(c.dom_restricted, 0);
	UNIT_ASSERT_INT(c.dow_restricted, 0);
	CU_ASSERT_EQUAL_FATAL(cron_parse("0 0 */2 * */1", &c, err, sizeof(err)), 0);
	UNIT_ASSERT_INT(c.dom_restricted, 1);
	UNIT_ASSERT_INT(c.dow_restricted, 0);

	/* Blanks around and between fields, tabs too. */
	UNIT_ASSERT_STR(parse_err("  0\t0  * *  *  "), "");
	UNIT_ASSERT_STR(parse_err("59 23 31 12 6"), "");

	/* Macros are their expressions. */
	CU_ASSERT_EQUAL_FATAL(cron_parse("@weekly", &c, err, sizeof(err)), 0);
	UNIT_ASSERT_INT(c.minute, 1);
	UNIT_ASSERT_INT(c.hour, 1);
	UNIT_ASSERT_INT(c.dow, 1);
	UNIT_ASSERT_INT(c.dow_restricted, 1);
	UNIT_ASSERT_INT(c.dom_restricted, 0);
	CU_ASSERT_EQUAL_FATAL(cron_parse(" @Monthly ", &c, err, sizeof(err)), 0);
	UNIT_ASSERT_INT(c.dom, 1 << 1);
	UNIT_ASSERT_INT(c.hour, 1);
	CU_ASSERT_EQUAL_FATAL(cron_parse("@hourly", &c, err, sizeof(err)), 0);
	UNIT_ASSERT_INT(c.minute, 1);
	UNIT_ASSERT_INT(c.hour, 0xffffff);
	UNIT_ASSERT_STR(parse_err("@daily"), "");
	UNIT_ASSERT_STR(parse_err("@yearly"), "");
}

static void
test_cron_parse_bad(void)
{
	char	 longexpr[CRON_EXPR_MAX + 2];

	UNIT_ASSERT_STR(parse_err(""), "0 fields, expected 5 (minute hour day-of-month "
	    "month day-of-week)");
	UNIT_ASSERT_STR(parse_err("* * * *"), "4 fields, expected 5 (minute hour "
	    "day-of-month month day-of-week)");
	UNIT_ASSERT_STR(parse_err("0"), "1 field, expected 5 (minute hour day-of-month "
	    "month day-of-week)");
	UNIT_ASSERT_STR(parse_err("* * * * * *"), "more than 5 fields (minute hour "
	    "day-of-month month day-of-week)");
	UNIT_ASSERT_STR(parse_err("60 * * * *"), "minute: 60 is out of range 0-59");
	UNIT_ASSERT_STR(parse_err("0 24 * * *"), "hour: 24 is out of range 0-23");
	UNIT_ASSERT_STR(parse_err("0 0 0 * *"), "day-of-month: 0 is out of range 1-31");
	UNIT_ASSERT_STR(parse_err("0 0 32 * *"), "day-of-month: 32 is out of range 1-31");
	UNIT_ASSERT_STR(parse_err("0 0 * 13 *"), "month: 13 is out of range 1-12");
	UNIT_ASSERT_STR(parse_err("0 0 * 0 *"), "month: 0 is out of range 1-12");
	UNIT_ASSERT_STR(parse_err("0 0 * * 8"), "day-of-week: 8 is out of range 0-7");
	UNIT_ASSERT_STR(parse_err("99999999999999999999 * * * *"),
	    "minute: 99999999999999999999 is out of range 0-59");
	/* What is quoted stops at 64 bytes. */
	UNIT_ASSERT_STR(parse_err("0 0 * * abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
	    "abcdefghijklmnopqrstuvwxyz"), "day-of-week: unknown name \"abcdefghijklmnopqrst"
	    "uvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl...\" (SUN to SAT)");
	UNIT_ASSERT_STR(parse_err("0 0 * FOO *"), "month: unknown name \"FOO\" (JAN to DEC)");
	UNIT_ASSERT_STR(parse_err("0 0 * * MONDAY"),
	    "day-of-week: unknown name \"MONDAY\" (SUN to SAT)");
	UNIT_ASSERT_STR(parse_err("0 0 * JAN-FEBR *"),
	    "month: unknown name \"FEBR\" (JAN to DEC)");
	UNIT_ASSERT_STR(parse_err("0 0 * * JAN"), "day-of-week: unknown name \"JAN\" "
	    "(SUN to SAT)");
	UNIT_ASSERT_STR(parse_err("0 MON * * *"), "hour: \"MON\" is not a number (names "
	    "are for month and day-of-week only)");
	UNIT_ASSERT_STR(parse_err("0 0 20-10 * *"), "day-of-month: range 20-10 goes "
	    "backwards");
	UNIT_ASSERT_STR(parse_err("0 0 * * FRI-MON"), "day-of-week: range FRI-MON goes "
	    "backwards");
	UNIT_ASSERT_STR(parse_err("*/0 * * * *"), "minute: step */0 is out of range 1-60");
	UNIT_ASSERT_STR(parse_err("0 1-5/25 * * *"), "hour: step 1-5/25 is out of range 1-24");
	UNIT_ASSERT_STR(parse_err("5/15 * * * *"), "minute: a step follows '*' or a range "
	    "(5-59/N), not the single value 5");
	UNIT_ASSERT_STR(parse_err("*/ * * * *"), "minute: a step is a number after '/'");
	UNIT_ASSERT_STR(parse_err("*/x * * * *"), "minute: a step is a number after '/'");
	UNIT_ASSERT_STR(parse_err("1,,2 * * * *"), "minute: an item of the list is empty");
	UNIT_ASSERT_STR(parse_err("1, * * * *"), "minute: an item of the list is empty");
	UNIT_ASSERT_STR(parse_err(",1 * * * *"), "minute: an item of the list is empty");
	UNIT_ASSERT_STR(parse_err("0 0 1- * *"), "day-of-month: a value is missing at the "
	    "end");
	UNIT_ASSERT_STR(parse_err("0 0 * * -1"), "day-of-week: unexpected \"-\"");
	UNIT_ASSERT_STR(parse_err("*5 * * * *"), "minute: unexpected \"5\"");
	UNIT_ASSERT_STR(parse_err("0 0 1-5x * *"), "day-of-month: unexpected \"x\"");
	UNIT_ASSERT_STR(parse_err("0 0 ? * *"), "day-of-month: unexpected \"?\"");
	UNIT_ASSERT_STR(parse_err("0 0 * * \x01"), "day-of-week: unexpected \"\\x01\"");
	UNIT_ASSERT_STR(parse_err("0 0 * * \xc3\xa9"), "day-of-week: unexpected \"\\xC3\"");
	UNIT_ASSERT_STR(parse_err("0\n0 * * * *"), "minute: unexpected \"\\x0A\"");
	UNIT_ASSERT_STR(parse_err("@reboot"), "unknown macro \"@reboot\" (@hourly, @daily, "
	    "@weekly, @monthly or @yearly)");
	UNIT_ASSERT_STR(parse_err("@"), "unknown macro \"@\" (@hourly, @daily, @weekly, "
	    "@monthly or @yearly)");
	UNIT_ASSERT_STR(parse_err("@daily 5"), "nothing may follow @daily");
	UNIT_ASSERT_STR(parse_err("0 @daily * * *"), "hour: unexpected \"@\"");

	/* Bounded input: CRON_EXPR_MAX bytes pass the length check, one more does not. */
	memset(longexpr, ' ', sizeof(longexpr));
	memcpy(longexpr, "0 0 * * *", 9);
	longexpr[CRON_EXPR_MAX] = '\0';
	UNIT_ASSERT_STR(parse_err(longexpr), "");
	longexpr[CRON_EXPR_MAX] = ' ';
	longexpr[CRON_EXPR_MAX + 1] = '\0';
	UNIT_ASSERT_STR(parse_err(longexpr), "the expression is longer than 256 bytes");
}

static void
test_cron_zone(void)
{
	static const char *const good[] = {
		"Europe/Berlin", "America/New_York", "UTC", "Etc/GMT+5",
		"America/Argentina/Buenos_Aires", "America/Port-au-Prince",
	};
	static const struct {
		const char	*zone, *err;
	} bad[] = {
		{ "Europe/Atlantis", "unknown time zone \"Europe/Atlantis\"" },
		{ "Europe", "unknown time zone \"Europe\"" },		/* a directory */
		{ "leapseconds", "unknown time zone \"leapseconds\"" },	/* not TZif */
		{ "../../../etc/passwd", "time zone \"../../../etc/passwd\" is not an IANA "
		    "name such as Europe/Berlin" },
		{ "Europe/../Europe/Berlin", "time zone \"Europe/../Europe/Berlin\" is not an "
		    "IANA name such as Europe/Berlin" },
		{ "/etc/localtime", "time zone \"/etc/localtime\" is not an IANA name such as "
		    "Europe/Berlin" },
		{ "Europe//Berlin", "time zone \"Europe//Berlin\" is not an IANA name such as "
		    "Europe/Berlin" },
		{ "Europe/", "time zone \"Europe/\" is not an IANA name such as Europe/Berlin" },
		{ "zone.tab", "time zone \"zone.tab\" is not an IANA name such as "
		    "Europe/Berlin" },
		{ "Europe/Berlin ", "time zone \"Europe/Berlin \" is not an IANA name such as "
		    "Europe/Berlin" },
		{ "UTC\n", "time zone \"UTC\\x0A\" is not an IANA name such as "
		    "Europe/Berlin" },
		{ "right/UTC", "time zone \"right/UTC\": use its plain IANA name" },
		{ "posix/Europe/Berlin", "time zone \"posix/Europe/Berlin\": use its plain "
		    "IANA name" },
		{ "localtime", "time zone \"localtime\": use its plain IANA name" },
		{ "", "a time zone's name is 1 to 64 bytes" },
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		    "a time zone's name is 1 to 64 bytes" },	/* 65 bytes */
	};
	char	 err[CRON_ERR_MAX];
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		UNIT_ASSERT_INT(cron_zone_valid(good[i], err, sizeof(err)), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		UNIT_ASSERT_INT(cron_zone_valid(bad[i].zone, err, sizeof(err)), -1);
		UNIT_ASSERT_STR(err, bad[i].err);
	}

	/* cron_next checks the zone and the instant too. */
	UNIT_ASSERT_INT(next("* * * * *", "../etc/passwd", 0), -1);
	UNIT_ASSERT_CONTAINS(last_err, "is not an IANA name");
	UNIT_ASSERT_INT(next("* * * * *", "UTC", -1), -1);
	UNIT_ASSERT_STR(last_err, "the time -1 is outside 0 to 253402300799");
	UNIT_ASSERT_INT(next("* * * * *", "UTC", CRON_TIME_MAX + 1), -1);
	UNIT_ASSERT_CONTAINS(last_err, "is outside 0 to");
	/* 9999-12-31 23:59 UTC is the last tick there is. */
	UNIT_ASSERT_INT(next("* * * * *", "UTC", CRON_TIME_MAX - 60), CRON_TIME_MAX - 59);
	UNIT_ASSERT_INT(next("* * * * *", "UTC", CRON_TIME_MAX - 59), -1);
	UNIT_ASSERT_STR(last_err, "the next time would be after the year 9999");
}

static void
test_cron_utc(void)
{
	static const struct tick t[] = {
		/* 2026-01-01 00:07 UTC -> 00:15; strictly after: 00:15 -> 00:30. */
		{ "*/15 * * * *", "UTC", 1767226020, 1767226500 },
		{ "*/15 * * * *", "UTC", 1767226500, 1767227400 },
		/* A second past a tick still waits for the next one. */
		{ "*/15 * * * *", "UTC", 1767226501, 1767227400 },
		{ "*/15 * * * *", "UTC", 1767226499, 1767226500 },
		/* Every minute, from the epoch. */
		{ "* * * * *", "UTC", 0, 60 },
		/* Hours: from 2026-01-01 00:07, 06:00 of a list, 12:00 alone. */
		{ "0 6,12 * * *", "UTC", 1767226020, 1767225600 + 6 * 3600 },
		{ "0 12 * * *", "UTC", 1767226020, 1767225600 + 12 * 3600 },
		/* @yearly from 2026-01-01 00:07: 2027-01-01 00:00 (1798761600). */
		{ "@yearly", "UTC", 1767226020, 1798761600 },
		/* Etc/GMT+5 is five hours west: midnight there is 05:00 UTC. */
		{ "@daily", "Etc/GMT+5", 1767226020, 1767225600 + 5 * 3600 },
	};

	ticks(t, sizeof(t) / sizeof(t[0]));
}

static void
test_cron_steps_names(void)
{
	const char	*e = "10-50/20 9-17 * JAN-MAR mon-fri";

	/* Saturday 2026-01-03 00:00 -> Monday 2026-01-05 09:10. */
	UNIT_ASSERT_INT(next(e, "UTC", 1767398400), 1767604200);
	/* Monday 09:50 -> 10:10. */
	UNIT_ASSERT_INT(next(e, "UTC", 1767606600), 1767607800);
	/* Friday 2026-01-09 17:50 -> Monday 2026-01-12 09:10. */
	UNIT_ASSERT_INT(next(e, "UTC", 1767981000), 1768209000);
	/* Tuesday 2026-03-31 17:50 -> Friday 2027-01-01 09:10, past April to December. */
	UNIT_ASSERT_INT(next(e, "UTC", 1774979400), 1798794600);
}

static void
test_cron_days(void)
{
	static const struct tick t[] = {
		/* Both restricted: the 13th or a Friday.  2026-02-01 -> Fri 02-06 -> Fri 13th ->
		 * Fri 02-20. */
		{ "0 0 13 * FRI", "UTC", 1769904000, 1770336000 },
		{ "0 0 13 * FRI", "UTC", 1770336000, 1770940800 },
		{ "0 0 13 * FRI", "UTC", 1770940800, 1771545600 },
		/* The 1st or a Sunday (7): Mon 2026-06-01 -> Sun 06-07; Sun 06-28 -> Wed 07-01
		 * -> Sun 07-05. */
		{ "0 0 1 * 7", "UTC", 1780272000, 1780790400 },
		{ "0 0 1 * 7", "UTC", 1782604800, 1782864000 },
		{ "0 0 1 * 7", "UTC", 1782864000, 1783209600 },
		/* Day-of-week alone: Sundays; day-of-month alone: the 1st. */
		{ "0 0 * * 0", "UTC", 1780272000, 1780790400 },
		{ "0 0 1 * *", "UTC", 1780272000, 1782864000 },
		/* A step restricts: odd days or Mondays, from Monday 06-01: Wednesday 06-03. */
		{ "0 0 */2 * 1", "UTC", 1780272000, 1780272000 + 2 * 86400 },
		/* Every day written out does not: Mondays only, 06-08. */
		{ "0 0 1-31 * 1", "UTC", 1780272000, 1780876800 },
	};

	ticks(t, sizeof(t) / sizeof(t[0]));
}

static void
test_cron_month_ends(void)
{
	/* The 31st: from 2026-04-01, not in April, 2026-05-31; from 01-31, 03-31. */
	UNIT_ASSERT_INT(next("0 0 31 * *", "UTC", 1775001600), 1780185600);
	UNIT_ASSERT_INT(next("0 0 31 * *", "UTC", 1769817600), 1774915200);
	/* Leap years: Feb 29 from 2026-01-01 is 2028-02-29, in Berlin 2028-02-28 23:00 UTC. */
	UNIT_ASSERT_INT(next("0 0 29 2 *", "UTC", 1767225600), 1835395200);
	UNIT_ASSERT_INT(next("0 0 29 2 *", "Europe/Berlin", 1767225600), 1835391600);
	/* 2100 is not a leap year: from 2096-03-01 the next Feb 29 is 2104's. */
	UNIT_ASSERT_INT(next("0 0 29 2 *", "UTC", 3981398400), 4233686400);
	/* Never: February 30th, April 31st. */
	UNIT_ASSERT_INT(next("0 0 30 2 *", "UTC", 1767225600), -1);
	UNIT_ASSERT_STR(last_err, "the expression matches no time in the 10 years after "
	    "the given one");
	UNIT_ASSERT_INT(next("0 0 31 4,6,9,11 *", "Europe/Berlin", 1767225600), -1);
	UNIT_ASSERT_CONTAINS(last_err, "matches no time");
	/* But with a day-of-week, either matches: Feb 30 or a Monday of February,
	 * the first of them Monday 2026-02-02 (Sunday 02-01 is 1769904000). */
	UNIT_ASSERT_INT(next("0 0 30 2 MON", "UTC", 1767225600), 1769904000 + 86400);
}

static void
test_cron_berlin(void)
{
	static const struct tick t[] = {
		/* 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00 UTC).  A daily 02:30 runs at
		 * 03:00 CEST that day (2026-03-28 12:00 UTC -> 2026-03-29 01:00 UTC), then at
		 * 02:30 CEST (2026-03-30 00:30 UTC). */
		{ "30 2 * * *", "Europe/Berlin", 1774699200, 1774746000 },
		{ "30 2 * * *", "Europe/Berlin", 1774746000, 1774830600 },
		/* Every quarter hour from 01:50 CET (00:50 UTC): the gap's four make one tick at
		 * 03:00 CEST, then 03:15 CEST (01:15 UTC). */
		{ "*/15 * * * *", "Europe/Berlin", 1774745400, 1774746000 },
		{ "*/15 * * * *", "Europe/Berlin", 1774746000, 1774746900 },
		/* Hourly from 01:00 CET: 03:00 CEST, then 04:00 CEST (02:00 UTC). */
		{ "0 * * * *", "Europe/Berlin", 1774742400, 1774746000 },
		{ "0 * * * *", "Europe/Berlin", 1774746000, 1774749600 },
	
		/* 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:00-02:59 twice.  A
		 * daily 02:30 runs at the first, 02:30 CEST (00:30 UTC), not again at 02:30 CET
		 * (01:30 UTC), and the next day at 02:30 CET (2026-10-26 01:30 UTC). */
		{ "30 2 * * *", "Europe/Berlin", 1792843200, 1792888200 },
		{ "30 2 * * *", "Europe/Berlin", 1792888200, 1792978200 },
		/* Every half hour from 02:45 CEST (00:45 UTC): the repeated 02:00 and 02:30 CET
		 * are not run again, the next is 03:00 CET (02:00 UTC). */
		{ "*/30 * * * *", "Europe/Berlin", 1792889100, 1792893600 },
		/* From inside the repeated hour (02:10 CET, 01:10 UTC): 03:00 CET too. */
		{ "*/30 * * * *", "Europe/Berlin", 1792890600, 1792893600 },
		/* Every minute through the fold: 02:59 CEST (00:59 UTC) is followed by 03:00 CET. */
		{ "* * * * *", "Europe/Berlin", 1792889940, 1792893600 },
	};

	ticks(t, sizeof(t) / sizeof(t[0]));
}

static void
test_cron_new_york(void)
{
	static const struct tick t[] = {
		/* 2026-03-08: 02:00 EST becomes 03:00 EDT (07:00 UTC).  02:30 runs at 03:00 EDT,
		 * then 2026-03-09 02:30 EDT (06:30 UTC). */
		{ "30 2 * * *", "America/New_York", 1772884800, 1772953200 },
		{ "30 2 * * *", "America/New_York", 1772953200, 1773037800 },
		/* 2026-11-01: 02:00 EDT becomes 01:00 EST (06:00 UTC).  01:30 runs at 01:30 EDT
		 * (05:30 UTC), not at 01:30 EST, then 2026-11-02 01:30 EST (06:30 UTC). */
		{ "30 1 * * *", "America/New_York", 1793448000, 1793511000 },
		{ "30 1 * * *", "America/New_York", 1793511000, 1793601000 },
		/* Australia/Lord_Howe moves by half an hour: 2026-10-04 02:00 +1030 becomes
		 * 02:30 +11 (2026-10-03 15:30 UTC).  A daily 02:15, from 2026-10-02 22:30
		 * +1030: 10-03 02:15 +1030 (10-02 15:45 UTC), then 02:30 +11, then 10-05 02:15
		 * +11 (10-04 15:15 UTC). */
		{ "15 2 * * *", "Australia/Lord_Howe", 1790942400, 1790955900 },
		{ "15 2 * * *", "Australia/Lord_Howe", 1790955900, 1791041400 },
		{ "15 2 * * *", "Australia/Lord_Howe", 1791041400, 1791126900 },
		/* Midnight on a Sunday (@weekly) in Berlin: 2026-06-07 00:00 CEST, 06-06 22:00 UTC. */
		{ "@weekly", "Europe/Berlin", 1780272000, 1780790400 - 7200 },
	};

	ticks(t, sizeof(t) / sizeof(t[0]));
}

static void
test_cron_tz_restored(void)
{
	const char	*tz;

	setenv("TZ", "America/New_York", 1);
	UNIT_ASSERT_INT(next("0 0 * * *", "UTC", 1767226020), 1767225600 + 86400);
	tz = getenv("TZ");
	UNIT_ASSERT_STR(tz, "America/New_York");
	unsetenv("TZ");
	UNIT_ASSERT_INT(next("0 0 * * *", "Europe/Berlin", 1767226020), 1767225600 + 86400 -
	    3600);
	CU_ASSERT_PTR_NULL(getenv("TZ"));
}

void
suite_cron(void)
{
	CU_pSuite s = unit_suite("cron", NULL, NULL);

	unit_test(s, "expressions: fields, lists, ranges, steps, names, macros", test_cron_parse_good);
	unit_test(s, "each error names its field and what is wrong", test_cron_parse_bad);
	unit_test(s, "time zones: names of the tz database, no paths", test_cron_zone);
	unit_test(s, "next ticks in UTC, strictly after", test_cron_utc);
	unit_test(s, "steps and names", test_cron_steps_names);
	unit_test(s, "day-of-month or day-of-week", test_cron_days);
	unit_test(s, "month ends, leap years, never", test_cron_month_ends);
	unit_test(s, "Europe/Berlin across both DST changes", test_cron_berlin);
	unit_test(s, "America/New_York across both DST changes, Lord Howe's half hour", test_cron_new_york);
	unit_test(s, "the process's TZ is left as it was", test_cron_tz_restored);
}
