/* fuzz_fcgi.c: switchboard-stream's FastCGI decoder (fcgi-app/fcgi.c) fed a hostile web server. */
#include "config.h"

#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "fcgi-app/fcgi.h"
#include "tests/fuzz/fuzz.h"

/* What a connection did is written down (an sb_buf) so that two ways of feeding it
 * compare; a string goes with its NUL. */
static void
tr_str(struct sb_buf *t, const char *s)
{
	buf_append(t, s, strlen(s) + 1);
}

/* The answer records must be whole, well-formed FastCGI records of the kinds a
 * responder sends. */
static void
check_out(const struct fcgi_out *out)
{
	const unsigned char	*p;
	size_t			 left = fcgi_out_pending(out), clen, pad;

	FUZZ_ASSERT(out->off <= out->b.len && (out->b.data == NULL || out->b.len < out->b.cap));
	if (left == 0)
		return;
	p = (const unsigned char *)fcgi_out_head(out);
	while (left > 0) {
		FUZZ_ASSERT(left >= 8);
		FUZZ_ASSERT(p[0] == 1);
		FUZZ_ASSERT(p[1] == 3 || p[1] == 6 || p[1] == 10 || p[1] == 11);
		clen = (size_t)p[4] << 8 | p[5];
		pad = p[6];
		FUZZ_ASSERT(pad < 8 && (clen + pad) % 8 == 0);
		FUZZ_ASSERT(left - 8 >= clen + pad);
		if (p[1] == 3 || p[1] == 11)
			FUZZ_ASSERT(clen == 8);
		p += 8 + clen + pad;
		left -= 8 + clen + pad;
	}
}

/* A request the decoder calls ready must be whole and within the bounds. */
static void
check_ready(const struct fcgi_conn *c, struct sb_buf *t)
{
	const struct fcgi_req	*r = &c->req;
	char			 id[8];
	size_t			 i;

	FUZZ_ASSERT(r->id != 0 && r->params_done && r->stdin_done && !r->aborted);
	FUZZ_ASSERT(r->nparams <= FCGI_NPARAMS_MAX && r->params_bytes <= FCGI_PARAMS_MAX);
	FUZZ_ASSERT(r->in_len <= FCGI_STDIN_MAX);
	FUZZ_ASSERT(r->in_len == 0 || (r->in != NULL && r->in[r->in_len] == '\0'));
	snprintf(id, sizeof(id), "%u", r->id);
	tr_str(t, "READY");
	tr_str(t, id);
	for (i = 0; i < r->nparams; i++) {
		const char *eq = strchr(r->envp[i], '=');

		FUZZ_ASSERT(eq != NULL && eq > r->envp[i]);
		tr_str(t, r->envp[i]);
	}
	FUZZ_ASSERT(r->nparams == 0 || r->envp[r->nparams] == NULL);
	if (r->in_len > 0)
		buf_append(t, r->in, r->in_len);
	tr_str(t, "END");
}

/*
 * Feeds one chunk as switchboard-stream does: a ready request is answered at once,
 * and on a kept connection the decoder goes on with the next.  Returns 0 to go on,
 * -1 once the connection would be closed.
 */
static int
feed(struct fcgi_conn *c, struct fcgi_out *out, const char *buf, size_t len,
    struct sb_buf *t)
{
	enum fcgi_status	 st;
	size_t			 off = 0, used;

	while (off < len) {
		used = (size_t)-1;
		st = fcgi_feed(c, buf + off, len - off, &used, out);
		FUZZ_ASSERT(used <= len - off);
		FUZZ_ASSERT(st != FCGI_MORE || used == len - off);
		off += used;
		check_out(out);
		switch (st) {
		case FCGI_MORE:
			break;
		case FCGI_READY:
			check_ready(c, t);
			fcgi_end(out, c->req.id, 0);
			check_out(out);
			if (!c->req.keep_conn) {
				tr_str(t, "CLOSE");
				return -1;
			}
			fcgi_req_reset(c);
			break;
		case FCGI_ABORTED:
			FUZZ_ASSERT(c->req.aborted);
			tr_str(t, "ABORTED");
			return -1;
		case FCGI_ERROR:
			FUZZ_ASSERT(c->error[0] != '\0');
			FUZZ_ASSERT(memchr(c->error, '\0', sizeof(c->error)) != NULL);
			tr_str(t, "ERROR");
			tr_str(t, c->error);
			/* Failed stays failed. */
			FUZZ_ASSERT(fcgi_feed(c, buf, len, &used, out) == FCGI_ERROR && used == 0);
			return -1;
		}
	}
	return 0;
}

/* The whole input through one connection, cut into chunks whose sizes come from
 * seed (0: in one piece).  The transcript ends with what was answered. */
static void
drive(const char *buf, size_t len, unsigned seed, struct sb_buf *t)
{
	struct fcgi_conn	 c;
	struct fcgi_out		 out = { 0 };
	size_t			 off = 0, n;

	fcgi_conn_init(&c);
	while (off < len) {
		n = len - off;
		if (seed != 0) {
			seed = seed * 1103515245u + 12345u;
			n = 1 + (seed >> 16) % 23;
			if (n > len - off)
				n = len - off;
		}
		if (feed(&c, &out, buf + off, n, t) < 0)
			break;
		off += n;
	}
	tr_str(t, "OUT");
	if (fcgi_out_pending(&out) > 0)
		buf_append(t, fcgi_out_head(&out), fcgi_out_pending(&out));
	/* Drain it the way the socket would, in odd pieces. */
	while (fcgi_out_pending(&out) > 0) {
		fcgi_out_consume(&out, 4099);
		check_out(&out);
	}
	fcgi_out_free(&out);
	fcgi_conn_free(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sb_buf		 whole = { 0 }, split = { 0 };
	unsigned		 seed;

	if (size < 1)
		return 0;
	seed = data[0] | 1u;
	drive((const char *)data + 1, size - 1, 0, &whole);
	drive((const char *)data + 1, size - 1, seed, &split);
	/* Records may arrive split anywhere: the outcome must not depend on where. */
	FUZZ_ASSERT(whole.len == split.len && memcmp(whole.data, split.data, whole.len) == 0);
	buf_free(&whole);
	buf_free(&split);
	return 0;
}
