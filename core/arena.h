/* arena.h: memory.  The out-of-memory policy (allocate or abort) and the arena that
 * holds a request's memory: what an arena hands out lives until arena_reset() or
 * arena_free(), and the arena's creator owns it. */
#ifndef SB_CORE_ARENA_H
#define SB_CORE_ARENA_H

#include <stddef.h>
#include <stdio.h>
#ifndef __wasm__
#include <jansson.h>
#include <libpq-fe.h>
#endif

/* Out-of-memory policy: every allocation in Switchboard either succeeds or the
 * process logs one line and aborts (like Redis' zmalloc).  A prefork worker or
 * the worker daemon is restarted by its supervisor; no caller checks for NULL. */
void	*sb_malloc(size_t);
void	*sb_calloc(size_t, size_t);
void	*sb_realloc(void *, size_t);
char	*sb_strdup(const char *);
void	 sb_oom(size_t) __attribute__((noreturn));

/* A bump allocator for per-request memory: everything a request allocates
 * is released at once by arena_reset() at the end of the request. */
struct sb_arena;

struct sb_arena	*arena_new(size_t chunk_size);	/* caller owns; arena_free() */
void		*arena_alloc(struct sb_arena *, size_t);	/* 16-byte aligned, never NULL */
void		*arena_calloc(struct sb_arena *, size_t, size_t);
char		*arena_strdup(struct sb_arena *, const char *);
char		*arena_strndup(struct sb_arena *, const char *, size_t);
char		*arena_printf(struct sb_arena *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
/* Registers fn(p) to run when the arena is next reset or freed: cleanups run newest
 * first, before any memory is released.  The record lives in the arena: a cleanup
 * per row of a bounded result is fine, one per event of an endless stream is not. */
void		 arena_defer(struct sb_arena *, void (*fn)(void *), void *p);
#ifndef __wasm__
/* The arena owns res (PQclear at reset) or v (one reference: json_decref at reset)
 * from now on; returned as given, NULL included (nothing registered).  (Not in the
 * browser app's build, web/, which has neither library.) */
PGresult	*arena_adopt_result(struct sb_arena *, PGresult *res);
json_t		*arena_adopt_json(struct sb_arena *, json_t *v);
#endif
void		 arena_reset(struct sb_arena *);	/* runs the cleanups; frees all but the
							 * first chunk */
void		 arena_free(struct sb_arena *);
size_t		 arena_used(const struct sb_arena *);
size_t		 arena_reserved(const struct sb_arena *);

#endif /* SB_CORE_ARENA_H */
