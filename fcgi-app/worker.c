/* worker.c: one prefork worker: accept a request, dispatch it, log it, count it. */
#include "config.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "fcgi-app.h"

const int status_slots[STATUS_SLOTS - 1] = {
	200, 201, 202, 204, 206, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404,
	405, 406, 409, 410, 413, 415, 422, 429, 500, 503
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

static volatile sig_atomic_t	 stopping;
static int			 listen_fd_global = -1;
static int			 devnull_fd = -1;

/* SIGTERM: finish the request in hand, then exit.  A request with a body gets a
 * read timeout (SO_RCVTIMEO), and such a socket fails reads with EINTR even
 * under SA_RESTART, which libfcgi does not retry: so while that request is in
 * hand the signal is blocked and arrives between requests.  Replacing the listening socket with /dev/null then makes the next
 * (or the blocked, restarted) accept() fail at once, so an idle worker leaves
 * without waiting for a connection. */
static void
on_term(int sig)
{
	int saved = errno;

	(void)sig;
	stopping = 1;
	if (listen_fd_global >= 0 && devnull_fd >= 0)
		dup2(devnull_fd, listen_fd_global);
	errno = saved;
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
	if ((r->flags & ROUTE_DB) && (safe = db_role_safe(app)) < 0)
		return req_fail(req, SB_ERR_UNAVAILABLE, "database-unavailable",
		    "the database did not answer; try again shortly");
	if ((r->flags & ROUTE_DB) && safe == 0)
		return req_fail(req, SB_ERR_UNAVAILABLE, "database-role",
		    "the program connects to PostgreSQL as a role that bypasses row-level "
		    "security; set database.url to the application role (switchboard_app)");
	return r->handler(req);
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
	 * limits protect every handler, including one that forgets to check.  Headers
	 * have the bound switchboard-stream's parser has (REQ_PARAMS_MAX). */
	if (req_params_bytes(req) > REQ_PARAMS_MAX) {
		resp_error(req, 431, "headers-too-large", "the request's headers are over 32768 "
		    "bytes (all FastCGI params together)");
		err = SB_OK;
	} else if ((err = req_read_body(req)) == SB_OK) {
		rr = router_match(app->routes, app->nroutes, req->method, req->path, req->arena,
		    &req->match);
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
child_signals(void (*term)(int), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = term;
	sa.sa_flags = flags;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_flags = 0;
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
}

/* SIGALRM ends a body read that outlived http.request_timeout (request.c): its
 * handler does nothing, and without SA_RESTART the read fails with EINTR. */
static void
on_alarm(int sig)
{
	(void)sig;
}

static void
worker_signals(int listen_fd)
{
	struct sigaction	 sa;
	sigset_t		 all;

	listen_fd_global = listen_fd;
	devnull_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	child_signals(on_term, SA_RESTART);
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

int
worker_main(struct app *app, int listen_fd)
{
	FCGX_Request	 fr;
	struct sb_arena	*arena;
	struct sb_req	 req;
	struct timeval	 tv;
	sigset_t	 term;
	const char	*cl;
	int		 has_body;
	pid_t		 parent = getppid();
	long		 served = 0;

	/* Leave with the master, whatever killed it. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	worker_signals(listen_fd);
	if (getppid() != parent)
		return 0;

	request_ids_init();
	auth_worker_init(app);
	db_init(&app->db, app->cfg.database.url, app->cfg.database.connect_timeout,
	    app->cfg.database.statement_timeout_ms);
	app->cache = cache_open(app->cfg.memcached.servers, app->cfg.memcached.timeout_ms,
	    app->cfg.memcached.secret);
	arena = arena_new(64 * 1024);
	FCGX_InitRequest(&fr, listen_fd, 0);
	tv.tv_sec = app->cfg.http.request_timeout;
	tv.tv_usec = 0;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	while (!stopping) {
		if (FCGX_Accept_r(&fr) < 0)
			break;
		/* A client that stalls mid-body cannot hold the worker forever.  Requests
		 * without a body (most) read nothing more and skip these syscalls. */
		cl = FCGX_GetParam("CONTENT_LENGTH", fr.envp);
		if ((has_body = cl != NULL && *cl != '\0' && strcmp(cl, "0") != 0)) {
			sigprocmask(SIG_BLOCK, &term, NULL);
			setsockopt(fr.ipcFd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		}
		req_init(&req, app, &fr, fr.envp, arena);
		dispatch(&req);
		FCGX_Finish_r(&fr);
		if (has_body)
			sigprocmask(SIG_UNBLOCK, &term, NULL);
		arena_reset(arena);
		if (app->cfg.server.max_requests > 0 && ++served >= app->cfg.server.max_requests)
			break;
	}
	FCGX_Free(&fr, 1);
	arena_free(arena);
	cache_close(app->cache);
	db_close(&app->db);
	auth_worker_free(app);
	return 0;
}
