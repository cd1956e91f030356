/* front.c: the master's connections: each request is read whole before a worker sees it. */
#include "config.h"

#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcgi-app.h"

/*
 * A prefork worker serves one request at a time, so it must never wait for a client:
 * a body that trickles in, a byte every few seconds, would hold it, and as many such
 * clients as there are workers would stop the API.  The master reads every request
 * here, event-driven, with the FastCGI parser switchboard-stream uses, and hands it
 * over only when its params and body are complete (handoff.c).  A request not complete
 * within http.request_timeout is answered 408 by the master itself.
 */

#define READ_CHUNK	65536
#define REST_MAX	(64 * 1024)	/* bytes of a next request kept during an answer */
#define LINGER_US	2000000		/* reading what follows the master's own answer */

enum fconn_state {
	FC_READING,	/* gathering a request */
	FC_QUEUED,	/* whole, waiting for a worker */
	FC_BUSY,	/* a worker answers it (a kept connection: the master waits) */
	FC_LINGER	/* answered by the master before its body ended: the rest is read
			 * and dropped for a while, so that the web server, still sending
			 * it, gets to read the answer */
};

struct fconn {
	struct front_src	 src;		/* FRONT_CONN: first, for epoll */
	LIST_ENTRY(fconn)	 all;		/* every connection */
	TAILQ_ENTRY(fconn)	 link;		/* the list of its state: reading,
						 * lingering (by deadline) or queued */
	int			 fd;
	enum fconn_state	 state;
	struct fcgi_conn	 fc;
	struct fcgi_out		 out;		/* answers to management records, and 408 */
	char			*rest;		/* read past a whole request: the next one's */
	size_t			 rest_len;
	int64_t			 deadline_us;
	int			 early;		/* handed on before its body came: not kept */
};

static struct {
	struct app	*app;
	int		 epfd;
	int		 listen_fd;		/* -1 once closed */
	int		 accepting;		/* listen_fd is watched */
	int		 stopping;
	size_t		 nconns, max_conns;
	LIST_HEAD(, fconn)		 conns;
	TAILQ_HEAD(fconn_list, fconn)	 reading;	/* each list in deadline order */
	struct fconn_list		 lingering;
	struct fconn_list		 queue;		/* whole, oldest first */
	LIST_HEAD(, front_slot)		 slots;
	TAILQ_HEAD(, front_slot)	 idle;		/* longest idle first */
} fr;

/* The list a connection in that state is on (none when FC_BUSY). */
static struct fconn_list *
list_of(enum fconn_state state)
{
	switch (state) {
	case FC_READING:
		return &fr.reading;
	case FC_LINGER:
		return &fr.lingering;
	case FC_QUEUED:
		return &fr.queue;
	case FC_BUSY:
		break;
	}
	return NULL;
}

/* Moves c to state, at the end of its list. */
static void
set_state(struct fconn *c, enum fconn_state state)
{
	struct fconn_list *l;

	if ((l = list_of(c->state)) != NULL)
		TAILQ_REMOVE(l, c, link);
	if (state == FC_QUEUED)
		gauge_add(&fr.app->metrics->front_queued, 1);
	if (c->state == FC_QUEUED)
		gauge_add(&fr.app->metrics->front_queued, -1);
	c->state = state;
	if ((l = list_of(state)) != NULL)
		TAILQ_INSERT_TAIL(l, c, link);
}

/* Adds fd to the loop, or changes what it is watched for (0: nothing for now). */
static int
watch(int op, int fd, uint32_t events, void *src)
{

	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = src;
	return epoll_ctl(fr.epfd, op, fd, &ev);
}

static void
watch_listen(int on)
{
	if (fr.listen_fd < 0 || fr.accepting == on)
		return;
	watch(on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, fr.listen_fd, EPOLLIN, &front_listen_src);
	fr.accepting = on;
}

/* Connections held at once: what the descriptor limit leaves after the workers'
 * channels and the master's own files. */
static size_t
conns_bound(void)
{
	struct rlimit	 rl;
	size_t		 n = 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		n = (size_t)rl.rlim_cur;
	n = n > 2 * MAX_WORKERS + 256 ? n - 2 * MAX_WORKERS - 128 : n / 2;
	return n > 65536 ? 65536 : n;
}

void
front_init(struct app *app, int epfd, int listen_fd)
{
	memset(&fr, 0, sizeof(fr));
	LIST_INIT(&fr.conns);
	TAILQ_INIT(&fr.reading);
	TAILQ_INIT(&fr.lingering);
	TAILQ_INIT(&fr.queue);
	LIST_INIT(&fr.slots);
	TAILQ_INIT(&fr.idle);
	fr.app = app;
	fr.epfd = epfd;
	fr.listen_fd = listen_fd;
	fr.max_conns = conns_bound();
	fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
	watch_listen(1);
}

/* ---------------------------------------------------------------- lists */

/* Reading and lingering each have one timeout, so their lists stay in deadline order. */
static void
timed(struct fconn *c, enum fconn_state state, int64_t timeout_us)
{
	set_state(c, state);
	c->deadline_us = clock_mono_us() + timeout_us;
}

static void
reading_add(struct fconn *c)
{
	timed(c, FC_READING, (int64_t)fr.app->cfg.http.request_timeout * 1000000);
}

static void
conn_close(struct fconn *c)
{
	struct front_slot *s;

	if (c->state == FC_BUSY)
		LIST_FOREACH(s, &fr.slots, all)
			if (s->conn == c)
				s->conn = NULL;
	set_state(c, FC_BUSY);		/* off its list */
	/* Removed first: a worker may still hold the same open file. */
	epoll_ctl(fr.epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	LIST_REMOVE(c, all);
	fcgi_conn_free(&c->fc);
	fcgi_out_free(&c->out);
	free(c->rest);
	free(c);
	fr.nconns--;
	gauge_add(&fr.app->metrics->front_conns, -1);
	if (!fr.stopping && fr.nconns < fr.max_conns)
		watch_listen(1);
}

/* Writes what the master itself has to say on c (a few records) without waiting:
 * 0 when all of it went, -1 when the web server does not take it (c is then closed). */
static int
conn_flush(struct fconn *c)
{
	ssize_t	 n;
	size_t	 left;

	while ((left = fcgi_out_pending(&c->out)) > 0) {
		n = write(c->fd, c->out.buf + c->out.off, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			conn_close(c);
			return -1;
		}
		fcgi_out_consume(&c->out, (size_t)n);
	}
	return 0;
}

/* ---------------------------------------------------------------- reading */

void
front_accept(void)
{
	struct fconn		*c;
	int			 fd;

	while (fr.nconns < fr.max_conns) {
		if ((fd = accept4(fr.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				log_warn("out of file descriptors: not accepting until a connection "
				    "closes", "{s:I}", "connections", (json_int_t)fr.nconns);
				watch_listen(0);
			}
			return;
		}
		c = sb_calloc(1, sizeof(*c));
		c->src.kind = FRONT_CONN;
		c->state = FC_BUSY;		/* on no list yet */
		c->fd = fd;
		fcgi_conn_init(&c->fc);
		c->fc.stdin_max = (size_t)fr.app->cfg.http.max_body;
		if (watch(EPOLL_CTL_ADD, fd, EPOLLIN, c) < 0) {
			close(fd);
			fcgi_conn_free(&c->fc);
			free(c);
			continue;
		}
		LIST_INSERT_HEAD(&fr.conns, c, all);
		fr.nconns++;
		gauge_add(&fr.app->metrics->front_conns, 1);
		reading_add(c);
	}
	watch_listen(0);
}

/* A request whose Content-Length is over http.max_body is answered 413 without its
 * body (the worker reads the length first), so it goes on at once. */
static int
body_refused(const struct fcgi_req *r)
{
	const char	*cl;
	char		*end;
	long long	 len;

	if (!r->params_done || r->stdin_done || r->over != 0 ||
	    (cl = fcgi_param(r, "CONTENT_LENGTH")) == NULL)
		return 0;
	len = strtoll(cl, &end, 10);
	return *end == '\0' && len > fr.app->cfg.http.max_body;
}

static void
enqueue(struct fconn *c)
{
	set_state(c, FC_QUEUED);
	/* Not read while a worker has it: the next request waits in the socket. */
	watch(EPOLL_CTL_MOD, c->fd, 0, c);
}

/* Feeds bytes to c's parser (fcgi_feed stops at the end of a request); bytes past a
 * whole request are kept in rest.  0, or -1 when c was closed. */
static int
conn_feed(struct fconn *c, const char *buf, size_t n)
{
	enum fcgi_status	 st;
	size_t			 off;

	st = fcgi_feed(&c->fc, buf, n, &off, &c->out);
	if (st == FCGI_ERROR || st == FCGI_ABORTED) {
		conn_close(c);
		return -1;
	}
	if (st == FCGI_MORE && !body_refused(&c->fc.req))
		return fcgi_out_pending(&c->out) > 0 ? conn_flush(c) : 0;
	c->early = st == FCGI_MORE;
	if (n - off > REST_MAX) {
		log_warn("FastCGI connection sent too much ahead of its answer; closed", NULL);
		conn_close(c);
		return -1;
	}
	if (n > off) {
		c->rest = sb_malloc(n - off);
		memcpy(c->rest, buf + off, n - off);
		c->rest_len = n - off;
	}
	if (fcgi_out_pending(&c->out) > 0 && conn_flush(c) < 0)
		return -1;
	enqueue(c);
	return 0;
}

void
front_readable(struct front_src *src)
{
	struct fconn	*c = (struct fconn *)src;
	char		 buf[READ_CHUNK];
	ssize_t		 n;

	if (c->state != FC_READING && c->state != FC_LINGER)
		return;
	do
		n = read(c->fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	if (c->state == FC_READING)
		(void)conn_feed(c, buf, (size_t)n);
}

/* ---------------------------------------------------------------- deadlines */

/* After an answer given before the request's end: read and drop what comes, until the
 * web server closes or LINGER_US has passed. */
static void
linger(struct fconn *c)
{

	timed(c, FC_LINGER, LINGER_US);
	watch(EPOLL_CTL_MOD, c->fd, EPOLLIN, c);
}

/* The master's own answer on c: a problem, then the end of the request. */
static void
conn_problem(struct fconn *c, int status, const char *slug, const char *detail)
{
	struct sb_arena	*a = arena_new(4096);
	struct sb_req	 req;

	req_init(&req, fr.app, &c->fc.req, &c->out, a);
	answer_problem(&req, status, slug, detail);
	req_free(&req);
	arena_free(a);
	fcgi_end(&c->out, c->fc.req.id, 0);
}

void
front_expire(int64_t now)
{
	struct fconn *c;

	while ((c = TAILQ_FIRST(&fr.lingering)) != NULL && c->deadline_us <= now)
		conn_close(c);
	while ((c = TAILQ_FIRST(&fr.reading)) != NULL && c->deadline_us <= now) {
		/* A connection that sent nothing is closed; a request begun is answered,
		 * and what the web server still sends of it is read for a while: a server
		 * that fails to write it (Apache) would not read the answer. */
		if (c->fc.req.id == 0) {
			conn_close(c);
			continue;
		}
		counter_add(&fr.app->metrics->request_timeouts, 1);
		conn_problem(c, 408, "request-timeout", "the request did not arrive whole "
		    "within http.request_timeout");
		if (conn_flush(c) < 0)
			continue;
		linger(c);
	}
}

int64_t
front_next_deadline(void)
{
	int64_t r = TAILQ_EMPTY(&fr.reading) ? 0 : TAILQ_FIRST(&fr.reading)->deadline_us;
	int64_t l = TAILQ_EMPTY(&fr.lingering) ? 0 : TAILQ_FIRST(&fr.lingering)->deadline_us;

	return r == 0 || (l != 0 && l < r) ? l : r;
}

/* ---------------------------------------------------------------- workers */

/* Idle workers take requests in turn, as they did from the kernel's accept queue:
 * the longest idle first. */
static void
idle_push(struct front_slot *s)
{
	if (s->idle)
		return;
	s->idle = 1;
	TAILQ_INSERT_TAIL(&fr.idle, s, idle_link);
}

static void
idle_remove(struct front_slot *s)
{
	if (!s->idle)
		return;
	s->idle = 0;
	TAILQ_REMOVE(&fr.idle, s, idle_link);
}

struct front_slot *
front_slot_add(pid_t pid, int chan)
{
	struct front_slot	*s = sb_calloc(1, sizeof(*s));

	s->src.kind = FRONT_SLOT;
	s->pid = pid;
	s->chan = chan;
	idle_push(s);
	fcntl(chan, F_SETFL, fcntl(chan, F_GETFL) | O_NONBLOCK);
	watch(EPOLL_CTL_ADD, chan, EPOLLIN, s);
	LIST_INSERT_HEAD(&fr.slots, s, all);
	return s;
}

static void
slot_close_chan(struct front_slot *s)
{
	if (s->chan < 0)
		return;
	epoll_ctl(fr.epfd, EPOLL_CTL_DEL, s->chan, NULL);
	close(s->chan);
	s->chan = -1;
	idle_remove(s);
}

void
front_slot_drain(struct front_slot *s)
{
	s->draining = 1;
	/* An idle worker leaves when its channel closes; a busy one after its answer. */
	if (s->idle)
		slot_close_chan(s);
}

void
front_slot_gone(struct front_slot *s)
{
	slot_close_chan(s);
	if (s->conn != NULL)
		conn_close(s->conn);
	LIST_REMOVE(s, all);
	free(s);
}

/* The worker's word: an answer is done (it is idle again, and a kept connection reads
 * its next request), or it is leaving.  End of file: the worker is gone (killed). */
void
front_slot_readable(struct front_src *src)
{
	struct front_slot	*s = (struct front_slot *)src;
	struct fconn		*c;
	char			 b;
	ssize_t			 n;

	do
		n = recv(s->chan, &b, 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		c = s->conn;
		s->conn = NULL;
		slot_close_chan(s);
		if (c != NULL)
			conn_close(c);
		return;
	}
	c = NULL;
	if (b & HANDOFF_DONE) {
		c = s->conn;
		s->conn = NULL;
		idle_push(s);
	}
	if ((b & HANDOFF_LEAVING) || s->draining)
		front_slot_drain(s);
	if (c == NULL)
		return;
	/* Answered without its body: what the web server still sends of it is read and
	 * dropped for a while, or the server, failing to write it, would not read the
	 * answer. */
	if (c->early) {
		linger(c);
		return;
	}
	if (!(b & HANDOFF_KEEP) || fr.stopping || !c->fc.req.keep_conn) {
		conn_close(c);
		return;
	}
	fcgi_req_reset(&c->fc);
	reading_add(c);
	watch(EPOLL_CTL_MOD, c->fd, EPOLLIN, c);
	if (c->rest_len > 0) {
		char	*rest = c->rest;
		size_t	 len = c->rest_len;

		c->rest = NULL;
		c->rest_len = 0;
		(void)conn_feed(c, rest, len);
		free(rest);
	}
}

/* Hands whole requests to idle workers, oldest first. */
void
front_dispatch(void)
{
	struct front_slot	*s;
	struct fconn		*c;

	/* A draining worker is never idle: its channel closed when it became so. */
	while ((c = TAILQ_FIRST(&fr.queue)) != NULL && (s = TAILQ_FIRST(&fr.idle)) != NULL) {
		if (handoff_send(s->chan, c->fd, &c->fc.req) < 0) {
			/* The worker is leaving (its end was shut): another takes it. */
			log_warn("a worker refused a request; handing it to another", "{s:i, s:s}",
			    "pid", (int)s->pid, "error", strerror(errno));
			slot_close_chan(s);
			continue;
		}
		idle_remove(s);
		set_state(c, FC_BUSY);
		/* A connection the web server will not reuse is the worker's alone now. */
		if (!c->early && !c->fc.req.keep_conn)
			conn_close(c);
		else
			s->conn = c;
	}
}

/* ---------------------------------------------------------------- life */

void
front_stop(void)
{
	fr.stopping = 1;
	watch_listen(0);
	fr.listen_fd = -1;
}

int
front_idle(void)
{
	return LIST_EMPTY(&fr.conns);
}

void
front_close_all(void)
{
	while (!LIST_EMPTY(&fr.conns))
		conn_close(LIST_FIRST(&fr.conns));
}

/* In a process just forked from the master: none of the master's descriptors stay
 * open in it, or a connection would outlive its close in the master. */
void
front_forget(void)
{
	struct front_slot	*s;
	struct fconn		*c;

	LIST_FOREACH(c, &fr.conns, all)
		close(c->fd);
	LIST_FOREACH(s, &fr.slots, all)
		if (s->chan >= 0)
			close(s->chan);
	close(fr.epfd);
}
