/* wire.h: the bytes between the app (C, in wasm) and the glue (web/glue.js).
 *
 * The glue moves bytes only: it writes one input message at a time into the app's
 * memory, and after each applies the operations the app wrote, in order.  Every
 * integer is an unsigned 32-bit little-endian number; every string is its length
 * (u32) and then its bytes, UTF-8, not NUL-terminated.
 *
 * Operations (app -> glue), one byte of kind and then its fields:
 *   OP_ELEMENT    id, tag              a new element, not yet in the document
 *   OP_TEXT       id, text             a new text node
 *   OP_ATTR       id, name, value      setAttribute
 *   OP_UNATTR     id, name             removeAttribute
 *   OP_SETTEXT    id, text             a text node's data
 *   OP_PROP       id, name, value      a live property (value; checked, selected: "" or "1")
 *   OP_INSERT     parent, id, before   insertBefore (before 0: append); moves a node
 *   OP_REMOVE     id                   removes the node; its subtree's ids are forgotten
 *   OP_FOCUS      id
 *   OP_FETCH      req, method, url, body, csrf, flags   (FETCH_MANUAL: no redirect)
 *   OP_SSE_OPEN   stream, url, types (comma-separated event types to listen for)
 *   OP_SSE_CLOSE  stream
 *   OP_TIMER      timer, ms            one shot; a timer set again is re-armed
 *   OP_UNTIMER    timer
 *   OP_TITLE      text                 document.title
 *   OP_HASH       text                 location.hash
 *
 * Input messages (glue -> app): one byte of kind and then its fields:
 *   IN_START      hash, online, caps   once, after instantiation (caps: CAP_SSE when the
 *                                      browser has EventSource; absent: it has)
 *   IN_ROUTE      hash                 hashchange
 *   IN_EVENT      type, action, value, nfields, nfields x (name, value)
 *                 a DOM event on an element with data-<type>="action" (the fields:
 *                 a submitted form's named controls; a file input's change: "name",
 *                 "size" and, when size is at most the input's data-max, "bytes",
 *                 the file's bytes as they are)
 *   IN_FETCH      req, status, body    status 0: no answer (network); 302: a redirect
 *                                      not followed (FETCH_MANUAL)
 *   IN_SSE        stream, type, id, data   one event (its lastEventId)
 *   IN_SSE_STATE  stream, state        0 reconnecting, 1 open, 2 closed for good
 *   IN_TIMER      timer
 *   IN_ONLINE     online
 *   IN_VISIBLE    visible              visibilitychange (0: the tab is hidden); also
 *                                      after IN_START when the tab starts hidden
 *
 * Node id 1 is the element the app is mounted on; the app gives every other id. */
#ifndef SB_WEB_WIRE_H
#define SB_WEB_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

enum wire_op {
	OP_ELEMENT = 1, OP_TEXT, OP_ATTR, OP_UNATTR, OP_SETTEXT, OP_PROP, OP_INSERT,
	OP_REMOVE, OP_FOCUS, OP_FETCH, OP_SSE_OPEN, OP_SSE_CLOSE, OP_TIMER, OP_UNTIMER,
	OP_TITLE, OP_HASH
};

enum wire_in_kind {
	IN_START = 1, IN_ROUTE, IN_EVENT, IN_FETCH, IN_SSE, IN_SSE_STATE, IN_TIMER, IN_ONLINE,
	IN_VISIBLE
};

#define FETCH_MANUAL	1u	/* OP_FETCH flags: answer a redirect as 302, do not follow */
#define WIRE_MOUNT	1u	/* the node id of the element the app is mounted on */
#define CAP_SSE		1u	/* IN_START caps: EventSource exists */

/* Writers: append to out (which grows or aborts: buf.h). */
void	 wire_u8(struct sb_buf *out, unsigned v);
void	 wire_u32(struct sb_buf *out, uint32_t v);
void	 wire_str(struct sb_buf *out, const char *s);	/* NULL is "" */

/* A reader over one input message; the strings it returns point into the message.
 * A read past the end sets bad and returns 0 or an empty string, so a caller reads
 * every field and checks bad once. */
struct wire_in {
	const unsigned char	*p;
	size_t			 len;
	size_t			 off;
	int			 bad;
};

void		 wire_in_init(struct wire_in *, const void *msg, size_t len);
unsigned	 wire_in_u8(struct wire_in *);
uint32_t	 wire_in_u32(struct wire_in *);
/* The string's bytes (not NUL-terminated) and their count in *n. */
const char	*wire_in_str(struct wire_in *, size_t *n);

#endif /* SB_WEB_WIRE_H */
