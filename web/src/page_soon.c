/* page_soon.c: the pages the navigation names that later releases fill in (chat,
 * inbox, knowledge base, API keys), and the page for a route that names none. */
#include "config.h"

#include "web/src/app.h"

static void
soon(struct app *app, struct view *v)
{
	(void)app;
	v_open(v, "p");
	v_text(v, "This page is not part of this release yet. The API has it today: see ");
	v_open(v, "a");
	v_attr(v, "href", "/api/v1/version");
	v_text(v, "the API");
	v_close(v);
	v_text(v, " and its documentation.");
	v_close(v);
}

static void
missing(struct app *app, struct view *v)
{
	(void)app;
	v_open(v, "p");
	v_text(v, "There is no page at this address. ");
	v_open(v, "a");
	v_attr(v, "href", "#/");
	v_text(v, "Go to the home page");
	v_close(v);
	v_text(v, ".");
	v_close(v);
}

const struct page page_soon_chat = { .name = "chat", .title = "Chat", .view = soon };
const struct page page_soon_inbox = { .name = "inbox", .title = "Inbox", .view = soon };
const struct page page_soon_kb = { .name = "kb", .title = "Knowledge base", .view = soon };
const struct page page_soon_keys = { .name = "keys", .title = "API keys", .view = soon };
const struct page page_missing = { .name = "missing", .title = "Not found", .view = missing };
