/* ask_human.c: the tool that asks a person: the call is set aside, the run waits in the
 * inbox without a worker, and the person's answer comes back as the call's result. */
#include "config.h"

#include <jansson.h>

#include "worker/tools/tools.h"

static void
start(struct tool_call *c)
{
	tool_wait(c, json_string_value(json_object_get(c->args, "question")));
}

/* Nothing runs while it waits: nothing to stop. */
const struct tool_impl tool_ask_human = { .name = "ask_human", .start = start };
