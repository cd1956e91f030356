/* page_audit.c: Audit log (#/audit, for those with audit:read): the org's entries
 * newest first (GET /api/v1/audit), a page at a time; "Older" asks for the page after
 * the last one shown (its next_cursor). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "web/src/app.h"
#include "web/src/wjson.h"

#define PAGE	50

enum { TAG_PAGE = 1 };

static struct {
	struct kept	 page;		/* the answer: items and next_cursor */
	char		*cursor;	/* the page shown was asked with it ("" the first) */
	char		*error;
} st;

static void
load(struct app *app)
{
	const char	*c = st.cursor != NULL ? st.cursor : "";

	app_fetch(app, &page_audit, TAG_PAGE, "GET", arena_printf(app->msg,
	    "/api/v1/audit?limit=%d%s%s", PAGE, c[0] != '\0' ? "&cursor=" : "",
	    route_encode(app->msg, c)), NULL, 0);
}

static void
enter(struct app *app, int again)
{
	(void)again;
	app_set(&st.cursor, route_param(app, "cursor"));
	if (app_can(app, "audit:read"))
		load(app);
}

static void
fetched(struct app *app, unsigned tag, const struct reply *r)
{
	(void)tag;
	if (kept_set(&st.page, r, NULL) < 0 || wj_get(st.page.v, "items") == NULL)
		app_set(&st.error, app_problem_text(app, r));
	else
		app_set(&st.error, NULL);
}

static void
entry(struct view *v, const struct wj *e)
{
	struct sb_buf	 details;
	const struct wj	*ip = wj_get(e, "ip");

	v_open(v, "tr");
	v_key(v, arena_printf(v->arena, "%.0f", wj_num(wj_get(e, "id"), 0)));
	v_attr(v, "data-test", "audit-entry");
	v_leaf(v, "td", view_time(v, wj_gets(e, "created_at", NULL)));
	v_open(v, "td");
	v_leafc(v, "code", NULL, wj_gets(e, "action", ""));
	v_close(v);
	v_open(v, "td");
	v_text(v, wj_gets(e, "actor_type", ""));
	if (wj_get(e, "actor_id") != NULL && wj_get(e, "actor_id")->type == WJ_NUMBER)
		v_textf(v, " %.0f", wj_num(wj_get(e, "actor_id"), 0));
	v_close(v);
	v_leaf(v, "td", wj_gets(e, "target", ""));
	v_leaf(v, "td", ip != NULL && ip->type == WJ_STRING ? ip->str : "");
	buf_init(&details, 0);
	wj_write(&details, wj_get(e, "details"));
	v_open(v, "td");
	v_leafc(v, "code", "details", details.data);
	v_close(v);
	buf_free(&details);
	v_close(v);
}

static void
view(struct app *app, struct view *v)
{
	static const char *const head[] = { "When", "Action", "Who", "Target", "Address", "Details" };
	const struct wj	*e, *items = wj_get(st.page.v, "items");
	const char	*next = wj_gets(st.page.v, "next_cursor", NULL);
	size_t		 i;

	if (!app_can(app, "audit:read")) {
		v_leaf(v, "p", "Your role does not read the audit log. Ask an owner or an admin of "
		    "your organization.");
		return;
	}
	view_error(v, st.error);
	v_open(v, "div");
	v_attr(v, "class", "scroll");
	v_open(v, "table");
	v_attr(v, "class", "list");
	v_leaf(v, "caption", "What was done in the organization, newest first");
	v_open(v, "thead");
	v_open(v, "tr");
	for (i = 0; i < sizeof(head) / sizeof(head[0]); i++) {
		v_open(v, "th");
		v_attr(v, "scope", "col");
		v_text(v, head[i]);
		v_close(v);
	}
	v_close(v);
	v_close(v);
	v_open(v, "tbody");
	for (e = items != NULL && items->type == WJ_ARRAY ? items->first : NULL; e != NULL; e = e->next)
		entry(v, e);
	v_close(v);
	v_close(v);
	v_close(v);
	v_open(v, "p");
	v_attr(v, "class", "pager");
	if (st.cursor != NULL && st.cursor[0] != '\0') {
		v_open(v, "a");
		v_attr(v, "href", "#/audit");
		v_text(v, "Newest");
		v_close(v);
	}
	if (next != NULL) {
		v_open(v, "a");
		v_attrf(v, "href", "#/audit?cursor=%s", route_encode(v->arena, next));
		v_attr(v, "data-test", "audit-older");
		v_text(v, "Older");
		v_close(v);
	}
	v_close(v);
}

static void
reset(struct app *app)
{
	(void)app;
	kept_free(&st.page);
	free(st.cursor);
	free(st.error);
	memset(&st, 0, sizeof(st));
}

const struct page page_audit = {
	.name = "audit",
	.title = "Audit log",
	.enter = enter,
	.view = view,
	.fetched = fetched,
	.reset = reset,
};
