/* metrics.c: what switchboard-stream's GET /metrics says (core/httpmetrics.c serves it). */
#include "config.h"

#include <stdlib.h>
#include <stddef.h>
#include <stdio.h>

#include "stream/stream.h"
#include "core/arena.h"
#include "core/cache.h"
#include "core/dbq.h"
#include "core/metrics.h"
#include "fcgi-app/app.h"

char *
smetrics_render(void *arg, size_t *len)
{
	char			*buf = NULL;
	FILE			*f = open_memstream(&buf, len);
	struct dbq_stats	 q;

	(void)arg;
	if (f == NULL)
		sb_oom(0);
	metrics_gauge(f, "switchboard_stream_open", "Event streams and long polls held open.",
	    srv->nstreams);
	metrics_gauge(f, "switchboard_stream_connections", "FastCGI connections from the web server.",
	    srv->nconns);
	dbq_stats(srv->opens, &q);
	metrics_gauge(f, "switchboard_stream_opens_waiting",
	    "Stream opens whose statement the database has not answered yet.", q.in_flight);
	metrics_gauge(f, "switchboard_stream_runs_watched", "Runs and org feeds with at least one watcher.",
	    (long long)srv->topics.n);
	metrics_counter(f, "switchboard_stream_streams_total", "Event streams opened.",
	    srv->m.streams_opened);
	metrics_counter(f, "switchboard_stream_longpolls_total", "Long polls that waited.",
	    srv->m.longpolls);
	metrics_counter(f, "switchboard_stream_events_sent_total", "Events written to clients.",
	    srv->m.events_sent);
	metrics_counter(f, "switchboard_stream_slow_closed_total",
	    "Streams closed because their client could not keep up.", srv->m.slow_closed);
	metrics_counter(f, "switchboard_stream_heartbeats_total", "Heartbeat comments sent.",
	    srv->m.heartbeats);
	metrics_counter(f, "switchboard_stream_probes_total",
	    "Callers refused at the per-user cap whose streams were probed for clients that left.",
	    srv->m.probes);
	metrics_counter(f, "switchboard_stream_reads_total",
	    "Reads of new events (one statement for every run woken at once).", srv->m.fetches);
	fprintf(f, "# HELP switchboard_stream_read_seconds Reads of new events: the "
	    "statement's round trip.\n# TYPE switchboard_stream_read_seconds histogram\n");
	hist_render(f, "switchboard_stream_read_seconds", "", &srv->m.read_time);
	fprintf(f, "# HELP switchboard_stream_notify_delay_seconds From a worker's notification "
	    "to its runs' events handed to their connections.\n"
	    "# TYPE switchboard_stream_notify_delay_seconds histogram\n");
	hist_render(f, "switchboard_stream_notify_delay_seconds", "", &srv->m.notify_delay);
	metrics_counter(f, "switchboard_stream_notifications_total",
	    "Notifications received from workers (LISTEN).", srv->m.notifications);
	metrics_counter(f, "switchboard_stream_revoked_total",
	    "Streams and long polls ended because their credential was revoked or lost the scope.",
	    srv->m.revoked);
	metrics_counter(f, "switchboard_stream_db_errors_total",
	    "Database statements that failed (each is logged with its SQL state).",
	    srv->app.db.failures + srv->listener.db.failures + q.failed);
	metrics_counter(f, "switchboard_cache_forged_total",
	    "Values read from memcached that failed their seal (treated as absent).",
	    cache_forged(srv->app.cache));
	fclose(f);
	return buf;
}
