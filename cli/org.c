/* org.c: `switchboardctl org add SLUG [NAME] [--exist-ok]`. */
#include "config.h"

#include <getopt.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <libpq-fe.h>

#include "cli/ctl.h"
#include "core/conf.h"
#include "core/db.h"

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
	fprintf(stderr, "usage: switchboardctl org add SLUG [NAME] [--exist-ok]\n");
	return 2;
}
