/* llm_stream.h: the harness fuzz_openai.c and fuzz_anthropic.c share: one provider's
 * streamed answer (worker/llm/wire.c and the provider's file) and its error bodies. */
#ifndef SB_FUZZ_LLM_STREAM_H
#define SB_FUZZ_LLM_STREAM_H

#include <string.h>

#include "core/buf.h"
#include "worker/llm/llm.h"
#include "worker/llm/wire.h"
#include "tests/fuzz/fuzz.h"

/* Everything a stream told its caller, to compare two ways of feeding it. */
struct llm_outcome {
	struct sb_buf	 text;
	char		*summary;	/* complete, error, finish reason, usage, tool calls */
};

static void
llm_on_text(void *arg, const char *text, size_t len)
{
	struct llm_outcome *o = arg;

	FUZZ_ASSERT(len > 0);
	buf_append(&o->text, text, len);
}

static void
llm_check_result(const struct llm_stream *s)
{
	const struct llm_result	*r = llm_stream_result(s);
	const json_t		*call;
	size_t			 i, args = 0;

	FUZZ_ASSERT(json_is_array(r->tool_calls));
	if (!llm_stream_complete(s)) {
		FUZZ_ASSERT(json_array_size(r->tool_calls) == 0);
		return;
	}
	FUZZ_ASSERT(strcmp(r->finish_reason, "stop") == 0 ||
	    strcmp(r->finish_reason, "length") == 0 ||
	    strcmp(r->finish_reason, "tool_calls") == 0 ||
	    strcmp(r->finish_reason, "other") == 0);
	FUZZ_ASSERT(json_array_size(r->tool_calls) <= 128);
	json_array_foreach(r->tool_calls, i, call) {
		FUZZ_ASSERT(json_is_string(json_object_get(call, "id")));
		FUZZ_ASSERT(json_is_string(json_object_get(call, "name")));
		FUZZ_ASSERT(json_is_string(json_object_get(call, "arguments")));
		args += json_string_length(json_object_get(call, "arguments"));
	}
	FUZZ_ASSERT(args <= LLM_TOOL_ARGS_MAX + 2 * json_array_size(r->tool_calls));
}

/* Feeds buf in chunks whose sizes come from seed (0: in one piece). */
static void
llm_decode(enum llm_kind kind, const char *buf, size_t len, unsigned seed,
    struct llm_outcome *o)
{
	struct llm_stream	*s = llm_stream_new(kind, llm_on_text, o);
	const struct llm_result	*r;
	size_t			 off = 0, n;
	int			 rc = 0;
	char			*calls;

	FUZZ_ASSERT(s != NULL);
	while (off < len) {
		n = len - off;
		if (seed != 0) {
			seed = seed * 1103515245u + 12345u;
			n = 1 + (seed >> 16) % 29;
			if (n > len - off)
				n = len - off;
		}
		rc = llm_stream_feed(s, buf + off, n);
		off += n;
		FUZZ_ASSERT(rc == 0 || rc == -1);
		FUZZ_ASSERT((rc == -1) == (llm_stream_error(s)[0] != '\0'));
		if (rc < 0)
			break;
	}
	if (rc < 0)
		FUZZ_ASSERT(llm_stream_feed(s, "data: [DONE]\n\n", 14) == -1);
	llm_check_result(s);
	r = llm_stream_result(s);
	calls = json_dumps(r->tool_calls, JSON_COMPACT);
	FUZZ_ASSERT(calls != NULL);
	FUZZ_ASSERT(asprintf(&o->summary, "%d|%s|%s|%lld|%lld|%s", llm_stream_complete(s),
	    llm_stream_error(s), r->finish_reason, (long long)r->usage.prompt_tokens,
	    (long long)r->usage.completion_tokens, calls) > 0);
	free(calls);
	llm_stream_free(s);
}

/* An error body: the message is cut to 300 bytes, never inside a character. */
static void
llm_error_body(enum llm_kind kind, const char *buf, size_t len)
{
	char	*m = llm_error_message(kind, buf, len);
	json_t	*v;

	if (m == NULL)
		return;
	FUZZ_ASSERT(strlen(m) <= 300);
	v = json_string(m);
	FUZZ_ASSERT(v != NULL);
	json_decref(v);
	free(m);
}

/* A byte for the chunking, then the body of a streamed answer. */
static int
llm_fuzz(enum llm_kind kind, const uint8_t *data, size_t size)
{
	struct llm_outcome	 whole = { { 0 }, NULL }, split = { { 0 }, NULL };

	if (size < 1)
		return 0;
	llm_decode(kind, (const char *)data + 1, size - 1, 0, &whole);
	llm_decode(kind, (const char *)data + 1, size - 1, data[0] | 1u, &split);
	/* The answer must not depend on how the network cut it. */
	FUZZ_ASSERT(strcmp(whole.summary, split.summary) == 0);
	FUZZ_ASSERT(whole.text.len == split.text.len);
	FUZZ_ASSERT(whole.text.len == 0 || memcmp(whole.text.data, split.text.data, whole.text.len) == 0);
	free(whole.summary);
	free(split.summary);
	buf_free(&whole.text);
	buf_free(&split.text);
	llm_error_body(kind, (const char *)data + 1, size - 1);
	return 0;
}

#endif /* SB_FUZZ_LLM_STREAM_H */
