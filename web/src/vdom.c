/* vdom.c: building a render's tree (vdom.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "web/src/vdom.h"

void
view_begin(struct view *v, struct sb_arena *a)
{
	memset(v, 0, sizeof(*v));
	v->arena = a;
}

static void
add_child(struct view *v, struct vnode *n)
{
	n->parent = v->cur;
	if (v->cur == NULL) {
		/* Text or a second element at the top has nowhere to go: a view bug. */
		if (v->root == NULL && n->tag != NULL)
			v->root = n;
		return;
	}
	if (v->cur->last != NULL)
		v->cur->last->next = n;
	else
		v->cur->first = n;
	v->cur->last = n;
}

struct vnode *
v_open(struct view *v, const char *tag)
{
	struct vnode	*n = arena_calloc(v->arena, 1, sizeof(*n));

	n->tag = arena_strdup(v->arena, tag);
	add_child(v, n);
	v->cur = n;
	v->lastel = n;
	return n;
}

void
v_close(struct view *v)
{
	if (v->cur != NULL)
		v->cur = v->cur->parent;
}

void
v_attr(struct view *v, const char *name, const char *value)
{
	struct vattr	*a, **tail;

	if (v->lastel == NULL || value == NULL)
		return;
	for (tail = &v->lastel->attrs; (a = *tail) != NULL; tail = &a->next)
		if (strcmp(a->name, name) == 0) {
			a->value = arena_strdup(v->arena, value);
			return;
		}
	a = arena_calloc(v->arena, 1, sizeof(*a));
	a->name = arena_strdup(v->arena, name);
	a->value = arena_strdup(v->arena, value);
	*tail = a;
}

void
v_attrf(struct view *v, const char *name, const char *fmt, ...)
{
	va_list	 ap;
	char	 tmp[256];

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	v_attr(v, name, tmp);
}

void
v_key(struct view *v, const char *key)
{
	if (v->lastel != NULL)
		v->lastel->key = arena_strdup(v->arena, key);
}

void
v_focus(struct view *v)
{
	if (v->lastel != NULL)
		v->lastel->focus = 1;
}

void
v_text(struct view *v, const char *text)
{
	struct vnode	*n;

	if (text == NULL || text[0] == '\0')
		return;
	n = arena_calloc(v->arena, 1, sizeof(*n));
	n->text = arena_strdup(v->arena, text);
	add_child(v, n);
}

void
v_textf(struct view *v, const char *fmt, ...)
{
	va_list	 ap;
	char	 tmp[512];

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	v_text(v, tmp);
}

void
v_leaf(struct view *v, const char *tag, const char *text)
{
	v_open(v, tag);
	v_text(v, text);
	v_close(v);
}

void
v_leafc(struct view *v, const char *tag, const char *cls, const char *text)
{
	v_open(v, tag);
	v_attr(v, "class", cls);
	v_text(v, text);
	v_close(v);
}

const char *
vnode_attr(const struct vnode *n, const char *name)
{
	const struct vattr	*a;

	for (a = n->attrs; a != NULL; a = a->next)
		if (strcmp(a->name, name) == 0)
			return a->value;
	return NULL;
}
