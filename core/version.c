/* version.c: what this build is, for /api/v1/version and --version. */
#include "config.h"
#include "build-info.h"
#include "core/version.h"

const char *
sb_version(void)
{
	return PACKAGE_VERSION;
}

const char *
sb_git_commit(void)
{
	return SB_GIT_COMMIT;
}

const char *
sb_build_time(void)
{
	return SB_BUILD_TIME;
}
