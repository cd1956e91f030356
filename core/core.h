/* core.h: the code shared by every Switchboard program (config, logs, db, json, cache, metrics). */
#ifndef SB_CORE_H
#define SB_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "buf.h"

/* The schema version this build expects: the number of the last file in sql/. */
#define SB_SCHEMA_VERSION 12

/* LISTEN/NOTIFY channels: runs were created (switchboard-fcgi wakes the workers);
 * runs have new events (the worker tells the stream responder which). */
#define QUEUE_CHANNEL	"switchboard_queue"
#define EVENTS_CHANNEL	"switchboard_events"

/* ---------------------------------------------------------------- errors */

/* One error enum for the whole code base; 0 is success.  sb_err_status() is the
 * only place where an error becomes an HTTP status. */
enum sb_err {
	SB_OK = 0,
	SB_ERR_INVALID,		/* malformed input: 400 */
	SB_ERR_UNAUTHENTICATED,	/* no valid credentials: 401 */
	SB_ERR_FORBIDDEN,	/* authenticated, but not allowed: 403 */
	SB_ERR_RATE_LIMITED,	/* 429 with Retry-After */
	SB_ERR_NOT_FOUND,	/* 404 */
	SB_ERR_CONFLICT,	/* 409 */
	SB_ERR_TOO_LARGE,	/* 413 */
	SB_ERR_UNSUPPORTED,	/* 415 */
	SB_ERR_UNPROCESSABLE,	/* well-formed but refused: 422 */
	SB_ERR_UNAVAILABLE,	/* a dependency is down: 503 with Retry-After */
	SB_ERR_INTERNAL,	/* a bug or an unexpected failure: 500 */
	SB_ERR_CLIENT_GONE	/* the client left: not an error, nothing to answer */
};

int		 sb_err_status(enum sb_err);
const char	*sb_err_name(enum sb_err);

/* ---------------------------------------------------------------- memory */

/* Out-of-memory policy: every allocation in Switchboard either succeeds or the
 * process logs one line and aborts (like Redis' zmalloc).  A prefork worker or
 * the worker daemon is restarted by its supervisor; no caller checks for NULL. */
void	*sb_malloc(size_t);
void	*sb_calloc(size_t, size_t);
void	*sb_realloc(void *, size_t);
char	*sb_strdup(const char *);
void	 sb_oom(size_t) __attribute__((noreturn));

/* A bump allocator for per-request memory: everything a request allocates
 * is released at once by arena_reset() at the end of the request. */
struct sb_arena;

struct sb_arena	*arena_new(size_t chunk_size);	/* caller owns; arena_free() */
void		*arena_alloc(struct sb_arena *, size_t);	/* 16-byte aligned, never NULL */
void		*arena_calloc(struct sb_arena *, size_t, size_t);
char		*arena_strdup(struct sb_arena *, const char *);
char		*arena_strndup(struct sb_arena *, const char *, size_t);
char		*arena_printf(struct sb_arena *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
/* Registers fn(p) to run when the arena is next reset or freed: cleanups run newest
 * first, before any memory is released.  The record lives in the arena: a cleanup
 * per row of a bounded result is fine, one per event of an endless stream is not. */
void		 arena_defer(struct sb_arena *, void (*fn)(void *), void *p);
/* The arena owns res (PQclear at reset) or v (one reference: json_decref at reset)
 * from now on; returned as given, NULL included (nothing registered). */
PGresult	*arena_adopt_result(struct sb_arena *, PGresult *res);
json_t		*arena_adopt_json(struct sb_arena *, json_t *v);
void		 arena_reset(struct sb_arena *);	/* runs the cleanups; frees all but the
							 * first chunk */
void		 arena_free(struct sb_arena *);
size_t		 arena_used(const struct sb_arena *);
size_t		 arena_reserved(const struct sb_arena *);

/* ---------------------------------------------------------------- clock */

int64_t	 clock_mono_us(void);		/* monotonic microseconds */
int64_t	 clock_real_ms(void);		/* wall clock, ms since the epoch */
void	 clock_iso8601(char buf[32]);	/* now, UTC, millisecond precision */

/* ---------------------------------------------------------------- config */

enum sb_log_level { SB_LOG_DEBUG, SB_LOG_INFO, SB_LOG_WARN, SB_LOG_ERROR };

/* The whole configuration.  Every field is described once, in the key table
 * of config.c, which gives its file key, its environment variable, its type,
 * bounds and default. */
struct sb_config {
	char	*path;			/* the file read, or NULL */
	struct {
		char	*socket;
		int	 socket_mode;
		int	 backlog;
		int	 workers;
		int	 max_requests;
		int	 shutdown_grace;
		int	 restart_backoff_max;
	} server;
	struct {
		int	 max_body;
		int	 max_json_depth;
		int	 max_json_string;
		int	 request_timeout;
	} http;
	struct {
		char	*url;
		char	*migrate_url;
		int	 connect_timeout;
		int	 statement_timeout_ms;
		int	 retry_after;
		char	*sql_dir;
	} database;
	struct {
		char	*servers;
		int	 timeout_ms;
		char	*secret;
		bool	 secret_generated;	/* none was set: a random one */
	} memcached;
	struct {
		int	 level;
		bool	 access;
	} log;
	struct {
		bool	 public;
	} metrics;
	struct {
		int	 session_idle;
		int	 session_absolute;
		int	 session_cache_ttl;
		bool	 cookie_secure;
		int	 password_min;
		int	 pwhash_opslimit;
		int	 pwhash_memlimit_kib;
		int	 key_cache_ttl;
	} auth;
	struct {
		bool	 enabled;
		int	 login_per_minute;
		int	 login_account_per_hour;
		int	 writes_per_minute;
		int	 reads_per_minute;
		int	 anon_per_minute;
		bool	 fail_open_reads;
		bool	 fail_open_writes;
		bool	 fail_open_login;
	} ratelimit;
	struct {
		char	*hs256_secret;
		char	*jwks_file;
		char	*jwks_url;
		char	*issuer;
		char	*audience;
		int	 leeway;
		int	 jwks_refresh;
		char	*org_claim;
		char	*role_claim;
		char	*default_role;
	} jwt;
	struct {
		char	*allow_origins;
	} cors;
	struct {
		char	*issuer;
		char	*client_id;
		char	*client_secret;
		char	*redirect_uri;
		char	*scopes;
		bool	 provision;
		char	*provision_org;
		char	*provision_role;
	} oidc;
	struct {
		char	*name;
		int	 max_inflight;
		int	 claim_batch;
		int	 org_max_inflight;
		int	 lease;
		int	 heartbeat;
		int	 poll_interval_ms;
		int	 flush_ms;
		int	 delta_ms;
		int	 cancel_check_ms;
		int	 shutdown_grace;
		int	 retry_base_ms;
		int	 retry_max;
		int	 rescue_interval;
		int	 retention_days;
		int	 prune_batch;
		char	*metrics_listen;
	} worker;
	struct {
		char	*socket;
		int	 heartbeat;
		int	 retry_ms;
		int	 client_buffer;
		int	 max_streams;
		int	 max_per_user;
		int	 sweep_ms;
		int	 recheck_ms;
		int	 feed_ms;
		int	 longpoll_max;
		char	*metrics_listen;
	} stream;
	struct {
		char	*openai_base_url;
		char	*openai_api_key;
		char	*anthropic_base_url;
		char	*anthropic_api_key;
		char	*anthropic_version;
		int	 connect_timeout_ms;
		int	 first_token_timeout;
		int	 idle_timeout;
		int	 total_timeout;
		int	 retries;
		int	 retry_after_max;
		int	 builtin_tokens_per_s;
		bool	 cache;
		int	 cache_ttl;
		char	*pricing;
	} llm;
};

/* Fills cfg with defaults, then the file at path (NULL: none), then the
 * SWITCHBOARD_SECTION_KEY environment variables.  On failure returns -1 and
 * writes "file:line: what is wrong" (or the variable's name) into err, cfg then
 * holding nothing.  cfg's strings are owned by cfg: config_free() (idempotent). */
int	 config_load(struct sb_config *cfg, const char *path, char *err, size_t errlen);
void	 config_free(struct sb_config *);
/* The file to read: the one named (by -c), else $SWITCHBOARD_CONFIG, else
 * SB_SYSCONFDIR/switchboard.conf if it exists, else NULL (defaults and the
 * environment).  A file named by -c or the variable must exist: config_load fails. */
const char *config_resolve_path(const char *named);
/* s without its leading and trailing white space: trailing space is cut in place. */
char	*str_trim(char *s);
/* Calls fn once per known key ("section.key", env name, description). */
void	 config_each_key(void (*fn)(const char *key, const char *env, const char *desc, void *),
	    void *arg);

/* ---------------------------------------------------------------- logging */

/* One JSON object per line on stderr: ts, level, program, msg, request_id and
 * the fields given as a jansson pack format for an object ("{s:s, s:i}"). */
void	 log_init(const char *program, int level);
void	 log_set_request_id(const char *id);	/* copied; NULL clears */
void	 log_msg(enum sb_log_level, const char *msg, const char *fields_fmt, ...);
int	 log_level_parse(const char *);		/* -1 if unknown */
/* The access log line, formatted by hand: it is written once per request, and
 * building it through jansson cost a sixth of the throughput.  Bytes outside
 * printable ASCII in the strings are written as \u00XX. */
void	 log_access(const char *method, const char *route, const char *path, int status,
	    size_t bytes, double duration_ms);

#define log_debug(...)	log_msg(SB_LOG_DEBUG, __VA_ARGS__)
#define log_info(...)	log_msg(SB_LOG_INFO, __VA_ARGS__)
#define log_warn(...)	log_msg(SB_LOG_WARN, __VA_ARGS__)
#define log_error(...)	log_msg(SB_LOG_ERROR, __VA_ARGS__)

/* ---------------------------------------------------------------- json */

struct json_limits {
	size_t	 max_bytes;
	int	 max_depth;
	size_t	 max_string;		/* bytes in one string or key, as written */
	int	 from_provider;		/* a provider's event: U+0000 and any number kept
					 * (replaced at the event log, json_storable);
					 * else a client's input: both refused */
};

struct json_parse_error {
	enum sb_err	 err;		/* SB_ERR_INVALID or SB_ERR_TOO_LARGE */
	int		 line, column;	/* 0: the whole document, no position */
	size_t		 position;	/* byte offset */
	char		 text[160];
};

/* Parses buf within the limits.  Returns a new reference, or NULL with e set.
 * Depth and string length are checked by a scan before jansson sees the text,
 * so a hostile document cannot make the parser recurse or allocate.  A client's
 * document may not hold U+0000 (C strings and PostgreSQL cut or refuse it) nor a
 * number that cannot be stored and read back exactly (beyond +-2^63: jsonb would
 * give it back as an integer jansson cannot hold). */
json_t	*json_parse_limited(const char *buf, size_t len, const struct json_limits *,
	    struct json_parse_error *e);
/* Text from outside (a model, a provider, a client's bytes quoted in a problem) as a
 * JSON string that can always be built and stored: each byte that is not part of a
 * UTF-8 character, and U+0000 (which PostgreSQL refuses in text and jsonb), becomes
 * U+FFFD.  jansson's json_string() would refuse such text whole.  A new reference,
 * never NULL. */
json_t	*json_text(const char *s, size_t n);
/* The length of s[0..n) without a last UTF-8 sequence that is cut short, so that a
 * text split anywhere is split between characters. */
size_t	 utf8_prefix(const char *s, size_t n);
/* 1 if s[0..n) is UTF-8 without U+0000, else 0. */
int	 utf8_valid(const char *s, size_t n);
/* Replaces U+0000 in every string of v (in place), so that PostgreSQL can store it. */
void	 json_storable(json_t *v);

/* ---------------------------------------------------------------- problems */

/* An RFC 9457 problem object.  slug NULL gives type "about:blank" and the
 * status' reason phrase as title.  Caller owns the reference. */
json_t		*problem_new(int status, const char *slug, const char *title, const char *detail);
const char	*http_reason(int status);

/* ---------------------------------------------------------------- database */

/* One connection owned by one process.  Connection loss is noticed on the next
 * call, and db_ensure() reconnects, at most once per retry interval. */
struct sb_db {
	PGconn		*conn;
	char		*url;
	int		 connect_timeout;
	int		 statement_timeout_ms;
	int64_t		 next_attempt_us;
	uint64_t	 generation;		/* bumps on every new connection */
	char		 last_error[256];	/* why the last attempt or statement failed */
	uint64_t	 failures;		/* statements that failed, for /metrics */
	bool		 loud;			/* log every failure as a warning (daemons) */
};

/* A statement prepared lazily on each connection that runs it. */
struct db_stmt {
	const char	*name;
	const char	*sql;
	int		 nparams;
	uint64_t	 generation;		/* connection it was prepared on */
};

void		 db_init(struct sb_db *, const char *url, int connect_timeout, int statement_timeout_ms);
void		 db_close(struct sb_db *);
/* Connected and usable?  Tries to (re)connect when allowed. SB_OK or SB_ERR_UNAVAILABLE. */
enum sb_err	 db_ensure(struct sb_db *);
/* Blocks until connected, retrying with backoff up to max_wait_ms (0: once). */
enum sb_err	 db_connect_wait(struct sb_db *, int max_wait_ms);
/* Run a statement; returns the result (caller PQclear()s) or NULL with *err set
 * and the reason logged. */
PGresult	*db_exec(struct sb_db *, const char *sql, int nparams, const char *const *params,
		    enum sb_err *err);
PGresult	*db_exec_stmt(struct sb_db *, struct db_stmt *, const char *const *params,
		    enum sb_err *err);
/* Runs a statement whose one parameter is an id; the result is discarded. */
enum sb_err	 db_exec_id(struct sb_db *, struct db_stmt *, int64_t id);
/* Runs a statement: SB_OK if it returned exactly one row, SB_ERR_NOT_FOUND if not
 * (under row-level security another org's rows are invisible: not found too). */
enum sb_err	 db_exec_found(struct sb_db *, struct db_stmt *, const char *const *params);
/* Runs a script of several statements (simple query protocol, no parameters):
 * for migrations only, never with input from a request. */
enum sb_err	 db_exec_script(struct sb_db *, const char *sql);
/* Runs fn inside BEGIN ... COMMIT; rolls back if fn returns non-zero. */
enum sb_err	 db_tx(struct sb_db *, enum sb_err (*fn)(struct sb_db *, void *), void *arg);
enum sb_err	 db_error_map(const PGresult *);
/* The highest applied migration, or -1 with *err set. */
int		 db_schema_version(struct sb_db *, enum sb_err *err);

/* A PostgreSQL array literal built element by element, "{a,b,c}", for passing many
 * values in one parameter.  Elements are numbers and UUIDs: nothing needs quoting.
 * Start from a zeroed struct; db_array_text() ends it (once); db_array_free(). */
struct db_array {
	struct sb_buf	 b;
};

void		 db_array_add(struct db_array *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
const char	*db_array_text(struct db_array *);
void		 db_array_free(struct db_array *);

/* A connection that LISTENs on one channel, for an event loop: poll listener_fd()
 * for input, then listener_read().  Reconnects (at most once a second) when lost. */
struct sb_listener {
	struct sb_db	 db;
	char		 channel[64];
	int		 listening;
};

void	 listener_init(struct sb_listener *, const char *url, int connect_timeout,
	    const char *channel);
void	 listener_close(struct sb_listener *);
/* Connects and LISTENs if not yet: 1 when it just started listening (notifications
 * sent meanwhile were missed: catch up), else 0. */
int	 listener_ensure(struct sb_listener *);
int	 listener_fd(const struct sb_listener *);	/* -1 while not listening */
/* Calls fn for each notification waiting: how many, or -1 when the connection was
 * lost (listener_ensure reconnects). */
int	 listener_read(struct sb_listener *, void (*fn)(void *arg, const char *payload),
	    void *arg);

/* ---------------------------------------------------------------- cursor */

/* A position in an event stream, what SSE ids and ?after= carry: a run's log counts
 * its events (xid 0, n = seq, written "17"); the org feed orders runs by the
 * transaction that last changed them and their number (written "7345-12"). */
struct sb_cursor {
	uint64_t	 xid;
	int64_t		 n;
};

#define CURSOR_MAX	48	/* room for the longest text form */

int	 cursor_cmp(const struct sb_cursor *, const struct sb_cursor *);
void	 cursor_format(const struct sb_cursor *, char buf[CURSOR_MAX]);
/* "N" or "XID-N", decimal, nothing else: 0, or -1. */
int	 cursor_parse(const char *, struct sb_cursor *);

/* ---------------------------------------------------------------- cache */

struct sb_cache;

/* servers: "host:port[,host:port...]"; secret: memcached.secret, which seals every
 * value (see cache.c).  NULL on a malformed list (logged). */
struct sb_cache	*cache_open(const char *servers, int timeout_ms, const char *secret);
void		 cache_close(struct sb_cache *);
/* A round trip to every server: SB_OK or SB_ERR_UNAVAILABLE. */
enum sb_err	 cache_ping(struct sb_cache *);
/*
 * Items are named by a namespace, a short constant of the code ("sess", "key"), and
 * an id, any string, a client's bytes included: the key memcached sees is the
 * namespace and a hash of the id, never the id.  Values are opaque bytes, sealed
 * with a MAC bound to the key and the expiry; a value that fails its check reads
 * as absent.  cache_get returns SB_OK with a malloc'd, NUL-terminated copy in *val
 * (caller frees), SB_ERR_NOT_FOUND, or SB_ERR_UNAVAILABLE.  ttl_s 0: no expiry.
 */
enum sb_err	 cache_get(struct sb_cache *, const char *ns, const char *id, char **val,
		    size_t *len);
enum sb_err	 cache_set(struct sb_cache *, const char *ns, const char *id, const void *val,
		    size_t len, int ttl_s);
/* Stores only if absent: SB_OK, SB_ERR_CONFLICT if present, SB_ERR_UNAVAILABLE. */
enum sb_err	 cache_add(struct sb_cache *, const char *ns, const char *id, const void *val,
		    size_t len, int ttl_s);
enum sb_err	 cache_delete(struct sb_cache *, const char *ns, const char *id);
/* The memcached key of (ns, id): "ns:" and 64 hex digits; its length.  An invalid
 * namespace is a bug and aborts.  For code that talks to memcached itself. */
#define CACHE_NS_MAX	16
#define CACHE_KEY_MAX	(CACHE_NS_MAX + 1 + 64)
size_t		 cache_key(char buf[CACHE_KEY_MAX + 1], const char *ns, const char *id,
		    size_t idlen);
/* How many values read back failed their seal since cache_open. */
uint64_t	 cache_forged(const struct sb_cache *);
/* The libmemcached handle, for code in core/ that needs CAS (ratelimit.c). */
struct memcached_st *cache_handle(struct sb_cache *);
/* Is this memcached_return_t an I/O error worth one immediate retry (a connection
 * from before a memcached restart)?  Retry after cache_reconnect(), which swaps the
 * handle (cache_handle() changes) for a fresh one without connections or failure
 * state. */
int		 cache_io_error(int rc);
void		 cache_reconnect(struct sb_cache *);

/* ---------------------------------------------------------------- rate limits */

/* GCRA (the generic cell rate algorithm) over memcached: one item per bucket holds
 * its theoretical arrival time and is updated with CAS, so a limit holds exactly
 * across processes and hosts.  `limit` requests per `period_s`, in bursts of up to
 * `limit`. */
struct rl_policy {
	int	 limit;
	int	 period_s;
};

struct rl_result {
	int	 allowed;	/* 1: go ahead; 0: refused */
	int	 limit;		/* RateLimit-Limit */
	int	 remaining;	/* RateLimit-Remaining: requests still allowed right now */
	int	 reset_s;	/* RateLimit-Reset: seconds until the bucket is full again */
	int	 retry_after_s;	/* when refused: seconds until one more is allowed (>= 1) */
};

/* Takes one request from the bucket named key.  SB_OK with *r filled, or
 * SB_ERR_UNAVAILABLE if memcached cannot be reached: the caller then applies its
 * fail-open or fail-closed policy. */
enum sb_err	 ratelimit_take(struct sb_cache *, const char *key, const struct rl_policy *,
		    struct rl_result *r);
/* The arithmetic of one take, with no I/O (ratelimit_take reads, calls it, and
 * writes what it decided).  tat: the bucket's stored theoretical arrival time in
 * wall-clock microseconds, -1 for none; now: the wall clock in microseconds.  Fills
 * *r, allowed or not; when allowed also *new_tat (to store) and *expiry (the item's
 * memcached expiry: seconds, or a Unix time beyond 30 days).  SB_ERR_INVALID for a
 * policy with limit or period_s below 1. */
enum sb_err	 ratelimit_decide(const struct rl_policy *, int64_t tat, int64_t now,
		    struct rl_result *r, int64_t *new_tat, int64_t *expiry);

/* ---------------------------------------------------------------- JWT */

struct jwt_config {
	const char	*hs256_secret;	/* "" disables HS256 */
	const char	*jwks_file;	/* "" or a JWKS document on disk (RS256, ES256 keys) */
	const char	*jwks_url;	/* "" or a JWKS URL, fetched with libcurl and cached */
	const char	*issuer;	/* required "iss" ("" accepts none: refused) */
	const char	*audience;	/* required in "aud" (string or array) */
	int		 leeway_s;	/* clock skew allowed on exp, nbf and iat */
	int		 jwks_refresh_s;	/* least interval between JWKS fetches */
};

struct jwt_verifier;

/* Copies what it needs from cfg.  Loads jwks_file now; fetches jwks_url lazily.
 * NULL (logged) when the file cannot be read or holds no usable key. */
struct jwt_verifier	*jwt_verifier_new(const struct jwt_config *cfg);
void			 jwt_verifier_free(struct jwt_verifier *);
/* Verifies a compact JWS: the header's alg must fit the key it selects (HS256 only
 * with the secret; RS256 only with an RSA key; ES256 only with a P-256 key; "none"
 * never), then the signature, iss, aud, exp, nbf and iat.  An unknown kid refetches
 * the JWKS URL at most every jwks_refresh_s.  Returns the claims (caller decrefs),
 * or NULL with a reason in why that never contains the token. */
json_t			*jwt_verify(struct jwt_verifier *, const char *token, char *why,
			    size_t whylen);

/* ---------------------------------------------------------------- metrics */

/* Metrics live in one MAP_SHARED region created before fork and are updated
 * with relaxed atomics, so a scrape of any process sees every process' work. */
#define HIST_BUCKETS 14
extern const double hist_bounds_s[HIST_BUCKETS - 1];	/* the last bucket is +Inf */

struct sb_hist {
	uint64_t	 bucket[HIST_BUCKETS];	/* non-cumulative */
	uint64_t	 count;
	uint64_t	 sum_us;
};

void	*metrics_shm_new(size_t size);		/* zeroed, shared with children; never freed */
void	 hist_observe(struct sb_hist *, int64_t us);
void	 hist_render(FILE *, const char *name, const char *labels, const struct sb_hist *);
static inline void
counter_add(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}
static inline uint64_t
counter_get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}
static inline void
gauge_add(int64_t *g, int64_t n)
{
	__atomic_fetch_add(g, n, __ATOMIC_RELAXED);
}

/* GET /metrics over plain HTTP for the daemons without a web server in front (the
 * worker, the stream responder): a non-blocking listener on an IPv4 "address:port"
 * (-1, logged, if empty or unusable), and the answers to what waits on it, each the
 * text render() returns (malloc'd; freed here).  A slow scraper is cut off at 200 ms. */
int	 metrics_http_listen(const char *addr);
void	 metrics_http_accept(int fd, char *(*render)(void *arg, size_t *len), void *arg);
/* One counter or gauge with its HELP and TYPE lines. */
void	 metrics_counter(FILE *, const char *name, const char *help, uint64_t v);
void	 metrics_gauge(FILE *, const char *name, const char *help, long long v);

/* ---------------------------------------------------------------- secrets */

/* Every secret Switchboard hands out (session tokens, API key secrets) carries 256
 * random bits; only its BLAKE2b hash is stored, so a database leak reveals none. */
#define TOKEN_LEN	43	/* 32 bytes, base64url without padding */
#define HASH_HEX_LEN	64	/* BLAKE2b-256, hex */
#define KEY_ID_LEN	12	/* the visible id of an API key: base32, 60 bits */
#define PASSWORD_MAX	1024	/* longest password accepted, in bytes */

/* Call once at start, before fork: libsodium's own initialisation. */
int	 crypto_init(void);
void	 token_new(char out[TOKEN_LEN + 1]);
void	 token_hash(const char *token, char out[HASH_HEX_LEN + 1]);
/* p as base64url without padding, NUL-terminated; caller frees. */
char	*b64url_encode(const void *p, size_t len);
/* Has t the shape token_new makes (TOKEN_LEN base64url characters)? */
int	 token_valid(const char *t);
/* Constant-time comparison of two NUL-terminated strings of public length. */
int	 secret_equal(const char *a, const char *b);
/* API keys read "sb_<key id>_<secret>": the prefix makes leaked keys greppable. */
void	 api_key_new(char key_id[KEY_ID_LEN + 1], char secret[TOKEN_LEN + 1]);
/* Splits a presented key; -1 if it does not have the shape of one. */
int	 api_key_parse(const char *key, char key_id[KEY_ID_LEN + 1], char secret[TOKEN_LEN + 1]);
/* argon2id via crypto_pwhash_str: 0 with the encoded hash in out, -1 on failure. */
int	 password_hash(const char *pw, int opslimit, int memlimit_kib, char *out, size_t outlen);
/* 1 if pw matches hash, 0 if not (also for a malformed hash). */
int	 password_verify(const char *hash, const char *pw);
/* 1 if hash was made with other parameters than these. */
int	 password_needs_rehash(const char *hash, int opslimit, int memlimit_kib);

/* ---------------------------------------------------------------- roles and scopes */

enum sb_role { ROLE_VIEWER, ROLE_MEMBER, ROLE_ADMIN, ROLE_OWNER };

/* Scopes are bits; roles map to sets of them (scope.c holds the one table). */
#define SCOPE_RUNS_READ		0x0001u
#define SCOPE_RUNS_WRITE	0x0002u
#define SCOPE_AGENTS_READ	0x0004u
#define SCOPE_AGENTS_ADMIN	0x0008u
#define SCOPE_KEYS_ADMIN	0x0010u
#define SCOPE_USERS_ADMIN	0x0020u
#define SCOPE_USAGE_READ	0x0040u
#define SCOPE_AUDIT_READ	0x0080u
#define SCOPE_ORG_ADMIN		0x0100u

int		 role_parse(const char *);		/* -1 if unknown */
const char	*role_name(enum sb_role);
unsigned	 role_scopes(enum sb_role);
/* One scope's bit (0 if unknown) and name (NULL if not exactly one known bit). */
unsigned	 scope_bit(const char *name);
const char	*scope_name(unsigned bit);
/* "a,b,c" into bits; -1 with the first unknown name copied to bad. */
int		 scopes_parse(const char *list, unsigned *out, char *bad, size_t badlen);
/* The names of the bits, as a new JSON array (caller decrefs). */
json_t		*scopes_json(unsigned);
/* Postgres text[] literal "{a,b}" of the bits, into buf. */
void		 scopes_pg_array(unsigned, char *buf, size_t len);
/* Parses a Postgres text[] value "{a,b}"; unknown names are ignored. */
unsigned	 scopes_from_pg_array(const char *);

/* ---------------------------------------------------------------- agents */

struct agent_error {
	enum sb_err	 err;		/* SB_ERR_INVALID or SB_ERR_UNPROCESSABLE */
	const char	*slug;		/* problem type */
	char		 detail[200];
};

/* Checks an agent definition (from the API or a catalog file) and returns it
 * normalized, defaults filled (caller decrefs), or NULL with e set.  slug: the
 * path's, or NULL to take the body's. */
json_t	*agent_validate(json_t *in, const char *slug, struct agent_error *e);
/* The SQL parameters of a validated definition, in the order of the agents table:
 * org, slug, name, description, category, provider, model, system_prompt,
 * parameters (JSON), tools (JSON array), enabled.  p's strings point into def and
 * into *json, which the caller frees. */
#define AGENT_NPARAMS 11
void	 agent_bind(json_t *def, const char *org, const char *p[AGENT_NPARAMS], char **json);

/* ---------------------------------------------------------------- version */

const char	*sb_version(void);
const char	*sb_git_commit(void);
const char	*sb_build_time(void);

#include "provider.h"
/* Modules with a header of their own (buf.h above: struct db_array holds one). */
#include "daemon.h"
#include "fetch.h"

#endif /* SB_CORE_H */
