/* test_llm.c: the LLM wire formats: SSE, OpenAI and Anthropic streams, requests, error bodies. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "core/arena.h"
#include "core/buf.h"
#include "worker/llm/llm.h"
#include "worker/llm/wire.h"
#include "tests/unit/unit.h"

/* ---------------------------------------------------------------- fixtures */

/*
 * The streams below are byte for byte what tests/mock/llm.c writes (and what the
 * providers document): OpenAI's chat.completion.chunk events with "usage": null
 * until the usage chunk, then [DONE]; Anthropic's named events with a ping.
 */
#define OA_HEAD	"data: {\"id\":\"chatcmpl-mock1\",\"object\":\"chat.completion.chunk\"," \
	"\"created\":1700000000,\"model\":\"mock\",\"system_fingerprint\":\"fp_mock\"," \
	"\"choices\":[{\"index\":0,\"delta\":"
#define OA_CHUNK(delta, fin) OA_HEAD delta ",\"logprobs\":null,\"finish_reason\":" fin \
	"}],\"usage\":null}\n\n"
#define OA_USAGE(p, c) "data: {\"id\":\"chatcmpl-mock1\",\"object\":\"chat.completion.chunk\"," \
	"\"created\":1700000000,\"model\":\"mock\",\"system_fingerprint\":\"fp_mock\"," \
	"\"choices\":[],\"usage\":{\"prompt_tokens\":" #p ",\"completion_tokens\":" #c \
	",\"total_tokens\":0}}\n\n"
#define OA_DONE	"data: [DONE]\n\n"

static const char oa_text[] =
    OA_CHUNK("{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}", "null")
    OA_CHUNK("{\"content\":\"Echo:\"}", "null")
    OA_CHUNK("{\"content\":\" hello\"}", "null")
    OA_CHUNK("{\"content\":\" w\xc3\xb6rld\"}", "null")
    OA_CHUNK("{}", "\"stop\"")
    OA_USAGE(5, 3)
    OA_DONE;

static const char oa_tools[] =
    OA_CHUNK("{\"role\":\"assistant\",\"content\":null,\"tool_calls\":["
	"{\"index\":0,\"id\":\"call_a\",\"type\":\"function\",\"function\":"
	"{\"name\":\"search\",\"arguments\":\"\"}},"
	"{\"index\":1,\"id\":\"call_b\",\"type\":\"function\",\"function\":"
	"{\"name\":\"fetch\",\"arguments\":\"\"}}]}", "null")
    OA_CHUNK("{\"tool_calls\":[{\"index\":0,\"function\":"
	"{\"arguments\":\"{\\\"q\\\":\"}}]}", "null")
    OA_CHUNK("{\"tool_calls\":[{\"index\":1,\"function\":"
	"{\"arguments\":\"{\\\"url\\\"\"}}]}", "null")
    OA_CHUNK("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"hello\"}}]}", "null")
    OA_CHUNK("{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":\":\\\"http://x\\\"}\"}},"
	"{\"index\":0,\"function\":{\"arguments\":\" world\\\"}\"}}]}", "null")
    OA_CHUNK("{}", "\"tool_calls\"")
    OA_USAGE(12, 9)
    OA_DONE;

#define AN_EVENT(name, json) "event: " name "\ndata: " json "\n\n"
#define AN_START(in, out) AN_EVENT("message_start", "{\"type\":\"message_start\",\"message\":" \
	"{\"id\":\"msg_mock1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"mock\"," \
	"\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":" \
	"{\"input_tokens\":" #in ",\"output_tokens\":" #out "}}}")
#define AN_TEXT_START(i) AN_EVENT("content_block_start", "{\"type\":\"content_block_start\"," \
	"\"index\":" #i ",\"content_block\":{\"type\":\"text\",\"text\":\"\"}}")
#define AN_TEXT(i, t) AN_EVENT("content_block_delta", "{\"type\":\"content_block_delta\"," \
	"\"index\":" #i ",\"delta\":{\"type\":\"text_delta\",\"text\":\"" t "\"}}")
#define AN_ARGS(i, t) AN_EVENT("content_block_delta", "{\"type\":\"content_block_delta\"," \
	"\"index\":" #i ",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"" t "\"}}")
#define AN_STOP(i) AN_EVENT("content_block_stop", \
	"{\"type\":\"content_block_stop\",\"index\":" #i "}")
#define AN_PING AN_EVENT("ping", "{\"type\": \"ping\"}")
#define AN_DELTA(reason, out) AN_EVENT("message_delta", "{\"type\":\"message_delta\",\"delta\":" \
	"{\"stop_reason\":\"" reason "\",\"stop_sequence\":null},\"usage\":" \
	"{\"output_tokens\":" #out "}}")
#define AN_END AN_EVENT("message_stop", "{\"type\":\"message_stop\"}")

static const char an_text[] =
    AN_START(7, 1)
    AN_TEXT_START(0)
    AN_PING
    AN_TEXT(0, "Echo:")
    AN_TEXT(0, " hello")
    AN_TEXT(0, " w\xc3\xb6rld")
    AN_STOP(0)
    AN_DELTA("end_turn", 3)
    AN_END;

static const char an_tools[] =
    AN_START(20, 1)
    AN_TEXT_START(0)
    AN_TEXT(0, "Let me look.")
    AN_STOP(0)
    AN_EVENT("content_block_start", "{\"type\":\"content_block_start\",\"index\":1,"
	"\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_mock1\",\"name\":\"search\","
	"\"input\":{}}}")
    AN_ARGS(1, "")
    AN_ARGS(1, "{\\\"q\\\": \\\"hel")
    AN_PING
    AN_ARGS(1, "lo w")
    AN_ARGS(1, "orld\\\"}")
    AN_STOP(1)
    AN_DELTA("tool_use", 15)
    AN_END;

/* ---------------------------------------------------------------- running streams */

struct run {
	struct sb_buf	 text;
	int		 rc, complete, calls;
	char		 error[400];
	char		 finish[32];
	int64_t		 prompt, completion;
	char		*tools;		/* the tool calls, as JSON text */
};

static void
on_text(void *arg, const char *t, size_t n)
{
	struct run *r = arg;

	buf_append(&r->text, t, n);
	r->calls++;
}

static void
run_free(struct run *r)
{
	buf_free(&r->text);
	free(r->tools);
	memset(r, 0, sizeof(*r));
}

/* Feeds s to a new stream: split at cut (0: none), then in pieces of step bytes
 * (0: whole), stopping at the first -1.  r is filled with what came out. */
static void
run_split(enum llm_kind k, const char *s, size_t len, size_t cut, size_t step, struct run *r)
{
	struct llm_stream	*st;
	const struct llm_result	*res;
	size_t			 off = 0, n, end;

	memset(r, 0, sizeof(*r));
	buf_append(&r->text, "", 0);
	/* Asserted only on failure: this runs thousands of times per test. */
	if ((st = llm_stream_new(k, on_text, r)) == NULL) {
		CU_FAIL_FATAL("llm_stream_new");
		return;
	}
	while (off < len && r->rc == 0) {
		end = cut > off ? cut : len;
		n = step == 0 || end - off < step ? end - off : step;
		r->rc = llm_stream_feed(st, s + off, n);
		off += n;
	}
	r->complete = llm_stream_complete(st);
	snprintf(r->error, sizeof(r->error), "%s", llm_stream_error(st));
	res = llm_stream_result(st);
	snprintf(r->finish, sizeof(r->finish), "%s", res->finish_reason);
	r->prompt = res->usage.prompt_tokens;
	r->completion = res->usage.completion_tokens;
	if ((r->tools = json_dumps(res->tool_calls, JSON_COMPACT)) == NULL) {
		CU_FAIL("result.tool_calls is not an array");
		r->tools = sb_strdup("");
	}
	llm_stream_free(st);
}

static void
run_stream(enum llm_kind k, const char *s, size_t step, struct run *r)
{
	run_split(k, s, strlen(s), 0, step, r);
}

/* Whether two runs saw the same; the number of text callbacks may differ. */
static int
run_same(const struct run *a, const struct run *b)
{
	return a->rc == b->rc && a->complete == b->complete &&
	    strcmp(a->text.data, b->text.data) == 0 && strcmp(a->error, b->error) == 0 &&
	    strcmp(a->finish, b->finish) == 0 && a->prompt == b->prompt &&
	    a->completion == b->completion && strcmp(a->tools, b->tools) == 0;
}

/*
 * Fed whole, one byte at a time, in pieces of 7 bytes, and cut in two at every
 * byte, s gives the same result.  Returns the whole run in r.
 */
static void
check_splits(enum llm_kind k, const char *s, struct run *r)
{
	struct run	 o;
	size_t		 cut, len = strlen(s), bad = 0;

	run_stream(k, s, 0, r);
	run_stream(k, s, 1, &o);
	CU_ASSERT(run_same(r, &o));
	UNIT_ASSERT_STR(o.text.data, r->text.data);
	run_free(&o);
	run_stream(k, s, 7, &o);
	CU_ASSERT(run_same(r, &o));
	run_free(&o);
	for (cut = 1; cut < len; cut++) {
		run_split(k, s, len, cut, 0, &o);
		if (!run_same(r, &o))
			bad++;
		run_free(&o);
	}
	UNIT_ASSERT_INT(bad, 0);
}

/* s with every "\n" written as eol. */
static char *
with_eol(const char *s, const char *eol)
{
	struct sb_buf	 b = { 0 };

	buf_append(&b, "", 0);
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			buf_append(&b, eol, strlen(eol));
		else
			buf_append(&b, s, 1);
	}
	return b.data;
}

/* Appends an event carrying v (taken), named unless name is NULL. */
static void
add_event(struct sb_buf *b, const char *name, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT);

	if (s == NULL)
		CU_FAIL_FATAL("add_event: json_pack failed");
	json_decref(v);
	if (name != NULL) {
		buf_append(b, "event: ", 7);
		buf_append(b, name, strlen(name));
		buf_append(b, "\n", 1);
	}
	buf_append(b, "data: ", 6);
	buf_append(b, s, strlen(s));
	buf_append(b, "\n\n", 2);
	free(s);
}

/* ---------------------------------------------------------------- eventparse.c */

static int
collect(void *arg, const struct evp_event *ev)
{
	struct sb_buf *b = arg;

	buf_append(b, ev->type, strlen(ev->type));
	buf_append(b, "|", 1);
	buf_append(b, ev->id, strlen(ev->id));
	buf_append(b, "|", 1);
	buf_append(b, ev->data, ev->len);
	buf_append(b, ";", 1);
	return 0;
}

/* The events s decodes to, fed whole and fed a byte at a time. */
static void
check_evp(const char *s, const char *want)
{
	struct evp_parser	 d;
	struct sb_buf		 b = { 0 };
	size_t			 i, bad = 0;

	buf_append(&b, "", 0);
	evp_init(&d, 1024, collect, &b);
	UNIT_ASSERT_INT(evp_feed(&d, s, strlen(s)), 0);
	UNIT_ASSERT_STR(b.data, want);
	evp_free(&d);
	b.len = 0;
	b.data[0] = '\0';
	evp_init(&d, 1024, collect, &b);
	for (i = 0; s[i] != '\0'; i++)
		if (evp_feed(&d, s + i, 1) != 0)
			bad++;
	UNIT_ASSERT_INT(bad, 0);
	UNIT_ASSERT_STR(b.data, want);
	evp_free(&d);
	buf_free(&b);
}

static void
test_evp_fields(void)
{
	check_evp("event: a\ndata: 1\ndata:2\nid: 7\n\n", "a|7|1\n2;");
	check_evp("data:  two spaces\n\n", "message|| two spaces;");
	check_evp("data\n\n", "message||;");		/* a field without a colon */
	check_evp("data:\ndata:\n\n", "message||\n;");
	check_evp("retry: 100\nfoo: bar\ndata: z\n\n", "message||z;");
	check_evp("id: 1\ndata: a\n\ndata: b\n\n", "message|1|a;message|1|b;");
	check_evp("\xef\xbb\xbf" "data: bom\n\n", "message||bom;");
	check_evp("data: {\"a\":1}", "");		/* no blank line: not dispatched */
}

static void
test_evp_no_data(void)
{
	/* An event without data is not dispatched, and its type does not carry over. */
	check_evp("event: x\n\ndata: y\n\n", "message||y;");
	check_evp(": a comment\n\n:\n\n", "");
	check_evp(": keep-alive\ndata: after\n\n", "message||after;");
}

static void
test_evp_line_endings(void)
{
	check_evp("data: a\r\rdata: b\r\n\r\ndata: c\n\n", "message||a;message||b;message||c;");
	check_evp("data: x\r\ndata: y\r\n\r\n", "message||x\ny;");
	check_evp("data: x\rdata: y\r\r", "message||x\ny;");
	check_evp("data: x\n\r\n", "message||x;");
}

static int
stop_at_first(void *arg, const struct evp_event *ev)
{
	(void)ev;
	(*(int *)arg)++;
	return 5;
}

static void
test_evp_bounds(void)
{
	struct evp_parser	 d;
	char			 line[40];
	int			 n = 0;

	/* The callback stops the decoder: its value comes back, the rest is left. */
	evp_init(&d, 64, stop_at_first, &n);
	UNIT_ASSERT_INT(evp_feed(&d, "data: 1\n\ndata: 2\n\n", 18), 5);
	UNIT_ASSERT_INT(n, 1);
	evp_free(&d);

	/* A line over max bytes, buffered across calls, is an error. */
	evp_init(&d, 64, collect, NULL);
	memset(line, 'x', sizeof(line));
	UNIT_ASSERT_INT(evp_feed(&d, line, sizeof(line)), 0);
	UNIT_ASSERT_INT(evp_feed(&d, line, sizeof(line)), -1);
	UNIT_ASSERT_CONTAINS(d.err, "line over 64 bytes");
	UNIT_ASSERT_INT(evp_feed(&d, "\n\n", 2), -1);
	evp_free(&d);

	/* So is data over max bytes, in short lines. */
	evp_init(&d, 64, collect, NULL);
	for (n = 0; n < 10; n++)
		if (evp_feed(&d, "data: 0123456789\n", 17) != 0)
			break;
	UNIT_ASSERT_INT(n, 5);		/* 5 lines of 11 bytes fit in 64, 6 do not */
	UNIT_ASSERT_CONTAINS(d.err, "event over 64 bytes");
	evp_free(&d);
}

/* ---------------------------------------------------------------- OpenAI streams */

static void
test_openai_text(void)
{
	struct run r;

	check_splits(LLM_OPENAI, oa_text, &r);
	UNIT_ASSERT_INT(r.rc, 0);
	UNIT_ASSERT_INT(r.complete, 1);
	UNIT_ASSERT_STR(r.error, "");
	UNIT_ASSERT_STR(r.text.data, "Echo: hello w\xc3\xb6rld");
	UNIT_ASSERT_INT(r.calls, 3);		/* the empty first content is not passed on */
	UNIT_ASSERT_STR(r.finish, "stop");
	UNIT_ASSERT_INT(r.prompt, 5);
	UNIT_ASSERT_INT(r.completion, 3);
	UNIT_ASSERT_STR(r.tools, "[]");
	run_free(&r);
}

static void
test_openai_crlf(void)
{
	struct run	 lf, r;
	char		*s;

	run_stream(LLM_OPENAI, oa_text, 0, &lf);
	s = with_eol(oa_text, "\r\n");
	check_splits(LLM_OPENAI, s, &r);
	CU_ASSERT(run_same(&lf, &r));
	UNIT_ASSERT_STR(r.text.data, "Echo: hello w\xc3\xb6rld");
	UNIT_ASSERT_INT(r.complete, 1);
	run_free(&r);
	free(s);
	s = with_eol(oa_text, "\r");
	run_stream(LLM_OPENAI, s, 1, &r);
	CU_ASSERT(run_same(&lf, &r));
	run_free(&r);
	free(s);
	run_free(&lf);
}

/* Comments (keep-alives) anywhere, and a chunk's JSON over two data lines. */
static void
test_openai_comments_multiline(void)
{
	static const char s[] =
	    ": OPENROUTER PROCESSING\n\n"
	    OA_CHUNK("{\"content\":\"A\"}", "null")
	    ": keep-alive\n"
	    "data: {\"choices\":[{\"index\":0,\n"
	    ": between the lines\n"
	    "data: \"delta\":{\"content\":\"B\"},\"finish_reason\":null}]}\n"
	    "\n"
	    "id: 3\n"
	    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}\n\n"
	    ":\n\n"
	    OA_DONE;
	struct run	 r, crlf;
	char		*t;

	check_splits(LLM_OPENAI, s, &r);
	UNIT_ASSERT_INT(r.rc, 0);
	UNIT_ASSERT_STR(r.text.data, "AB");
	UNIT_ASSERT_STR(r.finish, "length");
	UNIT_ASSERT_INT(r.complete, 1);
	UNIT_ASSERT_INT(r.prompt, 0);		/* no usage chunk */
	/* A CRLF between two data lines ends one line, not the event. */
	t = with_eol(s, "\r\n");
	check_splits(LLM_OPENAI, t, &crlf);
	CU_ASSERT(run_same(&r, &crlf));
	UNIT_ASSERT_STR(crlf.error, "");
	run_free(&crlf);
	free(t);
	run_free(&r);
}

static void
test_openai_tool_calls(void)
{
	struct run	 r;
	json_t		*calls, *c;

	check_splits(LLM_OPENAI, oa_tools, &r);
	UNIT_ASSERT_INT(r.rc, 0);
	UNIT_ASSERT_INT(r.complete, 1);
	UNIT_ASSERT_STR(r.text.data, "");
	UNIT_ASSERT_STR(r.finish, "tool_calls");
	UNIT_ASSERT_INT(r.prompt, 12);
	UNIT_ASSERT_INT(r.completion, 9);
	calls = json_loads(r.tools, 0, NULL);
	CU_ASSERT_FATAL(json_is_array(calls));
	UNIT_ASSERT_INT(json_array_size(calls), 2);
	c = json_array_get(calls, 0);
	UNIT_ASSERT_STR(json_string_value(json_object_get(c, "id")), "call_a");
	UNIT_ASSERT_STR(json_string_value(json_object_get(c, "name")), "search");
	UNIT_ASSERT_STR(json_string_value(json_object_get(c, "arguments")),
	    "{\"q\":\"hello world\"}");
	c = json_array_get(calls, 1);
	UNIT_ASSERT_STR(json_string_value(json_object_get(c, "id")), "call_b");
	UNIT_ASSERT_STR(json_string_value(json_object_get(c, "name")), "fetch");
	UNIT_ASSERT_STR(json_string_value(json_object_get(c, "arguments")),
	    "{\"url\":\"http://x\"}");
	json_decref(calls);
	run_free(&r);
}

/* A long argument string in pieces of 3 bytes, as many deltas; a call that
 * wrote no arguments gets "{}". */
static void
test_openai_tool_many_deltas(void)
{
	struct sb_buf	 b = { 0 };
	struct run	 r, one;
	json_t		*calls;
	char		 args[2048];
	size_t		 i, n, len;

	len = (size_t)snprintf(args, sizeof(args), "{\"q\": \"");
	for (i = 0; i < 300; i++)
		len += (size_t)snprintf(args + len, sizeof(args) - len, "w%zu ", i);
	len += (size_t)snprintf(args + len, sizeof(args) - len, "\"}");
	add_event(&b, NULL, json_pack("{s:[{s:i, s:{s:s, s:[{s:i, s:s, s:s, s:{s:s, s:s}}]}}]}",
	    "choices", "index", 0, "delta", "role", "assistant", "tool_calls", "index", 0,
	    "id", "call_1", "type", "function", "function", "name", "lookup",
	    "arguments", ""));
	for (i = 0; i < len; i += n) {
		n = len - i < 3 ? len - i : 3;
		add_event(&b, NULL, json_pack("{s:[{s:i, s:{s:[{s:i, s:{s:s%}}]}}]}", "choices",
		    "index", 0, "delta", "tool_calls", "index", 0, "function", "arguments",
		    args + i, n));
	}
	add_event(&b, NULL, json_pack("{s:[{s:i, s:{s:[{s:i, s:s, s:s, s:{s:s}}]}}]}",
	    "choices", "index", 0, "delta", "tool_calls", "index", 1, "id", "call_2",
	    "type", "function", "function", "name", "now"));
	add_event(&b, NULL, json_pack("{s:[{s:i, s:{}, s:s}]}", "choices", "index", 0, "delta",
	    "finish_reason", "tool_calls"));
	buf_append(&b, OA_DONE, strlen(OA_DONE));

	run_stream(LLM_OPENAI, b.data, 0, &r);
	run_stream(LLM_OPENAI, b.data, 1, &one);
	CU_ASSERT(run_same(&r, &one));
	UNIT_ASSERT_INT(r.rc, 0);
	UNIT_ASSERT_INT(r.complete, 1);
	calls = json_loads(r.tools, 0, NULL);
	UNIT_ASSERT_INT(json_array_size(calls), 2);
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_array_get(calls, 0),
	    "arguments")), args);
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_array_get(calls, 1), "name")),
	    "now");
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_array_get(calls, 1),
	    "arguments")), "{}");
	json_decref(calls);
	run_free(&r);
	run_free(&one);
	buf_free(&b);
}

static void
check_openai_finish(const char *reason, const char *want)
{
	struct sb_buf	 b = { 0 };
	struct run	 r;

	add_event(&b, NULL, json_pack("{s:[{s:i, s:{s:s}, s:n}]}", "choices", "index", 0,
	    "delta", "content", "x", "finish_reason"));
	add_event(&b, NULL, json_pack("{s:[{s:i, s:{}, s:s}]}", "choices", "index", 0, "delta",
	    "finish_reason", reason));
	buf_append(&b, OA_DONE, strlen(OA_DONE));
	run_stream(LLM_OPENAI, b.data, 0, &r);
	UNIT_ASSERT_INT(r.rc, 0);
	UNIT_ASSERT_STR(r.finish, want);
	run_free(&r);
	buf_free(&b);
}

static void
test_openai_finish_reasons(void)
{
	check_openai_finish("stop", "stop");
	check_openai_finish("length", "length");
	check_openai_finish("tool_calls", "tool_calls");
	check_openai_finish("content_filter", "other");
	check_openai_finish("function_call", "other");
}

/* The event tests/mock/llm.c sends for malformed=: JSON cut short. */
static void
test_openai_malformed(void)
{
	static const char s[] =
	    OA_CHUNK("{\"content\":\"Echo:\"}", "null")
	    "data: {\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\",\"choices\":"
	    "[{\"index\":0,\"delta\":{\"content\":\"malformed\n\n"
	    OA_CHUNK("{\"content\":\" after\"}", "null")
	    OA_DONE;
	struct llm_stream	*st;
	struct run		 r;

	check_splits(LLM_OPENAI, s, &r);
	UNIT_ASSERT_INT(r.rc, -1);
	UNIT_ASSERT_INT(r.complete, 0);
	UNIT_ASSERT_STR(r.text.data, "Echo:");	/* nothing after the bad event */
	UNIT_ASSERT_CONTAINS(r.error, "malformed openai event");
	run_free(&r);

	/* Valid JSON that is not an object is malformed too; the stream stays failed. */
	st = llm_stream_new(LLM_OPENAI, NULL, NULL);
	UNIT_ASSERT_INT(llm_stream_feed(st, "data: [1,2]\n\n", 13), -1);
	UNIT_ASSERT_CONTAINS(llm_stream_error(st), "not a JSON object");
	UNIT_ASSERT_INT(llm_stream_feed(st, OA_DONE, strlen(OA_DONE)), -1);
	UNIT_ASSERT_INT(llm_stream_complete(st), 0);
	llm_stream_free(st);
}

static void
test_openai_error_event(void)
{
	static const char s[] =
	    OA_CHUNK("{\"content\":\"Echo:\"}", "null")
	    "data: {\"error\":{\"message\":\"The server had an error while processing your "
	    "request. Sorry about that!\",\"type\":\"server_error\",\"param\":null,"
	    "\"code\":null}}\n\n";
	struct run r;

	check_splits(LLM_OPENAI, s, &r);
	UNIT_ASSERT_INT(r.rc, -1);
	UNIT_ASSERT_INT(r.complete, 0);
	UNIT_ASSERT_CONTAINS(r.error, "The server had an error while processing your request.");
	UNIT_ASSERT_CONTAINS(r.error, "server_error");
	run_free(&r);
}

static void
test_openai_truncated(void)
{
	const char	*done = strstr(oa_text, OA_DONE);
	size_t		 cuts[3];
	struct run	 r;
	int		 i;

	/* Before [DONE], in the middle of an event, in the middle of a line. */
	cuts[0] = (size_t)(done - oa_text);
	cuts[1] = cuts[0] - 20;
	cuts[2] = cuts[0] + 8;
	for (i = 0; i < 3; i++) {
		run_split(LLM_OPENAI, oa_text, cuts[i], 0, 0, &r);
		UNIT_ASSERT_INT(r.rc, 0);
		UNIT_ASSERT_INT(r.complete, 0);
		UNIT_ASSERT_STR(r.error, "");
		run_free(&r);
	}
	/* [DONE] without its blank line has not ended the stream yet. */
	run_split(LLM_OPENAI, oa_text, strlen(oa_text) - 1, 0, 0, &r);
	UNIT_ASSERT_INT(r.complete, 0);
	run_free(&r);
}

/* What follows [DONE] is ignored, even garbage. */
static void
test_openai_after_done(void)
{
	struct llm_stream	*st = llm_stream_new(LLM_OPENAI, NULL, NULL);
	static const char	 s[] = OA_DONE "data: {{{\n\n";

	UNIT_ASSERT_INT(llm_stream_feed(st, s, strlen(s)), 0);
	UNIT_ASSERT_INT(llm_stream_feed(st, "data: x\n\n", 9), 0);
	UNIT_ASSERT_INT(llm_stream_complete(st), 1);
	UNIT_ASSERT_STR(llm_stream_error(st), "");
	UNIT_ASSERT_STR(llm_stream_result(st)->finish_reason, "other");	/* none was given */
	llm_stream_free(st);
}

/* ---------------------------------------------------------------- Anthropic streams */

static void
test_anthropic_text(void)
{
	struct run	 r, lf;
	char		*s;

	check_splits(LLM_ANTHROPIC, an_text, &r);
	UNIT_ASSERT_INT(r.rc, 0);
	UNIT_ASSERT_INT(r.complete, 1);
	UNIT_ASSERT_STR(r.error, "");
	UNIT_ASSERT_STR(r.text.data, "Echo: hello w\xc3\xb6rld");
	UNIT_ASSERT_INT(r.calls, 3);
	UNIT_ASSERT_STR(r.finish, "stop");
	UNIT_ASSERT_INT(r.prompt, 7);
	UNIT_ASSERT_INT(r.completion, 3);
	UNIT_ASSERT_STR(r.tools, "[]");

	/* The same with CRLF. */
	s = with_eol(an_text, "\r\n");
	check_splits(LLM_ANTHROPIC, s, &lf);
	CU_ASSERT(run_same(&r, &lf));
	run_free(&lf);
	free(s);
	run_free(&r);
}

static void
test_anthropic_tool_use(void)
{
	struct run	 r;
	json_t		*calls, *c;

	check_splits(LLM_ANTHROPIC, an_tools, &r);
	UNIT_ASSERT_INT(r.rc, 0);
	UNIT_ASSERT_INT(r.complete, 1);
	UNIT_ASSERT_STR(r.text.data, "Let me look.");
	UNIT_ASSERT_STR(r.finish, "tool_calls");
	UNIT_ASSERT_INT(r.prompt, 20);
	UNIT_ASSERT_INT(r.completion, 15);
	calls = json_loads(r.tools, 0, NULL);
	CU_ASSERT_FATAL(json_is_array(calls));
	UNIT_ASSERT_INT(json_array_size(calls), 1);
	c = json_array_get(calls, 0);
	UNIT_ASSERT_STR(json_string_value(json_object_get(c, "id")), "toolu_mock1");
	UNIT_ASSERT_STR(json_string_value(json_object_get(c, "name")), "search");
	UNIT_ASSERT_STR(json_string_value(json_object_get(c, "arguments")),
	    "{\"q\": \"hello world\"}");
	json_decref(calls);
	run_free(&r);
}

/* Arguments in pieces of 5 bytes with pings between, as tests/mock/llm.c sends
 * them; a tool_use block without deltas gets "{}". */
static void
test_anthropic_tool_many_deltas(void)
{
	struct sb_buf	 b = { 0 };
	struct run	 r, one;
	json_t		*calls;
	char		 args[2048];
	size_t		 i, n, len;

	len = (size_t)snprintf(args, sizeof(args), "{\"q\": \"");
	for (i = 0; i < 250; i++)
		len += (size_t)snprintf(args + len, sizeof(args) - len, "\xc3\xa9%zu ", i);
	len += (size_t)snprintf(args + len, sizeof(args) - len, "\"}");
	add_event(&b, "message_start", json_pack("{s:s, s:{s:{s:i, s:i}}}", "type",
	    "message_start", "message", "usage", "input_tokens", 3, "output_tokens", 1));
	add_event(&b, "content_block_start", json_pack("{s:s, s:i, s:{s:s, s:s, s:s, s:{}}}",
	    "type", "content_block_start", "index", 0, "content_block", "type", "tool_use",
	    "id", "toolu_1", "name", "lookup", "input"));
	for (i = 0; i < len; i += n) {
		/* Whole characters, as the provider sends them. */
		for (n = len - i < 5 ? len - i : 5; i + n < len &&
		    ((unsigned char)args[i + n] & 0xc0) == 0x80; n++)
			;
		add_event(&b, "content_block_delta", json_pack("{s:s, s:i, s:{s:s, s:s%}}",
		    "type", "content_block_delta", "index", 0, "delta", "type",
		    "input_json_delta", "partial_json", args + i, n));
		if (i % 50 == 0)
			add_event(&b, "ping", json_pack("{s:s}", "type", "ping"));
	}
	add_event(&b, "content_block_stop", json_pack("{s:s, s:i}", "type",
	    "content_block_stop", "index", 0));
	add_event(&b, "content_block_start", json_pack("{s:s, s:i, s:{s:s, s:s, s:s, s:{}}}",
	    "type", "content_block_start", "index", 1, "content_block", "type", "tool_use",
	    "id", "toolu_2", "name", "now", "input"));
	add_event(&b, "content_block_stop", json_pack("{s:s, s:i}", "type",
	    "content_block_stop", "index", 1));
	add_event(&b, "message_delta", json_pack("{s:s, s:{s:s}, s:{s:i}}", "type",
	    "message_delta", "delta", "stop_reason", "tool_use", "usage", "output_tokens", 200));
	add_event(&b, "message_stop", json_pack("{s:s}", "type", "message_stop"));

	run_stream(LLM_ANTHROPIC, b.data, 0, &r);
	run_stream(LLM_ANTHROPIC, b.data, 1, &one);
	CU_ASSERT(run_same(&r, &one));
	UNIT_ASSERT_INT(r.rc, 0);
	UNIT_ASSERT_STR(r.error, "");
	UNIT_ASSERT_INT(r.complete, 1);
	UNIT_ASSERT_INT(r.completion, 200);
	calls = json_loads(r.tools, 0, NULL);
	UNIT_ASSERT_INT(json_array_size(calls), 2);
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_array_get(calls, 0),
	    "arguments")), args);
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_array_get(calls, 1), "id")),
	    "toolu_2");
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_array_get(calls, 1),
	    "arguments")), "{}");
	json_decref(calls);
	run_free(&r);
	run_free(&one);
	buf_free(&b);
}

static void
check_anthropic_stop(const char *reason, const char *want)
{
	struct sb_buf	 b = { 0 };
	struct run	 r;

	add_event(&b, "message_start", json_pack("{s:s, s:{s:{s:i}}}", "type", "message_start",
	    "message", "usage", "input_tokens", 4));
	add_event(&b, "message_delta", json_pack("{s:s, s:{s:s}, s:{s:i}}", "type",
	    "message_delta", "delta", "stop_reason", reason, "usage", "output_tokens", 2));
	add_event(&b, "message_stop", json_pack("{s:s}", "type", "message_stop"));
	run_stream(LLM_ANTHROPIC, b.data, 0, &r);
	UNIT_ASSERT_INT(r.rc, 0);
	UNIT_ASSERT_INT(r.complete, 1);
	UNIT_ASSERT_STR(r.finish, want);
	UNIT_ASSERT_INT(r.prompt, 4);
	UNIT_ASSERT_INT(r.completion, 2);
	run_free(&r);
	buf_free(&b);
}

static void
test_anthropic_stop_reasons(void)
{
	check_anthropic_stop("end_turn", "stop");
	check_anthropic_stop("stop_sequence", "stop");
	check_anthropic_stop("max_tokens", "length");
	check_anthropic_stop("tool_use", "tool_calls");
	check_anthropic_stop("refusal", "other");
	check_anthropic_stop("pause_turn", "other");
}

static void
test_anthropic_error_event(void)
{
	static const char s[] =
	    AN_START(7, 1)
	    AN_TEXT_START(0)
	    AN_TEXT(0, "Echo:")
	    "event: error\n"
	    "data: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
	    "\"message\":\"Overloaded\"}}\n\n"
	    AN_TEXT(0, " more");
	struct run r;

	check_splits(LLM_ANTHROPIC, s, &r);
	UNIT_ASSERT_INT(r.rc, -1);
	UNIT_ASSERT_INT(r.complete, 0);
	UNIT_ASSERT_STR(r.text.data, "Echo:");
	UNIT_ASSERT_CONTAINS(r.error, "Overloaded");
	UNIT_ASSERT_CONTAINS(r.error, "overloaded_error");
	run_free(&r);
}

static void
test_anthropic_malformed(void)
{
	static const char s[] =
	    AN_START(7, 1)
	    AN_TEXT_START(0)
	    AN_TEXT(0, "Echo:")
	    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
	    "\"delta\":{\"type\":\"text_delta\",\"text\":\"malformed\n\n"
	    AN_TEXT(0, " more")
	    AN_STOP(0)
	    AN_DELTA("end_turn", 3)
	    AN_END;
	static const char orphan[] =
	    AN_START(1, 1)
	    AN_TEXT_START(0)
	    AN_ARGS(0, "{}");
	struct run r;

	check_splits(LLM_ANTHROPIC, s, &r);
	UNIT_ASSERT_INT(r.rc, -1);
	UNIT_ASSERT_INT(r.complete, 0);
	UNIT_ASSERT_STR(r.text.data, "Echo:");
	UNIT_ASSERT_CONTAINS(r.error, "malformed anthropic event");
	run_free(&r);

	/* Arguments for a block that is not a tool_use block. */
	run_stream(LLM_ANTHROPIC, orphan, 0, &r);
	UNIT_ASSERT_INT(r.rc, -1);
	UNIT_ASSERT_CONTAINS(r.error, "not a tool_use block");
	run_free(&r);
}

static void
test_anthropic_truncated(void)
{
	const char	*stop = strstr(an_text, "event: message_stop");
	struct run	 r;

	/* message_delta came, message_stop did not: not complete, no error. */
	run_split(LLM_ANTHROPIC, an_text, (size_t)(stop - an_text), 0, 0, &r);
	UNIT_ASSERT_INT(r.rc, 0);
	UNIT_ASSERT_INT(r.complete, 0);
	UNIT_ASSERT_STR(r.error, "");
	UNIT_ASSERT_STR(r.finish, "stop");
	UNIT_ASSERT_STR(r.text.data, "Echo: hello w\xc3\xb6rld");
	run_free(&r);
	/* Cut inside the data line of message_stop. */
	run_split(LLM_ANTHROPIC, an_text, strlen(an_text) - 5, 0, 0, &r);
	UNIT_ASSERT_INT(r.complete, 0);
	UNIT_ASSERT_STR(r.error, "");
	run_free(&r);
}

/* ---------------------------------------------------------------- bounds */

/* Feeds "data: " and x's in pieces of 64 KiB until the stream fails: it must fail
 * within a piece of LLM_EVENT_MAX, and keep failing. */
static void
check_event_bound(enum llm_kind k, const char *prefix, int newlines)
{
	struct llm_stream	*st = llm_stream_new(k, NULL, NULL);
	size_t			 piece = 64 * 1024, fed;
	char			*buf = sb_malloc(piece);
	int			 rc = 0;

	memset(buf, 'x', piece);
	if (newlines)
		for (fed = 1000; fed < piece; fed += 1000)
			memcpy(buf + fed - 7, "\ndata: ", 7);
	fed = strlen(prefix);
	UNIT_ASSERT_INT(llm_stream_feed(st, prefix, fed), 0);
	while (fed <= 4 * (size_t)LLM_EVENT_MAX && (rc = llm_stream_feed(st, buf, piece)) == 0)
		fed += piece;
	UNIT_ASSERT_INT(rc, -1);
	CU_ASSERT(fed <= (size_t)LLM_EVENT_MAX + piece);
	UNIT_ASSERT_CONTAINS(llm_stream_error(st), "over 1048576 bytes");
	UNIT_ASSERT_INT(llm_stream_feed(st, "\n\n", 2), -1);
	llm_stream_free(st);
	free(buf);
}

static void
test_event_too_large(void)
{
	check_event_bound(LLM_OPENAI, "data: ", 0);		/* one long line */
	check_event_bound(LLM_ANTHROPIC, "event: content_block_delta\ndata: ", 1);	/* many */
	check_event_bound(LLM_OPENAI, ": ", 0);		/* a comment is a line too */
}

/* An event just under the bound is fine: its text comes through whole. */
static void
test_event_near_bound(void)
{
	struct sb_buf	 b = { 0 };
	struct run	 r;
	char		*big;
	size_t		 n = LLM_EVENT_MAX - 200;

	big = sb_malloc(n + 1);
	memset(big, 'y', n);
	big[n] = '\0';
	add_event(&b, NULL, json_pack("{s:[{s:i, s:{s:s}}]}", "choices", "index", 0,
	    "delta", "content", big));
	buf_append(&b, OA_DONE, strlen(OA_DONE));
	run_stream(LLM_OPENAI, b.data, 4096, &r);
	UNIT_ASSERT_INT(r.rc, 0);
	UNIT_ASSERT_INT(r.complete, 1);
	UNIT_ASSERT_INT(r.text.len, n);
	run_free(&r);
	buf_free(&b);
	free(big);
}

/* Tool arguments over LLM_TOOL_ARGS_MAX fail the stream. */
static void
test_tool_args_too_large(void)
{
	struct llm_stream	*st = llm_stream_new(LLM_ANTHROPIC, NULL, NULL);
	struct sb_buf		 b = { 0 };
	char			*piece;
	size_t			 n = 60 * 1024, i;
	int			 rc = 0;

	piece = sb_malloc(n + 1);
	memset(piece, 'z', n);
	piece[n] = '\0';
	add_event(&b, "content_block_start", json_pack("{s:s, s:i, s:{s:s, s:s, s:s}}",
	    "type", "content_block_start", "index", 0, "content_block", "type", "tool_use",
	    "id", "toolu_1", "name", "big"));
	UNIT_ASSERT_INT(llm_stream_feed(st, b.data, b.len), 0);
	b.len = 0;
	add_event(&b, "content_block_delta", json_pack("{s:s, s:i, s:{s:s, s:s}}",
	    "type", "content_block_delta", "index", 0, "delta", "type", "input_json_delta",
	    "partial_json", piece));
	for (i = 0; i < 40 && (rc = llm_stream_feed(st, b.data, b.len)) == 0; i++)
		;
	UNIT_ASSERT_INT(rc, -1);
	UNIT_ASSERT_INT(i, LLM_TOOL_ARGS_MAX / n);
	UNIT_ASSERT_CONTAINS(llm_stream_error(st), "tool arguments over");
	llm_stream_free(st);
	buf_free(&b);
	free(piece);
}

/* ---------------------------------------------------------------- requests */

static void
test_kinds(void)
{
	UNIT_ASSERT_INT(llm_kind_parse("openai"), LLM_OPENAI);
	UNIT_ASSERT_INT(llm_kind_parse("anthropic"), LLM_ANTHROPIC);
	UNIT_ASSERT_INT(llm_kind_parse("builtin"), LLM_BUILTIN);
	UNIT_ASSERT_INT(llm_kind_parse("OpenAI"), -1);
	UNIT_ASSERT_INT(llm_kind_parse(""), -1);
	UNIT_ASSERT_INT(llm_kind_parse(NULL), -1);
	UNIT_ASSERT_STR(llm_kind_name(LLM_OPENAI), "openai");
	UNIT_ASSERT_STR(llm_kind_name(LLM_ANTHROPIC), "anthropic");
	UNIT_ASSERT_STR(llm_kind_name(LLM_BUILTIN), "builtin");
	UNIT_ASSERT_STR(llm_request_path(LLM_OPENAI), "/chat/completions");
	UNIT_ASSERT_STR(llm_request_path(LLM_ANTHROPIC), "/messages");
	CU_ASSERT_PTR_NULL(llm_request_path(LLM_BUILTIN));
	CU_ASSERT_PTR_NULL(llm_stream_new(LLM_BUILTIN, NULL, NULL));
}

static json_t *
sample_messages(void)
{
	return json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]", "role", "user", "content",
	    "hello there", "role", "assistant", "content", "Echo: hello there", "role", "user",
	    "content", "and now?");
}

static json_t *
sample_tools(void)
{
	return json_pack("[{s:s, s:s, s:{s:s, s:{s:{s:s}}, s:[s]}}, {s:s}]",
	    "name", "search", "description", "Search the web",
	    "parameters", "type", "object", "properties", "q", "type", "string", "required", "q",
	    "name", "now");
}

/* body as JSON; the test fails (and returns NULL) if it is not. */
static json_t *
body_json(enum llm_kind k, const struct llm_request *r, char **text)
{
	char	*s = llm_request_body(k, r);
	json_t	*v;

	CU_ASSERT_PTR_NOT_NULL(s);
	if (s == NULL)
		return NULL;
	v = json_loads(s, 0, NULL);
	CU_ASSERT(json_is_object(v));
	if (text != NULL)
		*text = s;
	else
		free(s);
	return v;
}

static void
test_openai_body(void)
{
	struct llm_request	 r;
	json_t			*msgs = sample_messages(), *tools = sample_tools();
	json_t			*v, *m, *t;
	char			*text;

	memset(&r, 0, sizeof(r));
	r.model = "gpt-4o-mini";
	r.system = "Be brief.";
	r.messages = msgs;
	r.temperature = 0.7;
	r.top_p = 0.9;
	r.max_tokens = 100;
	r.tools = tools;
	if ((v = body_json(LLM_OPENAI, &r, &text)) == NULL)
		goto out;
	UNIT_ASSERT_STR(json_string_value(json_object_get(v, "model")), "gpt-4o-mini");
	CU_ASSERT_PTR_NULL(json_object_get(v, "system"));
	m = json_object_get(v, "messages");
	UNIT_ASSERT_INT(json_array_size(m), 4);
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_array_get(m, 0), "role")), "system");
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_array_get(m, 0), "content")),
	    "Be brief.");
	CU_ASSERT(json_equal(json_array_get(m, 1), json_array_get(msgs, 0)));
	CU_ASSERT(json_equal(json_array_get(m, 3), json_array_get(msgs, 2)));
	CU_ASSERT(json_is_true(json_object_get(v, "stream")));
	CU_ASSERT(json_is_true(json_object_get(json_object_get(v, "stream_options"),
	    "include_usage")));
	UNIT_ASSERT_CONTAINS(text, "\"temperature\":0.7");
	UNIT_ASSERT_CONTAINS(text, "\"top_p\":0.9");
	UNIT_ASSERT_INT(json_integer_value(json_object_get(v, "max_tokens")), 100);
	CU_ASSERT_PTR_NULL(json_object_get(v, "max_completion_tokens"));
	t = json_object_get(v, "tools");
	UNIT_ASSERT_INT(json_array_size(t), 2);
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_array_get(t, 0), "type")),
	    "function");
	m = json_object_get(json_array_get(t, 0), "function");
	UNIT_ASSERT_STR(json_string_value(json_object_get(m, "name")), "search");
	UNIT_ASSERT_STR(json_string_value(json_object_get(m, "description")), "Search the web");
	CU_ASSERT(json_equal(json_object_get(m, "parameters"),
	    json_object_get(json_array_get(tools, 0), "parameters")));
	m = json_object_get(json_array_get(t, 1), "function");
	UNIT_ASSERT_STR(json_string_value(json_object_get(m, "name")), "now");
	CU_ASSERT_PTR_NULL(json_object_get(m, "parameters"));
	json_decref(v);
	free(text);

	/* Nothing unset is sent; 0 is a temperature. */
	r.system = "";
	r.temperature = 0;
	r.top_p = 0;
	r.max_tokens = 0;
	r.tools = NULL;
	if ((v = body_json(LLM_OPENAI, &r, NULL)) == NULL)
		goto out;
	UNIT_ASSERT_INT(json_array_size(json_object_get(v, "messages")), 3);
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_array_get(json_object_get(v,
	    "messages"), 0), "role")), "user");
	CU_ASSERT(json_is_number(json_object_get(v, "temperature")));
	CU_ASSERT_PTR_NULL(json_object_get(v, "top_p"));
	CU_ASSERT_PTR_NULL(json_object_get(v, "max_tokens"));
	CU_ASSERT_PTR_NULL(json_object_get(v, "tools"));
	json_decref(v);
	r.temperature = -1;
	r.tools = json_array();		/* OpenAI refuses an empty tools array */
	if ((v = body_json(LLM_OPENAI, &r, NULL)) == NULL)
		goto out;
	CU_ASSERT_PTR_NULL(json_object_get(v, "temperature"));
	CU_ASSERT_PTR_NULL(json_object_get(v, "tools"));
	json_decref(v);
	json_decref(r.tools);
	/* The borrowed messages are untouched. */
	UNIT_ASSERT_INT(json_array_size(msgs), 3);
out:
	json_decref(msgs);
	json_decref(tools);
}

static void
test_anthropic_body(void)
{
	struct llm_request	 r;
	json_t			*msgs = sample_messages(), *tools = sample_tools();
	json_t			*v, *m, *t;
	size_t			 i;

	memset(&r, 0, sizeof(r));
	r.model = "claude-sonnet-4-5";
	r.system = "Be brief.";
	r.messages = msgs;
	r.temperature = 0.5;
	r.top_p = 0.25;
	r.max_tokens = 0;
	r.tools = tools;
	if ((v = body_json(LLM_ANTHROPIC, &r, NULL)) == NULL)
		goto out;
	UNIT_ASSERT_STR(json_string_value(json_object_get(v, "model")), "claude-sonnet-4-5");
	UNIT_ASSERT_STR(json_string_value(json_object_get(v, "system")), "Be brief.");
	m = json_object_get(v, "messages");
	CU_ASSERT(json_equal(m, msgs));			/* no system message among them */
	json_array_foreach(m, i, t)
		CU_ASSERT(strcmp(json_string_value(json_object_get(t, "role")), "system") != 0);
	UNIT_ASSERT_INT(json_integer_value(json_object_get(v, "max_tokens")), 1024);
	CU_ASSERT(json_is_true(json_object_get(v, "stream")));
	CU_ASSERT_PTR_NULL(json_object_get(v, "stream_options"));
	CU_ASSERT(json_real_value(json_object_get(v, "temperature")) == 0.5);
	CU_ASSERT(json_real_value(json_object_get(v, "top_p")) == 0.25);
	t = json_object_get(v, "tools");
	UNIT_ASSERT_INT(json_array_size(t), 2);
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_array_get(t, 0), "name")), "search");
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_array_get(t, 0), "description")),
	    "Search the web");
	CU_ASSERT(json_equal(json_object_get(json_array_get(t, 0), "input_schema"),
	    json_object_get(json_array_get(tools, 0), "parameters")));
	CU_ASSERT_PTR_NULL(json_object_get(json_array_get(t, 0), "type"));
	CU_ASSERT_PTR_NULL(json_object_get(json_array_get(t, 0), "parameters"));
	/* input_schema is required: a tool without parameters takes an empty object. */
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_object_get(json_array_get(t, 1),
	    "input_schema"), "type")), "object");
	json_decref(v);

	r.system = "";
	r.temperature = -1;
	r.top_p = 0;
	r.max_tokens = 300;
	r.tools = NULL;
	if ((v = body_json(LLM_ANTHROPIC, &r, NULL)) == NULL)
		goto out;
	CU_ASSERT_PTR_NULL(json_object_get(v, "system"));
	CU_ASSERT_PTR_NULL(json_object_get(v, "temperature"));
	CU_ASSERT_PTR_NULL(json_object_get(v, "top_p"));
	CU_ASSERT_PTR_NULL(json_object_get(v, "tools"));
	UNIT_ASSERT_INT(json_integer_value(json_object_get(v, "max_tokens")), 300);
	json_decref(v);
out:
	json_decref(msgs);
	json_decref(tools);
}

/* A request that breaks its shape has no body; neither has the builtin model. */
static void
test_body_refused(void)
{
	struct llm_request	 r;
	json_t			*msgs = sample_messages();
	json_t			*bad = json_pack("[{s:s}]", "description", "no name");

	memset(&r, 0, sizeof(r));
	r.model = "m";
	r.system = "";
	r.messages = msgs;
	CU_ASSERT_PTR_NULL(llm_request_body(LLM_BUILTIN, &r));
	r.model = NULL;
	CU_ASSERT_PTR_NULL(llm_request_body(LLM_OPENAI, &r));
	CU_ASSERT_PTR_NULL(llm_request_body(LLM_ANTHROPIC, &r));
	r.model = "bad \xff utf-8";
	CU_ASSERT_PTR_NULL(llm_request_body(LLM_OPENAI, &r));
	CU_ASSERT_PTR_NULL(llm_request_body(LLM_ANTHROPIC, &r));
	r.model = "m";
	r.messages = NULL;
	CU_ASSERT_PTR_NULL(llm_request_body(LLM_OPENAI, &r));
	r.messages = msgs;
	r.tools = bad;
	CU_ASSERT_PTR_NULL(llm_request_body(LLM_OPENAI, &r));
	CU_ASSERT_PTR_NULL(llm_request_body(LLM_ANTHROPIC, &r));
	json_decref(msgs);
	json_decref(bad);
}

/* ---------------------------------------------------------------- tool turns */

/* JSON written with ' for " (a \' in a string is then an escaped quote), parsed. */
static json_t *
json_sq(const char *s)
{
	json_error_t	 e;
	json_t		*v;
	char		*t = sb_strdup(s), *p;

	for (p = t; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	if ((v = json_loads(t, JSON_ALLOW_NUL, &e)) == NULL)
		fprintf(stderr, "json_sq: %s: %s\n", e.text, t);
	free(t);
	return v;
}

/* The body of a request with these neutral messages (none: NULL). */
static char *
messages_body(enum llm_kind k, json_t *msgs)
{
	struct llm_request r;

	memset(&r, 0, sizeof(r));
	r.model = "m";
	r.system = "Be brief.";
	r.messages = msgs;
	r.temperature = -1;
	return llm_request_body(k, &r);
}

/* The body for the messages msgs is exactly want (both written with '). */
static void
check_messages(enum llm_kind k, const char *msgs, const char *want)
{
	json_t	*m = json_sq(msgs), *w = json_sq(want), *got;
	char	*body, *a, *b;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	body = messages_body(k, m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(body);
	got = json_loads(body, JSON_ALLOW_NUL, NULL);
	CU_ASSERT(json_equal(got, w));
	if (!json_equal(got, w)) {
		a = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
		b = json_dumps(w, JSON_COMPACT | JSON_SORT_KEYS);
		UNIT_ASSERT_STR(a, b);
		free(a);
		free(b);
	}
	json_decref(got);
	json_decref(m);
	json_decref(w);
	free(body);
}

/* Two steps: two calls at once, one of which failed, then one call whose arguments
 * are not JSON; then the person's next question right after the last result. */
#define TWO_STEPS \
	"[{'role':'user','content':'find two things'}," \
	"{'role':'assistant','content':'','tool_calls':[" \
	"{'id':'call_1','name':'search','arguments':'{\\'q\\':\\'a\\'}'}," \
	"{'id':'call_2','name':'fetch','arguments':'{\\'url\\':\\'http://x\\'}'}]}," \
	"{'role':'tool','tool_call_id':'call_1','name':'search','content':'found a'," \
	"'is_error':false}," \
	"{'role':'tool','tool_call_id':'call_2','name':'fetch','content':'timed out'," \
	"'is_error':true}," \
	"{'role':'assistant','content':'Let me look again.','tool_calls':[" \
	"{'id':'call_3','name':'search','arguments':'not json'}]}," \
	"{'role':'tool','tool_call_id':'call_3','content':'found b'}," \
	"{'role':'user','content':'and now?'}]"

static void
test_openai_tool_turns(void)
{
	check_messages(LLM_OPENAI, TWO_STEPS,
	    "{'model':'m','stream':true,'stream_options':{'include_usage':true},'messages':["
	    "{'role':'system','content':'Be brief.'},"
	    "{'role':'user','content':'find two things'},"
	    "{'role':'assistant','content':null,'tool_calls':["
	    "{'id':'call_1','type':'function','function':{'name':'search',"
	    "'arguments':'{\\'q\\':\\'a\\'}'}},"
	    "{'id':'call_2','type':'function','function':{'name':'fetch',"
	    "'arguments':'{\\'url\\':\\'http://x\\'}'}}]},"
	    "{'role':'tool','tool_call_id':'call_1','content':'found a'},"
	    "{'role':'tool','tool_call_id':'call_2','content':'timed out'},"
	    "{'role':'assistant','content':'Let me look again.','tool_calls':["
	    "{'id':'call_3','type':'function','function':{'name':'search',"
	    "'arguments':'not json'}}]},"
	    "{'role':'tool','tool_call_id':'call_3','content':'found b'},"
	    "{'role':'user','content':'and now?'}]}");
	/* Arguments absent or empty are an empty object; no calls is a text turn;
	 * content null or absent beside calls is no text. */
	check_messages(LLM_OPENAI,
	    "[{'role':'user','content':'q'},"
	    "{'role':'assistant','content':null,'tool_calls':[{'id':'c1','name':'now'},"
	    "{'id':'c2','name':'now','arguments':''}]},"
	    "{'role':'tool','tool_call_id':'c1','content':''},"
	    "{'role':'tool','tool_call_id':'c2','content':'12:00'},"
	    "{'role':'assistant','tool_calls':[{'id':'c3','name':'now'}]},"
	    "{'role':'tool','tool_call_id':'c3','content':'12:01'},"
	    "{'role':'assistant','content':'It is noon.','tool_calls':[]},"
	    "{'role':'user','content':'a'},{'role':'user','content':'b'}]",
	    "{'model':'m','stream':true,'stream_options':{'include_usage':true},'messages':["
	    "{'role':'system','content':'Be brief.'},"
	    "{'role':'user','content':'q'},"
	    "{'role':'assistant','content':null,'tool_calls':["
	    "{'id':'c1','type':'function','function':{'name':'now','arguments':'{}'}},"
	    "{'id':'c2','type':'function','function':{'name':'now','arguments':'{}'}}]},"
	    "{'role':'tool','tool_call_id':'c1','content':''},"
	    "{'role':'tool','tool_call_id':'c2','content':'12:00'},"
	    "{'role':'assistant','content':null,'tool_calls':["
	    "{'id':'c3','type':'function','function':{'name':'now','arguments':'{}'}}]},"
	    "{'role':'tool','tool_call_id':'c3','content':'12:01'},"
	    "{'role':'assistant','content':'It is noon.'},"
	    "{'role':'user','content':'a'},{'role':'user','content':'b'}]}");
	/* A U+0000 in a text does not end it. */
	check_messages(LLM_OPENAI,
	    "[{'role':'user','content':'a\\u0000b'},"
	    "{'role':'assistant','content':'c\\u0000','tool_calls':[{'id':'c1','name':'now'}]},"
	    "{'role':'tool','tool_call_id':'c1','content':'\\u0000d'}]",
	    "{'model':'m','stream':true,'stream_options':{'include_usage':true},'messages':["
	    "{'role':'system','content':'Be brief.'},{'role':'user','content':'a\\u0000b'},"
	    "{'role':'assistant','content':'c\\u0000','tool_calls':["
	    "{'id':'c1','type':'function','function':{'name':'now','arguments':'{}'}}]},"
	    "{'role':'tool','tool_call_id':'c1','content':'\\u0000d'}]}");
}

static void
test_anthropic_tool_turns(void)
{
	check_messages(LLM_ANTHROPIC, TWO_STEPS,
	    "{'model':'m','max_tokens':1024,'stream':true,'system':'Be brief.','messages':["
	    "{'role':'user','content':'find two things'},"
	    "{'role':'assistant','content':["
	    "{'type':'tool_use','id':'call_1','name':'search','input':{'q':'a'}},"
	    "{'type':'tool_use','id':'call_2','name':'fetch','input':{'url':'http://x'}}]},"
	    "{'role':'user','content':["
	    "{'type':'tool_result','tool_use_id':'call_1','content':'found a'},"
	    "{'type':'tool_result','tool_use_id':'call_2','content':'timed out',"
	    "'is_error':true}]},"
	    "{'role':'assistant','content':["
	    "{'type':'text','text':'Let me look again.'},"
	    "{'type':'tool_use','id':'call_3','name':'search','input':{}}]},"
	    "{'role':'user','content':["
	    "{'type':'tool_result','tool_use_id':'call_3','content':'found b'},"
	    "{'type':'text','text':'and now?'}]}]}");
	/* Input that is JSON but not an object is {} too; a text that had no answer and
	 * the next join as blocks (an empty one adds none); text alone stays a string. */
	check_messages(LLM_ANTHROPIC,
	    "[{'role':'user','content':''},{'role':'user','content':'q'},"
	    "{'role':'assistant','tool_calls':[{'id':'c1','name':'now','arguments':'[1]'},"
	    "{'id':'c2','name':'now'}]},"
	    "{'role':'tool','tool_call_id':'c1','content':'12:00','is_error':false},"
	    "{'role':'tool','tool_call_id':'c2','content':'12:00'},"
	    "{'role':'assistant','content':'It is noon.','tool_calls':[]},"
	    "{'role':'user','content':'a'},{'role':'user','content':'b'}]",
	    "{'model':'m','max_tokens':1024,'stream':true,'system':'Be brief.','messages':["
	    "{'role':'user','content':[{'type':'text','text':'q'}]},"
	    "{'role':'assistant','content':["
	    "{'type':'tool_use','id':'c1','name':'now','input':{}},"
	    "{'type':'tool_use','id':'c2','name':'now','input':{}}]},"
	    "{'role':'user','content':["
	    "{'type':'tool_result','tool_use_id':'c1','content':'12:00'},"
	    "{'type':'tool_result','tool_use_id':'c2','content':'12:00'}]},"
	    "{'role':'assistant','content':'It is noon.'},"
	    "{'role':'user','content':[{'type':'text','text':'a'},{'type':'text','text':'b'}]}]}");
	/* A U+0000 in a text does not end it. */
	check_messages(LLM_ANTHROPIC,
	    "[{'role':'user','content':'a\\u0000b'},"
	    "{'role':'assistant','content':'c\\u0000','tool_calls':[{'id':'c1','name':'now'}]},"
	    "{'role':'tool','tool_call_id':'c1','content':'\\u0000d'}]",
	    "{'model':'m','max_tokens':1024,'stream':true,'system':'Be brief.','messages':["
	    "{'role':'user','content':'a\\u0000b'},"
	    "{'role':'assistant','content':[{'type':'text','text':'c\\u0000'},"
	    "{'type':'tool_use','id':'c1','name':'now','input':{}}]},"
	    "{'role':'user','content':[{'type':'tool_result','tool_use_id':'c1',"
	    "'content':'\\u0000d'}]}]}");
}

/* Messages that break the neutral shape: no body in either format. */
static void
test_tool_turns_refused(void)
{
	static const char *bad[] = {
		"[{'role':'system','content':'x'}]",			/* unknown role */
		"[{'role':'function','content':'x'}]",
		"[{'content':'x'}]",					/* no role */
		"['text']",						/* not an object */
		"[{'role':'user','content':7}]",			/* content not a string */
		"[{'role':'user','content':[{'type':'text','text':'x'}]}]",
		"[{'role':'user'}]",
		"[{'role':'assistant','content':null}]",		/* no text, no calls */
		"[{'role':'assistant','content':'x','tool_calls':{}}]",	/* calls not an array */
		"[{'role':'assistant','content':'x','tool_calls':null}]",
		"[{'role':'assistant','content':'x','tool_calls':['c']}]",
		"[{'role':'assistant','tool_calls':[{'name':'s'}]}]",	/* a call without id */
		"[{'role':'assistant','tool_calls':[{'id':'','name':'s'}]}]",
		"[{'role':'assistant','tool_calls':[{'id':'c'}]}]",	/* without name */
		"[{'role':'assistant','tool_calls':[{'id':'c','name':''}]}]",
		"[{'role':'assistant','tool_calls':[{'id':'c','name':'s','arguments':{}}]}]",
		"[{'role':'assistant','tool_calls':[{'id':'c','name':'s'}]},"
		    "{'role':'tool','content':'r'}]",			/* no tool_call_id */
		"[{'role':'assistant','tool_calls':[{'id':'c','name':'s'}]},"
		    "{'role':'tool','tool_call_id':'','content':'r'}]",
		"[{'role':'assistant','tool_calls':[{'id':'c','name':'s'}]},"
		    "{'role':'tool','tool_call_id':7,'content':'r'}]",
		"[{'role':'assistant','tool_calls':[{'id':'c','name':'s'}]},"
		    "{'role':'tool','tool_call_id':'c'}]",		/* no content */
		"[{'role':'assistant','tool_calls':[{'id':'c','name':'s'}]},"
		    "{'role':'tool','tool_call_id':'c','content':'r','is_error':'yes'}]",
		"[{'role':'assistant','tool_calls':[{'id':'c','name':'s'}]},"
		    "{'role':'tool','tool_call_id':'c','content':'r','name':1}]",
		"[{'role':'tool','tool_call_id':'c','content':'r'}]",	/* a result of no call */
		"[{'role':'user','content':'q'},{'role':'tool','tool_call_id':'c','content':'r'}]",
		"[{'role':'assistant','content':'x','tool_calls':[]},"
		    "{'role':'tool','tool_call_id':'c','content':'r'}]",
		"[{'role':'user','content':'q'},{'role':'user'}]",	/* the last one bad */
	};
	static const enum llm_kind kinds[] = { LLM_OPENAI, LLM_ANTHROPIC };
	json_t	*m;
	char	*body;
	size_t	 i, k;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = json_sq(bad[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		for (k = 0; k < 2; k++) {
			if ((body = messages_body(kinds[k], m)) != NULL) {
				fprintf(stderr, "\n%s: a body for %s\n", llm_kind_name(kinds[k]),
				    bad[i]);
				CU_FAIL("a body for a malformed message");
			}
			free(body);
		}
		json_decref(m);
	}
	/* The same shapes, right, have one. */
	m = json_sq("[{'role':'assistant','tool_calls':[{'id':'c','name':'s'}]},"
	    "{'role':'tool','tool_call_id':'c','content':'r','name':'s','is_error':true}]");
	body = messages_body(LLM_OPENAI, m);
	CU_ASSERT_PTR_NOT_NULL(body);
	free(body);
	body = messages_body(LLM_ANTHROPIC, m);
	CU_ASSERT_PTR_NOT_NULL(body);
	free(body);
	json_decref(m);
}

/* The header lines, one a line. */
static char *
headers_text(struct curl_slist *l)
{
	struct sb_buf b = { 0 };

	buf_append(&b, "", 0);
	for (; l != NULL; l = l->next) {
		buf_append(&b, l->data, strlen(l->data));
		buf_append(&b, "\n", 1);
	}
	return b.data;
}

static void
test_headers(void)
{
	struct curl_slist	*l;
	char			*h;

	l = llm_request_headers(LLM_OPENAI, "sk-test", NULL);
	h = headers_text(l);
	UNIT_ASSERT_CONTAINS(h, "Authorization: Bearer sk-test\n");
	UNIT_ASSERT_CONTAINS(h, "Content-Type: application/json\n");
	UNIT_ASSERT_CONTAINS(h, "Accept: text/event-stream\n");
	CU_ASSERT_PTR_NULL(strstr(h, "x-api-key"));
	CU_ASSERT_PTR_NULL(strstr(h, "anthropic-version"));
	free(h);
	curl_slist_free_all(l);

	/* A local server without a key: no Authorization at all. */
	l = llm_request_headers(LLM_OPENAI, "", "2023-06-01");
	h = headers_text(l);
	CU_ASSERT_PTR_NULL(strstr(h, "Authorization"));
	CU_ASSERT_PTR_NULL(strstr(h, "Bearer"));
	UNIT_ASSERT_CONTAINS(h, "Content-Type: application/json\n");
	free(h);
	curl_slist_free_all(l);

	l = llm_request_headers(LLM_ANTHROPIC, "sk-ant-test", "2023-06-01");
	h = headers_text(l);
	UNIT_ASSERT_CONTAINS(h, "x-api-key: sk-ant-test\n");
	UNIT_ASSERT_CONTAINS(h, "anthropic-version: 2023-06-01\n");
	UNIT_ASSERT_CONTAINS(h, "Content-Type: application/json\n");
	UNIT_ASSERT_CONTAINS(h, "Accept: text/event-stream\n");
	CU_ASSERT_PTR_NULL(strstr(h, "Authorization"));
	CU_ASSERT_PTR_NULL(strstr(h, "Bearer"));
	free(h);
	curl_slist_free_all(l);

	l = llm_request_headers(LLM_ANTHROPIC, "k", NULL);
	h = headers_text(l);
	UNIT_ASSERT_CONTAINS(h, "anthropic-version: 2023-06-01\n");
	free(h);
	curl_slist_free_all(l);

	/* No header line can be smuggled in through the key or the version. */
	CU_ASSERT_PTR_NULL(llm_request_headers(LLM_OPENAI, "k\r\nX-Evil: 1", NULL));
	CU_ASSERT_PTR_NULL(llm_request_headers(LLM_ANTHROPIC, "k\n", NULL));
	CU_ASSERT_PTR_NULL(llm_request_headers(LLM_ANTHROPIC, "k", "2023-06-01\r\nX: y"));
	CU_ASSERT_PTR_NULL(llm_request_headers(LLM_BUILTIN, "k", NULL));
}

/* ---------------------------------------------------------------- error bodies */

static void
check_error_message(enum llm_kind k, const char *body, const char *want)
{
	char *m = llm_error_message(k, body, strlen(body));

	if (want == NULL) {
		CU_ASSERT_PTR_NULL(m);
	} else
		UNIT_ASSERT_STR(m, want);
	free(m);
}

static void
test_error_message(void)
{
	struct sb_buf	 b = { 0 };
	char		*m;
	int		 i;

	/* The shapes tests/mock/llm.c answers with. */
	check_error_message(LLM_OPENAI, "{\"error\":{\"message\":\"Incorrect API key provided\","
	    "\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}",
	    "Incorrect API key provided");
	check_error_message(LLM_ANTHROPIC, "{\"type\":\"error\",\"error\":{\"type\":"
	    "\"overloaded_error\",\"message\":\"Overloaded\"}}", "Overloaded");
	check_error_message(LLM_ANTHROPIC, "{\"error\":{\"message\":\"no type\"}}", NULL);
	/* Compatible servers. */
	check_error_message(LLM_OPENAI, "{\"error\":\"model not loaded\"}", "model not loaded");
	check_error_message(LLM_OPENAI, "{\"object\":\"error\",\"message\":\"bad\",\"code\":400}",
	    "bad");
	/* Not the shape. */
	check_error_message(LLM_OPENAI, "<html><body>502 Bad Gateway</body></html>", NULL);
	check_error_message(LLM_ANTHROPIC, "<html>", NULL);
	check_error_message(LLM_OPENAI, "{}", NULL);
	check_error_message(LLM_OPENAI, "[1]", NULL);
	check_error_message(LLM_OPENAI, "{\"error\":{\"code\":1}}", NULL);
	check_error_message(LLM_ANTHROPIC, "{\"type\":\"error\",\"error\":{\"message\":7}}", NULL);
	check_error_message(LLM_OPENAI, "", NULL);
	check_error_message(LLM_BUILTIN, "{\"error\":{\"message\":\"x\"}}", NULL);
	/* Only len bytes are read. */
	m = llm_error_message(LLM_OPENAI, "{\"error\":\"x\"}garbage", 13);
	UNIT_ASSERT_STR(m, "x");
	free(m);

	/* At most 300 bytes, never half a character. */
	buf_append(&b, "{\"error\":{\"message\":\"a", 22);
	for (i = 0; i < 400; i++)
		buf_append(&b, "\xc3\xa9", 2);
	buf_append(&b, "\"}}", 3);
	m = llm_error_message(LLM_OPENAI, b.data, b.len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	UNIT_ASSERT_INT(strlen(m), 299);
	UNIT_ASSERT_STR(m + 295, "\xc3\xa9\xc3\xa9");
	free(m);
	buf_free(&b);
}

void
suite_llm(void)
{
	CU_pSuite s = unit_suite("llm", NULL, NULL);

	unit_test(s, "eventparse: fields, ids, byte order mark", test_evp_fields);
	unit_test(s, "eventparse: comments, events without data", test_evp_no_data);
	unit_test(s, "eventparse: CRLF, LF and CR line endings", test_evp_line_endings);
	unit_test(s, "eventparse: bounded lines and events, a callback stops", test_evp_bounds);
	unit_test(s, "openai: text stream, fed any way", test_openai_text);
	unit_test(s, "openai: CRLF and CR", test_openai_crlf);
	unit_test(s, "openai: comments and multi-line data", test_openai_comments_multiline);
	unit_test(s, "openai: two tool calls at once", test_openai_tool_calls);
	unit_test(s, "openai: tool arguments in many deltas", test_openai_tool_many_deltas);
	unit_test(s, "openai: finish reasons", test_openai_finish_reasons);
	unit_test(s, "openai: malformed event", test_openai_malformed);
	unit_test(s, "openai: error in the stream", test_openai_error_event);
	unit_test(s, "openai: truncated stream", test_openai_truncated);
	unit_test(s, "openai: bytes after [DONE] ignored", test_openai_after_done);
	unit_test(s, "anthropic: text stream with pings, CRLF", test_anthropic_text);
	unit_test(s, "anthropic: text then tool_use", test_anthropic_tool_use);
	unit_test(s, "anthropic: tool arguments in many deltas", test_anthropic_tool_many_deltas);
	unit_test(s, "anthropic: stop reasons and usage", test_anthropic_stop_reasons);
	unit_test(s, "anthropic: error event", test_anthropic_error_event);
	unit_test(s, "anthropic: malformed events", test_anthropic_malformed);
	unit_test(s, "anthropic: truncated stream", test_anthropic_truncated);
	unit_test(s, "an event over LLM_EVENT_MAX fails", test_event_too_large);
	unit_test(s, "an event just under LLM_EVENT_MAX passes", test_event_near_bound);
	unit_test(s, "tool arguments over LLM_TOOL_ARGS_MAX fail", test_tool_args_too_large);
	unit_test(s, "kinds and paths", test_kinds);
	unit_test(s, "openai: request body", test_openai_body);
	unit_test(s, "anthropic: request body", test_anthropic_body);
	unit_test(s, "request bodies refused", test_body_refused);
	unit_test(s, "openai: tool turns in the request", test_openai_tool_turns);
	unit_test(s, "anthropic: tool turns in the request", test_anthropic_tool_turns);
	unit_test(s, "request bodies refused: messages not in the neutral shape",
	    test_tool_turns_refused);
	unit_test(s, "request headers", test_headers);
	unit_test(s, "error bodies", test_error_message);
}
