/* fuzz_urltmpl.c: URL templates and their expansion (core/urltmpl.c) with any bytes as
 * the template and as the values a model gives. */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/urltmpl.h"
#include "tests/fuzz/fuzz.h"

#define SCHEMA "{\"type\": \"object\", \"properties\": {\"id\": {\"type\": \"string\"}, " \
	"\"q\": {\"type\": \"string\"}, \"n\": {\"type\": \"integer\"}}, \"required\": [\"id\"]}"
#define FIXED	"https://h.example:8443/a/{id}/b?q={q}&n={n}"

static json_t *schema;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	schema = json_loads(SCHEMA, 0, NULL);
	return 0;
}

static int
hexdigit(char c)
{
	return isdigit((unsigned char)c) || (c >= 'A' && c <= 'F');
}

/* s[0..n) holds only unreserved bytes and %XX: an encoded value, decoded into out. */
static size_t
decode(const char *s, size_t n, char *out)
{
	size_t i, len = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			FUZZ_ASSERT(i + 2 < n && hexdigit(s[i + 1]) && hexdigit(s[i + 2]));
			out[len++] = (char)strtol((char[]){ s[i + 1], s[i + 2], 0 }, NULL, 16);
			i += 2;
		} else {
			FUZZ_ASSERT(isalnum((unsigned char)s[i]) || strchr("-._~", s[i]) != NULL);
			out[len++] = s[i];
		}
	}
	return len;
}

/* The fixed template with the value v as id and q: the URL keeps its shape, and each
 * place decodes back to v. */
static void
fixed(const char *v, size_t n)
{
	json_t		*args = json_pack("{s:s%, s:s%, s:i}", "id", v, n, "q", v, n, "n", 7);
	char		 err[300], *url, *dec;
	const char	*p, *e;

	if (args == NULL)
		return;		/* not UTF-8: no model's arguments are */
	url = urltmpl_expand(FIXED, args, err, sizeof(err));
	json_decref(args);
	if (url == NULL)
		return;
	FUZZ_ASSERT(strncmp(url, "https://h.example:8443/a/", 25) == 0);
	dec = malloc(strlen(url) + 1);
	p = url + 25;
	e = strstr(p, "/b?q=");
	FUZZ_ASSERT(e != NULL);
	FUZZ_ASSERT(decode(p, (size_t)(e - p), dec) == n && memcmp(dec, v, n) == 0);
	p = e + 5;
	e = strstr(p, "&n=7");
	FUZZ_ASSERT(e != NULL && strcmp(e, "&n=7") == 0);
	FUZZ_ASSERT(decode(p, (size_t)(e - p), dec) == n && memcmp(dec, v, n) == 0);
	free(dec);
	free(url);
}

/* A template the check took: its expansions lead where its literal prefix does. */
static void
any(const char *t, const char *v, size_t n)
{
	json_t	*args = json_pack("{s:s%, s:s%, s:i}", "id", v, n, "q", v, n, "n", 7);
	char	 err[300], *url, *want, *got, *prefix;
	size_t	 plen;

	if (args == NULL || urltmpl_check(t, schema, err, sizeof(err)) < 0) {
		json_decref(args);
		return;
	}
	url = urltmpl_expand(t, args, err, sizeof(err));
	json_decref(args);
	if (url == NULL)
		return;
	FUZZ_ASSERT(strlen(url) <= URLTMPL_MAX && strchr(url, '#') == NULL);
	plen = strcspn(t + 8, "/?") + 8;
	prefix = malloc(plen + 2);
	memcpy(prefix, t, plen);
	memcpy(prefix + plen, "/", 2);
	want = url_origin(prefix);
	got = url_origin(url);
	FUZZ_ASSERT(want != NULL && got != NULL && strcmp(want, got) == 0);
	FUZZ_ASSERT(strncmp(url, t, plen) == 0);
	free(want);
	free(got);
	free(prefix);
	free(url);
}

/* The input is TEMPLATE, a NUL, then the value (without a NUL: the whole input is the
 * value, with the fixed template). */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*in = (const char *)data, *nul = memchr(in, '\0', size);
	char		*t;

	if (nul == NULL) {
		fixed(in, size);
		return 0;
	}
	t = strndup(in, (size_t)(nul - in));
	fixed(nul + 1, size - (size_t)(nul + 1 - in));
	any(t, nul + 1, size - (size_t)(nul + 1 - in));
	free(t);
	return 0;
}
