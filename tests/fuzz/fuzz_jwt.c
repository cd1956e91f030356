/* fuzz_jwt.c: bearer tokens (core/jwt.c jwt_verify): the compact form, the header, the key
 * choice and, for tokens the harness signs itself, the claims. */
#include "config.h"

#include <sys/mman.h>

#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <jansson.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/jwt.h"
#include "core/log.h"
#include "fcgi-app/request.h"
#include "tests/fuzz/fuzz.h"

#define SECRET		"fuzz-hs256-secret-of-32-bytes-or-more"
#define ISSUER		"https://id.example.org"
#define AUDIENCE	"switchboard"

/* The public halves of an RSA 2048 and a P-256 key made for these seeds. */
static const char jwks[] =
    "{\"keys\": [{\"kty\": \"RSA\", \"kid\": \"rsa1\", \"use\": \"sig\", \"alg\": \"RS256\", "
    "\"n\": \"kdBcztqFCue7BxUs5s0LVe1npnXVLBu-zo9kD0ww2S9B_kaEfTArwp_Zm0JSVHIjPGDxvpDCyH3n2Yxu"
    "3045tstH_hunqyKNzhxEIgVz1QDMPlDEs9WLcZke_DUNeKdH3OuFpQwK-A1UCmLyn18d-Q1xgeaz2VfLhK-rphQp"
    "mdahD_1qLo2cNgjvI_w9eXVdloBK4lzxZPT2nA0KejFPzNF8qLwblq1Jv3__9H7V5rAOkyZECpptdiX1PKf-dW3H"
    "R8uMGmUy3NdJ5L9AbVr1sxPHFbGImQwiZGgTifFe9WJ2Dz5-coUjQ4KMMK4ucfHH6sQqMeQx2LBv8cK88__N5Q\", "
    "\"e\": \"AQAB\"}, {\"kty\": \"EC\", \"kid\": \"ec1\", \"crv\": \"P-256\", "
    "\"x\": \"2kqacw6kXNA3hVb68xc64HyMDCmKKq6BtohIkr32Ak8\", "
    "\"y\": \"BHfC75JFPZ9SHjPO_7hxSmC2SNDzsTLQ0tzU8C3ncXg\"}]}";

static struct jwt_verifier	*verifier;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct jwt_config	 cfg;
	char			 path[64];
	int			 fd;

	(void)argc;
	(void)argv;
	log_init("fuzz_jwt", SB_LOG_ERROR + 1);
	if ((fd = memfd_create("fuzz_jwks", 0)) < 0 ||
	    write(fd, jwks, sizeof(jwks) - 1) != (ssize_t)(sizeof(jwks) - 1))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	memset(&cfg, 0, sizeof(cfg));
	cfg.hs256_secret = SECRET;
	cfg.jwks_file = path;
	cfg.issuer = ISSUER;
	cfg.audience = AUDIENCE;
	cfg.leeway_s = 60;
	cfg.jwks_refresh_s = 300;
	if ((verifier = jwt_verifier_new(&cfg)) == NULL)
		abort();
	close(fd);
	return 0;
}

static char *
b64url(const unsigned char *p, size_t n)
{
	static const char	 abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char			*out = malloc(n / 3 * 4 + 5), *o = out;
	size_t			 i;
	unsigned		 v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		*o++ = abc[v >> 18];
		*o++ = abc[v >> 12 & 63];
		*o++ = abc[v >> 6 & 63];
		*o++ = abc[v & 63];
	}
	if (n - i == 1) {
		v = (unsigned)p[i] << 16;
		*o++ = abc[v >> 18];
		*o++ = abc[v >> 12 & 63];
	} else if (n - i == 2) {
		v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
		*o++ = abc[v >> 18];
		*o++ = abc[v >> 12 & 63];
		*o++ = abc[v >> 6 & 63];
	}
	*o = '\0';
	return out;
}

/* header.claims signed with the HS256 secret, as an honest issuer would. */
static char *
sign_hs256(const char *header, size_t hlen, const char *claims, size_t clen)
{
	unsigned char	 mac[32];
	size_t		 maclen = 0;
	char		*h = b64url((const unsigned char *)header, hlen);
	char		*c = b64url((const unsigned char *)claims, clen), *input, *sig, *token;

	if (asprintf(&input, "%s.%s", h, c) < 0)
		abort();
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, SECRET, strlen(SECRET),
	    (const unsigned char *)input, strlen(input), mac, sizeof(mac), &maclen) == NULL)
		abort();
	sig = b64url(mac, maclen);
	if (asprintf(&token, "%s.%s", input, sig) < 0)
		abort();
	free(h);
	free(c);
	free(input);
	free(sig);
	return token;
}

/* What a verified token must have said (the checks, restated from the contract). */
static void
check_claims(json_t *claims)
{
	const json_t	*aud = json_object_get(claims, "aud"), *a;
	size_t		 i;
	int		 found = 0;

	FUZZ_ASSERT(json_is_object(claims));
	FUZZ_ASSERT(json_is_string(json_object_get(claims, "iss")) &&
	    strcmp(json_string_value(json_object_get(claims, "iss")), ISSUER) == 0);
	if (json_is_array(aud)) {
		json_array_foreach(aud, i, a)
			found |= json_is_string(a) && strcmp(json_string_value(a), AUDIENCE) == 0;
	} else
		found = json_is_string(aud) && strcmp(json_string_value(aud), AUDIENCE) == 0;
	FUZZ_ASSERT(found);
	FUZZ_ASSERT(json_is_number(json_object_get(claims, "exp")));
	FUZZ_ASSERT(json_number_value(json_object_get(claims, "exp")) + 60 >
	    (double)(clock_real_ms() / 1000));
}

/*
 * First byte even: the rest is a token as a client sends it.  Odd: the rest is a
 * header and claims (JSON, split at the first newline) that the harness signs
 * with the HS256 secret, so that the claims checks are reached.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*rest = (const char *)data + 1, *nl;
	char		*token, why[128];
	json_t		*claims;

	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0)
		token = strndup(rest, size - 1);
	else {
		if ((nl = memchr(rest, '\n', size - 1)) == NULL)
			return 0;
		token = sign_hs256(rest, (size_t)(nl - rest), nl + 1,
		    size - 1 - (size_t)(nl + 1 - rest));
	}
	memset(why, 0xa5, sizeof(why));
	claims = jwt_verify(verifier, token, why, sizeof(why));
	FUZZ_ASSERT(memchr(why, '\0', sizeof(why)) != NULL);
	/* The reason never repeats the token. */
	FUZZ_ASSERT(strlen(token) < 8 || strstr(why, token) == NULL);
	if (claims != NULL) {
		FUZZ_ASSERT(strcmp(why, "ok") == 0);
		check_claims(claims);
		json_decref(claims);
	} else
		FUZZ_ASSERT(strcmp(why, "ok") != 0);
	free(token);
	return 0;
}
