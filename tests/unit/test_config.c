/* test_config.c: the configuration file, its defaults, errors and environment overrides. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stddef.h>
#include <stdio.h>

#include "core/conf.h"
#include "core/db.h"
#include "core/log.h"
#include "tests/unit/unit.h"

#ifndef SB_SRCDIR
#error "SB_SRCDIR must name the source tree (see sb_unit_tests_CFLAGS in Makefile.am)"
#endif

static char	 tmp_paths[16][64];
static int	 ntmp;

static void
unset_one(const char *key, const char *env, const char *desc, void *arg)
{
	(void)key;
	(void)desc;
	(void)arg;
	unsetenv(env);
}

/* No SWITCHBOARD_* variable of the caller's environment may leak into a test. */
static void
env_clear(void)
{
	config_each_key(unset_one, NULL);
}

static int
config_init(void)
{
	env_clear();
	return 0;
}

static int
config_clean(void)
{
	int i;

	for (i = 0; i < ntmp; i++)
		unlink(tmp_paths[i]);
	ntmp = 0;
	env_clear();
	return 0;
}

/* Writes text to a new temporary file and returns its path (removed at suite cleanup). */
static const char *
write_temp(const char *text)
{
	char	*path;
	FILE	*f;
	int	 fd;

	if (ntmp == (int)(sizeof(tmp_paths) / sizeof(tmp_paths[0])))
		return NULL;
	path = tmp_paths[ntmp];
	snprintf(path, sizeof(tmp_paths[0]), "/tmp/sb-unit-config-XXXXXX");
	if ((fd = mkstemp(path)) < 0)
		return NULL;
	ntmp++;
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return NULL;
	}
	fputs(text, f);
	if (fclose(f) != 0)
		return NULL;
	return path;
}

/* Loads text as a file; returns config_load's result with err filled. */
static int
load_text(struct sb_config *cfg, const char *text, const char **path, char *err, size_t len)
{
	const char *p = write_temp(text);

	*path = p;
	err[0] = '\0';
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	return config_load(cfg, p, err, len);
}

static void
test_defaults(void)
{
	struct sb_config	 cfg;
	char			 err[512] = "";

	UNIT_ASSERT_INT(config_load(&cfg, NULL, err, sizeof(err)), 0);
	UNIT_ASSERT_STR(err, "");
	CU_ASSERT_PTR_NULL(cfg.path);
	UNIT_ASSERT_STR(cfg.server.socket, "/run/switchboard/fcgi.sock");
	UNIT_ASSERT_INT(cfg.server.socket_mode, 0660);
	UNIT_ASSERT_INT(cfg.server.backlog, 1024);
	UNIT_ASSERT_INT(cfg.server.workers, 0);
	UNIT_ASSERT_INT(cfg.server.max_requests, 10000);
	UNIT_ASSERT_INT(cfg.server.shutdown_grace, 10);
	UNIT_ASSERT_INT(cfg.server.restart_backoff_max, 10);
	UNIT_ASSERT_INT(cfg.http.max_body, 1048576);
	UNIT_ASSERT_INT(cfg.http.max_json_depth, 32);
	UNIT_ASSERT_INT(cfg.http.max_json_string, 65536);
	UNIT_ASSERT_INT(cfg.http.request_timeout, 30);
	UNIT_ASSERT_STR(cfg.database.url,
	    "postgresql:///switchboard?host=/var/run/postgresql&user=switchboard_app");
	UNIT_ASSERT_STR(cfg.database.migrate_url,
	    "postgresql:///switchboard?host=/var/run/postgresql&user=switchboard");
	UNIT_ASSERT_INT(cfg.database.connect_timeout, 2);
	UNIT_ASSERT_INT(cfg.database.statement_timeout_ms, 5000);
	UNIT_ASSERT_INT(cfg.database.retry_after, 2);
	UNIT_ASSERT_STR(cfg.database.sql_dir, SB_DATADIR "/sql");
	UNIT_ASSERT_STR(cfg.memcached.servers, "127.0.0.1:11211");
	UNIT_ASSERT_INT(cfg.memcached.timeout_ms, 200);
	UNIT_ASSERT_INT(cfg.log.level, SB_LOG_INFO);
	CU_ASSERT(cfg.log.access == true);
	CU_ASSERT(cfg.metrics.public == false);
	config_free(&cfg);
	CU_ASSERT_PTR_NULL(cfg.server.socket);
}

static void
test_file(void)
{
	struct sb_config	 cfg;
	char			 err[512];
	const char		*path;

	UNIT_ASSERT_INT(load_text(&cfg,
	    "# a comment line\n"
	    "; another comment\n"
	    "\n"
	    "[server]\n"
	    "workers = 4   # a trailing comment\n"
	    "\tbacklog=77 ; another trailing comment\n"
	    "socket = \"  /tmp/sb #1.sock\"\n"
	    "socket_mode = 0600\n"
	    "[ http ]\n"
	    "max_body = 2048\n"
	    "[database]\n"
	    "url = \"postgresql://db.example/sb?sslmode=require\"\n"
	    "sql_dir = /opt/sb#sql\n"
	    "[memcached]\n"
	    "servers = a:1,b:2\n"
	    "[log]\n"
	    "level = debug\n"
	    "access = off\n"
	    "[metrics]\n"
	    "public = yes\n",
	    &path, err, sizeof(err)), 0);
	UNIT_ASSERT_STR(err, "");
	UNIT_ASSERT_STR(cfg.path, path);
	UNIT_ASSERT_INT(cfg.server.workers, 4);
	UNIT_ASSERT_INT(cfg.server.backlog, 77);
	UNIT_ASSERT_STR(cfg.server.socket, "  /tmp/sb #1.sock");
	UNIT_ASSERT_INT(cfg.server.socket_mode, 0600);
	UNIT_ASSERT_INT(cfg.http.max_body, 2048);
	UNIT_ASSERT_STR(cfg.database.url, "postgresql://db.example/sb?sslmode=require");
	/* A '#' not after a blank is part of the value. */
	UNIT_ASSERT_STR(cfg.database.sql_dir, "/opt/sb#sql");
	UNIT_ASSERT_STR(cfg.memcached.servers, "a:1,b:2");
	UNIT_ASSERT_INT(cfg.log.level, SB_LOG_DEBUG);
	CU_ASSERT(cfg.log.access == false);
	CU_ASSERT(cfg.metrics.public == true);
	/* Keys the file leaves alone keep their defaults. */
	UNIT_ASSERT_INT(cfg.http.max_json_depth, 32);
	UNIT_ASSERT_INT(cfg.server.max_requests, 10000);
	config_free(&cfg);
}

/* err must start with "path:line:" and mention what. */
static void
assert_error_at(const char *err, const char *path, int line, const char *what)
{
	char prefix[128];

	snprintf(prefix, sizeof(prefix), "%s:%d:", path != NULL ? path : "?", line);
	CU_ASSERT(strncmp(err, prefix, strlen(prefix)) == 0);
	UNIT_ASSERT_CONTAINS(err, prefix);
	UNIT_ASSERT_CONTAINS(err, what);
}

static void
test_unknown_key(void)
{
	struct sb_config	 cfg;
	char			 err[512];
	const char		*path;

	UNIT_ASSERT_INT(load_text(&cfg, "[server]\nworkers = 2\n\nbogus = 1\n", &path,
	    err, sizeof(err)), -1);
	assert_error_at(err, path, 4, "bogus");
	config_free(&cfg);

	UNIT_ASSERT_INT(load_text(&cfg, "[nosuchsection]\nworkers = 2\n", &path,
	    err, sizeof(err)), -1);
	assert_error_at(err, path, 2, "nosuchsection");
	config_free(&cfg);

	UNIT_ASSERT_INT(load_text(&cfg, "# no section yet\nworkers = 2\n", &path,
	    err, sizeof(err)), -1);
	assert_error_at(err, path, 2, "workers");
	config_free(&cfg);
}

static void
test_malformed_lines(void)
{
	struct sb_config	 cfg;
	char			 err[512];
	const char		*path;

	UNIT_ASSERT_INT(load_text(&cfg, "[server\nworkers = 2\n", &path, err, sizeof(err)), -1);
	assert_error_at(err, path, 1, "section");
	config_free(&cfg);

	UNIT_ASSERT_INT(load_text(&cfg, "[server]\nworkers 2\n", &path, err, sizeof(err)), -1);
	assert_error_at(err, path, 2, "key = value");
	config_free(&cfg);

	UNIT_ASSERT_INT(load_text(&cfg, "[database]\nurl = \"postgresql://x\n", &path,
	    err, sizeof(err)), -1);
	assert_error_at(err, path, 2, "quote");
	config_free(&cfg);

	err[0] = '\0';
	UNIT_ASSERT_INT(config_load(&cfg, "/nonexistent/sb-unit.conf", err, sizeof(err)), -1);
	UNIT_ASSERT_CONTAINS(err, "/nonexistent/sb-unit.conf");
	config_free(&cfg);
}

/* A failed load leaves nothing to free: a program that exits on a bad config
 * leaks nothing (LeakSanitizer caught the worker doing so). */
static void
test_failed_load_owns_nothing(void)
{
	struct sb_config	 cfg;
	char			 err[256];
	const char		*path;

	UNIT_ASSERT_INT(load_text(&cfg, "[worker]\nmax_inflight = 4\n[llm]\nno_such_key = 1\n",
	    &path, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NULL(cfg.path);
	CU_ASSERT_PTR_NULL(cfg.database.url);
	CU_ASSERT_PTR_NULL(cfg.worker.metrics_listen);
	CU_ASSERT_EQUAL(cfg.worker.max_inflight, 0);
}

static void
test_bad_values(void)
{
	static const struct {
		const char	*text;
		const char	*key;
	} cases[] = {
		{ "[server]\nworkers = many\n", "server.workers" },
		{ "[server]\nworkers = 5000\n", "server.workers" },	/* above the maximum */
		{ "[server]\nworkers = -1\n", "server.workers" },	/* below the minimum */
		{ "[server]\nworkers = 4x\n", "server.workers" },
		{ "[server]\nworkers =\n", "server.workers" },
		{ "[http]\nmax_body = 99999999999999999999\n", "http.max_body" },
		{ "[server]\nsocket_mode = 0999\n", "server.socket_mode" },
		{ "[log]\naccess = maybe\n", "log.access" },
		{ "[metrics]\npublic = TRUE!\n", "metrics.public" },
		{ "[log]\nlevel = loud\n", "log.level" },
	};
	struct sb_config	 cfg;
	char			 err[512];
	const char		*path;
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		UNIT_ASSERT_INT(load_text(&cfg, cases[i].text, &path, err, sizeof(err)), -1);
		assert_error_at(err, path, 2, cases[i].key);
		config_free(&cfg);
		if (ntmp > 0)
			unlink(tmp_paths[--ntmp]);
	}
}

static void
test_env_override(void)
{
	struct sb_config	 cfg;
	char			 err[512];
	const char		*path;

	setenv("SWITCHBOARD_SERVER_WORKERS", "7", 1);
	setenv("SWITCHBOARD_LOG_LEVEL", "error", 1);
	setenv("SWITCHBOARD_METRICS_PUBLIC", "true", 1);
	setenv("SWITCHBOARD_DATABASE_URL", "postgresql://env/sb", 1);
	UNIT_ASSERT_INT(load_text(&cfg,
	    "[server]\nworkers = 4\nbacklog = 12\n"
	    "[log]\nlevel = debug\n"
	    "[database]\nurl = postgresql://file/sb\n", &path, err, sizeof(err)), 0);
	UNIT_ASSERT_STR(err, "");
	UNIT_ASSERT_INT(cfg.server.workers, 7);
	UNIT_ASSERT_INT(cfg.server.backlog, 12);	/* no variable: the file's value */
	UNIT_ASSERT_INT(cfg.log.level, SB_LOG_ERROR);
	CU_ASSERT(cfg.metrics.public == true);
	UNIT_ASSERT_STR(cfg.database.url, "postgresql://env/sb");
	/* migrate_url has a default of its own (the owner), not the url's. */
	UNIT_ASSERT_STR(cfg.database.migrate_url,
	    "postgresql:///switchboard?host=/var/run/postgresql&user=switchboard");
	config_free(&cfg);

	/* Without a file, too. */
	UNIT_ASSERT_INT(config_load(&cfg, NULL, err, sizeof(err)), 0);
	UNIT_ASSERT_INT(cfg.server.workers, 7);
	config_free(&cfg);
	env_clear();
}

static void
test_env_bad_value(void)
{
	struct sb_config	 cfg;
	char			 err[512] = "";

	setenv("SWITCHBOARD_HTTP_MAX_BODY", "lots", 1);
	UNIT_ASSERT_INT(config_load(&cfg, NULL, err, sizeof(err)), -1);
	UNIT_ASSERT_CONTAINS(err, "SWITCHBOARD_HTTP_MAX_BODY");
	UNIT_ASSERT_CONTAINS(err, "lots");
	config_free(&cfg);
	unsetenv("SWITCHBOARD_HTTP_MAX_BODY");

	err[0] = '\0';
	setenv("SWITCHBOARD_LOG_ACCESS", "", 1);
	UNIT_ASSERT_INT(config_load(&cfg, NULL, err, sizeof(err)), -1);
	UNIT_ASSERT_CONTAINS(err, "SWITCHBOARD_LOG_ACCESS");
	config_free(&cfg);
	env_clear();
}

static void
test_migrate_url(void)
{
	struct sb_config	 cfg;
	char			 err[512];
	const char		*path;

	UNIT_ASSERT_INT(load_text(&cfg, "[database]\nurl = postgresql://app@h/sb\nmigrate_url =\n",
	    &path, err, sizeof(err)), 0);
	UNIT_ASSERT_STR(cfg.database.migrate_url, "postgresql://app@h/sb");
	CU_ASSERT(cfg.database.migrate_url != cfg.database.url);	/* owned separately */
	config_free(&cfg);

	UNIT_ASSERT_INT(load_text(&cfg, "[database]\nurl = postgresql://app@h/sb\n"
	    "migrate_url = postgresql://owner@h/sb\n", &path, err, sizeof(err)), 0);
	UNIT_ASSERT_STR(cfg.database.url, "postgresql://app@h/sb");
	UNIT_ASSERT_STR(cfg.database.migrate_url, "postgresql://owner@h/sb");
	config_free(&cfg);
}

static void
check_env_name(const char *key, const char *env, const char *desc, void *arg)
{
	size_t	*bad = arg;
	char	 want[128], *p;

	snprintf(want, sizeof(want), "SWITCHBOARD_%s", key);
	for (p = want; *p != '\0'; p++)
		*p = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
	if (strcmp(env, want) != 0 || desc == NULL || desc[0] == '\0')
		(*bad)++;
}

static void
test_each_key(void)
{
	size_t bad = 0;

	config_each_key(check_env_name, &bad);
	UNIT_ASSERT_INT(bad, 0);
}

/* "section.key" for every `key =` line of the example, under its [section]. */
struct documented {
	char	 keys[128][96];
	size_t	 n;
	size_t	 missing;
	char	 first_missing[96];
};

static void
read_example(FILE *f, struct documented *d)
{
	char	 line[1024], section[64] = "", *s, *e;
	size_t	 n;

	while (fgets(line, sizeof(line), f) != NULL) {
		for (s = line; isspace((unsigned char)*s); s++)
			;
		if (*s == '[') {
			if ((e = strchr(s, ']')) != NULL)
				snprintf(section, sizeof(section), "%.*s", (int)(e - s - 1), s + 1);
			continue;
		}
		if (!isalpha((unsigned char)*s))
			continue;
		for (n = 0; isalnum((unsigned char)s[n]) || s[n] == '_'; n++)
			;
		for (e = s + n; *e == ' ' || *e == '\t'; e++)
			;
		if (*e != '=' || d->n == sizeof(d->keys) / sizeof(d->keys[0]))
			continue;
		snprintf(d->keys[d->n++], sizeof(d->keys[0]), "%s.%.*s", section, (int)n, s);
	}
}

static void
check_documented(const char *key, const char *env, const char *desc, void *arg)
{
	struct documented	*d = arg;
	size_t			 i;

	(void)env;
	(void)desc;
	for (i = 0; i < d->n; i++)
		if (strcmp(d->keys[i], key) == 0)
			return;
	if (d->missing++ == 0)
		snprintf(d->first_missing, sizeof(d->first_missing), "%s", key);
}

static void
test_example_documents_every_key(void)
{
	static struct documented	 d;
	const char			*path = SB_SRCDIR "/conf/switchboard.conf.example";
	FILE				*f;

	memset(&d, 0, sizeof(d));
	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	read_example(f, &d);
	fclose(f);
	CU_ASSERT(d.n > 0);
	config_each_key(check_documented, &d);
	UNIT_ASSERT_INT(d.missing, 0);
	UNIT_ASSERT_STR(d.first_missing, "");
}

static void
test_example_loads(void)
{
	struct sb_config	 cfg;
	char			 err[512] = "";

	/* The example holds no unknown key and no malformed value. */
	UNIT_ASSERT_INT(config_load(&cfg, SB_SRCDIR "/conf/switchboard.conf.example", err,
	    sizeof(err)), 0);
	UNIT_ASSERT_STR(err, "");
	UNIT_ASSERT_STR(cfg.database.url,
	    "postgresql:///switchboard?host=/var/run/postgresql&user=switchboard_app");
	UNIT_ASSERT_STR(cfg.database.migrate_url,
	    "postgresql:///switchboard?host=/var/run/postgresql&user=switchboard");
	config_free(&cfg);
}

/* A quoted value ends at its closing quote; only a comment may follow, and a
 * section header may carry a comment too. */
static void
test_quotes_and_trailing_comments(void)
{
	struct sb_config	 cfg;
	const char		*path;
	char			 err[512], want[600];

	UNIT_ASSERT_INT(load_text(&cfg, "[database] # the database\n"
	    "url = \"a#b\" # \"not part of it\"\n", &path, err, sizeof(err)), 0);
	UNIT_ASSERT_STR(cfg.database.url, "a#b");
	config_free(&cfg);

	UNIT_ASSERT_INT(load_text(&cfg, "[database]\nurl = \"a\" junk\n", &path, err,
	    sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2: unexpected text after the closing quote", path);
	UNIT_ASSERT_STR(err, want);
	config_free(&cfg);

	UNIT_ASSERT_INT(load_text(&cfg, "[database] junk\n", &path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:1: malformed section header", path);
	UNIT_ASSERT_STR(err, want);
	config_free(&cfg);
}

/* SB_SCHEMA_VERSION must be the number of the last migration file. */
static void
test_schema_version_matches_sql(void)
{
	DIR		*d = opendir(SB_SRCDIR "/sql");
	struct dirent	*de;
	int		 v, newest = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while ((de = readdir(d)) != NULL)
		if (isdigit((unsigned char)de->d_name[0]) && strstr(de->d_name, ".sql") != NULL &&
		    (v = atoi(de->d_name)) > newest)
			newest = v;
	closedir(d);
	UNIT_ASSERT_INT(SB_SCHEMA_VERSION, newest);
}

/* A role named in the config must exist (a typo would refuse every token). */
static void
test_roles_validated(void)
{
	struct sb_config	 cfg;
	const char		*path;
	char			 err[512];

	UNIT_ASSERT_INT(load_text(&cfg, "[jwt]\ndefault_role = superuser\n", &path, err,
	    sizeof(err)), -1);
	UNIT_ASSERT_CONTAINS(err, "jwt.default_role: expected owner, admin, member or viewer");
	config_free(&cfg);
	UNIT_ASSERT_INT(load_text(&cfg, "[oidc]\nprovision_role = Admin\n", &path, err,
	    sizeof(err)), -1);
	UNIT_ASSERT_CONTAINS(err, "oidc.provision_role");
	config_free(&cfg);
}

void
suite_config(void)
{
	CU_pSuite s = unit_suite("config", config_init, config_clean);

	unit_test(s, "defaults", test_defaults);
	unit_test(s, "sections, comments and quoted values", test_file);
	unit_test(s, "unknown key names file:line", test_unknown_key);
	unit_test(s, "malformed lines and missing file", test_malformed_lines);
	unit_test(s, "a failed load leaves nothing to free", test_failed_load_owns_nothing);
	unit_test(s, "bad int, octal, bool and level values name the key", test_bad_values);
	unit_test(s, "environment beats the file", test_env_override);
	unit_test(s, "bad environment value names the variable", test_env_bad_value);
	unit_test(s, "migrate_url defaults to url", test_migrate_url);
	unit_test(s, "config_each_key env names and descriptions", test_each_key);
	unit_test(s, "conf/switchboard.conf.example documents every key",
	    test_example_documents_every_key);
	unit_test(s, "conf/switchboard.conf.example loads", test_example_loads);
	unit_test(s, "quoted values and trailing comments", test_quotes_and_trailing_comments);
	unit_test(s, "SB_SCHEMA_VERSION is the last file in sql/", test_schema_version_matches_sql);
	unit_test(s, "roles in the config are validated", test_roles_validated);
}
