/* handoff.c: the tool that hands the conversation over to another agent of the org's
 * registry: the run goes on as that agent (its instructions, model and tools) from
 * the next model turn.  The agent's snapshot is recorded with the call's result, so
 * a later attempt of the run goes on as the same agent. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "worker/worker.h"
#include "worker/tools/tools.h"
#include "core/arena.h"
#include "core/db.h"
#include "core/err.h"
#include "core/log.h"

/* The agents this run's agent may hand over to: its handoff_to, or NULL (any). */
static json_t *
targets(const struct run *r)
{
	return run_param(r, "handoff_to");
}

static int
listed(const json_t *list, const char *slug)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(list, i, v)
		if (strcmp(json_string_value(v), slug) == 0)
			return 1;
	return 0;
}

/* The org's agent of that slug, as a run keeps it, or NULL (none enabled, or the
 * database could not say: err then set). */
static json_t *
snapshot(struct run *r, const char *slug, enum sb_err *err)
{
	static struct db_stmt	 st = { "agent_snapshot_org",
	    "SELECT agent_snapshot_org($1, $2)::text", 2, 0 };
	char			 org[24];
	const char		*p[2] = { org, slug };
	PGresult		*res;
	json_t			*snap = NULL;

	snprintf(org, sizeof(org), "%lld", r->org_id);
	if ((*err = db_ensure(&r->w->db)) != SB_OK)
		return NULL;
	/* One indexed read on the worker's connection, like a claim: not a network call
	 * to wait for. */
	if ((res = db_exec_stmt(&r->w->db, &st, p, err)) == NULL)
		return NULL;
	if (!PQgetisnull(res, 0, 0))
		snap = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	PQclear(res);
	return snap;
}

static void
start(struct tool_call *c)
{
	struct run	*r = c->run;
	const char	*to = json_string_value(json_object_get(c->args, "agent"));
	const char	*reason = json_string_value(json_object_get(c->args, "reason"));
	const char	*from = json_string_value(json_object_get(r->agent, "slug"));
	json_t		*snap;
	enum sb_err	 err;
	char		 msg[1400];

	if (from != NULL && strcmp(to, from) == 0) {
		tool_fail(c, "You are %.63s already: answer the user yourself.", to);
		return;
	}
	if (targets(r) != NULL && !listed(targets(r), to)) {
		tool_fail(c, "This agent may not hand over to \"%.63s\".", to);
		return;
	}
	if ((snap = snapshot(r, to, &err)) == NULL) {
		if (err != SB_OK)
			tool_fail(c, "The handover to \"%.63s\" failed: the registry could not be "
			    "read. Try again, or answer yourself.", to);
		else
			tool_fail(c, "There is no agent \"%.63s\" to hand over to.", to);
		return;
	}
	run_emit(r, "agent.handoff", json_pack("{s:s?, s:s, s:O?, s:s?}", "from", from, "to", to,
	    "name", json_object_get(snap, "name"), "reason", reason));
	snprintf(msg, sizeof(msg), "The conversation is now with %.200s (%.63s)%s%.1000s. "
	    "Answer the user's last message.", json_string_value(json_object_get(snap, "name")),
	    to, reason != NULL ? ", because: " : "", reason != NULL ? reason : "");
	c->record = json_pack("{s:O}", "agent", snap);
	log_info("run handed over", "{s:s, s:s?, s:s}", "run", r->id, "from", from, "to", to);
	tool_done(c, 1, msg, strlen(msg));
	run_agent(r, snap);
	json_decref(snap);
}

/* The model is offered the agents it may name, when the list is fixed. */
static void
offer(const struct run *r, json_t *tool)
{
	json_t	*list = targets(r), *agent;
	char	*names, *desc;
	size_t	 n;

	if (list == NULL)
		return;
	agent = json_object_get(json_object_get(json_object_get(tool, "parameters"),
	    "properties"), "agent");
	json_object_set(agent, "enum", list);
	names = json_dumps(list, JSON_COMPACT);
	n = strlen(json_string_value(json_object_get(tool, "description"))) + strlen(names) + 64;
	desc = sb_malloc(n);
	snprintf(desc, n, "%s The agents you can hand over to: %s.",
	    json_string_value(json_object_get(tool, "description")), names);
	json_object_set_new(tool, "description", json_string(desc));
	free(desc);
	free(names);
}

const struct tool_impl tool_handoff = { .name = "handoff", .start = start, .offer = offer };
