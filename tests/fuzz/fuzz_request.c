/* fuzz_request.c: what a client controls in a request (fcgi-app/request.c, router.c, cors.c):
 * params, headers, query string, cookies, paging, the route, and the body within its limits. */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include <stdlib.h>

#include "handlers/handlers.h"
#include "tests/fuzz/fuzz.h"
#include "core/arena.h"
#include "core/conf.h"
#include "core/err.h"
#include "core/log.h"
#include "fcgi-app/app.h"
#include "fcgi-app/cors.h"
#include "fcgi-app/page.h"
#include "fcgi-app/request.h"
#include "fcgi-app/response.h"
#include "fcgi-app/router.h"

#define MAX_BODY	4096
#define MAX_DEPTH	8
#define MAX_STRING	256

static struct app	 app;
static struct sb_arena	*arena;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	log_init("fuzz_request", SB_LOG_ERROR + 1);
	if (config_load(&app.cfg, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "config_load: %s\n", err);
		abort();
	}
	/* Small limits, so that inputs of a few kilobytes reach them. */
	app.cfg.http.max_body = MAX_BODY;
	app.cfg.http.max_json_depth = MAX_DEPTH;
	app.cfg.http.max_json_string = MAX_STRING;
	free(app.cfg.cors.allow_origins);
	app.cfg.cors.allow_origins = sb_strdup("https://app.example.org, http://localhost:8080");
	app.routes = routes;
	app.nroutes = nroutes;
	app.db.next_attempt_us = INT64_MAX;
	arena = arena_new(16 * 1024);
	return 0;
}

/* ---------------------------------------------------------------- checks */

/* The head of an answer: "Name: value" lines ended by CRLF, then an empty line;
 * no value from the request may break a line in two. */
static void
check_head(const char *text, size_t len)
{
	const char	*end, *p, *colon;

	FUZZ_ASSERT(text != NULL && strncmp(text, "Status: ", 8) == 0);
	end = strstr(text, "\r\n\r\n");
	FUZZ_ASSERT(end != NULL && (size_t)(end - text) < len);
	for (p = text; p < end + 2; p++) {
		if (*p == '\r')
			FUZZ_ASSERT(p[1] == '\n');
		if (*p == '\n') {
			FUZZ_ASSERT(p > text && p[-1] == '\r');
			if (p + 1 < end + 2) {
				colon = memchr(p + 1, ':', (size_t)(end + 2 - (p + 1)));
				FUZZ_ASSERT(colon != NULL && colon > p + 1);
			}
		}
	}
}

static void
check_query(struct sb_req *req)
{
	const char	*v;
	size_t		 i, j;

	(void)req_query(req, "limit");
	FUZZ_ASSERT(req->query_parsed);
	for (i = 0; i < req->nqparams; i++) {
		FUZZ_ASSERT(req->qparams[i].name != NULL && req->qparams[i].name[0] != '\0');
		FUZZ_ASSERT(req->qparams[i].value != NULL);
		/* A name finds the first pair of that name. */
		for (j = 0; strcmp(req->qparams[j].name, req->qparams[i].name) != 0; j++)
			;
		v = req_query(req, req->qparams[i].name);
		FUZZ_ASSERT(v == req->qparams[j].value);
	}
}

static void
check_path(struct sb_req *req)
{
	const char	*uri = req_param(req, "REQUEST_URI"), *q;
	size_t		 plen;

	if (uri == NULL) {
		FUZZ_ASSERT(strcmp(req->path, "/") == 0 && req->query[0] == '\0');
		return;
	}
	plen = strlen(req->path);
	FUZZ_ASSERT(strncmp(uri, req->path, plen) == 0);
	if ((q = strchr(uri, '?')) != NULL)
		FUZZ_ASSERT(q == uri + plen && strcmp(q + 1, req->query) == 0);
	else
		FUZZ_ASSERT(uri[plen] == '\0' && req->query[0] == '\0');
}

static void
check_route(struct sb_req *req)
{
	struct route_match	 m;
	enum route_result	 r;
	size_t			 i;

	r = router_match(routes, nroutes, req->method, req->path, arena, &m);
	if (r == ROUTE_FOUND) {
		FUZZ_ASSERT(m.index >= 0 && (size_t)m.index < nroutes);
		FUZZ_ASSERT(m.nparams <= ROUTE_MAX_PARAMS);
		for (i = 0; i < m.nparams; i++) {
			FUZZ_ASSERT(m.values[i] != NULL && m.values[i][0] != '\0');
			FUZZ_ASSERT(strchr(m.values[i], '/') == NULL);
		}
	}
	FUZZ_ASSERT(memchr(m.allow, '\0', sizeof(m.allow)) != NULL);
}

static void
check_body(struct sb_req *req, enum sb_err err)
{
	const char	*cl = req_param(req, "CONTENT_LENGTH");
	size_t		 longest = 0;
	int		 depth = 0;

	if (err == SB_OK) {
		if (req->body == NULL)
			return;
		FUZZ_ASSERT(req->body_len <= MAX_BODY);
		/* A length, when given, is what was read; without one (chunked, "-1") the
		 * body was read to its end. */
		if (cl != NULL && *cl != '\0' && strcmp(cl, "-1") != 0)
			FUZZ_ASSERT(strtoll(cl, NULL, 10) == (long long)req->body_len);
		FUZZ_ASSERT(req->body[req->body_len] == '\0');
		FUZZ_ASSERT(req->json != NULL);
		fuzz_json_measure(req->json, 0, &depth, &longest);
		FUZZ_ASSERT(depth <= MAX_DEPTH && longest <= MAX_STRING);
		return;
	}
	FUZZ_ASSERT(req->problem != NULL && req->json == NULL);
}

/* Every refusal here comes with a detail, and a problem names the request: what the
 * client sent (a path, a header quoted in the detail) must not make them vanish. */
static void
check_problem(const char *body)
{
	json_error_t	 e;
	json_t		*p = json_loads(body, 0, &e);

	FUZZ_ASSERT(json_is_object(p));
	FUZZ_ASSERT(json_is_string(json_object_get(p, "detail")));
	FUZZ_ASSERT(json_is_string(json_object_get(p, "instance")));
	FUZZ_ASSERT(json_is_string(json_object_get(p, "request_id")));
	json_decref(p);
}

/* ---------------------------------------------------------------- the target */

/*
 * Input: a flags byte (bit 0: the parser found stdin over its bound), then "NAME=value" lines (the FastCGI params: REQUEST_URI,
 * HTTP_COOKIE, CONTENT_LENGTH, ...), then an empty line, then the body.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sb_req		 req;
	struct fcgi_req		 fr;
	struct fcgi_out		 fo;
	const char		*text, *sep, *p, *e, *v;
	char			**envp, *body, *out = NULL;
	size_t			 n = 0, len, blen, outlen = 0, i;
	enum sb_err		 err;
	int64_t			 cursor;
	int			 limit;

	if (size < 1)
		return 0;
	text = (const char *)data + 1;
	len = size - 1;
	if ((sep = memmem(text, len, "\n\n", 2)) == NULL)
		sep = text + len;
	envp = calloc(len / 2 + 2, sizeof(*envp));
	for (p = text; p < sep; p = e + 1) {
		if ((e = memchr(p, '\n', (size_t)(sep - p))) == NULL)
			e = sep;
		envp[n++] = strndup(p, (size_t)(e - p));
		if (e == sep)
			break;
	}
	blen = sep + 2 <= text + len ? (size_t)(text + len - (sep + 2)) : 0;
	body = malloc(blen + 1);
	if (blen > 0)
		memcpy(body, sep + 2, blen);

	body[blen] = '\0';
	memset(&fr, 0, sizeof(fr));
	memset(&fo, 0, sizeof(fo));
	fr.id = 1;
	fr.envp = envp;
	fr.in = body;
	fr.in_len = blen;
	fr.over = (data[0] & 1) ? 413 : 0;
	req_init(&req, &app, &fr, &fo, arena);
	FUZZ_ASSERT(request_id_valid(req.request_id));
	if ((v = req_header(&req, "X-Request-Id")) != NULL && request_id_valid(v))
		FUZZ_ASSERT(strcmp(v, req.request_id) == 0);
	check_path(&req);
	check_query(&req);
	for (i = 0; i < 2; i++) {
		v = req_cookie(&req, i == 0 ? "sb_session" : "csrf");
		FUZZ_ASSERT(v == NULL || strchr(v, ';') == NULL);
	}
	(void)req_is_loopback(&req);
	(void)content_type_is_json(req_param(&req, "CONTENT_TYPE"));
	if (req_page(&req, &limit, &cursor) == SB_OK)
		FUZZ_ASSERT(limit >= 1 && limit <= 200 && cursor >= 0);
	check_route(&req);
	(void)cors_apply(&req);

	err = req_read_body(&req);
	check_body(&req, err);
	if (fr.over != 0)
		FUZZ_ASSERT(err != SB_OK || req.body == NULL);

	/* Answer it as a handler would, and read the head back. */
	if (req.problem != NULL) {
		resp_problem(&req, req.problem);
		req.problem = NULL;
		out = fcgi_out_stdout(&fo, &outlen);
		check_head(out, outlen);
		/* A HEAD answer has the head alone. */
		if (strcmp(req.method, "HEAD") == 0)
			FUZZ_ASSERT(strstr(out, "\r\n\r\n")[4] == '\0');
		else
			check_problem(strstr(out, "\r\n\r\n") + 4);
	} else {
		resp_json(&req, 200, json_pack("{s:s}", "ok", "yes"));
		out = fcgi_out_stdout(&fo, &outlen);
		check_head(out, outlen);
	}
	free(out);
	fcgi_out_free(&fo);
	req_free(&req);
	arena_reset(arena);
	for (i = 0; i < n; i++)
		free(envp[i]);
	free(envp);
	free(body);
	return 0;
}
