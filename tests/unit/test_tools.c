/* test_tools.c: the tool declarations (core/tools.c) and the registry of their code
 * (worker/tools/registry.c) agree, and what a model is offered. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <jansson.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/schema.h"
#include "core/tools.h"
#include "worker/tools/tools.h"
#include "worker/worker.h"
#include "tests/unit/unit.h"

/* Every declared tool has a schema this validator understands, and code. */
static void
test_tools_declared(void)
{
	char	 err[200];
	json_t	*s;
	size_t	 i;

	CU_ASSERT(ntool_decls > 0);
	for (i = 0; i < ntool_decls; i++) {
		s = json_loads(tool_decls[i].schema, 0, NULL);
		CU_ASSERT_PTR_NOT_NULL(s);
		err[0] = '\0';
		CU_ASSERT_EQUAL(schema_valid(s, err, sizeof(err)), 0);
		if (err[0] != '\0')
			fprintf(stderr, "%s: %s\n", tool_decls[i].name, err);
		CU_ASSERT(json_equal(s, tool_decl_schema(&tool_decls[i])));
		CU_ASSERT_PTR_NOT_NULL(tool_impl_find(tool_decls[i].name));
		CU_ASSERT_PTR_EQUAL(tool_decl_find(tool_decls[i].name), &tool_decls[i]);
		json_decref(s);
	}
	CU_ASSERT_PTR_NULL(tool_decl_find("no_such_tool"));
	CU_ASSERT_PTR_NULL(tool_impl_find("no_such_tool"));
}

static void
test_tools_offer(void)
{
	json_t *names = json_pack("[s, s, i]", "no_such_tool", "http_fetch", 7), *o, *t;

	o = tool_decls_offer(names);
	UNIT_ASSERT_INT(json_array_size(o), 1);
	t = json_array_get(o, 0);
	UNIT_ASSERT_STR(json_string_value(json_object_get(t, "name")), "http_fetch");
	CU_ASSERT(json_string_length(json_object_get(t, "description")) > 20);
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_object_get(t, "parameters"),
	    "type")), "object");
	json_decref(o);
	json_decref(names);
	/* None: no tools array at all (OpenAI refuses an empty one). */
	names = json_pack("[s]", "no_such_tool");
	CU_ASSERT_PTR_NULL(tool_decls_offer(names));
	CU_ASSERT_PTR_NULL(tool_decls_offer(NULL));
	json_decref(names);
}

/* The arguments the schema takes and refuses, before any call is made. */
static void
test_tools_http_fetch_schema(void)
{
	static const struct {
		const char	*args;
		int		 ok;
	} cases[] = {
		{ "{\"url\": \"http://example.com/\"}", 0 },
		{ "{\"url\": \"http://example.com/\", \"method\": \"POST\", \"body\": \"{}\"}", 0 },
		{ "{}", -1 },
		{ "{\"url\": \"\"}", -1 },
		{ "{\"url\": 7}", -1 },
		{ "{\"url\": \"http://x/\", \"method\": \"DELETE\"}", -1 },
		{ "{\"url\": \"http://x/\", \"q\": 1}", -1 },
	};
	json_t	*schema = tool_decl_schema(tool_decl_find("http_fetch")), *a;
	char	 err[200];
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		a = json_loads(cases[i].args, 0, NULL);
		CU_ASSERT_EQUAL(schema_check(schema, a, err, sizeof(err)), cases[i].ok);
		json_decref(a);
	}
}

/* Only a GET may run again after its worker died mid-call. */
static void
test_tools_http_fetch_rerun(void)
{
	json_t *get = json_pack("{s:s}", "url", "http://x/");
	json_t *get2 = json_pack("{s:s, s:s}", "url", "http://x/", "method", "GET");
	json_t *post = json_pack("{s:s, s:s}", "url", "http://x/", "method", "POST");

	CU_ASSERT_TRUE(tool_http_fetch.rerun_safe(NULL, get));
	CU_ASSERT_TRUE(tool_http_fetch.rerun_safe(NULL, get2));
	CU_ASSERT_FALSE(tool_http_fetch.rerun_safe(NULL, post));
	CU_ASSERT_TRUE(tool_decl_find("http_fetch")->idempotent);
	json_decref(get);
	json_decref(get2);
	json_decref(post);
}

/* What an inbox item is made with: a random UUID for its id, a deadline in ISO 8601. */
static void
test_tools_item_ids(void)
{
	char	 a[37], b[37], t[32];
	size_t	 i;

	uuid_v4(a);
	uuid_v4(b);
	UNIT_ASSERT_INT(strlen(a), 36);
	CU_ASSERT(strcmp(a, b) != 0);
	for (i = 0; i < 36; i++)
		CU_ASSERT(i == 8 || i == 13 || i == 18 || i == 23 ? a[i] == '-' :
		    strchr("0123456789abcdef", a[i]) != NULL);
	CU_ASSERT_EQUAL(a[14], '4');			/* version 4 */
	CU_ASSERT(strchr("89ab", a[19]) != NULL);	/* the RFC 4122 variant */
	clock_iso8601_ms(0, t);
	UNIT_ASSERT_STR(t, "1970-01-01T00:00:00.000Z");
	clock_iso8601_ms(1234567890123LL, t);
	UNIT_ASSERT_STR(t, "2009-02-13T23:31:30.123Z");
}

/* A model's call ids are the journal's key: empty, repeated or too long ones are
 * replaced, the rest kept. */
static void
test_tools_call_ids(void)
{
	char	 longid[260];
	json_t	*in, *out;

	memset(longid, 'x', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	in = json_pack("[{s:s}, {s:s}, {s:s}, {}, {s:s}, {s:s}]", "id", "a", "id", "a",
	    "id", "", "id", longid, "id", "b");
	out = step_call_ids(in, 3);
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_array_get(out, 0), "id")), "a");
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_array_get(out, 1), "id")), "call_3_1");
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_array_get(out, 2), "id")), "call_3_2");
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_array_get(out, 3), "id")), "call_3_3");
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_array_get(out, 4), "id")), "call_3_4");
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_array_get(out, 5), "id")), "b");
	/* The model's own array is left as it was. */
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_array_get(in, 1), "id")), "a");
	json_decref(in);
	json_decref(out);
}

void
suite_tools(void)
{
	CU_pSuite s = unit_suite("tools", NULL, NULL);

	unit_test(s, "every declared tool has a valid schema and code", test_tools_declared);
	unit_test(s, "a model is offered the agent's known tools", test_tools_offer);
	unit_test(s, "http_fetch's schema takes and refuses arguments", test_tools_http_fetch_schema);
	unit_test(s, "only a GET runs again after a worker died", test_tools_http_fetch_rerun);
	unit_test(s, "inbox items get a v4 UUID and an ISO 8601 deadline", test_tools_item_ids);
	unit_test(s, "call ids are made unique, present and short", test_tools_call_ids);
}
