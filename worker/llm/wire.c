/* wire.c: the provider-independent half of llm.h: kinds, requests, streams, error bodies. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <stddef.h>
#include <jansson.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/provider.h"
#include "worker/llm/llm.h"
#include "worker/llm/wire.h"

#define ERROR_MESSAGE_MAX	300	/* bytes of a provider's message kept */
#define TOOL_CALLS_MAX		128	/* in one answer */
#define ANTHROPIC_VERSION	"2023-06-01"

static const struct json_limits event_limits = { LLM_EVENT_MAX, 64, LLM_EVENT_MAX, 1 };

/* ---------------------------------------------------------------- buffers */

char *
wire_truncate(const char *s, size_t max)
{
	size_t	 n = strlen(s);
	char	*out;

	if (n > max) {
		n = max;
		/* Back off the continuation bytes of a character cut in two. */
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	out = sb_malloc(n + 1);
	memcpy(out, s, n);
	out[n] = '\0';
	return out;
}

/* ---------------------------------------------------------------- kinds */

/* The names are core's provider table (core/provider.c); a kind is its provider. */
int
llm_kind_parse(const char *s)
{
	return provider_parse(s);
}

const char *
llm_kind_name(enum llm_kind k)
{
	return provider_name((enum sb_provider)k);
}

/* ---------------------------------------------------------------- requests */

/* NULL for LLM_BUILTIN: the builtin model is called, not requested over HTTP. */
const char *
llm_request_path(enum llm_kind k)
{
	switch (k) {
	case LLM_OPENAI:
		return "/chat/completions";
	case LLM_ANTHROPIC:
		return "/messages";
	default:
		return NULL;
	}
}

/* A header line that cannot end early: no CR, LF or other control character. */
static int
header_safe(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static struct curl_slist *
header_add(struct curl_slist *l, const char *name, const char *value)
{
	struct curl_slist	*n;
	char			*line;
	size_t			 len = strlen(name) + 2 + strlen(value) + 1;

	line = sb_malloc(len);
	snprintf(line, len, "%s: %s", name, value);
	n = curl_slist_append(l, line);
	/* The key is in line: leave no copy of it behind in freed memory. */
	explicit_bzero(line, len);
	free(line);
	if (n == NULL) {
		curl_slist_free_all(l);
		sb_oom(len);
	}
	return n;
}

/*
 * NULL for LLM_BUILTIN, and for a key or version holding a control character
 * (it would end the header line and start another).  api_key NULL or "": no
 * credential header (local OpenAI-compatible servers need none).
 * anthropic_version NULL: "2023-06-01".
 */
struct curl_slist *
llm_request_headers(enum llm_kind k, const char *api_key, const char *anthropic_version)
{
	struct curl_slist	*l = NULL;
	char			*bearer;
	size_t			 len;

	if (api_key == NULL)
		api_key = "";
	if (anthropic_version == NULL)
		anthropic_version = ANTHROPIC_VERSION;
	if (!header_safe(api_key) || !header_safe(anthropic_version))
		return NULL;
	switch (k) {
	case LLM_OPENAI:
		if (*api_key != '\0') {
			len = strlen("Bearer ") + strlen(api_key) + 1;
			bearer = sb_malloc(len);
			snprintf(bearer, len, "Bearer %s", api_key);
			l = header_add(l, "Authorization", bearer);
			explicit_bzero(bearer, len);
			free(bearer);
		}
		break;
	case LLM_ANTHROPIC:
		if (*api_key != '\0')
			l = header_add(l, "x-api-key", api_key);
		l = header_add(l, "anthropic-version", anthropic_version);
		break;
	default:
		return NULL;
	}
	l = header_add(l, "Content-Type", "application/json");
	return header_add(l, "Accept", "text/event-stream");
}

/*
 * NULL for LLM_BUILTIN, and for a request that breaks the shape of struct
 * llm_request (no model, messages not an array or a message not in the neutral
 * shape, a tool without a name, text that is not UTF-8, a NaN).  Reals are written with 15 significant digits, so
 * a temperature of 0.7 reads "0.7".
 */
char *
llm_request_body(enum llm_kind k, const struct llm_request *r)
{
	json_t	*v;
	char	*s;

	switch (k) {
	case LLM_OPENAI:
		v = openai_body(r);
		break;
	case LLM_ANTHROPIC:
		v = anthropic_body(r);
		break;
	default:
		return NULL;
	}
	if (v == NULL)
		return NULL;
	s = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(v);
	if (s == NULL)
		sb_oom(0);
	return s;
}

/* ---------------------------------------------------------------- messages */

/* A call's fields: -1 unless it has an id and a name (strings, not empty) and
 * arguments that are a string or absent ("" or absent: "{}"). */
static int
call_read(const json_t *c, struct wire_call *out)
{
	const json_t *args = json_object_get(c, "arguments");

	out->id = json_string_value(json_object_get(c, "id"));
	out->name = json_string_value(json_object_get(c, "name"));
	out->args = args == NULL ? "{}" : json_string_value(args);
	if (out->args != NULL && *out->args == '\0')
		out->args = "{}";
	if (out->id == NULL || *out->id == '\0' || out->name == NULL ||
	    *out->name == '\0' || out->args == NULL)
		return -1;
	return 0;
}

void
wire_call(const struct wire_msg *m, size_t i, struct wire_call *c)
{
	/* wire_messages() read every call before handing the message out. */
	(void)call_read(json_array_get(m->calls, i), c);
}

/* An assistant message's tool calls into out: 0, or -1 when they break the shape. */
static int
calls_read(const json_t *m, struct wire_msg *out)
{
	const json_t		*calls = json_object_get(m, "tool_calls"), *c;
	struct wire_call	 call;
	size_t			 i;

	if (calls == NULL)
		return 0;
	if (!json_is_array(calls))
		return -1;
	json_array_foreach(calls, i, c)
		if (call_read(c, &call) < 0)
			return -1;
	if ((out->ncalls = json_array_size(calls)) > 0)
		out->calls = calls;
	return 0;
}

/* A tool message's fields into out: 0, or -1 when they break the shape or it does
 * not follow prev, an assistant turn with calls or another result. */
static int
result_read(const json_t *m, const struct wire_msg *prev, struct wire_msg *out)
{
	const json_t *err = json_object_get(m, "is_error"), *name = json_object_get(m, "name");

	out->call_id = json_string_value(json_object_get(m, "tool_call_id"));
	if (out->call_id == NULL || *out->call_id == '\0')
		return -1;
	if (prev == NULL || (prev->role != WIRE_TOOL && prev->ncalls == 0))
		return -1;
	if ((err != NULL && !json_is_boolean(err)) || (name != NULL && !json_is_string(name)))
		return -1;
	out->is_error = json_is_true(err);
	return 0;
}

/* Reads m, which follows prev (NULL: m is the first): 0, or -1 when it breaks the
 * shape.  Only an assistant turn with calls may have no content. */
static int
message_read(const json_t *m, const struct wire_msg *prev, struct wire_msg *out)
{
	const char	*role = json_string_value(json_object_get(m, "role"));
	const json_t	*content = json_object_get(m, "content");
	int		 rc = -1;

	memset(out, 0, sizeof(*out));
	if (role == NULL)
		return -1;
	if (strcmp(role, "user") == 0) {
		out->role = WIRE_USER;
		rc = 0;
	} else if (strcmp(role, "assistant") == 0) {
		out->role = WIRE_ASSISTANT;
		rc = calls_read(m, out);
	} else if (strcmp(role, "tool") == 0) {
		out->role = WIRE_TOOL;
		rc = result_read(m, prev, out);
	}
	if (rc < 0)
		return -1;
	if (json_is_string(content)) {
		out->text = json_string_value(content);
		out->textlen = json_string_length(content);
	} else if (out->ncalls > 0 && (content == NULL || json_is_null(content)))
		out->text = "";
	else
		return -1;
	return 0;
}

int
wire_messages(const json_t *messages, wire_msg_fn *fn, void *arg)
{
	struct wire_msg	 m, prev;
	const json_t	*v;
	size_t		 i;

	json_array_foreach(messages, i, v) {
		if (message_read(v, i > 0 ? &prev : NULL, &m) < 0 || fn(arg, &m) < 0)
			return -1;
		prev = m;
	}
	return 0;
}

/* ---------------------------------------------------------------- streams */

static int
on_event(void *arg, const struct evp_event *ev)
{
	struct llm_stream *s = arg;

	if (s->kind == LLM_OPENAI)
		return openai_event(s, ev);
	return anthropic_event(s, ev);
}

/* NULL for LLM_BUILTIN.  fn may be NULL: the text is then dropped. */
struct llm_stream *
llm_stream_new(enum llm_kind k, llm_text_fn *fn, void *arg)
{
	struct llm_stream *s;

	if (k != LLM_OPENAI && k != LLM_ANTHROPIC)
		return NULL;
	s = sb_calloc(1, sizeof(*s));
	s->kind = k;
	s->text = fn;
	s->arg = arg;
	if ((s->result.tool_calls = json_array()) == NULL)
		sb_oom(0);
	evp_init(&s->parser, LLM_EVENT_MAX, on_event, s);
	return s;
}

void
llm_stream_free(struct llm_stream *s)
{
	size_t i;

	if (s == NULL)
		return;
	evp_free(&s->parser);
	for (i = 0; i < s->ntools; i++) {
		free(s->tools[i].id);
		free(s->tools[i].name);
		buf_free(&s->tools[i].args);
	}
	free(s->tools);
	json_decref(s->result.tool_calls);
	free(s);
}

/* Bytes after the end of the stream are ignored: a proxy's trailing keep-alive
 * is no reason to fail an answer that is whole. */
int
llm_stream_feed(struct llm_stream *s, const char *buf, size_t len)
{
	int rc;

	if (s->failed)
		return -1;
	if (s->complete)
		return 0;
	rc = evp_feed(&s->parser, buf, len);
	if (rc < 0 && !s->failed)
		wire_fail(s, "%s stream: %s", llm_kind_name(s->kind), s->parser.err);
	return rc < 0 ? -1 : 0;
}

int
llm_stream_complete(const struct llm_stream *s)
{
	return s->complete;
}

const char *
llm_stream_error(const struct llm_stream *s)
{
	return s->error;
}

/* result.tool_calls is filled once the stream is complete (an empty array until
 * then); finish_reason is "" until the provider gave one. */
const struct llm_result *
llm_stream_result(const struct llm_stream *s)
{
	return &s->result;
}

int
wire_fail(struct llm_stream *s, const char *fmt, ...)
{
	va_list ap;

	if (s->failed)
		return -1;
	s->failed = 1;
	va_start(ap, fmt);
	vsnprintf(s->error, sizeof(s->error), fmt, ap);
	va_end(ap);
	return -1;
}

json_t *
wire_json(struct llm_stream *s, const struct evp_event *ev)
{
	struct json_parse_error	 e;
	json_t			*v;

	if ((v = json_parse_limited(ev->data, ev->len, &event_limits, &e)) == NULL) {
		wire_fail(s, "malformed %s event: %s at byte %zu", llm_kind_name(s->kind),
		    e.text, e.position);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		wire_fail(s, "malformed %s event: not a JSON object", llm_kind_name(s->kind));
		return NULL;
	}
	return v;
}

/* The message of an error object, or of an error given as a bare string. */
static const char *
error_text(const json_t *err)
{
	if (json_is_string(err))
		return json_string_value(err);
	return json_string_value(json_object_get(err, "message"));
}

int
wire_provider_error(struct llm_stream *s, const json_t *err)
{
	const char	*type = json_string_value(json_object_get(err, "type"));
	const char	*msg = error_text(err);
	char		*m;

	m = wire_truncate(msg != NULL ? msg : "no message", ERROR_MESSAGE_MAX);
	if (type != NULL)
		wire_fail(s, "%s error in stream: %.40s: %s", llm_kind_name(s->kind), type, m);
	else
		wire_fail(s, "%s error in stream: %s", llm_kind_name(s->kind), m);
	free(m);
	return -1;
}

void
wire_text(struct llm_stream *s, const char *text, size_t len)
{
	if (len > 0 && s->text != NULL)
		s->text(s->arg, text, len);
}

void
wire_finish_reason(struct llm_stream *s, const char *reason)
{
	snprintf(s->result.finish_reason, sizeof(s->result.finish_reason), "%s", reason);
}

struct wire_tool *
wire_tool(struct llm_stream *s, long index)
{
	size_t i;

	for (i = 0; i < s->ntools; i++)
		if (s->tools[i].index == index)
			return &s->tools[i];
	return NULL;
}

struct wire_tool *
wire_tool_add(struct llm_stream *s, long index, const char *id, const char *name)
{
	struct wire_tool *t;

	if (wire_tool(s, index) != NULL) {
		wire_fail(s, "malformed %s stream: tool call %ld started twice",
		    llm_kind_name(s->kind), index);
		return NULL;
	}
	if (s->ntools == TOOL_CALLS_MAX) {
		wire_fail(s, "%s stream: more than %d tool calls", llm_kind_name(s->kind),
		    TOOL_CALLS_MAX);
		return NULL;
	}
	if (s->ntools == s->captools) {
		s->captools = s->captools == 0 ? 4 : s->captools * 2;
		s->tools = sb_realloc(s->tools, s->captools * sizeof(*s->tools));
	}
	t = &s->tools[s->ntools++];
	memset(t, 0, sizeof(*t));
	t->index = index;
	t->id = sb_strdup(id != NULL ? id : "");
	t->name = sb_strdup(name != NULL ? name : "");
	return t;
}

int
wire_tool_args(struct llm_stream *s, struct wire_tool *t, const char *p, size_t n)
{
	if (n > LLM_TOOL_ARGS_MAX - s->argbytes)
		return wire_fail(s, "%s stream: tool arguments over %d bytes",
		    llm_kind_name(s->kind), LLM_TOOL_ARGS_MAX);
	s->argbytes += n;
	buf_append(&t->args, p, n);
	return 0;
}

/* A call that wrote no arguments gets "{}": a tool without parameters still
 * takes an object, and the caller parses what it gets. */
int
wire_finish(struct llm_stream *s)
{
	struct wire_tool	*t;
	json_t			*call, *args;
	size_t			 i;

	for (i = 0; i < s->ntools; i++) {
		t = &s->tools[i];
		args = t->args.len > 0 ? json_stringn(t->args.data, t->args.len) : json_string("{}");
		if (args == NULL)
			return wire_fail(s, "%s stream: tool call %ld: arguments are not UTF-8",
			    llm_kind_name(s->kind), t->index);
		call = json_pack("{s:s, s:s, s:o}", "id", t->id, "name", t->name,
		    "arguments", args);
		if (call == NULL)
			return wire_fail(s, "%s stream: tool call %ld: id or name is not UTF-8",
			    llm_kind_name(s->kind), t->index);
		json_array_append_new(s->result.tool_calls, call);
	}
	if (s->result.finish_reason[0] == '\0')
		wire_finish_reason(s, "other");
	s->complete = 1;
	return 1;
}

/* ---------------------------------------------------------------- error bodies */

/*
 * OpenAI's {"error": {"message", ...}} and Anthropic's {"type": "error", "error":
 * {"type", "message"}}.  For OpenAI-compatible servers also {"error": "text"} and
 * {"object": "error", "message"} (older vLLM).  NULL for LLM_BUILTIN.
 */
char *
llm_error_message(enum llm_kind k, const char *body, size_t len)
{
	struct json_parse_error	 e;
	json_t			*v;
	const json_t		*err;
	const char		*msg = NULL, *type;
	char			*out = NULL;

	if (body == NULL || len == 0 || (k != LLM_OPENAI && k != LLM_ANTHROPIC))
		return NULL;
	if ((v = json_parse_limited(body, len, &event_limits, &e)) == NULL)
		return NULL;
	if (!json_is_object(v))
		goto out;
	err = json_object_get(v, "error");
	if (k == LLM_ANTHROPIC) {
		type = json_string_value(json_object_get(v, "type"));
		if (type != NULL && strcmp(type, "error") == 0 && json_is_object(err))
			msg = error_text(err);
	} else if (json_is_object(err) || json_is_string(err))
		msg = error_text(err);
	else if ((type = json_string_value(json_object_get(v, "object"))) != NULL &&
	    strcmp(type, "error") == 0)
		msg = json_string_value(json_object_get(v, "message"));
	if (msg != NULL)
		out = wire_truncate(msg, ERROR_MESSAGE_MAX);
out:
	json_decref(v);
	return out;
}
