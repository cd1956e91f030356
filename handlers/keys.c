/* keys.c: API keys: GET/POST /api/v1/keys and DELETE /api/v1/keys/{id}. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "handlers/handlers.h"
#include "core/arena.h"
#include "core/cache.h"
#include "core/crypto.h"
#include "core/db.h"
#include "core/err.h"
#include "core/scope.h"
#include "fcgi-app/access.h"
#include "fcgi-app/app.h"
#include "fcgi-app/page.h"
#include "fcgi-app/request.h"
#include "fcgi-app/response.h"

#define KEY_DAYS_MAX 3650

/* The columns key_json() reads, in its order. */
#define KEY_COLUMNS "key_id, name, scopes, " SQL_ISO("created_at") ", " SQL_ISO("expires_at") ", " \
	SQL_ISO("revoked_at") ", " SQL_ISO("last_used_at")

/* One key as the API shows it, from KEY_COLUMNS starting at column c: never its
 * secret or the secret's hash. */
static json_t *
key_json(PGresult *res, int row, int c)
{
	static const char *const opt[] = { "expires_at", "revoked_at", "last_used_at" };
	json_t	*o;
	int	 i;

	o = json_pack("{s:s, s:s, s:o, s:s}", "id", PQgetvalue(res, row, c),
	    "name", PQgetvalue(res, row, c + 1),
	    "scopes", scopes_json(scopes_from_pg_array(PQgetvalue(res, row, c + 2))),
	    "created_at", PQgetvalue(res, row, c + 3));
	for (i = 0; i < 3; i++)
		json_object_set_new(o, opt[i], PQgetisnull(res, row, c + 4 + i) ? json_null() :
		    json_string(PQgetvalue(res, row, c + 4 + i)));
	return o;
}

/* ------------------------------------------------------------ list */

/* A row of the list: its cursor (id) first, then KEY_COLUMNS. */
static json_t *
key_item(PGresult *res, int row)
{
	return key_json(res, row, 1);
}

enum sb_err
h_keys_list(struct sb_req *req)
{
	static struct db_stmt		 q = { "keys_page",
	    "SELECT id, " KEY_COLUMNS " FROM api_keys WHERE ($1 = 0 OR id < $1) "
	    "ORDER BY id DESC LIMIT $2", 2, 0 };
	static const struct page_query	 page = { &q, key_item, NULL, 0 };

	return page_answer(req, &page);
}

/* ------------------------------------------------------------ create */

struct newkey {
	const char	*name;
	unsigned	 scopes;
	int		 days;		/* 0: no expiry */
	char		 key_id[KEY_ID_LEN + 1], secret[TOKEN_LEN + 1], hash[HASH_HEX_LEN + 1];
	json_t		*body;
};

static enum sb_err
key_insert(struct sb_req *req, void *arg)
{
	static struct db_stmt	 q = { "key_insert",
	    "INSERT INTO api_keys (org_id, key_id, secret_hash, name, scopes, created_by, expires_at) "
	    "VALUES ($1, $2, $3, $4, $5::text[], NULLIF($6, '0')::bigint, "
	    "CASE WHEN $7 = '0' THEN NULL ELSE now() + make_interval(days => $7::int) END) "
	    "RETURNING " KEY_COLUMNS, 7, 0 };
	struct newkey		*k = arg;
	char			 org[24], uid[24], days[16], scopes[256];
	const char		*p[7] = { org, k->key_id, k->hash, k->name, scopes, uid, days };
	enum sb_err		 err;
	PGresult		*res;

	snprintf(org, sizeof(org), "%lld", (long long)req->who.org_id);
	snprintf(uid, sizeof(uid), "%lld", (long long)req->who.user_id);
	snprintf(days, sizeof(days), "%d", k->days);
	scopes_pg_array(k->scopes, scopes, sizeof(scopes));
	if ((res = req_exec(req, &q, p, &err)) == NULL)
		return err;
	k->body = key_json(res, 0, 0);
	return SB_OK;
}

enum sb_err
h_keys_create(struct sb_req *req)
{
	struct newkey	 k;
	json_t		*scopes = NULL, *v;
	const char	*s;
	char		 full[4 + KEY_ID_LEN + TOKEN_LEN + 1];
	size_t		 i;
	unsigned	 bit;
	json_int_t	 days = 0;
	enum sb_err	 err;

	memset(&k, 0, sizeof(k));
	k.name = "";
	if (json_unpack(req->json, "{s:o, s?s, s?I !}", "scopes", &scopes, "name", &k.name,
	    "expires_in_days", &days) != 0 || !json_is_array(scopes) || json_array_size(scopes) == 0)
		return req_fail(req, SB_ERR_INVALID, "invalid-body", "expected {\"scopes\": [string, "
		    "...], \"name\"?: string, \"expires_in_days\"?: integer}");
	if (strlen(k.name) > 200)
		return req_fail(req, SB_ERR_UNPROCESSABLE, "invalid-name", "name is at most 200 bytes");
	if (days < 0 || days > KEY_DAYS_MAX)
		return req_fail(req, SB_ERR_UNPROCESSABLE, "invalid-expiry",
		    "expires_in_days is from 1 to 3650 (0 or absent: never)");
	k.days = (int)days;
	json_array_foreach(scopes, i, v) {
		if ((s = json_string_value(v)) == NULL || (bit = scope_bit(s)) == 0)
			return req_fail(req, SB_ERR_UNPROCESSABLE, "unknown-scope",
			    arena_printf(req->arena, "unknown scope %.64s", s != NULL ? s : "(not a string)"));
		/* A key never holds more than the caller that makes it. */
		if (!(req->who.scopes & bit))
			return req_fail(req, SB_ERR_UNPROCESSABLE, "scope-not-held",
			    arena_printf(req->arena, "you do not hold the scope %s", s));
		k.scopes |= bit;
	}
	api_key_new(k.key_id, k.secret);
	token_hash(k.secret, k.hash);
	if ((err = org_tx(req, key_insert, &k)) != SB_OK)
		return err;
	snprintf(full, sizeof(full), "sb_%s_%s", k.key_id, k.secret);
	/* The only time the key is shown. */
	json_object_set_new(k.body, "key", json_string(full));
	audit(req, "key.created", k.key_id, json_pack("{s:o}", "scopes", scopes_json(k.scopes)));
	resp_header(req, "Location", "/api/v1/keys/%s", k.key_id);
	resp_json(req, 201, k.body);
	return SB_OK;
}

/* ------------------------------------------------------------ revoke */

static enum sb_err
key_revoke(struct sb_req *req, void *arg)
{
	static struct db_stmt	 q = { "key_revoke",
	    "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE key_id = $1 "
	    "RETURNING id", 1, 0 };
	const char		*p[1] = { arg };

	return db_exec_found(&req->app->db, &q, p);
}

enum sb_err
h_keys_revoke(struct sb_req *req)
{
	const char	*id = req_path_param(req, "id");
	enum sb_err	 err;

	/* Another org's key is simply not there (row-level security): 404, as for none. */
	if ((err = org_tx(req, key_revoke, (void *)(uintptr_t)id)) != SB_OK)
		return err == SB_ERR_NOT_FOUND ?
		    req_fail(req, SB_ERR_NOT_FOUND, NULL, "no such key") : err;
	/* Every worker stops accepting it now, not after the cache's TTL. */
	(void)cache_delete(req->app->cache, "key", id);
	audit(req, "key.revoked", id, NULL);
	resp_send(req, 204, NULL, NULL, 0);
	return SB_OK;
}
