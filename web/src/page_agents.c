/* page_agents.c: Agents: the catalog the org can run (GET /api/v1/agents), searched by
 * name, and filtered by category (the catalog's tags) and provider (the tier of model
 * service behind it: builtin, openai, anthropic); each agent's card.  The route's
 * query sets the filters (#/agents?q=sum&category=writing&provider=builtin). */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "web/src/app.h"

enum { TAG_LIST = 1, TAG_TRY };

static struct {
	struct kept	 list;		/* the answer's items */
	int		 loading;
	int		 trying;	/* a thread is being made */
	char		*error;
	char		*q;
	char		*category;
	char		*provider;
} st;

static void
enter(struct app *app, int again)
{
	app_set(&st.q, route_param(app, "q"));
	app_set(&st.category, route_param(app, "category"));
	app_set(&st.provider, route_param(app, "provider"));
	/* An answer for a page left is not delivered: ask again on each entry. */
	st.trying = 0;
	if (again)
		return;
	st.loading = 1;
	app_fetch(app, &page_agents, TAG_LIST, "GET", "/api/v1/agents", NULL, 0);
}

static void
fetched(struct app *app, unsigned tag, const struct reply *r)
{
	if (tag == TAG_TRY) {
		st.trying = 0;
		if (r->status == 201 && wj_gets(r->json, "id", NULL) != NULL)
			app_go(app, arena_printf(app->msg, "#/chat/%s",
			    route_encode(app->msg, wj_gets(r->json, "id", ""))));
		else
			app_set(&st.error, app_problem_text(app, r));
		return;
	}
	if (tag != TAG_LIST)
		return;
	st.loading = 0;
	if (kept_set(&st.list, r, "items") < 0) {
		app_set(&st.error, r->status == 200 ? "The catalog's answer could not be read." :
		    app_problem_text(app, r));
		return;
	}
	app_set(&st.error, NULL);
}

/* s contains q, ignoring the case of ASCII letters. */
static int
contains(const char *s, const char *q)
{
	size_t	 n = strlen(q), i;

	if (n == 0)
		return 1;
	for (; *s != '\0'; s++) {
		for (i = 0; i < n && s[i] != '\0' &&
		    tolower((unsigned char)s[i]) == tolower((unsigned char)q[i]); i++)
			;
		if (i == n)
			return 1;
	}
	return 0;
}

static int
shown(const struct wj *a)
{
	return (contains(wj_gets(a, "name", ""), st.q) || contains(wj_gets(a, "slug", ""), st.q)) &&
	    (st.category[0] == '\0' || strcmp(wj_gets(a, "category", ""), st.category) == 0) &&
	    (st.provider[0] == '\0' || strcmp(wj_gets(a, "provider", ""), st.provider) == 0);
}

/* A <select> of the distinct values of member key among the agents. */
static void
choice(struct view *v, const char *id, const char *label, const char *key, const char *cur)
{
	const struct wj	*a, *b;
	const char	*val;

	v_open(v, "div");
	v_attr(v, "class", "field");
	v_open(v, "label");
	v_attr(v, "for", id);
	v_text(v, label);
	v_close(v);
	v_open(v, "select");
	v_attr(v, "id", id);
	v_attr(v, "data-change", id);
	v_attr(v, "data-test", id);
	v_open(v, "option");
	v_attr(v, "value", "");
	v_attr(v, "selected", cur[0] == '\0' ? "1" : "");
	v_text(v, "Any");
	v_close(v);
	for (a = kept_first(&st.list); a != NULL; a = a->next) {
		val = wj_gets(a, key, "");
		for (b = kept_first(&st.list); b != a && strcmp(wj_gets(b, key, ""), val) != 0; b = b->next)
			;
		if (b != a || val[0] == '\0')
			continue;
		v_open(v, "option");
		v_key(v, val);
		v_attr(v, "value", val);
		v_attr(v, "selected", strcmp(cur, val) == 0 ? "1" : "");
		v_text(v, val);
		v_close(v);
	}
	v_close(v);
	v_close(v);
}

static void
card(struct app *app, struct view *v, const struct wj *a)
{
	const char	*slug = wj_gets(a, "slug", "");

	v_open(v, "li");
	v_key(v, slug);
	v_attr(v, "class", "card agent");
	v_attr(v, "data-test", "agent-card");
	v_attr(v, "data-slug", slug);
	v_leaf(v, "h2", wj_gets(a, "name", slug));
	v_leafc(v, "p", "slug", slug);
	v_leaf(v, "p", wj_gets(a, "description", ""));
	v_open(v, "dl");
	v_leaf(v, "dt", "Category");
	v_leaf(v, "dd", wj_gets(a, "category", "none"));
	v_leaf(v, "dt", "Model");
	v_open(v, "dd");
	v_textf(v, "%s · %s", wj_gets(a, "provider", "?"), wj_gets(a, "model", "?"));
	v_close(v);
	v_leaf(v, "dt", "Tools");
	v_open(v, "dd");
	view_tags(v, wj_get(a, "tools"), "none");
	v_close(v);
	v_leaf(v, "dt", "Defined by");
	v_leaf(v, "dd", wj_true(wj_get(a, "global")) ? "Switchboard (a default)" : "your organization");
	v_close(v);
	if (app_can(app, "runs:write")) {
		v_open(v, "button");
		v_attr(v, "type", "button");
		v_attrf(v, "data-click", "try:%s", slug);
		v_attr(v, "data-test", "agent-try");
		v_attrf(v, "aria-label", "Try it: a new chat with %s", wj_gets(a, "name", slug));
		if (st.trying)
			v_attr(v, "aria-disabled", "true");
		v_text(v, "Try it");
		v_close(v);
	}
	v_close(v);
}

static void
view(struct app *app, struct view *v)
{
	const struct wj	*a;
	size_t		 n = 0;

	v_open(v, "form");
	v_attr(v, "class", "filters");
	v_attr(v, "role", "search");
	v_attr(v, "data-submit", "agents-search");
	v_open(v, "div");
	v_attr(v, "class", "field");
	v_open(v, "label");
	v_attr(v, "for", "agents-q");
	v_text(v, "Search by name");
	v_close(v);
	v_open(v, "input");
	v_attr(v, "id", "agents-q");
	v_attr(v, "type", "search");
	v_attr(v, "data-input", "agents-q");
	v_attr(v, "data-test", "agents-search");
	v_attr(v, "value", st.q);
	v_close(v);
	v_close(v);
	choice(v, "agents-category", "Category", "category", st.category);
	choice(v, "agents-provider", "Provider", "provider", st.provider);
	v_close(v);

	view_error(v, st.error);
	if (st.list.v == NULL) {
		if (st.loading)
			v_leaf(v, "p", "Loading the catalog…");
		return;
	}
	for (a = kept_first(&st.list); a != NULL; a = a->next)
		n += shown(a);
	v_open(v, "p");
	v_attr(v, "class", "summary");
	v_attr(v, "role", "status");
	v_attr(v, "data-test", "agents-count");
	v_textf(v, "%zu of %zu agents", n, st.list.v->len);
	v_close(v);
	v_open(v, "ul");
	v_attr(v, "class", "cards");
	for (a = kept_first(&st.list); a != NULL; a = a->next)
		if (shown(a))
			card(app, v, a);
	v_close(v);
}

static void
event(struct app *app, const struct ui_event *ev)
{
	struct sb_buf	 body;
	int		 first = 1;

	if (strncmp(ev->action, "try:", 4) == 0 && !st.trying) {
		/* A new thread with that agent, opened once it is made. */
		buf_init(&body, 0);
		buf_puts(&body, "{");
		wj_write_member(&body, &first, "agent", ev->action + 4);
		buf_puts(&body, "}");
		app_fetch(app, &page_agents, TAG_TRY, "POST", "/api/v1/threads", body.data, 0);
		buf_free(&body);
		st.trying = 1;
	} else if (strcmp(ev->action, "agents-q") == 0)
		app_set(&st.q, ev->value);
	else if (strcmp(ev->action, "agents-category") == 0)
		app_set(&st.category, ev->value);
	else if (strcmp(ev->action, "agents-provider") == 0)
		app_set(&st.provider, ev->value);
}

static void
reset(struct app *app)
{
	(void)app;
	kept_free(&st.list);
	free(st.error);
	free(st.q);
	free(st.category);
	free(st.provider);
	memset(&st, 0, sizeof(st));
}

const struct page page_agents = {
	.name = "agents",
	.title = "Agents",
	.enter = enter,
	.view = view,
	.event = event,
	.fetched = fetched,
	.reset = reset,
};
