/* cursor.c: positions in event streams, and their text form in SSE ids. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>

#include "core/cursor.h"

int
cursor_cmp(const struct sb_cursor *a, const struct sb_cursor *b)
{
	if (a->xid != b->xid)
		return a->xid < b->xid ? -1 : 1;
	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	return 0;
}

void
cursor_format(const struct sb_cursor *c, char buf[CURSOR_MAX])
{
	if (c->xid == 0)
		snprintf(buf, CURSOR_MAX, "%lld", (long long)c->n);
	else
		snprintf(buf, CURSOR_MAX, "%llu-%lld", (unsigned long long)c->xid,
		    (long long)c->n);
}

/* One decimal number up to max, without sign or spaces; *end after it. */
static int
number(const char *s, unsigned long long max, unsigned long long *v, const char **end)
{
	char *e;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*v = strtoull(s, &e, 10);
	if (errno != 0 || *v > max)
		return -1;
	*end = e;
	return 0;
}

int
cursor_parse(const char *s, struct sb_cursor *c)
{
	unsigned long long	 a, b;
	const char		*end;

	if (s == NULL || number(s, INT64_MAX, &a, &end) < 0)
		return -1;
	if (*end == '\0') {
		c->xid = 0;
		c->n = (int64_t)a;
		return 0;
	}
	if (*end != '-' || number(end + 1, INT64_MAX, &b, &end) < 0 || *end != '\0')
		return -1;
	c->xid = a;
	c->n = (int64_t)b;
	return 0;
}
