/* crypto.c: tokens, their hashes, API key format and password hashing (libsodium). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/crypto.h"

int
crypto_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

void
token_new(char out[TOKEN_LEN + 1])
{
	unsigned char b[32];

	randombytes_buf(b, sizeof(b));
	sodium_bin2base64(out, TOKEN_LEN + 1, b, sizeof(b), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(b, sizeof(b));
}

void
token_hash(const char *token, char out[HASH_HEX_LEN + 1])
{
	unsigned char h[32];

	crypto_generichash(h, sizeof(h), (const unsigned char *)token, strlen(token), NULL, 0);
	sodium_bin2hex(out, HASH_HEX_LEN + 1, h, sizeof(h));
}

char *
b64url_encode(const void *p, size_t len)
{
	size_t	 n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char	*out = sb_malloc(n);

	sodium_bin2base64(out, n, p, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

int
token_valid(const char *t)
{
	size_t i;

	for (i = 0; t[i] != '\0'; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
		    (t[i] >= '0' && t[i] <= '9') || t[i] == '-' || t[i] == '_'))
			return 0;
	return i == TOKEN_LEN;
}

int
secret_equal(const char *a, const char *b)
{
	size_t n = strlen(a);

	return n == strlen(b) && sodium_memcmp(a, b, n) == 0;
}

void
api_key_new(char key_id[KEY_ID_LEN + 1], char secret[TOKEN_LEN + 1])
{
	static const char	 b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned char		 r[KEY_ID_LEN];
	size_t			 i;

	randombytes_buf(r, sizeof(r));
	for (i = 0; i < KEY_ID_LEN; i++)
		key_id[i] = b32[r[i] & 31];
	key_id[KEY_ID_LEN] = '\0';
	token_new(secret);
}

int
api_key_parse(const char *key, char key_id[KEY_ID_LEN + 1], char secret[TOKEN_LEN + 1])
{
	size_t i;

	if (strncmp(key, "sb_", 3) != 0 || strlen(key) != 3 + KEY_ID_LEN + 1 + TOKEN_LEN ||
	    key[3 + KEY_ID_LEN] != '_')
		return -1;
	for (i = 0; i < KEY_ID_LEN; i++) {
		char c = key[3 + i];

		if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')))
			return -1;
		key_id[i] = c;
	}
	key_id[KEY_ID_LEN] = '\0';
	for (i = 0; i < TOKEN_LEN; i++) {
		char c = key[4 + KEY_ID_LEN + i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_'))
			return -1;
		secret[i] = c;
	}
	secret[TOKEN_LEN] = '\0';
	return 0;
}

int
password_hash(const char *pw, int opslimit, int memlimit_kib, char *out, size_t outlen)
{
	if (outlen < crypto_pwhash_STRBYTES)
		return -1;
	return crypto_pwhash_str(out, pw, strlen(pw), (unsigned long long)opslimit,
	    (size_t)memlimit_kib * 1024) == 0 ? 0 : -1;
}

int
password_verify(const char *hash, const char *pw)
{
	return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

int
password_needs_rehash(const char *hash, int opslimit, int memlimit_kib)
{
	return crypto_pwhash_str_needs_rehash(hash, (unsigned long long)opslimit,
	    (size_t)memlimit_kib * 1024) != 0;
}

void
uuid_v4(char out[37])
{
	unsigned char	 b[16];
	size_t		 i, n = 0;

	randombytes_buf(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);	/* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);	/* the RFC 4122 variant */
	for (i = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[n++] = '-';
		snprintf(out + n, 3, "%02x", b[i]);
		n += 2;
	}
	out[n] = '\0';
}
