/* runs.c: a run's events (run_events), as a server-sent event stream and as a long poll. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "stream/stream.h"
#include "core/clock.h"
#include "core/cursor.h"
#include "core/db.h"
#include "core/err.h"
#include "fcgi-app/cors.h"
#include "fcgi-app/request.h"
#include "fcgi-app/response.h"

static int
run_read(const char **ids, const struct sb_cursor *after, size_t n, int limit,
    hub_event_fn fn, void *arg)
{
	static struct db_stmt	 st = { "stream_events",
	    "SELECT run_id, seq, type, data, attempt, created_at "
	    "FROM stream_events($1::uuid[], $2::integer[], $3)", 3, 0 };
	PGresult		*res;
	struct hub_event	 ev;
	int			 r;

	if ((res = hub_query(&st, ids, after, n, limit, 0)) == NULL)
		return -1;
	memset(&ev, 0, sizeof(ev));
	for (r = 0; r < PQntuples(res); r++) {
		ev.key = PQgetvalue(res, r, 0);
		ev.pos.n = atoll(PQgetvalue(res, r, 1));
		ev.type = PQgetvalue(res, r, 2);
		ev.data = PQgetvalue(res, r, 3);
		ev.attempt = atoi(PQgetvalue(res, r, 4));
		ev.created_at = PQgetvalue(res, r, 5);
		fn(arg, &ev);
	}
	PQclear(res);
	return 0;
}

/* A run's log ends with its terminal event. */
static int
run_ends(const struct hub_event *ev)
{
	return strcmp(ev->type, "run.succeeded") == 0 || strcmp(ev->type, "run.failed") == 0 ||
	    strcmp(ev->type, "run.cancelled") == 0;
}

/* As GET /api/v1/runs/{id}/events lists it. */
static json_t *
run_item(const struct hub_event *ev)
{
	return json_pack("{s:I, s:s, s:o, s:i, s:s}", "seq", (json_int_t)ev->pos.n,
	    "type", ev->type, "data", json_loads(ev->data, 0, NULL), "attempt", ev->attempt,
	    "created_at", ev->created_at);
}

const struct topic_kind run_kind = { "run", run_read, run_ends, run_item, 0 };

/* GET /api/v1/runs/{id}/stream */
enum sb_err
run_stream(struct sb_req *req, const char *run_id, int64_t after, int finished)
{
	struct sb_cursor from = { 0, after };

	return stream_open(req, &run_kind, run_id, &from, NULL, finished);
}

/* ------------------------------------------------------------ the long poll */

enum sb_err
run_wait(struct sb_req *req, const char *run_id, int64_t after, int wait_s, int limit)
{
	struct sconn	*c = srv->current;
	enum sb_err	 err;

	if ((err = stream_hold(req, c)) != SB_OK)
		return err;
	req->deferred = 1;
	req->status = 200;
	c->state = SC_WAITING;
	srv->nstreams++;
	srv->m.longpolls++;
	c->cursor.xid = 0;
	c->cursor.n = after;
	c->limit = limit;
	c->deadline_us = clock_mono_us() + (int64_t)wait_s * 1000000;
	c->kind = &run_kind;
	snprintf(c->key, sizeof(c->key), "%s", run_id);
	c->subscribe = 1;
	return SB_OK;
}

static void
longpoll_fill(struct sb_req *req, void *arg)
{
	struct sconn	*c = arg;
	json_t		*last = json_array_get(c->items, json_array_size(c->items) - 1);
	const char	*type = json_string_value(json_object_get(last, "type"));
	struct hub_event ev = { .type = type != NULL ? type : "" };

	(void)cors_apply(req);		/* as the dispatcher did for the request's head */
	/* finished: these items end with the run's terminal event (as in h_runs_events). */
	resp_json(req, 200, json_pack("{s:o, s:I, s:b}", "items", c->items, "next_after",
	    (json_int_t)c->cursor.n, "finished", run_ends(&ev)));
	c->items = NULL;		/* stolen by the answer */
}

void
longpoll_answer(struct sconn *c, json_t *items)
{
	if (c->state != SC_WAITING) {
		json_decref(items);
		return;
	}
	json_decref(c->items);
	c->items = items;
	sconn_answer(c, longpoll_fill, c);
	sconn_end(c);
}
