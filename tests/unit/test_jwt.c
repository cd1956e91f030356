/* test_jwt.c: jwt_verify: HS256/RS256/ES256 tokens, algorithm confusion, claims, malformed tokens, JWKS files. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/jwt.h"
#include "core/log.h"
#include "fcgi-app/request.h"
#include "tests/unit/unit.h"

#define ISS	"https://idp.example.test"
#define AUD	"switchboard"
#define SECRET	"0123456789abcdef0123456789abcdef-test"

/* Keys made at suite start: r1 and e1 are in jwks_path; r2 (the wrong key) is
 * in no JWKS; r3 is only in jwks2_path, beside r1. */
static EVP_PKEY	*rsa1, *rsa2, *rsa3, *ec1, *ec2;
static char	*rsa1_priv, *rsa1_pub, *rsa2_priv, *rsa3_priv, *ec1_priv, *ec2_priv;
static char	 tmp_paths[16][64];
static int	 ntmp;
static const char *jwks_path, *jwks2_path;

static char *
pem_of(EVP_PKEY *pkey, int private)
{
	BIO	*bio = BIO_new(BIO_s_mem());
	char	*data, *pem = NULL;
	long	 len;
	int	 ok;

	if (bio == NULL)
		return NULL;
	ok = private ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) :
	    PEM_write_bio_PUBKEY(bio, pkey);
	if (ok == 1 && (len = BIO_get_mem_data(bio, &data)) > 0) {
		pem = sb_malloc((size_t)len + 1);
		memcpy(pem, data, (size_t)len);
		pem[len] = '\0';
	}
	BIO_free(bio);
	return pem;
}

static char *
b64url_str(const char *s)
{
	return b64url_encode((const unsigned char *)s, strlen(s));
}

static json_t *
bn_b64(EVP_PKEY *pkey, const char *param, int pad)
{
	BIGNUM		*bn = NULL;
	unsigned char	 buf[1024];
	char		*s;
	json_t		*v;
	int		 n;

	if (!EVP_PKEY_get_bn_param(pkey, param, &bn))
		return json_null();
	n = pad > 0 ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
	BN_free(bn);
	s = b64url_encode(buf, (size_t)n);
	v = json_string(s);
	free(s);
	return v;
}

/* The public JWK of an RSA key, with kid (NULL: none). */
static json_t *
jwk_rsa(EVP_PKEY *pkey, const char *kid)
{
	json_t *k = json_pack("{s:s, s:o, s:o}", "kty", "RSA",
	    "n", bn_b64(pkey, OSSL_PKEY_PARAM_RSA_N, 0), "e", bn_b64(pkey, OSSL_PKEY_PARAM_RSA_E, 0));

	if (kid != NULL)
		json_object_set_new(k, "kid", json_string(kid));
	return k;
}

/* The public JWK of a P-256 key, from its uncompressed point 04 || x || y. */
static json_t *
jwk_ec(EVP_PKEY *pkey, const char *kid)
{
	unsigned char	 pt[65];
	size_t		 len = 0;
	char		*x, *y;
	json_t		*k;

	if (!EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &len) ||
	    len != 65)
		return json_object();
	x = b64url_encode(pt + 1, 32);
	y = b64url_encode(pt + 33, 32);
	k = json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x", x, "y", y);
	if (kid != NULL)
		json_object_set_new(k, "kid", json_string(kid));
	free(x);
	free(y);
	return k;
}

/* Writes text to a new temporary file and returns its path (removed at suite cleanup). */
static const char *
write_temp(const char *text)
{
	char	*path;
	FILE	*f;
	int	 fd;

	if (ntmp == (int)(sizeof(tmp_paths) / sizeof(tmp_paths[0])))
		return NULL;
	path = tmp_paths[ntmp];
	snprintf(path, sizeof(tmp_paths[0]), "/tmp/sb-unit-jwks-XXXXXX");
	if ((fd = mkstemp(path)) < 0)
		return NULL;
	ntmp++;
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return NULL;
	}
	fputs(text, f);
	if (fclose(f) != 0)
		return NULL;
	return path;
}

/* Writes {"keys": keys} (the reference is stolen) to a temporary file. */
static const char *
write_jwks(json_t *keys)
{
	json_t		*doc = json_pack("{s:o}", "keys", keys);
	char		*text = json_dumps(doc, JSON_INDENT(1));
	const char	*path = write_temp(text);

	free(text);
	json_decref(doc);
	return path;
}

static int
jwt_init(void)
{
	/* Skipped-key warnings would interleave with the test report. */
	log_init("sb-unit-tests", SB_LOG_ERROR + 1);
	rsa1 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	rsa2 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	rsa3 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ec1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ec2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (rsa1 == NULL || rsa2 == NULL || rsa3 == NULL || ec1 == NULL || ec2 == NULL)
		return -1;
	rsa1_priv = pem_of(rsa1, 1);
	rsa1_pub = pem_of(rsa1, 0);
	rsa2_priv = pem_of(rsa2, 1);
	rsa3_priv = pem_of(rsa3, 1);
	ec1_priv = pem_of(ec1, 1);
	ec2_priv = pem_of(ec2, 1);
	jwks_path = write_jwks(json_pack("[o, o]", jwk_rsa(rsa1, "r1"), jwk_ec(ec1, "e1")));
	jwks2_path = write_jwks(json_pack("[o, o]", jwk_rsa(rsa1, "r1"), jwk_rsa(rsa3, "r3")));
	if (rsa1_priv == NULL || rsa1_pub == NULL || rsa2_priv == NULL || rsa3_priv == NULL ||
	    ec1_priv == NULL || ec2_priv == NULL || jwks_path == NULL || jwks2_path == NULL)
		return -1;
	return 0;
}

static int
jwt_clean(void)
{
	int i;

	for (i = 0; i < ntmp; i++)
		unlink(tmp_paths[i]);
	ntmp = 0;
	EVP_PKEY_free(rsa1);
	EVP_PKEY_free(rsa2);
	EVP_PKEY_free(rsa3);
	EVP_PKEY_free(ec1);
	EVP_PKEY_free(ec2);
	free(rsa1_priv);
	free(rsa1_pub);
	free(rsa2_priv);
	free(rsa3_priv);
	free(ec1_priv);
	free(ec2_priv);
	log_init("sb-unit-tests", SB_LOG_ERROR);
	return 0;
}

/* A verifier for ISS and AUD with a leeway of 60 s; NULL secret or path: none. */
static struct jwt_verifier *
verifier(const char *secret, const char *jwks_file)
{
	struct jwt_config cfg = { secret != NULL ? secret : "", jwks_file != NULL ? jwks_file : "",
	    "", ISS, AUD, 60, 300 };

	return jwt_verifier_new(&cfg);
}

/* The claims of a good token: issued a minute ago, valid for ten minutes. */
static json_t *
claims_good(void)
{
	json_int_t now = (json_int_t)time(NULL);

	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "iss", ISS, "aud", AUD,
	    "sub", "u1", "iat", now - 60, "exp", now + 600, "org", "acme", "role", "admin");
}

/* good claims with one claim replaced (v NULL: removed); v is stolen. */
static json_t *
claims_with(const char *name, json_t *v)
{
	json_t *c = claims_good();

	if (v == NULL)
		json_object_del(c, name);
	else
		json_object_set_new(c, name, v);
	return c;
}

/* A token signed by libjwt (claims stolen); free() it. */
static char *
token(jwt_alg_t alg, const char *key, const char *kid, json_t *claims)
{
	jwt_t	*j = NULL;
	char	*grants = json_dumps(claims, JSON_COMPACT), *t = NULL;

	json_decref(claims);
	if (jwt_new(&j) != 0 || (kid != NULL && jwt_add_header(j, "kid", kid) != 0) ||
	    jwt_add_grants_json(j, grants) != 0 ||
	    jwt_set_alg(j, alg, (const unsigned char *)key, (int)strlen(key)) != 0)
		goto out;
	t = jwt_encode_str(j);
out:
	jwt_free(j);
	free(grants);
	CU_ASSERT_PTR_NOT_NULL(t);
	return t;
}

/* A token made by hand: any header and payload text, an HS256 signature with
 * secret (NULL: an empty signature).  free() it. */
static char *
craft(const char *header, const char *payload, const char *secret)
{
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0;
	char		*h = b64url_str(header), *p = b64url_str(payload), *s, *t;
	size_t		 n = strlen(h) + strlen(p) + 2;

	t = sb_malloc(n + 100);
	snprintf(t, n, "%s.%s", h, p);
	if (secret != NULL)
		HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)t,
		    strlen(t), mac, &maclen);
	s = b64url_encode(mac, maclen);
	snprintf(t + n - 1, 100, ".%s", s);
	free(h);
	free(p);
	free(s);
	return t;
}

/* The good claims as text, for craft(). */
static char *
claims_text(void)
{
	json_t	*c = claims_good();
	char	*s = json_dumps(c, JSON_COMPACT);

	json_decref(c);
	return s;
}

#define EXPECT_OK(v, t)	expect_ok((v), (t), __FILE__, __LINE__)
#define EXPECT_REFUSED(v, t, want) expect_refused((v), (t), (want), __FILE__, __LINE__)

/* Verifies t (freed here) and expects claims; returns them (caller decrefs). */
static json_t *
expect_ok(struct jwt_verifier *v, char *t, const char *file, unsigned int line)
{
	char	 why[128] = "";
	json_t	*c = NULL;

	if (v != NULL && t != NULL)
		c = jwt_verify(v, t, why, sizeof(why));
	CU_assertImplementation(c != NULL ? CU_TRUE : CU_FALSE, line,
	    c != NULL ? "accepted" : why, file, "", CU_FALSE);
	free(t);
	return c;
}

/* Verifies t (freed here) and expects a refusal whose reason contains want and
 * no part of the token. */
static void
expect_refused(struct jwt_verifier *v, char *t, const char *want, const char *file,
    unsigned int line)
{
	char	 why[128] = "", seg[16];
	json_t	*c = NULL;
	size_t	 i;

	CU_assertImplementation(v != NULL ? CU_TRUE : CU_FALSE, line, "verifier", file, "", CU_FALSE);
	if (v == NULL)
		goto out;
	c = jwt_verify(v, t, why, sizeof(why));
	CU_assertImplementation(c == NULL ? CU_TRUE : CU_FALSE, line, "refused", file, "", CU_FALSE);
	json_decref(c);
	unit_assert_contains(why, want, "why", file, line);
	/* No 8-byte run of the token may show in the reason. */
	for (i = 0; t != NULL && i + 8 <= strlen(t); i++) {
		memcpy(seg, t + i, 8);
		seg[8] = '\0';
		if (strstr(why, seg) != NULL) {
			CU_assertImplementation(CU_FALSE, line, "the reason quotes the token", file,
			    "", CU_FALSE);
			break;
		}
	}
out:
	free(t);
}

static void
test_hs256(void)
{
	struct jwt_verifier	*v = verifier(SECRET, NULL);
	json_t			*c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	c = EXPECT_OK(v, token(JWT_ALG_HS256, SECRET, NULL, claims_good()));
	UNIT_ASSERT_STR(json_string_value(json_object_get(c, "sub")), "u1");
	UNIT_ASSERT_STR(json_string_value(json_object_get(c, "org")), "acme");
	UNIT_ASSERT_STR(json_string_value(json_object_get(c, "role")), "admin");
	json_decref(c);
	/* A kid naming no JWKS key does not stop HS256. */
	json_decref(EXPECT_OK(v, token(JWT_ALG_HS256, SECRET, "hmac-1", claims_good())));
	EXPECT_REFUSED(v, token(JWT_ALG_HS256, "another secret of 32 bytes or more!", NULL,
	    claims_good()), "signature invalid");
	/* No key for RS256 and ES256 at all. */
	EXPECT_REFUSED(v, token(JWT_ALG_RS256, rsa1_priv, NULL, claims_good()),
	    "no key for algorithm RS256");
	jwt_verifier_free(v);
}

static void
test_rs256_es256(void)
{
	struct jwt_verifier	*v = verifier(NULL, jwks_path);
	json_t			*c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	c = EXPECT_OK(v, token(JWT_ALG_RS256, rsa1_priv, "r1", claims_good()));
	UNIT_ASSERT_STR(json_string_value(json_object_get(c, "iss")), ISS);
	UNIT_ASSERT_STR(json_string_value(json_object_get(c, "org")), "acme");
	json_decref(c);
	c = EXPECT_OK(v, token(JWT_ALG_ES256, ec1_priv, "e1", claims_good()));
	UNIT_ASSERT_STR(json_string_value(json_object_get(c, "sub")), "u1");
	json_decref(c);
	/* Without a kid: the only key of the type. */
	json_decref(EXPECT_OK(v, token(JWT_ALG_RS256, rsa1_priv, NULL, claims_good())));
	json_decref(EXPECT_OK(v, token(JWT_ALG_ES256, ec1_priv, NULL, claims_good())));
	jwt_verifier_free(v);

	/* Two RSA keys: a token without a kid cannot choose. */
	v = verifier(NULL, jwks2_path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	json_decref(EXPECT_OK(v, token(JWT_ALG_RS256, rsa3_priv, "r3", claims_good())));
	EXPECT_REFUSED(v, token(JWT_ALG_RS256, rsa3_priv, NULL, claims_good()), "key id required");
	EXPECT_REFUSED(v, token(JWT_ALG_ES256, ec1_priv, NULL, claims_good()),
	    "no key for algorithm ES256");
	jwt_verifier_free(v);
}

static void
test_alg_none(void)
{
	struct jwt_verifier	*v = verifier(SECRET, jwks_path);
	char			*claims = claims_text(), *p = b64url_str(claims), *t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	t = sb_malloc(strlen(p) + 32);
	sprintf(t, "eyJhbGciOiJub25lIn0.%s.", p);	/* {"alg":"none"} */
	EXPECT_REFUSED(v, t, "algorithm none not allowed");
	EXPECT_REFUSED(v, craft("{\"alg\":\"none\",\"kid\":\"r1\"}", claims, NULL),
	    "algorithm none not allowed");
	EXPECT_REFUSED(v, craft("{\"alg\":\"None\",\"typ\":\"JWT\"}", claims, NULL),
	    "algorithm none not allowed");
	/* Algorithms libjwt knows but this verifier does not take. */
	EXPECT_REFUSED(v, craft("{\"alg\":\"HS512\"}", claims, SECRET), "algorithm not allowed");
	EXPECT_REFUSED(v, craft("{\"alg\":\"RS384\",\"kid\":\"r1\"}", claims, SECRET),
	    "algorithm not allowed");
	EXPECT_REFUSED(v, craft("{\"alg\":\"PS256\",\"kid\":\"r1\"}", claims, SECRET),
	    "algorithm not allowed");
	/* libjwt 1.10 compares alg without case; this verifier does not. */
	EXPECT_REFUSED(v, craft("{\"alg\":\"hs256\"}", claims, SECRET), "algorithm not allowed");
	json_decref(EXPECT_OK(v, craft("{\"alg\":\"HS256\"}", claims, SECRET)));
	free(claims);
	free(p);
	jwt_verifier_free(v);
}

static void
test_alg_confusion(void)
{
	struct jwt_verifier	*v;
	struct jwt_config	 cfg = { "", "", "", ISS, AUD, 60, 300 };

	/* HS256 with the RSA public key (which anyone has) as the HMAC secret. */
	v = verifier(NULL, jwks_path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	EXPECT_REFUSED(v, token(JWT_ALG_HS256, rsa1_pub, "r1", claims_good()),
	    "algorithm HS256 not allowed for this key");
	EXPECT_REFUSED(v, token(JWT_ALG_HS256, rsa1_pub, NULL, claims_good()),
	    "algorithm HS256 not enabled");
	/* An alg that does not fit the type of the key its kid names. */
	EXPECT_REFUSED(v, token(JWT_ALG_RS256, rsa1_priv, "e1", claims_good()),
	    "algorithm RS256 not allowed for this key");
	EXPECT_REFUSED(v, token(JWT_ALG_ES256, ec1_priv, "r1", claims_good()),
	    "algorithm ES256 not allowed for this key");
	jwt_verifier_free(v);

	/* With a secret configured too: the kid still forbids HS256, and without a
	 * kid HS256 is checked against the secret, never the public key. */
	v = verifier(SECRET, jwks_path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	EXPECT_REFUSED(v, token(JWT_ALG_HS256, rsa1_pub, "r1", claims_good()),
	    "algorithm HS256 not allowed for this key");
	EXPECT_REFUSED(v, token(JWT_ALG_HS256, rsa1_pub, NULL, claims_good()), "signature invalid");
	EXPECT_REFUSED(v, token(JWT_ALG_HS256, SECRET, "e1", claims_good()),
	    "algorithm HS256 not allowed for this key");
	json_decref(EXPECT_OK(v, token(JWT_ALG_HS256, SECRET, NULL, claims_good())));
	json_decref(EXPECT_OK(v, token(JWT_ALG_RS256, rsa1_priv, "r1", claims_good())));
	jwt_verifier_free(v);

	/* A PEM key configured as the secret disables HS256. */
	cfg.hs256_secret = rsa1_pub;
	cfg.jwks_file = jwks_path;
	v = jwt_verifier_new(&cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	EXPECT_REFUSED(v, token(JWT_ALG_HS256, rsa1_pub, NULL, claims_good()),
	    "algorithm HS256 not enabled");
	jwt_verifier_free(v);
}

static void
test_wrong_key(void)
{
	struct jwt_verifier	*v = verifier(NULL, jwks_path);
	char			*good, *other, *t, *dot1, *dot2, *odot1, *odot2;

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	EXPECT_REFUSED(v, token(JWT_ALG_RS256, rsa2_priv, "r1", claims_good()), "signature invalid");
	EXPECT_REFUSED(v, token(JWT_ALG_ES256, ec2_priv, "e1", claims_good()), "signature invalid");
	EXPECT_REFUSED(v, token(JWT_ALG_RS256, rsa2_priv, NULL, claims_good()), "signature invalid");

	/* A good signature over other claims: the payload of one token, the
	 * signature of another. */
	good = token(JWT_ALG_RS256, rsa1_priv, "r1", claims_good());
	other = token(JWT_ALG_RS256, rsa1_priv, "r1", claims_with("role", json_string("owner")));
	CU_ASSERT_FATAL(good != NULL && other != NULL);
	dot1 = strchr(good, '.');
	dot2 = strchr(dot1 + 1, '.');
	odot1 = strchr(other, '.');
	odot2 = strchr(odot1 + 1, '.');
	t = sb_malloc(strlen(good) + strlen(other) + 1);
	memcpy(t, good, (size_t)(dot1 - good));
	memcpy(t + (dot1 - good), odot1, (size_t)(odot2 - odot1));
	strcpy(t + (dot1 - good) + (odot2 - odot1), dot2);
	EXPECT_REFUSED(v, t, "signature invalid");
	/* A truncated signature. */
	good[strlen(good) - 4] = '\0';
	EXPECT_REFUSED(v, good, "signature invalid");
	free(other);
	jwt_verifier_free(v);
}

static void
test_claims(void)
{
	struct jwt_verifier	*v = verifier(SECRET, jwks_path);
	json_int_t		 now = (json_int_t)time(NULL);
	json_t			*c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
#define HS(claims)	token(JWT_ALG_HS256, SECRET, NULL, (claims))
	EXPECT_REFUSED(v, HS(claims_with("iss", json_string("https://evil.test"))), "wrong issuer");
	EXPECT_REFUSED(v, HS(claims_with("iss", NULL)), "wrong issuer");
	EXPECT_REFUSED(v, HS(claims_with("iss", json_pack("[s]", ISS))), "wrong issuer");
	EXPECT_REFUSED(v, HS(claims_with("aud", json_string("other"))), "wrong audience");
	EXPECT_REFUSED(v, HS(claims_with("aud", NULL)), "wrong audience");
	EXPECT_REFUSED(v, HS(claims_with("aud", json_pack("[s, s]", "a", "b"))), "wrong audience");
	c = EXPECT_OK(v, HS(claims_with("aud", json_pack("[s, s]", "other", AUD))));
	CU_ASSERT(json_is_array(json_object_get(c, "aud")));
	json_decref(c);
	EXPECT_REFUSED(v, HS(claims_with("exp", json_integer(now - 120))), "token expired");
	json_decref(EXPECT_OK(v, HS(claims_with("exp", json_integer(now - 30)))));
	json_decref(EXPECT_OK(v, HS(claims_with("exp", json_real((double)now + 600.5)))));
	EXPECT_REFUSED(v, HS(claims_with("exp", NULL)), "token has no expiry");
	EXPECT_REFUSED(v, HS(claims_with("exp", json_string("tomorrow"))), "malformed exp");
	EXPECT_REFUSED(v, HS(claims_with("nbf", json_integer(now + 300))), "token not yet valid");
	json_decref(EXPECT_OK(v, HS(claims_with("nbf", json_integer(now + 30)))));
	EXPECT_REFUSED(v, HS(claims_with("iat", json_integer(now + 300))), "issued in the future");
	json_decref(EXPECT_OK(v, HS(claims_with("iat", json_integer(now + 30)))));
	EXPECT_REFUSED(v, HS(claims_with("nbf", json_true())), "malformed nbf");
#undef HS
	/* The same checks after an RS256 signature. */
	EXPECT_REFUSED(v, token(JWT_ALG_RS256, rsa1_priv, "r1",
	    claims_with("exp", json_integer(now - 3600))), "token expired");
	jwt_verifier_free(v);
}

static void
test_claims_crafted(void)
{
	struct jwt_verifier	*v = verifier(SECRET, NULL);
	char			 p[512];
	long long		 exp = (long long)time(NULL) + 600;

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	/* An issuer with a NUL and more after it is not the issuer (libjwt 1.10
	 * refuses "\u0000" itself, so the reason may be the signature). */
	snprintf(p, sizeof(p), "{\"iss\":\"%s\\u0000.evil\",\"aud\":\"%s\",\"exp\":%lld}", ISS, AUD,
	    exp);
	EXPECT_REFUSED(v, craft("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", p, SECRET), "");
	snprintf(p, sizeof(p), "{\"iss\":\"%s\",\"aud\":\"%s\\u0000\",\"exp\":%lld}", ISS, AUD, exp);
	EXPECT_REFUSED(v, craft("{\"alg\":\"HS256\"}", p, SECRET), "");
	/* Duplicate claims are refused rather than resolved. */
	snprintf(p, sizeof(p), "{\"iss\":\"x\",\"iss\":\"%s\",\"aud\":\"%s\",\"exp\":%lld}", ISS,
	    AUD, exp);
	EXPECT_REFUSED(v, craft("{\"alg\":\"HS256\"}", p, SECRET), "malformed claims");
	EXPECT_REFUSED(v, craft("{\"alg\":\"HS256\"}", "not json", SECRET), "malformed claims");
	EXPECT_REFUSED(v, craft("{\"alg\":\"HS256\"}", "[1,2]", SECRET), "malformed claims");
	/* Headers: duplicates, crit, typ. */
	snprintf(p, sizeof(p), "{\"iss\":\"%s\",\"aud\":\"%s\",\"exp\":%lld}", ISS, AUD, exp);
	json_decref(EXPECT_OK(v, craft("{\"alg\":\"HS256\",\"typ\":\"jwt\"}", p, SECRET)));
	EXPECT_REFUSED(v, craft("{\"alg\":\"none\",\"alg\":\"HS256\"}", p, SECRET),
	    "malformed header");
	EXPECT_REFUSED(v, craft("{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}", p, SECRET),
	    "critical header not supported");
	EXPECT_REFUSED(v, craft("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", p, SECRET),
	    "token type not supported");
	EXPECT_REFUSED(v, craft("{\"alg\":\"HS256\",\"kid\":7}", p, SECRET), "malformed header");
	jwt_verifier_free(v);
}

static void
test_malformed(void)
{
	struct jwt_verifier	*v = verifier(SECRET, jwks_path);
	char			*big, *h;
	char			 why[64];
	size_t			 n = 20 * 1024;

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_PTR_NULL(jwt_verify(v, NULL, why, sizeof(why)));
	UNIT_ASSERT_STR(why, "no token");
	CU_ASSERT_PTR_NULL(jwt_verify(v, "", NULL, 0));	/* no room for a reason: fine */
	EXPECT_REFUSED(v, sb_strdup("eyJhbGciOiJIUzI1NiJ9.e30"), "malformed token");
	EXPECT_REFUSED(v, sb_strdup("eyJhbGciOiJIUzI1NiJ9.e30.c2ln.c2ln"), "malformed token");
	EXPECT_REFUSED(v, sb_strdup(".."), "malformed token");
	EXPECT_REFUSED(v, sb_strdup("eyJhbGciOiJIUzI1NiJ9..c2ln"), "malformed token");
	EXPECT_REFUSED(v, sb_strdup("eyJhbGci*iJIUzI1NiJ9.e30.c2ln"), "malformed token");
	EXPECT_REFUSED(v, sb_strdup("eyJhbGciOiJIUzI1NiJ9.e30=.c2ln"), "malformed token");
	EXPECT_REFUSED(v, sb_strdup("eyJhbGciOiJIUzI1NiJ9.e30.c2l+"), "malformed token");
	EXPECT_REFUSED(v, sb_strdup("eyJhbGciOiJIUzI1NiJ9 .e30.c2ln"), "malformed token");
	EXPECT_REFUSED(v, sb_strdup("Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln"), "malformed token");
	/* Base64url that is not canonical: a length of 4n+1, stray low bits. */
	EXPECT_REFUSED(v, sb_strdup("eyJhbGciOiJIUzI1NiJ9A.e30.c2ln"), "malformed header");
	EXPECT_REFUSED(v, sb_strdup("e31.e30.c2ln"), "malformed header");
	/* Headers that are not a JSON object with a string alg. */
	h = b64url_str("not json");
	big = sb_malloc(strlen(h) + 16);
	sprintf(big, "%s.e30.c2ln", h);
	EXPECT_REFUSED(v, big, "malformed header");
	free(h);
	EXPECT_REFUSED(v, craft("[\"HS256\"]", "{}", SECRET), "malformed header");
	EXPECT_REFUSED(v, craft("{\"alg\":256}", "{}", SECRET), "malformed header");
	EXPECT_REFUSED(v, craft("{\"typ\":\"JWT\"}", "{}", SECRET), "malformed header");
	EXPECT_REFUSED(v, craft("{\"alg\":\"HS256\"}", "{}", NULL), "signature invalid");

	/* 20 KiB of well-formed token. */
	big = sb_malloc(n + 1);
	memset(big, 'A', n);
	memcpy(big, "eyJhbGciOiJIUzI1NiJ9.", 21);
	big[n / 2] = '.';
	big[n] = '\0';
	EXPECT_REFUSED(v, big, "token too long");
	jwt_verifier_free(v);
}

static void
test_unknown_kid(void)
{
	struct jwt_verifier	*v = verifier(SECRET, jwks_path);

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	EXPECT_REFUSED(v, token(JWT_ALG_RS256, rsa3_priv, "r3", claims_good()), "unknown key id");
	EXPECT_REFUSED(v, token(JWT_ALG_ES256, ec2_priv, "e2", claims_good()), "unknown key id");
	jwt_verifier_free(v);
}

static void
test_not_configured(void)
{
	struct jwt_config	 cfg = { SECRET, "", "", "", AUD, 60, 300 };
	struct jwt_verifier	*v = jwt_verifier_new(&cfg);

	/* No issuer: nothing is accepted, whatever the signature. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	EXPECT_REFUSED(v, token(JWT_ALG_HS256, SECRET, NULL, claims_good()), "not configured");
	EXPECT_REFUSED(v, token(JWT_ALG_HS256, SECRET, NULL, claims_with("iss", json_string(""))),
	    "not configured");
	jwt_verifier_free(v);
	cfg.jwks_file = jwks_path;
	v = jwt_verifier_new(&cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	EXPECT_REFUSED(v, token(JWT_ALG_RS256, rsa1_priv, "r1", claims_good()), "not configured");
	jwt_verifier_free(v);
	/* No audience either. */
	cfg.issuer = ISS;
	cfg.audience = "";
	v = jwt_verifier_new(&cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	EXPECT_REFUSED(v, token(JWT_ALG_HS256, SECRET, NULL, claims_with("aud", json_string(""))),
	    "not configured");
	jwt_verifier_free(v);
	/* Nothing configured at all. */
	cfg.hs256_secret = "";
	cfg.jwks_file = "";
	cfg.audience = AUD;
	v = jwt_verifier_new(&cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	EXPECT_REFUSED(v, token(JWT_ALG_HS256, SECRET, NULL, claims_good()), "not enabled");
	EXPECT_REFUSED(v, token(JWT_ALG_RS256, rsa1_priv, "r1", claims_good()), "unknown key id");
	jwt_verifier_free(v);
}

/* JWKs of every kind that must be skipped. */
static json_t *
bad_jwks(void)
{
	EVP_PKEY	*small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	json_t		*keys = json_array(), *k;
	char		*y;
	const char	*s;

	k = jwk_rsa(rsa2, "enc");
	json_object_set_new(k, "use", json_string("enc"));
	json_array_append_new(keys, k);
	k = jwk_rsa(rsa2, "rs512");
	json_object_set_new(k, "alg", json_string("RS512"));
	json_array_append_new(keys, k);
	k = jwk_rsa(rsa2, "es256-on-rsa");
	json_object_set_new(k, "alg", json_string("ES256"));
	json_array_append_new(keys, k);
	k = jwk_ec(ec2, "hs256-on-ec");
	json_object_set_new(k, "alg", json_string("HS256"));
	json_array_append_new(keys, k);
	k = jwk_rsa(rsa2, "encrypt-only");
	json_object_set_new(k, "key_ops", json_pack("[s]", "encrypt"));
	json_array_append_new(keys, k);
	k = jwk_ec(ec2, "p384");
	json_object_set_new(k, "crv", json_string("P-384"));
	json_array_append_new(keys, k);
	/* A point off the curve: y with its last bits changed. */
	k = jwk_ec(ec2, "off-curve");
	y = sb_strdup(json_string_value(json_object_get(k, "y")));
	y[strlen(y) - 2] = y[strlen(y) - 2] == 'A' ? 'B' : 'A';
	json_object_set_new(k, "y", json_string(y));
	free(y);
	json_array_append_new(keys, k);
	k = jwk_ec(ec2, "short-x");
	s = json_string_value(json_object_get(k, "x"));
	json_object_set_new(k, "x", json_stringn(s, strlen(s) - 2));
	json_array_append_new(keys, k);
	if (small != NULL)
		json_array_append_new(keys, jwk_rsa(small, "rsa1024"));
	EVP_PKEY_free(small);
	json_array_append_new(keys, json_pack("{s:s, s:s, s:s}", "kty", "oct", "kid", "oct",
	    "k", "c2VjcmV0"));
	k = jwk_rsa(rsa2, NULL);
	json_object_set_new(k, "kid", json_integer(5));
	json_array_append_new(keys, k);
	json_array_append_new(keys, json_string("not a key"));
	json_array_append_new(keys, json_pack("{s:s, s:s, s:s}", "kty", "RSA", "n", "!!", "e", "AQAB"));
	return keys;
}

static void
test_jwks_file(void)
{
	struct jwt_config	 cfg = { "", "/nonexistent/jwks.json", "", ISS, AUD, 60, 300 };
	struct jwt_verifier	*v;
	json_t			*keys, *k;

	CU_ASSERT_PTR_NULL(jwt_verifier_new(&cfg));
	cfg.jwks_file = write_temp("{\"keys\": [");
	CU_ASSERT_PTR_NULL(jwt_verifier_new(&cfg));
	cfg.jwks_file = write_temp("{\"keys\": {}}");
	CU_ASSERT_PTR_NULL(jwt_verifier_new(&cfg));
	cfg.jwks_file = write_jwks(json_array());
	CU_ASSERT_PTR_NULL(jwt_verifier_new(&cfg));
	cfg.jwks_file = write_jwks(bad_jwks());
	CU_ASSERT_PTR_NULL(jwt_verifier_new(&cfg));
	cfg.jwks_file = "";
	cfg.jwks_url = "file:///etc/passwd";
	CU_ASSERT_PTR_NULL(jwt_verifier_new(&cfg));
	cfg.jwks_url = "";

	/* The bad keys beside good ones: only the good ones are used.  Of two keys
	 * with one kid, the first wins. */
	keys = bad_jwks();
	k = jwk_rsa(rsa1, "good");
	json_object_set_new(k, "use", json_string("sig"));
	json_object_set_new(k, "alg", json_string("RS256"));
	json_object_set_new(k, "key_ops", json_pack("[s]", "verify"));
	json_array_append_new(keys, k);
	json_array_append_new(keys, jwk_ec(ec1, "dup"));
	json_array_append_new(keys, jwk_ec(ec2, "dup"));
	cfg.jwks_file = write_jwks(keys);
	v = jwt_verifier_new(&cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	json_decref(EXPECT_OK(v, token(JWT_ALG_RS256, rsa1_priv, "good", claims_good())));
	json_decref(EXPECT_OK(v, token(JWT_ALG_ES256, ec1_priv, "dup", claims_good())));
	EXPECT_REFUSED(v, token(JWT_ALG_ES256, ec2_priv, "dup", claims_good()), "signature invalid");
	EXPECT_REFUSED(v, token(JWT_ALG_RS256, rsa2_priv, "rs512", claims_good()), "unknown key id");
	EXPECT_REFUSED(v, token(JWT_ALG_RS256, rsa2_priv, "enc", claims_good()), "unknown key id");
	EXPECT_REFUSED(v, token(JWT_ALG_ES256, ec2_priv, "off-curve", claims_good()),
	    "unknown key id");
	jwt_verifier_free(v);
}

static void
test_jwks_url_down(void)
{
	struct jwt_config	 cfg = { "", "", "http://127.0.0.1:1/jwks.json", ISS, AUD, 60, 300 };
	struct jwt_verifier	*v = jwt_verifier_new(&cfg);

	/* Nothing listens on port 1: the fetch fails at once and nothing is accepted. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	EXPECT_REFUSED(v, token(JWT_ALG_RS256, rsa1_priv, "r1", claims_good()), "unknown key id");
	EXPECT_REFUSED(v, token(JWT_ALG_ES256, ec1_priv, NULL, claims_good()),
	    "no key for algorithm ES256");
	jwt_verifier_free(v);
}

void
suite_jwt(void)
{
	CU_pSuite s = unit_suite("jwt", jwt_init, jwt_clean);

	unit_test(s, "HS256 with the secret", test_hs256);
	unit_test(s, "RS256 and ES256 with JWKS keys", test_rs256_es256);
	unit_test(s, "alg none and other algorithms refused", test_alg_none);
	unit_test(s, "algorithm confusion refused", test_alg_confusion);
	unit_test(s, "wrong key, spliced and truncated signatures", test_wrong_key);
	unit_test(s, "iss, aud, exp, nbf, iat", test_claims);
	unit_test(s, "hand-made claims and headers", test_claims_crafted);
	unit_test(s, "malformed tokens refused", test_malformed);
	unit_test(s, "unknown kid with a file only", test_unknown_kid);
	unit_test(s, "empty issuer or audience refuses everything", test_not_configured);
	unit_test(s, "JWKS file parsing", test_jwks_file);
	unit_test(s, "JWKS URL down", test_jwks_url_down);
}
