/* migrate.c: `switchboardctl migrate`: apply sql/NNN_name.sql in order, once each. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <libpq-fe.h>

#include "cli/ctl.h"
#include "core/arena.h"
#include "core/conf.h"
#include "core/db.h"
#include "core/err.h"

/* pg_advisory_lock key: "SBMIGRAT" read as a big-endian integer. */
#define MIGRATE_LOCK "6000277362417012052"

struct migration {
	int	 version;
	char	*name;		/* file name */
	char	*sql;		/* contents */
	char	 checksum[65];	/* sha256, hex */
	char	 applied_checksum[65];
	char	 applied_at[40];
	int	 applied;
};

static int
by_version(const void *a, const void *b)
{
	return ((const struct migration *)a)->version - ((const struct migration *)b)->version;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*buf = NULL;
	long	 n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = sb_malloc((size_t)n + 1);
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(f);
	return buf;
}

/* Reads dir's NNN_name.sql files, sorted.  Returns the count or -1. */
static int
load_files(const char *dir, struct migration **out)
{
	DIR			*d;
	struct dirent		*de;
	struct migration	*m = NULL;
	regex_t			 re;
	unsigned char		 hash[crypto_hash_sha256_BYTES];
	char			 path[4096];
	size_t			 len, i;
	int			 n = 0, cap = 0;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "switchboardctl: cannot open %s: %s\n", dir, strerror(errno));
		return -1;
	}
	regcomp(&re, "^[0-9]{3}_[a-z0-9_]+\\.sql$", REG_EXTENDED | REG_NOSUB);
	while ((de = readdir(d)) != NULL) {
		if (regexec(&re, de->d_name, 0, NULL, 0) != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			m = sb_realloc(m, (size_t)cap * sizeof(*m));
		}
		memset(&m[n], 0, sizeof(m[n]));
		m[n].version = atoi(de->d_name);
		m[n].name = sb_strdup(de->d_name);
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((m[n].sql = slurp(path, &len)) == NULL) {
			fprintf(stderr, "switchboardctl: cannot read %s\n", path);
			n = -1;
			break;
		}
		crypto_hash_sha256(hash, (const unsigned char *)m[n].sql, len);
		for (i = 0; i < sizeof(hash); i++)
			snprintf(m[n].checksum + 2 * i, 3, "%02x", hash[i]);
		n++;
	}
	regfree(&re);
	closedir(d);
	if (n > 0)
		qsort(m, (size_t)n, sizeof(*m), by_version);
	for (i = 1; n > 0 && i < (size_t)n; i++)
		if (m[i].version == m[i - 1].version) {
			fprintf(stderr, "switchboardctl: two migrations numbered %03d: %s and %s\n",
			    m[i].version, m[i - 1].name, m[i].name);
			n = -1;
		}
	*out = m;
	return n;
}

static int
run(struct sb_db *db, const char *sql)
{
	enum sb_err	 err;
	PGresult	*res = db_exec(db, sql, 0, NULL, &err);

	PQclear(res);
	return err == SB_OK ? 0 : -1;
}

/* Rows whose feed position (sql/011_feed.sql, sql/017_inbox_feed.sql: runs and inbox
 * items) names a transaction this cluster has not reached came from another one: a
 * dump restored into a new cluster starts its transaction ids over.  Left there, every
 * change made from now on would sort before them, behind the position of every client
 * that has seen them.  They move to the start of the feed (they are old news); the feed
 * restarts clients whose position is from the other cluster (handlers/feed.c).  Nothing
 * to do in a cluster that made its own rows. */
static int
feed_repair(struct sb_db *db)
{
	/* Each check reads the top of each org's feed index; the update runs only after a
	 * restore. */
	static const struct {
		const char	*what, *sql;
	} moves[] = {
		{ "runs", "UPDATE runs SET changed_xid = '1' "
		    "WHERE changed_xid >= pg_snapshot_xmax(pg_current_snapshot()) "
		    "AND EXISTS (SELECT 1 FROM orgs o2, LATERAL (SELECT 1 FROM runs x "
		    "WHERE x.org_id = o2.id AND x.changed_xid >= pg_snapshot_xmax(pg_current_snapshot()) "
		    "LIMIT 1) f)" },
		{ "inbox items", "UPDATE inbox_items SET changed_xid = '1' "
		    "WHERE changed_xid >= pg_snapshot_xmax(pg_current_snapshot()) "
		    "AND EXISTS (SELECT 1 FROM orgs o2, LATERAL (SELECT 1 FROM inbox_items x "
		    "WHERE x.org_id = o2.id AND x.changed_xid >= pg_snapshot_xmax(pg_current_snapshot()) "
		    "LIMIT 1) f)" },
	};
	enum sb_err	 err;
	PGresult	*res;
	size_t		 i;

	for (i = 0; i < sizeof(moves) / sizeof(moves[0]); i++) {
		if ((res = db_exec(db, moves[i].sql, 0, NULL, &err)) == NULL) {
			fprintf(stderr, "switchboardctl: %s", db->last_error);
			return -1;
		}
		if (atoi(PQcmdTuples(res)) > 0)
			printf("%s %s had org-feed positions from another cluster (a restored "
			    "dump?): moved to the start of the feed\n", PQcmdTuples(res),
			    moves[i].what);
		PQclear(res);
	}
	return 0;
}

/* Marks which files are applied; returns the newest applied version the files
 * do not know (0 if none), or -1 on a database error. */
static int
read_applied(struct sb_db *db, struct migration *m, int n)
{
	enum sb_err	 err;
	PGresult	*res;
	int		 i, j, v, unknown = 0;

	res = db_exec(db, "SELECT version, checksum, to_char(applied_at, 'YYYY-MM-DD HH24:MI:SS') "
	    "FROM schema_migrations ORDER BY version", 0, NULL, &err);
	if (res == NULL)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		v = atoi(PQgetvalue(res, i, 0));
		for (j = 0; j < n && m[j].version != v; j++)
			;
		if (j == n) {
			unknown = v;
			continue;
		}
		m[j].applied = 1;
		snprintf(m[j].applied_checksum, sizeof(m[j].applied_checksum), "%s",
		    PQgetvalue(res, i, 1));
		snprintf(m[j].applied_at, sizeof(m[j].applied_at), "%s", PQgetvalue(res, i, 2));
	}
	PQclear(res);
	return unknown;
}

static int
apply(struct sb_db *db, const struct migration *m)
{
	const char	*params[3];
	char		 version[16];
	enum sb_err	 err;
	PGresult	*res;

	if (run(db, "BEGIN") < 0)
		return -1;
	/* The file runs in this transaction: it must not COMMIT itself. */
	if (db_exec_script(db, m->sql) != SB_OK) {
		fprintf(stderr, "switchboardctl: %s failed: %s", m->name, db->last_error);
		if (db->conn != NULL)
			run(db, "ROLLBACK");
		return -1;
	}
	snprintf(version, sizeof(version), "%d", m->version);
	params[0] = version;
	params[1] = m->name;
	params[2] = m->checksum;
	res = db_exec(db, "INSERT INTO schema_migrations (version, name, checksum) "
	    "VALUES ($1, $2, $3)", 3, params, &err);
	PQclear(res);
	if (err != SB_OK || run(db, "COMMIT") < 0) {
		fprintf(stderr, "switchboardctl: recording %s failed: %s", m->name, db->last_error);
		return -1;
	}
	printf("applied %s\n", m->name);
	return 0;
}

int
cmd_migrate(const struct sb_config *cfg, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "status", no_argument, NULL, 's' },
		{ "sql-dir", required_argument, NULL, 'd' },
		{ "wait", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 }
	};
	struct migration	*m = NULL;
	struct sb_db		 db;
	const char		*dir = cfg->database.sql_dir;
	int			 c, i, n, status = 0, wait_s = 10, unknown, rc = 1, edited = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': status = 1; break;
		case 'd': dir = optarg; break;
		case 'w': wait_s = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: switchboardctl migrate [--status] [--sql-dir DIR] "
			    "[--wait SECONDS]\n");
			return 2;
		}
	}
	if (sodium_init() < 0 || (n = load_files(dir, &m)) < 0)
		return 1;
	db_init(&db, cfg->database.migrate_url, cfg->database.connect_timeout, 0);
	if (db_connect_wait(&db, wait_s * 1000) != SB_OK) {
		fprintf(stderr, "switchboardctl: cannot connect to the database: %s\n", db.last_error);
		goto out;
	}
	/* One migrator at a time; the lock is released when the session ends. */
	if (run(&db, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")") < 0 ||
	    run(&db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
		"version integer PRIMARY KEY, "
		"name text NOT NULL, "
		"checksum text NOT NULL, "
		"applied_at timestamptz NOT NULL DEFAULT now())") < 0 ||
	    (unknown = read_applied(&db, m, n)) < 0) {
		fprintf(stderr, "switchboardctl: %s", db.last_error);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (m[i].applied && strcmp(m[i].checksum, m[i].applied_checksum) != 0)
			edited++;
	if (status) {
		printf("%-8s %-32s %s\n", "version", "file", "state");
		for (i = 0; i < n; i++)
			printf("%-8d %-32s %s%s\n", m[i].version, m[i].name,
			    !m[i].applied ? "pending" :
			    strcmp(m[i].checksum, m[i].applied_checksum) != 0 ?
			    "EDITED after it was applied, at " : "applied ",
			    m[i].applied_at);
		if (unknown)
			printf("the database has migration %d, which this build does not know\n", unknown);
		rc = edited || unknown ? 1 : 0;
		goto out;
	}
	if (edited) {
		for (i = 0; i < n; i++)
			if (m[i].applied && strcmp(m[i].checksum, m[i].applied_checksum) != 0)
				fprintf(stderr, "switchboardctl: %s was edited after it was applied "
				    "(its checksum differs); restore it and put the change in a new "
				    "migration\n", m[i].name);
		goto out;
	}
	if (unknown) {
		fprintf(stderr, "switchboardctl: the database has migration %d, which this build "
		    "does not know: run a newer switchboardctl\n", unknown);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (!m[i].applied && apply(&db, &m[i]) < 0)
			goto out;
	if (feed_repair(&db) < 0)
		goto out;
	rc = 0;
out:
	for (i = 0; i < n; i++) {
		free(m[i].name);
		free(m[i].sql);
	}
	free(m);
	db_close(&db);
	return rc;
}
