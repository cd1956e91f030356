/* vdom.h: the app's virtual DOM.  A render builds a tree of elements, attributes,
 * text and keyed children in an arena (one per render); vdom_diff compares it with
 * the tree of the render before and writes the DOM operations (wire.h) that make the
 * document match.
 *
 * Building is a cursor, like an HTML writer: v_open() adds an element to the one open
 * and opens it, v_attr() sets an attribute of the element opened last, v_text() adds
 * text, v_close() closes.  Every string is copied into the render's arena, so a view
 * may pass pointers into state that changes after it returns. */
#ifndef SB_WEB_VDOM_H
#define SB_WEB_VDOM_H

#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"

struct vattr {
	const char	*name;
	const char	*value;
	struct vattr	*next;
};

struct vnode {
	const char	*tag;		/* NULL: a text node */
	const char	*text;		/* a text node's text */
	const char	*key;		/* among its siblings, names the node across renders */
	struct vattr	*attrs;		/* in the order set */
	struct vnode	*first;		/* children */
	struct vnode	*last;
	struct vnode	*next;		/* the next sibling */
	struct vnode	*parent;
	uint32_t	 id;		/* the DOM node's id, given by vdom_diff */
	uint32_t	 focus;		/* v_focus(): focus it once it is in the document */
};

/* One render: the arena that holds it and the cursor. */
struct view {
	struct sb_arena	*arena;
	struct vnode	*root;		/* the first element opened */
	struct vnode	*cur;		/* the element open now, NULL before the root */
	struct vnode	*lastel;	/* the element opened last, for v_attr */
};

void		 view_begin(struct view *, struct sb_arena *);
struct vnode	*v_open(struct view *, const char *tag);
void		 v_close(struct view *);
/* Sets an attribute of the element opened last (again: replaces its value). */
void		 v_attr(struct view *, const char *name, const char *value);
void		 v_attrf(struct view *, const char *name, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* The element's key among its siblings: keyed children keep their DOM nodes when
 * they move. */
void		 v_key(struct view *, const char *key);
/* Asks for the element opened last to get the focus when it enters the document (a
 * node that was there before keeps or loses the focus as the person left it). */
void		 v_focus(struct view *);
void		 v_text(struct view *, const char *text);
void		 v_textf(struct view *, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* v_open(tag), v_text(text), v_close(); v_leafc with a class too. */
void		 v_leaf(struct view *, const char *tag, const char *text);
void		 v_leafc(struct view *, const char *tag, const char *cls, const char *text);

/* The value of an attribute of n, or NULL. */
const char	*vnode_attr(const struct vnode *n, const char *name);

/* Writes to out the operations that turn the document, which shows prev (NULL: an
 * empty mount point), into next, mounted under the node mount.  Gives next's nodes
 * their ids (kept from prev's nodes they match, else *next_id++).  prev must stay
 * readable during the call only. */
void		 vdom_diff(struct sb_buf *out, uint32_t mount, const struct vnode *prev,
		    struct vnode *next, uint32_t *next_id);

#endif /* SB_WEB_VDOM_H */
