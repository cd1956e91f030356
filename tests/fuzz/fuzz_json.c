/* fuzz_json.c: untrusted JSON within limits (core/json.c json_parse_limited), and json_text. */
#include "config.h"

#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/json.h"
#include "tests/fuzz/fuzz.h"

/* json_text() keeps any bytes: each that is not part of a UTF-8 character (and each
 * NUL) becomes one U+FFFD, and valid text is kept as it is. */
static void
check_text(const uint8_t *data, size_t size)
{
	char	*s = strndup((const char *)data, size);
	json_t	*v = json_text((const char *)data, size), *plain = json_string(s);

	FUZZ_ASSERT(json_is_string(v) && json_string_length(v) <= 3 * size &&
	    utf8_valid(json_string_value(v), json_string_length(v)));
	if (plain != NULL && strlen(s) == size)
		FUZZ_ASSERT(strcmp(json_string_value(v), s) == 0);
	json_decref(plain);
	json_decref(v);
	free(s);
}

/*
 * The first three bytes choose the limits, the rest is the document.  When a
 * document is accepted, the limits hold for what was built.  When it is refused
 * although jansson alone takes it, a limit must really be broken: the depth, the
 * size, or a string whose written form (at most 6 bytes per decoded byte, \u00XX)
 * is over the limit.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_limits	 lim;
	struct json_parse_error	 e;
	json_error_t		 jerr;
	json_t			*v, *plain;
	const char		*buf;
	size_t			 len, longest = 0;
	int			 depth = 0;

	if (size < 3)
		return 0;
	check_text(data, size);
	lim.max_depth = 1 + data[0] % 40;
	lim.max_string = (size_t)data[1] * 3;
	lim.max_bytes = data[2] >= 0xf0 ? (size_t)(data[2] - 0xf0) * 16 : SIZE_MAX;
	lim.from_provider = data[0] & 1;
	buf = (const char *)data + 3;
	len = size - 3;

	memset(&e, 0xa5, sizeof(e));
	v = json_parse_limited(buf, len, &lim, &e);
	if (v != NULL) {
		FUZZ_ASSERT(len <= lim.max_bytes);
		fuzz_json_measure(v, 0, &depth, &longest);
		FUZZ_ASSERT(depth <= lim.max_depth);
		FUZZ_ASSERT(longest <= lim.max_string);
		json_decref(v);
		return 0;
	}
	FUZZ_ASSERT(e.err == SB_ERR_INVALID || e.err == SB_ERR_TOO_LARGE);
	FUZZ_ASSERT(memchr(e.text, '\0', sizeof(e.text)) != NULL && e.text[0] != '\0');
	FUZZ_ASSERT(e.position <= len);
	if (e.err == SB_ERR_TOO_LARGE)
		FUZZ_ASSERT(len > lim.max_bytes);

	plain = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (plain != NULL) {
		fuzz_json_measure(plain, 0, &depth, &longest);
		/* A client's document may also be refused for U+0000 or a number that cannot
		 * be stored exactly: said so in the error. */
		FUZZ_ASSERT(len > lim.max_bytes || depth > lim.max_depth ||
		    longest * 6 > lim.max_string || (!lim.from_provider &&
		    (strstr(e.text, "U+0000") != NULL || strstr(e.text, "beyond") != NULL)));
		json_decref(plain);
	}
	return 0;
}
