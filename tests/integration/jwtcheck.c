/* jwtcheck.c: core/jwt.c against a JWKS URL, driven line by line by t_jwt.sh.
 * usage: sb-jwtcheck DIR URL REFRESH_S
 * Serves nothing: it writes JWKS documents into DIR, which a Caddy file server
 * publishes at URL, and verifies tokens with a verifier that fetches URL.
 * Commands on stdin, one answer line each on stdout:
 *   gen KID rsa|ec	make a key (not yet published)		-> ok
 *   publish KID...	DIR/jwks.json holds these keys		-> ok
 *   garbage		DIR/jwks.json is not JSON		-> ok
 *   big KID		DIR/big.json: the key and 2 MiB of spaces	-> ok
 *   verifier URL	a new verifier for URL (same REFRESH_S)	-> ok
 *   verify KID		a fresh token signed by KID		-> accepted | refused: WHY */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/jwt.h"
#include "core/log.h"

#define ISS	"https://idp.jwtcheck.test"
#define AUD	"switchboard"
#define MAXKEYS	16

struct key {
	char		 kid[64];
	int		 ec;
	EVP_PKEY	*pkey;
	char		*priv;		/* PEM, for libjwt's signing */
};

static struct key	 keys[MAXKEYS];
static int		 nkeys;
static const char	*dir;
static int		 refresh_s;

static json_t *
b64_json(const unsigned char *p, size_t len)
{
	char	*s = b64url_encode(p, len);
	json_t	*v = json_string(s);

	free(s);
	return v;
}

static json_t *
bn_json(EVP_PKEY *pkey, const char *param)
{
	BIGNUM		*bn = NULL;
	unsigned char	 buf[1024];
	int		 n;

	if (!EVP_PKEY_get_bn_param(pkey, param, &bn))
		return json_null();
	n = BN_bn2bin(bn, buf);
	BN_free(bn);
	return b64_json(buf, (size_t)n);
}

/* The public JWK of k. */
static json_t *
jwk_of(const struct key *k)
{
	unsigned char	 pt[65];
	size_t		 len = 0;

	if (!k->ec)
		return json_pack("{s:s, s:s, s:s, s:o, s:o}", "kty", "RSA", "kid", k->kid,
		    "use", "sig", "n", bn_json(k->pkey, OSSL_PKEY_PARAM_RSA_N),
		    "e", bn_json(k->pkey, OSSL_PKEY_PARAM_RSA_E));
	if (!EVP_PKEY_get_octet_string_param(k->pkey, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt),
	    &len) || len != 65)
		return json_object();
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "kty", "EC", "kid", k->kid,
	    "alg", "ES256", "crv", "P-256", "x", b64_json(pt + 1, 32), "y", b64_json(pt + 33, 32));
}

static struct key *
key_find(const char *kid)
{
	int i;

	for (i = 0; i < nkeys; i++)
		if (strcmp(keys[i].kid, kid) == 0)
			return &keys[i];
	return NULL;
}

static int
key_gen(const char *kid, const char *type)
{
	struct key	*k;
	BIO		*bio;
	char		*data;
	long		 len;

	if (nkeys == MAXKEYS || strlen(kid) >= sizeof(k->kid) || key_find(kid) != NULL)
		return -1;
	k = &keys[nkeys];
	k->ec = strcmp(type, "ec") == 0;
	k->pkey = k->ec ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256") :
	    EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	if (k->pkey == NULL || (bio = BIO_new(BIO_s_mem())) == NULL)
		return -1;
	if (PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (len = BIO_get_mem_data(bio, &data)) > 0) {
		k->priv = sb_malloc((size_t)len + 1);
		memcpy(k->priv, data, (size_t)len);
		k->priv[len] = '\0';
	}
	BIO_free(bio);
	if (k->priv == NULL) {
		EVP_PKEY_free(k->pkey);
		return -1;
	}
	snprintf(k->kid, sizeof(k->kid), "%s", kid);
	nkeys++;
	return 0;
}

/* Writes text to DIR/name through a rename, so Caddy never serves half a file. */
static int
publish_text(const char *name, const char *text, size_t pad)
{
	char	 tmp[1024], path[1024];
	FILE	*f;
	size_t	 i;
	int	 rc = 0;

	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(tmp, "w")) == NULL)
		return -1;
	for (i = 0; i < pad; i++)
		fputc(' ', f);
	fputs(text, f);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		rc = -1;
	return rc;
}

/* Publishes the keys named in the words after the command. */
static int
publish(const char *name, char *kids, size_t pad)
{
	json_t		*arr = json_array(), *doc;
	struct key	*k;
	char		*kid, *text;
	int		 rc = 0;

	for (kid = strtok(kids, " "); kid != NULL; kid = strtok(NULL, " ")) {
		if ((k = key_find(kid)) == NULL)
			rc = -1;
		else
			json_array_append_new(arr, jwk_of(k));
	}
	doc = json_pack("{s:o}", "keys", arr);
	text = json_dumps(doc, JSON_INDENT(1));
	if (rc == 0)
		rc = publish_text(name, text, pad);
	free(text);
	json_decref(doc);
	return rc;
}

static struct jwt_verifier *
verifier_for(const char *url)
{
	struct jwt_config cfg = { "", "", url, ISS, AUD, 30, refresh_s };

	return jwt_verifier_new(&cfg);
}

/* Signs a fresh token with kid's key and prints what the verifier says. */
static void
verify(struct jwt_verifier *v, const char *kid)
{
	struct key	*k = key_find(kid);
	jwt_t		*j = NULL;
	json_t		*claims = NULL;
	char		*t = NULL, why[128] = "no such key";
	long		 now = (long)time(NULL);

	if (k == NULL || v == NULL || jwt_new(&j) != 0)
		goto out;
	if (jwt_add_header(j, "kid", kid) != 0 || jwt_add_grant(j, "iss", ISS) != 0 ||
	    jwt_add_grant(j, "aud", AUD) != 0 || jwt_add_grant(j, "sub", "jwtcheck") != 0 ||
	    jwt_add_grant_int(j, "exp", now + 300) != 0 ||
	    jwt_set_alg(j, k->ec ? JWT_ALG_ES256 : JWT_ALG_RS256, (const unsigned char *)k->priv,
	    (int)strlen(k->priv)) != 0 || (t = jwt_encode_str(j)) == NULL) {
		snprintf(why, sizeof(why), "libjwt could not sign");
		goto out;
	}
	claims = jwt_verify(v, t, why, sizeof(why));
	if (claims != NULL && !json_is_string(json_object_get(claims, "sub"))) {
		json_decref(claims);
		claims = NULL;
		snprintf(why, sizeof(why), "claims without sub");
	}
out:
	if (claims != NULL)
		printf("accepted\n");
	else
		printf("refused: %s\n", why);
	json_decref(claims);
	free(t);
	jwt_free(j);
}

int
main(int argc, char *argv[])
{
	struct jwt_verifier	*v;
	char			 line[1024], *arg;
	int			 i, rc;

	if (argc != 4) {
		fprintf(stderr, "usage: sb-jwtcheck DIR URL REFRESH_S\n");
		return 2;
	}
	log_init("sb-jwtcheck", SB_LOG_INFO);
	dir = argv[1];
	refresh_s = atoi(argv[3]);
	v = verifier_for(argv[2]);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		arg = strchr(line, ' ');
		if (arg != NULL)
			*arg++ = '\0';
		else
			arg = line + strlen(line);
		rc = -1;
		if (strcmp(line, "verify") == 0) {
			verify(v, arg);
			fflush(stdout);
			continue;
		}
		if (strcmp(line, "gen") == 0 && strchr(arg, ' ') != NULL) {
			*strchr(arg, ' ') = '\0';
			rc = key_gen(arg, arg + strlen(arg) + 1);
		} else if (strcmp(line, "publish") == 0)
			rc = publish("jwks.json", arg, 0);
		else if (strcmp(line, "garbage") == 0)
			rc = publish_text("jwks.json", "this is not a JWKS\n", 0);
		else if (strcmp(line, "big") == 0)
			rc = publish("big.json", arg, 2 * 1024 * 1024);
		else if (strcmp(line, "verifier") == 0) {
			jwt_verifier_free(v);
			rc = (v = verifier_for(arg)) != NULL ? 0 : -1;
		}
		printf("%s\n", rc == 0 ? "ok" : "error");
		fflush(stdout);
	}
	jwt_verifier_free(v);
	for (i = 0; i < nkeys; i++) {
		EVP_PKEY_free(keys[i].pkey);
		free(keys[i].priv);
	}
	return 0;
}
