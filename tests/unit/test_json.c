/* test_json.c: json_parse_limited: size, depth and string limits, syntax errors, duplicates. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <jansson.h>

#include "core/err.h"
#include "core/json.h"
#include "tests/unit/unit.h"

static const struct json_limits lim = { 1024, 4, 8, 0 };

static json_t *
parse(const char *s, struct json_parse_error *e)
{
	return json_parse_limited(s, strlen(s), &lim, e);
}

/* Expects s to be rejected with SB_ERR_INVALID at byte pos (pos < 0: anywhere). */
static void
assert_rejected(const char *s, long pos, const char *why)
{
	struct json_parse_error	 e;
	json_t			*v = parse(s, &e);

	CU_ASSERT_PTR_NULL(v);
	json_decref(v);
	UNIT_ASSERT_INT(e.err, SB_ERR_INVALID);
	if (pos >= 0)
		UNIT_ASSERT_INT(e.position, pos);
	if (why != NULL)
		UNIT_ASSERT_CONTAINS(e.text, why);
}

static void
assert_accepted(const char *s)
{
	struct json_parse_error	 e;
	json_t			*v = parse(s, &e);

	CU_ASSERT_PTR_NOT_NULL(v);
	if (v == NULL)
		UNIT_ASSERT_STR(e.text, "");	/* shows why */
	json_decref(v);
}

static void
test_valid(void)
{
	struct json_parse_error	 e;
	json_t			*v;

	v = parse("{\"a\": [1, 2.5, {\"b\": \"x\"}], \"c\": null, \"d\": true}", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	UNIT_ASSERT_INT(json_array_size(json_object_get(v, "a")), 3);
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_array_get(json_object_get(v, "a"),
	    2), "b")), "x");
	CU_ASSERT(json_is_null(json_object_get(v, "c")));
	CU_ASSERT(json_is_true(json_object_get(v, "d")));
	json_decref(v);
	assert_accepted("[]");
	assert_accepted("{}");
	assert_accepted(" \n\t[\"\\u00e9\\n\"] \n");
}

static void
test_depth(void)
{
	struct json_parse_error	 e;
	json_t			*v;

	assert_accepted("[[[[1]]]]");			/* exactly the limit */
	assert_accepted("{\"a\":{\"b\":[{\"c\":1}]}}");
	assert_accepted("[[1],[2],[3],[[[4]]]]");	/* siblings do not add up */
	assert_rejected("[[[[[1]]]]]", 4, "nesting");
	assert_rejected("{\"a\":{\"b\":[{\"c\":[]}]}}", 16, "nesting");

	/* The position of a depth error is given as a line and column too. */
	v = parse("[\n [\n  [\n   [\n    [1]]]]]", &e);
	CU_ASSERT_PTR_NULL(v);
	json_decref(v);
	UNIT_ASSERT_INT(e.err, SB_ERR_INVALID);
	UNIT_ASSERT_INT(e.line, 5);
	UNIT_ASSERT_INT(e.column, 5);
	UNIT_ASSERT_INT(e.position, 18);
}

static void
test_brackets_in_strings(void)
{
	assert_accepted("[\"[[[[[[\"]");
	assert_accepted("{\"{{{{\":\"]]]]\"}");
	/* An escaped quote does not end the string its brackets are in. */
	assert_accepted("[\"\\\"[[[[[[\"]");
	/* A string ending in an escaped backslash ends at the next quote. */
	assert_accepted("[[[[\"ab\\\\\"]]]]");
	assert_rejected("[[[[\"ab\\\\\", [1]]]]]", -1, "nesting");
}

static void
test_string_length(void)
{
	assert_accepted("[\"12345678\"]");			/* exactly the limit */
	assert_rejected("[\"123456789\"]", 1, "string longer");
	assert_accepted("{\"12345678\":1}");
	assert_rejected("{\"123456789\":1}", 1, "string longer");
	assert_rejected("{\"a\":1,\"k\":\"123456789\"}", 11, "string longer");
	/* Counted as written: an escape takes its two bytes. */
	assert_accepted("[\"a\\\"bcdef\"]");			/* a \" bcdef: 8 bytes */
	assert_rejected("[\"ab\\\"cd\\\"efg\"]", 1, "string longer");	/* 11 bytes */
	assert_rejected("[\"\\\"\\\"\\\"\\\"\\\"\"]", 1, "string longer");	/* 10 bytes */
	/* An unterminated long string is still refused for its length. */
	assert_rejected("[\"1234567890", 1, "string longer");
}

static void
test_size(void)
{
	struct json_parse_error	 e;
	json_t			*v;
	char			*buf = malloc(lim.max_bytes + 2);

	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	buf[0] = '[';
	memset(buf + 1, ' ', lim.max_bytes - 2);
	buf[lim.max_bytes - 1] = ']';
	buf[lim.max_bytes] = '\0';
	v = json_parse_limited(buf, lim.max_bytes, &lim, &e);	/* exactly max_bytes */
	CU_ASSERT_PTR_NOT_NULL(v);
	json_decref(v);

	buf[lim.max_bytes - 1] = ' ';
	buf[lim.max_bytes] = ']';
	buf[lim.max_bytes + 1] = '\0';
	v = json_parse_limited(buf, lim.max_bytes + 1, &lim, &e);
	CU_ASSERT_PTR_NULL(v);
	json_decref(v);
	UNIT_ASSERT_INT(e.err, SB_ERR_TOO_LARGE);
	UNIT_ASSERT_CONTAINS(e.text, "1024");
	free(buf);
}

static void
test_syntax_error(void)
{
	struct json_parse_error	 e;
	json_t			*v;

	v = parse("{\n  \"a\": 1,\n  \"b\" 2\n}", &e);
	CU_ASSERT_PTR_NULL(v);
	json_decref(v);
	UNIT_ASSERT_INT(e.err, SB_ERR_INVALID);
	UNIT_ASSERT_INT(e.line, 3);
	CU_ASSERT(e.column >= 6 && e.column <= 8);
	CU_ASSERT(e.position >= 17 && e.position <= 19);
	CU_ASSERT(e.text[0] != '\0');

	assert_rejected("", -1, NULL);
	assert_rejected("[1,]", -1, NULL);
	assert_rejected("{} x", -1, NULL);
	assert_rejected("[\"unterminated", -1, NULL);
}

/* What a client may not send: U+0000, numbers that cannot come back exactly. */
static void
test_unstorable(void)
{
	assert_rejected("{\"a\":\"x\\u0000y\"}", -1, "U+0000");
	assert_rejected("[1e308]", -1, "beyond");
	assert_rejected("{\"n\":1e19}", -1, "beyond");
	assert_rejected("{\"n\":-9.3e18}", -1, "beyond");
	assert_accepted("{\"n\":9.2e18}");
	assert_accepted("{\"n\":1.5, \"m\":-3e-300}");
	assert_accepted("{\"n\":9223372036854775807}");	/* an integer jansson holds */
}

static void
test_duplicate_keys(void)
{
	assert_rejected("{\"a\":1,\"a\":2}", -1, "duplicate");
	assert_rejected("[{\"x\":{\"k\":1,\"k\":1}}]", -1, "duplicate");
	assert_accepted("{\"a\":{\"a\":1}}");	/* the same key in two objects is fine */
}

/* Text from a provider: cut between characters, mended where it cannot be stored. */
static void
test_utf8_prefix(void)
{
	CU_ASSERT_EQUAL(utf8_prefix("abc", 3), 3);
	CU_ASSERT_EQUAL(utf8_prefix("", 0), 0);
	CU_ASSERT_EQUAL(utf8_prefix("a\xc3\xa9", 3), 3);		/* é whole */
	CU_ASSERT_EQUAL(utf8_prefix("a\xc3\xa9", 2), 1);		/* é cut after its lead */
	CU_ASSERT_EQUAL(utf8_prefix("a\xe2\x82\xac", 3), 1);	/* € missing a byte */
	CU_ASSERT_EQUAL(utf8_prefix("a\xe2\x82\xac", 4), 4);
	CU_ASSERT_EQUAL(utf8_prefix("\xf0\x9f\x98\x80", 3), 0);	/* an emoji cut */
	CU_ASSERT_EQUAL(utf8_prefix("\xf0\x9f\x98\x80", 4), 4);
	CU_ASSERT_EQUAL(utf8_prefix("a\x80\x80\x80\x80", 5), 5);	/* strays are json_text's */
}

static void
assert_text(const char *in, size_t n, const char *want)
{
	json_t *v = json_text(in, n);

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(json_string_length(v), strlen(want));
	CU_ASSERT_STRING_EQUAL(json_string_value(v), want);
	json_decref(v);
}

static void
test_json_text(void)
{
	json_t *o;

	assert_text("plain", 5, "plain");
	assert_text("caf\xc3\xa9", 5, "caf\xc3\xa9");
	assert_text("a\0b", 3, "a\xef\xbf\xbd" "b");		/* U+0000 */
	assert_text("a\xc3", 2, "a\xef\xbf\xbd");		/* a cut character */
	assert_text("\xff\xfe", 2, "\xef\xbf\xbd\xef\xbf\xbd");	/* not UTF-8 at all */
	assert_text("\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");	/* a surrogate */
	assert_text("\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd");	/* overlong '/' */
	/* json_storable: every string of a tree, in place. */
	o = json_pack("{s:s%, s:[s%]}", "a", "x\0y", (size_t)3, "b", "\0", (size_t)1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	json_storable(o);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "a")), "x\xef\xbf\xbdy");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(json_object_get(o, "b"), 0)),
	    "\xef\xbf\xbd");
	json_decref(o);
}

void
suite_json(void)
{
	CU_pSuite s = unit_suite("json", NULL, NULL);

	unit_test(s, "valid documents", test_valid);
	unit_test(s, "depth limit with position", test_depth);
	unit_test(s, "brackets inside strings do not count", test_brackets_in_strings);
	unit_test(s, "string and key length limit", test_string_length);
	unit_test(s, "document size limit", test_size);
	unit_test(s, "syntax error with line and column", test_syntax_error);
	unit_test(s, "duplicate keys rejected", test_duplicate_keys);
	unit_test(s, "U+0000 and unstorable numbers rejected", test_unstorable);
	unit_test(s, "UTF-8 cuts between characters", test_utf8_prefix);
	unit_test(s, "text a database can store", test_json_text);
}
