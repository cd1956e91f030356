/* router.h: the route table and the router: method and path to a handler, with
 * 404, 405, OPTIONS and trailing-slash answers.  Matched parameters live in the
 * request's arena. */
#ifndef SB_FCGI_APP_ROUTER_H
#define SB_FCGI_APP_ROUTER_H

#include <stddef.h>
#include "core/arena.h"
#include "core/err.h"

struct sb_req;

/* A handler answers through resp_*() and returns SB_OK, or returns an error
 * without answering and the dispatcher turns it into a problem response
 * (req->problem if the handler prepared one). */
typedef enum sb_err (*handler_fn)(struct sb_req *);

/* Route flags.  Every route requires an authenticated caller unless ROUTE_PUBLIC. */
#define ROUTE_DB	0x01	/* needs PostgreSQL: 503 + Retry-After while it is down */
#define ROUTE_LOOPBACK	0x02	/* only for loopback clients unless configured otherwise */
#define ROUTE_PUBLIC	0x04	/* no credentials needed (rate limited per IP) */
#define ROUTE_SESSION	0x08	/* only for browser sessions (logout) */
#define ROUTE_LOGIN	0x10	/* the login rate class */
#define ROUTE_NOLIMIT	0x20	/* with ROUTE_PUBLIC: no rate limit (health checks, metrics) */
#define ROUTE_STREAM	0x40	/* held open: served by switchboard-stream (stream/) */
#define ROUTE_TEXT	0x80	/* its body carries a document: a string may be as long
				 * as http.max_body, not http.max_json_string */


struct route {
	const char	*method;	/* "GET", "POST", ...; GET also answers HEAD */
	const char	*pattern;	/* "/api/v1/runs/{id}" */
	handler_fn	 handler;
	unsigned	 scope;		/* SCOPE_* bits the caller needs; 0: any authenticated */
	unsigned	 flags;
};

#define ROUTE_MAX_PARAMS 8

enum route_result {
	ROUTE_FOUND,
	ROUTE_NOT_FOUND,
	ROUTE_METHOD_NOT_ALLOWED,	/* m->allow lists the methods */
	ROUTE_OPTIONS,			/* OPTIONS on a known path: m->allow */
	ROUTE_REDIRECT,			/* trailing slash: m->location is canonical */
	ROUTE_BAD_PATH			/* undecodable %-escape in a parameter */
};

struct route_match {
	int		 index;		/* into the table, when found */
	size_t		 nparams;
	const char	*names[ROUTE_MAX_PARAMS];
	const char	*values[ROUTE_MAX_PARAMS];	/* decoded, in the arena */
	char		 allow[80];
	const char	*location;
};

/* The route table (handlers/routes.c) and its size. */
extern const struct route	routes[];
extern const size_t		nroutes;

/* Matches method and path (without query) against table.  Strings in m live in a. */
enum route_result router_match(const struct route *table, size_t n, const char *method,
		    const char *path, struct sb_arena *a, struct route_match *m);
/* Decodes %XX escapes of s (len bytes); NULL if malformed or if it decodes to NUL or '/'. */
char		*url_decode(struct sb_arena *, const char *s, size_t len, int plus_is_space);

#endif /* SB_FCGI_APP_ROUTER_H */
