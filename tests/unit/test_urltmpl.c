/* test_urltmpl.c: URL templates of configured tools (core/urltmpl.c): which templates
 * are taken, and that no value a model gives changes the host, the path's structure
 * or the parameters. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/urltmpl.h"
#include "tests/unit/unit.h"

#define SCHEMA "{\"type\": \"object\", \"properties\": {" \
	"\"id\": {\"type\": \"string\"}, \"q\": {\"type\": \"string\"}, " \
	"\"n\": {\"type\": \"integer\"}, \"x\": {\"type\": \"number\"}, " \
	"\"flag\": {\"type\": \"boolean\"}, \"k\": {\"type\": [\"string\", \"integer\"]}, " \
	"\"obj\": {\"type\": \"object\"}, \"any\": {}}, \"required\": [\"id\", \"k\"]}"

static json_t *
schema(void)
{
	json_t *s = json_loads(SCHEMA, 0, NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	return s;
}

static void
test_urltmpl_check(void)
{
	static const struct {
		const char	*tmpl;
		const char	*err;	/* NULL: taken; else a part of the error */
	} cases[] = {
		{ "https://crm.example.com/api/customers/{id}?q={q}&n={n}", NULL },
		{ "http://127.0.0.1:8080/a/{id}/b/{k}.json", NULL },
		{ "https://h/x{id}y?fixed=1&flag={flag}&x={x}", NULL },
		{ "https://h/?{k}={q}", NULL },
		{ "https://h/{id}?q=a{k}b", NULL },
		{ "https://h", NULL },
		{ "ftp://h/{id}", "not an http:// or https:// URL" },
		{ "HTTPS://h/", "not an http:// or https:// URL" },
		{ "https://{id}.example.com/", "the host (and port) must be written out" },
		{ "https://h:{n}/", "the host (and port) must be written out" },
		{ "https://user:pw@h/", "the host (and port) must be written out" },
		{ "https:///x", "the host (and port) must be written out" },
		{ "https://h/{q}", "an optional property may only be the whole value" },
		{ "https://h/x?a=b{q}", "an optional property may only be the whole value" },
		{ "https://h/x?{q}", "an optional property may only be the whole value" },
		{ "https://h/x?a={q}{n}", "an optional property may only be the whole value" },
		{ "https://h/{nope}", "placeholder {nope}: not a property" },
		{ "https://h/{obj}", "placeholder {obj}: not a property" },
		{ "https://h/{any}", "placeholder {any}: not a property" },
		{ "https://h/{id", "a placeholder is {name}" },
		{ "https://h/{Id}", "a placeholder is {name}" },
		{ "https://h/{9}", "a placeholder is {name}" },
		{ "https://h/{}", "a placeholder is {name}" },
		{ "https://h/{secret:x}", "a placeholder is {name}" },
		{ "https://h/}{id}", "a \"}\" that closes no placeholder" },
		{ "https://h/x#frag", "no blank, control" },
		{ "https://h/a b", "no blank, control" },
		{ "https://h/a\r\n", "no blank, control" },
		{ "https://h/\xc3\xa9", "no blank, control" },
		{ "https://h/../{id}", "\".\" or \"..\" segment" },
		{ "https://h/a/./{id}", "\".\" or \"..\" segment" },
	};
	json_t	*s = schema();
	char	 err[300], *big;
	size_t	 i;
	int	 rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		rc = urltmpl_check(cases[i].tmpl, s, err, sizeof(err));
		UNIT_ASSERT_INT(rc, cases[i].err == NULL ? 0 : -1);
		if (cases[i].err != NULL)
			UNIT_ASSERT_CONTAINS(err, cases[i].err);
		else
			UNIT_ASSERT_STR(err, "");
	}
	big = malloc(URLTMPL_MAX + 20);
	strcpy(big, "https://h/");
	memset(big + 10, 'a', URLTMPL_MAX);
	big[URLTMPL_MAX + 10] = '\0';
	UNIT_ASSERT_INT(urltmpl_check(big, s, err, sizeof(err)), -1);
	UNIT_ASSERT_CONTAINS(err, "longer than 8192 bytes");
	big[URLTMPL_MAX] = '\0';
	UNIT_ASSERT_INT(urltmpl_check(big, s, err, sizeof(err)), 0);
	free(big);
	json_decref(s);
}

/* Expands tmpl with args (JSON text): the URL, or "ERR: " and the error. */
static char *
expand(const char *tmpl, const char *args)
{
	json_t	*s = schema(), *a = json_loads(args, JSON_ALLOW_NUL, NULL);
	char	 err[300], *url, *out;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL_FATAL(urltmpl_check(tmpl, s, err, sizeof(err)), 0);
	if ((url = urltmpl_expand(tmpl, a, err, sizeof(err))) == NULL) {
		out = malloc(strlen(err) + 6);
		strcpy(out, "ERR: ");
		strcat(out, err);
	} else
		out = url;
	json_decref(a);
	json_decref(s);
	return out;
}

#define EXPANDS(tmpl, args, want) do {				\
	char *got_ = expand((tmpl), (args));			\
	UNIT_ASSERT_STR(got_, (want));				\
	free(got_);						\
} while (0)

#define T	"https://crm.example.com/api/customers/{id}?q={q}&n={n}"

static void
test_urltmpl_expand(void)
{
	EXPANDS(T, "{\"id\": \"c-42\", \"k\": 1, \"q\": \"Ada Lovelace\", \"n\": 7}",
	    "https://crm.example.com/api/customers/c-42?q=Ada%20Lovelace&n=7");
	/* A missing optional argument drops its parameter; all of them, the '?'. */
	EXPANDS(T, "{\"id\": \"c\", \"k\": 1, \"n\": 7}", "https://crm.example.com/api/customers/c?n=7");
	EXPANDS(T, "{\"id\": \"c\", \"k\": 1, \"q\": \"z\"}", "https://crm.example.com/api/customers/c?q=z");
	EXPANDS(T, "{\"id\": \"c\", \"k\": 1}", "https://crm.example.com/api/customers/c");
	EXPANDS("https://h/a?fixed=1&q={q}", "{\"id\": \"c\", \"k\": 1}", "https://h/a?fixed=1");
	EXPANDS("https://h/a?", "{\"id\": \"c\", \"k\": 1}", "https://h/a?");
	/* Numbers and booleans as JSON writes them. */
	EXPANDS("https://h/{k}?x={x}&flag={flag}", "{\"id\": \"i\", \"k\": -12, \"x\": 1.5, \"flag\": true}",
	    "https://h/-12?x=1.5&flag=true");
	EXPANDS("https://h/{k}", "{\"id\": \"i\", \"k\": \"s\"}", "https://h/s");
	/* Hostile values stay inside their place. */
	EXPANDS(T, "{\"id\": \"../../admin\", \"k\": 1}",
	    "https://crm.example.com/api/customers/..%2F..%2Fadmin");
	EXPANDS(T, "{\"id\": \"a?b=c&d\", \"k\": 1, \"q\": \"x&n=1000&admin=true\"}",
	    "https://crm.example.com/api/customers/a%3Fb%3Dc%26d?q=x%26n%3D1000%26admin%3Dtrue");
	EXPANDS(T, "{\"id\": \"x#y\", \"k\": 1, \"q\": \"#\"}",
	    "https://crm.example.com/api/customers/x%23y?q=%23");
	EXPANDS(T, "{\"id\": \"@evil.example\", \"k\": 1}",
	    "https://crm.example.com/api/customers/%40evil.example");
	EXPANDS(T, "{\"id\": \"%00\", \"k\": 1, \"q\": \"a\\u0000b\"}",
	    "https://crm.example.com/api/customers/%2500?q=a%00b");
	EXPANDS(T, "{\"id\": \"a\\r\\nHost: evil\", \"k\": 1}",
	    "https://crm.example.com/api/customers/a%0D%0AHost%3A%20evil");
	EXPANDS(T, "{\"id\": \"//evil.example/x\", \"k\": 1}",
	    "https://crm.example.com/api/customers/%2F%2Fevil.example%2Fx");
	EXPANDS(T, "{\"id\": \"\\u00e9 \\\\ + ~-._\", \"k\": 1}",
	    "https://crm.example.com/api/customers/%C3%A9%20%5C%20%2B%20~-._");
	EXPANDS(T, "{\"id\": \"...\", \"k\": 1}", "https://crm.example.com/api/customers/...");
	EXPANDS("https://h/x{id}", "{\"id\": \"..\", \"k\": 1}", "https://h/x..");
	/* What would move up the path, or empty it, is refused. */
	EXPANDS(T, "{\"id\": \"..\", \"k\": 1}", "ERR: the path would have a \".\" or \"..\" segment");
	EXPANDS(T, "{\"id\": \".\", \"k\": 1}", "ERR: the path would have a \".\" or \"..\" segment");
	EXPANDS("https://h/{id}{k}", "{\"id\": \".\", \"k\": \".\"}",
	    "ERR: the path would have a \".\" or \"..\" segment");
	EXPANDS(T, "{\"id\": \"\", \"k\": 1}", "ERR: argument id is empty, and it is part of the path");
	EXPANDS(T, "{\"id\": \"c\", \"k\": 1, \"q\": \"\"}", "https://crm.example.com/api/customers/c?q=");
	/* Only strings, numbers and booleans; a required one missing. */
	EXPANDS(T, "{\"id\": [1], \"k\": 1}", "ERR: argument id is not a string, a number or a boolean");
	EXPANDS(T, "{\"id\": null, \"k\": 1}", "ERR: argument id is not a string, a number or a boolean");
	EXPANDS(T, "{\"k\": 1}", "ERR: argument id is missing, and it is part of the path");
	{
		char err[100];

		CU_ASSERT_PTR_NULL(urltmpl_expand(T, NULL, err, sizeof(err)));
		UNIT_ASSERT_STR(err, "the arguments are not an object");
	}
}

/* Very long values: refused whole beyond the bound, never cut. */
static void
test_urltmpl_long(void)
{
	json_t	*s = schema(), *a;
	char	*v = malloc(URLTMPL_MAX + 2), err[300], *url;

	memset(v, 'a', URLTMPL_MAX + 1);
	v[URLTMPL_MAX + 1] = '\0';
	a = json_pack("{s:s, s:i}", "id", v, "k", 1);
	CU_ASSERT_PTR_NULL(urltmpl_expand(T, a, err, sizeof(err)));
	UNIT_ASSERT_STR(err, "argument id is longer than 8192 bytes");
	json_decref(a);
	/* 3000 bytes that encode to 9000. */
	memset(v, '/', 3000);
	v[3000] = '\0';
	a = json_pack("{s:s, s:i}", "id", v, "k", 1);
	CU_ASSERT_PTR_NULL(urltmpl_expand(T, a, err, sizeof(err)));
	UNIT_ASSERT_STR(err, "the URL would be longer than 8192 bytes");
	json_decref(a);
	v[2000] = '\0';
	a = json_pack("{s:s, s:i}", "id", v, "k", 1);
	url = urltmpl_expand(T, a, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(url);
	UNIT_ASSERT_INT(url != NULL ? strlen(url) : 0, strlen("https://crm.example.com/api/customers/") + 6000);
	free(url);
	json_decref(a);
	free(v);
	json_decref(s);
}

static void
test_urltmpl_origin(void)
{
	static const struct {
		const char *url, *origin;
	} cases[] = {
		{ "HTTPS://Example.COM/x?y", "https://example.com:443" },
		{ "http://example.com", "http://example.com:80" },
		{ "http://127.0.0.1:8080/a", "http://127.0.0.1:8080" },
		{ "http://[::1]:9/", "http://[::1]:9" },
		{ "https://crm.example.com/api/customers/%40evil.example", "https://crm.example.com:443" },
		{ "ftp://example.com/", NULL },
		{ "not a url", NULL },
	};
	char	*o;
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		o = url_origin(cases[i].url);
		if (cases[i].origin == NULL) {
			CU_ASSERT_PTR_NULL(o);
		} else
			UNIT_ASSERT_STR(o, cases[i].origin);
		free(o);
	}
}

void
suite_urltmpl(void)
{
	CU_pSuite s = unit_suite("urltmpl", NULL, NULL);

	unit_test(s, "templates: the host written out, placeholders of the schema", test_urltmpl_check);
	unit_test(s, "values are encoded and stay in their place", test_urltmpl_expand);
	unit_test(s, "very long values are refused, not cut", test_urltmpl_long);
	unit_test(s, "a URL's origin", test_urltmpl_origin);
}
