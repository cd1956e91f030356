/* audit.c: GET /api/v1/audit: the org's audit log, newest first, by cursor. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "handlers.h"

static enum sb_err
audit_page(struct sb_req *req, void *arg)
{
	static struct db_stmt	 q = { "audit_page",
	    "SELECT id, actor_type, actor_id, action, target, host(ip), request_id, details::text, "
	    SQL_ISO_MS("created_at") " "
	    "FROM audit_log WHERE ($1 = 0 OR id < $1) ORDER BY id DESC LIMIT $2", 2, 0 };
	struct page		*pg = arg;
	char			 cur[24], lim[16];
	const char		*p[2] = { cur, lim };
	json_t			*items, *e;
	enum sb_err		 err;
	PGresult		*res;
	int			 i, n;

	snprintf(cur, sizeof(cur), "%lld", (long long)pg->cursor);
	snprintf(lim, sizeof(lim), "%d", pg->limit + 1);
	if ((res = db_exec_stmt(&req->app->db, &q, p, &err)) == NULL)
		return err;
	n = PQntuples(res) > pg->limit ? pg->limit : PQntuples(res);
	items = json_array();
	for (i = 0; i < n; i++) {
		e = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:s}",
		    "id", (json_int_t)atoll(PQgetvalue(res, i, 0)),
		    "actor_type", PQgetvalue(res, i, 1),
		    "action", PQgetvalue(res, i, 3),
		    "target", PQgetvalue(res, i, 4),
		    "request_id", PQgetvalue(res, i, 6),
		    "details", json_loads(PQgetvalue(res, i, 7), 0, NULL),
		    "created_at", PQgetvalue(res, i, 8));
		json_object_set_new(e, "actor_id", PQgetisnull(res, i, 2) ? json_null() :
		    json_integer(atoll(PQgetvalue(res, i, 2))));
		json_object_set_new(e, "ip", PQgetisnull(res, i, 5) ? json_null() :
		    json_string(PQgetvalue(res, i, 5)));
		json_array_append_new(items, e);
	}
	pg->body = page_body(items, res, pg->limit);
	PQclear(res);
	return SB_OK;
}

enum sb_err
h_audit_list(struct sb_req *req)
{
	return page_answer(req, audit_page);
}
