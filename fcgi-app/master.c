/* master.c: the prefork master: the listening socket, workers, signals, reload. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <systemd/sd-daemon.h>

#include "fcgi-app.h"

#define MAX_CHILDREN	2048
#define STABLE_US	5000000		/* a worker that lived this long did not crash-loop */

struct child {
	pid_t		 pid;
	unsigned	 gen;		/* config generation it was forked with */
	int64_t		 started_us;
	int		 draining;	/* sent SIGTERM by us */
	int64_t		 drain_deadline_us;	/* SIGKILL after this */
};

static struct child		 children[MAX_CHILDREN];
static size_t			 nchildren;
static unsigned			 generation;
static int			 crash_streak;
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

static void
spawn(struct app *app, int listen_fd)
{
	pid_t pid;

	if (nchildren == MAX_CHILDREN)
		return;
	if ((pid = fork()) < 0) {
		log_error("fork failed", "{s:s}", "error", strerror(errno));
		next_spawn_us = clock_mono_us() + 1000000;
		return;
	}
	if (pid == 0) {
		close(app->wake.rfd);	/* the notifier's end */
		_exit(worker_main(app, listen_fd));
	}
	children[nchildren].pid = pid;
	children[nchildren].gen = generation;
	children[nchildren].started_us = clock_mono_us();
	children[nchildren].draining = 0;
	children[nchildren].drain_deadline_us = 0;
	nchildren++;
	gauge_add(&app->metrics->workers, 1);
}

static void
spawn_notifier(struct app *app, int listen_fd)
{
	pid_t pid;

	if ((pid = fork()) < 0) {
		log_error("fork failed", "{s:s}", "error", strerror(errno));
		notifier_next_us = clock_mono_us() + 1000000;
		return;
	}
	if (pid == 0)
		_exit(notifier_main(app, listen_fd));
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
roll_notifier(struct app *app, int listen_fd)
{
	int64_t now = clock_mono_us();

	if (notifier.pid == 0) {
		if (now >= notifier_next_us)
			spawn_notifier(app, listen_fd);
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

/* After a reload, replaces old-generation workers one at a time: start the
 * new one first, then drain the old, so capacity never drops. */
static void
roll(struct app *app, int listen_fd, int target)
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
		spawn(app, listen_fd);
	children[i].draining = 1;
	children[i].drain_deadline_us = clock_mono_us() +
	    (int64_t)app->cfg.server.shutdown_grace * 1000000;
	kill(children[i].pid, SIGTERM);
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

int
master_run(struct sb_config *cfg, const char *config_path)
{
	struct app	 app;
	sigset_t	 set;
	struct timespec	 ts;
	siginfo_t	 info;
	int		 listen_fd, created, sig, target, stopping = 0;
	int64_t		 deadline = 0, now;
	size_t		 i;

	memset(&app, 0, sizeof(app));
	app.routes = routes;
	app.nroutes = nroutes;
	app.cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));	/* app owns the config now */
	if ((listen_fd = listen_socket(app.cfg.server.socket, app.cfg.server.socket_mode,
	    app.cfg.server.backlog, &created)) < 0)
		return 1;
	app.metrics = metrics_shm_new(sizeof(*app.metrics));
	if (queue_wake_init(&app.wake) < 0)
		return 1;
	/* Before fork: libsodium and libcurl (JWKS fetches) initialise once, here. */
	if (crypto_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		log_error("libsodium or libcurl failed to initialise", NULL);
		return 1;
	}
	if (FCGX_Init() != 0) {
		log_error("FCGX_Init failed", NULL);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);

	target = target_workers(&app.cfg);
	log_info("starting", "{s:s, s:i}", "version", sb_version(), "workers", target);
	for (i = 0; i < (size_t)target; i++)
		spawn(&app, listen_fd);
	spawn_notifier(&app, listen_fd);
	sd_notifyf(0, "READY=1\nSTATUS=%d workers\nMAINPID=%d", target, (int)getpid());

	for (;;) {
		reap(&app, stopping);
		now = clock_mono_us();
		if (stopping) {
			/* The notifier last: the workers' final commits still wake the queue. */
			if (nchildren == 0 && notifier.pid == 0)
				break;
			if (nchildren == 0 && !notifier.draining) {
				notifier.draining = 1;
				kill(notifier.pid, SIGTERM);
			}
			if (now >= deadline && nchildren > 0) {
				log_warn("grace period over: killing the workers left", "{s:i}",
				    "workers", (int)nchildren);
				for (i = 0; i < nchildren; i++)
					kill(children[i].pid, SIGKILL);
				deadline = now + 1000000;
			} else if (now >= deadline) {
				log_warn("notifier overran the grace period: killed", "{s:i}",
				    "pid", (int)notifier.pid);
				kill(notifier.pid, SIGKILL);
				deadline = now + 1000000;
			}
		} else {
			roll_notifier(&app, listen_fd);
			target = target_workers(&app.cfg);
			kill_overdue();
			roll(&app, listen_fd, target);
			while ((int)count(0, 0) < target && now >= next_spawn_us &&
			    nchildren < MAX_CHILDREN)
				spawn(&app, listen_fd);
		}
		ts.tv_sec = 0;
		ts.tv_nsec = 100 * 1000000;
		sig = sigtimedwait(&set, &info, &ts);
		if (sig == SIGTERM || sig == SIGINT) {
			if (!stopping) {
				log_info("stopping: letting in-flight requests finish", "{s:i}",
				    "grace_s", app.cfg.server.shutdown_grace);
				sd_notify(0, "STOPPING=1");
				stopping = 1;
				deadline = clock_mono_us() +
				    (int64_t)app.cfg.server.shutdown_grace * 1000000;
				for (i = 0; i < nchildren; i++)
					kill(children[i].pid, SIGTERM);
				close(listen_fd);
				if (created)
					unlink(app.cfg.server.socket);
			}
		} else if (sig == SIGHUP && !stopping)
			reload(&app, config_path);
	}
	log_info("stopped", NULL);
	config_free(&app.cfg);
	return 0;
}
