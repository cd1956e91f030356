/* tools.h: the worker's side of the tools: what a call is, how a tool runs one, and the
 * registry that finds a tool's code by name (worker/tools/registry.c).  What a tool is
 * for the model and the API (name, description, schema) is core/tools.c. */
#ifndef SB_WORKER_TOOLS_H
#define SB_WORKER_TOOLS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "core/tools.h"

struct run;
struct tool_call;

/* A tool's code.  start() begins a call whose arguments passed the schema; the tool
 * ends it with tool_done(), at once or later (from the end of a transfer on the
 * worker's curl multi handle: no blocking, no thread).  cancel() gives up a call in
 * flight: no tool_done() after it.  rerun_safe() says whether a call that was in
 * flight when its worker died may run again (NULL: the declaration's idempotent). */
struct tool_impl {
	const char	*name;
	void		(*start)(struct tool_call *);
	void		(*cancel)(struct tool_call *);
	int		(*rerun_safe)(const struct run *, const json_t *args);
	/* Fits what the model is offered (tool: {"name", "description", "parameters"},
	 * a copy of the declaration's) to the run's agent; NULL: offered as declared. */
	void		(*offer)(const struct run *, json_t *tool);
};

/* One call of a tool, owned by its run (worker/step.c). */
struct tool_call {
	struct run		*run;
	const struct tool_decl	*decl;		/* NULL: the model named no tool it has */
	const struct tool_impl	*impl;
	char			 id[201];	/* the model's id of the call */
	char			 name[65];	/* as the model named it */
	int			 index;		/* in its turn */
	int			 step;
	json_t			*args;		/* an object once checked; NULL before */
	char			*args_text;	/* as the model sent them */
	int64_t			 started_us;
	void			*state;		/* the tool's, while it runs */
	int			 running;	/* started, not yet done */
	int			 waiting;	/* for a person: the run waits (inbox item) */
	char			 item[37];	/* that inbox item's id */
	int			 done;
	int			 ok;
	char			*result;	/* what the model is told (NUL-terminated) */
	json_t			*record;	/* more for the call's record, or NULL: what a
					 * later attempt must know of it (a handoff's agent) */
};

/* How much of a result the model gets, and how much an event shows. */
#define TOOL_RESULT_MAX		(16 * 1024)
#define TOOL_EVENT_RESULT_MAX	1024

/* Ends a call: ok or an error, and the text the model gets (cut at TOOL_RESULT_MAX
 * bytes, on a character).  The call's run goes on from here (worker/step.c). */
void			 tool_done(struct tool_call *, int ok, const char *text, size_t len);
/* Ends a call in error, with the formatted text (at most 600 bytes). */
void			 tool_fail(struct tool_call *, const char *fmt, ...)
			    __attribute__((format(printf, 2, 3)));
void			 tool_vfail(struct tool_call *, const char *fmt, va_list)
			    __attribute__((format(printf, 2, 0)));
/* Sets a call aside for a person: a question (ask_human), or the call itself for
 * approval (question NULL).  Once no call of the turn runs, the run's attempt ends
 * 'waiting' with an inbox item per call set aside (human.requested says which); the
 * answer, when it comes, is the call's result (or lets it run). */
void			 tool_wait(struct tool_call *, const char *question);
/* Runs a tool's statement on the worker's tool connection (worker/dbq.h), without
 * waiting: rows() ends the call from its result (tool_done or tool_fail); a failed
 * statement or a lost connection ends it in error, said plainly to the model and
 * logged in full.  Until then the call's state is the statement's (tool_sql_cancel). */
void			 tool_sql(struct tool_call *, const char *sql, int nparams,
			    const char *const *params,
			    void (*rows)(struct tool_call *, const PGresult *));
void			 tool_sql_cancel(struct tool_call *);
/* The parameters a tool's statement starts from, as text: the run's org, and the
 * call's argument "limit" (or dflt when it has none). */
struct tool_sql_params {
	char	 org[24];
	char	 limit[16];
};
void			 tool_sql_params(const struct tool_call *, int dflt,
			    struct tool_sql_params *);
/* The registry: the code of the tool of that name, or NULL. */
const struct tool_impl	*tool_impl_find(const char *name);

/* The tools (one file each). */
extern const struct tool_impl tool_http_fetch;
extern const struct tool_impl tool_ask_human;
extern const struct tool_impl tool_handoff;
extern const struct tool_impl tool_kb_search;
extern const struct tool_impl tool_memory_save;
extern const struct tool_impl tool_memory_search;
extern const struct tool_impl tool_http_tool;	/* every configured tool (core/tooldef.h) */

#endif /* SB_WORKER_TOOLS_H */
