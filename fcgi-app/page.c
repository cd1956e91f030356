/* page.c: one page of a list route: ?limit and ?cursor read and checked, the page's
 * rows read in the caller's org, and {"items", "next_cursor"} answered. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/db.h"
#include "core/err.h"
#include "fcgi-app/access.h"
#include "fcgi-app/page.h"
#include "fcgi-app/request.h"
#include "fcgi-app/response.h"

enum sb_err
req_page(struct sb_req *req, int *limit, int64_t *cursor)
{
	const char	*l = req_query(req, "limit"), *c = req_query(req, "cursor");
	char		*end;
	long long	 v;

	*limit = 50;
	*cursor = 0;
	if (l != NULL) {
		v = strtoll(l, &end, 10);
		if (*l == '\0' || *end != '\0' || v < 1 || v > 200)
			return req_fail(req, SB_ERR_INVALID, "bad-limit", "limit must be from 1 to 200");
		*limit = (int)v;
	}
	if (c != NULL) {
		errno = 0;
		v = strtoll(c, &end, 10);
		if (*c == '\0' || *end != '\0' || v < 1 || errno == ERANGE || v == LLONG_MAX)
			return req_fail(req, SB_ERR_INVALID, "bad-cursor",
			    "cursor must be a next_cursor from a previous page");
		*cursor = v;
	}
	return SB_OK;
}

struct page_call {
	const struct page_query	*q;
	int			 limit;
	int64_t			 cursor;
	json_t			*body;
};

/* In the caller's org: q's statement for limit + 1 rows after the cursor, and the body. */
static enum sb_err
page_fetch(struct sb_req *req, void *arg)
{
	struct page_call	*c = arg;
	const char		*p[2 + PAGE_EXTRA_MAX];
	char			 cur[24], lim[16];
	json_t			*items;
	enum sb_err		 err;
	PGresult		*res;
	size_t			 i;
	int			 row, n;

	snprintf(cur, sizeof(cur), "%lld", (long long)c->cursor);
	snprintf(lim, sizeof(lim), "%d", c->limit + 1);
	p[0] = cur;
	p[1] = lim;
	for (i = 0; i < c->q->nextra && i < PAGE_EXTRA_MAX; i++)
		p[2 + i] = c->q->extra[i] != NULL ? c->q->extra[i] : "";
	if ((res = req_exec(req, c->q->stmt, p, &err)) == NULL)
		return err;
	n = PQntuples(res) > c->limit ? c->limit : PQntuples(res);
	items = json_array();
	for (row = 0; row < n; row++)
		json_array_append_new(items, c->q->item(res, row));
	/* The extra row only says there is more: the last row shown is where it starts. */
	c->body = json_pack("{s:o, s:o}", "items", items, "next_cursor",
	    PQntuples(res) > c->limit ? json_string(PQgetvalue(res, c->limit - 1, 0)) : json_null());
	return SB_OK;
}

enum sb_err
page_answer(struct sb_req *req, const struct page_query *q)
{
	struct page_call	 c = { q, 0, 0, NULL };
	enum sb_err		 err;

	if ((err = req_page(req, &c.limit, &c.cursor)) != SB_OK ||
	    (err = org_tx(req, page_fetch, &c)) != SB_OK)
		return err;
	resp_json(req, 200, c.body);
	return SB_OK;
}
