/* test_scope.c: core/scope.c, roles and the scopes they grant, against docs/api.md's table. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <stddef.h>
#include <jansson.h>

#include "core/scope.h"
#include "tests/unit/unit.h"

static const char *const role_names[] = { "viewer", "member", "admin", "owner" };
#define NROLES (sizeof(role_names) / sizeof(role_names[0]))

/* Every scope bit the table knows, found by name through scope_name. */
static unsigned
all_bits(void)
{
	unsigned bits = 0, b;

	for (b = 1; b != 0; b <<= 1)
		if (scope_name(b) != NULL)
			bits |= b;
	return bits;
}

/* Each role grants everything the one below it does, and more. */
static void
test_roles_nest(void)
{
	size_t	 i;
	int	 r;

	for (i = 0; i < NROLES; i++) {
		r = role_parse(role_names[i]);
		CU_ASSERT_FATAL(r >= 0);
		UNIT_ASSERT_STR(role_name((enum sb_role)r), role_names[i]);
		if (i > 0) {
			unsigned lower = role_scopes((enum sb_role)role_parse(role_names[i - 1]));
			unsigned upper = role_scopes((enum sb_role)r);

			CU_ASSERT((lower & upper) == lower && lower != upper);
		}
	}
	CU_ASSERT(role_parse("Owner") < 0);
	CU_ASSERT(role_parse("") < 0);
	UNIT_ASSERT_INT(role_scopes((enum sb_role)role_parse("owner")), all_bits());
}

/* docs/api.md#roles-and-scopes is the table operators read: it must say what the code
 * grants, row by row, and list every scope. */
static void
test_docs_table(void)
{
	char	 path[512], line[512], name[64], *cell, *save;
	FILE	*f;
	unsigned seen = 0, bit;
	size_t	 col;
	int	 in_table = 0, rows = 0, wrong = 0, r;

	snprintf(path, sizeof(path), "%s/docs/api.md", SB_SRCDIR);
	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "| scope | viewer | member | admin | owner |", 43) == 0) {
			in_table = 1;
			continue;
		}
		if (!in_table || strncmp(line, "| ---", 5) == 0)
			continue;
		if (line[0] != '|')
			break;
		/* | `name` | yes | | ... */
		if (sscanf(line, "| `%63[^`]`", name) != 1) {
			wrong++;
			continue;
		}
		bit = scope_bit(name);
		wrong += bit == 0;
		seen |= bit;
		rows++;
		strtok_r(line, "|", &save);		/* the scope's own cell */
		for (col = 0; col < NROLES && (cell = strtok_r(NULL, "|", &save)) != NULL; col++) {
			r = role_parse(role_names[col]);
			wrong += (strstr(cell, "yes") != NULL) !=
			    ((role_scopes((enum sb_role)r) & bit) != 0);
		}
		wrong += col != NROLES;
	}
	fclose(f);
	UNIT_ASSERT_INT(wrong, 0);
	UNIT_ASSERT_INT(seen, all_bits());
	CU_ASSERT(rows > 0);
}

static void
test_parse_list(void)
{
	char		 bad[64], longname[200];
	unsigned	 bits;

	UNIT_ASSERT_INT(scopes_parse("runs:read,agents:read", &bits, bad, sizeof(bad)), 0);
	UNIT_ASSERT_INT(bits, scope_bit("runs:read") | scope_bit("agents:read"));
	UNIT_ASSERT_INT(scopes_parse("", &bits, bad, sizeof(bad)), 0);
	UNIT_ASSERT_INT(bits, 0);
	UNIT_ASSERT_INT(scopes_parse("runs:read,bogus", &bits, bad, sizeof(bad)), -1);
	UNIT_ASSERT_STR(bad, "bogus");
	UNIT_ASSERT_INT(scopes_parse("runs:read,,agents:read", &bits, bad, sizeof(bad)), -1);
	UNIT_ASSERT_STR(bad, "");
	UNIT_ASSERT_INT(scopes_parse("RUNS:READ", &bits, bad, sizeof(bad)), -1);
	/* A name longer than any scope is refused, not cut down to a valid one. */
	snprintf(longname, sizeof(longname), "runs:read%0150d", 0);
	UNIT_ASSERT_INT(scopes_parse(longname, &bits, bad, sizeof(bad)), -1);
}

/* Every set of scopes survives PostgreSQL's text[] form, and names map both ways. */
static void
test_pg_array_and_names(void)
{
	char		 buf[512];
	unsigned	 all = all_bits(), bits, b;
	json_t		*j;
	int		 wrong = 0;

	for (bits = 0; bits <= all; bits++) {
		if ((bits & ~all) != 0)
			continue;
		scopes_pg_array(bits, buf, sizeof(buf));
		wrong += scopes_from_pg_array(buf) != bits;
	}
	UNIT_ASSERT_INT(wrong, 0);
	UNIT_ASSERT_INT(scopes_from_pg_array("{\"runs:read\",\"keys:admin\"}"),
	    scope_bit("runs:read") | scope_bit("keys:admin"));
	UNIT_ASSERT_INT(scopes_from_pg_array("{}"), 0);
	UNIT_ASSERT_INT(scopes_from_pg_array("{nope,runs:write}"), scope_bit("runs:write"));
	for (b = 1; b != 0 && b <= all; b <<= 1)
		if (b & all)
			wrong += scope_bit(scope_name(b)) != b;
	UNIT_ASSERT_INT(wrong, 0);
	CU_ASSERT_PTR_NULL(scope_name(scope_bit("runs:read") | scope_bit("runs:write")));
	j = scopes_json(scope_bit("audit:read") | scope_bit("runs:read"));
	UNIT_ASSERT_INT(json_array_size(j), 2);
	UNIT_ASSERT_STR(json_string_value(json_array_get(j, 0)), "runs:read");
	json_decref(j);
}

void
suite_scope(void)
{
	CU_pSuite s = unit_suite("scope", NULL, NULL);

	unit_test(s, "each role grants what the one below does, and more", test_roles_nest);
	unit_test(s, "docs/api.md's table says what the code grants", test_docs_table);
	unit_test(s, "scope lists: parsed, refused whole", test_parse_list);
	unit_test(s, "text[] round trip and names both ways", test_pg_array_and_names);
}
