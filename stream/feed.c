/* feed.c: the org's live feed (GET /api/v1/stream): each run, and for principals with
 * inbox:read each inbox item, at its latest change, in the order of the transactions
 * that made them (sql/011_feed.sql, sql/017_inbox_feed.sql). */
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
#include "core/scope.h"
#include "fcgi-app/request.h"

static int
feed_read(const char **feeds, const struct sb_cursor *after, size_t n, int limit,
    hub_event_fn fn, void *arg)
{
	static struct db_stmt	 st = { "stream_feed",
	    "SELECT feed, xid, n, type, data "
	    "FROM stream_feed($1::text[], $2::xid8[], $3::bigint[], $4)", 4, 0 };

	return hub_read_positions(&st, feeds, after, n, limit, fn, arg);
}

/* The feed never ends; nothing notifies its changes by org, so it is polled.  Its
 * topics are an org's feed without inbox items ("ORG") and with them ("ORG/inbox"). */
const struct topic_kind feed_kind = { "feed", feed_read, NULL, NULL, 1 };

/* GET /api/v1/stream.  It starts with feed.ready, whose id is the position it starts
 * from: a client that reconnects before any run changed resumes from there.  Inbox
 * items go to callers with inbox:read alone; such a stream needs the scope while it
 * is open, so one whose credential loses it ends (recheck.c) and comes back without. */
enum sb_err
feed_stream(struct sb_req *req, int64_t org_id, const struct sb_cursor *after)
{
	char		 key[32], pos[CURSOR_MAX];
	char		*ready;
	int		 items = (req->who.scopes & SCOPE_INBOX_READ) != 0;
	enum sb_err	 err;

	snprintf(key, sizeof(key), "%lld%s", (long long)org_id, items ? "/inbox" : "");
	cursor_format(after, pos);
	ready = arena_printf(req->arena, "id: %s\nevent: feed.ready\ndata: {\"after\":\"%s\"}\n\n",
	    pos, pos);
	if ((err = stream_open(req, &feed_kind, key, after, ready, 0)) == SB_OK && items)
		srv->current->need_scope |= SCOPE_INBOX_READ;
	return err;
}
