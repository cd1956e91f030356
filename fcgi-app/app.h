/* app.h: what a process serving requests owns for its lifetime (struct app):
 * configuration, database connection, cache, metrics, and the stream operations
 * switchboard-stream adds. */
#ifndef SB_FCGI_APP_APP_H
#define SB_FCGI_APP_APP_H

#include <stddef.h>
#include <stdint.h>
#include "core/cache.h"
#include "core/conf.h"
#include "core/cursor.h"
#include "core/db.h"
#include "core/err.h"
#include "core/jwt.h"
#include "fcgi-app/appmetrics.h"
#include "fcgi-app/router.h"
#include "fcgi-app/wake.h"

struct sb_req;

/* What a worker process owns for its lifetime. */
/* What switchboard-stream adds to the handlers of ROUTE_STREAM routes and long polls;
 * switchboard-fcgi has none (struct app's stream is NULL). */
struct stream_ops {
	/* GET /api/v1/runs/{id}/stream after that seq: finds the run in the caller's org
	 * itself (404), 204 for an ended run the caller has all of, else the stream
	 * (closed after the replay when the run has ended). */
	enum sb_err	(*run_stream)(struct sb_req *, const char *run_id, int64_t after);
	/* A long poll of the run's events that found none yet: answered later. */
	enum sb_err	(*run_wait)(struct sb_req *, const char *run_id, int64_t after, int wait_s,
			    int limit);
	/* GET /api/v1/stream: the org's feed (runs, inbox items) after that position. */
	enum sb_err	(*feed_stream)(struct sb_req *, int64_t org_id,
			    const struct sb_cursor *after);
	/* GET /api/v1/threads/{id}/stream, once the caller may read the thread: its runs'
	 * events after that position (run n as the cursor's xid, seq as its n). */
	enum sb_err	(*thread_stream)(struct sb_req *, const char *thread_id,
			    const struct sb_cursor *after);
};

struct app {
	const struct route	*routes;	/* the table requests are matched against */
	const struct stream_ops	*stream;	/* switchboard-stream only */
	size_t			 nroutes;
	struct sb_config	 cfg;
	struct sb_db		 db;
	struct sb_cache		*cache;
	struct app_metrics	*metrics;
	struct queue_wake	 wake;		/* to the notifier */
	struct jwt_verifier	*jwt;		/* NULL when bearer JWTs are off */
	uint64_t		 role_checked;	/* db.generation the role was checked on */
	int			 role_unsafe;	/* the connection could bypass row-level security */
	char			 dummy_hash[160];	/* verified for unknown logins: same timing */
};

#endif /* SB_FCGI_APP_APP_H */
