/* runs.c: agent runs: POST/GET /api/v1/runs, GET /api/v1/runs/{id}, cancel, the event log. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "handlers/handlers.h"
#include "core/arena.h"
#include "core/crypto.h"
#include "core/db.h"
#include "core/err.h"
#include "fcgi-app/access.h"
#include "fcgi-app/app.h"
#include "fcgi-app/page.h"
#include "fcgi-app/request.h"
#include "fcgi-app/response.h"
#include "fcgi-app/wake.h"

json_t *
col_json(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? json_null() :
	    json_loads(PQgetvalue(res, row, col), JSON_DECODE_ANY, NULL);
}

json_t *
col_str(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? json_null() : json_string(PQgetvalue(res, row, col));
}

json_t *
run_json(PGresult *res, int row)
{
	const char *id = PQgetvalue(res, row, 1);

	return json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:s, s:o, s:o, "
	    "s:b, s:{s:o, s:o, s:o}}",
	    "id", id, "agent", PQgetvalue(res, row, 2), "state", PQgetvalue(res, row, 3),
	    "attempt", atoi(PQgetvalue(res, row, 4)), "max_attempts", atoi(PQgetvalue(res, row, 5)),
	    "priority", atoi(PQgetvalue(res, row, 6)),
	    "input", col_json(res, row, 7), "metadata", col_json(res, row, 8),
	    "output", col_json(res, row, 9), "error", col_json(res, row, 10),
	    "usage", col_json(res, row, 11), "created_at", PQgetvalue(res, row, 12),
	    "started_at", col_str(res, row, 13), "finished_at", col_str(res, row, 14),
	    "cancel_requested", PQgetvalue(res, row, 15)[0] == 't',
	    "links", "self", json_sprintf("/api/v1/runs/%s", id),
	    "events", json_sprintf("/api/v1/runs/%s/events", id),
	    "stream", json_sprintf("/api/v1/runs/%s/stream", id));
}

int
uuid_shaped(const char *s)
{
	size_t i;

	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i]))
			return 0;
	}
	return s[36] == '\0';
}

int
word_in(const char *s, const char *const *words, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, words[i]) == 0)
			return 1;
	return 0;
}

/* ------------------------------------------------------------ create */

struct create {
	const char	*agent, *idem;
	char		*input, *metadata;
	int		 priority;
	char		 hash[HASH_HEX_LEN + 1];
	json_t		*body;
	int		 replayed;
};

static enum sb_err
run_insert(struct sb_req *req, void *arg)
{
	/* The agent: the org's own first (a disabled one hides the global one too), and it
	 * must be enabled; its definition is kept with the run (agent_snapshot, sql/013). */
	static struct db_stmt	 ins = { "run_insert",
	    "INSERT INTO runs (org_id, agent_slug, agent, input, metadata, priority, "
	    "idempotency_key, request_hash, created_by_kind, created_by) "
	    "SELECT $1, a.slug, a.agent, "
	    "$3::jsonb, $4::jsonb, $5::smallint, NULLIF($6, ''), $7, $8, NULLIF($9, '0')::bigint "
	    "FROM agent_snapshot($2) a "
	    "ON CONFLICT (org_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING "
	    "RETURNING " RUN_COLUMNS, 9, 0 };
	static struct db_stmt	 again = { "run_by_idempotency_key",
	    "SELECT " RUN_COLUMNS ", request_hash FROM runs WHERE idempotency_key = $1", 1, 0 };
	struct create		*c = arg;
	char			 org[24], prio[8], who[24];
	const char		*p[9];
	enum sb_err		 err;
	PGresult		*res;

	snprintf(org, sizeof(org), "%lld", (long long)req->who.org_id);
	snprintf(prio, sizeof(prio), "%d", c->priority);
	p[0] = org;
	p[1] = c->agent;
	p[2] = c->input;
	p[3] = c->metadata;
	p[4] = prio;
	p[5] = c->idem != NULL ? c->idem : "";
	p[6] = c->hash;
	p[7] = req_creator(req, who);
	p[8] = who;
	if ((res = req_exec(req, &ins, p, &err)) == NULL)
		return err;
	if (PQntuples(res) == 1) {
		c->body = run_json(res, 0);
		return SB_OK;
	}
	if (c->idem == NULL)
		return SB_ERR_NOT_FOUND;		/* no such agent */
	/* The key was used before: the same run if the request is the same. */
	p[0] = c->idem;
	if ((res = req_exec(req, &again, p, &err)) == NULL)
		return err;
	if (PQntuples(res) != 1)
		return SB_ERR_NOT_FOUND;
	if (strcmp(PQgetvalue(res, 0, 16), c->hash) != 0)
		return SB_ERR_CONFLICT;
	c->body = run_json(res, 0);
	c->replayed = 1;
	return SB_OK;
}

enum sb_err
h_runs_create(struct sb_req *req)
{
	struct create	 c;
	json_t		*input = NULL, *meta = NULL;
	json_int_t	 prio = 0;
	const char	*idem = req_header(req, "Idempotency-Key");
	char		*canon;
	size_t		 i;
	enum sb_err	 err;

	memset(&c, 0, sizeof(c));
	if (json_unpack(req->json, "{s:s, s:o, s?o, s?I !}", "agent", &c.agent, "input", &input,
	    "metadata", &meta, "priority", &prio) != 0 || json_is_null(input))
		return req_fail(req, SB_ERR_INVALID, "invalid-body", "expected {\"agent\": string, "
		    "\"input\": any JSON but null, \"metadata\"?: object, \"priority\"?: integer}");
	if (meta != NULL && !json_is_object(meta))
		return req_fail(req, SB_ERR_UNPROCESSABLE, "invalid-metadata", "metadata is an object");
	if (prio < -10 || prio > 10)
		return req_fail(req, SB_ERR_UNPROCESSABLE, "invalid-priority",
		    "priority is from -10 (last) to 10 (first); 0 by default");
	if (idem != NULL) {
		for (i = 0; idem[i] != '\0'; i++)
			if (i >= 255 || idem[i] < 0x21 || idem[i] > 0x7e)
				return req_fail(req, SB_ERR_INVALID, "invalid-idempotency-key",
				    "Idempotency-Key is 1 to 255 printable characters without spaces");
		c.idem = i > 0 ? idem : NULL;
	}
	c.priority = (int)prio;
	c.input = arena_json(req->arena, input);
	c.metadata = meta != NULL ? arena_json(req->arena, meta) : "{}";
	/* The request, canonically: the same body in another key order is the same. */
	canon = json_dumps(req->json, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	arena_defer(req->arena, free, canon);
	token_hash(canon != NULL ? canon : "", c.hash);
	if ((err = org_tx(req, run_insert, &c)) == SB_ERR_NOT_FOUND)
		return req_fail(req, SB_ERR_UNPROCESSABLE, "unknown-agent",
		    arena_printf(req->arena, "no enabled agent \"%.64s\" for this org", c.agent));
	if (err == SB_ERR_CONFLICT)
		return req_fail(req, SB_ERR_UNPROCESSABLE, "idempotency-key-reused",
		    "this Idempotency-Key was used for a different request");
	if (err != SB_OK)
		return err;
	/* Committed: now the worker daemon may look.  NOTIFY inside the transaction
	 * would take a database-wide lock at every commit (LESSONS.md); a replay
	 * created nothing to wake for. */
	if (!c.replayed)
		queue_wake(req->app);
	/* No audit line: the run records who made it (created_by), and a second
	 * transaction per run halved the create rate (bench/create-run). */
	if (c.replayed)
		resp_header(req, "Idempotent-Replayed", "true");
	resp_header(req, "Location", "/api/v1/runs/%s", json_string_value(json_object_get(c.body, "id")));
	resp_json(req, 202, c.body);
	return SB_OK;
}

/* ------------------------------------------------------------ read */

struct one {
	const char	*id;
	json_t		*body;
};

/* Runs st with the run's id and keeps the run it returns (RUN_COLUMNS first). */
static enum sb_err
run_fetch(struct sb_req *req, struct db_stmt *st, struct one *o)
{
	const char	*p[1] = { o->id };

	return req_one(req, st, p, run_json, &o->body);
}

static enum sb_err
run_one(struct sb_req *req, void *arg)
{
	static struct db_stmt q = { "run_one", "SELECT " RUN_COLUMNS " FROM runs WHERE id = $1::uuid", 1, 0 };

	return run_fetch(req, &q, arg);
}

enum sb_err
with_id(struct sb_req *req, const char *what, const char **id,
    enum sb_err (*fn)(struct sb_req *, void *), void *arg)
{
	enum sb_err err;

	*id = req_path_param(req, "id");
	if (!uuid_shaped(*id))
		return req_fail(req, SB_ERR_NOT_FOUND, NULL, what);
	if ((err = org_tx(req, fn, arg)) == SB_ERR_NOT_FOUND)
		return req_fail(req, err, NULL, what);
	return err;
}

/* Runs fn on the run named by {id}; another org's run, or none, is 404. */
static enum sb_err
with_run(struct sb_req *req, enum sb_err (*fn)(struct sb_req *, void *), struct one *o)
{
	return with_id(req, "no such run", &o->id, fn, o);
}

enum sb_err
h_runs_get(struct sb_req *req)
{
	struct one	 o = { NULL, NULL };
	enum sb_err	 err;

	if ((err = with_run(req, run_one, &o)) != SB_OK)
		return err;
	resp_json(req, 200, o.body);
	return SB_OK;
}

static int	 iso8601_valid(const char *);

/* ?state, ?agent and ?since narrow the list ($3, $4, $5; absent: ''). */
enum sb_err
h_runs_list(struct sb_req *req)
{
	static struct db_stmt	 q = { "runs_page",
	    "SELECT " RUN_COLUMNS " FROM runs WHERE ($1 = 0 OR n < $1) "
	    "AND ($3 = '' OR state = $3) AND ($4 = '' OR agent_slug = $4) "
	    "AND ($5 = '' OR created_at >= $5::timestamptz) ORDER BY n DESC LIMIT $2", 5, 0 };
	static const char *const states[] = { "queued", "running", "waiting", "succeeded",
	    "failed", "cancelled" };
	const char		*state, *since, *filter[3];
	struct page_query	 page = { &q, run_json, filter, 3 };

	state = req_query(req, "state");
	if (state != NULL && !word_in(state, states, sizeof(states) / sizeof(states[0])))
		return req_fail(req, SB_ERR_INVALID, "bad-state",
		    "state is queued, running, waiting, succeeded, failed or cancelled");
	/* A timestamp PostgreSQL cannot read would be a 400 from the database: check it here. */
	if ((since = req_query(req, "since")) != NULL && !iso8601_valid(since))
		return req_fail(req, SB_ERR_INVALID, "bad-since",
		    "since is an ISO 8601 time, e.g. 2026-11-22T04:00:00Z");
	filter[0] = state;
	filter[1] = req_query(req, "agent");
	filter[2] = since;
	return page_answer(req, &page);
}

/* ------------------------------------------------------------ cancel */

static enum sb_err
run_cancel(struct sb_req *req, void *arg)
{
	/* Queued: cancelled now, with its terminal event.  Running: the worker is asked to
	 * stop.  Finished: nothing changes (sql/012_run_state.sql). */
	static struct db_stmt	 q = { "run_cancel",
	    "SELECT " RUN_COLUMNS " FROM run_cancel($1::uuid)", 1, 0 };

	/* The run's own event log records a cancellation: no audit line. */
	return run_fetch(req, &q, arg);
}

enum sb_err
h_runs_cancel(struct sb_req *req)
{
	struct one	 o = { NULL, NULL };
	enum sb_err	 err;

	if ((err = with_run(req, run_cancel, &o)) != SB_OK)
		return err;
	resp_json(req, 200, o.body);
	return SB_OK;
}

/* ------------------------------------------------------------ events */

/* Has the run ended (its terminal event is then written: the same transaction wrote
 * both)?  SB_ERR_NOT_FOUND when the caller cannot see it. */
static enum sb_err
run_finished(struct sb_req *req, const char *id, int *finished)
{
	static struct db_stmt	 q = { "run_finished",
	    "SELECT r.state IN ('succeeded', 'failed', 'cancelled') "
	    "FROM runs r WHERE r.id = $1::uuid", 1, 0 };
	const char		*p[1] = { id };
	PGresult		*res;
	enum sb_err		 err;

	if ((res = req_exec(req, &q, p, &err)) == NULL)
		return err;
	if (PQntuples(res) == 0)
		return SB_ERR_NOT_FOUND;
	*finished = PQgetvalue(res, 0, 0)[0] == 't';
	return SB_OK;
}

struct events {
	const char	*id;
	long long	 after;
	int		 limit;
	int		 finished;	/* the run has ended: nothing will follow its log */
	json_t		*items;		/* the request's arena holds them */
	long long	 next_after;	/* the last seq seen, or after when none came */
};

static enum sb_err
run_events(struct sb_req *req, void *arg)
{
	static struct db_stmt	 q = { "run_events_page",
	    "SELECT seq, type, data::text, attempt, " SQL_ISO_MS("created_at") " FROM run_events "
	    "WHERE run_id = $1::uuid AND seq > $2 ORDER BY seq LIMIT $3", 3, 0 };
	struct events		*ev = arg;
	char			 after[24], lim[16];
	const char		*p[3] = { ev->id, after, lim };
	enum sb_err		 err;
	PGresult		*res;
	int			 i;

	if ((err = run_finished(req, ev->id, &ev->finished)) != SB_OK)
		return err;
	snprintf(after, sizeof(after), "%lld", ev->after);
	snprintf(lim, sizeof(lim), "%d", ev->limit);
	if ((res = req_exec(req, &q, p, &err)) == NULL)
		return err;
	ev->items = arena_adopt_json(req->arena, json_array());
	ev->next_after = ev->after;
	for (i = 0; i < PQntuples(res); i++) {
		ev->next_after = atoll(PQgetvalue(res, i, 0));
		json_array_append_new(ev->items, json_pack("{s:I, s:s, s:o, s:i, s:s}",
		    "seq", (json_int_t)ev->next_after, "type", PQgetvalue(res, i, 1),
		    "data", json_loads(PQgetvalue(res, i, 2), 0, NULL),
		    "attempt", atoi(PQgetvalue(res, i, 3)), "created_at", PQgetvalue(res, i, 4)));
	}
	return SB_OK;
}

/* Does s start with shape ('d' a digit, anything else itself)? */
static int
digits_at(const char *s, const char *shape)
{
	for (; *shape != '\0'; s++, shape++)
		if (*shape == 'd' ? !isdigit((unsigned char)*s) : *s != *shape)
			return 0;
	return 1;
}

/* "YYYY-MM-DD", then optionally "THH:MM[:SS[.fff]]" and "Z" or "+HH:MM": a real date
 * and time of years 1 to 9999, as PostgreSQL reads it. */
static int
iso8601_valid(const char *s)
{
	static const int days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int		 y, mo, d, h = 0, mi = 0, sec = 0, n = 0, zh, zm, leap;
	const char	*p;

	if (strlen(s) > 40 || !digits_at(s, "dddd-dd-dd") ||
	    sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10 ||
	    y < 1 || mo < 1 || mo > 12 || d < 1)
		return 0;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > days[mo - 1] || (mo == 2 && d == 29 && !leap))
		return 0;
	p = s + 10;
	if (*p == '\0')
		return 1;
	if (*p != 'T' && *p != ' ')
		return 0;
	if (!digits_at(p + 1, "dd:dd") || sscanf(p + 1, "%2d:%2d%n", &h, &mi, &n) != 2 ||
	    h > 23 || mi > 59)
		return 0;
	p += 6;
	if (*p == ':') {
		if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]))
			return 0;
		sec = (p[1] - '0') * 10 + (p[2] - '0');
		if (sec > 60)
			return 0;
		p += 3;
		if (*p == '.') {
			for (p++, n = 0; isdigit((unsigned char)*p); p++)
				n++;
			if (n == 0 || n > 9)
				return 0;
		}
	}
	if (*p == 'Z')
		return p[1] == '\0';
	if (*p == '+' || *p == '-')
		return digits_at(p + 1, "dd:dd") && p[6] == '\0' &&
		    sscanf(p + 1, "%2d:%2d", &zh, &zm) == 2 && zh <= 14 && zm <= 59;
	return *p == '\0';
}

/* A non-negative integer parameter: 0 with *v set, -1 if malformed. */
static int
nonneg(const char *s, long long max, long long *v)
{
	char *end;

	if (s == NULL || *s == '\0' || !isdigit((unsigned char)*s))
		return -1;
	*v = strtoll(s, &end, 10);
	return *end == '\0' && *v >= 0 && *v <= max ? 0 : -1;
}

enum sb_err
h_runs_events(struct sb_req *req)
{
	struct events	 ev;
	const char	*a = req_query(req, "after"), *w = req_query(req, "wait");
	long long	 wait = 0;
	int64_t		 unused;
	enum sb_err	 err;

	memset(&ev, 0, sizeof(ev));
	ev.id = req_path_param(req, "id");
	if (!uuid_shaped(ev.id))
		return req_fail(req, SB_ERR_NOT_FOUND, NULL, "no such run");
	if (a != NULL && nonneg(a, INT32_MAX, &ev.after) < 0)
		return req_fail(req, SB_ERR_INVALID, "bad-after",
		    "after is the seq of the last event seen (0 for all)");
	if (w != NULL && nonneg(w, req->app->cfg.stream.longpoll_max, &wait) < 0)
		return req_fail(req, SB_ERR_INVALID, "bad-wait", arena_printf(req->arena,
		    "wait is a number of seconds from 0 to %d", req->app->cfg.stream.longpoll_max));
	if ((err = req_page(req, &ev.limit, &unused)) != SB_OK)
		return err;
	if ((err = org_tx(req, run_events, &ev)) == SB_ERR_NOT_FOUND)
		return req_fail(req, err, NULL, "no such run");
	if (err != SB_OK)
		return err;
	/* A long poll that found nothing waits in switchboard-stream; switchboard-fcgi
	 * (where the web server sends requests without wait=) answers at once. */
	if (wait > 0 && req->app->stream != NULL && !ev.finished && json_array_size(ev.items) == 0)
		return req->app->stream->run_wait(req, ev.id, ev.after, (int)wait, ev.limit);
	/* next_after: where to continue; finished: the run has ended, so once items is
	 * empty there is nothing more. */
	resp_json(req, 200, json_pack("{s:O, s:I, s:b}", "items", ev.items,
	    "next_after", (json_int_t)ev.next_after, "finished", ev.finished));
	return SB_OK;
}

/* ------------------------------------------------------------ stream */

enum sb_err
h_runs_stream(struct sb_req *req)
{
	const char	*id = req_path_param(req, "id");
	const char	*last = req_header(req, "Last-Event-ID"), *a = req_query(req, "after");
	long long	 after = 0;

	if (!uuid_shaped(id))
		return req_fail(req, SB_ERR_NOT_FOUND, NULL, "no such run");
	/* A reconnecting EventSource sends Last-Event-ID with the URL it first used: the
	 * header is the newer cursor. */
	if (last != NULL && *last != '\0') {
		if (nonneg(last, INT32_MAX, &after) < 0)
			return req_fail(req, SB_ERR_INVALID, "bad-last-event-id",
			    "Last-Event-ID is the id (seq) of the last event received");
	} else if (a != NULL && nonneg(a, INT32_MAX, &after) < 0)
		return req_fail(req, SB_ERR_INVALID, "bad-after",
		    "after is the seq of the last event seen (0 for all)");
	return req->app->stream->run_stream(req, id, after);
}
