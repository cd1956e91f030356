/* fuzz_schema.c: JSON Schema checks of any schema and value (core/schema.c). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/json.h"
#include "core/schema.h"
#include "tests/fuzz/fuzz.h"

/* What every error is: "path: message", valid UTF-8; and none on success. */
static void
check_err(int rc, const char *err)
{
	FUZZ_ASSERT(rc == 0 || rc == -1);
	if (rc == 0) {
		FUZZ_ASSERT(err[0] == '\0');
		return;
	}
	FUZZ_ASSERT(strstr(err, ": ") != NULL && err[0] != ':');
	FUZZ_ASSERT(utf8_valid(err, strlen(err)));
}

/* The same check into a small buffer: the same verdict, the error cut between
 * characters. */
static void
check_small(const json_t *s, const json_t *v, int rc, const char *err)
{
	char	 small[7];

	FUZZ_ASSERT(schema_check(s, v, small, sizeof(small)) == rc);
	FUZZ_ASSERT(strncmp(small, err, strlen(small)) == 0);
	FUZZ_ASSERT(utf8_valid(small, strlen(small)));
}

/* 1 if werr is err under the path "[0]": "(root): m" as "[0]: m", "[2].a: m" and
 * "[\"a.b\"]: m" as "[0][2].a: m" and "[0][\"a.b\"]: m", "a: m" as "[0].a: m". */
static int
same_under_index(const char *werr, const char *err)
{
	char	 want[300];

	if (strncmp(err, "(root): ", 8) == 0)
		snprintf(want, sizeof(want), "[0]%s", err + 6);
	else
		snprintf(want, sizeof(want), "[0]%s%s", err[0] == '[' ? "" : ".", err);
	return strcmp(werr, want) == 0;
}

/* s as the items of an array schema, v as the first of two items: the verdict is the
 * same, and the error the same under the path "[0]" (where the path is short and
 * the wrapping adds no level past the bound). */
static void
check_wrapped(json_t *s, json_t *v, int rc, const char *err)
{
	json_t	*ws = json_pack("{s:s, s:O}", "type", "array", "items", s);
	json_t	*wv = json_pack("[O, O]", v, v);
	char	 werr[256];
	int	 wrc;

	FUZZ_ASSERT(ws != NULL && wv != NULL);
	wrc = schema_check(ws, wv, werr, sizeof(werr));
	if (strstr(werr, "nested too deeply") == NULL && strlen(err) < 150) {
		FUZZ_ASSERT(wrc == rc);
		if (rc < 0)
			FUZZ_ASSERT(same_under_index(werr, err));
	}
	json_decref(ws);
	json_decref(wv);
}

/*
 * The input is a schema and a value, both JSON, split at the first NUL byte (without
 * one, the document is checked against itself).  Any schema, valid or not, is
 * checked without harm; a value always equals itself (const) and fits true, never
 * false.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*text = (const char *)data, *nul = memchr(data, '\0', size);
	size_t		 slen = nul != NULL ? (size_t)(nul - text) : size;
	json_t		*s, *v, *c;
	char		 err[256];
	int		 rc, valid;

	s = json_loadb(text, slen, JSON_DECODE_ANY, NULL);
	v = nul != NULL ? json_loadb(nul + 1, size - slen - 1, JSON_DECODE_ANY | JSON_ALLOW_NUL,
	    NULL) : json_incref(s);
	if (s == NULL || v == NULL)
		goto out;
	check_err(valid = schema_valid(s, err, sizeof(err)), err);
	rc = schema_check(s, v, err, sizeof(err));
	check_err(rc, err);
	check_small(s, v, rc, err);
	if (valid == 0)
		check_wrapped(s, v, rc, err);
	c = json_pack("{s:O}", "const", v);
	FUZZ_ASSERT(c != NULL && schema_check(c, v, err, sizeof(err)) == 0);
	json_decref(c);
	FUZZ_ASSERT(schema_check(json_true(), v, err, sizeof(err)) == 0);
	FUZZ_ASSERT(schema_check(json_false(), v, err, sizeof(err)) == -1 &&
	    strcmp(err, "(root): is not allowed") == 0);
out:
	json_decref(s);
	json_decref(v);
	return 0;
}
