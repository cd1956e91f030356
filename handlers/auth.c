/* auth.c: POST /api/v1/auth/login, logout, logout-all, GET /api/v1/me, and session_start. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "handlers/handlers.h"
#include "core/arena.h"
#include "core/cache.h"
#include "core/clock.h"
#include "core/conf.h"
#include "core/crypto.h"
#include "core/db.h"
#include "core/err.h"
#include "core/metrics.h"
#include "core/ratelimit.h"
#include "core/scope.h"
#include "fcgi-app/access.h"
#include "fcgi-app/app.h"
#include "fcgi-app/request.h"
#include "fcgi-app/response.h"

#define DELAY_MAX_S	900	/* the longest wait after repeated failures for one account */

static void
set_session_cookie(struct sb_req *req, const char *token, int max_age)
{
	int secure = req->app->cfg.auth.cookie_secure || req->https;

	resp_header(req, "Set-Cookie", "sb_session=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax%s",
	    token, max_age, secure ? "; Secure" : "");
}

/* ------------------------------------------------------------ login throttling */

/* Per address and per account (GCRA), and a growing delay after each failure in a
 * row for an account.  SB_OK to go on; otherwise the problem is prepared. */
static enum sb_err
login_throttle(struct sb_req *req, const char *email)
{
	const struct sb_config	*c = &req->app->cfg;
	struct rl_policy	 ip = { c->ratelimit.login_per_minute, 60 };
	struct rl_policy	 acct = { c->ratelimit.login_account_per_hour, 3600 };
	struct rl_result	 r;
	char			 key[400], *v;
	size_t			 len;
	long long		 until;
	int64_t			 now = clock_real_ms();
	enum sb_err		 err;

	snprintf(key, sizeof(key), "login:ip:%s", req->remote_addr);
	if ((err = ratelimit_take(req->app->cache, key, &ip, &r)) == SB_OK &&
	    (err = ratelimit_answer(req, &r)) != SB_OK)
		return err;
	if (err == SB_OK) {
		snprintf(key, sizeof(key), "login:acct:%s", email);
		/* The address's RateLimit-* headers stand; this refusal adds Retry-After. */
		if ((err = ratelimit_take(req->app->cache, key, &acct, &r)) == SB_OK && !r.allowed) {
			counter_add(&req->app->metrics->rate_limited, 1);
			resp_header(req, "Retry-After", "%d", r.retry_after_s);
			return req_fail(req, SB_ERR_RATE_LIMITED, "rate-limited",
			    "too many logins for this account; see Retry-After");
		}
	}
	if (err == SB_OK) {
		if (cache_get(req->app->cache, "login-delay", email, &v, &len) == SB_OK) {
			arena_defer(req->arena, free, v);
			until = 0;
			sscanf(v, "%*d %lld", &until);
			if (until > now) {
				counter_add(&req->app->metrics->rate_limited, 1);
				resp_header(req, "Retry-After", "%lld", (until - now + 999) / 1000);
				return req_fail(req, SB_ERR_RATE_LIMITED, "login-delayed",
				    "too many failed logins for this account; see Retry-After");
			}
		}
		return SB_OK;
	}
	if (c->ratelimit.fail_open_login) {
		counter_add(&req->app->metrics->ratelimit_unavailable_open, 1);
		return SB_OK;
	}
	counter_add(&req->app->metrics->ratelimit_unavailable_closed, 1);
	resp_header(req, "Retry-After", "2");
	return req_fail(req, SB_ERR_UNAVAILABLE, "rate-limit-unavailable",
	    "logins cannot be throttled right now, so they are refused; try again shortly");
}

/* After a failure: the n-th in a row makes the account wait 2^(n-4) s (from the 4th).
 * Stored as "n until_ms". */
static void
login_failed_delay(struct sb_req *req, const char *email)
{
	char		*v, buf[64];
	size_t		 len;
	int		 n = 0;
	long long	 delay;
	int64_t		 now = clock_real_ms();

	if (cache_get(req->app->cache, "login-delay", email, &v, &len) == SB_OK) {
		arena_defer(req->arena, free, v);
		sscanf(v, "%d", &n);
	}
	n++;
	delay = n <= 3 ? 0 : 1LL << (n - 4 > 20 ? 20 : n - 4);
	if (delay > DELAY_MAX_S)
		delay = DELAY_MAX_S;
	snprintf(buf, sizeof(buf), "%d %lld", n, (long long)(now + delay * 1000));
	(void)cache_set(req->app->cache, "login-delay", email, buf, strlen(buf), 24 * 3600);
}

/* ------------------------------------------------------------ sessions */

struct login {
	int64_t		 user_id, org_id;
	char		 token[TOKEN_LEN + 1], hash[HASH_HEX_LEN + 1], csrf[TOKEN_LEN + 1];
	const char	*old_cookie_hash;	/* a session to end (no fixation), or NULL */
};

static enum sb_err
login_store(struct sb_req *req, void *arg)
{
	static struct db_stmt	 ins = { "session_insert",
	    "INSERT INTO sessions (org_id, user_id, token_hash, csrf_token, expires_at, ip, user_agent) "
	    "VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::int), NULLIF($6, '')::inet, "
	    "left($7, 512)) RETURNING id", 7, 0 };
	/* Through the definer function: the old session may belong to another org. */
	static struct db_stmt	 end_old = { "session_end_hash", "SELECT auth_session_end($1)", 1, 0 };
	struct login		*l = arg;
	const char		*p[7], *ua = req_header(req, "User-Agent");
	char			 org[24], uid[24], secs[24];
	enum sb_err		 err;
	PGresult		*res;

	snprintf(org, sizeof(org), "%lld", (long long)l->org_id);
	snprintf(uid, sizeof(uid), "%lld", (long long)l->user_id);
	snprintf(secs, sizeof(secs), "%d", req->app->cfg.auth.session_absolute);
	if (l->old_cookie_hash != NULL) {
		p[0] = l->old_cookie_hash;
		if (req_exec(req, &end_old, p, &err) == NULL)
			return err;
	}
	p[0] = org;
	p[1] = uid;
	p[2] = l->hash;
	p[3] = l->csrf;
	p[4] = secs;
	p[5] = req->remote_addr;
	p[6] = ua != NULL ? ua : "";
	if ((res = req_exec(req, &ins, p, &err)) == NULL)
		return err;
	req->who.session_id = atoll(PQgetvalue(res, 0, 0));
	return SB_OK;
}

enum sb_err
session_start(struct sb_req *req, int64_t user_id, int64_t org_id, int role, const char *target,
    json_t *details)
{
	struct principal	*w = &req->who;
	struct login		 l;
	const char		*old;
	char			 oldhash[HASH_HEX_LEN + 1];
	enum sb_err		 err;

	/* details is ours from here, whatever happens: the request's arena holds it. */
	arena_adopt_json(req->arena, details);
	if (role < 0 || role > ROLE_OWNER || user_id <= 0 || org_id <= 0)
		return SB_ERR_INTERNAL;
	memset(&l, 0, sizeof(l));
	l.user_id = user_id;
	l.org_id = org_id;
	/* A new session id at every login: a cookie planted before cannot ride along. */
	if ((old = req_cookie(req, "sb_session")) != NULL && token_valid(old)) {
		token_hash(old, oldhash);
		l.old_cookie_hash = oldhash;
	}
	token_new(l.token);
	token_hash(l.token, l.hash);
	token_new(l.csrf);
	memset(w, 0, sizeof(*w));
	w->kind = AUTH_SESSION;
	w->org_id = org_id;
	w->user_id = user_id;
	w->role = role;
	w->scopes = role_scopes((enum sb_role)role);
	if ((err = org_tx(req, login_store, &l)) != SB_OK)
		return err;
	if (l.old_cookie_hash != NULL)
		(void)cache_delete(req->app->cache, "sess", l.old_cookie_hash);
	memcpy(w->csrf, l.csrf, sizeof(w->csrf));
	memcpy(w->token_hash, l.hash, sizeof(w->token_hash));
	audit(req, "login.succeeded", target, json_incref(details));	/* audit takes one */
	set_session_cookie(req, l.token, req->app->cfg.auth.session_absolute);
	return SB_OK;
}

/* ------------------------------------------------------------ login */

static enum sb_err
login_rehash(struct sb_req *req, void *arg)
{
	static struct db_stmt	 q = { "user_rehash",
	    "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1", 2, 0 };
	char			 uid[24];
	const char		*p[2] = { uid, arg };
	enum sb_err		 err;

	snprintf(uid, sizeof(uid), "%lld", (long long)req->who.user_id);
	(void)req_exec(req, &q, p, &err);
	return err;
}

enum sb_err
h_login(struct sb_req *req)
{
	static struct db_stmt	 q = { "auth_user_by_email",
	    "SELECT id, org_id, role, password_hash, disabled FROM auth_user_by_email($1)", 1, 0 };
	const struct sb_config	*c = &req->app->cfg;
	const char		*email, *pw, *p[1], *hash = NULL;
	char			 lower[321], rehash[160];
	enum sb_err		 err;
	PGresult		*res;
	size_t			 i;
	int64_t			 user_id = 0, org_id = 0;
	int			 ok, role = -1;

	if (json_unpack(req->json, "{s:s, s:s}", "email", &email, "password", &pw) != 0)
		return req_fail(req, SB_ERR_INVALID, "invalid-body",
		    "expected {\"email\": string, \"password\": string}");
	if (strlen(email) > 320 || strlen(pw) > PASSWORD_MAX)
		return req_fail(req, SB_ERR_INVALID, "invalid-body",
		    "email is at most 320 bytes, password at most 1024");
	for (i = 0; email[i] != '\0'; i++)
		lower[i] = (char)(email[i] >= 'A' && email[i] <= 'Z' ? email[i] + 32 : email[i]);
	lower[i] = '\0';
	if ((err = login_throttle(req, lower)) != SB_OK)
		return err;

	p[0] = lower;
	if ((res = req_exec(req, &q, p, &err)) == NULL)
		return err;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 3) && strcmp(PQgetvalue(res, 0, 4), "f") == 0) {
		user_id = atoll(PQgetvalue(res, 0, 0));
		org_id = atoll(PQgetvalue(res, 0, 1));
		role = role_parse(PQgetvalue(res, 0, 2));
		hash = arena_strdup(req->arena, PQgetvalue(res, 0, 3));
	} else if (PQntuples(res) == 1)
		org_id = atoll(PQgetvalue(res, 0, 1));	/* disabled or SSO only: audited in its org */
	/* The same argon2id work whether or not the account exists. */
	ok = password_verify(hash != NULL ? hash : req->app->dummy_hash, pw) && hash != NULL && role >= 0;
	req->who.org_id = org_id;
	req->who.user_id = user_id;
	req->who.kind = org_id > 0 ? AUTH_SESSION : AUTH_NONE;
	if (!ok) {
		login_failed_delay(req, lower);
		audit(req, "login.failed", lower, NULL);
		memset(&req->who, 0, sizeof(req->who));
		return req_fail(req, SB_ERR_UNAUTHENTICATED, "invalid-credentials",
		    "wrong email or password");
	}
	(void)cache_delete(req->app->cache, "login-delay", lower);
	/* Hashed with older parameters: stored again with the current ones. */
	if (password_needs_rehash(hash, c->auth.pwhash_opslimit, c->auth.pwhash_memlimit_kib) &&
	    password_hash(pw, c->auth.pwhash_opslimit, c->auth.pwhash_memlimit_kib, rehash,
	    sizeof(rehash)) == 0 && (err = org_tx(req, login_rehash, rehash)) != SB_OK)
		return err;
	if ((err = session_start(req, user_id, org_id, role, lower, NULL)) != SB_OK)
		return err;
	return h_me(req);
}

/* ------------------------------------------------------------ logout */

static enum sb_err
logout_one(struct sb_req *req, void *arg)
{
	static struct db_stmt q = { "session_revoke",
	    "UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", 1, 0 };

	(void)arg;
	return db_exec_id(&req->app->db, &q, req->who.session_id);
}

enum sb_err
h_logout(struct sb_req *req)
{
	enum sb_err err;

	if ((err = org_tx(req, logout_one, NULL)) != SB_OK)
		return err;
	(void)cache_delete(req->app->cache, "sess", req->who.token_hash);
	audit(req, "logout", "", NULL);
	set_session_cookie(req, "", 0);
	resp_send(req, 204, NULL, NULL, 0);
	return SB_OK;
}

static enum sb_err
logout_all(struct sb_req *req, void *arg)
{
	static struct db_stmt	 q = { "session_revoke_user",
	    "UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL "
	    "RETURNING token_hash", 1, 0 };
	char			 id[24];
	const char		*p[1] = { id };
	enum sb_err		 err;
	PGresult		*res;
	int			 i, *n = arg;

	snprintf(id, sizeof(id), "%lld", (long long)req->who.user_id);
	if ((res = req_exec(req, &q, p, &err)) == NULL)
		return err;
	/* Every worker forgets these sessions now, not after the cache's TTL. */
	for (i = 0; i < PQntuples(res); i++)
		(void)cache_delete(req->app->cache, "sess", PQgetvalue(res, i, 0));
	*n = PQntuples(res);
	return SB_OK;
}

enum sb_err
h_logout_all(struct sb_req *req)
{
	enum sb_err	 err;
	int		 n = 0;

	if ((err = org_tx(req, logout_all, &n)) != SB_OK)
		return err;
	audit(req, "logout.all", "", json_pack("{s:i}", "sessions", n));
	set_session_cookie(req, "", 0);
	resp_send(req, 204, NULL, NULL, 0);
	return SB_OK;
}

/* ------------------------------------------------------------ me */

struct me {
	json_t	*body;
};

static enum sb_err
me_load(struct sb_req *req, void *arg)
{
	static struct db_stmt	 org_q = { "me_org", "SELECT id, slug, name FROM orgs", 0, 0 };
	static struct db_stmt	 user_q = { "me_user",
	    "SELECT id, email, name, role FROM users WHERE id = $1", 1, 0 };
	struct me		*m = arg;
	char			 uid[24];
	const char		*p[1] = { uid };
	enum sb_err		 err;
	PGresult		*res;

	/* Row-level security leaves exactly the caller's org. */
	if ((res = req_exec(req, &org_q, NULL, &err)) == NULL)
		return err;
	if (PQntuples(res) != 1)
		return SB_ERR_INTERNAL;
	json_object_set_new(m->body, "org", json_pack("{s:I, s:s, s:s}",
	    "id", (json_int_t)atoll(PQgetvalue(res, 0, 0)), "slug", PQgetvalue(res, 0, 1),
	    "name", PQgetvalue(res, 0, 2)));
	if (req->who.user_id == 0 || req->who.kind == AUTH_KEY)
		return SB_OK;
	snprintf(uid, sizeof(uid), "%lld", (long long)req->who.user_id);
	if ((res = req_exec(req, &user_q, p, &err)) == NULL)
		return err;
	if (PQntuples(res) == 1)
		json_object_set_new(m->body, "user", json_pack("{s:I, s:s, s:s, s:s}",
		    "id", (json_int_t)atoll(PQgetvalue(res, 0, 0)), "email", PQgetvalue(res, 0, 1),
		    "name", PQgetvalue(res, 0, 2), "role", PQgetvalue(res, 0, 3)));
	return SB_OK;
}

enum sb_err
h_me(struct sb_req *req)
{
	static const char *const kinds[] = { "none", "session", "key", "token" };
	const struct principal	*w = &req->who;
	struct me		 m;
	enum sb_err		 err;

	m.body = arena_adopt_json(req->arena, json_pack("{s:s, s:o}", "auth", kinds[w->kind],
	    "scopes", scopes_json(w->scopes)));
	if (w->role >= 0)
		json_object_set_new(m.body, "role", json_string(role_name((enum sb_role)w->role)));
	if (w->kind == AUTH_SESSION)
		json_object_set_new(m.body, "csrf_token", json_string(w->csrf));
	if (w->kind == AUTH_KEY || w->kind == AUTH_JWT)
		json_object_set_new(m.body, w->kind == AUTH_KEY ? "key_id" : "subject",
		    json_string(w->subject));
	/* Served from what authentication cached; only a fresh login reads the database. */
	if (w->org_slug != NULL) {
		json_object_set_new(m.body, "org", json_pack("{s:I, s:s, s:s}", "id",
		    (json_int_t)w->org_id, "slug", w->org_slug, "name", w->org_name));
		if (w->kind == AUTH_SESSION && w->email != NULL)
			json_object_set_new(m.body, "user", json_pack("{s:I, s:s, s:s, s:s}",
			    "id", (json_int_t)w->user_id, "email", w->email, "name", w->name,
			    "role", role_name((enum sb_role)w->role)));
	} else if ((err = org_tx(req, me_load, &m)) != SB_OK)
		return err;
	resp_json(req, 200, json_incref(m.body));	/* the arena keeps its own reference */
	return SB_OK;
}
