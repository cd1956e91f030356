/* kb.c: the org knowledge base: POST/GET /api/v1/kb/documents (the list, or with ?q=
 * the chunks a search finds, ranked as the worker's kb_search tool ranks them), and
 * GET/DELETE one document.  Cutting into chunks is core/chunk.c's; adding, the caps
 * and ranking are sql/016_kb.sql's. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "handlers/handlers.h"
#include "core/arena.h"
#include "core/chunk.h"
#include "core/db.h"
#include "core/err.h"
#include "core/json.h"
#include "fcgi-app/access.h"
#include "fcgi-app/page.h"
#include "fcgi-app/request.h"
#include "fcgi-app/response.h"

#define TITLE_MAX	200		/* bytes; sql/016_kb.sql checks characters */
#define CONTENT_MAX	(256 * 1024)	/* bytes of one document, as sql/016_kb.sql checks */
#define QUERY_MAX	1000		/* bytes of ?q= */
#define RESULTS_MAX	20		/* kb_search gives at most as many */
#define RESULTS_DEFAULT	10

/* The columns doc_json() reads, in its order; n (the cursor) first.  DOC_FULL adds the
 * content (column 10). */
#define DOC_COLUMNS "n, id, title, format, bytes, chunks, metadata::text, created_by_kind, " \
	"created_by, " SQL_ISO_MS("created_at")
#define DOC_FULL DOC_COLUMNS ", content"

static json_t *
doc_json(PGresult *res, int row)
{
	const char *id = PQgetvalue(res, row, 1);

	return json_pack("{s:s, s:s, s:s, s:i, s:i, s:o, s:{s:s, s:o}, s:s, s:{s:o}}",
	    "id", id, "title", PQgetvalue(res, row, 2), "format", PQgetvalue(res, row, 3),
	    "bytes", atoi(PQgetvalue(res, row, 4)), "chunks", atoi(PQgetvalue(res, row, 5)),
	    "metadata", json_loads(PQgetvalue(res, row, 6), 0, NULL),
	    "created_by", "kind", PQgetvalue(res, row, 7), "id", PQgetisnull(res, row, 8) ?
	    json_null() : json_integer(atoll(PQgetvalue(res, row, 8))),
	    "created_at", PQgetvalue(res, row, 9),
	    "links", "self", json_sprintf("/api/v1/kb/documents/%s", id));
}

static json_t *
doc_full_json(PGresult *res, int row)
{
	json_t *d = doc_json(res, row);

	json_object_set_new(d, "content",
	    json_text(PQgetvalue(res, row, 10), (size_t)PQgetlength(res, row, 10)));
	return d;
}

/* ------------------------------------------------------------ create */

struct create {
	const char	*title, *format, *content;
	char		*metadata, *chunks;
	const char	*outcome;	/* kb_document_add's, in the arena */
	json_t		*body;
};

/* Reads and checks the body; on failure the problem is set. */
static enum sb_err
create_read(struct sb_req *req, struct create *c)
{
	json_t	*title, *content, *format = NULL, *meta = NULL, *chunks;
	size_t	 n;

	if (!json_is_object(req->json) || json_unpack(req->json, "{s:o, s:o, s?o, s?o !}",
	    "title", &title, "content", &content, "format", &format, "metadata", &meta) != 0)
		return req_fail(req, SB_ERR_INVALID, "invalid-body", "expected {\"title\": string, "
		    "\"content\": string, \"format\"?: \"text\" or \"markdown\", \"metadata\"?: object}");
	if (!json_is_string(title) || json_string_length(title) == 0 ||
	    json_string_length(title) > TITLE_MAX)
		return req_fail(req, SB_ERR_UNPROCESSABLE, "invalid-title",
		    "title is a string of 1 to 200 bytes");
	if (!json_is_string(content) || json_string_length(content) == 0)
		return req_fail(req, SB_ERR_UNPROCESSABLE, "invalid-content",
		    "content is the document's text: a string of 1 to 262144 bytes");
	if ((n = json_string_length(content)) > CONTENT_MAX)
		return req_fail(req, SB_ERR_TOO_LARGE, "document-too-large",
		    arena_printf(req->arena, "content is %zu bytes; a document is at most %d", n,
		    CONTENT_MAX));
	c->format = format == NULL ? "text" : json_string_value(format);
	if (c->format == NULL || (strcmp(c->format, "text") != 0 &&
	    strcmp(c->format, "markdown") != 0))
		return req_fail(req, SB_ERR_UNPROCESSABLE, "invalid-format",
		    "format is \"text\" (the default) or \"markdown\"");
	if (meta != NULL && !json_is_object(meta))
		return req_fail(req, SB_ERR_UNPROCESSABLE, "invalid-metadata", "metadata is an object");
	c->title = json_string_value(title);
	c->content = json_string_value(content);
	c->metadata = meta != NULL ? arena_json(req->arena, meta) : "{}";
	chunks = arena_adopt_json(req->arena,
	    chunk_json(c->content, n, strcmp(c->format, "markdown") == 0));
	if (json_array_size(chunks) == 0)
		return req_fail(req, SB_ERR_UNPROCESSABLE, "invalid-content",
		    "content holds nothing but white space");
	c->chunks = arena_json(req->arena, chunks);
	return SB_OK;
}

static enum sb_err
doc_insert(struct sb_req *req, void *arg)
{
	static struct db_stmt	 add = { "kb_document_add",
	    "SELECT outcome, id FROM kb_document_add(current_org_id(), $1, $2, $3, $4::jsonb, "
	    "$5::jsonb, $6, NULLIF($7, '0')::bigint, false)", 7, 0 };
	static struct db_stmt	 one = { "kb_document_made",
	    "SELECT " DOC_COLUMNS " FROM kb_documents WHERE id = $1::uuid", 1, 0 };
	struct create		*c = arg;
	char			 who[24];
	const char		*p[7];
	enum sb_err		 err;
	PGresult		*res;

	p[0] = c->title;
	p[1] = c->format;
	p[2] = c->content;
	p[3] = c->metadata;
	p[4] = c->chunks;
	p[5] = req_creator(req, who);
	p[6] = who;
	if ((res = req_exec(req, &add, p, &err)) == NULL)
		return err;
	c->outcome = arena_strdup(req->arena, PQgetvalue(res, 0, 0));
	if (strcmp(c->outcome, "created") != 0)
		return SB_ERR_CONFLICT;		/* the caller says which */
	p[0] = PQgetvalue(res, 0, 1);
	return req_one(req, &one, p, doc_json, &c->body);
}

enum sb_err
h_kb_create(struct sb_req *req)
{
	struct create	 c;
	enum sb_err	 err;
	const char	*id;

	memset(&c, 0, sizeof(c));
	if ((err = create_read(req, &c)) != SB_OK)
		return err;
	err = org_tx(req, doc_insert, &c);
	if (err == SB_ERR_CONFLICT && strcmp(c.outcome, "too-many-documents") == 0)
		return req_fail(req, SB_ERR_CONFLICT, "too-many-documents", "the org's knowledge "
		    "base holds 1000 documents, its most; delete one first");
	if (err == SB_ERR_CONFLICT)
		return req_fail(req, SB_ERR_TOO_LARGE, "kb-too-large", "the org's knowledge base "
		    "would pass 64 MiB (67108864 bytes) of content; delete documents first");
	if (err != SB_OK)
		return err;
	id = json_string_value(json_object_get(c.body, "id"));
	audit(req, "kb_document.created", id, json_pack("{s:s, s:O, s:O}", "title", c.title,
	    "bytes", json_object_get(c.body, "bytes"), "chunks", json_object_get(c.body, "chunks")));
	resp_header(req, "Location", "/api/v1/kb/documents/%s", id);
	resp_json(req, 201, c.body);
	return SB_OK;
}

/* ------------------------------------------------------------ list, search */

static json_t *
hit_json(PGresult *res, int row)
{
	const char *id = PQgetvalue(res, row, 0);

	return json_pack("{s:s, s:s, s:i, s:o, s:f, s:{s:o}}",
	    "document_id", id, "title", PQgetvalue(res, row, 1),
	    "chunk", atoi(PQgetvalue(res, row, 2)),
	    "content", json_text(PQgetvalue(res, row, 3), (size_t)PQgetlength(res, row, 3)),
	    "rank", atof(PQgetvalue(res, row, 4)),
	    "links", "document", json_sprintf("/api/v1/kb/documents/%s", id));
}

struct search {
	const char	*q;
	char		 limit[16];
	json_t		*items;
};

static enum sb_err
search_run(struct sb_req *req, void *arg)
{
	/* The org is the caller's: kb_search is the worker's, across orgs. */
	static struct db_stmt	 q = { "kb_search",
	    "SELECT document_id, title, chunk, content, rank "
	    "FROM kb_search(current_org_id(), $1, $2::integer)", 2, 0 };
	struct search		*s = arg;
	const char		*p[2] = { s->q, s->limit };
	enum sb_err		 err;
	PGresult		*res;
	int			 row;

	if ((res = req_exec(req, &q, p, &err)) == NULL)
		return err;
	s->items = json_array();
	for (row = 0; row < PQntuples(res); row++)
		json_array_append_new(s->items, hit_json(res, row));
	return SB_OK;
}

/* GET /api/v1/kb/documents?q=: the chunks kb_search finds, best first, in one page. */
static enum sb_err
kb_search_answer(struct sb_req *req, const char *q)
{
	const char	*l = req_query(req, "limit");
	struct search	 s;
	char		*end;
	long		 v = RESULTS_DEFAULT;
	enum sb_err	 err;

	memset(&s, 0, sizeof(s));
	if (strlen(q) > QUERY_MAX)
		return req_fail(req, SB_ERR_INVALID, "bad-q", "q is a search of at most 1000 bytes");
	if (l != NULL && ((v = strtol(l, &end, 10)) < 1 || v > RESULTS_MAX || *l == '\0' ||
	    *end != '\0'))
		return req_fail(req, SB_ERR_INVALID, "bad-limit",
		    "with q, limit must be from 1 to 20");
	if (req_query(req, "cursor") != NULL)
		return req_fail(req, SB_ERR_INVALID, "bad-cursor",
		    "search results come in one page: no cursor");
	s.q = q;
	snprintf(s.limit, sizeof(s.limit), "%ld", v);
	if ((err = org_tx(req, search_run, &s)) != SB_OK) {
		json_decref(s.items);
		return err;
	}
	resp_json(req, 200, json_pack("{s:o, s:n}", "items", s.items, "next_cursor"));
	return SB_OK;
}

enum sb_err
h_kb_list(struct sb_req *req)
{
	static struct db_stmt	 q = { "kb_documents_page",
	    "SELECT " DOC_COLUMNS " FROM kb_documents WHERE ($1 = 0 OR n < $1) "
	    "ORDER BY n DESC LIMIT $2", 2, 0 };
	struct page_query	 page = { &q, doc_json, NULL, 0 };
	const char		*search = req_query(req, "q");

	if (search != NULL)
		return kb_search_answer(req, search);
	return page_answer(req, &page);
}

/* ------------------------------------------------------------ one */

struct one {
	const char	*id;
	json_t		*body;
};

static enum sb_err
doc_one(struct sb_req *req, void *arg)
{
	static struct db_stmt	 q = { "kb_document_one",
	    "SELECT " DOC_FULL " FROM kb_documents WHERE id = $1::uuid", 1, 0 };
	struct one		*o = arg;
	const char		*p[1] = { o->id };

	return req_one(req, &q, p, doc_full_json, &o->body);
}

enum sb_err
h_kb_get(struct sb_req *req)
{
	struct one	 o = { NULL, NULL };
	enum sb_err	 err;

	if ((err = with_id(req, "no such document", &o.id, doc_one, &o)) != SB_OK) {
		json_decref(o.body);	/* read, but the transaction failed */
		return err;
	}
	resp_json(req, 200, o.body);
	return SB_OK;
}

static enum sb_err
doc_delete(struct sb_req *req, void *arg)
{
	/* Its chunks go with it (ON DELETE CASCADE). */
	static struct db_stmt	 del = { "kb_document_delete",
	    "DELETE FROM kb_documents WHERE id = $1::uuid", 1, 0 };
	struct one		*o = arg;
	const char		*p[1] = { o->id };
	enum sb_err		 err;
	PGresult		*res;

	if ((res = req_exec(req, &del, p, &err)) == NULL)
		return err;
	return atoi(PQcmdTuples(res)) == 1 ? SB_OK : SB_ERR_NOT_FOUND;
}

enum sb_err
h_kb_delete(struct sb_req *req)
{
	struct one	 o = { NULL, NULL };
	enum sb_err	 err;

	if ((err = with_id(req, "no such document", &o.id, doc_delete, &o)) != SB_OK)
		return err;
	audit(req, "kb_document.deleted", o.id, NULL);
	resp_send(req, 204, NULL, NULL, 0);
	return SB_OK;
}
