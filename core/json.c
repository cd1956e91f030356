/* json.c: parsing untrusted JSON within limits. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/json.h"

static void
set_error(struct json_parse_error *e, enum sb_err err, const char *buf, size_t pos,
    const char *text)
{
	size_t i;

	e->err = err;
	e->position = pos;
	e->line = 1;
	e->column = 1;
	for (i = 0; i < pos; i++) {
		if (buf[i] == '\n') {
			e->line++;
			e->column = 1;
		} else
			e->column++;
	}
	snprintf(e->text, sizeof(e->text), "%s", text);
}

/* Checks nesting depth and string lengths without building anything.
 * Syntax is left to jansson; this only has to track strings and brackets. */
static int
prescan(const char *buf, size_t len, const struct json_limits *lim, struct json_parse_error *e)
{
	size_t	 i, start = 0;
	int	 depth = 0, in_str = 0;
	char	 msg[120];

	for (i = 0; i < len; i++) {
		char c = buf[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"') {
				in_str = 0;
				if (i - start - 1 > lim->max_string)
					goto long_string;
			}
			continue;
		}
		if (c == '"') {
			in_str = 1;
			start = i;
		} else if (c == '[' || c == '{') {
			if (++depth > lim->max_depth) {
				snprintf(msg, sizeof(msg), "nesting deeper than %d levels", lim->max_depth);
				set_error(e, SB_ERR_INVALID, buf, i, msg);
				return -1;
			}
		} else if (c == ']' || c == '}')
			depth--;
	}
	/* An unterminated string is a syntax error jansson reports; only its length matters here. */
	if (in_str && len - start - 1 > lim->max_string) {
		i = len;
		goto long_string;
	}
	return 0;
long_string:
	snprintf(msg, sizeof(msg), "string longer than %zu bytes", lim->max_string);
	set_error(e, SB_ERR_INVALID, buf, start, msg);
	return -1;
}

static int	number_unstorable(json_t *, char *, size_t);

json_t *
json_parse_limited(const char *buf, size_t len, const struct json_limits *lim,
    struct json_parse_error *e)
{
	json_error_t	 jerr;
	json_t		*v;
	char		 msg[120];

	memset(e, 0, sizeof(*e));
	if (len > lim->max_bytes) {
		snprintf(msg, sizeof(msg), "document larger than %zu bytes", lim->max_bytes);
		set_error(e, SB_ERR_TOO_LARGE, buf, 0, msg);
		return NULL;
	}
	if (prescan(buf, len, lim, e) < 0)
		return NULL;
	v = json_loadb(buf, len, JSON_REJECT_DUPLICATES | (lim->from_provider ? JSON_ALLOW_NUL : 0),
	    &jerr);
	if (v == NULL) {
		e->err = SB_ERR_INVALID;
		e->line = jerr.line;
		e->column = jerr.column;
		e->position = (size_t)(jerr.position < 0 ? 0 : jerr.position);
		if (strstr(jerr.text, "\\u0000") != NULL)
			snprintf(e->text, sizeof(e->text), "a string holds U+0000, which is not accepted");
		else
			snprintf(e->text, sizeof(e->text), "%s", jerr.text);
		return NULL;
	}
	if (!lim->from_provider && (msg[0] = '\0', number_unstorable(v, msg, sizeof(msg)))) {
		json_decref(v);
		set_error(e, SB_ERR_INVALID, buf, 0, msg);
		e->line = e->column = 0;	/* found after parsing: no position */
		return NULL;
	}
	return v;
}

/* Does v hold a number that cannot be stored and read back exactly?  msg says which. */
static int
number_unstorable(json_t *v, char *msg, size_t len)
{
	const char	*key;
	size_t		 i;
	json_t		*e;
	double		 d;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		json_object_foreach(v, key, e)
			if (number_unstorable(e, msg, len))
				return 1;
		return 0;
	case JSON_ARRAY:
		json_array_foreach(v, i, e)
			if (number_unstorable(e, msg, len))
				return 1;
		return 0;
	case JSON_REAL:
		d = json_real_value(v);
		if (d >= 9223372036854775807.0 || d <= -9223372036854775808.0) {
			snprintf(msg, len, "the number %.17g is beyond what can be stored exactly "
			    "(at most 9223372036854775807 in size)", d);
			return 1;
		}
		return 0;
	default:
		return 0;
	}
}

/* ------------------------------------------------------------ text from outside */

/* The length of the valid UTF-8 sequence at s (n bytes available), or 0 if there is
 * none there (a stray byte, an overlong form, a surrogate, past U+10FFFF, or cut short). */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t		 len, i;
	unsigned	 c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (len == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return len;
}

size_t
utf8_char(const char *s, size_t n)
{
	return utf8_seq((const unsigned char *)s, n);
}

int
utf8_valid(const char *s, size_t n)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i, len;

	for (i = 0; i < n; i += len)
		if ((len = utf8_seq(u + i, n - i)) == 0 || u[i] == 0)
			return 0;
	return 1;
}

size_t
utf8_prefix(const char *s, size_t n)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i = n, back = 0, need;

	/* The last sequence's lead byte: at most 3 continuation bytes back. */
	while (i > 0 && back < 3 && (u[i - 1] & 0xc0) == 0x80) {
		i--;
		back++;
	}
	if (i == 0)
		return n;
	i--;
	need = u[i] >= 0xf0 ? 4 : u[i] >= 0xe0 ? 3 : u[i] >= 0xc0 ? 2 : 1;
	return n - i < need ? i : n;	/* cut before a sequence that is not all there */
}

json_t *
json_text(const char *s, size_t n)
{
	static const char	 repl[] = "\xef\xbf\xbd";	/* U+FFFD */
	const unsigned char	*u = (const unsigned char *)s;
	char			*out;
	size_t			 i = 0, o = 0, len;
	json_t			*v;

	for (i = 0; i < n; i += len) {
		len = utf8_seq(u + i, n - i);
		if (len == 0 || u[i] == 0)
			break;
	}
	if (i >= n)
		return json_stringn(s, n);	/* the usual case: nothing to mend */
	out = sb_malloc(n * 3 + 1);
	for (i = 0; i < n; i += len) {
		len = utf8_seq(u + i, n - i);
		if (len == 0 || u[i] == 0) {
			memcpy(out + o, repl, 3);
			o += 3;
			len = 1;
		} else {
			memcpy(out + o, s + i, len);
			o += len;
		}
	}
	v = json_stringn(out, o);
	free(out);
	if (v == NULL)
		sb_oom(o);
	return v;
}

void
json_storable(json_t *v)
{
	const char	*key, *s;
	size_t		 i, n;
	json_t		*e, *t;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		json_object_foreach(v, key, e)
			json_storable(e);
		break;
	case JSON_ARRAY:
		json_array_foreach(v, i, e)
			json_storable(e);
		break;
	case JSON_STRING:
		s = json_string_value(v);
		n = json_string_length(v);
		if (memchr(s, '\0', n) != NULL) {
			t = json_text(s, n);
			json_string_setn(v, json_string_value(t), json_string_length(t));
			json_decref(t);
		}
		break;
	default:
		break;
	}
}
