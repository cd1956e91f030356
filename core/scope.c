/* scope.c: roles and the scopes they grant: the one table of who may do what. */
#include "config.h"

#include <string.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include "core/scope.h"

static const struct {
	unsigned	 bit;
	const char	*name;
} scopes[] = {
	{ SCOPE_RUNS_READ, "runs:read" },
	{ SCOPE_RUNS_WRITE, "runs:write" },
	{ SCOPE_AGENTS_READ, "agents:read" },
	{ SCOPE_AGENTS_ADMIN, "agents:admin" },
	{ SCOPE_KEYS_ADMIN, "keys:admin" },
	{ SCOPE_USERS_ADMIN, "users:admin" },
	{ SCOPE_USAGE_READ, "usage:read" },
	{ SCOPE_AUDIT_READ, "audit:read" },
	{ SCOPE_ORG_ADMIN, "org:admin" },
	{ SCOPE_INBOX_READ, "inbox:read" },
	{ SCOPE_INBOX_WRITE, "inbox:write" },
	{ SCOPE_KB_READ, "kb:read" },
	{ SCOPE_KB_WRITE, "kb:write" },
};
#define NSCOPES (sizeof(scopes) / sizeof(scopes[0]))

#define VIEWER	(SCOPE_RUNS_READ | SCOPE_AGENTS_READ | SCOPE_USAGE_READ | SCOPE_INBOX_READ | \
	SCOPE_KB_READ)
#define MEMBER	(VIEWER | SCOPE_RUNS_WRITE | SCOPE_INBOX_WRITE | SCOPE_KB_WRITE)
#define ADMIN	(MEMBER | SCOPE_AGENTS_ADMIN | SCOPE_KEYS_ADMIN | SCOPE_USERS_ADMIN | SCOPE_AUDIT_READ)
#define OWNER	(ADMIN | SCOPE_ORG_ADMIN)

/* Documented in docs/api.md#roles-and-scopes; keep the two in step. */
static const struct {
	const char	*name;
	unsigned	 scopes;
} roles[] = {
	[ROLE_VIEWER] = { "viewer", VIEWER },
	[ROLE_MEMBER] = { "member", MEMBER },
	[ROLE_ADMIN] = { "admin", ADMIN },
	[ROLE_OWNER] = { "owner", OWNER },
};

int
role_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strcmp(s, roles[i].name) == 0)
			return (int)i;
	return -1;
}

const char *
role_name(enum sb_role r)
{
	return roles[r].name;
}

unsigned
role_scopes(enum sb_role r)
{
	return roles[r].scopes;
}

unsigned
scope_bit(const char *name)
{
	size_t i;

	for (i = 0; i < NSCOPES; i++)
		if (strcmp(scopes[i].name, name) == 0)
			return scopes[i].bit;
	return 0;
}

const char *
scope_name(unsigned bit)
{
	size_t i;

	for (i = 0; i < NSCOPES; i++)
		if (scopes[i].bit == bit)
			return scopes[i].name;
	return NULL;
}

int
scopes_parse(const char *list, unsigned *out, char *bad, size_t badlen)
{
	char		 name[64];
	const char	*p = list, *e;
	unsigned	 bit;
	size_t		 n;

	*out = 0;
	while (*p != '\0') {
		if ((e = strchr(p, ',')) == NULL)
			e = p + strlen(p);
		n = (size_t)(e - p);
		snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n : sizeof(name) - 1), p);
		if ((bit = scope_bit(name)) == 0) {
			snprintf(bad, badlen, "%s", name);
			return -1;
		}
		*out |= bit;
		p = *e ? e + 1 : e;
	}
	return 0;
}

json_t *
scopes_json(unsigned bits)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < NSCOPES; i++)
		if (bits & scopes[i].bit)
			json_array_append_new(a, json_string(scopes[i].name));
	return a;
}

void
scopes_pg_array(unsigned bits, char *buf, size_t len)
{
	size_t	 i, n = 0;

	n += (size_t)snprintf(buf + n, len - n, "{");
	for (i = 0; i < NSCOPES && n < len; i++)
		if (bits & scopes[i].bit)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n > 1 ? "," : "",
			    scopes[i].name);
	if (n < len)
		snprintf(buf + n, len - n, "}");
}

unsigned
scopes_from_pg_array(const char *s)
{
	char		 name[64];
	const char	*p, *e;
	unsigned	 bits = 0;
	size_t		 n;

	for (p = s; *p == '{' || *p == '"'; p++)
		;
	while (*p != '\0' && *p != '}') {
		for (e = p; *e != '\0' && *e != ',' && *e != '}' && *e != '"'; e++)
			;
		n = (size_t)(e - p);
		if (n < sizeof(name)) {
			memcpy(name, p, n);
			name[n] = '\0';
			bits |= scope_bit(name);
		}
		for (p = e; *p == ',' || *p == '"'; p++)
			;
	}
	return bits;
}
