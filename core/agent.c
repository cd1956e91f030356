/* agent.c: what an agent definition may say: the one validator for the API and the import. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include "core/agent.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/provider.h"
#include "core/tools.h"

static int
slug_valid(const char *s, size_t max)
{
	size_t i;

	if (!(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (i >= max || !(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
		    s[i] == '-'))
			return 0;
	return 1;
}

static json_t *
fail(struct agent_error *e, enum sb_err err, const char *slug, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static json_t *
fail(struct agent_error *e, enum sb_err err, const char *slug, const char *fmt, ...)
{
	va_list ap;

	e->err = err;
	e->slug = slug;
	va_start(ap, fmt);
	vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
	va_end(ap);
	return NULL;
}

/* An array of 1 to max agent slugs, each once. */
static int
slugs_valid(const json_t *a, size_t max)
{
	const char	*s;
	size_t		 i, j;

	if (!json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > max)
		return 0;
	for (i = 0; i < json_array_size(a); i++) {
		if ((s = json_string_value(json_array_get(a, i))) == NULL || !slug_valid(s, 63))
			return 0;
		for (j = 0; j < i; j++)
			if (strcmp(json_string_value(json_array_get(a, j)), s) == 0)
				return 0;
	}
	return 1;
}

/* How a list of tool names is wrong: TOOLS_OK, or which rule it breaks (*bad: the
 * name at fault, or NULL when it is not a string). */
enum tools_check { TOOLS_OK, TOOLS_NOT_ARRAY, TOOLS_UNKNOWN, TOOLS_TWICE };

static enum tools_check
tools_check(const json_t *a, const char **bad)
{
	const char	*t;
	size_t		 i, j;

	*bad = NULL;
	if (!json_is_array(a))
		return TOOLS_NOT_ARRAY;
	for (i = 0; i < json_array_size(a); i++) {
		if ((*bad = t = json_string_value(json_array_get(a, i))) == NULL ||
		    tool_decl_find(t) == NULL)
			return TOOLS_UNKNOWN;
		for (j = 0; j < i; j++)
			if (strcmp(json_string_value(json_array_get(a, j)), t) == 0)
				return TOOLS_TWICE;
	}
	return TOOLS_OK;
}

json_t *
agent_validate(json_t *in, const char *slug, struct agent_error *e)
{
	const char	*name = NULL, *desc = "", *cat = "general", *prov = NULL, *model = NULL;
	const char	*prompt = "", *in_slug = NULL, *key, *t;
	json_t		*params = NULL, *tl = NULL, *v, *out;
	int		 enabled = 1;

	memset(e, 0, sizeof(*e));
	if (json_unpack(in, "{s?s, s:s, s?s, s?s, s:s, s:s, s?s, s?o, s?o, s?b !}",
	    "slug", &in_slug, "name", &name, "description", &desc, "category", &cat,
	    "provider", &prov, "model", &model, "system_prompt", &prompt,
	    "parameters", &params, "tools", &tl, "enabled", &enabled) != 0)
		return fail(e, SB_ERR_INVALID, "invalid-body", "%s", "expected {slug, name, "
		    "description?, category?, provider, model, system_prompt?, parameters?, tools?, "
		    "enabled?} with the right types and nothing else");
	/* The database takes C strings: a NUL would cut a text after its checks. */
	json_object_foreach(in, key, v)
		if (json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v))
			return fail(e, SB_ERR_UNPROCESSABLE, "invalid-field", "%s holds a NUL", key);
	if (slug == NULL)
		slug = in_slug;
	else if (in_slug != NULL && strcmp(in_slug, slug) != 0)
		return fail(e, SB_ERR_UNPROCESSABLE, "slug-mismatch", "%s",
		    "the body's slug differs from the path's");
	if (slug == NULL || !slug_valid(slug, 63))
		return fail(e, SB_ERR_UNPROCESSABLE, "invalid-slug", "%s",
		    "slug is 1 to 63 of a-z, 0-9 and -, starting with a letter or digit");
	if (strlen(name) < 1 || strlen(name) > 200 || strlen(desc) > 2000 || strlen(model) < 1 ||
	    strlen(model) > 200 || strlen(prompt) > 65536)
		return fail(e, SB_ERR_UNPROCESSABLE, "invalid-field", "%s", "name is 1-200 bytes, "
		    "description up to 2000, model 1-200, system_prompt up to 65536");
	if (!slug_valid(cat, 32) || isdigit((unsigned char)cat[0]))
		return fail(e, SB_ERR_UNPROCESSABLE, "invalid-category", "%s",
		    "category is 1 to 32 of a-z and -, starting with a letter");
	if (provider_parse(prov) < 0)
		return fail(e, SB_ERR_UNPROCESSABLE, "unknown-provider",
		    "unknown provider \"%.40s\" (%s)", prov, provider_names_text());
	if (params != NULL && !json_is_object(params))
		return fail(e, SB_ERR_UNPROCESSABLE, "invalid-parameters", "%s",
		    "parameters is an object");
	if (params != NULL) {
		json_object_foreach(params, key, v) {
			double x = json_number_value(v);

			if (strcmp(key, "temperature") == 0 && json_is_number(v) && x >= 0 && x <= 2)
				continue;
			if (strcmp(key, "top_p") == 0 && json_is_number(v) && x > 0 && x <= 1)
				continue;
			if (strcmp(key, "max_tokens") == 0 && json_is_integer(v) && x >= 1 &&
			    x <= 200000)
				continue;
			if (strcmp(key, "context_tokens") == 0 && json_is_integer(v) && x >= 256 &&
			    x <= 1000000)
				continue;
			if (strcmp(key, "max_steps") == 0 && json_is_integer(v) && x >= 1 &&
			    x <= AGENT_MAX_STEPS_MAX)
				continue;
			if (strcmp(key, "fetch_post") == 0 && json_is_boolean(v))
				continue;
			if (strcmp(key, "human_deadline_s") == 0 && json_is_integer(v) && x >= 60 &&
			    x <= 2592000)
				continue;
			if (strcmp(key, "on_human_timeout") == 0 && json_is_string(v) &&
			    (strcmp(json_string_value(v), "continue") == 0 ||
			    strcmp(json_string_value(v), "fail") == 0))
				continue;
			if (strcmp(key, "approve_tools") == 0 && tools_check(v, &t) == TOOLS_OK)
				continue;
			if (strcmp(key, "handoff_to") == 0 && slugs_valid(v, AGENT_HANDOFF_MAX))
				continue;
			if (strcmp(key, "memory_scope") == 0 && json_is_string(v) &&
			    (strcmp(json_string_value(v), "user") == 0 ||
			    strcmp(json_string_value(v), "thread") == 0))
				continue;
			return fail(e, SB_ERR_UNPROCESSABLE, "invalid-parameter",
			    "parameter \"%.40s\" is unknown or out of range (temperature 0-2, top_p "
			    "0-1, max_tokens 1-200000, context_tokens 256-1000000, max_steps 1-50, "
			    "fetch_post true or false, human_deadline_s 60-2592000, on_human_timeout "
			    "continue or fail, approve_tools an array of tool names, handoff_to "
			    "1-20 agent slugs, memory_scope user or thread)", key);
		}
	}
	switch (tl != NULL ? tools_check(tl, &t) : TOOLS_OK) {
	case TOOLS_OK:
		break;
	case TOOLS_NOT_ARRAY:
		return fail(e, SB_ERR_UNPROCESSABLE, "invalid-tools", "%s", "tools is an array");
	case TOOLS_UNKNOWN:
		return fail(e, SB_ERR_UNPROCESSABLE, "unknown-tool", "unknown tool \"%.40s\"",
		    t != NULL ? t : "(not a string)");
	case TOOLS_TWICE:
		return fail(e, SB_ERR_UNPROCESSABLE, "invalid-tools",
		    "tool \"%.40s\" is named twice", t);
	}
	out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:b}",
	    "slug", slug, "name", name, "description", desc, "category", cat, "provider", prov,
	    "model", model, "system_prompt", prompt,
	    "parameters", params != NULL ? json_incref(params) : json_object(),
	    "tools", tl != NULL ? json_incref(tl) : json_array(), "enabled", enabled);
	if (out == NULL)
		sb_oom(0);
	return out;
}

void
agent_bind(json_t *def, const char *org, const char *p[AGENT_NPARAMS], char **json)
{
	char	*params = json_dumps(json_object_get(def, "parameters"), JSON_COMPACT);
	char	*tl = json_dumps(json_object_get(def, "tools"), JSON_COMPACT);
	size_t	 n;

	if (params == NULL || tl == NULL)
		sb_oom(0);
	/* One allocation holds both texts, so the caller frees one pointer. */
	n = strlen(params) + 1;
	*json = sb_malloc(n + strlen(tl) + 1);
	memcpy(*json, params, n);
	memcpy(*json + n, tl, strlen(tl) + 1);
	free(params);
	free(tl);
	p[0] = org;
	p[1] = json_string_value(json_object_get(def, "slug"));
	p[2] = json_string_value(json_object_get(def, "name"));
	p[3] = json_string_value(json_object_get(def, "description"));
	p[4] = json_string_value(json_object_get(def, "category"));
	p[5] = json_string_value(json_object_get(def, "provider"));
	p[6] = json_string_value(json_object_get(def, "model"));
	p[7] = json_string_value(json_object_get(def, "system_prompt"));
	p[8] = *json;
	p[9] = *json + n;
	p[10] = json_is_true(json_object_get(def, "enabled")) ? "true" : "false";
}
