/* agents.c: the agent registry: GET/POST /api/v1/agents, GET/PUT/DELETE /api/v1/agents/{slug}. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "handlers/handlers.h"
#include "core/agent.h"
#include "core/arena.h"
#include "core/db.h"
#include "core/err.h"
#include "fcgi-app/access.h"
#include "fcgi-app/app.h"
#include "fcgi-app/request.h"
#include "fcgi-app/response.h"

/* The columns agent_json() reads, in its order. */
#define AGENT_COLUMNS "slug, name, description, category, provider, model, system_prompt, " \
	"parameters::text, tools, enabled, version, org_id IS NULL, " SQL_ISO("updated_at")
#define AGENTS_MAX 500

static json_t *
agent_json(PGresult *res, int row)
{
	json_t	*tools = json_array();
	char	*s = PQgetvalue(res, row, 8), *p, *e;

	/* A text[] of tool names: {a,b}; names are [a-z0-9_-], never quoted. */
	for (p = s + (*s == '{'); *p != '\0' && *p != '}'; p = *e ? e + 1 : e) {
		for (e = p; *e != '\0' && *e != ',' && *e != '}'; e++)
			;
		json_array_append_new(tools, json_stringn(p, (size_t)(e - p)));
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:b, s:i, s:b, s:s}",
	    "slug", PQgetvalue(res, row, 0), "name", PQgetvalue(res, row, 1),
	    "description", PQgetvalue(res, row, 2), "category", PQgetvalue(res, row, 3),
	    "provider", PQgetvalue(res, row, 4), "model", PQgetvalue(res, row, 5),
	    "system_prompt", PQgetvalue(res, row, 6),
	    "parameters", json_loads(PQgetvalue(res, row, 7), 0, NULL),
	    "tools", tools, "enabled", PQgetvalue(res, row, 9)[0] == 't',
	    "version", atoi(PQgetvalue(res, row, 10)),
	    "global", PQgetvalue(res, row, 11)[0] == 't',
	    "updated_at", PQgetvalue(res, row, 12));
}

/* ------------------------------------------------------------ read */

struct one {
	const char	*slug;
	json_t		*body;
};

static enum sb_err
agents_all(struct sb_req *req, void *arg)
{
	/* The org's own agent hides a global default of the same slug. */
	static struct db_stmt	 q = { "agents_all",
	    "SELECT DISTINCT ON (slug) " AGENT_COLUMNS " FROM agents "
	    "WHERE ($1 = '' OR category = $1) ORDER BY slug, org_id NULLS LAST LIMIT 500", 1, 0 };
	struct one		*o = arg;
	const char		*cat = req_query(req, "category"), *p[1];
	json_t			*items;
	enum sb_err		 err;
	PGresult		*res;
	int			 i;

	p[0] = cat != NULL ? cat : "";
	if ((res = req_exec(req, &q, p, &err)) == NULL)
		return err;
	items = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(items, agent_json(res, i));
	o->body = json_pack("{s:o}", "items", items);
	return SB_OK;
}

enum sb_err
h_agents_list(struct sb_req *req)
{
	struct one	 o = { NULL, NULL };
	enum sb_err	 err;

	if ((err = org_tx(req, agents_all, &o)) != SB_OK)
		return err;
	resp_json(req, 200, o.body);
	return SB_OK;
}

static enum sb_err
agent_one(struct sb_req *req, void *arg)
{
	static struct db_stmt	 q = { "agent_one",
	    "SELECT " AGENT_COLUMNS " FROM agents WHERE slug = $1 "
	    "ORDER BY org_id NULLS LAST LIMIT 1", 1, 0 };
	struct one		*o = arg;
	const char		*p[1] = { o->slug };

	return req_one(req, &q, p, agent_json, &o->body);
}

enum sb_err
h_agents_get(struct sb_req *req)
{
	struct one	 o = { req_path_param(req, "slug"), NULL };
	enum sb_err	 err;

	if ((err = org_tx(req, agent_one, &o)) != SB_OK)
		return err == SB_ERR_NOT_FOUND ? req_fail(req, err, NULL, "no such agent") : err;
	resp_json(req, 200, o.body);
	return SB_OK;
}

/* ------------------------------------------------------------ write */

struct write {
	json_t		*def;		/* validated */
	int		 replace;	/* PUT: insert or replace; POST: insert only */
	int		 created;
	json_t		*body;
};

static enum sb_err
agent_store(struct sb_req *req, void *arg)
{
	static struct db_stmt	 ins = { "agent_insert",
	    "INSERT INTO agents (org_id, slug, name, description, category, provider, model, "
	    "system_prompt, parameters, tools, enabled) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
	    "$9::jsonb, ARRAY(SELECT jsonb_array_elements_text($10::jsonb)), $11::boolean) "
	    "ON CONFLICT (coalesce(org_id, 0), slug) DO NOTHING RETURNING " AGENT_COLUMNS, 11, 0 };
	static struct db_stmt	 upd = { "agent_update",
	    "UPDATE agents SET name = $3, description = $4, category = $5, provider = $6, "
	    "model = $7, system_prompt = $8, parameters = $9::jsonb, "
	    "tools = ARRAY(SELECT jsonb_array_elements_text($10::jsonb)), enabled = $11::boolean, "
	    "version = version + 1, updated_at = now() "
	    "WHERE org_id = $1 AND slug = $2 RETURNING " AGENT_COLUMNS, 11, 0 };
	struct write		*w = arg;
	char			 org[24], *json;
	const char		*p[AGENT_NPARAMS];
	enum sb_err		 err;
	PGresult		*res;

	snprintf(org, sizeof(org), "%lld", (long long)req->who.org_id);
	agent_bind(w->def, org, p, &json);
	arena_defer(req->arena, free, json);
	if ((res = req_exec(req, &ins, p, &err)) == NULL)
		return err;
	w->created = PQntuples(res) == 1;
	if (!w->created && w->replace && (res = req_exec(req, &upd, p, &err)) == NULL)
		return err;
	if (PQntuples(res) != 1)
		return SB_ERR_CONFLICT;
	w->body = agent_json(res, 0);
	return SB_OK;
}

static enum sb_err
agent_write(struct sb_req *req, const char *slug, int replace)
{
	struct agent_error	 e;
	struct write		 w;
	enum sb_err		 err;

	memset(&w, 0, sizeof(w));
	w.replace = replace;
	if ((w.def = arena_adopt_json(req->arena, agent_validate(req->json, slug, &e))) == NULL)
		return req_fail(req, e.err, e.slug, e.detail);
	err = org_tx(req, agent_store, &w);
	if (err == SB_OK)
		audit(req, w.created ? "agent.created" : "agent.updated",
		    json_string_value(json_object_get(w.def, "slug")), NULL);
	if (err == SB_ERR_CONFLICT)
		return req_fail(req, err, "agent-exists",
		    "this org has an agent with that slug: PUT /api/v1/agents/{slug} replaces it");
	if (err != SB_OK)
		return err;
	if (w.created)
		resp_header(req, "Location", "/api/v1/agents/%s",
		    json_string_value(json_object_get(w.body, "slug")));
	resp_json(req, w.created ? 201 : 200, w.body);
	return SB_OK;
}

enum sb_err
h_agents_create(struct sb_req *req)
{
	return agent_write(req, NULL, 0);
}

enum sb_err
h_agents_put(struct sb_req *req)
{
	return agent_write(req, req_path_param(req, "slug"), 1);
}

static enum sb_err
agent_delete(struct sb_req *req, void *arg)
{
	static struct db_stmt	 q = { "agent_delete",
	    "DELETE FROM agents WHERE org_id = current_org_id() AND slug = $1 RETURNING id", 1, 0 };
	const char		*p[1] = { arg };

	return db_exec_found(&req->app->db, &q, p);
}

enum sb_err
h_agents_delete(struct sb_req *req)
{
	const char	*slug = req_path_param(req, "slug");
	enum sb_err	 err;

	/* A global default is not the org's to delete: like another org's, it is 404. */
	if ((err = org_tx(req, agent_delete, (void *)(uintptr_t)slug)) != SB_OK)
		return err == SB_ERR_NOT_FOUND ?
		    req_fail(req, err, NULL, "this org has no agent with that slug") : err;
	audit(req, "agent.deleted", slug, NULL);
	resp_send(req, 204, NULL, NULL, 0);
	return SB_OK;
}
