/* threads.c: conversations: POST/GET /api/v1/threads, GET/PATCH/DELETE one, its
 * messages, and the runs made on it (sql/013_threads.sql keeps one at a time). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "handlers/handlers.h"
#include "core/arena.h"
#include "core/cursor.h"
#include "core/db.h"
#include "core/err.h"
#include "core/json.h"
#include "fcgi-app/access.h"
#include "fcgi-app/page.h"
#include "fcgi-app/request.h"
#include "fcgi-app/response.h"
#include "fcgi-app/wake.h"

#define TITLE_MAX	200		/* bytes; as sql/013_threads.sql checks */
#define MESSAGE_MAX	(64 * 1024)	/* bytes of one user message */

/* The columns thread_json() reads, in its order; n (the cursor) first. */
#define THREAD_COLUMNS "n, id, title, metadata::text, agent_slug, state, last_seq, " \
	SQL_ISO_MS("created_at") ", " SQL_ISO_MS("updated_at")

static json_t *
thread_json(PGresult *res, int row)
{
	const char *id = PQgetvalue(res, row, 1);

	return json_pack("{s:s, s:s, s:o, s:o, s:s, s:i, s:s, s:s, s:{s:o, s:o, s:o}}",
	    "id", id, "title", PQgetvalue(res, row, 2),
	    "metadata", json_loads(PQgetvalue(res, row, 3), 0, NULL),
	    "agent", PQgetisnull(res, row, 4) ? json_null() : json_string(PQgetvalue(res, row, 4)),
	    "state", PQgetvalue(res, row, 5), "messages", atoi(PQgetvalue(res, row, 6)),
	    "created_at", PQgetvalue(res, row, 7), "updated_at", PQgetvalue(res, row, 8),
	    "links", "self", json_sprintf("/api/v1/threads/%s", id),
	    "messages", json_sprintf("/api/v1/threads/%s/messages", id),
	    "runs", json_sprintf("/api/v1/threads/%s/runs", id));
}

/* What POST and PATCH may set; NULL: not given.  agent_null: "agent": null (PATCH). */
struct fields {
	const char	*title, *agent;
	char		*metadata;
	int		 agent_null;
};

/* Reads and checks the body's fields (all optional); on failure the problem is set. */
static enum sb_err
fields_read(struct sb_req *req, struct fields *f)
{
	json_t	*title = NULL, *meta = NULL, *agent = NULL;

	memset(f, 0, sizeof(*f));
	if (!json_is_object(req->json) || json_unpack(req->json, "{s?o, s?o, s?o !}", "title",
	    &title, "metadata", &meta, "agent", &agent) != 0)
		return req_fail(req, SB_ERR_INVALID, "invalid-body", "expected {\"title\"?: string, "
		    "\"metadata\"?: object, \"agent\"?: string or null}");
	if (title != NULL) {
		if (!json_is_string(title) || json_string_length(title) > TITLE_MAX)
			return req_fail(req, SB_ERR_UNPROCESSABLE, "invalid-title",
			    "title is a string of at most 200 bytes");
		f->title = json_string_value(title);
	}
	if (meta != NULL) {
		if (!json_is_object(meta))
			return req_fail(req, SB_ERR_UNPROCESSABLE, "invalid-metadata",
			    "metadata is an object");
		f->metadata = arena_json(req->arena, meta);
	}
	if (json_is_null(agent))
		f->agent_null = 1;
	else if (agent != NULL) {
		/* Whether it names an agent the org can run is the database's to say
		 * (agent_exists): any other string is simply not one. */
		if ((f->agent = json_string_value(agent)) == NULL)
			return req_fail(req, SB_ERR_UNPROCESSABLE, "unknown-agent",
			    "agent is the slug of an agent, or null");
	}
	return SB_OK;
}

/* Is there an enabled agent slug for the caller's org?  SB_OK or SB_ERR_NOT_FOUND. */
static enum sb_err
agent_exists(struct sb_req *req, const char *slug)
{
	static struct db_stmt	 q = { "thread_agent", "SELECT 1 FROM agent_snapshot($1)", 1, 0 };
	const char		*p[1] = { slug };

	return db_exec_found(&req->app->db, &q, p);
}

static enum sb_err
unknown_agent(struct sb_req *req, const char *slug)
{
	return req_fail(req, SB_ERR_UNPROCESSABLE, "unknown-agent",
	    arena_printf(req->arena, "no enabled agent \"%.64s\" for this org", slug));
}

/* ------------------------------------------------------------ create, list */

struct create {
	struct fields	 f;
	json_t		*body;
};

static enum sb_err
thread_insert(struct sb_req *req, void *arg)
{
	static struct db_stmt	 ins = { "thread_insert",
	    "INSERT INTO threads (org_id, title, metadata, agent_slug, created_by_kind, created_by) "
	    "VALUES ($1, $2, $3::jsonb, NULLIF($4, ''), $5, NULLIF($6, '0')::bigint) "
	    "RETURNING " THREAD_COLUMNS, 6, 0 };
	struct create		*c = arg;
	char			 org[24], who[24];
	const char		*p[6];
	enum sb_err		 err;

	if (c->f.agent != NULL && (err = agent_exists(req, c->f.agent)) != SB_OK)
		return err;
	snprintf(org, sizeof(org), "%lld", (long long)req->who.org_id);
	p[0] = org;
	p[1] = c->f.title != NULL ? c->f.title : "";
	p[2] = c->f.metadata != NULL ? c->f.metadata : "{}";
	p[3] = c->f.agent != NULL ? c->f.agent : "";
	p[4] = req_creator(req, who);
	p[5] = who;
	return req_one(req, &ins, p, thread_json, &c->body);
}

enum sb_err
h_threads_create(struct sb_req *req)
{
	struct create	 c = { { NULL, NULL, NULL, 0 }, NULL };
	enum sb_err	 err;

	if (req->json == NULL)
		req->json = json_object();	/* no body: a thread with nothing set */
	if ((err = fields_read(req, &c.f)) != SB_OK)
		return err;
	if ((err = org_tx(req, thread_insert, &c)) == SB_ERR_NOT_FOUND)
		return unknown_agent(req, c.f.agent);
	if (err != SB_OK)
		return err;
	resp_header(req, "Location", "/api/v1/threads/%s",
	    json_string_value(json_object_get(c.body, "id")));
	resp_json(req, 201, c.body);
	return SB_OK;
}

enum sb_err
h_threads_list(struct sb_req *req)
{
	static struct db_stmt	 q = { "threads_page",
	    "SELECT " THREAD_COLUMNS " FROM threads WHERE ($1 = 0 OR n < $1) "
	    "ORDER BY n DESC LIMIT $2", 2, 0 };
	struct page_query	 page = { &q, thread_json, NULL, 0 };

	return page_answer(req, &page);
}

/* ------------------------------------------------------------ one */

struct one {
	const char	*id;
	struct fields	 f;
	json_t		*body;
};

/* Runs fn on the thread named by {id}; another org's thread, or none, is 404. */
static enum sb_err
with_thread(struct sb_req *req, enum sb_err (*fn)(struct sb_req *, void *), struct one *o)
{
	return with_id(req, "no such thread", &o->id, fn, o);
}

static enum sb_err
thread_one(struct sb_req *req, void *arg)
{
	static struct db_stmt	 q = { "thread_one",
	    "SELECT " THREAD_COLUMNS " FROM threads WHERE id = $1::uuid", 1, 0 };
	struct one		*o = arg;
	const char		*p[1] = { o->id };

	return req_one(req, &q, p, thread_json, &o->body);
}

enum sb_err
h_threads_get(struct sb_req *req)
{
	struct one	 o;
	enum sb_err	 err;

	memset(&o, 0, sizeof(o));
	if ((err = with_thread(req, thread_one, &o)) != SB_OK)
		return err;
	resp_json(req, 200, o.body);
	return SB_OK;
}

static enum sb_err
thread_update(struct sb_req *req, void *arg)
{
	/* $2..$4 '' and $5 false: left as they are. */
	static struct db_stmt	 q = { "thread_update",
	    "UPDATE threads SET title = coalesce($2, title), "
	    "metadata = coalesce($3::jsonb, metadata), "
	    "agent_slug = CASE WHEN $5 THEN NULL ELSE coalesce($4, agent_slug) END, "
	    "updated_at = now() WHERE id = $1::uuid RETURNING " THREAD_COLUMNS, 5, 0 };
	struct one		*o = arg;
	const char		*p[5];
	enum sb_err		 err;

	/* An unknown agent is the caller's 422, told apart from the thread's 404. */
	if (o->f.agent != NULL && (err = agent_exists(req, o->f.agent)) != SB_OK)
		return err == SB_ERR_NOT_FOUND ? SB_ERR_UNPROCESSABLE : err;
	p[0] = o->id;
	p[1] = o->f.title;
	p[2] = o->f.metadata;
	p[3] = o->f.agent;
	p[4] = o->f.agent_null ? "true" : "false";
	return req_one(req, &q, p, thread_json, &o->body);
}

enum sb_err
h_threads_patch(struct sb_req *req)
{
	struct one	 o;
	enum sb_err	 err;

	memset(&o, 0, sizeof(o));
	if ((err = fields_read(req, &o.f)) != SB_OK)
		return err;
	if ((err = with_thread(req, thread_update, &o)) == SB_ERR_UNPROCESSABLE)
		return unknown_agent(req, o.f.agent);
	if (err != SB_OK)
		return err;
	resp_json(req, 200, o.body);
	return SB_OK;
}

static enum sb_err
thread_delete(struct sb_req *req, void *arg)
{
	/* Its runs go on existing (thread_id becomes NULL) with their own logs; those not
	 * finished are cancelled first, as POST /api/v1/runs/{id}/cancel would (one that
	 * waits for a person too: an answer would start it again without its thread). */
	static struct db_stmt	 cancel = { "thread_cancel_runs",
	    "SELECT count(*) FROM runs r, LATERAL run_cancel(r.id) c "
	    "WHERE r.thread_id = $1::uuid AND r.state IN ('queued', 'running', 'waiting')", 1, 0 };
	static struct db_stmt	 del = { "thread_delete",
	    "DELETE FROM threads WHERE id = $1::uuid", 1, 0 };
	struct one		*o = arg;
	const char		*p[1] = { o->id };
	enum sb_err		 err;
	PGresult		*res;

	if (req_exec(req, &cancel, p, &err) == NULL || (res = req_exec(req, &del, p, &err)) == NULL)
		return err;
	return atoi(PQcmdTuples(res)) == 1 ? SB_OK : SB_ERR_NOT_FOUND;
}

enum sb_err
h_threads_delete(struct sb_req *req)
{
	struct one	 o;
	enum sb_err	 err;

	memset(&o, 0, sizeof(o));
	if ((err = with_thread(req, thread_delete, &o)) != SB_OK)
		return err;
	audit(req, "thread.deleted", o.id, NULL);
	resp_send(req, 204, NULL, NULL, 0);
	return SB_OK;
}

/* ------------------------------------------------------------ messages */

/* A message of MESSAGE_COLUMNS (seq, the cursor, first). */
#define MESSAGE_COLUMNS "seq, role, content, data::text, run_id, " SQL_ISO_MS("created_at")

static json_t *
message_json(PGresult *res, int row)
{
	return json_pack("{s:i, s:s, s:o, s:o, s:o, s:s}",
	    "seq", atoi(PQgetvalue(res, row, 0)), "role", PQgetvalue(res, row, 1),
	    "content", json_text(PQgetvalue(res, row, 2), (size_t)PQgetlength(res, row, 2)),
	    "data", json_loads(PQgetvalue(res, row, 3), 0, NULL),
	    "run", PQgetisnull(res, row, 4) ? json_null() : json_string(PQgetvalue(res, row, 4)),
	    "created_at", PQgetvalue(res, row, 5));
}

static enum sb_err
thread_seen(struct sb_req *req, void *arg)
{
	static struct db_stmt	 q = { "thread_seen",
	    "SELECT 1 FROM threads WHERE id = $1::uuid", 1, 0 };
	struct one		*o = arg;
	const char		*p[1] = { o->id };

	return db_exec_found(&req->app->db, &q, p);
}

/* Newest first, like every list; next_cursor pages back in time. */
enum sb_err
h_threads_messages(struct sb_req *req)
{
	static struct db_stmt	 q = { "thread_messages_page",
	    "SELECT " MESSAGE_COLUMNS " FROM thread_messages WHERE thread_id = $3::uuid "
	    "AND ($1 = 0 OR seq < $1) ORDER BY seq DESC LIMIT $2", 3, 0 };
	struct one		 o;
	const char		*extra[1];
	struct page_query	 page = { &q, message_json, extra, 1 };
	enum sb_err		 err;

	/* An unknown thread is 404, not an empty page. */
	memset(&o, 0, sizeof(o));
	if ((err = with_thread(req, thread_seen, &o)) != SB_OK)
		return err;
	extra[0] = o.id;
	return page_answer(req, &page);
}

/* ------------------------------------------------------------ runs */

struct start {
	const char	*thread, *agent, *multitask;
	char		*input, *metadata;
	json_t		*body;
	const char	*outcome;
};

static enum sb_err
thread_run(struct sb_req *req, void *arg)
{
	static struct db_stmt	 start = { "thread_run_start",
	    "SELECT outcome, id FROM thread_run_start($1::uuid, NULLIF($2, ''), $3::jsonb, "
	    "$4::jsonb, $5, $6, NULLIF($7, '0')::bigint)", 7, 0 };
	static struct db_stmt	 one = { "thread_run_one",
	    "SELECT " RUN_COLUMNS " FROM runs WHERE id = $1::uuid", 1, 0 };
	struct start		*s = arg;
	char			 who[24];
	const char		*p[7];
	enum sb_err		 err;
	PGresult		*res;

	p[0] = s->thread;
	p[1] = s->agent != NULL ? s->agent : "";
	p[2] = s->input;
	p[3] = s->metadata;
	p[4] = s->multitask;
	p[5] = req_creator(req, who);
	p[6] = who;
	if ((res = req_exec(req, &start, p, &err)) == NULL)
		return err;
	s->outcome = arena_strdup(req->arena, PQgetvalue(res, 0, 0));
	if (strcmp(s->outcome, "created") != 0)
		return SB_ERR_CONFLICT;		/* the caller says which */
	p[0] = PQgetvalue(res, 0, 1);
	return req_one(req, &one, p, run_json, &s->body);
}

enum sb_err
h_threads_run(struct sb_req *req)
{
	struct start	 s;
	json_t		*input = NULL, *meta = NULL, *msg;
	const char	*agent = NULL, *multitask = "reject";
	enum sb_err	 err;

	memset(&s, 0, sizeof(s));
	s.thread = req_path_param(req, "id");
	if (!uuid_shaped(s.thread))
		return req_fail(req, SB_ERR_NOT_FOUND, NULL, "no such thread");
	if (json_unpack(req->json, "{s?s, s:o, s?o, s?s !}", "agent", &agent, "input", &input,
	    "metadata", &meta, "multitask", &multitask) != 0 || !json_is_object(input))
		return req_fail(req, SB_ERR_INVALID, "invalid-body", "expected {\"agent\"?: string, "
		    "\"input\": {\"message\": string, ...}, \"metadata\"?: object, "
		    "\"multitask\"?: \"reject\", \"enqueue\" or \"interrupt\"}");
	msg = json_object_get(input, "message");
	if (!json_is_string(msg) || json_string_length(msg) == 0 ||
	    json_string_length(msg) > MESSAGE_MAX)
		return req_fail(req, SB_ERR_UNPROCESSABLE, "invalid-message",
		    "input.message is the user's message: a string of 1 to 65536 bytes");
	if (meta != NULL && !json_is_object(meta))
		return req_fail(req, SB_ERR_UNPROCESSABLE, "invalid-metadata", "metadata is an object");
	if (strcmp(multitask, "reject") != 0 && strcmp(multitask, "enqueue") != 0 &&
	    strcmp(multitask, "interrupt") != 0)
		return req_fail(req, SB_ERR_UNPROCESSABLE, "invalid-multitask",
		    "multitask is \"reject\" (the default), \"enqueue\" or \"interrupt\"");
	s.agent = agent;
	s.multitask = multitask;
	s.input = arena_json(req->arena, input);
	s.metadata = meta != NULL ? arena_json(req->arena, meta) : "{}";
	err = org_tx(req, thread_run, &s);
	if (err == SB_ERR_CONFLICT && strcmp(s.outcome, "no-thread") == 0)
		return req_fail(req, SB_ERR_NOT_FOUND, NULL, "no such thread");
	if (err == SB_ERR_CONFLICT && strcmp(s.outcome, "no-agent") == 0)
		return req_fail(req, SB_ERR_UNPROCESSABLE, "unknown-agent", agent != NULL ?
		    arena_printf(req->arena, "no enabled agent \"%.64s\" for this org", agent) :
		    "the thread names no agent (or it is not enabled): give \"agent\"");
	if (err == SB_ERR_CONFLICT)
		return req_fail(req, SB_ERR_CONFLICT, "thread-busy", "a run of this thread is "
		    "queued or running; send \"multitask\": \"enqueue\" or \"interrupt\"");
	if (err != SB_OK)
		return err;
	queue_wake(req->app);
	resp_header(req, "Location", "/api/v1/runs/%s",
	    json_string_value(json_object_get(s.body, "id")));
	resp_json(req, 202, s.body);
	return SB_OK;
}

/* ------------------------------------------------------------ stream */

/* GET /api/v1/threads/{id}/stream: the events of the thread's runs, one run after the
 * other, each event's id "N-SEQ" (the run's n, the event's seq) and its data naming its
 * run; from the start, or after ?after= or Last-Event-ID.  Never ends by itself. */
enum sb_err
h_threads_stream(struct sb_req *req)
{
	struct one		 o;
	struct sb_cursor	 pos;
	int			 given;
	enum sb_err		 err;

	if ((err = stream_position(req, &pos, &given, "a thread stream's position is the id "
	    "of its last event received (N-SEQ), or 0 for every event of the thread")) != SB_OK)
		return err;
	memset(&o, 0, sizeof(o));
	if ((err = with_thread(req, thread_seen, &o)) != SB_OK)
		return err;
	return req->app->stream->thread_stream(req, o.id, &pos);
}
