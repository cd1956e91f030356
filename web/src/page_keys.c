/* page_keys.c: API keys (#/keys, for those with keys:admin): the org's keys
 * (GET /api/v1/keys), a new one with a name, scopes among the caller's own and an
 * expiry (POST /api/v1/keys: its secret shown this once, never kept past the page),
 * and revoking one (DELETE /api/v1/keys/{id}). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "web/src/app.h"
#include "web/src/wjson.h"

enum { TAG_LIST = 1, TAG_CREATE, TAG_REVOKE };

/* The scopes a key may have, in the API's order (docs/api.md, Roles and scopes). */
static const char *const scopes[] = { "runs:read", "runs:write", "agents:read", "agents:admin",
	"keys:admin", "users:admin", "usage:read", "audit:read", "org:admin", "inbox:read",
	"inbox:write", "kb:read", "kb:write" };
#define NSCOPES	(sizeof(scopes) / sizeof(scopes[0]))

static struct {
	struct kept	 list;
	char		*error;
	char		*secret;	/* the new key, shown once */
	char		*name;
	char		*days;
	unsigned	 picked;	/* bit i: scopes[i] */
	int		 busy;
} st;

static void
load(struct app *app)
{
	app_fetch(app, &page_keys, TAG_LIST, "GET", "/api/v1/keys?limit=200", NULL, 0);
}

static void
enter(struct app *app, int again)
{
	(void)again;
	app_set(&st.secret, NULL);	/* shown once: gone when the page is left */
	st.busy = 0;			/* an answer for a page left is not delivered */
	if (app_can(app, "keys:admin"))
		load(app);
}

static void
leave(struct app *app)
{
	(void)app;
	app_set(&st.secret, NULL);
}

static void
fetched(struct app *app, unsigned tag, const struct reply *r)
{
	if (tag == TAG_LIST) {
		if (kept_set(&st.list, r, "items") < 0)
			app_set(&st.error, app_problem_text(app, r));
		return;
	}
	st.busy = 0;
	if (tag == TAG_CREATE && r->status == 201) {
		app_set(&st.secret, wj_gets(r->json, "key", ""));
		app_set(&st.name, NULL);
		app_set(&st.days, NULL);
		st.picked = 0;
		app_set(&st.error, NULL);
	} else if (tag == TAG_REVOKE && r->status == 204)
		app_set(&st.error, NULL);
	else
		app_set(&st.error, app_problem_text(app, r));
	load(app);
}

static void
create(struct app *app, const struct ui_event *ev)
{
	struct sb_buf	 body;
	size_t		 i, n = 0;
	long		 days;
	char		*end;
	const char	*d;

	app_set(&st.name, ui_field(ev, "key-name", st.name != NULL ? st.name : ""));
	app_set(&st.days, ui_field(ev, "key-days", st.days != NULL ? st.days : ""));
	d = st.days;
	days = d[0] == '\0' ? 0 : strtol(d, &end, 10);
	if (d[0] != '\0' && (*end != '\0' || days < 0 || days > 3650)) {
		app_set(&st.error, "The expiry is a number of days from 1 to 3650, or empty for never.");
		return;
	}
	if (strlen(st.name) > 200) {
		app_set(&st.error, "The name is too long: 200 bytes at most.");
		return;
	}
	buf_init(&body, 0);
	buf_puts(&body, "{\"scopes\":[");
	for (i = 0; i < NSCOPES; i++)
		if (st.picked & 1u << i) {
			buf_puts(&body, n++ > 0 ? ",\"" : "\"");
			buf_puts(&body, scopes[i]);
			buf_puts(&body, "\"");
		}
	if (n == 0) {
		app_set(&st.error, "Choose at least one scope.");
		buf_free(&body);
		return;
	}
	buf_puts(&body, "],\"name\":");
	wj_write_str(&body, st.name);
	buf_printf(&body, ",\"expires_in_days\":%ld}", days);
	app_fetch(app, &page_keys, TAG_CREATE, "POST", "/api/v1/keys", body.data, 0);
	buf_free(&body);
	st.busy = 1;
	app_set(&st.secret, NULL);
}

static void
event(struct app *app, const struct ui_event *ev)
{
	size_t	 i;

	if (strcmp(ev->action, "key-name") == 0)
		app_set(&st.name, ev->value);
	else if (strcmp(ev->action, "key-days") == 0)
		app_set(&st.days, ev->value);
	else if (strncmp(ev->action, "scope:", 6) == 0) {
		for (i = 0; i < NSCOPES; i++)
			if (strcmp(scopes[i], ev->action + 6) == 0)
				st.picked ^= 1u << i;
	} else if (strcmp(ev->action, "key-create") == 0 && !st.busy)
		create(app, ev);
	else if (strncmp(ev->action, "revoke:", 7) == 0 && !st.busy) {
		app_fetch(app, &page_keys, TAG_REVOKE, "DELETE", arena_printf(app->msg,
		    "/api/v1/keys/%s", route_encode(app->msg, ev->action + 7)), NULL, 0);
		st.busy = 1;
	} else if (strcmp(ev->action, "secret-hide") == 0)
		app_set(&st.secret, NULL);
}

static void
form(struct app *app, struct view *v)
{
	size_t	 i;

	v_open(v, "form");
	v_attr(v, "class", "card key-form");
	v_attr(v, "data-submit", "key-create");
	v_leaf(v, "h2", "A new key");
	view_field(v, "input", "key-name", "Name (what uses it)", "text", st.name);
	view_field(v, "input", "key-days", "Expires after (days; empty: never)", "number", st.days);
	v_open(v, "fieldset");
	v_leaf(v, "legend", "Scopes (among your own)");
	for (i = 0; i < NSCOPES; i++) {
		if (!app_can(app, scopes[i]))
			continue;
		v_open(v, "label");
		v_key(v, scopes[i]);
		v_attr(v, "class", "check");
		v_open(v, "input");
		v_attr(v, "type", "checkbox");
		v_attrf(v, "data-change", "scope:%s", scopes[i]);
		v_attrf(v, "data-test", "scope-%s", scopes[i]);
		v_attr(v, "checked", st.picked & 1u << i ? "1" : "");
		v_close(v);
		v_text(v, scopes[i]);
		v_close(v);
	}
	v_close(v);
	view_submit(v, "key-create", st.busy, "Make the key");
	v_close(v);
}

static void
key_row(struct view *v, const struct wj *k)
{
	const char	*id = wj_gets(k, "id", ""), *revoked = wj_gets(k, "revoked_at", NULL);
	v_open(v, "tr");
	v_key(v, id);
	v_attr(v, "data-test", "key-row");
	v_attr(v, "data-id", id);
	v_attr(v, "data-state", revoked != NULL ? "revoked" : "active");
	v_open(v, "td");
	v_leafc(v, "code", NULL, id);
	v_close(v);
	v_leaf(v, "td", wj_gets(k, "name", ""));
	v_open(v, "td");
	view_tags(v, wj_get(k, "scopes"), "none");
	v_close(v);
	v_leaf(v, "td", view_time(v, wj_gets(k, "created_at", NULL)));
	v_leaf(v, "td", wj_gets(k, "expires_at", NULL) != NULL ?
	    view_time(v, wj_gets(k, "expires_at", NULL)) : "never");
	v_leaf(v, "td", wj_gets(k, "last_used_at", NULL) != NULL ?
	    view_time(v, wj_gets(k, "last_used_at", NULL)) : "never");
	v_open(v, "td");
	if (revoked != NULL)
		v_textf(v, "revoked %s", view_time(v, revoked));
	else
		view_button_for(v, arena_printf(v->arena, "revoke:%s", id), "key-revoke", NULL,
		    "Revoke", arena_printf(v->arena, "Revoke the key %s", id));
	v_close(v);
	v_close(v);
}

static void
view(struct app *app, struct view *v)
{
	const struct wj	*k;
	size_t		 i;
	static const char *const head[] = { "Id", "Name", "Scopes", "Made", "Expires", "Last used", "" };

	if (!app_can(app, "keys:admin")) {
		v_leaf(v, "p", "Your role does not manage API keys. Ask an owner or an admin of your "
		    "organization.");
		return;
	}
	view_error(v, st.error);
	if (st.secret != NULL) {
		v_open(v, "div");
		v_attr(v, "class", "card secret");
		v_attr(v, "role", "status");
		v_leaf(v, "p", "The new key. Copy it now: it is shown this once, and Switchboard keeps "
		    "only a hash of it.");
		v_open(v, "code");
		v_attr(v, "data-test", "key-secret");
		v_text(v, st.secret);
		v_close(v);
		view_button(v, "secret-hide", NULL, NULL, "I have copied it");
		v_close(v);
	}
	form(app, v);
	v_open(v, "div");
	v_attr(v, "class", "scroll");
	v_open(v, "table");
	v_attr(v, "class", "list");
	v_leaf(v, "caption", "The organization's keys, newest first");
	v_open(v, "thead");
	v_open(v, "tr");
	for (i = 0; i < sizeof(head) / sizeof(head[0]); i++) {
		v_open(v, "th");
		v_attr(v, "scope", "col");
		v_text(v, head[i][0] != '\0' ? head[i] : "Revoke");
		v_close(v);
	}
	v_close(v);
	v_close(v);
	v_open(v, "tbody");
	for (k = kept_first(&st.list); k != NULL; k = k->next)
		key_row(v, k);
	v_close(v);
	v_close(v);
	v_close(v);
}

static void
reset(struct app *app)
{
	(void)app;
	kept_free(&st.list);
	free(st.error);
	free(st.secret);
	free(st.name);
	free(st.days);
	memset(&st, 0, sizeof(st));
}

const struct page page_keys = {
	.name = "keys",
	.title = "API keys",
	.enter = enter,
	.leave = leave,
	.view = view,
	.event = event,
	.fetched = fetched,
	.reset = reset,
};
