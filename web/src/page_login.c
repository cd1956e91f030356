/* page_login.c: Sign in: an email address and a password (POST /api/v1/auth/login),
 * and single sign-on when the API has an OpenID Connect provider configured (its
 * start route answers 404 when none is: docs/api.md, Browser sign-in). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "web/src/app.h"
#include "web/src/wire.h"
#include "web/src/wjson.h"

enum { TAG_LOGIN = 1, TAG_SSO };

static struct {
	char	*email;
	char	*password;
	char	*error;
	int	 busy;
	int	 sso;		/* 0 not asked yet, 1 configured, -1 not */
} st;

static void
enter(struct app *app, int again)
{
	(void)again;
	app_set(&st.password, "");
	st.busy = 0;
	if (st.sso == 0)
		app_fetch(app, &page_login, TAG_SSO, "HEAD", "/api/v1/auth/oidc/start", NULL,
		    FETCH_MANUAL);
}

static void
field(struct view *v, const char *id, const char *label, const char *type,
    const char *autocomplete, const char *value, int focus)
{
	v_open(v, "div");
	v_attr(v, "class", "field");
	v_open(v, "label");
	v_attr(v, "for", id);
	v_text(v, label);
	v_close(v);
	v_open(v, "input");
	v_attr(v, "id", id);
	v_attr(v, "name", strchr(id, '-') + 1);
	v_attr(v, "type", type);
	v_attr(v, "autocomplete", autocomplete);
	v_attr(v, "required", "");
	v_attr(v, "data-input", id);
	v_attr(v, "data-test", id);
	v_attr(v, "value", value != NULL ? value : "");
	if (focus)
		v_focus(v);
	v_close(v);
	v_close(v);
}

static void
view(struct app *app, struct view *v)
{
	(void)app;
	v_open(v, "form");
	v_attr(v, "class", "card narrow");
	v_attr(v, "data-submit", "login");
	v_attr(v, "novalidate", "");
	v_attr(v, "aria-describedby", "login-error");
	v_open(v, "p");
	v_attr(v, "id", "login-error");
	v_attr(v, "class", "error");
	v_attr(v, "role", "alert");
	v_attr(v, "data-test", "login-error");
	v_text(v, st.error);
	v_close(v);
	field(v, "login-email", "Email address", "email", "username", st.email, 1);
	field(v, "login-password", "Password", "password", "current-password", st.password, 0);
	view_submit(v, "login-submit", st.busy, st.busy ? "Signing in…" : "Sign in");
	if (st.sso == 1) {
		v_leafc(v, "p", "or", "or");
		v_open(v, "a");
		v_attr(v, "class", "button");
		v_attr(v, "href", "/api/v1/auth/oidc/start?return_to=/");
		v_attr(v, "data-test", "login-sso");
		v_text(v, "Sign in with single sign-on");
		v_close(v);
	}
	v_close(v);
}

static void
event(struct app *app, const struct ui_event *ev)
{
	struct sb_buf	 body;
	int		 first = 1;

	if (strcmp(ev->action, "login-email") == 0) {
		app_set(&st.email, ev->value);
		return;
	}
	if (strcmp(ev->action, "login-password") == 0) {
		app_set(&st.password, ev->value);
		return;
	}
	if (strcmp(ev->action, "login") != 0 || st.busy)
		return;
	/* What the form holds wins: a password manager may fill it without input events. */
	app_set(&st.email, ui_field(ev, "email", st.email != NULL ? st.email : ""));
	app_set(&st.password, ui_field(ev, "password", st.password != NULL ? st.password : ""));
	if (st.email[0] == '\0' || st.password[0] == '\0') {
		app_set(&st.error, "Enter your email address and your password.");
		return;
	}
	buf_init(&body, 0);
	buf_puts(&body, "{");
	wj_write_member(&body, &first, "email", st.email);
	wj_write_member(&body, &first, "password", st.password);
	buf_puts(&body, "}");
	app_fetch(app, &page_login, TAG_LOGIN, "POST", "/api/v1/auth/login", body.data, 0);
	buf_free(&body);
	st.busy = 1;
	app_set(&st.error, NULL);
}

static void
fetched(struct app *app, unsigned tag, const struct reply *r)
{
	if (tag == TAG_SSO) {
		st.sso = r->status == 302 || r->status == 200 ? 1 : -1;
		return;
	}
	st.busy = 0;
	app_set(&st.password, "");
	if (r->status == 200 && r->json != NULL) {
		app_set(&st.error, NULL);
		app_signed_in(app, r->json);
		return;
	}
	if (r->status == 400)
		app_set(&st.error, "Enter your email address and your password.");
	else
		app_set(&st.error, app_problem_text(app, r));
}

static void
reset(struct app *app)
{
	(void)app;
	free(st.email);
	free(st.password);
	free(st.error);
	memset(&st, 0, sizeof(st));
}

const struct page page_login = {
	.name = "login",
	.title = "Sign in",
	.public = 1,
	.enter = enter,
	.view = view,
	.event = event,
	.fetched = fetched,
	.reset = reset,
};
