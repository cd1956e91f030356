/* common.c: what the identity commands share: the owner's connection, lookups, audit. */
#include "config.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdio.h>
#include <libpq-fe.h>

#include "cli/ctl.h"
#include "core/cache.h"
#include "core/conf.h"
#include "core/db.h"
#include "core/err.h"

int
ctl_connect(const struct sb_config *cfg, struct sb_db *db)
{
	/* The schema owner: the one role row-level security does not confine. */
	db_init(db, cfg->database.migrate_url, cfg->database.connect_timeout, 0);
	if (db_connect_wait(db, 5000) != SB_OK) {
		fprintf(stderr, "switchboardctl: cannot connect to the database: %s\n", db->last_error);
		db_close(db);
		return -1;
	}
	return 0;
}

PGresult *
ctl_query(struct sb_db *db, const char *sql, int n, const char *const *params)
{
	enum sb_err	 err;
	PGresult	*res = db_exec(db, sql, n, params, &err);

	if (res == NULL)
		fprintf(stderr, "switchboardctl: %s", db->last_error);
	return res;
}

int64_t
ctl_org_id(struct sb_db *db, const char *slug)
{
	const char	*p[1] = { slug };
	PGresult	*res = ctl_query(db, "SELECT id FROM orgs WHERE slug = $1", 1, p);
	int64_t		 id = -1;

	if (res != NULL && PQntuples(res) == 1)
		id = atoll(PQgetvalue(res, 0, 0));
	else if (res != NULL)
		fprintf(stderr, "switchboardctl: no org \"%s\"\n", slug);
	PQclear(res);
	return id;
}

void
ctl_audit(struct sb_db *db, int64_t org_id, const char *action, const char *target,
    const char *details)
{
	char		 org[24];
	const char	*p[4] = { org, action, target, details != NULL ? details : "{}" };

	snprintf(org, sizeof(org), "%lld", (long long)org_id);
	PQclear(ctl_query(db, "INSERT INTO audit_log (org_id, actor_type, action, target, details) "
	    "VALUES ($1, 'system', $2, $3, $4::jsonb)", 4, p));
}

void
ctl_forget(const struct sb_config *cfg, const char *ns, const char *id)
{
	struct sb_cache *c = cache_open(cfg->memcached.servers, cfg->memcached.timeout_ms,
	    cfg->memcached.secret);

	/* Best effort: without it the entry still expires within the cache TTL. */
	if (c == NULL || cache_delete(c, ns, id) != SB_OK)
		fprintf(stderr, "switchboardctl: note: could not reach memcached; the change takes "
		    "effect within the cache TTL\n");
	cache_close(c);
}

int
ctl_by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}
