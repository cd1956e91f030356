/* mock.h: what the test doubles in tests/mock share: a loopback listener and HTTP/1.1. */
#ifndef SB_MOCK_H
#define SB_MOCK_H

#include <signal.h>
#include <stddef.h>

#include "core/buf.h"

#define MOCK_HEAD_MAX	16384	/* request line and headers */
#define MOCK_HDRS	64	/* headers kept per request; later ones are ignored */

struct mock_hdr {
	const char	*name, *value;
};

/*
 * A parsed request.  The request line and headers point into a static copy of the
 * head, the body into the caller's buffer: valid until the next mock_http_parse().
 */
struct mock_req {
	const char	*method, *path, *query;	/* query: "" when there is none */
	const char	*body;			/* NUL-terminated, bodylen bytes */
	size_t		 headlen, bodylen;	/* the request is headlen + bodylen bytes */
	struct mock_hdr	 hdr[MOCK_HDRS];
	int		 nhdr;
};

/* Set by SIGTERM or SIGINT once mock_signals() ran; SIGPIPE is ignored. */
extern volatile sig_atomic_t mock_stopping;

void		 mock_signals(void);

/* A non-blocking listening socket on 127.0.0.1:port, or -1 with errno set. */
int		 mock_listen(int port, int backlog);

/*
 * Parses the request at the start of in[0..inlen), where in has room for one more
 * byte.  Returns 0 to read more (q->method is set once the head is whole and q's
 * headers can be read), 200 when q holds the whole request, or the status to answer
 * and close with: 431 (no head within headmax bytes, at most MOCK_HEAD_MAX), 400
 * (malformed) or 413 (head and body larger than max).
 */
int		 mock_http_parse(char *in, size_t inlen, size_t headmax, size_t max,
		    struct mock_req *q);
/* The value of the first header called name (any case), or NULL. */
const char	*mock_http_header(const struct mock_req *, const char *name);
const char	*mock_http_reason(int status);
/*
 * Appends an answer's status line and headers, with Cache-Control: no-store and
 * Connection: close: a body of clen bytes, or chunked when clen is negative.  extra
 * is NULL or more header lines, each ending in CRLF.
 */
void		 mock_http_head(struct sb_buf *, int status, const char *ctype, long long clen,
		    const char *extra);

/* Sends b->data[*off..b->len) as far as the socket takes it.  1: all sent, 0: try
 * again when writable, -1: the connection failed. */
int		 mock_send(int fd, const struct sb_buf *b, size_t *off);

#endif /* SB_MOCK_H */
