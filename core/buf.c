/* buf.c: the growable byte buffer (buf.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"

#define BUF_MIN		64	/* the first allocation */

void
buf_init(struct sb_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

/* Room for n more bytes and the NUL, doubling; -1 past the bound. */
int
buf_reserve(struct sb_buf *b, size_t n)
{
	size_t	 cap;

	if (n > SIZE_MAX - 1 - b->len)
		sb_oom(n);
	if (b->max != 0 && n > b->max - b->len)
		return -1;
	if (b->data != NULL && b->cap - b->len > n)
		return 0;
	cap = b->cap > 0 ? b->cap : BUF_MIN;
	while (cap - b->len <= n) {
		if (cap > SIZE_MAX / 2)
			sb_oom(n);
		cap *= 2;
	}
	b->data = sb_realloc(b->data, cap);
	b->cap = cap;
	b->data[b->len] = '\0';
	return 0;
}

void
buf_commit(struct sb_buf *b, size_t n)
{
	b->len += n;
	b->data[b->len] = '\0';
}

int
buf_append(struct sb_buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	buf_commit(b, n);
	return 0;
}

int
buf_puts(struct sb_buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_vprintf(struct sb_buf *b, const char *fmt, va_list ap)
{
	va_list	 aq;
	int	 n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0 || buf_reserve(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_printf(struct sb_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void
buf_consume(struct sb_buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

void
buf_reset(struct sb_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

char *
buf_steal(struct sb_buf *b, size_t *len)
{
	char	*p = b->data != NULL ? b->data : sb_strdup("");

	if (len != NULL)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void
buf_free(struct sb_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
