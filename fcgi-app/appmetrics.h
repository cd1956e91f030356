/* appmetrics.h: the counters and histograms of the FastCGI programs, in one shared
 * region the master maps before fork, and their status slots. */
#ifndef SB_FCGI_APP_APPMETRICS_H
#define SB_FCGI_APP_APPMETRICS_H

#include <stdint.h>
#include "core/metrics.h"

/* Status codes that get a counter of their own; the rest count as "other". */
#define STATUS_SLOTS 28
extern const int status_slots[STATUS_SLOTS - 1];
int		 status_slot(int status);

/* Shared-memory metrics of switchboard-fcgi; index nroutes counts unmatched requests. */
#define METRICS_MAX_ROUTES 64
struct app_metrics {
	uint64_t	 requests[METRICS_MAX_ROUTES + 1][STATUS_SLOTS];
	struct sb_hist	 latency[METRICS_MAX_ROUTES + 1];
	int64_t		 in_flight;
	int64_t		 workers;
	uint64_t	 restarts_crash;
	uint64_t	 restarts_recycle;
	uint64_t	 restarts_reload;
	uint64_t	 db_unavailable;
	uint64_t	 client_gone;
	uint64_t	 auth_failed;
	uint64_t	 rate_limited;
	uint64_t	 ratelimit_unavailable_open;	/* served although memcached was down */
	uint64_t	 ratelimit_unavailable_closed;	/* refused because memcached was down */
	uint64_t	 queue_wakeups;		/* created runs that signalled the notifier */
	uint64_t	 queue_notify;		/* NOTIFYs the notifier sent */
	int64_t		 front_conns;		/* connections the master holds */
	int64_t		 front_queued;		/* whole requests waiting for a worker */
	uint64_t	 request_timeouts;	/* requests not whole in time: 408 */
	uint64_t	 front_adopted;		/* accepted requests not whole at once: to the
						 * master */
};

#endif /* SB_FCGI_APP_APPMETRICS_H */
