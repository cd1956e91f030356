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
	if (strcmp(role, "assistant") == 0)
		return "assistant";
	if (strcmp(role, "user") == 0 || strcmp(role, "human") == 0)
		return "user";
	return NULL;	/* a tool result: it travels with its call (not kept yet) */
}

json_t *
context_messages(json_t *context, const char *text, size_t budget)
{
	json_t		*out = json_array(), *m;
	size_t		 n = json_array_size(context), used, first, i, n_tok;
	const char	*role, *content;

	used = context_tokens(strlen(text));
	/* Walk back from the newest while the next older one still fits. */
	for (first = n; first > 0; first--) {
		m = json_array_get(context, first - 1);
		content = json_string_value(json_object_get(m, "content"));
		n_tok = content != NULL ? context_tokens(strlen(content)) : 0;	/* skipped below */
		if (used + n_tok > budget)
			break;
		used += n_tok;
	}
	/* What is kept starts with a user turn. */
	for (; first < n; first++) {
		role = json_string_value(json_object_get(json_array_get(context, first), "role"));
		if (role != NULL && wire_role(role) != NULL && strcmp(wire_role(role), "user") == 0)
			break;
	}
	for (i = first; i < n; i++) {
		m = json_array_get(context, i);
		role = json_string_value(json_object_get(m, "role"));
		content = json_string_value(json_object_get(m, "content"));
		if (role == NULL || content == NULL || wire_role(role) == NULL)
			continue;
		json_array_append_new(out, json_pack("{s:s, s:s}", "role", wire_role(role),
		    "content", content));
	}
	json_array_append_new(out, json_pack("{s:s, s:s}", "role", "user", "content", text));
	return out;
}
