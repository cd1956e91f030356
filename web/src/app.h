/* app.h: the browser app: its state, the loop that turns each input message (wire.h)
 * into new state, a render and the operations for the glue, and the page interface.
 *
 * One file per page (page_*.c) fills a struct page; app.c routes to it, gives it the
 * events, fetch answers, stream events and timers meant for it, and asks it for its
 * part of the view.  A page keeps its own state in a static struct and owns what it
 * allocates there; app_t's strings belong to app.c.
 *
 * Adding a page: a page_NAME.c with `const struct page page_NAME`, a line in the
 * route table in route.c, a link in chrome.c's navigation, the file in Makefile.am. */
#ifndef SB_WEB_APP_H
#define SB_WEB_APP_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "web/src/vdom.h"
#include "web/src/wjson.h"

struct app;

/* A DOM event the glue forwarded: on an element with data-<type>="action". */
struct ui_event {
	const char	*type;		/* click, input, change, submit */
	const char	*action;
	const char	*value;		/* an input's value; "" otherwise */
	size_t		 nfields;	/* submit: the form's named controls */
	const char	**names;
	const char	**values;
};

/* A fetch's answer: body parsed when it is JSON (problem+json included). */
struct reply {
	int		 status;	/* 0: no answer reached the app (offline, refused) */
	const char	*text;		/* the body as text */
	size_t		 len;
	const struct wj	*json;		/* NULL when the body is not JSON */
};

struct sse_event {
	const char	*type;
	const char	*id;		/* the event's id (lastEventId) */
	const struct wj	*data;		/* NULL when data is not JSON */
};

struct page {
	const char	*name;		/* the route's first segment: "agents" */
	const char	*title;		/* for document.title and the heading */
	int		 public;	/* shown without a session (sign in) */
	/* The route became this page (or its query changed: again is 1). */
	void		(*enter)(struct app *, int again);
	/* The route left it: close what it opened. */
	void		(*leave)(struct app *);
	/* Its content, inside <main>. */
	void		(*view)(struct app *, struct view *);
	void		(*event)(struct app *, const struct ui_event *);
	/* A fetch it made (tag: its own number) answered. */
	void		(*fetched)(struct app *, unsigned tag, const struct reply *);
	void		(*sse)(struct app *, unsigned stream, const struct sse_event *);
	/* A stream's state: 1 open, 0 reconnecting by itself, 2 closed for good. */
	void		(*sse_state)(struct app *, unsigned stream, unsigned state);
	void		(*timer)(struct app *, unsigned timer);
	/* The session ended: forget what the page kept of it. */
	void		(*reset)(struct app *);
};

/* The route: page, what follows its segment ("#/chat/ID": "ID") and query
 * (name=value&..., decoded on demand by route_param). */
struct route {
	const struct page	*page;
	char			*sub;		/* app-owned; "" when none */
	char			*query;		/* app-owned; "" when none */
};

/* A JSON answer a page keeps past the message that brought it: parsed again into the
 * page's own arena (a reply's tree lives for one message). */
struct kept {
	struct sb_arena		*arena;
	const struct wj		*v;		/* NULL until kept */
};

/* Per-app ids: a page asks for its streams and timers by a small number of its own;
 * app.c maps them. */
#define APP_MAX_STREAMS	4
#define APP_MAX_TIMERS	8
#define APP_MAX_FETCHES	32
/* Over HTTP/1.1 a browser holds at most six connections to a host for all its tabs,
 * and each open stream holds one: a tab hidden this long closes its streams. */
#define APP_PARK_MS	60000

struct app {
	struct sb_buf		 out;		/* operations for the glue */
	struct sb_arena		*render[2];	/* this render's and the one before's */
	int			 cur;
	struct vnode		*dom;		/* what the document shows */
	uint32_t		 next_id;
	struct sb_arena		*msg;		/* the input message being handled */

	int			 online;
	int			 sse;		/* the browser has EventSource (IN_START's caps) */
	char			*hash;		/* the location's hash, as the glue said */
	struct route		 route;
	int			 entered;	/* route.page was entered */
	char			*want;		/* the hash to go to after signing in */
	char			*title;		/* document.title as last set */

	/* The session: unknown until /api/v1/me answered. */
	enum { SESSION_UNKNOWN, SESSION_NONE, SESSION_OK } session;
	char			*csrf;
	char			*user_email;
	char			*user_name;
	char			*org_name;
	char			*role;
	char			*scopes;	/* ",runs:read,runs:write," */
	char			*flash;		/* a message for the whole app (an error) */

	struct {
		uint32_t		 req;	/* 0: free */
		const struct page	*page;	/* NULL: the app's own */
		unsigned		 tag;
	} fetches[APP_MAX_FETCHES];
	uint32_t		 next_req;
	const struct page	*streams[APP_MAX_STREAMS];	/* who opened stream i+1 */
	const struct page	*timers[APP_MAX_TIMERS];

	/* A tab hidden for APP_PARK_MS gives its streams back (parked); the reopen each
	 * page then asks for (app_stream_lost) waits in resume[timer - 1] until the tab
	 * shows again. */
	int			 hidden;
	int			 parked;
	struct {
		const struct page	*page;	/* NULL: none waits */
		unsigned		 tag;
	} resume[APP_MAX_TIMERS];
};

/* The app, ready for its first message; the caller owns it (app_free). */
struct app	*app_new(void);
void		 app_free(struct app *);
/* Handles one input message: afterwards app->out holds the operations to apply
 * (emptied at the start of each call).  A malformed message changes nothing. */
void		 app_input(struct app *, const void *msg, size_t len);

/* For pages.  Fetches are same-origin with the session's cookie; a method other than
 * GET sends the CSRF token; body NULL: none, else JSON.  flags: FETCH_MANUAL. */
void		 app_fetch(struct app *, const struct page *, unsigned tag, const char *method,
		    const char *url, const char *body, unsigned flags);
/* Opens stream n (1..APP_MAX_STREAMS) for the page, listening for the event types
 * named (comma-separated); nothing when the browser has no EventSource (app->sse).
 * app_sse_close closes it. */
void		 app_sse_open(struct app *, const struct page *, unsigned n, const char *url,
		    const char *types);
void		 app_sse_close(struct app *, unsigned n);
void		 app_timer(struct app *, const struct page *, unsigned n, unsigned ms);
void		 app_untimer(struct app *, unsigned n);
/* A page's stream closed for good (sse_state 2, an error status EventSource does not
 * tell): asks /api/v1/me with the page's tag, so that an ended session signs the
 * person out (a 401 leaves the page, which stops its timers), and sets the page's
 * timer n to open the stream again in 3 s. */
void		 app_stream_lost(struct app *, const struct page *, unsigned tag, unsigned n);
/* Goes to another route (the glue then reports the hashchange). */
void		 app_go(struct app *, const char *hash);
/* Replaces a string owned by the app or a page: copies s (NULL stays NULL; s may be
 * *slot itself), then frees what *slot held. */
void		 app_set(char **slot, const char *s);
/* The session of /api/v1/me's answer (or the login's, the same) began: keep its
 * CSRF token and who it is, and go where the person was going. */
void		 app_signed_in(struct app *, const struct wj *me);
/* The session ended: forget it and show the sign-in page. */
void		 app_signed_out(struct app *);
/* What a failed answer means, in words for a person (in the message's arena). */
const char	*app_problem_text(struct app *, const struct reply *);
/* 1 when the session's scopes hold scope ("keys:admin"). */
int		 app_can(const struct app *, const char *scope);
/* A submitted form's field of that name, or dflt. */
const char	*ui_field(const struct ui_event *, const char *name, const char *dflt);
/* Keeps member (NULL: the whole value) of r's JSON in k when r is a 200 or 201 with
 * it: 0; else -1 and k as it was.  kept_free forgets it. */
int		 kept_set(struct kept *k, const struct reply *r, const char *member);
void		 kept_free(struct kept *k);
/* The members of an array k keeps (NULL when none). */
const struct wj	*kept_first(const struct kept *k);

/* The route table (route.c): the page of a hash, and in *sub and *nsub what follows
 * its segment up to the query, in *query the query. */
const struct page	*route_find(const char *hash, const char **sub, size_t *nsub,
			    const char **query);
/* Calls every page's reset. */
void			 route_reset_all(struct app *);
/* A query parameter of the current route, decoded, in the message's arena ("" when
 * absent). */
const char		*route_param(struct app *, const char *name);
/* "name=value" percent-encoded for a hash or a URL, in arena a. */
char			*route_encode(struct sb_arena *a, const char *s);

/* The frame around every page (chrome.c): header, navigation, the offline banner. */
void		 chrome_view(struct app *, struct view *);
/* Views every page shares (chrome.c): an error in words (role alert; nothing when
 * text is NULL); a labelled field (label, then the control tag with id, name and
 * data-test all id, data-input id, the value); a button naming a click action. */
void		 view_error(struct view *, const char *text);
void		 view_field(struct view *, const char *tag, const char *id, const char *label,
		    const char *type, const char *value);
void		 view_button(struct view *, const char *action, const char *test,
		    const char *cls, const char *label);
/* view_button with an aria-label (what the button acts on, for a list's rows). */
void		 view_button_for(struct view *, const char *action, const char *test,
		    const char *cls, const char *label, const char *aria);
/* A form's submit button; busy: aria-disabled while its request is out. */
void		 view_submit(struct view *, const char *test, int busy, const char *label);
/* A line that says what was done (role status; nothing when text is NULL). */
void		 view_status(struct view *, const char *text);
/* The strings of an array as tags (none when it has none). */
void		 view_tags(struct view *, const struct wj *list, const char *none);
/* "2026-12-07T13:50:31.048Z" as "2026-12-07 13:50:31", in the render's arena; "" for
 * NULL. */
const char	*view_time(struct view *, const char *iso);

extern const struct page	 page_login;
extern const struct page	 page_home;
extern const struct page	 page_agents;
extern const struct page	 page_chat;
extern const struct page	 page_run;
extern const struct page	 page_inbox;
extern const struct page	 page_kb;
extern const struct page	 page_keys;
extern const struct page	 page_audit;
extern const struct page	 page_missing;

#endif /* SB_WEB_APP_H */
