/* app.c: the app loop: one input message in, new state, a render, the operations out
 * (app.h).  It owns the session (who is signed in, the CSRF token), the route, and the
 * table of fetches, streams and timers in flight, which it hands to the pages. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "web/src/app.h"
#include "web/src/wire.h"

#define TAG_ME		1	/* the app's own fetches */
#define TAG_LOGOUT	2
#define TIMER_ME	(APP_MAX_TIMERS + 1)	/* the app's own timer: ask /me again */
#define TIMER_PARK	(APP_MAX_TIMERS + 2)	/* the app's own: a hidden tab's streams go */

void
app_set(char **slot, const char *s)
{
	char	*copy = s != NULL ? sb_strdup(s) : NULL;	/* s may be *slot itself */

	free(*slot);
	*slot = copy;
}

struct app *
app_new(void)
{
	struct app	*app = sb_calloc(1, sizeof(*app));

	buf_init(&app->out, 0);
	app->render[0] = arena_new(16384);
	app->render[1] = arena_new(16384);
	app->msg = arena_new(16384);
	app->next_id = WIRE_MOUNT + 1;
	app->next_req = 1;
	app->online = 1;
	app->sse = 1;
	app->route.page = &page_home;
	app->route.sub = sb_strdup("");
	app->route.query = sb_strdup("");
	return app;
}

void
app_free(struct app *app)
{
	if (app == NULL)
		return;
	if (app->route.page != NULL && app->route.page->leave != NULL)
		app->route.page->leave(app);
	buf_free(&app->out);
	arena_free(app->render[0]);
	arena_free(app->render[1]);
	arena_free(app->msg);
	free(app->route.sub);
	free(app->route.query);
	free(app->want);
	free(app->hash);
	free(app->csrf);
	free(app->user_email);
	free(app->user_name);
	free(app->org_name);
	free(app->role);
	free(app->scopes);
	free(app->flash);
	free(app->title);
	free(app);
}

void
app_fetch(struct app *app, const struct page *page, unsigned tag, const char *method,
    const char *url, const char *body, unsigned flags)
{
	size_t	 i;

	for (i = 0; i < APP_MAX_FETCHES && app->fetches[i].req != 0; i++)
		;
	if (i == APP_MAX_FETCHES) {
		/* A page that keeps this many requests open has a bug: say so in words. */
		app_set(&app->flash, "Too many requests are waiting for an answer. Reload the page.");
		return;
	}
	app->fetches[i].req = app->next_req++;
	app->fetches[i].page = page;
	app->fetches[i].tag = tag;
	wire_u8(&app->out, OP_FETCH);
	wire_u32(&app->out, app->fetches[i].req);
	wire_str(&app->out, method);
	wire_str(&app->out, url);
	wire_str(&app->out, body);
	wire_str(&app->out, strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 ?
	    app->csrf : NULL);
	wire_u32(&app->out, flags);
}

void
app_sse_open(struct app *app, const struct page *page, unsigned n, const char *url,
    const char *types)
{
	if (n < 1 || n > APP_MAX_STREAMS || !app->sse)
		return;		/* without EventSource the page follows otherwise */
	app->streams[n - 1] = page;
	wire_u8(&app->out, OP_SSE_OPEN);
	wire_u32(&app->out, n);
	wire_str(&app->out, url);
	wire_str(&app->out, types);
}

void
app_sse_close(struct app *app, unsigned n)
{
	if (n < 1 || n > APP_MAX_STREAMS || app->streams[n - 1] == NULL)
		return;
	app->streams[n - 1] = NULL;
	wire_u8(&app->out, OP_SSE_CLOSE);
	wire_u32(&app->out, n);
}

static void
timer_op(struct app *app, unsigned n, unsigned ms, int set)
{
	wire_u8(&app->out, set ? OP_TIMER : OP_UNTIMER);
	wire_u32(&app->out, n);
	if (set)
		wire_u32(&app->out, ms);
}

void
app_timer(struct app *app, const struct page *page, unsigned n, unsigned ms)
{
	if (n < 1 || n > APP_MAX_TIMERS)
		return;
	app->timers[n - 1] = page;
	timer_op(app, n, ms, 1);
}

void
app_untimer(struct app *app, unsigned n)
{
	if (n >= 1 && n <= APP_MAX_TIMERS)
		app->resume[n - 1].page = NULL;
	if (n < 1 || n > APP_MAX_TIMERS || app->timers[n - 1] == NULL)
		return;
	app->timers[n - 1] = NULL;
	timer_op(app, n, 0, 0);
}

void
app_stream_lost(struct app *app, const struct page *page, unsigned tag, unsigned n)
{
	if (app->parked && n >= 1 && n <= APP_MAX_TIMERS) {
		app->resume[n - 1].page = page;		/* when the tab shows again */
		app->resume[n - 1].tag = tag;
		return;
	}
	app_fetch(app, page, tag, "GET", "/api/v1/me", NULL, 0);
	app_timer(app, page, n, 3000);
}

/* The tab hid long enough: its streams close, and their pages see them closed. */
static void
park(struct app *app)
{
	const struct page	*page;
	unsigned		 n;

	app->parked = 1;
	for (n = 1; n <= APP_MAX_STREAMS; n++)
		if ((page = app->streams[n - 1]) != NULL) {
			app_sse_close(app, n);
			if (page->sse_state != NULL)
				page->sse_state(app, n, 2);
		}
}

static void
on_visible(struct app *app, int visible)
{
	const struct page	*page;
	unsigned		 n;

	if (!visible) {
		if (!app->hidden)
			timer_op(app, TIMER_PARK, APP_PARK_MS, 1);
		app->hidden = 1;
		return;
	}
	if (app->hidden && !app->parked)
		timer_op(app, TIMER_PARK, 0, 0);
	app->hidden = 0;
	if (!app->parked)
		return;
	app->parked = 0;
	/* Shown again: the streams reopen at once, the session checked as after a loss. */
	for (n = 1; n <= APP_MAX_TIMERS; n++)
		if ((page = app->resume[n - 1].page) != NULL) {
			app->resume[n - 1].page = NULL;
			app_fetch(app, page, app->resume[n - 1].tag, "GET", "/api/v1/me", NULL, 0);
			app_timer(app, page, n, 0);
		}
}

void
app_go(struct app *app, const char *hash)
{
	wire_u8(&app->out, OP_HASH);
	wire_str(&app->out, hash);
}

/* Shows the page the hash names, or the one the session allows instead.  The page
 * entered is told whether it was already showing (its query changed). */
static void
route_to(struct app *app, const char *hash)
{
	const struct page	*page, *was = app->route.page;
	const char		*query, *sub;
	size_t			 nsub, n;

	app_set(&app->hash, hash);
	hash = app->hash;		/* the caller's may have been the old app->hash */
	if (app->session == SESSION_UNKNOWN)
		return;
	page = route_find(hash, &sub, &nsub, &query);
	if (!page->public && app->session != SESSION_OK) {
		app_set(&app->want, hash);
		page = &page_login;
		query = sub = "";
		nsub = 0;
	} else if (page == &page_login && app->session == SESSION_OK) {
		page = &page_home;
		query = sub = "";
		nsub = 0;
	}
	sub = arena_strndup(app->msg, sub, nsub);
	if (page == was && app->entered && strcmp(query, app->route.query) == 0 &&
	    strcmp(sub, app->route.sub) == 0)
		return;
	if (page != was && app->entered && was->leave != NULL)
		was->leave(app);
	if (page != was)
		for (n = 0; n < APP_MAX_TIMERS; n++)
			if (app->resume[n].page == was)
				app->resume[n].page = NULL;	/* its streams are not reopened */
	app_set(&app->route.sub, sub);
	app_set(&app->route.query, query);
	app->route.page = page;
	if (page->enter != NULL)
		page->enter(app, page == was && app->entered);
	app->entered = 1;
}

/* ",a,b," of the array of scope names, in the message's arena. */
static const char *
scopes_of(struct app *app, const struct wj *list)
{
	struct sb_buf	 b;
	const struct wj	*s;
	char		*out;

	buf_init(&b, 0);
	buf_puts(&b, ",");
	for (s = list != NULL && list->type == WJ_ARRAY ? list->first : NULL; s != NULL; s = s->next)
		if (s->type == WJ_STRING && strchr(s->str, ',') == NULL) {
			buf_puts(&b, s->str);
			buf_puts(&b, ",");
		}
	out = arena_strndup(app->msg, b.data, b.len);
	buf_free(&b);
	return out;
}

int
app_can(const struct app *app, const char *scope)
{
	char	 pat[64];

	if (app->scopes == NULL || strlen(scope) > sizeof(pat) - 3)
		return 0;
	snprintf(pat, sizeof(pat), ",%s,", scope);
	return strstr(app->scopes, pat) != NULL;
}

const char *
ui_field(const struct ui_event *ev, const char *name, const char *dflt)
{
	size_t	 i;

	for (i = 0; i < ev->nfields; i++)
		if (strcmp(ev->names[i], name) == 0)
			return ev->values[i];
	return dflt;
}

int
kept_set(struct kept *k, const struct reply *r, const char *member)
{
	const struct wj	*v;

	if ((r->status != 200 && r->status != 201) || r->json == NULL)
		return -1;
	v = member != NULL ? wj_get(r->json, member) : r->json;
	if (v == NULL || (member != NULL && v->type != WJ_ARRAY))
		return -1;
	if (k->arena == NULL)
		k->arena = arena_new(16384);
	arena_reset(k->arena);
	v = wj_parse(k->arena, r->text, r->len, NULL);
	k->v = member != NULL ? wj_get(v, member) : v;
	return 0;
}

void
kept_free(struct kept *k)
{
	arena_free(k->arena);
	k->arena = NULL;
	k->v = NULL;
}

const struct wj *
kept_first(const struct kept *k)
{
	return k->v != NULL && k->v->type == WJ_ARRAY ? k->v->first : NULL;
}

void
app_signed_in(struct app *app, const struct wj *me)
{
	const struct wj	*user = wj_get(me, "user"), *org = wj_get(me, "org");
	const char	*go = app->want != NULL ? app->want : app->hash;

	app->session = SESSION_OK;
	app_set(&app->csrf, wj_gets(me, "csrf_token", NULL));
	app_set(&app->user_email, wj_gets(user, "email", ""));
	app_set(&app->user_name, wj_gets(user, "name", ""));
	app_set(&app->org_name, wj_gets(org, "name", ""));
	app_set(&app->role, wj_gets(me, "role", ""));
	app_set(&app->scopes, scopes_of(app, wj_get(me, "scopes")));
	app_set(&app->flash, NULL);
	if (go == NULL || strncmp(go, "#/login", 7) == 0)
		go = "#/";
	app_go(app, go);
	route_to(app, go);
	app_set(&app->want, NULL);
}

void
app_signed_out(struct app *app)
{
	app->session = SESSION_NONE;
	if (app->entered && app->route.page->leave != NULL)
		app->route.page->leave(app);
	app->entered = 0;
	route_reset_all(app);
	app_set(&app->csrf, NULL);
	app_set(&app->user_email, NULL);
	app_set(&app->user_name, NULL);
	app_set(&app->org_name, NULL);
	app_set(&app->role, NULL);
	app_set(&app->scopes, NULL);
	if (app->hash != NULL && strncmp(app->hash, "#/login", 7) != 0)
		app_set(&app->want, app->hash);
	app_go(app, "#/login");
	route_to(app, "#/login");
}

/* The app's own answers: who is signed in; signing out. */
static void
own_fetched(struct app *app, unsigned tag, const struct reply *r)
{
	if (tag == TAG_ME) {
		if (r->status == 200 && r->json != NULL)
			app_signed_in(app, r->json);
		else if (r->status == 401)
			app_signed_out(app);
		else {
			app_set(&app->flash, app_problem_text(app, r));
			timer_op(app, TIMER_ME, 3000, 1);
		}
	} else if (tag == TAG_LOGOUT) {
		if (r->status == 204 || r->status == 401)
			app_signed_out(app);
		else
			app_set(&app->flash, app_problem_text(app, r));
	}
}

static void
ask_me(struct app *app)
{
	app_fetch(app, NULL, TAG_ME, "GET", "/api/v1/me", NULL, 0);
}

static const char *
in_cstr(struct app *app, struct wire_in *in)
{
	size_t		 n;
	const char	*s = wire_in_str(in, &n);

	return arena_strndup(app->msg, s, n);
}

static int
on_event(struct app *app, struct wire_in *in)
{
	struct ui_event	 ev;
	uint32_t	 i;

	memset(&ev, 0, sizeof(ev));
	ev.type = in_cstr(app, in);
	ev.action = in_cstr(app, in);
	ev.value = in_cstr(app, in);
	ev.nfields = wire_in_u32(in);
	if (in->bad || ev.nfields > 256)
		return -1;
	ev.names = arena_calloc(app->msg, ev.nfields + 1, sizeof(*ev.names));
	ev.values = arena_calloc(app->msg, ev.nfields + 1, sizeof(*ev.values));
	for (i = 0; i < ev.nfields; i++) {
		ev.names[i] = in_cstr(app, in);
		ev.values[i] = in_cstr(app, in);
	}
	if (in->bad)
		return -1;
	if (strcmp(ev.action, "logout") == 0)
		app_fetch(app, NULL, TAG_LOGOUT, "POST", "/api/v1/auth/logout", NULL, 0);
	else if (strcmp(ev.action, "dismiss") == 0)
		app_set(&app->flash, NULL);
	else if (app->entered && app->route.page->event != NULL)
		app->route.page->event(app, &ev);
	return 0;
}

static int
on_fetch(struct app *app, struct wire_in *in)
{
	uint32_t		 req = wire_in_u32(in);
	struct reply		 r;
	const struct page	*page;
	unsigned		 tag;
	size_t			 i, n;

	memset(&r, 0, sizeof(r));
	r.status = (int)wire_in_u32(in);
	r.text = wire_in_str(in, &n);
	r.len = n;
	if (in->bad)
		return -1;
	r.text = arena_strndup(app->msg, r.text, n);
	for (i = 0; i < APP_MAX_FETCHES && app->fetches[i].req != req; i++)
		;
	if (req == 0 || i == APP_MAX_FETCHES)
		return 0;
	page = app->fetches[i].page;
	tag = app->fetches[i].tag;
	app->fetches[i].req = 0;
	if (n > 0 && (r.text[0] == '{' || r.text[0] == '['))
		r.json = wj_parse(app->msg, r.text, n, NULL);
	if (page == NULL) {
		own_fetched(app, tag, &r);
		return 0;
	}
	/* A session that ended elsewhere (signed out in another tab, expired): sign in
	 * again, then come back here. */
	if (r.status == 401 && app->session == SESSION_OK) {
		app_signed_out(app);
		app_set(&app->flash, "Your session has ended. Sign in again to go on.");
		return 0;
	}
	if (page == app->route.page && page->fetched != NULL)
		page->fetched(app, tag, &r);
	return 0;
}

static int
on_sse(struct app *app, struct wire_in *in, int state_only)
{
	uint32_t		 n = wire_in_u32(in);
	struct sse_event	 ev;
	const struct page	*page;
	size_t			 len;
	const char		*data;
	uint32_t		 state;

	if (in->bad)
		return -1;
	if (n < 1 || n > APP_MAX_STREAMS || (page = app->streams[n - 1]) == NULL)
		return 0;
	if (state_only) {
		state = wire_in_u32(in);
		if (in->bad)
			return -1;
		if (state == 2)
			app->streams[n - 1] = NULL;
		if (page->sse_state != NULL)
			page->sse_state(app, n, state);
		return 0;
	}
	ev.type = in_cstr(app, in);
	ev.id = in_cstr(app, in);
	data = wire_in_str(in, &len);
	if (in->bad)
		return -1;
	ev.data = wj_parse(app->msg, data, len, NULL);
	if (page->sse != NULL)
		page->sse(app, n, &ev);
	return 0;
}

static void
on_timer(struct app *app, uint32_t n)
{
	const struct page	*page;

	if (n == TIMER_ME) {
		if (app->session == SESSION_UNKNOWN)
			ask_me(app);
		return;
	}
	if (n == TIMER_PARK) {
		if (app->hidden && !app->parked)
			park(app);
		return;
	}
	if (n < 1 || n > APP_MAX_TIMERS || (page = app->timers[n - 1]) == NULL)
		return;
	app->timers[n - 1] = NULL;
	if (page->timer != NULL)
		page->timer(app, n);
}

static void
render(struct app *app)
{
	struct view	 v;
	int		 next = !app->cur;
	char		 title[160];

	arena_reset(app->render[next]);
	view_begin(&v, app->render[next]);
	chrome_view(app, &v);
	vdom_diff(&app->out, WIRE_MOUNT, app->dom, v.root, &app->next_id);
	app->dom = v.root;
	app->cur = next;
	snprintf(title, sizeof(title), "%s · Switchboard",
	    app->session == SESSION_UNKNOWN ? "Loading" : app->route.page->title);
	if (app->title == NULL || strcmp(title, app->title) != 0) {
		app_set(&app->title, title);
		wire_u8(&app->out, OP_TITLE);
		wire_str(&app->out, title);
	}
}

void
app_input(struct app *app, const void *msg, size_t len)
{
	struct wire_in	 in;
	unsigned	 kind;
	const char	*hash;
	uint32_t	 v;

	buf_reset(&app->out);
	arena_reset(app->msg);
	wire_in_init(&in, msg, len);
	kind = wire_in_u8(&in);
	switch (kind) {
	case IN_START:
		hash = in_cstr(app, &in);
		v = wire_in_u32(&in);
		if (in.bad)
			return;
		app->online = v != 0;
		/* caps: an older glue sent none */
		app->sse = in.off == in.len || (wire_in_u32(&in) & CAP_SSE) != 0;
		app_set(&app->hash, hash);
		ask_me(app);
		break;
	case IN_ROUTE:
		hash = in_cstr(app, &in);
		if (in.bad)
			return;
		route_to(app, hash);
		break;
	case IN_EVENT:
		if (on_event(app, &in) < 0)
			return;
		break;
	case IN_FETCH:
		if (on_fetch(app, &in) < 0)
			return;
		break;
	case IN_SSE:
	case IN_SSE_STATE:
		if (on_sse(app, &in, kind == IN_SSE_STATE) < 0)
			return;
		break;
	case IN_TIMER:
		v = wire_in_u32(&in);
		if (in.bad)
			return;
		on_timer(app, v);
		break;
	case IN_ONLINE:
		v = wire_in_u32(&in);
		if (in.bad)
			return;
		app->online = v != 0;
		break;
	case IN_VISIBLE:
		v = wire_in_u32(&in);
		if (in.bad)
			return;
		on_visible(app, v != 0);
		break;
	default:
		return;
	}
	render(app);
}
