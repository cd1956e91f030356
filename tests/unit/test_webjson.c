/* test_webjson.c: the browser app's JSON reader and writer (web/src/wjson.c). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "tests/unit/unit.h"
#include "web/src/wjson.h"

static struct wj *
parse(struct sb_arena *a, const char *text)
{
	return wj_parse(a, text, strlen(text), NULL);
}

static void
test_wj_values(void)
{
	struct sb_arena	*a = arena_new(4096);
	struct wj	*v;
	const struct wj	*m;

	v = parse(a, " {\"items\":[{\"slug\":\"summarizer\",\"global\":true,\"n\":-1.5e2},"
	    "null,false,\"x\"],\"next_cursor\":null} \n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	UNIT_ASSERT_INT(v->type, WJ_OBJECT);
	UNIT_ASSERT_INT(v->len, 2);
	m = wj_get(v, "items");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	UNIT_ASSERT_INT(m->type, WJ_ARRAY);
	UNIT_ASSERT_INT(m->len, 4);
	UNIT_ASSERT_STR(wj_gets(m->first, "slug", NULL), "summarizer");
	CU_ASSERT(wj_true(wj_get(m->first, "global")));
	CU_ASSERT(wj_num(wj_get(m->first, "n"), 0) == -150.0);
	UNIT_ASSERT_INT(m->first->next->type, WJ_NULL);
	UNIT_ASSERT_INT(m->first->next->next->type, WJ_FALSE);
	UNIT_ASSERT_STR(wj_str(m->first->next->next->next, NULL), "x");
	UNIT_ASSERT_INT(wj_get(v, "next_cursor")->type, WJ_NULL);
	CU_ASSERT_PTR_NULL(wj_get(v, "absent"));
	CU_ASSERT_PTR_NULL(wj_get(m, "items"));		/* an array has no members by key */
	UNIT_ASSERT_STR(wj_gets(NULL, "x", "dflt"), "dflt");
	/* The first of a repeated key is read. */
	UNIT_ASSERT_STR(wj_gets(parse(a, "{\"k\":\"one\",\"k\":\"two\"}"), "k", NULL), "one");
	/* Scalars at the top, and empty containers. */
	CU_ASSERT(wj_num(parse(a, "0"), 1) == 0.0);
	CU_ASSERT(wj_num(parse(a, "-0.25"), 1) == -0.25);
	UNIT_ASSERT_INT(parse(a, "[]")->len, 0);
	UNIT_ASSERT_INT(parse(a, "{ }")->len, 0);
	arena_free(a);
}

static void
test_wj_strings(void)
{
	struct sb_arena	*a = arena_new(4096);
	struct wj	*v;

	v = parse(a, "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\te\"");
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	UNIT_ASSERT_STR(v->str, "a\"b\\c/d\b\f\n\r\te");
	/* \u escapes become UTF-8, surrogate pairs one code point. */
	UNIT_ASSERT_STR(parse(a, "\"\\u00e9\\u20AC\\ud83d\\ude00\"")->str, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	/* UTF-8 as it is passes through. */
	v = parse(a, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	UNIT_ASSERT_INT(v->len, 14);
	arena_free(a);
}

static void
test_wj_refused(void)
{
	static const char *bad[] = {
		"", " ", "{", "[", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "[1 2]", "01",
		"-", "1.", ".5", "1e", "+1", "NaN", "Infinity", "nul", "truex", "[true false]",
		"\"abc", "\"a\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"a\tb\"", "\"\\u0000\"",
		"\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\xc3\"", "\"\xc0\xaf\"",
		"\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xff\"", "\"\xe2\x82\"", "1 2",
		"{} x", "[1]]", "// c\n1", "'a'", "[\"a\"\"b\"]",
	};
	struct sb_arena	*a = arena_new(4096);
	struct wj_error	 err;
	size_t		 i;
	char		 what[64];

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.why = NULL;
		if (wj_parse(a, bad[i], strlen(bad[i]), &err) != NULL) {
			snprintf(what, sizeof(what), "refused: %s", bad[i]);
			CU_FAIL(what);
		}
		CU_ASSERT_PTR_NOT_NULL(err.why);
	}
	/* A NUL inside the text is a control character, not the end. */
	CU_ASSERT_PTR_NULL(wj_parse(a, "\"a\0b\"", 5, NULL));
	CU_ASSERT_PTR_NULL(wj_parse(a, "1\0", 2, NULL));
	/* Where: the offset of the byte that broke it. */
	CU_ASSERT_PTR_NULL(wj_parse(a, "[1,,2]", 6, &err));
	UNIT_ASSERT_INT(err.pos, 3);
	arena_free(a);
}

static void
test_wj_depth(void)
{
	struct sb_arena	*a = arena_new(4096);
	char		 text[2 * (WJSON_MAX_DEPTH + 1) + 1];
	size_t		 d;

	for (d = WJSON_MAX_DEPTH; d <= WJSON_MAX_DEPTH + 1; d++) {
		memset(text, '[', d);
		memset(text + d, ']', d);
		text[2 * d] = '\0';
		if (d == WJSON_MAX_DEPTH) {
			CU_ASSERT_PTR_NOT_NULL(parse(a, text));
		} else {
			CU_ASSERT_PTR_NULL(parse(a, text));
		}
	}
	arena_free(a);
}

static void
test_wj_write(void)
{
	struct sb_buf	 b = { 0 };
	struct sb_arena	*a = arena_new(4096);
	struct wj	*v;
	int		 first = 1;

	buf_puts(&b, "{");
	wj_write_member(&b, &first, "email", "a\"b\\c@x.test");
	wj_write_member(&b, &first, "password", "line\nbreak\x01<script>&");
	buf_puts(&b, "}");
	UNIT_ASSERT_STR(b.data, "{\"email\":\"a\\\"b\\\\c@x.test\",\"password\":"
	    "\"line\\u000abreak\\u0001\\u003cscript\\u003e\\u0026\"}");
	/* What it writes, the reader reads back to the same strings. */
	v = wj_parse(a, b.data, b.len, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	UNIT_ASSERT_STR(wj_gets(v, "email", NULL), "a\"b\\c@x.test");
	UNIT_ASSERT_STR(wj_gets(v, "password", NULL), "line\nbreak\x01<script>&");
	buf_free(&b);
	arena_free(a);
}

void
suite_webjson(void)
{
	CU_pSuite s = unit_suite("webjson", NULL, NULL);

	unit_test(s, "values, members and lookups", test_wj_values);
	unit_test(s, "escapes and UTF-8 decode to UTF-8", test_wj_strings);
	unit_test(s, "anything but RFC 8259 JSON is refused", test_wj_refused);
	unit_test(s, "nesting is bounded", test_wj_depth);
	unit_test(s, "the writer escapes, and reads back the same", test_wj_write);
}
