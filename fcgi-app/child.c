/* child.c: a prefork worker's life: take a request, answer it, never wait on a client. */
#include "config.h"

#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fcgi-app/prefork.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/cache.h"
#include "core/clock.h"
#include "core/db.h"
#include "core/log.h"
#include "core/metrics.h"
#include "fcgi-app/access.h"
#include "fcgi-app/app.h"
#include "fcgi-app/dispatch.h"
#include "fcgi-app/request.h"

/*
 * A worker takes requests from two places: the listening socket, which it accepts from
 * as the other workers do (EPOLLEXCLUSIVE wakes one), and the master's queue of whole
 * requests, which it pulls from when it takes a work token (front.c).  An accepted
 * connection is read for at most WHOLE_WAIT_US: a request whole by then (nearly all:
 * web servers write one as soon as they connect) is answered here, with no other
 * process in the way; one that is not goes to the master with what was read, and the
 * worker moves on.  So a client that trickles its body never holds a worker for longer
 * (front.c reads it).
 */

#define RAW_MAX		(256 * 1024)	/* read at once before the master takes over */
#define READ_CHUNK	16384
/* How long a worker waits for an accepted request to arrive whole before the master
 * takes it: web servers write a request as they connect, and a worker often accepts
 * before the bytes are there.  A client that trickles costs a worker this, no more. */
#define WHOLE_WAIT_US	10000

static volatile sig_atomic_t	 stopping;

/* SIGTERM: leave once the request in hand is answered.  The signal is blocked but
 * while the worker waits (epoll_pwait), so nothing in a request is cut short by it. */
static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

struct child {
	struct app	*app;
	int		 chan, listen_fd, work_fd, epfd;
	struct fcgi_out	 out;
	struct sb_arena	*arena;
	long		 served;
	int		 leaving;	/* said so to the master */
};

/*
 * Closes an answered connection as libfcgi does: the write side first, then it waits
 * for the web server to close its own, which it does once it has read the answer, at
 * most FINISH_WAIT_US.  The wait is what keeps the tail short on a busy machine: a
 * worker that went straight back to accepting would take the CPU from the web server
 * that still has to pass the answer on and write the next request (bench/http: p99
 * 2.4 times the ceiling's without it, 1.05 with it, at the same throughput).
 */
#define FINISH_WAIT_US	100000
static void
finish(int fd)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	char		 trash[512];
	int64_t		 deadline = clock_mono_us() + FINISH_WAIT_US, left;

	if (shutdown(fd, SHUT_WR) == 0)
		while ((left = deadline - clock_mono_us()) > 0 &&
		    poll(&pfd, 1, (int)((left + 999) / 1000)) > 0 &&
		    read(fd, trash, sizeof(trash)) > 0)
			;
	close(fd);
}

/* Answers fr on fd; 0 when the answer was written whole. */
static int
answer(struct child *ch, const struct fcgi_req *fr, int fd)
{
	struct sb_req	 req;

	req_init(&req, ch->app, fr, &ch->out, ch->arena);
	req.fd = fd;
	dispatch(&req);
	fcgi_out_consume(&ch->out, fcgi_out_pending(&ch->out));
	arena_reset(ch->arena);
	ch->served++;
	return req.client_gone ? -1 : 0;
}

/* An accepted connection: read what is there; answer it if whole, else hand it over. */
static void
serve_accepted(struct child *ch, int fd)
{
	struct fcgi_conn	 fc;
	enum fcgi_status	 st = FCGI_MORE;
	struct sb_buf		 raw = { 0 };	/* what was read, request and all after it */
	size_t			 off = 0, used;
	ssize_t			 n;
	int64_t			 deadline = clock_mono_us() + WHOLE_WAIT_US, left;
	struct pollfd		 pfd = { fd, POLLIN, 0 };
	int			 mode = ADOPT_READ, refused = 0, answered = 0;

	fcgi_conn_init(&fc);
	fc.stdin_max = (size_t)ch->app->cfg.http.max_body;
	for (;;) {
		(void)buf_reserve(&raw, READ_CHUNK);
		n = read(fd, raw.data + raw.len, raw.cap - 1 - raw.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((left = deadline - clock_mono_us()) <= 0 ||
			    poll(&pfd, 1, (int)((left + 999) / 1000)) <= 0)
				break;
			continue;
		}
		if (n <= 0)
			goto close;	/* the web server left */
		buf_commit(&raw, (size_t)n);
		st = fcgi_feed(&fc, raw.data + off, raw.len - off, &used, &ch->out);
		off += used;
		refused = st == FCGI_MORE &&
		    fcgi_body_refused(&fc.req, ch->app->cfg.http.max_body);
		if (st != FCGI_MORE || refused || raw.len >= RAW_MAX)
			break;
	}
	if (st == FCGI_ERROR || st == FCGI_ABORTED)
		goto close;
	if (st == FCGI_MORE && !refused) {
		/* Not whole: the master reads the rest, parsing again from the start (its
		 * answers to management records included), and the worker moves on. */
		fcgi_out_consume(&ch->out, fcgi_out_pending(&ch->out));
		counter_add(&ch->app->metrics->front_adopted, 1);
		goto adopt;
	}
	if (answer(ch, &fc.req, fd) < 0)
		goto close;
	answered = 1;
	if (refused)
		mode = ADOPT_LINGER;	/* refused by its length before its body came */
	else if (!fc.req.keep_conn)
		goto close;
	/* What follows the request (the next one, already) goes along. */
	buf_consume(&raw, off);
adopt:
	if (handoff_adopt(ch->chan, fd, mode, raw.data, raw.len) < 0)
		log_error("a connection could not be handed to the master", "{s:s}",
		    "error", strerror(errno));
close:
	if (answered && !refused && !fc.req.keep_conn)
		finish(fd);
	else
		close(fd);
	fcgi_conn_free(&fc);
	buf_free(&raw);
}

/* Serves a connection from the listening socket, if one waits: 1 if it did. */
static int
accept_one(struct child *ch)
{
	int fd;

	if (ch->listen_fd < 0 ||
	    (fd = accept4(ch->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0)
		return 0;
	serve_accepted(ch, fd);
	return 1;
}

/* Stops accepting: what the master still sends is served until it closes the channel. */
static void
quiet(struct child *ch)
{
	if (ch->listen_fd < 0)
		return;
	epoll_ctl(ch->epfd, EPOLL_CTL_DEL, ch->listen_fd, NULL);
	close(ch->listen_fd);
	ch->listen_fd = -1;
}

/* Asks the master to let this worker go (max_requests, SIGTERM), once. */
static int
leave(struct child *ch)
{
	if (ch->leaving)
		return 0;
	ch->leaving = 1;
	quiet(ch);
	return handoff_tell(ch->chan, HANDOFF_LEAVING);
}

/* A message from the master: a whole request (answered: 1), a word (2, or 3 for
 * HANDOFF_NONE), its end (0), or -1. */
static int
from_master(struct child *ch)
{
	struct handoff_job	 job;
	int			 rc;

	if ((rc = handoff_recv(ch->chan, &job, ch->arena)) < 0) {
		log_error("a request from the master could not be read", "{s:s}",
		    "error", strerror(errno));
		return -1;
	}
	if (rc == 0)
		return 0;
	if (rc == 2) {
		if (job.flags & HANDOFF_LEAVE)
			return leave(ch) < 0 ? -1 : 2;
		if (job.flags & HANDOFF_QUIET)
			quiet(ch);
		return job.flags & HANDOFF_NONE ? 3 : 2;
	}
	rc = answer(ch, &job.req, job.fd);
	if (rc == 0 && !job.req.keep_conn)
		finish(job.fd);
	else
		close(job.fd);
	return handoff_tell(ch->chan, HANDOFF_DONE | (rc == 0 ? HANDOFF_KEEP : 0)) < 0 ? -1 : 1;
}

/* A work token taken: ask for the request it stands for, and answer it. */
static int
pull(struct child *ch)
{
	uint64_t	 v;
	int		 rc;

	if (read(ch->work_fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return 1;	/* another worker took it */
	if (handoff_tell(ch->chan, HANDOFF_PULL) < 0)
		return -1;
	while ((rc = from_master(ch)) == 2)
		;
	return rc == 3 ? 1 : rc;
}

int
child_main(struct app *app, int chan, int listen_fd, int work_fd)
{
	struct child		 ch;
	struct epoll_event	 ev, evs[3];
	sigset_t		 term, none;
	pid_t			 parent = getppid();
	int			 n, i, chan_ready, listen_ready, work_ready, busy = 0;

	/* Leave with the master, whatever killed it. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	child_signals(on_term, SA_RESTART);
	sigemptyset(&none);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sigprocmask(SIG_SETMASK, &term, NULL);
	if (getppid() != parent)
		return 0;

	memset(&ch, 0, sizeof(ch));
	ch.app = app;
	ch.chan = chan;
	ch.listen_fd = listen_fd;
	ch.work_fd = work_fd;
	request_ids_init();
	auth_worker_init(app);
	db_init(&app->db, app->cfg.database.url, app->cfg.database.connect_timeout,
	    app->cfg.database.statement_timeout_ms);
	app->cache = cache_open(app->cfg.memcached.servers, app->cfg.memcached.timeout_ms,
	    app->cfg.memcached.secret);
	ch.arena = arena_new(64 * 1024);
	if ((ch.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return 1;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = chan;
	epoll_ctl(ch.epfd, EPOLL_CTL_ADD, chan, &ev);
	/* One idle worker is woken per connection.  A work token wakes them all: tokens
	 * are few (slow requests only), and each worker must see them even while it
	 * keeps accepting (below). */
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.fd = listen_fd;
	epoll_ctl(ch.epfd, EPOLL_CTL_ADD, listen_fd, &ev);
	ev.events = EPOLLIN;
	ev.data.fd = work_fd;
	epoll_ctl(ch.epfd, EPOLL_CTL_ADD, work_fd, &ev);

	/* The worker leaves only when the master closes its channel: a request already on
	 * its way is served first, so none is lost to a worker that is leaving. */
	for (;;) {
		/* Recycled after max_requests, to bound what a slow leak can cost. */
		if ((stopping || (app->cfg.server.max_requests > 0 &&
		    ch.served >= app->cfg.server.max_requests)) && leave(&ch) < 0)
			break;
		/* After an answer, a look without sleeping: an exclusive wake-up goes to one
		 * worker, so connections waiting in the backlog may be on no other worker's
		 * ready list.  A worker that has just answered accepts the next one itself,
		 * as a worker blocked in accept() did, and sleeps only when there is none. */
		if ((n = epoll_pwait(ch.epfd, evs, 3, busy ? 0 : -1, &none)) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (n == 0 && busy) {
			busy = accept_one(&ch);
			continue;
		}
		busy = 1;
		chan_ready = listen_ready = work_ready = 0;
		for (i = 0; i < n; i++) {
			chan_ready |= evs[i].data.fd == chan;
			listen_ready |= evs[i].data.fd == listen_fd;
			work_ready |= evs[i].data.fd == work_fd;
		}
		/* The master's words, then its requests (they have waited longest). */
		if (chan_ready && from_master(&ch) <= 0)
			break;
		if (work_ready && !ch.leaving) {
			if (pull(&ch) <= 0)
				break;
			continue;
		}
		if (listen_ready)
			(void)accept_one(&ch);
	}
	fcgi_out_free(&ch.out);
	arena_free(ch.arena);
	cache_close(app->cache);
	db_close(&app->db);
	auth_worker_free(app);
	return 0;
}

void
child_signals(void (*term)(int), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = term;
	sa.sa_flags = flags;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_flags = 0;
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
}
