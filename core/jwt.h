/* jwt.h: bearer JWT verification (HS256, RS256, ES256) against a secret or a JWKS
 * file or URL.  The verifier is owned by its creator; claims returned are the
 * caller's to decref. */
#ifndef SB_CORE_JWT_H
#define SB_CORE_JWT_H

#include <stddef.h>
#include <jansson.h>

struct jwt_config {
	const char	*hs256_secret;	/* "" disables HS256 */
	const char	*jwks_file;	/* "" or a JWKS document on disk (RS256, ES256 keys) */
	const char	*jwks_url;	/* "" or a JWKS URL, fetched with libcurl and cached */
	const char	*issuer;	/* required "iss" ("" accepts none: refused) */
	const char	*audience;	/* required in "aud" (string or array) */
	int		 leeway_s;	/* clock skew allowed on exp, nbf and iat */
	int		 jwks_refresh_s;	/* least interval between JWKS fetches */
};

struct jwt_verifier;

/* Copies what it needs from cfg.  Loads jwks_file now; fetches jwks_url lazily.
 * NULL (logged) when the file cannot be read or holds no usable key. */
struct jwt_verifier	*jwt_verifier_new(const struct jwt_config *cfg);
void			 jwt_verifier_free(struct jwt_verifier *);
/* Verifies a compact JWS: the header's alg must fit the key it selects (HS256 only
 * with the secret; RS256 only with an RSA key; ES256 only with a P-256 key; "none"
 * never), then the signature, iss, aud, exp, nbf and iat.  An unknown kid refetches
 * the JWKS URL at most every jwks_refresh_s.  Returns the claims (caller decrefs),
 * or NULL with a reason in why that never contains the token. */
json_t			*jwt_verify(struct jwt_verifier *, const char *token, char *why,
			    size_t whylen);

#endif /* SB_CORE_JWT_H */
