/* request.c: what a request says: params, headers, query, body. */
#include "config.h"

#include <sys/random.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "core/arena.h"
#include "core/clock.h"
#include "core/conf.h"
#include "core/err.h"
#include "core/json.h"
#include "fcgi-app/app.h"
#include "fcgi-app/fcgi.h"
#include "fcgi-app/page.h"
#include "fcgi-app/request.h"
#include "fcgi-app/response.h"
#include "fcgi-app/router.h"

const char *
req_param(const struct sb_req *req, const char *name)
{
	size_t	 len = strlen(name);
	char	**e;

	for (e = req->envp; e != NULL && *e != NULL; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			return *e + len + 1;
	return NULL;
}

const char *
req_header(const struct sb_req *req, const char *name)
{
	char	 key[128];
	size_t	 i;

	if (strlen(name) + 6 >= sizeof(key))
		return NULL;
	/* CGI spells headers HTTP_UPPER_CASE, except these two. */
	if (strcasecmp(name, "Content-Type") == 0)
		return req_param(req, "CONTENT_TYPE");
	if (strcasecmp(name, "Content-Length") == 0)
		return req_param(req, "CONTENT_LENGTH");
	memcpy(key, "HTTP_", 5);
	for (i = 0; name[i] != '\0'; i++)
		key[5 + i] = name[i] == '-' ? '_' : (char)toupper((unsigned char)name[i]);
	key[5 + i] = '\0';
	return req_param(req, key);
}

int
request_id_valid(const char *id)
{
	size_t i;

	for (i = 0; id[i] != '\0'; i++)
		if (i >= 64 || !(isalnum((unsigned char)id[i]) || id[i] == '-' ||
		    id[i] == '_' || id[i] == '.'))
			return 0;
	return i > 0;
}

/* A request id is distinct, not secret: 64 random bits drawn once per process
 * and a 64-bit counter, so there is no syscall per request. */
static uint64_t	 id_prefix, id_counter;
static int	 id_seeded;

void
request_ids_init(void)
{
	if (getrandom(&id_prefix, sizeof(id_prefix), 0) != (ssize_t)sizeof(id_prefix))
		id_prefix = ((uint64_t)getpid() << 40) ^ (uint64_t)clock_real_ms() ^
		    (uint64_t)clock_mono_us();
	id_counter = 0;
	id_seeded = 1;
}

static void
request_id_new(char out[65])
{
	if (!id_seeded)
		request_ids_init();
	snprintf(out, 65, "%016lx%016lx", (unsigned long)id_prefix, (unsigned long)++id_counter);
}

void
req_init(struct sb_req *req, struct app *app, const struct fcgi_req *fr, struct fcgi_out *out,
    struct sb_arena *arena)
{
	const char	*uri, *q, *id;
	char		*path;

	memset(req, 0, sizeof(*req));
	req->app = app;
	req->envp = fr->envp;
	req->in = fr->in;
	req->in_len = fr->in_len;
	req->over = fr->over;
	req->out = out;
	req->fcgi_id = fr->id;
	req->fd = -1;
	req->arena = arena;
	req->start_us = clock_mono_us();
	req->route_index = -1;

	/* What the request keeps is copied to the arena: the params go before it ends
	 * (an open stream drops them). */
	req->method = arena_strdup(arena, (q = req_param(req, "REQUEST_METHOD")) ? q : "GET");
	req->remote_addr = arena_strdup(arena, (q = req_param(req, "REMOTE_ADDR")) ? q : "");
	req->https = (q = req_param(req, "HTTPS")) != NULL && strcasecmp(q, "on") == 0;
	/* REQUEST_URI is what the client sent; SCRIPT_NAME+PATH_INFO are what the
	 * server decided, which differs between Caddy and Apache. */
	if ((uri = req_param(req, "REQUEST_URI")) == NULL)
		uri = "/";
	if ((q = strchr(uri, '?')) != NULL) {
		path = arena_strndup(arena, uri, (size_t)(q - uri));
		req->query = arena_strdup(arena, q + 1);
	} else {
		path = arena_strdup(arena, uri);
		req->query = "";
	}
	req->path = path;

	if ((id = req_header(req, "X-Request-Id")) != NULL && request_id_valid(id))
		snprintf(req->request_id, sizeof(req->request_id), "%s", id);
	else
		request_id_new(req->request_id);
}

int
req_is_loopback(const struct sb_req *req)
{
	return strncmp(req->remote_addr, "127.", 4) == 0 || strcmp(req->remote_addr, "::1") == 0 ||
	    strncmp(req->remote_addr, "::ffff:127.", 11) == 0;
}

static void
query_parse(struct sb_req *req)
{
	const char	*s = req->query, *amp, *eq;
	size_t		 n = 1, i = 0;

	req->query_parsed = 1;
	for (amp = s; *amp != '\0'; amp++)
		n += *amp == '&';
	req->qparams = arena_calloc(req->arena, n, sizeof(*req->qparams));
	while (*s != '\0') {
		if ((amp = strchr(s, '&')) == NULL)
			amp = s + strlen(s);
		if ((eq = memchr(s, '=', (size_t)(amp - s))) == NULL)
			eq = amp;
		if (eq > s) {
			req->qparams[i].name = url_decode(req->arena, s, (size_t)(eq - s), 1);
			req->qparams[i].value = eq < amp ?
			    url_decode(req->arena, eq + 1, (size_t)(amp - eq - 1), 1) : "";
			/* A pair that does not decode is never half-read: the request is
			 * refused before its handler runs (dispatch, bad-query). */
			if (req->qparams[i].name != NULL && req->qparams[i].value != NULL)
				i++;
			else if (req->query_bad == NULL)
				req->query_bad = arena_strndup(req->arena, s, (size_t)(eq - s));
		}
		s = *amp ? amp + 1 : amp;
	}
	req->nqparams = i;
}

const char *
req_query(struct sb_req *req, const char *name)
{
	size_t i;

	if (!req->query_parsed)
		query_parse(req);
	for (i = 0; i < req->nqparams; i++)
		if (strcmp(req->qparams[i].name, name) == 0)
			return req->qparams[i].value;
	return NULL;
}

const char *
req_query_bad(struct sb_req *req)
{
	if (!req->query_parsed)
		query_parse(req);
	return req->query_bad;
}

const char *
req_path_param(const struct sb_req *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->match.nparams; i++)
		if (strcmp(req->match.names[i], name) == 0)
			return req->match.values[i];
	return NULL;
}

const char *
req_cookie(struct sb_req *req, const char *name)
{
	const char	*h = req_header(req, "Cookie"), *p, *e;
	size_t		 n = strlen(name);

	for (p = h; p != NULL && *p != '\0'; p = e) {
		while (*p == ' ' || *p == ';')
			p++;
		if ((e = strchr(p, ';')) == NULL)
			e = p + strlen(p);
		if (strncmp(p, name, n) == 0 && p[n] == '=')
			return arena_strndup(req->arena, p + n + 1, (size_t)(e - p - n - 1));
	}
	return NULL;
}

int
content_type_is_json(const char *ct)
{
	size_t n = strlen("application/json");

	if (ct == NULL || strncasecmp(ct, "application/json", n) != 0)
		return 0;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

enum sb_err
req_read_body(struct sb_req *req)
{
	const struct sb_config	*cfg = &req->app->cfg;
	const char		*cl = req_param(req, "CONTENT_LENGTH"), *ct;
	struct json_limits	 lim;
	struct json_parse_error	 jerr;
	char			*end, *buf, detail[240];
	long long		 len;

	/* No length (a chunked upload, HTTP/2 without content-length; "-1" from some web
	 * servers): the body is what came, within max_body. */
	if (cl == NULL || *cl == '\0' || strcmp(cl, "-1") == 0) {
		if (strcmp(req->method, "POST") != 0 && strcmp(req->method, "PUT") != 0 &&
		    strcmp(req->method, "PATCH") != 0)
			return SB_OK;	/* no body is read where none is expected */
		len = -1;
	} else {
		errno = 0;
		len = strtoll(cl, &end, 10);
		if (*end != '\0' || len < 0 || errno == ERANGE || !isdigit((unsigned char)*cl))
			return req_fail(req, SB_ERR_INVALID, "bad-content-length",
			    "Content-Length is not a number");
		if (len > cfg->http.max_body) {
			snprintf(detail, sizeof(detail), "the body is %lld bytes; the limit is %d",
			    len, cfg->http.max_body);
			return req_fail(req, SB_ERR_TOO_LARGE, "body-too-large", detail);
		}
	}
	if (req->over == 413 || req->in_len > (size_t)cfg->http.max_body) {
		snprintf(detail, sizeof(detail), "the body is over the limit of %d bytes",
		    cfg->http.max_body);
		return req_fail(req, SB_ERR_TOO_LARGE, "body-too-large", detail);
	}
	if (req->in_len == 0 && len <= 0)
		return SB_OK;
	ct = req_param(req, "CONTENT_TYPE");
	if (!content_type_is_json(ct)) {
		snprintf(detail, sizeof(detail), "request bodies must be application/json, not %.80s",
		    ct != NULL && *ct != '\0' ? ct : "(none)");
		resp_header(req, "Accept-Post", "application/json");
		return req_fail(req, SB_ERR_UNSUPPORTED, "unsupported-media-type", detail);
	}
	/* The web server counts the body it passes on; a different count is its error
	 * (or a client that left), never a body to guess at. */
	if (len >= 0 && (size_t)len != req->in_len) {
		snprintf(detail, sizeof(detail), "the body is %zu bytes; Content-Length says %lld",
		    req->in_len, len);
		return req_fail(req, SB_ERR_INVALID, "bad-content-length", detail);
	}
	len = (long long)req->in_len;
	buf = arena_alloc(req->arena, (size_t)len + 1);
	memcpy(buf, req->in, (size_t)len);
	buf[len] = '\0';
	req->body = buf;
	req->body_len = (size_t)len;

	lim.max_bytes = (size_t)cfg->http.max_body;
	lim.max_depth = cfg->http.max_json_depth;
	lim.max_string = req->long_strings ? (size_t)cfg->http.max_body :
	    (size_t)cfg->http.max_json_string;
	lim.from_provider = 0;
	if ((req->json = json_parse_limited(buf, (size_t)len, &lim, &jerr)) == NULL) {
		if (jerr.line > 0)
			snprintf(detail, sizeof(detail), "%s at line %d, column %d (byte %zu)",
			    jerr.text, jerr.line, jerr.column, jerr.position);
		else
			snprintf(detail, sizeof(detail), "%s", jerr.text);
		req_fail(req, jerr.err, jerr.err == SB_ERR_TOO_LARGE ? "body-too-large" :
		    "invalid-json", detail);
		if (jerr.line > 0) {
			json_object_set_new(req->problem, "line", json_integer(jerr.line));
			json_object_set_new(req->problem, "column", json_integer(jerr.column));
			json_object_set_new(req->problem, "position",
			    json_integer((json_int_t)jerr.position));
		}
		return jerr.err;
	}
	return SB_OK;
}

void
req_free(struct sb_req *req)
{
	json_decref(req->json);
	json_decref(req->problem);
	req->json = req->problem = NULL;
}
