/* anthropic.c: Anthropic Messages: the streaming request body and the events of its answer. */
#include "config.h"

#include <string.h>
#include <stddef.h>
#include <jansson.h>

#include "core/arena.h"
#include "core/json.h"
#include "worker/llm/llm.h"
#include "worker/llm/wire.h"

#define DEFAULT_MAX_TOKENS	1024	/* the API requires max_tokens */

/* [{"name", "description", "input_schema"}], or NULL for a tool without a name.
 * input_schema is required: a tool without parameters takes an empty object. */
static json_t *
anthropic_tools(json_t *tools)
{
	json_t	*out, *t, *a, *v;
	size_t	 i;

	if ((out = json_array()) == NULL)
		sb_oom(0);
	json_array_foreach(tools, i, t) {
		if (!json_is_string(json_object_get(t, "name"))) {
			json_decref(out);
			return NULL;
		}
		a = json_pack("{s:O}", "name", json_object_get(t, "name"));
		if (a == NULL)
			sb_oom(0);
		if (json_is_string(v = json_object_get(t, "description")) &&
		    json_string_length(v) > 0)
			json_object_set(a, "description", v);
		if ((v = json_object_get(t, "parameters")) != NULL && !json_is_null(v))
			json_object_set(a, "input_schema", v);
		else
			json_object_set_new(a, "input_schema", json_pack("{s:s, s:{}}",
			    "type", "object", "properties"));
		json_array_append_new(out, a);
	}
	return out;
}

/* Appends v (taken) to the array a; NULL is out of memory. */
static void
append_new(json_t *a, json_t *v)
{
	if (v == NULL)
		sb_oom(0);
	json_array_append_new(a, v);
}

/* A call's arguments as tool_use wants its input: an object; {} for text that is
 * not one.  They are a model's: parsed within the bounds of its stream. */
static json_t *
anthropic_input(const char *args)
{
	static const struct json_limits lim = { LLM_TOOL_ARGS_MAX, 64, LLM_TOOL_ARGS_MAX, 1 };
	struct json_parse_error	 e;
	json_t			*v = json_parse_limited(args, strlen(args), &lim, &e);

	if (json_is_object(v))
		return v;
	json_decref(v);
	return json_object();
}

/* m as content blocks: a result's tool_result, or a text block (when there is
 * text) and then an assistant's tool_use blocks. */
static json_t *
anthropic_blocks(const struct wire_msg *m)
{
	struct wire_call	 c;
	json_t			*out, *v;
	size_t			 i;

	if ((out = json_array()) == NULL)
		sb_oom(0);
	if (m->role == WIRE_TOOL) {
		append_new(out, v = json_pack("{s:s, s:s, s:s%}", "type", "tool_result",
		    "tool_use_id", m->call_id, "content", m->text, m->textlen));
		if (m->is_error)
			json_object_set_new(v, "is_error", json_true());
		return out;
	}
	if (m->textlen > 0)
		append_new(out, json_pack("{s:s, s:s%}", "type", "text", "text", m->text,
		    m->textlen));
	for (i = 0; i < m->ncalls; i++) {
		wire_call(m, i, &c);
		append_new(out, json_pack("{s:s, s:s, s:s, s:o}", "type", "tool_use", "id", c.id,
		    "name", c.name, "input", anthropic_input(c.args)));
	}
	return out;
}

/* The content of the message last as blocks: a string becomes a text block
 * (none when it is empty). */
static json_t *
content_blocks(json_t *last)
{
	json_t *c = json_object_get(last, "content"), *blocks;

	if (!json_is_string(c))
		return c;
	if ((blocks = json_array()) == NULL)
		sb_oom(0);
	if (json_string_length(c) > 0)
		append_new(blocks, json_pack("{s:s, s:O}", "type", "text", "text", c));
	json_object_set_new(last, "content", blocks);
	return blocks;
}

/*
 * Appends the neutral message m to the array arg.  The API wants the roles to
 * alternate: a message of the role of the one before it (results after a call, a
 * person's text after results or after a text that had no answer) joins it, its
 * blocks after the blocks there.  Text alone, not joined, stays a string.
 */
static int
anthropic_message(void *arg, const struct wire_msg *m)
{
	json_t		*out = arg, *last = NULL, *blocks;
	const char	*role = m->role == WIRE_ASSISTANT ? "assistant" : "user";
	size_t		 n = json_array_size(out);

	if (n > 0)
		last = json_array_get(out, n - 1);
	if (last != NULL && strcmp(json_string_value(json_object_get(last, "role")), role) == 0) {
		blocks = anthropic_blocks(m);
		json_array_extend(content_blocks(last), blocks);
		json_decref(blocks);
	} else if (m->role != WIRE_TOOL && m->ncalls == 0)
		append_new(out, json_pack("{s:s, s:s%}", "role", role, "content", m->text,
		    m->textlen));
	else
		append_new(out, json_pack("{s:s, s:o}", "role", role, "content",
		    anthropic_blocks(m)));
	return 0;
}

json_t *
anthropic_body(const struct llm_request *r)
{
	json_t	*body, *msgs, *tools;

	if (r->model == NULL || !json_is_array(r->messages))
		return NULL;
	if ((msgs = json_array()) == NULL)
		sb_oom(0);
	if (wire_messages(r->messages, anthropic_message, msgs) < 0) {
		json_decref(msgs);
		return NULL;
	}
	body = json_pack("{s:s, s:o, s:i, s:b}", "model", r->model, "messages", msgs,
	    "max_tokens", r->max_tokens > 0 ? r->max_tokens : DEFAULT_MAX_TOKENS, "stream", 1);
	if (body == NULL)
		return NULL;	/* json_pack released msgs */
	/* The system prompt is a top-level field, not a message. */
	if (r->system != NULL && *r->system != '\0' &&
	    json_object_set_new(body, "system", json_string(r->system)) != 0)
		goto fail;
	if (r->temperature >= 0 &&
	    json_object_set_new(body, "temperature", json_real(r->temperature)) != 0)
		goto fail;
	if (r->top_p > 0 && json_object_set_new(body, "top_p", json_real(r->top_p)) != 0)
		goto fail;
	if (r->tools != NULL && json_array_size(r->tools) > 0) {
		if ((tools = anthropic_tools(r->tools)) == NULL)
			goto fail;
		json_object_set_new(body, "tools", tools);
	}
	return body;
fail:
	json_decref(body);
	return NULL;
}

/* end_turn and stop_sequence: "stop"; max_tokens: "length"; tool_use:
 * "tool_calls"; anything else (refusal, pause_turn): "other". */
static const char *
anthropic_reason(const char *r)
{
	if (strcmp(r, "end_turn") == 0 || strcmp(r, "stop_sequence") == 0)
		return "stop";
	if (strcmp(r, "max_tokens") == 0)
		return "length";
	if (strcmp(r, "tool_use") == 0)
		return "tool_calls";
	return "other";
}

/* Usage is cumulative: a later count replaces an earlier one. */
static void
anthropic_usage(struct llm_stream *s, const json_t *u)
{
	const json_t *v;

	if (json_is_integer(v = json_object_get(u, "input_tokens")))
		s->result.usage.prompt_tokens = json_integer_value(v);
	if (json_is_integer(v = json_object_get(u, "output_tokens")))
		s->result.usage.completion_tokens = json_integer_value(v);
}

/* The content block index of an event, or -1 after wire_fail(). */
static long
anthropic_index(struct llm_stream *s, const json_t *v, const char *type)
{
	const json_t *ix = json_object_get(v, "index");

	if (!json_is_integer(ix) || json_integer_value(ix) < 0 ||
	    json_integer_value(ix) > 1000000)
		return wire_fail(s, "malformed anthropic event: %s without a block index", type);
	return (long)json_integer_value(ix);
}

/* A text block's (normally empty) first text, or a tool_use block's id and name.
 * Other blocks (thinking) are not passed on. */
static int
anthropic_block_start(struct llm_stream *s, const json_t *v)
{
	const json_t	*b = json_object_get(v, "content_block"), *t;
	const char	*type = json_string_value(json_object_get(b, "type"));
	long		 index;

	if ((index = anthropic_index(s, v, "content_block_start")) < 0)
		return -1;
	if (type == NULL)
		return wire_fail(s, "malformed anthropic event: a content block without a type");
	if (strcmp(type, "text") == 0 && json_is_string(t = json_object_get(b, "text")))
		wire_text(s, json_string_value(t), json_string_length(t));
	else if (strcmp(type, "tool_use") == 0 &&
	    wire_tool_add(s, index, json_string_value(json_object_get(b, "id")),
	    json_string_value(json_object_get(b, "name"))) == NULL)
		return -1;
	return 0;
}

static int
anthropic_block_delta(struct llm_stream *s, const json_t *v)
{
	const json_t		*d = json_object_get(v, "delta"), *t;
	const char		*type = json_string_value(json_object_get(d, "type"));
	struct wire_tool	*tool;
	long			 index;

	if ((index = anthropic_index(s, v, "content_block_delta")) < 0)
		return -1;
	if (type == NULL)
		return wire_fail(s, "malformed anthropic event: a delta without a type");
	if (strcmp(type, "text_delta") == 0) {
		if (json_is_string(t = json_object_get(d, "text")))
			wire_text(s, json_string_value(t), json_string_length(t));
		return 0;
	}
	if (strcmp(type, "input_json_delta") != 0)
		return 0;	/* thinking, signature, citations: not ours */
	if ((tool = wire_tool(s, index)) == NULL)
		return wire_fail(s, "malformed anthropic event: input_json_delta for block %ld, "
		    "which is not a tool_use block", index);
	if (!json_is_string(t = json_object_get(d, "partial_json")))
		return wire_fail(s, "malformed anthropic event: input_json_delta without "
		    "partial_json");
	return wire_tool_args(s, tool, json_string_value(t), json_string_length(t));
}

/* The type is the data's "type"; the SSE event name stands in when it has none.
 * Unknown events are ignored, as Anthropic's versioning policy asks. */
int
anthropic_event(struct llm_stream *s, const struct evp_event *ev)
{
	json_t		*v;
	const json_t	*d;
	const char	*type;
	int		 rc = 0;

	if (s->complete || s->failed)
		return s->failed ? -1 : 1;
	if ((v = wire_json(s, ev)) == NULL)
		return -1;
	if ((type = json_string_value(json_object_get(v, "type"))) == NULL)
		type = ev->type;
	if (strcmp(type, "error") == 0)
		rc = wire_provider_error(s, json_object_get(v, "error"));
	else if (strcmp(type, "message_start") == 0)
		anthropic_usage(s, json_object_get(json_object_get(v, "message"), "usage"));
	else if (strcmp(type, "content_block_start") == 0)
		rc = anthropic_block_start(s, v);
	else if (strcmp(type, "content_block_delta") == 0)
		rc = anthropic_block_delta(s, v);
	else if (strcmp(type, "message_delta") == 0) {
		d = json_object_get(json_object_get(v, "delta"), "stop_reason");
		if (json_is_string(d))
			wire_finish_reason(s, anthropic_reason(json_string_value(d)));
		anthropic_usage(s, json_object_get(v, "usage"));
	} else if (strcmp(type, "message_stop") == 0)
		rc = wire_finish(s);
	/* ping, content_block_stop: nothing to do. */
	json_decref(v);
	return rc;
}
