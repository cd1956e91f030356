/* test_schema.c: core/schema.c, every keyword passing and failing, the path in the
 * messages, the depth bound, and what schema_valid refuses. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/json.h"
#include "core/schema.h"
#include "tests/unit/unit.h"

/* Asserts what schema_check says of value (JSON text) against schema (JSON text), or
 * schema_valid of schema when value is NULL: want NULL for a pass, else the whole
 * error. */
struct schema_case {
	const char	*schema, *value, *want;
};

#define CHECK(schema, value, want)	check_is((schema), (value), (want), __LINE__)
#define CHECK_CASES(c)	check_cases((c), sizeof(c) / sizeof((c)[0]), __LINE__)

static json_t *
load(const char *text, unsigned int line)
{
	json_error_t	 e;
	json_t		*v = json_loads(text, JSON_DECODE_ANY, &e);

	if (v == NULL)
		unit_assert_str(e.text, "valid JSON", text, __FILE__, line);
	return v;
}

static void
verdict_is(int rc, const char *err, const char *want, const char *what, unsigned int line)
{
	unit_assert_int(rc, want == NULL ? 0 : -1, what, __FILE__, line);
	unit_assert_str(err, want == NULL ? "" : want, what, __FILE__, line);
}

static void
check_is(const char *schema, const char *value, const char *want, unsigned int line)
{
	json_t	*s = load(schema, line), *v = load(value, line);
	char	 err[256], what[200];

	snprintf(what, sizeof(what), "schema_check(%.90s, %.90s)", schema, value);
	if (s != NULL && v != NULL)
		verdict_is(schema_check(s, v, err, sizeof(err)), err, want, what, line);
	json_decref(s);
	json_decref(v);
}

static void
valid_is(const char *schema, const char *want, unsigned int line)
{
	json_t	*s = load(schema, line);
	char	 err[256], what[200];

	snprintf(what, sizeof(what), "schema_valid(%.180s)", schema);
	if (s != NULL)
		verdict_is(schema_valid(s, err, sizeof(err)), err, want, what, line);
	json_decref(s);
}

static void
check_cases(const struct schema_case *c, size_t n, unsigned int line)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (c[i].value != NULL)
			check_is(c[i].schema, c[i].value, c[i].want, line);
		else
			valid_is(c[i].schema, c[i].want, line);
}

static void
test_schema_type(void)
{
	static const struct schema_case	cases[] = {
		{ "{\"type\":\"object\"}", "{}", NULL },
		{ "{\"type\":\"object\"}", "[]", "(root): must be an object" },
		{ "{\"type\":\"array\"}", "[1]", NULL },
		{ "{\"type\":\"array\"}", "{}", "(root): must be an array" },
		{ "{\"type\":\"string\"}", "\"x\"", NULL },
		{ "{\"type\":\"string\"}", "1", "(root): must be a string" },
		{ "{\"type\":\"integer\"}", "3", NULL },
		{ "{\"type\":\"integer\"}", "3.0", NULL },	/* an integer-valued real */
		{ "{\"type\":\"integer\"}", "-1e300", NULL },
		{ "{\"type\":\"integer\"}", "3.5", "(root): must be an integer" },
		{ "{\"type\":\"integer\"}", "\"3\"", "(root): must be an integer" },
		{ "{\"type\":\"number\"}", "3.5", NULL },
		{ "{\"type\":\"number\"}", "3", NULL },
		{ "{\"type\":\"number\"}", "true", "(root): must be a number" },
		{ "{\"type\":\"boolean\"}", "false", NULL },
		{ "{\"type\":\"boolean\"}", "0", "(root): must be a boolean" },
		{ "{\"type\":\"null\"}", "null", NULL },
		{ "{\"type\":\"null\"}", "\"\"", "(root): must be null" },
		{ "{\"type\":[\"string\",\"null\"]}", "null", NULL },
		{ "{\"type\":[\"string\",\"null\"]}", "\"a\"", NULL },
		{ "{\"type\":[\"string\",\"null\"]}", "1", "(root): must be a string or null" },
		{ "{\"type\":[\"object\",\"array\",\"integer\"]}", "1.5",
		    "(root): must be an object or an array or an integer" },
		/* Schemas that are booleans. */
		{ "true", "{\"anything\":[1]}", NULL },
		{ "{}", "17", NULL },
		{ "false", "17", "(root): is not allowed" },
	};

	CHECK_CASES(cases);
}

static void
test_schema_objects(void)
{
	static const char	 tool[] = "{\"type\":\"object\",\"properties\":{"
	    "\"url\":{\"type\":\"string\",\"minLength\":1,\"description\":\"what to fetch\"},"
	    "\"mode\":{\"enum\":[\"get\",\"post\"],\"default\":\"get\"},"
	    "\"opts\":{\"type\":\"object\",\"required\":[\"n\"],"
	    "\"properties\":{\"n\":{\"type\":\"integer\",\"maximum\":10}}}},"
	    "\"required\":[\"url\"],\"additionalProperties\":false,\"title\":\"fetch\"}";

	static const struct schema_case	cases[] = {
		{ tool, "{\"url\":\"http://x/\"}", NULL },
		{ tool, "{\"url\":\"http://x/\",\"mode\":\"post\",\"opts\":{\"n\":10}}", NULL },
		{ tool, "{}", "url: is required" },
		{ tool, "[]", "(root): must be an object" },
		{ tool, "{\"url\":1}", "url: must be a string" },
		{ tool, "{\"url\":\"\"}", "url: must be at least 1 character long" },
		{ tool, "{\"url\":\"u\",\"mode\":\"put\"}",
		    "mode: must be one of \"get\", \"post\"" },
		{ tool, "{\"url\":\"u\",\"opts\":{\"n\":11}}", "opts.n: must be at most 10" },
		{ tool, "{\"url\":\"u\",\"opts\":{}}", "opts.n: is required" },
		{ tool, "{\"url\":\"u\",\"opts\":{\"n\":1,\"m\":2}}", NULL },	/* open */
		{ tool, "{\"url\":\"u\",\"extra\":true}", "extra: is not allowed" },
		/* The first offending value, in the value's order. */
		{ tool, "{\"url\":\"u\",\"b\":1,\"mode\":\"x\"}", "b: is not allowed" },
		{ "{\"properties\":{\"a\":{}},\"additionalProperties\":true}", "{\"b\":1}", NULL },
		{ "{\"properties\":{\"x\":false}}", "{\"x\":1}", "x: is not allowed" },
		{ "{\"properties\":{\"x\":false}}", "{\"y\":1}", NULL },
		/* Object keywords say nothing of other types. */
		{ "{\"required\":[\"a\"],\"additionalProperties\":false}", "\"text\"", NULL },
	};

	CHECK_CASES(cases);
}

static void
test_schema_enum_const(void)
{
	static const struct schema_case	cases[] = {
		{ "{\"enum\":[1,null,{\"a\":[1]},\"s\"]}", "{\"a\":[1]}", NULL },
		{ "{\"enum\":[1,null,{\"a\":[1]},\"s\"]}", "null", NULL },
		{ "{\"enum\":[1,null,{\"a\":[1]},\"s\"]}", "1.0", NULL },	/* 1 is 1.0 */
		{ "{\"enum\":[1,null,{\"a\":[1]},\"s\"]}", "{\"a\":[2]}",
		    "(root): must be one of 1, null, {\"a\":[1]}, \"s\"" },
		{ "{\"enum\":[\"a\"]}", "\"A\"", "(root): must be one of \"a\"" },
		{ "{\"const\":\"x\"}", "\"x\"", NULL },
		{ "{\"const\":\"x\"}", "\"y\"", "(root): must be \"x\"" },
		{ "{\"const\":3}", "3.0", NULL },
		{ "{\"const\":[1,2]}", "[2,1]", "(root): must be [1,2]" },
		{ "{\"const\":null}", "null", NULL },
		{ "{\"const\":null}", "false", "(root): must be null" },
	};

	CHECK_CASES(cases);
}

static void
test_schema_strings(void)
{
	static const char			 s[] = "{\"minLength\":2,\"maxLength\":3}";
	static const struct schema_case	cases[] = {
		/* Characters, not bytes: each é is two bytes. */
		{ s, "\"\xc3\xa9\"", "(root): must be at least 2 characters long" },
		{ s, "\"\xc3\xa9\xc3\xa9\"", NULL },
		{ s, "\"\xc3\xa9\xc3\xa9\xc3\xa9\"", NULL },
		{ s, "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"",
		    "(root): must be at most 3 characters long" },
		{ s, "\"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\"", NULL },
		{ "{\"maxLength\":1}", "\"ab\"", "(root): must be at most 1 character long" },
		{ "{\"maxLength\":0}", "\"\"", NULL },
		{ "{\"maxLength\":2.0}", "\"abc\"", "(root): must be at most 2 characters long" },
		{ s, "12345", NULL },	/* only strings have a length */
	};

	CHECK_CASES(cases);
}

static void
test_schema_numbers(void)
{
	static const char			 in[] = "{\"minimum\":1,\"maximum\":10}";
	static const char			 ex[] =
	    "{\"exclusiveMinimum\":0,\"exclusiveMaximum\":1.5}";
	static const struct schema_case	cases[] = {
		{ in, "0", "(root): must be at least 1" },
		{ in, "0.999", "(root): must be at least 1" },
		{ in, "1", NULL },
		{ in, "10", NULL },
		{ in, "10.0", NULL },
		{ in, "10.5", "(root): must be at most 10" },
		{ in, "11", "(root): must be at most 10" },
		{ ex, "0", "(root): must be greater than 0" },
		{ ex, "0.001", NULL },
		{ ex, "1.4", NULL },
		{ ex, "1.5", "(root): must be less than 1.5" },
		{ ex, "2", "(root): must be less than 1.5" },
		/* Two integers compare exactly, past what a double holds. */
		{ "{\"maximum\":9007199254740992}", "9007199254740992", NULL },
		{ "{\"maximum\":9007199254740992}", "9007199254740993",
		    "(root): must be at most 9007199254740992" },
		{ "{\"minimum\":-9223372036854775808}", "-9223372036854775808", NULL },
		{ in, "\"100\"", NULL },	/* only numbers have a size */
	};

	CHECK_CASES(cases);
}

static void
test_schema_arrays(void)
{
	static const char			 s[] = "{\"type\":\"array\",\"minItems\":1,"
	    "\"maxItems\":3,\"items\":{\"type\":\"object\",\"properties\":{\"name\":"
	    "{\"type\":\"string\"}}}}";
	static const struct schema_case	cases[] = {
		{ s, "[{\"name\":\"a\"}]", NULL },
		{ s, "[]", "(root): must have at least 1 item" },
		{ s, "[{},{},{},{}]", "(root): must have at most 3 items" },
		{ s, "[{},1]", "[1]: must be an object" },
		{ s, "[{},{},{\"name\":2}]", "[2].name: must be a string" },
		{ "{\"properties\":{\"list\":{\"items\":{\"properties\":{\"name\":"
		    "{\"type\":\"string\"}}}}}}", "{\"list\":[{},{},{\"name\":null}]}",
		    "list[2].name: must be a string" },
		{ "{\"minItems\":2}", "[1]", "(root): must have at least 2 items" },
		{ "{\"items\":false}", "[]", NULL },
		{ "{\"items\":false}", "[0]", "[0]: is not allowed" },
		{ "{\"minItems\":5}", "{}", NULL },	/* only arrays have items */
	};

	CHECK_CASES(cases);
}

/* A schema of n levels of arrays, and a value of n + 1 levels of arrays. */
static void
nested(int n, json_t **schema, json_t **value)
{
	json_t	*s = json_pack("{s:s}", "type", "array"), *v = json_array();
	int	 i;

	for (i = 0; i < n; i++) {
		s = json_pack("{s:s, s:o}", "type", "array", "items", s);
		v = json_pack("[o]", v);
	}
	*schema = s;
	*value = v;
}

static void
test_schema_depth(void)
{
	json_t	*s, *v;
	char	 err[256];

	nested(SCHEMA_DEPTH_MAX, &s, &v);
	UNIT_ASSERT_INT(schema_valid(s, err, sizeof(err)), 0);
	UNIT_ASSERT_INT(schema_check(s, v, err, sizeof(err)), 0);
	json_decref(s);
	json_decref(v);
	nested(SCHEMA_DEPTH_MAX + 1, &s, &v);
	UNIT_ASSERT_INT(schema_valid(s, err, sizeof(err)), -1);
	UNIT_ASSERT_CONTAINS(err, "is nested too deeply (at most 32 levels)");
	UNIT_ASSERT_INT(schema_check(s, v, err, sizeof(err)), -1);
	UNIT_ASSERT_CONTAINS(err, "[0][0][0]");
	UNIT_ASSERT_CONTAINS(err, ": is nested too deeply");
	json_decref(s);
	json_decref(v);
	/* Deeper than the schema describes: not looked at, so not a failure. */
	nested(1000, &s, &v);
	json_decref(s);
	s = json_pack("{s:s, s:{s:s}}", "type", "array", "items", "type", "array");
	UNIT_ASSERT_INT(schema_check(s, v, err, sizeof(err)), 0);
	json_decref(s);
	json_decref(v);
}

static void
test_schema_errors(void)
{
	json_t	*s = json_pack("{s:[s]}", "required", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	json_t	*v = json_object();
	char	 err[8];

	/* Cut to the buffer, between characters. */
	UNIT_ASSERT_INT(schema_check(s, v, err, sizeof(err)), -1);
	UNIT_ASSERT_STR(err, "\xc3\xa9\xc3\xa9\xc3\xa9");
	CU_ASSERT(utf8_valid(err, strlen(err)));
	UNIT_ASSERT_INT(schema_check(s, v, NULL, 0), -1);
	UNIT_ASSERT_INT(schema_valid(s, NULL, 0), 0);
	UNIT_ASSERT_INT(schema_check(s, NULL, err, sizeof(err)), -1);
	json_decref(s);
	json_decref(v);
}

/* A key that is empty, "(root)", or holds what would read as more path is quoted. */
static void
test_schema_odd_keys(void)
{
	static const struct schema_case	cases[] = {
		{ "{\"required\":[\"\"]}", "{}", "[\"\"]: is required" },
		{ "{\"required\":[\"(root)\"]}", "{}", "[\"(root)\"]: is required" },
		{ "{\"properties\":{\"a.b\":{\"type\":\"null\"}}}", "{\"a.b\":1}",
		    "[\"a.b\"]: must be null" },
		{ "{\"properties\":{\"o\":{\"properties\":{\"x: y\":false}}}}",
		    "{\"o\":{\"x: y\":1}}", "o[\"x: y\"]: is not allowed" },
		{ "{\"properties\":{\"o\":{\"additionalProperties\":false}}}",
		    "{\"o\":{\"q\\\"\\\\[0]\":1}}", "o[\"q\\\"\\\\[0]\"]: is not allowed" },
		{ "{\"additionalProperties\":false}", "{\"caf\u00e9_1\":1}",
		    "caf\xc3\xa9_1: is not allowed" },
	};

	CHECK_CASES(cases);
}

/* A path longer than errors hold is cut (between characters); the message stays. */
static void
test_schema_long_path(void)
{
	char	 key[301], schema[512], value[512], want[256];

	memset(key, 'k', 298);
	memcpy(key + 298, "\xc3\xa9", 3);	/* é across the cut of a 299-byte path */
	snprintf(schema, sizeof(schema), "{\"properties\":{\"%s\":{\"properties\":"
	    "{\"b\":{\"type\":\"null\"}}}}}", key);
	snprintf(value, sizeof(value), "{\"%s\":{\"b\":1}}", key);
	snprintf(want, sizeof(want), "%.200s: must be null", key);
	CHECK(schema, value, want);
	key[199] = '\xc3';
	key[200] = '\xa9';
	snprintf(schema, sizeof(schema), "{\"properties\":{\"%s\":{\"properties\":"
	    "{\"b\":{\"type\":\"null\"}}}}}", key);
	snprintf(value, sizeof(value), "{\"%s\":{\"b\":1}}", key);
	snprintf(want, sizeof(want), "%.199s: must be null", key);
	CHECK(schema, value, want);
}

static void
test_schema_valid(void)
{
	static const char			 every[] = "{\"type\":\"object\",\"title\":\"t\","
	    "\"description\":\"d\",\"$comment\":\"c\","
	    "\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
	    "\"properties\":{\"url\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":2048},"
	    "\"method\":{\"enum\":[\"GET\",\"POST\"],\"default\":\"GET\",\"examples\":[\"GET\"]},"
	    "\"n\":{\"type\":[\"integer\",\"null\"],\"minimum\":1,\"maximum\":1e6,"
	    "\"exclusiveMinimum\":0,\"exclusiveMaximum\":2000000},"
	    "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"minItems\":0,"
	    "\"maxItems\":10.0},\"k\":{\"const\":{\"a\":1}},\"any\":true,\"none\":false},"
	    "\"required\":[\"url\"],\"additionalProperties\":false}";
	static const struct schema_case	cases[] = {
		{ every, NULL, NULL },
		{ "true", NULL, NULL },
		{ "{}", NULL, NULL },
		{ "\"string\"", NULL,
		    "(root): must be a schema (an object, or true or false)" },
		{ "{\"type\":\"strin\"}", NULL, "type: unknown type \"strin\"" },
		{ "{\"type\":[]}", NULL,
		    "type: must be a type name or an array of them" },
		{ "{\"type\":[\"string\",1]}", NULL,
		    "type: must be a type name or an array of them" },
		{ "{\"type\":[\"string\",\"nul\"]}", NULL,
		    "type: unknown type \"nul\"" },
		{ "{\"type\":[\"string\",\"string\"]}", NULL,
		    "type: names \"string\" twice" },
		{ "{\"type\":1}", NULL,
		    "type: must be a type name or an array of them" },
		{ "{\"properties\":[]}", NULL,
		    "properties: must be an object of schemas" },
		{ "{\"properties\":{\"url\":{\"format\":\"uri\"}}}", NULL,
		    "properties.url: unknown keyword \"format\"" },
		{ "{\"properties\":{\"url\":{\"type\":\"uri\"}}}", NULL,
		    "properties.url.type: unknown type \"uri\"" },
		{ "{\"properties\":{\"u\":1}}", NULL,
		    "properties.u: must be a schema (an object, or true or false)" },
		{ "{\"required\":\"url\"}", NULL,
		    "required: must be an array of property names" },
		{ "{\"required\":[1]}", NULL,
		    "required: must be an array of property names" },
		{ "{\"additionalProperties\":{\"type\":\"string\"}}", NULL,
		    "additionalProperties: must be true or false (a schema there is not "
		    "supported)" },
		{ "{\"enum\":[]}", NULL, "enum: must be a non-empty array" },
		{ "{\"enum\":\"a\"}", NULL, "enum: must be a non-empty array" },
		{ "{\"minLength\":-1}", NULL,
		    "minLength: must be a whole number, 0 or more" },
		{ "{\"maxLength\":1.5}", NULL,
		    "maxLength: must be a whole number, 0 or more" },
		{ "{\"minItems\":\"3\"}", NULL,
		    "minItems: must be a whole number, 0 or more" },
		{ "{\"maxItems\":2.0}", NULL, NULL },
		{ "{\"minimum\":\"1\"}", NULL, "minimum: must be a number" },
		{ "{\"exclusiveMaximum\":true}", NULL,
		    "exclusiveMaximum: must be a number" },
		{ "{\"items\":[{}]}", NULL,
		    "items: must be a schema (an object, or true or false)" },
		{ "{\"items\":{\"items\":{\"minimum\":null}}}", NULL,
		    "items.items.minimum: must be a number" },
		{ "{\"description\":1}", NULL, "description: must be a string" },
		{ "{\"title\":null}", NULL, "title: must be a string" },
		{ "{\"examples\":{}}", NULL, "examples: must be an array" },
		{ "{\"oneOf\":[{}]}", NULL, "(root): unknown keyword \"oneOf\"" },
		{ "{\"items\":{\"$ref\":\"#/x\"}}", NULL,
		    "items: unknown keyword \"$ref\"" },
	};

	CHECK_CASES(cases);
}

void
suite_schema(void)
{
	CU_pSuite s = unit_suite("schema", NULL, NULL);

	unit_test(s, "type: each name, arrays of them, boolean schemas", test_schema_type);
	unit_test(s, "properties, required, additionalProperties, with paths",
	    test_schema_objects);
	unit_test(s, "enum and const, numbers by value", test_schema_enum_const);
	unit_test(s, "minLength and maxLength count characters", test_schema_strings);
	unit_test(s, "minimum, maximum, exclusive bounds", test_schema_numbers);
	unit_test(s, "items, minItems, maxItems, with paths", test_schema_arrays);
	unit_test(s, "nesting is bounded", test_schema_depth);
	unit_test(s, "errors fit their buffer", test_schema_errors);
	unit_test(s, "odd keys are quoted in paths", test_schema_odd_keys);
	unit_test(s, "a long path is cut between characters", test_schema_long_path);
	unit_test(s, "schema_valid refuses what schema_check does not understand",
	    test_schema_valid);
}
