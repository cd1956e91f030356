/* provider.h: the LLM providers Switchboard knows, once: their names as agents and the
 * API spell them, and what the worker needs to know of each.  core/agent.c validates
 * with it, worker/llm/wire.c maps it to wire formats; sql/006_agents.sql's CHECK lists
 * the same names (tests/unit/test_provider.c holds the two together).  Which API key
 * and base URL each uses is configuration (llm.*).  Everything here is static: nothing
 * to free. */
#ifndef SB_PROVIDER_H
#define SB_PROVIDER_H

#include <stddef.h>

enum sb_provider {
	PROVIDER_OPENAI,	/* OpenAI Chat Completions and compatible servers */
	PROVIDER_ANTHROPIC,	/* Anthropic Messages */
	PROVIDER_BUILTIN	/* the offline demo model, in the worker itself */
};

struct provider_info {
	enum sb_provider	 id;
	const char		*name;		/* as an agent's "provider" says it */
};

/* Every provider, in enum order. */
extern const struct provider_info	provider_table[];
extern const size_t			nproviders;

/* The provider named s (exactly, case and all), or -1; s may be NULL. */
int		 provider_parse(const char *s);
/* Its name; "unknown" for a value outside the enum. */
const char	*provider_name(enum sb_provider);
/* "openai, anthropic or builtin": every name, for messages. */
const char	*provider_names_text(void);

#endif /* SB_PROVIDER_H */
