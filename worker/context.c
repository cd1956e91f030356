/* context.c: a thread's messages trimmed to an agent's budget of tokens. */
#include "config.h"

#include <string.h>

#include "worker/context.h"

size_t
context_tokens(size_t n)
{
	return n == 0 ? 0 : (n + 3) / 4;
}

static const char *
wire_role(const char *role)
{
	if (strcmp(role, "assistant") == 0 || strcmp(role, "tool") == 0)
		return role;
	if (strcmp(role, "user") == 0 || strcmp(role, "human") == 0)
		return "user";
	return NULL;
}

/* A thread message's tokens: its text, and the arguments of the calls it made. */
static size_t
message_tokens(json_t *m)
{
	const char	*content = json_string_value(json_object_get(m, "content"));
	json_t		*calls = json_object_get(json_object_get(m, "data"), "tool_calls"), *c;
	size_t		 n = content != NULL ? context_tokens(strlen(content)) : 0, i;

	json_array_foreach(calls, i, c)
		n += context_tokens(json_string_length(json_object_get(c, "arguments")));
	return n;
}

/* A thread message as the wire's (llm.h), or NULL for one that is not a message.
 * Without tools a request cannot carry calls and results (a provider refuses them):
 * what the model said with its calls is kept, the rest left out. */
static json_t *
wire_message(json_t *m, int tools)
{
	const char	*role = json_string_value(json_object_get(m, "role"));
	const char	*content = json_string_value(json_object_get(m, "content"));
	json_t		*data = json_object_get(m, "data"), *calls, *out;
	const char	*id;

	if (role == NULL || content == NULL || (role = wire_role(role)) == NULL)
		return NULL;
	if (!tools && (strcmp(role, "tool") == 0 || (*content == '\0' &&
	    json_array_size(json_object_get(data, "tool_calls")) > 0)))
		return NULL;
	out = json_pack("{s:s, s:s}", "role", role, "content", content);
	if (strcmp(role, "tool") == 0) {
		if ((id = json_string_value(json_object_get(data, "tool_call_id"))) == NULL) {
			json_decref(out);
			return NULL;
		}
		json_object_set_new(out, "tool_call_id", json_string(id));
		id = json_string_value(json_object_get(data, "name"));
		json_object_set_new(out, "name", json_string(id != NULL ? id : ""));
		json_object_set_new(out, "is_error",
		    json_boolean(json_is_true(json_object_get(data, "is_error"))));
	} else if (tools && strcmp(role, "assistant") == 0 &&
	    json_array_size(calls = json_object_get(data, "tool_calls")) > 0)
		json_object_set(out, "tool_calls", calls);
	return out;
}

json_t *
context_messages(json_t *context, const char *text, size_t budget, int tools)
{
	json_t		*out = json_array(), *m;
	size_t		 n = json_array_size(context), used, first, i, n_tok;
	const char	*role;

	used = context_tokens(strlen(text));
	/* Walk back from the newest while the next older one still fits. */
	for (first = n; first > 0; first--) {
		n_tok = message_tokens(json_array_get(context, first - 1));
		if (used + n_tok > budget)
			break;
		used += n_tok;
	}
	/* What is kept starts with a user turn: a tool result never comes without the
	 * call it answers, nor a call without the question. */
	for (; first < n; first++) {
		role = json_string_value(json_object_get(json_array_get(context, first), "role"));
		if (role != NULL && (strcmp(role, "user") == 0 || strcmp(role, "human") == 0))
			break;
	}
	for (i = first; i < n; i++)
		if ((m = wire_message(json_array_get(context, i), tools)) != NULL)
			json_array_append_new(out, m);
	json_array_append_new(out, json_pack("{s:s, s:s}", "role", "user", "content", text));
	return out;
}
