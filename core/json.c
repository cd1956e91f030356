/* json.c: parsing untrusted JSON within limits. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

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
	v = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (v == NULL) {
		e->err = SB_ERR_INVALID;
		e->line = jerr.line;
		e->column = jerr.column;
		e->position = (size_t)(jerr.position < 0 ? 0 : jerr.position);
		snprintf(e->text, sizeof(e->text), "%s", jerr.text);
	}
	return v;
}

/* The length of the UTF-8 character at s, or 0 if none starts there (RFC 3629:
 * no overlong forms, no surrogates, nothing past U+10FFFF, as jansson checks). */
static size_t
utf8_char(const unsigned char *s)
{
	uint32_t	 c;
	size_t		 n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* a NUL ends the loop here too */
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return n;
}

json_t *
json_text(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	json_t			*v;
	char			*copy, *o;
	size_t			 n;

	if ((v = json_string(s)) != NULL)
		return v;
	o = copy = sb_malloc(strlen(s) + 1);
	while (*p != '\0') {
		if ((n = utf8_char(p)) == 0) {
			*o++ = '?';
			p++;
		} else {
			memcpy(o, p, n);
			o += n;
			p += n;
		}
	}
	*o = '\0';
	v = json_string(copy);
	free(copy);
	if (v == NULL)
		sb_oom(0);
	return v;
}
