/* cron.c: cron expressions and their next tick in a time zone (cron.h). */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/cron.h"

struct field {
	const char	*name;		/* as error messages call it */
	int		 lo, hi;	/* the values it takes */
	const char	*const *names;	/* 3-letter names of lo, lo + 1, ... */
	int		 nnames;
};

static const char *const month_names[] = {
	"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"
};
static const char *const day_names[] = {
	"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"
};

enum { F_MINUTE, F_HOUR, F_DOM, F_MONTH, F_DOW, F_COUNT };

static const struct field fields[F_COUNT] = {
	{ "minute", 0, 59, NULL, 0 },
	{ "hour", 0, 23, NULL, 0 },
	{ "day-of-month", 1, 31, NULL, 0 },
	{ "month", 1, 12, month_names, 12 },
	{ "day-of-week", 0, 7, day_names, 7 },	/* 7 is Sunday again: no name */
};

static const struct {
	const char	*name, *expr;
} macros[] = {
	{ "@hourly", "0 * * * *" },
	{ "@daily", "0 0 * * *" },
	{ "@midnight", "0 0 * * *" },
	{ "@weekly", "0 0 * * 0" },
	{ "@monthly", "0 0 1 * *" },
	{ "@yearly", "0 0 1 1 *" },
	{ "@annually", "0 0 1 1 *" },
};

static void __attribute__((format(printf, 3, 4)))
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* n bytes of s (at most QUOTE_MAX, "..." after when there were more) as printable
 * ASCII, another byte as \xNN: text of the caller's to quote in an error. */
#define QUOTE_MAX	CRON_ZONE_MAX
static const char *
quote(const char *s, size_t n, char out[QUOTE_MAX * 4 + 4])
{
	size_t	 i, o = 0;

	for (i = 0; i < n && i < QUOTE_MAX; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
			out[o++] = s[i];
		else
			o += (size_t)snprintf(out + o, 5, "\\x%02X", (unsigned char)s[i]);
	}
	if (n > QUOTE_MAX) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

static int
blank(char c)
{
	return c == ' ' || c == '\t';
}

/* A value at *p (digits, or a name of f's) into *v, *p moved past it; -1 with err. */
static int
value(const struct field *f, const char **p, const char *end, int *v, char *err,
    size_t errlen)
{
	const char	*s = *p;
	char		 q[QUOTE_MAX * 4 + 4];
	size_t		 n = 0, i;
	int		 x = 0;

	if (s < end && isdigit((unsigned char)*s)) {
		while (s + n < end && isdigit((unsigned char)s[n])) {
			if (x <= 9999)
				x = x * 10 + (s[n] - '0');
			n++;
		}
		if (x < f->lo || x > f->hi) {
			fail(err, errlen, "%s: %s is out of range %d-%d", f->name,
			    quote(s, n, q), f->lo, f->hi);
			return -1;
		}
		*v = x;
		*p = s + n;
		return 0;
	}
	while (s + n < end && isalpha((unsigned char)s[n]))
		n++;
	if (n == 0) {
		if (s == end)
			fail(err, errlen, "%s: a value is missing at the end", f->name);
		else
			fail(err, errlen, "%s: unexpected \"%s\"", f->name, quote(s, 1, q));
		return -1;
	}
	if (f->names == NULL) {
		fail(err, errlen, "%s: \"%s\" is not a number (names are for month and "
		    "day-of-week only)", f->name, quote(s, n, q));
		return -1;
	}
	for (i = 0; n == 3 && i < (size_t)f->nnames; i++) {
		if (strncasecmp(s, f->names[i], 3) == 0) {
			*v = f->lo + (int)i;
			*p = s + n;
			return 0;
		}
	}
	fail(err, errlen, "%s: unknown name \"%s\" (%s)", f->name, quote(s, n, q),
	    f == &fields[F_MONTH] ? "JAN to DEC" : "SUN to SAT");
	return -1;
}

/* One field, the text [s, end), into *bits; -1 with err. */
static int
field(const struct field *f, const char *s, const char *end, uint64_t *bits, char *err,
    size_t errlen)
{
	const char	*item;
	char		 q[QUOTE_MAX * 4 + 4];
	int		 a, b, step, v, star;

	*bits = 0;
	for (;;) {
		item = s;
		if (s == end || *s == ',') {
			fail(err, errlen, "%s: an item of the list is empty", f->name);
			return -1;
		}
		star = *s == '*';
		if (star) {
			a = f->lo;
			b = f->hi;
			s++;
		} else {
			if (value(f, &s, end, &a, err, errlen) < 0)
				return -1;
			b = a;
			if (s < end && *s == '-') {
				s++;
				if (value(f, &s, end, &b, err, errlen) < 0)
					return -1;
				if (b < a) {
					fail(err, errlen, "%s: range %s goes backwards", f->name,
					    quote(item, (size_t)(s - item), q));
					return -1;
				}
			}
		}
		step = 1;
		if (s < end && *s == '/') {
			if (!star && b == a) {
				fail(err, errlen, "%s: a step follows '*' or a range (%d-%d/N), "
				    "not the single value %d", f->name, a, f->hi, a);
				return -1;
			}
			s++;
			if (s == end || !isdigit((unsigned char)*s)) {
				fail(err, errlen, "%s: a step is a number after '/'", f->name);
				return -1;
			}
			step = 0;
			while (s < end && isdigit((unsigned char)*s)) {
				if (step <= 9999)
					step = step * 10 + (*s - '0');
				s++;
			}
			if (step < 1 || step > f->hi - f->lo + 1) {
				fail(err, errlen, "%s: step %s is out of range 1-%d", f->name,
				    quote(item, (size_t)(s - item), q), f->hi - f->lo + 1);
				return -1;
			}
		}
		for (v = a; v <= b; v += step)
			*bits |= UINT64_C(1) << v;
		if (s == end)
			return 0;
		if (*s != ',') {
			fail(err, errlen, "%s: unexpected \"%s\"", f->name, quote(s, 1, q));
			return -1;
		}
		s++;
	}
}

int
cron_parse(const char *expr, struct cron *c, char *err, size_t errlen)
{
	const char	*s, *start[F_COUNT], *end[F_COUNT];
	uint64_t	 bits[F_COUNT];
	size_t		 len, i, n = 0;
	char		 q[QUOTE_MAX * 4 + 4];

	memset(c, 0, sizeof(*c));
	len = strnlen(expr, CRON_EXPR_MAX + 1);
	if (len > CRON_EXPR_MAX) {
		fail(err, errlen, "the expression is longer than %d bytes", CRON_EXPR_MAX);
		return -1;
	}
	s = expr;
	while (blank(*s))
		s++;
	if (*s == '@') {
		for (n = 0; s[n] != '\0' && !blank(s[n]); n++)
			;
		for (i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
			if (strlen(macros[i].name) == n && strncasecmp(s, macros[i].name, n) == 0)
				break;
		if (i == sizeof(macros) / sizeof(macros[0])) {
			fail(err, errlen, "unknown macro \"%s\" (@hourly, @daily, @weekly, "
			    "@monthly or @yearly)", quote(s, n, q));
			return -1;
		}
		for (s += n; blank(*s); s++)
			;
		if (*s != '\0') {
			fail(err, errlen, "nothing may follow %s", macros[i].name);
			return -1;
		}
		return cron_parse(macros[i].expr, c, err, errlen);
	}
	for (n = 0; *s != '\0'; n++) {
		if (n == F_COUNT) {
			fail(err, errlen, "more than 5 fields (minute hour day-of-month month "
			    "day-of-week)");
			return -1;
		}
		start[n] = s;
		while (*s != '\0' && !blank(*s))
			s++;
		end[n] = s;
		while (blank(*s))
			s++;
	}
	if (n < F_COUNT) {
		fail(err, errlen, "%zu field%s, expected 5 (minute hour day-of-month month "
		    "day-of-week)", n, n == 1 ? "" : "s");
		return -1;
	}
	for (i = 0; i < F_COUNT; i++)
		if (field(&fields[i], start[i], end[i], &bits[i], err, errlen) < 0)
			return -1;
	if (bits[F_DOW] & (UINT64_C(1) << 7))
		bits[F_DOW] = (bits[F_DOW] | 1) & 0x7f;
	c->minute = bits[F_MINUTE];
	c->hour = (uint32_t)bits[F_HOUR];
	c->dom = (uint32_t)bits[F_DOM];
	c->month = (uint16_t)bits[F_MONTH];
	c->dow = (uint8_t)bits[F_DOW];
	c->dom_restricted = c->dom != UINT32_C(0xfffffffe);
	c->dow_restricted = c->dow != 0x7f;
	return 0;
}

int
cron_zone_valid(const char *zone, char *err, size_t errlen)
{
	char		 path[sizeof(CRON_ZONEINFO) + CRON_ZONE_MAX + 1], magic[4];
	char		 q[QUOTE_MAX * 4 + 4];
	size_t		 len, i;
	struct stat	 st;
	ssize_t		 r;
	int		 fd;

	len = strnlen(zone, CRON_ZONE_MAX + 1);
	if (len == 0 || len > CRON_ZONE_MAX) {
		fail(err, errlen, "a time zone's name is 1 to %d bytes", CRON_ZONE_MAX);
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (isalnum((unsigned char)zone[i]) || zone[i] == '_' || zone[i] == '+' ||
		    zone[i] == '-')
			continue;
		if (zone[i] == '/' && i > 0 && i + 1 < len && zone[i + 1] != '/')
			continue;
		fail(err, errlen, "time zone \"%s\" is not an IANA name such as "
		    "Europe/Berlin", quote(zone, len, q));
		return -1;
	}
	if (strncmp(zone, "posix/", 6) == 0 || strncmp(zone, "right/", 6) == 0 ||
	    strcmp(zone, "localtime") == 0) {
		fail(err, errlen, "time zone \"%s\": use its plain IANA name", zone);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", CRON_ZONEINFO, zone);
	r = -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) >= 0) {
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			r = read(fd, magic, sizeof(magic));
		close(fd);
	}
	if (r != (ssize_t)sizeof(magic) || memcmp(magic, "TZif", 4) != 0) {
		fail(err, errlen, "unknown time zone \"%s\"", zone);
		return -1;
	}
	return 0;
}

/* The UTC offset (seconds east) of the zone that TZ names now, at instant t. */
static long
offset(int64_t t)
{
	time_t		 tt = (time_t)t;
	struct tm	 tm;

	if (localtime_r(&tt, &tm) == NULL)
		return 0;
	return tm.tm_gmtoff;
}

/*
 * The instant of local time n (seconds since 1970-01-01 00:00 as if the zone were UTC):
 * the earlier of two in a fold; in a gap, the first instant after it (the smallest
 * instant whose local time is later than n).  Offsets come from two days on either side,
 * and from the instants those give: no zone changes its offset twice within two days.
 */
static int64_t
instant(int64_t n)
{
	long	 o[4];
	int64_t	 best = INT64_MAX, lo, hi, mid;
	int	 i;

	o[0] = offset(n - 172800);
	o[1] = offset(n + 172800);
	o[2] = offset(n - o[0]);
	o[3] = offset(n - o[1]);
	for (i = 0; i < 4; i++)
		if (offset(n - o[i]) == o[i] && n - o[i] < best)
			best = n - o[i];
	if (best != INT64_MAX)
		return best;
	/* A gap: local time only grows across it, so search for where it passes n. */
	lo = n - 172800;
	hi = n + 172800;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (mid + offset(mid) > n)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

static int
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int y, int m)
{
	static const int	 days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && leap(y) ? 29 : days[m - 1];
}

static int
day_matches(const struct cron *c, int mday, int wday)
{
	int	 dom = (c->dom >> mday) & 1, dow = (c->dow >> wday) & 1;

	if (c->dom_restricted && c->dow_restricted)
		return dom || dow;
	return dom && dow;
}

/* The search itself, with TZ naming the zone. */
static int
search(const struct cron *c, int64_t after, int64_t *next)
{
	time_t		 t = (time_t)after;
	struct tm	 tm;
	int64_t		 local, day, when;
	int		 y, m, d, wd, h, mi, h0, mi0, days;

	if (localtime_r(&t, &tm) == NULL)
		return -1;
	/* The minute after after's, in local time: the first that could be later. */
	local = after + tm.tm_gmtoff - tm.tm_sec + 60;
	t = (time_t)local;
	if (gmtime_r(&t, &tm) == NULL)
		return -1;
	y = tm.tm_year + 1900;
	m = tm.tm_mon + 1;
	d = tm.tm_mday;
	wd = tm.tm_wday;
	h0 = tm.tm_hour;
	mi0 = tm.tm_min;
	day = local - h0 * 3600 - mi0 * 60;
	for (days = 0; days <= 366 * CRON_SEARCH_YEARS; days++) {
		if (((c->month >> m) & 1) && day_matches(c, d, wd)) {
			for (h = h0; h < 24; h++) {
				if (!((c->hour >> h) & 1))
					continue;
				for (mi = h == h0 ? mi0 : 0; mi < 60; mi++) {
					if (!((c->minute >> mi) & 1))
						continue;
					when = instant(day + h * 3600 + mi * 60);
					if (when > after) {
						*next = when;
						return 0;
					}
				}
			}
		}
		h0 = mi0 = 0;
		day += 86400;
		wd = (wd + 1) % 7;
		if (++d > month_days(y, m)) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
	}
	return -1;
}

int
cron_next(const struct cron *c, const char *zone, int64_t after, int64_t *next, char *err,
    size_t errlen)
{
	char		 tz[sizeof(CRON_ZONEINFO) + CRON_ZONE_MAX + 2];
	const char	*old;
	char		*saved = NULL;
	int		 rc;

	if (cron_zone_valid(zone, err, errlen) < 0)
		return -1;
	if (after < 0 || after > CRON_TIME_MAX) {
		fail(err, errlen, "the time %lld is outside 0 to %lld", (long long)after,
		    (long long)CRON_TIME_MAX);
		return -1;
	}
	if ((old = getenv("TZ")) != NULL)
		saved = sb_strdup(old);
	snprintf(tz, sizeof(tz), ":%s/%s", CRON_ZONEINFO, zone);
	setenv("TZ", tz, 1);
	tzset();
	rc = search(c, after, next);
	if (saved != NULL)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
	if (rc == 0 && *next > CRON_TIME_MAX) {
		fail(err, errlen, "the next time would be after the year 9999");
		return -1;
	}
	if (rc < 0)
		fail(err, errlen, "the expression matches no time in the %d years after "
		    "the given one", CRON_SEARCH_YEARS);
	return rc;
}
