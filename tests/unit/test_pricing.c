/* test_pricing.c: llm.pricing, the table that turns a run's tokens into its cost. */
#include "config.h"

#include <CUnit/CUnit.h>
#include <stddef.h>

#include "tests/unit/unit.h"
#include "worker/worker.h"

static void
test_parse_and_cost(void)
{
	struct pricing		*pr;
	struct llm_usage	 u = { 1000000, 2000000 };
	char			 err[200] = "";

	pr = pricing_parse(" gpt-4o-mini=0.15/0.60 , claude-3-5-haiku-latest = 0.80 / 4.00,", err,
	    sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	UNIT_ASSERT_STR(err, "");
	CU_ASSERT_DOUBLE_EQUAL(pricing_cost(pr, "gpt-4o-mini", &u), 0.15 + 1.20, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(pricing_cost(pr, "claude-3-5-haiku-latest", &u), 0.80 + 8.00, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(pricing_cost(pr, "unknown-model", &u), 0, 0);
	CU_ASSERT_DOUBLE_EQUAL(pricing_cost(NULL, "gpt-4o-mini", &u), 0, 0);
	pricing_free(pr);

	/* A model name may hold '=' (the last one splits it from the prices). */
	pr = pricing_parse("org=x/model=1/2", err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	CU_ASSERT_DOUBLE_EQUAL(pricing_cost(pr, "org=x/model", &u), 1 + 4, 1e-9);
	pricing_free(pr);

	pr = pricing_parse("", err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
	CU_ASSERT_DOUBLE_EQUAL(pricing_cost(pr, "gpt-4o-mini", &u), 0, 0);
	pricing_free(pr);
}

static void
test_refused(void)
{
	static const char *const bad[] = { "gpt", "gpt=1", "gpt=1/", "gpt=/1", "=1/2",
	    "gpt=1/2x", "gpt=-1/2", "gpt=1/2, claude=3" };
	char	 err[200];
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CU_ASSERT_PTR_NULL(pricing_parse(bad[i], err, sizeof(err)));
		UNIT_ASSERT_CONTAINS(err, "llm.pricing");
	}
}

void
suite_pricing(void)
{
	CU_pSuite s = unit_suite("pricing", NULL, NULL);

	unit_test(s, "parse and cost", test_parse_and_cost);
	unit_test(s, "malformed tables are refused", test_refused);
}
