/* fcgi.h: the FastCGI protocol (version 1) over buffers: records in, records out.  Both
 * programs speak it: switchboard-fcgi's master reads whole requests with it before a
 * worker sees them, and switchboard-stream serves its connections with it. */
#ifndef SB_FCGI_H
#define SB_FCGI_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Bounds on what one request may send before it is answered. */
#define FCGI_PARAMS_MAX		32768	/* bytes of name-value pairs, encoded: 431 */
#define FCGI_NPARAMS_MAX	256
#define FCGI_STDIN_MAX		8192	/* the default stdin bound: the stream routes take
						 * no body (switchboard-fcgi sets http.max_body) */

/* The records waiting for the socket: b holds them, the first off of them already
 * written (moved out when room is needed, and from time to time as it drains). */
struct fcgi_out {
	struct sb_buf	 b;
	size_t		 off;
};

/* One request as the web server sent it. */
struct fcgi_req {
	uint16_t	 id;		/* request id; 0 before FCGI_BEGIN_REQUEST */
	int		 keep_conn;	/* the server keeps the connection for another request */
	char		**envp;		/* "NAME=value" strings, NULL-terminated (malloc'd) */
	size_t		 nparams;
	size_t		 params_bytes;
	int		 params_done;	/* the empty FCGI_PARAMS record arrived */
	char		*in;		/* FCGI_STDIN content, NUL-terminated */
	size_t		 in_len;
	int		 stdin_done;	/* the empty FCGI_STDIN record arrived */
	int		 aborted;	/* FCGI_ABORT_REQUEST arrived */
	int		 over;		/* 431: params over FCGI_PARAMS_MAX, 413: stdin over
					 * the connection's stdin_max (read to the end, not
					 * kept: the request is answered with the status) */
};

enum fcgi_status {
	FCGI_MORE,		/* consumed what could be; wants more bytes */
	FCGI_READY,		/* the request's params and stdin are complete */
	FCGI_ABORTED,		/* the server aborted the request */
	FCGI_ERROR		/* a protocol error or a bound exceeded: close the connection */
};

/* The parser of one connection: bytes in, one request at a time.  Management records
 * (FCGI_GET_VALUES), unknown record types, a second request on the connection (this
 * responder does not multiplex) and roles other than responder are answered in out
 * as the specification says.  Records may arrive split anywhere. */
struct fcgi_conn {
	struct fcgi_req	 req;
	unsigned char	 head[8];	/* the record header being read */
	size_t		 head_len;
	size_t		 body_left;	/* content bytes of the current record still to come */
	size_t		 pad_left;	/* padding bytes still to skip */
	int		 type;		/* of the current record */
	uint16_t	 rec_id;
	char		*rec;		/* the current record's content, gathered */
	size_t		 rec_len;
	struct sb_buf	 pairs;		/* FCGI_PARAMS content so far (pairs may span records) */
	size_t		 stdin_max;	/* bytes of stdin kept; FCGI_STDIN_MAX unless set */
	char		 error[128];	/* why FCGI_ERROR */
};

void		 fcgi_conn_init(struct fcgi_conn *);
void		 fcgi_conn_free(struct fcgi_conn *);	/* frees the request too */
/* Feeds bytes; *used says how many were consumed (all of them unless READY or
 * ABORTED came first: the rest belongs after the answer).  Answers to management
 * records and refusals are appended to out; FCGI_ERROR is logged here. */
enum fcgi_status fcgi_feed(struct fcgi_conn *, const char *buf, size_t len, size_t *used,
		    struct fcgi_out *out);
/* After a request was answered, forget it, ready for the next on a kept connection. */
void		 fcgi_req_reset(struct fcgi_conn *);
/* Params whole, body not, and a Content-Length over max_body: a request to answer 413
 * at once, without reading its body. */
int		 fcgi_body_refused(const struct fcgi_req *, long long max_body);
/* A param's value, or NULL. */
const char	*fcgi_param(const struct fcgi_req *, const char *name);

/* Output records for request id: FCGI_STDOUT content (split into records of at most
 * 65535 bytes, padded to 8), and the end: an empty FCGI_STDOUT then FCGI_END_REQUEST
 * with appStatus and FCGI_REQUEST_COMPLETE. */
void		 fcgi_stdout(struct fcgi_out *, uint16_t id, const char *data, size_t len);
void		 fcgi_end(struct fcgi_out *, uint16_t id, uint32_t app_status);
/* Bytes waiting in out, where they start, and dropping n of them once written. */
size_t		 fcgi_out_pending(const struct fcgi_out *);
const char	*fcgi_out_head(const struct fcgi_out *);
void		 fcgi_out_consume(struct fcgi_out *, size_t n);
void		 fcgi_out_free(struct fcgi_out *);
/* The FCGI_STDOUT content of the whole records waiting in out, in order (what the web
 * server takes from them), NUL-terminated; malloc'd, *len its size.  For tests. */
char		*fcgi_out_stdout(const struct fcgi_out *, size_t *len);

#endif /* SB_FCGI_H */
