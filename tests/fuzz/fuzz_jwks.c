/* fuzz_jwks.c: a JWKS document (core/jwt.c jwks_parse via jwt.jwks_file): keys read, checked
 * by OpenSSL, or skipped. */
#include "config.h"

#include <sys/mman.h>

#include <string.h>
#include <unistd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <jansson.h>
#include <stdlib.h>

#include "core/jwt.h"
#include "core/log.h"
#include "tests/fuzz/fuzz.h"

static int	 fd = -1;
static char	 path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_jwks", SB_LOG_ERROR + 1);
	if ((fd = memfd_create("fuzz_jwks", 0)) < 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

/* The input is the file.  A verifier made from it must refuse what no key
 * signed: a token naming each kind of key, with a signature of zeros. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	*tokens[] = {
		/* {"alg":"RS256","kid":"rsa1"} . {"iss":"i","aud":"a","exp":4102444800} . zeros */
		"eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYTEifQ."
		"eyJpc3MiOiJpIiwiYXVkIjoiYSIsImV4cCI6NDEwMjQ0NDgwMH0.AAAAAAAAAAAAAAAAAAAAAA",
		/* {"alg":"ES256"} */
		"eyJhbGciOiJFUzI1NiJ9."
		"eyJpc3MiOiJpIiwiYXVkIjoiYSIsImV4cCI6NDEwMjQ0NDgwMH0.AAAAAAAAAAAAAAAAAAAAAA",
		/* {"alg":"HS256","kid":"rsa1"} */
		"eyJhbGciOiJIUzI1NiIsImtpZCI6InJzYTEifQ."
		"eyJpc3MiOiJpIiwiYXVkIjoiYSIsImV4cCI6NDEwMjQ0NDgwMH0.AAAAAAAAAAAAAAAAAAAAAA",
	};
	struct jwt_config	 cfg;
	struct jwt_verifier	*v;
	char			 why[128];
	size_t			 i;
	json_t			*claims;

	if (ftruncate(fd, 0) < 0 || (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	memset(&cfg, 0, sizeof(cfg));
	cfg.jwks_file = path;
	cfg.issuer = "i";
	cfg.audience = "a";
	cfg.leeway_s = 60;
	cfg.jwks_refresh_s = 300;
	if ((v = jwt_verifier_new(&cfg)) == NULL)
		return 0;
	for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
		claims = jwt_verify(v, tokens[i], why, sizeof(why));
		FUZZ_ASSERT(claims == NULL && strcmp(why, "ok") != 0);
	}
	jwt_verifier_free(v);
	return 0;
}
