/* wjson.c: the browser app's strict JSON reader and small writer (wjson.h). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "web/src/wjson.h"

struct parser {
	struct sb_arena		*a;
	const unsigned char	*s;
	size_t			 len;
	size_t			 pos;
	const char		*why;	/* set at the first error */
	int			 depth;
};

static struct wj	*parse_value(struct parser *);

static int
fail(struct parser *p, const char *why)
{
	if (p->why == NULL)
		p->why = why;
	return -1;
}

static void
skip_ws(struct parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
	    p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static int
literal(struct parser *p, const char *word)
{
	size_t	 n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return fail(p, "unexpected character");
	p->pos += n;
	return 0;
}

/* The number of bytes of the UTF-8 sequence at s[0..n), 0 if it is not one (overlong
 * forms, surrogates and code points past U+10FFFF included). */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned	 c = s[0];
	size_t		 want, i;
	uint32_t	 cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		want = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		want = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		want = 4;
		cp = c & 0x07;
	} else
		return 0;
	if (n < want)
		return 0;
	for (i = 1; i < want; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((want == 3 && cp < 0x800) || (want == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return want;
}

int
wj_utf8_ok(const char *s, size_t n)
{
	size_t	 i, k;

	for (i = 0; i < n; i += k)
		if (s[i] == '\0' || (k = utf8_seq((const unsigned char *)s + i, n - i)) == 0)
			return 0;
	return 1;
}

int
wj_hexdigit(int c)
{
	static const char	 digits[] = "0123456789abcdef";
	const char		*at;

	if (c >= 'A' && c <= 'F')
		c += 'a' - 'A';
	at = c != '\0' ? strchr(digits, c) : NULL;
	return at != NULL ? (int)(at - digits) : -1;
}

static int
hex4(struct parser *p, uint32_t *v)
{
	size_t		 i;
	int		 d;

	if (p->len - p->pos < 4)
		return fail(p, "short \\u escape");
	*v = 0;
	for (i = 0; i < 4; i++) {
		if ((d = wj_hexdigit(p->s[p->pos + i])) < 0)
			return fail(p, "bad \\u escape");
		*v = *v << 4 | (uint32_t)d;
	}
	p->pos += 4;
	return 0;
}

static void
put_utf8(struct sb_buf *b, uint32_t cp)
{
	unsigned char	 u[4];
	size_t		 n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | cp >> 18);
		u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_append(b, u, n);
}

static int
escape(struct parser *p, struct sb_buf *b)
{
	unsigned	 c;
	uint32_t	 cp, lo;

	if (p->pos >= p->len)
		return fail(p, "unterminated string");
	c = p->s[p->pos++];
	switch (c) {
	case '"': case '\\': case '/':
		return buf_append(b, &p->s[p->pos - 1], 1);
	case 'b': return buf_append(b, "\b", 1);
	case 'f': return buf_append(b, "\f", 1);
	case 'n': return buf_append(b, "\n", 1);
	case 'r': return buf_append(b, "\r", 1);
	case 't': return buf_append(b, "\t", 1);
	case 'u':
		break;
	default:
		return fail(p, "bad escape");
	}
	if (hex4(p, &cp) < 0)
		return -1;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return fail(p, "lone low surrogate");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
			return fail(p, "lone high surrogate");
		p->pos += 2;
		if (hex4(p, &lo) < 0)
			return -1;
		if (lo < 0xdc00 || lo > 0xdfff)
			return fail(p, "lone high surrogate");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (cp == 0)
		return fail(p, "U+0000 in a string");
	put_utf8(b, cp);
	return 0;
}

/* A string at p->pos (its opening quote); the decoded bytes, in the arena. */
static const char *
parse_string(struct parser *p, size_t *lenp)
{
	struct sb_buf	 b;
	size_t		 run, n;
	const char	*out = NULL;

	buf_init(&b, 0);
	p->pos++;
	for (;;) {
		run = p->pos;
		while (p->pos < p->len && p->s[p->pos] != '"' && p->s[p->pos] != '\\' &&
		    p->s[p->pos] >= 0x20 && p->s[p->pos] < 0x80)
			p->pos++;
		buf_append(&b, p->s + run, p->pos - run);
		if (p->pos >= p->len) {
			fail(p, "unterminated string");
			goto out;
		}
		if (p->s[p->pos] == '"')
			break;
		if (p->s[p->pos] == '\\') {
			p->pos++;
			if (escape(p, &b) < 0)
				goto out;
		} else if (p->s[p->pos] < 0x20) {
			fail(p, "control character in a string");
			goto out;
		} else {
			if ((n = utf8_seq(p->s + p->pos, p->len - p->pos)) == 0) {
				fail(p, "invalid UTF-8");
				goto out;
			}
			buf_append(&b, p->s + p->pos, n);
			p->pos += n;
		}
	}
	p->pos++;
	out = arena_strndup(p->a, b.data != NULL ? b.data : "", b.len);
	*lenp = b.len;
out:
	buf_free(&b);
	return out;
}

static int
digits(struct parser *p)
{
	size_t	 start = p->pos;

	while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
		p->pos++;
	return p->pos > start ? 0 : fail(p, "digit expected");
}

static int
parse_number(struct parser *p, double *v)
{
	size_t	 start = p->pos, n;
	char	 tmp[64], *text;

	if (p->s[p->pos] == '-')
		p->pos++;
	if (p->pos < p->len && p->s[p->pos] == '0')
		p->pos++;
	else if (digits(p) < 0)
		return -1;
	if (p->pos < p->len && p->s[p->pos] == '.') {
		p->pos++;
		if (digits(p) < 0)
			return -1;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (digits(p) < 0)
			return -1;
	}
	/* strtod reads a C string: a copy, on the stack unless it is long. */
	n = p->pos - start;
	text = n < sizeof(tmp) ? tmp : arena_alloc(p->a, n + 1);
	memcpy(text, p->s + start, n);
	text[n] = '\0';
	*v = strtod(text, NULL);
	return 0;
}

/* The members of an array (close ']') or an object (close '}'). */
static int
parse_members(struct parser *p, struct wj *v, unsigned char close)
{
	struct wj	**tail = &v->first, *m;
	const char	*key = NULL;
	size_t		 keylen;

	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		return 0;
	}
	for (;;) {
		skip_ws(p);
		if (close == '}') {
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return fail(p, "key expected");
			if ((key = parse_string(p, &keylen)) == NULL)
				return -1;
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':')
				return fail(p, "':' expected");
			p->pos++;
		}
		if ((m = parse_value(p)) == NULL)
			return -1;
		m->key = key;
		*tail = m;
		tail = &m->next;
		v->len++;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == close) {
			p->pos++;
			return 0;
		}
		return fail(p, close == '}' ? "',' or '}' expected" : "',' or ']' expected");
	}
}

static struct wj *
parse_value(struct parser *p)
{
	struct wj	*v;
	int		 rc = 0;

	skip_ws(p);
	if (p->pos >= p->len) {
		fail(p, "value expected");
		return NULL;
	}
	v = arena_calloc(p->a, 1, sizeof(*v));
	switch (p->s[p->pos]) {
	case 'n':
		v->type = WJ_NULL;
		rc = literal(p, "null");
		break;
	case 't':
		v->type = WJ_TRUE;
		rc = literal(p, "true");
		break;
	case 'f':
		v->type = WJ_FALSE;
		rc = literal(p, "false");
		break;
	case '"':
		v->type = WJ_STRING;
		if ((v->str = parse_string(p, &v->len)) == NULL)
			rc = -1;
		break;
	case '[':
	case '{':
		if (++p->depth > WJSON_MAX_DEPTH) {
			rc = fail(p, "nested too deep");
			break;
		}
		v->type = p->s[p->pos] == '[' ? WJ_ARRAY : WJ_OBJECT;
		rc = parse_members(p, v, p->s[p->pos] == '[' ? ']' : '}');
		p->depth--;
		break;
	default:
		if (p->s[p->pos] == '-' || (p->s[p->pos] >= '0' && p->s[p->pos] <= '9')) {
			v->type = WJ_NUMBER;
			rc = parse_number(p, &v->num);
		} else
			rc = fail(p, "unexpected character");
	}
	return rc < 0 ? NULL : v;
}

struct wj *
wj_parse(struct sb_arena *a, const char *text, size_t len, struct wj_error *err)
{
	struct parser	 p = { .a = a, .s = (const unsigned char *)text, .len = len };
	struct wj	*v;

	v = parse_value(&p);
	if (v != NULL) {
		skip_ws(&p);
		if (p.pos != p.len) {
			fail(&p, "text after the value");
			v = NULL;
		}
	}
	if (v == NULL && err != NULL) {
		err->pos = p.pos;
		err->why = p.why != NULL ? p.why : "invalid JSON";
	}
	return v;
}

const struct wj *
wj_get(const struct wj *v, const char *key)
{
	const struct wj	*m;

	if (v == NULL || v->type != WJ_OBJECT)
		return NULL;
	for (m = v->first; m != NULL; m = m->next)
		if (strcmp(m->key, key) == 0)
			return m;
	return NULL;
}

const char *
wj_str(const struct wj *v, const char *dflt)
{
	return v != NULL && v->type == WJ_STRING ? v->str : dflt;
}

const char *
wj_gets(const struct wj *v, const char *key, const char *dflt)
{
	return wj_str(wj_get(v, key), dflt);
}

double
wj_num(const struct wj *v, double dflt)
{
	return v != NULL && v->type == WJ_NUMBER ? v->num : dflt;
}

int
wj_true(const struct wj *v)
{
	return v != NULL && v->type == WJ_TRUE;
}

void
wj_write_str(struct sb_buf *out, const char *s)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*u = (const unsigned char *)s;
	char			 esc[7];

	buf_append(out, "\"", 1);
	for (; *u != '\0'; u++) {
		if (*u == '"' || *u == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*u;
			buf_append(out, esc, 2);
		} else if (*u < 0x20 || *u == '<' || *u == '>' || *u == '&') {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[*u >> 4];
			esc[5] = hex[*u & 15];
			buf_append(out, esc, 6);
		} else
			buf_append(out, u, 1);
	}
	buf_append(out, "\"", 1);
}

void
wj_write_member(struct sb_buf *out, int *first, const char *key, const char *value)
{
	if (!*first)
		buf_append(out, ",", 1);
	*first = 0;
	wj_write_str(out, key);
	buf_append(out, ":", 1);
	wj_write_str(out, value);
}

void
wj_write(struct sb_buf *out, const struct wj *v)
{
	const struct wj	*m;

	switch (v != NULL ? v->type : WJ_NULL) {
	case WJ_NULL:
		buf_puts(out, "null");
		break;
	case WJ_FALSE:
	case WJ_TRUE:
		buf_puts(out, v->type == WJ_TRUE ? "true" : "false");
		break;
	case WJ_NUMBER:
		if (v->num == (double)(long long)v->num && v->num > -1e15 && v->num < 1e15)
			buf_printf(out, "%lld", (long long)v->num);
		else
			buf_printf(out, "%.17g", v->num);
		break;
	case WJ_STRING:
		wj_write_str(out, v->str);
		break;
	case WJ_ARRAY:
	case WJ_OBJECT:
		buf_puts(out, v->type == WJ_ARRAY ? "[" : "{");
		for (m = v->first; m != NULL; m = m->next) {
			if (m != v->first)
				buf_puts(out, ",");
			if (v->type == WJ_OBJECT) {
				wj_write_str(out, m->key);
				buf_puts(out, ":");
			}
			wj_write(out, m);
		}
		buf_puts(out, v->type == WJ_ARRAY ? "]" : "}");
		break;
	}
}
