/* response.h: answering a request: headers, JSON and problem bodies, streamed
 * bodies.  resp_json() and resp_problem() take the reference they are given. */
#ifndef SB_FCGI_APP_RESPONSE_H
#define SB_FCGI_APP_RESPONSE_H

#include <stddef.h>
#include <stdio.h>
#include <jansson.h>
#include "core/arena.h"
#include "core/err.h"
#include "fcgi-app/request.h"

void		 resp_header(struct sb_req *, const char *name, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
int		 resp_has_header(const struct sb_req *, const char *name);
void		 resp_send(struct sb_req *, int status, const char *content_type,
		    const void *body, size_t len);
void		 resp_json(struct sb_req *, int status, json_t *);		/* steals the reference */
/* The head of a response whose body follows piece by piece (server-sent events):
 * status 200, the usual headers and the request's own, no Content-Length. */
void		 resp_stream_begin(struct sb_req *, const char *content_type);
void		 resp_write(struct sb_req *, const char *buf, size_t len);
/* switchboard-fcgi, once the answer is complete: FCGI_END_REQUEST after it, and all of
 * it written to req->fd within http.request_timeout.  -1 when the web server did not
 * take it (its client left). */
int		 resp_end(struct sb_req *);
/* v as compact JSON text in the arena (v is not stolen); any value, full precision. */
char		*arena_json(struct sb_arena *, json_t *v);
void		 resp_problem(struct sb_req *, json_t *problem);		/* steals the reference */
void		 resp_error(struct sb_req *, int status, const char *slug, const char *detail);
/* Prepares req->problem and returns err: `return req_fail(req, SB_ERR_INVALID, "bad-x", "...")` */
enum sb_err	 req_fail(struct sb_req *, enum sb_err, const char *slug, const char *detail);

#endif /* SB_FCGI_APP_RESPONSE_H */
