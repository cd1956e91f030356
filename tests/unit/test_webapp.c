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

/* A start that names the browser's capabilities (CAP_SSE or none). */
static void
start_caps(const char *hash, uint32_t caps)
{
	struct sb_buf	 m = { 0 };

	wire_u8(&m, IN_START);
	wire_str(&m, hash);
	wire_u32(&m, 1);
	wire_u32(&m, caps);
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

static const char	 me[] = "{\"auth\":\"session\",\"scopes\":[\"runs:read\",\"runs:write\","
			    "\"agents:read\",\"agents:admin\",\"keys:admin\",\"audit:read\",\"inbox:read\","
			    "\"inbox:write\",\"kb:read\",\"kb:write\"],\"role\":\"owner\","
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

	/* Left before the catalog came: asked again on the way back. */
	route("#/");
	websim_log_reset(sim);
	route("#/agents");
	CU_ASSERT(req_of("GET /api/v1/agents") != 0);

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

/* Signed in at once (a reload), at hash, with the browser's caps. */
static void
signed_in_at(const char *hash, uint32_t caps, const char *who)
{
	open_app();
	start_caps(hash, caps);
	fetched(req_of("GET /api/v1/me"), 200, who);
}

static void
sign_out(void)
{
	event("click", "logout", "", NULL);
	fetched(req_of("POST /api/v1/auth/logout"), 204, "");
	close_app();
}

/* The text of the n-th (from 1) element with data-role="assistant", as the document
 * shows it, or "". */
static const char *
assistant_text(int n)
{
	static char	 out[512];
	const char	*p = websim_html(sim), *e;
	size_t		 len;

	while (n-- > 0 && p != NULL)
		if ((p = strstr(p, "data-role=\"assistant\">")) != NULL)
			p += strlen("data-role=\"assistant\">");
	if (p == NULL || (e = strstr(p, "</div>")) == NULL)
		return "";
	len = (size_t)(e - p) < sizeof(out) - 1 ? (size_t)(e - p) : sizeof(out) - 1;
	memcpy(out, p, len);
	out[len] = '\0';
	return out;
}

static void
test_app_chat(void)
{
	uint32_t	 r;

	signed_in_at("#/chat/t1", CAP_SSE, me);
	UNIT_ASSERT_CONTAINS(websim_log(sim), "sse-open 2 /api/v1/threads/t1/stream?after=0 run.queued,run.started,");
	CU_ASSERT(req_of("GET /api/v1/threads?limit=100") != 0);
	CU_ASSERT(req_of("GET /api/v1/threads/t1/messages?limit=200") != 0);
	fetched(req_of("GET /api/v1/agents"), 200, agents);
	fetched(req_of("GET /api/v1/threads?limit=100"), 200, "{\"items\":[{\"id\":\"t1\",\"title\":\"Colours\","
	    "\"agent\":\"writer\",\"state\":\"busy\"},{\"id\":\"t0\",\"title\":\"\",\"agent\":\"summarizer\","
	    "\"state\":\"idle\"}],\"next_cursor\":null}");
	fetched(req_of("GET /api/v1/threads/t1 "), 200, "{\"id\":\"t1\",\"title\":\"Colours\",\"agent\":\"writer\",\"state\":\"busy\"}");
	UNIT_ASSERT_INT(websim_count(sim, "data-test", "thread"), 2);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "href=\"#/chat/t1\" data-test=\"thread\" aria-current=\"page\"");
	/* Every control of the page is labelled. */
	UNIT_ASSERT_CONTAINS(websim_html(sim), "<label for=\"chat-input\">");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "<label for=\"chat-multitask\">");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "<label for=\"chat-agent\">");
	/* The stored messages: the user's message of r1 (newest first). */
	fetched(req_of("GET /api/v1/threads/t1/messages"), 200, "{\"items\":[{\"seq\":1,\"role\":\"user\","
	    "\"content\":\"Which colour?\",\"data\":{},\"run\":\"r1\"}],\"next_cursor\":null}");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "data-role=\"user\">Which colour?</div>");

	/* Tokens, one by one; a replayed event is not applied twice. */
	number(IN_SSE_STATE, 2, 1, 1);
	sse(2, "run.started", "5-1", "{\"run\":\"r1\",\"attempt\":1}");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "data-test=\"run-state\" data-state=\"running\"");
	sse(2, "message.delta", "5-2", "{\"run\":\"r1\",\"text\":\"Hel\"}");
	sse(2, "message.delta", "5-3", "{\"run\":\"r1\",\"text\":\"lo\"}");
	UNIT_ASSERT_STR(assistant_text(1), "Hello");
	sse(2, "message.delta", "5-3", "{\"run\":\"r1\",\"text\":\"lo\"}");
	sse(2, "message.delta", "5-2", "{\"run\":\"r1\",\"text\":\"Hel\"}");
	UNIT_ASSERT_STR(assistant_text(1), "Hello");
	/* One past a gap is not applied: the stream is asked again after the last applied. */
	websim_log_reset(sim);
	sse(2, "message.delta", "5-5", "{\"run\":\"r1\",\"text\":\"!\"}");
	UNIT_ASSERT_STR(assistant_text(1), "Hello");
	UNIT_ASSERT_CONTAINS(websim_log(sim), "sse-close 2\nsse-open 2 /api/v1/threads/t1/stream?after=5-3 ");
	sse(2, "message.delta", "5-4", "{\"run\":\"r1\",\"text\":\" world\"}");
	sse(2, "message.delta", "5-5", "{\"run\":\"r1\",\"text\":\"!\"}");
	UNIT_ASSERT_STR(assistant_text(1), "Hello world!");

	/* A tool call: a card with its name, arguments, result and duration. */
	sse(2, "tool.executing", "5-6", "{\"run\":\"r1\",\"call_id\":\"c1\",\"name\":\"ask_human\","
	    "\"arguments\":{\"question\":\"Blue or red?\"}}");
	UNIT_ASSERT_INT(websim_count(sim, "data-test", "tool-card"), 1);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "<pre>{\"question\":\"Blue or red?\"}</pre>");
	UNIT_ASSERT_CONTAINS(websim_html(sim), ">running</span>");
	sse(2, "human.requested", "5-7", "{\"run\":\"r1\",\"item\":\"i1\",\"kind\":\"question\",\"call_id\":\"c1\","
	    "\"question\":\"Blue or red?\"}");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "href=\"#/inbox?item=i1\" data-test=\"inbox-link\"");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "data-state=\"waiting\"");
	CU_ASSERT(websim_find(sim, "data-test", "run-cancel") != 0);
	/* Closed for good: opened again after the last position applied. */
	websim_log_reset(sim);
	number(IN_SSE_STATE, 2, 1, 2);
	UNIT_ASSERT_CONTAINS(websim_log(sim), "timer 2 3000\n");
	number(IN_TIMER, 2, 0, 0);
	UNIT_ASSERT_CONTAINS(websim_log(sim), "sse-open 2 /api/v1/threads/t1/stream?after=5-7 ");
	sse(2, "human.answered", "5-8", "{\"run\":\"r1\",\"item\":\"i1\",\"answer\":\"Blue.\"}");
	sse(2, "tool.completed", "5-9", "{\"run\":\"r1\",\"call_id\":\"c1\",\"name\":\"ask_human\",\"ok\":true,"
	    "\"result\":\"Blue.\",\"duration_ms\":1234}");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "<span class=\"when\">1234 ms</span>");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "<pre>Blue.</pre>");
	UNIT_ASSERT_INT(websim_find(sim, "data-test", "inbox-link"), 0);
	/* A retried attempt's text is said again: the partial one goes. */
	sse(2, "message.delta", "5-10", "{\"run\":\"r1\",\"text\":\"Bl\"}");
	sse(2, "run.retrying", "5-11", "{\"run\":\"r1\",\"next_attempt\":2}");
	sse(2, "run.started", "5-12", "{\"run\":\"r1\",\"attempt\":2}");
	sse(2, "message.delta", "5-13", "{\"run\":\"r1\",\"text\":\"Blue it is.\"}");
	UNIT_ASSERT_STR(assistant_text(2), "Blue it is.");
	UNIT_ASSERT_STR(assistant_text(3), "");
	websim_log_reset(sim);
	sse(2, "run.succeeded", "5-14", "{\"run\":\"r1\"}");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "data-state=\"succeeded\"");
	UNIT_ASSERT_INT(websim_find(sim, "data-test", "run-cancel"), 0);
	UNIT_ASSERT_CONTAINS(websim_log(sim), "timer 4 300\n");

	/* Sending while a run goes: refused by the default policy, said in words, the
	 * message back in the box. */
	event("input", "chat-input", "Now green", NULL);
	websim_log_reset(sim);
	event("submit", "chat-send", "", "message", "Now green", NULL);
	r = req_of("POST /api/v1/threads/t1/runs");
	CU_ASSERT_FATAL(r != 0);
	UNIT_ASSERT_CONTAINS(websim_log(sim), "{\"input\":{\"message\":\"Now green\"},\"multitask\":\"reject\"} csrf=tok-123");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "data-role=\"user\">Now green</div>");
	fetched(r, 409, "{\"type\":\"/problems/thread-busy\",\"status\":409}");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "A run is already going in this chat.");
	UNIT_ASSERT_CONTAINS(websim_html(sim), ".value=\"Now green\"");
	CU_ASSERT(strstr(websim_html(sim), "data-role=\"user\">Now green</div>") == NULL);
	/* Interrupt: sent with the policy; the run's events may come before its 202. */
	event("change", "chat-multitask", "interrupt", NULL);
	websim_log_reset(sim);
	event("submit", "chat-send", "", "message", "Now green", NULL);
	r = req_of("POST /api/v1/threads/t1/runs");
	UNIT_ASSERT_CONTAINS(websim_log(sim), "\"multitask\":\"interrupt\"}");
	sse(2, "run.started", "6-1", "{\"run\":\"r2\",\"attempt\":1}");
	sse(2, "agent.handoff", "6-2", "{\"run\":\"r2\",\"from\":\"writer\",\"to\":\"summarizer\",\"reason\":\"short\"}");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "<p class=\"note\">Handed over to summarizer: short</p>");
	fetched(r, 202, "{\"id\":\"r2\",\"state\":\"queued\"}");
	UNIT_ASSERT_INT(websim_count(sim, "data-role", "user"), 2);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "data-role=\"user\">Now green</div>");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "href=\"#/runs/r2\"");
	UNIT_ASSERT_CONTAINS(websim_html(sim), ".value=\"\"");
	websim_log_reset(sim);
	event("click", "cancel:r2", "", NULL);
	CU_ASSERT(req_of("POST /api/v1/runs/r2/cancel") != 0);

	/* Another thread: the stream of the first closed, the new one from 0; an answer
	 * meant for the first that comes late is dropped. */
	websim_log_reset(sim);
	event("submit", "chat-send", "", "message", "late", NULL);
	r = req_of("POST /api/v1/threads/t1/runs");
	route("#/chat/t0");
	UNIT_ASSERT_CONTAINS(websim_log(sim), "sse-close 2\n");
	UNIT_ASSERT_CONTAINS(websim_log(sim), "sse-open 2 /api/v1/threads/t0/stream?after=0 ");
	UNIT_ASSERT_INT(websim_count(sim, "data-test", "message"), 0);
	fetched(r, 202, "{\"id\":\"r5\",\"state\":\"queued\"}");
	fetched(req_of("GET /api/v1/threads/t1/messages"), 200, "{\"items\":[{\"seq\":1,\"role\":\"user\","
	    "\"content\":\"of t1\",\"run\":\"r1\"}]}");
	UNIT_ASSERT_INT(websim_count(sim, "data-test", "message"), 0);
	CU_ASSERT(strstr(websim_html(sim), "aria-disabled") == NULL);

	/* "Try it" on an agent's card makes a thread with it and opens it. */
	route("#/agents");
	fetched(req_of("GET /api/v1/agents"), 200, agents);
	CU_ASSERT(websim_find(sim, "data-click", "try:writer") != 0);
	websim_log_reset(sim);
	event("click", "try:writer", "", NULL);
	r = req_of("POST /api/v1/threads");
	UNIT_ASSERT_CONTAINS(websim_log(sim), "{\"agent\":\"writer\"} csrf=tok-123");
	fetched(r, 201, "{\"id\":\"t9\",\"agent\":\"writer\",\"state\":\"idle\"}");
	UNIT_ASSERT_CONTAINS(websim_log(sim), "hash #/chat/t9\n");
	sign_out();
}

/* Without EventSource: the run sent is followed by its long poll, with the same
 * arithmetic (nothing twice, nothing lost), and again after the network came back. */
static void
test_app_chat_longpoll(void)
{
	uint32_t	 r;

	signed_in_at("#/chat/t1", 0, me);
	CU_ASSERT(strstr(websim_log(sim), "sse-open") == NULL);
	fetched(req_of("GET /api/v1/threads/t1/messages"), 200, "{\"items\":[{\"seq\":2,\"role\":\"assistant\","
	    "\"content\":\"Echo: hi\",\"data\":{},\"run\":\"r0\"},{\"seq\":1,\"role\":\"user\",\"content\":\"hi\","
	    "\"data\":{},\"run\":\"r0\"}],\"next_cursor\":null}");
	UNIT_ASSERT_STR(assistant_text(1), "Echo: hi");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "following by polling");
	/* Busy with a run made elsewhere: the thread is asked again until it is idle. */
	r = req_of("GET /api/v1/threads/t1 ");
	websim_log_reset(sim);
	fetched(r, 200, "{\"id\":\"t1\",\"state\":\"busy\"}");
	UNIT_ASSERT_CONTAINS(websim_log(sim), "timer 4 3000\n");
	number(IN_TIMER, 4, 0, 0);
	r = req_of("GET /api/v1/threads/t1 ");
	CU_ASSERT_FATAL(r != 0);
	websim_log_reset(sim);
	fetched(r, 200, "{\"id\":\"t1\",\"state\":\"idle\"}");
	CU_ASSERT(strstr(websim_log(sim), "timer 4") == NULL);
	websim_log_reset(sim);
	event("submit", "chat-send", "", "message", "more", NULL);
	fetched(req_of("POST /api/v1/threads/t1/runs"), 202, "{\"id\":\"r3\",\"state\":\"queued\"}");
	r = req_of("GET /api/v1/runs/r3/events?after=0&wait=20");
	CU_ASSERT_FATAL(r != 0);
	websim_log_reset(sim);
	fetched(r, 200, "{\"items\":[{\"seq\":1,\"type\":\"run.started\",\"data\":{\"attempt\":1}},"
	    "{\"seq\":2,\"type\":\"message.delta\",\"data\":{\"text\":\"Echo:\"}}],\"next_after\":2,\"finished\":false}");
	r = req_of("GET /api/v1/runs/r3/events?after=2&wait=20");
	CU_ASSERT_FATAL(r != 0);
	/* An answer that repeats one event and skips one: the repeat is skipped, and the
	 * poll asks again from the last applied, not past the gap. */
	websim_log_reset(sim);
	fetched(r, 200, "{\"items\":[{\"seq\":2,\"type\":\"message.delta\",\"data\":{\"text\":\"Echo:\"}},"
	    "{\"seq\":4,\"type\":\"message.delta\",\"data\":{\"text\":\" x\"}}],\"next_after\":4,\"finished\":false}");
	UNIT_ASSERT_STR(assistant_text(2), "Echo:");
	r = req_of("GET /api/v1/runs/r3/events?after=2&wait=20");
	CU_ASSERT_FATAL(r != 0);
	/* Offline: asked again in a moment, from the same place. */
	websim_log_reset(sim);
	fetched(r, 0, "");
	UNIT_ASSERT_CONTAINS(websim_log(sim), "timer 3 2000\n");
	number(IN_TIMER, 3, 0, 0);
	r = req_of("GET /api/v1/runs/r3/events?after=2&wait=20");
	CU_ASSERT_FATAL(r != 0);
	fetched(r, 200, "{\"items\":[{\"seq\":3,\"type\":\"message.delta\",\"data\":{\"text\":\" more\"}},"
	    "{\"seq\":4,\"type\":\"run.succeeded\",\"data\":{}}],\"next_after\":4,\"finished\":true}");
	UNIT_ASSERT_STR(assistant_text(2), "Echo: more");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "data-state=\"succeeded\"");
	/* Finished with events: asked once more; finished and empty: done. */
	r = req_of("GET /api/v1/runs/r3/events?after=4&wait=20");
	CU_ASSERT_FATAL(r != 0);
	websim_log_reset(sim);
	fetched(r, 200, "{\"items\":[],\"next_after\":4,\"finished\":true}");
	UNIT_ASSERT_INT(req_of("GET /api/v1/runs/r3/events"), 0);
	sign_out();
}

static void
test_app_inbox(void)
{
	uint32_t	 r;

	signed_in_at("#/inbox?item=i1", CAP_SSE, me);
	UNIT_ASSERT_CONTAINS(websim_log(sim), "sse-open 3 /api/v1/stream feed.ready,inbox.created,");
	r = req_of("GET /api/v1/inbox?state=open&limit=100");
	CU_ASSERT_FATAL(r != 0);
	fetched(r, 200, "{\"items\":[{\"id\":\"i1\",\"kind\":\"question\",\"state\":\"open\",\"question\":\"Blue or red?\","
	    "\"run\":\"r1\",\"thread\":\"t1\"},{\"id\":\"i2\",\"kind\":\"approval\",\"state\":\"open\","
	    "\"call\":{\"name\":\"http_fetch\",\"arguments\":{\"url\":\"https://example.com/\"}},\"run\":\"r2\","
	    "\"thread\":null}],\"next_cursor\":null}");
	UNIT_ASSERT_INT(websim_count(sim, "data-test", "inbox-item"), 2);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "inbox-item state-open marked");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "<pre>{\"name\":\"http_fetch\",\"arguments\":{\"url\":\"https://example.com/\"}}</pre>");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "<label for=\"answer-i1\">Your answer</label>");
	/* Nothing written: said so, nothing sent. */
	websim_log_reset(sim);
	event("submit", "answer:i1", "", "answer", "", NULL);
	UNIT_ASSERT_INT(req_of("POST"), 0);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "Write an answer first.");
	event("input", "inbox-answer:i1", "Blue", NULL);
	event("submit", "answer:i1", "", "answer", "Blue", NULL);
	r = req_of("POST /api/v1/inbox/i1/answer");
	CU_ASSERT_FATAL(r != 0);
	UNIT_ASSERT_CONTAINS(websim_log(sim), "{\"answer\":\"Blue\"} csrf=tok-123");
	fetched(r, 200, "{\"id\":\"i1\",\"state\":\"answered\"}");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "Answered. The run goes on.");
	/* Refused with a note; the second answer of an item is refused in words. */
	event("input", "inbox-note:i2", "not that site", NULL);
	websim_log_reset(sim);
	event("click", "refuse:i2", "", NULL);
	r = req_of("POST /api/v1/inbox/i2/answer");
	UNIT_ASSERT_CONTAINS(websim_log(sim), "{\"approve\":false,\"note\":\"not that site\"}");
	fetched(r, 409, "{\"type\":\"/problems/inbox-closed\",\"status\":409}");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "This was already answered");
	/* Approved: no note unless one was written. */
	websim_log_reset(sim);
	event("submit", "approve:i2", "", "note", "", NULL);
	UNIT_ASSERT_CONTAINS(websim_log(sim), "POST /api/v1/inbox/i2/answer {\"approve\":true} csrf=tok-123");
	fetched(req_of("POST /api/v1/inbox/i2/answer"), 200, "{\"id\":\"i2\",\"state\":\"answered\"}");
	/* The feed's inbox events ask for the list again, once for a burst. */
	websim_log_reset(sim);
	sse(3, "inbox.answered", "9-1000000000000000001", "{\"id\":\"i1\"}");
	sse(3, "inbox.created", "9-1000000000000000002", "{\"id\":\"i3\"}");
	UNIT_ASSERT_CONTAINS(websim_log(sim), "timer 5 200\ntimer 5 200\n");
	websim_log_reset(sim);
	number(IN_TIMER, 5, 0, 0);
	r = req_of("GET /api/v1/inbox?state=open");
	CU_ASSERT_FATAL(r != 0);
	/* Answered items say who answered. */
	route("#/inbox?state=all");
	r = req_of("GET /api/v1/inbox?limit=100");
	CU_ASSERT_FATAL(r != 0);
	fetched(r, 200, "{\"items\":[{\"id\":\"i1\",\"kind\":\"question\",\"state\":\"answered\",\"question\":\"Q\","
	    "\"answer\":\"Blue\",\"answered_by\":{\"kind\":\"user\",\"id\":12},\"answered_at\":\"2026-12-07T13:52:02.311Z\","
	    "\"run\":\"r1\"}],\"next_cursor\":null}");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "Answered by a person (user 12) at 2026-12-07 13:52:02: Blue");
	UNIT_ASSERT_INT(websim_find(sim, "data-test", "inbox-answer"), 0);
	sign_out();
}

static const char	 viewer[] = "{\"auth\":\"session\",\"scopes\":[\"runs:read\",\"agents:read\","
			    "\"usage:read\",\"inbox:read\",\"kb:read\"],\"role\":\"viewer\",\"csrf_token\":\"v\","
			    "\"org\":{\"id\":1,\"name\":\"Demo\"},\"user\":{\"id\":3,\"email\":\"v@demo.test\"}}";

static void
test_app_keys_audit(void)
{
	uint32_t	 r;

	signed_in_at("#/keys", CAP_SSE, me);
	CU_ASSERT(websim_find(sim, "data-test", "nav-keys") != 0);
	CU_ASSERT(websim_find(sim, "data-test", "nav-audit") != 0);
	r = req_of("GET /api/v1/keys?limit=200");
	CU_ASSERT_FATAL(r != 0);
	fetched(r, 200, "{\"items\":[{\"id\":\"k7q2m4xzc3fa\",\"name\":\"ci\",\"scopes\":[\"runs:read\"],"
	    "\"created_at\":\"2026-11-19T16:40:11Z\",\"expires_at\":null,\"revoked_at\":null,\"last_used_at\":null}],"
	    "\"next_cursor\":null}");
	UNIT_ASSERT_INT(websim_count(sim, "data-test", "key-row"), 1);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "<label for=\"key-name\">");
	/* No scope chosen: said so, nothing sent; an expiry out of range likewise. */
	websim_log_reset(sim);
	event("submit", "key-create", "", "key-name", "deploy", "key-days", "", NULL);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "Choose at least one scope.");
	event("change", "scope:runs:read", "", NULL);
	event("change", "scope:kb:write", "", NULL);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "data-test=\"scope-runs:read\" .checked=\"1\"");
	event("submit", "key-create", "", "key-name", "deploy", "key-days", "3651", NULL);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "from 1 to 3650");
	UNIT_ASSERT_INT(req_of("POST"), 0);
	event("submit", "key-create", "", "key-name", "de\"ploy", "key-days", "30", NULL);
	r = req_of("POST /api/v1/keys");
	CU_ASSERT_FATAL(r != 0);
	UNIT_ASSERT_CONTAINS(websim_log(sim), "{\"scopes\":[\"runs:read\",\"kb:write\"],\"name\":\"de\\\"ploy\","
	    "\"expires_in_days\":30} csrf=tok-123");
	fetched(r, 201, "{\"id\":\"rb3xq7mno2ka\",\"key\":\"sb_rb3xq7mno2ka_secret\"}");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "data-test=\"key-secret\">sb_rb3xq7mno2ka_secret</code>");
	CU_ASSERT(req_of("GET /api/v1/keys") != 0);
	/* Shown once: gone once the page is left. */
	route("#/");
	route("#/keys");
	CU_ASSERT(strstr(websim_html(sim), "sb_rb3xq7mno2ka_secret") == NULL);
	fetched(req_of("GET /api/v1/keys"), 200, "{\"items\":[{\"id\":\"k7q2m4xzc3fa\",\"scopes\":[]}]}");
	websim_log_reset(sim);
	event("click", "revoke:k7q2m4xzc3fa", "", NULL);
	r = req_of("DELETE /api/v1/keys/k7q2m4xzc3fa");
	CU_ASSERT_FATAL(r != 0);
	fetched(r, 204, "");
	CU_ASSERT(req_of("GET /api/v1/keys") != 0);

	/* The audit log, a page at a time. */
	route("#/audit");
	r = req_of("GET /api/v1/audit?limit=50");
	CU_ASSERT_FATAL(r != 0);
	fetched(r, 200, "{\"items\":[{\"id\":42,\"actor_type\":\"user\",\"action\":\"key.created\",\"target\":\"rb3\","
	    "\"details\":{\"scopes\":[\"runs:read\"]},\"created_at\":\"2026-11-20T09:14:02.512Z\",\"actor_id\":2,"
	    "\"ip\":\"203.0.113.7\"}],\"next_cursor\":\"41\"}");
	UNIT_ASSERT_INT(websim_count(sim, "data-test", "audit-entry"), 1);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "<code class=\"details\">{\"scopes\":[\"runs:read\"]}</code>");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "href=\"#/audit?cursor=41\" data-test=\"audit-older\"");
	route("#/audit?cursor=41");
	CU_ASSERT(req_of("GET /api/v1/audit?limit=50&cursor=41") != 0);
	sign_out();

	/* A viewer: no keys nor audit in the navigation, and the pages say why. */
	signed_in_at("#/keys", CAP_SSE, viewer);
	UNIT_ASSERT_INT(websim_find(sim, "data-test", "nav-keys"), 0);
	UNIT_ASSERT_INT(websim_find(sim, "data-test", "nav-audit"), 0);
	CU_ASSERT(websim_find(sim, "data-test", "nav-inbox") != 0);
	UNIT_ASSERT_INT(req_of("GET /api/v1/keys"), 0);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "Your role does not manage API keys.");
	sign_out();
}

static void
test_app_run(void)
{
	uint32_t	 r;

	signed_in_at("#/runs/r1", CAP_SSE, me);
	fetched(req_of("GET /api/v1/runs/r1 "), 200, "{\"id\":\"r1\",\"agent\":\"writer\",\"state\":\"running\","
	    "\"attempt\":1,\"max_attempts\":3,\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,"
	    "\"cost_usd\":0.0105},\"created_at\":\"2026-12-07T13:50:30.823Z\"}");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "<dd>1 of 3</dd>");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "<dd>12 in, 3 out</dd>");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "<dd>$0.010500</dd>");
	r = req_of("GET /api/v1/runs/r1/events?after=0&limit=200&wait=20");
	CU_ASSERT_FATAL(r != 0);
	fetched(r, 200, "{\"items\":[{\"seq\":1,\"type\":\"run.started\",\"data\":{\"attempt\":1},\"attempt\":1,"
	    "\"created_at\":\"2026-12-07T13:50:31.000Z\"},{\"seq\":2,\"type\":\"message.delta\",\"data\":{\"text\":\"a\"}},"
	    "{\"seq\":3,\"type\":\"tool.executing\",\"data\":{\"name\":\"http_fetch\",\"arguments\":{\"url\":\"u\"}}}],"
	    "\"next_after\":3,\"finished\":false}");
	UNIT_ASSERT_INT(websim_count(sim, "data-test", "timeline-event"), 2);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "calls http_fetch with {\"url\":\"u\"}");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "Raw events (3)");
	r = req_of("GET /api/v1/runs/r1/events?after=3&limit=200&wait=20");
	CU_ASSERT_FATAL(r != 0);
	/* A repeated event is taken once. */
	fetched(r, 200, "{\"items\":[{\"seq\":3,\"type\":\"tool.executing\",\"data\":{}},{\"seq\":4,"
	    "\"type\":\"run.succeeded\",\"data\":{}}],\"next_after\":4,\"finished\":true}");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "Raw events (3)");
	websim_log_reset(sim);
	event("click", "run-cancel", "", NULL);
	CU_ASSERT(req_of("POST /api/v1/runs/r1/cancel") != 0);
	/* Another run while the first's long poll waits: its late answer is dropped. */
	route("#/");
	websim_log_reset(sim);
	route("#/runs/r1");
	r = req_of("GET /api/v1/runs/r1/events?after=0");
	CU_ASSERT_FATAL(r != 0);
	route("#/runs/r2");
	UNIT_ASSERT_INT(websim_count(sim, "data-test", "timeline-event"), 0);
	fetched(r, 200, "{\"items\":[{\"seq\":1,\"type\":\"run.started\",\"data\":{}}],\"finished\":false}");
	UNIT_ASSERT_INT(websim_count(sim, "data-test", "timeline-event"), 0);
	CU_ASSERT(req_of("GET /api/v1/runs/r2/events?after=0&limit=200&wait=20") != 0);
	sign_out();
}

static void
test_app_kb(void)
{
	uint32_t	 r;

	signed_in_at("#/kb", CAP_SSE, me);
	fetched(req_of("GET /api/v1/kb/documents"), 200, "{\"items\":[{\"id\":\"d1\",\"title\":\"Rate limits\","
	    "\"format\":\"markdown\",\"bytes\":944,\"chunks\":2}],\"next_cursor\":null}");
	UNIT_ASSERT_INT(websim_count(sim, "data-test", "kb-doc"), 1);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "data-max=\"262144\"");
	/* Too large: the glue sends no bytes; not UTF-8: refused; nothing sent. */
	event("change", "kb-file", "", "name", "big.txt", "size", "300000", NULL);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "That file is 300000 bytes");
	event("change", "kb-file", "", "name", "x.bin", "size", "2", "bytes", "\xff\xfe", NULL);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "That file is not text");
	websim_log_reset(sim);
	event("submit", "kb-add", "", "kb-title", "", NULL);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "Choose a file first.");
	UNIT_ASSERT_INT(req_of("POST"), 0);
	event("change", "kb-file", "", "name", "Notes.MD", "size", "9", "bytes", "# Hi\n\"x\"\n", NULL);
	UNIT_ASSERT_CONTAINS(websim_html(sim), "id=\"kb-title\" name=\"kb-title\" type=\"text\" data-input=\"kb-title\" "
	    "data-test=\"kb-title\" .value=\"Notes\"");
	event("submit", "kb-add", "", "kb-title", "Notes", NULL);
	r = req_of("POST /api/v1/kb/documents");
	CU_ASSERT_FATAL(r != 0);
	UNIT_ASSERT_CONTAINS(websim_log(sim), "{\"title\":\"Notes\",\"content\":\"# Hi\\u000a\\\"x\\\"\\u000a\",\"format\":\"markdown\"}");
	fetched(r, 413, "{\"type\":\"/problems/kb-too-large\",\"status\":413}");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "The knowledge base is full: 64 MiB");
	websim_log_reset(sim);
	event("click", "delete:d1", "", NULL);
	r = req_of("DELETE /api/v1/kb/documents/d1");
	CU_ASSERT_FATAL(r != 0);
	fetched(r, 204, "");
	UNIT_ASSERT_CONTAINS(websim_html(sim), "Deleted.");
	sign_out();
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

/* A hidden tab gives its streams back after APP_PARK_MS and takes them again, from
 * where it was, once shown; hidden for less, nothing changes. */
static void
test_app_hidden_tab(void)
{
	char	 timer[32];

	open_app();
	signed_out_at("", 404);
	sign_in();
	route("#/");
	number(IN_SSE_STATE, 1, 1, 1);
	sse(1, "feed.ready", "40-0", "{\"after\":\"40-0\"}");
	sse(1, "run.queued", "41-7", "{\"id\":\"r1\",\"agent\":\"summarizer\",\"state\":\"queued\","
	    "\"created_at\":\"2026-12-07T13:50:31.048Z\"}");

	/* Hidden briefly: the timer is set, then cleared; the stream stays. */
	websim_log_reset(sim);
	number(IN_VISIBLE, 0, 0, 0);
	snprintf(timer, sizeof(timer), "timer %u %u\n", APP_MAX_TIMERS + 2, APP_PARK_MS);
	UNIT_ASSERT_CONTAINS(websim_log(sim), timer);
	number(IN_VISIBLE, 1, 0, 0);
	snprintf(timer, sizeof(timer), "untimer %u\n", APP_MAX_TIMERS + 2);
	UNIT_ASSERT_CONTAINS(websim_log(sim), timer);
	CU_ASSERT(strstr(websim_log(sim), "sse-close") == NULL);

	/* Hidden for long: the stream closes, and nothing reopens it while hidden. */
	number(IN_VISIBLE, 0, 0, 0);
	websim_log_reset(sim);
	number(IN_TIMER, APP_MAX_TIMERS + 2, 0, 0);
	UNIT_ASSERT_CONTAINS(websim_log(sim), "sse-close 1\n");
	CU_ASSERT(strstr(websim_log(sim), "fetch ") == NULL);
	CU_ASSERT(strstr(websim_log(sim), "timer 1 ") == NULL);
	/* A second hide while parked sets no timer again. */
	websim_log_reset(sim);
	number(IN_VISIBLE, 0, 0, 0);
	CU_ASSERT(strstr(websim_log(sim), "timer") == NULL);

	/* Shown: the session is asked and the stream reopens at once after its last event. */
	websim_log_reset(sim);
	number(IN_VISIBLE, 1, 0, 0);
	CU_ASSERT(req_of("GET /api/v1/me") != 0);
	UNIT_ASSERT_CONTAINS(websim_log(sim), "timer 1 0\n");
	fetched(req_of("GET /api/v1/me"), 200, me);
	number(IN_TIMER, 1, 0, 0);
	UNIT_ASSERT_CONTAINS(websim_log(sim), "sse-open 1 /api/v1/stream?after=41-7 ");

	/* Parked, then another page: the home's stream is not reopened when shown. */
	number(IN_VISIBLE, 0, 0, 0);
	number(IN_TIMER, APP_MAX_TIMERS + 2, 0, 0);
	route("#/agents");
	websim_log_reset(sim);
	number(IN_VISIBLE, 1, 0, 0);
	CU_ASSERT(strstr(websim_log(sim), "timer 1 ") == NULL);
	number(IN_TIMER, 1, 0, 0);
	CU_ASSERT(strstr(websim_log(sim), "sse-open") == NULL);
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
	unit_test(s, "a tab hidden for a minute gives its streams back, takes them again when shown",
	    test_app_hidden_tab);
	unit_test(s, "agents: the catalog filtered by name, category and provider", test_app_agents);
	unit_test(s, "a reload of a signed-in page opens that page", test_app_reload_signed_in);
	unit_test(s, "problems in words; malformed messages are ignored", test_app_problem_words);
	unit_test(s, "chat: threads, tokens in order across replays, gaps and reconnects, tool cards, "
	    "questions, the busy policy, cancel, Try it", test_app_chat);
	unit_test(s, "chat without EventSource: the run's long poll, nothing twice, nothing lost",
	    test_app_chat_longpoll);
	unit_test(s, "inbox: answer, refuse with a note, closed items, live reloads, who answered",
	    test_app_inbox);
	unit_test(s, "keys (secret shown once, revoke) and audit log; hidden from a viewer",
	    test_app_keys_audit);
	unit_test(s, "run detail: facts, timeline, raw events, each taken once", test_app_run);
	unit_test(s, "knowledge base: a file's bytes checked and sent, errors in words, delete",
	    test_app_kb);
}
