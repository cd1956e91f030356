/* health.c: GET /healthz (the process answers) and GET /readyz (its dependencies do). */
#include "config.h"
#include <stdio.h>
#include <jansson.h>

#include "handlers/handlers.h"
#include "core/cache.h"
#include "core/db.h"
#include "core/err.h"
#include "core/problem.h"
#include "fcgi-app/access.h"
#include "fcgi-app/app.h"
#include "fcgi-app/request.h"
#include "fcgi-app/response.h"

enum sb_err
h_healthz(struct sb_req *req)
{
	resp_json(req, 200, json_pack("{s:s}", "status", "ok"));
	return SB_OK;
}

enum sb_err
h_readyz(struct sb_req *req)
{
	struct app	*app = req->app;
	json_t		*checks = json_object(), *p;
	enum sb_err	 err;
	int		 version, ready = 1, safe;
	char		 detail[160] = "";

	if (db_ensure(&app->db) != SB_OK) {
		json_object_set_new(checks, "database", json_string("unreachable"));
		json_object_set_new(checks, "schema", json_string("unknown"));
		snprintf(detail, sizeof(detail), "PostgreSQL is unreachable");
		ready = 0;
	} else if ((safe = app_role_safe(app)) != 1) {
		json_object_set_new(checks, "database", json_string(safe < 0 ? "unreachable" :
		    "role bypasses row-level security"));
		json_object_set_new(checks, "schema", json_string("unknown"));
		snprintf(detail, sizeof(detail), safe < 0 ? "PostgreSQL did not answer" :
		    "the database role bypasses row-level security: set database.url to the "
		    "application role");
		ready = 0;
	} else {
		json_object_set_new(checks, "database", json_string("ok"));
		version = db_schema_version(&app->db, &err);
		/* Migrations only add (expand, then contract in a later release), so a
		 * newer schema serves this build: hosts can be upgraded one by one. */
		if (version >= SB_SCHEMA_VERSION)
			json_object_set_new(checks, "schema", json_string("ok"));
		else {
			json_object_set_new(checks, "schema", version < 0 ?
			    json_string("unreadable") :
			    json_sprintf("at version %d, expected %d", version, SB_SCHEMA_VERSION));
			snprintf(detail, sizeof(detail), "the schema is older than version %d: "
			    "run switchboardctl migrate", SB_SCHEMA_VERSION);
			ready = 0;
		}
	}
	if (cache_ping(app->cache) == SB_OK)
		json_object_set_new(checks, "memcached", json_string("ok"));
	else {
		json_object_set_new(checks, "memcached", json_string("unreachable"));
		if (ready)
			snprintf(detail, sizeof(detail), "memcached is unreachable");
		ready = 0;
	}
	if (ready) {
		resp_json(req, 200, json_pack("{s:s, s:o}", "status", "ready", "checks", checks));
		return SB_OK;
	}
	p = problem_new(503, "not-ready", "Not ready", detail);
	json_object_set_new(p, "checks", checks);
	resp_header(req, "Retry-After", "%d", app->cfg.database.retry_after);
	resp_problem(req, p);
	return SB_OK;
}
