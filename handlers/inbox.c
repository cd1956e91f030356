/* inbox.c: people in the loop: GET /api/v1/inbox, GET one item, and POST its answer
 * (sql/015_inbox.sql records it and queues the waiting run again). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "handlers/handlers.h"
#include "core/arena.h"
#include "core/db.h"
#include "core/err.h"
#include "core/json.h"
#include "fcgi-app/access.h"
#include "fcgi-app/page.h"
#include "fcgi-app/request.h"
#include "fcgi-app/response.h"
#include "fcgi-app/wake.h"

#define ANSWER_MAX	(64 * 1024)	/* bytes; sql/014_steps.sql allows as many characters */
#define NOTE_MAX	8000

/* The columns item_json() reads, in its order; n (the cursor) first. */
#define ITEM_COLUMNS "n, id, kind, state, question, call::text, run_id, thread_id, call_id, " \
	"answer, approved, note, answered_by_kind, answered_by, " SQL_ISO_MS("created_at") ", " \
	SQL_ISO_MS("expires_at") ", " SQL_ISO_MS("answered_at")

/* Who answered: {"kind", "id"} (id null for a bearer token), or null. */
static json_t *
answerer_json(PGresult *res, int row)
{
	if (PQgetisnull(res, row, 12))
		return json_null();
	return json_pack("{s:s, s:o}", "kind", PQgetvalue(res, row, 12), "id",
	    PQgetisnull(res, row, 13) ? json_null() : json_integer(atoll(PQgetvalue(res, row, 13))));
}

/* A text column that may hold a model's or a person's words (null when NULL). */
static json_t *
col_text(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? json_null() :
	    json_text(PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col));
}

static json_t *
item_json(PGresult *res, int row)
{
	const char	*id = PQgetvalue(res, row, 1), *run = PQgetvalue(res, row, 6);
	int		 question = strcmp(PQgetvalue(res, row, 2), "question") == 0;

	/* A question has "question", an approval "call": never both. */
	return json_pack("{s:s, s:s, s:s, s:o*, s:o*, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:s, "
	    "s:s, s:o, s:{s:o, s:o, s:o}}",
	    "id", id, "kind", PQgetvalue(res, row, 2), "state", PQgetvalue(res, row, 3),
	    "question", question ? col_text(res, row, 4) : NULL,
	    "call", question ? NULL : col_json(res, row, 5),
	    "run", run, "thread", col_str(res, row, 7), "call_id", PQgetvalue(res, row, 8),
	    "answer", col_text(res, row, 9),
	    "approved", PQgetisnull(res, row, 10) ? json_null() :
	    json_boolean(PQgetvalue(res, row, 10)[0] == 't'),
	    "note", col_text(res, row, 11), "answered_by", answerer_json(res, row),
	    "created_at", PQgetvalue(res, row, 14), "expires_at", PQgetvalue(res, row, 15),
	    "answered_at", col_str(res, row, 16),
	    "links", "self", json_sprintf("/api/v1/inbox/%s", id),
	    "answer", json_sprintf("/api/v1/inbox/%s/answer", id),
	    "run", json_sprintf("/api/v1/runs/%s", run));
}

/* ------------------------------------------------------------ list, one */

/* ?state, ?run and ?thread narrow the list ($3, $4, $5; absent: ''). */
enum sb_err
h_inbox_list(struct sb_req *req)
{
	static struct db_stmt	 q = { "inbox_page",
	    "SELECT " ITEM_COLUMNS " FROM inbox_items WHERE ($1 = 0 OR n < $1) "
	    "AND ($3 = '' OR state = $3) AND ($4 = '' OR run_id = NULLIF($4, '')::uuid) "
	    "AND ($5 = '' OR thread_id = NULLIF($5, '')::uuid) ORDER BY n DESC LIMIT $2", 5, 0 };
	static const char *const states[] = { "open", "answered", "expired", "cancelled" };
	const char		*state, *filter[3];
	struct page_query	 page = { &q, item_json, filter, 3 };

	state = req_query(req, "state");
	if (state != NULL && !word_in(state, states, sizeof(states) / sizeof(states[0])))
		return req_fail(req, SB_ERR_INVALID, "bad-state",
		    "state is open, answered, expired or cancelled");
	filter[0] = state;
	filter[1] = req_query(req, "run");
	filter[2] = req_query(req, "thread");
	if (filter[1] != NULL && !uuid_shaped(filter[1]))
		return req_fail(req, SB_ERR_INVALID, "bad-run", "run is the id of a run (a UUID)");
	if (filter[2] != NULL && !uuid_shaped(filter[2]))
		return req_fail(req, SB_ERR_INVALID, "bad-thread",
		    "thread is the id of a thread (a UUID)");
	return page_answer(req, &page);
}

struct one {
	const char		*id;
	struct inbox_reply	 reply;
	const char		*outcome, *kind, *state, *run;	/* inbox_answer's; the arena's */
	json_t			*body;
};

static enum sb_err
item_one(struct sb_req *req, void *arg)
{
	static struct db_stmt	 q = { "inbox_one",
	    "SELECT " ITEM_COLUMNS " FROM inbox_items WHERE id = $1::uuid", 1, 0 };
	struct one		*o = arg;
	const char		*p[1] = { o->id };

	return req_one(req, &q, p, item_json, &o->body);
}

enum sb_err
h_inbox_get(struct sb_req *req)
{
	struct one	 o;
	enum sb_err	 err;

	memset(&o, 0, sizeof(o));
	if ((err = with_id(req, "no such inbox item", &o.id, item_one, &o)) != SB_OK) {
		json_decref(o.body);	/* read, but the transaction failed */
		return err;
	}
	resp_json(req, 200, o.body);
	return SB_OK;
}

/* ------------------------------------------------------------ answer */

enum sb_err
inbox_reply_read(json_t *body, struct inbox_reply *r, const char **slug, const char **detail)
{
	json_t	*answer = NULL, *approve = NULL, *note = NULL;

	memset(r, 0, sizeof(*r));
	r->approve = -1;
	*slug = "invalid-body";
	*detail = "expected {\"answer\": string} for a question, or {\"approve\": true or false, "
	    "\"note\"?: string} for an approval";
	if (!json_is_object(body) || json_unpack(body, "{s?o, s?o, s?o !}",
	    "answer", &answer, "approve", &approve, "note", &note) != 0 ||
	    (answer == NULL) == (approve == NULL) ||
	    (answer != NULL && (!json_is_string(answer) || note != NULL)) ||
	    (approve != NULL && !json_is_boolean(approve)) ||
	    (note != NULL && !json_is_string(note)))
		return SB_ERR_INVALID;
	if (answer != NULL) {
		r->answer = json_string_value(answer);
		if (json_string_length(answer) == 0 || json_string_length(answer) > ANSWER_MAX) {
			*slug = "invalid-answer";
			*detail = "answer is a string of 1 to 65536 bytes";
			return SB_ERR_UNPROCESSABLE;
		}
		return SB_OK;
	}
	r->approve = json_is_true(approve);
	if (note != NULL) {
		r->note = json_string_value(note);
		if (json_string_length(note) > NOTE_MAX) {
			*slug = "invalid-note";
			*detail = "note is a string of at most 8000 bytes";
			return SB_ERR_UNPROCESSABLE;
		}
	}
	return SB_OK;
}

/* In the caller's org: inbox_answer, then the item as it is now.  An outcome other
 * than "answered" rolls back (nothing was changed) with the error that tells it. */
static enum sb_err
item_answer(struct sb_req *req, void *arg)
{
	static struct db_stmt	 q = { "inbox_answer",
	    "SELECT outcome, item->>'kind', item->>'state', item->>'run_id' "
	    "FROM inbox_answer($1::uuid, $2, $3::boolean, $4, $5, NULLIF($6, '0')::bigint)", 6, 0 };
	struct one		*o = arg;
	char			 who[24];
	const char		*p[6];
	enum sb_err		 err;
	PGresult		*res;

	p[0] = o->id;
	p[1] = o->reply.answer;
	p[2] = o->reply.approve < 0 ? NULL : o->reply.approve ? "true" : "false";
	p[3] = o->reply.note;
	p[4] = req_creator(req, who);
	p[5] = who;
	if ((res = req_exec(req, &q, p, &err)) == NULL)
		return err;
	o->outcome = arena_strdup(req->arena, PQgetvalue(res, 0, 0));
	if (strcmp(o->outcome, "no-item") == 0)
		return SB_ERR_NOT_FOUND;
	o->kind = arena_strdup(req->arena, PQgetvalue(res, 0, 1));
	o->state = arena_strdup(req->arena, PQgetvalue(res, 0, 2));
	o->run = arena_strdup(req->arena, PQgetvalue(res, 0, 3));
	if (strcmp(o->outcome, "closed") == 0)
		return SB_ERR_CONFLICT;
	if (strcmp(o->outcome, "wrong-kind") == 0)
		return SB_ERR_UNPROCESSABLE;
	return item_one(req, o);
}

enum sb_err
h_inbox_answer(struct sb_req *req)
{
	struct one	 o;
	const char	*slug, *detail;
	enum sb_err	 err;

	memset(&o, 0, sizeof(o));
	if ((err = inbox_reply_read(req->json, &o.reply, &slug, &detail)) != SB_OK)
		return req_fail(req, err, slug, detail);
	err = with_id(req, "no such inbox item", &o.id, item_answer, &o);
	if (err == SB_ERR_CONFLICT)
		return req_fail(req, err, "inbox-closed", arena_printf(req->arena,
		    "the item is %s, no longer open", o.state));
	if (err == SB_ERR_UNPROCESSABLE)
		return req_fail(req, err, "wrong-kind", strcmp(o.kind, "question") == 0 ?
		    "the item is a question: send {\"answer\": string}" :
		    "the item is an approval: send {\"approve\": true or false, \"note\"?: string}");
	if (err != SB_OK) {
		json_decref(o.body);	/* answered, but the commit failed */
		return err;
	}
	/* Committed: the run is queued again, and a worker may claim it at once. */
	queue_wake(req->app);
	audit(req, "inbox.answered", o.id, json_pack("{s:s, s:s, s:o*}", "run", o.run, "kind",
	    o.kind, "approved", o.reply.approve < 0 ? NULL : json_boolean(o.reply.approve)));
	resp_json(req, 200, o.body);
	return SB_OK;
}
