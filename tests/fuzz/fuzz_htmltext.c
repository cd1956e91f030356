/* fuzz_htmltext.c: the readable text of any bytes taken for HTML (core/htmltext.c). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/htmltext.h"
#include "core/json.h"
#include "tests/fuzz/fuzz.h"

/* Prefixes whose text is hidden whole: after any of them the page reads as without. */
static const char *const hiders[] = {
	"<script>SECRET</script>",
	"<style>SECRET</style>",
	"<!--SECRET-->",
	"<head><script>SECRET</script></head>",
	"<template><p>SECRET</p></template>",
	"<noscript>SECRET</noscript>",
	"<svg><text>SECRET</text></svg>",
};

/* What html_text promises of any text it returns. */
static void
check_shape(const char *out, size_t len, size_t max)
{
	FUZZ_ASSERT(out != NULL && out[len] == '\0' && strlen(out) == len);
	FUZZ_ASSERT(len <= max);
	FUZZ_ASSERT(utf8_valid(out, len));
	FUZZ_ASSERT(strpbrk(out, "\t\r\f") == NULL);
	if (len == 0)
		return;
	FUZZ_ASSERT(out[0] != ' ' && out[0] != '\n');
	FUZZ_ASSERT(out[len - 1] != ' ' && out[len - 1] != '\n');
	FUZZ_ASSERT(strstr(out, "  ") == NULL && strstr(out, " \n") == NULL &&
	    strstr(out, "\n ") == NULL && strstr(out, "\n\n\n") == NULL);
}

/* html_text of the concatenation a + b. */
static char *
text_of(const char *a, size_t alen, const char *b, size_t blen, size_t max, size_t *len)
{
	char	*html = sb_malloc(alen + blen + 1), *out;

	memcpy(html, a, alen);
	memcpy(html + alen, b, blen);
	out = html_text(html, alen + blen, max, len);
	free(html);
	return out;
}

/* 1 if "</script" (any case) stands in s[0..n). */
static int
has_script_end(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i + 8 <= n; i++)
		if (strncasecmp(s + i, "</script", 8) == 0)
			return 1;
	return 0;
}

/*
 * The first byte chooses the bound (0..1020 bytes, or none), the rest is the page.
 * Its text has the promised shape; a hidden prefix changes nothing in it; and a
 * script holding the page (when the page cannot end it) leaves only what follows
 * its end, or nothing without one.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*html = (const char *)data + 1;
	size_t		 n, max, len, wlen, i;
	char		*out, *w;

	if (size < 1)
		return 0;
	n = size - 1;
	max = data[0] == 0xff ? SIZE_MAX : (size_t)data[0] * 4;
	out = html_text(html, n, max, &len);
	check_shape(out, len, max);
	for (i = 0; i < sizeof(hiders) / sizeof(hiders[0]); i++) {
		w = text_of(hiders[i], strlen(hiders[i]), html, n, max, &wlen);
		FUZZ_ASSERT(wlen == len && memcmp(w, out, len) == 0);
		free(w);
	}
	free(out);
	if (max >= 2 && !has_script_end(html, n)) {
		w = text_of("<script>", 8, html, n, SIZE_MAX, &wlen);
		FUZZ_ASSERT(wlen == 0);	/* a script never ended hides the rest */
		free(w);
		out = sb_malloc(n + 20);
		memcpy(out, html, n);
		memcpy(out + n, "</script>ok", 11);
		w = text_of("<script>", 8, out, n + 11, max, &wlen);
		FUZZ_ASSERT(wlen == 2 && strcmp(w, "ok") == 0);
		free(w);
		free(out);
	}
	return 0;
}
