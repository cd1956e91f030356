/* page.h: one page of a list route: ?limit and ?cursor in, items and next_cursor
 * out. */
#ifndef SB_FCGI_APP_PAGE_H
#define SB_FCGI_APP_PAGE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <libpq-fe.h>
#include "core/db.h"
#include "core/err.h"
#include "fcgi-app/request.h"

/* ?limit= (1..200, default 50) and ?cursor= (an id from a previous page's
 * next_cursor); a bad value prepares a 400 problem. */
enum sb_err	 req_page(struct sb_req *, int *limit, int64_t *cursor);

/* A list route's page.  stmt's parameters are $1 the cursor (0: from the start),
 * $2 how many rows (limit + 1: the extra one says there is more), then extra[]
 * (NULL as ''); its column 0 is the cursor, and its rows are newest first. */
#define PAGE_EXTRA_MAX 6
struct page_query {
	struct db_stmt	*stmt;
	json_t		*(*item)(PGresult *, int row);	/* one row as the API shows it */
	const char	*const *extra;
	size_t		 nextra;
};
/* Reads ?limit/?cursor (400 bad-limit, bad-cursor), runs q in the caller's org and
 * answers 200 {"items": [...], "next_cursor": the last item's cursor or null}. */
enum sb_err	 page_answer(struct sb_req *, const struct page_query *q);

#endif /* SB_FCGI_APP_PAGE_H */
