/* main.c: switchboard-worker: configuration, signals, systemd, and the event loop. */
#include "config.h"

#include <sys/signalfd.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "worker/worker.h"
#include "core/dbq.h"
#include "core/arena.h"
#include "core/cache.h"
#include "core/clock.h"
#include "core/conf.h"
#include "core/daemon.h"
#include "core/db.h"
#include "core/listener.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/tools.h"
#include "core/version.h"

#define TICK_MAX_US	1000000		/* the loop looks around at least once a second */
#define EXIT_LINGER_US	5000000		/* after the grace period, to write the releases */

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* -t: the checks worker_init makes of the configuration, without starting. */
static int
config_check(const struct daemon *d)
{
	struct sb_config	 cfg;
	struct pricing		*pr;
	char			 err[256];

	if (daemon_config(d, &cfg) < 0)
		return 1;
	pr = pricing_parse(cfg.llm.pricing, err, sizeof(err));
	config_free(&cfg);
	tool_decls_configure(NULL);
	if (pr == NULL) {
		fprintf(stderr, "switchboard-worker: %s\n", err);
		return 1;
	}
	pricing_free(pr);
	printf("switchboard-worker: configuration ok\n");
	return 0;
}

static int
worker_init(struct worker *w, const struct daemon *d)
{
	char	 err[256], host[64];

	memset(w, 0, sizeof(*w));
	LIST_INIT(&w->runs);
	if (daemon_config(d, &w->cfg) < 0)
		return -1;
	log_init(d->name, w->cfg.log.level);
	if ((w->pricing = pricing_parse(w->cfg.llm.pricing, err, sizeof(err))) == NULL) {
		log_error("bad configuration", "{s:s}", "error", err);
		return -1;
	}
	if (w->cfg.worker.heartbeat * 2 > w->cfg.worker.lease)
		log_warn("worker.heartbeat should be at most half of worker.lease", "{s:i, s:i}",
		    "heartbeat", w->cfg.worker.heartbeat, "lease", w->cfg.worker.lease);
	if (w->cfg.worker.name[0] != '\0')
		snprintf(w->name, sizeof(w->name), "%s", w->cfg.worker.name);
	else {
		if (gethostname(host, sizeof(host)) < 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		snprintf(w->name, sizeof(w->name), "%s:%d", host, (int)getpid());
	}
	if (daemon_libs_init() < 0)
		return -1;
	if ((w->multi = curl_multi_init()) == NULL)
		sb_oom(0);
	if (w->cfg.llm.cache &&
	    (w->cache = cache_open(w->cfg.memcached.servers, w->cfg.memcached.timeout_ms,
	    w->cfg.memcached.secret)) == NULL) {
		log_error("llm.cache is on but memcached.servers is malformed", NULL);
		return -1;
	}
	db_init(&w->db, w->cfg.database.url, w->cfg.database.connect_timeout,
	    w->cfg.database.statement_timeout_ms);
	listener_init(&w->listen, w->cfg.database.url, w->cfg.database.connect_timeout,
	    QUEUE_CHANNEL);
	/* Connected at the first tool statement: most workers' agents have none. */
	w->tooldb = dbq_new("tool statements", w->cfg.database.url, w->cfg.database.connect_timeout,
	    w->cfg.database.statement_timeout_ms);
	w->db.loud = w->listen.db.loud = true;
	pending_init(&w->pending);
	w->metrics_fd = metrics_http_listen(w->cfg.worker.metrics_listen);
	w->next_tick_us = INT64_MAX;
	return 0;
}

static void
begin_stop(struct worker *w, int64_t now)
{
	if (w->stopping)
		return;
	w->stopping = 1;
	w->stop_deadline_us = now + (int64_t)w->cfg.worker.shutdown_grace * 1000000;
	daemon_stopping();
	log_info("stopping: no more claims; runs in flight get the grace period", "{s:i, s:i}",
	    "runs", w->nactive, "grace_s", w->cfg.worker.shutdown_grace);
}

static void
read_signals(struct worker *w, int fd, int64_t now)
{
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			begin_stop(w, now);
		else if (si.ssi_signo == SIGHUP)
			log_info("SIGHUP: the worker reads its configuration at start; restart it "
			    "(systemctl restart) to apply changes", NULL);
	}
}

/* Runs' timers: deltas due, builtin tokens, retries, first-token timeouts, leases. */
static void
tick_runs(struct worker *w, int64_t now)
{
	struct run *r, *next;

	w->next_tick_us = INT64_MAX;
	for (r = LIST_FIRST(&w->runs); r != NULL; r = next) {
		next = LIST_NEXT(r, link);
		run_tick(r, now);
	}
}

static int
want_flush(struct worker *w, int64_t now, int64_t next_flush_try)
{
	size_t nfin = json_array_size(w->pending.finishes);

	if (w->pending.since_us == 0 || now < next_flush_try)
		return 0;
	/* Now: the batch window passed, or nothing else is running to batch with,
	 * or slots wait on ended runs, or the worker is stopping. */
	return now - w->pending.since_us >= (int64_t)w->cfg.worker.flush_ms * 1000 ||
	    w->nactive == 0 || w->stopping ||
	    (nfin > 0 && w->nruns >= w->cfg.worker.max_inflight) ||
	    nfin >= (size_t)w->cfg.worker.claim_batch;
}

void
transfers_finished(struct worker *w)
{
	CURLMsg		*m;
	struct transfer	*t;
	int		 left;

	while ((m = curl_multi_info_read(w->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
		t->done(t, m->data.result);
	}
}

static int
worker_loop(struct worker *w, int sigfd)
{
	struct curl_waitfd	 fds[4];
	int64_t			 now, wake, next_flush_try = 0, watchdog_us, next_watchdog = 0;
	int64_t			 next_status = 0;
	int			 nfds, running, free_slots, limit, n, lfd, qfd, qi = -1;
	short			 qev = 0;

	watchdog_us = daemon_watchdog_us();
	daemon_ready("starting");
	log_info("started", "{s:s, s:s, s:i}", "version", sb_version(), "name", w->name,
	    "max_inflight", w->cfg.worker.max_inflight);

	for (;;) {
		now = clock_mono_us();
		queue_listen_ensure(w);

		if (w->stopping && now >= w->stop_deadline_us && w->nactive > 0) {
			struct run *r;

			log_info("grace period over: releasing the runs left to the queue",
			    "{s:i}", "runs", w->nactive);
			LIST_FOREACH(r, &w->runs, link)
				run_release(r);
		}
		if (w->stopping && w->nruns == 0 && w->pending.since_us == 0)
			break;
		if (w->stopping && now >= w->stop_deadline_us + EXIT_LINGER_US) {
			log_warn("could not write the last runs' ends; the rescuer will requeue them "
			    "when their leases expire", "{s:i}", "runs", w->nruns);
			break;
		}

		free_slots = w->cfg.worker.max_inflight - w->nruns;
		if (!w->stopping && free_slots > 0 && (w->woken || now >= w->next_claim_us)) {
			w->woken = 0;
			limit = free_slots < w->cfg.worker.claim_batch ? free_slots :
			    w->cfg.worker.claim_batch;
			n = queue_claim(w, limit);
			/* A full batch: there may be more now; otherwise wait for a wake-up. */
			w->next_claim_us = n == limit ? now :
			    now + (int64_t)w->cfg.worker.poll_interval_ms * 1000;
			now = clock_mono_us();
		}

		curl_multi_perform(w->multi, &running);
		transfers_finished(w);
		if (now >= w->next_tick_us)
			tick_runs(w, now);

		if (w->nruns > 0 && now >= w->next_heartbeat_us) {
			queue_heartbeat(w, now);
			w->next_heartbeat_us = now + (int64_t)w->cfg.worker.heartbeat * 1000000;
		}
		if (w->nactive > 0 && now >= w->next_cancel_us) {
			queue_check_cancels(w);
			w->next_cancel_us = now + (int64_t)w->cfg.worker.cancel_check_ms * 1000;
		}
		if (now >= w->next_rescue_us) {
			queue_rescue(w, now);
			w->next_rescue_us = now + (int64_t)w->cfg.worker.rescue_interval * 1000000;
		}
		if (want_flush(w, now, next_flush_try)) {
			int was_full = w->nruns >= w->cfg.worker.max_inflight;

			if (queue_flush(w) < 0)
				next_flush_try = now + (int64_t)w->cfg.worker.flush_ms * 1000;
			else if (was_full || w->next_claim_us <= now)
				w->woken = 1;	/* slots are free again */
			now = clock_mono_us();
		}
		if (watchdog_us > 0 && now >= next_watchdog) {
			daemon_watchdog();
			next_watchdog = now + watchdog_us;
		}
		if (now >= next_status) {
			daemon_status("%d runs in flight%s", w->nactive,
			    w->db.conn == NULL ? ", database unreachable" : "");
			next_status = now + 5000000;
		}

		/* Sleep until the first of the timers, a socket, a signal or a NOTIFY. */
		wake = now + TICK_MAX_US;
		if (w->woken && !w->stopping && w->cfg.worker.max_inflight > w->nruns)
			wake = now;
		if (!w->stopping && w->cfg.worker.max_inflight > w->nruns)
			wake = min64(wake, w->next_claim_us);
		wake = min64(wake, w->next_tick_us);
		if (w->pending.since_us != 0) {
			int64_t due = w->nactive == 0 ? now : w->pending.since_us +
			    (int64_t)w->cfg.worker.flush_ms * 1000;

			wake = min64(wake, due > next_flush_try ? due : next_flush_try);
		}
		if (w->nruns > 0)
			wake = min64(wake, w->next_heartbeat_us);
		if (w->nactive > 0)
			wake = min64(wake, w->next_cancel_us);
		if (w->stopping)
			wake = min64(wake, w->stop_deadline_us);
		if (watchdog_us > 0)
			wake = min64(wake, next_watchdog);
		nfds = 0;
		fds[nfds].fd = sigfd;
		fds[nfds].events = CURL_WAIT_POLLIN;
		fds[nfds++].revents = 0;
		if ((lfd = listener_fd(&w->listen)) >= 0) {
			fds[nfds].fd = lfd;
			fds[nfds].events = CURL_WAIT_POLLIN;
			fds[nfds++].revents = 0;
		}
		if (w->metrics_fd >= 0) {
			fds[nfds].fd = w->metrics_fd;
			fds[nfds].events = CURL_WAIT_POLLIN;
			fds[nfds++].revents = 0;
		}
		if ((qfd = dbq_fd(w->tooldb, &qev)) >= 0) {
			qi = nfds;
			fds[nfds].fd = qfd;
			fds[nfds].events = (short)(((qev & POLLIN) ? CURL_WAIT_POLLIN : 0) |
			    ((qev & POLLOUT) ? CURL_WAIT_POLLOUT : 0));
			fds[nfds++].revents = 0;
		}
		if (wake > now)
			curl_multi_poll(w->multi, fds, (unsigned)nfds,
			    (int)((wake - now + 999) / 1000), NULL);
		now = clock_mono_us();
		read_signals(w, sigfd, now);
		if (lfd >= 0)
			queue_listen_read(w);
		if (w->metrics_fd >= 0)
			metrics_http_accept(w->metrics_fd, wmetrics_render, w);
		if (qfd >= 0 && fds[qi].revents != 0)
			dbq_io(w->tooldb);	/* its results end tool calls */
	}
	log_info("stopped", "{s:I, s:I}", "claimed", (json_int_t)w->m.claimed,
	    "released", (json_int_t)w->m.released);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct daemon	 d = { .name = "switchboard-worker", .opts = "c:tVh",
			    .flags = DAEMON_TOOL_SECRETS };
	struct worker	 w;
	int		 sigfd, rc;

	if ((rc = daemon_args(&d, argc, argv)) >= 0)
		return rc;
	if (d.test)
		return config_check(&d);
	if ((sigfd = daemon_signals(0)) < 0) {
		fprintf(stderr, "switchboard-worker: signalfd: %s\n", strerror(errno));
		return 1;
	}
	if (worker_init(&w, &d) < 0) {
		config_free(&w.cfg);
		tool_decls_configure(NULL);
		return 1;
	}
	rc = worker_loop(&w, sigfd);
	curl_multi_cleanup(w.multi);
	db_close(&w.db);
	dbq_free(w.tooldb);
	listener_close(&w.listen);
	if (w.cache != NULL)
		cache_close(w.cache);
	pricing_free(w.pricing);
	json_decref(w.pending.events);
	json_decref(w.pending.finishes);
	json_decref(w.pending.steps);
	if (w.metrics_fd >= 0)
		close(w.metrics_fd);
	config_free(&w.cfg);
	tool_decls_configure(NULL);	/* the secrets in the tools' headers are wiped */
	curl_global_cleanup();
	return rc;
}
