/* metrics.c: GET /metrics in the Prometheus text format, summed over every worker. */
#include "config.h"

#include <stdlib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "handlers/handlers.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/listener.h"
#include "core/metrics.h"
#include "fcgi-app/app.h"
#include "fcgi-app/appmetrics.h"
#include "fcgi-app/request.h"
#include "fcgi-app/response.h"
#include "fcgi-app/router.h"

void
metrics_render_app(FILE *f, const struct app *app)
{
	const struct app_metrics	*m = app->metrics;
	const struct route		*table = app->routes;
	size_t				 ntable = app->nroutes, r, s;
	char				 labels[256];
	const char			*method, *pattern;
	uint64_t			 v;

	fputs("# HELP switchboard_http_requests_total Requests answered, by route and status.\n"
	    "# TYPE switchboard_http_requests_total counter\n", f);
	for (r = 0; r <= ntable && r <= METRICS_MAX_ROUTES; r++) {
		method = r < ntable ? table[r].method : "";
		pattern = r < ntable ? table[r].pattern : "unmatched";
		for (s = 0; s < STATUS_SLOTS; s++) {
			if ((v = counter_get(&m->requests[r == ntable ? METRICS_MAX_ROUTES : r][s])) == 0)
				continue;
			if (s < STATUS_SLOTS - 1)
				fprintf(f, "switchboard_http_requests_total{method=\"%s\",route=\"%s\","
				    "status=\"%d\"} %lu\n", method, pattern, status_slots[s],
				    (unsigned long)v);
			else
				fprintf(f, "switchboard_http_requests_total{method=\"%s\",route=\"%s\","
				    "status=\"other\"} %lu\n", method, pattern, (unsigned long)v);
		}
	}
	fputs("# HELP switchboard_http_request_duration_seconds Time from accept to the last byte.\n"
	    "# TYPE switchboard_http_request_duration_seconds histogram\n", f);
	for (r = 0; r <= ntable && r <= METRICS_MAX_ROUTES; r++) {
		const struct sb_hist *h = &m->latency[r == ntable ? METRICS_MAX_ROUTES : r];

		if (counter_get(&h->count) == 0)
			continue;
		snprintf(labels, sizeof(labels), "method=\"%s\",route=\"%s\"",
		    r < ntable ? table[r].method : "", r < ntable ? table[r].pattern : "unmatched");
		hist_render(f, "switchboard_http_request_duration_seconds", labels, h);
	}
	fprintf(f, "# HELP switchboard_http_requests_in_flight Requests being handled now.\n"
	    "# TYPE switchboard_http_requests_in_flight gauge\n"
	    "switchboard_http_requests_in_flight %ld\n"
	    "# HELP switchboard_workers Prefork workers alive.\n"
	    "# TYPE switchboard_workers gauge\n"
	    "switchboard_workers %ld\n"
	    "# HELP switchboard_worker_restarts_total Workers replaced, by reason.\n"
	    "# TYPE switchboard_worker_restarts_total counter\n"
	    "switchboard_worker_restarts_total{reason=\"crash\"} %lu\n"
	    "switchboard_worker_restarts_total{reason=\"recycle\"} %lu\n"
	    "switchboard_worker_restarts_total{reason=\"reload\"} %lu\n"
	    "# HELP switchboard_db_unavailable_total Requests refused because PostgreSQL was down.\n"
	    "# TYPE switchboard_db_unavailable_total counter\n"
	    "switchboard_db_unavailable_total %lu\n"
	    "# HELP switchboard_client_gone_total Requests whose client left before the answer.\n"
	    "# TYPE switchboard_client_gone_total counter\n"
	    "switchboard_client_gone_total %lu\n"
	    "# HELP switchboard_auth_failed_total Requests refused for missing or bad credentials.\n"
	    "# TYPE switchboard_auth_failed_total counter\n"
	    "switchboard_auth_failed_total %lu\n"
	    "# HELP switchboard_rate_limited_total Requests refused by a rate limit.\n"
	    "# TYPE switchboard_rate_limited_total counter\n"
	    "switchboard_rate_limited_total %lu\n"
	    "# HELP switchboard_ratelimit_unavailable_total Requests whose limit could not be "
	    "checked (memcached down), by what was done: served (open) or refused (closed).\n"
	    "# TYPE switchboard_ratelimit_unavailable_total counter\n"
	    "switchboard_ratelimit_unavailable_total{policy=\"open\"} %lu\n"
	    "switchboard_ratelimit_unavailable_total{policy=\"closed\"} %lu\n"
	    "# HELP switchboard_queue_wakeups_total Created runs that woke the notifier "
	    "(none was pending).\n"
	    "# TYPE switchboard_queue_wakeups_total counter\n"
	    "switchboard_queue_wakeups_total %lu\n"
	    "# HELP switchboard_queue_notify_total NOTIFYs sent on " QUEUE_CHANNEL " to wake "
	    "the worker daemon.\n"
	    "# TYPE switchboard_queue_notify_total counter\n"
	    "switchboard_queue_notify_total %lu\n"
	    "# HELP switchboard_front_connections Web server connections the master holds "
	    "(reading a request, waiting for a worker, or kept between requests).\n"
	    "# TYPE switchboard_front_connections gauge\n"
	    "switchboard_front_connections %ld\n"
	    "# HELP switchboard_front_adopted_total Requests a worker accepted that were not "
	    "whole within 2 ms, read on by the master.\n"
	    "# TYPE switchboard_front_adopted_total counter\n"
	    "switchboard_front_adopted_total %lu\n"
	    "# HELP switchboard_front_queued Whole requests waiting for an idle worker.\n"
	    "# TYPE switchboard_front_queued gauge\n"
	    "switchboard_front_queued %ld\n"
	    "# HELP switchboard_request_timeouts_total Requests not whole within "
	    "http.request_timeout, answered 408 by the master.\n"
	    "# TYPE switchboard_request_timeouts_total counter\n"
	    "switchboard_request_timeouts_total %lu\n",
	    (long)__atomic_load_n(&m->in_flight, __ATOMIC_RELAXED),
	    (long)__atomic_load_n(&m->workers, __ATOMIC_RELAXED),
	    (unsigned long)counter_get(&m->restarts_crash),
	    (unsigned long)counter_get(&m->restarts_recycle),
	    (unsigned long)counter_get(&m->restarts_reload),
	    (unsigned long)counter_get(&m->db_unavailable),
	    (unsigned long)counter_get(&m->client_gone),
	    (unsigned long)counter_get(&m->auth_failed),
	    (unsigned long)counter_get(&m->rate_limited),
	    (unsigned long)counter_get(&m->ratelimit_unavailable_open),
	    (unsigned long)counter_get(&m->ratelimit_unavailable_closed),
	    (unsigned long)counter_get(&m->queue_wakeups),
	    (unsigned long)counter_get(&m->queue_notify),
	    (long)__atomic_load_n(&m->front_conns, __ATOMIC_RELAXED),
	    (unsigned long)counter_get(&m->front_adopted),
	    (long)__atomic_load_n(&m->front_queued, __ATOMIC_RELAXED),
	    (unsigned long)counter_get(&m->request_timeouts));
}

enum sb_err
h_metrics(struct sb_req *req)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f;

	if ((f = open_memstream(&buf, &len)) == NULL)
		sb_oom(0);
	metrics_render_app(f, req->app);
	fclose(f);
	arena_defer(req->arena, free, buf);
	resp_send(req, 200, "text/plain; version=0.0.4; charset=utf-8", buf, len);
	return SB_OK;
}
