/* test_fcgi_proto.c: fcgi-app/fcgi.c, the FastCGI protocol fed records built by hand. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/log.h"
#include "fcgi-app/app.h"
#include "fcgi-app/fcgi.h"
#include "tests/unit/unit.h"

/* The numbers of the FastCGI 1.0 specification, spelled out here on purpose:
 * the test must not share them with the code under test. */
enum {
	T_BEGIN = 1, T_ABORT = 2, T_END = 3, T_PARAMS = 4, T_STDIN = 5, T_STDOUT = 6,
	T_DATA = 8, T_GET_VALUES = 9, T_GET_VALUES_RESULT = 10, T_UNKNOWN_TYPE = 11
};
enum { T_RESPONDER = 1, T_AUTHORIZER = 2 };
enum { T_COMPLETE = 0, T_CANT_MPX_CONN = 1, T_UNKNOWN_ROLE = 3 };
/* fcgi.c moves out a consumed front of at least this size (no smaller than the rest). */
#define FCGI_OUT_COMPACT_T	4096

/* ---------------------------------------------------------------- encoder */

/* The tests build records in an sb_buf (core/buf.h). */

/* A record with any version and padding; the padding bytes are garbage on purpose. */
static void
tb_vrec(struct sb_buf *b, int version, int type, uint16_t id, const void *content, size_t clen,
    size_t pad)
{
	unsigned char	 h[8] = { (unsigned char)version, (unsigned char)type,
	    (unsigned char)(id >> 8), (unsigned char)id, (unsigned char)(clen >> 8),
	    (unsigned char)clen, (unsigned char)pad, 0 };
	size_t		 i;

	buf_append(b, h, 8);
	buf_append(b, content, clen);
	for (i = 0; i < pad; i++)
		buf_append(b, "\xa5", 1);
}

static void
tb_rec(struct sb_buf *b, int type, uint16_t id, const void *content, size_t clen, size_t pad)
{
	tb_vrec(b, 1, type, id, content, clen, pad);
}

static void
tb_begin(struct sb_buf *b, uint16_t id, int role, int flags)
{
	unsigned char	 body[8] = { (unsigned char)(role >> 8), (unsigned char)role,
	    (unsigned char)flags, 0, 0, 0, 0, 0 };

	tb_rec(b, T_BEGIN, id, body, 8, 0);
}

/* A length as the specification encodes it; long forces the 4-byte form. */
static void
tb_len(struct sb_buf *b, size_t n, int long_form)
{
	unsigned char	 l[4] = { (unsigned char)(n >> 24 | 0x80), (unsigned char)(n >> 16),
	    (unsigned char)(n >> 8), (unsigned char)n };
	unsigned char	 s = (unsigned char)n;

	if (n < 128 && !long_form)
		buf_append(b, &s, 1);
	else
		buf_append(b, l, 4);
}

static void
tb_nvn(struct sb_buf *b, const char *name, size_t nlen, const char *value, size_t vlen)
{
	tb_len(b, nlen, 0);
	tb_len(b, vlen, 0);
	buf_append(b, name, nlen);
	buf_append(b, value, vlen);
}

static void
tb_nv(struct sb_buf *b, const char *name, const char *value)
{
	tb_nvn(b, name, strlen(name), value, strlen(value));
}

/* A params stream in one record (padded as Caddy pads), then the empty record. */
static void
tb_params(struct sb_buf *b, uint16_t id, const struct sb_buf *pairs)
{
	tb_rec(b, T_PARAMS, id, pairs->data, pairs->len, -pairs->len & 7);
	tb_rec(b, T_PARAMS, id, NULL, 0, 0);
}

/* The params of a GET as Caddy's fastcgi transport sends them. */
static const char *const caddy_env[][2] = {
	{ "REMOTE_ADDR", "127.0.0.1" },
	{ "REMOTE_HOST", "127.0.0.1" },
	{ "REMOTE_PORT", "53614" },
	{ "REMOTE_IDENT", "" },
	{ "REMOTE_USER", "" },
	{ "AUTH_TYPE", "" },
	{ "CONTENT_LENGTH", "" },
	{ "CONTENT_TYPE", "" },
	{ "GATEWAY_INTERFACE", "CGI/1.1" },
	{ "PATH_INFO", "" },
	{ "QUERY_STRING", "since=7" },
	{ "REQUEST_METHOD", "GET" },
	{ "SERVER_NAME", "localhost" },
	{ "SERVER_PORT", "443" },
	{ "SERVER_PROTOCOL", "HTTP/2.0" },
	{ "SERVER_SOFTWARE", "Caddy/v2.7.6" },
	{ "DOCUMENT_ROOT", "/srv/switchboard" },
	{ "DOCUMENT_URI", "/api/v1/runs/42/events" },
	{ "HTTP_HOST", "localhost" },
	{ "REQUEST_URI", "/api/v1/runs/42/events?since=7" },
	{ "SCRIPT_FILENAME", "/srv/switchboard/api/v1/runs/42/events" },
	{ "SCRIPT_NAME", "/api/v1/runs/42/events" },
	{ "HTTPS", "on" },
	{ "SSL_PROTOCOL", "TLSv1.3" },
	{ "HTTP_ACCEPT", "text/event-stream" },
	{ "HTTP_LAST_EVENT_ID", "7" },
	{ "HTTP_AUTHORIZATION", "Bearer sb_live_0123456789abcdef" },
	{ "HTTP_USER_AGENT", "curl/8.5.0" },
	{ "HTTP_X_FORWARDED_FOR", "127.0.0.1" },
};
#define NCADDY	(sizeof(caddy_env) / sizeof(caddy_env[0]))

static void
caddy_get(struct sb_buf *b, uint16_t id, int flags)
{
	struct sb_buf	 pairs = { 0 };
	size_t		 i;

	for (i = 0; i < NCADDY; i++)
		tb_nv(&pairs, caddy_env[i][0], caddy_env[i][1]);
	tb_begin(b, id, T_RESPONDER, flags);
	tb_params(b, id, &pairs);
	tb_rec(b, T_STDIN, id, NULL, 0, 0);
	buf_free(&pairs);
}

static void
assert_caddy_env(const struct fcgi_req *req)
{
	char	 want[256];
	size_t	 i;

	UNIT_ASSERT_INT(req->nparams, NCADDY);
	CU_ASSERT_FATAL(req->nparams == NCADDY && req->envp != NULL);
	for (i = 0; i < NCADDY; i++) {
		snprintf(want, sizeof(want), "%s=%s", caddy_env[i][0], caddy_env[i][1]);
		UNIT_ASSERT_STR(req->envp[i], want);
	}
	CU_ASSERT_PTR_NULL(req->envp[NCADDY]);
}

/* ---------------------------------------------------------------- decoder of out */

struct trec {
	int			 version, type;
	uint16_t		 id;
	const unsigned char	*content;
	size_t			 clen, pad;
};

/* The record at *pos in out's pending bytes; 0 at the end. */
static int
out_rec(const struct fcgi_out *out, size_t *pos, struct trec *r)
{
	const unsigned char	*p = (const unsigned char *)fcgi_out_head(out) + *pos;
	size_t			 left = fcgi_out_pending(out) - *pos;

	if (left == 0)
		return 0;
	CU_ASSERT_FATAL(left >= 8);
	r->version = p[0];
	r->type = p[1];
	r->id = (uint16_t)(p[2] << 8 | p[3]);
	r->clen = (size_t)p[4] << 8 | p[5];
	r->pad = p[6];
	r->content = p + 8;
	CU_ASSERT_FATAL(left >= 8 + r->clen + r->pad);
	*pos += 8 + r->clen + r->pad;
	return 1;
}

/* Checks that out holds exactly one FCGI_END_REQUEST for id with this status. */
static void
assert_end_request(const struct fcgi_out *out, size_t *pos, uint16_t id, uint32_t app,
    int proto)
{
	struct trec	 r;

	CU_ASSERT_FATAL(out_rec(out, pos, &r));
	UNIT_ASSERT_INT(r.version, 1);
	UNIT_ASSERT_INT(r.type, T_END);
	UNIT_ASSERT_INT(r.id, id);
	UNIT_ASSERT_INT(r.clen, 8);
	UNIT_ASSERT_INT(r.pad, 0);
	UNIT_ASSERT_INT((uint32_t)r.content[0] << 24 | (uint32_t)r.content[1] << 16 |
	    (uint32_t)r.content[2] << 8 | r.content[3], app);
	UNIT_ASSERT_INT(r.content[4], proto);
}

/* ---------------------------------------------------------------- tests */

static void
test_caddy_get_whole(void)
{
	struct sb_buf	 b = { 0 };
	struct fcgi_conn c;
	struct fcgi_out	 out = { 0 };
	size_t		 used;

	caddy_get(&b, 1, 0);
	fcgi_conn_init(&c);
	UNIT_ASSERT_INT(fcgi_feed(&c, b.data, b.len, &used, &out), FCGI_READY);
	UNIT_ASSERT_INT(used, b.len);
	UNIT_ASSERT_INT(c.req.id, 1);
	UNIT_ASSERT_INT(c.req.keep_conn, 0);
	CU_ASSERT(c.req.params_done && c.req.stdin_done && !c.req.aborted);
	UNIT_ASSERT_STR(c.req.in, "");
	UNIT_ASSERT_INT(c.req.in_len, 0);
	assert_caddy_env(&c.req);
	UNIT_ASSERT_INT(fcgi_out_pending(&out), 0);
	fcgi_conn_free(&c);
	fcgi_out_free(&out);
	buf_free(&b);
}

static void
test_caddy_get_bytewise(void)
{
	struct sb_buf	 b = { 0 };
	struct fcgi_conn c;
	struct fcgi_out	 out = { 0 };
	enum fcgi_status st = FCGI_MORE;
	size_t		 i, used, bad = 0;

	caddy_get(&b, 1, 0);
	fcgi_conn_init(&c);
	for (i = 0; i < b.len; i++) {
		st = fcgi_feed(&c, b.data + i, 1, &used, &out);
		if (used != 1 || (i + 1 < b.len && st != FCGI_MORE))
			bad++;
	}
	UNIT_ASSERT_INT(bad, 0);
	UNIT_ASSERT_INT(st, FCGI_READY);
	assert_caddy_env(&c.req);
	fcgi_conn_free(&c);
	fcgi_out_free(&out);
	buf_free(&b);
}

static void
test_caddy_get_split(void)
{
	struct sb_buf	 b = { 0 };
	struct fcgi_conn c;
	struct fcgi_out	 out = { 0 };
	enum fcgi_status st;
	size_t		 k, used, bad = 0;

	caddy_get(&b, 1, 0);
	for (k = 0; k < b.len; k++) {
		fcgi_conn_init(&c);
		st = fcgi_feed(&c, b.data, k, &used, &out);
		if (st != FCGI_MORE || used != k)
			bad++;
		st = fcgi_feed(&c, b.data + k, b.len - k, &used, &out);
		if (st != FCGI_READY || used != b.len - k)
			bad++;
		else if (k == b.len / 2)
			assert_caddy_env(&c.req);
		else if (c.req.nparams != NCADDY || strcmp(c.req.envp[NCADDY - 1],
		    "HTTP_X_FORWARDED_FOR=127.0.0.1") != 0 || c.req.envp[NCADDY] != NULL)
			bad++;
		fcgi_conn_free(&c);
	}
	UNIT_ASSERT_INT(bad, 0);
	UNIT_ASSERT_INT(fcgi_out_pending(&out), 0);
	fcgi_out_free(&out);
	buf_free(&b);
}

/* Runs a request through a fresh connection; the caller frees c. */
static enum fcgi_status
feed_new(struct fcgi_conn *c, const struct sb_buf *b, struct fcgi_out *out, size_t *used)
{
	fcgi_conn_init(c);
	return fcgi_feed(c, b->data, b->len, used, out);
}

static void
test_long_lengths(void)
{
	struct sb_buf	 b = { 0 }, pairs = { 0 };
	struct fcgi_conn c;
	struct fcgi_out	 out = { 0 };
	char		 name[200], v127[128], v128[129], v300[301];
	size_t		 used;

	memset(name, 'N', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memset(v127, 'a', 127);
	v127[127] = '\0';
	memset(v128, 'b', 128);
	v128[128] = '\0';
	memset(v300, 'c', 300);
	v300[300] = '\0';
	tb_nv(&pairs, "V127", v127);
	tb_nv(&pairs, "V128", v128);
	tb_nv(&pairs, "V300", v300);
	tb_nv(&pairs, name, "long name");
	/* The 4-byte form of short lengths is valid too. */
	tb_len(&pairs, 5, 1);
	tb_len(&pairs, 2, 1);
	buf_append(&pairs, "SHORTok", 7);
	tb_begin(&b, 7, T_RESPONDER, 0);
	tb_params(&b, 7, &pairs);
	tb_rec(&b, T_STDIN, 7, NULL, 0, 0);

	UNIT_ASSERT_INT(feed_new(&c, &b, &out, &used), FCGI_READY);
	UNIT_ASSERT_INT(c.req.nparams, 5);
	UNIT_ASSERT_STR(fcgi_param(&c.req, "V127"), v127);
	UNIT_ASSERT_STR(fcgi_param(&c.req, "V128"), v128);
	UNIT_ASSERT_STR(fcgi_param(&c.req, "V300"), v300);
	UNIT_ASSERT_STR(fcgi_param(&c.req, name), "long name");
	UNIT_ASSERT_STR(fcgi_param(&c.req, "SHORT"), "ok");
	UNIT_ASSERT_INT(c.req.params_bytes, pairs.len);
	fcgi_conn_free(&c);
	fcgi_out_free(&out);
	buf_free(&pairs);
	buf_free(&b);
}

/* The params stream cut into records of 1, 2, 3, ... bytes, so pairs and their
 * lengths are split across records everywhere; odd records are padded. */
static void
test_params_span_records(void)
{
	struct sb_buf	 b = { 0 }, pairs = { 0 };
	struct fcgi_conn c;
	struct fcgi_out	 out = { 0 };
	char		 v200[201];
	size_t		 off, n, k, used;

	memset(v200, 'x', 200);
	v200[200] = '\0';
	tb_nv(&pairs, "REQUEST_METHOD", "POST");
	tb_nv(&pairs, "LONG", v200);
	tb_nv(&pairs, "CONTENT_TYPE", "application/json");
	tb_nv(&pairs, "EMPTY", "");
	tb_begin(&b, 1, T_RESPONDER, 1);
	for (off = 0, k = 1; off < pairs.len; off += n, k++) {
		n = k < pairs.len - off ? k : pairs.len - off;
		tb_rec(&b, T_PARAMS, 1, pairs.data + off, n, k % 2 == 1 ? 8 - n % 8 : 0);
	}
	tb_rec(&b, T_PARAMS, 1, NULL, 0, 3);
	tb_rec(&b, T_STDIN, 1, "{\"a\":", 5, 3);
	tb_rec(&b, T_STDIN, 1, "1}", 2, 255);
	tb_rec(&b, T_STDIN, 1, NULL, 0, 7);

	UNIT_ASSERT_INT(feed_new(&c, &b, &out, &used), FCGI_READY);
	UNIT_ASSERT_INT(used, b.len);
	UNIT_ASSERT_INT(c.req.keep_conn, 1);
	UNIT_ASSERT_INT(c.req.nparams, 4);
	CU_ASSERT_FATAL(c.req.nparams == 4 && c.req.envp != NULL);
	UNIT_ASSERT_STR(c.req.envp[0], "REQUEST_METHOD=POST");
	UNIT_ASSERT_STR(fcgi_param(&c.req, "LONG"), v200);
	UNIT_ASSERT_STR(fcgi_param(&c.req, "CONTENT_TYPE"), "application/json");
	UNIT_ASSERT_STR(c.req.envp[3], "EMPTY=");
	UNIT_ASSERT_STR(c.req.in, "{\"a\":1}");
	UNIT_ASSERT_INT(c.req.in_len, 7);
	UNIT_ASSERT_INT(fcgi_out_pending(&out), 0);
	fcgi_conn_free(&c);
	fcgi_out_free(&out);
	buf_free(&pairs);
	buf_free(&b);
}

/* STDIN may come before the end of the params; records for other ids and of
 * types a responder does not read are skipped, whatever their content. */
static void
test_order_and_skipped(void)
{
	struct sb_buf	 b = { 0 }, pairs = { 0 };
	struct fcgi_conn c;
	struct fcgi_out	 out = { 0 };
	size_t		 used;

	tb_rec(&b, T_STDIN, 5, "before any request", 18, 6);
	tb_rec(&b, T_PARAMS, 5, "\x01\x01=\0", 4, 0);
	tb_begin(&b, 2, T_RESPONDER, 0);
	tb_rec(&b, T_DATA, 2, "filter data", 11, 5);
	tb_rec(&b, 42, 2, "junk", 4, 4);
	tb_rec(&b, T_STDIN, 2, "body", 4, 4);
	tb_rec(&b, T_STDIN, 2, NULL, 0, 0);
	tb_nv(&pairs, "A", "1");
	tb_params(&b, 2, &pairs);

	UNIT_ASSERT_INT(feed_new(&c, &b, &out, &used), FCGI_READY);
	UNIT_ASSERT_INT(used, b.len);
	UNIT_ASSERT_STR(fcgi_param(&c.req, "A"), "1");
	UNIT_ASSERT_STR(c.req.in, "body");
	UNIT_ASSERT_INT(fcgi_out_pending(&out), 0);
	fcgi_conn_free(&c);
	fcgi_out_free(&out);
	buf_free(&pairs);
	buf_free(&b);
}

/* Two requests back to back on a kept connection (the same id again, as servers do). */
static void
test_keep_conn(void)
{
	struct sb_buf	 b = { 0 }, pairs = { 0 };
	struct fcgi_conn c;
	struct fcgi_out	 out = { 0 };
	size_t		 first, used, pos = 0;
	struct trec	 r;

	caddy_get(&b, 1, 1);
	first = b.len;
	tb_nv(&pairs, "REQUEST_METHOD", "HEAD");
	tb_begin(&b, 1, T_RESPONDER, 1);
	tb_params(&b, 1, &pairs);
	tb_rec(&b, T_STDIN, 1, NULL, 0, 0);

	UNIT_ASSERT_INT(feed_new(&c, &b, &out, &used), FCGI_READY);
	UNIT_ASSERT_INT(used, first);
	UNIT_ASSERT_INT(c.req.keep_conn, 1);
	UNIT_ASSERT_STR(fcgi_param(&c.req, "REQUEST_METHOD"), "GET");
	fcgi_stdout(&out, c.req.id, "Status: 204\r\n\r\n", 15);
	fcgi_end(&out, c.req.id, 0);
	fcgi_req_reset(&c);
	UNIT_ASSERT_INT(c.req.id, 0);
	CU_ASSERT_PTR_NULL(c.req.envp);

	UNIT_ASSERT_INT(fcgi_feed(&c, b.data + first, b.len - first, &used, &out), FCGI_READY);
	UNIT_ASSERT_INT(used, b.len - first);
	UNIT_ASSERT_INT(c.req.id, 1);
	UNIT_ASSERT_INT(c.req.nparams, 1);
	UNIT_ASSERT_STR(fcgi_param(&c.req, "REQUEST_METHOD"), "HEAD");
	CU_ASSERT_PTR_NULL(fcgi_param(&c.req, "HTTP_HOST"));

	/* Only the first answer is in out: STDOUT, empty STDOUT, END_REQUEST. */
	CU_ASSERT_FATAL(out_rec(&out, &pos, &r));
	UNIT_ASSERT_INT(r.type, T_STDOUT);
	UNIT_ASSERT_INT(r.clen, 15);
	CU_ASSERT_FATAL(out_rec(&out, &pos, &r));
	UNIT_ASSERT_INT(r.type, T_STDOUT);
	UNIT_ASSERT_INT(r.clen, 0);
	assert_end_request(&out, &pos, 1, 0, T_COMPLETE);
	CU_ASSERT(!out_rec(&out, &pos, &r));
	fcgi_conn_free(&c);
	fcgi_out_free(&out);
	buf_free(&pairs);
	buf_free(&b);
}

/* Decodes one 1-byte-length pair of a FCGI_GET_VALUES_RESULT. */
static int
result_pair(const struct trec *r, size_t *off, char *name, char *value)
{
	size_t	 nlen, vlen;

	if (*off + 2 > r->clen)
		return 0;
	nlen = r->content[*off];
	vlen = r->content[*off + 1];
	CU_ASSERT_FATAL(nlen < 128 && vlen < 128 && *off + 2 + nlen + vlen <= r->clen);
	memcpy(name, r->content + *off + 2, nlen);
	name[nlen] = '\0';
	memcpy(value, r->content + *off + 2 + nlen, vlen);
	value[vlen] = '\0';
	*off += 2 + nlen + vlen;
	return 1;
}

static void
test_get_values(void)
{
	struct sb_buf	 b = { 0 }, q = { 0 };
	struct fcgi_conn c;
	struct fcgi_out	 out = { 0 };
	struct trec	 r;
	char		 name[128], value[128];
	size_t		 used, pos = 0, off = 0;

	tb_nv(&q, "FCGI_MPXS_CONNS", "");
	tb_nv(&q, "FCGI_NO_SUCH_VAR", "");
	tb_nv(&q, "FCGI_MAX_CONNS", "");
	tb_nv(&q, "FCGI_MAX_REQS", "");
	tb_nv(&q, "FCGI_MAX_CONNS", "");	/* asked twice, answered once */
	tb_rec(&b, T_GET_VALUES, 0, q.data, q.len, 3);

	UNIT_ASSERT_INT(feed_new(&c, &b, &out, &used), FCGI_MORE);
	UNIT_ASSERT_INT(used, b.len);
	CU_ASSERT_FATAL(out_rec(&out, &pos, &r));
	UNIT_ASSERT_INT(r.version, 1);
	UNIT_ASSERT_INT(r.type, T_GET_VALUES_RESULT);
	UNIT_ASSERT_INT(r.id, 0);
	UNIT_ASSERT_INT((8 + r.clen + r.pad) % 8, 0);
	CU_ASSERT_FATAL(result_pair(&r, &off, name, value));
	UNIT_ASSERT_STR(name, "FCGI_MPXS_CONNS");
	UNIT_ASSERT_STR(value, "0");
	CU_ASSERT_FATAL(result_pair(&r, &off, name, value));
	UNIT_ASSERT_STR(name, "FCGI_MAX_CONNS");
	UNIT_ASSERT_STR(value, "100000");
	CU_ASSERT_FATAL(result_pair(&r, &off, name, value));
	UNIT_ASSERT_STR(name, "FCGI_MAX_REQS");
	UNIT_ASSERT_STR(value, "100000");
	CU_ASSERT(!result_pair(&r, &off, name, value));
	CU_ASSERT(!out_rec(&out, &pos, &r));
	fcgi_conn_free(&c);

	/* An empty query gets an empty answer. */
	fcgi_out_consume(&out, fcgi_out_pending(&out));
	buf_free(&b);
	tb_rec(&b, T_GET_VALUES, 0, NULL, 0, 0);
	UNIT_ASSERT_INT(feed_new(&c, &b, &out, &used), FCGI_MORE);
	pos = 0;
	CU_ASSERT_FATAL(out_rec(&out, &pos, &r));
	UNIT_ASSERT_INT(r.type, T_GET_VALUES_RESULT);
	UNIT_ASSERT_INT(r.clen, 0);
	fcgi_conn_free(&c);

	/* A malformed query is a protocol error. */
	buf_free(&b);
	tb_rec(&b, T_GET_VALUES, 0, "\x0e\x00" "FCGI_MAX", 10, 6);
	UNIT_ASSERT_INT(feed_new(&c, &b, &out, &used), FCGI_ERROR);
	UNIT_ASSERT_CONTAINS(c.error, "FCGI_GET_VALUES");
	fcgi_conn_free(&c);
	fcgi_out_free(&out);
	buf_free(&q);
	buf_free(&b);
}

static void
test_unknown_type(void)
{
	struct sb_buf	 b = { 0 };
	struct fcgi_conn c;
	struct fcgi_out	 out = { 0 };
	struct trec	 r;
	size_t		 used, pos = 0, i;

	tb_rec(&b, 42, 0, "abc", 3, 5);
	tb_rec(&b, T_GET_VALUES_RESULT, 0, NULL, 0, 0);
	UNIT_ASSERT_INT(feed_new(&c, &b, &out, &used), FCGI_MORE);
	UNIT_ASSERT_INT(used, b.len);
	CU_ASSERT_FATAL(out_rec(&out, &pos, &r));
	UNIT_ASSERT_INT(r.type, T_UNKNOWN_TYPE);
	UNIT_ASSERT_INT(r.id, 0);
	UNIT_ASSERT_INT(r.clen, 8);
	UNIT_ASSERT_INT(r.pad, 0);
	UNIT_ASSERT_INT(r.content[0], 42);
	for (i = 1; i < 8; i++)
		UNIT_ASSERT_INT(r.content[i], 0);
	CU_ASSERT_FATAL(out_rec(&out, &pos, &r));
	UNIT_ASSERT_INT(r.type, T_UNKNOWN_TYPE);
	UNIT_ASSERT_INT(r.content[0], T_GET_VALUES_RESULT);
	CU_ASSERT(!out_rec(&out, &pos, &r));
	UNIT_ASSERT_INT(c.req.id, 0);
	fcgi_conn_free(&c);
	fcgi_out_free(&out);
	buf_free(&b);
}

/* An authorizer is refused; its records are ignored and the next request is served. */
static void
test_role_refused(void)
{
	struct sb_buf	 b = { 0 }, pairs = { 0 };
	struct fcgi_conn c;
	struct fcgi_out	 out = { 0 };
	struct trec	 r;
	size_t		 used, pos = 0;

	tb_nv(&pairs, "ROLE", "authorizer");
	tb_begin(&b, 3, T_AUTHORIZER, 1);
	tb_params(&b, 3, &pairs);
	tb_rec(&b, T_STDIN, 3, NULL, 0, 0);
	tb_begin(&b, 4, 3 /* FCGI_FILTER */, 1);
	caddy_get(&b, 5, 1);

	UNIT_ASSERT_INT(feed_new(&c, &b, &out, &used), FCGI_READY);
	UNIT_ASSERT_INT(used, b.len);
	UNIT_ASSERT_INT(c.req.id, 5);
	CU_ASSERT_PTR_NULL(fcgi_param(&c.req, "ROLE"));
	assert_caddy_env(&c.req);
	assert_end_request(&out, &pos, 3, 0, T_UNKNOWN_ROLE);
	assert_end_request(&out, &pos, 4, 0, T_UNKNOWN_ROLE);
	CU_ASSERT(!out_rec(&out, &pos, &r));
	fcgi_conn_free(&c);
	fcgi_out_free(&out);
	buf_free(&pairs);
	buf_free(&b);
}

/* A second request while one is active is refused, before and after READY. */
static void
test_mpx_refused(void)
{
	struct sb_buf	 b = { 0 }, b2 = { 0 }, pairs = { 0 };
	struct fcgi_conn c;
	struct fcgi_out	 out = { 0 };
	struct trec	 r;
	size_t		 used, pos = 0;

	tb_begin(&b, 1, T_RESPONDER, 1);
	tb_begin(&b, 2, T_RESPONDER, 1);
	/* Request 2's params would be an error if they were decoded. */
	tb_rec(&b, T_PARAMS, 2, "\x02\x01N\0V", 5, 3);
	tb_rec(&b, T_PARAMS, 2, NULL, 0, 0);
	tb_nv(&pairs, "REQUEST_METHOD", "GET");
	tb_params(&b, 1, &pairs);
	tb_rec(&b, T_STDIN, 2, NULL, 0, 0);
	tb_rec(&b, T_ABORT, 2, NULL, 0, 0);
	tb_rec(&b, T_STDIN, 1, NULL, 0, 0);

	UNIT_ASSERT_INT(feed_new(&c, &b, &out, &used), FCGI_READY);
	UNIT_ASSERT_INT(used, b.len);
	UNIT_ASSERT_INT(c.req.id, 1);
	UNIT_ASSERT_INT(c.req.nparams, 1);
	UNIT_ASSERT_STR(fcgi_param(&c.req, "REQUEST_METHOD"), "GET");
	assert_end_request(&out, &pos, 2, 0, T_CANT_MPX_CONN);
	CU_ASSERT(!out_rec(&out, &pos, &r));

	/* While request 1 streams its answer, the connection is still read. */
	tb_begin(&b2, 9, T_RESPONDER, 0);
	tb_rec(&b2, T_GET_VALUES, 0, "\x0f\x00" "FCGI_MPXS_CONNS", 17, 7);
	UNIT_ASSERT_INT(fcgi_feed(&c, b2.data, b2.len, &used, &out), FCGI_MORE);
	UNIT_ASSERT_INT(used, b2.len);
	assert_end_request(&out, &pos, 9, 0, T_CANT_MPX_CONN);
	CU_ASSERT_FATAL(out_rec(&out, &pos, &r));
	UNIT_ASSERT_INT(r.type, T_GET_VALUES_RESULT);

	/* The same id again is the server's mistake. */
	buf_free(&b2);
	tb_begin(&b2, 1, T_RESPONDER, 0);
	UNIT_ASSERT_INT(fcgi_feed(&c, b2.data, b2.len, &used, &out), FCGI_ERROR);
	UNIT_ASSERT_CONTAINS(c.error, "already active");
	fcgi_conn_free(&c);
	fcgi_out_free(&out);
	buf_free(&pairs);
	buf_free(&b2);
	buf_free(&b);
}

static void
test_abort(void)
{
	struct sb_buf	 b = { 0 }, pairs = { 0 };
	struct fcgi_conn c;
	struct fcgi_out	 out = { 0 };
	size_t		 used, at;

	/* Before the request is complete: what follows the abort is left. */
	tb_nv(&pairs, "A", "1");
	tb_begin(&b, 1, T_RESPONDER, 1);
	tb_rec(&b, T_PARAMS, 1, pairs.data, pairs.len, 0);
	tb_rec(&b, T_ABORT, 9, NULL, 0, 0);		/* not the active request */
	tb_rec(&b, T_ABORT, 1, NULL, 0, 4);
	at = b.len;
	caddy_get(&b, 2, 0);
	UNIT_ASSERT_INT(feed_new(&c, &b, &out, &used), FCGI_ABORTED);
	UNIT_ASSERT_INT(used, at);
	UNIT_ASSERT_INT(c.req.aborted, 1);
	UNIT_ASSERT_INT(c.req.params_done, 0);
	UNIT_ASSERT_INT(fcgi_out_pending(&out), 0);
	fcgi_end(&out, 1, 0);
	fcgi_req_reset(&c);
	UNIT_ASSERT_INT(fcgi_feed(&c, b.data + at, b.len - at, &used, &out), FCGI_READY);
	UNIT_ASSERT_INT(c.req.id, 2);
	assert_caddy_env(&c.req);

	/* After READY, while the answer streams. */
	buf_free(&b);
	tb_rec(&b, T_ABORT, 2, NULL, 0, 0);
	UNIT_ASSERT_INT(fcgi_feed(&c, b.data, b.len, &used, &out), FCGI_ABORTED);
	UNIT_ASSERT_INT(used, 8);
	UNIT_ASSERT_INT(c.req.aborted, 1);
	fcgi_conn_free(&c);
	fcgi_out_free(&out);
	buf_free(&pairs);
	buf_free(&b);
}

/* Builds a request with these params (and the empty record) and feeds it. */
static enum fcgi_status
feed_pairs(struct fcgi_conn *c, const struct sb_buf *pairs)
{
	struct sb_buf	 b = { 0 };
	struct fcgi_out	 out = { 0 };
	enum fcgi_status st;
	size_t		 used, off, n;

	tb_begin(&b, 1, T_RESPONDER, 0);
	for (off = 0; off < pairs->len; off += n) {
		n = pairs->len - off < 65535 ? pairs->len - off : 65535;
		tb_rec(&b, T_PARAMS, 1, pairs->data + off, n, 0);
	}
	tb_rec(&b, T_PARAMS, 1, NULL, 0, 0);
	tb_rec(&b, T_STDIN, 1, NULL, 0, 0);
	st = feed_new(c, &b, &out, &used);
	fcgi_out_free(&out);
	buf_free(&b);
	return st;
}

static void
test_bounds(void)
{
	struct sb_buf	 pairs = { 0 }, b = { 0 };
	struct fcgi_conn c;
	struct fcgi_out	 out = { 0 };
	char		*big, name[16];
	size_t		 i, used;

	/* Exactly FCGI_PARAMS_MAX bytes pass; one more does not. */
	big = sb_malloc(FCGI_PARAMS_MAX);
	memset(big, 'v', FCGI_PARAMS_MAX);
	/* 1 + 4 length bytes and a 3-byte name, then a pair of 3 bytes. */
	tb_nvn(&pairs, "BIG", 3, big, FCGI_PARAMS_MAX - 3 - 5 - 3);
	tb_nvn(&pairs, "X", 1, "", 0);
	UNIT_ASSERT_INT(pairs.len, FCGI_PARAMS_MAX);
	UNIT_ASSERT_INT(feed_pairs(&c, &pairs), FCGI_READY);
	UNIT_ASSERT_INT(c.req.params_bytes, FCGI_PARAMS_MAX);
	fcgi_conn_free(&c);
	/* Over the bound: read to their end, kept not, and flagged for a 431. */
	tb_nvn(&pairs, "Y", 1, "", 0);
	UNIT_ASSERT_INT(feed_pairs(&c, &pairs), FCGI_READY);
	UNIT_ASSERT_INT(c.req.over, 431);
	UNIT_ASSERT_INT(c.req.nparams, 0);
	CU_ASSERT_PTR_NULL(fcgi_param(&c.req, "BIG"));
	UNIT_ASSERT_STR(c.error, "");
	fcgi_conn_free(&c);
	buf_free(&pairs);
	free(big);

	/* FCGI_NPARAMS_MAX params pass; one more does not. */
	for (i = 0; i < FCGI_NPARAMS_MAX; i++) {
		snprintf(name, sizeof(name), "P%zu", i);
		tb_nv(&pairs, name, "v");
	}
	UNIT_ASSERT_INT(feed_pairs(&c, &pairs), FCGI_READY);
	UNIT_ASSERT_INT(c.req.nparams, FCGI_NPARAMS_MAX);
	UNIT_ASSERT_STR(fcgi_param(&c.req, "P255"), "v");
	fcgi_conn_free(&c);
	tb_nv(&pairs, "ONE_MORE", "v");
	UNIT_ASSERT_INT(feed_pairs(&c, &pairs), FCGI_ERROR);
	UNIT_ASSERT_CONTAINS(c.error, "more than 256 params");
	fcgi_conn_free(&c);
	buf_free(&pairs);

	/* FCGI_STDIN_MAX bytes of body pass; one more does not. */
	big = sb_calloc(1, FCGI_STDIN_MAX + 1);
	tb_begin(&b, 1, T_RESPONDER, 0);
	tb_rec(&b, T_PARAMS, 1, NULL, 0, 0);
	tb_rec(&b, T_STDIN, 1, big, FCGI_STDIN_MAX - 1, 0);
	tb_rec(&b, T_STDIN, 1, big, 1, 0);
	tb_rec(&b, T_STDIN, 1, NULL, 0, 0);
	UNIT_ASSERT_INT(feed_new(&c, &b, &out, &used), FCGI_READY);
	UNIT_ASSERT_INT(c.req.in_len, FCGI_STDIN_MAX);
	fcgi_conn_free(&c);
	b.len -= 8;
	tb_rec(&b, T_STDIN, 1, big, 1, 0);
	tb_rec(&b, T_STDIN, 1, NULL, 0, 0);
	/* One byte more: read to its end, flagged for a 413, the connection still good. */
	UNIT_ASSERT_INT(feed_new(&c, &b, &out, &used), FCGI_READY);
	UNIT_ASSERT_INT(c.req.over, 413);
	UNIT_ASSERT_INT(used, b.len);
	UNIT_ASSERT_STR(c.error, "");
	fcgi_conn_free(&c);
	free(big);
	UNIT_ASSERT_INT(fcgi_out_pending(&out), 0);
	fcgi_out_free(&out);
	buf_free(&b);
}

static void
test_protocol_errors(void)
{
	struct sb_buf	 b = { 0 }, pairs = { 0 };
	struct fcgi_conn c;
	struct fcgi_out	 out = { 0 };
	size_t		 used;

	tb_vrec(&b, 2, T_BEGIN, 1, "\0\1\0\0\0\0\0\0", 8, 0);
	UNIT_ASSERT_INT(feed_new(&c, &b, &out, &used), FCGI_ERROR);
	UNIT_ASSERT_CONTAINS(c.error, "version 2");
	UNIT_ASSERT_INT(used, 8);
	fcgi_conn_free(&c);

	buf_free(&b);
	tb_rec(&b, T_BEGIN, 1, "\0\1\0\0", 4, 4);
	UNIT_ASSERT_INT(feed_new(&c, &b, &out, &used), FCGI_ERROR);
	UNIT_ASSERT_CONTAINS(c.error, "FCGI_BEGIN_REQUEST");
	fcgi_conn_free(&c);

	/* NUL in a name, NUL in a value, '=' in a name, an empty name, a cut pair. */
	tb_nvn(&pairs, "A\0B", 3, "v", 1);
	UNIT_ASSERT_INT(feed_pairs(&c, &pairs), FCGI_ERROR);
	UNIT_ASSERT_CONTAINS(c.error, "NUL");
	fcgi_conn_free(&c);
	buf_free(&pairs);
	tb_nvn(&pairs, "HTTP_X", 6, "a\0b", 3);
	UNIT_ASSERT_INT(feed_pairs(&c, &pairs), FCGI_ERROR);
	UNIT_ASSERT_CONTAINS(c.error, "value of HTTP_X holds a NUL");
	fcgi_conn_free(&c);
	buf_free(&pairs);
	tb_nv(&pairs, "A=B", "c");
	UNIT_ASSERT_INT(feed_pairs(&c, &pairs), FCGI_ERROR);
	UNIT_ASSERT_CONTAINS(c.error, "'='");
	fcgi_conn_free(&c);
	buf_free(&pairs);
	tb_nv(&pairs, "", "c");
	UNIT_ASSERT_INT(feed_pairs(&c, &pairs), FCGI_ERROR);
	UNIT_ASSERT_CONTAINS(c.error, "empty name");
	fcgi_conn_free(&c);
	buf_free(&pairs);
	tb_nv(&pairs, "A", "1");
	buf_append(&pairs, "\x05\x03" "AB", 4);
	UNIT_ASSERT_INT(feed_pairs(&c, &pairs), FCGI_ERROR);
	UNIT_ASSERT_CONTAINS(c.error, "pair 2 is cut short");
	fcgi_conn_free(&c);
	buf_free(&pairs);
	buf_append(&pairs, "\x85\x00\x00", 3);	/* a 4-byte length cut short */
	UNIT_ASSERT_INT(feed_pairs(&c, &pairs), FCGI_ERROR);
	UNIT_ASSERT_CONTAINS(c.error, "cut short");
	fcgi_conn_free(&c);
	buf_free(&pairs);

	/* Params after their end. */
	buf_free(&b);
	tb_begin(&b, 1, T_RESPONDER, 0);
	tb_rec(&b, T_PARAMS, 1, NULL, 0, 0);
	tb_rec(&b, T_PARAMS, 1, "\x01\x01" "AB", 4, 4);
	UNIT_ASSERT_INT(feed_new(&c, &b, &out, &used), FCGI_ERROR);
	UNIT_ASSERT_CONTAINS(c.error, "after the end");
	fcgi_conn_free(&c);
	UNIT_ASSERT_INT(fcgi_out_pending(&out), 0);
	fcgi_out_free(&out);
	buf_free(&b);
}

static void
test_stdout_split(void)
{
	struct fcgi_out	 out = { 0 };
	struct trec	 r;
	char		*data, *back;
	size_t		 i, pos = 0, n = 0, blen = 0;
	static const size_t want[] = { 65535, 65535, 65535, 200000 - 3 * 65535 };

	data = sb_malloc(200000);
	back = sb_malloc(200000);
	for (i = 0; i < 200000; i++)
		data[i] = (char)(i * 7 % 251);
	fcgi_stdout(&out, 0x0102, data, 0);
	UNIT_ASSERT_INT(fcgi_out_pending(&out), 0);
	fcgi_stdout(&out, 0x0102, data, 200000);
	while (out_rec(&out, &pos, &r)) {
		CU_ASSERT_FATAL(n < 4);
		UNIT_ASSERT_INT(r.version, 1);
		UNIT_ASSERT_INT(r.type, T_STDOUT);
		UNIT_ASSERT_INT(r.id, 0x0102);
		UNIT_ASSERT_INT(r.clen, want[n]);
		UNIT_ASSERT_INT((r.clen + r.pad) % 8, 0);
		CU_ASSERT(r.pad < 8);
		for (i = 0; i < r.pad; i++)
			UNIT_ASSERT_INT(r.content[r.clen + i], 0);
		memcpy(back + blen, r.content, r.clen);
		blen += r.clen;
		n++;
	}
	UNIT_ASSERT_INT(n, 4);
	UNIT_ASSERT_INT(blen, 200000);
	CU_ASSERT(memcmp(back, data, 200000) == 0);
	UNIT_ASSERT_INT(fcgi_out_pending(&out), 200000 + 4 * 8 + 1 + 1 + 1 + 5);
	fcgi_out_free(&out);
	free(data);
	free(back);
}

static void
test_end_bytes(void)
{
	struct fcgi_out	 out = { 0 };
	static const unsigned char want[] = {
		1, T_STDOUT, 0x12, 0x34, 0, 0, 0, 0,
		1, T_END, 0x12, 0x34, 0, 8, 0, 0,
		0xde, 0xad, 0xbe, 0xef, T_COMPLETE, 0, 0, 0
	};

	fcgi_end(&out, 0x1234, 0xdeadbeef);
	UNIT_ASSERT_INT(fcgi_out_pending(&out), sizeof(want));
	CU_ASSERT(memcmp(out.b.data + out.off, want, sizeof(want)) == 0);
	fcgi_out_free(&out);
	CU_ASSERT_PTR_NULL(out.b.data);
	UNIT_ASSERT_INT(out.b.cap, 0);
}

static void
test_out_consume(void)
{
	struct fcgi_out	 out = { 0 };
	char		*data;
	size_t		 i, total, keep;

	data = sb_malloc(100000);
	for (i = 0; i < 100000; i++)
		data[i] = (char)(i % 253);

	/* Small writes: off advances; once all is written the buffer starts over. */
	fcgi_stdout(&out, 1, data, 100);
	total = fcgi_out_pending(&out);
	fcgi_out_consume(&out, 10);
	UNIT_ASSERT_INT(out.off, 10);
	UNIT_ASSERT_INT(fcgi_out_pending(&out), total - 10);
	fcgi_out_consume(&out, total - 10);
	UNIT_ASSERT_INT(out.off, 0);
	UNIT_ASSERT_INT(out.b.len, 0);
	CU_ASSERT_PTR_NOT_NULL(out.b.data);	/* a small buffer is kept */
	fcgi_out_consume(&out, 5);		/* more than pending: nothing happens */
	UNIT_ASSERT_INT(fcgi_out_pending(&out), 0);

	/* A large consumed front is moved out, keeping the pending bytes. */
	fcgi_stdout(&out, 1, data, 100000);
	total = fcgi_out_pending(&out);
	fcgi_out_consume(&out, 60000);
	UNIT_ASSERT_INT(out.off, 0);
	UNIT_ASSERT_INT(out.b.len, total - 60000);
	keep = out.b.len;
	CU_ASSERT(memcmp(out.b.data, data + 60000 - 8, 8) == 0);	/* behind one header */
	/* Appending after a partial write keeps the order. */
	fcgi_end(&out, 1, 0);
	UNIT_ASSERT_INT(fcgi_out_pending(&out), keep + 24);
	UNIT_ASSERT_INT(out.b.data[out.b.len - 24 + 1], T_STDOUT);
	/* A large buffer is released once empty. */
	fcgi_out_consume(&out, fcgi_out_pending(&out));
	UNIT_ASSERT_INT(fcgi_out_pending(&out), 0);
	CU_ASSERT_PTR_NULL(out.b.data);
	UNIT_ASSERT_INT(out.b.cap, 0);
	fcgi_end(&out, 1, 0);
	UNIT_ASSERT_INT(fcgi_out_pending(&out), 24);

	/* Many partial writes of a long stream never let len run away. */
	fcgi_out_consume(&out, 24);
	for (i = 0; i < 1000; i++) {
		fcgi_stdout(&out, 1, data, 1000);
		fcgi_out_consume(&out, 900);
	}
	UNIT_ASSERT_INT(fcgi_out_pending(&out), 1000 * 108);
	CU_ASSERT(out.off < FCGI_OUT_COMPACT_T || out.off < fcgi_out_pending(&out));
	CU_ASSERT(out.b.cap <= 4 * fcgi_out_pending(&out));
	fcgi_out_free(&out);
	free(data);
}

static void
test_param_lookup(void)
{
	struct sb_buf	 pairs = { 0 };
	struct fcgi_conn c;
	struct fcgi_req	 none;

	tb_nv(&pairs, "REQUEST_METHOD", "GET");
	tb_nv(&pairs, "REQUEST_URI", "/a?b=c");
	tb_nv(&pairs, "CONTENT_LENGTH", "");
	tb_nv(&pairs, "HTTP_X_DUP", "first");
	tb_nv(&pairs, "HTTP_X_DUP", "second");
	UNIT_ASSERT_INT(feed_pairs(&c, &pairs), FCGI_READY);
	UNIT_ASSERT_STR(fcgi_param(&c.req, "REQUEST_METHOD"), "GET");
	UNIT_ASSERT_STR(fcgi_param(&c.req, "REQUEST_URI"), "/a?b=c");
	UNIT_ASSERT_STR(fcgi_param(&c.req, "CONTENT_LENGTH"), "");
	UNIT_ASSERT_STR(fcgi_param(&c.req, "HTTP_X_DUP"), "first");
	CU_ASSERT_PTR_NULL(fcgi_param(&c.req, "REQUEST"));	/* a prefix of a name */
	CU_ASSERT_PTR_NULL(fcgi_param(&c.req, "REQUEST_METHOD_X"));
	CU_ASSERT_PTR_NULL(fcgi_param(&c.req, "request_method"));
	CU_ASSERT_PTR_NULL(fcgi_param(&c.req, "QUERY_STRING"));
	fcgi_conn_free(&c);
	buf_free(&pairs);

	/* No params at all: an empty envp. */
	UNIT_ASSERT_INT(feed_pairs(&c, &pairs), FCGI_READY);
	UNIT_ASSERT_INT(c.req.nparams, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.req.envp);
	CU_ASSERT_PTR_NULL(c.req.envp[0]);
	CU_ASSERT_PTR_NULL(fcgi_param(&c.req, "REQUEST_METHOD"));
	fcgi_conn_free(&c);

	memset(&none, 0, sizeof(none));
	CU_ASSERT_PTR_NULL(fcgi_param(&none, "REQUEST_METHOD"));
}

/* The refusals these tests provoke are logged as warnings: not in the report. */
static int
proto_init(void)
{
	log_init("sb-unit-tests", SB_LOG_ERROR);
	return 0;
}

void
suite_fcgi_proto(void)
{
	CU_pSuite s = unit_suite("fcgi_proto", proto_init, NULL);

	unit_test(s, "a GET as Caddy sends it, whole", test_caddy_get_whole);
	unit_test(s, "the same GET byte by byte", test_caddy_get_bytewise);
	unit_test(s, "the same GET split at every position", test_caddy_get_split);
	unit_test(s, "4-byte name and value lengths", test_long_lengths);
	unit_test(s, "params spanning records, padding, stdin", test_params_span_records);
	unit_test(s, "stdin first; other ids and types skipped", test_order_and_skipped);
	unit_test(s, "two requests on a kept connection", test_keep_conn);
	unit_test(s, "FCGI_GET_VALUES answered", test_get_values);
	unit_test(s, "unknown management types answered", test_unknown_type);
	unit_test(s, "roles other than responder refused", test_role_refused);
	unit_test(s, "a second request refused with CANT_MPX_CONN", test_mpx_refused);
	unit_test(s, "FCGI_ABORT_REQUEST", test_abort);
	unit_test(s, "bounds on params and stdin", test_bounds);
	unit_test(s, "protocol errors", test_protocol_errors);
	unit_test(s, "fcgi_stdout splits and pads", test_stdout_split);
	unit_test(s, "fcgi_end bytes", test_end_bytes);
	unit_test(s, "fcgi_out_consume compacts", test_out_consume);
	unit_test(s, "fcgi_param lookups", test_param_lookup);
}
