/* fuzz_config.c: the configuration file parser (core/conf.c config_load), given any file. */
#include "config.h"

#include <sys/mman.h>

#include <string.h>
#include <unistd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <stdlib.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/scope.h"
#include "tests/fuzz/fuzz.h"

static int	 fd = -1;
static char	 path[64];

static void
unset_env(const char *key, const char *env, const char *desc, void *arg)
{
	(void)key;
	(void)desc;
	(void)arg;
	unsetenv(env);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_config", SB_LOG_ERROR + 1);
	/* The file alone decides: no SWITCHBOARD_* variable of the caller's. */
	config_each_key(unset_env, NULL);
	if ((fd = memfd_create("fuzz_config", 0)) < 0) {
		perror("memfd_create");
		abort();
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

static int
all_zero(const void *p, size_t n)
{
	const unsigned char *u = p;

	while (n > 0 && u[n - 1] == 0)
		n--;
	return n == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sb_config	 cfg;
	char			 err[512];

	if (ftruncate(fd, 0) < 0 || (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	memset(&cfg, 0xa5, sizeof(cfg));
	memset(err, 0xa5, sizeof(err));
	if (config_load(&cfg, path, err, sizeof(err)) < 0) {
		/* Nothing is left to the caller, and the reason names the file. */
		FUZZ_ASSERT(all_zero(&cfg, sizeof(cfg)));
		FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL);
		FUZZ_ASSERT(strncmp(err, path, strlen(path)) == 0 ||
		    strncmp(err, "jwt.default_role", 16) == 0 ||
		    strncmp(err, "oidc.provision_role", 19) == 0);
		return 0;
	}
	FUZZ_ASSERT(cfg.path != NULL && strcmp(cfg.path, path) == 0);
	/* A few keys of each type, within the bounds the table gives them. */
	FUZZ_ASSERT(cfg.server.socket != NULL && cfg.database.url != NULL &&
	    cfg.database.migrate_url != NULL && cfg.llm.pricing != NULL);
	FUZZ_ASSERT(cfg.server.socket_mode >= 0 && cfg.server.socket_mode <= 0777);
	FUZZ_ASSERT(cfg.server.backlog >= 1 && cfg.server.backlog <= 65535);
	FUZZ_ASSERT(cfg.http.max_body >= 0);
	FUZZ_ASSERT(cfg.http.max_json_depth >= 1 && cfg.http.max_json_depth <= 1000);
	FUZZ_ASSERT(cfg.stream.client_buffer >= 4096 && cfg.stream.client_buffer <= 67108864);
	FUZZ_ASSERT(cfg.auth.password_min >= 8 && cfg.auth.password_min <= 128);
	FUZZ_ASSERT(cfg.log.level >= SB_LOG_DEBUG && cfg.log.level <= SB_LOG_ERROR);
	FUZZ_ASSERT(role_parse(cfg.jwt.default_role) >= 0 &&
	    role_parse(cfg.oidc.provision_role) >= 0);
	FUZZ_ASSERT(cfg.database.migrate_url[0] != '\0' || cfg.database.url[0] == '\0');
	config_free(&cfg);
	return 0;
}
