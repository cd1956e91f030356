/* cron.h: the cron expressions of schedules (issue 14) and their next tick in a time
 * zone, shared by the API (to check an expression and show next_run_at) and the worker
 * (to make the ticks).
 *
 * An expression has five fields, minute hour day-of-month month day-of-week, separated
 * by spaces or tabs.  A field is a list of items ("1,5,9"); an item is "*", a value or
 * a range ("1-5"), and "*" or a range may take a step "/N" ("0-59/15" is every quarter
 * hour, as is "*" with "/15"; "10-50/10").  Months
 * may be named JAN-DEC and days SUN-SAT, in any case; day-of-week 7 is Sunday, as 0 is.
 * The macros @hourly, @daily (@midnight), @weekly, @monthly and @yearly (@annually)
 * stand for "0 * * * *", "0 0 * * *", "0 0 * * 0", "0 0 1 * *" and "0 0 1 1 *".
 *
 * Day-of-month and day-of-week: a field is restricted when its values leave out some
 * day (so "*", "1-31" and "0-7" are not, nor "*" with the step "/1").  When both are restricted a day
 * matches if either does ("0 0 13 * FRI" runs on every 13th and every Friday), as in
 * POSIX crontab and every cron since Vixie's: expressions copied from elsewhere mean
 * here what they meant there.  When only one is restricted, it alone decides.  Unlike
 * Vixie cron, which calls a field unrestricted when its text starts with '*', "*" with
 * the step "/2" is restricted here: the rule follows the days a field names, not how it is written.
 *
 * Time zones: an IANA name, read from the system's tz database (CRON_ZONEINFO) by libc.
 * A local time that a spring-forward gap skips runs at the first instant after the gap
 * (a daily 02:30 runs at 03:00 on that day; several times of one gap make one tick); a
 * local time that a fall-back fold repeats runs once, at its first occurrence.
 *
 * Nothing here logs or keeps state; nothing allocates what it returns. */
#ifndef SB_CORE_CRON_H
#define SB_CORE_CRON_H

#include <stddef.h>
#include <stdint.h>

#define CRON_EXPR_MAX	256	/* bytes of an expression */
#define CRON_ZONE_MAX	64	/* bytes of a time zone's name */
#define CRON_ERR_MAX	384	/* room for any error message here */
#define CRON_SEARCH_YEARS 10	/* how far ahead cron_next looks (Feb 29 may be 8 years off) */
#define CRON_TIME_MAX	INT64_C(253402300799)	/* 9999-12-31T23:59:59Z: the last instant */
#define CRON_ZONEINFO	"/usr/share/zoneinfo"

/* A parsed expression: bit n of a field set when the field matches n. */
struct cron {
	uint64_t	 minute;	/* bits 0-59 */
	uint32_t	 hour;		/* bits 0-23 */
	uint32_t	 dom;		/* bits 1-31 */
	uint16_t	 month;		/* bits 1-12 */
	uint8_t		 dow;		/* bits 0-6, Sunday 0 (7 folded into 0) */
	unsigned	 dom_restricted:1, dow_restricted:1;
};

/* 0 with *c filled when expr is an expression of the form above; -1 with err saying
 * which field and what is wrong ("hour: 24 is out of range 0-23"), fit to show an API
 * caller (bytes quoted from expr are printable ASCII or \xNN). */
int	 cron_parse(const char *expr, struct cron *c, char *err, size_t errlen);

/* 0 if zone names a time zone of the tz database ("Europe/Berlin", "UTC"): letters,
 * digits, '_', '+' and '-' in components separated by '/', no '.' (so no "..") and no
 * empty component, not under posix/ or right/ (leap seconds would shift every tick),
 * and a TZif file under CRON_ZONEINFO.  -1 with err otherwise. */
int	 cron_zone_valid(const char *zone, char *err, size_t errlen);

/*
 * The first instant (Unix seconds) strictly after `after` at which c matches the local
 * time of zone, into *next: 0, or -1 with err when zone is not valid (cron_zone_valid),
 * `after` is outside 0..CRON_TIME_MAX, or c matches no time in the CRON_SEARCH_YEARS
 * after it ("0 0 30 2 *").  Gaps and folds as said above.
 *
 * The zone is read by libc's localtime_r, which knows only the process's TZ: this sets
 * TZ to the zone's file, calls tzset, and puts TZ back as it found it (and tzset again)
 * before it returns.  Nothing else runs meanwhile in Switchboard's callers, which are
 * single-threaded (the fcgi workers, the worker daemon), and their logs are in UTC
 * anyway.  Not for a process whose other threads read local time or the environment:
 * setenv and unsetenv are not thread-safe, and libcurl's threaded resolver reads a few
 * variables in a thread of its own (getaddrinfo) while a transfer starts.  A process
 * that makes ticks while transfers are under way should set TZ once when it starts
 * (":/etc/localtime" is what an unset TZ means): then only its value changes here, and
 * glibc neither moves the environment's array nor frees an old value.
 */
int	 cron_next(const struct cron *c, const char *zone, int64_t after, int64_t *next,
	    char *err, size_t errlen);

#endif /* SB_CORE_CRON_H */
