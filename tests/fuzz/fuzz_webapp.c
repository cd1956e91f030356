/* fuzz_webapp.c: the browser app (web/src/app.c and its pages) given any sequence of
 * input messages, well-formed ones built from the bytes and raw ones as they come:
 * it never crashes, and every operation it writes applies to the document as it is
 * then (tests/unit/websim.c: each node named exists, each id made is new). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/websim.h"
#include "web/src/app.h"
#include "web/src/wire.h"

#define PICK(table)	table[next(&in) % (sizeof(table) / sizeof(table[0]))]

static const char *const hashes[] = { "", "#/", "#/login", "#/agents",
	"#/agents?q=%73u&category=writing&provider=", "#/nope?x", "#/chat", "#/keys/", "#/chat/t1",
	"#/chat/t2/", "#/runs/r1", "#/inbox?item=i1", "#/inbox?state=all", "#/kb", "#/audit?cursor=4" };
static const char *const bodies[] = { "",
	"{\"auth\":\"session\",\"csrf_token\":\"t\",\"org\":{\"name\":\"O\"},\"user\":{\"email\":\"e@x\"}}",
	"{\"items\":[{\"slug\":\"a\",\"name\":\"A\",\"category\":\"c\",\"provider\":\"p\",\"tools\":[\"t\"]},"
	"{\"slug\":\"b\",\"tools\":[1,null]},{}]}",
	"{\"type\":\"/problems/invalid-credentials\",\"status\":401}",
	"{\"type\":\"about:blank\",\"request_id\":\"r\"}", "{\"items\":{}}", "[", "{\"items\":[1,\"x\"]}",
	"{\"auth\":\"session\",\"csrf_token\":\"t\",\"scopes\":[\"runs:write\",\"keys:admin\",\"audit:read\","
	"\"inbox:write\",\"kb:write\",7],\"user\":{}}",
	"{\"id\":\"r2\",\"state\":\"queued\",\"key\":\"sb_x\"}",
	"{\"items\":[{\"seq\":1,\"type\":\"message.delta\",\"data\":{\"text\":\"a\"}},{\"seq\":3}],\"finished\":true}",
	"{\"items\":[{\"id\":\"i1\",\"kind\":\"approval\",\"state\":\"open\",\"call\":{}},"
	"{\"id\":\"i2\",\"state\":\"answered\",\"answered_by\":{\"kind\":\"key\",\"id\":1}}],\"next_cursor\":\"9\"}",
	"{\"items\":[{\"seq\":1,\"role\":\"user\",\"run\":\"r1\"},{\"role\":\"assistant\",\"run\":\"r1\","
	"\"data\":{\"tool_calls\":[{\"id\":\"c1\"},2]}},{\"role\":\"tool\",\"run\":\"r1\",\"data\":{\"tool_call_id\":\"c1\"}}]}" };
static const char *const types[] = { "click", "input", "change", "submit" };
static const char *const actions[] = { "login-email", "login-password", "login", "logout",
	"dismiss", "agents-q", "agents-category", "agents-provider", "agents-search", "", "try:a",
	"chat-input", "chat-send", "chat-new", "chat-agent", "chat-multitask", "cancel:r1",
	"inbox-answer:i1", "inbox-note:i1", "answer:i1", "approve:i1", "refuse:i1", "scope:runs:read",
	"key-create", "revoke:k1", "secret-hide", "run-cancel", "kb-file", "kb-add", "delete:d1" };
static const char *const sse_types[] = { "feed.ready", "run.queued", "run.failed", "run.",
	"inbox.created", "inbox.answered", "other", "run.started", "message.delta", "tool.executing",
	"tool.completed", "human.requested", "human.answered", "run.retrying", "agent.handoff" };
static const char *const sse_data[] = { "{\"id\":\"r1\",\"agent\":\"a\",\"state\":\"queued\"}",
	"{\"id\":\"r1\",\"state\":\"failed\",\"error\":{\"message\":\"m\"},\"finished_at\":\"2026-12-07T13:50:31Z\"}",
	"{\"id\":\"i1\",\"state\":\"open\",\"question\":\"q\"}", "{\"id\":\"i1\",\"call\":{\"name\":\"n\"}}",
	"{}", "nope", "{\"id\":7}", "{\"run\":\"r1\",\"text\":\"t\",\"call_id\":\"c1\",\"item\":\"i1\"}",
	"{\"run\":\"r2\",\"attempt\":2,\"arguments\":[1,{\"a\":null}]}" };
static const uint32_t statuses[] = { 0, 200, 201, 202, 204, 302, 400, 401, 404, 409, 413, 429,
	500, 503 };

struct bytes {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
};

static unsigned
next(struct bytes *in)
{
	return in->off < in->len ? in->p[in->off++] : 0;
}

/* Up to 16 bytes of the input as a string (any bytes: the glue sends UTF-8, but the
 * app must not trust it). */
static void
slice(struct bytes *in, struct sb_buf *m)
{
	size_t	 n = next(in) % 17;

	if (n > in->len - in->off)
		n = in->len - in->off;
	wire_u32(m, (uint32_t)n);
	buf_append(m, in->p + in->off, n);
	in->off += n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bytes	 in = { data, size, 0 };
	struct app	*app = app_new();
	struct websim	*sim = websim_new();
	struct sb_buf	 m = { 0 };
	unsigned	 k, i, n;

	while (in.off < in.len) {
		buf_reset(&m);
		k = next(&in) % 9;
		switch (k) {
		case 0:
			wire_u8(&m, IN_START);
			wire_str(&m, PICK(hashes));
			wire_u32(&m, next(&in) & 1);
			if (next(&in) & 1)
				wire_u32(&m, next(&in) & 1);	/* caps */
			break;
		case 1:
			wire_u8(&m, IN_ROUTE);
			wire_str(&m, PICK(hashes));
			break;
		case 2:
			wire_u8(&m, IN_EVENT);
			wire_str(&m, PICK(types));
			wire_str(&m, PICK(actions));
			slice(&in, &m);
			n = next(&in) % 3;
			wire_u32(&m, n);
			for (i = 0; i < n; i++) {
				wire_str(&m, i == 0 ? "email" : next(&in) & 1 ? "bytes" : "message");
				slice(&in, &m);
			}
			break;
		case 3:
			wire_u8(&m, IN_FETCH);
			wire_u32(&m, next(&in) % 64);
			wire_u32(&m, PICK(statuses));
			wire_str(&m, PICK(bodies));
			break;
		case 4:
			wire_u8(&m, IN_SSE);
			wire_u32(&m, next(&in) % 6);
			wire_str(&m, PICK(sse_types));
			slice(&in, &m);
			wire_str(&m, PICK(sse_data));
			break;
		case 5:
			wire_u8(&m, IN_SSE_STATE);
			wire_u32(&m, next(&in) % 6);
			wire_u32(&m, next(&in) % 4);
			break;
		case 6:
			wire_u8(&m, IN_TIMER);
			wire_u32(&m, next(&in) % 12);
			break;
		case 7:
			wire_u8(&m, IN_ONLINE);
			wire_u32(&m, next(&in) & 1);
			break;
		default:
			/* Raw bytes: any message, malformed or not. */
			slice(&in, &m);
			buf_consume(&m, 4);
			break;
		}
		app_input(app, m.data, m.len);
		FUZZ_ASSERT(websim_apply(sim, app->out.data, app->out.len) == 0);
	}
	/* The pages keep state in statics: forget it, so that each input starts afresh. */
	route_reset_all(app);
	app_free(app);
	websim_free(sim);
	buf_free(&m);
	return 0;
}
