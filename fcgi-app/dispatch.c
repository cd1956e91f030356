/* dispatch.c: dispatching a request: route, check, answer, log, count (both programs). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/clock.h"
#include "core/db.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/problem.h"
#include "fcgi-app/access.h"
#include "fcgi-app/app.h"
#include "fcgi-app/appmetrics.h"
#include "fcgi-app/cors.h"
#include "fcgi-app/dispatch.h"
#include "fcgi-app/request.h"
#include "fcgi-app/response.h"
#include "fcgi-app/router.h"

const int status_slots[STATUS_SLOTS - 1] = {
	200, 201, 202, 204, 206, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404,
	405, 406, 408, 409, 410, 413, 415, 422, 429, 431, 500, 503
};

int
status_slot(int status)
{
	int i;

	for (i = 0; i < STATUS_SLOTS - 1; i++)
		if (status_slots[i] == status)
			return i;
	return STATUS_SLOTS - 1;
}

static void
answer_route_result(struct sb_req *req, enum route_result rr)
{
	const char *loc;

	switch (rr) {
	case ROUTE_NOT_FOUND:
		resp_error(req, 404, NULL, "no resource at this path");
		break;
	case ROUTE_BAD_PATH:
		resp_error(req, 400, "bad-path", "a path parameter has a malformed %-escape, or "
		    "decodes to NUL, '/' or bytes that are not UTF-8, or is . or ..");
		break;
	case ROUTE_METHOD_NOT_ALLOWED:
		resp_header(req, "Allow", "%s", req->match.allow);
		resp_error(req, 405, NULL, "this path does not accept that method");
		break;
	case ROUTE_OPTIONS:
		cors_preflight(req);
		break;
	case ROUTE_REDIRECT:
		loc = arena_printf(req->arena, "%s%s%s", req->match.location,
		    req->query[0] ? "?" : "", req->query);
		resp_header(req, "Location", "%s", loc);
		resp_json(req, 308, json_pack("{s:s}", "location", loc));
		break;
	case ROUTE_FOUND:
		break;
	}
}

static enum sb_err
run_route(struct sb_req *req)
{
	struct app		*app = req->app;
	const struct route	*r = req->route;

	enum sb_err		 err;
	int			 safe = 1;

	if ((r->flags & ROUTE_LOOPBACK) && !app->cfg.metrics.public && !req_is_loopback(req))
		return req_fail(req, SB_ERR_NOT_FOUND, NULL, "no resource at this path");
	if ((err = auth_request(req)) != SB_OK)
		return err;
	/* Held-open routes are switchboard-stream's; a web server that sends one here is
	 * configured wrongly, and says so. */
	if ((r->flags & ROUTE_STREAM) && app->stream == NULL)
		return req_fail(req, SB_ERR_UNAVAILABLE, "stream-responder",
		    "event streams are served by switchboard-stream: the web server must send "
		    "this path to its socket (see docs/deploy.md)");
	if ((r->flags & ROUTE_DB) && db_ensure(&app->db) != SB_OK) {
		counter_add(&app->metrics->db_unavailable, 1);
		return req_fail(req, SB_ERR_UNAVAILABLE, "database-unavailable",
		    "the database is unreachable; try again shortly");
	}
	/* Fail closed: with a role that bypasses row-level security, one org could
	 * read another's rows through any query that forgets its WHERE org_id. */
	if ((r->flags & ROUTE_DB) && (safe = app_role_safe(app)) < 0)
		return req_fail(req, SB_ERR_UNAVAILABLE, "database-unavailable",
		    "the database did not answer; try again shortly");
	if ((r->flags & ROUTE_DB) && safe == 0)
		return req_fail(req, SB_ERR_UNAVAILABLE, "database-role",
		    "the program connects to PostgreSQL as a role that bypasses row-level "
		    "security; set database.url to the application role (switchboard_app)");
	return r->handler(req);
}

/* Matches the route, then reads and checks the body (req_read_body) with the route's
 * bounds: ROUTE_TEXT lets a string be as long as the body.  The route is looked up
 * first only for that: a bad body is still refused before any answer about the path. */
static enum sb_err
read_body_routed(struct sb_req *req, enum route_result *rr)
{
	struct app	*app = req->app;

	*rr = router_match(app->routes, app->nroutes, req->method, req->path, req->arena,
	    &req->match);
	req->long_strings = *rr == ROUTE_FOUND &&
	    (app->routes[req->match.index].flags & ROUTE_TEXT) != 0;
	return req_read_body(req);
}

void
dispatch(struct sb_req *req)
{
	struct app		*app = req->app;
	struct app_metrics	*m = app->metrics;
	enum route_result	 rr;
	enum sb_err		 err;
	const char		*bad;
	int			 slot;
	int64_t			 us;

	log_set_request_id(req->request_id);
	gauge_add(&m->in_flight, 1);

	/* The body is checked before routing: Switchboard speaks only JSON, and the
	 * limits protect every handler, including one that forgets to check.  The
	 * parser kept no params over its bound (fcgi.h). */
	if (req->over == 431) {
		resp_error(req, 431, "headers-too-large", "the request's headers are over 32768 "
		    "bytes (all FastCGI params together)");
		err = SB_OK;
	} else if ((err = read_body_routed(req, &rr)) == SB_OK) {
		if (rr == ROUTE_FOUND) {
			req->route_index = req->match.index;
			req->route = &app->routes[req->match.index];
			(void)cors_apply(req);
			if ((bad = req_query_bad(req)) != NULL)
				err = req_fail(req, SB_ERR_INVALID, "bad-query", arena_printf(req->arena,
				    "the query parameter \"%.64s\" has a malformed %%-escape, or decodes "
				    "to NUL or bytes that are not UTF-8", bad));
			else
				err = run_route(req);
		} else
			answer_route_result(req, rr);
	}
	if (err == SB_ERR_UNAVAILABLE && !resp_has_header(req, "Retry-After"))
		resp_header(req, "Retry-After", "%d", app->cfg.database.retry_after);
	if (err == SB_ERR_CLIENT_GONE || req->client_gone) {
		req->client_gone = 1;
		req->status = 499;
		counter_add(&m->client_gone, 1);
	} else if (err != SB_OK) {
		/* A refusal no handler explained (the database refused a value): still a
		 * documented type, never a bare about:blank. */
		if (req->problem == NULL && err == SB_ERR_INVALID)
			req->problem = problem_new(400, "invalid-parameter", NULL, "a value in the "
			    "request is out of range or malformed for this route");
		if (req->problem == NULL)
			req->problem = problem_new(sb_err_status(err), NULL, NULL, NULL);
		resp_problem(req, req->problem);
		req->problem = NULL;
	} else if (!req->answered && !req->deferred) {
		log_error("handler returned without answering", "{s:s}", "route", req->route->pattern);
		resp_error(req, 500, NULL, NULL);
	}
	if (req->fd >= 0 && resp_end(req) < 0 && !req->client_gone) {
		req->client_gone = 1;
		req->status = 499;
		counter_add(&m->client_gone, 1);
	}

	us = clock_mono_us() - req->start_us;
	slot = req->route_index >= 0 && req->route_index < METRICS_MAX_ROUTES ?
	    req->route_index : METRICS_MAX_ROUTES;
	counter_add(&m->requests[slot][status_slot(req->status)], 1);
	hist_observe(&m->latency[slot], us);
	gauge_add(&m->in_flight, -1);
	if (app->cfg.log.access)
		log_access(req->method, req->route ? req->route->pattern : "", req->path,
		    req->status, req->bytes_out, (double)us / 1000.0);
	log_set_request_id(NULL);
	req_free(req);
}

void
answer_problem(struct sb_req *req, int status, const char *slug, const char *detail)
{
	(void)cors_apply(req);
	resp_error(req, status, slug, detail);
	/* Counted as dispatch counts a request that matched no route: it reached none. */
	if (req->app->metrics != NULL)
		counter_add(&req->app->metrics->requests[METRICS_MAX_ROUTES]
		    [status_slot(req->status)], 1);
	if (req->app->cfg.log.access)
		log_access(req->method, "", req->path, req->status, req->bytes_out, 0);
}

