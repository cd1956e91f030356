/* cors.c: cross-origin requests from the allowlist in cors.allow_origins. */
#include "config.h"

#include <string.h>
#include <stddef.h>

#include "fcgi-app/app.h"
#include "fcgi-app/cors.h"
#include "fcgi-app/request.h"
#include "fcgi-app/response.h"

/* Is origin one of the comma-separated entries of list, exactly? */
static int
origin_allowed(const char *list, const char *origin)
{
	const char	*p = list, *e;
	size_t		 n = strlen(origin);

	while (*p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		for (e = p; *e != '\0' && *e != ',' && *e != ' '; e++)
			;
		if ((size_t)(e - p) == n && n > 0 && strncmp(p, origin, n) == 0)
			return 1;
		p = e;
	}
	return 0;
}

int
cors_apply(struct sb_req *req)
{
	const char *origin = req_header(req, "Origin");

	if (origin == NULL || !origin_allowed(req->app->cfg.cors.allow_origins, origin))
		return 0;
	/* Never "*": credentials (cookies) are allowed, so the origin is named. */
	resp_header(req, "Access-Control-Allow-Origin", "%s", origin);
	resp_header(req, "Access-Control-Allow-Credentials", "true");
	resp_header(req, "Vary", "Origin");
	resp_header(req, "Access-Control-Expose-Headers", "X-Request-Id, Location, Retry-After, "
	    "RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset");
	return 1;
}

void
cors_preflight(struct sb_req *req)
{
	const char *origin = req_header(req, "Origin");

	if (origin != NULL && req_header(req, "Access-Control-Request-Method") != NULL) {
		if (!cors_apply(req)) {
			resp_error(req, 403, "origin-not-allowed",
			    "this origin may not call the API (see cors.allow_origins)");
			return;
		}
		resp_header(req, "Access-Control-Allow-Methods", "%s", req->match.allow);
		resp_header(req, "Access-Control-Allow-Headers",
		    "Authorization, Content-Type, X-CSRF-Token, X-Request-Id");
		resp_header(req, "Access-Control-Max-Age", "600");
	}
	resp_header(req, "Allow", "%s", req->match.allow);
	resp_send(req, 204, NULL, NULL, 0);
}
