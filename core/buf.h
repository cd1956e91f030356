/* buf.h: one growable byte buffer, for every byte string built piece by piece (bodies
 * being received, records being written, lines being gathered).
 *
 * The buffer owns data; buf_steal() hands it to the caller, buf_free() releases it.
 * A zeroed struct sb_buf is an empty buffer without a bound.  While data is not NULL
 * it is NUL-terminated after len bytes (the bytes themselves may hold NULs), so text
 * can be read in place.  Growth either succeeds or aborts (sb_oom, arena.h); the only
 * failure is the optional hard cap, max: an append that would pass it appends nothing
 * and returns -1, so a bounded body is refused whole, never cut. */
#ifndef SB_BUF_H
#define SB_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct sb_buf {
	char	*data;		/* NULL until the first byte (or buf_reserve) */
	size_t	 len;		/* bytes held, not counting the NUL */
	size_t	 cap;		/* bytes allocated, the NUL's included */
	size_t	 max;		/* most bytes len may reach; 0: no bound */
};

/* An empty buffer that refuses to hold more than max bytes (0: no bound). */
void	 buf_init(struct sb_buf *, size_t max);
/* Appends n bytes of p: 0, or -1 (nothing appended) past the bound. */
int	 buf_append(struct sb_buf *, const void *p, size_t n);
/* Appends a NUL-terminated string: as buf_append. */
int	 buf_puts(struct sb_buf *, const char *s);
/* Appends the formatted text: 0, or -1 (nothing appended) past the bound. */
int	 buf_printf(struct sb_buf *, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int	 buf_vprintf(struct sb_buf *, const char *fmt, va_list)
	    __attribute__((format(printf, 2, 0)));
/* Room for n more bytes (and the NUL) without another allocation, for a caller that
 * writes into data + len itself (a read(2)) and then calls buf_commit: 0, or -1 if
 * len + n would pass the bound. */
int	 buf_reserve(struct sb_buf *, size_t n);
/* Counts n bytes written at data + len after buf_reserve(n) (or more) as held. */
void	 buf_commit(struct sb_buf *, size_t n);
/* Drops the first n bytes (all of them if n >= len), moving the rest to the front. */
void	 buf_consume(struct sb_buf *, size_t n);
/* Empties the buffer and keeps its memory for the next use. */
void	 buf_reset(struct sb_buf *);
/* The bytes, NUL-terminated, for the caller to free (never NULL: "" when empty), and
 * their count in *len if len is not NULL; the buffer is left empty, bound kept. */
char	*buf_steal(struct sb_buf *, size_t *len);
/* Releases the memory; the buffer is empty (bound kept) and can be used again. */
void	 buf_free(struct sb_buf *);

#endif /* SB_BUF_H */
