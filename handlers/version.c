/* version.c: GET /api/v1/version. */
#include "config.h"

#include "handlers/handlers.h"
#include "core/arena.h"
#include "core/db.h"
#include "core/err.h"
#include "core/version.h"
#include "fcgi-app/request.h"
#include "fcgi-app/response.h"

#include <stdlib.h>
#include <string.h>
#include <jansson.h>

/* The answer never changes while the process runs: it is built on first use. */
enum sb_err
h_version(struct sb_req *req)
{
	static char	*body;
	json_t		*v;

	if (body == NULL) {
		v = json_pack("{s:s, s:s, s:s, s:i}",
		    "version", sb_version(),
		    "git_commit", sb_git_commit(),
		    "build_time", sb_build_time(),
		    "schema_version", SB_SCHEMA_VERSION);
		if (v == NULL || (body = json_dumps(v, JSON_COMPACT)) == NULL)
			sb_oom(0);
		json_decref(v);
		body = sb_realloc(body, strlen(body) + 2);
		strcat(body, "\n");
	}
	resp_send(req, 200, "application/json", body, strlen(body));
	return SB_OK;
}
