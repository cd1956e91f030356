/* check.c: `switchboardctl check`: is the configuration sound and every dependency reachable? */
#include "config.h"

#include <dirent.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdio.h>
#include <libpq-fe.h>

#include "cli/ctl.h"
#include "core/cache.h"
#include "core/conf.h"
#include "core/db.h"
#include "core/err.h"

static int failures;

static void
report(int ok, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
report(int ok, const char *what, const char *fmt, ...)
{
	va_list ap;

	printf("%-12s %s: ", what, ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok)
		failures++;
}

/* database.url must name a role row-level security confines. */
static void
check_role(struct sb_db *db)
{
	enum sb_err	 err;
	PGresult	*res = db_exec(db, "SELECT current_user, r.rolsuper OR r.rolbypassrls OR "
	    "EXISTS (SELECT 1 FROM pg_class c WHERE c.relname = 'users' AND "
	    "c.relnamespace = 'public'::regnamespace AND c.relowner = r.oid) "
	    "FROM pg_roles r WHERE r.rolname = current_user", 0, NULL, &err);

	if (res == NULL)
		report(0, "role", "cannot read the connection's role");
	else if (strcmp(PQgetvalue(res, 0, 1), "f") != 0)
		report(0, "role", "%s bypasses row-level security (owner, superuser or BYPASSRLS): "
		    "set database.url to the application role", PQgetvalue(res, 0, 0));
	else
		report(1, "role", "%s is confined by row-level security", PQgetvalue(res, 0, 0));
	PQclear(res);
}

static void
check_db(const char *what, const char *url, const struct sb_config *cfg, int schema)
{
	struct sb_db	 db;
	enum sb_err	 err;
	int		 v;
	char		*nl;

	db_init(&db, url, cfg->database.connect_timeout, 0);
	if (db_connect_wait(&db, 0) != SB_OK)
		report(0, what, "cannot connect: %s", db.last_error);
	else {
		report(1, what, "connected (server %d)", PQserverVersion(db.conn));
		if (schema)
			check_role(&db);
		if (schema) {
			v = db_schema_version(&db, &err);
			if ((nl = strchr(db.last_error, '\n')) != NULL)
				*nl = '\0';
			if (v >= SB_SCHEMA_VERSION)
				report(1, "schema", "at version %d (this build needs %d)", v,
				    SB_SCHEMA_VERSION);
			else if (v < 0)
				report(0, "schema", "cannot read schema_migrations (%s): run "
				    "switchboardctl migrate", db.last_error);
			else
				report(0, "schema", "at version %d, this build expects %d: run "
				    "switchboardctl migrate", v, SB_SCHEMA_VERSION);
		}
	}
	db_close(&db);
}

int
cmd_check(const struct sb_config *cfg, int argc, char *argv[])
{
	struct sb_cache	*cache;
	struct stat	 st;
	DIR		*d;
	struct dirent	*de;
	char		 sockdir[4096];
	int		 nsql = 0;

	(void)argc;
	(void)argv;
	failures = 0;
	report(1, "config", "%s", cfg->path ? cfg->path : "(defaults and environment)");

	check_db("database", cfg->database.url, cfg, 1);
	if (strcmp(cfg->database.migrate_url, cfg->database.url) != 0)
		check_db("migrate_url", cfg->database.migrate_url, cfg, 0);

	cache = cache_open(cfg->memcached.servers, cfg->memcached.timeout_ms, cfg->memcached.secret);
	if (cache == NULL)
		report(0, "memcached", "malformed server list \"%s\"", cfg->memcached.servers);
	else if (cache_ping(cache) != SB_OK)
		report(0, "memcached", "cannot reach %s", cfg->memcached.servers);
	else
		report(1, "memcached", "reached %s", cfg->memcached.servers);
	cache_close(cache);
	if (cfg->memcached.secret_generated)
		printf("%-12s note: memcached.secret is not set: each program seals the cache with "
		    "its own secret, so cached sessions and keys are not shared\n", "memcached");

	if ((d = opendir(cfg->database.sql_dir)) == NULL)
		report(0, "sql_dir", "cannot open %s", cfg->database.sql_dir);
	else {
		while ((de = readdir(d)) != NULL)
			nsql += strstr(de->d_name, ".sql") != NULL;
		closedir(d);
		report(nsql > 0, "sql_dir", "%d migration files in %s", nsql, cfg->database.sql_dir);
	}

	if (cfg->server.socket[0] == '/') {
		snprintf(sockdir, sizeof(sockdir), "%s", cfg->server.socket);
		dirname(sockdir);
		/* Under socket activation systemd makes the directory; a warning, not a failure. */
		if (stat(sockdir, &st) != 0 || !S_ISDIR(st.st_mode))
			printf("%-12s note: %s does not exist (fine under systemd socket activation)\n",
			    "socket", sockdir);
		else
			report(1, "socket", "directory %s exists", sockdir);
	}
	printf("%s\n", failures ? "some checks failed" : "all checks passed");
	return failures ? 1 : 0;
}
