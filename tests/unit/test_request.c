/* test_request.c: requests driven without FastCGI: params, query, body checks, dispatch. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "handlers/handlers.h"
#include "tests/unit/unit.h"
#include "core/arena.h"
#include "core/conf.h"
#include "core/db.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/problem.h"
#include "core/version.h"
#include "fcgi-app/app.h"
#include "fcgi-app/appmetrics.h"
#include "fcgi-app/dispatch.h"
#include "fcgi-app/request.h"
#include "fcgi-app/response.h"
#include "fcgi-app/router.h"

static struct app	 app;
static struct sb_arena	*arena;
static struct fcgi_req	 freq;		/* what the parser would have gathered */
static struct fcgi_out	 fout;		/* where answers go, as records */

/* A request of these params and body (NULL: none), as the parser hands it on. */
static void
req_env(struct sb_req *req, char **envp, const char *body)
{
	static char	 in[4096];

	memset(&freq, 0, sizeof(freq));
	freq.id = 1;
	freq.envp = envp;
	freq.in_len = body != NULL ? (size_t)snprintf(in, sizeof(in), "%s", body) : 0;
	freq.in = body != NULL ? in : NULL;
	freq.params_done = freq.stdin_done = 1;
	req_init(req, &app, &freq, &fout, arena);
}

static void
unset_env(const char *key, const char *env, const char *desc, void *arg)
{
	(void)key;
	(void)desc;
	(void)arg;
	unsetenv(env);
}

/* The index of a route of the real table, or -1. */
static int
route_index(const char *method, const char *pattern)
{
	size_t i;

	for (i = 0; i < nroutes; i++)
		if (strcmp(routes[i].method, method) == 0 && strcmp(routes[i].pattern, pattern) == 0)
			return (int)i;
	return -1;
}

static int
request_init(void)
{
	char err[512];

	/* Access log lines would interleave with the test report. */
	log_init("sb-unit-tests", SB_LOG_ERROR);
	/* The tests expect the built-in defaults, whatever the caller's environment. */
	config_each_key(unset_env, NULL);
	memset(&app, 0, sizeof(app));
	if (config_load(&app.cfg, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "config_load: %s\n", err);
		return -1;
	}
	app.metrics = metrics_shm_new(sizeof(struct app_metrics));
	app.routes = routes;
	app.nroutes = nroutes;
	arena = arena_new(16 * 1024);
	return 0;
}

static int
request_clean(void)
{
	arena_free(arena);
	arena = NULL;
	config_free(&app.cfg);
	return 0;
}

/* A response as written, split into its parts. */
struct resp {
	char	*text;		/* everything written; free()d by resp_free */
	size_t	 len;
	int	 status;
	char	*body;		/* after the blank line, or NULL */
	char	 request_id[65];
};

static void
resp_free(struct resp *r)
{
	free(r->text);
	memset(r, 0, sizeof(*r));
}

/* The value of header name in r, copied into buf; NULL when absent. */
static const char *
resp_get(const struct resp *r, const char *name, char *buf, size_t len)
{
	const char	*p = r->text, *end, *eol;
	size_t		 n = strlen(name);

	if (p == NULL || (end = strstr(p, "\r\n\r\n")) == NULL)
		return NULL;
	while (p < end && (eol = strstr(p, "\r\n")) != NULL) {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':' && p[n + 1] == ' ') {
			snprintf(buf, len, "%.*s", (int)(eol - p - n - 2), p + n + 2);
			return buf;
		}
		p = eol + 2;
	}
	return NULL;
}

/* Runs one request given its FastCGI params and body, and captures the response. */
static void
drive_body(char **envp, const char *body, struct resp *r)
{
	struct sb_req	 req;

	memset(r, 0, sizeof(*r));
	req_env(&req, envp, body);
	snprintf(r->request_id, sizeof(r->request_id), "%s", req.request_id);
	dispatch(&req);
	r->text = fcgi_out_stdout(&fout, &r->len);
	fcgi_out_free(&fout);
	arena_reset(arena);
	if (strncmp(r->text, "Status: ", 8) == 0)
		r->status = atoi(r->text + 8);
	if ((r->body = strstr(r->text, "\r\n\r\n")) != NULL)
		r->body += 4;
}

static void
drive(char **envp, struct resp *r)
{
	drive_body(envp, NULL, r);
}

/* The body parsed as JSON (caller decrefs); NULL if it is not. */
static json_t *
resp_json_body(const struct resp *r)
{
	json_error_t e;

	return r->body != NULL ? json_loads(r->body, 0, &e) : NULL;
}

static int
is_hex32(const char *s)
{
	size_t i;

	for (i = 0; i < 32; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return s[32] == '\0';
}

static void
test_request_id_from_header(void)
{
	char		*env[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/healthz",
			    "HTTP_X_REQUEST_ID=abc-123_x.Y", NULL };
	struct resp	 r;
	char		 buf[128];

	drive(env, &r);
	UNIT_ASSERT_STR(r.request_id, "abc-123_x.Y");
	UNIT_ASSERT_STR(resp_get(&r, "X-Request-Id", buf, sizeof(buf)), "abc-123_x.Y");
	resp_free(&r);
}

static void
test_request_id_generated(void)
{
	char		 long_id[100], hdr[120];
	char		*bad[] = { "REQUEST_URI=/healthz", "HTTP_X_REQUEST_ID=bad id!", NULL };
	char		*inj[] = { "REQUEST_URI=/healthz", "HTTP_X_REQUEST_ID=a\r\nSet-Cookie: x=1",
			    NULL };
	char		*empty[] = { "REQUEST_URI=/healthz", "HTTP_X_REQUEST_ID=", NULL };
	char		*none[] = { "REQUEST_URI=/healthz", NULL };
	char		*toolong[] = { "REQUEST_URI=/healthz", hdr, NULL };
	struct resp	 r;
	char		 buf[128], first[65];

	drive(bad, &r);
	CU_ASSERT(is_hex32(r.request_id));
	UNIT_ASSERT_STR(resp_get(&r, "X-Request-Id", buf, sizeof(buf)), r.request_id);
	resp_free(&r);

	drive(inj, &r);
	CU_ASSERT(is_hex32(r.request_id));
	CU_ASSERT_PTR_NULL(strstr(r.text, "Set-Cookie"));
	resp_free(&r);

	drive(empty, &r);
	CU_ASSERT(is_hex32(r.request_id));
	resp_free(&r);

	drive(none, &r);
	CU_ASSERT(is_hex32(r.request_id));
	UNIT_ASSERT_STR(resp_get(&r, "X-Request-Id", buf, sizeof(buf)), r.request_id);
	snprintf(first, sizeof(first), "%s", r.request_id);
	resp_free(&r);
	drive(none, &r);
	CU_ASSERT(is_hex32(r.request_id));
	CU_ASSERT(strcmp(first, r.request_id) != 0);	/* random, not a constant */
	resp_free(&r);

	/* 64 characters is the most an incoming id may have. */
	memset(long_id, 'a', 65);
	long_id[65] = '\0';
	snprintf(hdr, sizeof(hdr), "HTTP_X_REQUEST_ID=%s", long_id);
	drive(toolong, &r);
	CU_ASSERT(is_hex32(r.request_id));
	resp_free(&r);
	long_id[64] = '\0';
	snprintf(hdr, sizeof(hdr), "HTTP_X_REQUEST_ID=%s", long_id);
	drive(toolong, &r);
	UNIT_ASSERT_STR(r.request_id, long_id);
	resp_free(&r);
}

static void
test_request_id_valid(void)
{
	char id[80];

	CU_ASSERT(request_id_valid("a"));
	CU_ASSERT(request_id_valid("0f8fad5b-d9cb-469f-a165-70867728950e"));
	CU_ASSERT(!request_id_valid(""));
	CU_ASSERT(!request_id_valid("a b"));
	CU_ASSERT(!request_id_valid("a\"b"));
	CU_ASSERT(!request_id_valid("a\nb"));
	memset(id, 'z', 64);
	id[64] = '\0';
	CU_ASSERT(request_id_valid(id));
	id[64] = 'z';
	id[65] = '\0';
	CU_ASSERT(!request_id_valid(id));
}

static void
test_query(void)
{
	char		*env[] = { "REQUEST_METHOD=GET",
			    "REQUEST_URI=/search?a=1&b=hello+world&c=%41%42&d&e=&=z&f=%zz&&a=2&g=x%2Fy",
			    NULL };
	struct sb_req	 req;

	req_env(&req, env, NULL);
	UNIT_ASSERT_STR(req.path, "/search");
	UNIT_ASSERT_STR(req.method, "GET");
	CU_ASSERT(strncmp(req.query, "a=1&b=", 6) == 0);
	UNIT_ASSERT_STR(req_query(&req, "a"), "1");	/* the first of two */
	UNIT_ASSERT_STR(req_query(&req, "b"), "hello world");
	UNIT_ASSERT_STR(req_query(&req, "c"), "AB");
	UNIT_ASSERT_STR(req_query(&req, "d"), "");	/* a key without '=' */
	UNIT_ASSERT_STR(req_query(&req, "e"), "");
	UNIT_ASSERT_STR(req_query(&req, "g"), "x/y");
	CU_ASSERT_PTR_NULL(req_query(&req, "f"));	/* undecodable: dropped */
	CU_ASSERT_PTR_NULL(req_query(&req, "missing"));
	CU_ASSERT_PTR_NULL(req_query(&req, ""));
	req_free(&req);
	arena_reset(arena);
}

static void
test_query_absent(void)
{
	char		*env[] = { "REQUEST_URI=/x", NULL };
	char		*env2[] = { NULL };
	struct sb_req	 req;

	req_env(&req, env, NULL);
	UNIT_ASSERT_STR(req.query, "");
	UNIT_ASSERT_STR(req.path, "/x");
	CU_ASSERT_PTR_NULL(req_query(&req, "a"));
	req_free(&req);

	/* Without REQUEST_URI or REQUEST_METHOD: GET /. */
	req_env(&req, env2, NULL);
	UNIT_ASSERT_STR(req.path, "/");
	UNIT_ASSERT_STR(req.method, "GET");
	UNIT_ASSERT_STR(req.remote_addr, "");
	req_free(&req);
	arena_reset(arena);
}

static void
test_headers(void)
{
	char		*env[] = { "HTTP_X_REQUEST_ID_EXTRA=no", "HTTP_X_REQUEST_ID=rid-1",
			    "CONTENT_TYPE=application/json", "CONTENT_LENGTH=0",
			    "HTTP_ACCEPT_LANGUAGE=fr", "REQUEST_URI=/", NULL };
	struct sb_req	 req;

	req_env(&req, env, NULL);
	UNIT_ASSERT_STR(req_header(&req, "X-Request-Id"), "rid-1");
	UNIT_ASSERT_STR(req_header(&req, "x-request-id"), "rid-1");
	UNIT_ASSERT_STR(req_header(&req, "Content-Type"), "application/json");
	UNIT_ASSERT_STR(req_header(&req, "content-length"), "0");
	UNIT_ASSERT_STR(req_header(&req, "Accept-Language"), "fr");
	CU_ASSERT_PTR_NULL(req_header(&req, "Accept"));
	CU_ASSERT_PTR_NULL(req_header(&req, "X-Request"));
	UNIT_ASSERT_STR(req_param(&req, "HTTP_X_REQUEST_ID"), "rid-1");
	CU_ASSERT_PTR_NULL(req_param(&req, "HTTP_X"));
	req_free(&req);
	arena_reset(arena);
}

static void
test_content_type_is_json(void)
{
	CU_ASSERT(content_type_is_json("application/json"));
	CU_ASSERT(content_type_is_json("application/json; charset=utf-8"));
	CU_ASSERT(content_type_is_json("Application/JSON;charset=UTF-8"));
	CU_ASSERT(content_type_is_json("application/json ; charset=utf-8"));
	CU_ASSERT(!content_type_is_json("application/jsonx"));
	CU_ASSERT(!content_type_is_json("application/json-patch+json"));
	CU_ASSERT(!content_type_is_json("text/plain"));
	CU_ASSERT(!content_type_is_json(""));
	CU_ASSERT(!content_type_is_json(NULL));
}

static void
test_loopback(void)
{
	static const struct {
		const char	*addr;
		int		 loopback;
	} cases[] = {
		{ "127.0.0.1", 1 }, { "127.8.9.10", 1 }, { "::1", 1 }, { "::ffff:127.0.0.1", 1 },
		{ "10.1.2.3", 0 }, { "1270.0.0.1", 0 }, { "::2", 0 }, { "", 0 },
		{ "::ffff:10.0.0.1", 0 },
	};
	struct sb_req	 req;
	size_t		 i;
	int		 wrong = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&req, 0, sizeof(req));
		req.remote_addr = cases[i].addr;
		wrong += req_is_loopback(&req) != cases[i].loopback;
	}
	UNIT_ASSERT_INT(wrong, 0);
}

/* Expects r to be a problem response with status and type. */
static void
assert_problem(const struct resp *r, int status, const char *type, const char *path)
{
	json_t	*p = resp_json_body(r);
	char	 buf[128];

	UNIT_ASSERT_INT(r->status, status);
	UNIT_ASSERT_STR(resp_get(r, "Content-Type", buf, sizeof(buf)), "application/problem+json");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	UNIT_ASSERT_STR(json_string_value(json_object_get(p, "type")), type);
	UNIT_ASSERT_INT(json_integer_value(json_object_get(p, "status")), status);
	UNIT_ASSERT_STR(json_string_value(json_object_get(p, "title")), http_reason(status));
	UNIT_ASSERT_STR(json_string_value(json_object_get(p, "request_id")), r->request_id);
	UNIT_ASSERT_STR(json_string_value(json_object_get(p, "instance")), path);
	json_decref(p);
}

static void
test_body_too_large(void)
{
	char		*env[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/healthz",
			    "CONTENT_TYPE=application/json", "CONTENT_LENGTH=1048577", NULL };
	char		*env_small[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/api/v1/version",
			    "CONTENT_TYPE=text/plain", "CONTENT_LENGTH=101", NULL };
	struct resp	 r;
	json_t		*p;
	int		 saved = app.cfg.http.max_body;

	drive(env, &r);
	assert_problem(&r, 413, "/problems/body-too-large", "/healthz");
	p = resp_json_body(&r);
	UNIT_ASSERT_CONTAINS(json_string_value(json_object_get(p, "detail")), "1048576");
	json_decref(p);
	resp_free(&r);

	/* The configured limit is the one applied; size is checked before type. */
	app.cfg.http.max_body = 100;
	drive(env_small, &r);
	assert_problem(&r, 413, "/problems/body-too-large", "/api/v1/version");
	resp_free(&r);
	app.cfg.http.max_body = saved;
}

static void
test_body_wrong_type(void)
{
	char		*env[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/healthz",
			    "CONTENT_TYPE=text/plain", "CONTENT_LENGTH=10", NULL };
	char		*env_none[] = { "REQUEST_METHOD=PUT", "REQUEST_URI=/x",
			    "CONTENT_LENGTH=10", NULL };
	struct resp	 r;
	char		 buf[128];

	drive(env, &r);
	assert_problem(&r, 415, "/problems/unsupported-media-type", "/healthz");
	UNIT_ASSERT_STR(resp_get(&r, "Accept-Post", buf, sizeof(buf)), "application/json");
	resp_free(&r);

	drive(env_none, &r);
	assert_problem(&r, 415, "/problems/unsupported-media-type", "/x");
	resp_free(&r);
}

/* A problem quotes the client's bytes (the path as instance, the Content-Type in the
 * detail): bytes that are not UTF-8 become U+FFFD instead of dropping the member.
 * Found by tests/fuzz/fuzz_request.c. */
static void
test_problem_quotes_raw_bytes(void)
{
	char		*env[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/caf\xe9",
			    "CONTENT_TYPE=text/plain\xff", "CONTENT_LENGTH=10", NULL };
	struct resp	 r;
	json_t		*p;

	drive(env, &r);
	assert_problem(&r, 415, "/problems/unsupported-media-type", "/caf\xef\xbf\xbd");
	p = resp_json_body(&r);
	UNIT_ASSERT_CONTAINS(json_string_value(json_object_get(p, "detail")),
	    "not text/plain\xef\xbf\xbd");
	json_decref(p);
	resp_free(&r);
}

static void
test_bad_content_length(void)
{
	/* (-1 is no length at all: a chunked upload, read to its end.) */
	static char	 values[][48] = { "CONTENT_LENGTH=-2", "CONTENT_LENGTH=abc",
			    "CONTENT_LENGTH=12abc", "CONTENT_LENGTH=1.5", "CONTENT_LENGTH=+5",
			    "CONTENT_LENGTH=99999999999999999999999" };
	char		*env[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/healthz",
			    "CONTENT_TYPE=application/json", NULL, NULL };
	struct resp	 r;
	size_t		 i;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		env[3] = values[i];
		drive(env, &r);
		assert_problem(&r, 400, "/problems/bad-content-length", "/healthz");
		resp_free(&r);
	}
}

/* The body is what the web server passed: one that does not match its Content-Length
 * is refused, never parsed as if it were whole. */
static void
test_body_length_mismatch(void)
{
	char		*env[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/healthz",
			    "CONTENT_TYPE=application/json", "CONTENT_LENGTH=2", NULL };
	char		*chunked[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/api/v1/version",
			    "CONTENT_TYPE=application/json", NULL };
	struct resp	 r;
	json_t		*p;

	drive_body(env, "{", &r);
	assert_problem(&r, 400, "/problems/bad-content-length", "/healthz");
	p = resp_json_body(&r);
	UNIT_ASSERT_CONTAINS(json_string_value(json_object_get(p, "detail")),
	    "the body is 1 bytes; Content-Length says 2");
	json_decref(p);
	resp_free(&r);
	drive_body(env, "{}}", &r);
	assert_problem(&r, 400, "/problems/bad-content-length", "/healthz");
	resp_free(&r);
	/* Without a length the body is whatever came: here, whole and parsed. */
	drive_body(chunked, "{\"a\":", &r);
	assert_problem(&r, 400, "/problems/invalid-json", "/api/v1/version");
	resp_free(&r);
}

static void
test_healthz(void)
{
	char		*env[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/healthz",
			    "REMOTE_ADDR=10.1.2.3", NULL };
	struct resp	 r;
	json_t		*v;
	char		 buf[128];
	int		 ri = route_index("GET", "/healthz");
	uint64_t	 before;

	CU_ASSERT_FATAL(ri >= 0 && ri < METRICS_MAX_ROUTES);
	before = counter_get(&app.metrics->requests[ri][status_slot(200)]);
	drive(env, &r);
	CU_ASSERT(strncmp(r.text, "Status: 200 OK\r\n", 16) == 0);
	UNIT_ASSERT_INT(r.status, 200);
	UNIT_ASSERT_STR(resp_get(&r, "Content-Type", buf, sizeof(buf)), "application/json");
	UNIT_ASSERT_STR(resp_get(&r, "Cache-Control", buf, sizeof(buf)), "no-store");
	UNIT_ASSERT_STR(resp_get(&r, "X-Content-Type-Options", buf, sizeof(buf)), "nosniff");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.body);
	UNIT_ASSERT_STR(r.body, "{\"status\":\"ok\"}\n");
	UNIT_ASSERT_INT(atoi(resp_get(&r, "Content-Length", buf, sizeof(buf)) ?
	    buf : "-1"), strlen(r.body));
	v = resp_json_body(&r);
	UNIT_ASSERT_STR(json_string_value(json_object_get(v, "status")), "ok");
	json_decref(v);
	resp_free(&r);
	/* Counted under its route and status. */
	UNIT_ASSERT_INT(counter_get(&app.metrics->requests[ri][status_slot(200)]), before + 1);
}

static void
test_version(void)
{
	char		*env[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/api/v1/version?x=1", NULL };
	struct resp	 r;
	json_t		*v;

	drive(env, &r);
	UNIT_ASSERT_INT(r.status, 200);
	v = resp_json_body(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	UNIT_ASSERT_STR(json_string_value(json_object_get(v, "version")), sb_version());
	CU_ASSERT(json_is_string(json_object_get(v, "git_commit")));
	UNIT_ASSERT_INT(json_integer_value(json_object_get(v, "schema_version")), SB_SCHEMA_VERSION);
	json_decref(v);
	resp_free(&r);
}

static void
test_not_found(void)
{
	char		*env[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/no/such/thing?q=1",
			    "HTTP_X_REQUEST_ID=rid-404", NULL };
	struct resp	 r;
	uint64_t	 before = counter_get(&app.metrics->requests[METRICS_MAX_ROUTES][
			    status_slot(404)]);

	drive(env, &r);
	assert_problem(&r, 404, "about:blank", "/no/such/thing");
	UNIT_ASSERT_STR(r.request_id, "rid-404");
	resp_free(&r);
	UNIT_ASSERT_INT(counter_get(&app.metrics->requests[METRICS_MAX_ROUTES][status_slot(404)]),
	    before + 1);
}

static void
test_method_not_allowed(void)
{
	char		*env[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/healthz", NULL };
	struct resp	 r;
	char		 buf[128];

	drive(env, &r);
	assert_problem(&r, 405, "about:blank", "/healthz");
	CU_ASSERT_PTR_NOT_NULL(resp_get(&r, "Allow", buf, sizeof(buf)));
	UNIT_ASSERT_CONTAINS(buf, "GET");
	UNIT_ASSERT_CONTAINS(buf, "HEAD");
	UNIT_ASSERT_CONTAINS(buf, "OPTIONS");
	resp_free(&r);
}

static void
test_options(void)
{
	char		*env[] = { "REQUEST_METHOD=OPTIONS", "REQUEST_URI=/healthz", NULL };
	struct resp	 r;
	char		 buf[128];

	drive(env, &r);
	UNIT_ASSERT_INT(r.status, 204);
	UNIT_ASSERT_STR(resp_get(&r, "Allow", buf, sizeof(buf)), "GET, HEAD, OPTIONS");
	CU_ASSERT_PTR_NULL(resp_get(&r, "Content-Type", buf, sizeof(buf)));
	UNIT_ASSERT_STR(r.body, "");
	resp_free(&r);
}

static void
test_redirect(void)
{
	char		*env[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/healthz/", NULL };
	char		*envq[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/healthz/?a=1&b", NULL };
	struct resp	 r;
	char		 buf[128];

	drive(env, &r);
	UNIT_ASSERT_INT(r.status, 308);
	CU_ASSERT(strncmp(r.text, "Status: 308 Permanent Redirect\r\n", 32) == 0);
	UNIT_ASSERT_STR(resp_get(&r, "Location", buf, sizeof(buf)), "/healthz");
	resp_free(&r);

	drive(envq, &r);
	UNIT_ASSERT_INT(r.status, 308);
	UNIT_ASSERT_STR(resp_get(&r, "Location", buf, sizeof(buf)), "/healthz?a=1&b");
	resp_free(&r);
}

static void
test_head(void)
{
	char		*env[] = { "REQUEST_METHOD=HEAD", "REQUEST_URI=/healthz", NULL };
	struct resp	 r;
	char		 buf[128];

	drive(env, &r);
	UNIT_ASSERT_INT(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.body);
	UNIT_ASSERT_STR(r.body, "");
	/* The length of the body a GET would have had. */
	UNIT_ASSERT_STR(resp_get(&r, "Content-Length", buf, sizeof(buf)), "16");
	resp_free(&r);
}

static void
test_metrics_loopback_only(void)
{
	char		*remote[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/metrics",
			    "REMOTE_ADDR=10.1.2.3", NULL };
	char		*local[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/metrics",
			    "REMOTE_ADDR=127.0.0.1", NULL };
	char		*none[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/metrics", NULL };
	char		*health[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/healthz", NULL };
	struct resp	 r;
	char		 buf[128];

	drive(health, &r);	/* so that there is a count to show */
	resp_free(&r);
	drive(remote, &r);
	assert_problem(&r, 404, "about:blank", "/metrics");
	resp_free(&r);

	drive(none, &r);
	UNIT_ASSERT_INT(r.status, 404);
	resp_free(&r);

	drive(local, &r);
	UNIT_ASSERT_INT(r.status, 200);
	UNIT_ASSERT_CONTAINS(resp_get(&r, "Content-Type", buf, sizeof(buf)), "text/plain");
	UNIT_ASSERT_CONTAINS(r.body, "switchboard_http_requests_total");
	UNIT_ASSERT_CONTAINS(r.body,
	    "switchboard_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} ");
	UNIT_ASSERT_CONTAINS(r.body, "switchboard_http_request_duration_seconds_bucket{");
	/* The request being served is in flight while it renders. */
	UNIT_ASSERT_CONTAINS(r.body, "switchboard_http_requests_in_flight 1\n");
	resp_free(&r);

	/* metrics.public opens it to everyone. */
	app.cfg.metrics.public = true;
	drive(remote, &r);
	UNIT_ASSERT_INT(r.status, 200);
	resp_free(&r);
	app.cfg.metrics.public = false;
}

/* A route that needs PostgreSQL answers 503 with Retry-After while the database is
 * unreachable, and its handler never runs. */
static void
test_db_route_while_db_down(void)
{
	static const struct route table[] = {
		{ "GET", "/needs-db", h_healthz, 0, ROUTE_DB | ROUTE_PUBLIC | ROUTE_NOLIMIT },
	};
	char		*env[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/needs-db", NULL };
	struct resp	 r;
	char		 buf[128];
	json_t		*body;
	uint64_t	 before = counter_get(&app.metrics->db_unavailable);

	app.routes = table;
	app.nroutes = 1;
	db_init(&app.db, "postgresql:///nowhere?host=/nonexistent-dir&port=1", 1, 0);
	drive(env, &r);
	UNIT_ASSERT_INT(r.status, 503);
	UNIT_ASSERT_STR(resp_get(&r, "Retry-After", buf, sizeof(buf)), "2");
	UNIT_ASSERT_STR(resp_get(&r, "Content-Type", buf, sizeof(buf)), "application/problem+json");
	body = resp_json_body(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(body);
	UNIT_ASSERT_STR(json_string_value(json_object_get(body, "type")),
	    "/problems/database-unavailable");
	/* The problem's integer status, not the handler's {"status":"ok"}. */
	CU_ASSERT(json_is_integer(json_object_get(body, "status")));
	UNIT_ASSERT_INT(counter_get(&app.metrics->db_unavailable), before + 1);
	json_decref(body);
	resp_free(&r);
	db_close(&app.db);
	app.routes = routes;
	app.nroutes = nroutes;
}

/* Over https (the web server passes HTTPS=on), answers carry HSTS; over http not. */
static void
test_hsts_over_https(void)
{
	char		*tls[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/healthz", "HTTPS=on", NULL };
	char		*plain[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/healthz", NULL };
	struct resp	 r;
	char		 buf[128];

	drive(tls, &r);
	UNIT_ASSERT_STR(resp_get(&r, "Strict-Transport-Security", buf, sizeof(buf)),
	    "max-age=31536000; includeSubDomains");
	resp_free(&r);
	drive(plain, &r);
	CU_ASSERT_PTR_NULL(resp_get(&r, "Strict-Transport-Security", buf, sizeof(buf)));
	resp_free(&r);
}

/* A header longer than any fixed buffer goes out whole (it was dropped at 1 KiB). */
static void
test_long_header(void)
{
	struct sb_req	 req;
	char		*text, *env[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/x", NULL };
	char		 big[3001];
	size_t		 len = 0;

	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	req_env(&req, env, NULL);
	resp_header(&req, "X-Long", "%s", big);
	resp_send(&req, 200, "text/plain", "ok", 2);
	text = fcgi_out_stdout(&fout, &len);
	fcgi_out_free(&fout);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "X-Long: "));
	CU_ASSERT(strstr(text, "X-Long: ") != NULL && strncmp(strstr(text, "X-Long: ") + 8 + 3000, "\r\n", 2) == 0);
	free(text);
	arena_reset(arena);
}

void
suite_request(void)
{
	CU_pSuite s = unit_suite("request", request_init, request_clean);

	unit_test(s, "request id taken from X-Request-Id", test_request_id_from_header);
	unit_test(s, "request id generated when invalid or absent", test_request_id_generated);
	unit_test(s, "request_id_valid", test_request_id_valid);
	unit_test(s, "query parsing", test_query);
	unit_test(s, "no query, no URI", test_query_absent);
	unit_test(s, "req_header maps names to CGI params", test_headers);
	unit_test(s, "content_type_is_json", test_content_type_is_json);
	unit_test(s, "req_is_loopback", test_loopback);
	unit_test(s, "body over http.max_body: 413", test_body_too_large);
	unit_test(s, "body not JSON: 415", test_body_wrong_type);
	unit_test(s, "bad Content-Length: 400", test_bad_content_length);
	unit_test(s, "a body unlike its Content-Length: 400", test_body_length_mismatch);
	unit_test(s, "GET /healthz", test_healthz);
	unit_test(s, "GET /api/v1/version", test_version);
	unit_test(s, "unknown path: 404 problem", test_not_found);
	unit_test(s, "a problem quoting bytes that are not UTF-8 keeps them as U+FFFD",
	    test_problem_quotes_raw_bytes);
	unit_test(s, "POST /healthz: 405 with Allow", test_method_not_allowed);
	unit_test(s, "OPTIONS /healthz: 204 with Allow", test_options);
	unit_test(s, "GET /healthz/: 308 to /healthz", test_redirect);
	unit_test(s, "HEAD /healthz: no body", test_head);
	unit_test(s, "GET /metrics: loopback only", test_metrics_loopback_only);
	unit_test(s, "a DB route while the database is down: 503 + Retry-After",
	    test_db_route_while_db_down);
	unit_test(s, "HSTS over https only", test_hsts_over_https);
	unit_test(s, "a 3000-byte header goes out whole", test_long_header);
}
