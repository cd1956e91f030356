/* feed.c: GET /api/v1/stream, the org's run lifecycle feed (served by switchboard-stream). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "handlers.h"

/* Where a new feed starts: after every change already final (sql/011_feed.sql), so
 * it brings the changes from now on. */
static enum sb_err
feed_now(struct sb_req *req, struct sb_cursor *pos)
{
	static struct db_stmt	 q = { "feed_now",
	    "SELECT pg_snapshot_xmin(pg_current_snapshot())::text", 0, 0 };
	PGresult		*res;
	enum sb_err		 err;

	if ((res = db_exec_stmt(&req->app->db, &q, NULL, &err)) == NULL)
		return err;
	pos->xid = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	pos->n = 0;
	PQclear(res);
	return SB_OK;
}

enum sb_err
h_feed_stream(struct sb_req *req)
{
	const char		*last = req_header(req, "Last-Event-ID"), *a = req_query(req, "after");
	const char		*from;
	struct sb_cursor	 pos;
	enum sb_err		 err;

	/* A reconnecting EventSource sends Last-Event-ID with the URL it first used: the
	 * header is the newer cursor. */
	from = last != NULL && *last != '\0' ? last : a;
	if (from != NULL && (cursor_parse(from, &pos) < 0 || (pos.xid == 0 && pos.n != 0)))
		return req_fail(req, SB_ERR_INVALID, from == last ? "bad-last-event-id" :
		    "bad-after", "the feed's position is the id of its last event received "
		    "(XID-N), or 0 for every run of the org");
	if (from == NULL && (err = feed_now(req, &pos)) != SB_OK)
		return err;
	return req->app->stream->feed_stream(req, req->who.org_id, &pos);
}
