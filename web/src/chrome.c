/* chrome.c: what frames every page: the header with the navigation and who is signed
 * in, the offline banner, the app's message, and <main> with the page's heading. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "core/arena.h"

#include "web/src/app.h"

static const struct {
	const char		*href;
	const char		*label;
	const char		*test;
	const struct page	*page;
	const char		*scope;		/* shown to those who hold it */
} nav[] = {
	{ "#/",		"Home",		"nav-home",	&page_home,	"runs:read" },
	{ "#/agents",	"Agents",	"nav-agents",	&page_agents,	"agents:read" },
	{ "#/chat",	"Chat",		"nav-chat",	&page_chat,	"runs:read" },
	{ "#/inbox",	"Inbox",	"nav-inbox",	&page_inbox,	"inbox:read" },
	{ "#/kb",	"Knowledge",	"nav-kb",	&page_kb,	"kb:read" },
	{ "#/keys",	"API keys",	"nav-keys",	&page_keys,	"keys:admin" },
	{ "#/audit",	"Audit log",	"nav-audit",	&page_audit,	"audit:read" },
};

static void
header(struct app *app, struct view *v)
{
	size_t	 i;

	v_open(v, "header");
	v_attr(v, "class", "top");
	v_open(v, "a");
	v_attr(v, "class", "brand");
	v_attr(v, "href", "#/");
	v_text(v, "Switchboard");
	v_close(v);
	if (app->session == SESSION_OK) {
		v_open(v, "nav");
		v_attr(v, "aria-label", "Main");
		v_open(v, "ul");
		for (i = 0; i < sizeof(nav) / sizeof(nav[0]); i++) {
			if (!app_can(app, nav[i].scope))
				continue;
			v_open(v, "li");
			v_open(v, "a");
			v_attr(v, "href", nav[i].href);
			v_attr(v, "data-test", nav[i].test);
			if (app->route.page == nav[i].page)
				v_attr(v, "aria-current", "page");
			v_text(v, nav[i].label);
			v_close(v);
			v_close(v);
		}
		v_close(v);
		v_close(v);
		v_open(v, "div");
		v_attr(v, "class", "who");
		v_open(v, "span");
		v_attr(v, "class", "user");
		v_text(v, app->user_email);
		if (app->org_name != NULL && app->org_name[0] != '\0')
			v_textf(v, " · %s", app->org_name);
		v_close(v);
		v_open(v, "button");
		v_attr(v, "type", "button");
		v_attr(v, "class", "link");
		v_attr(v, "data-click", "logout");
		v_attr(v, "data-test", "logout");
		v_text(v, "Sign out");
		v_close(v);
		v_close(v);
	}
	v_close(v);
}

void
chrome_view(struct app *app, struct view *v)
{
	const struct page	*page = app->route.page;

	v_open(v, "div");
	v_attr(v, "class", "app");
	header(app, v);
	if (!app->online) {
		v_open(v, "div");
		v_attr(v, "class", "banner offline");
		v_attr(v, "role", "status");
		v_attr(v, "data-test", "offline-banner");
		v_text(v, "You are offline. What you see may be out of date; it catches up "
		    "once you are back online.");
		v_close(v);
	}
	if (app->flash != NULL) {
		v_open(v, "div");
		v_attr(v, "class", "banner flash");
		v_attr(v, "role", "alert");
		v_leaf(v, "span", app->flash);
		v_open(v, "button");
		v_attr(v, "type", "button");
		v_attr(v, "class", "link");
		v_attr(v, "data-click", "dismiss");
		v_text(v, "Dismiss");
		v_close(v);
		v_close(v);
	}
	v_open(v, "main");
	/* A new <main> per page: its heading takes the focus, so that a screen reader
	 * announces the page a link led to. */
	v_key(v, app->session == SESSION_UNKNOWN ? "loading" : page->name);
	v_attr(v, "id", "main");
	if (app->session == SESSION_UNKNOWN) {
		v_open(v, "p");
		v_attr(v, "class", "loading");
		v_attr(v, "role", "status");
		v_text(v, "Loading…");
		v_close(v);
	} else {
		v_open(v, "h1");
		v_attr(v, "tabindex", "-1");
		v_focus(v);
		v_text(v, page->title);
		v_close(v);
		if (page->view != NULL)
			page->view(app, v);
	}
	v_close(v);
	v_close(v);
}

void
view_error(struct view *v, const char *text)
{
	if (text == NULL)
		return;
	v_open(v, "p");
	v_attr(v, "class", "error");
	v_attr(v, "role", "alert");
	v_text(v, text);
	v_close(v);
}

void
view_field(struct view *v, const char *tag, const char *id, const char *label,
    const char *type, const char *value)
{
	v_open(v, "div");
	v_attr(v, "class", "field");
	v_open(v, "label");
	v_attr(v, "for", id);
	v_text(v, label);
	v_close(v);
	v_open(v, tag);
	v_attr(v, "id", id);
	v_attr(v, "name", id);
	if (type != NULL)
		v_attr(v, "type", type);
	v_attr(v, "data-input", id);
	v_attr(v, "data-test", id);
	v_attr(v, "value", value != NULL ? value : "");
	v_close(v);
	v_close(v);
}

void
view_button_for(struct view *v, const char *action, const char *test, const char *cls,
    const char *label, const char *aria)
{
	v_open(v, "button");
	v_attr(v, "type", "button");
	if (cls != NULL)
		v_attr(v, "class", cls);
	v_attr(v, "data-click", action);
	if (test != NULL)
		v_attr(v, "data-test", test);
	if (aria != NULL)
		v_attr(v, "aria-label", aria);
	v_text(v, label);
	v_close(v);
}

void
view_button(struct view *v, const char *action, const char *test, const char *cls,
    const char *label)
{
	view_button_for(v, action, test, cls, label, NULL);
}

void
view_submit(struct view *v, const char *test, int busy, const char *label)
{
	v_open(v, "button");
	v_attr(v, "type", "submit");
	v_attr(v, "class", "primary");
	v_attr(v, "data-test", test);
	if (busy)
		v_attr(v, "aria-disabled", "true");
	v_text(v, label);
	v_close(v);
}

void
view_status(struct view *v, const char *text)
{
	if (text == NULL)
		return;
	v_open(v, "p");
	v_attr(v, "role", "status");
	v_attr(v, "class", "done");
	v_text(v, text);
	v_close(v);
}

const char *
view_time(struct view *v, const char *iso)
{
	if (iso == NULL || strlen(iso) < 19 || iso[10] != 'T')
		return iso != NULL ? iso : "";
	return arena_printf(v->arena, "%.10s %.8s", iso, iso + 11);
}

void
view_tags(struct view *v, const struct wj *list, const char *none)
{
	const struct wj	*t = list != NULL && list->type == WJ_ARRAY ? list->first : NULL;

	if (t == NULL)
		v_text(v, none);
	for (; t != NULL; t = t->next)
		v_leafc(v, "span", "tag", wj_str(t, "?"));
}
