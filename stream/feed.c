/* feed.c: the org's run lifecycle feed (GET /api/v1/stream): each run at its latest
 * change of state, in the order of the transactions that made them (sql/011). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <libpq-fe.h>

#include "stream/stream.h"
#include "core/arena.h"
#include "core/cursor.h"
#include "core/db.h"
#include "core/err.h"
#include "fcgi-app/request.h"

static int
feed_read(const char **orgs, const struct sb_cursor *after, size_t n, int limit,
    hub_event_fn fn, void *arg)
{
	static struct db_stmt	 st = { "stream_feed",
	    "SELECT org_id, xid, n, type, data "
	    "FROM stream_feed($1::bigint[], $2::xid8[], $3::bigint[], $4)", 4, 0 };

	return hub_read_positions(&st, orgs, after, n, limit, fn, arg);
}

/* The feed never ends; nothing notifies its changes by org, so it is polled. */
const struct topic_kind feed_kind = { "feed", feed_read, NULL, NULL, 1 };

/* GET /api/v1/stream.  It starts with feed.ready, whose id is the position it starts
 * from: a client that reconnects before any run changed resumes from there. */
enum sb_err
feed_stream(struct sb_req *req, int64_t org_id, const struct sb_cursor *after)
{
	char	 key[24], pos[CURSOR_MAX];
	char	*ready;

	snprintf(key, sizeof(key), "%lld", (long long)org_id);
	cursor_format(after, pos);
	ready = arena_printf(req->arena, "id: %s\nevent: feed.ready\ndata: {\"after\":\"%s\"}\n\n",
	    pos, pos);
	return stream_open(req, &feed_kind, key, after, ready, 0);
}
