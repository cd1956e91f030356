/* test_agent.c: agent definitions (core/agent.c): what the validator keeps and refuses. */
#include "config.h"

#include <string.h>

#include "core.h"
#include "unit.h"

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

static void
test_agent_defaults(void)
{
	struct agent_error	 e;
	json_t			*d = validate("{\"slug\": \"a1\", \"name\": \"A\", "
				    "\"provider\": \"builtin\", \"model\": \"m\"}", &e);

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	UNIT_ASSERT_STR(json_string_value(json_object_get(d, "category")), "general");
	UNIT_ASSERT_STR(json_string_value(json_object_get(d, "description")), "");
	CU_ASSERT(json_is_true(json_object_get(d, "enabled")));
	UNIT_ASSERT_INT(json_object_size(json_object_get(d, "parameters")), 0);
	json_decref(d);
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
	struct agent_error	 e;
	json_t			*d;
	size_t			 i;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		d = validate(bodies[i], &e);
		CU_ASSERT_PTR_NULL(d);
		json_decref(d);
		UNIT_ASSERT_INT(e.err, SB_ERR_UNPROCESSABLE);
		UNIT_ASSERT_CONTAINS(e.detail, "NUL");
	}
}

void
suite_agent(void)
{
	CU_pSuite s = unit_suite("agent", NULL, NULL);

	unit_test(s, "defaults are filled in", test_agent_defaults);
	unit_test(s, "a text holding a NUL is refused", test_agent_nul_refused);
}
