/* idp.c: sb-mock-idp, a small OpenID Connect provider for the integration tests. */
/*
 * usage: sb-mock-idp PORT CLIENT_ID REDIRECT_URI [CLIENT_SECRET]
 *
 * One process, one poll loop, HTTP/1.1 with Connection: close, on 127.0.0.1:PORT.
 * An RSA-2048 key made at start signs the ID tokens (RS256, kid "mock-1").
 *
 *   GET  /.well-known/openid-configuration	issuer http://127.0.0.1:PORT and the endpoints
 *   GET  /jwks				the public key as a JWK
 *   GET  /authorize			no login page: the test names the user in login_hint;
 *					checks response_type, client_id, redirect_uri (exactly
 *					the one given), scope openid, state, nonce and an S256
 *					code_challenge; 302 to redirect_uri?code=..&state=..
 *   POST /token				checks grant_type, the code (once, CODE_TTL_S),
 *					redirect_uri, client_id, client_secret (if given) and
 *					PKCE; answers an ID token
 *
 * login_hint is USER (sub "mock-USER", email USER@oidc.test, or USER itself if it has
 * an "@"), or HOOK:USER where HOOK bends the answer for a test:
 *   badnonce	the ID token carries another nonce
 *   unverified	email_verified is false
 *   wrongaud	the ID token is for another client
 *   deny		/authorize redirects back with error=access_denied
 *
 * One line per request on stderr.  SIGTERM or SIGINT: exit 0.  Requests are read into
 * a fixed buffer: a larger one is answered 431 or 413 and closed.
 */
#include "config.h"

#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "fcgi-app/router.h"
#include "tests/mock/mock.h"

#define KID		"mock-1"
#define MAX_CONNS	32
#define REQ_MAX		16384		/* request line, headers and body */
#define IDLE_S		10		/* a connection that says nothing this long is closed */
#define MAX_CODES	256
#define CODE_TTL_S	60
#define TOKEN_TTL_S	300
#define PARAM_MAX	1024

enum hook { HOOK_NONE, HOOK_BADNONCE, HOOK_UNVERIFIED, HOOK_WRONGAUD, HOOK_DENY };

struct conn {
	int		 fd;		/* -1: free slot */
	char		 in[REQ_MAX + 1];
	size_t		 inlen;
	struct sb_buf	 out;		/* the whole answer, once the request is read */
	size_t		 outoff;
	time_t		 last;
};

struct code {
	char		 code[33];	/* "": free slot */
	char		 redirect_uri[PARAM_MAX];
	char		 challenge[129];
	char		 nonce[PARAM_MAX];
	char		 user[65];
	enum hook	 hook;
	time_t		 issued;
};

struct response {
	int		 status;
	const char	*ctype;
	char		*body;		/* malloc'd or NULL */
	char		*location;	/* malloc'd or NULL */
};

static struct conn		 conns[MAX_CONNS];
static struct code		 codes[MAX_CODES];
static char			 issuer[64];
static const char		*client_id, *redirect_uri, *client_secret;
static EVP_PKEY			*pkey;
static char			*priv_pem;
static json_t			*jwk;

/* ------------------------------------------------------------ encodings */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The value of name in an x-www-form-urlencoded string, decoded into out.
 * 1 found, 0 absent, -1 repeated, malformed, too long or holding a NUL. */
static int
param(const char *qs, size_t qslen, const char *name, char *out, size_t outlen)
{
	const char	*p = qs, *end = qs + qslen, *amp, *eq;
	size_t		 n = strlen(name), o;
	int		 found = 0, h, l;

	for (; p < end; p = amp + 1) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq == NULL || (size_t)(eq - p) != n || memcmp(p, name, n) != 0)
			continue;
		if (found++)
			return -1;
		for (o = 0, p = eq + 1; p < amp; p++) {
			if (o + 1 >= outlen)
				return -1;
			if (*p == '+')
				out[o++] = ' ';
			else if (*p == '%') {
				if (amp - p < 3 || (h = hexval(p[1])) < 0 || (l = hexval(p[2])) < 0 ||
				    (h == 0 && l == 0))
					return -1;
				out[o++] = (char)(h * 16 + l);
				p += 2;
			} else
				out[o++] = *p;
		}
		out[o] = '\0';
	}
	return found;
}

static char *
pct_encode(const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			*out = sb_malloc(strlen(s) * 3 + 1), *o = out;
	unsigned char		 c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
			*o++ = (char)c;
		else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

/* ------------------------------------------------------------ the key */

static json_t *
bn_json(const char *name)
{
	BIGNUM		*bn = NULL;
	unsigned char	 buf[1024];
	char		*s;
	json_t		*v;
	int		 n;

	if (!EVP_PKEY_get_bn_param(pkey, name, &bn))
		return json_null();
	n = BN_bn2bin(bn, buf);
	BN_free(bn);
	s = b64url_encode(buf, (size_t)n);
	v = json_string(s);
	free(s);
	return v;
}

static int
key_make(void)
{
	BIO	*bio;
	char	*data;
	long	 len;

	if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)) == NULL ||
	    (bio = BIO_new(BIO_s_mem())) == NULL)
		return -1;
	if (PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (len = BIO_get_mem_data(bio, &data)) > 0) {
		priv_pem = sb_malloc((size_t)len + 1);
		memcpy(priv_pem, data, (size_t)len);
		priv_pem[len] = '\0';
	}
	BIO_free(bio);
	if (priv_pem == NULL)
		return -1;
	jwk = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "kty", "RSA", "kid", KID, "use", "sig",
	    "alg", "RS256", "n", bn_json(OSSL_PKEY_PARAM_RSA_N), "e", bn_json(OSSL_PKEY_PARAM_RSA_E));
	return jwk != NULL ? 0 : -1;
}

/* ------------------------------------------------------------ endpoints */

static void
answer_json(struct response *r, int status, json_t *v)
{
	r->status = status;
	r->ctype = "application/json";
	r->body = json_dumps(v, JSON_COMPACT);
	json_decref(v);
}

/* An OAuth error answer (RFC 6749, 5.2). */
static void
answer_error(struct response *r, int status, const char *error, const char *desc)
{
	answer_json(r, status, json_pack("{s:s, s:s}", "error", error, "error_description", desc));
}

static void
discovery(struct response *r)
{
	answer_json(r, 200, json_pack("{s:s, s:s+, s:s+, s:s+, s:[s], s:[s], s:[s], s:[s], "
	    "s:[s], s:[s, s, s]}",
	    "issuer", issuer,
	    "authorization_endpoint", issuer, "/authorize",
	    "token_endpoint", issuer, "/token",
	    "jwks_uri", issuer, "/jwks",
	    "response_types_supported", "code",
	    "subject_types_supported", "public",
	    "id_token_signing_alg_values_supported", "RS256",
	    "code_challenge_methods_supported", "S256",
	    "token_endpoint_auth_methods_supported", "client_secret_post",
	    "scopes_supported", "openid", "email", "profile"));
}

static int
user_valid(const char *u)
{
	size_t i;

	for (i = 0; u[i] != '\0'; i++)
		if (i >= 64 || !(isalnum((unsigned char)u[i]) || strchr("._@+-", u[i]) != NULL))
			return 0;
	return i > 0;
}

static int
unreserved(const char *s, size_t min, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= max || !(isalnum((unsigned char)s[i]) || strchr("-._~", s[i]) != NULL))
			return 0;
	return i >= min;
}

static struct code *
code_slot(time_t now)
{
	int i;

	for (i = 0; i < MAX_CODES; i++)
		if (codes[i].code[0] == '\0' || now - codes[i].issued > CODE_TTL_S)
			return &codes[i];
	return NULL;
}

static void
authorize(const struct mock_req *q, struct response *r)
{
	char		 rt[PARAM_MAX], cid[PARAM_MAX], ru[PARAM_MAX], scope[PARAM_MAX];
	char		 state[PARAM_MAX], nonce[PARAM_MAX], cc[PARAM_MAX], ccm[PARAM_MAX];
	char		 hint[PARAM_MAX], *user, *enc;
	unsigned char	 rnd[16];
	struct code	*c;
	enum hook	 hook = HOOK_NONE;
	size_t		 qn = strlen(q->query), i;
	time_t		 now = time(NULL);

	r->status = 400;
	r->ctype = "text/plain";
	if (param(q->query, qn, "response_type", rt, sizeof(rt)) != 1 || strcmp(rt, "code") != 0) {
		r->body = sb_strdup("response_type must be code\n");
		return;
	}
	if (param(q->query, qn, "client_id", cid, sizeof(cid)) != 1 || strcmp(cid, client_id) != 0) {
		r->body = sb_strdup("unknown client_id\n");
		return;
	}
	if (param(q->query, qn, "redirect_uri", ru, sizeof(ru)) != 1 || strcmp(ru, redirect_uri) != 0) {
		r->body = sb_strdup("redirect_uri is not the registered one\n");
		return;
	}
	if (param(q->query, qn, "scope", scope, sizeof(scope)) != 1 ||
	    strncmp(scope, "openid", 6) != 0 || (scope[6] != '\0' && scope[6] != ' ')) {
		r->body = sb_strdup("scope must start with openid\n");
		return;
	}
	if (param(q->query, qn, "state", state, sizeof(state)) != 1 || state[0] == '\0' ||
	    param(q->query, qn, "nonce", nonce, sizeof(nonce)) != 1 || nonce[0] == '\0') {
		r->body = sb_strdup("state and nonce are required\n");
		return;
	}
	if (param(q->query, qn, "code_challenge_method", ccm, sizeof(ccm)) != 1 ||
	    strcmp(ccm, "S256") != 0 || param(q->query, qn, "code_challenge", cc, sizeof(cc)) != 1 ||
	    !unreserved(cc, 43, 128)) {
		r->body = sb_strdup("an S256 code_challenge is required\n");
		return;
	}
	if (param(q->query, qn, "login_hint", hint, sizeof(hint)) != 1) {
		r->body = sb_strdup("no login page here: name the user in login_hint\n");
		return;
	}
	user = hint;
	if (strncmp(hint, "badnonce:", 9) == 0)
		hook = HOOK_BADNONCE;
	else if (strncmp(hint, "unverified:", 11) == 0)
		hook = HOOK_UNVERIFIED;
	else if (strncmp(hint, "wrongaud:", 9) == 0)
		hook = HOOK_WRONGAUD;
	else if (strncmp(hint, "deny:", 5) == 0)
		hook = HOOK_DENY;
	if (hook != HOOK_NONE)
		user = strchr(hint, ':') + 1;
	if (!user_valid(user)) {
		r->body = sb_strdup("login_hint: a user of 1 to 64 characters [A-Za-z0-9._@+-]\n");
		return;
	}
	enc = pct_encode(state);
	r->status = 302;
	if (hook == HOOK_DENY) {
		r->location = sb_malloc(strlen(ru) + strlen(enc) + 64);
		sprintf(r->location, "%s%cerror=access_denied&state=%s", ru,
		    strchr(ru, '?') != NULL ? '&' : '?', enc);
		free(enc);
		return;
	}
	if ((c = code_slot(now)) == NULL || RAND_bytes(rnd, sizeof(rnd)) != 1) {
		free(enc);
		r->status = 503;
		r->body = sb_strdup("too many codes outstanding\n");
		return;
	}
	memset(c, 0, sizeof(*c));
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(c->code + 2 * i, 3, "%02x", rnd[i]);
	snprintf(c->redirect_uri, sizeof(c->redirect_uri), "%s", ru);
	snprintf(c->challenge, sizeof(c->challenge), "%.128s", cc);
	snprintf(c->nonce, sizeof(c->nonce), "%s", nonce);
	snprintf(c->user, sizeof(c->user), "%.64s", user);
	c->hook = hook;
	c->issued = now;
	r->location = sb_malloc(strlen(ru) + strlen(enc) + 64);
	sprintf(r->location, "%s%ccode=%s&state=%s", ru, strchr(ru, '?') != NULL ? '&' : '?',
	    c->code, enc);
	free(enc);
}

/* The ID token for a redeemed code, or NULL. */
static char *
id_token(const struct code *c)
{
	jwt_t	*jwt = NULL;
	char	 sub[80], email[96], name[80];
	char	*tok = NULL;
	long	 now = (long)time(NULL);

	snprintf(sub, sizeof(sub), "mock-%s", c->user);
	if (strchr(c->user, '@') != NULL)
		snprintf(email, sizeof(email), "%s", c->user);
	else
		snprintf(email, sizeof(email), "%s@oidc.test", c->user);
	snprintf(name, sizeof(name), "Mock %s", c->user);
	if (jwt_new(&jwt) != 0)
		return NULL;
	if (jwt_add_grant(jwt, "iss", issuer) == 0 && jwt_add_grant(jwt, "sub", sub) == 0 &&
	    jwt_add_grant(jwt, "aud", c->hook == HOOK_WRONGAUD ? "another-client" : client_id) == 0 &&
	    jwt_add_grant(jwt, "email", email) == 0 &&
	    jwt_add_grant_bool(jwt, "email_verified", c->hook != HOOK_UNVERIFIED) == 0 &&
	    jwt_add_grant(jwt, "name", name) == 0 &&
	    jwt_add_grant(jwt, "nonce", c->hook == HOOK_BADNONCE ? "not-the-nonce-you-sent" :
	    c->nonce) == 0 &&
	    jwt_add_grant_int(jwt, "iat", now) == 0 &&
	    jwt_add_grant_int(jwt, "exp", now + TOKEN_TTL_S) == 0 &&
	    jwt_add_header(jwt, "kid", KID) == 0 &&
	    jwt_set_alg(jwt, JWT_ALG_RS256, (const unsigned char *)priv_pem,
	    (int)strlen(priv_pem)) == 0)
		tok = jwt_encode_str(jwt);
	jwt_free(jwt);
	return tok;
}

static struct code *
code_find(const char *code)
{
	int i;

	for (i = 0; i < MAX_CODES; i++)
		if (codes[i].code[0] != '\0' && strcmp(codes[i].code, code) == 0)
			return &codes[i];
	return NULL;
}

static void
token(const struct mock_req *q, struct response *r)
{
	char		 gt[PARAM_MAX], code[PARAM_MAX], ru[PARAM_MAX], cid[PARAM_MAX];
	char		 secret[PARAM_MAX], verifier[PARAM_MAX], *want, *tok;
	const char	*ctype = mock_http_header(q, "Content-Type");
	unsigned char	 digest[32];
	unsigned int	 dlen = 0;
	struct code	*c, redeemed;
	int		 ok;

	if (ctype == NULL || strncasecmp(ctype, "application/x-www-form-urlencoded", 33) != 0) {
		answer_error(r, 400, "invalid_request", "the body must be a form");
		return;
	}
	if (param(q->body, q->bodylen, "grant_type", gt, sizeof(gt)) != 1 ||
	    strcmp(gt, "authorization_code") != 0) {
		answer_error(r, 400, "unsupported_grant_type", "only authorization_code");
		return;
	}
	if (param(q->body, q->bodylen, "client_id", cid, sizeof(cid)) != 1 ||
	    strcmp(cid, client_id) != 0) {
		answer_error(r, 401, "invalid_client", "unknown client_id");
		return;
	}
	ok = param(q->body, q->bodylen, "client_secret", secret, sizeof(secret));
	if (client_secret != NULL ? ok != 1 || strcmp(secret, client_secret) != 0 : ok != 0) {
		answer_error(r, 401, "invalid_client", "wrong client_secret");
		return;
	}
	if (param(q->body, q->bodylen, "code", code, sizeof(code)) != 1 ||
	    (c = code_find(code)) == NULL || time(NULL) - c->issued > CODE_TTL_S) {
		answer_error(r, 400, "invalid_grant", "unknown, used or expired code");
		return;
	}
	/* Used once, whatever comes next. */
	redeemed = *c;
	memset(c, 0, sizeof(*c));
	if (param(q->body, q->bodylen, "redirect_uri", ru, sizeof(ru)) != 1 ||
	    strcmp(ru, redeemed.redirect_uri) != 0) {
		answer_error(r, 400, "invalid_grant", "redirect_uri differs from the authorization's");
		return;
	}
	if (param(q->body, q->bodylen, "code_verifier", verifier, sizeof(verifier)) != 1 ||
	    !unreserved(verifier, 43, 128) ||
	    EVP_Digest(verifier, strlen(verifier), digest, &dlen, EVP_sha256(), NULL) != 1) {
		answer_error(r, 400, "invalid_grant", "a code_verifier of 43 to 128 characters is required");
		return;
	}
	want = b64url_encode(digest, dlen);
	ok = strcmp(want, redeemed.challenge) == 0;
	free(want);
	if (!ok) {
		answer_error(r, 400, "invalid_grant", "code_verifier does not match code_challenge");
		return;
	}
	if ((tok = id_token(&redeemed)) == NULL) {
		answer_error(r, 500, "server_error", "could not sign the ID token");
		return;
	}
	answer_json(r, 200, json_pack("{s:s, s:s, s:s, s:i}", "access_token", "x",
	    "token_type", "Bearer", "id_token", tok, "expires_in", TOKEN_TTL_S));
	free(tok);
}

static void
route(const struct mock_req *q, struct response *r)
{
	int get = strcmp(q->method, "GET") == 0;

	if (strcmp(q->path, "/.well-known/openid-configuration") == 0 && get)
		discovery(r);
	else if (strcmp(q->path, "/jwks") == 0 && get)
		answer_json(r, 200, json_pack("{s:[O]}", "keys", jwk));
	else if (strcmp(q->path, "/authorize") == 0 && get)
		authorize(q, r);
	else if (strcmp(q->path, "/token") == 0 && strcmp(q->method, "POST") == 0)
		token(q, r);
	else if (strcmp(q->path, "/.well-known/openid-configuration") == 0 ||
	    strcmp(q->path, "/jwks") == 0 || strcmp(q->path, "/authorize") == 0 ||
	    strcmp(q->path, "/token") == 0) {
		r->status = 405;
		r->body = sb_strdup("method not allowed\n");
	} else {
		r->status = 404;
		r->body = sb_strdup("not found\n");
	}
}

/* ------------------------------------------------------------ HTTP */

/* Puts the whole answer in c->out and logs the request. */
static void
respond(struct conn *c, const char *method, const char *path, struct response *r)
{
	const char	*body = r->body != NULL ? r->body : "";
	char		*loc = NULL;
	size_t		 blen = strlen(body);

	if (r->location != NULL) {
		loc = sb_malloc(strlen(r->location) + 16);
		sprintf(loc, "Location: %s\r\n", r->location);
	}
	mock_http_head(&c->out, r->status, r->ctype, (long long)blen, loc);
	buf_append(&c->out, body, blen);
	c->outoff = 0;
	fprintf(stderr, "sb-mock-idp: %s %s -> %d\n", method, path, r->status);
	free(loc);
	free(r->body);
	free(r->location);
}

/* 1 when c->in holds a whole request (answered into c->out), 0 to read more. */
static int
request_try(struct conn *c)
{
	struct mock_req	 q;
	struct response	 r;
	int		 st;

	memset(&r, 0, sizeof(r));
	st = mock_http_parse(c->in, c->inlen, REQ_MAX, REQ_MAX, &q);
	if (st == 0)
		return 0;
	if (st == 200) {
		route(&q, &r);
		respond(c, q.method, q.path, &r);
		return 1;
	}
	r.status = st;
	r.body = sb_strdup(st == 431 ? "request too large\n" : st == 413 ? "body too large\n" :
	    "malformed request\n");
	respond(c, "-", "-", &r);
	return 1;
}

static void
conn_close(struct conn *c)
{
	close(c->fd);
	buf_free(&c->out);
	c->fd = -1;
	c->inlen = c->outoff = 0;
}

static void
conn_accept(int lfd, time_t now)
{
	int	 fd, i;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		for (i = 0; i < MAX_CONNS && conns[i].fd >= 0; i++)
			;
		if (i == MAX_CONNS) {
			close(fd);	/* full: the client sees a reset and retries */
			continue;
		}
		conns[i].fd = fd;
		conns[i].inlen = 0;
		conns[i].last = now;
	}
}

/* Reads what arrived; answers once the request is whole.  -1: close. */
static int
conn_read(struct conn *c)
{
	ssize_t n;

	for (;;) {
		if (c->inlen == REQ_MAX)
			return request_try(c) ? 0 : -1;
		n = recv(c->fd, c->in + c->inlen, REQ_MAX - c->inlen, 0);
		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
		c->inlen += (size_t)n;
		if (request_try(c))
			return 0;
	}
}

static void
serve(int lfd)
{
	struct pollfd	 pfd[MAX_CONNS + 1];
	int		 who[MAX_CONNS + 1], n, i, k, rc;
	time_t		 now;

	while (!mock_stopping) {
		now = time(NULL);
		n = 0;
		pfd[n].fd = lfd;
		pfd[n].events = POLLIN;
		who[n++] = -1;
		for (i = 0; i < MAX_CONNS; i++) {
			if (conns[i].fd < 0)
				continue;
			if (now - conns[i].last > IDLE_S) {
				conn_close(&conns[i]);
				continue;
			}
			pfd[n].fd = conns[i].fd;
			pfd[n].events = conns[i].out.data != NULL ? POLLOUT : POLLIN;
			who[n++] = i;
		}
		if (poll(pfd, (nfds_t)n, 1000) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "sb-mock-idp: poll: %s\n", strerror(errno));
			return;
		}
		now = time(NULL);
		for (k = 0; k < n; k++) {
			if (pfd[k].revents == 0)
				continue;
			if (who[k] < 0) {
				conn_accept(lfd, now);
				continue;
			}
			i = who[k];
			conns[i].last = now;
			if (conns[i].out.data == NULL) {
				rc = conn_read(&conns[i]);
				if (rc == 0 && conns[i].out.data != NULL)
					rc = mock_send(conns[i].fd, &conns[i].out, &conns[i].outoff) == 0 ?
					    0 : -1;
			} else
				rc = mock_send(conns[i].fd, &conns[i].out, &conns[i].outoff) == 0 ? 0 : -1;
			if (rc < 0)
				conn_close(&conns[i]);
		}
	}
}

int
main(int argc, char *argv[])
{
	char	*end;
	long	 port;
	int	 lfd, i;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: sb-mock-idp PORT CLIENT_ID REDIRECT_URI [CLIENT_SECRET]\n");
		return 2;
	}
	port = strtol(argv[1], &end, 10);
	if (*end != '\0' || port < 1 || port > 65535) {
		fprintf(stderr, "sb-mock-idp: bad port %s\n", argv[1]);
		return 2;
	}
	snprintf(issuer, sizeof(issuer), "http://127.0.0.1:%ld", port);
	client_id = argv[2];
	redirect_uri = argv[3];
	client_secret = argc == 5 ? argv[4] : NULL;

	mock_signals();

	if (key_make() < 0) {
		fprintf(stderr, "sb-mock-idp: could not make an RSA key\n");
		return 1;
	}
	if ((lfd = mock_listen((int)port, 64)) < 0) {
		fprintf(stderr, "sb-mock-idp: cannot listen on 127.0.0.1:%ld: %s\n", port,
		    strerror(errno));
		return 1;
	}
	for (i = 0; i < MAX_CONNS; i++)
		conns[i].fd = -1;
	fprintf(stderr, "sb-mock-idp: %s, client %s, redirect_uri %s, %s\n", issuer, client_id,
	    redirect_uri, client_secret != NULL ? "with a client secret" : "public client");
	serve(lfd);
	for (i = 0; i < MAX_CONNS; i++)
		if (conns[i].fd >= 0)
			conn_close(&conns[i]);
	close(lfd);
	json_decref(jwk);
	free(priv_pem);
	EVP_PKEY_free(pkey);
	fprintf(stderr, "sb-mock-idp: stopped\n");
	return 0;
}
