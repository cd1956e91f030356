/* router.c: matching a method and path against the static route table. */
#include "config.h"

#include <string.h>
#include <stddef.h>
#include <stdio.h>

#include "core/arena.h"
#include "core/json.h"
#include "fcgi-app/router.h"

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
url_decode(struct sb_arena *a, const char *s, size_t len, int plus_is_space)
{
	char	*out = arena_alloc(a, len + 1), *o = out;
	size_t	 i;
	int	 hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			if (i + 2 >= len || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
				return NULL;
			*o = (char)(hi * 16 + lo);
			if (*o == '\0' || (!plus_is_space && *o == '/'))
				return NULL;
			o++;
			i += 2;
		} else if (s[i] == '+' && plus_is_space)
			*o++ = ' ';
		else
			*o++ = s[i];
	}
	*o = '\0';
	/* Names, slugs and ids are text: bytes that are not UTF-8 are refused here, once,
	 * not by the database deep in a handler. */
	if (!utf8_valid(out, (size_t)(o - out)))
		return NULL;
	return out;
}

/* Does pattern match path?  Fills names/values for {param} segments. */
static int
pattern_match(const char *pattern, const char *path, struct sb_arena *a,
    struct route_match *m, int *bad)
{
	const char	*p = pattern, *s = path, *pe, *se;
	size_t		 n = 0;

	while (*p != '\0' && *s != '\0') {
		if (*p != '/' || *s != '/')
			return 0;
		p++;
		s++;
		pe = strchr(p, '/');
		se = strchr(s, '/');
		if (pe == NULL)
			pe = p + strlen(p);
		if (se == NULL)
			se = s + strlen(s);
		if (*p == '{') {
			if (se == s || n == ROUTE_MAX_PARAMS)
				return 0;	/* empty segments never match a parameter */
			if (a != NULL) {
				m->names[n] = arena_strndup(a, p + 1, (size_t)(pe - p - 2));
				m->values[n] = url_decode(a, s, (size_t)(se - s), 0);
				/* A dot segment is not a name: the web server matched its
				 * route on the path with it resolved (/runs/./stream is
				 * /runs/stream to Caddy), so the two would disagree. */
				if (m->values[n] == NULL || strcmp(m->values[n], ".") == 0 ||
				    strcmp(m->values[n], "..") == 0) {
					*bad = 1;
					return 0;
				}
			}
			n++;
		} else if (pe - p != se - s || memcmp(p, s, (size_t)(pe - p)) != 0)
			return 0;
		p = pe;
		s = se;
	}
	if (*p != '\0' || *s != '\0')
		return 0;
	m->nparams = n;
	return 1;
}

static void
allow_add(char *allow, size_t len, const char *method)
{
	size_t		 used = strlen(allow), n = strlen(method);
	const char	*p;

	/* Exact tokens only: "GET" must not hide behind "GETX". */
	for (p = allow; (p = strstr(p, method)) != NULL; p += n)
		if ((p == allow || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
			return;
	snprintf(allow + used, len - used, "%s%s", used ? ", " : "", method);
}

enum route_result
router_match(const struct route *table, size_t n, const char *method, const char *path,
    struct sb_arena *a, struct route_match *m)
{
	const char	*want = strcmp(method, "HEAD") == 0 ? "GET" : method;
	size_t		 i, len;
	int		 path_known = 0, bad = 0;
	char		*canon;

	memset(m, 0, sizeof(*m));
	m->index = -1;
	if (path[0] != '/')
		return ROUTE_NOT_FOUND;
	for (i = 0; i < n; i++) {
		struct route_match	 tmp;
		int			 same = strcmp(table[i].method, want) == 0 ||
					    strcmp(table[i].method, method) == 0;

		memset(&tmp, 0, sizeof(tmp));
		if (!pattern_match(table[i].pattern, path, same ? a : NULL, &tmp, &bad)) {
			if (bad)
				return ROUTE_BAD_PATH;
			continue;
		}
		path_known = 1;
		allow_add(m->allow, sizeof(m->allow), table[i].method);
		if (strcmp(table[i].method, "GET") == 0)
			allow_add(m->allow, sizeof(m->allow), "HEAD");
		if (same && m->index < 0) {
			memcpy(m->names, tmp.names, sizeof(m->names));
			memcpy(m->values, tmp.values, sizeof(m->values));
			m->nparams = tmp.nparams;
			m->index = (int)i;
		}
	}
	if (m->index >= 0)
		return ROUTE_FOUND;
	if (path_known) {
		allow_add(m->allow, sizeof(m->allow), "OPTIONS");
		return strcmp(method, "OPTIONS") == 0 ? ROUTE_OPTIONS : ROUTE_METHOD_NOT_ALLOWED;
	}
	/* Canonical paths have no trailing slash: redirect if the bare path exists. */
	len = strlen(path);
	if (len > 1 && path[len - 1] == '/' && a != NULL) {
		struct route_match tmp;

		canon = arena_strndup(a, path, len - 1);
		if (router_match(table, n, method, canon, NULL, &tmp) != ROUTE_NOT_FOUND) {
			m->location = canon;
			return ROUTE_REDIRECT;
		}
	}
	return ROUTE_NOT_FOUND;
}
