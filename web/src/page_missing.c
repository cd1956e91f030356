/* page_missing.c: the page for a route that names none. */
#include "config.h"

#include "web/src/app.h"

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

const struct page page_missing = { .name = "missing", .title = "Not found", .view = missing };
