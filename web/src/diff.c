/* diff.c: the operations that turn one render's tree into the next (vdom_diff in
 * vdom.h).  Children are matched by key, or in order among the unkeyed ones of the
 * same tag; matched nodes keep their DOM node, and only those out of order move.
 * The scratch arrays of a list are malloc'd and freed within the call. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "web/src/vdom.h"
#include "web/src/wire.h"

struct differ {
	struct sb_buf	*out;
	uint32_t	*next_id;
	uint32_t	 focus;		/* a new node to focus at the end, or 0 */
};

/* Attributes that are live properties: set as such, or a field the person typed in
 * would not change. */
static int
is_prop(const char *name)
{
	return strcmp(name, "value") == 0 || strcmp(name, "checked") == 0 ||
	    strcmp(name, "selected") == 0;
}

static void
set_attr(struct differ *d, uint32_t id, const char *name, const char *value)
{
	wire_u8(d->out, is_prop(name) ? OP_PROP : OP_ATTR);
	wire_u32(d->out, id);
	wire_str(d->out, name);
	wire_str(d->out, value);
}

static void
insert(struct differ *d, uint32_t parent, uint32_t id, uint32_t before)
{
	wire_u8(d->out, OP_INSERT);
	wire_u32(d->out, parent);
	wire_u32(d->out, id);
	wire_u32(d->out, before);
}

static void
create(struct differ *d, struct vnode *n)
{
	struct vattr	*a;
	struct vnode	*c;

	n->id = (*d->next_id)++;
	if (n->tag == NULL) {
		wire_u8(d->out, OP_TEXT);
		wire_u32(d->out, n->id);
		wire_str(d->out, n->text);
		return;
	}
	wire_u8(d->out, OP_ELEMENT);
	wire_u32(d->out, n->id);
	wire_str(d->out, n->tag);
	for (a = n->attrs; a != NULL; a = a->next)
		set_attr(d, n->id, a->name, a->value);
	for (c = n->first; c != NULL; c = c->next) {
		create(d, c);
		insert(d, n->id, c->id, 0);
	}
	if (n->focus)
		d->focus = n->id;
}

static int
same_kind(const struct vnode *a, const struct vnode *b)
{
	if ((a->tag == NULL) != (b->tag == NULL))
		return 0;
	if (a->tag != NULL && strcmp(a->tag, b->tag) != 0)
		return 0;
	if ((a->key == NULL) != (b->key == NULL))
		return 0;
	return a->key == NULL || strcmp(a->key, b->key) == 0;
}

static void
patch_attrs(struct differ *d, const struct vnode *old, const struct vnode *new)
{
	const struct vattr	*a;
	const char		*was;

	for (a = new->attrs; a != NULL; a = a->next)
		if ((was = vnode_attr(old, a->name)) == NULL || strcmp(was, a->value) != 0)
			set_attr(d, new->id, a->name, a->value);
	for (a = old->attrs; a != NULL; a = a->next) {
		if (vnode_attr(new, a->name) != NULL)
			continue;
		if (is_prop(a->name)) {
			set_attr(d, new->id, a->name, "");
			continue;
		}
		wire_u8(d->out, OP_UNATTR);
		wire_u32(d->out, new->id);
		wire_str(d->out, a->name);
	}
}

static void	patch(struct differ *, const struct vnode *, struct vnode *);

static size_t
count(const struct vnode *n)
{
	size_t	 k = 0;

	for (n = n->first; n != NULL; n = n->next)
		k++;
	return k;
}

static void
patch_children(struct differ *d, const struct vnode *old, struct vnode *new)
{
	size_t			 m = count(old), n = count(new), i, j, u = 0;
	const struct vnode	**olds, *c;
	struct vnode		**news, *nc;
	long			*match, last = -1;
	char			*used, *moved;
	uint32_t		 before;

	if (m == 0 && n == 0)
		return;
	olds = calloc(m + 1, sizeof(*olds));
	news = calloc(n + 1, sizeof(*news));
	match = calloc(n + 1, sizeof(*match));
	used = calloc(m + 1, 1);
	moved = calloc(n + 1, 1);
	if (olds == NULL || news == NULL || match == NULL || used == NULL || moved == NULL)
		sb_oom(m + n);
	for (i = 0, c = old->first; c != NULL; c = c->next)
		olds[i++] = c;
	for (i = 0, nc = new->first; nc != NULL; nc = nc->next)
		news[i++] = nc;

	for (i = 0; i < n; i++) {
		match[i] = -1;
		if (news[i]->key != NULL) {
			for (j = 0; j < m; j++)
				if (!used[j] && same_kind(olds[j], news[i]))
					break;
		} else {
			/* The next unkeyed one of the same tag: a sibling shown or hidden
			 * before it leaves the rest matched. */
			for (j = u; j < m && (used[j] || olds[j]->key != NULL ||
			    !same_kind(olds[j], news[i])); j++)
				;
			if (j < m)
				u = j + 1;
		}
		if (j < m) {
			used[j] = 1;
			match[i] = (long)j;
		}
	}
	for (j = 0; j < m; j++)
		if (!used[j]) {
			wire_u8(d->out, OP_REMOVE);
			wire_u32(d->out, olds[j]->id);
		}
	for (i = 0; i < n; i++) {
		if (match[i] < 0)
			continue;
		patch(d, olds[match[i]], news[i]);
		if (match[i] < last)
			moved[i] = 1;
		else
			last = match[i];
	}
	/* Right to left, each node that is new or out of order goes before its right
	 * neighbour, which is in place by then. */
	for (i = n; i-- > 0;) {
		before = i + 1 < n ? news[i + 1]->id : 0;
		if (match[i] < 0) {
			create(d, news[i]);
			insert(d, new->id, news[i]->id, before);
		} else if (moved[i])
			insert(d, new->id, news[i]->id, before);
	}
	free(olds);
	free(news);
	free(match);
	free(used);
	free(moved);
}

static void
patch(struct differ *d, const struct vnode *old, struct vnode *new)
{
	new->id = old->id;
	if (new->tag == NULL) {
		if (strcmp(old->text, new->text) != 0) {
			wire_u8(d->out, OP_SETTEXT);
			wire_u32(d->out, new->id);
			wire_str(d->out, new->text);
		}
		return;
	}
	patch_attrs(d, old, new);
	patch_children(d, old, new);
}

void
vdom_diff(struct sb_buf *out, uint32_t mount, const struct vnode *prev, struct vnode *next,
    uint32_t *next_id)
{
	struct differ	 d = { .out = out, .next_id = next_id };

	if (prev != NULL && next != NULL && same_kind(prev, next))
		patch(&d, prev, next);
	else {
		if (next != NULL) {
			create(&d, next);
			insert(&d, mount, next->id, 0);
		}
		if (prev != NULL) {
			wire_u8(out, OP_REMOVE);
			wire_u32(out, prev->id);
		}
	}
	if (d.focus != 0) {
		wire_u8(out, OP_FOCUS);
		wire_u32(out, d.focus);
	}
}
