/* db.c: libpq helpers: reconnects, prepared statements, transactions, error mapping. */
#include "config.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <libpq-fe.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/db.h"
#include "core/err.h"
#include "core/log.h"

#define DB_RETRY_US	1000000		/* at most one connection attempt a second */

void
db_init(struct sb_db *db, const char *url, int connect_timeout, int statement_timeout_ms)
{
	memset(db, 0, sizeof(*db));
	db->url = sb_strdup(url);
	db->connect_timeout = connect_timeout;
	db->statement_timeout_ms = statement_timeout_ms;
}

void
db_close(struct sb_db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
	free(db->url);
	db->url = NULL;
}

static void
db_drop(struct sb_db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
}

static void
notice_to_log(void *arg, const char *message)
{
	(void)arg;
	log_debug("database notice", "{s:s}", "notice", message);
}

/* One connection attempt.  The first line of libpq's message is enough for a log. */
static enum sb_err
db_connect_once(struct sb_db *db, int quiet)
{
	const char	*kw[] = { "dbname", "connect_timeout", "fallback_application_name", NULL };
	const char	*val[4];
	char		 timeout[16], set[64], msg[256], *nl;
	PGresult	*res;

	db_drop(db);
	snprintf(timeout, sizeof(timeout), "%d", db->connect_timeout);
	val[0] = db->url;
	val[1] = timeout;
	val[2] = "switchboard";
	val[3] = NULL;
	db->conn = PQconnectdbParams(kw, val, 1);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(db->conn));
		if ((nl = strchr(msg, '\n')) != NULL)
			*nl = '\0';
		snprintf(db->last_error, sizeof(db->last_error), "%s", msg);
		if (!quiet)
			log_warn("database connection failed", "{s:s}", "error", msg);
		db_drop(db);
		return SB_ERR_UNAVAILABLE;
	}
	PQsetNoticeProcessor(db->conn, notice_to_log, NULL);
	snprintf(set, sizeof(set), "SET statement_timeout = %d", db->statement_timeout_ms);
	res = PQexec(db->conn, set);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		log_warn("database session setup failed", "{s:s}", "error",
		    PQresultErrorMessage(res));
		PQclear(res);
		db_drop(db);
		return SB_ERR_UNAVAILABLE;
	}
	PQclear(res);
	db->generation++;
	return SB_OK;
}

/* An idle connection should have nothing to read; if it has, the server sent
 * a termination notice or closed it.  Finds a dead connection without a round trip. */
static int
db_idle_conn_alive(struct sb_db *db)
{
	struct pollfd pfd;

	if (PQstatus(db->conn) != CONNECTION_OK)
		return 0;
	pfd.fd = PQsocket(db->conn);
	pfd.events = POLLIN;
	pfd.revents = 0;
	/* Request connections never LISTEN, so anything readable while idle is
	 * the server saying goodbye (or, rarely, a notice: a reconnect is cheap). */
	return poll(&pfd, 1, 0) == 0;
}

enum sb_err
db_ensure(struct sb_db *db)
{
	int64_t	 now;

	if (db->conn != NULL && db_idle_conn_alive(db))
		return SB_OK;
	if (db->conn != NULL) {
		log_warn("database connection lost", NULL);
		db_drop(db);
	}
	now = clock_mono_us();
	if (now < db->next_attempt_us)
		return SB_ERR_UNAVAILABLE;
	if (db_connect_once(db, 0) != SB_OK) {
		db->next_attempt_us = now + DB_RETRY_US;
		return SB_ERR_UNAVAILABLE;
	}
	db->next_attempt_us = 0;
	return SB_OK;
}

enum sb_err
db_connect_wait(struct sb_db *db, int max_wait_ms)
{
	int64_t		 deadline = clock_mono_us() + (int64_t)max_wait_ms * 1000;
	long		 pause_ms = 100;
	struct timespec	 ts;

	for (;;) {
		if (db_connect_once(db, 1) == SB_OK)
			return SB_OK;
		if (clock_mono_us() + pause_ms * 1000 > deadline)
			return db_connect_once(db, 0);
		ts.tv_sec = pause_ms / 1000;
		ts.tv_nsec = (pause_ms % 1000) * 1000000;
		nanosleep(&ts, NULL);
		if (pause_ms < 2000)
			pause_ms *= 2;
	}
}

enum sb_err
db_error_map(const PGresult *res)
{
	const char *state;

	if (res == NULL)
		return SB_ERR_UNAVAILABLE;
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (state == NULL)		/* raised by libpq itself: the connection */
		return SB_ERR_UNAVAILABLE;
	if (strncmp(state, "08", 2) == 0 ||	/* connection exception */
	    strncmp(state, "53", 2) == 0 ||	/* insufficient resources */
	    strncmp(state, "57P", 3) == 0 ||	/* admin shutdown, crash shutdown, cannot connect now */
	    strcmp(state, "57014") == 0 ||	/* statement timeout */
	    strcmp(state, "40001") == 0 ||	/* serialization failure */
	    strcmp(state, "40P01") == 0)	/* deadlock */
		return SB_ERR_UNAVAILABLE;
	if (strcmp(state, "23505") == 0)
		return SB_ERR_CONFLICT;
	if (strncmp(state, "23", 2) == 0)
		return SB_ERR_UNPROCESSABLE;
	if (strncmp(state, "22", 2) == 0)
		return SB_ERR_INVALID;
	return SB_ERR_INTERNAL;
}

/* Checks a result; on failure logs it once, clears it and returns NULL. */
static PGresult *
db_check(struct sb_db *db, PGresult *res, const char *what, enum sb_err *err)
{
	ExecStatusType	 st = PQresultStatus(res);
	const char	*state;

	if (res != NULL && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)) {
		*err = SB_OK;
		return res;
	}
	*err = db_error_map(res);
	db->failures++;
	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	snprintf(db->last_error, sizeof(db->last_error), "%s",
	    res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(db->conn));
	/* A request's refused input (a unique key taken) is the client's news, not the
	 * operator's; in a daemon no statement is expected to fail. */
	log_msg(db->loud || *err == SB_ERR_UNAVAILABLE || *err == SB_ERR_INTERNAL ?
	    SB_LOG_WARN : SB_LOG_DEBUG,
	    "database statement failed", "{s:s%, s:s, s:s}", "statement", what,
	    strlen(what) > 120 ? (size_t)120 : strlen(what),
	    "sqlstate", state != NULL ? state : "", "error",
	    res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(db->conn));
	PQclear(res);
	if (PQstatus(db->conn) != CONNECTION_OK)
		db_drop(db);
	return NULL;
}

PGresult *
db_exec(struct sb_db *db, const char *sql, int nparams, const char *const *params,
    enum sb_err *err)
{
	if (db->conn == NULL && (*err = db_ensure(db)) != SB_OK)
		return NULL;
	return db_check(db, PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0),
	    sql, err);
}

/* Prepares st on this connection unless it was already: 0, or -1 with *err set. */
static int
db_prepared(struct sb_db *db, struct db_stmt *st, enum sb_err *err)
{
	PGresult *res;

	if (st->generation == db->generation)
		return 0;
	res = db_check(db, PQprepare(db->conn, st->name, st->sql, st->nparams, NULL),
	    st->name, err);
	if (res == NULL)
		return -1;
	PQclear(res);
	st->generation = db->generation;
	return 0;
}

PGresult *
db_exec_stmt(struct sb_db *db, struct db_stmt *st, const char *const *params, enum sb_err *err)
{
	if (db->conn == NULL && (*err = db_ensure(db)) != SB_OK)
		return NULL;
	if (db_prepared(db, st, err) < 0)
		return NULL;
	return db_check(db, PQexecPrepared(db->conn, st->name, st->nparams, params, NULL, NULL, 0),
	    st->name, err);
}

/* The results of one statement of a pipeline, up to its Sync: the first kept in *out
 * (NULL if none came), any other cleared.  -1 if the connection broke. */
static int
pipe_results(PGconn *conn, PGresult **out)
{
	PGresult	*r;
	int		 nulls = 0;

	*out = NULL;
	for (;;) {
		if ((r = PQgetResult(conn)) == NULL) {
			/* Each statement's results end with a NULL; two in a row: nothing
			 * more is coming. */
			if (PQstatus(conn) != CONNECTION_OK || ++nulls > 1)
				return -1;
			continue;
		}
		nulls = 0;
		if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			return 0;
		}
		if (*out == NULL)
			*out = r;
		else
			PQclear(r);
	}
}

PGresult *
db_exec_then(struct sb_db *db, struct db_stmt *st, const char *const *params,
    struct db_stmt *then, const char *const *then_params, enum sb_err *err)
{
	PGresult	*res[2] = { NULL, NULL }, *r;
	enum sb_err	 then_err;
	int		 i, broke = 0;

	if (db->conn == NULL && (*err = db_ensure(db)) != SB_OK)
		return NULL;
	if (db_prepared(db, st, err) < 0 || db_prepared(db, then, err) < 0)
		return NULL;
	if (PQenterPipelineMode(db->conn) != 1)
		return db_check(db, NULL, st->name, err);
	/* A Sync after each: two transactions, the second run whatever the first did. */
	if (PQsendQueryPrepared(db->conn, st->name, st->nparams, params, NULL, NULL, 0) != 1 ||
	    PQpipelineSync(db->conn) != 1 ||
	    PQsendQueryPrepared(db->conn, then->name, then->nparams, then_params, NULL, NULL,
	    0) != 1 || PQpipelineSync(db->conn) != 1)
		broke = 1;
	for (i = 0; i < 2 && !broke; i++)
		if (pipe_results(db->conn, &res[i]) < 0)
			broke = 1;
	if (!broke && PQexitPipelineMode(db->conn) != 1)
		broke = 1;
	r = db_check(db, res[0], st->name, err);
	if (broke) {
		/* Half-way through a pipeline: the connection is of no further use. */
		PQclear(r);
		PQclear(res[1]);
		if (db->conn != NULL)
			db_drop(db);
		*err = SB_ERR_UNAVAILABLE;
		return NULL;
	}
	if (db->conn != NULL)
		PQclear(db_check(db, res[1], then->name, &then_err));
	else
		PQclear(res[1]);
	return r;
}

enum sb_err
db_exec_id(struct sb_db *db, struct db_stmt *st, int64_t id)
{
	char		 s[24];
	const char	*p[1] = { s };
	enum sb_err	 err;

	snprintf(s, sizeof(s), "%lld", (long long)id);
	PQclear(db_exec_stmt(db, st, p, &err));
	return err;
}

enum sb_err
db_exec_found(struct sb_db *db, struct db_stmt *st, const char *const *params)
{
	enum sb_err	 err;
	PGresult	*res;
	int		 n;

	if ((res = db_exec_stmt(db, st, params, &err)) == NULL)
		return err;
	n = PQntuples(res);
	PQclear(res);
	return n == 1 ? SB_OK : SB_ERR_NOT_FOUND;
}

enum sb_err
db_exec_script(struct sb_db *db, const char *sql)
{
	enum sb_err err;

	if (db->conn == NULL && (err = db_ensure(db)) != SB_OK)
		return err;
	PQclear(db_check(db, PQexec(db->conn, sql), sql, &err));
	return err;
}

static enum sb_err
db_command(struct sb_db *db, const char *sql)
{
	enum sb_err	 err;
	PGresult	*res = db_exec(db, sql, 0, NULL, &err);

	PQclear(res);
	return err;
}

enum sb_err
db_tx(struct sb_db *db, enum sb_err (*fn)(struct sb_db *, void *), void *arg)
{
	enum sb_err err;

	if ((err = db_command(db, "BEGIN")) != SB_OK)
		return err;
	if ((err = fn(db, arg)) != SB_OK) {
		if (db->conn != NULL)
			(void)db_command(db, "ROLLBACK");
		return err;
	}
	return db_command(db, "COMMIT");
}

int
db_schema_version(struct sb_db *db, enum sb_err *err)
{
	static struct db_stmt st = {
		"schema_version",
		"SELECT coalesce(max(version), 0) FROM schema_migrations", 0, 0
	};
	PGresult	*res;
	int		 v;

	if ((res = db_exec_stmt(db, &st, NULL, err)) == NULL)
		return -1;
	v = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

/* ------------------------------------------------------------ array literals */

void
db_array_add(struct db_array *a, const char *fmt, ...)
{
	va_list	 ap;

	buf_append(&a->b, a->b.len == 0 ? "{" : ",", 1);
	va_start(ap, fmt);
	buf_vprintf(&a->b, fmt, ap);
	va_end(ap);
}

const char *
db_array_text(struct db_array *a)
{
	if (a->b.len == 0)
		return "{}";
	buf_append(&a->b, "}", 1);
	return a->b.data;
}

void
db_array_free(struct db_array *a)
{
	buf_free(&a->b);
}
