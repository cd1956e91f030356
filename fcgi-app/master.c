/* master.c: the prefork master: the workers, signals, reload, and the event loop the
 * front's connections are read in (front.c). */
#include "config.h"

#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fcgi-app/prefork.h"
#include "core/clock.h"
#include "core/conf.h"
#include "core/daemon.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/version.h"
#include "fcgi-app/app.h"
#include "fcgi-app/appmetrics.h"
#include "fcgi-app/listen.h"
#include "fcgi-app/router.h"
#include "fcgi-app/wake.h"

#define MAX_CHILDREN	MAX_WORKERS
#define STABLE_US	5000000		/* a worker that lived this long did not crash-loop */
#define TICK_US		100000		/* housekeeping at least this often */

struct child {
	pid_t			 pid;
	unsigned		 gen;		/* config generation it was forked with */
	int64_t			 started_us;
	int			 draining;	/* asked by us to leave */
	int64_t			 drain_deadline_us;	/* SIGKILL after this */
	struct front_slot	*slot;		/* its channel, as the front sees it (workers) */
};

struct front_src	 front_signal_src = { FRONT_SIGNAL };

static struct child		 children[MAX_CHILDREN];
static size_t			 nchildren;
static unsigned			 generation;
static int			 crash_streak;
static int			 listen_created;	/* we made the socket: unlink it */
static int64_t			 next_spawn_us;

/* The notifier is a child of its own: not a worker, so outside children[] and
 * everything that counts them.  pid 0: none running. */
static struct child		 notifier;
static int			 notifier_streak;
static int64_t			 notifier_next_us;

static int
target_workers(const struct sb_config *cfg)
{
	long n;

	if (cfg->server.workers > 0)
		return cfg->server.workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)(2 * n) : 2;
}

static size_t
count(unsigned gen_only, int draining)
{
	size_t i, n = 0;

	for (i = 0; i < nchildren; i++)
		if (children[i].draining == draining &&
		    (gen_only == 0 || children[i].gen == generation))
			n++;
	return n;
}

static int	 listen_fd_global = -1, signal_fd = -1, work_fd = -1;

/* In a forked child: nothing of the master's stays open in it, or a connection or a
 * channel would outlive its close in the master; the listening socket and the work
 * tokens only in a worker.  A listening socket on fd 0 to 2 becomes /dev/null so that
 * those numbers stay taken. */
static void
child_forget(int keep_listen)
{
	int null;

	front_forget();
	close(signal_fd);
	if (keep_listen)
		return;
	close(work_fd);
	if (listen_fd_global > 2)
		close(listen_fd_global);
	else if (listen_fd_global >= 0 && (null = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		dup2(null, listen_fd_global);
		close(null);
	}
}

static void
spawn(struct app *app)
{
	pid_t	 pid;
	int	 sv[2];

	if (nchildren == MAX_CHILDREN)
		return;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_error("socketpair failed", "{s:s}", "error", strerror(errno));
		next_spawn_us = clock_mono_us() + 1000000;
		return;
	}
	if ((pid = fork()) < 0) {
		log_error("fork failed", "{s:s}", "error", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		next_spawn_us = clock_mono_us() + 1000000;
		return;
	}
	if (pid == 0) {
		close(app->wake.rfd);	/* the notifier's end */
		close(sv[0]);
		child_forget(1);
		_exit(child_main(app, sv[1], listen_fd_global, work_fd));
	}
	close(sv[1]);
	children[nchildren].slot = front_slot_add(pid, sv[0]);
	children[nchildren].pid = pid;
	children[nchildren].gen = generation;
	children[nchildren].started_us = clock_mono_us();
	children[nchildren].draining = 0;
	children[nchildren].drain_deadline_us = 0;
	nchildren++;
	gauge_add(&app->metrics->workers, 1);
}

static void
spawn_notifier(struct app *app)
{
	pid_t pid;

	if ((pid = fork()) < 0) {
		log_error("fork failed", "{s:s}", "error", strerror(errno));
		notifier_next_us = clock_mono_us() + 1000000;
		return;
	}
	if (pid == 0) {
		child_forget(0);
		_exit(notifier_main(app));
	}
	notifier.pid = pid;
	notifier.gen = generation;
	notifier.started_us = clock_mono_us();
	notifier.draining = 0;
	notifier.drain_deadline_us = 0;
}

/* How long to wait before replacing a child that crashed: the first crash of a
 * streak at once, then 100 ms doubling up to restart_backoff_max. */
static int64_t
crash_delay(const struct app *app, int streak)
{
	int64_t delay;

	delay = streak <= 1 ? 0 : 100000LL << (streak - 2 > 10 ? 10 : streak - 2);
	if (delay > (int64_t)app->cfg.server.restart_backoff_max * 1000000)
		delay = (int64_t)app->cfg.server.restart_backoff_max * 1000000;
	return delay;
}

/* The notifier exited: replaced at once if it was asked to leave (a reload), after
 * the crash backoff if not.  Not counted as a worker restart. */
static void
reap_notifier(struct app *app, int status, int shutting_down)
{
	int64_t now = clock_mono_us(), delay;

	if (!notifier.draining && !shutting_down) {
		notifier_streak = now - notifier.started_us < STABLE_US ? notifier_streak + 1 : 1;
		delay = crash_delay(app, notifier_streak);
		notifier_next_us = now + delay;
		log_warn("notifier died", "{s:i, s:i, s:i, s:I}", "pid", (int)notifier.pid,
		    "signal", WIFSIGNALED(status) ? WTERMSIG(status) : 0,
		    "exit", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
		    "respawn_in_ms", (json_int_t)(delay / 1000));
	}
	notifier.pid = 0;
}

/* After a reload the notifier is replaced too, so that it uses the new database.url
 * and log level.  Nothing is lost meanwhile: the pipe and the pending flag belong to
 * the master, and a new notifier first sends what it finds there. */
static void
roll_notifier(struct app *app)
{
	int64_t now = clock_mono_us();

	if (notifier.pid == 0) {
		if (now >= notifier_next_us)
			spawn_notifier(app);
		return;
	}
	if (notifier.draining) {
		if (notifier.drain_deadline_us != 0 && now >= notifier.drain_deadline_us) {
			log_warn("notifier overran the grace period: killed", "{s:i}",
			    "pid", (int)notifier.pid);
			kill(notifier.pid, SIGKILL);
			notifier.drain_deadline_us = 0;
		}
		return;
	}
	if (notifier.gen != generation) {
		notifier.draining = 1;
		notifier.drain_deadline_us = now + (int64_t)app->cfg.server.shutdown_grace * 1000000;
		kill(notifier.pid, SIGTERM);
	}
}

/* Reaps exited workers and decides how soon the next one may start. */
static void
reap(struct app *app, int shutting_down)
{
	struct app_metrics	*m = app->metrics;
	int64_t			 now, delay;
	pid_t			 pid;
	size_t			 i;
	int			 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == notifier.pid) {
			reap_notifier(app, status, shutting_down);
			continue;
		}
		for (i = 0; i < nchildren && children[i].pid != pid; i++)
			;
		if (i == nchildren)
			continue;
		now = clock_mono_us();
		gauge_add(&m->workers, -1);
		front_slot_gone(children[i].slot);
		if (children[i].draining || shutting_down)
			;	/* asked to leave */
		else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			counter_add(&m->restarts_recycle, 1);
		else {
			counter_add(&m->restarts_crash, 1);
			crash_streak = now - children[i].started_us < STABLE_US ? crash_streak + 1 : 1;
			/* The first crash is replaced at once; a crash loop backs off. */
			delay = crash_delay(app, crash_streak);
			next_spawn_us = now + delay;
			log_warn("worker died", "{s:i, s:i, s:i, s:I}", "pid", (int)pid,
			    "signal", WIFSIGNALED(status) ? WTERMSIG(status) : 0,
			    "exit", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
			    "respawn_in_ms", (json_int_t)(delay / 1000));
		}
		children[i] = children[--nchildren];
	}
}

/* Asks a worker to leave once it has no request in hand (front_slot_drain). */
static void
drain(struct app *app, struct child *c)
{
	c->draining = 1;
	c->drain_deadline_us = clock_mono_us() +
	    (int64_t)app->cfg.server.shutdown_grace * 1000000;
	front_slot_drain(c->slot);
}

/* After a reload, replaces old-generation workers one at a time: start the
 * new one first, then drain the old, so capacity never drops. */
static void
roll(struct app *app, int target)
{
	size_t i;

	if (count(0, 1) > 0)
		return;
	for (i = 0; i < nchildren; i++)
		if (children[i].gen != generation && !children[i].draining)
			break;
	if (i == nchildren)
		return;
	if ((int)count(1, 0) < target)
		spawn(app);
	drain(app, &children[i]);
	counter_add(&app->metrics->restarts_reload, 1);
}

/* A worker that does not finish its request within the grace period is killed,
 * so one stuck request cannot hold up a reload forever. */
static void
kill_overdue(void)
{
	int64_t	 now = clock_mono_us();
	size_t	 i;

	for (i = 0; i < nchildren; i++)
		if (children[i].draining && children[i].drain_deadline_us != 0 &&
		    now >= children[i].drain_deadline_us) {
			log_warn("draining worker overran the grace period: killed", "{s:i}",
			    "pid", (int)children[i].pid);
			kill(children[i].pid, SIGKILL);
			children[i].drain_deadline_us = 0;
		}
}

static void
reload(struct app *app, const char *config_path)
{
	struct sb_config	 fresh;
	char			 err[512];

	if (config_load(&fresh, config_path, err, sizeof(err)) < 0) {
		log_error("reload refused: configuration invalid; keeping the old one", "{s:s}",
		    "error", err);
		config_free(&fresh);
		return;
	}
	if (strcmp(fresh.server.socket, app->cfg.server.socket) != 0)
		log_warn("server.socket changed; it takes effect at the next restart", NULL);
	config_free(&app->cfg);
	app->cfg = fresh;
	log_init("switchboard-fcgi", app->cfg.log.level);
	generation++;
	log_info("reloading: replacing workers one by one", "{s:i}", "generation", (int)generation);
}

/* Signals arrive on signal_fd, read in the event loop. */
static void
on_signals(struct app *app, const char *config_path, int *stopping, int64_t *deadline,
    int *now_please)
{
	struct signalfd_siginfo	 si;

	while (read(signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		/* Every signal is acted on at once: a reload starts replacing workers in
		 * this turn of the loop, not at the next tick. */
		*now_please = 1;
		if (si.ssi_signo == SIGCHLD)
			continue;
		if (si.ssi_signo == SIGHUP && !*stopping)
			reload(app, config_path);
		else if ((si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) && !*stopping) {
			log_info("stopping: letting in-flight requests finish", "{s:i}",
			    "grace_s", app->cfg.server.shutdown_grace);
			daemon_stopping();
			*stopping = 1;
			*deadline = clock_mono_us() + (int64_t)app->cfg.server.shutdown_grace * 1000000;
			front_stop();
			close(listen_fd_global);
			listen_fd_global = -1;
			if (listen_created)
				unlink(app->cfg.server.socket);
		}
	}
}

/* While stopping: the requests read are answered first, then the workers leave, then
 * the notifier (the workers' final commits still wake the queue).  0 when all is done. */
static int
stop_step(struct app *app, int64_t now, int64_t *deadline)
{
	size_t i;

	if (front_idle())
		for (i = 0; i < nchildren; i++)
			if (!children[i].draining)
				drain(app, &children[i]);
	if (nchildren == 0 && notifier.pid == 0)
		return 0;
	if (nchildren == 0 && !notifier.draining) {
		notifier.draining = 1;
		kill(notifier.pid, SIGTERM);
	}
	if (now >= *deadline && nchildren > 0) {
		log_warn("grace period over: killing the workers left", "{s:i}",
		    "workers", (int)nchildren);
		front_close_all();
		for (i = 0; i < nchildren; i++)
			kill(children[i].pid, SIGKILL);
		*deadline = now + 1000000;
	} else if (now >= *deadline && notifier.pid != 0) {
		log_warn("notifier overran the grace period: killed", "{s:i}",
		    "pid", (int)notifier.pid);
		kill(notifier.pid, SIGKILL);
		*deadline = now + 1000000;
	}
	return 1;
}

int
master_run(struct sb_config *cfg, const char *config_path)
{
	struct app		 app;
	struct epoll_event	 evs[256], ev;
	struct front_src	*src;
	int			 listen_fd, epfd, n, k, target, stopping = 0, now_please = 0;
	int64_t			 deadline = 0, now, last_tick = 0, next, wait_us;
	size_t			 i;

	memset(&app, 0, sizeof(app));
	app.routes = routes;
	app.nroutes = nroutes;
	app.cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));	/* app owns the config now */
	if ((listen_fd = listen_socket(app.cfg.server.socket, app.cfg.server.socket_mode,
	    app.cfg.server.backlog, &listen_created)) < 0)
		return 1;
	listen_fd_global = listen_fd;
	app.metrics = metrics_shm_new(sizeof(*app.metrics));
	if (queue_wake_init(&app.wake) < 0)
		return 1;
	/* Before fork: libsodium and libcurl (JWKS fetches) initialise once, here. */
	if (daemon_libs_init() < 0)
		return 1;
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (signal_fd = daemon_signals(SIGCHLD)) < 0) {
		log_error("epoll or signalfd failed", "{s:s}", "error", strerror(errno));
		return 1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &front_signal_src;
	epoll_ctl(epfd, EPOLL_CTL_ADD, signal_fd, &ev);
	/* Workers accept from it side by side: one that finds the connection taken by
	 * another must not block. */
	fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
	if ((work_fd = front_init(&app, epfd)) < 0) {
		log_error("eventfd failed", "{s:s}", "error", strerror(errno));
		return 1;
	}

	target = target_workers(&app.cfg);
	log_info("starting", "{s:s, s:i}", "version", sb_version(), "workers", target);
	for (i = 0; i < (size_t)target; i++)
		spawn(&app);
	spawn_notifier(&app);
	daemon_ready("%d workers", target);

	for (;;) {
		now = clock_mono_us();
		wait_us = TICK_US - (now - last_tick);
		if ((next = front_next_deadline()) != 0 && next - now < wait_us)
			wait_us = next - now;
		if (wait_us < 0)
			wait_us = 0;
		n = epoll_wait(epfd, evs, (int)(sizeof(evs) / sizeof(evs[0])),
		    (int)((wait_us + 999) / 1000));
		for (k = 0; k < n; k++) {
			src = evs[k].data.ptr;
			switch (src->kind) {
			case FRONT_SIGNAL:
				on_signals(&app, config_path, &stopping, &deadline, &now_please);
				break;
			case FRONT_CONN:
				front_readable(src);
				break;
			case FRONT_SLOT:
				front_slot_readable(src);
				break;
			}
		}
		now = clock_mono_us();
		front_expire(now);
		if (!now_please && now - last_tick < TICK_US)
			continue;
		last_tick = now;
		now_please = 0;
		reap(&app, stopping);
		if (stopping) {
			if (stop_step(&app, now, &deadline) == 0)
				break;
			continue;
		}
		roll_notifier(&app);
		target = target_workers(&app.cfg);
		kill_overdue();
		roll(&app, target);
		while ((int)count(0, 0) < target && now >= next_spawn_us &&
		    nchildren < MAX_CHILDREN)
			spawn(&app);
	}
	log_info("stopped", NULL);
	config_free(&app.cfg);
	return 0;
}
