/* worker.h: switchboard-worker, the daemon that claims runs from PostgreSQL and executes them. */
#ifndef SB_WORKER_H
#define SB_WORKER_H

#include <sys/queue.h>

#include <curl/curl.h>

#include "core/buf.h"
#include "core/cache.h"
#include "core/conf.h"
#include "core/db.h"
#include "core/listener.h"
#include "core/metrics.h"
#include "worker/llm/llm.h"

/* ---------------------------------------------------------------- pending writes */

/* Events and run endings wait here until the next flush writes them all in one
 * statement (queue_flush).  Both are JSON arrays in the shape that statement reads. */
struct pending {
	json_t		*events;	/* [{"id", "attempt", "seq", "type", "data"}] */
	json_t		*finishes;	/* [{"id", "attempt", "kind", "output", "error", "usage", "delay_ms"}] */
	json_t		*steps;		/* [{"id", "attempt", "step", "call_id", "data"}]: the
					 * journal of the agent loop (sql/014_steps.sql) */
	int64_t		 since_us;	/* when the oldest unwritten item arrived; 0: none */
	int		 thread_ends;	/* ends of thread runs among finishes: the flush that
					 * writes them may release the thread's next run */
};

/* ---------------------------------------------------------------- transfers */

struct worker;

/* A transfer on the worker's curl multi handle (a provider call, a tool's fetch): the
 * easy handle's CURLINFO_PRIVATE points here, and done() is called once curl says the
 * transfer ended; the owner removes the handle from the multi and frees it. */
struct transfer {
	void	(*done)(struct transfer *, int curlcode);
};

/* Calls done() of every transfer that ended (main.c). */
void	 transfers_finished(struct worker *);

/* ---------------------------------------------------------------- metrics */

struct worker_metrics {
	uint64_t	 claims;		/* claim statements */
	uint64_t	 claimed;		/* runs claimed */
	uint64_t	 succeeded, failed, cancelled, retried, released, lost;
	uint64_t	 events;		/* events written */
	uint64_t	 flushes, flush_errors;
	uint64_t	 heartbeats;
	uint64_t	 rescued, pruned;
	uint64_t	 notifies_received;
	uint64_t	 notifies;		/* NOTIFY statements sent to stream responders */
	uint64_t	 llm_calls, llm_errors, llm_retries;
	uint64_t	 cache_hits, cache_misses;
	uint64_t	 prompt_tokens, completion_tokens;
	uint64_t	 steps, tool_calls, tool_errors, tool_reruns, tool_unknown;
	uint64_t	 waiting;		/* attempts ended waiting for a person */
	uint64_t	 expired;		/* inbox items expired by this rescuer */
	struct sb_hist	 flush_latency;
	struct sb_hist	 claim_latency;
};

/* ---------------------------------------------------------------- runs */

struct worker;
struct llm_call;
struct builtin;
struct tool_call;

enum run_phase {
	RUN_ACTIVE,		/* executing: a model call, its tools, or a flush it waits for */
	RUN_WAITING,		/* a call failed; the next try starts at wake_us */
	RUN_ENDED		/* its end is pending; freed once the flush is written */
};

struct run {
	LIST_ENTRY(run)	 link;		/* in the worker's runs */
	struct worker	*w;
	char		 id[40];
	long long	 org_id;
	int		 attempt;	/* the fence token */
	int		 counted;	/* attempt - released: what users see */
	int		 max_attempts;
	int		 next_seq;
	enum run_phase	 phase;
	json_t		*agent;		/* the agent snapshot */
	json_t		*input;
	json_t		*context;	/* its thread's messages, oldest first; NULL: none */
	char		 thread_id[40];	/* its thread; "": none */
	json_t		*allow_hosts;	/* its org's fetch allowlist: [host, ...] */
	json_t		*approvals;	/* calls a person approved: {"STEP CALL_ID": fresh}
					 * (sql/014_steps.sql), or NULL */
	enum llm_kind	 kind;
	const char	*model;		/* points into agent */

	struct llm_call	*call;		/* an HTTP provider call in flight */
	struct builtin	*builtin;	/* the offline provider's state */
	int		 tries;		/* calls made in this attempt */
	int64_t		 call_started_us;
	int64_t		 wake_us;	/* RUN_WAITING: when to call again; builtin: next token */
	char		*cache_key;	/* response cache key, or NULL */

	struct sb_buf	 text;		/* the model turn's text so far */
	size_t		 delta_from;	/* start of text not yet in a message.delta */
	int64_t		 delta_due_us;	/* when that text must be written; 0: none */
	struct llm_usage usage;		/* this attempt's, not yet in a recorded step */
	struct llm_usage recorded;	/* of the recorded steps (billed with them) */

	/* The agent loop (worker/step.c). */
	json_t		*journal;	/* the steps recorded before this attempt, as claimed
					 * (NULL: none); consumed by run_start */
	json_t		*turns;		/* this run's tool turns so far, as messages (llm.h) */
	int		 step;		/* model turns recorded: each one called tools */
	int		 max_steps;
	struct tool_call **calls;	/* the calls of the last recorded turn */
	size_t		 ncalls, calls_left;
	int		 saving;	/* records wait for a flush: then step_saved() */
	json_t		*inbox;		/* the calls set aside for a person in this attempt:
					 * the items its 'waiting' end writes, or NULL */
	int64_t		 lease_end_us;	/* our lease ends here unless renewed */
	int		 bad_agent;	/* its snapshot names no known provider */
};

/* run.c: the agent loop of one run. */
struct run	*run_new(struct worker *, PGresult *, int row);	/* a claimed row; owned by w */
void		 run_start(struct run *);
void		 run_tick(struct run *, int64_t now);	/* timers: deltas, builtin tokens, retries */
void		 run_cancel(struct run *);		/* ends it cancelled */
void		 run_release(struct run *);		/* back to the queue, attempt not counted */
void		 run_lost(struct run *);		/* the lease is gone: drop everything */
/* Stops its provider call or builtin answer and marks it ended, writing nothing. */
void		 run_abandon(struct run *);
void		 run_free(struct run *);
/* Queues an event of the run (seq assigned here); data is stolen. */
void		 run_emit(struct run *, const char *type, json_t *data);
/* Calls the model for the next turn. */
void		 run_call(struct run *, int64_t now);
/* The agent's parameter of that name (the agent it runs as now), or NULL. */
json_t		*run_param(const struct run *, const char *name);
/* The run goes on as this agent (a snapshot; borrowed): its prompt, model and tools
 * from the next model turn (a handoff). */
void		 run_agent(struct run *, json_t *agent);
/* Ends the attempt 'waiting' for a person, with its inbox items. */
void		 run_wait(struct run *);
/* Fails the attempt (retrying it if error allows); error is borrowed. */
void		 run_fail(struct run *, json_t *error, int retry_after_s);
/* The usage of this attempt's model calls not yet recorded, priced (a new reference). */
json_t		*run_usage(struct run *, const struct llm_usage *);

/* step.c: the agent loop's tool steps and their journal (sql/014_steps.sql). */
/* A model turn that called tools: record it, then (once it is written) run the calls.
 * text is what the model said with them; calls is [{"id", "name", "arguments"}]. */
void		 step_turn(struct run *, const char *text, size_t len, json_t *calls);
/* The calls with an id each that is there, at most 200 bytes and its own in the turn
 * (the journal's key), else "call_STEP_INDEX".  A new reference. */
json_t		*step_call_ids(json_t *calls, int step);
/* Rebuilds the loop from the claimed journal: 0 when the model is to be called, 1
 * when the journal's last turn has calls left to finish (they are under way). */
int		 step_resume(struct run *);
/* Everything the run recorded is written: go on. */
void		 step_saved(struct run *);
/* Stops the calls in flight (no result after this) and frees them all. */
void		 step_stop(struct run *);
/* Queues a journal record of the run; data is stolen. */
void		 step_record(struct run *, int step, const char *call_id, json_t *data);
/* An error object for events and the run's error history (a new reference). */
json_t		*run_error(struct run *, const char *type, const char *message, int status,
		    int retryable);

/* ---------------------------------------------------------------- the worker */

struct dbq;

struct worker {
	struct sb_config	 cfg;
	char			 name[128];
	struct sb_db		 db;		/* claims, flushes, heartbeats */
	struct dbq		*tooldb;	/* tools' statements, never waited for (dbq.h) */
	struct sb_listener	 listen;	/* LISTEN, and the rescuer's advisory lock */
	int			 leader;	/* holds the rescuer lock */
	CURLM			*multi;
	struct sb_cache		*cache;		/* response cache; NULL when off */
	struct pricing		*pricing;

	LIST_HEAD(run_list, run) runs;	/* every run held */
	int			 nruns;		/* including RUN_ENDED ones awaiting their flush */
	int			 nactive;	/* not yet ended */
	struct pending		 pending;

	int			 woken;		/* a notification arrived: claim now */
	int			 stopping;
	int64_t			 stop_deadline_us;
	int64_t			 next_claim_us, next_heartbeat_us, next_cancel_us;
	int64_t			 next_rescue_us, next_prune_us, next_tick_us;
	int			 metrics_fd;
	struct worker_metrics	 m;
};

/* queue.c: every statement the worker runs. */
int	 queue_claim(struct worker *, int limit);	/* runs claimed, -1 on failure */
int	 queue_flush(struct worker *);			/* 0 written (or nothing to), -1 */
void	 queue_heartbeat(struct worker *, int64_t now);
void	 queue_check_cancels(struct worker *);
void	 queue_rescue(struct worker *, int64_t now);	/* the leader's sweep and pruning */
void	 queue_listen_read(struct worker *);		/* notifications -> w->woken */
void	 queue_listen_ensure(struct worker *);
void	 pending_init(struct pending *);
void	 pending_clear(struct pending *);

/* pricing.c: USD per million tokens by model, from llm.pricing. */
struct pricing;
struct pricing	*pricing_parse(const char *spec, char *err, size_t errlen);	/* NULL: err */
double		 pricing_cost(const struct pricing *, const char *model, const struct llm_usage *);
void		 pricing_free(struct pricing *);

/* metrics.c: the text of the worker's GET /metrics (core/httpmetrics.c serves it). */
char	*wmetrics_render(void *worker, size_t *len);

/* ---------------------------------------------------------------- providers */

/* llm/call.c: one streaming HTTP call to a provider, driven by the worker's
 * curl multi handle. */
struct llm_outcome {
	int			 ok;
	int			 retryable;
	int			 status;		/* HTTP status, 0 for transport errors */
	int			 retry_after_s;		/* the provider's Retry-After, or 0 */
	char			 message[320];
	const struct llm_result	*result;		/* when ok */
	const char		*error_type;		/* for the run's error history */
};

struct llm_call_ops {
	llm_text_fn	*text;
	void		(*done)(void *arg, const struct llm_outcome *);
};

/* NULL when the request cannot be written (the run then fails for good). */
struct llm_call	*llm_call_start(struct worker *, enum llm_kind, const struct llm_request *,
		    const struct llm_call_ops *, void *arg);
void		 llm_call_cancel(struct llm_call *);	/* no callback after this */

/* llm/builtin.c: the offline provider: a deterministic, labelled demo answer, or the
 * tool calls a model would plan from the input (an agent with http_fetch fetches the
 * message's first URL). */
struct builtin	*builtin_new(const char *agent_name, const struct llm_request *,
		    int tokens_per_s, int64_t now);
/* The tokens due by now (appended to the callback), and when the next one is:
 * 0 while more follow, 1 when the answer is complete. */
int		 builtin_step(struct builtin *, int64_t now, llm_text_fn *, void *arg,
		    int64_t *next_us);
void		 builtin_usage(const struct builtin *, struct llm_usage *);
/* The tool calls planned with the text ([{"id", "name", "arguments"}], the builtin's
 * own reference), or NULL: the text is the answer. */
json_t		*builtin_calls(const struct builtin *);
void		 builtin_free(struct builtin *);

#endif /* SB_WORKER_H */
