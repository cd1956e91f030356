/* org.c: `switchboardctl org add SLUG [NAME] [--exist-ok]`, and the hosts an org's
 * agents may fetch although they are on a private network:
 * `switchboardctl org allow-host SLUG HOST`, `org deny-host SLUG HOST`,
 * `org hosts SLUG`. */
#include "config.h"

#include <getopt.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <libpq-fe.h>

#include "cli/ctl.h"
#include "core/conf.h"
#include "core/db.h"

/* A host as the allowlist keeps it: 1 to 253 of a-z, 0-9, '-', '.', ':' (an IPv6
 * address, without brackets), lower-cased in place. */
static int
host_valid(char *h)
{
	size_t i, n = strlen(h);

	if (n < 1 || n > 253)
		return 0;
	for (i = 0; i < n; i++) {
		if (h[i] >= 'A' && h[i] <= 'Z')
			h[i] = (char)(h[i] - 'A' + 'a');
		if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= '0' && h[i] <= '9') ||
		    h[i] == '-' || h[i] == '.' || h[i] == ':'))
			return 0;
	}
	return 1;
}

static int
org_hosts(const struct sb_config *cfg, const char *verb, const char *slug, char *host)
{
	static const char *const sql[] = {
		/* allow-host */
		"UPDATE orgs SET fetch_allow_hosts = fetch_allow_hosts || $2::text, "
		"updated_at = now() WHERE slug = $1 RETURNING id, "
		"array_to_string(fetch_allow_hosts, ' ')",
		/* deny-host */
		"UPDATE orgs SET fetch_allow_hosts = array_remove(fetch_allow_hosts, $2), "
		"updated_at = now() WHERE slug = $1 RETURNING id, "
		"array_to_string(fetch_allow_hosts, ' ')",
		/* hosts */
		"SELECT id, array_to_string(fetch_allow_hosts, ' ') FROM orgs WHERE slug = $1",
	};
	struct sb_db	 db;
	const char	*p[2] = { slug, host };
	PGresult	*res;
	int		 k = strcmp(verb, "allow-host") == 0 ? 0 : strcmp(verb, "deny-host") == 0 ?
			    1 : 2, rc = 1;

	if (host != NULL && !host_valid(host)) {
		fprintf(stderr, "switchboardctl: \"%s\" is not a host name or address\n", host);
		return 2;
	}
	if (ctl_connect(cfg, &db) < 0)
		return 1;
	/* Each host once: allowing one twice changes nothing. */
	if (k == 0)
		PQclear(ctl_query(&db, "UPDATE orgs SET fetch_allow_hosts = "
		    "array_remove(fetch_allow_hosts, $2) WHERE slug = $1", 2, p));
	res = ctl_query(&db, sql[k], k == 2 ? 1 : 2, p);
	if (res != NULL && PQntuples(res) == 1) {
		printf("%s\n", PQgetvalue(res, 0, 1));
		if (k < 2)
			ctl_audit(&db, atoll(PQgetvalue(res, 0, 0)),
			    k == 0 ? "org.fetch_host_allowed" : "org.fetch_host_denied", host, NULL);
		rc = 0;
	} else if (res != NULL)
		fprintf(stderr, "switchboardctl: no org \"%s\"\n", slug);
	PQclear(res);
	db_close(&db);
	return rc;
}

int
cmd_org(const struct sb_config *cfg, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "exist-ok", no_argument, NULL, 'e' }, { NULL, 0, NULL, 0 }
	};
	struct sb_db	 db;
	const char	*p[2];
	PGresult	*res;
	int		 c, exist_ok = 0, rc = 1;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (c == 'e')
			exist_ok = 1;
		else
			goto usage;
	if (argc - optind == 3 && !exist_ok && (strcmp(argv[optind], "allow-host") == 0 ||
	    strcmp(argv[optind], "deny-host") == 0))
		return org_hosts(cfg, argv[optind], argv[optind + 1], argv[optind + 2]);
	if (argc - optind == 2 && !exist_ok && strcmp(argv[optind], "hosts") == 0)
		return org_hosts(cfg, argv[optind], argv[optind + 1], NULL);
	if (argc - optind < 2 || argc - optind > 3 || strcmp(argv[optind], "add") != 0)
		goto usage;
	p[0] = argv[optind + 1];
	p[1] = argc - optind == 3 ? argv[optind + 2] : argv[optind + 1];
	if (ctl_connect(cfg, &db) < 0)
		return 1;
	res = ctl_query(&db, "INSERT INTO orgs (slug, name) VALUES ($1, $2) "
	    "ON CONFLICT (slug) DO NOTHING RETURNING id", 2, p);
	if (res != NULL && PQntuples(res) == 1) {
		printf("%s\n", PQgetvalue(res, 0, 0));
		ctl_audit(&db, atoll(PQgetvalue(res, 0, 0)), "org.created", p[0], NULL);
		rc = 0;
	} else if (res != NULL && exist_ok)
		rc = 0;
	else if (res != NULL)
		fprintf(stderr, "switchboardctl: org \"%s\" exists\n", p[0]);
	PQclear(res);
	db_close(&db);
	return rc;
usage:
	fprintf(stderr, "usage: switchboardctl org add SLUG [NAME] [--exist-ok]\n"
	    "       switchboardctl org allow-host|deny-host SLUG HOST\n"
	    "       switchboardctl org hosts SLUG\n");
	return 2;
}
