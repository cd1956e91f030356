/* runs.c: the run event stream (server-sent events) and the long poll of a run's events. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "stream.h"

#define REPLAY_PAGE	500

int
is_terminal(const char *type)
{
	return strcmp(type, "run.succeeded") == 0 || strcmp(type, "run.failed") == 0 ||
	    strcmp(type, "run.cancelled") == 0;
}

/* "id: 7\nevent: message.delta\ndata: {...}\n\n": data is one line (jsonb text). */
static char *
frame(long long seq, const char *type, const char *data, size_t *len)
{
	size_t	 cap = strlen(type) + strlen(data) + 64;
	char	*f = sb_malloc(cap);

	*len = (size_t)snprintf(f, cap, "id: %lld\nevent: %s\ndata: %s\n\n", seq, type, data);
	return f;
}

int
sse_event(struct sconn *c, long long seq, const char *type, const char *data)
{
	size_t	 len;
	char	*f = frame(seq, type, data, &len);
	int	 rc = sconn_send(c, f, len);

	free(f);
	if (rc == 0) {
		srv->m.events_sent++;
		sconn_flush(c);
	}
	return rc;
}

/* ------------------------------------------------------------ the per-user cap */

struct user {
	struct user	*next;
	char		 who[48];
	int		 n;
};

#define USER_BUCKETS 4096
static struct user	*users[USER_BUCKETS];

static unsigned
user_hash(const char *s)
{
	return (unsigned)(hub_hash(s) % USER_BUCKETS);
}

/* Takes a place for c's caller: 0, or -1 when the caller has max_per_user already. */
static int
user_take(struct sconn *c, const struct principal *p)
{
	struct user **pp, *u;

	if (p->kind == AUTH_KEY)
		snprintf(c->who, sizeof(c->who), "k%lld", (long long)p->key_id);
	else if (p->user_id != 0)
		snprintf(c->who, sizeof(c->who), "u%lld", (long long)p->user_id);
	else
		snprintf(c->who, sizeof(c->who), "t%.40s", p->subject);
	for (pp = &users[user_hash(c->who)]; (u = *pp) != NULL; pp = &u->next)
		if (strcmp(u->who, c->who) == 0)
			break;
	if (u == NULL) {
		u = sb_calloc(1, sizeof(*u));
		snprintf(u->who, sizeof(u->who), "%s", c->who);
		*pp = u;
	}
	if (u->n >= srv->app.cfg.stream.max_per_user)
		return -1;
	u->n++;
	c->counted = 1;
	return 0;
}

void
user_release(struct sconn *c)
{
	struct user **pp, *u;

	for (pp = &users[user_hash(c->who)]; (u = *pp) != NULL; pp = &u->next)
		if (strcmp(u->who, c->who) == 0)
			break;
	c->counted = 0;
	if (u == NULL)
		return;
	if (--u->n == 0) {
		*pp = u->next;
		free(u);
	}
}

/* The caps every held request counts against: the process' and the caller's. */
static enum sb_err
hold(struct sb_req *req, struct sconn *c)
{
	if (srv->stopping || srv->nstreams >= srv->app.cfg.stream.max_streams) {
		resp_header(req, "Retry-After", "%d", 1 + srv->app.cfg.stream.retry_ms / 1000);
		return req_fail(req, SB_ERR_UNAVAILABLE, "too-many-streams",
		    "this stream responder holds as many streams as it may; try again shortly");
	}
	if (user_take(c, &req->who) < 0) {
		resp_header(req, "Retry-After", "%d", 1 + srv->app.cfg.stream.retry_ms / 1000);
		return req_fail(req, SB_ERR_RATE_LIMITED, "too-many-streams", arena_printf(
		    req->arena, "at most %d open streams and long polls per user or key; "
		    "close one first", srv->app.cfg.stream.max_per_user));
	}
	return SB_OK;
}

/* ------------------------------------------------------------ the stream */

struct replay {
	struct sb_req	*req;
	long long	 last;
	int		 rows;
	int		 ended;		/* the terminal event was sent */
	size_t		 bytes;
};

static void
replay_row(void *arg, PGresult *res, int row)
{
	struct replay	*r = arg;
	long long	 seq = atoll(PQgetvalue(res, row, 1));
	const char	*type = PQgetvalue(res, row, 2);
	size_t		 len;
	char		*f;

	r->rows++;
	if (r->ended)
		return;
	f = frame(seq, type, PQgetvalue(res, row, 3), &len);
	resp_write(r->req, f, len);
	free(f);
	r->bytes += len;
	r->last = seq;
	srv->m.events_sent++;
	if (is_terminal(type))
		r->ended = 1;
}

static enum sb_err
run_stream(struct sb_req *req, const char *run_id, int64_t after, int finished)
{
	struct sconn	*c = srv->current;
	struct replay	 r;
	char		 retry[48];
	const char	*ids[1] = { run_id };
	int64_t		 from[1];
	enum sb_err	 err;
	int		 n;

	if ((err = hold(req, c)) != SB_OK)
		return err;
	resp_header(req, "Cache-Control", "no-cache");
	resp_stream_begin(req, "text/event-stream");
	if (strcmp(req->method, "HEAD") == 0) {
		user_release(c);
		return SB_OK;		/* the head alone */
	}
	n = snprintf(retry, sizeof(retry), "retry: %d\n\n", srv->app.cfg.stream.retry_ms);
	resp_write(req, retry, (size_t)n);
	memset(&r, 0, sizeof(r));
	r.req = req;
	r.last = after;
	/* What the client missed, page by page; a log longer than one client buffer is
	 * sent in parts: the stream ends and the client comes back for the rest. */
	do {
		r.rows = 0;
		from[0] = r.last;
		if (hub_read(ids, from, 1, REPLAY_PAGE, replay_row, &r) < 0) {
			user_release(c);
			return SB_ERR_UNAVAILABLE;
		}
	} while (!r.ended && r.rows == REPLAY_PAGE &&
	    r.bytes < (size_t)srv->app.cfg.stream.client_buffer);
	srv->m.streams_opened++;
	/* A run that had ended when this began has all its events written: a client past
	 * its terminal event (resuming after it) gets nothing more. */
	if (r.ended || r.rows == REPLAY_PAGE || finished) {
		user_release(c);
		return SB_OK;		/* finished: ended by the dispatcher */
	}
	c->state = SC_STREAMING;
	srv->nstreams++;
	c->cursor = r.last;
	c->next_beat_us = clock_mono_us() + (int64_t)srv->app.cfg.stream.heartbeat * 1000000;
	snprintf(c->run_id, sizeof(c->run_id), "%s", run_id);
	c->subscribe = 1;
	return SB_OK;
}

/* ------------------------------------------------------------ the long poll */

static enum sb_err
run_wait(struct sb_req *req, const char *run_id, int64_t after, int wait_s, int limit)
{
	struct sconn	*c = srv->current;
	enum sb_err	 err;

	if ((err = hold(req, c)) != SB_OK)
		return err;
	req->deferred = 1;
	req->status = 200;
	c->state = SC_WAITING;
	srv->nstreams++;
	srv->m.longpolls++;
	c->cursor = after;
	c->limit = limit;
	c->deadline_us = clock_mono_us() + (int64_t)wait_s * 1000000;
	snprintf(c->run_id, sizeof(c->run_id), "%s", run_id);
	c->subscribe = 1;
	return SB_OK;
}

static void
longpoll_fill(struct sb_req *req, void *arg)
{
	struct sconn *c = arg;

	(void)cors_apply(req);		/* as the dispatcher did for the request's head */
	resp_json(req, 200, json_pack("{s:o, s:I}", "items", c->items, "next_after",
	    (json_int_t)c->cursor));
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

const struct stream_ops stream_ops = { run_stream, run_wait };
