/* access.c: who is calling (session cookie, API key, bearer JWT) and may they call this route. */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "core/arena.h"
#include "core/cache.h"
#include "core/clock.h"
#include "core/conf.h"
#include "core/crypto.h"
#include "core/db.h"
#include "core/err.h"
#include "core/jwt.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/ratelimit.h"
#include "core/scope.h"
#include "fcgi-app/access.h"
#include "fcgi-app/app.h"
#include "fcgi-app/appmetrics.h"
#include "fcgi-app/page.h"
#include "fcgi-app/request.h"
#include "fcgi-app/response.h"
#include "fcgi-app/router.h"

#define TOUCH_EVERY_S	60	/* a session's last_seen_at is written at most this often */

static const char *const kind_names[] = { "anonymous", "user", "key", "token" };

void
auth_worker_init(struct app *app)
{
	const struct sb_config	*c = &app->cfg;
	struct jwt_config	 jc;

	/* An unknown address is checked against this, so it takes as long as a known one. */
	if (password_hash("not a password of anyone", c->auth.pwhash_opslimit,
	    c->auth.pwhash_memlimit_kib, app->dummy_hash, sizeof(app->dummy_hash)) < 0)
		log_error("could not compute the dummy password hash", NULL);
	app->jwt = NULL;
	if (c->jwt.issuer[0] == '\0')
		return;
	jc.hs256_secret = c->jwt.hs256_secret;
	jc.jwks_file = c->jwt.jwks_file;
	jc.jwks_url = c->jwt.jwks_url;
	jc.issuer = c->jwt.issuer;
	jc.audience = c->jwt.audience;
	jc.leeway_s = c->jwt.leeway;
	jc.jwks_refresh_s = c->jwt.jwks_refresh;
	if ((app->jwt = jwt_verifier_new(&jc)) == NULL)
		log_error("bearer JWTs are configured but unusable; they will be refused", NULL);
}

void
auth_worker_free(struct app *app)
{
	jwt_verifier_free(app->jwt);
	app->jwt = NULL;
}

/* ------------------------------------------------------------ the database role */

int
app_role_safe(struct app *app)
{
	static struct db_stmt	 q = { "role_check",
	    "SELECT r.rolsuper OR r.rolbypassrls OR EXISTS (SELECT 1 FROM pg_class c "
	    "WHERE c.relname = 'users' AND c.relnamespace = 'public'::regnamespace "
	    "AND c.relowner = r.oid) FROM pg_roles r WHERE r.rolname = current_user", 0, 0 };
	enum sb_err		 err;
	PGresult		*res;

	if (app->db.conn == NULL)
		return -1;
	if (app->role_checked == app->db.generation)
		return !app->role_unsafe;
	if ((res = db_exec_stmt(&app->db, &q, NULL, &err)) == NULL)
		return -1;
	/* Outside any request: no arena to own the result. */
	app->role_unsafe = PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "f") != 0;
	PQclear(res);
	app->role_checked = app->db.generation;
	if (app->role_unsafe)
		log_error("the database role bypasses row-level security: refusing every "
		    "database route; set database.url to the application role", NULL);
	return !app->role_unsafe;
}

/* ------------------------------------------------------------ transactions, audit */

struct org_tx_call {
	struct sb_req	*req;
	enum sb_err	(*fn)(struct sb_req *, void *);
	void		*arg;
};

static enum sb_err
org_tx_body(struct sb_db *db, void *arg)
{
	static struct db_stmt	 set_org = { "set_org",
	    "SELECT set_config('switchboard.org_id', $1, true)", 1, 0 };
	struct org_tx_call	*c = arg;
	const char		*params[1];
	char			 org[24];
	enum sb_err		 err;

	(void)db;
	snprintf(org, sizeof(org), "%lld", (long long)c->req->who.org_id);
	params[0] = org;
	if (req_exec(c->req, &set_org, params, &err) == NULL)
		return err;
	return c->fn(c->req, c->arg);
}

enum sb_err
org_tx(struct sb_req *req, enum sb_err (*fn)(struct sb_req *, void *), void *arg)
{
	struct org_tx_call c = { req, fn, arg };

	if (req->who.org_id <= 0)
		return SB_ERR_INTERNAL;
	return db_tx(&req->app->db, org_tx_body, &c);
}

PGresult *
req_exec(struct sb_req *req, struct db_stmt *st, const char *const *params, enum sb_err *err)
{
	return arena_adopt_result(req->arena, db_exec_stmt(&req->app->db, st, params, err));
}

enum sb_err
req_one(struct sb_req *req, struct db_stmt *st, const char *const *params,
    json_t *(*item)(PGresult *, int), json_t **out)
{
	enum sb_err	 err;
	PGresult	*res;

	if ((res = req_exec(req, st, params, &err)) == NULL)
		return err;
	if (PQntuples(res) != 1)
		return SB_ERR_NOT_FOUND;
	*out = item(res, 0);
	return SB_OK;
}

const char *
req_creator(const struct sb_req *req, char id[24])
{
	static const char *const kinds[] = { "anonymous", "user", "key", "token" };

	snprintf(id, 24, "%lld", (long long)(req->who.kind == AUTH_KEY ? req->who.key_id :
	    req->who.user_id));
	return kinds[req->who.kind];
}

struct audit_row {
	const char	*action, *target;
	json_t		*details;
};

static enum sb_err
audit_insert(struct sb_req *req, void *arg)
{
	static struct db_stmt	 ins = { "audit_insert",
	    "INSERT INTO audit_log (org_id, actor_type, actor_id, action, target, ip, request_id, details) "
	    "VALUES ($1, $2, NULLIF($3, '0')::bigint, $4, $5, NULLIF($6, '')::inet, $7, $8::jsonb)", 8, 0 };
	struct audit_row	*a = arg;
	const char		*p[8];
	char			 org[24], actor[24];
	enum sb_err		 err;
	int64_t			 actor_id;

	actor_id = req->who.kind == AUTH_KEY ? req->who.key_id : req->who.user_id;
	snprintf(org, sizeof(org), "%lld", (long long)req->who.org_id);
	snprintf(actor, sizeof(actor), "%lld", (long long)actor_id);
	p[0] = org;
	p[1] = kind_names[req->who.kind];
	p[2] = actor;
	p[3] = a->action;
	p[4] = a->target;
	p[5] = req->remote_addr;
	p[6] = req->request_id;
	p[7] = a->details != NULL ? arena_json(req->arena, a->details) : "{}";
	(void)req_exec(req, &ins, p, &err);
	return err;
}

void
audit(struct sb_req *req, const char *action, const char *target, json_t *details)
{
	static struct db_stmt	 anon = { "audit_anonymous",
	    "SELECT auth_audit_anonymous($1, $2, NULLIF($3, '')::inet, $4)", 4, 0 };
	struct audit_row	 a = { action, target, arena_adopt_json(req->arena, details) };
	const char		*p[4];
	enum sb_err		 err;

	if (req->who.org_id > 0)
		err = org_tx(req, audit_insert, &a);
	else {
		p[0] = action;
		p[1] = target;
		p[2] = req->remote_addr;
		p[3] = req->request_id;
		(void)req_exec(req, &anon, p, &err);
	}
	if (err != SB_OK)
		log_error("audit log write failed", "{s:s, s:s}", "action", action, "target", target);
}

/* ------------------------------------------------------------ sessions */

/* The cached or stored facts about a session. */
struct sess {
	int64_t	 sid, uid, oid, exp, seen;
	int	 role, usable;
	char	 csrf[TOKEN_LEN + 1];
	char	 email[321], name[201], org_slug[64], org_name[201];
};

static int
sess_from_json(const char *buf, size_t len, struct sess *s)
{
	json_t		*o = json_loadb(buf, len, 0, NULL);
	const char	*csrf, *em, *nm, *os, *on;
	int		 ok;

	if (o == NULL)
		return -1;
	ok = json_unpack(o, "{s:I, s:I, s:I, s:I, s:I, s:i, s:b, s:s, s:s, s:s, s:s, s:s}",
	    "sid", &s->sid, "uid", &s->uid, "oid", &s->oid, "exp", &s->exp, "seen", &s->seen,
	    "role", &s->role, "ok", &s->usable, "csrf", &csrf, "em", &em, "nm", &nm, "os", &os,
	    "on", &on) == 0 && strlen(csrf) == TOKEN_LEN;
	if (ok) {
		memcpy(s->csrf, csrf, TOKEN_LEN + 1);
		snprintf(s->email, sizeof(s->email), "%s", em);
		snprintf(s->name, sizeof(s->name), "%s", nm);
		snprintf(s->org_slug, sizeof(s->org_slug), "%s", os);
		snprintf(s->org_name, sizeof(s->org_name), "%s", on);
	}
	json_decref(o);
	return ok && s->role >= 0 && s->role <= ROLE_OWNER ? 0 : -1;
}

static void
sess_cache(struct sb_req *req, const char *hash, const struct sess *s, int64_t now)
{
	const struct sb_config	*c = &req->app->cfg;
	json_t			*o;
	char			*v;
	int64_t			 ttl = c->auth.session_cache_ttl;

	if (ttl <= 0)
		return;
	if (s->exp - now < ttl)
		ttl = s->exp - now;
	o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:i, s:b, s:s, s:s, s:s, s:s, s:s}", "sid", s->sid,
	    "uid", s->uid, "oid", s->oid, "exp", s->exp, "seen", s->seen, "role", s->role,
	    "ok", s->usable, "csrf", s->csrf, "em", s->email, "nm", s->name, "os", s->org_slug,
	    "on", s->org_name);
	v = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (v != NULL && ttl > 0)
		(void)cache_set(req->app->cache, "sess", hash, v, strlen(v), (int)ttl);
	free(v);
}

static enum sb_err
sess_load(struct sb_req *req, const char *hash, struct sess *s)
{
	static struct db_stmt	 q = { "auth_session",
	    "SELECT session_id, user_id, org_id, role, csrf_token, "
	    "extract(epoch FROM expires_at)::bigint, extract(epoch FROM last_seen_at)::bigint, usable, "
	    "email, name, org_slug, org_name FROM auth_session($1)", 1, 0 };
	const char		*p[1] = { hash };
	enum sb_err		 err;
	PGresult		*res;

	if (db_ensure(&req->app->db) != SB_OK)
		return SB_ERR_UNAVAILABLE;
	if ((res = req_exec(req, &q, p, &err)) == NULL)
		return err;
	if (PQntuples(res) != 1)
		return SB_ERR_UNAUTHENTICATED;
	s->sid = atoll(PQgetvalue(res, 0, 0));
	s->uid = atoll(PQgetvalue(res, 0, 1));
	s->oid = atoll(PQgetvalue(res, 0, 2));
	s->role = role_parse(PQgetvalue(res, 0, 3));
	snprintf(s->csrf, sizeof(s->csrf), "%s", PQgetvalue(res, 0, 4));
	s->exp = atoll(PQgetvalue(res, 0, 5));
	s->seen = atoll(PQgetvalue(res, 0, 6));
	s->usable = strcmp(PQgetvalue(res, 0, 7), "t") == 0;
	snprintf(s->email, sizeof(s->email), "%s", PQgetvalue(res, 0, 8));
	snprintf(s->name, sizeof(s->name), "%s", PQgetvalue(res, 0, 9));
	snprintf(s->org_slug, sizeof(s->org_slug), "%s", PQgetvalue(res, 0, 10));
	snprintf(s->org_name, sizeof(s->org_name), "%s", PQgetvalue(res, 0, 11));
	return s->role < 0 ? SB_ERR_INTERNAL : SB_OK;
}

static enum sb_err
sess_touch(struct sb_req *req, void *arg)
{
	static struct db_stmt q = { "session_touch",
	    "UPDATE sessions SET last_seen_at = now() WHERE id = $1", 1, 0 };

	(void)arg;
	return db_exec_id(&req->app->db, &q, req->who.session_id);
}

static enum sb_err
session_auth(struct sb_req *req, const char *token)
{
	const struct sb_config	*c = &req->app->cfg;
	struct principal	*w = &req->who;
	struct sess		 s;
	char			 hash[HASH_HEX_LEN + 1], *v;
	size_t			 len;
	int64_t			 now = clock_real_ms() / 1000;
	enum sb_err		 err;
	int			 cached = 0;

	if (!token_valid(token))
		return SB_ERR_UNAUTHENTICATED;
	token_hash(token, hash);
	if (cache_get(req->app->cache, "sess", hash, &v, &len) == SB_OK) {
		arena_defer(req->arena, free, v);
		/* "-": known not to exist, so a guessed cookie costs no query. */
		if (len == 1 && v[0] == '-')
			return SB_ERR_UNAUTHENTICATED;
		cached = sess_from_json(v, len, &s) == 0;
	}
	if (!cached && (err = sess_load(req, hash, &s)) != SB_OK) {
		if (err == SB_ERR_UNAUTHENTICATED && c->auth.session_cache_ttl > 0)
			(void)cache_set(req->app->cache, "sess", hash, "-", 1, c->auth.session_cache_ttl);
		return err;
	}
	if (!s.usable || now >= s.exp || now - s.seen > c->auth.session_idle) {
		(void)cache_delete(req->app->cache, "sess", hash);
		return SB_ERR_UNAUTHENTICATED;
	}
	w->kind = AUTH_SESSION;
	w->expires = s.exp;
	w->org_id = s.oid;
	w->user_id = s.uid;
	w->session_id = s.sid;
	w->role = s.role;
	w->scopes = role_scopes((enum sb_role)s.role);
	memcpy(w->csrf, s.csrf, sizeof(w->csrf));
	memcpy(w->token_hash, hash, sizeof(w->token_hash));
	w->email = arena_strdup(req->arena, s.email);
	w->name = arena_strdup(req->arena, s.name);
	w->org_slug = arena_strdup(req->arena, s.org_slug);
	w->org_name = arena_strdup(req->arena, s.org_name);
	if (now - s.seen >= TOUCH_EVERY_S) {
		if (db_ensure(&req->app->db) == SB_OK && org_tx(req, sess_touch, NULL) == SB_OK)
			s.seen = now;
		cached = 0;
	}
	if (!cached)
		sess_cache(req, hash, &s, now);
	return SB_OK;
}

/* ------------------------------------------------------------ API keys */

struct keyinfo {
	int64_t		 id, oid, exp;	/* exp 0: never */
	unsigned	 scopes;
	int		 usable;
	char		 hash[HASH_HEX_LEN + 1];
	char		 org_slug[64], org_name[201];
};

static enum sb_err
key_load(struct sb_req *req, const char *key_id, struct keyinfo *k)
{
	static struct db_stmt	 q = { "auth_api_key",
	    "SELECT id, org_id, secret_hash, scopes, coalesce(extract(epoch FROM expires_at)::bigint, 0), "
	    "usable, org_slug, org_name FROM auth_api_key($1)", 1, 0 };
	const char		*p[1] = { key_id };
	enum sb_err		 err;
	PGresult		*res;

	if (db_ensure(&req->app->db) != SB_OK)
		return SB_ERR_UNAVAILABLE;
	if ((res = req_exec(req, &q, p, &err)) == NULL)
		return err;
	if (PQntuples(res) != 1) {
		memset(k, 0, sizeof(*k));	/* cached as "no such key" */
		return SB_OK;
	}
	k->id = atoll(PQgetvalue(res, 0, 0));
	k->oid = atoll(PQgetvalue(res, 0, 1));
	snprintf(k->hash, sizeof(k->hash), "%s", PQgetvalue(res, 0, 2));
	k->scopes = scopes_from_pg_array(PQgetvalue(res, 0, 3));
	k->exp = atoll(PQgetvalue(res, 0, 4));
	k->usable = strcmp(PQgetvalue(res, 0, 5), "t") == 0;
	snprintf(k->org_slug, sizeof(k->org_slug), "%s", PQgetvalue(res, 0, 6));
	snprintf(k->org_name, sizeof(k->org_name), "%s", PQgetvalue(res, 0, 7));
	return SB_OK;
}

static enum sb_err
key_touch(struct sb_req *req, void *arg)
{
	static struct db_stmt q = { "key_touch",
	    "UPDATE api_keys SET last_used_at = now() WHERE id = $1", 1, 0 };

	(void)arg;
	return db_exec_id(&req->app->db, &q, req->who.key_id);
}

/* Has this worker not touched key id within TOUCH_EVERY_S?  A small table of the
 * keys it served lately, overwritten by hash: a collision costs one extra ask. */
static int
key_touch_due(int64_t id)
{
	static struct {
		int64_t	 id;
		int64_t	 at;
	}		 seen[256];
	size_t		 i = (size_t)id % (sizeof(seen) / sizeof(seen[0]));
	int64_t		 now = clock_mono_us() / 1000000;

	if (seen[i].id == id && now - seen[i].at < TOUCH_EVERY_S)
		return 0;
	seen[i].id = id;
	seen[i].at = now;
	return 1;
}

static enum sb_err
key_auth(struct sb_req *req, const char *presented)
{
	struct principal	*w = &req->who;
	struct keyinfo		 k;
	char			 key_id[KEY_ID_LEN + 1], secret[TOKEN_LEN + 1], hash[HASH_HEX_LEN + 1];
	char			*v, *enc;
	size_t			 len;
	json_t			*o;
	enum sb_err		 err;
	int			 cached = 0;

	if (api_key_parse(presented, key_id, secret) < 0)
		return SB_ERR_UNAUTHENTICATED;
	memset(&k, 0, sizeof(k));
	if (cache_get(req->app->cache, "key", key_id, &v, &len) == SB_OK) {
		const char *h = NULL, *os = NULL, *on = NULL;

		if ((o = json_loadb(v, len, 0, NULL)) != NULL &&
		    json_unpack(o, "{s:I, s:I, s:I, s:i, s:b, s:s, s:s, s:s}", "id", &k.id,
		    "oid", &k.oid, "exp", &k.exp, "scopes", (int *)&k.scopes, "ok", &k.usable,
		    "h", &h, "os", &os, "on", &on) == 0) {
			snprintf(k.hash, sizeof(k.hash), "%s", h);
			snprintf(k.org_slug, sizeof(k.org_slug), "%s", os);
			snprintf(k.org_name, sizeof(k.org_name), "%s", on);
			cached = 1;
		}
		json_decref(o);
		free(v);
	}
	if (!cached) {
		if ((err = key_load(req, key_id, &k)) != SB_OK)
			return err;
		/* Unknown ids are cached too, so guessing them costs the database nothing. */
		o = json_pack("{s:I, s:I, s:I, s:i, s:b, s:s, s:s, s:s}", "id", k.id, "oid", k.oid,
		    "exp", k.exp, "scopes", (int)k.scopes, "ok", k.usable, "h", k.hash,
		    "os", k.org_slug, "on", k.org_name);
		enc = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		if (enc != NULL && req->app->cfg.auth.key_cache_ttl > 0)
			(void)cache_set(req->app->cache, "key", key_id, enc, strlen(enc),
			    req->app->cfg.auth.key_cache_ttl);
		free(enc);
	}
	token_hash(secret, hash);
	if (k.id == 0 || !k.usable || !secret_equal(hash, k.hash) ||
	    (k.exp != 0 && clock_real_ms() / 1000 >= k.exp))
		return SB_ERR_UNAUTHENTICATED;
	w->kind = AUTH_KEY;
	w->expires = k.exp;
	w->org_id = k.oid;
	w->key_id = k.id;
	w->role = -1;
	w->scopes = k.scopes;
	snprintf(w->subject, sizeof(w->subject), "%s", key_id);
	w->org_slug = arena_strdup(req->arena, k.org_slug);
	w->org_name = arena_strdup(req->arena, k.org_name);
	/* last_used_at: one write a minute per key, whichever worker gets there first;
	 * a worker asks memcached at most once a minute per key it serves. */
	if (key_touch_due(k.id)) {
		if (cache_add(req->app->cache, "key-used", key_id, "1", 1, TOUCH_EVERY_S) == SB_OK &&
		    db_ensure(&req->app->db) == SB_OK)
			(void)org_tx(req, key_touch, NULL);
	}
	return SB_OK;
}

/* ------------------------------------------------------------ bearer JWTs */

static enum sb_err
jwt_auth(struct sb_req *req, const char *token)
{
	static struct db_stmt	 q = { "auth_org", "SELECT id, name FROM auth_org($1)", 1, 0 };
	const struct sb_config	*c = &req->app->cfg;
	struct principal	*w = &req->who;
	json_t			*claims;
	const char		*org, *role, *sub, *p[1];
	char			 why[128], *v;
	size_t			 len;
	enum sb_err		 err;
	PGresult		*res;
	int			 r, n = 0;

	if (req->app->jwt == NULL)
		return SB_ERR_UNAUTHENTICATED;
	if ((claims = arena_adopt_json(req->arena,
	    jwt_verify(req->app->jwt, token, why, sizeof(why)))) == NULL) {
		log_info("bearer token refused", "{s:s}", "reason", why);
		return SB_ERR_UNAUTHENTICATED;
	}
	org = json_string_value(json_object_get(claims, c->jwt.org_claim));
	role = json_string_value(json_object_get(claims, c->jwt.role_claim));
	sub = json_string_value(json_object_get(claims, "sub"));
	r = role_parse(role != NULL ? role : c->jwt.default_role);
	if (org == NULL || r < 0)
		return SB_ERR_UNAUTHENTICATED;
	/* The org by slug: memcached for a minute, else the database. */
	if (cache_get(req->app->cache, "org", org, &v, &len) == SB_OK) {
		arena_defer(req->arena, free, v);
		if (sscanf(v, "%" SCNd64 " %n", &w->org_id, &n) == 1 && (size_t)n <= len)
			w->org_name = arena_strndup(req->arena, v + n, len - (size_t)n);
	}
	if (w->org_name == NULL) {
		if ((err = db_ensure(&req->app->db)) != SB_OK)
			return err;
		p[0] = org;
		if ((res = req_exec(req, &q, p, &err)) == NULL)
			return err;
		w->org_id = PQntuples(res) == 1 ? atoll(PQgetvalue(res, 0, 0)) : 0;
		if (w->org_id != 0) {
			w->org_name = arena_strdup(req->arena, PQgetvalue(res, 0, 1));
			v = arena_printf(req->arena, "%lld %s", (long long)w->org_id, w->org_name);
			(void)cache_set(req->app->cache, "org", org, v, strlen(v), 60);
		}
	}
	if (w->org_id == 0)
		return SB_ERR_UNAUTHENTICATED;
	w->org_slug = arena_strdup(req->arena, org);
	w->kind = AUTH_JWT;
	w->role = r;
	w->expires = json_integer_value(json_object_get(claims, "exp"));
	w->scopes = role_scopes((enum sb_role)r);
	snprintf(w->subject, sizeof(w->subject), "%s", sub != NULL ? sub : "");
	return SB_OK;
}

/* ------------------------------------------------------------ the checks */

static int
method_is_safe(const char *m)
{
	return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "OPTIONS") == 0;
}

static enum sb_err
authenticate(struct sb_req *req)
{
	const char	*authz = req_header(req, "Authorization"), *cookie;

	if (authz != NULL && *authz != '\0') {
		if (strncasecmp(authz, "Bearer ", 7) != 0)
			return SB_ERR_UNAUTHENTICATED;
		authz += 7;
		if (strncmp(authz, "sb_", 3) == 0)
			return key_auth(req, authz);
		return jwt_auth(req, authz);
	}
	if ((cookie = req_cookie(req, "sb_session")) != NULL)
		return session_auth(req, cookie);
	return SB_ERR_UNAUTHENTICATED;
}

/* Takes from the caller's bucket; sets the RateLimit-* headers. */
static enum sb_err
rate_limit(struct sb_req *req)
{
	const struct sb_config	*c = &req->app->cfg;
	struct app_metrics	*m = req->app->metrics;
	const struct principal	*w = &req->who;
	struct rl_policy	 pol;
	struct rl_result	 r;
	char			 key[200];
	int			 safe = method_is_safe(req->method), open;

	if (!c->ratelimit.enabled)
		return SB_OK;
	pol.period_s = 60;
	if (w->kind == AUTH_NONE) {
		pol.limit = c->ratelimit.anon_per_minute;
		snprintf(key, sizeof(key), "ip:%s", req->remote_addr);
	} else {
		pol.limit = safe ? c->ratelimit.reads_per_minute : c->ratelimit.writes_per_minute;
		if (w->kind == AUTH_KEY)
			snprintf(key, sizeof(key), "%c:k:%lld", safe ? 'r' : 'w', (long long)w->key_id);
		else if (w->kind == AUTH_JWT)
			snprintf(key, sizeof(key), "%c:j:%lld:%.100s", safe ? 'r' : 'w',
			    (long long)w->org_id, w->subject);
		else
			snprintf(key, sizeof(key), "%c:u:%lld", safe ? 'r' : 'w', (long long)w->user_id);
	}
	if (ratelimit_take(req->app->cache, key, &pol, &r) != SB_OK) {
		open = safe ? c->ratelimit.fail_open_reads : c->ratelimit.fail_open_writes;
		counter_add(open ? &m->ratelimit_unavailable_open : &m->ratelimit_unavailable_closed, 1);
		if (open)
			return SB_OK;
		resp_header(req, "Retry-After", "%d", 2);
		return req_fail(req, SB_ERR_UNAVAILABLE, "rate-limit-unavailable",
		    "rate limits cannot be checked right now; try again shortly");
	}
	return ratelimit_answer(req, &r);
}

enum sb_err
ratelimit_answer(struct sb_req *req, const struct rl_result *r)
{
	resp_header(req, "RateLimit-Limit", "%d", r->limit);
	resp_header(req, "RateLimit-Remaining", "%d", r->remaining);
	resp_header(req, "RateLimit-Reset", "%d", r->reset_s);
	if (r->allowed)
		return SB_OK;
	counter_add(&req->app->metrics->rate_limited, 1);
	resp_header(req, "Retry-After", "%d", r->retry_after_s);
	return req_fail(req, SB_ERR_RATE_LIMITED, "rate-limited",
	    "too many requests; see Retry-After");
}

enum sb_err
auth_request(struct sb_req *req)
{
	const struct route	*r = req->route;
	const char		*token;
	enum sb_err		 err;

	memset(&req->who, 0, sizeof(req->who));
	req->who.role = -1;
	if ((r->flags & ROUTE_PUBLIC) && (r->flags & ROUTE_NOLIMIT))
		return SB_OK;
	if (!(r->flags & ROUTE_PUBLIC)) {
		if ((err = authenticate(req)) != SB_OK) {
			if (err != SB_ERR_UNAUTHENTICATED)
				return err;
			counter_add(&req->app->metrics->auth_failed, 1);
			memset(&req->who, 0, sizeof(req->who));
			/* Guessing credentials costs the guesser its address's budget. */
			if ((err = rate_limit(req)) != SB_OK)
				return err;
			resp_header(req, "WWW-Authenticate", "Bearer realm=\"switchboard\"");
			return req_fail(req, SB_ERR_UNAUTHENTICATED, "unauthenticated",
			    "a valid session cookie, API key or bearer token is required");
		}
		if ((r->scope & req->who.scopes) != r->scope)
			return req_fail(req, SB_ERR_FORBIDDEN, "missing-scope",
			    arena_printf(req->arena, "this needs the scope %s",
			    scope_name(r->scope) ? scope_name(r->scope) : "(several)"));
		if ((r->flags & ROUTE_SESSION) && req->who.kind != AUTH_SESSION)
			return req_fail(req, SB_ERR_FORBIDDEN, "session-only",
			    "this is for browser sessions only");
		/* A cookie is sent by the browser on its own; an unsafe request must
		 * also prove it comes from our page. */
		if (req->who.kind == AUTH_SESSION && !method_is_safe(req->method) &&
		    ((token = req_header(req, "X-CSRF-Token")) == NULL ||
		    !secret_equal(token, req->who.csrf)))
			return req_fail(req, SB_ERR_FORBIDDEN, "csrf",
			    "missing or wrong X-CSRF-Token header");
	}
	if (r->flags & ROUTE_LOGIN)
		return SB_OK;	/* the login handler limits by address and by account */
	return rate_limit(req);
}
