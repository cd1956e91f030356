/* kb_search.c: the tool that searches the org's knowledge base (sql/016_kb.sql,
 * kb_search()): the best passages, each with its document's id and title so the
 * answer can cite them. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "worker/worker.h"
#include "worker/tools/tools.h"
#include "core/json.h"

#define KB_LIMIT_DEFAULT	5

/* The rows (document_id, title, chunk, content, rank) as the model reads them:
 * {"query", "results": [{"document_id", "title", "chunk", "passage", "rank"}]}, each
 * passage cut so that the whole fits the model's share of a result. */
static void
rows(struct tool_call *c, const PGresult *res)
{
	json_t	*out, *list;
	char	*text;
	size_t	 cut, len;
	int	 i, n = PQntuples(res);

	/* Escaping can make a passage longer than its bytes: halve until it fits. */
	for (cut = TOOL_RESULT_MAX - 1024; ; cut /= 2) {
		list = json_array();
		for (i = 0; i < n; i++) {
			const char *p = PQgetvalue(res, i, 3);

			len = strlen(p);
			if (len > cut / (size_t)n)
				len = utf8_prefix(p, cut / (size_t)n);
			json_array_append_new(list, json_pack("{s:s, s:s, s:i, s:o, s:f}",
			    "document_id", PQgetvalue(res, i, 0), "title", PQgetvalue(res, i, 1),
			    "chunk", atoi(PQgetvalue(res, i, 2)), "passage", json_text(p, len),
			    "rank", atof(PQgetvalue(res, i, 4))));
		}
		out = json_pack("{s:O, s:o}", "query", json_object_get(c->args, "query"),
		    "results", list);
		text = json_dumps(out, JSON_COMPACT);
		json_decref(out);
		if (strlen(text) <= TOOL_RESULT_MAX || cut < 256)
			break;
		free(text);
	}
	tool_done(c, 1, text, strlen(text));
	free(text);
}

static void
start(struct tool_call *c)
{
	struct tool_sql_params	 p;
	const char		*params[3];

	tool_sql_params(c, KB_LIMIT_DEFAULT, &p);
	params[0] = p.org;
	params[1] = json_string_value(json_object_get(c->args, "query"));
	params[2] = p.limit;
	tool_sql(c, "SELECT document_id, title, chunk, content, rank "
	    "FROM kb_search($1::bigint, $2, $3::integer)", 3, params, rows);
}

const struct tool_impl tool_kb_search = {
	.name = "kb_search", .start = start, .cancel = tool_sql_cancel,
};
