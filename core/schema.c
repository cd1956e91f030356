/* schema.c: the JSON Schema subset of tool arguments (schema.h).
 *
 * Checking walks the value where the schema describes it, one level of recursion per
 * level of the value, and stops at SCHEMA_DEPTH_MAX.  The path of the value (or, for
 * schema_valid, of the schema) being looked at is kept in one buffer, a segment added
 * on the way down and taken off on the way back. */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/schema.h"

#define PATH_MAX_LEN	200	/* longer paths are cut (between characters) */

struct walk {
	char	 path[PATH_MAX_LEN + 1];
	size_t	 len;
	size_t	 cut;		/* the length before the segment that did not fit whole,
				 * SIZE_MAX if none: nothing is added after it */
	char	*err;
	size_t	 errlen;
};

/* jansson's object iterator takes a json_t * although it changes nothing. */
static json_t *
unconst(const json_t *v)
{
	return (json_t *)(uintptr_t)v;
}

/* ------------------------------------------------------------ paths and errors */

/* 1 if key can stand in a path as it is: not empty, not "(root)", and nothing in it
 * that would read as another segment or the end of the path. */
static int
plain_key(const char *key)
{
	const unsigned char	*k;

	if (key[0] == '\0' || strcmp(key, "(root)") == 0)
		return 0;
	for (k = (const unsigned char *)key; *k != '\0'; k++)
		if (*k < 0x20 || strchr(".[]\"\\: ", *k) != NULL)
			return 0;
	return 1;
}

/* A key as a segment of the path: ".key", or ["key"] with '"' and '\' escaped when it
 * is not a plain one (at the start, no dot); as much as fits in seg. */
static void
key_segment(char *seg, size_t len, const char *key, int first)
{
	struct sb_buf	 b = { 0 };
	const char	*k;

	if (plain_key(key)) {
		snprintf(seg, len, "%s%s", first ? "" : ".", key);
		return;
	}
	buf_puts(&b, "[\"");
	for (k = key; *k != '\0' && b.len < len; k++)
		buf_printf(&b, "%s%c", *k == '"' || *k == '\\' ? "\\" : "", *k);
	buf_puts(&b, "\"]");
	snprintf(seg, len, "%s", b.data);
	buf_free(&b);
}

/* Adds a segment (".key", "[3]", ["a.b"]) to the path, as much of it as fits: returns
 * the length to go back to. */
static size_t
path_push(struct walk *w, const char *key, size_t index)
{
	char	 seg[PATH_MAX_LEN + 2];
	size_t	 old = w->len, n, whole;

	if (w->cut != SIZE_MAX)
		return old;
	if (key != NULL)
		key_segment(seg, sizeof(seg), key, old == 0);
	else
		snprintf(seg, sizeof(seg), "[%zu]", index);
	whole = strlen(seg);
	n = utf8_prefix(seg, whole < PATH_MAX_LEN - old ? whole : PATH_MAX_LEN - old);
	if (n < whole)
		w->cut = old;
	memcpy(w->path + old, seg, n);
	w->len = old + n;
	w->path[w->len] = '\0';
	return old;
}

static void
path_pop(struct walk *w, size_t old)
{
	if (old <= w->cut)
		w->cut = SIZE_MAX;
	w->len = old;
	w->path[old] = '\0';
}

/* Sets the error, "path: message", and returns -1. */
static int __attribute__((format(printf, 2, 3)))
fail(struct walk *w, const char *fmt, ...)
{
	char	 msg[300];
	va_list	 ap;

	if (w->err == NULL || w->errlen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	msg[utf8_prefix(msg, strlen(msg))] = '\0';
	snprintf(w->err, w->errlen, "%s: %s", w->len > 0 ? w->path : "(root)", msg);
	w->err[utf8_prefix(w->err, strlen(w->err))] = '\0';
	return -1;
}

/* A JSON value as written (compact), into out: for messages. */
static void
written(const json_t *v, char *out, size_t len)
{
	char	*s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	snprintf(out, len, "%s", s != NULL ? s : "?");
	out[utf8_prefix(out, strlen(out))] = '\0';
	free(s);
}

/* ------------------------------------------------------------ values */

/* The JSON Schema types, and how a message names a value of each. */
static const struct {
	const char	*name, *article;
} types[] = {
	{ "object", "an object" }, { "array", "an array" }, { "string", "a string" },
	{ "integer", "an integer" }, { "number", "a number" }, { "boolean", "a boolean" },
	{ "null", "null" },
};

#define NTYPES	(sizeof(types) / sizeof(types[0]))

/* An integer, or a real with no fraction (JSON Schema's integer).  jansson's reals
 * are finite, and every double beyond 2^63 is whole. */
static int
integral(const json_t *v)
{
	double	 d;

	if (json_is_integer(v))
		return 1;
	if (!json_is_real(v))
		return 0;
	d = json_real_value(v);
	return d >= 9.2e18 || d <= -9.2e18 || d == (double)(long long)d;
}

/* 1 if v is of the type named t (a name types[] holds), else 0. */
static int
is_type(const json_t *v, const char *t)
{
	if (strcmp(t, "object") == 0)
		return json_is_object(v);
	if (strcmp(t, "array") == 0)
		return json_is_array(v);
	if (strcmp(t, "string") == 0)
		return json_is_string(v);
	if (strcmp(t, "integer") == 0)
		return integral(v);
	if (strcmp(t, "number") == 0)
		return json_is_number(v);
	if (strcmp(t, "boolean") == 0)
		return json_is_boolean(v);
	if (strcmp(t, "null") == 0)
		return json_is_null(v);
	return 0;
}

static const char *
type_article(const char *t)
{
	size_t	 i;

	for (i = 0; i < NTYPES; i++)
		if (strcmp(t, types[i].name) == 0)
			return types[i].article;
	return NULL;
}

/* "type": one name or an array of them; names this does not know are passed over. */
static int
check_type(struct walk *w, const json_t *type, const json_t *v)
{
	struct sb_buf	 b = { 0 };
	const char	*a;
	json_t		*t;
	size_t		 i, n = 0;
	int		 rc;

	if (json_is_string(type)) {
		a = type_article(json_string_value(type));
		return a == NULL || is_type(v, json_string_value(type)) ? 0 :
		    fail(w, "must be %s", a);
	}
	if (!json_is_array(type))
		return 0;
	json_array_foreach(type, i, t)
		if (json_is_string(t) && is_type(v, json_string_value(t)))
			return 0;
	json_array_foreach(type, i, t) {
		if (!json_is_string(t) || (a = type_article(json_string_value(t))) == NULL)
			continue;
		buf_printf(&b, "%s%s", n > 0 ? " or " : "", a);
		n++;
	}
	rc = n > 0 ? fail(w, "must be %s", b.data) : 0;
	buf_free(&b);
	return rc;
}

/* Equal as JSON Schema has it: numbers by value, anything else as jansson compares. */
static int
same(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b)) {
		if (json_is_integer(a) && json_is_integer(b))
			return json_integer_value(a) == json_integer_value(b);
		return json_number_value(a) == json_number_value(b);
	}
	return json_equal(a, b);
}

static int
check_enum(struct walk *w, const json_t *e, const json_t *v)
{
	struct sb_buf	 b = { 0 };
	char		 one[120];
	json_t		*x;
	size_t		 i;
	int		 rc;

	if (!json_is_array(e))
		return 0;
	json_array_foreach(e, i, x)
		if (same(x, v))
			return 0;
	json_array_foreach(e, i, x) {
		if (b.len > 200) {
			buf_puts(&b, ", ...");
			break;
		}
		written(x, one, sizeof(one));
		buf_printf(&b, "%s%s", i > 0 ? ", " : "", one);
	}
	rc = fail(w, "must be one of %s", b.data != NULL ? b.data : "(none)");
	buf_free(&b);
	return rc;
}

static int
check_const(struct walk *w, const json_t *c, const json_t *v)
{
	char	 one[200];

	if (c == NULL || same(c, v))
		return 0;
	written(c, one, sizeof(one));
	return fail(w, "must be %s", one);
}

/* A count keyword (minLength, maxItems...) of s: 1 with it in *n, or 0 if s has none
 * (or one that is not a whole number >= 0). */
static int
count_of(const json_t *s, const char *kw, json_int_t *n)
{
	const json_t	*v = json_object_get(s, kw);
	double		 d;

	if (v == NULL || !integral(v))
		return 0;
	if (json_is_integer(v))
		*n = json_integer_value(v);
	else {
		d = json_real_value(v);
		*n = d >= 9.2e18 ? INT64_MAX : d <= -9.2e18 ? INT64_MIN : (json_int_t)d;
	}
	return *n >= 0;
}

/* The number of UTF-8 characters in s (jansson's strings are valid UTF-8). */
static size_t
characters(const char *s, size_t n)
{
	size_t	 i, c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

static const char *
plural(json_int_t n)
{
	return n == 1 ? "" : "s";
}

static int
check_string(struct walk *w, const json_t *s, const json_t *v)
{
	json_int_t	 n, len = (json_int_t)characters(json_string_value(v),
			    json_string_length(v));

	if (count_of(s, "minLength", &n) && len < n)
		return fail(w, "must be at least %lld character%s long", (long long)n,
		    plural(n));
	if (count_of(s, "maxLength", &n) && len > n)
		return fail(w, "must be at most %lld character%s long", (long long)n,
		    plural(n));
	return 0;
}

/* <0, 0 or >0 as the number v is below, at or above the number b; exact for two
 * integers. */
static int
num_cmp(const json_t *v, const json_t *b)
{
	double	 x, y;

	if (json_is_integer(v) && json_is_integer(b))
		return (json_integer_value(v) > json_integer_value(b)) -
		    (json_integer_value(v) < json_integer_value(b));
	x = json_number_value(v);
	y = json_number_value(b);
	return (x > y) - (x < y);
}

#define BELOW	0x1
#define AT	0x2
#define ABOVE	0x4

static int
check_number(struct walk *w, const json_t *s, const json_t *v)
{
	static const struct {
		const char	*kw, *words;
		int		 ok;	/* where v may be against the bound */
	} bounds[] = {
		{ "minimum", "at least", AT | ABOVE }, { "maximum", "at most", BELOW | AT },
		{ "exclusiveMinimum", "greater than", ABOVE },
		{ "exclusiveMaximum", "less than", BELOW },
	};
	const json_t	*b;
	char		 one[64];
	size_t		 i;
	int		 c;

	for (i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
		if ((b = json_object_get(s, bounds[i].kw)) == NULL || !json_is_number(b))
			continue;
		c = num_cmp(v, b);
		if ((bounds[i].ok & (c < 0 ? BELOW : c > 0 ? ABOVE : AT)) == 0) {
			written(b, one, sizeof(one));
			return fail(w, "must be %s %s", bounds[i].words, one);
		}
	}
	return 0;
}

static int	check(struct walk *, const json_t *, const json_t *, int);

static int
check_array(struct walk *w, const json_t *s, const json_t *v, int depth)
{
	const json_t	*items = json_object_get(s, "items");
	json_int_t	 n, len = (json_int_t)json_array_size(v);
	json_t		*x;
	size_t		 i, old;

	if (count_of(s, "minItems", &n) && len < n)
		return fail(w, "must have at least %lld item%s", (long long)n, plural(n));
	if (count_of(s, "maxItems", &n) && len > n)
		return fail(w, "must have at most %lld item%s", (long long)n, plural(n));
	if (items == NULL)
		return 0;
	json_array_foreach(v, i, x) {
		old = path_push(w, NULL, i);
		if (check(w, items, x, depth + 1) < 0)
			return -1;
		path_pop(w, old);
	}
	return 0;
}

static int
check_object(struct walk *w, const json_t *s, const json_t *v, int depth)
{
	const json_t	*props = json_object_get(s, "properties"), *req, *sub;
	const char	*key;
	json_t		*x;
	size_t		 i, old;
	int		 closed = json_is_false(json_object_get(s, "additionalProperties"));

	req = json_object_get(s, "required");
	json_array_foreach(req, i, x) {
		if (!json_is_string(x) || json_object_get(v, json_string_value(x)) != NULL)
			continue;
		path_push(w, json_string_value(x), 0);
		return fail(w, "is required");
	}
	json_object_foreach(unconst(v), key, x) {
		sub = json_is_object(props) ? json_object_get(props, key) : NULL;
		if (sub == NULL && !closed)
			continue;
		old = path_push(w, key, 0);
		if (sub == NULL)
			return fail(w, "is not allowed");
		if (check(w, sub, x, depth + 1) < 0)
			return -1;
		path_pop(w, old);
	}
	return 0;
}

static int
check(struct walk *w, const json_t *s, const json_t *v, int depth)
{
	if (json_is_false(s))
		return fail(w, "is not allowed");
	if (!json_is_object(s))
		return 0;	/* true, or no schema: schema_valid() tells */
	if (depth > SCHEMA_DEPTH_MAX)
		return fail(w, "is nested too deeply (at most %d levels)", SCHEMA_DEPTH_MAX);
	if (check_type(w, json_object_get(s, "type"), v) < 0 ||
	    check_enum(w, json_object_get(s, "enum"), v) < 0 ||
	    check_const(w, json_object_get(s, "const"), v) < 0)
		return -1;
	switch (json_typeof(v)) {
	case JSON_STRING:
		return check_string(w, s, v);
	case JSON_INTEGER:
	case JSON_REAL:
		return check_number(w, s, v);
	case JSON_ARRAY:
		return check_array(w, s, v, depth);
	case JSON_OBJECT:
		return check_object(w, s, v, depth);
	default:
		return 0;
	}
}

int
schema_check(const json_t *schema, const json_t *value, char *err, size_t errlen)
{
	struct walk	 w = { .cut = SIZE_MAX, .err = err, .errlen = errlen };

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (value == NULL)
		return fail(&w, "is missing");
	return check(&w, schema, value, 0);
}

/* ------------------------------------------------------------ schemas */

enum kw_form {
	KW_TYPE, KW_PROPERTIES, KW_REQUIRED, KW_BOOLEAN, KW_ENUM, KW_ANY, KW_COUNT,
	KW_NUMBER, KW_SCHEMA, KW_STRING, KW_ARRAY
};

static const struct {
	const char	*name;
	enum kw_form	 form;
} keywords[] = {
	{ "type", KW_TYPE }, { "properties", KW_PROPERTIES }, { "required", KW_REQUIRED },
	{ "additionalProperties", KW_BOOLEAN }, { "enum", KW_ENUM }, { "const", KW_ANY },
	{ "minLength", KW_COUNT }, { "maxLength", KW_COUNT }, { "minimum", KW_NUMBER },
	{ "maximum", KW_NUMBER }, { "exclusiveMinimum", KW_NUMBER },
	{ "exclusiveMaximum", KW_NUMBER }, { "items", KW_SCHEMA }, { "minItems", KW_COUNT },
	{ "maxItems", KW_COUNT }, { "description", KW_STRING }, { "title", KW_STRING },
	{ "default", KW_ANY }, { "examples", KW_ARRAY }, { "$schema", KW_STRING },
	{ "$comment", KW_STRING },
};

static int	valid(struct walk *, const json_t *, int);

/* "type": a known name, or a non-empty array of distinct known names. */
static int
valid_type(struct walk *w, const json_t *t)
{
	json_t	*x, *y;
	size_t	 i, j;

	if (json_is_string(t))
		return type_article(json_string_value(t)) != NULL ? 0 :
		    fail(w, "unknown type \"%s\"", json_string_value(t));
	if (!json_is_array(t) || json_array_size(t) == 0)
		return fail(w, "must be a type name or an array of them");
	json_array_foreach(t, i, x) {
		if (!json_is_string(x))
			return fail(w, "must be a type name or an array of them");
		if (type_article(json_string_value(x)) == NULL)
			return fail(w, "unknown type \"%s\"", json_string_value(x));
		for (j = 0; j < i; j++)
			if ((y = json_array_get(t, j)) != NULL && json_equal(x, y))
				return fail(w, "names \"%s\" twice", json_string_value(x));
	}
	return 0;
}

static int
valid_properties(struct walk *w, const json_t *p, int depth)
{
	const char	*key;
	json_t		*sub;
	size_t		 old;

	if (!json_is_object(p))
		return fail(w, "must be an object of schemas");
	json_object_foreach(unconst(p), key, sub) {
		old = path_push(w, key, 0);
		if (valid(w, sub, depth + 1) < 0)
			return -1;
		path_pop(w, old);
	}
	return 0;
}

/* The value v of keyword k is of the form it must have. */
static int
valid_keyword(struct walk *w, enum kw_form form, const json_t *v, int depth)
{
	json_t	*x;
	size_t	 i;

	switch (form) {
	case KW_TYPE:
		return valid_type(w, v);
	case KW_PROPERTIES:
		return valid_properties(w, v, depth);
	case KW_REQUIRED:
		if (!json_is_array(v))
			return fail(w, "must be an array of property names");
		json_array_foreach(v, i, x)
			if (!json_is_string(x))
				return fail(w, "must be an array of property names");
		return 0;
	case KW_BOOLEAN:
		return json_is_boolean(v) ? 0 :
		    fail(w, "must be true or false (a schema there is not supported)");
	case KW_ENUM:
		return json_is_array(v) && json_array_size(v) > 0 ? 0 :
		    fail(w, "must be a non-empty array");
	case KW_COUNT:
		return integral(v) && json_number_value(v) >= 0 ? 0 :
		    fail(w, "must be a whole number, 0 or more");
	case KW_NUMBER:
		return json_is_number(v) ? 0 : fail(w, "must be a number");
	case KW_SCHEMA:
		return valid(w, v, depth + 1);
	case KW_STRING:
		return json_is_string(v) ? 0 : fail(w, "must be a string");
	case KW_ARRAY:
		return json_is_array(v) ? 0 : fail(w, "must be an array");
	case KW_ANY:
		break;
	}
	return 0;
}

/* s is a schema describing a value depth levels down. */
static int
valid(struct walk *w, const json_t *s, int depth)
{
	const char	*key;
	json_t		*v;
	size_t		 i, old;

	if (json_is_boolean(s))
		return 0;
	if (!json_is_object(s))
		return fail(w, "must be a schema (an object, or true or false)");
	if (depth > SCHEMA_DEPTH_MAX)
		return fail(w, "is nested too deeply (at most %d levels)", SCHEMA_DEPTH_MAX);
	json_object_foreach(unconst(s), key, v) {
		for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
			if (strcmp(key, keywords[i].name) == 0)
				break;
		if (i == sizeof(keywords) / sizeof(keywords[0]))
			return fail(w, "unknown keyword \"%s\"", key);
		old = path_push(w, key, 0);
		if (valid_keyword(w, keywords[i].form, v, depth) < 0)
			return -1;
		path_pop(w, old);
	}
	return 0;
}

int
schema_valid(const json_t *schema, char *err, size_t errlen)
{
	struct walk	 w = { .cut = SIZE_MAX, .err = err, .errlen = errlen };

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	return valid(&w, schema, 0);
}
