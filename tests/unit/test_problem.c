/* test_problem.c: RFC 9457 problem objects, reason phrases and error statuses. */
#include "config.h"

#include <string.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include "core/err.h"
#include "core/problem.h"
#include "fcgi-app/appmetrics.h"
#include "tests/unit/unit.h"

#define R	"\xef\xbf\xbd"	/* U+FFFD, what stands for a byte that is not UTF-8 */

static void
test_about_blank(void)
{
	json_t *p = problem_new(404, NULL, NULL, NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	UNIT_ASSERT_STR(json_string_value(json_object_get(p, "type")), "about:blank");
	UNIT_ASSERT_STR(json_string_value(json_object_get(p, "title")), "Not Found");
	CU_ASSERT(json_is_integer(json_object_get(p, "status")));
	UNIT_ASSERT_INT(json_integer_value(json_object_get(p, "status")), 404);
	CU_ASSERT_PTR_NULL(json_object_get(p, "detail"));
	UNIT_ASSERT_INT(json_object_size(p), 3);
	json_decref(p);
}

static void
test_slug_and_detail(void)
{
	json_t *p = problem_new(413, "body-too-large", NULL, "the body is 9 bytes");

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	UNIT_ASSERT_STR(json_string_value(json_object_get(p, "type")), "/problems/body-too-large");
	UNIT_ASSERT_STR(json_string_value(json_object_get(p, "title")), "Content Too Large");
	UNIT_ASSERT_INT(json_integer_value(json_object_get(p, "status")), 413);
	UNIT_ASSERT_STR(json_string_value(json_object_get(p, "detail")), "the body is 9 bytes");
	json_decref(p);
}

/* A detail quotes what a client sent, cut to a length: bytes that are not UTF-8
 * (a raw Content-Type, a character cut in two by "%.80s") must not make jansson
 * drop the whole detail.  Found by tests/fuzz/fuzz_request.c. */
static void
test_detail_not_utf8(void)
{
	json_t *p = problem_new(415, "unsupported-media-type", NULL,
	    "request bodies must be application/json, not text/plain\xc3");

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	UNIT_ASSERT_STR(json_string_value(json_object_get(p, "detail")),
	    "request bodies must be application/json, not text/plain" R);
	json_decref(p);
	/* Valid characters stay; each stray byte becomes one U+FFFD. */
	p = problem_new(400, NULL, NULL, "caf\xc3\xa9 \xff\xfe \xe2\x82 \xed\xa0\x80 ok");
	UNIT_ASSERT_STR(json_string_value(json_object_get(p, "detail")),
	    "caf\xc3\xa9 " R R " " R R " " R R R " ok");
	json_decref(p);
}

static void
test_custom_title(void)
{
	json_t *p = problem_new(503, "not-ready", "Not ready", NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	UNIT_ASSERT_STR(json_string_value(json_object_get(p, "title")), "Not ready");
	UNIT_ASSERT_STR(json_string_value(json_object_get(p, "type")), "/problems/not-ready");
	UNIT_ASSERT_INT(json_integer_value(json_object_get(p, "status")), 503);
	json_decref(p);
}

static void
test_reasons(void)
{
	UNIT_ASSERT_STR(http_reason(200), "OK");
	UNIT_ASSERT_STR(http_reason(201), "Created");
	UNIT_ASSERT_STR(http_reason(204), "No Content");
	UNIT_ASSERT_STR(http_reason(308), "Permanent Redirect");
	UNIT_ASSERT_STR(http_reason(400), "Bad Request");
	UNIT_ASSERT_STR(http_reason(401), "Unauthorized");
	UNIT_ASSERT_STR(http_reason(403), "Forbidden");
	UNIT_ASSERT_STR(http_reason(404), "Not Found");
	UNIT_ASSERT_STR(http_reason(405), "Method Not Allowed");
	UNIT_ASSERT_STR(http_reason(409), "Conflict");
	UNIT_ASSERT_STR(http_reason(413), "Content Too Large");
	UNIT_ASSERT_STR(http_reason(415), "Unsupported Media Type");
	UNIT_ASSERT_STR(http_reason(422), "Unprocessable Content");
	UNIT_ASSERT_STR(http_reason(429), "Too Many Requests");
	UNIT_ASSERT_STR(http_reason(500), "Internal Server Error");
	UNIT_ASSERT_STR(http_reason(503), "Service Unavailable");
	/* Unknown codes get their class' generic phrase. */
	UNIT_ASSERT_STR(http_reason(499), "Client Error");
	UNIT_ASSERT_STR(http_reason(599), "Server Error");
	/* Below 400 the class is not an error (these read "Client Error" once). */
	UNIT_ASSERT_STR(http_reason(103), "Informational");
	UNIT_ASSERT_STR(http_reason(299), "Success");
	UNIT_ASSERT_STR(http_reason(399), "Redirection");
}

/* Every status that has a metrics slot is one the program may send, so its
 * Status line must carry its own phrase, not a class' generic one. */
static void
test_slot_statuses_have_reasons(void)
{
	char	 first[64] = "";
	size_t	 i, generic = 0;

	for (i = 0; i < STATUS_SLOTS - 1; i++) {
		const char *r = http_reason(status_slots[i]);

		if (strcmp(r, "Client Error") == 0 || strcmp(r, "Server Error") == 0) {
			if (generic++ == 0)
				snprintf(first, sizeof(first), "%d %s", status_slots[i], r);
		}
	}
	UNIT_ASSERT_INT(generic, 0);
	UNIT_ASSERT_STR(first, "");
}

static void
test_err_status(void)
{
	UNIT_ASSERT_INT(sb_err_status(SB_OK), 200);
	UNIT_ASSERT_INT(sb_err_status(SB_ERR_INVALID), 400);
	UNIT_ASSERT_INT(sb_err_status(SB_ERR_NOT_FOUND), 404);
	UNIT_ASSERT_INT(sb_err_status(SB_ERR_CONFLICT), 409);
	UNIT_ASSERT_INT(sb_err_status(SB_ERR_TOO_LARGE), 413);
	UNIT_ASSERT_INT(sb_err_status(SB_ERR_UNSUPPORTED), 415);
	UNIT_ASSERT_INT(sb_err_status(SB_ERR_UNPROCESSABLE), 422);
	UNIT_ASSERT_INT(sb_err_status(SB_ERR_UNAVAILABLE), 503);
	UNIT_ASSERT_INT(sb_err_status(SB_ERR_INTERNAL), 500);
	UNIT_ASSERT_STR(sb_err_name(SB_ERR_TOO_LARGE), "too_large");
	UNIT_ASSERT_STR(sb_err_name(SB_ERR_INTERNAL), "internal");
}

void
suite_problem(void)
{
	CU_pSuite s = unit_suite("problem", NULL, NULL);

	unit_test(s, "no slug: about:blank and the reason phrase", test_about_blank);
	unit_test(s, "slug and detail", test_slug_and_detail);
	unit_test(s, "explicit title", test_custom_title);
	unit_test(s, "a detail that is not UTF-8 is kept, its stray bytes replaced",
	    test_detail_not_utf8);
	unit_test(s, "reason phrases of common codes", test_reasons);
	unit_test(s, "every counted status has its own phrase", test_slot_statuses_have_reasons);
	unit_test(s, "errors map to statuses", test_err_status);
}
