/* unit.h: the suites of sb-unit-tests and the assertions they share. */
#ifndef SB_UNIT_H
#define SB_UNIT_H

#include <CUnit/CUnit.h>

/* One registration function per test_*.c file. */
void	suite_arena(void);
void	suite_buf(void);
void	suite_fetch(void);
void	suite_netguard(void);
void	suite_htmltext(void);
void	suite_schema(void);
void	suite_daemon(void);
void	suite_config(void);
void	suite_json(void);
void	suite_log(void);
void	suite_metrics(void);
void	suite_problem(void);
void	suite_router(void);
void	suite_request(void);
void	suite_jwt(void);
void	suite_llm(void);
void	suite_pricing(void);
void	suite_fcgi_proto(void);
void	suite_handoff(void);
void	suite_scope(void);
void	suite_cursor(void);
void	suite_agent(void);
void	suite_ratelimit(void);
void	suite_topics(void);
void	suite_sseframe(void);
void	suite_batch(void);
void	suite_provider(void);
void	suite_context(void);
void	suite_tools(void);
void	suite_inbox(void);
void	suite_chunk(void);
void	suite_urltmpl(void);
void	suite_tooldef(void);
void	suite_cron(void);
void	suite_webjson(void);
void	suite_vdom(void);
void	suite_webapp(void);

/* Registers a suite or a test; a registration failure ends the program. */
CU_pSuite	unit_suite(const char *name, CU_InitializeFunc, CU_CleanupFunc);
void		unit_test(CU_pSuite, const char *name, CU_TestFunc);

/* Assertions that show the value they got when they fail, and that fail
 * (rather than crash) on a NULL string. */
void	unit_assert_str(const char *got, const char *want, const char *expr,
	    const char *file, unsigned int line);
void	unit_assert_contains(const char *hay, const char *needle, const char *expr,
	    const char *file, unsigned int line);
void	unit_assert_int(long long got, long long want, const char *expr,
	    const char *file, unsigned int line);

#define UNIT_ASSERT_STR(got, want) \
	unit_assert_str((got), (want), #got, __FILE__, __LINE__)
#define UNIT_ASSERT_CONTAINS(hay, needle) \
	unit_assert_contains((hay), (needle), #hay, __FILE__, __LINE__)
#define UNIT_ASSERT_INT(got, want) \
	unit_assert_int((long long)(got), (long long)(want), #got, __FILE__, __LINE__)

#endif /* SB_UNIT_H */
