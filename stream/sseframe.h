/* sseframe.h: the text/event-stream encoding switchboard-stream writes (events and retry
 * hints), with no I/O: stream/sse.c and conn.c send what these build. */
#ifndef SB_STREAM_SSEFRAME_H
#define SB_STREAM_SSEFRAME_H

#include <stddef.h>

/*
 * One event: "id: ID\n", "event: TYPE\n", one "data: LINE\n" per line of data, and
 * the blank line that ends it.  id or type NULL: that line is left out; they must
 * hold no CR or LF (a cursor and an event type never do).  data's lines may end in
 * LF, CRLF or CR, so a client joins them back with LF; "" is one empty data line.
 * Returns a malloc'd, NUL-terminated frame (the caller frees it), its length in *len.
 */
char	*sse_frame(const char *id, const char *type, const char *data, size_t *len);

/* "retry: MS\n\n", the hint that tells a client when to reconnect, into buf of
 * SSE_RETRY_MAX bytes; returns its length. */
#define SSE_RETRY_MAX	32
size_t	 sse_retry(char buf[SSE_RETRY_MAX], int ms);

#endif /* SB_STREAM_SSEFRAME_H */
