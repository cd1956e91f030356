/* step.c: the agent loop's tool steps.  A model turn that called tools is recorded;
 * once that record is written its calls run, side by side; each result is recorded as
 * it comes; once every result is written the model is called again with them.  A
 * later attempt of the run goes on from the records (sql/014_steps.sql). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "worker/worker.h"
#include "worker/tools/tools.h"
#include "core/agent.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/schema.h"

/* What the model is told of a call that may have run when its worker died. */
#define UNKNOWN_OUTCOME	"The outcome of this call is unknown: the worker running it stopped " \
	"before it finished, and this tool is not safe to run twice. Check whether it took " \
	"effect before calling it again."

void
step_record(struct run *r, int step, const char *call_id, json_t *data)
{
	struct pending *p = &r->w->pending;

	json_storable(data);
	json_array_append_new(p->steps, json_pack("{s:s, s:i, s:i, s:s, s:o}", "id", r->id,
	    "attempt", r->attempt, "step", step, "call_id", call_id, "data", data));
	if (p->since_us == 0)
		p->since_us = clock_mono_us();
	r->saving = 1;
}

/* ------------------------------------------------------------ calls */

/* What a person said of a call that needs approval. */
enum approval {
	APPROVAL_NONE,		/* not approved (yet) */
	APPROVAL_FRESH,		/* approved, and this is the first attempt since */
	APPROVAL_EARLIER	/* approved before an attempt that may have run it */
};

static int
needs_approval(const struct tool_call *c)
{
	json_t	*v;
	size_t	 i;

	if (c->decl == NULL)
		return 0;
	if (c->decl->needs_approval)
		return 1;
	json_array_foreach(run_param(c->run, "approve_tools"), i, v)
		if (strcmp(json_string_value(v), c->name) == 0)
			return 1;
	return 0;
}

static enum approval
approval(const struct tool_call *c)
{
	char	 key[240];
	json_t	*v;

	snprintf(key, sizeof(key), "%d %s", c->step, c->id);
	if ((v = json_object_get(c->run->approvals, key)) == NULL)
		return APPROVAL_NONE;
	return json_is_true(v) ? APPROVAL_FRESH : APPROVAL_EARLIER;
}

static int
agent_has(const struct run *r, const char *name)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(json_object_get(r->agent, "tools"), i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), name) == 0)
			return 1;
	return 0;
}

static void
call_free(struct tool_call *c)
{
	json_decref(c->args);
	json_decref(c->record);
	free(c->args_text);
	free(c->result);
	free(c);
}

static void
calls_free(struct run *r)
{
	size_t i;

	for (i = 0; i < r->ncalls; i++)
		call_free(r->calls[i]);
	free(r->calls);
	r->calls = NULL;
	r->ncalls = r->calls_left = 0;
}

/* The calls of a model turn ([{"id", "name", "arguments"}]), none started. */
static void
calls_make(struct run *r, int step, json_t *calls)
{
	struct tool_call	*c;
	const char		*s;
	json_t			*v;
	size_t			 i;

	calls_free(r);
	r->calls = sb_calloc(json_array_size(calls) + 1, sizeof(*r->calls));
	json_array_foreach(calls, i, v) {
		c = sb_calloc(1, sizeof(*c));
		c->run = r;
		c->step = step;
		c->index = (int)i;
		s = json_string_value(json_object_get(v, "id"));
		snprintf(c->id, sizeof(c->id), "%s", s != NULL ? s : "");
		s = json_string_value(json_object_get(v, "name"));
		snprintf(c->name, sizeof(c->name), "%s", s != NULL ? s : "");
		s = json_string_value(json_object_get(v, "arguments"));
		c->args_text = sb_strdup(s != NULL ? s : "");
		if (agent_has(r, c->name) && (c->decl = tool_decl_find(c->name)) != NULL)
			c->impl = tool_impl_find(c->name);
		r->calls[r->ncalls++] = c;
	}
	r->calls_left = r->ncalls;
}

void
tool_done(struct tool_call *c, int ok, const char *text, size_t len)
{
	struct run	*r = c->run;
	json_t		*result, *shown, *rec;
	int64_t		 ms;

	if (c->done)
		return;
	c->done = 1;
	c->running = 0;
	c->state = NULL;
	c->ok = ok;
	if (len > TOOL_RESULT_MAX)
		len = utf8_prefix(text, TOOL_RESULT_MAX);
	result = json_text(text, len);
	c->result = sb_strdup(json_string_value(result));
	ms = (clock_mono_us() - c->started_us) / 1000;
	len = strlen(c->result);
	shown = len > TOOL_EVENT_RESULT_MAX ?
	    json_text(c->result, utf8_prefix(c->result, TOOL_EVENT_RESULT_MAX)) :
	    json_incref(result);
	run_emit(r, "tool.completed", json_pack("{s:s, s:s, s:b, s:o, s:b, s:I}",
	    "call_id", c->id, "name", c->name, "ok", ok, "result", shown,
	    "truncated", len > TOOL_EVENT_RESULT_MAX, "duration_ms", (json_int_t)ms));
	rec = json_pack("{s:i, s:s, s:b, s:o, s:I}", "index", c->index, "name", c->name,
	    "ok", ok, "content", result, "duration_ms", (json_int_t)ms);
	if (c->record != NULL)
		json_object_update(rec, c->record);
	step_record(r, c->step, c->id, rec);
	if (!ok)
		r->w->m.tool_errors++;
	r->calls_left--;
}

/* A call's arguments as the model sent them: the object, or the text itself. */
static json_t *
args_shown(const struct tool_call *c)
{
	json_t *j = json_loads(c->args_text, JSON_DECODE_ANY, NULL);

	return j != NULL ? j : json_text(c->args_text, strlen(c->args_text));
}

void
tool_vfail(struct tool_call *c, const char *fmt, va_list ap)
{
	char msg[600];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	tool_done(c, 0, msg, strlen(msg));
}

void
tool_fail(struct tool_call *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tool_vfail(c, fmt, ap);
	va_end(ap);
}

static void
call_start(struct tool_call *c)
{
	struct run	*r = c->run;
	char		 err[200];

	run_emit(r, "tool.executing", json_pack("{s:s, s:s, s:o}", "call_id", c->id,
	    "name", c->name, "arguments", args_shown(c)));
	c->started_us = clock_mono_us();
	c->running = 1;
	r->w->m.tool_calls++;
	if (c->decl == NULL || c->impl == NULL) {
		tool_fail(c, "There is no tool named \"%.64s\" for this agent.", c->name);
		return;
	}
	c->args = json_loads(c->args_text, 0, NULL);
	if (!json_is_object(c->args)) {
		tool_fail(c, "%s", "The arguments are not a JSON object.");
		return;
	}
	if (schema_check(tool_decl_schema(c->decl), c->args, err, sizeof(err)) != 0) {
		tool_fail(c, "The arguments do not fit the tool's schema: %s", err);
		return;
	}
	if (needs_approval(c) && approval(c) == APPROVAL_NONE) {
		tool_wait(c, NULL);
		return;
	}
	c->impl->start(c);
}

/* The results of the turn's calls, in their order, join the run's turns. */
static void
results_to_turns(struct run *r)
{
	struct tool_call	*c;
	size_t			 i;

	for (i = 0; i < r->ncalls; i++) {
		c = r->calls[i];
		json_array_append_new(r->turns, json_pack("{s:s, s:s, s:s, s:s, s:b}",
		    "role", "tool", "tool_call_id", c->id, "name", c->name,
		    "content", c->result != NULL ? c->result : "", "is_error", !c->ok));
	}
}

static void
assistant_turn(struct run *r, json_t *content, json_t *calls)
{
	json_array_append_new(r->turns, json_pack("{s:s, s:o, s:O}", "role", "assistant",
	    "content", content, "tool_calls", calls));
}

void
tool_wait(struct tool_call *c, const char *question)
{
	struct run	*r = c->run;
	json_t		*deadline = run_param(r, "human_deadline_s");
	json_t		*timeout = run_param(r, "on_human_timeout"), *item, *ev;
	int64_t		 secs = json_is_integer(deadline) ? json_integer_value(deadline) :
			    AGENT_HUMAN_DEADLINE_DEFAULT;
	char		 expires[32];

	uuid_v4(c->item);
	c->waiting = 1;
	c->running = 0;
	clock_iso8601_ms(clock_real_ms() + secs * 1000, expires);
	item = json_pack("{s:s, s:i, s:s, s:s, s:I, s:s}", "id", c->item, "step", c->step,
	    "call_id", c->id, "kind", question != NULL ? "question" : "approval",
	    "expires_s", (json_int_t)secs, "on_timeout",
	    json_is_string(timeout) ? json_string_value(timeout) : "continue");
	ev = json_pack("{s:s, s:s, s:s, s:s}", "item", c->item, "kind",
	    question != NULL ? "question" : "approval", "call_id", c->id, "expires_at", expires);
	if (question != NULL) {
		json_object_set_new(item, "question", json_string(question));
		json_object_set_new(ev, "question", json_string(question));
	} else {
		json_object_set_new(item, "call", json_pack("{s:s, s:s}", "name", c->name,
		    "arguments", c->args_text));
		json_object_set_new(ev, "call", json_pack("{s:s, s:o}", "name", c->name,
		    "arguments", args_shown(c)));
	}
	run_emit(r, "human.requested", ev);
	if (r->inbox == NULL)
		r->inbox = json_array();
	json_array_append_new(r->inbox, item);
	/* Set aside: the turn goes on without it, and then the run waits. */
	if (--r->calls_left == 0 && !r->saving)
		run_wait(r);
}

/* ------------------------------------------------------------ the loop */

/* The turn's calls with an id each that is there, at most 200 bytes and its own in
 * the turn (the journal's key: a model's empty or repeated id would lose a result),
 * else one made from the step and the call's place.  A new reference. */
json_t *
step_call_ids(json_t *calls, int step)
{
	json_t		*out = json_deep_copy(calls), *c;
	const char	*id;
	char		 made[48];
	size_t		 i, j;

	json_array_foreach(out, i, c) {
		id = json_string_value(json_object_get(c, "id"));
		for (j = 0; id != NULL && *id != '\0' && strlen(id) <= 200 && j < i; j++)
			if (strcmp(json_string_value(json_object_get(json_array_get(out, j), "id")),
			    id) == 0)
				break;
		if (id == NULL || *id == '\0' || strlen(id) > 200 || j < i) {
			snprintf(made, sizeof(made), "call_%d_%zu", step, i);
			json_object_set_new(c, "id", json_string(made));
		}
	}
	return out;
}

void
step_turn(struct run *r, const char *text, size_t len, json_t *given)
{
	json_t *usage = run_usage(r, &r->usage), *calls = step_call_ids(given, r->step + 1);

	r->recorded.prompt_tokens += r->usage.prompt_tokens;
	r->recorded.completion_tokens += r->usage.completion_tokens;
	r->w->m.prompt_tokens += (uint64_t)r->usage.prompt_tokens;
	r->w->m.completion_tokens += (uint64_t)r->usage.completion_tokens;
	memset(&r->usage, 0, sizeof(r->usage));
	r->step++;
	r->w->m.steps++;
	step_record(r, r->step, "", json_pack("{s:o, s:O, s:o}", "content", json_text(text, len),
	    "tool_calls", calls, "usage", usage));
	assistant_turn(r, json_text(text, len), calls);
	calls_make(r, r->step, calls);
	json_decref(calls);
}

void
step_saved(struct run *r)
{
	size_t i;

	r->saving = 0;
	if (r->phase == RUN_ENDED || r->ncalls == 0)
		return;
	if (r->calls_left == 0 && r->inbox != NULL) {
		run_wait(r);		/* every call that could run has: a person next */
		return;
	}
	if (r->calls_left == 0) {
		results_to_turns(r);
		calls_free(r);
		run_call(r, clock_mono_us());
		return;
	}
	for (i = 0; i < r->ncalls && r->phase != RUN_ENDED; i++)
		if (!r->calls[i]->done && !r->calls[i]->running)
			call_start(r->calls[i]);
}

void
step_stop(struct run *r)
{
	struct tool_call	*c;
	size_t			 i;

	for (i = 0; i < r->ncalls; i++) {
		c = r->calls[i];
		if (c->running && c->impl != NULL && c->impl->cancel != NULL)
			c->impl->cancel(c);
		c->running = 0;
	}
	calls_free(r);
}

/* The recorded result of (step, id) in the journal, or NULL. */
static json_t *
recorded(json_t *journal, int step, const char *id)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(journal, i, v)
		if (json_integer_value(json_object_get(v, "step")) == step &&
		    strcmp(json_string_value(json_object_get(v, "call_id")), id) == 0)
			return json_object_get(v, "data");
	return NULL;
}

/* A recorded result's text ("" if the record has none). */
static const char *
text_of(json_t *res)
{
	const char *s = json_string_value(json_object_get(res, "content"));

	return s != NULL ? s : "";
}

static void
usage_add(struct llm_usage *u, json_t *usage)
{
	u->prompt_tokens += json_integer_value(json_object_get(usage, "prompt_tokens"));
	u->completion_tokens += json_integer_value(json_object_get(usage, "completion_tokens"));
}

/* May this call, which may have run when its worker died, run again? */
static int
rerun_safe(const struct tool_call *c)
{
	json_t	*args;
	int	 safe;

	if (c->impl == NULL)
		return 0;
	if (c->impl->rerun_safe == NULL)
		return c->decl->idempotent;
	args = json_loads(c->args_text, 0, NULL);
	safe = c->impl->rerun_safe(c->run, args);
	json_decref(args);
	return safe;
}

/* A call's recorded result (res; NULL: none, which only a turn before the last cannot
 * have, and reads as unknown) as the call's, and what it changed: a handoff's agent. */
static void
replay_one(struct tool_call *c, json_t *res)
{
	json_t *agent = json_object_get(res, "agent");

	c->done = 1;
	c->ok = json_is_true(json_object_get(res, "ok"));
	c->result = sb_strdup(res != NULL ? text_of(res) : UNKNOWN_OUTCOME);
	if (c->ok && json_is_object(agent))
		run_agent(c->run, agent);
}

/* The results of an earlier turn's calls, from the journal. */
static void
replay_results(struct run *r)
{
	size_t i;

	for (i = 0; i < r->ncalls; i++)
		replay_one(r->calls[i], recorded(r->journal, r->calls[i]->step, r->calls[i]->id));
	results_to_turns(r);
}

int
step_resume(struct run *r)
{
	json_t			*v, *d, *res;
	struct tool_call	*c;
	size_t			 i;
	int			 rerun = 0, unknown = 0;

	if (json_array_size(r->journal) == 0)
		return 0;
	/* The model turns in order (the journal is by step, the turn first), each
	 * followed by its calls' results. */
	json_array_foreach(r->journal, i, v) {
		if (strcmp(json_string_value(json_object_get(v, "call_id")), "") != 0)
			continue;
		if (r->ncalls > 0)
			replay_results(r);
		d = json_object_get(v, "data");
		r->step = (int)json_integer_value(json_object_get(v, "step"));
		usage_add(&r->recorded, json_object_get(d, "usage"));
		assistant_turn(r, json_string(text_of(d)), json_object_get(d, "tool_calls"));
		calls_make(r, r->step, json_object_get(d, "tool_calls"));
	}
	/* The last turn's calls: recorded, run again, or of unknown outcome. */
	for (i = 0; i < r->ncalls; i++) {
		c = r->calls[i];
		if ((res = recorded(r->journal, c->step, c->id)) != NULL) {
			replay_one(c, res);
			r->calls_left--;
		} else if (needs_approval(c) && approval(c) != APPROVAL_EARLIER) {
			;	/* never ran: it asks (again), or runs now that it may */
		} else if (rerun_safe(c)) {
			rerun++;
		} else {
			c->started_us = clock_mono_us();
			unknown++;
			tool_done(c, 0, UNKNOWN_OUTCOME, strlen(UNKNOWN_OUTCOME));
		}
	}
	r->w->m.tool_reruns += (uint64_t)rerun;
	r->w->m.tool_unknown += (uint64_t)unknown;
	json_decref(r->journal);
	r->journal = NULL;
	/* As the agent it goes on as: another than agent.started's after a handoff. */
	run_emit(r, "agent.resumed", json_pack("{s:i, s:i, s:i, s:O?}", "step", r->step,
	    "calls_rerun", rerun, "calls_unknown", unknown, "agent",
	    json_object_get(r->agent, "slug")));
	if (!r->saving)
		step_saved(r);
	return 1;
}
