/* websim.c: the unit tests' stand-in for the browser's document (websim.h). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "tests/unit/websim.h"
#include "web/src/wire.h"

#define SIM_MAX_NODES	65536	/* ids past it are refused */
#define SIM_MAX_ATTRS	32

struct simnode {
	int		 live;
	char		*tag;		/* NULL: text */
	char		*text;
	char		*names[SIM_MAX_ATTRS];
	char		*values[SIM_MAX_ATTRS];
	size_t		 nattrs;
	uint32_t	 parent;
	uint32_t	*kids;
	size_t		 nkids;
	size_t		 kidcap;
};

struct websim {
	struct simnode	*nodes;		/* by id, grown as ids come */
	size_t		 cap;
	struct sb_buf	 html;
	struct sb_buf	 log;
};

struct websim *
websim_new(void)
{
	struct websim	*s = sb_calloc(1, sizeof(*s));

	s->cap = 64;
	s->nodes = sb_calloc(s->cap, sizeof(*s->nodes));
	s->nodes[WIRE_MOUNT].live = 1;
	s->nodes[WIRE_MOUNT].tag = sb_strdup("div");
	return s;
}

static void
node_free(struct simnode *n)
{
	size_t	 i;

	free(n->tag);
	free(n->text);
	for (i = 0; i < n->nattrs; i++) {
		free(n->names[i]);
		free(n->values[i]);
	}
	free(n->kids);
	memset(n, 0, sizeof(*n));
}

void
websim_free(struct websim *s)
{
	size_t	 i;

	for (i = 0; i < s->cap; i++)
		node_free(&s->nodes[i]);
	free(s->nodes);
	buf_free(&s->html);
	buf_free(&s->log);
	free(s);
}

static struct simnode *
get(struct websim *s, uint32_t id)
{
	return id < s->cap && s->nodes[id].live ? &s->nodes[id] : NULL;
}

static char *
str(struct wire_in *in)
{
	size_t		 n;
	const char	*p = wire_in_str(in, &n);
	char		*out = sb_malloc(n + 1);

	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

static void
set_attr(struct simnode *n, char *name, char *value)
{
	size_t	 i;

	for (i = 0; i < n->nattrs; i++)
		if (strcmp(n->names[i], name) == 0) {
			free(name);
			free(n->values[i]);
			n->values[i] = value;
			return;
		}
	if (n->nattrs == SIM_MAX_ATTRS) {
		free(name);
		free(value);
		return;
	}
	n->names[n->nattrs] = name;
	n->values[n->nattrs++] = value;
}

static void
detach(struct websim *s, uint32_t id)
{
	struct simnode	*p = get(s, s->nodes[id].parent);
	size_t		 i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nkids && p->kids[i] != id; i++)
		;
	if (i < p->nkids) {
		memmove(&p->kids[i], &p->kids[i + 1], (p->nkids - i - 1) * sizeof(uint32_t));
		p->nkids--;
	}
	s->nodes[id].parent = 0;
}

static void
forget(struct websim *s, uint32_t id)
{
	struct simnode	*n = &s->nodes[id];
	size_t		 i;

	for (i = 0; i < n->nkids; i++)
		forget(s, n->kids[i]);
	node_free(n);
}

static int
insert(struct websim *s, uint32_t parent, uint32_t id, uint32_t before)
{
	struct simnode	*p = get(s, parent), *c = get(s, id);
	size_t		 i;

	if (p == NULL || c == NULL || p->tag == NULL || id == parent)
		return -1;
	detach(s, id);
	if (before == 0)
		i = p->nkids;
	else {
		for (i = 0; i < p->nkids && p->kids[i] != before; i++)
			;
		if (i == p->nkids)
			return -1;
	}
	if (p->nkids == p->kidcap) {
		p->kidcap = p->kidcap > 0 ? 2 * p->kidcap : 8;
		p->kids = sb_realloc(p->kids, p->kidcap * sizeof(uint32_t));
	}
	memmove(&p->kids[i + 1], &p->kids[i], (p->nkids - i) * sizeof(uint32_t));
	p->kids[i] = id;
	p->nkids++;
	c->parent = parent;
	return 0;
}

static void
logf_line(struct websim *s, const char *line)
{
	buf_puts(&s->log, line);
	buf_puts(&s->log, "\n");
}

int
websim_apply(struct websim *s, const void *ops, size_t len)
{
	struct wire_in	 in;
	struct simnode	*n;
	uint32_t	 id, a, b, c;
	unsigned	 kind;
	char		*x, *y, *z, *w;
	struct sb_buf	 line;

	wire_in_init(&in, ops, len);
	buf_init(&line, 0);
	while (in.off < in.len) {
		buf_reset(&line);
		switch ((kind = wire_in_u8(&in))) {
		case OP_ELEMENT:
		case OP_TEXT:
			id = wire_in_u32(&in);
			x = str(&in);
			if (id < 2 || id >= SIM_MAX_NODES) {
				free(x);
				goto bad;
			}
			if (id >= s->cap) {
				b = s->cap;
				while (s->cap <= id)
					s->cap *= 2;
				s->nodes = sb_realloc(s->nodes, s->cap * sizeof(*s->nodes));
				memset(&s->nodes[b], 0, (s->cap - b) * sizeof(*s->nodes));
			}
			if (s->nodes[id].live) {
				free(x);
				goto bad;
			}
			n = &s->nodes[id];
			n->live = 1;
			if (kind == OP_ELEMENT)
				n->tag = x;
			else
				n->text = x;
			break;
		case OP_ATTR:
		case OP_PROP:
			if ((n = get(s, wire_in_u32(&in))) == NULL)
				goto bad;
			x = str(&in);
			y = str(&in);
			if (kind == OP_PROP) {
				z = sb_malloc(strlen(x) + 2);
				z[0] = '.';
				strcpy(z + 1, x);
				free(x);
				x = z;
			}
			set_attr(n, x, y);
			break;
		case OP_UNATTR:
			if ((n = get(s, wire_in_u32(&in))) == NULL)
				goto bad;
			x = str(&in);
			for (a = 0; a < n->nattrs; a++)
				if (strcmp(n->names[a], x) == 0) {
					free(n->names[a]);
					free(n->values[a]);
					n->nattrs--;
					memmove(&n->names[a], &n->names[a + 1], (n->nattrs - a) * sizeof(char *));
					memmove(&n->values[a], &n->values[a + 1], (n->nattrs - a) * sizeof(char *));
					break;
				}
			free(x);
			break;
		case OP_SETTEXT:
			if ((n = get(s, wire_in_u32(&in))) == NULL || n->tag != NULL)
				goto bad;
			free(n->text);
			n->text = str(&in);
			break;
		case OP_INSERT:
			a = wire_in_u32(&in);
			b = wire_in_u32(&in);
			c = wire_in_u32(&in);
			if (insert(s, a, b, c) < 0)
				goto bad;
			break;
		case OP_REMOVE:
			id = wire_in_u32(&in);
			if (get(s, id) == NULL || id == WIRE_MOUNT)
				goto bad;
			detach(s, id);
			forget(s, id);
			break;
		case OP_FOCUS:
			buf_printf(&line, "focus %u", wire_in_u32(&in));
			break;
		case OP_FETCH:
			a = wire_in_u32(&in);
			x = str(&in);
			y = str(&in);
			z = str(&in);
			w = str(&in);
			buf_printf(&line, "fetch %u %s %s %s csrf=%s flags=%u", a, x, y, z, w,
			    wire_in_u32(&in));
			free(x);
			free(y);
			free(z);
			free(w);
			break;
		case OP_SSE_OPEN:
			a = wire_in_u32(&in);
			x = str(&in);
			y = str(&in);
			buf_printf(&line, "sse-open %u %s %s", a, x, y);
			free(x);
			free(y);
			break;
		case OP_SSE_CLOSE:
			buf_printf(&line, "sse-close %u", wire_in_u32(&in));
			break;
		case OP_TIMER:
			a = wire_in_u32(&in);
			buf_printf(&line, "timer %u %u", a, wire_in_u32(&in));
			break;
		case OP_UNTIMER:
			buf_printf(&line, "untimer %u", wire_in_u32(&in));
			break;
		case OP_TITLE:
		case OP_HASH:
			x = str(&in);
			buf_printf(&line, "%s %s", kind == OP_TITLE ? "title" : "hash", x);
			free(x);
			break;
		default:
			goto bad;
		}
		if (in.bad)
			goto bad;
		if (line.len > 0)
			logf_line(s, line.data);
	}
	buf_free(&line);
	return 0;
bad:
	buf_free(&line);
	return -1;
}

static void
html_of(struct websim *s, uint32_t id)
{
	struct simnode	*n = &s->nodes[id];
	size_t		 i;

	if (n->tag == NULL) {
		buf_puts(&s->html, n->text);
		return;
	}
	buf_printf(&s->html, "<%s", n->tag);
	for (i = 0; i < n->nattrs; i++)
		buf_printf(&s->html, " %s=\"%s\"", n->names[i], n->values[i]);
	buf_puts(&s->html, ">");
	for (i = 0; i < n->nkids; i++)
		html_of(s, n->kids[i]);
	buf_printf(&s->html, "</%s>", n->tag);
}

const char *
websim_html(struct websim *s)
{
	size_t	 i;

	buf_reset(&s->html);
	buf_puts(&s->html, "");
	for (i = 0; i < s->nodes[WIRE_MOUNT].nkids; i++)
		html_of(s, s->nodes[WIRE_MOUNT].kids[i]);
	return s->html.data;
}

const char *
websim_log(struct websim *s)
{
	buf_puts(&s->log, "");
	return s->log.data;
}

void
websim_log_reset(struct websim *s)
{
	buf_reset(&s->log);
}

static uint32_t
find(struct websim *s, uint32_t id, const char *name, const char *value, size_t *count)
{
	struct simnode	*n = &s->nodes[id];
	uint32_t	 hit = 0, h;
	size_t		 i;

	for (i = 0; i < n->nattrs; i++)
		if (strcmp(n->names[i], name) == 0 && strcmp(n->values[i], value) == 0) {
			hit = id;
			(*count)++;
		}
	for (i = 0; i < n->nkids; i++)
		if ((h = find(s, n->kids[i], name, value, count)) != 0 && hit == 0)
			hit = h;
	return hit;
}

uint32_t
websim_find(struct websim *s, const char *name, const char *value)
{
	size_t	 count = 0;

	return find(s, WIRE_MOUNT, name, value, &count);
}

size_t
websim_count(struct websim *s, const char *name, const char *value)
{
	size_t	 count = 0;

	find(s, WIRE_MOUNT, name, value, &count);
	return count;
}
