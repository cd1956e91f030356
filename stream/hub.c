/* hub.c: which connections watch which run; one read per run per wake-up, fanned out from memory. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "stream.h"

#define FETCH_LIMIT	1000	/* events per run per read; more: read again */

/* A run somebody watches.  last_seq: the last event read for it and fanned out. */
struct topic {
	struct topic	*hnext;
	char		 id[40];
	int64_t		 last_seq;
	struct sconn	*subs;
	int		 nsubs;
	int		 dirty;
};

uint64_t
hub_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct topic *
topic_find(const char *id)
{
	struct topic *t;

	if (srv->captopics == 0)
		return NULL;
	for (t = srv->topics[hub_hash(id) & (srv->captopics - 1)]; t != NULL; t = t->hnext)
		if (strcmp(t->id, id) == 0)
			return t;
	return NULL;
}

static void
topics_grow(void)
{
	struct topic	**old = srv->topics, *t, *next;
	size_t		  oldcap = srv->captopics, i, b;

	srv->captopics = oldcap ? oldcap * 2 : 1024;
	srv->topics = sb_calloc(srv->captopics, sizeof(*srv->topics));
	for (i = 0; i < oldcap; i++)
		for (t = old[i]; t != NULL; t = next) {
			next = t->hnext;
			b = hub_hash(t->id) & (srv->captopics - 1);
			t->hnext = srv->topics[b];
			srv->topics[b] = t;
		}
	free(old);
}

static void
topic_remove(struct topic *t)
{
	struct topic **pp = &srv->topics[hub_hash(t->id) & (srv->captopics - 1)];

	while (*pp != t)
		pp = &(*pp)->hnext;
	*pp = t->hnext;
	srv->ntopics--;
	free(t);
}

/* ------------------------------------------------------------ reading events */

/* Reads the events after each after[i] of runs ids[i] (n of them), at most limit
 * each, in one statement: calls fn for each row.  -1 if the database failed. */
int
hub_read(const char **ids, const int64_t *after, size_t n, int limit,
    void (*fn)(void *arg, PGresult *res, int row), void *arg)
{
	static struct db_stmt	 st = { "stream_events",
	    "SELECT run_id, seq, type, data, attempt, created_at "
	    "FROM stream_events($1::uuid[], $2::integer[], $3)", 3, 0 };
	char			*a, *b, lim[16];
	const char		*p[3];
	size_t			 i, alen = 0, blen = 0, acap = n * 40 + 4, bcap = n * 24 + 4;
	PGresult		*res;
	enum sb_err		 err;
	int			 r;

	if (n == 0)
		return 0;
	if (db_ensure(&srv->app.db) != SB_OK)
		return -1;
	a = sb_malloc(acap);
	b = sb_malloc(bcap);
	a[alen++] = '{';
	b[blen++] = '{';
	for (i = 0; i < n; i++) {
		alen += (size_t)snprintf(a + alen, acap - alen, "%s%s", i ? "," : "", ids[i]);
		blen += (size_t)snprintf(b + blen, bcap - blen, "%s%lld", i ? "," : "",
		    (long long)after[i]);
	}
	snprintf(a + alen, acap - alen, "}");
	snprintf(b + blen, bcap - blen, "}");
	snprintf(lim, sizeof(lim), "%d", limit);
	p[0] = a;
	p[1] = b;
	p[2] = lim;
	res = db_exec_stmt(&srv->app.db, &st, p, &err);
	free(a);
	free(b);
	if (res == NULL)
		return -1;
	srv->m.fetches++;
	for (r = 0; r < PQntuples(res); r++)
		fn(arg, res, r);
	PQclear(res);
	return 0;
}

/* Long polls that got events in the read under way: answered once it is done. */
static struct sconn	*ready;

/* Gives one event to one connection: a stream frame, or an item of a long poll. */
static void
deliver(struct sconn *c, PGresult *res, int row)
{
	long long	 seq = atoll(PQgetvalue(res, row, 1));
	const char	*type = PQgetvalue(res, row, 2);

	if (seq <= c->cursor)
		return;
	if (c->state == SC_WAITING) {
		if (c->items == NULL) {
			c->items = json_array();
			c->ready_next = ready;
			ready = c;
		}
		if (json_array_size(c->items) < (size_t)c->limit) {
			json_array_append_new(c->items, json_pack("{s:I, s:s, s:o, s:i, s:s}",
			    "seq", (json_int_t)seq, "type", type,
			    "data", json_loads(PQgetvalue(res, row, 3), 0, NULL),
			    "attempt", atoi(PQgetvalue(res, row, 4)),
			    "created_at", PQgetvalue(res, row, 5)));
			c->cursor = seq;
		}
		return;
	}
	if (c->state != SC_STREAMING || sse_event(c, seq, type, PQgetvalue(res, row, 3)) < 0)
		return;
	c->cursor = seq;
	if (is_terminal(type))
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
	struct topic	*t;		/* the topic of the rows being read */
	int		 rows;		/* rows of that topic */
};

static void
on_row(void *arg, PGresult *res, int row)
{
	struct fanout	*f = arg;
	const char	*id = PQgetvalue(res, row, 0);
	long long	 seq = atoll(PQgetvalue(res, row, 1));
	struct topic	*t;
	struct sconn	*c, *next;

	if (f->t == NULL || strcmp(f->t->id, id) != 0) {
		f->t = topic_find(id);
		f->rows = 0;
	}
	if ((t = f->t) == NULL)
		return;
	if (++f->rows >= FETCH_LIMIT)
		t->dirty = srv->dirty = 1;	/* more to read */
	if (seq > t->last_seq)
		t->last_seq = seq;
	for (c = t->subs; c != NULL; c = next) {
		next = c->tnext;
		deliver(c, res, row);
	}
}

static void
all_dirty(void)
{
	struct topic	*t;
	size_t		 i;

	for (i = 0; i < srv->captopics; i++)
		for (t = srv->topics[i]; t != NULL; t = t->hnext)
			t->dirty = srv->dirty = 1;
}

void
hub_fetch(void)
{
	const char	**ids;
	int64_t		 *after;
	size_t		  n = 0, i;
	struct topic	 *t, *next;
	struct fanout	  f = { NULL, 0 };

	if (!srv->dirty)
		return;
	srv->dirty = 0;
	ids = sb_malloc((srv->ntopics + 1) * sizeof(*ids));
	after = sb_malloc((srv->ntopics + 1) * sizeof(*after));
	for (i = 0; i < srv->captopics; i++)
		for (t = srv->topics[i]; t != NULL; t = t->hnext)
			if (t->dirty) {
				t->dirty = 0;
				ids[n] = t->id;
				after[n++] = t->last_seq;
			}
	if (hub_read(ids, after, n, FETCH_LIMIT, on_row, &f) < 0) {
		/* Read again at the next sweep or notification, not at once (srv->dirty
		 * stays clear): the database is down, and the loop must not spin. */
		for (i = 0; i < srv->captopics; i++)
			for (t = srv->topics[i]; t != NULL; t = t->hnext)
				t->dirty = 1;
	}
	free(ids);
	free(after);
	answer_ready();
	/* Topics whose watchers all left (a terminal event ends them) go. */
	for (i = 0; i < srv->captopics; i++)
		for (t = srv->topics[i]; t != NULL; t = next) {
			next = t->hnext;
			if (t->nsubs == 0)
				topic_remove(t);
		}
}

/* ------------------------------------------------------------ watching */

/* A subscriber behind its topic (the topic read further than its first page): the
 * difference is read for it alone. */
static void
catch_up_row(void *arg, PGresult *res, int row)
{
	struct sconn *c = arg;

	if (c->topic == NULL || atoll(PQgetvalue(res, row, 1)) > c->topic->last_seq)
		return;		/* the topic's next read brings it */
	deliver(c, res, row);
}

void
hub_subscribe(struct sconn *c, const char *run_id)
{
	struct topic	*t;
	size_t		 b;
	const char	*ids[1];
	int64_t		 after[1];

	if ((t = topic_find(run_id)) == NULL) {
		if (srv->ntopics + 1 > srv->captopics * 3 / 4)
			topics_grow();
		t = sb_calloc(1, sizeof(*t));
		snprintf(t->id, sizeof(t->id), "%s", run_id);
		t->last_seq = c->cursor;
		b = hub_hash(t->id) & (srv->captopics - 1);
		t->hnext = srv->topics[b];
		srv->topics[b] = t;
		srv->ntopics++;
	}
	c->topic = t;
	c->tprev = NULL;
	c->tnext = t->subs;
	if (t->subs != NULL)
		t->subs->tprev = c;
	t->subs = c;
	t->nsubs++;
	/* Events written between the subscriber's first read and now are read at the
	 * next wake-up, which every write is followed by; this one read covers a topic
	 * that already moved past the subscriber. */
	if (c->cursor < t->last_seq) {
		ids[0] = t->id;
		after[0] = c->cursor;
		(void)hub_read(ids, after, 1, FETCH_LIMIT, catch_up_row, c);
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
	if (c->tprev != NULL)
		c->tprev->tnext = c->tnext;
	else
		t->subs = c->tnext;
	if (c->tnext != NULL)
		c->tnext->tprev = c->tprev;
	c->tnext = c->tprev = NULL;
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
	while (*p != '\0') {
		sp = strchr(p, ' ');
		n = sp != NULL ? (size_t)(sp - p) : strlen(p);
		if (n > 0 && n < sizeof(id)) {
			memcpy(id, p, n);
			id[n] = '\0';
			if ((t = topic_find(id)) != NULL)
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
	(void)listener_read(&srv->listener, on_notify, NULL);
}

void
hub_free(void)
{
	struct topic	*t, *next;
	size_t		 i;

	for (i = 0; i < srv->captopics; i++)
		for (t = srv->topics[i]; t != NULL; t = next) {
			next = t->hnext;
			free(t);
		}
	free(srv->topics);
	srv->topics = NULL;
	srv->captopics = srv->ntopics = 0;
}

void
hub_sweep(int64_t now)
{
	if (now < srv->next_sweep_us)
		return;
	srv->next_sweep_us = now + (int64_t)srv->app.cfg.stream.sweep_ms * 1000;
	all_dirty();
}
