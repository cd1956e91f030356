/* threads.c: a thread's stream (GET /api/v1/threads/{id}/stream): the events of its
 * runs, one run after the other, resumable at (run n, seq) (sql/013_threads.sql). */
#include "config.h"

#include "stream/stream.h"
#include "core/cursor.h"
#include "core/db.h"
#include "core/err.h"
#include "fcgi-app/request.h"

static int
thread_read(const char **ids, const struct sb_cursor *after, size_t n, int limit,
    hub_event_fn fn, void *arg)
{
	/* The run's n goes where the feed has its xid: "N-SEQ" is the event's id. */
	static struct db_stmt	 st = { "stream_thread_events",
	    "SELECT thread_id, n, seq, type, data "
	    "FROM stream_thread_events($1::uuid[], $2::bigint[], $3::integer[], $4)", 4, 0 };

	return hub_read_positions(&st, ids, after, n, limit, fn, arg);
}

/* A thread's stream never ends (its next run may come at any time).  The worker's
 * announcements name the thread of a run with new events, and the sweep reads it
 * now and then (events the API writes, a cancel, are not announced). */
const struct topic_kind thread_kind = { "thread", thread_read, NULL, NULL, 0 };

enum sb_err
thread_stream(struct sb_req *req, const char *thread_id, const struct sb_cursor *after)
{
	return stream_open(req, &thread_kind, thread_id, after, NULL, 0);
}
