/* audit.c: GET /api/v1/audit: the org's audit log, newest first, by cursor. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "handlers/handlers.h"
#include "core/db.h"
#include "core/err.h"
#include "fcgi-app/page.h"
#include "fcgi-app/request.h"

/* A row of the log as the API shows it (the statement's columns, id first). */
static json_t *
audit_item(PGresult *res, int row)
{
	json_t *e;

	e = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:s}",
	    "id", (json_int_t)atoll(PQgetvalue(res, row, 0)),
	    "actor_type", PQgetvalue(res, row, 1),
	    "action", PQgetvalue(res, row, 3),
	    "target", PQgetvalue(res, row, 4),
	    "request_id", PQgetvalue(res, row, 6),
	    "details", json_loads(PQgetvalue(res, row, 7), 0, NULL),
	    "created_at", PQgetvalue(res, row, 8));
	json_object_set_new(e, "actor_id", PQgetisnull(res, row, 2) ? json_null() :
	    json_integer(atoll(PQgetvalue(res, row, 2))));
	json_object_set_new(e, "ip", PQgetisnull(res, row, 5) ? json_null() :
	    json_string(PQgetvalue(res, row, 5)));
	return e;
}

enum sb_err
h_audit_list(struct sb_req *req)
{
	static struct db_stmt		 q = { "audit_page",
	    "SELECT id, actor_type, actor_id, action, target, host(ip), request_id, details::text, "
	    SQL_ISO_MS("created_at") " "
	    "FROM audit_log WHERE ($1 = 0 OR id < $1) ORDER BY id DESC LIMIT $2", 2, 0 };
	static const struct page_query	 page = { &q, audit_item, NULL, 0 };

	return page_answer(req, &page);
}
