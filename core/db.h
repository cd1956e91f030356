/* db.h: PostgreSQL through libpq: one connection per process, statements
 * prepared lazily per connection, transactions and array parameters.  A PGresult
 * returned is the caller's to PQclear (or to hand to the request's arena). */
#ifndef SB_CORE_DB_H
#define SB_CORE_DB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <libpq-fe.h>
#include "core/buf.h"
#include "core/err.h"

/* The schema version this build expects: the number of the last file in sql/. */
#define SB_SCHEMA_VERSION 21


/* One connection owned by one process.  Connection loss is noticed on the next
 * call, and db_ensure() reconnects, at most once per retry interval. */
struct sb_db {
	PGconn		*conn;
	char		*url;
	int		 connect_timeout;
	int		 statement_timeout_ms;
	int64_t		 next_attempt_us;
	uint64_t	 generation;		/* bumps on every new connection */
	char		 last_error[256];	/* why the last attempt or statement failed */
	uint64_t	 failures;		/* statements that failed, for /metrics */
	bool		 loud;			/* log every failure as a warning (daemons) */
};

/* A statement prepared lazily on each connection that runs it. */
struct db_stmt {
	const char	*name;
	const char	*sql;
	int		 nparams;
	uint64_t	 generation;		/* connection it was prepared on */
};

void		 db_init(struct sb_db *, const char *url, int connect_timeout, int statement_timeout_ms);
void		 db_close(struct sb_db *);
/* Connected and usable?  Tries to (re)connect when allowed. SB_OK or SB_ERR_UNAVAILABLE. */
enum sb_err	 db_ensure(struct sb_db *);
/* Blocks until connected, retrying with backoff up to max_wait_ms (0: once). */
enum sb_err	 db_connect_wait(struct sb_db *, int max_wait_ms);
/* Run a statement; returns the result (caller PQclear()s) or NULL with *err set
 * and the reason logged. */
PGresult	*db_exec(struct sb_db *, const char *sql, int nparams, const char *const *params,
		    enum sb_err *err);
PGresult	*db_exec_stmt(struct sb_db *, struct db_stmt *, const char *const *params,
		    enum sb_err *err);
/* Runs st then `then` in one round trip (a pipeline), each its own transaction: `then`
 * runs whatever became of st, and its result is discarded (a failure is logged).
 * Returns st's result as db_exec_stmt() does. */
PGresult	*db_exec_then(struct sb_db *, struct db_stmt *st, const char *const *params,
		    struct db_stmt *then, const char *const *then_params, enum sb_err *err);
/* Runs a statement whose one parameter is an id; the result is discarded. */
enum sb_err	 db_exec_id(struct sb_db *, struct db_stmt *, int64_t id);
/* Runs a statement: SB_OK if it returned exactly one row, SB_ERR_NOT_FOUND if not
 * (under row-level security another org's rows are invisible: not found too). */
enum sb_err	 db_exec_found(struct sb_db *, struct db_stmt *, const char *const *params);
/* Runs a script of several statements (simple query protocol, no parameters):
 * for migrations only, never with input from a request. */
enum sb_err	 db_exec_script(struct sb_db *, const char *sql);
/* Runs fn inside BEGIN ... COMMIT; rolls back if fn returns non-zero. */
enum sb_err	 db_tx(struct sb_db *, enum sb_err (*fn)(struct sb_db *, void *), void *arg);
enum sb_err	 db_error_map(const PGresult *);
/* The highest applied migration, or -1 with *err set. */
int		 db_schema_version(struct sb_db *, enum sb_err *err);

/* A PostgreSQL array literal built element by element, "{a,b,c}", for passing many
 * values in one parameter.  Elements are numbers and UUIDs: nothing needs quoting.
 * Start from a zeroed struct; db_array_text() ends it (once); db_array_free(). */
struct db_array {
	struct sb_buf	 b;
};

void		 db_array_add(struct db_array *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
const char	*db_array_text(struct db_array *);
void		 db_array_free(struct db_array *);

#endif /* SB_CORE_DB_H */
