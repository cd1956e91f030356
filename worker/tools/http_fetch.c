/* http_fetch.c: the tool that GETs (or POSTs) a URL the model chose and gives it the
 * text.  The URL is the model's, so it is anyone's who can put words before the model:
 * the request is web.c's, guarded on every connection unless the org's allowlist names
 * the host, with redirects followed hop by hop so each new host is checked again. */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "worker/worker.h"
#include "worker/tools/tools.h"
#include "worker/tools/web.h"

#define FETCH_MAX_BYTES		(2 * 1024 * 1024)	/* of a body as received */
#define FETCH_TIMEOUT_MS	10000			/* of each hop */

static int
post_allowed(const struct run *r)
{
	return json_is_true(run_param(r, "fetch_post"));
}

static void
start(struct tool_call *c)
{
	const char	*method = json_string_value(json_object_get(c->args, "method"));
	const char	*body = json_string_value(json_object_get(c->args, "body"));
	struct web_req	 q;

	memset(&q, 0, sizeof(q));
	q.url = json_string_value(json_object_get(c->args, "url"));
	if (method != NULL && strcmp(method, "POST") == 0) {
		if (!post_allowed(c->run)) {
			tool_fail(c, "Refused: this agent may only GET, not POST (%.300s).", q.url);
			return;
		}
		q.body = body != NULL ? body : "";
	}
	q.max_bytes = FETCH_MAX_BYTES;
	q.timeout_ms = FETCH_TIMEOUT_MS;
	q.head_url = 1;
	web_start(c, &q);
}

/* A GET may run again; a POST may have taken effect already: never. */
static int
rerun_safe(const struct run *r, const json_t *args)
{
	const char *method = json_string_value(json_object_get(args, "method"));

	(void)r;
	return method == NULL || strcmp(method, "GET") == 0;
}

const struct tool_impl tool_http_fetch = {
	.name = "http_fetch", .start = start, .cancel = web_cancel, .rerun_safe = rerun_safe
};
