/* response.c: writing a response: status, headers, JSON and problem bodies. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <jansson.h>

#include "core/arena.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "core/problem.h"
#include "fcgi-app/app.h"
#include "fcgi-app/fcgi.h"
#include "fcgi-app/request.h"
#include "fcgi-app/response.h"

void
resp_header(struct sb_req *req, const char *name, const char *fmt, ...)
{
	struct header	*h;
	va_list		 ap;
	char		*value;
	int		 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	value = arena_alloc(req->arena, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(value, (size_t)n + 1, fmt, ap);
	va_end(ap);
	/* Header values never carry a line break: that would split the response. */
	if (strpbrk(value, "\r\n") != NULL)
		return;
	if (req->nheaders == req->capheaders) {
		req->capheaders = req->capheaders ? req->capheaders * 2 : 8;
		h = arena_alloc(req->arena, req->capheaders * sizeof(*h));
		if (req->nheaders)
			memcpy(h, req->headers, req->nheaders * sizeof(*h));
		req->headers = h;
	}
	req->headers[req->nheaders].name = name;
	req->headers[req->nheaders].value = value;
	req->nheaders++;
}

int
resp_has_header(const struct sb_req *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return 1;
	return 0;
}

static void
out(struct sb_req *req, const char *buf, size_t len)
{
	if (req->client_gone || len == 0)
		return;
	fcgi_stdout(req->out, req->fcgi_id, buf, len);
	req->bytes_out += len;
}

int
resp_end(struct sb_req *req)
{
	struct pollfd	 pfd;
	int64_t		 deadline, left;
	ssize_t		 n;
	size_t		 pending;

	fcgi_end(req->out, req->fcgi_id, 0);
	if (req->client_gone)
		return -1;
	/* The connection is non-blocking (the master shares it): a web server slow to
	 * take the answer is waited for, up to http.request_timeout. */
	deadline = clock_mono_us() + (int64_t)req->app->cfg.http.request_timeout * 1000000;
	pfd.fd = req->fd;
	pfd.events = POLLOUT;
	while ((pending = fcgi_out_pending(req->out)) > 0) {
		n = write(req->fd, fcgi_out_head(req->out), pending);
		if (n > 0) {
			fcgi_out_consume(req->out, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return -1;
		if ((left = deadline - clock_mono_us()) <= 0)
			return -1;
		if (poll(&pfd, 1, (int)((left + 999) / 1000)) < 0 && errno != EINTR)
			return -1;
	}
	return 0;
}

void
resp_write(struct sb_req *req, const char *buf, size_t len)
{
	out(req, buf, len);
}

/* The status line, the headers every answer has, content_type (and a length unless
 * len is -1), the request's own headers, and the blank line. */
static void
send_head(struct sb_req *req, int status, const char *content_type, long long len)
{
	char	 head[1024];
	size_t	 i;
	int	 n;

	req->answered = 1;
	req->status = status;
	n = snprintf(head, sizeof(head),
	    "Status: %d %s\r\n"
	    "X-Request-Id: %s\r\n"
	    "%s"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Referrer-Policy: no-referrer\r\n"
	    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n",
	    status, http_reason(status), req->request_id,
	    resp_has_header(req, "Cache-Control") ? "" : "Cache-Control: no-store\r\n");
	/* Over https, browsers are told to stay on https. */
	if (req->https && (size_t)n < sizeof(head))
		n += snprintf(head + n, sizeof(head) - (size_t)n,
		    "Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n");
	/* 204 carries neither a type nor a length. */
	if (content_type != NULL && len >= 0 && (size_t)n < sizeof(head))
		n += snprintf(head + n, sizeof(head) - (size_t)n,
		    "Content-Type: %s\r\nContent-Length: %lld\r\n", content_type, len);
	else if (content_type != NULL && (size_t)n < sizeof(head))
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Type: %s\r\n",
		    content_type);
	out(req, head, (size_t)n);
	/* Piece by piece: a header of any length goes out whole. */
	for (i = 0; i < req->nheaders; i++) {
		out(req, req->headers[i].name, strlen(req->headers[i].name));
		out(req, ": ", 2);
		out(req, req->headers[i].value, strlen(req->headers[i].value));
		out(req, "\r\n", 2);
	}
	out(req, "\r\n", 2);
}

void
resp_send(struct sb_req *req, int status, const char *content_type, const void *body, size_t len)
{
	if (req->answered)
		return;
	send_head(req, status, content_type, (long long)len);
	if (strcmp(req->method, "HEAD") != 0)
		out(req, body, len);
}

void
resp_stream_begin(struct sb_req *req, const char *content_type)
{
	if (req->answered)
		return;
	/* Proxies must pass every event on at once (nginx reads X-Accel-Buffering). */
	resp_header(req, "X-Accel-Buffering", "no");
	send_head(req, 200, content_type, -1);
}

struct dump {
	struct sb_arena	*arena;
	char		*buf;
	size_t		 len, cap;
};

/* json_dump_callback's sink: appends to an arena buffer that doubles as needed. */
static int
dump_append(const char *s, size_t n, void *arg)
{
	struct dump	*d = arg;
	char		*grown;

	if (d->len + n + 1 > d->cap) {
		while (d->len + n + 1 > d->cap)
			d->cap *= 2;
		grown = arena_alloc(d->arena, d->cap);
		memcpy(grown, d->buf, d->len);
		d->buf = grown;
	}
	memcpy(d->buf + d->len, s, n);
	d->len += n;
	return 0;
}

char *
arena_json(struct sb_arena *a, json_t *v)
{
	struct dump d = { a, NULL, 0, 256 };

	d.buf = arena_alloc(a, d.cap);
	json_dump_callback(v, dump_append, &d, JSON_COMPACT | JSON_ENCODE_ANY |
	    JSON_REAL_PRECISION(17));
	d.buf[d.len] = '\0';
	return d.buf;
}

/* Serializes v in one pass (stealing the reference) and sends it with a trailing newline. */
static void
send_json(struct sb_req *req, int status, const char *content_type, json_t *v)
{
	struct dump	 d = { req->arena, NULL, 0, 1024 };
	size_t		 i, k;

	/* A body that could not be built (json_pack refused a value) is a failure of
	 * this request, whatever it meant to answer: never a 2xx with nothing in it. */
	if (v == NULL) {
		log_error("response body could not be built", "{s:i}", "status", status);
		v = problem_new(500, "internal", NULL, "the answer could not be built");
		json_object_set_new(v, "request_id", json_string(req->request_id));
		status = 500;
		content_type = "application/problem+json";
		for (i = k = 0; i < req->nheaders; i++)	/* no Location to a thing not made */
			if (strcasecmp(req->headers[i].name, "Location") != 0)
				req->headers[k++] = req->headers[i];
		req->nheaders = k;
	}
	d.buf = arena_alloc(req->arena, d.cap);
	/* 15 digits: 0.2 reads 0.2, not 0.20000000000000001. */
	json_dump_callback(v, dump_append, &d, JSON_COMPACT | JSON_REAL_PRECISION(15));
	d.buf[d.len++] = '\n';
	json_decref(v);
	resp_send(req, status, content_type, d.buf, d.len);
}

void
resp_json(struct sb_req *req, int status, json_t *v)
{
	send_json(req, status, "application/json", v);
}

void
resp_problem(struct sb_req *req, json_t *p)
{
	json_int_t status = json_integer_value(json_object_get(p, "status"));

	json_object_set_new(p, "instance", json_text(req->path, strlen(req->path)));
	json_object_set_new(p, "request_id", json_string(req->request_id));
	send_json(req, status >= 400 && status <= 599 ? (int)status : 500,
	    "application/problem+json", p);
}

void
resp_error(struct sb_req *req, int status, const char *slug, const char *detail)
{
	resp_problem(req, problem_new(status, slug, NULL, detail));
}

enum sb_err
req_fail(struct sb_req *req, enum sb_err err, const char *slug, const char *detail)
{
	json_decref(req->problem);
	req->problem = problem_new(sb_err_status(err), slug, NULL, detail);
	return err;
}
