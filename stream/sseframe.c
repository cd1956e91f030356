/* sseframe.c: the text/event-stream encoding of an event and of a retry hint (no I/O). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <stddef.h>

#include "core/arena.h"
#include "stream/sseframe.h"

/* Appends n bytes at *p and moves *p past them. */
static void
put(char **p, const char *s, size_t n)
{
	memcpy(*p, s, n);
	*p += n;
}

char *
sse_frame(const char *id, const char *type, const char *data, size_t *len)
{
	size_t		 lines = 1, n, cap;
	const char	*s;
	char		*f, *p;

	for (s = data; *s != '\0'; s++)
		if (*s == '\n' || (*s == '\r' && s[1] != '\n'))
			lines++;
	cap = strlen(data) + lines * sizeof("data: \n") + sizeof("\n");
	if (id != NULL)
		cap += strlen(id) + sizeof("id: \n");
	if (type != NULL)
		cap += strlen(type) + sizeof("event: \n");
	p = f = sb_malloc(cap);
	if (id != NULL) {
		put(&p, "id: ", 4);
		put(&p, id, strlen(id));
		put(&p, "\n", 1);
	}
	if (type != NULL) {
		put(&p, "event: ", 7);
		put(&p, type, strlen(type));
		put(&p, "\n", 1);
	}
	for (s = data;; ) {
		n = strcspn(s, "\r\n");
		put(&p, "data: ", 6);
		put(&p, s, n);
		put(&p, "\n", 1);
		s += n;
		if (*s == '\0')
			break;
		s += s[0] == '\r' && s[1] == '\n' ? 2 : 1;
	}
	put(&p, "\n", 1);
	*p = '\0';
	*len = (size_t)(p - f);
	return f;
}

size_t
sse_retry(char buf[SSE_RETRY_MAX], int ms)
{
	return (size_t)snprintf(buf, SSE_RETRY_MAX, "retry: %d\n\n", ms);
}
