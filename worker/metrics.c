/* metrics.c: what the worker's GET /metrics says (served by core/httpmetrics.c). */
#include "config.h"

#include <stdlib.h>
#include <stddef.h>
#include <stdio.h>

#include "worker/worker.h"
#include "core/dbq.h"
#include "core/arena.h"
#include "core/cache.h"
#include "core/metrics.h"

char *
wmetrics_render(void *arg, size_t *len)
{
	struct worker			*w = arg;
	const struct worker_metrics	*m = &w->m;
	struct dbq_stats		 q;
	char				*buf = NULL;
	FILE				*f = open_memstream(&buf, len);

	if (f == NULL)
		sb_oom(0);
	metrics_gauge(f, "switchboard_worker_runs_inflight", "Runs this worker is executing.", w->nactive);
	metrics_gauge(f, "switchboard_worker_runs_held", "Runs held, including those whose end is being written.",
	    w->nruns);
	metrics_gauge(f, "switchboard_worker_rescuer", "1 if this worker sweeps expired leases.", w->leader);
	metrics_counter(f, "switchboard_worker_claims_total", "Claim statements run.", m->claims);
	metrics_counter(f, "switchboard_worker_runs_claimed_total", "Runs claimed.", m->claimed);
	fprintf(f, "# HELP switchboard_worker_runs_ended_total Attempts ended, by how.\n"
	    "# TYPE switchboard_worker_runs_ended_total counter\n");
	fprintf(f, "switchboard_worker_runs_ended_total{how=\"succeeded\"} %llu\n",
	    (unsigned long long)m->succeeded);
	fprintf(f, "switchboard_worker_runs_ended_total{how=\"failed\"} %llu\n",
	    (unsigned long long)m->failed);
	fprintf(f, "switchboard_worker_runs_ended_total{how=\"cancelled\"} %llu\n",
	    (unsigned long long)m->cancelled);
	fprintf(f, "switchboard_worker_runs_ended_total{how=\"retry\"} %llu\n",
	    (unsigned long long)m->retried);
	fprintf(f, "switchboard_worker_runs_ended_total{how=\"released\"} %llu\n",
	    (unsigned long long)m->released);
	fprintf(f, "switchboard_worker_runs_ended_total{how=\"lost\"} %llu\n",
	    (unsigned long long)m->lost);
	metrics_counter(f, "switchboard_worker_events_total", "Run events written.", m->events);
	metrics_counter(f, "switchboard_worker_flushes_total", "Flushes written.", m->flushes);
	metrics_counter(f, "switchboard_worker_flush_errors_total", "Flushes that failed and were kept.",
	    m->flush_errors);
	metrics_counter(f, "switchboard_worker_heartbeats_total", "Lease renewals.", m->heartbeats);
	metrics_counter(f, "switchboard_worker_rescued_total", "Runs whose expired lease this worker swept.",
	    m->rescued);
	metrics_counter(f, "switchboard_worker_pruned_total", "Finished runs deleted by retention.",
	    m->pruned);
	metrics_counter(f, "switchboard_worker_notifications_total", "Wake-ups received by LISTEN.",
	    m->notifies_received);
	metrics_counter(f, "switchboard_worker_notifies_total",
	    "NOTIFY statements sent to wake stream responders.", m->notifies);
	metrics_counter(f, "switchboard_worker_db_errors_total",
	    "Database statements that failed (each is logged with its SQL state).",
	    w->db.failures + w->listen.db.failures);
	metrics_counter(f, "switchboard_cache_forged_total",
	    "Values read from memcached that failed their seal (treated as absent).",
	    cache_forged(w->cache));
	metrics_counter(f, "switchboard_llm_calls_total", "Provider calls started.", m->llm_calls);
	metrics_counter(f, "switchboard_llm_errors_total", "Provider calls that failed.", m->llm_errors);
	metrics_counter(f, "switchboard_llm_retries_total", "Provider calls tried again within an attempt.",
	    m->llm_retries);
	metrics_counter(f, "switchboard_llm_cache_hits_total", "Answers served from the response cache.",
	    m->cache_hits);
	metrics_counter(f, "switchboard_llm_cache_misses_total", "Cacheable requests not in the cache.",
	    m->cache_misses);
	metrics_counter(f, "switchboard_agent_steps_total",
	    "Model turns that called tools, recorded.", m->steps);
	metrics_counter(f, "switchboard_tool_calls_total", "Tool calls started.", m->tool_calls);
	metrics_counter(f, "switchboard_tool_errors_total",
	    "Tool calls that ended in an error (given to the model).", m->tool_errors);
	metrics_counter(f, "switchboard_tool_reruns_total",
	    "Tool calls in flight when a worker died, run again by a later attempt.",
	    m->tool_reruns);
	metrics_counter(f, "switchboard_agent_waits_total",
	    "Attempts that ended waiting for a person (an inbox item).", m->waiting);
	metrics_counter(f, "switchboard_inbox_expired_total",
	    "Inbox items this worker expired (no one answered before the deadline).", m->expired);
	metrics_counter(f, "switchboard_tool_unknown_total",
	    "Tool calls in flight when a worker died, not safe to run again (outcome unknown).",
	    m->tool_unknown);
	dbq_stats(w->tooldb, &q);
	metrics_counter(f, "switchboard_tool_statements_total",
	    "Database statements of tools sent on the tool connection.", q.sent);
	metrics_counter(f, "switchboard_tool_statement_failures_total",
	    "Tool statements that got no result (the connection was lost).", q.failed);
	metrics_gauge(f, "switchboard_tool_statements_inflight",
	    "Tool statements sent and not yet answered.", q.in_flight);
	fprintf(f, "# HELP switchboard_llm_tokens_total Tokens used, by kind.\n"
	    "# TYPE switchboard_llm_tokens_total counter\n"
	    "switchboard_llm_tokens_total{kind=\"prompt\"} %llu\n"
	    "switchboard_llm_tokens_total{kind=\"completion\"} %llu\n",
	    (unsigned long long)m->prompt_tokens, (unsigned long long)m->completion_tokens);
	fprintf(f, "# HELP switchboard_worker_flush_seconds Time to write one flush.\n"
	    "# TYPE switchboard_worker_flush_seconds histogram\n");
	hist_render(f, "switchboard_worker_flush_seconds", "", &m->flush_latency);
	fprintf(f, "# HELP switchboard_worker_claim_seconds Time of one claim statement.\n"
	    "# TYPE switchboard_worker_claim_seconds histogram\n");
	hist_render(f, "switchboard_worker_claim_seconds", "", &m->claim_latency);
	fclose(f);
	return buf;
}

