/* agents.c: `switchboardctl agents import`: load agent definitions from JSON files. */
#include "config.h"

#include <dirent.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "cli/ctl.h"
#include "core/agent.h"
#include "core/conf.h"
#include "core/db.h"

/* Inserts or updates one definition; a changed one gets version + 1.  Returns
 * 'i' (inserted), 'u' (updated), '=' (unchanged) or 0 (failed, printed). */
static int
upsert(struct sb_db *db, const char *org, json_t *d)
{
	const char	*p[AGENT_NPARAMS];
	char		*json;
	PGresult	*res;
	int		 rc = 0;

	agent_bind(d, org, p, &json);
	res = ctl_query(db,
	    "INSERT INTO agents AS a (org_id, slug, name, description, category, provider, model, "
	    "system_prompt, parameters, tools, enabled) VALUES (NULLIF($1, '')::bigint, $2, $3, $4, "
	    "$5, $6, $7, $8, $9::jsonb, ARRAY(SELECT jsonb_array_elements_text($10::jsonb)), "
	    "$11::boolean) "
	    "ON CONFLICT (coalesce(org_id, 0), slug) DO UPDATE SET name = EXCLUDED.name, "
	    "description = EXCLUDED.description, category = EXCLUDED.category, "
	    "provider = EXCLUDED.provider, model = EXCLUDED.model, "
	    "system_prompt = EXCLUDED.system_prompt, parameters = EXCLUDED.parameters, "
	    "tools = EXCLUDED.tools, enabled = EXCLUDED.enabled, version = a.version + 1, "
	    "updated_at = now() "
	    "WHERE (a.name, a.description, a.category, a.provider, a.model, a.system_prompt, "
	    "a.parameters, a.tools, a.enabled) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.description, "
	    "EXCLUDED.category, EXCLUDED.provider, EXCLUDED.model, EXCLUDED.system_prompt, "
	    "EXCLUDED.parameters, EXCLUDED.tools, EXCLUDED.enabled) "
	    "RETURNING version", 11, p);
	if (res != NULL)
		rc = PQntuples(res) == 0 ? '=' : atoi(PQgetvalue(res, 0, 0)) == 1 ? 'i' : 'u';
	PQclear(res);
	free(json);
	return rc;
}

static int
import_file(struct sb_db *db, const char *org, const char *path, int counts[3])
{
	struct agent_error	 e;
	json_error_t		 jerr;
	json_t			*in, *d;
	int			 r;

	if ((in = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		fprintf(stderr, "switchboardctl: %s:%d: %s\n", path, jerr.line, jerr.text);
		return -1;
	}
	d = agent_validate(in, NULL, &e);
	json_decref(in);
	if (d == NULL) {
		fprintf(stderr, "switchboardctl: %s: %s\n", path, e.detail);
		return -1;
	}
	r = upsert(db, org, d);
	json_decref(d);
	if (r == 0)
		return -1;
	counts[r == 'i' ? 0 : r == 'u' ? 1 : 2]++;
	return 0;
}

int
cmd_agents(const struct sb_config *cfg, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "org", required_argument, NULL, 'o' }, { NULL, 0, NULL, 0 }
	};
	const char	*org_slug = NULL, *dflt[] = { SB_DATADIR "/agents" };
	char		 org[24] = "", path[4096];
	struct dirent	**ents;
	struct stat	 st;
	struct sb_db	 db;
	int		 c, i, j, n, npaths, counts[3] = { 0, 0, 0 }, failed = 0;
	const char *const *paths;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (c == 'o')
			org_slug = optarg;
		else
			goto usage;
	if (optind >= argc || strcmp(argv[optind], "import") != 0)
		goto usage;
	paths = argc - optind > 1 ? (const char *const *)(argv + optind + 1) : dflt;
	npaths = argc - optind > 1 ? argc - optind - 1 : 1;
	if (ctl_connect(cfg, &db) < 0)
		return 1;
	if (org_slug != NULL) {
		int64_t oid = ctl_org_id(&db, org_slug);

		if (oid < 0) {
			db_close(&db);
			return 1;
		}
		snprintf(org, sizeof(org), "%lld", (long long)oid);
	}
	/* Files are read in name order; a directory means its *.json files. */
	for (i = 0; i < npaths; i++) {
		if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			if ((n = scandir(paths[i], &ents, NULL, ctl_by_name)) < 0) {
				fprintf(stderr, "switchboardctl: cannot read %s\n", paths[i]);
				failed++;
				continue;
			}
			for (j = 0; j < n; j++) {
				size_t len = strlen(ents[j]->d_name);

				if (len > 5 && strcmp(ents[j]->d_name + len - 5, ".json") == 0) {
					snprintf(path, sizeof(path), "%s/%s", paths[i], ents[j]->d_name);
					failed += import_file(&db, org, path, counts) < 0;
				}
				free(ents[j]);
			}
			free(ents);
		} else
			failed += import_file(&db, org, paths[i], counts) < 0;
	}
	db_close(&db);
	printf("%d imported, %d updated, %d unchanged%s%s\n", counts[0], counts[1], counts[2],
	    org_slug ? " in org " : " as global defaults", org_slug ? org_slug : "");
	return failed ? 1 : 0;
usage:
	fprintf(stderr, "usage: switchboardctl agents import [--org SLUG] [FILE.json|DIR ...]\n"
	    "  (default %s; without --org the agents are global defaults every org sees)\n",
	    SB_DATADIR "/agents");
	return 2;
}
