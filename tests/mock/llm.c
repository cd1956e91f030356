/* llm.c: sb-mock-llm, an LLM provider double speaking OpenAI's and Anthropic's wire formats. */
/*
 * usage: sb-mock-llm PORT
 *
 * One process, one epoll loop, HTTP/1.1 with Connection: close, on 127.0.0.1:PORT;
 * thousands of streams at once (RLIMIT_NOFILE is raised to its hard limit).
 *
 *   POST /v1/chat/completions	OpenAI Chat Completions; needs "Authorization: Bearer K"
 *   POST /v1/messages		Anthropic Messages; needs x-api-key and anthropic-version
 *
 * Both answer whole (a chat.completion or a message object) or, with "stream": true,
 * as server-sent events in a chunked body, each in its provider's shape: OpenAI's
 * chat.completion.chunk events (the first with delta.role, the last with a
 * finish_reason, then a usage chunk when stream_options.include_usage, then
 * "data: [DONE]"); Anthropic's message_start, content_block_start, ping,
 * content_block_delta..., content_block_stop, message_delta, message_stop, with another
 * ping after every PING_EVERY tokens.  Errors are in the provider's error shape.
 *
 * The answer is predictable.  The question is the text of the last user message; the
 * subject is the question or, when tool results came after it, the results of the
 * last tool-result turn (the results answering one assistant turn: OpenAI's tool
 * messages after it, Anthropic's tool_result blocks of the next user message), their
 * words in order.  The reply is "Echo:" and then the subject's words, one token each
 * with a leading space: "Echo:", " hello", " world".  Prompt (input) tokens are the
 * whitespace-separated words of every message (its text, its tool calls' arguments as
 * JSON text, its tool results) and of the system prompt; completion (output) tokens
 * are the tokens sent.  max_tokens cuts the reply short (finish_reason "length",
 * stop_reason "max_tokens").
 *
 * Tool turns are checked as strictly as the providers check them: 400 in the
 * provider's error shape, the message saying what is wrong, when
 *   OpenAI: a tool_calls entry lacks an id, type "function", function.name or a string
 *	function.arguments; a tool message's content is not a string, or its
 *	tool_call_id is not a call of the nearest assistant message before it; a call
 *	is not answered by a tool message before the next user or assistant message
 *	(or the end);
 *   Anthropic: the roles do not alternate user, assistant, ... from user; a tool_use
 *	block lacks an id, a name or an object input; a tool_result block answers no
 *	tool_use of the message before it, or comes after another kind of block; a
 *	tool_use is not answered by a tool_result in the very next message.
 *
 * The model names the script: "mock" or "mock," and a comma-separated list of
 *   pace=N		N tokens a second in a stream; a whole answer waits as long
 *   delay=MS		wait MS milliseconds before the first byte
 *   status=S		answer S (400 to 599) with the provider's error body
 *   retry_after=N	add "Retry-After: N" (with status=)
 *   hang		send the head, then nothing until the client leaves or HANG_S
 *   malformed		a stream carries one event of invalid JSON halfway; a whole
 *			answer is cut in half (its Content-Length says so)
 *   disconnect=N	close the stream after N tokens, without the closing events and
 *			the last chunk; a whole answer is closed halfway through its body
 *   tokens=N		reply with exactly N tokens: the words of the subject, repeated
 *   nul		the first token is "Echo:" and U+0000 ("Echo:\u0000" in its JSON):
 *			text a database cannot store as it is
 *   tool=NAME		call the tool NAME with {"q": question} (the arguments streamed in
 *			pieces of about ARG_PIECE bytes, one completion token each) when the
 *			request offers a tool of that name and fewer than steps= tool-result
 *			turns came after the question; otherwise the usual text
 *   calls=N		with tool=, call it N times at once (1 to 16, default 1), each with
 *			its own id and "n": i (0 to N-1) in its arguments when N > 1 and
 *			no arg= names the argument (a real tool's schema may allow no other
 *			member): OpenAI's tool_calls indexes 0 to N-1, Anthropic's N
 *			tool_use blocks
 *   steps=K		with tool=, go on calling until K tool-result turns came after the
 *			question (1 to 50, default 1: call unless the last message is a
 *			tool result)
 *   arg=KEY		with tool=, the question goes in argument KEY ([a-z_]{1,32})
 *			instead of q; arg=* makes the question itself the arguments (a
 *			JSON object; other text gives {})
 *   times=K		delay, status, retry_after, hang, malformed and disconnect apply to
 *			the first K attempts only.  An attempt is counted under a hash of the
 *			path, the model and the messages (and system prompt), in this
 *			process's memory: two tests sharing these would share the count, so
 *			make the message unique.  The table forgets everything when
 *			TIMES_SLOTS * 3 / 4 conversations are counted.
 * Any other model is 404 (the provider's unknown model); an unknown directive is 400.
 *
 * One line per request on stderr.  SIGTERM or SIGINT: exit 0.  A request is at most
 * MOCK_HEAD_MAX bytes of head and BODY_MAX of body (431 and 413 otherwise).
 */
#include "config.h"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/clock.h"
#include "tests/mock/mock.h"

#define BODY_MAX	(1024 * 1024)
#define IN_MAX		(MOCK_HEAD_MAX + BODY_MAX)
#define READ_S		30		/* for the whole request to arrive */
#define DRAIN_S		60		/* for the client to take the rest of an answer */
#define HANG_S		300
#define TOKENS_MAX	100000
#define PING_EVERY	50
#define ARG_PIECE	8
#define CALLS_MAX	16
#define STEPS_MAX	50
#define TIMES_SLOTS	4096
#define EVENTS		256		/* per epoll_wait */

enum api { API_OPENAI, API_ANTHROPIC };

enum cstate {
	C_READ,		/* reading the request */
	C_WAIT,		/* the answer is ready; delay= holds its first byte */
	C_SEND,		/* sending events, paced or not */
	C_HANG,		/* head sent; saying nothing more */
	C_DRAIN		/* everything queued: close once it is sent */
};

/* What the model field asks for. */
struct script {
	long	 status;		/* 0: a normal answer */
	long	 retry_after;		/* -1: no Retry-After */
	long	 pace;			/* tokens a second; 0: unpaced */
	long	 delay;			/* ms */
	long	 disconnect;		/* -1: none */
	long	 tokens;		/* -1: as many as the subject has words, plus one */
	long	 times;			/* 0: always */
	long	 calls;			/* tool calls at once */
	long	 steps;			/* tool-result turns before the text */
	int	 hang, malformed, nul;
	char	 tool[65];
	char	 arg[33];		/* the argument the question goes in */
};

/* A request, understood. */
struct ask {
	enum api	 api;
	unsigned long	 n;		/* request number, for the ids */
	char		 id[48];
	long long	 created;
	const char	*model;		/* in the request's JSON */
	int		 stream, include_usage;
	long		 max_tokens;	/* -1: none */
	long		 prompt;	/* prompt tokens */
	long		 turns;		/* tool-result turns after the question */
	int		 tool_call;
	long		 left;		/* tokens before disconnect=; -1: no end */
	struct script	 sc;
	struct sb_buf	 question;	/* the last user message's text */
	struct sb_buf	 results;	/* the last tool-result turn's text */
	struct sb_buf	 subject;	/* the words, one space apart */
	size_t		*woff, *wlen, nword;
};

/* One piece of an answer, sent whole.  token: counts for pace= and disconnect=. */
struct event {
	char		*data;
	size_t		 len;
	int		 token;
};

struct conn {
	int		 fd;
	size_t		 slot;		/* in conns[] */
	enum cstate	 state;
	char		*in;
	size_t		 inlen, incap;
	int		 continued;	/* 100 Continue sent */
	struct sb_buf	 out;
	size_t		 outoff;
	unsigned int	 ioev;		/* epoll events registered */
	int64_t		 due;		/* monotonic us of the next timer; 0: none */
	struct event	*ev;
	size_t		 nev, evcap, next;
	int64_t		 interval;	/* us between tokens; 0: unpaced */
	int		 hang;		/* after the last event, wait for the client to leave */
};

struct times_slot {
	uint64_t	 key;		/* 0: free */
	long		 n;
};

static struct conn		**conns;
static size_t			  nconns, capconns;
static int			  epfd;
static unsigned long		  nrequests;
static struct times_slot	  times[TIMES_SLOTS];
static size_t			  ntimes;

/* ------------------------------------------------------------ connections */

static void
conn_interest(struct conn *c)
{
	struct epoll_event	 ee;
	unsigned int		 want = EPOLLIN | EPOLLRDHUP;

	if (c->outoff < c->out.len)
		want |= EPOLLOUT;
	if (want == c->ioev)
		return;
	memset(&ee, 0, sizeof(ee));
	ee.events = want;
	ee.data.ptr = c;
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ee);
	c->ioev = want;
}

static void
conn_close(struct conn *c)
{
	size_t i;

	close(c->fd);
	free(c->in);
	buf_free(&c->out);
	for (i = 0; i < c->nev; i++)
		free(c->ev[i].data);
	free(c->ev);
	conns[c->slot] = conns[--nconns];
	conns[c->slot]->slot = c->slot;
	free(c);
}

/* 0 when accepting may go on, -1 when out of descriptors. */
static int
conn_accept(int lfd, int64_t now)
{
	struct epoll_event	 ee;
	struct conn		*c;
	int			 fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (nconns == capconns) {
			capconns = capconns == 0 ? 1024 : capconns * 2;
			conns = sb_realloc(conns, capconns * sizeof(*conns));
		}
		c = sb_calloc(1, sizeof(*c));
		c->fd = fd;
		c->slot = nconns;
		c->state = C_READ;
		c->due = now + (int64_t)READ_S * 1000000;
		c->ioev = EPOLLIN | EPOLLRDHUP;
		memset(&ee, 0, sizeof(ee));
		ee.events = c->ioev;
		ee.data.ptr = c;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ee) < 0) {
			close(fd);
			free(c);
			continue;
		}
		conns[nconns++] = c;
	}
	return errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM ? -1 : 0;
}

/* ------------------------------------------------------------ answers */

static void
ev_push(struct conn *c, char *data, size_t len, int token)
{
	if (c->nev == c->evcap) {
		c->evcap = c->evcap == 0 ? 16 : c->evcap * 2;
		c->ev = sb_realloc(c->ev, c->evcap * sizeof(*c->ev));
	}
	c->ev[c->nev].data = data;
	c->ev[c->nev].len = len;
	c->ev[c->nev++].token = token;
}

/* An event as one chunk of a chunked body. */
static void
ev_chunk(struct conn *c, const char *s, size_t len, int token)
{
	struct sb_buf b = { 0 };

	buf_printf(&b, "%zx\r\n", len);
	buf_append(&b, s, len);
	buf_append(&b, "\r\n", 2);
	ev_push(c, b.data, b.len, token);
}

/* A server-sent event "event: name" (unless NULL) carrying v, which it takes. */
static void
ev_sse(struct conn *c, const char *name, json_t *v, int token)
{
	struct sb_buf	 b = { 0 };
	char		*s = json_dumps(v, JSON_COMPACT);

	json_decref(v);
	if (name != NULL)
		buf_printf(&b, "event: %s\n", name);
	buf_printf(&b, "data: %s\n\n", s != NULL ? s : "{}");
	free(s);
	ev_chunk(c, b.data, b.len, token);
	buf_free(&b);
}

/* The head of an answer, as the first event. */
static void
ev_head(struct conn *c, const struct ask *a, int status, const char *ctype, long long clen)
{
	struct sb_buf b = { 0 };

	buf_printf(&b, "%s: req_mock%lu\r\n", a->api == API_OPENAI ? "x-request-id" :
	    "request-id", a->n);
	if (status >= 400 && a->sc.retry_after >= 0)
		buf_printf(&b, "Retry-After: %ld\r\n", a->sc.retry_after);
	c->out.len = 0;
	mock_http_head(&c->out, status, ctype, clen, b.data);
	ev_push(c, sb_strdup(c->out.data), c->out.len, 0);
	c->out.len = 0;
	buf_free(&b);
}

/*
 * A whole answer v (taken): the head, then the body unless hang=.  disconnect= sends
 * half the body it announced, malformed= announces and sends half the body.
 */
static void
ev_whole(struct conn *c, const struct ask *a, int status, json_t *v)
{
	char	*s = json_dumps(v, JSON_COMPACT);
	size_t	 len = s != NULL ? strlen(s) : 0, send = len;

	json_decref(v);
	if (a->sc.disconnect >= 0 || a->sc.malformed)
		send = len / 2;
	ev_head(c, a, status, "application/json",
	    (long long)(a->sc.malformed && a->sc.disconnect < 0 ? send : len));
	if (a->sc.hang) {
		free(s);
		c->hang = 1;
		return;
	}
	ev_push(c, s, send, 0);
}

/* The provider's error body for status. */
static json_t *
error_body(enum api api, int status, const char *msg)
{
	const char	*type, *code = NULL;

	if (api == API_ANTHROPIC) {
		switch (status) {
		case 401: type = "authentication_error"; break;
		case 403: type = "permission_error"; break;
		case 404: type = "not_found_error"; break;
		case 413: type = "request_too_large"; break;
		case 429: type = "rate_limit_error"; break;
		case 529: type = "overloaded_error"; break;
		default: type = status >= 500 ? "api_error" : "invalid_request_error";
		}
		return json_pack("{s:s, s:{s:s, s:s}}", "type", "error", "error", "type", type,
		    "message", msg);
	}
	switch (status) {
	case 401: type = "invalid_request_error"; code = "invalid_api_key"; break;
	case 404: type = "invalid_request_error"; code = "model_not_found"; break;
	case 429: type = "requests"; code = "rate_limit_exceeded"; break;
	default: type = status >= 500 ? "server_error" : "invalid_request_error";
	}
	return json_pack("{s:{s:s, s:s, s:n, s:s?}}", "error", "message", msg, "type", type,
	    "param", "code", code);
}

static void
answer_error(struct conn *c, const struct ask *a, int status, const char *msg)
{
	ev_whole(c, a, status, error_body(a->api, status, msg));
}

/* Token i of the reply into b: "Echo:", then " word" cycling through the subject. */
static void
token_at(const struct ask *a, long i, struct sb_buf *b)
{
	size_t w;

	b->len = 0;
	if (i == 0) {
		buf_append(b, "Echo:\0", a->sc.nul ? 6 : 5);
		return;
	}
	if (a->nword == 0) {
		buf_append(b, " echo", 5);
		return;
	}
	w = (size_t)(i - 1) % a->nword;
	buf_append(b, " ", 1);
	buf_append(b, a->subject.data + a->woff[w], a->wlen[w]);
}

/* The length of the piece of s at off: ARG_PIECE bytes, or a few more to end a character. */
static size_t
piece_len(const char *s, size_t len, size_t off)
{
	size_t n = len - off < ARG_PIECE ? len - off : ARG_PIECE;

	while (off + n < len && ((unsigned char)s[off + n] & 0xc0) == 0x80)
		n++;
	return n;
}

/* The number of pieces s is streamed in. */
static long
pieces(const char *s)
{
	size_t	 len = strlen(s), off;
	long	 n = 0;

	for (off = 0; off < len; off += piece_len(s, len, off))
		n++;
	return n;
}

/* Call i's arguments: {"q": question} and "n": i when there are several calls, or
 * {KEY: question} with arg=KEY.  A new reference. */
static json_t *
tool_input(const struct ask *a, long i)
{
	json_t *v;

	if (strcmp(a->sc.arg, "*") == 0) {
		v = json_loads(a->subject.data != NULL ? a->subject.data : "", 0, NULL);
		if (!json_is_object(v)) {
			json_decref(v);
			v = json_object();
		}
		return v;
	}
	v = json_pack("{s:s}", a->sc.arg, a->subject.data != NULL ? a->subject.data : "");

	if (a->sc.calls > 1 && strcmp(a->sc.arg, "q") == 0)
		json_object_set_new(v, "n", json_integer(i));
	return v;
}

/* Call i's arguments as JSON text; the caller frees them. */
static char *
tool_args(const struct ask *a, long i)
{
	json_t	*v = tool_input(a, i);
	char	*s = json_dumps(v, JSON_COMPACT);

	json_decref(v);
	return s != NULL ? s : sb_strdup("{}");
}

/* The pieces of every call's arguments: the completion tokens of a tool turn. */
static long
tool_pieces(const struct ask *a)
{
	char	*args;
	long	 i, n = 0;

	for (i = 0; i < a->sc.calls; i++) {
		args = tool_args(a, i);
		n += pieces(args);
		free(args);
	}
	return n;
}

/* Call i's id, its own in this process: the request's number and i. */
static void
call_id(const struct ask *a, long i, char *buf, size_t len)
{
	snprintf(buf, len, "%s%lu_%ld", a->api == API_OPENAI ? "call_mock" : "toolu_mock", a->n, i);
}

/* The whole reply of ntok tokens into text. */
static void
reply_text(const struct ask *a, long ntok, struct sb_buf *text)
{
	struct sb_buf	 t = { 0 };
	long		 k;

	buf_append(text, "", 0);
	for (k = 0; k < ntok; k++) {
		token_at(a, k, &t);
		buf_append(text, t.data, t.len);
	}
	buf_free(&t);
}

/* Queues token event v; 0 once disconnect= ends the stream here. */
static int
ev_token(struct conn *c, struct ask *a, const char *name, json_t *v)
{
	ev_sse(c, name, v, 1);
	return a->left < 0 || --a->left > 0;
}

/* Before token k of total: the one event of invalid JSON, halfway, for malformed=. */
static void
ev_malformed(struct conn *c, const struct ask *a, long k, long total)
{
	static const char oa[] = "data: {\"id\":\"chatcmpl-mock\",\"object\":"
	    "\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
	    "{\"content\":\"malformed\n\n";
	static const char an[] = "event: content_block_delta\ndata: {\"type\":"
	    "\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
	    "\"text\":\"malformed\n\n";

	if (!a->sc.malformed || k != total / 2)
		return;
	if (a->api == API_OPENAI)
		ev_chunk(c, oa, sizeof(oa) - 1, 0);
	else
		ev_chunk(c, an, sizeof(an) - 1, 0);
}

/* The last chunk of a chunked body. */
static void
ev_end(struct conn *c)
{
	ev_push(c, sb_strdup("0\r\n\r\n"), 5, 0);
}

/* ------------------------------------------------------------ OpenAI */

static json_t *
oa_usage(const struct ask *a, long completion)
{
	return json_pack("{s:I, s:I, s:I}", "prompt_tokens", (json_int_t)a->prompt,
	    "completion_tokens", (json_int_t)completion,
	    "total_tokens", (json_int_t)(a->prompt + completion));
}

/* A chat.completion.chunk around delta (taken). */
static json_t *
oa_chunk(const struct ask *a, json_t *delta, const char *finish)
{
	json_t *v;

	v = json_pack("{s:s, s:s, s:I, s:s, s:s, s:[{s:i, s:o, s:n, s:s?}]}", "id", a->id,
	    "object", "chat.completion.chunk", "created", (json_int_t)a->created,
	    "model", a->model, "system_fingerprint", "fp_mock",
	    "choices", "index", 0, "delta", delta, "logprobs", "finish_reason", finish);
	if (a->include_usage)
		json_object_set_new(v, "usage", json_null());
	return v;
}

/* The text of an OpenAI stream: the role, then a token a chunk.  0 once disconnect=
 * ended the stream; *done counts the tokens sent. */
static int
oa_stream_text(struct conn *c, struct ask *a, long ntok, long *done)
{
	struct sb_buf	 t = { 0 };
	long		 k;
	int		 go = 1;

	ev_sse(c, NULL, oa_chunk(a, json_pack("{s:s, s:s, s:n}", "role", "assistant",
	    "content", "", "refusal"), NULL), 0);
	for (k = 0; k < ntok && go; k++) {
		token_at(a, k, &t);
		ev_malformed(c, a, k, ntok);
		(*done)++;
		go = ev_token(c, a, NULL, oa_chunk(a, json_pack("{s:s%}", "content", t.data, t.len),
		    NULL));
	}
	if (ntok == 0)
		ev_malformed(c, a, 0, 0);
	buf_free(&t);
	return go;
}

/* The calls of an OpenAI stream: each one's first chunk with its index, id and name
 * (the first also with the role), then its arguments in pieces.  0 once disconnect=
 * ended the stream; *done counts the pieces sent. */
static int
oa_stream_calls(struct conn *c, struct ask *a, long *done)
{
	char	 id[64], *args;
	size_t	 len, off, n;
	long	 i, total = tool_pieces(a);
	json_t	*call, *v;
	int	 go = 1;

	for (i = 0; i < a->sc.calls && go; i++) {
		call_id(a, i, id, sizeof(id));
		call = json_pack("{s:i, s:s, s:s, s:{s:s, s:s}}", "index", (int)i, "id", id,
		    "type", "function", "function", "name", a->sc.tool, "arguments", "");
		v = i == 0 ? json_pack("{s:s, s:n, s:[o]}", "role", "assistant", "content",
		    "tool_calls", call) : json_pack("{s:[o]}", "tool_calls", call);
		ev_sse(c, NULL, oa_chunk(a, v, NULL), 0);
		args = tool_args(a, i);
		len = strlen(args);
		for (off = 0; off < len && go; off += n) {
			n = piece_len(args, len, off);
			ev_malformed(c, a, *done, total);
			(*done)++;
			v = json_pack("{s:[{s:i, s:{s:s%}}]}", "tool_calls", "index", (int)i,
			    "function", "arguments", args + off, n);
			go = ev_token(c, a, NULL, oa_chunk(a, v, NULL));
		}
		free(args);
	}
	return go;
}

static void
oa_stream(struct conn *c, struct ask *a, long ntok, const char *finish)
{
	long	 done = 0;
	json_t	*v;

	ev_head(c, a, 200, "text/event-stream", -1);
	if (a->sc.hang) {
		c->hang = 1;
		return;
	}
	if (a->left == 0)
		return;
	if (!(a->tool_call ? oa_stream_calls(c, a, &done) : oa_stream_text(c, a, ntok, &done)))
		return;
	ev_sse(c, NULL, oa_chunk(a, json_object(), finish), 0);
	if (a->include_usage) {
		v = json_pack("{s:s, s:s, s:I, s:s, s:s, s:[], s:o}", "id", a->id,
		    "object", "chat.completion.chunk", "created", (json_int_t)a->created,
		    "model", a->model, "system_fingerprint", "fp_mock", "choices",
		    "usage", oa_usage(a, done));
		ev_sse(c, NULL, v, 0);
	}
	ev_chunk(c, "data: [DONE]\n\n", 14, 0);
	ev_end(c);
}

static void
oa_whole(struct conn *c, struct ask *a, long ntok, const char *finish)
{
	struct sb_buf	 text = { 0 };
	char		 id[64], *args;
	json_t		*msg, *calls;
	long		 i, tokens = ntok;

	if (a->tool_call) {
		calls = json_array();
		for (i = 0; i < a->sc.calls; i++) {
			call_id(a, i, id, sizeof(id));
			args = tool_args(a, i);
			json_array_append_new(calls, json_pack("{s:s, s:s, s:{s:s, s:s}}", "id", id,
			    "type", "function", "function", "name", a->sc.tool, "arguments", args));
			free(args);
		}
		tokens = tool_pieces(a);
		msg = json_pack("{s:s, s:n, s:o}", "role", "assistant", "content",
		    "tool_calls", calls);
	} else {
		reply_text(a, ntok, &text);
		msg = json_pack("{s:s, s:s, s:n}", "role", "assistant", "content", text.data,
		    "refusal");
	}
	ev_whole(c, a, 200, json_pack("{s:s, s:s, s:I, s:s, s:[{s:i, s:o, s:n, s:s}], s:o, s:s}",
	    "id", a->id, "object", "chat.completion", "created", (json_int_t)a->created,
	    "model", a->model, "choices", "index", 0, "message", msg, "logprobs",
	    "finish_reason", finish, "usage", oa_usage(a, tokens),
	    "system_fingerprint", "fp_mock"));
	buf_free(&text);
}

/* ------------------------------------------------------------ Anthropic */

static void
an_ping(struct conn *c)
{
	ev_sse(c, "ping", json_pack("{s:s}", "type", "ping"), 0);
}

/*
 * One content block at index: its start (block, taken), a ping after the first
 * one, its deltas (the arguments args in pieces, or without args ntok text tokens,
 * with a ping every PING_EVERY tokens of the answer), its stop.  total is the
 * answer's tokens, *done those sent so far.  0 once disconnect= ended the stream.
 */
static int
an_block(struct conn *c, struct ask *a, long index, json_t *block, const char *args,
    long ntok, long total, long *done)
{
	struct sb_buf	 t = { 0 };
	size_t		 len = args != NULL ? strlen(args) : 0, off = 0, n;
	long		 k, count = args != NULL ? pieces(args) : ntok;
	json_t		*d;
	int		 go = 1;

	ev_sse(c, "content_block_start", json_pack("{s:s, s:i, s:o}", "type",
	    "content_block_start", "index", (int)index, "content_block", block), 0);
	if (index == 0)
		an_ping(c);
	for (k = 0; k < count && go; k++) {
		ev_malformed(c, a, *done, total);
		if (*done > 0 && *done % PING_EVERY == 0)
			an_ping(c);
		if (args != NULL) {
			n = piece_len(args, len, off);
			d = json_pack("{s:s, s:s%}", "type", "input_json_delta", "partial_json",
			    args + off, n);
			off += n;
		} else {
			token_at(a, k, &t);
			d = json_pack("{s:s, s:s%}", "type", "text_delta", "text", t.data, t.len);
		}
		(*done)++;
		go = ev_token(c, a, "content_block_delta", json_pack("{s:s, s:i, s:o}", "type",
		    "content_block_delta", "index", (int)index, "delta", d));
	}
	if (total == 0)
		ev_malformed(c, a, 0, 0);
	if (go)
		ev_sse(c, "content_block_stop", json_pack("{s:s, s:i}", "type",
		    "content_block_stop", "index", (int)index), 0);
	buf_free(&t);
	return go;
}

static void
an_stream(struct conn *c, struct ask *a, long ntok, const char *stop)
{
	char	 id[64], *args;
	long	 i, done = 0, total;
	int	 go = 1;

	ev_head(c, a, 200, "text/event-stream", -1);
	if (a->sc.hang) {
		c->hang = 1;
		return;
	}
	if (a->left == 0)
		return;
	ev_sse(c, "message_start", json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:[], s:n, s:n, "
	    "s:{s:I, s:i}}}", "type", "message_start", "message", "id", a->id, "type", "message",
	    "role", "assistant", "model", a->model, "content", "stop_reason", "stop_sequence",
	    "usage", "input_tokens", (json_int_t)a->prompt, "output_tokens", 1), 0);
	if (a->tool_call) {
		total = tool_pieces(a);
		for (i = 0; i < a->sc.calls && go; i++) {
			call_id(a, i, id, sizeof(id));
			args = tool_args(a, i);
			go = an_block(c, a, i, json_pack("{s:s, s:s, s:s, s:{}}", "type", "tool_use",
			    "id", id, "name", a->sc.tool, "input"), args, 0, total, &done);
			free(args);
		}
	} else
		go = an_block(c, a, 0, json_pack("{s:s, s:s}", "type", "text", "text", ""), NULL,
		    ntok, ntok, &done);
	if (!go)
		return;
	ev_sse(c, "message_delta", json_pack("{s:s, s:{s:s, s:n}, s:{s:I}}", "type",
	    "message_delta", "delta", "stop_reason", stop, "stop_sequence", "usage",
	    "output_tokens", (json_int_t)done), 0);
	ev_sse(c, "message_stop", json_pack("{s:s}", "type", "message_stop"), 0);
	ev_end(c);
}

static void
an_whole(struct conn *c, struct ask *a, long ntok, const char *stop)
{
	struct sb_buf	 text = { 0 };
	char		 id[64];
	json_t		*content = json_array();
	long		 i, tokens = ntok;

	if (a->tool_call) {
		for (i = 0; i < a->sc.calls; i++) {
			call_id(a, i, id, sizeof(id));
			json_array_append_new(content, json_pack("{s:s, s:s, s:s, s:o}", "type",
			    "tool_use", "id", id, "name", a->sc.tool, "input", tool_input(a, i)));
		}
		tokens = tool_pieces(a);
	} else {
		reply_text(a, ntok, &text);
		json_array_append_new(content, json_pack("{s:s, s:s}", "type", "text",
		    "text", text.data));
	}
	ev_whole(c, a, 200, json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:n, s:{s:I, s:I}}",
	    "id", a->id, "type", "message", "role", "assistant", "model", a->model,
	    "content", content, "stop_reason", stop, "stop_sequence",
	    "usage", "input_tokens", (json_int_t)a->prompt, "output_tokens", (json_int_t)tokens));
	buf_free(&text);
}

/* ------------------------------------------------------------ the request */

/* The script of plain "mock". */
static void
script_init(struct script *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->retry_after = sc->disconnect = sc->tokens = -1;
	sc->calls = sc->steps = 1;
	snprintf(sc->arg, sizeof(sc->arg), "q");
}

/* Reads the directives after "mock" into sc.  0, 404 (not a mock model) or 400 (why). */
static int
script_parse(const char *model, struct script *sc, char *why, size_t whylen)
{
	struct {
		const char	*name;
		long		 min, max, *dst;
	} num[] = {
		{ "pace", 1, 1000000, &sc->pace },
		{ "delay", 0, 600000, &sc->delay },
		{ "status", 400, 599, &sc->status },
		{ "retry_after", 0, 86400, &sc->retry_after },
		{ "disconnect", 0, TOKENS_MAX, &sc->disconnect },
		{ "tokens", 0, TOKENS_MAX, &sc->tokens },
		{ "times", 1, 1000000, &sc->times },
		{ "calls", 1, CALLS_MAX, &sc->calls },
		{ "steps", 1, STEPS_MAX, &sc->steps },
	};
	char	 buf[512], *item, *save, *eq, *end;
	size_t	 i;
	long	 v;

	if (strncmp(model, "mock", 4) != 0 || (model[4] != '\0' && model[4] != ','))
		return 404;
	if (strlen(model) >= sizeof(buf)) {
		snprintf(why, whylen, "model: at most %zu bytes", sizeof(buf) - 1);
		return 400;
	}
	snprintf(buf, sizeof(buf), "%s", model + 4);
	for (item = strtok_r(buf, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
		if (strcmp(item, "hang") == 0 || strcmp(item, "malformed") == 0 ||
		    strcmp(item, "nul") == 0) {
			*(item[0] == 'h' ? &sc->hang : item[0] == 'm' ? &sc->malformed : &sc->nul) = 1;
			continue;
		}
		if ((eq = strchr(item, '=')) == NULL)
			goto bad;
		*eq++ = '\0';
		if (strcmp(item, "tool") == 0) {
			if (strlen(eq) < 1 || strlen(eq) >= sizeof(sc->tool) ||
			    strspn(eq, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_-") != strlen(eq))
				goto bad;
			snprintf(sc->tool, sizeof(sc->tool), "%s", eq);
			continue;
		}
		if (strcmp(item, "arg") == 0) {
			if ((strlen(eq) < 1 || strlen(eq) >= sizeof(sc->arg) ||
			    strspn(eq, "abcdefghijklmnopqrstuvwxyz_") != strlen(eq)) &&
			    strcmp(eq, "*") != 0)
				goto bad;
			snprintf(sc->arg, sizeof(sc->arg), "%s", eq);
			continue;
		}
		for (i = 0; i < sizeof(num) / sizeof(num[0]); i++)
			if (strcmp(item, num[i].name) == 0)
				break;
		if (i == sizeof(num) / sizeof(num[0]))
			goto bad;
		errno = 0;
		v = strtol(eq, &end, 10);
		if (*eq == '\0' || *end != '\0' || errno != 0 || v < num[i].min || v > num[i].max) {
			snprintf(why, whylen, "model: %s must be an integer from %ld to %ld",
			    item, num[i].min, num[i].max);
			return 400;
		}
		*num[i].dst = v;
	}
	return 0;
bad:
	snprintf(why, whylen, "model: unknown mock directive \"%.64s\"", item);
	return 400;
}

/* The number of attempts counted under key, this one included. */
static long
times_count(uint64_t key)
{
	size_t i;

	if (key == 0)
		key = 1;
	if (ntimes >= TIMES_SLOTS * 3 / 4) {
		memset(times, 0, sizeof(times));
		ntimes = 0;
	}
	for (i = key % TIMES_SLOTS; times[i].key != 0 && times[i].key != key;
	    i = (i + 1) % TIMES_SLOTS)
		;
	if (times[i].key == 0) {
		times[i].key = key;
		ntimes++;
	}
	return ++times[i].n;
}

static uint64_t
fnv1a(uint64_t h, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (h ^ 0xff) * 0x100000001b3ULL;
}

/* The conversation's key for times=: path, model, messages and system prompt. */
static uint64_t
times_key(const char *path, json_t *body)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	char		*s;

	h = fnv1a(h, path);
	h = fnv1a(h, json_string_value(json_object_get(body, "model")));
	s = json_dumps(json_object_get(body, "messages"), JSON_COMPACT | JSON_SORT_KEYS);
	h = fnv1a(h, s);
	free(s);
	s = json_dumps(json_object_get(body, "system"), JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENCODE_ANY);
	h = fnv1a(h, s);
	free(s);
	return h;
}

/* Appends the text in content (a string, or parts and blocks with text or content), spaced. */
static void
text_of(const json_t *v, struct sb_buf *b)
{
	const json_t	*e;
	size_t		 i;

	if (json_is_string(v)) {
		buf_append(b, " ", 1);
		buf_append(b, json_string_value(v), json_string_length(v));
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			text_of(e, b);
	} else if (json_is_object(v)) {
		text_of(json_object_get(v, "text"), b);
		text_of(json_object_get(v, "content"), b);
	}
}

/* The subject: the words of text, one space apart, each one's place noted. */
static void
subject_set(struct ask *a, const char *text, size_t len)
{
	size_t i = 0, start, cap = 0;

	buf_append(&a->subject, "", 0);
	for (;;) {
		while (i < len && isspace((unsigned char)text[i]))
			i++;
		if (i == len)
			break;
		for (start = i; i < len && !isspace((unsigned char)text[i]); i++)
			;
		if (a->nword == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			a->woff = sb_realloc(a->woff, cap * sizeof(*a->woff));
			a->wlen = sb_realloc(a->wlen, cap * sizeof(*a->wlen));
		}
		if (a->nword > 0)
			buf_append(&a->subject, " ", 1);
		a->woff[a->nword] = a->subject.len;
		a->wlen[a->nword++] = i - start;
		buf_append(&a->subject, text + start, i - start);
	}
}

static long
words(const char *s, size_t len)
{
	size_t	 i;
	long	 n = 0;
	int	 in = 0;

	for (i = 0; i < len; i++) {
		if (isspace((unsigned char)s[i]))
			in = 0;
		else if (!in) {
			in = 1;
			n++;
		}
	}
	return n;
}

/* Whether the request offers a tool called name. */
static int
tool_offered(enum api api, json_t *body, const char *name)
{
	const json_t	*t, *fn;
	const char	*n;
	size_t		 i;

	json_array_foreach(json_object_get(body, "tools"), i, t) {
		fn = api == API_OPENAI ? json_object_get(t, "function") : t;
		if ((n = json_string_value(json_object_get(fn, "name"))) != NULL &&
		    strcmp(n, name) == 0)
			return 1;
	}
	return 0;
}

/* ------------------------------------------------------------ tool turns */

static const char *
str(const json_t *v, const char *key)
{
	return json_string_value(json_object_get(v, key));
}

/* 1 if s and t are both strings and the same. */
static int
same(const char *s, const char *t)
{
	return s != NULL && t != NULL && strcmp(s, t) == 0;
}

/* An OpenAI assistant message's calls, each with an id, type "function", a name
 * and arguments as a string.  0, or 400 with why. */
static int
oa_check_calls(const json_t *m, size_t i, char *why, size_t whylen)
{
	const json_t	*calls = json_object_get(m, "tool_calls"), *c, *fn;
	const char	*bad;
	size_t		 j;

	if (calls == NULL)
		return 0;
	if (!json_is_array(calls)) {
		snprintf(why, whylen, "Invalid type for 'messages[%zu].tool_calls': "
		    "expected an array", i);
		return 400;
	}
	json_array_foreach(calls, j, c) {
		fn = json_object_get(c, "function");
		bad = str(c, "id") == NULL ? "id" : !same(str(c, "type"), "function") ? "type" :
		    str(fn, "name") == NULL ? "function.name" :
		    !json_is_string(json_object_get(fn, "arguments")) ? "function.arguments" : NULL;
		if (bad != NULL) {
			snprintf(why, whylen, "Missing or invalid parameter: "
			    "'messages[%zu].tool_calls[%zu].%s' (a call needs an id, type "
			    "\"function\", function.name and function.arguments as a string)",
			    i, j, bad);
			return 400;
		}
	}
	return 0;
}

/* Whether the OpenAI assistant message m made the call id. */
static int
oa_has_call(const json_t *m, const char *id)
{
	const json_t	*c;
	size_t		 j;

	json_array_foreach(json_object_get(m, "tool_calls"), j, c)
		if (same(str(c, "id"), id))
			return 1;
	return 0;
}

/* Whether a tool message answers the call id after message i and before the next
 * user or assistant message. */
static int
oa_answered(const json_t *msgs, size_t i, const char *id)
{
	const json_t	*m;
	const char	*role;

	for (i++; (m = json_array_get(msgs, i)) != NULL; i++) {
		role = str(m, "role");
		if (same(role, "user") || same(role, "assistant"))
			break;
		if (same(role, "tool") && same(str(m, "tool_call_id"), id))
			return 1;
	}
	return 0;
}

/* OpenAI's rules for tool turns (see the top).  0, or 400 with why. */
static int
oa_check(const json_t *msgs, char *why, size_t whylen)
{
	const json_t	*m, *asst = NULL, *c;
	const char	*role, *id;
	size_t		 i, j;

	json_array_foreach(msgs, i, m) {
		role = str(m, "role");
		if (same(role, "assistant")) {
			if (oa_check_calls(m, i, why, whylen) != 0)
				return 400;
			json_array_foreach(json_object_get(m, "tool_calls"), j, c)
				if (!oa_answered(msgs, i, str(c, "id"))) {
					snprintf(why, whylen, "messages[%zu]: an assistant message with "
					    "'tool_calls' must be followed by tool messages responding to "
					    "each 'tool_call_id': none answers %.64s", i, str(c, "id"));
					return 400;
				}
			asst = m;
		} else if (same(role, "tool")) {
			id = str(m, "tool_call_id");
			if (!json_is_string(json_object_get(m, "content"))) {
				snprintf(why, whylen, "messages[%zu].content: the content of a tool "
				    "message must be a string", i);
				return 400;
			}
			if (asst == NULL || !oa_has_call(asst, id)) {
				snprintf(why, whylen, "messages[%zu]: tool_call_id %.64s is not a "
				    "tool call of the nearest assistant message before it", i,
				    id != NULL ? id : "(none)");
				return 400;
			}
		}
	}
	return 0;
}

/* Whether the content of message m (NULL: none) has a block of this type whose key
 * is id. */
static int
an_has_block(const json_t *m, const char *type, const char *key, const char *id)
{
	const json_t	*b;
	size_t		 j;

	json_array_foreach(json_object_get(m, "content"), j, b)
		if (same(str(b, "type"), type) && same(str(b, key), id))
			return 1;
	return 0;
}

/* The tool blocks of Anthropic message i, m, between prev and next (NULL: none).
 * 0, or 400 with why. */
static int
an_check_blocks(const json_t *m, size_t i, const json_t *prev, const json_t *next,
    char *why, size_t whylen)
{
	const json_t	*b;
	const char	*type;
	size_t		 j;
	int		 other = 0;

	json_array_foreach(json_object_get(m, "content"), j, b) {
		type = str(b, "type");
		if (same(type, "tool_use")) {
			if (str(b, "id") == NULL || str(b, "name") == NULL ||
			    !json_is_object(json_object_get(b, "input"))) {
				snprintf(why, whylen, "messages.%zu.content.%zu: a tool_use block needs "
				    "an id, a name and an object input", i, j);
				return 400;
			}
			if (!an_has_block(next, "tool_result", "tool_use_id", str(b, "id"))) {
				snprintf(why, whylen, "messages.%zu: tool_use ids were found without "
				    "tool_result blocks immediately after: %.64s. Each tool_use block "
				    "must have a corresponding tool_result block in the next message.",
				    i, str(b, "id"));
				return 400;
			}
		} else if (same(type, "tool_result")) {
			if (other) {
				snprintf(why, whylen, "messages.%zu.content.%zu: tool_result blocks "
				    "must come first in the content, before any other block", i, j);
				return 400;
			}
			if (!an_has_block(prev, "tool_use", "id", str(b, "tool_use_id"))) {
				snprintf(why, whylen, "messages.%zu.content.%zu: unexpected tool_use_id "
				    "found in tool_result blocks: %.64s. Each tool_result block must have "
				    "a corresponding tool_use block in the previous message.", i, j,
				    str(b, "tool_use_id") != NULL ? str(b, "tool_use_id") : "(none)");
				return 400;
			}
		} else
			other = 1;
	}
	return 0;
}

/* Anthropic's rules for turns (see the top).  0, or 400 with why. */
static int
an_check(const json_t *msgs, char *why, size_t whylen)
{
	const json_t	*m;
	size_t		 i;

	json_array_foreach(msgs, i, m) {
		if (!same(str(m, "role"), i % 2 == 0 ? "user" : "assistant")) {
			snprintf(why, whylen, "messages.%zu: roles must alternate between \"user\" "
			    "and \"assistant\", starting with \"user\"", i);
			return 400;
		}
		if (an_check_blocks(m, i, i > 0 ? json_array_get(msgs, i - 1) : NULL,
		    json_array_get(msgs, i + 1), why, whylen) != 0)
			return 400;
	}
	return 0;
}

/* ------------------------------------------------------------ the conversation */

/* Appends the words a model reads in message m: its text, its tool results, its
 * tool calls' arguments (OpenAI's as sent, Anthropic's input as JSON text). */
static void
message_words(const json_t *m, struct sb_buf *all)
{
	const json_t	*c;
	size_t		 j;
	char		*s;

	text_of(json_object_get(m, "content"), all);
	json_array_foreach(json_object_get(m, "tool_calls"), j, c)
		text_of(json_object_get(json_object_get(c, "function"), "arguments"), all);
	json_array_foreach(json_object_get(m, "content"), j, c) {
		if (!json_is_object(json_object_get(c, "input")) ||
		    (s = json_dumps(json_object_get(c, "input"), JSON_COMPACT)) == NULL)
			continue;
		buf_append(all, " ", 1);
		buf_append(all, s, strlen(s));
		free(s);
	}
}

/*
 * A user message: its tool_result blocks are a tool-result turn (their text in
 * a->results), its other text a new question (a->question; no turn after it yet).
 * The results come first: a question in the same message is newer.
 */
static void
user_read(struct ask *a, const json_t *content)
{
	const json_t	*b;
	size_t		 j;
	int		 results = 0, text = !json_is_array(content);

	json_array_foreach(content, j, b) {
		if (!same(str(b, "type"), "tool_result")) {
			text = 1;
			continue;
		}
		if (results++ == 0)
			a->results.len = 0;
		text_of(json_object_get(b, "content"), &a->results);
	}
	if (results > 0)
		a->turns++;
	if (!text)
		return;
	a->question.len = 0;
	json_array_foreach(content, j, b)
		if (!same(str(b, "type"), "tool_result"))
			text_of(b, &a->question);
	if (!json_is_array(content))
		text_of(content, &a->question);
	a->turns = 0;
}

/* The question, the tool-result turns after it and the last one's text; the words
 * of every message into all. */
static void
conversation_read(struct ask *a, const json_t *msgs, struct sb_buf *all)
{
	const json_t	*m;
	const char	*role;
	size_t		 i;
	int		 tools = 0;	/* the message before was an OpenAI tool message */

	buf_append(&a->question, "", 0);
	buf_append(&a->results, "", 0);
	json_array_foreach(msgs, i, m) {
		role = str(m, "role");
		message_words(m, all);
		if (same(role, "tool")) {
			if (tools++ == 0) {
				a->results.len = 0;
				a->turns++;
			}
			text_of(json_object_get(m, "content"), &a->results);
			continue;
		}
		tools = 0;
		if (same(role, "user"))
			user_read(a, json_object_get(m, "content"));
	}
}

/* Reads the body's fields into a.  0, or 400 with why. */
static int
ask_read(struct ask *a, json_t *body, char *why, size_t whylen)
{
	struct sb_buf	 all = { 0 };
	json_t		*msgs = json_object_get(body, "messages"), *v;
	const json_t	*m;
	size_t		 i;
	int		 rc = 400;

	if (!json_is_array(msgs) || json_array_size(msgs) == 0) {
		snprintf(why, whylen, "messages: a non-empty array is required");
		goto out;
	}
	json_array_foreach(msgs, i, m)
		if (str(m, "role") == NULL) {
			snprintf(why, whylen, "messages.%zu.role: a string is required", i);
			goto out;
		}
	if ((a->api == API_OPENAI ? oa_check(msgs, why, whylen) :
	    an_check(msgs, why, whylen)) != 0)
		goto out;
	buf_append(&all, "", 0);
	conversation_read(a, msgs, &all);
	text_of(json_object_get(body, "system"), &all);
	a->prompt = words(all.data, all.len);
	if ((v = json_object_get(body, "stream")) != NULL && !json_is_boolean(v)) {
		snprintf(why, whylen, "stream: a boolean is required");
		goto out;
	}
	a->stream = json_is_true(v);
	a->include_usage = json_is_true(json_object_get(json_object_get(body, "stream_options"),
	    "include_usage"));
	a->max_tokens = -1;
	if ((v = json_object_get(body, "max_tokens")) == NULL && a->api == API_OPENAI)
		v = json_object_get(body, "max_completion_tokens");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 1)) {
		snprintf(why, whylen, "max_tokens: a positive integer is required");
		goto out;
	}
	if (v == NULL && a->api == API_ANTHROPIC) {
		snprintf(why, whylen, "max_tokens: Field required");
		goto out;
	}
	if (v != NULL)
		a->max_tokens = (long)json_integer_value(v);
	rc = 0;
out:
	buf_free(&all);
	return rc;
}

/* ------------------------------------------------------------ the answer */

/* Checks the credentials the API wants.  0, or the status with why. */
static int
auth_check(const struct ask *a, const struct mock_req *q, char *why, size_t whylen)
{
	const char *v;

	if (a->api == API_OPENAI) {
		v = mock_http_header(q, "Authorization");
		if (v == NULL || strncasecmp(v, "Bearer ", 7) != 0 || v[7 + strspn(v + 7, " ")] == '\0') {
			snprintf(why, whylen, "You didn't provide an API key. You need to provide your "
			    "API key in an Authorization header using Bearer auth.");
			return 401;
		}
		return 0;
	}
	if ((v = mock_http_header(q, "x-api-key")) == NULL || *v == '\0') {
		snprintf(why, whylen, "x-api-key header is required");
		return 401;
	}
	if ((v = mock_http_header(q, "anthropic-version")) == NULL || *v == '\0') {
		snprintf(why, whylen, "anthropic-version: header is required");
		return 400;
	}
	return 0;
}

/* Builds the answer to a script's request into c's events. */
static void
answer(struct conn *c, struct ask *a)
{
	const char	*fin;
	long		 ntok;
	char		 msg[128];

	if (a->sc.status != 0) {
		snprintf(msg, sizeof(msg), "mock: status=%ld", a->sc.status);
		if (a->api == API_OPENAI && a->sc.status >= 500)
			snprintf(msg, sizeof(msg), "The server had an error while processing your "
			    "request. Sorry about that!");
		else if (a->sc.status == 529)
			snprintf(msg, sizeof(msg), "Overloaded");
		else if (a->sc.status == 429)
			snprintf(msg, sizeof(msg), "Rate limit reached for requests (mock)");
		answer_error(c, a, (int)a->sc.status, msg);
		return;
	}
	/* A tool-calling turn is about the question; the text after results, about them. */
	a->tool_call = a->sc.tool[0] != '\0' && a->turns < a->sc.steps;
	if (a->tool_call || a->turns == 0)
		subject_set(a, a->question.data, a->question.len);
	else
		subject_set(a, a->results.data, a->results.len);
	ntok = a->sc.tokens >= 0 ? a->sc.tokens : (long)a->nword + 1;
	fin = a->tool_call ? (a->api == API_OPENAI ? "tool_calls" : "tool_use") :
	    a->api == API_OPENAI ? "stop" : "end_turn";
	if (!a->tool_call && a->max_tokens >= 0 && ntok > a->max_tokens) {
		ntok = a->max_tokens;
		fin = a->api == API_OPENAI ? "length" : "max_tokens";
	}
	a->left = a->sc.disconnect;
	if (a->stream) {
		if (a->sc.pace > 0)
			c->interval = 1000000 / a->sc.pace;
		if (a->api == API_OPENAI)
			oa_stream(c, a, ntok, fin);
		else
			an_stream(c, a, ntok, fin);
		return;
	}
	if (a->sc.pace > 0)
		a->sc.delay += ntok * 1000 / a->sc.pace;
	if (a->api == API_OPENAI)
		oa_whole(c, a, ntok, fin);
	else
		an_whole(c, a, ntok, fin);
}

/* The model, printable and short, for the log. */
static void
log_model(const char *m, char *buf, size_t len)
{
	size_t i;

	for (i = 0; m != NULL && m[i] != '\0' && i + 1 < len && i < 120; i++)
		buf[i] = isprint((unsigned char)m[i]) && m[i] != ' ' ? m[i] : '?';
	buf[i] = '\0';
	if (i == 0)
		snprintf(buf, len, "-");
}

/*
 * Answers the request q, or the parse status st, into c's events; sets c's state and
 * timer.  Logs one line.
 */
static void
request_answer(struct conn *c, const struct mock_req *q, int st, int64_t now)
{
	struct ask	 a;
	json_t		*body = NULL;
	json_error_t	 jerr;
	char		 why[512], model[128];
	int		 status;

	memset(&a, 0, sizeof(a));
	a.n = ++nrequests;
	a.created = (long long)time(NULL);
	script_init(&a.sc);
	a.max_tokens = a.left = -1;
	a.api = q->path != NULL && strcmp(q->path, "/v1/messages") == 0 ? API_ANTHROPIC :
	    API_OPENAI;
	snprintf(a.id, sizeof(a.id), "%s%lu", a.api == API_OPENAI ? "chatcmpl-mock" : "msg_mock",
	    a.n);
	why[0] = '\0';
	if (st != 200)
		snprintf(why, sizeof(why), "%s", st == 431 ? "request headers too large" :
		    st == 413 ? "request too large" : "malformed request");
	else if (strcmp(q->path, "/v1/chat/completions") != 0 &&
	    strcmp(q->path, "/v1/messages") != 0) {
		st = 404;
		snprintf(why, sizeof(why), "Unknown request URL: %.64s %.128s", q->method, q->path);
	} else if (strcmp(q->method, "POST") != 0) {
		st = 405;
		snprintf(why, sizeof(why), "method not allowed: use POST");
	} else if ((st = auth_check(&a, q, why, sizeof(why))) != 0)
		;
	else if ((body = json_loadb(q->body, q->bodylen, 0, &jerr)) == NULL ||
	    !json_is_object(body)) {
		st = 400;
		snprintf(why, sizeof(why), "the body is not a JSON object: %s",
		    body == NULL ? jerr.text : "");
	} else if (!json_is_string(json_object_get(body, "model"))) {
		st = 400;
		snprintf(why, sizeof(why), "model: a string is required");
	} else {
		a.model = json_string_value(json_object_get(body, "model"));
		if ((st = script_parse(a.model, &a.sc, why, sizeof(why))) == 404)
			snprintf(why, sizeof(why), "The model `%.128s` does not exist", a.model);
		else if (st == 0)
			st = ask_read(&a, body, why, sizeof(why));
		if (st == 0 && a.sc.tool[0] != '\0' && !tool_offered(a.api, body, a.sc.tool))
			a.sc.tool[0] = '\0';
		if (st == 0 && a.sc.times > 0 && times_count(times_key(q->path, body)) > a.sc.times) {
			a.sc.status = a.sc.delay = a.sc.hang = a.sc.malformed = 0;
			a.sc.retry_after = a.sc.disconnect = -1;
		}
	}
	if (st != 0) {
		/* Refused before the script was read: no directive applies. */
		script_init(&a.sc);
		answer_error(c, &a, st, why);
		status = st;
	} else {
		answer(c, &a);
		status = a.sc.status != 0 ? (int)a.sc.status : 200;
	}
	c->state = C_SEND;
	c->due = now;
	if (a.sc.delay > 0) {
		c->state = C_WAIT;
		c->due = now + (int64_t)a.sc.delay * 1000;
	}
	log_model(a.model, model, sizeof(model));
	fprintf(stderr, "sb-mock-llm: %s %s %s%s -> %d\n", q->method != NULL ? q->method : "-",
	    q->path != NULL ? q->path : "-", model, a.stream ? " stream" : "", status);
	json_decref(body);
	buf_free(&a.question);
	buf_free(&a.results);
	buf_free(&a.subject);
	free(a.woff);
	free(a.wlen);
}

/* ------------------------------------------------------------ the loop */

/* Sends what the socket takes; closes once a finished answer is out.  -1: closed. */
static int
conn_flush(struct conn *c)
{
	int rc = mock_send(c->fd, &c->out, &c->outoff);

	if (rc < 0 || (rc == 1 && c->state == C_DRAIN)) {
		conn_close(c);
		return -1;
	}
	if (rc == 1)
		c->out.len = c->outoff = 0;
	conn_interest(c);
	return 0;
}

/* Queues the events that are due (all of them, unless paced) and sends.  -1: closed. */
static int
conn_pump(struct conn *c, int64_t now)
{
	struct event *e;

	while (c->state == C_SEND && c->next < c->nev) {
		e = &c->ev[c->next];
		if (e->token && c->interval > 0) {
			if (c->due > now)
				break;
			c->due += c->interval;
		}
		buf_append(&c->out, e->data, e->len);
		free(e->data);
		e->data = NULL;
		c->next++;
	}
	if (c->state == C_SEND && c->next == c->nev) {
		c->state = c->hang ? C_HANG : C_DRAIN;
		c->due = now + (int64_t)(c->hang ? HANG_S : DRAIN_S) * 1000000;
	}
	return conn_flush(c);
}

/* c's timer is due.  -1: closed. */
static int
conn_timer(struct conn *c, int64_t now)
{
	switch (c->state) {
	case C_WAIT:
		c->state = C_SEND;
		c->due = now;
		/* FALLTHROUGH */
	case C_SEND:
		return conn_pump(c, now);
	default:
		conn_close(c);	/* no request in READ_S, a hang over, or a client not reading */
		return -1;
	}
}

/* Reads what arrived: the request while it comes, then only to see the client leave. */
static int
conn_read(struct conn *c, int64_t now)
{
	struct mock_req	 q;
	const char	*expect;
	char		 junk[4096];
	ssize_t		 n;
	int		 st;

	for (;;) {
		if (c->state != C_READ)
			n = recv(c->fd, junk, sizeof(junk), 0);
		else {
			if (c->incap - c->inlen < 2 && c->incap < IN_MAX + 1) {
				c->incap = c->incap == 0 ? 4096 : c->incap * 2;
				if (c->incap > IN_MAX + 1)
					c->incap = IN_MAX + 1;
				c->in = sb_realloc(c->in, c->incap);
			}
			n = recv(c->fd, c->in + c->inlen, c->incap - 1 - c->inlen, 0);
		}
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			conn_close(c);
			return -1;
		}
		if (n < 0)
			return 0;
		if (c->state != C_READ)
			continue;
		c->inlen += (size_t)n;
		st = mock_http_parse(c->in, c->inlen, MOCK_HEAD_MAX, IN_MAX, &q);
		if (st == 0 && c->inlen >= IN_MAX)
			st = 413;
		if (st == 0) {
			/* libcurl waits a second for this before a large body. */
			if (q.method != NULL && !c->continued &&
			    (expect = mock_http_header(&q, "Expect")) != NULL &&
			    strcasecmp(expect, "100-continue") == 0) {
				c->continued = 1;
				buf_append(&c->out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
				if (conn_flush(c) < 0)
					return -1;
			}
			continue;
		}
		request_answer(c, &q, st, now);
		free(c->in);
		c->in = NULL;
		c->inlen = c->incap = 0;
		return c->state == C_SEND ? conn_pump(c, now) : 0;
	}
}

static void
listener_watch(int lfd, int on)
{
	struct epoll_event ee;

	memset(&ee, 0, sizeof(ee));
	ee.events = on ? EPOLLIN : 0;
	ee.data.ptr = NULL;
	epoll_ctl(epfd, EPOLL_CTL_MOD, lfd, &ee);
}

static void
serve(int lfd)
{
	struct epoll_event	 evs[EVENTS];
	struct conn		*c;
	int64_t			 now, next, paused = 0;
	size_t			 i;
	int			 n, k;

	while (!mock_stopping) {
		now = clock_mono_us();
		next = now + 1000000;
		/* Downwards: a closed connection's slot takes the last, already seen. */
		for (i = nconns; i-- > 0;) {
			c = conns[i];
			if (c->due != 0 && c->due <= now && conn_timer(c, now) < 0)
				continue;
			if (c->due != 0 && c->due < next)
				next = c->due;
		}
		if (paused != 0 && paused <= now) {
			listener_watch(lfd, 1);
			paused = 0;
		}
		if (paused != 0 && paused < next)
			next = paused;
		n = epoll_wait(epfd, evs, EVENTS, next > now ? (int)((next - now + 999) / 1000) : 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "sb-mock-llm: epoll_wait: %s\n", strerror(errno));
			return;
		}
		now = clock_mono_us();
		for (k = 0; k < n; k++) {
			if ((c = evs[k].data.ptr) == NULL) {
				if (conn_accept(lfd, now) < 0 && paused == 0) {
					fprintf(stderr, "sb-mock-llm: accept: %s: pausing\n",
					    strerror(errno));
					listener_watch(lfd, 0);
					paused = now + 100000;
				}
				continue;
			}
			if ((evs[k].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) &&
			    conn_read(c, now) < 0)
				continue;
			if (evs[k].events & EPOLLOUT)
				conn_flush(c);
		}
	}
}

int
main(int argc, char *argv[])
{
	struct epoll_event	 ee;
	struct rlimit		 rl;
	char			*end;
	long			 port;
	int			 lfd;

	if (argc != 2) {
		fprintf(stderr, "usage: sb-mock-llm PORT\n");
		return 2;
	}
	port = strtol(argv[1], &end, 10);
	if (*end != '\0' || port < 1 || port > 65535) {
		fprintf(stderr, "sb-mock-llm: bad port %s\n", argv[1]);
		return 2;
	}
	mock_signals();
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	if ((lfd = mock_listen((int)port, 4096)) < 0) {
		fprintf(stderr, "sb-mock-llm: cannot listen on 127.0.0.1:%ld: %s\n", port,
		    strerror(errno));
		return 1;
	}
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		fprintf(stderr, "sb-mock-llm: epoll_create1: %s\n", strerror(errno));
		close(lfd);
		return 1;
	}
	memset(&ee, 0, sizeof(ee));
	ee.events = EPOLLIN;
	ee.data.ptr = NULL;
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ee);
	fprintf(stderr, "sb-mock-llm: http://127.0.0.1:%ld, %llu descriptors\n", port,
	    (unsigned long long)rl.rlim_cur);
	serve(lfd);
	while (nconns > 0)
		conn_close(conns[nconns - 1]);
	free(conns);
	close(epfd);
	close(lfd);
	fprintf(stderr, "sb-mock-llm: stopped\n");
	return 0;
}
