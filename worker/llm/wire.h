/* wire.h: private to worker/llm: the event-stream parser and what the providers share. */
#ifndef SB_LLM_WIRE_H
#define SB_LLM_WIRE_H

#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"
#include "worker/llm/llm.h"

/* ---------------------------------------------------------------- sse.c */

/* One dispatched event.  Every pointer is into the decoder and valid only during
 * the callback.  type is the "event" field ("message" when none was given, as the
 * HTML standard says); data holds the "data" lines joined by "\n", NUL-terminated;
 * id is the last "id" field seen in the stream so far ("" for none). */
struct evp_event {
	const char	*type;
	const char	*data;
	size_t		 len;
	const char	*id;
};

/* Called once per event: 0 to go on, or non-zero to stop decoding there (the
 * value is what evp_feed() returns). */
typedef int evp_event_fn(void *arg, const struct evp_event *);

/*
 * The decoder of the text/event-stream format: fields, comments, CRLF, LF or CR
 * line endings, a leading byte order mark, input split at any byte.  Memory is
 * bounded: a line, or an event's data, over max bytes is an error.
 */
struct evp_parser {
	size_t		 max;
	evp_event_fn	*fn;
	void		*arg;
	struct sb_buf	 line;		/* a line that has not ended yet */
	struct sb_buf	 data, type, id;
	int		 cr;		/* the last byte was a CR: a LF next ends nothing */
	int		 started;	/* a line was seen: no byte order mark any more */
	int		 failed;
	char		 err[96];	/* why it failed, "" if it did not */
};

void	 evp_init(struct evp_parser *, size_t max, evp_event_fn *, void *arg);
/* Decodes len bytes.  0 when all were taken; -1 once the input broke a bound
 * (err says which; every later call returns -1); or the callback's non-zero
 * value, with the rest of buf left undecoded. */
int	 evp_feed(struct evp_parser *, const char *buf, size_t len);
void	 evp_free(struct evp_parser *);

/* ---------------------------------------------------------------- streams (wire.c) */

/* A tool call being assembled from its pieces. */
struct wire_tool {
	long		 index;		/* OpenAI's tool_calls index, or Anthropic's block */
	char		*id, *name;
	struct sb_buf	 args;
};

struct llm_stream {
	enum llm_kind	 kind;
	struct evp_parser parser;
	llm_text_fn	*text;
	void		*arg;
	int		 complete;
	int		 failed;
	char		 error[400];
	struct llm_result result;	/* tool_calls: an array, filled when complete */
	struct wire_tool *tools;
	size_t		 ntools, captools;
	size_t		 argbytes;	/* of every call's arguments together */
};

/* The stream's error: sets it once (the first reason wins) and returns -1. */
int	 wire_fail(struct llm_stream *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* The event's data as a JSON object (caller decrefs), or NULL after wire_fail(). */
json_t	*wire_json(struct llm_stream *, const struct evp_event *);
/* Fails the stream with the provider's error object {"type", "message"}: -1. */
int	 wire_provider_error(struct llm_stream *, const json_t *error);
/* Hands decoded text to the caller's callback (empty text is dropped). */
void	 wire_text(struct llm_stream *, const char *, size_t);
/* Sets the normalized finish reason. */
void	 wire_finish_reason(struct llm_stream *, const char *);
/* The tool call with this index, or NULL. */
struct wire_tool *wire_tool(struct llm_stream *, long index);
/* A new tool call; id and name are copied (NULL: "").  NULL after wire_fail()
 * when the index is taken or there are too many calls. */
struct wire_tool *wire_tool_add(struct llm_stream *, long index, const char *id,
	    const char *name);
/* Appends to a call's arguments: 0, or -1 past LLM_TOOL_ARGS_MAX (all calls). */
int	 wire_tool_args(struct llm_stream *, struct wire_tool *, const char *, size_t);
/* The provider's end of stream: builds result.tool_calls and marks the stream
 * complete.  Returns 1 (stop decoding), or -1 after wire_fail(). */
int	 wire_finish(struct llm_stream *);
/* s as a malloc'd string of at most max bytes, cut at a UTF-8 character. */
char	*wire_truncate(const char *s, size_t max);

/* ---------------------------------------------------------------- messages (wire.c) */

enum wire_role { WIRE_USER, WIRE_ASSISTANT, WIRE_TOOL };

/* One neutral message of llm_request.messages (llm.h), read.  The strings are
 * borrowed from the message. */
struct wire_msg {
	enum wire_role	 role;
	const char	*text;		/* the content; "" for none */
	size_t		 textlen;	/* its bytes (a U+0000 does not end it) */
	const json_t	*calls;		/* assistant: its tool calls; NULL for none */
	size_t		 ncalls;
	const char	*call_id;	/* tool: the call it answers */
	int		 is_error;	/* tool: the result is an error */
};

/* One tool call of an assistant message. */
struct wire_call {
	const char	*id, *name;
	const char	*args;		/* JSON text; "{}" when the call has none */
};

/* Called once per message, in order: 0 to go on, -1 to stop. */
typedef int wire_msg_fn(void *arg, const struct wire_msg *);

/* Reads the neutral messages and hands each to fn.  0, or -1 as soon as one
 * breaks the shape llm.h gives or fn returns -1. */
int	 wire_messages(const json_t *messages, wire_msg_fn *fn, void *arg);
/* The i-th tool call of a message wire_messages() handed out (i < ncalls). */
void	 wire_call(const struct wire_msg *, size_t i, struct wire_call *);

/* ---------------------------------------------------------------- providers */

/* The request body as JSON (caller decrefs), or NULL if r breaks its shape. */
json_t	*openai_body(const struct llm_request *r);
json_t	*anthropic_body(const struct llm_request *r);
/* One decoded event of a stream: 0 to go on, 1 at its end, -1 after wire_fail(). */
int	 openai_event(struct llm_stream *, const struct evp_event *);
int	 anthropic_event(struct llm_stream *, const struct evp_event *);

#endif /* SB_LLM_WIRE_H */
