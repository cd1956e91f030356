/* crypto.h: secrets: random tokens, their hashes, API keys and password hashes
 * (libsodium).  Output goes to the caller's buffers; nothing is allocated. */
#ifndef SB_CORE_CRYPTO_H
#define SB_CORE_CRYPTO_H

#include <stddef.h>

/* Every secret Switchboard hands out (session tokens, API key secrets) carries 256
 * random bits; only its BLAKE2b hash is stored, so a database leak reveals none. */
#define TOKEN_LEN	43	/* 32 bytes, base64url without padding */
#define HASH_HEX_LEN	64	/* BLAKE2b-256, hex */
#define KEY_ID_LEN	12	/* the visible id of an API key: base32, 60 bits */
#define PASSWORD_MAX	1024	/* longest password accepted, in bytes */

/* Call once at start, before fork: libsodium's own initialisation. */
int	 crypto_init(void);
void	 token_new(char out[TOKEN_LEN + 1]);
void	 token_hash(const char *token, char out[HASH_HEX_LEN + 1]);
/* p as base64url without padding, NUL-terminated; caller frees. */
char	*b64url_encode(const void *p, size_t len);
/* Has t the shape token_new makes (TOKEN_LEN base64url characters)? */
int	 token_valid(const char *t);
/* A random (version 4) UUID in its text form, for ids made outside the database. */
void	 uuid_v4(char out[37]);
/* Constant-time comparison of two NUL-terminated strings of public length. */
int	 secret_equal(const char *a, const char *b);
/* API keys read "sb_<key id>_<secret>": the prefix makes leaked keys greppable. */
void	 api_key_new(char key_id[KEY_ID_LEN + 1], char secret[TOKEN_LEN + 1]);
/* Splits a presented key; -1 if it does not have the shape of one. */
int	 api_key_parse(const char *key, char key_id[KEY_ID_LEN + 1], char secret[TOKEN_LEN + 1]);
/* argon2id via crypto_pwhash_str: 0 with the encoded hash in out, -1 on failure. */
int	 password_hash(const char *pw, int opslimit, int memlimit_kib, char *out, size_t outlen);
/* 1 if pw matches hash, 0 if not (also for a malformed hash). */
int	 password_verify(const char *hash, const char *pw);
/* 1 if hash was made with other parameters than these. */
int	 password_needs_rehash(const char *hash, int opslimit, int memlimit_kib);

#endif /* SB_CORE_CRYPTO_H */
