/* call.c: one streaming HTTP call to a provider on the worker's curl multi handle. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stddef.h>
#include <stdio.h>

#include "worker/worker.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/conf.h"

#define ERROR_BODY_MAX	16384	/* of a non-2xx answer, kept for its message */

struct llm_call {
	struct transfer		 xfer;		/* the multi handle's way back to it */
	struct worker		*w;
	CURL			*easy;
	struct curl_slist	*headers;
	char			*body;
	enum llm_kind		 kind;
	struct llm_stream	*stream;
	struct llm_call_ops	 ops;
	void			*arg;
	long			 status;
	int			 retry_after_s;
	int			 stream_failed;
	struct sb_buf		 errbody;	/* a failed call's answer, its first
						 * ERROR_BODY_MAX bytes */
};

static void
call_free(struct llm_call *c)
{
	if (c->easy != NULL) {
		curl_multi_remove_handle(c->w->multi, c->easy);
		curl_easy_cleanup(c->easy);
	}
	curl_slist_free_all(c->headers);
	if (c->stream != NULL)
		llm_stream_free(c->stream);
	free(c->body);
	buf_free(&c->errbody);
	free(c);
}

static size_t
on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct llm_call	*c = arg;
	size_t		 len = size * n;
	char		 line[64];

	if (len > 12 && len < sizeof(line) && strncasecmp(buf, "retry-after:", 12) == 0) {
		memcpy(line, buf + 12, len - 12);
		line[len - 12] = '\0';
		/* Seconds only; an HTTP-date is rare from these APIs and read as 0. */
		c->retry_after_s = atoi(line);
		if (c->retry_after_s < 0)
			c->retry_after_s = 0;
	}
	return len;
}

static size_t
on_body(char *buf, size_t size, size_t n, void *arg)
{
	struct llm_call	*c = arg;
	size_t		 len = size * n, keep;

	if (c->status == 0)
		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &c->status);
	if (c->status >= 200 && c->status < 300) {
		if (llm_stream_feed(c->stream, buf, len) < 0) {
			c->stream_failed = 1;
			return 0;	/* ends the transfer: CURLE_WRITE_ERROR */
		}
		return len;
	}
	keep = c->errbody.len + len > ERROR_BODY_MAX ? ERROR_BODY_MAX - c->errbody.len : len;
	if (keep > 0)
		buf_append(&c->errbody, buf, keep);
	return len;
}

static void	call_ended(struct transfer *, int);

struct llm_call *
llm_call_start(struct worker *w, enum llm_kind kind, const struct llm_request *q,
    const struct llm_call_ops *ops, void *arg)
{
	const struct sb_config	*cfg = &w->cfg;
	struct llm_call		*c = sb_calloc(1, sizeof(*c));
	const char		*base, *key;
	char			*url;

	c->w = w;
	c->kind = kind;
	c->ops = *ops;
	c->arg = arg;
	base = kind == LLM_OPENAI ? cfg->llm.openai_base_url : cfg->llm.anthropic_base_url;
	key = kind == LLM_OPENAI ? cfg->llm.openai_api_key : cfg->llm.anthropic_api_key;
	c->body = llm_request_body(kind, q);
	c->headers = llm_request_headers(kind, key, cfg->llm.anthropic_version);
	if (c->body == NULL || c->headers == NULL) {
		/* A request that cannot be written (bad UTF-8, a key with a line break):
		 * no call; the caller fails the run for good. */
		c->easy = NULL;
		call_free(c);
		return NULL;
	}
	c->stream = llm_stream_new(kind, ops->text, arg);
	url = sb_malloc(strlen(base) + strlen(llm_request_path(kind)) + 1);
	strcpy(url, base);
	if (url[0] != '\0' && url[strlen(url) - 1] == '/')
		url[strlen(url) - 1] = '\0';
	strcat(url, llm_request_path(kind));

	if ((c->easy = curl_easy_init()) == NULL)
		sb_oom(0);
	curl_easy_setopt(c->easy, CURLOPT_URL, url);
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body);
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(c->body));
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->easy, CURLOPT_HEADERDATA, c);
	c->xfer.done = call_ended;
	curl_easy_setopt(c->easy, CURLOPT_PRIVATE, &c->xfer);
	curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->llm.connect_timeout_ms);
	curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, (long)cfg->llm.total_timeout * 1000L);
	/* Idle: less than one byte a second for idle_timeout seconds. */
	curl_easy_setopt(c->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c->easy, CURLOPT_LOW_SPEED_TIME, (long)cfg->llm.idle_timeout);
	curl_easy_setopt(c->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c->easy, CURLOPT_USERAGENT, "switchboard-worker");
	free(url);
	curl_multi_add_handle(w->multi, c->easy);
	return c;
}

void
llm_call_cancel(struct llm_call *c)
{
	call_free(c);
}

static int
retryable_status(long s)
{
	return s == 408 || s == 409 || s == 425 || s == 429 || s >= 500;
}

static void
call_done(struct llm_call *c, CURLcode rc)
{
	struct llm_outcome	 o;
	char			*msg;

	memset(&o, 0, sizeof(o));
	if (c->status == 0)
		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &c->status);
	o.status = (int)c->status;
	o.retry_after_s = c->retry_after_s;
	o.error_type = "provider-error";
	if (c->stream_failed) {
		/* An error event in the stream, or a chunk that is not what the format says:
		 * another attempt may well go through. */
		o.retryable = 1;
		o.error_type = "provider-stream";
		snprintf(o.message, sizeof(o.message), "the provider's stream failed: %s",
		    llm_stream_error(c->stream));
	} else if (rc != CURLE_OK) {
		o.retryable = 1;
		o.error_type = rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : "provider-unreachable";
		snprintf(o.message, sizeof(o.message), "%s%s", curl_easy_strerror(rc),
		    rc == CURLE_OPERATION_TIMEDOUT ? " (connect, idle or total timeout)" : "");
		if (c->status >= 200 && c->status < 300 && rc != CURLE_OPERATION_TIMEDOUT) {
			o.error_type = "provider-stream";
			snprintf(o.message, sizeof(o.message),
			    "the provider's stream broke off: %s", curl_easy_strerror(rc));
		}
	} else if (c->status < 200 || c->status >= 300) {
		o.retryable = retryable_status(c->status);
		o.error_type = c->status == 429 ? "rate-limited" : "provider-error";
		msg = llm_error_message(c->kind, c->errbody.data != NULL ? c->errbody.data : "",
		    c->errbody.len);
		snprintf(o.message, sizeof(o.message), "%s answered %ld: %s", llm_kind_name(c->kind),
		    c->status, msg != NULL ? msg : "(no error message)");
		free(msg);
	} else if (!llm_stream_complete(c->stream)) {
		o.retryable = 1;
		o.error_type = "provider-stream";
		snprintf(o.message, sizeof(o.message), "%s",
		    "the provider's stream ended before its end marker");
	} else {
		o.ok = 1;
	}
	o.result = llm_stream_result(c->stream);
	c->ops.done(c->arg, &o);
}

/* The transfer ended.  The callback may start another call on the same multi handle;
 * this one is freed after it, its result having been copied by then. */
static void
call_ended(struct transfer *t, int rc)
{
	struct llm_call *c = (struct llm_call *)t;

	call_done(c, (CURLcode)rc);
	call_free(c);
}
