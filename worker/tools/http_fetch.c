/* http_fetch.c: the tool that GETs (or POSTs) a URL the model chose and gives it the
 * text.  The URL is the model's, so it is anyone's who can put words before the model:
 * every connection is guarded (core/netguard.c: loopback, private, link-local and
 * metadata addresses are refused, checked on the address connected to, after DNS)
 * unless the org's allowlist names the host, and redirects are followed here, hop by
 * hop, so each new host is checked again. */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "worker/worker.h"
#include "worker/tools/tools.h"
#include "core/arena.h"
#include "core/fetch.h"
#include "core/htmltext.h"

#define FETCH_MAX_BYTES		(2 * 1024 * 1024)	/* of a body as received */
#define FETCH_TIMEOUT_MS	10000			/* of each hop */
#define FETCH_CONNECT_MS	3000
#define FETCH_HOPS_MAX		5			/* redirects followed */

struct fetch_state {
	struct transfer		 xfer;		/* first: the multi handle's way back */
	struct tool_call	*call;
	struct fetch_call	*f;
	void			*easy;
	char			*url;		/* of the hop in flight */
	char			*body;		/* a POST's, while it is one */
	int			 post;
	int			 hops;
};

static void	hop(struct fetch_state *);

/* Is host (from a URL: a name, an address, or [an IPv6 address]) on the org's list? */
static int
allowed(const json_t *list, const char *host)
{
	const char	*h;
	size_t		 i, n = strlen(host);
	json_t		*v;

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	json_array_foreach(list, i, v)
		if ((h = json_string_value(v)) != NULL && strlen(h) == n &&
		    strncasecmp(h, host, n) == 0)
			return 1;
	return 0;
}

/* The URL's host, if it is an http or https URL (malloc'd), else NULL. */
static char *
url_host(const char *url)
{
	CURLU	*u = curl_url();
	char	*scheme = NULL, *host = NULL, *out = NULL;

	if (u == NULL)
		sb_oom(0);
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		out = sb_strdup(host);
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return out;
}

static void
state_free(struct fetch_state *st)
{
	free(st->url);
	free(st->body);
	free(st);
}

static void
finish(struct fetch_state *st, int ok, const char *text, size_t len)
{
	struct tool_call *c = st->call;

	state_free(st);
	tool_done(c, ok, text, len);
}

static void
finishf(struct fetch_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The call failed: the model is told why (fmt may name st's URL: freed after). */
static void
finishf(struct fetch_state *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tool_vfail(st->call, fmt, ap);
	va_end(ap);
	state_free(st);
}

static int
is_type(const char *ctype, const char *prefix)
{
	return ctype != NULL && strncasecmp(ctype, prefix, strlen(prefix)) == 0;
}

/* The answer as the model reads it: its status line, then the text. */
static void
answer(struct fetch_state *st, struct fetch_result *res)
{
	struct sb_buf	 out;
	char		 head[300], *text = NULL;
	size_t		 len = 0;
	int		 html = is_type(res->content_type, "text/html") ||
			    is_type(res->content_type, "application/xhtml");

	snprintf(head, sizeof(head), "HTTP %ld from %.200s\n\n", res->status, st->url);
	buf_init(&out, 0);
	buf_append(&out, head, strlen(head));
	if (html) {
		text = html_text(res->body, res->len, TOOL_RESULT_MAX, &len);
		buf_append(&out, text, len);
	} else if (res->content_type == NULL || is_type(res->content_type, "text/") ||
	    is_type(res->content_type, "application/json") ||
	    is_type(res->content_type, "application/xml")) {
		buf_append(&out, res->body, res->len);
	} else {
		snprintf(head, sizeof(head), "(%zu bytes of %.100s, which is not text: not shown)",
		    res->len, res->content_type);
		buf_append(&out, head, strlen(head));
	}
	free(text);
	finish(st, res->status < 400, out.data, out.len);
	buf_free(&out);
}

static void
ended(struct transfer *t, int rc)
{
	struct fetch_state	*st = (struct fetch_state *)t;
	struct run		*r = st->call->run;
	struct fetch_result	 res;
	enum fetch_err		 e;
	long			 s;

	curl_multi_remove_handle(r->w->multi, st->easy);
	e = fetch_finish(st->f, rc, &res);
	st->f = NULL;
	if (e == FETCH_ERR_FORBIDDEN)
		finishf(st, "Refused: %.300s leads to an address this agent may not fetch "
		    "(loopback, private, link-local or cloud metadata).", st->url);
	else if (e != FETCH_OK)
		finishf(st, "The fetch of %.300s failed: %s.", st->url, res.error);
	else if ((s = res.status) >= 300 && s < 400 && res.location != NULL &&
	    st->hops < FETCH_HOPS_MAX) {
		free(st->url);
		st->url = sb_strdup(res.location);
		st->hops++;
		if (s != 307 && s != 308) {	/* the others are followed by a GET */
			st->post = 0;
			free(st->body);
			st->body = NULL;
		}
		hop(st);
	} else if (s >= 300 && s < 400 && res.location != NULL)
		finishf(st, "The fetch of %.300s was redirected more than %d times.", st->url,
		    FETCH_HOPS_MAX);
	else
		answer(st, &res);
	fetch_result_free(&res);
}

static void
hop(struct fetch_state *st)
{
	struct run		*r = st->call->run;
	struct fetch_opts	 o;
	char			*host;

	if ((host = url_host(st->url)) == NULL) {
		finishf(st, "Refused: %.300s is not an http or https URL.", st->url);
		return;
	}
	memset(&o, 0, sizeof(o));
	o.guard = !allowed(r->allow_hosts, host);
	free(host);
	o.accept = "text/html, text/plain;q=0.9, application/json;q=0.9, */*;q=0.5";
	o.max_bytes = FETCH_MAX_BYTES;
	o.timeout_ms = FETCH_TIMEOUT_MS;
	o.connect_timeout_ms = FETCH_CONNECT_MS;
	if (st->post) {
		json_t *j = json_loads(st->body, JSON_DECODE_ANY, NULL);

		o.body = st->body;
		o.body_len = strlen(st->body);
		o.content_type = j != NULL ? "application/json" : "text/plain; charset=utf-8";
		json_decref(j);
	}
	if ((st->f = fetch_start(st->url, &o)) == NULL) {
		finishf(st, "The fetch of %.300s could not start.", st->url);
		return;
	}
	st->easy = fetch_easy(st->f);
	st->xfer.done = ended;
	curl_easy_setopt(st->easy, CURLOPT_PRIVATE, &st->xfer);
	curl_multi_add_handle(r->w->multi, st->easy);
}

static int
post_allowed(const struct run *r)
{
	return json_is_true(run_param(r, "fetch_post"));
}

static void
start(struct tool_call *c)
{
	struct fetch_state	*st = sb_calloc(1, sizeof(*st));
	const char		*method = json_string_value(json_object_get(c->args, "method"));
	const char		*body = json_string_value(json_object_get(c->args, "body"));

	st->call = c;
	st->url = sb_strdup(json_string_value(json_object_get(c->args, "url")));
	st->post = method != NULL && strcmp(method, "POST") == 0;
	if (st->post && !post_allowed(c->run)) {
		finishf(st, "Refused: this agent may only GET, not POST (%.300s).", st->url);
		return;
	}
	if (st->post)
		st->body = sb_strdup(body != NULL ? body : "");
	c->state = st;
	hop(st);
}

static void
cancel(struct tool_call *c)
{
	struct fetch_state	*st = c->state;
	struct fetch_result	 res;

	if (st == NULL)
		return;
	if (st->f != NULL) {
		curl_multi_remove_handle(c->run->w->multi, st->easy);
		(void)fetch_finish(st->f, CURLE_ABORTED_BY_CALLBACK, &res);
		fetch_result_free(&res);
	}
	state_free(st);
	c->state = NULL;
}

/* A GET may run again; a POST may have taken effect already: never. */
static int
rerun_safe(const struct run *r, const json_t *args)
{
	const char *method = json_string_value(json_object_get(args, "method"));

	(void)r;
	return method == NULL || strcmp(method, "GET") == 0;
}

const struct tool_impl tool_http_fetch = {
	.name = "http_fetch", .start = start, .cancel = cancel, .rerun_safe = rerun_safe
};
