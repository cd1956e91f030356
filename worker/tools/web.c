/* web.c: a tool's HTTP request on the worker's curl multi handle (web.h).  The URL may
 * be anyone's who can put words before the model: every connection is guarded
 * (core/netguard.c: loopback, private, link-local and metadata addresses are refused,
 * checked on the address connected to, after DNS) unless the org's allowlist names the
 * host or the request exempts its own origin, and redirects are followed here, hop by
 * hop, so each new host is checked again. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "worker/worker.h"
#include "worker/tools/tools.h"
#include "worker/tools/web.h"
#include "core/arena.h"
#include "core/fetch.h"
#include "core/htmltext.h"
#include "core/urltmpl.h"

#define WEB_CONNECT_MS		3000
#define WEB_HOPS_MAX		5			/* redirects followed */
#define WEB_ACCEPT		"text/html, text/plain;q=0.9, application/json;q=0.9, */*;q=0.5"

struct web_state {
	struct transfer		 xfer;		/* first: the multi handle's way back */
	struct tool_call	*call;
	struct fetch_call	*f;
	void			*easy;
	struct web_req		 req;		/* url and body: the hop in flight's, ours */
	char			*url;
	char			*body;
	int			 hops;
};

static void	hop(struct web_state *);

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

/* Is url within the request's origin? */
static int
in_origin(const struct web_state *st, const char *url)
{
	char	*o;
	int	 in;

	if (st->req.origin == NULL)
		return 0;
	o = url_origin(url);
	in = o != NULL && strcmp(o, st->req.origin) == 0;
	free(o);
	return in;
}

/* What messages call the request: its label, or the URL of the hop. */
static const char *
label(const struct web_state *st)
{
	return st->req.label != NULL ? st->req.label : st->url;
}

static void
state_free(struct web_state *st)
{
	free(st->url);
	free(st->body);
	free(st);
}

static void
finish(struct web_state *st, int ok, const char *text, size_t len)
{
	struct tool_call *c = st->call;

	state_free(st);
	tool_done(c, ok, text, len);
}

static void
finishf(struct web_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The call failed: the model is told why (fmt may name st's URL: freed after). */
static void
finishf(struct web_state *st, const char *fmt, ...)
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
answer(struct web_state *st, struct fetch_result *res)
{
	struct sb_buf	 out;
	char		 head[300], *text = NULL;
	size_t		 len = 0;
	int		 html = is_type(res->content_type, "text/html") ||
			    is_type(res->content_type, "application/xhtml");

	buf_init(&out, 0);
	if (st->req.head_url)
		buf_printf(&out, "HTTP %ld from %.200s\n\n", res->status, st->url);
	else if (res->status >= 400)
		buf_printf(&out, "HTTP %ld\n\n", res->status);
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
	finish(st, res->status < 400, out.data != NULL ? out.data : "", out.len);
	buf_free(&out);
}

/* A redirect to follow: the next hop, or the call ends here. */
static void
redirect(struct web_state *st, const struct fetch_result *res)
{
	if (st->hops >= WEB_HOPS_MAX) {
		finishf(st, "The fetch of %.300s was redirected more than %d times.", label(st),
		    WEB_HOPS_MAX);
		return;
	}
	if (st->req.origin != NULL && !in_origin(st, res->location)) {
		finishf(st, "Refused: %.300s was redirected to another host, which this tool "
		    "does not follow.", label(st));
		return;
	}
	free(st->url);
	st->url = sb_strdup(res->location);
	st->hops++;
	if (res->status != 307 && res->status != 308) {	/* the others are followed by a GET */
		free(st->body);
		st->body = NULL;
	}
	hop(st);
}

static void
ended(struct transfer *t, int rc)
{
	struct web_state	*st = (struct web_state *)t;
	struct run		*r = st->call->run;
	struct fetch_result	 res;
	enum fetch_err		 e;

	curl_multi_remove_handle(r->w->multi, st->easy);
	e = fetch_finish(st->f, rc, &res);
	st->f = NULL;
	if (e == FETCH_ERR_FORBIDDEN)
		finishf(st, "Refused: %.300s leads to an address this agent may not fetch "
		    "(loopback, private, link-local or cloud metadata).", label(st));
	else if (e != FETCH_OK)
		finishf(st, "The fetch of %.300s failed: %s.", label(st), res.error);
	else if (res.status >= 300 && res.status < 400 && res.location != NULL)
		redirect(st, &res);
	else
		answer(st, &res);
	fetch_result_free(&res);
}

static void
hop(struct web_state *st)
{
	struct run		*r = st->call->run;
	struct fetch_opts	 o;
	char			*host;

	if ((host = url_host(st->url)) == NULL) {
		finishf(st, "Refused: %.300s is not an http or https URL.", st->url);
		return;
	}
	memset(&o, 0, sizeof(o));
	o.guard = !allowed(r->allow_hosts, host) &&
	    !(st->req.origin_private && in_origin(st, st->url));
	free(host);
	o.accept = st->req.accept != NULL ? st->req.accept : WEB_ACCEPT;
	o.max_bytes = st->req.max_bytes;
	o.timeout_ms = st->req.timeout_ms;
	o.connect_timeout_ms = WEB_CONNECT_MS;
	o.headers = st->req.headers;
	if (st->body != NULL) {
		json_t *j = json_loads(st->body, JSON_DECODE_ANY, NULL);

		o.body = st->body;
		o.body_len = strlen(st->body);
		o.content_type = st->req.content_type != NULL ? st->req.content_type :
		    j != NULL ? "application/json" : "text/plain; charset=utf-8";
		json_decref(j);
	}
	if ((st->f = fetch_start(st->url, &o)) == NULL) {
		finishf(st, "The fetch of %.300s could not start.", label(st));
		return;
	}
	st->easy = fetch_easy(st->f);
	st->xfer.done = ended;
	curl_easy_setopt(st->easy, CURLOPT_PRIVATE, &st->xfer);
	curl_multi_add_handle(r->w->multi, st->easy);
}

void
web_start(struct tool_call *c, const struct web_req *req)
{
	struct web_state *st = sb_calloc(1, sizeof(*st));

	st->call = c;
	st->req = *req;
	st->url = sb_strdup(req->url);
	st->body = req->body != NULL ? sb_strdup(req->body) : NULL;
	st->req.url = st->req.body = NULL;	/* ours are st->url and st->body */
	c->state = st;
	hop(st);
}

void
web_cancel(struct tool_call *c)
{
	struct web_state	*st = c->state;
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
