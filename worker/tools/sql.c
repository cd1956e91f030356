/* sql.c: a tool's statement on the worker's tool connection (core/dbq.c): sent at
 * once, its result handed to the tool when it comes, the loop never waiting for it. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "worker/worker.h"
#include "core/dbq.h"
#include "worker/tools/tools.h"
#include "core/arena.h"
#include "core/log.h"

struct sql_state {
	struct dbq_req	*req;
	void		(*rows)(struct tool_call *, const PGresult *);
};

static void
sql_done(void *arg, const PGresult *res, const char *err)
{
	struct tool_call	*c = arg;
	struct sql_state	*s = c->state;
	void			(*rows)(struct tool_call *, const PGresult *) = s->rows;
	const char		*msg;

	free(s);
	c->state = NULL;
	if (res == NULL) {
		log_warn("tool statement failed", "{s:s, s:s, s:s}", "run", c->run->id,
		    "tool", c->name, "error", err);
		tool_fail(c, "%s is unavailable for a moment (the database did not answer); "
		    "try again later", c->name);
		return;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		log_warn("tool statement failed", "{s:s, s:s, s:s, s:s}", "run", c->run->id,
		    "tool", c->name, "sqlstate",
		    PQresultErrorField(res, PG_DIAG_SQLSTATE) != NULL ?
		    PQresultErrorField(res, PG_DIAG_SQLSTATE) : "", "error",
		    msg != NULL ? msg : "");
		tool_fail(c, "%s failed (the database refused the statement)", c->name);
		return;
	}
	rows(c, res);
}

void
tool_sql(struct tool_call *c, const char *sql, int nparams, const char *const *params,
    void (*rows)(struct tool_call *, const PGresult *))
{
	struct sql_state	*s = sb_calloc(1, sizeof(*s));
	char			 err[320];

	s->rows = rows;
	c->state = s;
	if ((s->req = dbq_send(c->run->w->tooldb, sql, nparams, params, sql_done, c, err,
	    sizeof(err))) == NULL) {
		free(s);
		c->state = NULL;
		log_warn("tool statement not sent", "{s:s, s:s, s:s}", "run", c->run->id,
		    "tool", c->name, "error", err);
		tool_fail(c, "%s is unavailable for a moment (no database connection); try "
		    "again later", c->name);
	}
}

void
tool_sql_cancel(struct tool_call *c)
{
	struct sql_state *s = c->state;

	if (s == NULL)
		return;
	dbq_cancel(s->req);
	free(s);
	c->state = NULL;
}

void
tool_sql_params(const struct tool_call *c, int dflt, struct tool_sql_params *p)
{
	json_t *lim = json_object_get(c->args, "limit");

	snprintf(p->org, sizeof(p->org), "%lld", c->run->org_id);
	snprintf(p->limit, sizeof(p->limit), "%d", lim != NULL ?
	    (int)json_integer_value(lim) : dflt);
}
