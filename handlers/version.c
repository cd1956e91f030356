/* version.c: GET /api/v1/version. */
#include "config.h"

#include "handlers.h"

enum sb_err
h_version(struct sb_req *req)
{
	resp_json(req, 200, json_pack("{s:s, s:s, s:s, s:i}",
	    "version", sb_version(),
	    "git_commit", sb_git_commit(),
	    "build_time", sb_build_time(),
	    "schema_version", SB_SCHEMA_VERSION));
	return SB_OK;
}
