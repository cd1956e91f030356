/* page_inbox.c: Inbox (#/inbox): what runs ask people (GET /api/v1/inbox), the
 * waiting items first-class: a question answered in words, a tool call approved or
 * refused with a note (POST /api/v1/inbox/{id}/answer); the items answered, with who
 * answered.  ?state=all shows every item, ?item=ID marks one (the chat's link).  Live
 * through the org feed (its inbox.* events ask for the list again); without
 * EventSource the list is asked for again every POLL_MS. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "web/src/app.h"
#include "web/src/wjson.h"

#define FEED_STREAM	3
#define RELOAD_TIMER	5
#define POLL_MS		10000
#define MAX_ANSWER	65536	/* the API's bound for an answer */

enum { TAG_LIST = 1, TAG_ANSWER, TAG_SESSION };

static const char	 types[] = "feed.ready,inbox.created,inbox.answered,inbox.expired,"
			    "inbox.cancelled";

static struct {
	struct kept	 list;
	int		 all;		/* every item, not only the waiting */
	char		*error;
	char		*done;		/* what the last answer did, in words */
	char		*item;		/* an answer's item while it is sent */
	char		*drafts_for;	/* the item the draft is for */
	char		*draft;
	char		*note;
	int		 open;
} st;

static void
load(struct app *app)
{
	app_fetch(app, &page_inbox, TAG_LIST, "GET",
	    st.all ? "/api/v1/inbox?limit=100" : "/api/v1/inbox?state=open&limit=100", NULL, 0);
}

static void
enter(struct app *app, int again)
{
	st.all = strcmp(route_param(app, "state"), "all") == 0;
	app_set(&st.item, NULL);	/* an answer for a page left is not delivered */
	load(app);
	if (!again || !st.open) {
		if (app->sse) {
			/* From now: the list answers what came before. */
			app_sse_open(app, &page_inbox, FEED_STREAM, "/api/v1/stream", types);
			st.open = 1;
		} else
			app_timer(app, &page_inbox, RELOAD_TIMER, POLL_MS);
	}
}

static void
leave(struct app *app)
{
	app_sse_close(app, FEED_STREAM);
	app_untimer(app, RELOAD_TIMER);
	st.open = 0;
}

static void
sse(struct app *app, unsigned stream, const struct sse_event *ev)
{
	(void)stream;
	if (strncmp(ev->type, "inbox.", 6) == 0)
		app_timer(app, &page_inbox, RELOAD_TIMER, 200);	/* a burst: once */
}

static void
sse_state(struct app *app, unsigned stream, unsigned state)
{
	(void)stream;
	if (state == 2) {
		st.open = 0;
		app_stream_lost(app, &page_inbox, TAG_SESSION, RELOAD_TIMER);
	}
}

static void
timer(struct app *app, unsigned n)
{
	(void)n;
	load(app);
	if (!app->sse)
		app_timer(app, &page_inbox, RELOAD_TIMER, POLL_MS);
	else if (!st.open) {
		app_sse_open(app, &page_inbox, FEED_STREAM, "/api/v1/stream", types);
		st.open = 1;
	}
}

static void
fetched(struct app *app, unsigned tag, const struct reply *r)
{
	if (tag == TAG_LIST) {
		if (kept_set(&st.list, r, "items") < 0)
			app_set(&st.error, app_problem_text(app, r));
		else
			app_set(&st.error, NULL);
	} else if (tag == TAG_ANSWER) {
		app_set(&st.item, NULL);
		if (r->status == 200) {
			app_set(&st.done, "Answered. The run goes on.");
			app_set(&st.draft, NULL);
			app_set(&st.note, NULL);
			app_set(&st.error, NULL);
		} else
			app_set(&st.error, app_problem_text(app, r));
		load(app);
	}
}

static void
answer(struct app *app, const char *id, const char *kind, const struct ui_event *ev)
{
	struct sb_buf	 body;
	int		 first = 1;
	const char	*text = ui_field(ev, "answer", st.draft != NULL ? st.draft : "");
	const char	*note = ui_field(ev, "note", st.note != NULL ? st.note : "");

	if (st.item != NULL)
		return;
	buf_init(&body, 0);
	buf_puts(&body, "{");
	if (strcmp(kind, "answer") == 0) {
		if (text[0] == '\0' || strlen(text) > MAX_ANSWER) {
			app_set(&st.error, text[0] == '\0' ? "Write an answer first." :
			    "The answer is too long: 64 KiB at most.");
			buf_free(&body);
			return;
		}
		wj_write_member(&body, &first, "answer", text);
	} else {
		buf_puts(&body, strcmp(kind, "approve") == 0 ? "\"approve\":true" : "\"approve\":false");
		first = 0;
		if (note[0] != '\0')
			wj_write_member(&body, &first, "note", note);
	}
	buf_puts(&body, "}");
	app_fetch(app, &page_inbox, TAG_ANSWER, "POST", arena_printf(app->msg,
	    "/api/v1/inbox/%s/answer", route_encode(app->msg, id)), body.data, 0);
	buf_free(&body);
	app_set(&st.item, id);
	app_set(&st.done, NULL);
}

static void
event(struct app *app, const struct ui_event *ev)
{
	const char	*colon;

	if (strncmp(ev->action, "inbox-answer:", 13) == 0 || strncmp(ev->action, "inbox-note:", 11) == 0) {
		colon = strchr(ev->action, ':');
		app_set(&st.drafts_for, colon + 1);
		app_set(ev->action[6] == 'a' ? &st.draft : &st.note, ev->value);
	} else if ((colon = strchr(ev->action, ':')) != NULL) {
		/* answer:ID, approve:ID, refuse:ID */
		char *kind = arena_strndup(app->msg, ev->action, (size_t)(colon - ev->action));

		if (strcmp(kind, "answer") == 0 || strcmp(kind, "approve") == 0 ||
		    strcmp(kind, "refuse") == 0)
			answer(app, colon + 1, kind, ev);
	}
}

static const char *
who(struct view *v, const struct wj *by)
{
	const char	*kind = wj_gets(by, "kind", NULL);
	double		 id = wj_num(wj_get(by, "id"), -1);

	if (kind == NULL)
		return "";
	if (strcmp(kind, "user") == 0)
		return id >= 0 ? arena_printf(v->arena, "a person (user %.0f)", id) : "a person";
	if (strcmp(kind, "key") == 0)
		return id >= 0 ? arena_printf(v->arena, "an API key (number %.0f)", id) : "an API key";
	return "a program with a token";
}

static void
answer_form(struct app *app, struct view *v, const struct wj *it, const char *id)
{
	const char	*kind = wj_gets(it, "kind", "question");
	int		 mine = st.drafts_for != NULL && strcmp(st.drafts_for, id) == 0;
	char		*fid = arena_printf(v->arena, "answer-%s", id);

	if (!app_can(app, "inbox:write"))
		return;
	v_open(v, "form");
	v_attr(v, "class", "answer");
	v_attrf(v, "data-submit", "%s:%s", strcmp(kind, "approval") == 0 ? "approve" : "answer", id);
	v_open(v, "div");
	v_attr(v, "class", "field");
	v_open(v, "label");
	v_attr(v, "for", fid);
	v_text(v, strcmp(kind, "approval") == 0 ? "A note for the agent (if you refuse)" : "Your answer");
	v_close(v);
	v_open(v, "textarea");
	v_attr(v, "id", fid);
	v_attr(v, "name", strcmp(kind, "approval") == 0 ? "note" : "answer");
	v_attr(v, "rows", "2");
	v_attrf(v, "data-input", "inbox-%s:%s", strcmp(kind, "approval") == 0 ? "note" : "answer", id);
	v_attr(v, "data-test", strcmp(kind, "approval") == 0 ? "inbox-note" : "inbox-answer");
	v_attr(v, "value", mine ? (strcmp(kind, "approval") == 0 ? st.note : st.draft) : "");
	v_close(v);
	v_close(v);
	view_submit(v, strcmp(kind, "approval") == 0 ? "inbox-approve" : "inbox-send",
	    st.item != NULL && strcmp(st.item, id) == 0,
	    strcmp(kind, "approval") == 0 ? "Approve" : "Send the answer");
	if (strcmp(kind, "approval") == 0)
		view_button(v, arena_printf(v->arena, "refuse:%s", id), "inbox-refuse", NULL, "Refuse");
	v_close(v);
}

static void
item_view(struct app *app, struct view *v, const struct wj *it, const char *marked)
{
	const char	*id = wj_gets(it, "id", ""), *state = wj_gets(it, "state", "");
	const char	*q = wj_gets(it, "question", NULL), *thread = wj_gets(it, "thread", NULL);
	struct sb_buf	 call;

	v_open(v, "li");
	v_key(v, id);
	v_attrf(v, "class", "card inbox-item state-%s%s", state, strcmp(id, marked) == 0 ? " marked" : "");
	v_attr(v, "data-test", "inbox-item");
	v_attr(v, "data-state", state);
	v_open(v, "p");
	v_leafc(v, "span", "badge", strcmp(state, "open") == 0 ? "waiting" : state);
	v_textf(v, " %s ", strcmp(wj_gets(it, "kind", ""), "approval") == 0 ? "Approve this call?" :
	    "A question:");
	v_close(v);
	if (q != NULL)
		v_leafc(v, "p", "question", q);
	else {
		buf_init(&call, 0);
		wj_write(&call, wj_get(it, "call"));
		v_leaf(v, "pre", call.data);
		buf_free(&call);
	}
	v_open(v, "p");
	v_attr(v, "class", "summary");
	v_textf(v, "Asked %s · ", view_time(v, wj_gets(it, "created_at", NULL)));
	v_open(v, "a");
	v_attrf(v, "href", "#/runs/%s", wj_gets(it, "run", ""));
	v_text(v, "its run");
	v_close(v);
	if (thread != NULL) {
		v_text(v, " · ");
		v_open(v, "a");
		v_attrf(v, "href", "#/chat/%s", thread);
		v_text(v, "its chat");
		v_close(v);
	}
	v_close(v);
	if (strcmp(state, "open") == 0)
		answer_form(app, v, it, id);
	else if (strcmp(state, "answered") == 0) {
		v_open(v, "p");
		v_attr(v, "data-test", "inbox-answered");
		v_textf(v, "Answered by %s at %s: ", who(v, wj_get(it, "answered_by")),
		    view_time(v, wj_gets(it, "answered_at", NULL)));
		v_text(v, wj_gets(it, "answer", wj_true(wj_get(it, "approved")) ? "approved" : "refused"));
		v_close(v);
	}
	v_close(v);
}

static void
view(struct app *app, struct view *v)
{
	const struct wj	*it;
	const char	*marked = route_param(app, "item");

	v_open(v, "nav");
	v_attr(v, "class", "tabs");
	v_attr(v, "aria-label", "Which items");
	v_open(v, "a");
	v_attr(v, "href", "#/inbox");
	if (!st.all)
		v_attr(v, "aria-current", "page");
	v_text(v, "Waiting");
	v_close(v);
	v_open(v, "a");
	v_attr(v, "href", "#/inbox?state=all");
	if (st.all)
		v_attr(v, "aria-current", "page");
	v_text(v, "All");
	v_close(v);
	v_close(v);
	view_error(v, st.error);
	view_status(v, st.done);
	if (st.list.v != NULL && kept_first(&st.list) == NULL)
		v_leaf(v, "p", st.all ? "No run has asked anything yet." : "Nothing waits for a person.");
	v_open(v, "ul");
	v_attr(v, "class", "inbox");
	for (it = kept_first(&st.list); it != NULL; it = it->next)
		item_view(app, v, it, marked);
	v_close(v);
}

static void
reset(struct app *app)
{
	(void)app;
	kept_free(&st.list);
	free(st.error);
	free(st.done);
	free(st.item);
	free(st.drafts_for);
	free(st.draft);
	free(st.note);
	memset(&st, 0, sizeof(st));
}

const struct page page_inbox = {
	.name = "inbox",
	.title = "Inbox",
	.enter = enter,
	.leave = leave,
	.view = view,
	.event = event,
	.fetched = fetched,
	.sse = sse,
	.sse_state = sse_state,
	.timer = timer,
	.reset = reset,
};
