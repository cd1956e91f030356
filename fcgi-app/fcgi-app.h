/* fcgi-app.h: the app module both FastCGI programs sit on: routes, requests and responses,
 * access, dispatch (switchboard-fcgi's own processes: prefork.h). */
#ifndef SB_FCGI_APP_H
#define SB_FCGI_APP_H

#include "core.h"
#include "fcgi-app/fcgi.h"

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

/* Status codes that get a counter of their own; the rest count as "other". */
#define STATUS_SLOTS 26
extern const int status_slots[STATUS_SLOTS - 1];
int		 status_slot(int status);

/* Shared-memory metrics of switchboard-fcgi; index nroutes counts unmatched requests. */
#define METRICS_MAX_ROUTES 64
struct app_metrics {
	uint64_t	 requests[METRICS_MAX_ROUTES + 1][STATUS_SLOTS];
	struct sb_hist	 latency[METRICS_MAX_ROUTES + 1];
	int64_t		 in_flight;
	int64_t		 workers;
	uint64_t	 restarts_crash;
	uint64_t	 restarts_recycle;
	uint64_t	 restarts_reload;
	uint64_t	 db_unavailable;
	uint64_t	 client_gone;
	uint64_t	 auth_failed;
	uint64_t	 rate_limited;
	uint64_t	 ratelimit_unavailable_open;	/* served although memcached was down */
	uint64_t	 ratelimit_unavailable_closed;	/* refused because memcached was down */
	uint64_t	 queue_wakeups;		/* created runs that signalled the notifier */
	uint64_t	 queue_notify;		/* NOTIFYs the notifier sent */
	int64_t		 front_conns;		/* connections the master holds */
	int64_t		 front_queued;		/* whole requests waiting for a worker */
	uint64_t	 request_timeouts;	/* requests not whole in time: 408 */
	uint64_t	 front_adopted;		/* accepted requests not whole at once: to the
						 * master */
};

/* The path from a committed run to the notifier (notifier.c): both made by the
 * master before fork.  pending is set by the worker that writes the pipe and
 * cleared by the notifier before it sends, so wake-ups coalesce while one is on
 * its way.  pending NULL: no notifier (a test driving requests): wakes are no-ops. */
struct queue_wake {
	unsigned	*pending;	/* in shared memory; accessed atomically */
	int		 rfd;		/* the pipe's read end: the notifier's */
	int		 wfd;		/* its write end, non-blocking: the workers' */
};

/* What a worker process owns for its lifetime. */
/* What switchboard-stream adds to the handlers of ROUTE_STREAM routes and long polls;
 * switchboard-fcgi has none (struct app's stream is NULL). */
struct stream_ops {
	/* GET /api/v1/runs/{id}/stream, once the caller may read the run; finished: the
	 * run has ended (the stream then closes after the replay). */
	enum sb_err	(*run_stream)(struct sb_req *, const char *run_id, int64_t after,
			    int finished);
	/* A long poll of the run's events that found none yet: answered later. */
	enum sb_err	(*run_wait)(struct sb_req *, const char *run_id, int64_t after, int wait_s,
			    int limit);
	/* GET /api/v1/stream: the org's run lifecycle feed after that position. */
	enum sb_err	(*feed_stream)(struct sb_req *, int64_t org_id,
			    const struct sb_cursor *after);
};

struct app {
	const struct route	*routes;	/* the table requests are matched against */
	const struct stream_ops	*stream;	/* switchboard-stream only */
	size_t			 nroutes;
	struct sb_config	 cfg;
	struct sb_db		 db;
	struct sb_cache		*cache;
	struct app_metrics	*metrics;
	struct queue_wake	 wake;		/* to the notifier */
	struct jwt_verifier	*jwt;		/* NULL when bearer JWTs are off */
	uint64_t		 role_checked;	/* db.generation the role was checked on */
	int			 role_unsafe;	/* the connection could bypass row-level security */
	char			 dummy_hash[160];	/* verified for unknown logins: same timing */
};

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

	/* the query string, split on first use */
	struct header		*qparams;
	size_t			 nqparams;
	int			 query_parsed;
	const char		*query_bad;	/* the name of a pair that did not decode */
};

/* request.c */
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
/* ?limit= (1..200, default 50) and ?cursor= (an id from a previous page's
 * next_cursor); a bad value prepares a 400 problem. */
enum sb_err	 req_page(struct sb_req *, int *limit, int64_t *cursor);

/* response.c */
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

/* access.c: authentication (session cookie, API key, JWT) and the checks of a route. */
enum sb_err	 auth_request(struct sb_req *);
/* Sets the RateLimit-* headers from r; SB_ERR_RATE_LIMITED (429 prepared) if refused. */
enum sb_err	 ratelimit_answer(struct sb_req *, const struct rl_result *r);
void		 auth_worker_init(struct app *);
void		 auth_worker_free(struct app *);
/* Runs fn in a transaction whose switchboard.org_id is the caller's org, so row-level
 * security confines every statement to it. */
enum sb_err	 org_tx(struct sb_req *, enum sb_err (*fn)(struct sb_req *, void *), void *arg);
/* db_exec_stmt() on the request's connection; the result belongs to the request's
 * arena (cleared when the request ends): the caller never PQclear()s it.  NULL with
 * *err set on failure. */
PGresult	*req_exec(struct sb_req *, struct db_stmt *, const char *const *params,
		    enum sb_err *err);

/* A list route's page.  stmt's parameters are $1 the cursor (0: from the start),
 * $2 how many rows (limit + 1: the extra one says there is more), then extra[]
 * (NULL as ''); its column 0 is the cursor, and its rows are newest first. */
#define PAGE_EXTRA_MAX 6
struct page_query {
	struct db_stmt	*stmt;
	json_t		*(*item)(PGresult *, int row);	/* one row as the API shows it */
	const char	*const *extra;
	size_t		 nextra;
};
/* Reads ?limit/?cursor (400 bad-limit, bad-cursor), runs q in the caller's org and
 * answers 200 {"items": [...], "next_cursor": the last item's cursor or null}. */
enum sb_err	 page_answer(struct sb_req *, const struct page_query *q);
/* Appends to the audit log in the caller's org (a failed login with no org goes
 * through auth_audit_anonymous).  Failures are logged, never fatal to the request.
 * details (may be NULL) is taken: the request's arena releases it. */
void		 audit(struct sb_req *, const char *action, const char *target, json_t *details);

/* cors.c: adds the CORS headers when the request's Origin is allowed (returns 1);
 * answers an OPTIONS preflight (403 for an origin not allowed). */
int		 cors_apply(struct sb_req *);
void		 cors_preflight(struct sb_req *);

/* Is the database connection made as a role row-level security confines (not the
 * tables' owner, not a superuser, no BYPASSRLS)?  Checked once per connection;
 * logged loudly when not.  -1 when the check itself failed. */
int		 app_role_safe(struct app *);

/* dispatch.c */
void		 dispatch(struct sb_req *);
/* A problem answered outside any handler (the master's 408, switchboard-stream's
 * bounds), with the CORS headers and the access log line dispatch would give it. */
void		 answer_problem(struct sb_req *, int status, const char *slug,
		    const char *detail);
/* In a process the master forked (a worker, the notifier): SIGTERM and SIGINT call
 * term (sigaction flags `flags`), SIGHUP and SIGPIPE are ignored, SIGCHLD is the
 * default again.  The signal mask is the caller's to set. */
void		 child_signals(void (*term)(int), int flags);

/* listen.c: systemd socket activation (fd 3), a FastCGI spawner's fd 0, or a socket
 * of our own at path (a unix socket, replacing a stale one but never a live one, or
 * host:port); *created says whether we made it (and must unlink it).  -1 (logged). */
int		 listen_socket(const char *path, int mode, int backlog, int *created);

/* wake.c and notifier.c: one process per master (the notifier) sends NOTIFY on
 * QUEUE_CHANNEL for every worker, at most one per NOTIFY_GAP_US, never inside a
 * request's transaction; a handler wakes it. */
#define NOTIFY_GAP_US	1000
#define NOTIFIER_NAME	"sb-notifier"	/* its process name (comm), for ps and tests */

/* The shared flag and the pipe, before fork.  0, or -1 (logged). */
int		 queue_wake_init(struct queue_wake *);
/* After a transaction that created a run has committed: wakes the notifier unless
 * a wake-up is already pending.  Never blocks; a full pipe already means a wake-up. */
void		 queue_wake(struct app *);

#endif /* SB_FCGI_APP_H */
