/* key.c: `switchboardctl key create|revoke`: API keys for services and scripts. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "cli/ctl.h"
#include "core/conf.h"
#include "core/crypto.h"
#include "core/db.h"
#include "core/scope.h"

static int
key_create(struct sb_db *db, const char *org, const char *scopes, const char *name, int days)
{
	char		 key_id[KEY_ID_LEN + 1], secret[TOKEN_LEN + 1], hash[HASH_HEX_LEN + 1];
	char		 orgid[24], arr[256], d[16], bad[64];
	const char	*p[6] = { orgid, key_id, hash, name, arr, d };
	unsigned	 bits;
	PGresult	*res;
	json_t		*js, *o;
	char		*audit_scopes;
	int64_t		 oid;
	int		 rc = 1;

	if (scopes_parse(scopes, &bits, bad, sizeof(bad)) < 0 || bits == 0) {
		fprintf(stderr, "switchboardctl: unknown scope \"%s\"\n", bits == 0 && !*bad ? scopes : bad);
		return 2;
	}
	if ((oid = ctl_org_id(db, org)) < 0)
		return 1;
	api_key_new(key_id, secret);
	token_hash(secret, hash);
	snprintf(orgid, sizeof(orgid), "%lld", (long long)oid);
	snprintf(d, sizeof(d), "%d", days);
	scopes_pg_array(bits, arr, sizeof(arr));
	js = scopes_json(bits);
	o = json_pack("{s:o}", "scopes", js);
	audit_scopes = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	res = ctl_query(db, "INSERT INTO api_keys (org_id, key_id, secret_hash, name, scopes, expires_at) "
	    "VALUES ($1, $2, $3, $4, $5::text[], CASE WHEN $6 = '0' THEN NULL "
	    "ELSE now() + make_interval(days => $6::int) END) RETURNING id", 6, p);
	if (res != NULL && PQntuples(res) == 1) {
		/* Alone on standard output, so scripts can capture it; shown only now. */
		printf("sb_%s_%s\n", key_id, secret);
		ctl_audit(db, oid, "key.created", key_id, audit_scopes);
		rc = 0;
	}
	PQclear(res);
	free(audit_scopes);
	return rc;
}

static int
key_revoke(const struct sb_config *cfg, struct sb_db *db, const char *key_id)
{
	const char	*p[1] = { key_id };
	PGresult	*res;
	int		 rc = 1;

	res = ctl_query(db, "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) "
	    "WHERE key_id = $1 RETURNING org_id", 1, p);
	if (res != NULL && PQntuples(res) == 1) {
		ctl_audit(db, atoll(PQgetvalue(res, 0, 0)), "key.revoked", key_id, NULL);
		ctl_forget(cfg, "key", key_id);
		rc = 0;
	} else if (res != NULL)
		fprintf(stderr, "switchboardctl: no key %s\n", key_id);
	PQclear(res);
	return rc;
}

int
cmd_key(const struct sb_config *cfg, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "org", required_argument, NULL, 'o' },
		{ "scopes", required_argument, NULL, 's' },
		{ "name", required_argument, NULL, 'n' },
		{ "expires-days", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	struct sb_db	 db;
	const char	*org = NULL, *scopes = NULL, *name = "";
	char		*end;
	long		 days = 0;
	int		 c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'o': org = optarg; break;
		case 's': scopes = optarg; break;
		case 'n': name = optarg; break;
		case 'd':
			days = strtol(optarg, &end, 10);
			if (*end != '\0' || days < 1 || days > 3650)
				goto usage;
			break;
		default: goto usage;
		}
	}
	if (optind >= argc)
		goto usage;
	if (strcmp(argv[optind], "create") == 0 && org != NULL && scopes != NULL &&
	    optind + 1 == argc) {
		if (ctl_connect(cfg, &db) < 0)
			return 1;
		rc = key_create(&db, org, scopes, name, (int)days);
	} else if (strcmp(argv[optind], "revoke") == 0 && optind + 2 == argc) {
		if (ctl_connect(cfg, &db) < 0)
			return 1;
		rc = key_revoke(cfg, &db, argv[optind + 1]);
	} else
		goto usage;
	db_close(&db);
	return rc;
usage:
	fprintf(stderr,
	    "usage: switchboardctl key create --org SLUG --scopes SCOPE[,SCOPE...] [--name NAME] "
	    "[--expires-days N]\n"
	    "       switchboardctl key revoke KEY_ID\n");
	return 2;
}
