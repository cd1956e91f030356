/* test_agent.c: agent definitions (core/agent.c): what the validator keeps and refuses,
 * rule by rule, with the problem docs/api.md lists for each, and agent_bind's order. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <jansson.h>

#include "core/agent.h"
#include "core/arena.h"
#include "core/err.h"
#include "tests/unit/unit.h"

static json_t *
validate(const char *text, struct agent_error *e)
{
	json_error_t	 je;
	json_t		*in = json_loads(text, JSON_ALLOW_NUL, &je), *def;

	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	def = agent_validate(in, NULL, e);
	json_decref(in);
	return def;
}

/* A valid body's fields before "extra" (which may be "" or ", \"key\": value"). */
#define BASE	"\"slug\": \"a1\", \"name\": \"A\", \"provider\": \"builtin\", \"model\": \"m\""

/* The body {BASE extra} with path slug path: accepted, or refused with (err, problem)
 * and a detail holding detail ("" for any).  Checked at the caller's line. */
#define ACCEPTED(path, extra) \
	check((path), "{" BASE extra "}", SB_OK, NULL, NULL, __LINE__)
#define REFUSED(path, body, err, problem, detail) \
	check((path), (body), (err), (problem), (detail), __LINE__)

/* A failure reported at the caller's line, with what was got. */
static void
report(int line, const char *body, const json_t *def, const struct agent_error *e)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%.250s: got %s, err %d, problem %s, detail \"%.100s\"",
	    body, def != NULL ? "a definition" : "NULL", (int)e->err,
	    e->slug != NULL ? e->slug : "(none)", e->detail);
	CU_assertImplementation(CU_FALSE, (unsigned)line, msg, __FILE__, "", CU_FALSE);
}

static void
check(const char *path, const char *body, enum sb_err err, const char *problem,
    const char *detail, int line)
{
	struct agent_error	 e;
	json_error_t		 je;
	json_t			*in = json_loads(body, JSON_ALLOW_NUL | JSON_DECODE_ANY, &je), *def;

	memset(&e, 0, sizeof(e));
	if (in == NULL) {
		report(line, body, NULL, &e);	/* the test's own JSON */
		return;
	}
	def = agent_validate(in, path, &e);
	json_decref(in);
	if (err == SB_OK ? def == NULL : def != NULL || e.err != err || e.slug == NULL ||
	    strcmp(e.slug, problem) != 0 || strstr(e.detail, detail) == NULL)
		report(line, body, def, &e);
	json_decref(def);
}

static void
test_agent_defaults(void)
{
	struct agent_error	 e;
	json_t			*d = validate("{" BASE "}", &e);

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	UNIT_ASSERT_STR(json_string_value(json_object_get(d, "slug")), "a1");
	UNIT_ASSERT_STR(json_string_value(json_object_get(d, "name")), "A");
	UNIT_ASSERT_STR(json_string_value(json_object_get(d, "provider")), "builtin");
	UNIT_ASSERT_STR(json_string_value(json_object_get(d, "model")), "m");
	UNIT_ASSERT_STR(json_string_value(json_object_get(d, "category")), "general");
	UNIT_ASSERT_STR(json_string_value(json_object_get(d, "description")), "");
	UNIT_ASSERT_STR(json_string_value(json_object_get(d, "system_prompt")), "");
	CU_ASSERT(json_is_true(json_object_get(d, "enabled")));
	CU_ASSERT(json_is_object(json_object_get(d, "parameters")));
	UNIT_ASSERT_INT(json_object_size(json_object_get(d, "parameters")), 0);
	CU_ASSERT(json_is_array(json_object_get(d, "tools")));
	UNIT_ASSERT_INT(json_array_size(json_object_get(d, "tools")), 0);
	UNIT_ASSERT_INT(json_object_size(d), 10);
	json_decref(d);
}

static void
test_agent_kept(void)
{
	struct agent_error	 e;
	json_t			*d = validate("{\"slug\": \"writer-2\", \"name\": \"Writer\", "
				    "\"description\": \"Drafts\", \"category\": \"content-ops\", "
				    "\"provider\": \"anthropic\", \"model\": \"claude\", "
				    "\"system_prompt\": \"Be brief.\", \"parameters\": {\"temperature\": "
				    "0.5, \"max_tokens\": 10}, \"tools\": [], \"enabled\": false}", &e);

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	UNIT_ASSERT_STR(json_string_value(json_object_get(d, "slug")), "writer-2");
	UNIT_ASSERT_STR(json_string_value(json_object_get(d, "description")), "Drafts");
	UNIT_ASSERT_STR(json_string_value(json_object_get(d, "category")), "content-ops");
	UNIT_ASSERT_STR(json_string_value(json_object_get(d, "provider")), "anthropic");
	UNIT_ASSERT_STR(json_string_value(json_object_get(d, "system_prompt")), "Be brief.");
	CU_ASSERT(json_is_false(json_object_get(d, "enabled")));
	CU_ASSERT(json_real_value(json_object_get(json_object_get(d, "parameters"),
	    "temperature")) == 0.5);
	UNIT_ASSERT_INT(json_integer_value(json_object_get(json_object_get(d, "parameters"),
	    "max_tokens")), 10);
	json_decref(d);
}

/* The body's shape: the required fields, their types, nothing unknown. */
static void
test_agent_shape(void)
{
	static const char *const bad[] = {
		"{\"slug\": \"a\", \"provider\": \"builtin\", \"model\": \"m\"}",	/* no name */
		"{\"slug\": \"a\", \"name\": \"A\", \"model\": \"m\"}",		/* no provider */
		"{\"slug\": \"a\", \"name\": \"A\", \"provider\": \"builtin\"}",	/* no model */
		"{" BASE ", \"color\": \"red\"}",
		"{\"slug\": \"a\", \"name\": 1, \"provider\": \"builtin\", \"model\": \"m\"}",
		"{\"slug\": 7, \"name\": \"A\", \"provider\": \"builtin\", \"model\": \"m\"}",
		"{" BASE ", \"enabled\": \"yes\"}",
		"{" BASE ", \"description\": null}",
		"{" BASE ", \"system_prompt\": [\"x\"]}",
		"[]",
		"\"agent\"",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		REFUSED(NULL, bad[i], SB_ERR_INVALID, "invalid-body", "expected {slug, name");
}

/* A body may carry "\u0000" (the request parser lets it through): the text must
 * be refused, not cut at the NUL after its length was checked, as the database's
 * C strings would.  Found by tests/fuzz/fuzz_agent.c. */
static void
test_agent_nul_refused(void)
{
	static const char *const bodies[] = {
		"{\"slug\": \"a\", \"name\": \"x\\u0000y\", \"provider\": \"builtin\", \"model\": \"m\"}",
		"{\"slug\": \"a\", \"name\": \"x\", \"provider\": \"builtin\", \"model\": \"m\\u0000\"}",
		"{\"slug\": \"a\", \"name\": \"x\", \"provider\": \"builtin\", \"model\": \"m\", "
		    "\"system_prompt\": \"\\u0000\"}",
		"{\"slug\": \"a\\u0000b\", \"name\": \"x\", \"provider\": \"builtin\", \"model\": \"m\"}",
	};
	size_t i;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		REFUSED(NULL, bodies[i], SB_ERR_UNPROCESSABLE, "invalid-field", "holds a NUL");
}

#define NOSLUG	"\"name\": \"A\", \"provider\": \"builtin\", \"model\": \"m\""

static void
test_agent_slug(void)
{
	static const char *const bad[] = { "", "A1", "-a", "a_b", "a.b", "a b", "\u00e9t\u00e9",
	    "a/b" };
	char	 body[300], s63[64], s64[65];
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), "{\"slug\": \"%s\", " NOSLUG "}", bad[i]);
		REFUSED(NULL, body, SB_ERR_UNPROCESSABLE, "invalid-slug", "1 to 63 of a-z");
	}
	/* 1 to 63 of a-z, 0-9 and -, a digit first allowed, a hyphen last too. */
	memset(s63, 'a', 63);
	s63[63] = '\0';
	memset(s64, 'a', 64);
	s64[64] = '\0';
	snprintf(body, sizeof(body), "{\"slug\": \"%s\", " NOSLUG "}", s63);
	check(NULL, body, SB_OK, NULL, NULL, __LINE__);
	snprintf(body, sizeof(body), "{\"slug\": \"%s\", " NOSLUG "}", s64);
	REFUSED(NULL, body, SB_ERR_UNPROCESSABLE, "invalid-slug", "");
	check(NULL, "{\"slug\": \"1a\", " NOSLUG "}", SB_OK, NULL, NULL, __LINE__);
	check(NULL, "{\"slug\": \"a-\", " NOSLUG "}", SB_OK, NULL, NULL, __LINE__);
	check(NULL, "{\"slug\": \"0\", " NOSLUG "}", SB_OK, NULL, NULL, __LINE__);
	/* No slug anywhere. */
	REFUSED(NULL, "{" NOSLUG "}", SB_ERR_UNPROCESSABLE, "invalid-slug", "");
}

/* PUT /agents/{slug}: the path's slug, which the body may repeat but not contradict. */
static void
test_agent_slug_path(void)
{
	struct agent_error	 e;
	json_t			*in, *d;

	in = json_pack("{s:s, s:s, s:s}", "name", "A", "provider", "openai", "model", "m");
	d = agent_validate(in, "from-path", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	UNIT_ASSERT_STR(json_string_value(json_object_get(d, "slug")), "from-path");
	json_decref(d);
	json_decref(in);
	ACCEPTED("a1", "");
	REFUSED("a2", "{" BASE "}", SB_ERR_UNPROCESSABLE, "slug-mismatch", "differs");
	/* The path's slug follows the same rules. */
	REFUSED("Bad", "{" NOSLUG "}", SB_ERR_UNPROCESSABLE, "invalid-slug", "");
	REFUSED("", "{" NOSLUG "}", SB_ERR_UNPROCESSABLE, "invalid-slug", "");
}

/* A body whose field key holds a string of n bytes of 'x'. */
static char *
with_length(const char *key, size_t n)
{
	json_t	*in = json_pack("{s:s, s:s, s:s, s:s}", "slug", "a", "name", "A", "provider",
	    "builtin", "model", "m");
	char	*s = sb_malloc(n + 1), *text;

	memset(s, 'x', n);
	s[n] = '\0';
	json_object_set_new(in, key, json_string(s));
	text = json_dumps(in, JSON_COMPACT);
	free(s);
	json_decref(in);
	return text;
}

static void
test_agent_lengths(void)
{
	static const struct {
		const char	*key;
		size_t		 min, max;
	} f[] = {
		{ "name", 1, 200 },
		{ "description", 0, 2000 },
		{ "model", 1, 200 },
		{ "system_prompt", 0, 65536 },
	};
	char	*body;
	size_t	 i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		body = with_length(f[i].key, f[i].max);
		check(NULL, body, SB_OK, NULL, NULL, __LINE__);
		free(body);
		body = with_length(f[i].key, f[i].max + 1);
		REFUSED(NULL, body, SB_ERR_UNPROCESSABLE, "invalid-field", "name is 1-200 bytes");
		free(body);
		body = with_length(f[i].key, f[i].min);
		check(NULL, body, SB_OK, NULL, NULL, __LINE__);
		free(body);
		if (f[i].min > 0) {
			body = with_length(f[i].key, f[i].min - 1);
			REFUSED(NULL, body, SB_ERR_UNPROCESSABLE, "invalid-field", "");
			free(body);
		}
	}
}

static void
test_agent_category(void)
{
	static const char *const bad[] = { "", "1a", "0", "Ops", "ops_team",
	    "abcdefghijklmnopqrstuvwxyzabcdefg" /* 33 */ };
	char	 body[300];
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), "{" BASE ", \"category\": \"%s\"}", bad[i]);
		REFUSED(NULL, body, SB_ERR_UNPROCESSABLE, "invalid-category", "starting with a letter");
	}
	ACCEPTED(NULL, ", \"category\": \"a\"");
	ACCEPTED(NULL, ", \"category\": \"ops-2\"");
	ACCEPTED(NULL, ", \"category\": \"abcdefghijklmnopqrstuvwxyzabcdef\"");	/* 32 */
}

static void
test_agent_provider(void)
{
	static const char *const bad[] = { "OpenAI", "", "gemini", "openai ", "builtin2" };
	char	 body[300], want[80];
	size_t	 i;

	check(NULL, "{\"slug\": \"a\", \"name\": \"A\", \"provider\": \"openai\", \"model\": \"m\"}",
	    SB_OK, NULL, NULL, __LINE__);
	check(NULL, "{\"slug\": \"a\", \"name\": \"A\", \"provider\": \"anthropic\", "
	    "\"model\": \"m\"}", SB_OK, NULL, NULL, __LINE__);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), "{\"slug\": \"a\", \"name\": \"A\", \"provider\": "
		    "\"%s\", \"model\": \"m\"}", bad[i]);
		snprintf(want, sizeof(want), "unknown provider \"%s\"", bad[i]);
		REFUSED(NULL, body, SB_ERR_UNPROCESSABLE, "unknown-provider", want);
	}
}

static void
test_agent_parameters(void)
{
	static const char *const good[] = {
		"{}",
		"{\"temperature\": 0}", "{\"temperature\": 2}", "{\"temperature\": 1.5}",
		"{\"top_p\": 1}", "{\"top_p\": 0.01}",
		"{\"max_tokens\": 1}", "{\"max_tokens\": 200000}",
		"{\"context_tokens\": 256}", "{\"context_tokens\": 1000000}",
		"{\"max_steps\": 1}", "{\"max_steps\": 50}",
		"{\"fetch_post\": true}",
		"{\"fetch_post\": false}",
		"{\"human_deadline_s\": 60}", "{\"human_deadline_s\": 2592000}",
		"{\"on_human_timeout\": \"fail\"}", "{\"on_human_timeout\": \"continue\"}",
		"{\"approve_tools\": []}", "{\"approve_tools\": [\"http_fetch\", \"ask_human\"]}",
		"{\"temperature\": 0.7, \"top_p\": 0.9, \"max_tokens\": 100}",
	};
	static const struct {
		const char	*params, *name;
	} bad[] = {
		{ "{\"temperature\": -0.1}", "temperature" },
		{ "{\"temperature\": 2.01}", "temperature" },
		{ "{\"temperature\": \"0.5\"}", "temperature" },
		{ "{\"temperature\": null}", "temperature" },
		{ "{\"top_p\": 0}", "top_p" },
		{ "{\"top_p\": 1.1}", "top_p" },
		{ "{\"max_tokens\": 0}", "max_tokens" },
		{ "{\"max_tokens\": 200001}", "max_tokens" },
		{ "{\"max_tokens\": 100.0}", "max_tokens" },	/* a real, not an integer */
		{ "{\"max_tokens\": true}", "max_tokens" },
		{ "{\"context_tokens\": 255}", "context_tokens" },
		{ "{\"context_tokens\": 1000001}", "context_tokens" },
		{ "{\"context_tokens\": 8000.5}", "context_tokens" },
		{ "{\"max_steps\": 0}", "max_steps" },
		{ "{\"max_steps\": 51}", "max_steps" },
		{ "{\"max_steps\": 2.5}", "max_steps" },
		{ "{\"fetch_post\": 1}", "fetch_post" },
		{ "{\"fetch_post\": \"yes\"}", "fetch_post" },
		{ "{\"human_deadline_s\": 59}", "human_deadline_s" },
		{ "{\"human_deadline_s\": 2592001}", "human_deadline_s" },
		{ "{\"on_human_timeout\": \"retry\"}", "on_human_timeout" },
		{ "{\"on_human_timeout\": true}", "on_human_timeout" },
		{ "{\"approve_tools\": [\"nope\"]}", "approve_tools" },
		{ "{\"approve_tools\": [\"ask_human\", \"ask_human\"]}", "approve_tools" },
		{ "{\"approve_tools\": \"http_fetch\"}", "approve_tools" },
		{ "{\"seed\": 1}", "seed" },
		{ "{\"top_p\": 0.5, \"Temperature\": 1}", "Temperature" },
	};
	char	 body[300], want[80];
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(body, sizeof(body), "{" BASE ", \"parameters\": %s}", good[i]);
		check(NULL, body, SB_OK, NULL, NULL, __LINE__);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), "{" BASE ", \"parameters\": %s}", bad[i].params);
		snprintf(want, sizeof(want), "parameter \"%s\" is unknown or out of range",
		    bad[i].name);
		REFUSED(NULL, body, SB_ERR_UNPROCESSABLE, "invalid-parameter", want);
	}
	REFUSED(NULL, "{" BASE ", \"parameters\": []}", SB_ERR_UNPROCESSABLE,
	    "invalid-parameters", "parameters is an object");
	REFUSED(NULL, "{" BASE ", \"parameters\": 1}", SB_ERR_UNPROCESSABLE,
	    "invalid-parameters", "");
}

/* Only the tools of core/tools.c, each once (docs/api.md). */
static void
test_agent_tools(void)
{
	ACCEPTED(NULL, ", \"tools\": []");
	ACCEPTED(NULL, ", \"tools\": [\"http_fetch\"]");
	REFUSED(NULL, "{" BASE ", \"tools\": [\"http_fetch\", \"http_fetch\"]}",
	    SB_ERR_UNPROCESSABLE, "invalid-tools", "tool \"http_fetch\" is named twice");
	REFUSED(NULL, "{" BASE ", \"tools\": [\"HTTP_FETCH\"]}", SB_ERR_UNPROCESSABLE,
	    "unknown-tool", "unknown tool \"HTTP_FETCH\"");
	REFUSED(NULL, "{" BASE ", \"tools\": [\"search\"]}", SB_ERR_UNPROCESSABLE,
	    "unknown-tool", "unknown tool \"search\"");
	REFUSED(NULL, "{" BASE ", \"tools\": [\"\"]}", SB_ERR_UNPROCESSABLE, "unknown-tool",
	    "unknown tool \"\"");
	REFUSED(NULL, "{" BASE ", \"tools\": [1]}", SB_ERR_UNPROCESSABLE, "unknown-tool",
	    "(not a string)");
	REFUSED(NULL, "{" BASE ", \"tools\": \"search\"}", SB_ERR_UNPROCESSABLE,
	    "invalid-tools", "tools is an array");
	REFUSED(NULL, "{" BASE ", \"tools\": {}}", SB_ERR_UNPROCESSABLE, "invalid-tools", "");
}

/* The rules apply in order: the first broken one is the problem given. */
static void
test_agent_order(void)
{
	REFUSED("a2", "{\"slug\": \"a1\", \"name\": \"\", \"provider\": \"x\", \"model\": \"m\"}",
	    SB_ERR_UNPROCESSABLE, "slug-mismatch", "");
	REFUSED(NULL, "{\"slug\": \"A\", \"name\": \"\", \"provider\": \"x\", \"model\": \"m\"}",
	    SB_ERR_UNPROCESSABLE, "invalid-slug", "");
	REFUSED(NULL, "{\"slug\": \"a\", \"name\": \"\", \"provider\": \"x\", \"model\": \"m\"}",
	    SB_ERR_UNPROCESSABLE, "invalid-field", "");
	REFUSED(NULL, "{\"slug\": \"a\", \"name\": \"A\", \"category\": \"1\", \"provider\": "
	    "\"x\", \"model\": \"m\"}", SB_ERR_UNPROCESSABLE, "invalid-category", "");
	REFUSED(NULL, "{\"slug\": \"a\", \"name\": \"A\", \"provider\": \"x\", \"model\": \"m\", "
	    "\"parameters\": [], \"tools\": 1}", SB_ERR_UNPROCESSABLE, "unknown-provider", "");
	REFUSED(NULL, "{" BASE ", \"parameters\": {\"seed\": 1}, \"tools\": 1}",
	    SB_ERR_UNPROCESSABLE, "invalid-parameter", "");
}

/* The parameters in the agents table's column order; both JSON texts in one allocation. */
static void
test_agent_bind(void)
{
	struct agent_error	 e;
	const char		*p[AGENT_NPARAMS];
	char			*json = NULL;
	json_t			*d;

	d = validate("{\"slug\": \"w\", \"name\": \"Writer\", \"description\": \"D\", "
	    "\"category\": \"ops\", \"provider\": \"openai\", \"model\": \"gpt\", "
	    "\"system_prompt\": \"S\", \"parameters\": {\"top_p\": 0.5, \"max_tokens\": 9}, "
	    "\"enabled\": false}", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	agent_bind(d, "42", p, &json);
	UNIT_ASSERT_INT(AGENT_NPARAMS, 11);
	UNIT_ASSERT_STR(p[0], "42");
	UNIT_ASSERT_STR(p[1], "w");
	UNIT_ASSERT_STR(p[2], "Writer");
	UNIT_ASSERT_STR(p[3], "D");
	UNIT_ASSERT_STR(p[4], "ops");
	UNIT_ASSERT_STR(p[5], "openai");
	UNIT_ASSERT_STR(p[6], "gpt");
	UNIT_ASSERT_STR(p[7], "S");
	UNIT_ASSERT_STR(p[8], "{\"top_p\":0.5,\"max_tokens\":9}");
	UNIT_ASSERT_STR(p[9], "[]");
	UNIT_ASSERT_STR(p[10], "false");
	CU_ASSERT(p[8] == json);
	CU_ASSERT(p[9] == json + strlen(json) + 1);
	free(json);
	json_decref(d);

	/* The defaults, as bound; the org may be "" (switchboardctl's catalog). */
	d = validate("{" BASE "}", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	agent_bind(d, "", p, &json);
	UNIT_ASSERT_STR(p[0], "");
	UNIT_ASSERT_STR(p[3], "");
	UNIT_ASSERT_STR(p[4], "general");
	UNIT_ASSERT_STR(p[7], "");
	UNIT_ASSERT_STR(p[8], "{}");
	UNIT_ASSERT_STR(p[9], "[]");
	UNIT_ASSERT_STR(p[10], "true");
	free(json);
	json_decref(d);
}

void
suite_agent(void)
{
	CU_pSuite s = unit_suite("agent", NULL, NULL);

	unit_test(s, "defaults are filled in", test_agent_defaults);
	unit_test(s, "what a body gives is kept", test_agent_kept);
	unit_test(s, "required fields, their types, nothing unknown", test_agent_shape);
	unit_test(s, "a text holding a NUL is refused", test_agent_nul_refused);
	unit_test(s, "slugs: 1 to 63 of a-z, 0-9 and -", test_agent_slug);
	unit_test(s, "the path's slug wins, the body's may not differ", test_agent_slug_path);
	unit_test(s, "name, description, model and prompt lengths", test_agent_lengths);
	unit_test(s, "categories: 1 to 32 of a-z and -, a letter first", test_agent_category);
	unit_test(s, "providers: openai, anthropic, builtin", test_agent_provider);
	unit_test(s, "parameters: temperature, top_p, max_tokens in range", test_agent_parameters);
	unit_test(s, "tools: an array of known names (none yet)", test_agent_tools);
	unit_test(s, "the first rule broken is the problem given", test_agent_order);
	unit_test(s, "agent_bind: the table's column order", test_agent_bind);
}
