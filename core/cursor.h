/* cursor.h: positions in event streams, as SSE ids and ?after= carry them. */
#ifndef SB_CORE_CURSOR_H
#define SB_CORE_CURSOR_H

#include <stdint.h>

/* A position in an event stream, what SSE ids and ?after= carry: a run's log counts
 * its events (xid 0, n = seq, written "17"); the org feed orders runs by the
 * transaction that last changed them and their number (written "7345-12"). */
struct sb_cursor {
	uint64_t	 xid;
	int64_t		 n;
};

#define CURSOR_MAX	48	/* room for the longest text form */

int	 cursor_cmp(const struct sb_cursor *, const struct sb_cursor *);
void	 cursor_format(const struct sb_cursor *, char buf[CURSOR_MAX]);
/* "N" or "XID-N", decimal, nothing else: 0, or -1. */
int	 cursor_parse(const char *, struct sb_cursor *);

#endif /* SB_CORE_CURSOR_H */
