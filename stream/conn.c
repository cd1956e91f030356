/* conn.c: switchboard-stream's FastCGI connections: read a request, dispatch it, write, close. */
#include "config.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "stream/stream.h"
#include "stream/sseframe.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/log.h"
#include "fcgi-app/app.h"
#include "fcgi-app/dispatch.h"
#include "fcgi-app/request.h"

#define READ_CHUNK	16384
#define REST_MAX	(64 * 1024)	/* bytes kept ahead of an answer */

/* Asks epoll for writability only while output waits (one syscall per change). */
static void
watch(struct sconn *c, int out)
{
	struct epoll_event ev;

	if (c->pollout == out)
		return;
	c->pollout = out;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0);
	ev.data.ptr = c;
	epoll_ctl(srv->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

void
sconn_accept(void)
{
	struct epoll_event	 ev;
	struct sconn		*c;
	int			 fd;

	while ((fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		c = sb_calloc(1, sizeof(*c));
		c->fd = fd;
		c->state = SC_READING;
		fcgi_conn_init(&c->fc);
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.ptr = c;
		if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			fcgi_conn_free(&c->fc);
			free(c);
			continue;
		}
		LIST_INSERT_HEAD(&srv->conns, c, link);
		srv->nconns++;
	}
}

/* Streams, long polls and opens hold a place in srv->nstreams. */
static int
holds(const struct sconn *c)
{
	return c->state == SC_STREAMING || c->state == SC_WAITING || c->state == SC_OPENING;
}

void
sconn_close(struct sconn *c)
{
	if (holds(c))
		srv->nstreams--;
	if (c->opening != NULL)
		dbq_cancel(c->opening);	/* its result has no one to go to */
	c->opening = NULL;
	if (c->probes > 0)
		srv->nprobing--;
	hub_unsubscribe(c);
	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	LIST_REMOVE(c, link);
	srv->nconns--;
	fcgi_conn_free(&c->fc);
	fcgi_out_free(&c->out);
	if (c->rest.len > 0)
		srv->nrest--;
	buf_free(&c->rest);
	json_decref(c->items);
	if (c->counted)
		user_release(c);
	/* Freed after the wake-up: its epoll events may still be in hand. */
	LIST_INSERT_HEAD(&srv->closed, c, link);
}

void
sconn_reap(void)
{
	struct sconn	*c;

	while ((c = LIST_FIRST(&srv->closed)) != NULL) {
		LIST_REMOVE(c, link);
		free(c);
	}
}

int
sconn_flush(struct sconn *c)
{
	ssize_t	 n;
	size_t	 left;

	while ((left = fcgi_out_pending(&c->out)) > 0) {
		n = write(c->fd, fcgi_out_head(&c->out), left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			watch(c, 1);
			return 0;
		}
		if (n <= 0) {
			/* The web server went away: its client did. */
			sconn_close(c);
			return -1;
		}
		fcgi_out_consume(&c->out, (size_t)n);
	}
	/* An idle stream holds no buffer: the next event allocates one. */
	if (c->state == SC_STREAMING)
		fcgi_out_free(&c->out);
	watch(c, 0);
	if (c->state == SC_CLOSING) {
		if (!c->fc.req.keep_conn) {
			sconn_close(c);
			return -1;
		}
		/* The web server may send another request on this connection. */
		fcgi_req_reset(&c->fc);
		c->state = SC_READING;
	}
	return 0;
}

void
sconn_retry_end(struct sconn *c)
{
	char	retry[SSE_RETRY_MAX];

	fcgi_stdout(&c->out, c->fc.req.id, retry, sse_retry(retry, srv->app.cfg.stream.retry_ms));
	sconn_end(c);
}

int
sconn_comment(struct sconn *c, const char *line)
{
	return sconn_send(c, line, strlen(line)) < 0 ? -1 : sconn_flush(c);
}

int
sconn_send(struct sconn *c, const char *buf, size_t len)
{
	if (fcgi_out_pending(&c->out) + len > (size_t)srv->app.cfg.stream.client_buffer) {
		/* A client that cannot keep up is told to come back (it resumes with its
		 * Last-Event-ID) rather than being allowed to grow this process. */
		srv->m.slow_closed++;
		log_info("slow client: stream closed with a retry hint", "{s:s, s:s, s:I}",
		    "kind", c->kind->name, "topic", c->key,
		    "buffered", (json_int_t)fcgi_out_pending(&c->out));
		sconn_retry_end(c);
		return -1;
	}
	fcgi_stdout(&c->out, c->fc.req.id, buf, len);
	return 0;
}

void
sconn_end(struct sconn *c)
{
	if (holds(c))
		srv->nstreams--;
	if (c->probes > 0) {
		c->probes = 0;		/* the connection may serve another request */
		srv->nprobing--;
	}
	hub_unsubscribe(c);
	if (c->counted)
		user_release(c);
	fcgi_end(&c->out, c->fc.req.id, 0);
	c->state = SC_CLOSING;
	sconn_flush(c);
}

/* The request's params (one allocation, see fcgi.c) once nothing reads them. */
static void
drop_params(struct fcgi_req *r)
{
	free(r->envp);
	r->envp = NULL;
	r->nparams = 0;
}

/* Builds an answer with fill() on a request made from c's params, appended to c's
 * output as FCGI_STDOUT.  The request id is the one the connection's request was
 * given when it was first dispatched. */
void
sconn_answer(struct sconn *c, void (*fill)(struct sb_req *, void *), void *arg)
{
	struct sb_arena	*a = arena_new(8192);
	struct sb_req	 req;

	req_init(&req, &srv->app, &c->fc.req, &c->out, a);
	if (c->request_id[0] != '\0')
		snprintf(req.request_id, sizeof(req.request_id), "%s", c->request_id);
	else
		snprintf(c->request_id, sizeof(c->request_id), "%s", req.request_id);
	fill(&req, arg);
	arena_free(a);
}

struct problem_args {
	int		 status;
	const char	*slug, *detail;
};

static void
problem_fill(struct sb_req *req, void *arg)
{
	const struct problem_args *p = arg;

	answer_problem(req, p->status, p->slug, p->detail);
}

void
sconn_problem(struct sconn *c, int status, const char *slug, const char *detail)
{
	struct problem_args p = { status, slug, detail };

	sconn_answer(c, problem_fill, &p);
}

/* The same router, authentication, scopes, rate limits and handlers as
 * switchboard-fcgi; a stream handler keeps the connection (its head and first events
 * are the answer gathered here). */
static void
dispatch_fill(struct sb_req *req, void *arg)
{
	srv->current = arg;
	dispatch(req);
	srv->current = NULL;
}

/* 0, or -1 once c is closed (its answer written and the connection not kept). */
static int
dispatch_request(struct sconn *c)
{
	c->request_id[0] = '\0';
	/* Over the bounds the parser keeps (fcgi-app/fcgi.h): answered as switchboard-fcgi
	 * answers the same, never by closing the connection. */
	if (c->fc.req.over == 431)
		sconn_problem(c, 431, "headers-too-large", "the request's headers are over "
		    "32768 bytes (all FastCGI params together)");
	else if (c->fc.req.over == 413)
		sconn_problem(c, 413, "body-too-large", "the stream responder's routes take "
		    "no body: at most 8192 bytes");
	else
		sconn_answer(c, dispatch_fill, c);
	return sconn_answered(c);
}

int
sconn_answered(struct sconn *c)
{
	if (c->state == SC_READING) {
		fcgi_end(&c->out, c->fc.req.id, 0);
		c->state = SC_CLOSING;
	} else if (c->subscribe) {
		/* After the head and the first events, never before them. */
		c->subscribe = 0;
		hub_subscribe(c);
	}
	if (c->state == SC_STREAMING)
		drop_params(&c->fc.req);	/* an idle stream keeps little */
	return sconn_flush(c);
}

/* Bytes read past a request belong to the next one on this connection (a web server
 * may send it before the answer ends): kept, at most REST_MAX, and fed once the
 * connection reads again.  0, or -1 when c was closed for holding too much. */
static int
keep_rest(struct sconn *c, const char *p, size_t n)
{
	if (n == 0)
		return 0;
	if (c->rest.len + n > REST_MAX) {
		log_warn("FastCGI connection sent too much ahead of its answer; closed", NULL);
		sconn_close(c);
		return -1;
	}
	if (c->rest.len == 0)
		srv->nrest++;
	buf_append(&c->rest, p, n);
	return 0;
}

/* Feeds a request's bytes to the parser.  1 when a request was dispatched (what
 * followed it is kept), 0 when all was consumed, -1 when c was closed (also by the
 * answer to a request it dispatched). */
static int
feed(struct sconn *c, const char *buf, size_t n)
{
	enum fcgi_status	 st;
	size_t			 off;

	/* fcgi_feed takes everything but what follows a whole request. */
	st = fcgi_feed(&c->fc, buf, n, &off, &c->out);
	if (st == FCGI_ERROR || st == FCGI_ABORTED) {
		sconn_close(c);
		return -1;
	}
	if (st != FCGI_READY)
		return 0;
	if (keep_rest(c, buf + off, n - off) < 0)
		return -1;
	return dispatch_request(c) < 0 ? -1 : 1;
}

void
sconn_feed_rest(struct sconn *c)
{
	char	*rest;
	size_t	 n;
	int	 rc;

	/* Each request answered at once leaves the connection reading again. */
	while (c->state == SC_READING && c->rest.len > 0) {
		rest = buf_steal(&c->rest, &n);	/* feeding may keep a rest again */
		srv->nrest--;
		rc = feed(c, rest, n);
		free(rest);
		if (rc < 0)
			return;		/* closed */
		if (rc == 0) {
			if (fcgi_out_pending(&c->out) > 0)
				sconn_flush(c);
			return;
		}
	}
}

void
sconn_readable(struct sconn *c)
{
	char		 buf[READ_CHUNK];
	ssize_t		 n;

	for (;;) {
		n = read(c->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			sconn_close(c);
			return;
		}
		/* While a request is answered, what comes is the next one's: kept. */
		if (c->state != SC_READING || c->rest.len > 0) {
			(void)keep_rest(c, buf, (size_t)n);
			return;
		}
		if (feed(c, buf, (size_t)n) == 0 && fcgi_out_pending(&c->out) > 0)
			sconn_flush(c);
		return;
	}
}
