/* test_router.c: route matching, parameters, 404/405/OPTIONS/redirects, url_decode. */
#include "config.h"

#include <string.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/err.h"
#include "fcgi-app/appmetrics.h"
#include "fcgi-app/request.h"
#include "fcgi-app/router.h"
#include "tests/unit/unit.h"

static enum sb_err
h_dummy(struct sb_req *req)
{
	(void)req;
	return SB_OK;
}

/* A table of its own, so these tests do not change with the real one. */
static const struct route table[] = {
	{ "GET",	"/items",			h_dummy, 0, 0 },	/* 0 */
	{ "POST",	"/items",			h_dummy, 0, 0 },	/* 1 */
	{ "GET",	"/items/{id}",			h_dummy, 0, 0 },	/* 2 */
	{ "DELETE",	"/items/{id}",			h_dummy, 0, 0 },	/* 3 */
	{ "GET",	"/items/{id}/tags/{tag}",	h_dummy, 0, 0 },	/* 4 */
	{ "PUT",	"/only-put",			h_dummy, 0, 0 },	/* 5 */
	{ "GET",	"/a/b/c",			h_dummy, 0, 0 },	/* 6 */
};
static const size_t ntable = sizeof(table) / sizeof(table[0]);

static struct sb_arena *arena;

static int
router_init(void)
{
	arena = arena_new(4096);
	return 0;
}

static int
router_clean(void)
{
	arena_free(arena);
	arena = NULL;
	return 0;
}

static enum route_result
match(const char *method, const char *path, struct route_match *m)
{
	return router_match(table, ntable, method, path, arena, m);
}

/* Is method one of the comma-separated tokens of allow? */
static int
allow_has(const char *allow, const char *method)
{
	size_t		 n = strlen(method);
	const char	*p = allow;

	while ((p = strstr(p, method)) != NULL) {
		if ((p == allow || p[-1] == ' ') && (p[n] == '\0' || p[n] == ','))
			return 1;
		p += n;
	}
	return 0;
}

static void
test_literal(void)
{
	struct route_match m;

	UNIT_ASSERT_INT(match("GET", "/items", &m), ROUTE_FOUND);
	UNIT_ASSERT_INT(m.index, 0);
	UNIT_ASSERT_INT(m.nparams, 0);
	UNIT_ASSERT_INT(match("POST", "/items", &m), ROUTE_FOUND);
	UNIT_ASSERT_INT(m.index, 1);
	UNIT_ASSERT_INT(match("GET", "/a/b/c", &m), ROUTE_FOUND);
	UNIT_ASSERT_INT(m.index, 6);
	UNIT_ASSERT_INT(match("GET", "/a/b", &m), ROUTE_NOT_FOUND);
	UNIT_ASSERT_INT(match("GET", "/a/b/c/d", &m), ROUTE_NOT_FOUND);
	UNIT_ASSERT_INT(match("GET", "/a/b/cd", &m), ROUTE_NOT_FOUND);
	UNIT_ASSERT_INT(match("GET", "/Items", &m), ROUTE_NOT_FOUND);	/* case matters */
	arena_reset(arena);
}

static void
test_params(void)
{
	struct route_match m;

	UNIT_ASSERT_INT(match("GET", "/items/abc", &m), ROUTE_FOUND);
	UNIT_ASSERT_INT(m.index, 2);
	UNIT_ASSERT_INT(m.nparams, 1);
	UNIT_ASSERT_STR(m.names[0], "id");
	UNIT_ASSERT_STR(m.values[0], "abc");

	UNIT_ASSERT_INT(match("DELETE", "/items/a%20b", &m), ROUTE_FOUND);
	UNIT_ASSERT_INT(m.index, 3);
	UNIT_ASSERT_STR(m.values[0], "a b");

	UNIT_ASSERT_INT(match("GET", "/items/7/tags/x%41+y", &m), ROUTE_FOUND);
	UNIT_ASSERT_INT(m.index, 4);
	UNIT_ASSERT_INT(m.nparams, 2);
	UNIT_ASSERT_STR(m.names[0], "id");
	UNIT_ASSERT_STR(m.values[0], "7");
	UNIT_ASSERT_STR(m.names[1], "tag");
	UNIT_ASSERT_STR(m.values[1], "xA+y");	/* '+' is a space only in queries */
	arena_reset(arena);
}

static void
test_bad_escapes(void)
{
	struct route_match m;

	UNIT_ASSERT_INT(match("GET", "/items/a%2Fb", &m), ROUTE_BAD_PATH);
	UNIT_ASSERT_INT(match("GET", "/items/a%2fb", &m), ROUTE_BAD_PATH);
	UNIT_ASSERT_INT(match("GET", "/items/a%00b", &m), ROUTE_BAD_PATH);
	UNIT_ASSERT_INT(match("GET", "/items/%zz", &m), ROUTE_BAD_PATH);
	UNIT_ASSERT_INT(match("GET", "/items/%4", &m), ROUTE_BAD_PATH);
	UNIT_ASSERT_INT(match("GET", "/items/%", &m), ROUTE_BAD_PATH);
	UNIT_ASSERT_INT(match("DELETE", "/items/%2F", &m), ROUTE_BAD_PATH);
	UNIT_ASSERT_INT(match("GET", "/items/1/tags/%00", &m), ROUTE_BAD_PATH);
	/* Dot segments, which the web servers resolve before choosing a program. */
	UNIT_ASSERT_INT(match("GET", "/items/.", &m), ROUTE_BAD_PATH);
	UNIT_ASSERT_INT(match("GET", "/items/..", &m), ROUTE_BAD_PATH);
	UNIT_ASSERT_INT(match("GET", "/items/%2e%2E", &m), ROUTE_BAD_PATH);
	UNIT_ASSERT_INT(match("GET", "/items/...", &m), ROUTE_FOUND);
	arena_reset(arena);
}

static void
test_not_found(void)
{
	struct route_match m;

	UNIT_ASSERT_INT(match("GET", "/nope", &m), ROUTE_NOT_FOUND);
	UNIT_ASSERT_INT(m.index, -1);
	UNIT_ASSERT_INT(match("GET", "/items/1/other", &m), ROUTE_NOT_FOUND);
	UNIT_ASSERT_INT(match("GET", "/", &m), ROUTE_NOT_FOUND);
	UNIT_ASSERT_INT(match("GET", "", &m), ROUTE_NOT_FOUND);
	UNIT_ASSERT_INT(match("GET", "items", &m), ROUTE_NOT_FOUND);
	UNIT_ASSERT_INT(match("OPTIONS", "/nope", &m), ROUTE_NOT_FOUND);
	UNIT_ASSERT_INT(match("GET", "/nope/", &m), ROUTE_NOT_FOUND);
	arena_reset(arena);
}

static void
test_method_not_allowed(void)
{
	struct route_match m;

	UNIT_ASSERT_INT(match("PATCH", "/items", &m), ROUTE_METHOD_NOT_ALLOWED);
	UNIT_ASSERT_INT(m.index, -1);
	CU_ASSERT(allow_has(m.allow, "GET"));
	CU_ASSERT(allow_has(m.allow, "HEAD"));
	CU_ASSERT(allow_has(m.allow, "POST"));
	CU_ASSERT(allow_has(m.allow, "OPTIONS"));
	CU_ASSERT(!allow_has(m.allow, "DELETE"));
	CU_ASSERT(!allow_has(m.allow, "PATCH"));

	UNIT_ASSERT_INT(match("POST", "/items/9", &m), ROUTE_METHOD_NOT_ALLOWED);
	CU_ASSERT(allow_has(m.allow, "GET"));
	CU_ASSERT(allow_has(m.allow, "HEAD"));
	CU_ASSERT(allow_has(m.allow, "DELETE"));
	CU_ASSERT(!allow_has(m.allow, "POST"));

	/* No GET route: no HEAD either. */
	UNIT_ASSERT_INT(match("GET", "/only-put", &m), ROUTE_METHOD_NOT_ALLOWED);
	UNIT_ASSERT_STR(m.allow, "PUT, OPTIONS");
	UNIT_ASSERT_INT(match("HEAD", "/only-put", &m), ROUTE_METHOD_NOT_ALLOWED);
	CU_ASSERT(!allow_has(m.allow, "HEAD"));
	arena_reset(arena);
}

static void
test_head_and_options(void)
{
	struct route_match m;

	UNIT_ASSERT_INT(match("HEAD", "/items/5", &m), ROUTE_FOUND);
	UNIT_ASSERT_INT(m.index, 2);
	UNIT_ASSERT_STR(m.values[0], "5");
	UNIT_ASSERT_INT(match("HEAD", "/items", &m), ROUTE_FOUND);
	UNIT_ASSERT_INT(m.index, 0);

	UNIT_ASSERT_INT(match("OPTIONS", "/items", &m), ROUTE_OPTIONS);
	CU_ASSERT(allow_has(m.allow, "GET"));
	CU_ASSERT(allow_has(m.allow, "HEAD"));
	CU_ASSERT(allow_has(m.allow, "POST"));
	CU_ASSERT(allow_has(m.allow, "OPTIONS"));
	UNIT_ASSERT_INT(match("OPTIONS", "/items/3/tags/t", &m), ROUTE_OPTIONS);
	UNIT_ASSERT_STR(m.allow, "GET, HEAD, OPTIONS");
	arena_reset(arena);
}

static void
test_trailing_slash(void)
{
	struct route_match m;

	UNIT_ASSERT_INT(match("GET", "/items/", &m), ROUTE_REDIRECT);
	UNIT_ASSERT_STR(m.location, "/items");
	UNIT_ASSERT_INT(match("GET", "/items/42/", &m), ROUTE_REDIRECT);
	UNIT_ASSERT_STR(m.location, "/items/42");
	UNIT_ASSERT_INT(match("GET", "/a/b/c/", &m), ROUTE_REDIRECT);
	UNIT_ASSERT_STR(m.location, "/a/b/c");
	/* One slash at most: the canonical path is not two redirects away. */
	UNIT_ASSERT_INT(match("GET", "/a/b/c//", &m), ROUTE_NOT_FOUND);
	arena_reset(arena);
}

static void
test_empty_segment(void)
{
	struct route_match m;

	UNIT_ASSERT_INT(match("GET", "/items//tags/x", &m), ROUTE_NOT_FOUND);
	UNIT_ASSERT_INT(match("GET", "/items/1/tags//", &m), ROUTE_NOT_FOUND);
	UNIT_ASSERT_INT(match("DELETE", "/items//", &m), ROUTE_NOT_FOUND);
	UNIT_ASSERT_INT(match("GET", "//", &m), ROUTE_NOT_FOUND);
	UNIT_ASSERT_INT(match("GET", "//items", &m), ROUTE_NOT_FOUND);
	UNIT_ASSERT_INT(match("GET", "/a//b/c", &m), ROUTE_NOT_FOUND);
	arena_reset(arena);
}

static void
test_url_decode(void)
{
	UNIT_ASSERT_STR(url_decode(arena, "a+b%20c", 7, 1), "a b c");
	UNIT_ASSERT_STR(url_decode(arena, "a+b%20c", 7, 0), "a+b c");
	UNIT_ASSERT_STR(url_decode(arena, "%41%4a%4A", 9, 0), "AJJ");
	UNIT_ASSERT_STR(url_decode(arena, "", 0, 0), "");
	UNIT_ASSERT_STR(url_decode(arena, "abcdef", 3, 0), "abc");	/* only len bytes */
	UNIT_ASSERT_STR(url_decode(arena, "%e2%82%ac", 9, 1), "\xe2\x82\xac");
	/* '/' is refused in a path segment, allowed in a query value. */
	CU_ASSERT_PTR_NULL(url_decode(arena, "a%2Fb", 5, 0));
	UNIT_ASSERT_STR(url_decode(arena, "a%2Fb", 5, 1), "a/b");
	CU_ASSERT_PTR_NULL(url_decode(arena, "%00", 3, 0));
	CU_ASSERT_PTR_NULL(url_decode(arena, "%00", 3, 1));
	CU_ASSERT_PTR_NULL(url_decode(arena, "%G0", 3, 1));
	CU_ASSERT_PTR_NULL(url_decode(arena, "%0G", 3, 1));
	CU_ASSERT_PTR_NULL(url_decode(arena, "abc%", 4, 1));
	CU_ASSERT_PTR_NULL(url_decode(arena, "abc%4", 5, 1));
	/* An escape cut by len is malformed even if the bytes after it exist. */
	CU_ASSERT_PTR_NULL(url_decode(arena, "ab%41", 4, 1));
	arena_reset(arena);
}

/* The real table: no duplicates, absolute patterns, and every route reachable. */
static void
test_real_table(void)
{
	struct route_match	 m;
	char			 path[256], *o;
	const char		*p;
	size_t			 i, j, dups = 0, relative = 0, unreachable = 0, nohandler = 0;

	CU_ASSERT(nroutes > 0);
	CU_ASSERT(nroutes <= METRICS_MAX_ROUTES);
	for (i = 0; i < nroutes; i++) {
		if (routes[i].pattern[0] != '/')
			relative++;
		if (routes[i].handler == NULL)
			nohandler++;
		for (j = i + 1; j < nroutes; j++)
			if (strcmp(routes[i].method, routes[j].method) == 0 &&
			    strcmp(routes[i].pattern, routes[j].pattern) == 0)
				dups++;
		/* A concrete path for the pattern: each {param} becomes "x1". */
		for (p = routes[i].pattern, o = path; *p != '\0' && o < path + sizeof(path) - 3; p++) {
			if (*p == '{') {
				while (*p != '\0' && *p != '}')
					p++;
				*o++ = 'x';
				*o++ = '1';
				if (*p == '\0')
					break;
			} else
				*o++ = *p;
		}
		*o = '\0';
		if (router_match(routes, nroutes, routes[i].method, path, arena, &m) != ROUTE_FOUND ||
		    m.index != (int)i)
			unreachable++;
	}
	UNIT_ASSERT_INT(dups, 0);
	UNIT_ASSERT_INT(relative, 0);
	UNIT_ASSERT_INT(nohandler, 0);
	UNIT_ASSERT_INT(unreachable, 0);
	arena_reset(arena);
}

/* A method whose name contains another's must not hide it from Allow. */
static void
test_allow_exact_tokens(void)
{
	static const struct route prefixed[] = {
		{ "GETX", "/p", NULL, 0, 0 },
		{ "GET", "/p", NULL, 0, 0 },
	};
	struct route_match	 m;
	struct sb_arena		*a = arena_new(4096);

	UNIT_ASSERT_INT(router_match(prefixed, 2, "DELETE", "/p", a, &m), ROUTE_METHOD_NOT_ALLOWED);
	UNIT_ASSERT_STR(m.allow, "GETX, GET, HEAD, OPTIONS");
	arena_free(a);
}

void
suite_router(void)
{
	CU_pSuite s = unit_suite("router", router_init, router_clean);

	unit_test(s, "literal routes", test_literal);
	unit_test(s, "parameters are decoded", test_params);
	unit_test(s, "%2F, %00 and malformed escapes are a bad path", test_bad_escapes);
	unit_test(s, "unknown paths", test_not_found);
	unit_test(s, "405 with Allow, HEAD only with GET", test_method_not_allowed);
	unit_test(s, "HEAD matches GET; OPTIONS lists methods", test_head_and_options);
	unit_test(s, "trailing slash redirects to the canonical path", test_trailing_slash);
	unit_test(s, "empty segments never match a parameter", test_empty_segment);
	unit_test(s, "url_decode", test_url_decode);
	unit_test(s, "the real route table", test_real_table);
	unit_test(s, "Allow lists exact method tokens", test_allow_exact_tokens);
}
