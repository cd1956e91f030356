/* registry.c: the code of each tool of core/tools.c, by name. */
#include "config.h"

#include <string.h>

#include "worker/tools/tools.h"

static const struct tool_impl *const impls[] = {
	&tool_http_fetch,
	&tool_ask_human,
	&tool_handoff,
	&tool_kb_search,
	&tool_memory_save,
	&tool_memory_search,
};

const struct tool_impl *
tool_impl_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(impls) / sizeof(impls[0]); i++)
		if (strcmp(impls[i]->name, name) == 0)
			return impls[i];
	return NULL;
}
