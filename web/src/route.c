/* route.c: the route table: which page a location hash shows, and its query. */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "core/arena.h"
#include "web/src/app.h"
#include "web/src/wjson.h"

/* Every page, by the first segment of its hash ("#/agents?q=x": agents); "" is home. */
static const struct {
	const char		*segment;
	const struct page	*page;
} routes[] = {
	{ "",		&page_home },
	{ "login",	&page_login },
	{ "agents",	&page_agents },
	{ "chat",	&page_chat },
	{ "runs",	&page_run },
	{ "inbox",	&page_inbox },
	{ "kb",		&page_kb },
	{ "keys",	&page_keys },
	{ "audit",	&page_audit },
};

const struct page *
route_find(const char *hash, const char **sub, size_t *nsub, const char **query)
{
	const char	*p = hash, *q, *slash;
	size_t		 n, i;

	if (*p == '#')
		p++;
	if (*p == '/')
		p++;
	q = strchr(p, '?');
	n = q != NULL ? (size_t)(q - p) : strlen(p);
	if (n > 0 && p[n - 1] == '/')
		n--;
	*query = q != NULL ? q + 1 : "";
	*sub = "";
	*nsub = 0;
	if ((slash = memchr(p, '/', n)) != NULL) {
		*sub = slash + 1;
		*nsub = n - (size_t)(slash + 1 - p);
		n = (size_t)(slash - p);
	}
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strlen(routes[i].segment) == n && strncmp(routes[i].segment, p, n) == 0)
			return routes[i].page;
	return &page_missing;
}

void
route_reset_all(struct app *app)
{
	size_t	 i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (routes[i].page->reset != NULL)
			routes[i].page->reset(app);
}

/* Decodes s[0..n) (%XX and '+') into the arena; a NUL decoded is dropped. */
static char *
decode(struct sb_arena *a, const char *s, size_t n)
{
	char	*out = arena_alloc(a, n + 1), *o = out;
	size_t	 i;
	int	 hi, lo;

	for (i = 0; i < n; i++) {
		if (s[i] == '+')
			*o++ = ' ';
		else if (s[i] == '%' && i + 2 < n &&
		    (hi = wj_hexdigit((unsigned char)s[i + 1])) >= 0 &&
		    (lo = wj_hexdigit((unsigned char)s[i + 2])) >= 0) {
			if (hi != 0 || lo != 0)
				*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
}

const char *
route_param(struct app *app, const char *name)
{
	const char	*p = app->route.query, *amp, *eq;
	size_t		 n = strlen(name), len;

	while (p != NULL && *p != '\0') {
		amp = strchr(p, '&');
		len = amp != NULL ? (size_t)(amp - p) : strlen(p);
		eq = memchr(p, '=', len);
		if (eq != NULL && (size_t)(eq - p) == n && strncmp(p, name, n) == 0)
			return decode(app->msg, eq + 1, len - n - 1);
		p = amp != NULL ? amp + 1 : NULL;
	}
	return "";
}

char *
route_encode(struct sb_arena *a, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			*out = arena_alloc(a, strlen(s) * 3 + 1), *o = out;
	const unsigned char	*u;

	for (u = (const unsigned char *)s; *u != '\0'; u++) {
		if (isalnum(*u) || *u == '-' || *u == '_' || *u == '.' || *u == '~')
			*o++ = (char)*u;
		else {
			*o++ = '%';
			*o++ = hex[*u >> 4];
			*o++ = hex[*u & 15];
		}
	}
	*o = '\0';
	return out;
}
