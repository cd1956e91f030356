/* jwt.c: verifying JSON Web Tokens (HS256 with a secret, RS256/ES256 with JWKS keys). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "core/arena.h"
#include "core/clock.h"
#include "core/fetch.h"
#include "core/json.h"
#include "core/jwt.h"
#include "core/log.h"

/*
 * libjwt 1.10 (Debian 12) takes the key before it has read the token and trusts
 * the token's own "alg" to say how to use it: given an RSA public key as PEM and
 * a token saying HS256, it would compute an HMAC with the PEM text as the secret,
 * which anyone can do.  So the header is read here first, the key is chosen here
 * from the alg and the kid, and libjwt only checks the signature with that key.
 *
 * A verifier is used by one thread: jwt_verify may replace the fetched key set.
 */

#define JWT_MAX_TOKEN	16384		/* bytes in a compact token */
#define JWT_MAX_HEADER	2048		/* bytes in the decoded header */
#define JWKS_MAX_BYTES	(1024 * 1024)	/* a JWKS file or response */
#define JWKS_MAX_KEYS	64
#define JWK_MAX_KID	256
#define RSA_MIN_BITS	2048
#define RSA_MAX_BITS	8192
#define JWKS_RETRY_S	10		/* least pause after a failed first fetch */

enum jwk_type { JWK_RSA, JWK_EC_P256 };

struct jwk {
	char		*kid;		/* NULL: the key has none */
	enum jwk_type	 type;
	char		*pem;		/* SubjectPublicKeyInfo: what libjwt 1.10 reads */
};

struct jwk_set {
	struct jwk	*keys;
	size_t		 n;
};

struct jwt_verifier {
	char		*secret;	/* NULL: HS256 refused */
	char		*issuer;	/* "": every token refused */
	char		*audience;	/* "": every token refused */
	char		*url;		/* NULL: no JWKS URL */
	int		 leeway_s;
	int		 refresh_s;
	struct jwk_set	 file;		/* from jwks_file, for the verifier's life */
	struct jwk_set	 fetched;	/* from url, replaced by each good fetch */
	bool		 tried;		/* url was fetched at least once */
	int64_t		 last_fetch_us;	/* monotonic time of the last attempt */
};

/* A key chosen for a token. */
struct key_choice {
	const unsigned char	*key;
	size_t			 len;
	jwt_alg_t		 alg;
};

enum lookup { LK_FOUND, LK_UNKNOWN_KID, LK_WRONG_TYPE, LK_NO_KEY, LK_AMBIGUOUS };

static void	set_why(char *, size_t, const char *, ...) __attribute__((format(printf, 3, 4)));

static void
set_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* Decodes len bytes of unpadded base64url.  Returns a buffer the caller frees
 * (NUL-terminated, *outlen bytes before the NUL), or NULL if s is not canonical
 * base64url: another alphabet, padding, a bad length or stray low bits (libsodium
 * refuses each of them). */
static unsigned char *
b64url_decode(const char *s, size_t len, size_t *outlen)
{
	size_t		 max = len / 4 * 3 + 2;
	unsigned char	*out = sb_malloc(max + 1);

	if (sodium_base642bin(out, max, s, len, NULL, outlen, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
		free(out);
		return NULL;
	}
	out[*outlen] = '\0';
	return out;
}

/* Is v a JSON string equal to s, with no NUL hidden inside? */
static bool
json_str_eq(const json_t *v, const char *s)
{
	size_t n = strlen(s);

	return json_is_string(v) && json_string_length(v) == n &&
	    memcmp(json_string_value(v), s, n) == 0;
}

/* The value of a string member without an embedded NUL; NULL if absent. *bad is
 * set when the member is there but is no such string. */
static const char *
json_get_str(const json_t *o, const char *name, bool *bad)
{
	const json_t *v = json_object_get(o, name);

	if (v == NULL)
		return NULL;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
		*bad = true;
		return NULL;
	}
	return json_string_value(v);
}

/* ---------------------------------------------------------------- JWKS */

static void
keyset_free(struct jwk_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		free(set->keys[i].kid);
		free(set->keys[i].pem);
	}
	free(set->keys);
	set->keys = NULL;
	set->n = 0;
}

/* A base64url member of a JWK as a BIGNUM (caller frees), or NULL. */
static BIGNUM *
jwk_bn(const json_t *o, const char *name)
{
	const char	*s;
	unsigned char	*raw;
	size_t		 len;
	bool		 bad = false;
	BIGNUM		*bn;

	if ((s = json_get_str(o, name, &bad)) == NULL ||
	    (raw = b64url_decode(s, strlen(s), &len)) == NULL)
		return NULL;
	bn = len > 0 ? BN_bin2bn(raw, (int)len, NULL) : NULL;
	free(raw);
	return bn;
}

/* Builds a public key of the OpenSSL type name from params and checks it. */
static EVP_PKEY *
pkey_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM	*params = NULL;
	EVP_PKEY_CTX	*ctx = NULL, *check = NULL;
	EVP_PKEY	*pkey = NULL;

	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		goto out;
	/* For EC this is where a point off the curve is refused. */
	if ((check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL ||
	    EVP_PKEY_public_check(check) <= 0) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
out:
	EVP_PKEY_CTX_free(check);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

static EVP_PKEY *
jwk_rsa(const json_t *o, const char **why)
{
	BIGNUM		*n = NULL, *e = NULL;
	OSSL_PARAM_BLD	*bld = NULL;
	EVP_PKEY	*pkey = NULL;

	if ((n = jwk_bn(o, "n")) == NULL || (e = jwk_bn(o, "e")) == NULL) {
		*why = "n or e missing or not base64url";
		goto out;
	}
	if (BN_num_bits(n) < RSA_MIN_BITS || BN_num_bits(n) > RSA_MAX_BITS) {
		*why = "RSA modulus not between 2048 and 8192 bits";
		goto out;
	}
	if (!BN_is_odd(e) || BN_num_bits(e) < 2 || BN_num_bits(e) > 32) {
		*why = "unusual RSA exponent";
		goto out;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
	    (pkey = pkey_from_params("RSA", bld)) == NULL)
		*why = "OpenSSL refused the RSA key";
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pkey;
}

static EVP_PKEY *
jwk_ec(const json_t *o, const char **why)
{
	const char	*x, *y;
	unsigned char	*xb = NULL, *yb = NULL, point[65];
	size_t		 xlen = 0, ylen = 0;
	bool		 bad = false;
	OSSL_PARAM_BLD	*bld = NULL;
	EVP_PKEY	*pkey = NULL;

	if (!json_str_eq(json_object_get(o, "crv"), "P-256")) {
		*why = "curve is not P-256";
		goto out;
	}
	if ((x = json_get_str(o, "x", &bad)) == NULL || (y = json_get_str(o, "y", &bad)) == NULL ||
	    (xb = b64url_decode(x, strlen(x), &xlen)) == NULL ||
	    (yb = b64url_decode(y, strlen(y), &ylen)) == NULL || xlen != 32 || ylen != 32) {
		*why = "x or y missing or not 32 bytes of base64url";
		goto out;
	}
	point[0] = 0x04;	/* uncompressed: x then y */
	memcpy(point + 1, xb, 32);
	memcpy(point + 33, yb, 32);
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) ||
	    (pkey = pkey_from_params("EC", bld)) == NULL)
		*why = "OpenSSL refused the EC key (not a point of P-256?)";
out:
	OSSL_PARAM_BLD_free(bld);
	free(xb);
	free(yb);
	return pkey;
}

/* pkey as a PEM SubjectPublicKeyInfo (caller frees), or NULL. */
static char *
pem_from_pkey(EVP_PKEY *pkey)
{
	BIO	*bio;
	char	*data, *pem = NULL;
	long	 len;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	if (PEM_write_bio_PUBKEY(bio, pkey) == 1 && (len = BIO_get_mem_data(bio, &data)) > 0) {
		pem = sb_malloc((size_t)len + 1);
		memcpy(pem, data, (size_t)len);
		pem[len] = '\0';
	}
	BIO_free(bio);
	return pem;
}

/* Reads one JWK into k.  0, or -1 with *why saying why the key is skipped. */
static int
jwk_load(const json_t *o, struct jwk *k, const char **why)
{
	const json_t	*ops, *op;
	const char	*kid;
	EVP_PKEY	*pkey = NULL;
	size_t		 i;
	bool		 bad = false, verify = false;
	int		 rc = -1;

	memset(k, 0, sizeof(*k));
	if (!json_is_object(o)) {
		*why = "not an object";
		goto out;
	}
	kid = json_get_str(o, "kid", &bad);
	if (bad || (kid != NULL && strlen(kid) > JWK_MAX_KID)) {
		*why = "kid not a short string";
		goto out;
	}
	if (json_object_get(o, "use") != NULL && !json_str_eq(json_object_get(o, "use"), "sig")) {
		*why = "use is not sig";
		goto out;
	}
	if ((ops = json_object_get(o, "key_ops")) != NULL) {
		json_array_foreach(ops, i, op)
			verify = verify || json_str_eq(op, "verify");
		if (!verify) {
			*why = "key_ops lacks verify";
			goto out;
		}
	}
	if (json_str_eq(json_object_get(o, "kty"), "RSA")) {
		k->type = JWK_RSA;
		if (json_object_get(o, "alg") != NULL && !json_str_eq(json_object_get(o, "alg"), "RS256")) {
			*why = "alg is not RS256";
			goto out;
		}
		pkey = jwk_rsa(o, why);
	} else if (json_str_eq(json_object_get(o, "kty"), "EC")) {
		k->type = JWK_EC_P256;
		if (json_object_get(o, "alg") != NULL && !json_str_eq(json_object_get(o, "alg"), "ES256")) {
			*why = "alg is not ES256";
			goto out;
		}
		pkey = jwk_ec(o, why);
	} else
		*why = "kty is neither RSA nor EC";
	if (pkey == NULL)
		goto out;
	if ((k->pem = pem_from_pkey(pkey)) == NULL) {
		*why = "cannot write the key as PEM";
		goto out;
	}
	k->kid = kid != NULL ? sb_strdup(kid) : NULL;
	rc = 0;
out:
	EVP_PKEY_free(pkey);
	return rc;
}

static const struct jwk *
keyset_find_kid(const struct jwk_set *set, const char *kid)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (set->keys[i].kid != NULL && strcmp(set->keys[i].kid, kid) == 0)
			return &set->keys[i];
	return NULL;
}

/* Parses a JWKS document from source (for the logs) into set, which must be
 * empty.  Unusable keys are skipped, each with a log line.  0, or -1 (logged)
 * when the document is not a JWKS. */
static int
jwks_parse(const char *buf, size_t len, const char *source, struct jwk_set *set)
{
	static const struct json_limits lim = { JWKS_MAX_BYTES, 8, 4096, 0 };
	struct json_parse_error	 e;
	json_t			*doc, *keys, *o;
	const char		*why;
	size_t			 i;
	int			 rc = -1;

	if ((doc = json_parse_limited(buf, len, &lim, &e)) == NULL) {
		log_warn("JWKS is not valid JSON", "{s:s, s:s}", "source", source, "error", e.text);
		goto out;
	}
	if (!json_is_array(keys = json_object_get(doc, "keys"))) {
		log_warn("JWKS has no keys array", "{s:s}", "source", source);
		goto out;
	}
	set->keys = sb_calloc(JWKS_MAX_KEYS, sizeof(*set->keys));
	json_array_foreach(keys, i, o) {
		if (set->n == JWKS_MAX_KEYS) {
			log_warn("JWKS key skipped", "{s:s, s:i, s:s}", "source", source,
			    "index", (int)i, "why", "too many keys");
			break;
		}
		why = NULL;
		if (jwk_load(o, &set->keys[set->n], &why) < 0) {
			log_warn("JWKS key skipped", "{s:s, s:i, s:s}", "source", source,
			    "index", (int)i, "why", why);
			continue;
		}
		if (set->keys[set->n].kid != NULL &&
		    keyset_find_kid(set, set->keys[set->n].kid) != NULL) {
			log_warn("JWKS key skipped", "{s:s, s:i, s:s}", "source", source,
			    "index", (int)i, "why", "kid already used by an earlier key");
			free(set->keys[set->n].kid);
			free(set->keys[set->n].pem);
			continue;
		}
		set->n++;
	}
	rc = 0;
out:
	json_decref(doc);
	return rc;
}

static int
jwks_load_file(const char *path, struct jwk_set *set)
{
	FILE	*f;
	char	*buf = sb_malloc(JWKS_MAX_BYTES + 1);
	size_t	 len;
	int	 rc = -1;

	if ((f = fopen(path, "r")) == NULL) {
		log_error("cannot open jwks_file", "{s:s, s:s}", "path", path, "error", strerror(errno));
		goto out;
	}
	len = fread(buf, 1, JWKS_MAX_BYTES + 1, f);
	if (ferror(f))
		log_error("cannot read jwks_file", "{s:s}", "path", path);
	else if (len > JWKS_MAX_BYTES)
		log_error("jwks_file larger than 1 MiB", "{s:s}", "path", path);
	else
		rc = jwks_parse(buf, len, path, set);
	fclose(f);
out:
	free(buf);
	return rc;
}

/* Fetches url and replaces the fetched key set if the answer holds a usable key;
 * a failure keeps the old set.  Each attempt counts for the rate limit. */
static void
jwks_fetch(struct jwt_verifier *v)
{
	struct fetch_opts	 o = { .max_bytes = JWKS_MAX_BYTES };
	struct fetch_result	 r;
	struct jwk_set		 set = { NULL, 0 };

	v->tried = true;
	v->last_fetch_us = clock_mono_us();
	if (fetch(v->url, &o, &r) != FETCH_OK) {
		log_warn("JWKS fetch failed", "{s:s, s:s}", "url", v->url, "error", r.error);
		goto out;
	}
	if (r.status != 200) {
		log_warn("JWKS fetch failed", "{s:s, s:i}", "url", v->url, "status", (int)r.status);
		goto out;
	}
	if (jwks_parse(r.body, r.len, v->url, &set) < 0)
		goto out;
	if (set.n == 0) {
		log_warn("JWKS fetched without a usable key: keeping the old keys", "{s:s}",
		    "url", v->url);
		goto out;
	}
	keyset_free(&v->fetched);
	v->fetched = set;
	set.keys = NULL;
	set.n = 0;
	log_info("JWKS fetched", "{s:s, s:i}", "url", v->url, "keys", (int)v->fetched.n);
out:
	keyset_free(&set);
	fetch_result_free(&r);
}

/* May the URL be fetched now?  At most once per refresh_s, or every
 * JWKS_RETRY_S while no fetch ever succeeded. */
static bool
fetch_due(const struct jwt_verifier *v)
{
	int64_t	 pause_s = v->refresh_s;

	if (v->url == NULL)
		return false;
	if (!v->tried)
		return true;
	if (v->fetched.n == 0 && pause_s > JWKS_RETRY_S)
		pause_s = JWKS_RETRY_S;
	return clock_mono_us() - v->last_fetch_us >= pause_s * 1000000;
}

/* ---------------------------------------------------------------- verifier */

struct jwt_verifier *
jwt_verifier_new(const struct jwt_config *cfg)
{
	struct jwt_verifier	*v = sb_calloc(1, sizeof(*v));
	const char		*s;

	v->issuer = sb_strdup(cfg->issuer != NULL ? cfg->issuer : "");
	v->audience = sb_strdup(cfg->audience != NULL ? cfg->audience : "");
	v->leeway_s = cfg->leeway_s > 0 ? cfg->leeway_s : 0;
	v->refresh_s = cfg->jwks_refresh_s > 1 ? cfg->jwks_refresh_s : 1;
	if ((s = cfg->hs256_secret) != NULL && s[0] != '\0') {
		/* A public key as the HMAC secret is the confusion this file exists to stop. */
		if (strstr(s, "-----BEGIN") != NULL)
			log_error("jwt.hs256_secret looks like a PEM key: HS256 disabled", NULL);
		else {
			if (strlen(s) < 32)
				log_warn("jwt.hs256_secret is shorter than 32 bytes", NULL);
			v->secret = sb_strdup(s);
		}
	}
	if ((s = cfg->jwks_url) != NULL && s[0] != '\0') {
		if (strncasecmp(s, "https://", 8) != 0 && strncasecmp(s, "http://", 7) != 0) {
			log_error("jwt.jwks_url is neither https:// nor http://", "{s:s}", "url", s);
			goto fail;
		}
		if (strncasecmp(s, "http://", 7) == 0)
			log_warn("jwt.jwks_url is plain http: keys can be replaced in transit",
			    "{s:s}", "url", s);
		v->url = sb_strdup(s);
	}
	if ((s = cfg->jwks_file) != NULL && s[0] != '\0') {
		if (jwks_load_file(s, &v->file) < 0)
			goto fail;
		if (v->file.n == 0) {
			log_error("jwks_file holds no usable key", "{s:s}", "path", s);
			goto fail;
		}
	}
	if ((v->secret != NULL || v->url != NULL || v->file.n > 0) &&
	    (v->issuer[0] == '\0' || v->audience[0] == '\0'))
		log_warn("jwt.issuer or jwt.audience is empty: every bearer JWT is refused", NULL);
	return v;
fail:
	jwt_verifier_free(v);
	return NULL;
}

void
jwt_verifier_free(struct jwt_verifier *v)
{
	if (v == NULL)
		return;
	keyset_free(&v->file);
	keyset_free(&v->fetched);
	free(v->secret);
	free(v->issuer);
	free(v->audience);
	free(v->url);
	free(v);
}

/* Looks kid up in both key sets (the file first), or without a kid, the only
 * key of the type. */
static enum lookup
keys_lookup(const struct jwt_verifier *v, const char *kid, enum jwk_type type,
    const struct jwk **out)
{
	const struct jwk_set	*sets[2] = { &v->file, &v->fetched };
	const struct jwk	*k, *found = NULL;
	size_t			 i, j, n = 0;

	for (i = 0; i < 2; i++) {
		if (kid != NULL) {
			if ((k = keyset_find_kid(sets[i], kid)) == NULL)
				continue;
			*out = k;
			return k->type == type ? LK_FOUND : LK_WRONG_TYPE;
		}
		for (j = 0; j < sets[i]->n; j++)
			if (sets[i]->keys[j].type == type) {
				found = &sets[i]->keys[j];
				n++;
			}
	}
	if (kid != NULL)
		return LK_UNKNOWN_KID;
	if (n != 1)
		return n == 0 ? LK_NO_KEY : LK_AMBIGUOUS;
	*out = found;
	return LK_FOUND;
}

/* Chooses the key for the header's alg and kid.  0, or -1 with why. */
static int
key_select(struct jwt_verifier *v, const char *alg, const char *kid, struct key_choice *kc,
    char *why, size_t whylen)
{
	const struct jwk	*k = NULL;
	enum jwk_type		 type;
	enum lookup		 lk;

	if (strcmp(alg, "HS256") == 0) {
		/* Only the configured secret, and never for a kid naming a public key. */
		if (kid != NULL && keys_lookup(v, kid, JWK_RSA, &k) != LK_UNKNOWN_KID) {
			set_why(why, whylen, "algorithm HS256 not allowed for this key");
			return -1;
		}
		if (v->secret == NULL) {
			set_why(why, whylen, "algorithm HS256 not enabled");
			return -1;
		}
		kc->key = (const unsigned char *)v->secret;
		kc->len = strlen(v->secret);
		kc->alg = JWT_ALG_HS256;
		return 0;
	}
	if (strcmp(alg, "RS256") == 0) {
		type = JWK_RSA;
		kc->alg = JWT_ALG_RS256;
	} else if (strcmp(alg, "ES256") == 0) {
		type = JWK_EC_P256;
		kc->alg = JWT_ALG_ES256;
	} else {
		set_why(why, whylen, "%s", strcasecmp(alg, "none") == 0 ?
		    "algorithm none not allowed" : "algorithm not allowed");
		return -1;
	}
	if (v->url != NULL && !v->tried)
		jwks_fetch(v);
	lk = keys_lookup(v, kid, type, &k);
	if ((lk == LK_UNKNOWN_KID || lk == LK_NO_KEY) && fetch_due(v)) {
		jwks_fetch(v);
		lk = keys_lookup(v, kid, type, &k);
	}
	switch (lk) {
	case LK_FOUND:
		kc->key = (const unsigned char *)k->pem;
		kc->len = strlen(k->pem);
		return 0;
	case LK_WRONG_TYPE:
		set_why(why, whylen, "algorithm %s not allowed for this key", alg);
		break;
	case LK_UNKNOWN_KID:
		set_why(why, whylen, "unknown key id");
		break;
	case LK_NO_KEY:
		set_why(why, whylen, "no key for algorithm %s", alg);
		break;
	case LK_AMBIGUOUS:
		set_why(why, whylen, "key id required");
		break;
	}
	return -1;
}

/* Splits token into its three segments: seg[i] and len[i].  0, or -1 with why. */
static int
token_split(const char *token, const char *seg[3], size_t len[3], char *why, size_t whylen)
{
	const char	*p, *dot;
	size_t		 total;
	int		 i;

	if (token == NULL || (total = strnlen(token, JWT_MAX_TOKEN + 1)) == 0) {
		set_why(why, whylen, "no token");
		return -1;
	}
	if (total > JWT_MAX_TOKEN) {
		set_why(why, whylen, "token too long");
		return -1;
	}
	p = token;
	for (i = 0; i < 3; i++) {
		dot = strchr(p, '.');
		if ((i < 2) != (dot != NULL))
			goto bad;
		seg[i] = p;
		len[i] = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") !=
		    len[i])
			goto bad;
		p += len[i] + 1;
	}
	if (len[0] == 0 || len[1] == 0)
		goto bad;
	return 0;
bad:
	set_why(why, whylen, "malformed token");
	return -1;
}

/* Decodes a segment and parses it as a JSON object (caller decrefs), or NULL. */
static json_t *
segment_json(const char *seg, size_t len, size_t max)
{
	const struct json_limits	 lim = { max, 16, max, 0 };
	struct json_parse_error		 e;
	unsigned char			*raw;
	size_t				 n;
	json_t				*o = NULL;

	if ((raw = b64url_decode(seg, len, &n)) == NULL)
		return NULL;
	o = json_parse_limited((const char *)raw, n, &lim, &e);
	free(raw);
	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/* Reads alg and kid from the header h.  0, or -1 with why. */
static int
header_check(const json_t *h, const char **alg, const char **kid, char *why, size_t whylen)
{
	const char	*typ;
	bool		 bad = false;

	*alg = json_get_str(h, "alg", &bad);
	*kid = json_get_str(h, "kid", &bad);
	typ = json_get_str(h, "typ", &bad);
	if (bad || *alg == NULL) {
		set_why(why, whylen, "malformed header");
		return -1;
	}
	/* No extension is understood, so none can be critical (RFC 7515, 4.1.11). */
	if (json_object_get(h, "crit") != NULL) {
		set_why(why, whylen, "critical header not supported");
		return -1;
	}
	/* libjwt 1.10 refuses any other typ, "at+jwt" included: say so here. */
	if (typ != NULL && strcasecmp(typ, "JWT") != 0) {
		set_why(why, whylen, "token type not supported");
		return -1;
	}
	return 0;
}

/* A NumericDate claim: 1 present (in *t), 0 absent, -1 not a number. */
static int
claim_time(const json_t *c, const char *name, double *t)
{
	const json_t *v = json_object_get(c, name);

	if (v == NULL)
		return 0;
	if (!json_is_number(v))
		return -1;
	*t = json_number_value(v);
	return 1;
}

static int
claims_check(const struct jwt_verifier *v, const json_t *c, char *why, size_t whylen)
{
	const json_t	*aud, *a;
	double		 now = (double)(clock_real_ms() / 1000), t = 0;
	size_t		 i;
	bool		 ok = false;
	int		 r;

	if (!json_str_eq(json_object_get(c, "iss"), v->issuer)) {
		set_why(why, whylen, "wrong issuer");
		return -1;
	}
	aud = json_object_get(c, "aud");
	if (json_is_array(aud)) {
		json_array_foreach(aud, i, a)
			ok = ok || json_str_eq(a, v->audience);
	} else
		ok = json_str_eq(aud, v->audience);
	if (!ok) {
		set_why(why, whylen, "wrong audience");
		return -1;
	}
	if ((r = claim_time(c, "exp", &t)) <= 0) {
		set_why(why, whylen, r == 0 ? "token has no expiry" : "malformed exp");
		return -1;
	}
	if (now >= t + v->leeway_s) {
		set_why(why, whylen, "token expired");
		return -1;
	}
	if ((r = claim_time(c, "nbf", &t)) < 0 || (r > 0 && t > now + v->leeway_s)) {
		set_why(why, whylen, r < 0 ? "malformed nbf" : "token not yet valid");
		return -1;
	}
	if ((r = claim_time(c, "iat", &t)) < 0 || (r > 0 && t > now + v->leeway_s)) {
		set_why(why, whylen, r < 0 ? "malformed iat" : "token issued in the future");
		return -1;
	}
	return 0;
}

/* libjwt checks the signature with the key chosen here, and must agree on the alg. */
static int
signature_check(const char *token, const struct key_choice *kc, char *why, size_t whylen)
{
	jwt_t	*jwt = NULL;
	int	 rc;

	rc = jwt_decode(&jwt, token, kc->key, (int)kc->len);
	if (rc == ENOMEM)
		sb_oom(0);
	if (rc != 0 || jwt == NULL) {
		set_why(why, whylen, "signature invalid");
		rc = -1;
	} else if (jwt_get_alg(jwt) != kc->alg) {
		set_why(why, whylen, "algorithm mismatch");
		rc = -1;
	}
	jwt_free(jwt);
	return rc;
}

/* The order matters: the token's shape and header first, then the key chosen
 * from alg and kid by this file alone, then libjwt's signature check with that
 * key, and only then the claims. */
json_t *
jwt_verify(struct jwt_verifier *v, const char *token, char *why, size_t whylen)
{
	struct key_choice	 kc;
	const char		*seg[3], *alg, *kid;
	size_t			 len[3];
	json_t			*header = NULL, *claims = NULL;

	set_why(why, whylen, "invalid token");
	if (v == NULL || v->issuer[0] == '\0' || v->audience[0] == '\0') {
		set_why(why, whylen, "bearer JWTs not configured");
		goto out;
	}
	if (token_split(token, seg, len, why, whylen) < 0)
		goto out;
	if ((header = segment_json(seg[0], len[0], JWT_MAX_HEADER)) == NULL) {
		set_why(why, whylen, "malformed header");
		goto out;
	}
	if (header_check(header, &alg, &kid, why, whylen) < 0 ||
	    key_select(v, alg, kid, &kc, why, whylen) < 0)
		goto out;
	/* Parsed before the signature is checked only so that the reason is right:
	 * libjwt 1.10 fails a payload that is not JSON as it fails a bad signature. */
	if ((claims = segment_json(seg[1], len[1], JWT_MAX_TOKEN)) == NULL) {
		set_why(why, whylen, "malformed claims");
		goto out;
	}
	if (signature_check(token, &kc, why, whylen) < 0 ||
	    claims_check(v, claims, why, whylen) < 0) {
		json_decref(claims);
		claims = NULL;
		goto out;
	}
	set_why(why, whylen, "ok");
out:
	json_decref(header);
	return claims;
}
