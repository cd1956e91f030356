/* scope.h: roles and the scopes they grant: the one table of who may do what. */
#ifndef SB_CORE_SCOPE_H
#define SB_CORE_SCOPE_H

#include <stddef.h>
#include <jansson.h>

enum sb_role { ROLE_VIEWER, ROLE_MEMBER, ROLE_ADMIN, ROLE_OWNER };

/* Scopes are bits; roles map to sets of them (scope.c holds the one table). */
#define SCOPE_RUNS_READ		0x0001u
#define SCOPE_RUNS_WRITE	0x0002u
#define SCOPE_AGENTS_READ	0x0004u
#define SCOPE_AGENTS_ADMIN	0x0008u
#define SCOPE_KEYS_ADMIN	0x0010u
#define SCOPE_USERS_ADMIN	0x0020u
#define SCOPE_USAGE_READ	0x0040u
#define SCOPE_AUDIT_READ	0x0080u
#define SCOPE_ORG_ADMIN		0x0100u
#define SCOPE_INBOX_READ	0x0200u
#define SCOPE_INBOX_WRITE	0x0400u
#define SCOPE_KB_READ		0x0800u
#define SCOPE_KB_WRITE		0x1000u

int		 role_parse(const char *);		/* -1 if unknown */
const char	*role_name(enum sb_role);
unsigned	 role_scopes(enum sb_role);
/* One scope's bit (0 if unknown) and name (NULL if not exactly one known bit). */
unsigned	 scope_bit(const char *name);
const char	*scope_name(unsigned bit);
/* "a,b,c" into bits; -1 with the first unknown name copied to bad. */
int		 scopes_parse(const char *list, unsigned *out, char *bad, size_t badlen);
/* The names of the bits, as a new JSON array (caller decrefs). */
json_t		*scopes_json(unsigned);
/* Postgres text[] literal "{a,b}" of the bits, into buf. */
void		 scopes_pg_array(unsigned, char *buf, size_t len);
/* Parses a Postgres text[] value "{a,b}"; unknown names are ignored. */
unsigned	 scopes_from_pg_array(const char *);

#endif /* SB_CORE_SCOPE_H */
