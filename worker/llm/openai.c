/* openai.c: OpenAI Chat Completions: the streaming request body and its chunk events. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <jansson.h>

#include "core/arena.h"
#include "worker/llm/llm.h"
#include "worker/llm/wire.h"

/* [{"type": "function", "function": {"name", "description", "parameters"}}], or
 * NULL for a tool without a name.  An empty description or schema is left out. */
static json_t *
openai_tools(json_t *tools)
{
	json_t	*out, *t, *fn, *v;
	size_t	 i;

	if ((out = json_array()) == NULL)
		sb_oom(0);
	json_array_foreach(tools, i, t) {
		if (!json_is_string(json_object_get(t, "name")))
			goto fail;
		fn = json_pack("{s:O}", "name", json_object_get(t, "name"));
		if (fn == NULL)
			sb_oom(0);
		if (json_is_string(v = json_object_get(t, "description")) &&
		    json_string_length(v) > 0)
			json_object_set(fn, "description", v);
		if ((v = json_object_get(t, "parameters")) != NULL && !json_is_null(v))
			json_object_set(fn, "parameters", v);
		json_array_append_new(out, json_pack("{s:s, s:o}", "type", "function",
		    "function", fn));
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

/* An assistant turn's calls: [{"id", "type": "function", "function": {"name",
 * "arguments"}}]. */
static json_t *
openai_calls(const struct wire_msg *m)
{
	struct wire_call	 c;
	json_t			*out, *v;
	size_t			 i;

	if ((out = json_array()) == NULL)
		sb_oom(0);
	for (i = 0; i < m->ncalls; i++) {
		wire_call(m, i, &c);
		if ((v = json_pack("{s:s, s:s, s:{s:s, s:s}}", "id", c.id, "type", "function",
		    "function", "name", c.name, "arguments", c.args)) == NULL)
			sb_oom(0);
		json_array_append_new(out, v);
	}
	return out;
}

/* Appends the neutral message m to the array arg.  A turn with calls has null
 * content when it has no text; a result is a "tool" message, with no is_error
 * (OpenAI has no such field: the text says it). */
static int
openai_message(void *arg, const struct wire_msg *m)
{
	json_t *v;

	if (m->role == WIRE_TOOL)
		v = json_pack("{s:s, s:s, s:s%}", "role", "tool", "tool_call_id", m->call_id,
		    "content", m->text, m->textlen);
	else if (m->ncalls > 0)
		v = json_pack("{s:s, s:o, s:o}", "role", "assistant", "content", m->textlen > 0 ?
		    json_stringn(m->text, m->textlen) : json_null(), "tool_calls", openai_calls(m));
	else
		v = json_pack("{s:s, s:s%}", "role", m->role == WIRE_USER ? "user" : "assistant",
		    "content", m->text, m->textlen);
	if (v == NULL)
		sb_oom(0);
	json_array_append_new(arg, v);
	return 0;
}

json_t *
openai_body(const struct llm_request *r)
{
	json_t	*body, *msgs, *m, *tools;

	if (r->model == NULL || !json_is_array(r->messages))
		return NULL;
	if ((msgs = json_array()) == NULL)
		sb_oom(0);
	if (r->system != NULL && *r->system != '\0') {
		if ((m = json_pack("{s:s, s:s}", "role", "system", "content", r->system)) == NULL)
			goto fail;
		json_array_append_new(msgs, m);
	}
	if (wire_messages(r->messages, openai_message, msgs) < 0)
		goto fail;
	body = json_pack("{s:s, s:o, s:b, s:{s:b}}", "model", r->model, "messages", msgs,
	    "stream", 1, "stream_options", "include_usage", 1);
	if (body == NULL)
		return NULL;	/* json_pack released msgs */
	if (r->temperature >= 0 &&
	    json_object_set_new(body, "temperature", json_real(r->temperature)) != 0)
		goto fail_body;
	if (r->top_p > 0 && json_object_set_new(body, "top_p", json_real(r->top_p)) != 0)
		goto fail_body;
	if (r->max_tokens > 0)
		json_object_set_new(body, "max_tokens", json_integer(r->max_tokens));
	/* OpenAI refuses an empty tools array. */
	if (r->tools != NULL && json_array_size(r->tools) > 0) {
		if ((tools = openai_tools(r->tools)) == NULL)
			goto fail_body;
		json_object_set_new(body, "tools", tools);
	}
	return body;
fail:
	json_decref(msgs);
	return NULL;
fail_body:
	json_decref(body);
	return NULL;
}

/* "stop", "length", "tool_calls", or "other" for anything else (content_filter,
 * the legacy function_call). */
static const char *
openai_reason(const char *r)
{
	if (strcmp(r, "stop") == 0 || strcmp(r, "length") == 0 ||
	    strcmp(r, "tool_calls") == 0)
		return r;
	return "other";
}

/*
 * One piece of delta.tool_calls.  The first piece of a call has its index, id and
 * function.name; the later ones the index and more of function.arguments.  A piece
 * without an index (some compatible servers) starts a call if it has an id and
 * continues the last one otherwise.
 */
static int
openai_tool_piece(struct llm_stream *s, const json_t *p)
{
	struct wire_tool	*t;
	const json_t		*fn = json_object_get(p, "function"), *ix;
	const char		*id, *name, *args;
	long			 index;

	if (!json_is_object(p))
		return wire_fail(s, "malformed openai event: a tool call is not an object");
	id = json_string_value(json_object_get(p, "id"));
	name = json_string_value(json_object_get(fn, "name"));
	if ((ix = json_object_get(p, "index")) != NULL) {
		if (!json_is_integer(ix) || json_integer_value(ix) < 0 ||
		    json_integer_value(ix) > 1000000)
			return wire_fail(s, "malformed openai event: a tool call index is "
			    "not a small integer");
		index = (long)json_integer_value(ix);
	} else if (id != NULL)
		index = s->ntools > 0 ? s->tools[s->ntools - 1].index + 1 : 0;
	else if (s->ntools > 0)
		index = s->tools[s->ntools - 1].index;
	else
		return wire_fail(s, "malformed openai event: a tool call piece before any call");
	if ((t = wire_tool(s, index)) == NULL) {
		if ((t = wire_tool_add(s, index, id, name)) == NULL)
			return -1;
	} else if (t->name[0] == '\0' && name != NULL && *name != '\0') {
		free(t->name);
		t->name = sb_strdup(name);
	}
	args = json_string_value(json_object_get(fn, "arguments"));
	if (args != NULL && wire_tool_args(s, t, args,
	    json_string_length(json_object_get(fn, "arguments"))) < 0)
		return -1;
	return 0;
}

/* A choice's delta: its text and its tool call pieces; then its finish reason. */
static int
openai_choice(struct llm_stream *s, const json_t *choice)
{
	const json_t	*delta = json_object_get(choice, "delta"), *v, *p;
	size_t		 i;

	if (json_is_string(v = json_object_get(delta, "content")))
		wire_text(s, json_string_value(v), json_string_length(v));
	json_array_foreach(json_object_get(delta, "tool_calls"), i, p)
		if (openai_tool_piece(s, p) < 0)
			return -1;
	/* Some compatible servers send "" rather than null until the end. */
	if (json_is_string(v = json_object_get(choice, "finish_reason")) &&
	    json_string_length(v) > 0)
		wire_finish_reason(s, openai_reason(json_string_value(v)));
	return 0;
}

int
openai_event(struct llm_stream *s, const struct evp_event *ev)
{
	json_t		*v;
	const json_t	*e, *u, *choice;
	int		 rc = 0;

	if (s->complete || s->failed)
		return s->failed ? -1 : 1;
	if (ev->len == 6 && memcmp(ev->data, "[DONE]", 6) == 0)
		return wire_finish(s);
	if ((v = wire_json(s, ev)) == NULL)
		return -1;
	if ((e = json_object_get(v, "error")) != NULL && !json_is_null(e)) {
		rc = wire_provider_error(s, e);
		goto out;
	}
	if (strcmp(ev->type, "error") == 0) {
		rc = wire_provider_error(s, v);
		goto out;
	}
	/* Only the usage chunk has usage, unless a compatible server sends it earlier. */
	if (json_is_object(u = json_object_get(v, "usage"))) {
		if (json_is_integer(json_object_get(u, "prompt_tokens")))
			s->result.usage.prompt_tokens =
			    json_integer_value(json_object_get(u, "prompt_tokens"));
		if (json_is_integer(json_object_get(u, "completion_tokens")))
			s->result.usage.completion_tokens =
			    json_integer_value(json_object_get(u, "completion_tokens"));
	}
	/* One choice is asked for (n is not sent); the usage chunk has none. */
	if (json_is_object(choice = json_array_get(json_object_get(v, "choices"), 0)))
		rc = openai_choice(s, choice);
out:
	json_decref(v);
	return rc;
}
