/* http_tool.c: the code of every HTTP tool an operator defines in configuration
 * (core/tooldef.h).  A call's URL is the definition's template expanded with the
 * model's arguments (core/urltmpl.c: each value encoded, so it cannot leave the
 * template's host, path structure or parameters), its headers the definition's with
 * their secrets, a POST's body the arguments as JSON; the request is web.c's, as
 * http_fetch makes it: guarded unless the org's allowlist names the host or the
 * definition allows its own private host, and redirected only within the template's
 * origin.  The model gets the body, and the status when it is an error. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "worker/tools/tools.h"
#include "worker/tools/web.h"
#include "core/tooldef.h"

#define TOOL_ACCEPT	"application/json, text/*;q=0.9, */*;q=0.5"

static void
start(struct tool_call *c)
{
	const struct tooldef	*d = tool_decl_def(c->decl);
	struct web_req		 q;
	char			 err[300], *url, *body;

	if ((url = tooldef_url(d, c->args, err, sizeof(err))) == NULL) {
		tool_fail(c, "Refused: %s.", err);
		return;
	}
	body = tooldef_body(d, c->args);
	memset(&q, 0, sizeof(q));
	q.url = url;
	q.label = d->decl.name;
	q.body = body;
	q.content_type = body != NULL ? "application/json" : NULL;
	q.accept = TOOL_ACCEPT;
	q.headers = d->headers;
	q.max_bytes = d->max_bytes;
	q.timeout_ms = d->timeout_ms;
	q.origin = d->origin;
	q.origin_private = d->allow_private;
	web_start(c, &q);
	free(url);
	free(body);
}

/* Whether a call may run again is the definition's idempotent (NULL rerun_safe). */
const struct tool_impl tool_http_tool = {
	.name = "(configured)", .start = start, .cancel = web_cancel
};
