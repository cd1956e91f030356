/* front.c: the master's connections: the requests that did not arrive whole at once. */
#include "config.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fcgi-app/prefork.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "fcgi-app/app.h"
#include "fcgi-app/dispatch.h"
#include "fcgi-app/request.h"

/*
 * A prefork worker serves one request at a time, so it must never wait for a client:
 * a body that trickles in, a byte every few seconds, would hold it, and as many such
 * clients as there are workers would stop the API.  A worker answers at once what
 * arrived whole (child.c) and hands the master any connection whose request did not,
 * with what it read.  The master reads those here, event-driven, with the same
 * FastCGI parser, and hands each request back to an idle worker when its params and
 * body are complete (handoff.c).  A request not complete within http.request_timeout
 * is answered 408 by the master itself.
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
	int			 watched;	/* in the epoll set: only while the master reads it */
};

static struct {
	struct app	*app;
	int		 epfd;
	int		 stopping;
	size_t		 nconns, max_conns;
	LIST_HEAD(, fconn)		 conns;
	TAILQ_HEAD(fconn_list, fconn)	 reading;	/* each list in deadline order */
	struct fconn_list		 lingering;
	struct fconn_list		 queue;		/* whole, oldest first */
	LIST_HEAD(, front_slot)		 slots;
	int				 work_fd;	/* a token per queued request */
} fr;

static void	linger(struct fconn *);
static void	read_on(struct fconn *, const char *, size_t);
static void	tokens_post(uint64_t);
static int	conn_feed(struct fconn *, const char *, size_t);

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
	if (state == FC_QUEUED)
		tokens_post(1);		/* a worker comes for it */
}

/* Adds fd to the loop, or changes what it is watched for. */
static int
watch(int op, int fd, uint32_t events, void *src)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = src;
	return epoll_ctl(fr.epfd, op, fd, &ev);
}

/* Reads c when readable (on), or not (off: out of the set, where not even a hang-up is
 * reported, which a worker answering it must not have the loop spin on). */
static void
conn_watch(struct fconn *c, int on)
{
	if (c->watched == on)
		return;
	if (on ? watch(EPOLL_CTL_ADD, c->fd, EPOLLIN, c) == 0 :
	    epoll_ctl(fr.epfd, EPOLL_CTL_DEL, c->fd, NULL) == 0)
		c->watched = on;
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

int
front_init(struct app *app, int epfd)
{
	memset(&fr, 0, sizeof(fr));
	LIST_INIT(&fr.conns);
	TAILQ_INIT(&fr.reading);
	TAILQ_INIT(&fr.lingering);
	TAILQ_INIT(&fr.queue);
	LIST_INIT(&fr.slots);
	fr.app = app;
	fr.epfd = epfd;
	fr.max_conns = conns_bound();
	if ((fr.work_fd = eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		return -1;
	return fr.work_fd;
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
	/* Out of the set first: a worker may still hold the same open file. */
	conn_watch(c, 0);
	close(c->fd);
	LIST_REMOVE(c, all);
	fcgi_conn_free(&c->fc);
	fcgi_out_free(&c->out);
	free(c->rest);
	free(c);
	fr.nconns--;
	gauge_add(&fr.app->metrics->front_conns, -1);
}

/* Writes what the master itself has to say on c (a few records) without waiting:
 * 0 when all of it went, -1 when the web server does not take it (c is then closed). */
static int
conn_flush(struct fconn *c)
{
	ssize_t	 n;
	size_t	 left;

	while ((left = fcgi_out_pending(&c->out)) > 0) {
		n = write(c->fd, fcgi_out_head(&c->out), left);
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

/* A connection a worker handed over: read on (ADOPT_READ) from the bytes it had read,
 * or lingering after its answer. */
static void
adopt(struct handoff_word *w)
{
	struct fconn *c;

	if (fr.nconns >= fr.max_conns) {
		log_warn("too many connections held: one handed over is closed", "{s:I}",
		    "connections", (json_int_t)fr.nconns);
		close(w->fd);
		return;
	}
	c = sb_calloc(1, sizeof(*c));
	c->src.kind = FRONT_CONN;
	c->state = FC_BUSY;		/* on no list yet */
	c->fd = w->fd;
	fcgi_conn_init(&c->fc);
	c->fc.stdin_max = (size_t)fr.app->cfg.http.max_body;
	LIST_INSERT_HEAD(&fr.conns, c, all);
	fr.nconns++;
	gauge_add(&fr.app->metrics->front_conns, 1);
	if (w->mode == ADOPT_LINGER)
		linger(c);
	else
		read_on(c, w->bytes, w->len);
}

static void
enqueue(struct fconn *c)
{
	set_state(c, FC_QUEUED);
	/* Not read while a worker has it: the next request waits in the socket. */
	conn_watch(c, 0);
}

/* A connection's next request, from the bytes already read from it (len may be 0). */
static void
read_on(struct fconn *c, const char *bytes, size_t len)
{
	reading_add(c);
	if ((len == 0 || conn_feed(c, bytes, len) == 0) && c->state == FC_READING)
		conn_watch(c, 1);
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
	if (st == FCGI_MORE && !fcgi_body_refused(&c->fc.req, fr.app->cfg.http.max_body))
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
	if (c->state != FC_READING)
		return;		/* lingering: dropped */
	(void)conn_feed(c, buf, (size_t)n);
}

/* ---------------------------------------------------------------- deadlines */

/* After an answer given before the request's end: read and drop what comes, until the
 * web server closes or LINGER_US has passed. */
static void
linger(struct fconn *c)
{
	timed(c, FC_LINGER, LINGER_US);
	conn_watch(c, 1);
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

/*
 * Whole requests are pulled, not pushed: the master cannot know which worker is busy
 * with a request it accepted itself.  Each queued request posts a token on work_fd (an
 * eventfd in semaphore mode that every worker watches; a read takes one token); the
 * worker that takes one asks for a request (HANDOFF_PULL) and is sent the oldest, or
 * HANDOFF_NONE if the queue emptied meanwhile.  A worker that dies holding a token
 * would strand a request, so tokens are then posted again for the whole queue: too
 * many tokens cost a HANDOFF_NONE, too few a stranded request.
 */
static void
tokens_post(uint64_t n)
{
	if (n > 0 && write(fr.work_fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		log_error("work tokens could not be posted", "{s:s}", "error", strerror(errno));
}

static void
tokens_reset(void)
{
	struct fconn	*c;
	uint64_t	 v, n = 0;

	while (read(fr.work_fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
	TAILQ_FOREACH(c, &fr.queue, link)
		n++;
	tokens_post(n);
}

struct front_slot *
front_slot_add(pid_t pid, int chan)
{
	struct front_slot	*s = sb_calloc(1, sizeof(*s));

	s->src.kind = FRONT_SLOT;
	s->pid = pid;
	s->chan = chan;
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
}

/*
 * A channel is closed only once the worker said it is leaving and holds no request of
 * the master's: nothing it sent can then be unread (a close with unread messages
 * would reset the channel and lose the connections they carry).
 */
static void
slot_leaving(struct front_slot *s)
{
	s->leaving = 1;
	s->draining = 1;
	if (!s->busy)
		slot_close_chan(s);
}

void
front_slot_drain(struct front_slot *s)
{
	if (s->draining || s->chan < 0)
		return;
	s->draining = 1;
	/* It stops accepting and answers HANDOFF_LEAVING once its request is answered. */
	if (handoff_tell(s->chan, HANDOFF_LEAVE) < 0)
		slot_close_chan(s);
}

void
front_slot_gone(struct front_slot *s)
{
	if (!TAILQ_EMPTY(&fr.queue))
		tokens_reset();
	slot_close_chan(s);
	if (s->conn != NULL)
		conn_close(s->conn);
	LIST_REMOVE(s, all);
	free(s);
}

/* A worker took a token: the oldest whole request is its, or none. */
static void
hand_oldest(struct front_slot *s)
{
	struct fconn *c = TAILQ_FIRST(&fr.queue);

	if (c == NULL) {
		(void)handoff_tell(s->chan, HANDOFF_NONE);
		return;
	}
	if (handoff_send(s->chan, c->fd, &c->fc.req) < 0) {
		log_warn("a request could not be handed to a worker; it waits for another",
		    "{s:i, s:s}", "pid", (int)s->pid, "error", strerror(errno));
		tokens_post(1);
		return;
	}
	s->busy = 1;
	set_state(c, FC_BUSY);
	/* A connection the web server will not reuse is the worker's alone now. */
	if (!c->early && !c->fc.req.keep_conn)
		conn_close(c);
	else
		s->conn = c;
}

/* A kept connection whose request a worker answered: read its next one.  One answered
 * before its body ended lingers (the web server, failing to write the rest, would not
 * read the answer). */
static void
handed_done(struct fconn *c, int flags)
{
	char	*rest;
	size_t	 len = c->rest_len;

	if (c->early) {
		linger(c);
		return;
	}
	if (!(flags & HANDOFF_KEEP) || fr.stopping || !c->fc.req.keep_conn) {
		conn_close(c);
		return;
	}
	fcgi_req_reset(&c->fc);
	rest = c->rest;
	c->rest = NULL;
	c->rest_len = 0;
	read_on(c, rest, len);
	free(rest);
}

/* A worker's word after a request the master handed it (idle again; a kept connection
 * reads its next request) or that it is leaving, and the connections it hands over.
 * End of file: the worker is gone (killed). */
void
front_slot_readable(struct front_src *src)
{
	struct front_slot	*s = (struct front_slot *)src;
	struct handoff_word	 w;
	struct fconn		*c;
	int			 rc;

	while (s->chan >= 0 && (rc = handoff_from_worker(s->chan, &w)) != 0) {
		if (rc < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == ECONNRESET)
				break;		/* killed with a word of ours unread */
			log_error("a worker's message could not be read", "{s:i, s:s}",
			    "pid", (int)s->pid, "error", strerror(errno));
			continue;
		}
		if (w.fd >= 0) {
			adopt(&w);
			free(w.bytes);
			continue;
		}
		c = NULL;
		if (w.flags & HANDOFF_PULL)
			hand_oldest(s);
		if (w.flags & HANDOFF_DONE) {
			c = s->conn;
			s->conn = NULL;
			s->busy = 0;
		}
		if ((w.flags & HANDOFF_LEAVING) || (s->leaving && !s->busy))
			slot_leaving(s);
		if (c != NULL)
			handed_done(c, w.flags);
	}
	if (s->chan >= 0) {
		c = s->conn;
		s->conn = NULL;
		slot_close_chan(s);
		if (c != NULL)
			conn_close(c);
	}
}

/* ---------------------------------------------------------------- life */

void
front_stop(void)
{
	struct front_slot *s;

	fr.stopping = 1;
	/* The workers stop accepting; they serve what the master still hands them. */
	LIST_FOREACH(s, &fr.slots, all)
		if (s->chan >= 0)
			(void)handoff_tell(s->chan, HANDOFF_QUIET);
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
	/* work_fd stays: the workers watch it (the notifier closes it). */
}
