/* request.h: one request: what the web server sent (params, body, the caller
 * once authenticated) and the accessors for it.  Everything a request holds lives in
 * its arena and is released when the request ends. */
#ifndef SB_FCGI_APP_REQUEST_H
#define SB_FCGI_APP_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "core/arena.h"
#include "core/crypto.h"
#include "core/err.h"
#include "fcgi-app/fcgi.h"
#include "fcgi-app/router.h"

struct app;

struct header {
	const char	*name;
	const char	*value;
};

enum auth_kind { AUTH_NONE, AUTH_SESSION, AUTH_KEY, AUTH_JWT };

/* Who is calling, once authenticated. */
struct principal {
	enum auth_kind	 kind;
	int64_t		 org_id;
	int64_t		 user_id;	/* 0 for a key with no creator and for tokens */
	int64_t		 key_id;	/* api_keys.id for AUTH_KEY */
	int64_t		 session_id;
	int		 role;		/* enum sb_role, -1 for keys */
	unsigned	 scopes;
	char		 csrf[TOKEN_LEN + 1];		/* sessions only */
	char		 token_hash[HASH_HEX_LEN + 1];	/* sessions only */
	char		 subject[128];	/* "sub" of a token, the key id of a key */
	int64_t		 expires;	/* Unix seconds the credential expires; 0: never */
	/* What GET /api/v1/me shows, from the credential's cache entry: NULL when not
	 * loaded (then /me reads the database). */
	const char	*email, *name, *org_slug, *org_name;
};

struct sb_req {
	struct app		*app;
	char			**envp;		/* FastCGI params, valid during the request */
	const char		*in;		/* FCGI_STDIN as the web server sent it, whole */
	size_t			 in_len;
	int			 over;		/* 431 or 413: the parser kept no params or no
						 * body (over its bound); answered with it */
	struct fcgi_out		*out;		/* the answer, as FCGI_STDOUT records */
	uint16_t		 fcgi_id;	/* of the request they answer */
	int			 fd;		/* switchboard-fcgi: the connection the answer
						 * is written to when it is complete; -1 when
						 * the caller writes out itself (stream/) */
	struct sb_arena		*arena;

	const char		*method;
	const char		*path;		/* raw, without the query */
	const char		*query;		/* raw, "" when absent */
	const char		*remote_addr;
	int			 https;		/* the web server says the request came over TLS */
	char			 request_id[65];
	int64_t			 start_us;

	const struct route	*route;
	int			 route_index;	/* -1 when unmatched */
	struct principal	 who;
	struct route_match	 match;

	const char		*body;		/* NUL-terminated copy, or NULL */
	size_t			 body_len;
	json_t			*json;		/* parsed body, owned by the request */
	json_t			*problem;	/* prepared by a handler that fails */

	struct header		*headers;	/* extra response headers */
	size_t			 nheaders, capheaders;
	int			 status;
	size_t			 bytes_out;
	int			 answered;
	int			 deferred;	/* switchboard-stream answers it later */
	int			 client_gone;
	int			 long_strings;	/* the route is ROUTE_TEXT: strings of the body
						 * are bounded by http.max_body alone */

	/* the query string, split on first use */
	struct header		*qparams;
	size_t			 nqparams;
	int			 query_parsed;
	const char		*query_bad;	/* the name of a pair that did not decode */
};

/* A request made from what the parser gathered (fr stays the caller's and must outlive
 * the request); its answer is appended to out as records of fr's id.  fd is -1. */
void		 req_init(struct sb_req *, struct app *, const struct fcgi_req *fr,
		    struct fcgi_out *out, struct sb_arena *);
const char	*req_param(const struct sb_req *, const char *name);	/* FastCGI param */
/* The name of the first query pair that does not decode to UTF-8 without NUL (the
 * request is then refused: no pair is ever dropped and the rest used), or NULL. */
const char	*req_query_bad(struct sb_req *);	/* all params, "NAME=value" */
const char	*req_header(const struct sb_req *, const char *name);	/* "X-Request-Id" */
const char	*req_query(struct sb_req *, const char *name);		/* decoded, or NULL */
const char	*req_path_param(const struct sb_req *, const char *name);
/* The value of cookie name in the Cookie header (exact name), in the arena, or NULL. */
const char	*req_cookie(struct sb_req *, const char *name);
int		 req_is_loopback(const struct sb_req *);
int		 content_type_is_json(const char *);
int		 request_id_valid(const char *);
/* Seeds this process' request ids: every worker calls it once after fork. */
void		 request_ids_init(void);
/* Reads and checks the body (size, media type, JSON); on failure req->problem is set. */
enum sb_err	 req_read_body(struct sb_req *);
void		 req_free(struct sb_req *);

#endif /* SB_FCGI_APP_REQUEST_H */
