/* memory.c: memory_save and memory_search, the two sides of what an agent remembers
 * (sql/020_memory.sql).  The tools name the run and the kind of scope its agent keeps
 * (the parameter memory_scope: "user", the default, or "thread"), never a scope: the
 * database derives it from the run, so no argument can reach another's memories. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "worker/worker.h"
#include "worker/tools/tools.h"

#define MEMORY_LIMIT_DEFAULT	5

static const char *
scope_kind(const struct run *r)
{
	const char *k = json_string_value(run_param(r, "memory_scope"));

	return k != NULL && strcmp(k, "thread") == 0 ? "thread" : "user";
}

/* Ends the call with out as its text (stolen). */
static void
done_json(struct tool_call *c, json_t *out)
{
	char *text = json_dumps(out, JSON_COMPACT);

	json_decref(out);
	tool_done(c, 1, text, strlen(text));
	free(text);
}

static void
saved(struct tool_call *c, const PGresult *res)
{
	if (PQntuples(res) != 1) {
		tool_fail(c, "%s", "memory_save: this run has no one to remember for");
		return;
	}
	done_json(c, json_pack("{s:b, s:s, s:b, s:s}", "saved", 1, "id", PQgetvalue(res, 0, 0),
	    "new", PQgetvalue(res, 0, 1)[0] == 't', "scope", scope_kind(c->run)));
}

static void
save(struct tool_call *c)
{
	struct tool_sql_params	 p;
	const char		*params[4];

	tool_sql_params(c, 0, &p);
	params[0] = p.org;
	params[1] = c->run->id;
	params[2] = scope_kind(c->run);
	params[3] = json_string_value(json_object_get(c->args, "content"));
	tool_sql(c, "SELECT id, created FROM memory_save($1::bigint, $2::uuid, $3, $4)", 4,
	    params, saved);
}

static void
found(struct tool_call *c, const PGresult *res)
{
	json_t	*list = json_array();
	int	 i;

	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "id",
		    PQgetvalue(res, i, 0), "content", PQgetvalue(res, i, 1), "saved_at",
		    PQgetvalue(res, i, 2)));
	done_json(c, json_pack("{s:O, s:o}", "query", json_object_get(c->args, "query"),
	    "memories", list));
}

static void
search(struct tool_call *c)
{
	struct tool_sql_params	 p;
	const char		*params[5];

	tool_sql_params(c, MEMORY_LIMIT_DEFAULT, &p);
	params[0] = p.org;
	params[1] = c->run->id;
	params[2] = scope_kind(c->run);
	params[3] = json_string_value(json_object_get(c->args, "query"));
	params[4] = p.limit;
	tool_sql(c, "SELECT id, content, to_char(created_at AT TIME ZONE 'UTC', "
	    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM memory_search($1::bigint, $2::uuid, $3, $4, "
	    "$5::integer)", 5, params, found);
}

const struct tool_impl tool_memory_save = {
	.name = "memory_save", .start = save, .cancel = tool_sql_cancel,
};
const struct tool_impl tool_memory_search = {
	.name = "memory_search", .start = search, .cancel = tool_sql_cancel,
};
