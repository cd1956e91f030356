/* test_log.c: log lines are one valid JSON object each, whatever they carry. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stddef.h>
#include <jansson.h>

#include "core/log.h"
#include "tests/unit/unit.h"

/* Runs fn with stderr sent to a temporary file; returns what it wrote (caller frees). */
static char *
capture_stderr(void (*fn)(void))
{
	char	 path[] = "/tmp/sb-unit-log-XXXXXX", *buf;
	int	 fd, saved;
	off_t	 len;

	if ((fd = mkstemp(path)) < 0)
		return NULL;
	unlink(path);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	len = lseek(fd, 0, SEEK_END);
	buf = calloc(1, (size_t)len + 1);
	if (buf != NULL && pread(fd, buf, (size_t)len, 0) != len) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	return buf;
}

static void
write_hostile(void)
{
	log_init("switchboard-fcgi", SB_LOG_INFO);
	log_set_request_id("req-1");
	log_access("GET", "/api/v1/runs/{id}", "/a\"b\\c\n\x01\xc3\xa9", 404, 123, 0.0371);
	log_set_request_id(NULL);
}

static void
test_access_line_is_json(void)
{
	char		*out = capture_stderr(write_hostile);
	json_error_t	 jerr;
	json_t		*o;

	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT(strchr(out, '\n') == out + strlen(out) - 1);	/* exactly one line */
	o = json_loads(out, 0, &jerr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	UNIT_ASSERT_STR(json_string_value(json_object_get(o, "msg")), "request");
	UNIT_ASSERT_STR(json_string_value(json_object_get(o, "level")), "info");
	UNIT_ASSERT_STR(json_string_value(json_object_get(o, "program")), "switchboard-fcgi");
	UNIT_ASSERT_STR(json_string_value(json_object_get(o, "request_id")), "req-1");
	UNIT_ASSERT_STR(json_string_value(json_object_get(o, "route")), "/api/v1/runs/{id}");
	/* Quotes, backslashes and control bytes survive; non-ASCII bytes become \u00XX. */
	UNIT_ASSERT_STR(json_string_value(json_object_get(o, "path")), "/a\"b\\c\n\x01\xc3\x83\xc2\xa9");
	UNIT_ASSERT_INT(json_integer_value(json_object_get(o, "status")), 404);
	UNIT_ASSERT_INT(json_integer_value(json_object_get(o, "bytes")), 123);
	CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(o, "duration_ms")), 0.037, 1e-9);
	CU_ASSERT_PTR_NOT_NULL(json_object_get(o, "ts"));
	json_decref(o);
	free(out);
}

static char long_path[10000];

static void
write_long(void)
{
	memset(long_path, '"', sizeof(long_path) - 1);
	log_access("GET", "", long_path, 200, 1, 1.0);
}

/* A path longer than the line is cut; the line stays whole and valid. */
static void
test_long_path_keeps_line_valid(void)
{
	char	*out = capture_stderr(write_long);
	json_t	*o;

	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	o = json_loads(out, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	UNIT_ASSERT_INT(json_integer_value(json_object_get(o, "status")), 200);
	CU_ASSERT(strlen(json_string_value(json_object_get(o, "path"))) < sizeof(long_path) - 1);
	json_decref(o);
	free(out);
}

static void
write_msg(void)
{
	log_init("switchboardctl", SB_LOG_WARN);
	log_info("hidden below the threshold", NULL);
	log_access("GET", "", "/hidden", 200, 1, 1.0);
	log_warn("shown", "{s:s, s:f}", "key", "va\"lue", "ms", 0.1);
	log_init("switchboard-fcgi", SB_LOG_INFO);
}

static void
test_log_msg_fields_and_threshold(void)
{
	char	*out = capture_stderr(write_msg);
	json_t	*o;

	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT(strstr(out, "hidden") == NULL);
	o = json_loads(out, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	UNIT_ASSERT_STR(json_string_value(json_object_get(o, "msg")), "shown");
	UNIT_ASSERT_STR(json_string_value(json_object_get(o, "level")), "warn");
	UNIT_ASSERT_STR(json_string_value(json_object_get(o, "key")), "va\"lue");
	/* Six significant digits: 0.1, not 0.10000000000000001. */
	UNIT_ASSERT_CONTAINS(out, "\"ms\":0.1}");
	json_decref(o);
	free(out);
}

void
suite_log(void)
{
	CU_pSuite s = unit_suite("log", NULL, NULL);

	unit_test(s, "the access line is one valid JSON object", test_access_line_is_json);
	unit_test(s, "a long path is cut, the line stays valid", test_long_path_keeps_line_valid);
	unit_test(s, "log_msg fields, threshold and real precision", test_log_msg_fields_and_threshold);
}
