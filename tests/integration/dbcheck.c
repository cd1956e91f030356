/* dbcheck.c: core/db.c against a real PostgreSQL: statements, reconnects,
 * transactions and the mapping of SQLSTATEs to errors.
 * usage: sb-dbcheck URL; prints "ok - ..." or "FAIL - ..." per check. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdio.h>
#include <libpq-fe.h>

#include "core/clock.h"
#include "core/db.h"
#include "core/err.h"
#include "core/log.h"

static int failed;

static void
expect(int cond, const char *what)
{
	printf("%s - %s\n", cond ? "ok" : "FAIL", what);
	if (!cond)
		failed++;
}

/* Runs sql; returns the error it maps to (SB_OK on success). */
static enum sb_err
run(struct sb_db *db, const char *sql)
{
	enum sb_err	 err;
	PGresult	*res = db_exec(db, sql, 0, NULL, &err);

	PQclear(res);
	return err;
}

static enum sb_err
insert_then(struct sb_db *db, void *arg)
{
	enum sb_err err;

	if ((err = run(db, "INSERT INTO dbcheck VALUES (2)")) != SB_OK)
		return err;
	return *(enum sb_err *)arg;
}

int
main(int argc, char *argv[])
{
	static struct db_stmt	 add = { "dbcheck_add", "SELECT $1::int + 1", 1, 0 };
	const char		*params[1] = { "41" };
	struct sb_db		 db, down;
	enum sb_err		 err, want;
	PGresult		*res;
	uint64_t		 gen;
	int64_t			 t0;

	if (argc != 2) {
		fprintf(stderr, "usage: sb-dbcheck URL\n");
		return 2;
	}
	log_init("sb-dbcheck", SB_LOG_ERROR);
	db_init(&db, argv[1], 2, 200);
	expect(db_connect_wait(&db, 5000) == SB_OK, "db: connects");

	res = db_exec_stmt(&db, &add, params, &err);
	expect(res != NULL && strcmp(PQgetvalue(res, 0, 0), "42") == 0,
	    "db: a prepared statement runs with its parameter");
	PQclear(res);
	gen = db.generation;

	/* The server ends the session: the next db_ensure notices and reconnects,
	 * and the statement is prepared again on the new connection. */
	err = run(&db, "SELECT pg_terminate_backend(pg_backend_pid())");
	expect(err == SB_ERR_UNAVAILABLE, "db: a terminated session maps to unavailable");
	expect(db_ensure(&db) == SB_OK && db.generation == gen + 1, "db: db_ensure reconnects");
	res = db_exec_stmt(&db, &add, params, &err);
	expect(res != NULL && strcmp(PQgetvalue(res, 0, 0), "42") == 0,
	    "db: the statement is prepared again on the new connection");
	PQclear(res);

	/* Transactions commit on success and roll back on failure. */
	run(&db, "CREATE TEMP TABLE dbcheck (x int PRIMARY KEY, y int NOT NULL DEFAULT 0)");
	want = SB_OK;
	expect(db_tx(&db, insert_then, &want) == SB_OK, "db: db_tx succeeds");
	res = db_exec(&db, "SELECT count(*) FROM dbcheck WHERE x = 2", 0, NULL, &err);
	expect(res != NULL && strcmp(PQgetvalue(res, 0, 0), "1") == 0, "db: and its work is committed");
	PQclear(res);
	want = SB_ERR_UNPROCESSABLE;
	run(&db, "DELETE FROM dbcheck");
	expect(db_tx(&db, insert_then, &want) == SB_ERR_UNPROCESSABLE,
	    "db: db_tx returns the error of its function");
	res = db_exec(&db, "SELECT count(*) FROM dbcheck", 0, NULL, &err);
	expect(res != NULL && strcmp(PQgetvalue(res, 0, 0), "0") == 0,
	    "db: and rolls its work back");
	PQclear(res);
	expect(run(&db, "SELECT 1") == SB_OK, "db: the connection is usable after a rollback");

	/* SQLSTATE classes map to the errors handlers turn into statuses. */
	run(&db, "INSERT INTO dbcheck VALUES (7)");
	expect(run(&db, "INSERT INTO dbcheck VALUES (7)") == SB_ERR_CONFLICT,
	    "db: unique violation (23505) is a conflict");
	expect(run(&db, "INSERT INTO dbcheck VALUES (8, NULL)") == SB_ERR_UNPROCESSABLE,
	    "db: not-null violation (23502) is unprocessable");
	expect(run(&db, "SELECT 1/0") == SB_ERR_INVALID, "db: division by zero (22012) is invalid");
	expect(run(&db, "SELECT pg_sleep(2)") == SB_ERR_UNAVAILABLE,
	    "db: a statement timeout (57014) is unavailable");
	expect(run(&db, "SELEC 1") == SB_ERR_INTERNAL, "db: a syntax error (42601) is internal");
	expect(db_schema_version(&db, &err) >= SB_SCHEMA_VERSION,
	    "db: db_schema_version reads the migrated schema");

	/* An unreachable server: one attempt, then none for a second. */
	db_init(&down, "postgresql:///nowhere?host=/nonexistent-dir&port=1", 1, 0);
	expect(db_ensure(&down) == SB_ERR_UNAVAILABLE, "db: an unreachable server is unavailable");
	t0 = clock_mono_us();
	expect(db_ensure(&down) == SB_ERR_UNAVAILABLE && clock_mono_us() - t0 < 1000,
	    "db: and is not tried again within a second");
	db_close(&down);
	db_close(&db);
	return failed ? 1 : 0;
}
