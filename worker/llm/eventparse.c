/* eventparse.c: the worker's parser of provider event streams: an incremental, bounded decoder
 * of server-sent events (text/event-stream). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>

#include "core/buf.h"
#include "worker/llm/wire.h"

void
evp_init(struct evp_parser *d, size_t max, evp_event_fn *fn, void *arg)
{
	memset(d, 0, sizeof(*d));
	d->max = max;
	d->fn = fn;
	d->arg = arg;
}

void
evp_free(struct evp_parser *d)
{
	buf_free(&d->line);
	buf_free(&d->data);
	buf_free(&d->type);
	buf_free(&d->id);
}

static int
evp_fail(struct evp_parser *d, const char *what)
{
	d->failed = 1;
	snprintf(d->err, sizeof(d->err), "%s over %zu bytes", what, d->max);
	return -1;
}

/* A blank line: hands the event to the callback, unless it carried no data. */
static int
evp_dispatch(struct evp_parser *d)
{
	struct evp_event	 ev;
	int			 rc;

	if (d->data.len == 0) {
		d->type.len = 0;
		return 0;
	}
	/* Every data line added a "\n"; the last one is not part of the data. */
	d->data.data[--d->data.len] = '\0';
	ev.type = d->type.len > 0 ? d->type.data : "message";
	ev.data = d->data.data;
	ev.len = d->data.len;
	ev.id = d->id.len > 0 ? d->id.data : "";
	rc = d->fn(d->arg, &ev);
	d->data.len = 0;
	d->type.len = 0;
	return rc;
}

/* One whole line, without its ending. */
static int
evp_line(struct evp_parser *d, const char *s, size_t n)
{
	const char	*colon, *val;
	size_t		 namelen, vlen;

	if (!d->started) {
		d->started = 1;
		if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
			s += 3;
			n -= 3;
		}
	}
	if (n == 0)
		return evp_dispatch(d);
	if (s[0] == ':')
		return 0;	/* a comment: a keep-alive, for most servers */
	if ((colon = memchr(s, ':', n)) != NULL) {
		namelen = (size_t)(colon - s);
		val = colon + 1;
		vlen = n - namelen - 1;
		if (vlen > 0 && val[0] == ' ') {
			val++;
			vlen--;
		}
	} else {
		namelen = n;
		val = "";
		vlen = 0;
	}
	if (namelen == 4 && memcmp(s, "data", 4) == 0) {
		if (d->data.len + vlen + 1 > d->max)
			return evp_fail(d, "event");
		buf_append(&d->data, val, vlen);
		buf_append(&d->data, "\n", 1);
	} else if (namelen == 5 && memcmp(s, "event", 5) == 0) {
		d->type.len = 0;
		buf_append(&d->type, val, vlen);
	} else if (namelen == 2 && memcmp(s, "id", 2) == 0) {
		/* The standard ignores an id holding a NUL. */
		if (memchr(val, '\0', vlen) == NULL) {
			d->id.len = 0;
			buf_append(&d->id, val, vlen);
		}
	}
	/* "retry" and unknown fields are ignored. */
	return 0;
}

int
evp_feed(struct evp_parser *d, const char *buf, size_t len)
{
	size_t	 i;
	int	 rc;

	if (d->failed)
		return -1;
	while (len > 0) {
		if (d->cr) {
			d->cr = 0;
			if (buf[0] == '\n') {
				buf++;
				len--;
				continue;
			}
		}
		for (i = 0; i < len && buf[i] != '\n' && buf[i] != '\r'; i++)
			;
		if (d->line.len + i > d->max)
			return evp_fail(d, "line");
		if (i == len) {
			buf_append(&d->line, buf, len);
			return 0;
		}
		/* A line within buf is decoded where it lies; only a split one is copied. */
		if (d->line.len > 0) {
			buf_append(&d->line, buf, i);
			rc = evp_line(d, d->line.data, d->line.len);
			d->line.len = 0;
		} else
			rc = evp_line(d, buf, i);
		if (rc != 0)
			return rc;
		d->cr = buf[i] == '\r';
		buf += i + 1;
		len -= i + 1;
	}
	return 0;
}
