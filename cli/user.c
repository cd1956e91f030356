/* user.c: `switchboardctl user add|role|disable|enable|password`: accounts, from the command line. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <libpq-fe.h>

#include "cli/ctl.h"
#include "core/conf.h"
#include "core/crypto.h"
#include "core/db.h"
#include "core/scope.h"

/* The password is the first line of standard input (never an argument: those
 * show in ps and shell histories). */
static int
read_password(const struct sb_config *cfg, char *buf, size_t len)
{
	const char	*p;
	size_t		 n;
	int		 chars;

	if (fgets(buf, (int)len, stdin) == NULL) {
		fprintf(stderr, "switchboardctl: give the password on standard input\n");
		return -1;
	}
	n = strcspn(buf, "\r\n");
	if (buf[n] == '\0' && !feof(stdin)) {
		fprintf(stderr, "switchboardctl: password longer than %d bytes\n", PASSWORD_MAX);
		return -1;
	}
	buf[n] = '\0';
	/* Characters, not bytes: UTF-8 continuation bytes do not count. */
	for (chars = 0, p = buf; *p != '\0'; p++)
		chars += ((unsigned char)*p & 0xc0) != 0x80;
	if (chars < cfg->auth.password_min) {
		fprintf(stderr, "switchboardctl: password shorter than %d characters\n",
		    cfg->auth.password_min);
		return -1;
	}
	return 0;
}

static int
user_add(const struct sb_config *cfg, struct sb_db *db, const char *org, const char *email,
    const char *role, const char *name, int exist_ok)
{
	char		 pw[PASSWORD_MAX + 2], hash[160], orgid[24];
	const char	*p[5] = { orgid, email, name, role, hash };
	PGresult	*res;
	int64_t		 oid;
	int		 rc = 1;

	if (role_parse(role) < 0) {
		fprintf(stderr, "switchboardctl: unknown role \"%s\" (owner, admin, member, viewer)\n", role);
		return 2;
	}
	if ((oid = ctl_org_id(db, org)) < 0)
		return 1;
	if (read_password(cfg, pw, sizeof(pw)) < 0)
		return 1;
	if (password_hash(pw, cfg->auth.pwhash_opslimit, cfg->auth.pwhash_memlimit_kib, hash,
	    sizeof(hash)) < 0) {
		fprintf(stderr, "switchboardctl: password hashing failed (memory?)\n");
		return 1;
	}
	snprintf(orgid, sizeof(orgid), "%lld", (long long)oid);
	res = ctl_query(db, "INSERT INTO users (org_id, email, name, role, password_hash) "
	    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (lower(email)) DO NOTHING RETURNING id", 5, p);
	if (res != NULL && PQntuples(res) == 1) {
		printf("%s\n", PQgetvalue(res, 0, 0));
		ctl_audit(db, oid, "user.created", email, NULL);
		rc = 0;
	} else if (res != NULL && exist_ok)
		rc = 0;
	else if (res != NULL)
		fprintf(stderr, "switchboardctl: a user with the address %s exists\n", email);
	PQclear(res);
	return rc;
}

/* Ends every session of the user now (the role and the password are checked at
 * login and cached with each session). */
static int
end_sessions(const struct sb_config *cfg, struct sb_db *db, const char *email)
{
	const char	*p[1] = { email };
	PGresult	*res;
	int		 i;

	res = ctl_query(db, "UPDATE sessions s SET revoked_at = now() FROM users u "
	    "WHERE s.user_id = u.id AND lower(u.email) = lower($1) AND s.revoked_at IS NULL "
	    "RETURNING s.token_hash", 1, p);
	for (i = 0; res != NULL && i < PQntuples(res); i++)
		ctl_forget(cfg, "sess", PQgetvalue(res, i, 0));
	PQclear(res);
	return res != NULL ? 0 : -1;
}

/* role, disable, enable or password: one UPDATE, an audit line, and the sessions
 * (and, when disabling, the cached keys the user made) dropped. */
static int
user_change(const struct sb_config *cfg, struct sb_db *db, const char *email, const char *verb,
    const char *role)
{
	char		 pw[PASSWORD_MAX + 2], hash[160], details[96] = "{}";
	const char	*p[2] = { email, NULL }, *sql, *action;
	PGresult	*res;
	int		 i;

	if (strcmp(verb, "role") == 0) {
		if (role_parse(role) < 0) {
			fprintf(stderr, "switchboardctl: unknown role \"%s\" (owner, admin, member, "
			    "viewer)\n", role);
			return 2;
		}
		p[1] = role;
		sql = "UPDATE users SET role = $2, updated_at = now() WHERE lower(email) = lower($1) "
		    "RETURNING org_id";
		action = "role.changed";
		snprintf(details, sizeof(details), "{\"role\": \"%s\"}", role);
	} else if (strcmp(verb, "password") == 0) {
		if (read_password(cfg, pw, sizeof(pw)) < 0 ||
		    password_hash(pw, cfg->auth.pwhash_opslimit, cfg->auth.pwhash_memlimit_kib, hash,
		    sizeof(hash)) < 0)
			return 1;
		p[1] = hash;
		sql = "UPDATE users SET password_hash = $2, updated_at = now() WHERE lower(email) = "
		    "lower($1) RETURNING org_id";
		action = "password.changed";
	} else {
		p[1] = strcmp(verb, "disable") == 0 ? "true" : "false";
		sql = "UPDATE users SET disabled = $2::boolean, updated_at = now() WHERE lower(email) = "
		    "lower($1) RETURNING org_id";
		action = strcmp(verb, "disable") == 0 ? "user.disabled" : "user.enabled";
	}
	if ((res = ctl_query(db, sql, 2, p)) == NULL)
		return 1;
	if (PQntuples(res) != 1) {
		fprintf(stderr, "switchboardctl: no user with the address %s\n", email);
		PQclear(res);
		return 1;
	}
	ctl_audit(db, atoll(PQgetvalue(res, 0, 0)), action, email, details);
	PQclear(res);
	if (strcmp(verb, "enable") != 0 && end_sessions(cfg, db, email) < 0)
		return 1;
	if (strcmp(verb, "disable") != 0 && strcmp(verb, "enable") != 0)
		return 0;
	/* Keys the user made stop and start with the user: drop their cache entries. */
	res = ctl_query(db, "SELECT k.key_id FROM api_keys k JOIN users u ON u.id = k.created_by "
	    "WHERE lower(u.email) = lower($1)", 1, p);
	for (i = 0; res != NULL && i < PQntuples(res); i++)
		ctl_forget(cfg, "key", PQgetvalue(res, i, 0));
	PQclear(res);
	return res != NULL ? 0 : 1;
}

int
cmd_user(const struct sb_config *cfg, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "org", required_argument, NULL, 'o' },
		{ "email", required_argument, NULL, 'e' },
		{ "role", required_argument, NULL, 'r' },
		{ "name", required_argument, NULL, 'n' },
		{ "exist-ok", no_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 }
	};
	struct sb_db	 db;
	const char	*org = NULL, *email = NULL, *role = "member", *name = "", *verb;
	int		 c, exist_ok = 0, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'o': org = optarg; break;
		case 'e': email = optarg; break;
		case 'r': role = optarg; break;
		case 'n': name = optarg; break;
		case 'x': exist_ok = 1; break;
		default: goto usage;
		}
	}
	if (optind >= argc || email == NULL)
		goto usage;
	verb = argv[optind];
	if (strcmp(verb, "add") == 0 && org == NULL)
		goto usage;
	if (strcmp(verb, "role") == 0 && optind + 1 < argc)
		role = argv[optind + 1];
	else if (strcmp(verb, "role") == 0)
		goto usage;
	else if (strcmp(verb, "add") != 0 && strcmp(verb, "disable") != 0 &&
	    strcmp(verb, "enable") != 0 && strcmp(verb, "password") != 0)
		goto usage;
	if (ctl_connect(cfg, &db) < 0)
		return 1;
	if (strcmp(verb, "add") == 0)
		rc = user_add(cfg, &db, org, email, role, name, exist_ok);
	else
		rc = user_change(cfg, &db, email, verb, role);
	db_close(&db);
	return rc;
usage:
	fprintf(stderr,
	    "usage: switchboardctl user add --org SLUG --email ADDRESS [--role ROLE] [--name NAME] "
	    "[--exist-ok] < password\n"
	    "       switchboardctl user role --email ADDRESS ROLE\n"
	    "       switchboardctl user disable|enable --email ADDRESS\n"
	    "       switchboardctl user password --email ADDRESS < password\n");
	return 2;
}
