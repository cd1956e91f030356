/* page_kb.c: Knowledge base (#/kb): the org's documents (GET /api/v1/kb/documents),
 * one added from a file (POST /api/v1/kb/documents: the glue reads the file's bytes
 * and hands them over; text or Markdown, UTF-8, at most MAX_DOC bytes as the API
 * takes them), and deleting one (DELETE /api/v1/kb/documents/{id}).  The file is kept
 * until it is sent or another is chosen; the page checks what the API would refuse
 * before sending it. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "web/src/app.h"
#include "web/src/wjson.h"

#define MAX_DOC		262144	/* the API's bound on content */
#define MAX_TITLE	200

enum { TAG_LIST = 1, TAG_ADD, TAG_DELETE };

static struct {
	struct kept	 list;
	char		*error;
	char		*done;
	char		*title;
	char		*file;		/* the chosen file's name */
	char		*content;	/* its bytes, checked UTF-8 */
	int		 markdown;
	int		 busy;
} st;

static void
load(struct app *app)
{
	app_fetch(app, &page_kb, TAG_LIST, "GET", "/api/v1/kb/documents?limit=200", NULL, 0);
}

static void
enter(struct app *app, int again)
{
	(void)again;
	st.busy = 0;		/* an answer for a page left is not delivered */
	load(app);
}

static void
forget_file(void)
{
	app_set(&st.file, NULL);
	app_set(&st.content, NULL);
	app_set(&st.title, NULL);
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
	if ((tag == TAG_ADD && r->status == 201) || (tag == TAG_DELETE && r->status == 204)) {
		app_set(&st.done, tag == TAG_ADD ? arena_printf(app->msg, "Added, in %.0f chunks.",
		    wj_num(wj_get(r->json, "chunks"), 0)) : "Deleted.");
		app_set(&st.error, NULL);
		if (tag == TAG_ADD)
			forget_file();
	} else
		app_set(&st.error, app_problem_text(app, r));
	load(app);
}

/* 1 when name ends with ext, ignoring ASCII case. */
static int
ends(const char *name, const char *ext)
{
	size_t	 n = strlen(name), e = strlen(ext), i;

	if (n < e)
		return 0;
	for (i = 0; i < e; i++)
		if ((name[n - e + i] | 0x20) != ext[i])
			return 0;
	return 1;
}

/* A file chosen: its name, size and (when not too large) bytes. */
static void
chosen(struct app *app, const struct ui_event *ev)
{
	const char	*name = ui_field(ev, "name", ""), *bytes = ui_field(ev, "bytes", NULL);
	unsigned long	 size = strtoul(ui_field(ev, "size", "0"), NULL, 10);
	size_t		 n;
	char		*title;

	forget_file();
	app_set(&st.done, NULL);
	app_set(&st.error, NULL);
	if (name[0] == '\0')
		return;
	if (size > MAX_DOC || bytes == NULL) {
		app_set(&st.error, arena_printf(app->msg, "That file is %lu bytes; a document is "
		    "256 KiB at most.", size));
		return;
	}
	n = strlen(bytes);
	if (n != size || !wj_utf8_ok(bytes, n)) {
		app_set(&st.error, "That file is not text: the knowledge base takes text and "
		    "Markdown files in UTF-8.");
		return;
	}
	app_set(&st.file, name);
	app_set(&st.content, bytes);
	st.markdown = ends(name, ".md") || ends(name, ".markdown");
	/* Its name without the extension, as the title to start from. */
	title = arena_strndup(app->msg, name, strlen(name) > MAX_TITLE ? MAX_TITLE : strlen(name));
	if (strrchr(title, '.') != NULL && strrchr(title, '.') != title)
		*strrchr(title, '.') = '\0';
	app_set(&st.title, title);
}

static void
add(struct app *app, const struct ui_event *ev)
{
	struct sb_buf	 body;
	int		 first = 1;

	app_set(&st.title, ui_field(ev, "kb-title", st.title != NULL ? st.title : ""));
	if (st.content == NULL) {
		app_set(&st.error, "Choose a file first.");
		return;
	}
	if (st.title[0] == '\0' || strlen(st.title) > MAX_TITLE) {
		app_set(&st.error, "The title is 1 to 200 bytes.");
		return;
	}
	buf_init(&body, 0);
	buf_puts(&body, "{");
	wj_write_member(&body, &first, "title", st.title);
	wj_write_member(&body, &first, "content", st.content);
	wj_write_member(&body, &first, "format", st.markdown ? "markdown" : "text");
	buf_puts(&body, "}");
	app_fetch(app, &page_kb, TAG_ADD, "POST", "/api/v1/kb/documents", body.data, 0);
	buf_free(&body);
	st.busy = 1;
}

static void
event(struct app *app, const struct ui_event *ev)
{
	if (strcmp(ev->action, "kb-file") == 0)
		chosen(app, ev);
	else if (strcmp(ev->action, "kb-title") == 0)
		app_set(&st.title, ev->value);
	else if (strcmp(ev->action, "kb-add") == 0 && !st.busy)
		add(app, ev);
	else if (strncmp(ev->action, "delete:", 7) == 0 && !st.busy) {
		app_fetch(app, &page_kb, TAG_DELETE, "DELETE", arena_printf(app->msg,
		    "/api/v1/kb/documents/%s", route_encode(app->msg, ev->action + 7)), NULL, 0);
		st.busy = 1;
	}
}

static void
form(struct view *v)
{
	v_open(v, "form");
	v_attr(v, "class", "card kb-form");
	v_attr(v, "data-submit", "kb-add");
	v_leaf(v, "h2", "Add a document");
	v_open(v, "div");
	v_attr(v, "class", "field");
	v_open(v, "label");
	v_attr(v, "for", "kb-file");
	v_text(v, "A text or Markdown file (UTF-8, 256 KiB at most)");
	v_close(v);
	v_open(v, "input");
	v_attr(v, "id", "kb-file");
	v_attr(v, "type", "file");
	v_attr(v, "accept", ".txt,.md,.markdown,text/plain,text/markdown");
	v_attr(v, "data-change", "kb-file");
	v_attr(v, "data-max", "262144");
	v_attr(v, "data-test", "kb-file");
	v_close(v);
	v_close(v);
	view_field(v, "input", "kb-title", "Title", "text", st.title);
	if (st.file != NULL)
		v_leafc(v, "p", "summary", arena_printf(v->arena, "%s: %zu bytes, as %s", st.file,
		    strlen(st.content), st.markdown ? "Markdown" : "text"));
	view_submit(v, "kb-add", st.busy, "Add it");
	v_close(v);
}

static void
view(struct app *app, struct view *v)
{
	const struct wj	*d;
	const char	*id;

	view_error(v, st.error);
	view_status(v, st.done);
	if (app_can(app, "kb:write"))
		form(v);
	v_leaf(v, "h2", "Documents");
	if (st.list.v != NULL && kept_first(&st.list) == NULL)
		v_leaf(v, "p", "The knowledge base is empty.");
	v_open(v, "ul");
	v_attr(v, "class", "docs");
	for (d = kept_first(&st.list); d != NULL; d = d->next) {
		id = wj_gets(d, "id", "");
		v_open(v, "li");
		v_key(v, id);
		v_attr(v, "class", "card doc");
		v_attr(v, "data-test", "kb-doc");
		v_leaf(v, "h3", wj_gets(d, "title", ""));
		v_leafc(v, "p", "summary", arena_printf(v->arena, "%s · %.0f bytes · %.0f chunks · added %s",
		    wj_gets(d, "format", "text"), wj_num(wj_get(d, "bytes"), 0), wj_num(wj_get(d, "chunks"), 0),
		    view_time(v, wj_gets(d, "created_at", NULL))));
		if (app_can(app, "kb:write"))
			view_button_for(v, arena_printf(v->arena, "delete:%s", id), "kb-delete", NULL,
			    "Delete", arena_printf(v->arena, "Delete %s", wj_gets(d, "title", "the document")));
		v_close(v);
	}
	v_close(v);
}

static void
reset(struct app *app)
{
	(void)app;
	kept_free(&st.list);
	free(st.error);
	free(st.done);
	free(st.title);
	free(st.file);
	free(st.content);
	memset(&st, 0, sizeof(st));
}

const struct page page_kb = {
	.name = "kb",
	.title = "Knowledge base",
	.enter = enter,
	.view = view,
	.event = event,
	.fetched = fetched,
	.reset = reset,
};
