/* main.c: registers every suite of sb-unit-tests and runs them with the CUnit basic interface. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "tests/unit/unit.h"

CU_pSuite
unit_suite(const char *name, CU_InitializeFunc init, CU_CleanupFunc clean)
{
	CU_pSuite s;

	if ((s = CU_add_suite(name, init, clean)) == NULL) {
		fprintf(stderr, "sb-unit-tests: suite %s: %s\n", name, CU_get_error_msg());
		exit(2);
	}
	return s;
}

void
unit_test(CU_pSuite s, const char *name, CU_TestFunc fn)
{
	if (CU_add_test(s, name, fn) == NULL) {
		fprintf(stderr, "sb-unit-tests: test %s: %s\n", name, CU_get_error_msg());
		exit(2);
	}
}

/* CUnit copies the condition text of a failure, so it may live on the stack. */
void
unit_assert_str(const char *got, const char *want, const char *expr, const char *file,
    unsigned int line)
{
	char	 msg[512];
	int	 ok = got != NULL && want != NULL && strcmp(got, want) == 0;

	snprintf(msg, sizeof(msg), "%s == \"%.200s\" (got %s%.200s%s)", expr,
	    want != NULL ? want : "(null)", got != NULL ? "\"" : "", got != NULL ? got : "NULL",
	    got != NULL ? "\"" : "");
	CU_assertImplementation(ok ? CU_TRUE : CU_FALSE, line, msg, file, "", CU_FALSE);
}

void
unit_assert_contains(const char *hay, const char *needle, const char *expr, const char *file,
    unsigned int line)
{
	char	 msg[512];
	int	 ok = hay != NULL && needle != NULL && strstr(hay, needle) != NULL;

	snprintf(msg, sizeof(msg), "%s contains \"%.100s\" (got %s%.300s%s)", expr,
	    needle != NULL ? needle : "(null)", hay != NULL ? "\"" : "", hay != NULL ? hay : "NULL",
	    hay != NULL ? "\"" : "");
	CU_assertImplementation(ok ? CU_TRUE : CU_FALSE, line, msg, file, "", CU_FALSE);
}

void
unit_assert_int(long long got, long long want, const char *expr, const char *file,
    unsigned int line)
{
	char msg[300];

	snprintf(msg, sizeof(msg), "%.200s == %lld (got %lld)", expr, want, got);
	CU_assertImplementation(got == want ? CU_TRUE : CU_FALSE, line, msg, file, "", CU_FALSE);
}

int
main(void)
{
	unsigned int	 failed;
	int		 rc;

	if (CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "sb-unit-tests: %s\n", CU_get_error_msg());
		return 2;
	}
	suite_arena();
	suite_buf();
	suite_fetch();
	suite_netguard();
	suite_htmltext();
	suite_schema();
	suite_daemon();
	suite_config();
	suite_json();
	suite_log();
	suite_metrics();
	suite_problem();
	suite_router();
	suite_request();
	suite_jwt();
	suite_llm();
	suite_pricing();
	suite_fcgi_proto();
	suite_handoff();
	suite_scope();
	suite_cursor();
	suite_agent();
	suite_ratelimit();
	suite_topics();
	suite_sseframe();
	suite_batch();
	suite_provider();
	suite_context();
	suite_tools();
	suite_inbox();
	suite_chunk();
	suite_urltmpl();
	suite_tooldef();
	suite_cron();
	suite_webjson();
	suite_vdom();
	suite_webapp();

	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS)
		fprintf(stderr, "sb-unit-tests: %s\n", CU_get_error_msg());
	/* The run summary table (its "tests" line gives Total Ran Passed Failed)
	 * is printed by CU_basic_run_tests(); the failures are repeated here so
	 * they can be read in one place at the end of a long log. */
	if (CU_get_number_of_failure_records() > 0) {
		printf("Failures:\n");
		CU_basic_show_failures(CU_get_failure_list());
		printf("\n");
	}
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed() +
	    CU_get_number_of_suites_failed();
	rc = failed == 0 && CU_get_error() == CUE_SUCCESS ? 0 : 1;
	CU_cleanup_registry();
	return rc;
}
