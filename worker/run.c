/* run.c: one run: call the model, write its progress as events, end it.  The turns in
 * which the model calls tools are step.c's. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "worker/worker.h"
#include "worker/context.h"
#include "worker/tools/tools.h"
#include "core/agent.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/cache.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "core/tools.h"

static void
w_due(struct worker *w, int64_t t)
{
	if (t < w->next_tick_us)
		w->next_tick_us = t;
}

struct run *
run_new(struct worker *w, PGresult *res, int row)
{
	struct run	*r = sb_calloc(1, sizeof(*r));

	r->w = w;
	snprintf(r->id, sizeof(r->id), "%s", PQgetvalue(res, row, 0));
	r->org_id = atoll(PQgetvalue(res, row, 1));
	r->attempt = atoi(PQgetvalue(res, row, 2));
	r->counted = atoi(PQgetvalue(res, row, 3));
	r->max_attempts = atoi(PQgetvalue(res, row, 4));
	r->next_seq = atoi(PQgetvalue(res, row, 5)) + 1;
	r->agent = json_loads(PQgetvalue(res, row, 6), 0, NULL);
	r->input = json_loads(PQgetvalue(res, row, 7), JSON_DECODE_ANY, NULL);
	if (r->agent == NULL)
		r->agent = json_object();
	if (r->input == NULL)
		r->input = json_null();
	if (!PQgetisnull(res, row, 8))
		r->context = json_loads(PQgetvalue(res, row, 8), 0, NULL);
	snprintf(r->thread_id, sizeof(r->thread_id), "%s", PQgetvalue(res, row, 9));
	if (!PQgetisnull(res, row, 10))
		r->journal = json_loads(PQgetvalue(res, row, 10), 0, NULL);
	r->allow_hosts = json_loads(PQgetvalue(res, row, 11), 0, NULL);
	if (!json_is_array(r->allow_hosts)) {
		json_decref(r->allow_hosts);
		r->allow_hosts = json_array();
	}
	if (!PQgetisnull(res, row, 12))
		r->approvals = json_loads(PQgetvalue(res, row, 12), 0, NULL);
	r->turns = json_array();
	run_agent(r, r->agent);
	r->phase = RUN_ACTIVE;
	LIST_INSERT_HEAD(&w->runs, r, link);
	w->nruns++;
	w->nactive++;
	return r;
}

json_t *
run_param(const struct run *r, const char *name)
{
	return json_object_get(json_object_get(r->agent, "parameters"), name);
}

void
run_agent(struct run *r, json_t *agent)
{
	const char	*prov;
	int		 kind;

	json_incref(agent);		/* before the old one goes: it may be the same */
	json_decref(r->agent);
	r->agent = agent;
	prov = json_string_value(json_object_get(agent, "provider"));
	kind = llm_kind_parse(prov != NULL ? prov : "");
	r->kind = kind < 0 ? LLM_BUILTIN : (enum llm_kind)kind;
	r->model = json_string_value(json_object_get(agent, "model"));
	if (r->model == NULL)
		r->model = "";
	/* A snapshot the API validated cannot name another provider; a row written by
	 * hand can.  It fails for good, with a clear message. */
	r->bad_agent = kind < 0;
	if (kind < 0)
		r->model = "";
	r->max_steps = (int)json_integer_value(run_param(r, "max_steps"));
	if (r->max_steps <= 0)
		r->max_steps = AGENT_MAX_STEPS_DEFAULT;
	free(r->cache_key);
	r->cache_key = NULL;
}

void
run_free(struct run *r)
{
	struct worker *w = r->w;

	if (r->call != NULL)
		llm_call_cancel(r->call);
	if (r->builtin != NULL)
		builtin_free(r->builtin);
	step_stop(r);
	LIST_REMOVE(r, link);
	w->nruns--;
	if (r->phase != RUN_ENDED)
		w->nactive--;
	json_decref(r->agent);
	json_decref(r->input);
	json_decref(r->context);
	json_decref(r->journal);
	json_decref(r->turns);
	json_decref(r->allow_hosts);
	json_decref(r->approvals);
	json_decref(r->inbox);
	free(r->cache_key);
	buf_free(&r->text);
	free(r);
}

/* ------------------------------------------------------------ events */

void
run_emit(struct run *r, const char *type, json_t *data)
{
	struct pending *p = &r->w->pending;

	/* What a provider sent may hold U+0000, which jsonb refuses: replaced here, the
	 * one door to the event log. */
	if (data != NULL)
		json_storable(data);
	json_array_append_new(p->events, json_pack("{s:s, s:i, s:i, s:s, s:o}", "id", r->id,
	    "attempt", r->attempt, "seq", r->next_seq++, "type", type,
	    "data", data != NULL ? data : json_object()));
	if (p->since_us == 0)
		p->since_us = clock_mono_us();
}

json_t *
run_error(struct run *r, const char *type, const char *message, int status, int retryable)
{
	char	 at[32];
	json_t	*e;

	clock_iso8601(at);
	e = json_pack("{s:i, s:s, s:s, s:b, s:s}", "attempt", r->counted, "type", type,
	    "message", message, "retryable", retryable, "at", at);
	if (status > 0)
		json_object_set_new(e, "status", json_integer(status));
	return e;
}

/* The answer so far ("" before the first token). */
static const char *
answer(const struct run *r)
{
	return r->text.data != NULL ? r->text.data : "";
}

/* Writes the text gathered since the last message.delta as one more: up to its last
 * whole character, or (all) everything, at the end.  Text a database cannot store
 * (U+0000, invalid UTF-8) is replaced by json_text, never dropped. */
static void
emit_delta(struct run *r, int all)
{
	size_t end = all ? r->text.len :
	    r->delta_from + utf8_prefix(r->text.data + r->delta_from, r->text.len - r->delta_from);

	if (end > r->delta_from)
		run_emit(r, "message.delta", json_pack("{s:o}", "text",
		    json_text(r->text.data + r->delta_from, end - r->delta_from)));
	r->delta_from = end;
	r->delta_due_us = 0;
}

json_t *
run_usage(struct run *r, const struct llm_usage *u)
{
	double cost = pricing_cost(r->w->pricing, r->model, u);

	return json_pack("{s:s, s:s, s:I, s:I, s:f}", "provider", llm_kind_name(r->kind),
	    "model", r->model, "prompt_tokens", (json_int_t)u->prompt_tokens,
	    "completion_tokens", (json_int_t)u->completion_tokens, "cost_usd", cost);
}

/* The whole run's usage, the recorded steps' included: what its events report. */
static json_t *
usage_total(struct run *r)
{
	struct llm_usage u = r->usage;

	u.prompt_tokens += r->recorded.prompt_tokens;
	u.completion_tokens += r->recorded.completion_tokens;
	return run_usage(r, &u);
}

/* The run's end, written by the next flush: kind as queue_flush takes it.  output
 * is stolen; error is borrowed. */
static void
run_end(struct run *r, const char *kind, json_t *output, json_t *error, int delay_ms)
{
	struct worker	*w = r->w;
	json_t		*f;

	if (output != NULL)
		json_storable(output);
	f = json_pack("{s:s, s:i, s:s, s:o, s:O, s:o, s:i}", "id", r->id, "attempt", r->attempt,
	    "kind", kind, "output", output != NULL ? output : json_null(),
	    "error", error != NULL ? error : json_null(), "usage", run_usage(r, &r->usage),
	    "delay_ms", delay_ms);
	if (r->inbox != NULL)
		json_object_set(f, "inbox", r->inbox);
	json_array_append_new(w->pending.finishes, f);
	if (r->context != NULL)
		w->pending.thread_ends++;
	if (w->pending.since_us == 0)
		w->pending.since_us = clock_mono_us();
	w->m.prompt_tokens += (uint64_t)r->usage.prompt_tokens;
	w->m.completion_tokens += (uint64_t)r->usage.completion_tokens;
	run_abandon(r);
}

void
run_abandon(struct run *r)
{
	if (r->call != NULL) {
		llm_call_cancel(r->call);
		r->call = NULL;
	}
	if (r->builtin != NULL) {
		builtin_free(r->builtin);
		r->builtin = NULL;
	}
	step_stop(r);
	r->phase = RUN_ENDED;
	r->w->nactive--;
}

static void
run_succeed(struct run *r, const char *finish_reason)
{
	json_t *out, *usage;

	emit_delta(r, 1);
	out = json_pack("{s:o, s:s}", "text", json_text(answer(r), r->text.len),
	    "finish_reason", finish_reason);
	if (r->step > 0)
		json_object_set_new(out, "steps", json_integer(r->step + 1));
	usage = usage_total(r);		/* priced once: the same object in both events */
	run_emit(r, "message.completed", json_pack("{s:O, s:O}", "message", out,
	    "usage", usage));
	/* The answer is in message.completed and on the run: not a third time here. */
	run_emit(r, "run.succeeded", json_pack("{s:s, s:o}", "finish_reason", finish_reason,
	    "usage", usage));
	run_end(r, "succeeded", out, NULL, 0);
	r->w->m.succeeded++;
}

/* The attempt failed: another one later if the error allows and attempts remain. */
void
run_fail(struct run *r, json_t *error, int retry_after_s)
{
	struct worker	*w = r->w;
	double		 d;
	int		 delay_ms;

	emit_delta(r, 1);
	if (json_is_true(json_object_get(error, "retryable")) && r->counted < r->max_attempts) {
		/* Exponential with "equal jitter": half fixed, half random. */
		d = (double)w->cfg.worker.retry_base_ms * pow(2.0, r->counted - 1);
		if (d > (double)w->cfg.worker.retry_max * 1000.0)
			d = (double)w->cfg.worker.retry_max * 1000.0;
		d = d / 2 + (d / 2) * ((double)randombytes_uniform(10001) / 10000.0);
		if (retry_after_s > 0 && d < retry_after_s * 1000.0)
			d = retry_after_s * 1000.0;
		delay_ms = (int)d;
		run_emit(r, "run.retrying", json_pack("{s:O, s:i, s:i}", "error", error,
		    "next_attempt", r->counted + 1, "delay_ms", delay_ms));
		run_end(r, "retry", NULL, error, delay_ms);
		w->m.retried++;
		return;
	}
	run_emit(r, "run.failed", json_pack("{s:O}", "error", error));
	run_end(r, "failed", NULL, error, 0);
	w->m.failed++;
}

void
run_cancel(struct run *r)
{
	if (r->phase == RUN_ENDED)
		return;
	emit_delta(r, 1);
	run_emit(r, "run.cancelled", json_pack("{s:s}", "reason", "cancelled while running"));
	/* A thread keeps what was said before the cancel (sql/013: the turn joins it). */
	run_end(r, "cancelled", r->context != NULL && r->text.len > 0 ? json_pack("{s:o, s:s}",
	    "text", json_text(answer(r), r->text.len), "finish_reason", "cancelled") : NULL,
	    NULL, 0);
	r->w->m.cancelled++;
}

void
run_wait(struct run *r)
{
	if (r->phase == RUN_ENDED)
		return;
	emit_delta(r, 1);
	run_end(r, "waiting", NULL, NULL, 0);
	r->w->m.waiting++;
}

void
run_release(struct run *r)
{
	if (r->phase == RUN_ENDED)
		return;
	emit_delta(r, 1);
	run_emit(r, "run.retrying", json_pack("{s:s, s:b}", "reason",
	    "the worker stopped before the run ended; it goes back to the queue",
	    "attempt_counted", 0));
	run_end(r, "released", NULL, NULL, 0);
	r->w->m.released++;
}

void
run_lost(struct run *r)
{
	if (r->phase != RUN_ENDED)
		r->w->m.lost++;
	run_free(r);
}

/* ------------------------------------------------------------ the model call */

static void
on_text(void *arg, const char *s, size_t n)
{
	struct run *r = arg;

	buf_append(&r->text, s, n);
	if (r->delta_due_us == 0) {
		r->delta_due_us = clock_mono_us() + (int64_t)r->w->cfg.worker.delta_ms * 1000;
		w_due(r->w, r->delta_due_us);
	}
}

/* A cached answer: {"text", "finish_reason", "usage": {...}}. */
static int
cache_answer(struct run *r)
{
	struct worker	*w = r->w;
	char		*val;
	size_t		 len;
	json_t		*j;
	const char	*text, *fin;

	if (w->cache == NULL || r->cache_key == NULL)
		return 0;
	if (cache_get(w->cache, "llm", r->cache_key, &val, &len) != SB_OK) {
		w->m.cache_misses++;
		return 0;
	}
	j = json_loadb(val, len, 0, NULL);
	free(val);
	if (j == NULL || json_unpack(j, "{s:s, s:s}", "text", &text, "finish_reason", &fin) != 0) {
		json_decref(j);
		w->m.cache_misses++;
		return 0;
	}
	w->m.cache_hits++;
	on_text(r, text, strlen(text));
	run_emit(r, "agent.cache_hit", json_pack("{s:s}", "key", r->cache_key));
	run_succeed(r, fin);
	json_decref(j);
	return 1;
}

static void
cache_store(struct run *r, const char *finish_reason)
{
	json_t	*j;
	char	*s;

	if (r->w->cache == NULL || r->cache_key == NULL || strcmp(finish_reason, "stop") != 0)
		return;
	j = json_pack("{s:o, s:s}", "text", json_text(answer(r), r->text.len),
	    "finish_reason", finish_reason);
	if ((s = json_dumps(j, JSON_COMPACT)) != NULL)
		(void)cache_set(r->w->cache, "llm", r->cache_key, s, strlen(s),
		    r->w->cfg.llm.cache_ttl);
	free(s);
	json_decref(j);
}

/* The model's turn called tools: the loop goes on, unless that was its last turn. */
static void
model_called_tools(struct run *r, json_t *calls)
{
	json_t	*err;
	char	 msg[160];

	emit_delta(r, 1);
	if (r->step + 1 >= r->max_steps) {
		snprintf(msg, sizeof(msg), "the agent called tools in its last turn (max_steps %d) "
		    "instead of answering", r->max_steps);
		err = run_error(r, "max-steps", msg, 0, 0);
		run_fail(r, err, 0);
		json_decref(err);
		return;
	}
	step_turn(r, answer(r), r->text.len, calls);
	/* The next turn's text starts afresh; this one's is in the turn's record. */
	buf_free(&r->text);
	r->delta_from = 0;
	r->tries = 0;
	free(r->cache_key);
	r->cache_key = NULL;
}

static void
on_done(void *arg, const struct llm_outcome *o)
{
	struct run	*r = arg;
	struct worker	*w = r->w;
	json_t		*err;
	int64_t		 now = clock_mono_us();

	r->call = NULL;
	if (o->result != NULL) {
		r->usage.prompt_tokens += o->result->usage.prompt_tokens;
		r->usage.completion_tokens += o->result->usage.completion_tokens;
	}
	if (o->ok && json_array_size(o->result->tool_calls) > 0) {
		model_called_tools(r, o->result->tool_calls);
		return;
	}
	if (o->ok) {
		cache_store(r, o->result->finish_reason);
		run_succeed(r, o->result->finish_reason);
		return;
	}
	w->m.llm_errors++;
	/* Before any output, a retryable error is tried again within the attempt,
	 * after the provider's Retry-After when it gives one it is worth waiting for. */
	if (o->retryable && r->text.len == 0 && r->tries <= w->cfg.llm.retries &&
	    o->retry_after_s <= w->cfg.llm.retry_after_max) {
		int64_t delay = o->retry_after_s > 0 ? (int64_t)o->retry_after_s * 1000000 :
		    (int64_t)250000 << (r->tries - 1);

		log_info("provider call failed; trying again", "{s:s, s:s, s:i, s:I}", "run", r->id,
		    "error", o->message, "status", o->status, "delay_ms", (json_int_t)(delay / 1000));
		w->m.llm_retries++;
		r->phase = RUN_WAITING;
		r->wake_us = now + delay;
		w_due(w, r->wake_us);
		return;
	}
	log_warn("provider call failed", "{s:s, s:s, s:i}", "run", r->id, "error", o->message,
	    "status", o->status);
	err = run_error(r, o->error_type, o->message, o->status, o->retryable);
	run_fail(r, err, o->retry_after_s);
	json_decref(err);
}

/* The text the model gets from a run's input: a string, or the "text", "message",
 * "prompt" or "question" of an object, or else the input as JSON. */
static char *
input_text(json_t *in)
{
	static const char *const keys[] = { "text", "message", "prompt", "question" };
	size_t i;

	if (json_is_string(in))
		return sb_strdup(json_string_value(in));
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_is_string(json_object_get(in, keys[i])))
			return sb_strdup(json_string_value(json_object_get(in, keys[i])));
	return json_dumps(in, JSON_COMPACT | JSON_ENCODE_ANY);
}

static void
request_from_agent(struct run *r, struct llm_request *q, char *text)
{
	json_t		*params = json_object_get(r->agent, "parameters");
	const char	*sys = json_string_value(json_object_get(r->agent, "system_prompt"));
	json_t		*t = json_object_get(params, "temperature");
	json_t		*p = json_object_get(params, "top_p");
	json_t		*m = json_object_get(params, "max_tokens");
	json_t		*b = json_object_get(params, "context_tokens"), *tool;
	const struct tool_impl *impl;
	size_t		 i;

	memset(q, 0, sizeof(*q));
	q->model = r->model;
	q->system = sys != NULL ? sys : "";
	/* A thread's earlier turns first, within the agent's budget (worker/context.c). */
	q->tools = tool_decls_offer(json_object_get(r->agent, "tools"));
	json_array_foreach(q->tools, i, tool)
		if ((impl = tool_impl_find(json_string_value(json_object_get(tool, "name")))) !=
		    NULL && impl->offer != NULL)
			impl->offer(r, tool);
	q->messages = context_messages(r->context, text, json_is_integer(b) ?
	    (size_t)json_integer_value(b) : CONTEXT_TOKENS_DEFAULT, q->tools != NULL);
	q->temperature = json_is_number(t) ? json_number_value(t) : -1;
	q->top_p = json_is_number(p) ? json_number_value(p) : 0;
	q->max_tokens = json_is_integer(m) ? (int)json_integer_value(m) : 0;
	/* Then this run's own tool turns. */
	json_array_extend(q->messages, r->turns);
}

/* Deterministic requests (temperature 0) are cached under a hash of the org and of
 * what is sent: one org's answer (and so its prompt) is never another's. */
static void
cache_key_for(struct run *r, const struct llm_request *q)
{
	char		*body, hex[HASH_HEX_LEN + 1], *full;
	const char	*base = r->kind == LLM_OPENAI ? r->w->cfg.llm.openai_base_url :
	    r->w->cfg.llm.anthropic_base_url;

	if (r->w->cache == NULL || q->temperature != 0 || r->cache_key != NULL)
		return;
	if ((body = llm_request_body(r->kind, q)) == NULL)
		return;
	full = sb_malloc(strlen(base) + strlen(body) + 32);
	sprintf(full, "%lld\n%s\n%s", r->org_id, base, body);
	token_hash(full, hex);
	r->cache_key = sb_strdup(hex);
	free(full);
	free(body);
}

void
run_call(struct run *r, int64_t now)
{
	static const struct llm_call_ops ops = { on_text, on_done };
	struct worker		*w = r->w;
	struct llm_request	 q;
	const char		*name = json_string_value(json_object_get(r->agent, "name"));
	char			*text = input_text(r->input);

	request_from_agent(r, &q, text);
	if (r->tries == 0)	/* once a turn, not again for a retried call */
		run_emit(r, "agent.thinking", json_pack("{s:i}", "step", r->step + 1));
	r->phase = RUN_ACTIVE;
	r->tries++;
	r->call_started_us = now;
	if (r->kind == LLM_BUILTIN) {
		r->builtin = builtin_new(name != NULL ? name : "Agent", &q,
		    w->cfg.llm.builtin_tokens_per_s, now);
		r->wake_us = now;
		w_due(w, now);
	} else {
		cache_key_for(r, &q);
		if (r->tries > 1 || !cache_answer(r)) {
			w->m.llm_calls++;
			if ((r->call = llm_call_start(w, r->kind, &q, &ops, r)) == NULL) {
				json_t *err = run_error(r, "invalid-request", "the request to the "
				    "provider cannot be written (check the agent and the API key)", 0, 0);

				run_fail(r, err, 0);
				json_decref(err);
			}
		}
	}
	json_decref(q.messages);
	json_decref(q.tools);
	free(text);
}

void
run_start(struct run *r)
{
	json_t *err;

	run_emit(r, "agent.started", json_pack("{s:O?, s:O?, s:s, s:s}",
	    "agent", json_object_get(r->agent, "slug"), "name", json_object_get(r->agent, "name"),
	    "provider", llm_kind_name(r->kind), "model", r->model));
	if (r->bad_agent) {
		err = run_error(r, "invalid-agent", "the run's agent names an unknown provider", 0, 0);
		run_fail(r, err, 0);
		json_decref(err);
		return;
	}
	if (r->kind == LLM_BUILTIN && strcmp(r->model, "noop") == 0) {
		/* Does nothing, at once: for measuring the queue itself. */
		run_succeed(r, "stop");
		return;
	}
	/* A later attempt goes on from the steps recorded before; else the first turn. */
	if (!step_resume(r))
		run_call(r, clock_mono_us());
	w_due(r->w, clock_mono_us());	/* its timers are set by its first tick */
}

/* ------------------------------------------------------------ timers */

void
run_tick(struct run *r, int64_t now)
{
	struct worker	*w = r->w;
	int64_t		 next = INT64_MAX, ft;
	json_t		*err;
	int		 done;

	if (r->phase == RUN_ENDED)
		return;
	if (now >= r->lease_end_us) {
		log_warn("run lost: its lease ran out before it could be renewed", "{s:s}",
		    "run", r->id);
		run_lost(r);
		return;
	}
	if (r->phase == RUN_WAITING && now >= r->wake_us)
		run_call(r, now);
	if (r->builtin != NULL && now >= r->wake_us) {
		done = builtin_step(r->builtin, now, on_text, r, &r->wake_us);
		if (done) {
			json_t *calls = json_incref(builtin_calls(r->builtin));

			builtin_usage(r->builtin, &r->usage);
			builtin_free(r->builtin);
			r->builtin = NULL;
			if (calls != NULL)
				model_called_tools(r, calls);
			else
				run_succeed(r, "stop");
			json_decref(calls);
			if (r->phase == RUN_ENDED)
				return;
		}
	}
	if (r->phase == RUN_ENDED)
		return;		/* a cached answer ended it */
	if (r->delta_due_us != 0 && now >= r->delta_due_us)
		emit_delta(r, 0);
	ft = r->call_started_us + (int64_t)w->cfg.llm.first_token_timeout * 1000000;
	if (r->call != NULL && r->text.len == 0 && now >= ft) {
		llm_call_cancel(r->call);
		r->call = NULL;
		err = run_error(r, "timeout", "the provider sent no output within first_token_timeout",
		    0, 1);
		run_fail(r, err, 0);
		json_decref(err);
		return;
	}
	if (r->delta_due_us != 0)
		next = r->delta_due_us;
	if ((r->phase == RUN_WAITING || r->builtin != NULL) && r->wake_us < next)
		next = r->wake_us;
	if (r->call != NULL && r->text.len == 0 && ft < next)
		next = ft;
	if (r->lease_end_us < next)
		next = r->lease_end_us;
	w_due(w, next);
}
