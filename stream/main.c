/* main.c: switchboard-stream: configuration, the listening socket, signals and the epoll loop. */
#include "config.h"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdint.h>
#include <sys/types.h>

#include "stream/stream.h"
#include "core/arena.h"
#include "core/cache.h"
#include "core/clock.h"
#include "core/conf.h"
#include "core/daemon.h"
#include "core/db.h"
#include "core/dbq.h"
#include "core/listener.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/version.h"
#include "fcgi-app/access.h"
#include "fcgi-app/app.h"
#include "fcgi-app/listen.h"
#include "fcgi-app/request.h"
#include "fcgi-app/router.h"

#define EVENTS_MAX	256
#define TICK_MS		250		/* heartbeats, long-poll deadlines */
#define STOP_LINGER_US	2000000		/* to write the last "retry:" lines */

struct stream_server	*srv;

/* Markers for epoll's data.ptr that are not connections. */
static char	 mark_listen, mark_signal, mark_pg, mark_metrics, mark_opens;

/* The opens' connection in epoll as it is now: its socket changes when it connects
 * again, and it asks for writability while libpq holds bytes the socket did not take. */
static void
opens_watch(void)
{
	static int		 fd = -1;
	static short		 was;
	static uint64_t		 connects;
	struct dbq_stats	 st;
	struct epoll_event	 ev;
	short			 want = 0;
	int			 now;

	now = dbq_fd(srv->opens, &want);
	dbq_stats(srv->opens, &st);
	if (now == fd && want == was && st.connects == connects)
		return;
	if (fd >= 0 && (now != fd || st.connects != connects))
		(void)epoll_ctl(srv->epfd, EPOLL_CTL_DEL, fd, NULL);	/* may be closed */
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | ((want & POLLOUT) ? EPOLLOUT : 0);
	ev.data.ptr = &mark_opens;
	if (now >= 0 && epoll_ctl(srv->epfd, EPOLL_CTL_MOD, now, &ev) < 0)
		(void)epoll_ctl(srv->epfd, EPOLL_CTL_ADD, now, &ev);
	fd = now;
	was = want;
	connects = st.connects;
}

static void
epoll_add(int fd, void *ptr)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = ptr;
	epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* Heartbeats on idle streams (their failure is how a gone client is noticed), and
 * long polls whose time is up. */
static void
timers(int64_t now)
{
	struct sconn *c, *next;

	for (c = LIST_FIRST(&srv->conns); c != NULL; c = next) {
		next = LIST_NEXT(c, link);
		if (c->state == SC_STREAMING && now >= c->next_beat_us) {
			c->next_beat_us = now + (int64_t)srv->app.cfg.stream.heartbeat * 1000000;
			srv->m.heartbeats++;
			(void)sconn_comment(c, ": keepalive\n\n");
		} else if (c->state == SC_WAITING && now >= c->deadline_us)
			longpoll_answer(c, json_array());
	}
}

/* SIGTERM: every stream is told to come back (retry:) and ended; long polls get
 * what they have (nothing); then the process leaves. */
static void
stop_all(void)
{
	struct sconn *c, *next;

	for (c = LIST_FIRST(&srv->conns); c != NULL; c = next) {
		next = LIST_NEXT(c, link);
		if (c->state == SC_STREAMING)
			sconn_retry_end(c);
		else if (c->state == SC_WAITING)
			longpoll_answer(c, json_array());
	}
}

/* Until the next tick, poll or probe, whichever comes first. */
static int
wait_ms(int64_t now)
{
	int64_t until = srv->next_poll_us - now;

	if (srv->nprobing > 0 && until > PROBE_GAP_MS * 1000)
		until = PROBE_GAP_MS * 1000;
	if (until <= 0)
		return 0;
	return until / 1000 < TICK_MS ? (int)(until / 1000) + 1 : TICK_MS;
}

/* The kinds of stream served here, for the handlers of ROUTE_STREAM routes. */
const struct stream_ops stream_ops = { run_stream, run_wait, feed_stream, thread_stream };

/* Connections that read a next request early, now free to serve it. */
static void
feed_rests(void)
{
	struct sconn *c, *next;

	for (c = LIST_FIRST(&srv->conns); c != NULL && srv->nrest > 0; c = next) {
		next = LIST_NEXT(c, link);
		if (c->rest.len > 0 && c->state == SC_READING)
			sconn_feed_rest(c);
	}
}

static int
serve(void)
{
	struct epoll_event	 evs[EVENTS_MAX];
	struct signalfd_siginfo	 si;
	int			 sigfd, n, i, lfd = -1, newfd, created = 0;
	int64_t			 now, next_tick = 0, stop_at = 0;
	struct sconn		*c;

	srv->listen_fd = listen_socket(srv->app.cfg.stream.socket, srv->app.cfg.server.socket_mode,
	    srv->app.cfg.server.backlog, &created);
	if (srv->listen_fd < 0)
		return 1;
	fcntl(srv->listen_fd, F_SETFL, fcntl(srv->listen_fd, F_GETFL) | O_NONBLOCK);
	sigfd = daemon_signals(0);
	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	epoll_add(srv->listen_fd, &mark_listen);
	epoll_add(sigfd, &mark_signal);
	if ((srv->metrics_fd = metrics_http_listen(srv->app.cfg.stream.metrics_listen)) >= 0)
		epoll_add(srv->metrics_fd, &mark_metrics);
	daemon_ready("serving");
	log_info("started", "{s:s, s:s}", "version", sb_version(), "socket",
	    srv->app.cfg.stream.socket);

	for (;;) {
		now = clock_mono_us();
		hub_listen();
		if ((newfd = hub_listen_fd()) != lfd) {
			if (lfd >= 0)
				epoll_ctl(srv->epfd, EPOLL_CTL_DEL, lfd, NULL);
			if ((lfd = newfd) >= 0)
				epoll_add(lfd, &mark_pg);
		}
		if (now >= next_tick) {
			timers(now);
			next_tick = now + TICK_MS * 1000;
		}
		hub_tick(now);
		recheck_tick(now);
		if (srv->nprobing > 0)
			probe_tick(now);
		hub_fetch();
		if (srv->stopping && (srv->nconns == 0 || now >= stop_at))
			break;

		if (srv->nrest > 0)
			feed_rests();
		opens_watch();
		n = epoll_wait(srv->epfd, evs, EVENTS_MAX, srv->dirty ? 0 : wait_ms(now));
		for (i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &mark_listen) {
				if (!srv->stopping)
					sconn_accept();
			} else if (p == &mark_signal) {
				while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
					if (si.ssi_signo == SIGHUP)
						continue;
					if (!srv->stopping) {
						log_info("stopping: streams are told to retry",
						    "{s:i}", "streams", srv->nstreams);
						daemon_stopping();
						srv->stopping = 1;
						stop_at = clock_mono_us() + STOP_LINGER_US;
						epoll_ctl(srv->epfd, EPOLL_CTL_DEL, srv->listen_fd, NULL);
						stop_all();
					}
				}
			} else if (p == &mark_pg) {
				hub_notified();
			} else if (p == &mark_opens) {
				dbq_io(srv->opens);	/* opens whose statement is done */
			} else if (p == &mark_metrics) {
				metrics_http_accept(srv->metrics_fd, smetrics_render, NULL);
			} else {
				c = p;
				if (c->fd < 0)
					continue;	/* closed earlier in this wake-up */
				if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
					sconn_readable(c);
				else if (evs[i].events & EPOLLOUT)
					sconn_flush(c);
				hub_catch_up();
			}
		}
		sconn_reap();
	}
	while (!LIST_EMPTY(&srv->conns))
		sconn_close(LIST_FIRST(&srv->conns));
	sconn_reap();
	hub_free();
	close(sigfd);
	close(srv->epfd);
	if (srv->metrics_fd >= 0)
		close(srv->metrics_fd);
	if (created)
		unlink(srv->app.cfg.stream.socket);
	log_info("stopped", "{s:I, s:I}", "streams", (json_int_t)srv->m.streams_opened,
	    "events", (json_int_t)srv->m.events_sent);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct daemon		 d = { .name = "switchboard-stream", .opts = "c:tVh" };
	struct sb_config	 cfg;
	struct rlimit		 rl;
	int			 rc;

	if ((rc = daemon_args(&d, argc, argv)) >= 0)
		return rc;
	if (daemon_config(&d, &cfg) < 0)
		return 1;
	if (d.test) {
		config_free(&cfg);
		printf("switchboard-stream: configuration ok\n");
		return 0;
	}
	log_init(d.name, cfg.log.level);
	/* One descriptor per stream: as many as the hard limit allows. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	srv = sb_calloc(1, sizeof(*srv));
	LIST_INIT(&srv->conns);
	LIST_INIT(&srv->closed);
	srv->app.cfg = cfg;
	srv->app.routes = routes;
	srv->app.nroutes = nroutes;
	srv->app.stream = &stream_ops;
	srv->app.metrics = metrics_shm_new(sizeof(*srv->app.metrics));
	if (daemon_libs_init() < 0)
		return 1;
	request_ids_init();
	auth_worker_init(&srv->app);
	db_init(&srv->app.db, cfg.database.url, cfg.database.connect_timeout,
	    cfg.database.statement_timeout_ms);
	srv->app.cache = cache_open(cfg.memcached.servers, cfg.memcached.timeout_ms,
	    cfg.memcached.secret);
	listener_init(&srv->listener, cfg.database.url, cfg.database.connect_timeout,
	    EVENTS_CHANNEL);
	/* A second connection for stream opens: the loop sends their statements and
	 * goes on serving while the database answers (runs.c). */
	srv->opens = dbq_new("stream opens", cfg.database.url, cfg.database.connect_timeout,
	    cfg.database.statement_timeout_ms);
	srv->app.db.loud = srv->listener.db.loud = true;
	rc = serve();
	dbq_free(srv->opens);
	listener_close(&srv->listener);
	db_close(&srv->app.db);
	if (srv->app.cache != NULL)
		cache_close(srv->app.cache);
	auth_worker_free(&srv->app);
	config_free(&srv->app.cfg);
	free(srv);
	return rc;
}
