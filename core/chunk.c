/* chunk.c: a knowledge-base document cut into chunks: at headings (Markdown), then at
 * the best break within each chunk's window.  One pass over the lines, then one short
 * backward scan of a window per chunk: linear in the text. */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "core/arena.h"
#include "core/chunk.h"
#include "core/json.h"

struct chunks {
	struct chunk	*v;
	size_t		 n, cap;
};

static int
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* A byte that continues a UTF-8 sequence: no chunk starts or ends before one. */
static int
is_cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

static void
push(struct chunks *o, size_t off, size_t len, size_t head_off, size_t head_len)
{
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 16;
		o->v = sb_realloc(o->v, o->cap * sizeof(*o->v));
	}
	o->v[o->n].off = off;
	o->v[o->n].len = len;
	o->v[o->n].head_off = head_len > 0 ? head_off : 0;
	o->v[o->n].head_len = head_len;
	o->n++;
}

/* Is t[p - 1] the newline that ends a blank line (one of spaces alone), with the
 * line before it within the chunk that starts at s?  Then p starts a paragraph. */
static int
paragraph_at(const char *t, size_t s, size_t p)
{
	size_t	 q;

	if (t[p - 1] != '\n' || p < s + 2)
		return 0;
	for (q = p - 2; q > s && (t[q] == ' ' || t[q] == '\t' || t[q] == '\r'); q--)
		;
	return t[q] == '\n';
}

/*
 * Where the chunk whose body starts at s ends and the next begins: a position in
 * (s + CHUNK_MIN, s + CHUNK_TARGET], the text going on beyond it.  The kinds of break
 * are tried in order, each from the end of the window back, so a chunk is as long as
 * its best kind of break allows.
 */
static size_t
find_cut(const char *t, size_t s)
{
	size_t	 lo = s + CHUNK_MIN, hi = s + CHUNK_TARGET, p;

	for (p = hi; p > lo; p--)
		if (paragraph_at(t, s, p))
			return p;
	for (p = hi; p > lo; p--)
		if (t[p - 1] == '\n')
			return p;
	for (p = hi; p > lo; p--)
		if (t[p - 1] == ' ' && (t[p - 2] == '.' || t[p - 2] == '!' || t[p - 2] == '?'))
			return p;
	for (p = hi; p > lo; p--)
		if (t[p - 1] == ' ' || t[p - 1] == '\t')
			return p;
	for (p = hi; p > lo; p--)
		if (!is_cont((unsigned char)t[p]))
			return p;
	return hi;	/* not UTF-8: a run of continuation bytes longer than the window */
}

/* The chunks of the section t[a, b), whose heading (if any) is head_len bytes at
 * head_off: a chunk that does not start with it carries it. */
static void
split_section(const char *t, size_t a, size_t b, size_t head_off, size_t head_len,
    struct chunks *o)
{
	size_t	 s = a, cut, e;

	for (;;) {
		while (s < b && is_space((unsigned char)t[s]))
			s++;
		if (s >= b)
			return;
		cut = b - s <= CHUNK_TARGET ? b : find_cut(t, s);
		for (e = cut; e > s && is_space((unsigned char)t[e - 1]); e--)
			;
		push(o, s, e - s, head_off, s == head_off ? 0 : head_len);
		s = cut;
	}
}

/* The indentation a heading or a fence may have (up to three spaces) skipped. */
static size_t
skip_indent(const char *t, size_t p, size_t e)
{
	size_t	 i;

	for (i = p; i < e && i - p < 3 && t[i] == ' '; i++)
		;
	return i;
}

/* Is the line t[p, e) an ATX heading: one to six '#', then a space or nothing? */
static int
is_heading(const char *t, size_t p, size_t e)
{
	size_t	 i = skip_indent(t, p, e), h = i;

	while (i < e && t[i] == '#')
		i++;
	if (i == h || i - h > 6)
		return 0;
	return i == e || t[i] == ' ' || t[i] == '\t' || t[i] == '\r';
}

/* The fence character ('`' or '~') if the line t[p, e) opens or closes a code fence. */
static char
fence_of(const char *t, size_t p, size_t e)
{
	size_t	 i = skip_indent(t, p, e);

	if (e - i >= 3 && (t[i] == '`' || t[i] == '~') && t[i + 1] == t[i] && t[i + 2] == t[i])
		return t[i];
	return 0;
}

/* The heading carried by the chunks of its section: the line without its indentation
 * and trailing white space, at most CHUNK_HEAD_MAX bytes, ending on a character. */
static size_t
heading_len(const char *t, size_t hoff, size_t e)
{
	size_t	 n = e - hoff;

	if (n > CHUNK_HEAD_MAX) {
		n = CHUNK_HEAD_MAX;
		while (n > 0 && is_cont((unsigned char)t[hoff + n]))
			n--;
	}
	while (n > 0 && is_space((unsigned char)t[hoff + n - 1]))
		n--;
	return n;
}

/* The next heading line outside a fence at or after *p: 1 with the line at [*p, *e)
 * (*p moved to its start), or 0 at the end of the text.  *fence is the open fence's
 * character (0: none), kept from call to call. */
static int
next_heading(const char *text, size_t len, size_t *p, size_t *e, char *fence)
{
	const char	*nl;
	char		 f;

	for (; *p < len; *p = *e + 1) {
		nl = memchr(text + *p, '\n', len - *p);
		*e = nl != NULL ? (size_t)(nl - text) : len;
		if ((f = fence_of(text, *p, *e)) != 0 && (*fence == 0 || *fence == f))
			*fence = *fence == 0 ? f : 0;
		else if (*fence == 0 && is_heading(text, *p, *e))
			return 1;
	}
	return 0;
}

size_t
chunk_split(const char *text, size_t len, int markdown, struct chunk **out)
{
	struct chunks	 o = { NULL, 0, 0 };
	size_t		 a = 0, p = 0, e, hoff = 0, hlen = 0;
	char		 fence = 0;

	while (markdown && next_heading(text, len, &p, &e, &fence)) {
		split_section(text, a, p, hoff, hlen, &o);
		a = p;
		hoff = skip_indent(text, p, e);
		hlen = heading_len(text, hoff, e);
		p = e + 1;
	}
	split_section(text, a, len, hoff, hlen, &o);
	*out = o.v;
	return o.n;
}

int
chunk_title(const char *text, size_t len, size_t *off, size_t *tlen)
{
	size_t	 p = 0, e, s, c;
	char	 fence = 0;

	for (; next_heading(text, len, &p, &e, &fence); p = e + 1) {
		for (s = skip_indent(text, p, e); s < e && text[s] == '#'; s++)
			;
		while (s < e && is_space((unsigned char)text[s]))
			s++;
		while (e > s && is_space((unsigned char)text[e - 1]))
			e--;
		/* A closing run of '#' after a space ("## Title ##"), not "C#". */
		for (c = e; c > s && text[c - 1] == '#'; c--)
			;
		if (c == s || is_space((unsigned char)text[c - 1]))
			for (e = c; e > s && is_space((unsigned char)text[e - 1]); e--)
				;
		if (e > s) {
			*off = s;
			*tlen = e - s;
			return 1;
		}
	}
	return 0;
}

char *
chunk_text(const char *text, const struct chunk *c, size_t *outlen)
{
	size_t	 n = c->head_len > 0 ? c->head_len + 2 : 0;
	char	*s = sb_malloc(n + c->len + 1);

	if (c->head_len > 0) {
		memcpy(s, text + c->head_off, c->head_len);
		memcpy(s + c->head_len, "\n\n", 2);
	}
	memcpy(s + n, text + c->off, c->len);
	s[n + c->len] = '\0';
	*outlen = n + c->len;
	return s;
}

json_t *
chunk_json(const char *text, size_t len, int markdown)
{
	struct chunk	*v;
	json_t		*a = json_array();
	size_t		 i, n, tlen;
	char		*t;

	n = chunk_split(text, len, markdown, &v);
	for (i = 0; i < n; i++) {
		t = chunk_text(text, &v[i], &tlen);
		json_array_append_new(a, json_text(t, tlen));
		free(t);
	}
	free(v);
	return a;
}
