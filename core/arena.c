/* arena.c: the out-of-memory policy and the per-request bump allocator, with the
 * cleanups a request registers (libpq results, JSON values) run when it is reset.
 * The browser app (web/) compiles it for wasm32 too, without the libpq and jansson
 * cleanups. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#ifndef __wasm__
#include <jansson.h>
#include <libpq-fe.h>
#endif

#include "core/arena.h"

void
sb_oom(size_t n)
{
	char	 buf[128];
	int	 len;

	/* No allocation here: write the line by hand, then abort. */
	len = snprintf(buf, sizeof(buf),
	    "{\"level\":\"error\",\"msg\":\"out of memory\",\"bytes\":%zu}\n", n);
	if (len > 0)
		(void)!write(STDERR_FILENO, buf, (size_t)len);
	abort();
}

void *
sb_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		sb_oom(n);
	return p;
}

void *
sb_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		sb_oom(n * size);
	return p;
}

void *
sb_realloc(void *old, size_t n)
{
	void *p = realloc(old, n ? n : 1);

	if (p == NULL)
		sb_oom(n);
	return p;
}

char *
sb_strdup(const char *s)
{
	size_t	 n = strlen(s) + 1;

	return memcpy(sb_malloc(n), s, n);
}

struct chunk {
	struct chunk	*next;
	size_t		 size;		/* usable bytes after the header */
	size_t		 used;
	unsigned char	 data[] __attribute__((aligned(16)));
};

/* A cleanup registered by arena_defer(), kept in the arena itself. */
struct deferred {
	struct deferred	*next;		/* the one registered before */
	void		(*fn)(void *);
	void		*p;
};

struct sb_arena {
	struct chunk	*head;		/* current chunk; the first one is last in the list */
	struct deferred	*deferred;	/* newest first */
	size_t		 chunk_size;
	size_t		 used;		/* bytes handed out since the last reset */
};

static struct chunk *
chunk_new(size_t size)
{
	struct chunk *c = sb_malloc(sizeof(*c) + size);

	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

struct sb_arena *
arena_new(size_t chunk_size)
{
	struct sb_arena *a = sb_malloc(sizeof(*a));

	a->chunk_size = chunk_size < 1024 ? 1024 : chunk_size;
	a->head = chunk_new(a->chunk_size);
	a->deferred = NULL;
	a->used = 0;
	return a;
}

void *
arena_alloc(struct sb_arena *a, size_t n)
{
	struct chunk	*c = a->head;
	size_t		 need = (n + 15) & ~(size_t)15;
	void		*p;

	if (need < n)
		sb_oom(n);
	if (c->size - c->used < need) {
		/* Oversized requests get a chunk of their own. */
		c = chunk_new(need > a->chunk_size ? need : a->chunk_size);
		c->next = a->head;
		a->head = c;
	}
	p = c->data + c->used;
	c->used += need;
	a->used += need;
	return p;
}

void *
arena_calloc(struct sb_arena *a, size_t n, size_t size)
{
	void	*p;

	if (size != 0 && n > SIZE_MAX / size)
		sb_oom(SIZE_MAX);
	p = arena_alloc(a, n * size);
	return memset(p, 0, n * size);
}

char *
arena_strndup(struct sb_arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(struct sb_arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *
arena_printf(struct sb_arena *a, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;
	char	*p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return arena_strdup(a, "");
	p = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void
arena_defer(struct sb_arena *a, void (*fn)(void *), void *p)
{
	struct deferred *d = arena_alloc(a, sizeof(*d));

	d->fn = fn;
	d->p = p;
	d->next = a->deferred;
	a->deferred = d;
}

#ifndef __wasm__
static void
pq_clear(void *p)
{
	PQclear(p);
}

static void
json_drop(void *p)
{
	json_decref(p);
}

PGresult *
arena_adopt_result(struct sb_arena *a, PGresult *res)
{
	if (res != NULL)
		arena_defer(a, pq_clear, res);
	return res;
}

json_t *
arena_adopt_json(struct sb_arena *a, json_t *v)
{
	if (v != NULL)
		arena_defer(a, json_drop, v);
	return v;
}
#endif /* __wasm__ */

void
arena_reset(struct sb_arena *a)
{
	struct chunk	*c;
	struct deferred	*d;

	/* Newest first, while the memory they may point into is still there; one that
	 * registers another gets it run too. */
	while ((d = a->deferred) != NULL) {
		a->deferred = d->next;
		d->fn(d->p);
	}
	while (a->head->next != NULL) {
		c = a->head;
		a->head = c->next;
		free(c);
	}
	a->head->used = 0;
	a->used = 0;
}

void
arena_free(struct sb_arena *a)
{
	if (a == NULL)
		return;
	arena_reset(a);
	free(a->head);
	free(a);
}

size_t
arena_used(const struct sb_arena *a)
{
	return a->used;
}

size_t
arena_reserved(const struct sb_arena *a)
{
	const struct chunk	*c;
	size_t			 n = 0;

	for (c = a->head; c != NULL; c = c->next)
		n += c->size;
	return n;
}
