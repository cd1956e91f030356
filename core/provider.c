/* provider.c: the one table of LLM providers (provider.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <stddef.h>

#include "core/provider.h"

const struct provider_info provider_table[] = {
	{ PROVIDER_OPENAI,	"openai" },
	{ PROVIDER_ANTHROPIC,	"anthropic" },
	{ PROVIDER_BUILTIN,	"builtin" },
};
const size_t nproviders = sizeof(provider_table) / sizeof(provider_table[0]);

int
provider_parse(const char *s)
{
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < nproviders; i++)
		if (strcmp(provider_table[i].name, s) == 0)
			return (int)provider_table[i].id;
	return -1;
}

const char *
provider_name(enum sb_provider p)
{
	size_t i;

	for (i = 0; i < nproviders; i++)
		if (provider_table[i].id == p)
			return provider_table[i].name;
	return "unknown";
}

const char *
provider_names_text(void)
{
	static char	 text[128];
	size_t		 i, n = 0;

	if (text[0] != '\0')
		return text;
	for (i = 0; i < nproviders && n < sizeof(text); i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%s",
		    i == 0 ? "" : i + 1 == nproviders ? " or " : ", ", provider_table[i].name);
	return text;
}
