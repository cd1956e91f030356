/* page_home.c: Home: the org's live feed (GET /api/v1/stream: runs as they change,
 * inbox items as runs ask people), counts by state, and the recent failures with
 * their error.  The stream starts at ?after=0 (every run once, then each change) and
 * resumes after the last position it received, so a page that comes back, or a
 * stream that was closed, misses nothing and repeats nothing. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "web/src/app.h"

#define FEED_STREAM	1
#define REOPEN_TIMER	1
#define TAG_SESSION	1	/* /api/v1/me, after the stream was refused */
#define MAX_ITEMS	2000	/* the oldest changes are forgotten past this */
#define FEED_SHOWN	25
#define FAILURES_SHOWN	5

static const char	 types[] = "feed.ready,run.queued,run.running,run.waiting,run.succeeded,"
			    "run.failed,run.cancelled,inbox.created,inbox.answered,inbox.expired,"
			    "inbox.cancelled";
static const char	*run_states[] = { "queued", "running", "waiting", "succeeded", "failed",
			    "cancelled" };

/* A run or an inbox item as the feed last showed it. */
struct item {
	char		*key;		/* "run:ID" or "inbox:ID": the list's key */
	int		 inbox;
	char		*what;		/* a run's agent; an item's question or call */
	char		*state;
	char		*error;		/* a failed run's error */
	char		*when;		/* HH:MM:SS of its last change */
	unsigned long	 seq;		/* order of the last change, newest highest */
};

static struct {
	struct item	*items;
	size_t		 n;
	unsigned long	 seq;
	char		*last_id;	/* the last position received */
	int		 open;		/* the stream is open or opening */
	int		 live;		/* and connected */
} st;

static void
item_clear(struct item *it)
{
	free(it->key);
	free(it->what);
	free(it->state);
	free(it->error);
	free(it->when);
	memset(it, 0, sizeof(*it));
}

static struct item *
item_for(const char *key)
{
	size_t	 i, oldest = 0;

	for (i = 0; i < st.n; i++)
		if (strcmp(st.items[i].key, key) == 0)
			return &st.items[i];
	if (st.items == NULL)
		st.items = sb_calloc(MAX_ITEMS, sizeof(*st.items));
	if (st.n == MAX_ITEMS) {
		for (i = 1; i < st.n; i++)
			if (st.items[i].seq < st.items[oldest].seq)
				oldest = i;
		item_clear(&st.items[oldest]);
		i = oldest;
	} else
		i = st.n++;
	app_set(&st.items[i].key, key);
	return &st.items[i];
}

static void
open_stream(struct app *app)
{
	char	*url;

	url = arena_printf(app->msg, "/api/v1/stream?after=%s",
	    st.last_id != NULL ? route_encode(app->msg, st.last_id) : "0");
	app_sse_open(app, &page_home, FEED_STREAM, url, types);
	st.open = 1;
	st.live = 0;
}

static void
enter(struct app *app, int again)
{
	if (!again || !st.open)
		open_stream(app);
}

static void
leave(struct app *app)
{
	app_sse_close(app, FEED_STREAM);
	app_untimer(app, REOPEN_TIMER);
	st.open = 0;
	st.live = 0;
}

/* HH:MM:SS of an ISO 8601 time, or "". */
static const char *
clock_of(struct app *app, const char *iso)
{
	if (iso == NULL || strlen(iso) < 19 || iso[10] != 'T')
		return "";
	return arena_strndup(app->msg, iso + 11, 8);
}

static void
sse(struct app *app, unsigned stream, const struct sse_event *ev)
{
	const struct wj	*d = ev->data;
	struct item	*it;
	const char	*id, *when;
	int		 inbox;

	(void)stream;
	if (ev->id[0] != '\0')
		app_set(&st.last_id, ev->id);
	if (strncmp(ev->type, "run.", 4) != 0 && strncmp(ev->type, "inbox.", 6) != 0)
		return;
	inbox = ev->type[0] == 'i';
	if ((id = wj_gets(d, "id", NULL)) == NULL)
		return;
	it = item_for(arena_printf(app->msg, "%s:%s", inbox ? "inbox" : "run", id));
	it->inbox = inbox;
	it->seq = ++st.seq;
	app_set(&it->state, wj_gets(d, "state", ev->type + (inbox ? 6 : 4)));
	if (inbox)
		app_set(&it->what, wj_gets(d, "question",
		    wj_gets(wj_get(d, "call"), "name", "a question")));
	else
		app_set(&it->what, wj_gets(d, "agent", "?"));
	app_set(&it->error, wj_gets(wj_get(d, "error"), "message", NULL));
	when = wj_gets(d, "finished_at", NULL);
	if (when == NULL)
		when = wj_gets(d, inbox ? "answered_at" : "started_at", NULL);
	if (when == NULL)
		when = wj_gets(d, "created_at", NULL);
	app_set(&it->when, clock_of(app, when));
}

static void
sse_state(struct app *app, unsigned stream, unsigned state)
{
	(void)stream;
	st.live = state == 1;
	if (state == 2) {
		/* Closed for good (an error status, which EventSource does not tell): open it
		 * again after the last position, unless the session ended: /api/v1/me's 401
		 * signs the person out (app.c), which leaves the page and stops the timer. */
		st.open = 0;
		app_stream_lost(app, &page_home, TAG_SESSION, REOPEN_TIMER);
	}
}

static void
timer(struct app *app, unsigned n)
{
	if (n == REOPEN_TIMER && !st.open)
		open_stream(app);
}

static int
newest_first(const void *a, const void *b)
{
	const struct item	*x = *(struct item *const *)a, *y = *(struct item *const *)b;

	return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0;
}

static void
counts(struct view *v)
{
	size_t	 i, j, n;

	v_open(v, "ul");
	v_attr(v, "class", "counts");
	v_attr(v, "aria-label", "Runs by state");
	for (j = 0; j <= sizeof(run_states) / sizeof(run_states[0]); j++) {
		const char *s = j < sizeof(run_states) / sizeof(run_states[0]) ? run_states[j] : "open";

		for (i = n = 0; i < st.n; i++)
			if (st.items[i].inbox == (s[0] == 'o') && strcmp(st.items[i].state, s) == 0)
				n++;
		v_open(v, "li");
		v_attrf(v, "class", "count state-%s", s);
		v_attrf(v, "data-test", "count-%s", s[0] == 'o' ? "inbox" : s);
		v_open(v, "span");
		v_attr(v, "class", "n");
		v_textf(v, "%zu", n);
		v_close(v);
		v_leaf(v, "span", s[0] == 'o' ? "waiting for a person" : s);
		v_close(v);
	}
	v_close(v);
}

static void
feed_item(struct view *v, const struct item *it)
{
	v_open(v, "li");
	v_key(v, it->key);
	v_attrf(v, "class", "feed-item state-%s", it->state);
	v_attr(v, "data-test", "feed-item");
	v_attr(v, "data-state", it->state);
	v_leafc(v, "span", "badge", it->inbox ? (strcmp(it->state, "open") == 0 ? "asks" : it->state) : it->state);
	v_leafc(v, "span", "what", it->what);
	v_leafc(v, "span", "when", it->when);
	v_close(v);
}

static void
view(struct app *app, struct view *v)
{
	struct item	**order;
	size_t		 i, shown;

	v_open(v, "p");
	v_attr(v, "class", st.live && app->online ? "live on" : "live");
	v_attr(v, "role", "status");
	v_attr(v, "data-test", "feed-status");
	v_text(v, !app->online ? "Waiting for the network" : !app->sse ? "This browser cannot "
	    "follow the feed live: reload the page to see what changed" : st.live ? "Live" :
	    st.last_id != NULL ? "Reconnecting…" : "Connecting…");
	v_close(v);
	counts(v);

	order = arena_calloc(v->arena, st.n + 1, sizeof(*order));
	for (i = 0; i < st.n; i++)
		order[i] = &st.items[i];
	qsort(order, st.n, sizeof(*order), newest_first);

	v_open(v, "div");
	v_attr(v, "class", "columns");
	v_open(v, "section");
	v_attr(v, "aria-labelledby", "feed-h");
	v_open(v, "h2");
	v_attr(v, "id", "feed-h");
	v_text(v, "Live feed");
	v_close(v);
	if (st.n == 0)
		v_leaf(v, "p", "Nothing yet: runs show here as they are made, start and end.");
	else {
		v_open(v, "ol");
		v_attr(v, "class", "feed");
		for (i = 0; i < st.n && i < FEED_SHOWN; i++)
			feed_item(v, order[i]);
		v_close(v);
	}
	v_close(v);

	v_open(v, "section");
	v_attr(v, "aria-labelledby", "failures-h");
	v_open(v, "h2");
	v_attr(v, "id", "failures-h");
	v_text(v, "Recent failures");
	v_close(v);
	v_open(v, "ul");
	v_attr(v, "class", "failures");
	for (i = shown = 0; i < st.n && shown < FAILURES_SHOWN; i++) {
		if (order[i]->inbox || strcmp(order[i]->state, "failed") != 0)
			continue;
		shown++;
		v_open(v, "li");
		v_key(v, order[i]->key);
		v_attr(v, "data-test", "failure");
		v_open(v, "strong");
		v_text(v, order[i]->what);
		v_close(v);
		v_textf(v, " at %s: ", order[i]->when);
		v_text(v, order[i]->error != NULL ? order[i]->error : "no error message");
		v_close(v);
	}
	v_close(v);
	if (shown == 0)
		v_leaf(v, "p", "No run has failed.");
	v_close(v);
	v_close(v);
}

static void
reset(struct app *app)
{
	size_t	 i;

	(void)app;
	for (i = 0; i < st.n; i++)
		item_clear(&st.items[i]);
	free(st.items);
	free(st.last_id);
	memset(&st, 0, sizeof(st));
}

const struct page page_home = {
	.name = "home",
	.title = "Home",
	.enter = enter,
	.leave = leave,
	.view = view,
	.sse = sse,
	.sse_state = sse_state,
	.timer = timer,
	.reset = reset,
};
