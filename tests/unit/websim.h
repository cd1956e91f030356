/* websim.h: a stand-in for the browser's document in the unit tests of the web app:
 * it applies the operations the app writes (web/src/wire.h) to a tree of its own,
 * shows the tree as HTML, and logs what is not the DOM (fetches, streams, timers). */
#ifndef SB_UNIT_WEBSIM_H
#define SB_UNIT_WEBSIM_H

#include <stddef.h>
#include <stdint.h>

struct websim;

struct websim	*websim_new(void);
void		 websim_free(struct websim *);
/* Applies len bytes of operations: 0, or -1 at the first that is malformed or names
 * a node that does not exist (the rest are not applied). */
int		 websim_apply(struct websim *, const void *ops, size_t len);
/* The mount point's content as HTML, attributes in the order set; a live property
 * shows as an attribute with a '.' before its name.  Valid until the next call. */
const char	*websim_html(struct websim *);
/* One line per operation that is not a DOM change, since the last websim_log_reset:
 * "fetch REQ METHOD URL BODY csrf=TOKEN flags=N", "sse-open N URL TYPES",
 * "sse-close N", "timer N MS", "untimer N", "title TEXT", "hash TEXT", "focus ID". */
const char	*websim_log(struct websim *);
void		 websim_log_reset(struct websim *);
/* The id of the first element, in document order, whose attribute name is value; 0. */
uint32_t	 websim_find(struct websim *, const char *name, const char *value);
/* How many elements have that attribute value. */
size_t		 websim_count(struct websim *, const char *name, const char *value);

#endif /* SB_UNIT_WEBSIM_H */
