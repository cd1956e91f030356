/* context.h: what the model sees of a run's thread: its messages, newest kept first
 * within the agent's budget of tokens.  No I/O. */
#ifndef SB_WORKER_CONTEXT_H
#define SB_WORKER_CONTEXT_H

#include <stddef.h>
#include <jansson.h>

/* The agent's budget when its parameters name none (context_tokens). */
#define CONTEXT_TOKENS_DEFAULT	8000

/* A rough count of the tokens of n bytes of text (a quarter of the bytes, at least one
 * for any text): the same estimate whatever the provider, so a budget means the same. */
size_t	 context_tokens(size_t n);
/*
 * The messages a run sends: the thread's (context: [{"role", "content", "data"}, ...],
 * oldest first, may be NULL) that fit in budget tokens with the new user message text,
 * then that message.  The oldest are dropped first, whole; what is kept starts with a
 * user turn (never with an answer, a call or a tool result whose question was
 * dropped); the new message is always there.  Messages become the wire's (llm.h): an
 * assistant's calls (data.tool_calls) and a tool result (role "tool", data.tool_call_id,
 * name, is_error) travel as such, and "human" (a person answering through the inbox)
 * is "user".  A call's arguments count in the budget.  tools: whether the request
 * offers tools; if not, calls and results are left out (a provider refuses them
 * then), and what the model said beside its calls is kept.  A new reference.
 */
json_t	*context_messages(json_t *context, const char *text, size_t budget, int tools);

#endif /* SB_WORKER_CONTEXT_H */
