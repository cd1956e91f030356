/* fuzz_agent.c: agent definitions as clients send them (core/agent.c agent_validate and
 * agent_bind, behind PUT /api/v1/agents/{slug} and switchboardctl agents import). */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <stdlib.h>

#include "core/agent.h"
#include "core/err.h"
#include "core/json.h"
#include "core/problem.h"
#include "tests/fuzz/fuzz.h"

static const char *const fields[] = { "slug", "name", "description", "category", "provider",
	"model", "system_prompt", "parameters", "tools", "enabled" };
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static int
slug_ok(const char *s, size_t max, int digit_first)
{
	size_t i;

	if (!(islower((unsigned char)s[0]) || (digit_first && isdigit((unsigned char)s[0]))))
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (i >= max || !(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
		    s[i] == '-'))
			return 0;
	return 1;
}

static size_t
len_of(const json_t *def, const char *key)
{
	return json_string_length(json_object_get(def, key));
}

/* What a definition that passed must be: the documented bounds, the normalized
 * shape, and what the client sent kept as sent. */
static void
check_def(json_t *in, json_t *def, const char *path_slug)
{
	const char	*key, *p[AGENT_NPARAMS];
	json_t		*v;
	char		*blob;
	size_t		 i;

	FUZZ_ASSERT(json_is_object(def) && json_object_size(def) == NFIELDS);
	for (i = 0; i < NFIELDS; i++) {
		FUZZ_ASSERT(json_object_get(def, fields[i]) != NULL);
		if ((v = json_object_get(in, fields[i])) != NULL &&
		    (strcmp(fields[i], "slug") != 0 || path_slug == NULL))
			FUZZ_ASSERT(json_equal(v, json_object_get(def, fields[i])));
	}
	FUZZ_ASSERT(slug_ok(json_string_value(json_object_get(def, "slug")), 63, 1));
	if (path_slug != NULL)
		FUZZ_ASSERT(strcmp(json_string_value(json_object_get(def, "slug")), path_slug) == 0);
	FUZZ_ASSERT(slug_ok(json_string_value(json_object_get(def, "category")), 32, 0));
	FUZZ_ASSERT(len_of(def, "name") >= 1 && len_of(def, "name") <= 200);
	FUZZ_ASSERT(len_of(def, "description") <= 2000);
	FUZZ_ASSERT(len_of(def, "model") >= 1 && len_of(def, "model") <= 200);
	FUZZ_ASSERT(len_of(def, "system_prompt") <= 65536);
	json_object_foreach(json_object_get(def, "parameters"), key, v) {
		double x = json_number_value(v);

		FUZZ_ASSERT(json_is_number(v));
		if (strcmp(key, "temperature") == 0)
			FUZZ_ASSERT(x >= 0 && x <= 2);
		else if (strcmp(key, "top_p") == 0)
			FUZZ_ASSERT(x > 0 && x <= 1);
		else
			FUZZ_ASSERT(strcmp(key, "max_tokens") == 0 && json_is_integer(v) &&
			    x >= 1 && x <= 200000);
	}
	FUZZ_ASSERT(json_array_size(json_object_get(def, "tools")) == 0);

	/* The SQL parameters are C strings: they must say what the definition says. */
	agent_bind(def, "1", p, &blob);
	for (i = 0; i < AGENT_NPARAMS; i++)
		FUZZ_ASSERT(p[i] != NULL);
	for (i = 1; i < 8; i++)
		FUZZ_ASSERT(strlen(p[i]) == len_of(def, fields[i - 1]));
	free(blob);
}

/* First byte odd: the slug comes from the path ("from-path"); then the body. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct json_limits	 lim = { 1048576, 32, 65536 };
	struct json_parse_error		 jerr;
	struct agent_error		 e;
	const char			*path_slug;
	json_t				*in, *def, *p;

	if (size < 1)
		return 0;
	path_slug = (data[0] & 1) ? "from-path" : NULL;
	/* As the API reads a body: NULs in strings are let through to the validator. */
	if ((in = json_parse_limited((const char *)data + 1, size - 1, &lim, &jerr)) == NULL)
		return 0;
	memset(&e, 0xa5, sizeof(e));
	if ((def = agent_validate(in, path_slug, &e)) != NULL) {
		check_def(in, def, path_slug);
		json_decref(def);
	} else {
		FUZZ_ASSERT(e.err == SB_ERR_INVALID || e.err == SB_ERR_UNPROCESSABLE);
		FUZZ_ASSERT(e.slug != NULL && e.detail[0] != '\0');
		FUZZ_ASSERT(memchr(e.detail, '\0', sizeof(e.detail)) != NULL);
		p = problem_new(sb_err_status(e.err), e.slug, NULL, e.detail);
		FUZZ_ASSERT(json_is_string(json_object_get(p, "detail")));
		json_decref(p);
	}
	json_decref(in);
	return 0;
}
