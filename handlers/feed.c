/* feed.c: GET /api/v1/stream, the org's live feed of runs and inbox items (switchboard-stream). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>

#include "handlers/handlers.h"
#include "core/cursor.h"
#include "core/db.h"
#include "core/err.h"
#include "fcgi-app/access.h"
#include "fcgi-app/app.h"
#include "fcgi-app/request.h"
#include "fcgi-app/response.h"

/* Where a feed starts.  From now: after every change already final (sql/011_feed.sql).
 * From a client's position: there, unless no transaction of this database has reached
 * it yet (a position from another cluster, e.g. before a dump was restored into a new
 * one): then from now, which feed.ready says, since waiting for this database's
 * transactions to get there would silence the feed. */
static enum sb_err
feed_start(struct sb_req *req, struct sb_cursor *pos, int given)
{
	static struct db_stmt	 q = { "feed_now",
	    "SELECT pg_snapshot_xmin(s)::text, pg_snapshot_xmax(s)::text "
	    "FROM pg_current_snapshot() AS s", 0, 0 };
	PGresult		*res;
	enum sb_err		 err;
	unsigned long long	 xmin, xmax;

	if ((res = req_exec(req, &q, NULL, &err)) == NULL)
		return err;
	xmin = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	xmax = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
	if (!given || pos->xid > xmax) {
		pos->xid = xmin;
		pos->n = 0;
	}
	return SB_OK;
}

enum sb_err
stream_position(struct sb_req *req, struct sb_cursor *pos, int *given, const char *what)
{
	const char *last = req_header(req, "Last-Event-ID"), *a = req_query(req, "after");
	const char *from;

	/* A reconnecting EventSource sends Last-Event-ID with the URL it first used: the
	 * header is the newer cursor. */
	from = last != NULL && *last != '\0' ? last : a;
	pos->xid = 0;
	pos->n = 0;
	*given = from != NULL;
	if (from != NULL && (cursor_parse(from, pos) < 0 || (pos->xid == 0 && pos->n != 0)))
		return req_fail(req, SB_ERR_INVALID, from == last ? "bad-last-event-id" :
		    "bad-after", what);
	return SB_OK;
}

enum sb_err
h_feed_stream(struct sb_req *req)
{
	struct sb_cursor	 pos;
	int			 given;
	enum sb_err		 err;

	if ((err = stream_position(req, &pos, &given, "the feed's position is the id of its "
	    "last event received (XID-N), or 0 for everything of the org")) != SB_OK ||
	    (err = feed_start(req, &pos, given)) != SB_OK)
		return err;
	return req->app->stream->feed_stream(req, req->who.org_id, &pos);
}
