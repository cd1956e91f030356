/* page_run.c: Run detail (#/runs/{id}): the run (GET /api/v1/runs/{id}: state,
 * attempts, usage and cost, error, times), its event log as a timeline and, folded,
 * the raw events.  The log is read with the run's long poll
 * (GET /api/v1/runs/{id}/events?after=N&wait=S) from 0 until the run has ended, so a
 * running run's page follows it live with or without EventSource; each event is taken
 * once, by its seq. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "web/src/app.h"
#include "web/src/wjson.h"

#define POLL_TIMER	6
#define POLL_WAIT_S	20
#define MAX_EVENTS	5000	/* the log past this is not kept (the API has it) */
#define RAW_SHOWN	300	/* the newest raw events shown */

enum { TAG_RUN = 1, TAG_EVENTS, TAG_CANCEL };
/* Answers carry the generation of the run shown above the tag's byte: one for a run
 * left meanwhile is dropped. */
#define GEN(tag)	((tag) | (st.gen & 0xffffffu) << 8)

struct event {
	unsigned long	 seq;
	unsigned	 attempt;
	char		*type;
	char		*at;
	char		*data;		/* JSON */
	char		*what;		/* a line for the timeline, or NULL (deltas) */
};

static struct {
	char		*id;
	struct kept	 run;
	struct event	*ev;
	size_t		 n;
	unsigned long	 after;
	int		 finished;
	int		 polling;
	unsigned	 gen;		/* counts the runs shown */
	char		*error;
} st;

static void
forget(void)
{
	size_t	 i;

	for (i = 0; i < st.n; i++) {
		free(st.ev[i].type);
		free(st.ev[i].at);
		free(st.ev[i].data);
		free(st.ev[i].what);
	}
	free(st.ev);
	st.ev = NULL;
	st.n = 0;
	st.after = 0;
	st.finished = 0;
	st.polling = 0;
	st.gen++;
	kept_free(&st.run);
}

static void
poll(struct app *app)
{
	st.polling = 1;
	app_fetch(app, &page_run, GEN(TAG_EVENTS), "GET", arena_printf(app->msg,
	    "/api/v1/runs/%s/events?after=%lu&limit=200&wait=%d", route_encode(app->msg, st.id),
	    st.after, st.finished ? 0 : POLL_WAIT_S), NULL, 0);
}

static void
load_run(struct app *app)
{
	app_fetch(app, &page_run, GEN(TAG_RUN), "GET", arena_printf(app->msg, "/api/v1/runs/%s",
	    route_encode(app->msg, st.id)), NULL, 0);
}

static void
enter(struct app *app, int again)
{
	(void)again;
	if (st.id != NULL && strcmp(st.id, app->route.sub) == 0 && st.polling)
		return;
	forget();
	app_set(&st.id, app->route.sub);
	app_set(&st.error, NULL);
	load_run(app);
	poll(app);
}

static void
leave(struct app *app)
{
	app_untimer(app, POLL_TIMER);
	st.polling = 0;
}

/* A line saying what an event did, in the message's arena; NULL for text deltas. */
static char *
line_of(struct app *app, const char *type, const struct wj *d)
{
	struct sb_buf	 b;
	char		*s;

	if (strcmp(type, "message.delta") == 0)
		return NULL;
	buf_init(&b, 0);
	if (strcmp(type, "tool.executing") == 0) {
		buf_printf(&b, "calls %s with ", wj_gets(d, "name", "a tool"));
		wj_write(&b, wj_get(d, "arguments"));
	} else if (strcmp(type, "tool.completed") == 0)
		buf_printf(&b, "%s %s in %.0f ms", wj_gets(d, "name", "a tool"),
		    wj_true(wj_get(d, "ok")) ? "answered" : "failed", wj_num(wj_get(d, "duration_ms"), 0));
	else if (strcmp(type, "human.requested") == 0)
		buf_printf(&b, "asks a person: %s", wj_gets(d, "question",
		    wj_gets(wj_get(d, "call"), "name", "an approval")));
	else if (strcmp(type, "agent.handoff") == 0)
		buf_printf(&b, "hands over to %s", wj_gets(d, "to", "another agent"));
	else if (strcmp(type, "message.completed") == 0)
		buf_printf(&b, "the answer is whole (%s)", wj_gets(wj_get(d, "message"), "finish_reason", "stop"));
	else if (wj_get(d, "error") != NULL)
		buf_printf(&b, "%s", wj_gets(wj_get(d, "error"), "message", wj_gets(d, "error", "")));
	else if (wj_get(d, "step") != NULL)
		buf_printf(&b, "model turn %.0f", wj_num(wj_get(d, "step"), 0));
	else if (wj_get(d, "reason") != NULL)
		buf_printf(&b, "%s", wj_gets(d, "reason", ""));
	s = arena_strndup(app->msg, b.data != NULL ? b.data : "", b.len);
	buf_free(&b);
	return s;
}

static void
take(struct app *app, const struct wj *items)
{
	const struct wj	*e;
	struct event	*x;
	struct sb_buf	 data;
	unsigned long	 seq;
	char		*what;

	for (e = items != NULL && items->type == WJ_ARRAY ? items->first : NULL; e != NULL; e = e->next) {
		seq = (unsigned long)wj_num(wj_get(e, "seq"), 0);
		if (seq != st.after + 1)
			break;		/* not the next one: asked again from the last taken */
		st.after = seq;
		if (st.n == MAX_EVENTS)
			continue;
		if (st.ev == NULL)
			st.ev = sb_calloc(MAX_EVENTS, sizeof(*st.ev));
		x = &st.ev[st.n++];
		x->seq = seq;
		x->attempt = (unsigned)wj_num(wj_get(e, "attempt"), 0);
		x->type = sb_strdup(wj_gets(e, "type", "?"));
		x->at = sb_strdup(wj_gets(e, "created_at", ""));
		buf_init(&data, 0);
		wj_write(&data, wj_get(e, "data"));
		x->data = sb_strdup(data.data);
		buf_free(&data);
		what = line_of(app, x->type, wj_get(e, "data"));
		x->what = what != NULL ? sb_strdup(what) : NULL;
		if (strcmp(x->type, "run.succeeded") == 0 || strcmp(x->type, "run.failed") == 0 ||
		    strcmp(x->type, "run.cancelled") == 0 || strcmp(x->type, "human.requested") == 0 ||
		    strcmp(x->type, "run.started") == 0)
			load_run(app);
	}
}

static void
fetched(struct app *app, unsigned tag, const struct reply *r)
{
	if (tag >> 8 != (st.gen & 0xffffffu))
		return;		/* for a run no longer shown */
	tag &= 0xff;
	if (tag == TAG_RUN) {
		if (kept_set(&st.run, r, NULL) < 0)
			app_set(&st.error, app_problem_text(app, r));
		return;
	}
	if (tag == TAG_CANCEL) {
		if (r->status != 200)
			app_set(&st.error, app_problem_text(app, r));
		load_run(app);
		return;
	}
	st.polling = 0;
	if (r->status != 200 || r->json == NULL) {
		app_set(&st.error, app_problem_text(app, r));
		if (r->status == 0 || r->status >= 500 || r->status == 429) {
			app_timer(app, &page_run, POLL_TIMER, 3000);
			st.polling = 1;
		}
		return;
	}
	app_set(&st.error, NULL);
	take(app, wj_get(r->json, "items"));
	st.finished = wj_true(wj_get(r->json, "finished"));
	/* Ended with nothing after: all read.  Otherwise the next page, or the wait. */
	if (!(st.finished && (wj_get(r->json, "items") == NULL || wj_get(r->json, "items")->len == 0)))
		poll(app);
}

static void
timer(struct app *app, unsigned n)
{
	(void)n;
	poll(app);
}

static void
event(struct app *app, const struct ui_event *ev)
{
	if (strcmp(ev->action, "run-cancel") == 0 && st.id != NULL)
		app_fetch(app, &page_run, GEN(TAG_CANCEL), "POST", arena_printf(app->msg,
		    "/api/v1/runs/%s/cancel", route_encode(app->msg, st.id)), NULL, 0);
}

static void
fact(struct view *v, const char *name, const char *value)
{
	v_leaf(v, "dt", name);
	v_leaf(v, "dd", value);
}

static void
summary(struct app *app, struct view *v, const struct wj *run)
{
	const struct wj	*u = wj_get(run, "usage");
	const char	*state = wj_gets(run, "state", "?");

	v_open(v, "dl");
	v_attr(v, "class", "facts card");
	v_leaf(v, "dt", "State");
	v_open(v, "dd");
	v_open(v, "span");
	v_attrf(v, "class", "badge state-%s", state);
	v_attr(v, "data-test", "run-state");
	v_attr(v, "data-state", state);
	v_text(v, state);
	v_close(v);
	if (wj_true(wj_get(run, "cancel_requested")) && strcmp(state, "running") == 0)
		v_text(v, " (asked to stop)");
	v_close(v);
	fact(v, "Agent", wj_gets(run, "agent", "?"));
	fact(v, "Attempts", arena_printf(v->arena, "%.0f of %.0f", wj_num(wj_get(run, "attempt"), 0),
	    wj_num(wj_get(run, "max_attempts"), 0)));
	fact(v, "Tokens", arena_printf(v->arena, "%.0f in, %.0f out",
	    wj_num(wj_get(u, "prompt_tokens"), 0), wj_num(wj_get(u, "completion_tokens"), 0)));
	fact(v, "Cost", arena_printf(v->arena, "$%.6f", wj_num(wj_get(u, "cost_usd"), 0)));
	fact(v, "Made", view_time(v, wj_gets(run, "created_at", NULL)));
	fact(v, "Started", view_time(v, wj_gets(run, "started_at", "")));
	fact(v, "Ended", view_time(v, wj_gets(run, "finished_at", "")));
	if (wj_get(run, "error") != NULL && wj_get(run, "error")->type == WJ_OBJECT)
		fact(v, "Error", arena_printf(v->arena, "%s: %s", wj_gets(wj_get(run, "error"), "type", "?"),
		    wj_gets(wj_get(run, "error"), "message", "")));
	if (wj_gets(wj_get(run, "output"), "text", NULL) != NULL)
		fact(v, "Answer", wj_gets(wj_get(run, "output"), "text", ""));
	v_close(v);
	if ((strcmp(state, "queued") == 0 || strcmp(state, "running") == 0 ||
	    strcmp(state, "waiting") == 0) && app_can(app, "runs:write"))
		view_button(v, "run-cancel", "run-cancel", NULL, "Cancel the run");
}

static void
view(struct app *app, struct view *v)
{
	size_t		 i, deltas = 0;
	const struct event *x;

	view_error(v, st.error);
	if (st.run.v != NULL)
		summary(app, v, st.run.v);
	v_leaf(v, "h2", "Timeline");
	v_open(v, "ol");
	v_attr(v, "class", "timeline");
	for (i = 0; i < st.n; i++) {
		x = &st.ev[i];
		if (x->what == NULL) {
			deltas++;
			continue;
		}
		v_open(v, "li");
		v_key(v, arena_printf(v->arena, "%lu", x->seq));
		v_attr(v, "data-test", "timeline-event");
		v_attr(v, "data-type", x->type);
		v_leafc(v, "span", "when", view_time(v, x->at));
		v_leafc(v, "code", NULL, x->type);
		if (deltas > 0)
			v_leafc(v, "span", "summary", arena_printf(v->arena, "(after %zu pieces of text)", deltas));
		deltas = 0;
		v_leafc(v, "span", "what", x->what);
		v_close(v);
	}
	v_close(v);
	if (st.n == 0)
		v_leaf(v, "p", st.finished ? "The log is empty." : "Nothing yet: events show as they come.");
	v_open(v, "details");
	v_attr(v, "class", "raw");
	v_open(v, "summary");
	v_textf(v, "Raw events (%zu)", st.n);
	v_close(v);
	v_open(v, "ol");
	for (i = st.n > RAW_SHOWN ? st.n - RAW_SHOWN : 0; i < st.n; i++) {
		x = &st.ev[i];
		v_open(v, "li");
		v_key(v, arena_printf(v->arena, "%lu", x->seq));
		v_leaf(v, "pre", arena_printf(v->arena, "%lu %s (attempt %u)\n%s", x->seq, x->type,
		    x->attempt, x->data));
		v_close(v);
	}
	v_close(v);
	v_close(v);
}

static void
reset(struct app *app)
{
	(void)app;
	forget();
	free(st.id);
	free(st.error);
	memset(&st, 0, sizeof(st));
}

const struct page page_run = {
	.name = "runs",
	.title = "Run",
	.enter = enter,
	.leave = leave,
	.view = view,
	.event = event,
	.fetched = fetched,
	.timer = timer,
	.reset = reset,
};
