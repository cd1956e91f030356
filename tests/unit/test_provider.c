/* test_provider.c: the one table of LLM providers, its look-ups, and that the schema's
 * CHECK on agents.provider names exactly the providers of the table. */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>

#include "core/provider.h"
#include "tests/unit/unit.h"

static void
test_lookups(void)
{
	size_t i, wrong = 0;

	UNIT_ASSERT_INT(nproviders, 3);
	for (i = 0; i < nproviders; i++) {
		if ((size_t)provider_table[i].id != i)	/* in enum order */
			wrong++;
		if (provider_parse(provider_table[i].name) != (int)provider_table[i].id)
			wrong++;
		if (strcmp(provider_name(provider_table[i].id), provider_table[i].name) != 0)
			wrong++;
	}
	UNIT_ASSERT_INT(wrong, 0);
	UNIT_ASSERT_INT(provider_parse("anthropic"), PROVIDER_ANTHROPIC);
	UNIT_ASSERT_INT(provider_parse("OpenAI"), -1);	/* exact names only */
	UNIT_ASSERT_INT(provider_parse("openai "), -1);
	UNIT_ASSERT_INT(provider_parse(""), -1);
	UNIT_ASSERT_INT(provider_parse(NULL), -1);
	UNIT_ASSERT_STR(provider_name((enum sb_provider)42), "unknown");
	UNIT_ASSERT_STR(provider_names_text(), "openai, anthropic or builtin");
	UNIT_ASSERT_STR(provider_names_text(), "openai, anthropic or builtin");	/* cached */
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The text between "provider IN (" and ")" of the last migration that says it: the
 * CHECK that holds after all of sql/ is applied.  Allocated; NULL if none. */
static char *
schema_provider_list(void)
{
	struct dirent	**names;
	char		 path[1024], line[1024], *found = NULL, *p, *e;
	FILE		*f;
	int		 n, i;

	snprintf(path, sizeof(path), "%s/sql", SB_SRCDIR);
	if ((n = scandir(path, &names, NULL, alphasort)) < 0)
		return NULL;
	for (i = 0; i < n; i++) {
		if (strstr(names[i]->d_name, ".sql") != NULL) {
			snprintf(path, sizeof(path), "%s/sql/%s", SB_SRCDIR, names[i]->d_name);
			if ((f = fopen(path, "r")) != NULL) {
				while (fgets(line, sizeof(line), f) != NULL) {
					if ((p = strstr(line, "provider IN (")) == NULL ||
					    (e = strchr(p, ')')) == NULL)
						continue;
					p += strlen("provider IN (");
					free(found);
					found = strndup(p, (size_t)(e - p));
				}
				fclose(f);
			}
		}
		free(names[i]);
	}
	free(names);
	return found;
}

static void
test_schema_matches(void)
{
	char		*list = schema_provider_list(), *tok, *save = NULL, *sql[16];
	const char	*c[16];
	size_t		 nsql = 0, i, differ = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(list);
	/* 'openai', 'anthropic', 'builtin' */
	for (tok = strtok_r(list, ", ", &save); tok != NULL && nsql < 16;
	    tok = strtok_r(NULL, ", ", &save)) {
		if (tok[0] == '\'' && tok[strlen(tok) - 1] == '\'') {
			tok[strlen(tok) - 1] = '\0';
			tok++;
		}
		sql[nsql++] = tok;
	}
	UNIT_ASSERT_INT(nsql, nproviders);
	for (i = 0; i < nproviders && i < 16; i++)
		c[i] = provider_table[i].name;
	if (nsql == nproviders) {
		qsort(sql, nsql, sizeof(sql[0]), by_name);
		qsort(c, nproviders, sizeof(c[0]), by_name);
		for (i = 0; i < nsql; i++)
			if (strcmp(sql[i], c[i]) != 0)
				differ++;
	}
	UNIT_ASSERT_INT(differ, 0);
	free(list);
}

void
suite_provider(void)
{
	CU_pSuite s = unit_suite("provider", NULL, NULL);

	unit_test(s, "names and values round-trip; anything else is unknown", test_lookups);
	unit_test(s, "the schema's CHECK on agents.provider names exactly the table",
	    test_schema_matches);
}
