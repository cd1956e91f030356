/* fcgi.c: the FastCGI 1.0 protocol over buffers (no I/O): records in, records out. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/log.h"
#include "fcgi-app/fcgi.h"

/* Numbers of the FastCGI 1.0 specification. */
#define FCGI_VERSION_1		1
#define FCGI_HEADER_LEN		8
#define FCGI_CONTENT_MAX	65535	/* a record's contentLength is 16 bits */
#define FCGI_KEEP_CONN		1	/* FCGI_BEGIN_REQUEST flags */
#define FCGI_RESPONDER		1	/* the only role this responder plays */

enum fcgi_type {
	FCGI_BEGIN_REQUEST = 1,
	FCGI_ABORT_REQUEST = 2,
	FCGI_END_REQUEST = 3,
	FCGI_PARAMS = 4,
	FCGI_STDIN = 5,
	FCGI_STDOUT = 6,
	FCGI_GET_VALUES = 9,
	FCGI_GET_VALUES_RESULT = 10,
	FCGI_UNKNOWN_TYPE = 11
};

enum fcgi_protocol_status {
	FCGI_REQUEST_COMPLETE = 0,
	FCGI_CANT_MPX_CONN = 1,
	FCGI_UNKNOWN_ROLE = 3
};

/* An output buffer that emptied keeps its memory up to this size: an idle stream
 * should not hold on to the peak of a burst. */
#define FCGI_OUT_KEEP		16384
/* Consumed bytes at the front are moved out once there are this many and at
 * least as many as are still pending (so each byte is moved at most once on average). */
#define FCGI_OUT_COMPACT	4096

/* The answers to FCGI_GET_VALUES: one request per connection, many connections. */
static const struct {
	const char	*name;
	const char	*value;
} fcgi_values[] = {
	{ "FCGI_MAX_CONNS", "100000" },
	{ "FCGI_MAX_REQS", "100000" },
	{ "FCGI_MPXS_CONNS", "0" },
};

/* Where the content of the record being read goes. */
enum fcgi_sink {
	SINK_SKIP,	/* nowhere: padding, ignored records, unknown types */
	SINK_REC,	/* gathered in rec: FCGI_BEGIN_REQUEST, FCGI_GET_VALUES */
	SINK_PARAMS,	/* appended to pairs */
	SINK_STDIN	/* appended to req.in */
};

/* One decoded name-value pair; the pointers are into the encoded bytes. */
struct fcgi_nv {
	const char	*name;
	size_t		 nlen;
	const char	*value;
	size_t		 vlen;
};

static enum fcgi_status
conn_fail(struct fcgi_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static enum fcgi_status
conn_fail(struct fcgi_conn *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	/* Said once, here: the connection is then closed by its owner. */
	log_warn("FastCGI protocol error; connection closed", "{s:s}", "error", c->error);
	return FCGI_ERROR;
}

/* ---------------------------------------------------------------- output */

/* Appends n bytes, moving the consumed front out before growing the buffer. */
static void
out_put(struct fcgi_out *out, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (out->off > 0 && out->b.cap - out->b.len <= n) {
		buf_consume(&out->b, out->off);
		out->off = 0;
	}
	buf_append(&out->b, p, n);
}

/* One record of at most FCGI_CONTENT_MAX bytes, padded to a multiple of 8. */
static void
out_record(struct fcgi_out *out, int type, uint16_t id, const void *content, size_t clen)
{
	static const unsigned char	 zeros[8];
	unsigned char			 h[FCGI_HEADER_LEN];
	size_t				 pad = -clen & 7;

	h[0] = FCGI_VERSION_1;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(id >> 8);
	h[3] = (unsigned char)id;
	h[4] = (unsigned char)(clen >> 8);
	h[5] = (unsigned char)clen;
	h[6] = (unsigned char)pad;
	h[7] = 0;
	out_put(out, h, sizeof(h));
	out_put(out, content, clen);
	out_put(out, zeros, pad);
}

static void
out_end_request(struct fcgi_out *out, uint16_t id, uint32_t app_status, int protocol_status)
{
	unsigned char	 body[8];

	body[0] = (unsigned char)(app_status >> 24);
	body[1] = (unsigned char)(app_status >> 16);
	body[2] = (unsigned char)(app_status >> 8);
	body[3] = (unsigned char)app_status;
	body[4] = (unsigned char)protocol_status;
	body[5] = body[6] = body[7] = 0;
	out_record(out, FCGI_END_REQUEST, id, body, sizeof(body));
}

void
fcgi_stdout(struct fcgi_out *out, uint16_t id, const char *data, size_t len)
{
	size_t	 n;

	while (len > 0) {
		n = len < FCGI_CONTENT_MAX ? len : FCGI_CONTENT_MAX;
		out_record(out, FCGI_STDOUT, id, data, n);
		data += n;
		len -= n;
	}
}

void
fcgi_end(struct fcgi_out *out, uint16_t id, uint32_t app_status)
{
	out_record(out, FCGI_STDOUT, id, NULL, 0);
	out_end_request(out, id, app_status, FCGI_REQUEST_COMPLETE);
}

size_t
fcgi_out_pending(const struct fcgi_out *out)
{
	return out->b.len - out->off;
}

const char *
fcgi_out_head(const struct fcgi_out *out)
{
	return out->b.data + out->off;
}

void
fcgi_out_consume(struct fcgi_out *out, size_t n)
{
	if (n > fcgi_out_pending(out))
		n = fcgi_out_pending(out);
	out->off += n;
	if (out->off == out->b.len) {
		out->off = 0;
		if (out->b.cap > FCGI_OUT_KEEP)
			buf_free(&out->b);
		else
			buf_reset(&out->b);
	} else if (out->off >= FCGI_OUT_COMPACT && out->off >= out->b.len - out->off) {
		buf_consume(&out->b, out->off);
		out->off = 0;
	}
}

char *
fcgi_out_stdout(const struct fcgi_out *out, size_t *len)
{
	const unsigned char	*p = (const unsigned char *)fcgi_out_head(out);
	size_t			 left = fcgi_out_pending(out), clen, rlen, n = 0;
	char			*text = sb_malloc(left + 1);

	while (left >= FCGI_HEADER_LEN) {
		clen = (size_t)p[4] << 8 | p[5];
		rlen = FCGI_HEADER_LEN + clen + p[6];
		if (rlen > left)
			break;
		if (p[1] == FCGI_STDOUT) {
			memcpy(text + n, p + FCGI_HEADER_LEN, clen);
			n += clen;
		}
		p += rlen;
		left -= rlen;
	}
	text[n] = '\0';
	*len = n;
	return text;
}

void
fcgi_out_free(struct fcgi_out *out)
{
	buf_free(&out->b);
	out->off = 0;
}

/* ---------------------------------------------------------------- name-value pairs */

/* A length of 1 byte (high bit clear) or 4 bytes (high bit set, 31 bits big-endian). */
static int
nv_length(const unsigned char *p, size_t len, size_t *off, size_t *n)
{
	if (*off >= len)
		return -1;
	if ((p[*off] & 0x80) == 0) {
		*n = p[(*off)++];
		return 0;
	}
	if (len - *off < 4)
		return -1;
	*n = (size_t)(p[*off] & 0x7f) << 24 | (size_t)p[*off + 1] << 16 |
	    (size_t)p[*off + 2] << 8 | p[*off + 3];
	*off += 4;
	return 0;
}

/* The pair at p + *off, which is moved past it; -1 if the pair is cut short. */
static int
nv_next(const char *p, size_t len, size_t *off, struct fcgi_nv *nv)
{
	const unsigned char	*u = (const unsigned char *)p;
	size_t			 nlen, vlen;

	if (nv_length(u, len, off, &nlen) == -1 || nv_length(u, len, off, &vlen) == -1)
		return -1;
	if (len - *off < nlen || len - *off - nlen < vlen)
		return -1;
	nv->name = p + *off;
	nv->nlen = nlen;
	nv->value = p + *off + nlen;
	nv->vlen = vlen;
	*off += nlen + vlen;
	return 0;
}

/* Encodes a pair of short strings (under 128 bytes each) at p; returns its size. */
static size_t
nv_put(char *p, const char *name, const char *value)
{
	size_t	 nlen = strlen(name), vlen = strlen(value);

	p[0] = (char)nlen;
	p[1] = (char)vlen;
	memcpy(p + 2, name, nlen);
	memcpy(p + 2 + nlen, value, vlen);
	return 2 + nlen + vlen;
}

/*
 * Turns the gathered FCGI_PARAMS stream into envp: one allocation holding the
 * pointer array and then the strings, so free(envp) releases everything.  Each
 * pair takes at least 2 encoded bytes for its lengths, which become '=' and the
 * NUL, so the strings need no more than the encoded size.
 */
static enum fcgi_status
params_decode(struct fcgi_conn *c)
{
	struct fcgi_nv	 nv;
	size_t		 off, n, i, bytes = 0;
	char		**envp, *s;

	for (off = 0, n = 0; off < c->pairs.len; n++) {
		if (nv_next(c->pairs.data, c->pairs.len, &off, &nv) == -1)
			return conn_fail(c, "FCGI_PARAMS: name-value pair %zu is cut short", n + 1);
		if (n == FCGI_NPARAMS_MAX)
			return conn_fail(c, "FCGI_PARAMS: more than %d params", FCGI_NPARAMS_MAX);
		if (nv.nlen == 0)
			return conn_fail(c, "FCGI_PARAMS: param %zu has an empty name", n + 1);
		/* envp cannot hold a NUL, and an '=' in a name would be read as its end. */
		if (memchr(nv.name, '\0', nv.nlen) != NULL || memchr(nv.name, '=', nv.nlen) != NULL)
			return conn_fail(c, "FCGI_PARAMS: the name of param %zu holds a NUL or '='",
			    n + 1);
		if (memchr(nv.value, '\0', nv.vlen) != NULL)
			return conn_fail(c, "FCGI_PARAMS: the value of %.*s holds a NUL",
			    (int)(nv.nlen < 40 ? nv.nlen : 40), nv.name);
		bytes += nv.nlen + nv.vlen + 2;
	}
	envp = sb_malloc((n + 1) * sizeof(*envp) + bytes);
	s = (char *)(envp + n + 1);
	for (off = 0, i = 0; i < n; i++) {
		(void)nv_next(c->pairs.data, c->pairs.len, &off, &nv);
		envp[i] = s;
		memcpy(s, nv.name, nv.nlen);
		s += nv.nlen;
		*s++ = '=';
		if (nv.vlen > 0)
			memcpy(s, nv.value, nv.vlen);
		s += nv.vlen;
		*s++ = '\0';
	}
	envp[n] = NULL;
	c->req.envp = envp;
	c->req.nparams = n;
	buf_free(&c->pairs);
	return FCGI_MORE;
}

/* ---------------------------------------------------------------- records in */

/* Management records have request id 0; a record for a request other than the
 * active one is ignored, except FCGI_BEGIN_REQUEST, which must be answered. */
static enum fcgi_sink
rec_sink(const struct fcgi_conn *c)
{
	if (c->rec_id == 0)
		return c->type == FCGI_GET_VALUES ? SINK_REC : SINK_SKIP;
	if (c->type == FCGI_BEGIN_REQUEST)
		return SINK_REC;
	if (c->req.id == 0 || c->rec_id != c->req.id)
		return SINK_SKIP;
	if (c->type == FCGI_PARAMS)
		return SINK_PARAMS;
	if (c->type == FCGI_STDIN)
		return SINK_STDIN;
	return SINK_SKIP;
}

/* A whole header arrived: checks it and makes room for the content, whose size
 * is known now, so the bounds hold before any of it is stored. */
static enum fcgi_status
rec_begin(struct fcgi_conn *c)
{
	const unsigned char	*h = c->head;
	size_t			 clen;

	if (h[0] != FCGI_VERSION_1)
		return conn_fail(c, "a record of FastCGI version %u (only 1 is known)", h[0]);
	c->type = h[1];
	c->rec_id = (uint16_t)(h[2] << 8 | h[3]);
	clen = (size_t)h[4] << 8 | h[5];
	c->body_left = clen;
	c->pad_left = h[6];
	c->rec_len = 0;

	switch (rec_sink(c)) {
	case SINK_REC:
		if (c->type == FCGI_BEGIN_REQUEST && clen != 8)
			return conn_fail(c, "FCGI_BEGIN_REQUEST with a body of %zu bytes, not 8",
			    clen);
		if (clen > 0)
			c->rec = sb_malloc(clen);
		break;
	case SINK_PARAMS:
		if (c->req.params_done)
			return conn_fail(c, "FCGI_PARAMS after the end of the params");
		if (c->req.params_bytes + clen > FCGI_PARAMS_MAX && c->req.over == 0)
			c->req.over = 431;
		if (clen > 0 && c->req.over != 431)
			(void)buf_reserve(&c->pairs, clen);	/* bounded by the 431 above */
		break;
	case SINK_STDIN:
		if (c->req.stdin_done)
			return conn_fail(c, "FCGI_STDIN after the end of stdin");
		if (c->req.in_len + clen > c->stdin_max && c->req.over == 0)
			c->req.over = 413;
		if (c->req.over != 0)
			break;		/* read to its end, kept no more */
		c->req.in = sb_realloc(c->req.in, c->req.in_len + clen + 1);
		c->req.in[c->req.in_len] = '\0';
		break;
	case SINK_SKIP:
		break;
	}
	return FCGI_MORE;
}

/* Content bytes; rec_len counts them whatever the sink, so an empty record shows. */
static void
rec_content(struct fcgi_conn *c, const char *p, size_t n)
{
	switch (rec_sink(c)) {
	case SINK_REC:
		memcpy(c->rec + c->rec_len, p, n);
		break;
	case SINK_PARAMS:
		c->req.params_bytes += n;
		if (c->req.over == 431)
			break;
		(void)buf_append(&c->pairs, p, n);
		break;
	case SINK_STDIN:
		if (c->req.over != 0)
			break;
		memcpy(c->req.in + c->req.in_len, p, n);
		c->req.in_len += n;
		c->req.in[c->req.in_len] = '\0';
		break;
	case SINK_SKIP:
		break;
	}
	c->rec_len += n;
}

/* Answers the variables asked for that this responder knows, each once, in the
 * order asked; the specification says to omit the others. */
static enum fcgi_status
get_values(struct fcgi_conn *c, struct fcgi_out *out)
{
	struct fcgi_nv	 nv;
	char		 body[128];
	size_t		 off = 0, blen = 0, i;
	unsigned int	 answered = 0;

	while (off < c->rec_len) {
		if (nv_next(c->rec, c->rec_len, &off, &nv) == -1)
			return conn_fail(c, "FCGI_GET_VALUES: a name-value pair is cut short");
		for (i = 0; i < sizeof(fcgi_values) / sizeof(fcgi_values[0]); i++) {
			if ((answered & 1u << i) != 0 || nv.nlen != strlen(fcgi_values[i].name) ||
			    memcmp(nv.name, fcgi_values[i].name, nv.nlen) != 0)
				continue;
			answered |= 1u << i;
			blen += nv_put(body + blen, fcgi_values[i].name, fcgi_values[i].value);
		}
	}
	out_record(out, FCGI_GET_VALUES_RESULT, 0, body, blen);
	return FCGI_MORE;
}

static void
out_unknown_type(struct fcgi_out *out, int type)
{
	unsigned char	 body[8] = { (unsigned char)type };

	out_record(out, FCGI_UNKNOWN_TYPE, 0, body, sizeof(body));
}

/* A new request: taken if it is the only one and a responder's, refused otherwise. */
static enum fcgi_status
begin_request(struct fcgi_conn *c, struct fcgi_out *out)
{
	const unsigned char	*b = (const unsigned char *)c->rec;
	int			 role = b[0] << 8 | b[1];

	if (c->req.id != 0) {
		if (c->rec_id == c->req.id)
			return conn_fail(c, "FCGI_BEGIN_REQUEST for request %u, already active",
			    c->rec_id);
		out_end_request(out, c->rec_id, 0, FCGI_CANT_MPX_CONN);
		return FCGI_MORE;
	}
	if (role != FCGI_RESPONDER) {
		out_end_request(out, c->rec_id, 0, FCGI_UNKNOWN_ROLE);
		return FCGI_MORE;
	}
	c->req.id = c->rec_id;
	c->req.keep_conn = (b[2] & FCGI_KEEP_CONN) != 0;
	return FCGI_MORE;
}

/* A record of the active request; an empty FCGI_PARAMS or FCGI_STDIN ends its stream. */
static enum fcgi_status
req_record(struct fcgi_conn *c)
{
	switch (c->type) {
	case FCGI_ABORT_REQUEST:
		c->req.aborted = 1;
		return FCGI_ABORTED;
	case FCGI_PARAMS:
		if (c->rec_len > 0)
			return FCGI_MORE;
		if (c->req.over == 431) {
			/* Answered 431 without reading them: no params at all. */
			buf_free(&c->pairs);
			c->req.envp = sb_calloc(1, sizeof(char *));
		} else if (params_decode(c) == FCGI_ERROR)
			return FCGI_ERROR;
		c->req.params_done = 1;
		break;
	case FCGI_STDIN:
		if (c->rec_len > 0)
			return FCGI_MORE;
		c->req.stdin_done = 1;
		break;
	default:
		return FCGI_MORE;	/* FCGI_DATA and the like: not a responder's */
	}
	return c->req.params_done && c->req.stdin_done ? FCGI_READY : FCGI_MORE;
}

/* A whole record, padding included, arrived. */
static enum fcgi_status
rec_end(struct fcgi_conn *c, struct fcgi_out *out)
{
	enum fcgi_status	 st = FCGI_MORE;

	if (c->rec_id == 0) {
		if (c->type == FCGI_GET_VALUES)
			st = get_values(c, out);
		else
			out_unknown_type(out, c->type);
	} else if (c->type == FCGI_BEGIN_REQUEST)
		st = begin_request(c, out);
	else if (c->req.id != 0 && c->rec_id == c->req.id)
		st = req_record(c);
	free(c->rec);
	c->rec = NULL;
	c->rec_len = 0;
	c->head_len = 0;
	return st;
}

void
fcgi_conn_init(struct fcgi_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->stdin_max = FCGI_STDIN_MAX;
}

void
fcgi_conn_free(struct fcgi_conn *c)
{
	fcgi_req_reset(c);
	free(c->rec);
	memset(c, 0, sizeof(*c));
}

/* Once FCGI_ERROR was returned, the connection stays failed: error keeps the first reason. */
enum fcgi_status
fcgi_feed(struct fcgi_conn *c, const char *buf, size_t len, size_t *used, struct fcgi_out *out)
{
	enum fcgi_status	 st;
	size_t			 i = 0, n;

	*used = 0;
	if (c->error[0] != '\0')
		return FCGI_ERROR;
	while (i < len) {
		if (c->head_len < FCGI_HEADER_LEN) {
			n = FCGI_HEADER_LEN - c->head_len;
			if (n > len - i)
				n = len - i;
			memcpy(c->head + c->head_len, buf + i, n);
			c->head_len += n;
			i += n;
			if (c->head_len < FCGI_HEADER_LEN)
				break;
			if (rec_begin(c) == FCGI_ERROR) {
				*used = i;
				return FCGI_ERROR;
			}
		} else if (c->body_left > 0) {
			n = c->body_left < len - i ? c->body_left : len - i;
			rec_content(c, buf + i, n);
			c->body_left -= n;
			i += n;
		} else {
			n = c->pad_left < len - i ? c->pad_left : len - i;
			c->pad_left -= n;
			i += n;
		}
		if (c->body_left == 0 && c->pad_left == 0) {
			st = rec_end(c, out);
			if (st != FCGI_MORE) {
				*used = i;
				return st;
			}
		}
	}
	*used = i;
	return FCGI_MORE;
}

void
fcgi_req_reset(struct fcgi_conn *c)
{
	free(c->req.envp);
	free(c->req.in);
	buf_free(&c->pairs);
	memset(&c->req, 0, sizeof(c->req));
}

int
fcgi_body_refused(const struct fcgi_req *r, long long max_body)
{
	const char	*cl;
	char		*end;
	long long	 len;

	if (!r->params_done || r->stdin_done || r->over != 0 ||
	    (cl = fcgi_param(r, "CONTENT_LENGTH")) == NULL)
		return 0;
	len = strtoll(cl, &end, 10);
	return *end == '\0' && len > max_body;
}

const char *
fcgi_param(const struct fcgi_req *req, const char *name)
{
	size_t	 nlen = strlen(name);
	char	**e;

	if (req->envp == NULL)
		return NULL;
	for (e = req->envp; *e != NULL; e++)
		if (strncmp(*e, name, nlen) == 0 && (*e)[nlen] == '=')
			return *e + nlen + 1;
	return NULL;
}
