/* dbq.c: statements on a connection of their own, pipelined: each is sent
 * with its own sync point, so one that fails ends alone, and the results come back in
 * the order sent: its result(s), NULL, then PGRES_PIPELINE_SYNC. */
#include "config.h"

#include <sys/queue.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "core/arena.h"
#include "core/db.h"
#include "core/log.h"
#include "core/dbq.h"

struct dbq_req {
	TAILQ_ENTRY(dbq_req)	 link;
	dbq_done_fn		*done;		/* NULL: cancelled, the result is dropped */
	void			*arg;
	PGresult		*res;		/* its first result, until its sync arrives */
};

TAILQ_HEAD(dbq_reqs, dbq_req);

struct dbq {
	struct sb_db	 db;		/* the connection and its reconnect backoff */
	struct dbq_reqs	 sent;		/* oldest first: results come in this order */
	int		 nsent;
	int		 want_write;	/* libpq holds bytes the socket did not take */
	uint64_t	 total, failed, connects;
	const char	*name;
};

struct dbq *
dbq_new(const char *name, const char *url, int connect_timeout, int statement_timeout_ms)
{
	struct dbq *q = sb_calloc(1, sizeof(*q));

	q->name = name;
	db_init(&q->db, url, connect_timeout, statement_timeout_ms);
	TAILQ_INIT(&q->sent);
	return q;
}

static void
req_end(struct dbq *q, struct dbq_req *r, const PGresult *res, const char *err)
{
	TAILQ_REMOVE(&q->sent, r, link);
	q->nsent--;
	if (res == NULL)
		q->failed++;
	if (r->done != NULL)
		r->done(r->arg, res, err);
	PQclear(r->res);
	free(r);
}

/* The connection is lost: every statement in flight ends without a result, and the
 * next one sent connects again (no more than once a second: db_ensure). */
static void
drop(struct dbq *q, const char *why)
{
	char	 err[256], *nl;

	snprintf(err, sizeof(err), "%s", why);
	if ((nl = strchr(err, '\n')) != NULL)
		*nl = '\0';
	log_warn("database connection lost", "{s:s, s:s, s:i}", "for", q->name,
	    "error", err, "statements", q->nsent);
	PQfinish(q->db.conn);
	q->db.conn = NULL;
	q->want_write = 0;
	while (!TAILQ_EMPTY(&q->sent))
		req_end(q, TAILQ_FIRST(&q->sent), NULL, err);
}

void
dbq_free(struct dbq *q)
{
	struct dbq_req *r;

	if (q == NULL)
		return;
	while ((r = TAILQ_FIRST(&q->sent)) != NULL) {
		r->done = NULL;
		req_end(q, r, NULL, "stopping");
	}
	db_close(&q->db);
	free(q);
}

static int
connected(struct dbq *q, char *err, size_t errlen)
{
	if (q->db.conn != NULL)
		return 1;
	if (db_ensure(&q->db) != SB_OK) {
		snprintf(err, errlen, "the database is unreachable: %s", q->db.last_error);
		return 0;
	}
	if (PQsetnonblocking(q->db.conn, 1) != 0 || PQenterPipelineMode(q->db.conn) != 1) {
		snprintf(err, errlen, "the database connection cannot pipeline: %s",
		    PQerrorMessage(q->db.conn));
		PQfinish(q->db.conn);
		q->db.conn = NULL;
		return 0;
	}
	q->connects++;
	return 1;
}

/* Hands libpq's buffered bytes to the socket: 0, or -1 when the connection broke. */
static int
flush(struct dbq *q)
{
	int rc = PQflush(q->db.conn);

	q->want_write = rc == 1;
	return rc < 0 ? -1 : 0;
}

struct dbq_req *
dbq_send(struct dbq *q, const char *sql, int nparams, const char *const *params,
    dbq_done_fn *done, void *arg, char *err, size_t errlen)
{
	struct dbq_req *r;

	if (!connected(q, err, errlen))
		return NULL;
	if (PQsendQueryParams(q->db.conn, sql, nparams, NULL, params, NULL, NULL, 0) != 1 ||
	    PQpipelineSync(q->db.conn) != 1 || flush(q) < 0) {
		snprintf(err, errlen, "the statement could not be sent: %s",
		    PQerrorMessage(q->db.conn));
		drop(q, err);
		return NULL;
	}
	r = sb_calloc(1, sizeof(*r));
	r->done = done;
	r->arg = arg;
	TAILQ_INSERT_TAIL(&q->sent, r, link);
	q->nsent++;
	q->total++;
	return r;
}

void
dbq_cancel(struct dbq_req *r)
{
	r->done = NULL;
}

int
dbq_fd(const struct dbq *q, short *events)
{
	if (q->db.conn == NULL)
		return -1;
	/* Readable also when idle: that is the server closing the connection. */
	*events = POLLIN | (q->want_write ? POLLOUT : 0);
	return PQsocket(q->db.conn);
}

void
dbq_io(struct dbq *q)
{
	struct dbq_req	*r;
	PGresult	*res;
	int		 ended = 0;

	if (q->db.conn == NULL)
		return;
	if ((q->want_write && flush(q) < 0) || PQconsumeInput(q->db.conn) != 1) {
		drop(q, PQerrorMessage(q->db.conn));
		return;
	}
	while ((r = TAILQ_FIRST(&q->sent)) != NULL && !PQisBusy(q->db.conn)) {
		if ((res = PQgetResult(q->db.conn)) == NULL) {
			/* The end of its results; its sync follows, unless the
			 * connection broke (then nothing follows). */
			if (PQstatus(q->db.conn) == CONNECTION_BAD || ended++ > 0) {
				drop(q, PQerrorMessage(q->db.conn));
				return;
			}
			continue;
		}
		ended = 0;
		switch (PQresultStatus(res)) {
		case PGRES_PIPELINE_SYNC:
			PQclear(res);
			req_end(q, r, r->res, NULL);
			break;
		default:
			/* Its result, or the error that ended it: the first is kept. */
			if (r->res == NULL)
				r->res = res;
			else
				PQclear(res);
			break;
		}
	}
	if (q->nsent == 0 && PQstatus(q->db.conn) != CONNECTION_OK)
		drop(q, PQerrorMessage(q->db.conn));
}

void
dbq_stats(const struct dbq *q, struct dbq_stats *s)
{
	s->sent = q->total;
	s->failed = q->failed;
	s->in_flight = q->nsent;
	s->connects = q->connects;
}
