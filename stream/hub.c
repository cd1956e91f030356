/* hub.c: which connections watch which topic (a run, an org's feed); one read per
 * kind of topic per wake-up, whatever the number of topics, fanned out from memory. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "stream/stream.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/cursor.h"
#include "core/db.h"
#include "core/err.h"
#include "core/listener.h"
#include "core/metrics.h"
#include "fcgi-app/app.h"

#define FETCH_LIMIT	1000	/* events per topic per read; more: read again */

/* The kinds of topic, in the order a wake-up reads them. */
static const struct topic_kind *const kinds[] = { &run_kind, &feed_kind, &thread_kind };
#define NKINDS	(sizeof(kinds) / sizeof(kinds[0]))

/* ------------------------------------------------------------ reading events */

PGresult *
hub_query(struct db_stmt *st, const char **keys, const struct sb_cursor *after, size_t n,
    int limit, int with_xid)
{
	struct db_array	 k = { 0 }, x = { 0 }, m = { 0 };
	char		 lim[16];
	const char	*p[4];
	int		 np = 0;
	size_t		 i;
	PGresult	*res;
	enum sb_err	 err;
	int64_t		 t0;

	if (db_ensure(&srv->app.db) != SB_OK)
		return NULL;
	for (i = 0; i < n; i++) {
		db_array_add(&k, "%s", keys[i]);
		if (with_xid)
			db_array_add(&x, "%llu", (unsigned long long)after[i].xid);
		db_array_add(&m, "%lld", (long long)after[i].n);
	}
	snprintf(lim, sizeof(lim), "%d", limit);
	p[np++] = db_array_text(&k);
	if (with_xid)
		p[np++] = db_array_text(&x);
	p[np++] = db_array_text(&m);
	p[np++] = lim;
	t0 = clock_mono_us();
	res = db_exec_stmt(&srv->app.db, st, p, &err);
	hist_observe(&srv->m.read_time, clock_mono_us() - t0);
	db_array_free(&k);
	db_array_free(&x);
	db_array_free(&m);
	if (res != NULL)
		srv->m.fetches++;
	return res;
}

int
hub_read_positions(struct db_stmt *st, const char **keys, const struct sb_cursor *after,
    size_t n, int limit, hub_event_fn fn, void *arg)
{
	PGresult		*res;
	struct hub_event	 ev;
	int			 r;

	if ((res = hub_query(st, keys, after, n, limit, 1)) == NULL)
		return -1;
	memset(&ev, 0, sizeof(ev));
	for (r = 0; r < PQntuples(res); r++) {
		ev.key = PQgetvalue(res, r, 0);
		ev.pos.xid = strtoull(PQgetvalue(res, r, 1), NULL, 10);
		ev.pos.n = atoll(PQgetvalue(res, r, 2));
		ev.type = PQgetvalue(res, r, 3);
		ev.data = PQgetvalue(res, r, 4);
		fn(arg, &ev);
	}
	PQclear(res);
	return 0;
}

/* Long polls that got events in the read under way: answered once it is done. */
static struct sconn	*ready;

/* Gives one event to one connection: a stream frame, or an item of a long poll. */
static void
deliver(struct sconn *c, const struct hub_event *ev)
{
	if (cursor_cmp(&ev->pos, &c->cursor) <= 0)
		return;
	if (c->state == SC_WAITING) {
		if (c->items == NULL) {
			c->items = json_array();
			c->ready_next = ready;
			ready = c;
		}
		if (json_array_size(c->items) < (size_t)c->limit) {
			json_array_append_new(c->items, c->kind->item(ev));
			c->cursor = ev->pos;
		}
		return;
	}
	if (c->state != SC_STREAMING || sse_event(c, ev) < 0)
		return;
	c->cursor = ev->pos;
	if (c->kind->ends != NULL && c->kind->ends(ev))
		sconn_end(c);
}

static void
answer_ready(void)
{
	struct sconn	*c;
	json_t		*items;

	while ((c = ready) != NULL) {
		ready = c->ready_next;
		c->ready_next = NULL;
		items = c->items;
		c->items = NULL;
		longpoll_answer(c, items);
	}
}

struct fanout {
	const struct topic_kind	*kind;		/* of the topics being read */
	struct topic		*t;		/* the topic of the rows being read */
	int			 rows;		/* rows of that topic */
};

static void
on_event(void *arg, const struct hub_event *ev)
{
	struct fanout	*f = arg;
	struct topic	*t;
	struct sconn	*c, *next;

	if (f->t == NULL || strcmp(f->t->id, ev->key) != 0) {
		f->t = topics_find(&srv->topics, f->kind, ev->key);
		f->rows = 0;
	}
	if ((t = f->t) == NULL)
		return;
	if (++f->rows >= FETCH_LIMIT)
		t->dirty = srv->dirty = 1;	/* more to read */
	if (cursor_cmp(&ev->pos, &t->last) > 0)
		t->last = ev->pos;
	for (c = LIST_FIRST(&t->subs); c != NULL; c = next) {
		next = LIST_NEXT(c, tlink);
		deliver(c, ev);
	}
}

/* Every topic is read at the next wake-up. */
static void
all_dirty(void)
{
	struct topic	*t;
	size_t		 i;

	TOPICS_FOREACH(t, &srv->topics, i)
		t->dirty = srv->dirty = 1;
}

/* Reads the topics of one kind among those due; -1 if the database failed. */
static int
fetch_kind(const struct topic_kind *kind, struct topic **due, size_t ndue)
{
	const char		**ids;
	struct sb_cursor	 *after;
	size_t			  n = 0, i;
	struct fanout		  f = { kind, NULL, 0 };
	int			  rc;

	ids = sb_malloc((ndue + 1) * sizeof(*ids));
	after = sb_malloc((ndue + 1) * sizeof(*after));
	for (i = 0; i < ndue; i++)
		if (due[i]->kind == kind) {
			ids[n] = due[i]->id;
			after[n++] = due[i]->last;
		}
	rc = n > 0 ? kind->read(ids, after, n, FETCH_LIMIT, on_event, &f) : 0;
	free(ids);
	free(after);
	return rc;
}

void
hub_fetch(void)
{
	struct topic	**due, *t;
	size_t		  ndue = 0, i, k;
	int		  failed = 0;

	if (!srv->dirty)
		return;
	srv->dirty = 0;
	srv->fetched_us = clock_mono_us();
	/* The topics to read, in one pass: those marked, and every topic of a polled
	 * kind when its poll is due. */
	due = sb_malloc((srv->topics.n + 1) * sizeof(*due));
	TOPICS_FOREACH(t, &srv->topics, i)
		if (t->dirty || (t->kind->polled && srv->poll_due)) {
			t->dirty = 0;
			due[ndue++] = t;
		}
	srv->poll_due = 0;
	for (k = 0; k < NKINDS; k++)
		if (fetch_kind(kinds[k], due, ndue) < 0)
			failed = 1;
	free(due);
	if (failed) {
		/* Read again at the next sweep or notification, not at once (srv->dirty
		 * stays clear): the database is down, and the loop must not spin. */
		all_dirty();
		srv->dirty = 0;
	}
	answer_ready();
	if (srv->notified_us != 0 && !failed) {
		hist_observe(&srv->m.notify_delay, clock_mono_us() - srv->notified_us);
		srv->notified_us = 0;
	}
	/* Topics whose watchers all left (a terminal event ends them) go. */
	(void)topics_prune(&srv->topics);
}

/* ------------------------------------------------------------ watching */

/* A subscriber behind its topic (the topic read further than its first page): the
 * difference is read for it alone. */
static void
catch_up_event(void *arg, const struct hub_event *ev)
{
	struct sconn *c = arg;

	if (c->topic == NULL || cursor_cmp(&ev->pos, &c->topic->last) > 0)
		return;		/* the topic's next read brings it */
	deliver(c, ev);
}

void
hub_subscribe(struct sconn *c)
{
	struct topic		*t;
	const char		*ids[1];
	struct sb_cursor	 after[1];

	if ((t = topics_find(&srv->topics, c->kind, c->key)) == NULL) {
		t = topics_add(&srv->topics, c->kind, c->key);
		t->last = c->cursor;
	}
	c->topic = t;
	LIST_INSERT_HEAD(&t->subs, c, tlink);
	t->nsubs++;
	/* Events written between the subscriber's first read and now are read at the
	 * next wake-up, which every write is followed by; this one read covers a topic
	 * that already moved past the subscriber. */
	if (cursor_cmp(&c->cursor, &t->last) < 0) {
		ids[0] = t->id;
		after[0] = c->cursor;
		(void)t->kind->read(ids, after, 1, FETCH_LIMIT, catch_up_event, c);
		answer_ready();
	}
	t->dirty = srv->dirty = 1;
}

void
hub_unsubscribe(struct sconn *c)
{
	struct topic *t = c->topic;

	if (t == NULL)
		return;
	LIST_REMOVE(c, tlink);
	c->topic = NULL;
	t->nsubs--;
	/* Removed at the end of the next read (never while a read walks it). */
	if (t->nsubs == 0)
		t->dirty = srv->dirty = 1;
}

/* ------------------------------------------------------------ notifications */

static void
on_notify(void *arg, const char *payload)
{
	char		 id[40];
	const char	*p = payload, *sp;
	size_t		 n;
	struct topic	*t;

	(void)arg;
	srv->m.notifications++;
	while (*p != '\0') {
		sp = strchr(p, ' ');
		n = sp != NULL ? (size_t)(sp - p) : strlen(p);
		if (n > 0 && n < sizeof(id)) {
			memcpy(id, p, n);
			id[n] = '\0';
			/* A run's id, or a thread's (its runs have new events). */
			if ((t = topics_find(&srv->topics, &run_kind, id)) != NULL ||
			    (t = topics_find(&srv->topics, &thread_kind, id)) != NULL)
				t->dirty = srv->dirty = 1;
		}
		p += n;
		while (*p == ' ')
			p++;
	}
}


void
hub_listen(void)
{
	/* Listening again after an outage: whatever was written meanwhile is read now. */
	if (listener_ensure(&srv->listener))
		all_dirty();
}

int
hub_listen_fd(void)
{
	return listener_fd(&srv->listener);
}

void
hub_notified(void)
{
	/* Runs moved: the polled kinds are read too, sooner than their next poll. */
	int64_t	 now = clock_mono_us();

	if (listener_read(&srv->listener, on_notify, NULL) > 0) {
		srv->poll_due = srv->dirty = 1;
		if (srv->notified_us == 0)
			srv->notified_us = now;
	}
}

void
hub_catch_up(void)
{
	int64_t	 now = clock_mono_us();

	if (now - srv->fetched_us < CATCH_UP_MS * 1000)
		return;
	srv->fetched_us = now;		/* at most once a gap, announced or not */
	hub_notified();
	hub_fetch();
}

void
hub_free(void)
{
	topics_free(&srv->topics);
}

/* Every topic now and then (a lost notification costs at most sweep_ms), and the
 * polled kinds more often. */
void
hub_tick(int64_t now)
{
	if (now >= srv->next_sweep_us) {
		srv->next_sweep_us = now + (int64_t)srv->app.cfg.stream.sweep_ms * 1000;
		all_dirty();
	}
	if (now >= srv->next_poll_us) {
		srv->next_poll_us = now + (int64_t)srv->app.cfg.stream.feed_ms * 1000;
		srv->poll_due = srv->dirty = 1;
	}
}
