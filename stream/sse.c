/* sse.c: what every event stream shares: its frames, the caps it counts against, and
 * how it opens (head, replay of what the client missed, then live events). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stream/stream.h"
#include "stream/sseframe.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/cursor.h"
#include "core/err.h"
#include "fcgi-app/app.h"
#include "fcgi-app/request.h"
#include "fcgi-app/response.h"


/* An event's frame (stream/sseframe.c): its position is its id.  The caller frees it. */
static char *
frame(const struct hub_event *ev, size_t *len)
{
	char id[CURSOR_MAX];

	cursor_format(&ev->pos, id);
	return sse_frame(id, ev->type, ev->data, len);
}

int
sse_event(struct sconn *c, const struct hub_event *ev)
{
	size_t	 len;
	char	*f = frame(ev, &len);
	int	 rc = sconn_send(c, f, len);

	free(f);
	if (rc < 0)
		return -1;
	srv->m.events_sent++;
	return sconn_flush(c);
}

/* ------------------------------------------------------------ the per-user cap */

struct user {
	SLIST_ENTRY(user)	 chain;		/* in its bucket */
	char			 who[48];
	int			 n;
};

#define USER_BUCKETS 4096
static SLIST_HEAD(user_chain, user)	users[USER_BUCKETS];	/* zero: all empty */

static unsigned
user_hash(const char *s)
{
	return (unsigned)(fnv1a(s) % USER_BUCKETS);
}

static struct user *
user_find(const char *who)
{
	struct user *u;

	SLIST_FOREACH(u, &users[user_hash(who)], chain)
		if (strcmp(u->who, who) == 0)
			return u;
	return NULL;
}

/* Takes a place for c's caller: 0, or -1 when the caller has max_per_user already. */
static int
user_take(struct sconn *c, const struct principal *p)
{
	struct user *u;

	if (p->kind == AUTH_KEY)
		snprintf(c->who, sizeof(c->who), "k%lld", (long long)p->key_id);
	else if (p->user_id != 0)
		snprintf(c->who, sizeof(c->who), "u%lld", (long long)p->user_id);
	else
		snprintf(c->who, sizeof(c->who), "t%.40s", p->subject);
	if ((u = user_find(c->who)) == NULL) {
		u = sb_calloc(1, sizeof(*u));
		snprintf(u->who, sizeof(u->who), "%s", c->who);
		SLIST_INSERT_HEAD(&users[user_hash(c->who)], u, chain);
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
	struct user *u;

	c->counted = 0;
	if ((u = user_find(c->who)) == NULL)
		return;
	if (--u->n == 0) {
		SLIST_REMOVE(&users[user_hash(c->who)], u, user, chain);
		free(u);
	}
}

/* ------------------------------------------------------------ probes */

/* A browser that left holds its stream, and its place in the caller's cap, until the web
 * server notices, which Caddy 2.6 does only after three or four writes to it: with a
 * 15 s heartbeat that is a minute.  A caller refused at the cap gets its streams
 * probed at once: PROBES comments PROBE_GAP_MS apart, each its own write by the web
 * server; those of clients that left are closed and give their places back before the
 * caller retries (Retry-After), while live clients ignore four comment lines. */
#define PROBES	4

static void
probe_user(const char *who)
{
	struct sconn *c;

	srv->m.probes++;
	LIST_FOREACH(c, &srv->conns, link)
		if (c->state == SC_STREAMING && c->counted && strcmp(c->who, who) == 0) {
			if (c->probes == 0)
				srv->nprobing++;
			c->probes = PROBES;
			c->next_probe_us = 0;
		}
}

void
probe_tick(int64_t now)
{
	struct sconn *c, *next;

	for (c = LIST_FIRST(&srv->conns); c != NULL && srv->nprobing > 0; c = next) {
		next = LIST_NEXT(c, link);
		if (c->probes == 0 || c->state != SC_STREAMING || now < c->next_probe_us)
			continue;
		if (--c->probes == 0)
			srv->nprobing--;
		c->next_probe_us = now + PROBE_GAP_MS * 1000;
		(void)sconn_comment(c, ": probe\n\n");
	}
}

enum sb_err
stream_hold(struct sb_req *req, struct sconn *c)
{
	if (srv->stopping || srv->nstreams >= srv->app.cfg.stream.max_streams) {
		resp_header(req, "Retry-After", "%d", 1 + srv->app.cfg.stream.retry_ms / 1000);
		return req_fail(req, SB_ERR_UNAVAILABLE, "too-many-streams",
		    "this stream responder holds as many streams as it may; try again shortly");
	}
	if (user_take(c, &req->who) < 0) {
		probe_user(c->who);
		resp_header(req, "Retry-After", "%d", 1 + srv->app.cfg.stream.retry_ms / 1000);
		return req_fail(req, SB_ERR_RATE_LIMITED, "too-many-streams", arena_printf(
		    req->arena, "at most %d open streams and long polls per user or key; "
		    "close one first", srv->app.cfg.stream.max_per_user));
	}
	recheck_hold(c, req);
	return SB_OK;
}

/* ------------------------------------------------------------ opening a stream */

struct replay {
	struct sb_req			*req;
	const struct topic_kind		*kind;
	struct sb_cursor		 last;
	int				 rows;
	int				 ended;		/* the topic's last event was sent */
	size_t				 bytes;
};

static void
replay_event(void *arg, const struct hub_event *ev)
{
	struct replay	*r = arg;
	size_t		 len;
	char		*f;

	r->rows++;
	if (r->ended)
		return;
	f = frame(ev, &len);
	resp_write(r->req, f, len);
	free(f);
	r->bytes += len;
	r->last = ev->pos;
	srv->m.events_sent++;
	if (r->kind->ends != NULL && r->kind->ends(ev))
		r->ended = 1;
}

enum sb_err
stream_open(struct sb_req *req, const struct topic_kind *kind, const char *key,
    const struct sb_cursor *after, const char *preamble, int finished)
{
	enum sb_err	 err;

	if ((err = stream_hold(req, srv->current)) != SB_OK)
		return err;
	return stream_begin(req, kind, key, after, preamble, finished, NULL, NULL);
}

enum sb_err
stream_begin(struct sb_req *req, const struct topic_kind *kind, const char *key,
    const struct sb_cursor *after, const char *preamble, int finished,
    int (*first)(void *, hub_event_fn, void *), void *first_arg)
{
	struct sconn	*c = srv->current;
	struct replay	 r;
	char		 retry[SSE_RETRY_MAX];
	const char	*keys[1] = { key };
	struct sb_cursor from[1];

	resp_header(req, "Cache-Control", "no-cache");
	resp_stream_begin(req, "text/event-stream");
	if (strcmp(req->method, "HEAD") == 0) {
		user_release(c);
		return SB_OK;		/* the head alone */
	}
	resp_write(req, retry, sse_retry(retry, srv->app.cfg.stream.retry_ms));
	if (preamble != NULL)
		resp_write(req, preamble, strlen(preamble));
	memset(&r, 0, sizeof(r));
	r.req = req;
	r.kind = kind;
	r.last = *after;
	/* What the client missed, page by page; a log longer than one client buffer is
	 * sent in parts: the stream ends and the client comes back for the rest. */
	do {
		r.rows = 0;
		from[0] = r.last;
		if (first != NULL)
			first(first_arg, replay_event, &r);	/* read with the open */
		else if (kind->read(keys, from, 1, REPLAY_PAGE, replay_event, &r) < 0) {
			user_release(c);
			return SB_ERR_UNAVAILABLE;
		}
		first = NULL;
	} while (!r.ended && r.rows == REPLAY_PAGE &&
	    r.bytes < (size_t)srv->app.cfg.stream.client_buffer);
	srv->m.streams_opened++;
	/* A topic that had ended when this began has all its events written: a client
	 * past its last event (resuming after it) gets nothing more. */
	if (r.ended || r.rows == REPLAY_PAGE || finished) {
		user_release(c);
		return SB_OK;		/* finished: ended by the dispatcher */
	}
	c->state = SC_STREAMING;
	srv->nstreams++;
	c->cursor = r.last;
	c->next_beat_us = clock_mono_us() + (int64_t)srv->app.cfg.stream.heartbeat * 1000000;
	c->kind = kind;
	if (key != c->key)		/* an open that waited has it there already */
		snprintf(c->key, sizeof(c->key), "%s", key);
	c->subscribe = 1;
	return SB_OK;
}
