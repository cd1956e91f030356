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
#include "core/log.h"
#include "fcgi-app/access.h"
#include "fcgi-app/cors.h"
#include "fcgi-app/request.h"
#include "fcgi-app/response.h"

/* A run event from row r of res whose seq, type, data, attempt and created_at are
 * the columns from col on. */
static void
row_event(const PGresult *res, int r, int col, struct hub_event *ev)
{
	ev->pos.n = atoll(PQgetvalue(res, r, col));
	ev->type = PQgetvalue(res, r, col + 1);
	ev->data = PQgetvalue(res, r, col + 2);
	ev->attempt = atoi(PQgetvalue(res, r, col + 3));
	ev->created_at = PQgetvalue(res, r, col + 4);
}

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
		row_event(res, r, 1, &ev);
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

/* An open's connection and its statement's result. */
struct opened {
	struct sconn	*c;
	const PGresult	*res;
};

/* The open's rows (sql/021) as the replay's first page: a row without seq is none. */
static int
open_rows(void *arg, hub_event_fn fn, void *fnarg)
{
	const PGresult		*res = ((struct opened *)arg)->res;
	struct hub_event	 ev;
	int			 r;

	memset(&ev, 0, sizeof(ev));
	for (r = 0; r < PQntuples(res); r++) {
		if (PQgetisnull(res, r, 2))
			continue;
		ev.key = "";
		row_event(res, r, 2, &ev);
		fn(fnarg, &ev);
	}
	return 0;
}

static void	run_opened(void *, const PGresult *, const char *);

#define OPEN_SQL "SELECT finished, last_seq, seq, type, data, attempt, created_at " \
	"FROM stream_run_open($1, $2::uuid, $3, $4)"

enum sb_err
run_stream(struct sb_req *req, const char *run_id, int64_t after)
{
	struct sconn	*c = srv->current;
	char		 org[24], a[24], lim[16], err[256];
	const char	*p[4] = { org, run_id, a, lim };
	enum sb_err	 e;

	if ((e = stream_hold(req, c)) != SB_OK)
		return e;
	snprintf(org, sizeof(org), "%lld", (long long)req->who.org_id);
	snprintf(a, sizeof(a), "%lld", (long long)after);
	snprintf(lim, sizeof(lim), "%d", REPLAY_PAGE);
	if ((c->opening = dbq_send(srv->opens, OPEN_SQL, 4, p, run_opened, c, err,
	    sizeof(err))) == NULL) {
		user_release(c);
		log_warn("stream open not sent", "{s:s}", "error", err);
		return req_fail(req, SB_ERR_UNAVAILABLE, "database-unavailable",
		    "the database did not answer; try again shortly");
	}
	req->deferred = 1;
	req->status = 200;
	c->state = SC_OPENING;
	srv->nstreams++;
	c->kind = &run_kind;
	c->cursor.xid = 0;
	c->cursor.n = after;
	snprintf(c->key, sizeof(c->key), "%s", run_id);
	return SB_OK;
}

/* The answer to an open, once its statement is done: built as the dispatcher builds
 * one (the request's CORS headers again), on the connection's own request. */
static void
opened_fill(struct sb_req *req, void *arg)
{
	struct opened	*o = arg;
	struct sconn	*c = o->c;
	const PGresult	*res = o->res;
	enum sb_err	 err;
	int		 finished;

	(void)cors_apply(req);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		user_release(c);
		resp_header(req, "Retry-After", "%d", srv->app.cfg.database.retry_after);
		resp_error(req, 503, "database-unavailable",
		    "the database did not answer; try again shortly");
		return;
	}
	if (PQntuples(res) == 0) {
		user_release(c);
		resp_error(req, 404, NULL, "no such run");
		return;
	}
	/* An ended run with nothing after the caller's position: 204 is the one answer
	 * that stops an EventSource from reconnecting forever (a 200 that closes at once
	 * is a dropped connection to it). */
	finished = PQgetvalue(res, 0, 0)[0] == 't';
	if (finished && c->cursor.n >= atoll(PQgetvalue(res, 0, 1))) {
		user_release(c);
		resp_send(req, 204, NULL, NULL, 0);
		return;
	}
	err = stream_begin(req, &run_kind, c->key, &c->cursor, NULL, finished, open_rows, o);
	if (err != SB_OK && !req->answered)
		resp_error(req, sb_err_status(err), NULL, NULL);
}

static void
run_opened(void *arg, const PGresult *res, const char *why)
{
	struct sconn	*c = arg;
	struct opened	 o = { c, res };

	c->opening = NULL;
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
		log_warn("stream open failed", "{s:s}", "error",
		    res != NULL ? PQresultErrorMessage(res) : why);
	c->state = SC_READING;		/* answered now: as if dispatched now */
	srv->nstreams--;
	srv->current = c;
	sconn_answer(c, opened_fill, &o);
	srv->current = NULL;
	if (sconn_answered(c) == 0 && srv->stopping && c->state == SC_STREAMING)
		sconn_retry_end(c);	/* opened while the process stops */
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
