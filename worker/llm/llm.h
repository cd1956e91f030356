/* llm.h: what the worker needs from an LLM provider's wire format, and the calls it makes. */
#ifndef SB_LLM_H
#define SB_LLM_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/provider.h"

struct curl_slist;

/* ---------------------------------------------------------------- wire formats
 * (worker/llm/wire.c, eventparse.c, openai.c, anthropic.c: pure code, no I/O, unit tested) */

/* A wire format per provider of core/provider.h, with the same values. */
enum llm_kind {
	LLM_OPENAI = PROVIDER_OPENAI,
	LLM_ANTHROPIC = PROVIDER_ANTHROPIC,
	LLM_BUILTIN = PROVIDER_BUILTIN
};

/* provider_parse() and provider_name() for kinds: -1 if unknown. */
int		 llm_kind_parse(const char *);
const char	*llm_kind_name(enum llm_kind);

/*
 * One request to a model.  Strings and JSON are borrowed for the call.
 *
 * messages is the conversation in a neutral shape, oldest first; each encoder
 * writes it in its provider's:
 *   {"role": "user", "content": "text"}
 *   {"role": "assistant", "content": "text"}
 *   {"role": "assistant", "content": "text" or "" (or absent, or null),
 *    "tool_calls": [{"id", "name", "arguments": "<JSON text as the model sent it>"}]}
 *	the turn in which the model called tools (tool_calls: the answer's
 *	llm_result.tool_calls as they are); arguments absent: "{}"; an empty
 *	tool_calls is no call
 *   {"role": "tool", "tool_call_id": "...", "name": "...", "content": "text",
 *    "is_error": true|false}
 *	a call's result, one per call, right after the assistant turn that made
 *	the calls, in their order; name (informative, not sent) and is_error
 *	(default false) may be left out
 * A message of another role, a tool message without tool_call_id or not after an
 * assistant turn with calls (or another tool message), tool_calls that is not an
 * array, a call without id or name, or a content that is not a string (where one
 * is required) breaks the shape: llm_request_body() returns NULL.
 */
struct llm_request {
	const char	*model;
	const char	*system;	/* "" for none */
	json_t		*messages;	/* the neutral messages above */
	double		 temperature;	/* < 0: not sent */
	double		 top_p;		/* <= 0: not sent */
	int		 max_tokens;	/* 0: not sent (Anthropic requires one: 1024 is sent) */
	json_t		*tools;		/* NULL or [{"name", "description", "parameters": schema}] */
};

struct llm_usage {
	int64_t	 prompt_tokens;
	int64_t	 completion_tokens;
};

/* What a whole streamed answer said besides its text. */
struct llm_result {
	char		 finish_reason[32];	/* "stop", "length", "tool_calls" or "other" */
	struct llm_usage usage;
	json_t		*tool_calls;	/* [{"id", "name", "arguments": string}], owned by the stream */
};

/* The streaming request's path below the provider's base URL ("/chat/completions",
 * "/messages"), its headers (a new list: caller curl_slist_free_all()s; the key is
 * never logged), and its JSON body (malloc'd, caller frees). */
const char		*llm_request_path(enum llm_kind);
struct curl_slist	*llm_request_headers(enum llm_kind, const char *api_key,
			    const char *anthropic_version);
char			*llm_request_body(enum llm_kind, const struct llm_request *);

/* An incremental decoder of one streamed answer (server-sent events).  Text deltas
 * go to the callback as they are decoded; memory is bounded (an event over
 * LLM_EVENT_MAX bytes or tool arguments over LLM_TOOL_ARGS_MAX are an error). */
#define LLM_EVENT_MAX		(1024 * 1024)
#define LLM_TOOL_ARGS_MAX	(1024 * 1024)

typedef void llm_text_fn(void *arg, const char *text, size_t len);
struct llm_stream;

struct llm_stream	*llm_stream_new(enum llm_kind, llm_text_fn *, void *arg);	/* caller frees */
/* Bytes of the body as they arrive, split anywhere.  0, or -1 once the stream is
 * malformed or the provider reported an error in it (llm_stream_error says which). */
int			 llm_stream_feed(struct llm_stream *, const char *buf, size_t len);
/* 1 once the provider's end of stream was seen ([DONE], message_stop). */
int			 llm_stream_complete(const struct llm_stream *);
const char		*llm_stream_error(const struct llm_stream *);	/* "" if none */
const struct llm_result	*llm_stream_result(const struct llm_stream *);
void			 llm_stream_free(struct llm_stream *);

/* The message of a non-2xx answer's body in the provider's error shape, or NULL
 * (malloc'd, caller frees; at most 300 bytes). */
char	*llm_error_message(enum llm_kind, const char *body, size_t len);

#endif /* SB_LLM_H */
