/* oidc.c: GET /api/v1/auth/oidc/start and /callback: browser sign-in through OpenID Connect. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>
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
#include "core/fetch.h"
#include "core/jwt.h"
#include "core/log.h"
#include "core/scope.h"
#include "fcgi-app/access.h"
#include "fcgi-app/app.h"
#include "fcgi-app/request.h"
#include "fcgi-app/response.h"

/*
 * The authorization code flow with PKCE (RFC 7636, S256), state and nonce.
 *
 * start makes a state, a nonce and a code verifier, keeps them in memcached under the
 * state for FLOW_TTL_S, puts the state in a cookie that only these two routes see, and
 * sends the browser to the provider.  The provider sends it back to callback with a
 * code and the state.  The state must equal the cookie (a login forced on someone else's
 * browser has no cookie) and be known, once only.  The code is exchanged for an ID token
 * with the verifier (a stolen code is useless without it), the token is checked by
 * jwt_verify against the provider's JWKS, issuer and our client id, and its nonce must
 * be ours (a token replayed from another sign-in is refused).
 *
 * The account is found by the token's (iss, sub), which names the person for good.
 * The first time, a verified email links an existing account, or else a new account is
 * made in oidc.provision_org when oidc.provision is on.  An unverified email neither
 * links nor provisions: whoever could claim someone's address at the provider could
 * otherwise take over that person's account, or plant one to take over later.
 *
 * The discovery document is fetched by each worker at its first sign-in and kept for
 * DISCOVERY_TTL_S; while the provider is down a stale one keeps serving.
 */

#define FLOW_TTL_S		600	/* a sign-in must finish within this */
#define DISCOVERY_TTL_S		3600
#define DISCOVERY_RETRY_S	10	/* least pause between failed discoveries */
#define HTTP_MAX_BYTES		(64 * 1024)	/* a discovery document or token response */
#define RETURN_TO_MAX		512
#define CODE_MAX		2048
#define ID_TOKEN_MAX		16384
#define SUBJECT_MAX		255
#define EMAIL_MAX		320
#define LOCATION_MAX		1000	/* response.c drops a header line past 1 KiB */
#define COOKIE_NAME		"sb_oidc"
#define COOKIE_PATH		"/api/v1/auth/oidc"

/* What discovery says, for the configuration it was made for. */
struct provider {
	char			*for_issuer;	/* oidc.issuer and oidc.client_id then */
	char			*for_client;
	char			*authorization_endpoint;
	char			*token_endpoint;
	char			*jwks_uri;
	struct jwt_verifier	*verifier;	/* ID tokens: jwks_uri, issuer, client id */
	int64_t			 fetched_us;	/* monotonic; 0: never */
	int64_t			 failed_us;	/* the last failed attempt; 0: none */
};

static struct provider	 prov;

/* What start left for callback. */
struct flow {
	char	 verifier[TOKEN_LEN + 1];
	char	 nonce[TOKEN_LEN + 1];
	char	*return_to;	/* in the arena */
};

/* The account a sign-in ends in. */
struct account {
	int64_t	 user_id, org_id;
	int	 role;
};

/* ------------------------------------------------------------ small helpers */

/* s with every byte but the unreserved ones (RFC 3986) as %XX, in the arena. */
static char *
pct_encode(struct sb_arena *a, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			*out = arena_alloc(a, strlen(s) * 3 + 1), *o = out;
	unsigned char		 ch;

	for (; *s != '\0'; s++) {
		ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '.' || ch == '_' || ch == '~')
			*o++ = (char)ch;
		else {
			*o++ = '%';
			*o++ = hex[ch >> 4];
			*o++ = hex[ch & 15];
		}
	}
	*o = '\0';
	return out;
}

/* A path of this site: one "/" then printable ASCII without a backslash, which some
 * browsers read as "/" (so "/\evil.example" would leave the site like "//evil.example"). */
static int
return_to_valid(const char *s)
{
	size_t i;

	if (s[0] != '/' || s[1] == '/' || s[1] == '\\')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (i >= RETURN_TO_MAX || s[i] < 0x21 || s[i] > 0x7e || s[i] == '\\')
			return 0;
	return 1;
}

/* An OAuth error code as the provider sent it, or "unknown" if it has other bytes. */
static const char *
error_code_safe(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= 64 || !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' || s[i] == '.'))
			return "unknown";
	return i > 0 ? s : "unknown";
}

/* code_challenge = base64url(SHA-256(verifier)), without padding. */
static void
pkce_challenge(const char *verifier, char out[TOKEN_LEN + 1])
{
	unsigned char	 digest[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(digest, (const unsigned char *)verifier, strlen(verifier));
	sodium_bin2base64(out, TOKEN_LEN + 1, digest, sizeof(digest),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static int
cookie_is_secure(const struct sb_req *req)
{
	return req->app->cfg.auth.cookie_secure || req->https;
}

/* ------------------------------------------------------------ HTTP to the provider */

/* GET url, or POST form (application/x-www-form-urlencoded) to it: no redirects, at most
 * HTTP_MAX_BYTES, 5 s in all.  SB_OK with the body (caller frees; NUL-terminated) and
 * the status, or SB_ERR_UNAVAILABLE (logged without the form, which holds secrets). */
static enum sb_err
provider_http(const char *url, const char *form, char **body, size_t *len, long *status)
{
	struct fetch_opts	 o = { .accept = "application/json", .max_bytes = HTTP_MAX_BYTES };
	struct fetch_result	 r;

	if (form != NULL) {
		o.body = form;
		o.body_len = strlen(form);
	}
	*body = NULL;
	*len = 0;
	if (fetch(url, &o, &r) != FETCH_OK) {
		*status = r.status;
		log_warn("identity provider request failed", "{s:s, s:s}", "url", url,
		    "error", r.error);
		fetch_result_free(&r);
		return SB_ERR_UNAVAILABLE;
	}
	*status = r.status;
	*body = r.body;
	*len = r.len;
	r.body = NULL;
	fetch_result_free(&r);
	return SB_OK;
}

/* ------------------------------------------------------------ discovery */

static void
provider_clear(void)
{
	free(prov.for_issuer);
	free(prov.for_client);
	free(prov.authorization_endpoint);
	free(prov.token_endpoint);
	free(prov.jwks_uri);
	jwt_verifier_free(prov.verifier);
	memset(&prov, 0, sizeof(prov));
}

/* An endpoint the document names: an absolute http(s) URL, https if the issuer is. */
static const char *
endpoint(const json_t *doc, const char *name, int https_only)
{
	const char *u = json_string_value(json_object_get(doc, name));

	if (u == NULL || strlen(u) > 2048 || strpbrk(u, " \t\r\n") != NULL)
		return NULL;
	if (strncmp(u, "https://", 8) == 0 || (!https_only && strncmp(u, "http://", 7) == 0))
		return u;
	return NULL;
}

/* Fetches the discovery document and replaces prov.  0, or -1 (logged). */
static int
discover(const struct sb_config *c)
{
	struct jwt_config	 jc;
	struct jwt_verifier	*v;
	const char		*iss = c->oidc.issuer, *authz, *tok, *jwks, *said;
	char			*url, *body = NULL;
	size_t			 n = strlen(iss), len;
	long			 status;
	json_t			*doc = NULL;
	int			 https_only = strncmp(iss, "https://", 8) == 0, rc = -1;

	/* OpenID Connect Discovery 1.0, 4: a trailing "/" of the issuer is not doubled. */
	if (n > 0 && iss[n - 1] == '/')
		n--;
	url = sb_malloc(n + sizeof("/.well-known/openid-configuration"));
	memcpy(url, iss, n);
	memcpy(url + n, "/.well-known/openid-configuration",
	    sizeof("/.well-known/openid-configuration"));
	if (provider_http(url, NULL, &body, &len, &status) != SB_OK)
		goto out;
	if (status != 200) {
		log_warn("OIDC discovery failed", "{s:s, s:i}", "url", url, "status", (int)status);
		goto out;
	}
	if ((doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_object(doc)) {
		log_warn("OIDC discovery document is not a JSON object", "{s:s}", "url", url);
		goto out;
	}
	/* The issuer must be exactly the one configured (Discovery 1.0, 4.3): a document
	 * served by someone else cannot name itself the issuer of our tokens. */
	said = json_string_value(json_object_get(doc, "issuer"));
	if (said == NULL || strcmp(said, iss) != 0) {
		log_warn("OIDC discovery names another issuer", "{s:s, s:s}", "configured", iss,
		    "document", said != NULL ? said : "(none)");
		goto out;
	}
	authz = endpoint(doc, "authorization_endpoint", https_only);
	tok = endpoint(doc, "token_endpoint", https_only);
	jwks = endpoint(doc, "jwks_uri", https_only);
	if (authz == NULL || tok == NULL || jwks == NULL) {
		log_warn("OIDC discovery document lacks an endpoint, or names one that is not "
		    "an absolute URL (https for an https issuer)", "{s:s}", "url", url);
		goto out;
	}
	/* A verifier that already holds the keys of this JWKS is kept. */
	if (prov.verifier != NULL && strcmp(prov.for_issuer, iss) == 0 &&
	    strcmp(prov.for_client, c->oidc.client_id) == 0 && strcmp(prov.jwks_uri, jwks) == 0) {
		v = prov.verifier;
		prov.verifier = NULL;
	} else {
		memset(&jc, 0, sizeof(jc));
		jc.hs256_secret = "";
		jc.jwks_file = "";
		jc.jwks_url = jwks;
		jc.issuer = said;
		jc.audience = c->oidc.client_id;
		jc.leeway_s = c->jwt.leeway;
		jc.jwks_refresh_s = c->jwt.jwks_refresh;
		if ((v = jwt_verifier_new(&jc)) == NULL)
			goto out;
	}
	provider_clear();
	prov.for_issuer = sb_strdup(iss);
	prov.for_client = sb_strdup(c->oidc.client_id);
	prov.authorization_endpoint = sb_strdup(authz);
	prov.token_endpoint = sb_strdup(tok);
	prov.jwks_uri = sb_strdup(jwks);
	prov.verifier = v;
	prov.fetched_us = clock_mono_us();
	log_info("OIDC provider discovered", "{s:s}", "issuer", iss);
	rc = 0;
out:
	json_decref(doc);
	free(body);
	free(url);
	return rc;
}

/* The provider of the configured issuer: SB_OK with *p, or 503 prepared. */
static enum sb_err
provider_get(struct sb_req *req, struct provider **p)
{
	const struct sb_config	*c = &req->app->cfg;
	int64_t			 now = clock_mono_us();
	int			 have;

	have = prov.verifier != NULL && strcmp(prov.for_issuer, c->oidc.issuer) == 0 &&
	    strcmp(prov.for_client, c->oidc.client_id) == 0;
	*p = &prov;
	if (have && now - prov.fetched_us < DISCOVERY_TTL_S * 1000000LL)
		return SB_OK;
	if (prov.failed_us == 0 || now - prov.failed_us >= DISCOVERY_RETRY_S * 1000000LL) {
		if (discover(c) == 0) {
			prov.failed_us = 0;
			return SB_OK;
		}
		prov.failed_us = now;
	}
	if (have)
		return SB_OK;	/* stale, but the provider's keys rarely change */
	return req_fail(req, SB_ERR_UNAVAILABLE, "oidc-unavailable",
	    "the identity provider cannot be reached; try again shortly");
}

/* ------------------------------------------------------------ start */

/* 404 while sign-in is off; 500 (logged) when it is half configured. */
static enum sb_err
oidc_enabled(struct sb_req *req)
{
	const struct sb_config *c = &req->app->cfg;

	if (c->oidc.issuer[0] == '\0')
		return req_fail(req, SB_ERR_NOT_FOUND, NULL, "single sign-on is not configured");
	if (c->oidc.client_id[0] == '\0' || c->oidc.redirect_uri[0] == '\0') {
		log_error("oidc.issuer is set but oidc.client_id or oidc.redirect_uri is empty", NULL);
		return req_fail(req, SB_ERR_INTERNAL, "oidc-misconfigured",
		    "single sign-on is not fully configured");
	}
	return SB_OK;
}

/* GET start: 302 to the provider with a fresh state, nonce and PKCE challenge, the
 * state in a cookie; 404 while sign-in is off, 503 when the provider or memcached
 * cannot be used. */
enum sb_err
h_oidc_start(struct sb_req *req)
{
	const struct sb_config	*c = &req->app->cfg;
	struct provider		*p;
	const char		*rt = req_query(req, "return_to"), *ep;
	char			 state[TOKEN_LEN + 1], nonce[TOKEN_LEN + 1];
	char			 verifier[TOKEN_LEN + 1], challenge[TOKEN_LEN + 1], *v, *loc;
	json_t			*o;
	enum sb_err		 err;

	if ((err = oidc_enabled(req)) != SB_OK)
		return err;
	if (rt == NULL || !return_to_valid(rt))
		rt = "/";
	if ((err = provider_get(req, &p)) != SB_OK)
		return err;
	token_new(state);
	token_new(nonce);
	token_new(verifier);	/* 43 characters of [A-Za-z0-9_-]: a valid PKCE verifier */
	pkce_challenge(verifier, challenge);

	ep = p->authorization_endpoint;
	loc = arena_printf(req->arena, "%s%cresponse_type=code&client_id=%s&redirect_uri=%s"
	    "&scope=%s&state=%s&nonce=%s&code_challenge=%s&code_challenge_method=S256",
	    ep, strchr(ep, '?') != NULL ? '&' : '?', pct_encode(req->arena, c->oidc.client_id),
	    pct_encode(req->arena, c->oidc.redirect_uri), pct_encode(req->arena, c->oidc.scopes),
	    state, nonce, challenge);
	if (strlen(loc) > LOCATION_MAX) {
		log_error("the OIDC authorization URL is too long for a Location header",
		    "{s:i}", "length", (int)strlen(loc));
		return req_fail(req, SB_ERR_INTERNAL, "oidc-misconfigured",
		    "the sign-in URL is too long");
	}

	o = arena_adopt_json(req->arena, json_pack("{s:s, s:s, s:s}", "v", verifier, "n", nonce,
	    "r", rt));
	v = json_dumps(o, JSON_COMPACT);
	if (v == NULL)
		sb_oom(0);
	err = cache_set(req->app->cache, "oidc", state, v, strlen(v), FLOW_TTL_S);
	sodium_memzero(v, strlen(v));
	free(v);
	if (err != SB_OK)
		return req_fail(req, SB_ERR_UNAVAILABLE, "oidc-unavailable",
		    "sign-in cannot be started right now; try again shortly");

	resp_header(req, "Set-Cookie", COOKIE_NAME "=%s; Path=" COOKIE_PATH "; Max-Age=%d; "
	    "HttpOnly; SameSite=Lax%s", state, FLOW_TTL_S, cookie_is_secure(req) ? "; Secure" : "");
	resp_header(req, "Location", "%s", loc);
	resp_json(req, 302, json_pack("{s:s}", "location", loc));
	return SB_OK;
}

/* ------------------------------------------------------------ callback */

/* Takes what start stored under state, once: a second taker finds nothing.
 * SB_OK, SB_ERR_NOT_FOUND, or SB_ERR_UNAVAILABLE. */
static enum sb_err
flow_take(struct sb_req *req, const char *state, struct flow *f)
{
	const char	*vf, *n, *r;
	char		*v;
	size_t		 len;
	json_t		*o;
	enum sb_err	 err;
	int		 ok;

	if ((err = cache_get(req->app->cache, "oidc", state, &v, &len)) != SB_OK)
		return err;
	o = arena_adopt_json(req->arena, json_loadb(v, len, 0, NULL));
	sodium_memzero(v, len);
	free(v);
	ok = o != NULL && json_unpack(o, "{s:s, s:s, s:s}", "v", &vf, "n", &n, "r", &r) == 0 &&
	    token_valid(vf) && token_valid(n) && return_to_valid(r);
	if (ok) {
		memcpy(f->verifier, vf, TOKEN_LEN + 1);
		memcpy(f->nonce, n, TOKEN_LEN + 1);
		f->return_to = arena_strdup(req->arena, r);
	}
	if (!ok)
		return SB_ERR_NOT_FOUND;
	/* memcached has no get-and-delete: whoever adds the marker first owns the state,
	 * so two callbacks racing with one state cannot both go on. */
	err = cache_add(req->app->cache, "oidc-used", state, "1", 1, FLOW_TTL_S);
	(void)cache_delete(req->app->cache, "oidc", state);
	return err == SB_ERR_CONFLICT ? SB_ERR_NOT_FOUND : err;
}

/* Exchanges the code for an ID token (in the arena).  On failure the problem is prepared. */
static enum sb_err
code_exchange(struct sb_req *req, const struct provider *p, const char *code,
    const struct flow *f, const char **id_token)
{
	const struct sb_config	*c = &req->app->cfg;
	struct sb_arena		*a = req->arena;
	const char		*tok, *perr;
	char			*form, *body;
	size_t			 len;
	long			 status;
	json_t			*o;
	enum sb_err		 err;

	form = arena_printf(a, "grant_type=authorization_code&code=%s&redirect_uri=%s"
	    "&client_id=%s&code_verifier=%s", pct_encode(a, code),
	    pct_encode(a, c->oidc.redirect_uri), pct_encode(a, c->oidc.client_id), f->verifier);
	if (c->oidc.client_secret[0] != '\0')	/* client_secret_post */
		form = arena_printf(a, "%s&client_secret=%s", form,
		    pct_encode(a, c->oidc.client_secret));
	err = provider_http(p->token_endpoint, form, &body, &len, &status);
	sodium_memzero(form, strlen(form));
	if (err != SB_OK)
		return req_fail(req, SB_ERR_UNAVAILABLE, "oidc-unavailable",
		    "the identity provider cannot be reached; try again shortly");
	o = arena_adopt_json(a, json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL));
	sodium_memzero(body, len);
	free(body);
	tok = json_string_value(json_object_get(o, "id_token"));
	err = SB_OK;
	if (status != 200) {
		perr = json_string_value(json_object_get(o, "error"));
		perr = error_code_safe(perr != NULL ? perr : "");
		log_warn("the identity provider refused the code", "{s:i, s:s}", "status",
		    (int)status, "error", perr);
		err = req_fail(req, SB_ERR_UNAUTHENTICATED, "oidc-token", arena_printf(a,
		    "the identity provider refused the code (%s); start again", perr));
	} else if (tok == NULL || strlen(tok) > ID_TOKEN_MAX)
		err = req_fail(req, SB_ERR_UNAUTHENTICATED, "oidc-token",
		    "the identity provider's answer has no usable ID token");
	else
		*id_token = arena_strdup(a, tok);
	return err;
}

/* The token's email if it is one the provider vouches for, else NULL. */
static const char *
verified_email(const json_t *claims)
{
	const char	*email = json_string_value(json_object_get(claims, "email")), *at;
	const json_t	*ev = json_object_get(claims, "email_verified");
	size_t		 n;

	if (email == NULL || (n = strlen(email)) < 3 || n > EMAIL_MAX ||
	    (at = strchr(email, '@')) == NULL || at == email || at[1] == '\0')
		return NULL;
	/* Some providers send the string "true". */
	if (json_is_true(ev) || (json_is_string(ev) && strcmp(json_string_value(ev), "true") == 0))
		return email;
	return NULL;
}

/* Finds the account of (iss, sub): SB_OK with *found set. */
static enum sb_err
account_by_identity(struct sb_req *req, const char *iss, const char *sub, struct account *acct,
    int *found, int *disabled)
{
	static struct db_stmt	 q = { "auth_identity",
	    "SELECT user_id, org_id, role, disabled FROM auth_identity($1, $2)", 2, 0 };
	const char		*p[2] = { iss, sub };
	enum sb_err		 err;
	PGresult		*res;

	*found = *disabled = 0;
	if ((res = req_exec(req, &q, p, &err)) == NULL)
		return err;
	if (PQntuples(res) == 1) {
		*found = 1;
		acct->user_id = atoll(PQgetvalue(res, 0, 0));
		acct->org_id = atoll(PQgetvalue(res, 0, 1));
		acct->role = role_parse(PQgetvalue(res, 0, 2));
		*disabled = strcmp(PQgetvalue(res, 0, 3), "f") != 0;
	}
	return *found && acct->role < 0 ? SB_ERR_INTERNAL : SB_OK;
}

static enum sb_err
account_by_email(struct sb_req *req, const char *email, struct account *acct, int *found,
    int *disabled)
{
	static struct db_stmt	 q = { "auth_user_by_email",
	    "SELECT id, org_id, role, password_hash, disabled FROM auth_user_by_email($1)", 1, 0 };
	const char		*p[1] = { email };
	enum sb_err		 err;
	PGresult		*res;

	*found = *disabled = 0;
	if ((res = req_exec(req, &q, p, &err)) == NULL)
		return err;
	if (PQntuples(res) == 1) {
		*found = 1;
		acct->user_id = atoll(PQgetvalue(res, 0, 0));
		acct->org_id = atoll(PQgetvalue(res, 0, 1));
		acct->role = role_parse(PQgetvalue(res, 0, 2));
		*disabled = strcmp(PQgetvalue(res, 0, 4), "f") != 0;
	}
	return *found && acct->role < 0 ? SB_ERR_INTERNAL : SB_OK;
}

/* What linking and provisioning write, in the account's org (req->who.org_id). */
struct link {
	const char	*iss, *sub, *email, *name, *role;
	int64_t		 user_id;	/* 0: make the account first */
};

static enum sb_err
link_store(struct sb_req *req, void *arg)
{
	static struct db_stmt	 user_ins = { "oidc_user_insert",
	    "INSERT INTO users (org_id, email, name, role) VALUES ($1, $2, left($3, 200), $4) "
	    "ON CONFLICT (lower(email)) DO NOTHING RETURNING id", 4, 0 };
	static struct db_stmt	 ident_ins = { "oidc_identity_insert",
	    "INSERT INTO user_identities (org_id, user_id, issuer, subject, email) "
	    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (issuer, subject) DO NOTHING RETURNING id", 5, 0 };
	struct link		*l = arg;
	const char		*p[5];
	char			 org[24], uid[24];
	enum sb_err		 err;
	PGresult		*res;

	snprintf(org, sizeof(org), "%lld", (long long)req->who.org_id);
	if (l->user_id == 0) {
		p[0] = org;
		p[1] = l->email;
		p[2] = l->name;
		p[3] = l->role;
		if ((res = req_exec(req, &user_ins, p, &err)) == NULL)
			return err;
		if (PQntuples(res) != 1)
			return SB_ERR_CONFLICT;	/* the address was taken meanwhile */
		l->user_id = atoll(PQgetvalue(res, 0, 0));
	}
	snprintf(uid, sizeof(uid), "%lld", (long long)l->user_id);
	p[0] = org;
	p[1] = uid;
	p[2] = l->iss;
	p[3] = l->sub;
	p[4] = l->email;
	if ((res = req_exec(req, &ident_ins, p, &err)) == NULL)
		return err;
	return PQntuples(res) == 1 ? SB_OK : SB_ERR_CONFLICT;	/* linked meanwhile */
}

/* Runs link_store in org_id as the account's user; audits action on success. */
static enum sb_err
link_run(struct sb_req *req, struct link *l, int64_t org_id, const char *action)
{
	enum sb_err err;

	memset(&req->who, 0, sizeof(req->who));
	req->who.kind = AUTH_NONE;
	req->who.org_id = org_id;
	req->who.role = -1;
	if ((err = org_tx(req, link_store, l)) == SB_OK) {
		req->who.kind = AUTH_SESSION;
		req->who.user_id = l->user_id;
		audit(req, action, l->email, json_pack("{s:s, s:s, s:s}", "method", "oidc",
		    "issuer", l->iss, "subject", l->sub));
	}
	memset(&req->who, 0, sizeof(req->who));
	return err;
}

/* Refuses a disabled account, with an audit line in its org. */
static enum sb_err
account_refuse(struct sb_req *req, const struct account *acct, const char *target)
{
	req->who.kind = AUTH_SESSION;
	req->who.org_id = acct->org_id;
	req->who.user_id = acct->user_id;
	audit(req, "login.failed", target, json_pack("{s:s, s:s}", "method", "oidc",
	    "reason", "disabled"));
	memset(&req->who, 0, sizeof(req->who));
	return req_fail(req, SB_ERR_UNAUTHENTICATED, "account-disabled", "this account is disabled");
}

/* The account (iss, sub) signs in to, linked or made on first use.  On failure the
 * problem is prepared. */
static enum sb_err
account_for(struct sb_req *req, const json_t *claims, const char *iss, const char *sub,
    struct account *acct)
{
	static struct db_stmt	 org_q = { "auth_org_by_slug", "SELECT auth_org_by_slug($1)", 1, 0 };
	const struct sb_config	*c = &req->app->cfg;
	const char		*email = verified_email(claims), *name, *p[1];
	struct link		 l;
	enum sb_err		 err;
	PGresult		*res;
	int64_t			 org_id;
	int			 attempt, found, disabled;

	name = json_string_value(json_object_get(claims, "name"));
	/* Two first sign-ins of one person at once: the loser finds the winner's link. */
	for (attempt = 0; attempt < 2; attempt++) {
		if ((err = account_by_identity(req, iss, sub, acct, &found, &disabled)) != SB_OK)
			return err;
		if (found)
			return disabled ? account_refuse(req, acct, email != NULL ? email : sub) : SB_OK;
		if (email == NULL)
			return req_fail(req, SB_ERR_FORBIDDEN, "oidc-email-unverified",
			    "the identity provider does not vouch for an email address of yours, "
			    "so no account can be linked or made");
		memset(&l, 0, sizeof(l));
		l.iss = iss;
		l.sub = sub;
		l.email = email;
		l.name = name != NULL ? name : "";
		if ((err = account_by_email(req, email, acct, &found, &disabled)) != SB_OK)
			return err;
		if (found) {
			if (disabled)
				return account_refuse(req, acct, email);
			l.user_id = acct->user_id;
			err = link_run(req, &l, acct->org_id, "identity.linked");
		} else if (!c->oidc.provision)
			return req_fail(req, SB_ERR_FORBIDDEN, "not-provisioned",
			    "there is no account for you here; ask an administrator for one");
		else {
			if ((acct->role = role_parse(c->oidc.provision_role)) < 0) {
				log_error("oidc.provision_role is not a role", "{s:s}", "role",
				    c->oidc.provision_role);
				return req_fail(req, SB_ERR_INTERNAL, "oidc-misconfigured",
				    "accounts cannot be made: the configured role is unknown");
			}
			p[0] = c->oidc.provision_org;
			if ((res = req_exec(req, &org_q, p, &err)) == NULL)
				return err;
			org_id = PQgetisnull(res, 0, 0) ? 0 : atoll(PQgetvalue(res, 0, 0));
			if (org_id <= 0) {
				log_error("oidc.provision_org names no org", "{s:s}", "org",
				    c->oidc.provision_org);
				return req_fail(req, SB_ERR_INTERNAL, "oidc-misconfigured",
				    "accounts cannot be made: the configured org does not exist");
			}
			l.role = role_name((enum sb_role)acct->role);
			if ((err = link_run(req, &l, org_id, "user.provisioned")) == SB_OK)
				acct->org_id = org_id;
		}
		if (err == SB_OK) {
			acct->user_id = l.user_id;
			return SB_OK;
		}
		if (err != SB_ERR_CONFLICT)
			return err;
	}
	return req_fail(req, SB_ERR_CONFLICT, "oidc-conflict",
	    "another sign-in of yours changed your account at the same moment; start again");
}

/* GET callback: checks state, code, ID token and nonce, finds or makes the account,
 * starts a session and answers 302 to the return_to of start.  Every failure is a
 * problem document that names no token; the state cookie is cleared either way. */
enum sb_err
h_oidc_callback(struct sb_req *req)
{
	struct provider	*p;
	struct flow	 f;
	struct account	 acct;
	const char	*cookie, *state, *code, *perr, *id_token = NULL, *nonce, *sub, *azp, *email;
	char		 why[128];
	json_t		*claims = NULL;
	enum sb_err	 err;

	if ((err = oidc_enabled(req)) != SB_OK)
		return err;
	/* Whatever happens now, this sign-in is over: the browser forgets its state. */
	resp_header(req, "Set-Cookie", COOKIE_NAME "=; Path=" COOKIE_PATH "; Max-Age=0; "
	    "HttpOnly; SameSite=Lax%s", cookie_is_secure(req) ? "; Secure" : "");
	cookie = req_cookie(req, COOKIE_NAME);
	if ((perr = req_query(req, "error")) != NULL) {
		if (cookie != NULL && token_valid(cookie))
			(void)cache_delete(req->app->cache, "oidc", cookie);
		return req_fail(req, SB_ERR_UNAUTHENTICATED, "oidc-denied", arena_printf(req->arena,
		    "the identity provider did not sign you in (%s)", error_code_safe(perr)));
	}
	state = req_query(req, "state");
	code = req_query(req, "code");
	if (state == NULL || cookie == NULL || !token_valid(state) || !token_valid(cookie) ||
	    !secret_equal(state, cookie))
		return req_fail(req, SB_ERR_INVALID, "oidc-state",
		    "the sign-in state is missing or not this browser's; start again");
	if (code == NULL || *code == '\0' || strlen(code) > CODE_MAX)
		return req_fail(req, SB_ERR_INVALID, "oidc-state",
		    "the identity provider sent no usable code; start again");
	if ((err = flow_take(req, state, &f)) == SB_ERR_NOT_FOUND)
		return req_fail(req, SB_ERR_INVALID, "oidc-state",
		    "the sign-in state has expired or was already used; start again");
	if (err != SB_OK)
		return req_fail(req, SB_ERR_UNAVAILABLE, "oidc-unavailable",
		    "sign-in cannot be finished right now; try again shortly");
	if ((err = provider_get(req, &p)) != SB_OK ||
	    (err = code_exchange(req, p, code, &f, &id_token)) != SB_OK)
		goto out;

	if ((claims = arena_adopt_json(req->arena,
	    jwt_verify(p->verifier, id_token, why, sizeof(why)))) == NULL) {
		log_info("ID token refused", "{s:s}", "reason", why);
		err = req_fail(req, SB_ERR_UNAUTHENTICATED, "oidc-id-token",
		    arena_printf(req->arena, "the identity provider's ID token was refused: %s", why));
		goto out;
	}
	/* Several audiences: the token must also say it was issued to us (Core 1.0, 3.1.3.7). */
	azp = json_string_value(json_object_get(claims, "azp"));
	if ((json_is_array(json_object_get(claims, "aud")) &&
	    json_array_size(json_object_get(claims, "aud")) > 1 && azp == NULL) ||
	    (azp != NULL && strcmp(azp, req->app->cfg.oidc.client_id) != 0)) {
		err = req_fail(req, SB_ERR_UNAUTHENTICATED, "oidc-id-token",
		    "the identity provider's ID token was issued to another client");
		goto out;
	}
	nonce = json_string_value(json_object_get(claims, "nonce"));
	if (nonce == NULL || strlen(nonce) != TOKEN_LEN || !secret_equal(nonce, f.nonce)) {
		err = req_fail(req, SB_ERR_UNAUTHENTICATED, "oidc-nonce",
		    "the ID token was not issued for this sign-in; start again");
		goto out;
	}
	sub = json_string_value(json_object_get(claims, "sub"));
	if (sub == NULL || *sub == '\0' || strlen(sub) > SUBJECT_MAX) {
		err = req_fail(req, SB_ERR_UNAUTHENTICATED, "oidc-id-token",
		    "the ID token names no subject");
		goto out;
	}
	if ((err = account_for(req, claims, p->for_issuer, sub, &acct)) != SB_OK)
		goto out;
	email = json_string_value(json_object_get(claims, "email"));
	if ((err = session_start(req, acct.user_id, acct.org_id, acct.role,
	    email != NULL ? email : sub, json_pack("{s:s}", "method", "oidc"))) != SB_OK)
		goto out;
	resp_header(req, "Location", "%s", f.return_to);
	resp_json(req, 302, json_pack("{s:s}", "location", f.return_to));
out:
	return err;
}
