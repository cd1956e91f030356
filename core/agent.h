/* agent.h: agent definitions: validation, defaults, and their SQL parameters. */
#ifndef SB_CORE_AGENT_H
#define SB_CORE_AGENT_H

#include <jansson.h>
#include "core/err.h"

/* An agent's parameter max_steps: the model turns of one run, at most; and its
 * default when the agent names none. */
#define AGENT_MAX_STEPS_MAX	50
#define AGENT_MAX_STEPS_DEFAULT	10
/* The agents a handoff_to parameter may name, at most. */
#define AGENT_HANDOFF_MAX	20
/* human_deadline_s when the agent names none: how long an inbox item waits. */
#define AGENT_HUMAN_DEADLINE_DEFAULT	86400

struct agent_error {
	enum sb_err	 err;		/* SB_ERR_INVALID or SB_ERR_UNPROCESSABLE */
	const char	*slug;		/* problem type */
	char		 detail[200];
};

/* Checks an agent definition (from the API or a catalog file) and returns it
 * normalized, defaults filled (caller decrefs), or NULL with e set.  slug: the
 * path's, or NULL to take the body's. */
json_t	*agent_validate(json_t *in, const char *slug, struct agent_error *e);
/* The SQL parameters of a validated definition, in the order of the agents table:
 * org, slug, name, description, category, provider, model, system_prompt,
 * parameters (JSON), tools (JSON array), enabled.  p's strings point into def and
 * into *json, which the caller frees. */
#define AGENT_NPARAMS 11
void	 agent_bind(json_t *def, const char *org, const char *p[AGENT_NPARAMS], char **json);

#endif /* SB_CORE_AGENT_H */
