/* words.c: what a failed API answer means, in words a person understands
 * (app_problem_text in app.h).  The API answers errors as problem documents
 * (docs/api.md, Errors); the type says what happened, the detail says more. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "web/src/app.h"

static const struct {
	const char	*type;		/* after /problems/ */
	const char	*words;
} known[] = {
	{ "invalid-credentials", "The email address or the password is not right." },
	{ "rate-limited", "Too many tries in a short time. Wait a minute, then try again." },
	{ "login-delayed", "Too many failed sign-ins for this address. Wait a minute, then try again." },
	{ "unauthenticated", "You are not signed in, or your session has ended. Sign in again." },
	{ "missing-scope", "Your role does not allow this. Ask an owner or an admin of your organization." },
	{ "csrf", "This page's session is out of date. Reload the page and try again." },
	{ "database-unavailable", "Switchboard cannot reach its database right now. Try again in a moment." },
	{ "database-role", "Switchboard is misconfigured and refuses to serve data. Tell your operator." },
	{ "rate-limit-unavailable", "Switchboard is not available right now. Try again in a moment." },
	{ "too-many-streams", "Too many live views are open. Close a few tabs, then reload this one." },
	{ "oidc-unavailable", "Single sign-on is not available right now. Try again in a moment." },
	{ "thread-busy", "A run is already going in this chat. Wait for it, or choose to queue your "
	    "message or to interrupt the run." },
	{ "inbox-closed", "This was already answered, or it expired or was cancelled with its run." },
	{ "unknown-agent", "That agent does not exist, or it is disabled." },
	{ "document-too-large", "That document is too large: 256 KiB at most." },
	{ "too-many-documents", "The knowledge base is full: 1000 documents at most. Delete some first." },
	{ "kb-too-large", "The knowledge base is full: 64 MiB in all. Delete some documents first." },
	{ "invalid-content", "That document is empty, or white space alone." },
	{ "scope-not-held", "A key can only have scopes you have yourself." },
};

const char *
app_problem_text(struct app *app, const struct reply *r)
{
	const char	*type, *detail, *rid;
	size_t		 i;

	if (r->status == 0)
		return app->online ? "Switchboard cannot be reached. Check your connection, "
		    "then try again." : "You are offline. This will work again once you are back online.";
	type = wj_gets(r->json, "type", "");
	detail = wj_gets(r->json, "detail", NULL);
	rid = wj_gets(r->json, "request_id", NULL);
	if (strncmp(type, "/problems/", 10) == 0)
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(type + 10, known[i].type) == 0)
				return known[i].words;
	if (r->status >= 500)
		return arena_printf(app->msg, "Switchboard could not do this (error %d). Try again; "
		    "if it keeps happening, tell your operator%s%s%s.", r->status,
		    rid != NULL ? " (request " : "", rid != NULL ? rid : "", rid != NULL ? ")" : "");
	if (r->status == 404)
		return "That was not found. It may have been removed.";
	if (r->status == 403)
		return "You are not allowed to do this.";
	if (detail != NULL)
		return arena_printf(app->msg, "That did not work: %s.", detail);
	return arena_printf(app->msg, "That did not work (error %d).", r->status);
}
