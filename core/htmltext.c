/* htmltext.c: the readable text of an HTML page (htmltext.h).
 *
 * A single forward scan.  Text between tags goes to a sink (the body, or the title)
 * unless an element that hides its content is open; a tag only changes the state
 * (which elements are open, a line or word break due).  The contents of raw-text
 * elements (script, style) and comments are skipped by searching forward for their
 * end, never by going back: every byte is looked at a bounded number of times. */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/htmltext.h"
#include "core/json.h"

#define NAME_MAX_LEN	15	/* longer tag and reference names are no known ones */

/* Where text goes.  Separators are only due, never written, until text follows: so
 * the text never starts or ends with one, and runs of them collapse. */
struct sink {
	struct sb_buf	 b;
	size_t		 max;		/* appending stops once b.len reaches it */
	int		 col;		/* 1: the current line has text */
	int		 space;		/* a space is due before the next text */
	int		 newlines;	/* line ends due before the next text, at most 2 */
};

/* The elements that hide what they hold, counted while open. */
enum hide { HIDE_NONE, HIDE_HEAD, HIDE_NOSCRIPT, HIDE_TEMPLATE, HIDE_SVG, HIDE_N };

struct scan {
	const unsigned char	*s;
	size_t			 n;
	struct sink		 body, title;
	int			 have_title;
	unsigned		 hidden[HIDE_N];
	unsigned		 pre;		/* open <pre> elements */
};

#define E_LINE	0x01	/* its start and end tags end a line */
#define E_BREAK	0x02	/* a line break of its own (br) */
#define E_WORD	0x04	/* a word break (table cells) */
#define E_PRE	0x08	/* keeps the source's line breaks */
#define E_RAW	0x10	/* its content is raw text, dropped */
#define E_TITLE	0x20	/* its content (text, no tags) is the title */
#define E_HEAD	0x40	/* may stand in <head>: any other start tag ends the head */

struct element {
	const char	*name;
	int		 flags;
	enum hide	 hide;
};

/* Sorted by name (bsearch). */
static const struct element elements[] = {
	{ "address", E_LINE, HIDE_NONE },	{ "article", E_LINE, HIDE_NONE },
	{ "aside", E_LINE, HIDE_NONE },		{ "base", E_HEAD, HIDE_NONE },
	{ "basefont", E_HEAD, HIDE_NONE },	{ "bgsound", E_HEAD, HIDE_NONE },
	{ "blockquote", E_LINE, HIDE_NONE },	{ "br", E_BREAK, HIDE_NONE },
	{ "caption", E_LINE, HIDE_NONE },	{ "center", E_LINE, HIDE_NONE },
	{ "dd", E_LINE, HIDE_NONE },		{ "details", E_LINE, HIDE_NONE },
	{ "dialog", E_LINE, HIDE_NONE },	{ "div", E_LINE, HIDE_NONE },
	{ "dl", E_LINE, HIDE_NONE },		{ "dt", E_LINE, HIDE_NONE },
	{ "fieldset", E_LINE, HIDE_NONE },	{ "figcaption", E_LINE, HIDE_NONE },
	{ "figure", E_LINE, HIDE_NONE },	{ "footer", E_LINE, HIDE_NONE },
	{ "form", E_LINE, HIDE_NONE },		{ "h1", E_LINE, HIDE_NONE },
	{ "h2", E_LINE, HIDE_NONE },		{ "h3", E_LINE, HIDE_NONE },
	{ "h4", E_LINE, HIDE_NONE },		{ "h5", E_LINE, HIDE_NONE },
	{ "h6", E_LINE, HIDE_NONE },		{ "head", E_HEAD, HIDE_HEAD },
	{ "header", E_LINE, HIDE_NONE },	{ "hr", E_LINE, HIDE_NONE },
	{ "iframe", E_RAW, HIDE_NONE },		{ "legend", E_LINE, HIDE_NONE },
	{ "li", E_LINE, HIDE_NONE },		{ "link", E_HEAD, HIDE_NONE },
	{ "main", E_LINE, HIDE_NONE },		{ "meta", E_HEAD, HIDE_NONE },
	{ "nav", E_LINE, HIDE_NONE },		{ "noembed", E_RAW, HIDE_NONE },
	{ "noframes", E_RAW | E_HEAD, HIDE_NONE }, { "noscript", E_HEAD, HIDE_NOSCRIPT },
	{ "ol", E_LINE, HIDE_NONE },		{ "p", E_LINE, HIDE_NONE },
	{ "pre", E_LINE | E_PRE, HIDE_NONE },	{ "script", E_RAW | E_HEAD, HIDE_NONE },
	{ "section", E_LINE, HIDE_NONE },	{ "style", E_RAW | E_HEAD, HIDE_NONE },
	{ "summary", E_LINE, HIDE_NONE },	{ "svg", 0, HIDE_SVG },
	{ "table", E_LINE, HIDE_NONE },		{ "tbody", E_LINE, HIDE_NONE },
	{ "td", E_WORD, HIDE_NONE },		{ "template", E_HEAD, HIDE_TEMPLATE },
	{ "tfoot", E_LINE, HIDE_NONE },		{ "th", E_WORD, HIDE_NONE },
	{ "thead", E_LINE, HIDE_NONE },		{ "title", E_TITLE | E_HEAD, HIDE_NONE },
	{ "tr", E_LINE, HIDE_NONE },		{ "ul", E_LINE, HIDE_NONE },
};

struct ref {
	const char	*name;
	uint32_t	 cp;
};

/* Named character references, sorted by name (bsearch); names are case-sensitive. */
static const struct ref refs[] = {
	{ "amp", '&' }, { "apos", '\'' }, { "bull", 0x2022 }, { "cent", 0xa2 },
	{ "copy", 0xa9 }, { "deg", 0xb0 }, { "euro", 0x20ac }, { "gt", '>' },
	{ "hellip", 0x2026 }, { "laquo", 0xab }, { "ldquo", 0x201c }, { "lsquo", 0x2018 },
	{ "lt", '<' }, { "mdash", 0x2014 }, { "middot", 0xb7 }, { "nbsp", 0xa0 },
	{ "ndash", 0x2013 }, { "para", 0xb6 }, { "pound", 0xa3 }, { "quot", '"' },
	{ "raquo", 0xbb }, { "rdquo", 0x201d }, { "reg", 0xae }, { "rsquo", 0x2019 },
	{ "sect", 0xa7 }, { "times", 0xd7 }, { "trade", 0x2122 }, { "yen", 0xa5 },
};

/* ------------------------------------------------------------ sinks */

static void
sink_init(struct sink *k, size_t max)
{
	memset(k, 0, sizeof(*k));
	k->max = max;
}

/* Appends one character (len bytes of UTF-8), after the separator due. */
static void
sink_char(struct sink *k, const char *c, size_t len)
{
	if (k->b.len >= k->max)
		return;		/* past what will be kept */
	if (k->b.len > 0 && k->newlines > 0)
		buf_append(&k->b, "\n\n", (size_t)k->newlines);
	else if (k->b.len > 0 && k->space)
		buf_append(&k->b, " ", 1);
	buf_append(&k->b, c, len);
	k->newlines = k->space = 0;
	k->col = 1;
}

static void
sink_space(struct sink *k)
{
	if (k->col)
		k->space = 1;
}

/* The end of a block: the line ends if it has text. */
static void
sink_line(struct sink *k)
{
	if (k->col)
		k->newlines = 1;
	k->col = k->space = 0;
}

/* A line break (<br>, a newline in <pre>): even an empty line ends, so two make a
 * blank line; more make no more. */
static void
sink_break(struct sink *k)
{
	if (k->newlines < 2)
		k->newlines++;
	k->col = k->space = 0;
}

static void
sink_codepoint(struct sink *k, uint32_t cp)
{
	char	 u[4];

	if (cp < 0x80) {
		u[0] = (char)cp;
		sink_char(k, u, 1);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		sink_char(k, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		sink_char(k, u, 3);
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		sink_char(k, u, 4);
	}
}

/* ------------------------------------------------------------ text */

static int
html_space(unsigned c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static int
ascii_alpha(unsigned c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static int
ascii_alnum(unsigned c)
{
	return ascii_alpha(c) || (c >= '0' && c <= '9');
}

static int
digit_value(unsigned c, unsigned base)
{
	if (c >= '0' && c <= '9')
		return (int)(c - '0');
	if (base == 16 && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (int)((c | 0x20) - 'a' + 10);
	return -1;
}

static int
ref_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct ref *)elem)->name);
}

/* A numeric reference "&#123;" or "&#x1F;" at s[i] ('&', "#" next; the ';' may be
 * missing, as browsers allow): its length with the code point in *cp (U+FFFD for
 * one that is no character), or 0 if no digit follows. */
static size_t
numeric_ref(const unsigned char *s, size_t i, size_t to, uint32_t *cp)
{
	size_t		 j = i + 2, first;
	unsigned	 base = 10;
	uint32_t	 v = 0;
	int		 d;

	if (j < to && (s[j] | 0x20) == 'x') {
		base = 16;
		j++;
	}
	for (first = j; j < to && (d = digit_value(s[j], base)) >= 0; j++)
		v = v > 0x10ffff ? v : v * base + (uint32_t)d;	/* saturates */
	if (j == first)
		return 0;
	if (j < to && s[j] == ';')
		j++;
	*cp = v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) ? 0xfffd : v;
	return j - i;
}

/* The character reference at s[i] == '&' (to: the end of the text): its length with
 * its code point in *cp, or 0 if it is none this knows (the '&' is then text). */
static size_t
char_ref(const unsigned char *s, size_t i, size_t to, uint32_t *cp)
{
	char			 name[NAME_MAX_LEN + 1];
	size_t			 j = i + 1, k = 0;
	const struct ref	*found;

	if (j < to && s[j] == '#')
		return numeric_ref(s, i, to, cp);
	while (j < to && k < NAME_MAX_LEN && ascii_alnum(s[j]))
		name[k++] = (char)s[j++];
	name[k] = '\0';
	if (k == 0 || j >= to || s[j] != ';')
		return 0;
	found = bsearch(name, refs, sizeof(refs) / sizeof(refs[0]), sizeof(refs[0]), ref_cmp);
	if (found == NULL)
		return 0;
	*cp = found->cp;
	return j + 1 - i;
}

/* One character (or reference) of text at s[i], into k: how many bytes it took.
 * lines: line breaks are kept (<pre>). */
static size_t
text_char(struct sink *k, const unsigned char *s, size_t i, size_t to, int lines)
{
	static const char	 repl[] = "\xef\xbf\xbd";	/* U+FFFD */
	uint32_t		 cp = 0;
	size_t			 len;

	if (s[i] == '&' && (len = char_ref(s, i, to, &cp)) > 0) {
		if (cp == 0xa0 || html_space(cp)) {
			if (lines && (cp == '\n' || cp == '\r'))
				sink_break(k);
			else
				sink_space(k);
		} else
			sink_codepoint(k, cp);
		return len;
	}
	if (html_space(s[i])) {
		if (!lines || (s[i] != '\n' && s[i] != '\r'))
			sink_space(k);
		else {
			sink_break(k);
			if (s[i] == '\r' && i + 1 < to && s[i + 1] == '\n')
				return 2;
		}
		return 1;
	}
	if (s[i] == 0 || (len = utf8_char((const char *)s + i, to - i)) == 0) {
		sink_char(k, repl, 3);
		return 1;
	}
	if (len == 2 && s[i] == 0xc2 && s[i + 1] == 0xa0)
		sink_space(k);		/* U+00A0 */
	else
		sink_char(k, (const char *)s + i, len);
	return len;
}

/* The text s[from..to) into k, or nowhere if k is NULL. */
static void
text(struct sink *k, const unsigned char *s, size_t from, size_t to, int lines)
{
	size_t	 i = from;

	if (k == NULL)
		return;
	while (i < to)
		i += text_char(k, s, i, to, lines);
}

/* ------------------------------------------------------------ markup */

static int
element_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct element *)elem)->name);
}

/* Where the body's text goes now: nowhere while a hiding element is open. */
static struct sink *
visible(struct scan *sc)
{
	int	 h;

	for (h = HIDE_NONE + 1; h < HIDE_N; h++)
		if (sc->hidden[h] > 0)
			return NULL;
	return &sc->body;
}

/* The first index at or after i where s[i] == c, or n. */
static size_t
find(const struct scan *sc, size_t i, unsigned char c)
{
	const unsigned char	*p;

	if (i >= sc->n)
		return sc->n;
	p = memchr(sc->s + i, c, sc->n - i);
	return p != NULL ? (size_t)(p - sc->s) : sc->n;
}

/* A tag's name at s[i] (its first letter), lowercased into name, with '?' for what
 * is not a letter or digit ("" if longer than NAME_MAX_LEN: no element this knows);
 * returns the index after it. */
static size_t
tag_name(const struct scan *sc, size_t i, char name[NAME_MAX_LEN + 1])
{
	size_t		 k = 0;
	unsigned char	 c;

	for (; i < sc->n && !html_space(c = sc->s[i]) && c != '/' && c != '>'; i++)
		if (k <= NAME_MAX_LEN)
			name[k++] = ascii_alpha(c) ? (char)(c | 0x20) : ascii_alnum(c) ?
			    (char)c : '?';
	name[k <= NAME_MAX_LEN ? k : 0] = '\0';
	return i;
}

/* The attributes after a tag's name at s[i], to the '>' that ends the tag (not one
 * inside a quoted value): returns the index after it (n if none), and in *selfclosing
 * whether "/>" ended it. */
static size_t
tag_rest(const struct scan *sc, size_t i, int *selfclosing)
{
	const unsigned char	*s = sc->s;
	size_t			 n = sc->n;

	*selfclosing = 0;
	for (;;) {
		while (i < n && html_space(s[i]))
			i++;
		if (i >= n)
			return n;
		if (s[i] == '>')
			return i + 1;
		if (s[i] == '/') {
			if (++i < n && s[i] == '>') {
				*selfclosing = 1;
				return i + 1;
			}
			continue;
		}
		/* An attribute's name (its first character may be anything), its value. */
		for (i++; i < n && !html_space(s[i]) && s[i] != '/' && s[i] != '>' &&
		    s[i] != '='; i++)
			;
		while (i < n && html_space(s[i]))
			i++;
		if (i >= n || s[i] != '=')
			continue;
		for (i++; i < n && html_space(s[i]); i++)
			;
		if (i < n && (s[i] == '"' || s[i] == '\''))
			i = find(sc, i + 1, s[i]) + 1;
		else
			while (i < n && !html_space(s[i]) && s[i] != '>')
				i++;
	}
}

/* The tag whose name starts at s[i]: returns the index after it, with its element in
 * *e (NULL: none this knows) and whether "/>" ended it in *selfclosing. */
static size_t
tag(const struct scan *sc, size_t i, const struct element **e, int *selfclosing)
{
	char	 name[NAME_MAX_LEN + 1];

	i = tag_rest(sc, tag_name(sc, i, name), selfclosing);
	*e = bsearch(name, elements, sizeof(elements) / sizeof(elements[0]),
	    sizeof(elements[0]), element_cmp);
	return i;
}

/* Where the end tag of the raw-text element name starts, at or after i: "</name"
 * (any case) followed by a space, '/', '>' or the end; n if there is none. */
static size_t
raw_end(const struct scan *sc, size_t i, const char *name)
{
	size_t	 len = strlen(name), k;

	for (; (i = find(sc, i, '<')) < sc->n; i++) {
		if (sc->n - i < len + 2 || sc->s[i + 1] != '/')
			continue;
		for (k = 0; k < len && (sc->s[i + 2 + k] | 0x20) == (unsigned char)name[k]; k++)
			;
		if (k == len && (i + 2 + len == sc->n || html_space(sc->s[i + 2 + len]) ||
		    sc->s[i + 2 + len] == '/' || sc->s[i + 2 + len] == '>'))
			return i;
	}
	return sc->n;
}

/* "<!--" at s[i]: the index after the comment's end ("-->", "--!>", or "<!-->" and
 * "<!--->" whole), n if it has none. */
static size_t
comment(const struct scan *sc, size_t i)
{
	size_t	 dashes = 0;

	i += 4;
	if (i < sc->n && sc->s[i] == '>')
		return i + 1;
	if (i + 1 < sc->n && sc->s[i] == '-' && sc->s[i + 1] == '>')
		return i + 2;
	for (; i < sc->n; i++) {
		if (sc->s[i] == '-')
			dashes++;
		else if (dashes >= 2 && sc->s[i] == '>')
			return i + 1;
		else if (dashes >= 2 && sc->s[i] == '!' && i + 1 < sc->n && sc->s[i + 1] == '>')
			return i + 2;
		else
			dashes = 0;
	}
	return sc->n;
}

/* "<![CDATA[" at s[i]: the index after its "]]>", n if it has none. */
static size_t
cdata(const struct scan *sc, size_t i)
{
	size_t	 brackets = 0;

	for (i += 9; i < sc->n; i++) {
		if (sc->s[i] == ']')
			brackets++;
		else if (brackets >= 2 && sc->s[i] == '>')
			return i + 1;
		else
			brackets = 0;
	}
	return sc->n;
}

/* The content of a raw-text or title element starting at i: the title's text is
 * kept if it is the first title outside a hiding element other than <head>.  Returns
 * the index after the element's end tag. */
static size_t
raw_content(struct scan *sc, size_t i, const struct element *e)
{
	const struct element	*end_e;
	size_t			 end = raw_end(sc, i, e->name);
	int			 selfclosing;

	if ((e->flags & E_TITLE) && !sc->have_title && sc->hidden[HIDE_NOSCRIPT] == 0 &&
	    sc->hidden[HIDE_TEMPLATE] == 0 && sc->hidden[HIDE_SVG] == 0) {
		text(&sc->title, sc->s, i, end, 0);
		sc->have_title = 1;
	}
	if (end >= sc->n)
		return sc->n;
	return tag(sc, end + 2, &end_e, &selfclosing);
}

/* The breaks an element's tag makes in the visible text. */
static void
breaks(struct scan *sc, const struct element *e)
{
	struct sink	*k = visible(sc);

	if (k == NULL)
		return;
	if (e->flags & E_LINE)
		sink_line(k);
	if (e->flags & E_BREAK)
		sink_break(k);
	if (e->flags & E_WORD)
		sink_space(k);
}

/* A start tag at s[i] ('<' and a letter): returns the index after it, and after the
 * element's content when that is raw text or the title. */
static size_t
start_tag(struct scan *sc, size_t i)
{
	const struct element	*e;
	int			 selfclosing;

	i = tag(sc, i + 1, &e, &selfclosing);
	if (e == NULL || !(e->flags & E_HEAD))
		sc->hidden[HIDE_HEAD] = 0;	/* as a browser ends an unclosed <head> */
	if (e == NULL)
		return i;
	if (e->flags & (E_RAW | E_TITLE))
		return raw_content(sc, i, e);	/* "<script/>" is no empty script */
	breaks(sc, e);
	if (e->hide != HIDE_NONE && !selfclosing && sc->hidden[e->hide] < UINT_MAX)
		sc->hidden[e->hide]++;
	if ((e->flags & E_PRE) && !selfclosing) {
		sc->pre++;
		/* A browser drops the newline right after <pre>. */
		if (i < sc->n && sc->s[i] == '\r')
			i++;
		if (i < sc->n && sc->s[i] == '\n')
			i++;
	}
	return i;
}

/* An end tag at s[i] ("</" and a letter): returns the index after it. */
static size_t
end_tag(struct scan *sc, size_t i)
{
	const struct element	*e;
	int			 selfclosing;

	i = tag(sc, i + 2, &e, &selfclosing);
	if (e == NULL)
		return i;
	if (e->hide != HIDE_NONE && sc->hidden[e->hide] > 0)
		sc->hidden[e->hide]--;
	if ((e->flags & E_PRE) && sc->pre > 0)
		sc->pre--;
	breaks(sc, e);
	return i;
}

/* The markup at s[i] == '<': returns the index after it.  A '<' that starts no markup
 * is text. */
static size_t
markup(struct scan *sc, size_t i)
{
	const unsigned char	*s = sc->s;
	size_t			 left = sc->n - i;

	if (left >= 2 && ascii_alpha(s[i + 1]))
		return start_tag(sc, i);
	if (left >= 3 && s[i + 1] == '/' && ascii_alpha(s[i + 2]))
		return end_tag(sc, i);
	if (left >= 4 && memcmp(s + i, "<!--", 4) == 0)
		return comment(sc, i);
	if (left >= 9 && memcmp(s + i, "<![CDATA[", 9) == 0)
		return cdata(sc, i);
	if (left >= 2 && (s[i + 1] == '!' || s[i + 1] == '?' || s[i + 1] == '/')) {
		i = find(sc, i + 1, '>');	/* a doctype, "<?...>", a bogus comment */
		return i < sc->n ? i + 1 : sc->n;
	}
	text(visible(sc), s, i, i + 1, sc->pre > 0);
	return i + 1;
}

/* ------------------------------------------------------------ the whole */

/* title, a newline and body, cut to max at a character boundary and trimmed. */
static char *
join(struct sink *title, struct sink *body, size_t max, size_t *outlen)
{
	size_t	 len = title->b.len + body->b.len + 1, cut;
	char	*out = sb_malloc(len + 1);

	len = 0;
	if (title->b.len > 0) {
		memcpy(out, title->b.data, title->b.len);
		len = title->b.len;
		if (body->b.len > 0)
			out[len++] = '\n';
	}
	if (body->b.len > 0)
		memcpy(out + len, body->b.data, body->b.len);
	len += body->b.len;
	cut = len < max ? len : max;
	while (cut > 0 && cut < len && ((unsigned char)out[cut] & 0xc0) == 0x80)
		cut--;
	while (cut > 0 && (out[cut - 1] == ' ' || out[cut - 1] == '\n'))
		cut--;
	out[cut] = '\0';
	if (outlen != NULL)
		*outlen = cut;
	return out;
}

char *
html_text(const char *html, size_t len, size_t max, size_t *outlen)
{
	struct scan	 sc;
	size_t		 i = 0, lt;
	char		*out;

	memset(&sc, 0, sizeof(sc));
	sc.s = (const unsigned char *)html;
	sc.n = html != NULL ? len : 0;
	sink_init(&sc.body, max);
	sink_init(&sc.title, max);
	while (i < sc.n) {
		lt = find(&sc, i, '<');
		text(visible(&sc), sc.s, i, lt, sc.pre > 0);
		if ((i = lt) < sc.n)
			i = markup(&sc, i);
	}
	out = join(&sc.title, &sc.body, max, outlen);
	buf_free(&sc.title.b);
	buf_free(&sc.body.b);
	return out;
}
