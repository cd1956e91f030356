/* test_webapp.c: the browser app driven message by message as the glue drives it
 * (web/src/app.c and the pages), its operations applied to a stand-in document. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "tests/unit/unit.h"
#include "tests/unit/websim.h"
#include "web/src/app.h"
#include "web/src/wire.h"

static struct app	*app;
static struct websim	*sim;

static void
open_app(void)
{
	app = app_new();
	sim = websim_new();
}

static void
close_app(void)
{
	app_free(app);
	websim_free(sim);
}

/* Hands the message to the app and applies what it wrote. */
static void
deliver(struct sb_buf *m)
{
	app_input(app, m->data, m->len);
	UNIT_ASSERT_INT(websim_apply(sim, app->out.data, app->out.len), 0);
	buf_free(m);
}

static void
start(const char *hash)
{
	struct sb_buf	 m = { 0 };

	wire_u8(&m, IN_START);
	wire_str(&m, hash);
	wire_u32(&m, 1);
	deliver(&m);
}

static void
route(const char *hash)
{
	struct sb_buf	 m = { 0 };

	wire_u8(&m, IN_ROUTE);
	wire_str(&m, hash);
	deliver(&m);
}

/* An event; for a submit, the NULL-terminated name, value pairs after value. */
static void
event(const char *type, const char *action, const char *value, ...)
{
	struct sb_buf	 m = { 0 }, f = { 0 };
	va_list		 ap;
	const char	*s;
	uint32_t	 n = 0;

	va_start(ap, value);
	while ((s = va_arg(ap, const char *)) != NULL) {
		wire_str(&f, s);
		n++;
	}
	va_end(ap);
	wire_u8(&m, IN_EVENT);
	wire_str(&m, type);
	wire_str(&m, action);
	wire_str(&m, value);
	wire_u32(&m, n / 2);
	buf_append(&m, f.data, f.len);
	buf_free(&f);
	deliver(&m);
}

static void
fetched(uint32_t req, uint32_t status, const char *body)
{
	struct sb_buf	 m = { 0 };

	wire_u8(&m, IN_FETCH);
	wire_u32(&m, req);
	wire_u32(&m, status);
	wire_str(&m, body);
	deliver(&m);
}

static void
sse(uint32_t n, const char *type, const char *id, const char *data)
{
	struct sb_buf	 m = { 0 };

	wire_u8(&m, IN_SSE);
	wire_u32(&m, n);
	wire_str(&m, type);
	wire_str(&m, id);
	wire_str(&m, data);
	deliver(&m);
}

static void
number(unsigned kind, uint32_t a, int two, uint32_t b)
{
	struct sb_buf	 m = { 0 };

	wire_u8(&m, kind);
	wire_u32(&m, a);
	if (two)
		wire_u32(&m, b);
	deliver(&m);
}

/* The request number of the logged fetch whose line has "METHOD URL" in it (the last
 * one), or 0. */
static uint32_t
req_of(const char *what)
{
	const char	*log = websim_log(sim), *p, *hit = NULL;
	char		 pat[300];

	snprintf(pat, sizeof(pat), " %s", what);
	for (p = log; (p = strstr(p, "fetch ")) != NULL; p++) {
		const char *eol = strchr(p, '\n'), *at = strstr(p, pat);

		if (at != NULL && eol != NULL && at < eol)
			hit = p;
	}
	return hit != NULL ? (uint32_t)strtoul(hit + 6, NULL, 10) : 0;
}

static const char	 me[] = "{\"auth\":\"session\",\"scopes\":[\"runs:read\"],\"role\":\"owner\","
			    "\"csrf_token\":\"tok-123\",\"org\":{\"id\":1,\"slug\":\"demo\",\"name\":\"Demo\"},"
			    "\"user\":{\"id\":2,\"email\":\"admin@demo.test\",\"name\":\"Ad\",\"role\":\"owner\"}}";

/* Starts at hash, signed out, with single sign-on answered sso_status. */
static void
signed_out_at(const char *hash, uint32_t sso_status)
{
	uint32_t	 r;

	start(hash);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "Loading");
	r = req_of("GET /api/v1/me");
	CU_ASSERT_FATAL(r != 0);
	websim_log_reset(sim);
	fetched(r, 401, "{\"type\":\"/problems/unauthenticated\",\"status\":401}");
	UNIT_ASSERT_CONTAINS(websim_log(sim), "hash #/login\n");
	UNIT_ASSERT_CONTAINS(websim_log(sim), "title Sign in · Switchboard\n");
	r = req_of("HEAD /api/v1/auth/oidc/start");
	CU_ASSERT_FATAL(r != 0);
	UNIT_ASSERT_CONTAINS(websim_log(sim), "csrf= flags=1\n");
	fetched(r, sso_status, "");
	route("#/login");
}

static void
sign_in(void)
{
	uint32_t	 r;

	websim_log_reset(sim);
	event("submit", "login", "", "email", "admin@demo.test", "password", "pw\"1", NULL);
	r = req_of("POST /api/v1/auth/login");
	CU_ASSERT_FATAL(r != 0);
	UNIT_ASSERT_CONTAINS(websim_log(sim),
	    "{\"email\":\"admin@demo.test\",\"password\":\"pw\\\"1\"} csrf= flags=0");
	websim_log_reset(sim);
	fetched(r, 200, me);
}

static void
test_app_sign_in(void)
{
	uint32_t	 r;

	open_app();
	signed_out_at("#/agents", 302);
	CU_ASSERT(websim_find(sim, "data-test", "login-email") != 0);
	CU_ASSERT(websim_find(sim, "data-test", "login-password") != 0);
	CU_ASSERT(websim_find(sim, "data-test", "login-submit") != 0);
	CU_ASSERT(websim_find(sim, "data-test", "login-sso") != 0);
	UNIT_ASSERT_INT(websim_find(sim, "data-test", "nav-home"), 0);
	/* Every control is labelled. */
	UNIT_ASSERT_CONTAINS(websim_html(sim), "<label for=\"login-email\">");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "<label for=\"login-password\">");

	/* Nothing typed: said so, nothing sent. */
	websim_log_reset(sim);
	event("submit", "login", "", "email", "", "password", "", NULL);
	UNIT_ASSERT_INT(req_of("POST"), 0);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "Enter your email address and your password.");

	/* A wrong password: the API's problem in words, the password field emptied. */
	event("input", "login-password", "nope", NULL);
	UNIT_ASSERT_CONTAINS(websim_html(sim), ".value=\"nope\"");
	event("submit", "login", "", "email", "admin@demo.test", "password", "nope", NULL);
	r = req_of("POST /api/v1/auth/login");
	CU_ASSERT_FATAL(r != 0);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "Signing in");
	fetched(r, 401, "{\"type\":\"/problems/invalid-credentials\",\"title\":\"Unauthorized\",\"status\":401}");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "The email address or the password is not right.");
	CU_ASSERT(strstr(websim_html(sim), ".value=\"nope\"") == NULL);

	/* Signed in: back where the person was going, with the navigation. */
	sign_in();
	UNIT_ASSERT_CONTAINS(websim_log(sim), "hash #/agents\n");
	CU_ASSERT(req_of("GET /api/v1/agents") != 0);
	CU_ASSERT(websim_find(sim, "data-test", "nav-agents") != 0);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "aria-current=\"page\">Agents</a>");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "admin@demo.test");

	/* Signing out sends the session's CSRF token. */
	websim_log_reset(sim);
	event("click", "logout", "", NULL);
	r = req_of("POST /api/v1/auth/logout");
	CU_ASSERT_FATAL(r != 0);
	UNIT_ASSERT_CONTAINS(websim_log(sim), "csrf=tok-123 flags=0");
	fetched(r, 204, "");
	CU_ASSERT(websim_find(sim, "data-test", "login-email") != 0);
	close_app();
}

static void
test_app_home_feed(void)
{
	uint32_t	 item;

	open_app();
	signed_out_at("", 404);
	UNIT_ASSERT_INT(websim_find(sim, "data-test", "login-sso"), 0);
	sign_in();
	route("#/");
	UNIT_ASSERT_CONTAINS(websim_log(sim), "sse-open 1 /api/v1/stream?after=0 feed.ready,run.queued,");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "aria-current=\"page\">Home</a>");
	UNIT_ASSERT_INT(websim_count(sim, "data-test", "feed-item"), 0);

	number(IN_SSE_STATE, 1, 1, 1);
	UNIT_ASSERT_CONTAINS(websim_html(sim), ">Live</p>");
	sse(1, "feed.ready", "40-0", "{\"after\":\"40-0\"}");
	sse(1, "run.queued", "41-7", "{\"id\":\"r1\",\"agent\":\"summarizer\",\"state\":\"queued\","
	    "\"created_at\":\"2026-12-07T13:50:31.048Z\"}");
	UNIT_ASSERT_INT(websim_count(sim, "data-test", "feed-item"), 1);
	item = websim_find(sim, "data-test", "feed-item");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "<span class=\"what\">summarizer</span><span class=\"when\">13:50:31</span>");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "<span class=\"n\">1</span><span>queued</span>");
	sse(1, "run.queued", "42-8", "{\"id\":\"r2\",\"agent\":\"writer\",\"state\":\"queued\"}");
	UNIT_ASSERT_INT(websim_count(sim, "data-test", "feed-item"), 2);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "<span class=\"n\">2</span><span>queued</span>");
	/* r1 fails: the same item (the same node), moved first, and a failure with its error. */
	sse(1, "run.failed", "43-7", "{\"id\":\"r1\",\"agent\":\"summarizer\",\"state\":\"failed\","
	    "\"error\":{\"type\":\"timeout\",\"message\":\"the provider sent no output\"}}");
	UNIT_ASSERT_INT(websim_count(sim, "data-test", "feed-item"), 2);
	UNIT_ASSERT_INT(websim_find(sim, "data-state", "failed"), item);
	UNIT_ASSERT_INT(websim_find(sim, "data-test", "feed-item"), item);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "<span class=\"n\">1</span><span>failed</span>");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "the provider sent no output");
	CU_ASSERT(websim_find(sim, "data-test", "failure") != 0);
	/* An inbox item waiting counts too. */
	sse(1, "inbox.created", "44-1000000000000000001", "{\"id\":\"i1\",\"run\":\"r2\",\"kind\":\"question\","
	    "\"state\":\"open\",\"question\":\"Which colour?\"}");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "<span class=\"n\">1</span><span>waiting for a person</span>");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "Which colour?");

	/* Closed by the server: opened again after the last position, not from the start. */
	websim_log_reset(sim);
	number(IN_SSE_STATE, 1, 1, 2);
	UNIT_ASSERT_CONTAINS(websim_log(sim), "timer 1 3000\n");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "Reconnecting");
	CU_ASSERT(req_of("GET /api/v1/me") != 0);
	fetched(req_of("GET /api/v1/me"), 200, me);
	number(IN_TIMER, 1, 0, 0);
	UNIT_ASSERT_CONTAINS(websim_log(sim), "sse-open 1 /api/v1/stream?after=44-1000000000000000001 ");

	/* Offline and back. */
	UNIT_ASSERT_INT(websim_find(sim, "data-test", "offline-banner"), 0);
	number(IN_ONLINE, 0, 0, 0);
	CU_ASSERT(websim_find(sim, "data-test", "offline-banner") != 0);
	number(IN_ONLINE, 1, 0, 0);
	UNIT_ASSERT_INT(websim_find(sim, "data-test", "offline-banner"), 0);

	/* Leaving the page closes its stream; coming back resumes it. */
	websim_log_reset(sim);
	route("#/agents");
	UNIT_ASSERT_CONTAINS(websim_log(sim), "sse-close 1\n");
	route("#/");
	UNIT_ASSERT_CONTAINS(websim_log(sim), "sse-open 1 /api/v1/stream?after=44-1000000000000000001 ");
	UNIT_ASSERT_INT(websim_count(sim, "data-test", "feed-item"), 3);

	/* Refused again, and the session is gone: signed out, the stream not reopened. */
	websim_log_reset(sim);
	number(IN_SSE_STATE, 1, 1, 2);
	fetched(req_of("GET /api/v1/me"), 401, "{\"type\":\"/problems/unauthenticated\",\"status\":401}");
	UNIT_ASSERT_CONTAINS(websim_log(sim), "untimer 1\n");
	CU_ASSERT(websim_find(sim, "data-test", "login-email") != 0);
	websim_log_reset(sim);
	number(IN_TIMER, 1, 0, 0);
	CU_ASSERT(strstr(websim_log(sim), "sse-open") == NULL);
	close_app();
}

static const char	 agents[] = "{\"items\":["
	"{\"slug\":\"summarizer\",\"name\":\"Summarizer\",\"category\":\"writing\",\"provider\":\"builtin\","
	"\"model\":\"builtin\",\"tools\":[],\"global\":true},"
	"{\"slug\":\"web-reader\",\"name\":\"Web reader\",\"category\":\"research\",\"provider\":\"openai\","
	"\"model\":\"gpt\",\"tools\":[\"http_fetch\"],\"global\":true},"
	"{\"slug\":\"writer\",\"name\":\"Writer\",\"category\":\"writing\",\"provider\":\"openai\","
	"\"model\":\"gpt\",\"tools\":[],\"global\":false}]}";

static void
test_app_agents(void)
{
	uint32_t	 r;

	open_app();
	signed_out_at("#/agents?category=writing", 404);
	sign_in();
	route("#/agents?category=writing");
	r = req_of("GET /api/v1/agents");
	CU_ASSERT_FATAL(r != 0);
	fetched(r, 200, agents);
	/* The route's query filters: the two writing agents. */
	UNIT_ASSERT_INT(websim_count(sim, "data-test", "agent-card"), 2);
	CU_ASSERT(websim_find(sim, "data-slug", "summarizer") != 0);
	CU_ASSERT(websim_find(sim, "data-slug", "writer") != 0);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "2 of 3 agents");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "<option .value=\"writing\" .selected=\"1\">writing</option>");
	/* Any category, then a name, then a provider. */
	event("change", "agents-category", "", NULL);
	UNIT_ASSERT_INT(websim_count(sim, "data-test", "agent-card"), 3);
	event("input", "agents-q", "WRIT", NULL);
	UNIT_ASSERT_INT(websim_count(sim, "data-test", "agent-card"), 1);
	CU_ASSERT(websim_find(sim, "data-slug", "writer") != 0);
	event("input", "agents-q", "", NULL);
	event("change", "agents-provider", "openai", NULL);
	UNIT_ASSERT_INT(websim_count(sim, "data-test", "agent-card"), 2);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "<span class=\"tag\">http_fetch</span>");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "your organization");

	/* The session ended elsewhere: the next answer's 401 leads to the sign-in page. */
	websim_log_reset(sim);
	route("#/");
	route("#/agents");
	r = req_of("GET /api/v1/agents");
	CU_ASSERT_FATAL(r != 0);
	fetched(r, 401, "{\"type\":\"/problems/unauthenticated\",\"status\":401}");
	UNIT_ASSERT_CONTAINS(websim_log(sim), "hash #/login\n");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "Your session has ended.");
	CU_ASSERT(websim_find(sim, "data-test", "login-email") != 0);
	close_app();
}

static const struct wj *
parse_str(struct sb_arena *a, const char *s)
{
	return wj_parse(a, s, strlen(s), NULL);
}

/* A reload of a signed-in page: /api/v1/me answers 200 at once, and the page the
 * location names opens (the hash kept by the app is the one it goes to). */
static void
test_app_reload_signed_in(void)
{
	open_app();
	start("#/agents?q=sum");
	fetched(req_of("GET /api/v1/me"), 200, me);
	UNIT_ASSERT_CONTAINS(websim_log(sim), "title Agents · Switchboard\n");
	CU_ASSERT(req_of("GET /api/v1/agents") != 0);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "id=\"agents-q\" type=\"search\" data-input=\"agents-q\" "
	    "data-test=\"agents-search\" .value=\"sum\"");
	/* Signed out, to leave the pages' state as the next test expects it. */
	event("click", "logout", "", NULL);
	fetched(req_of("POST /api/v1/auth/logout"), 204, "");
	close_app();
}

static void
test_app_problem_words(void)
{
	struct reply	 r;
	struct sb_arena	*a = arena_new(4096);

	open_app();
	memset(&r, 0, sizeof(r));
	r.status = 0;
	UNIT_ASSERT_CONTAINS(app_problem_text(app, &r), "cannot be reached");
	app->online = 0;
	UNIT_ASSERT_CONTAINS(app_problem_text(app, &r), "You are offline");
	app->online = 1;
	r.status = 503;
	r.json = parse_str(a, "{\"type\":\"/problems/database-unavailable\"}");
	UNIT_ASSERT_CONTAINS(app_problem_text(app, &r), "cannot reach its database");
	r.status = 500;
	r.json = parse_str(a, "{\"type\":\"about:blank\",\"request_id\":\"abc\"}");
	UNIT_ASSERT_CONTAINS(app_problem_text(app, &r), "(request abc)");
	r.status = 422;
	r.json = parse_str(a, "{\"type\":\"/problems/x\",\"detail\":\"name is too long\"}");
	UNIT_ASSERT_STR(app_problem_text(app, &r), "That did not work: name is too long.");
	r.json = NULL;
	r.status = 418;
	UNIT_ASSERT_STR(app_problem_text(app, &r), "That did not work (error 418).");
	/* A malformed message changes nothing and writes nothing. */
	app_input(app, "\x03\xff", 2);
	UNIT_ASSERT_INT(app->out.len, 0);
	app_input(app, "", 0);
	UNIT_ASSERT_INT(app->out.len, 0);
	arena_free(a);
	close_app();
}

void
suite_webapp(void)
{
	CU_pSuite s = unit_suite("webapp", NULL, NULL);

	unit_test(s, "sign in: fields, errors in words, where the person was going, sign out",
	    test_app_sign_in);
	unit_test(s, "home: the live feed, counts, failures, resume after the last position",
	    test_app_home_feed);
	unit_test(s, "agents: the catalog filtered by name, category and provider", test_app_agents);
	unit_test(s, "a reload of a signed-in page opens that page", test_app_reload_signed_in);
	unit_test(s, "problems in words; malformed messages are ignored", test_app_problem_words);
}
