/* json.c: parsing untrusted JSON within limits. */
#include "config.h"

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
