/* conf.c: the INI-style configuration file and its environment overrides. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/arena.h"
#include "core/conf.h"
#include "core/log.h"
#include "core/scope.h"

enum key_type { K_STR, K_INT, K_OCTAL, K_BOOL, K_LEVEL };

struct key {
	const char	*section;
	const char	*name;
	enum key_type	 type;
	size_t		 offset;
	const char	*def;
	long		 min, max;	/* K_INT, K_OCTAL */
	const char	*desc;
};

#define OFF(f) offsetof(struct sb_config, f)

/* Every key Switchboard knows.  conf/switchboard.conf.example documents each one
 * (a unit test checks that none is missing). */
static const struct key keys[] = {
	{ "server", "socket", K_STR, OFF(server.socket), "/run/switchboard/fcgi.sock", 0, 0,
	  "FastCGI socket to create when not started by systemd socket activation" },
	{ "server", "socket_mode", K_OCTAL, OFF(server.socket_mode), "0660", 0, 0777,
	  "permissions of a socket created by the program" },
	{ "server", "backlog", K_INT, OFF(server.backlog), "1024", 1, 65535,
	  "listen backlog of a socket created by the program" },
	{ "server", "workers", K_INT, OFF(server.workers), "0", 0, 1024,
	  "prefork workers; 0 means twice the number of cores" },
	{ "server", "max_requests", K_INT, OFF(server.max_requests), "10000", 0, INT_MAX,
	  "requests a worker serves before it is replaced; 0 means never" },
	{ "server", "shutdown_grace", K_INT, OFF(server.shutdown_grace), "10", 0, 3600,
	  "seconds in-flight requests get to finish on SIGTERM or SIGHUP" },
	{ "server", "restart_backoff_max", K_INT, OFF(server.restart_backoff_max), "10", 1, 600,
	  "longest pause, in seconds, before respawning a worker that keeps crashing" },
	{ "http", "max_body", K_INT, OFF(http.max_body), "1048576", 0, INT_MAX,
	  "largest request body in bytes (413 beyond)" },
	{ "http", "max_json_depth", K_INT, OFF(http.max_json_depth), "32", 1, 1000,
	  "deepest nesting of arrays and objects in a JSON body" },
	{ "http", "max_json_string", K_INT, OFF(http.max_json_string), "65536", 1, INT_MAX,
	  "longest string or key in a JSON body, in bytes" },
	{ "http", "request_timeout", K_INT, OFF(http.request_timeout), "30", 1, 3600,
	  "seconds a worker waits for a request body before giving up" },
	{ "database", "url", K_STR, OFF(database.url),
	  "postgresql:///switchboard?host=/var/run/postgresql&user=switchboard_app", 0, 0,
	  "libpq connection string the programs use: the application role, which row-level "
	  "security confines" },
	{ "database", "migrate_url", K_STR, OFF(database.migrate_url),
	  "postgresql:///switchboard?host=/var/run/postgresql&user=switchboard", 0, 0,
	  "connection string for migrations and switchboardctl (the schema owner)" },
	{ "database", "connect_timeout", K_INT, OFF(database.connect_timeout), "2", 1, 60,
	  "seconds to wait for a connection" },
	{ "database", "statement_timeout_ms", K_INT, OFF(database.statement_timeout_ms), "5000",
	  0, INT_MAX, "longest a request's statement may run; 0 means no limit" },
	{ "database", "retry_after", K_INT, OFF(database.retry_after), "2", 1, 3600,
	  "Retry-After seconds sent while the database is down" },
	{ "database", "sql_dir", K_STR, OFF(database.sql_dir), SB_DATADIR "/sql", 0, 0,
	  "directory of the numbered migration files" },
	{ "memcached", "servers", K_STR, OFF(memcached.servers), "127.0.0.1:11211", 0, 0,
	  "comma-separated list of host:port, host (port 11211) or /path/to/unix.socket" },
	{ "memcached", "timeout_ms", K_INT, OFF(memcached.timeout_ms), "200", 1, 60000,
	  "connect and I/O timeout for memcached" },
	{ "memcached", "secret", K_STR, OFF(memcached.secret), "", 0, 0,
	  "secret (32 characters or more, the same for every program and host) that seals "
	  "what Switchboard keeps in memcached; empty: each program makes its own at start, "
	  "and programs and hosts share no cached sessions or keys" },
	{ "log", "level", K_LEVEL, OFF(log.level), "info", 0, 0,
	  "debug, info, warn or error" },
	{ "log", "access", K_BOOL, OFF(log.access), "true", 0, 0,
	  "one access log line per request" },
	{ "metrics", "public", K_BOOL, OFF(metrics.public), "false", 0, 0,
	  "serve /metrics to non-loopback clients" },
	{ "auth", "session_idle", K_INT, OFF(auth.session_idle), "7200", 60, 31536000,
	  "seconds a session may go unused before it expires" },
	{ "auth", "session_absolute", K_INT, OFF(auth.session_absolute), "1209600", 300, 31536000,
	  "seconds after login a session expires however much it is used" },
	{ "auth", "session_cache_ttl", K_INT, OFF(auth.session_cache_ttl), "30", 0, 3600,
	  "seconds memcached may answer for a session: a revocation takes effect within this" },
	{ "auth", "cookie_secure", K_BOOL, OFF(auth.cookie_secure), "false", 0, 0,
	  "mark the session cookie Secure even when the request came over plain http "
	  "(TLS ended in front of the web server); it always is over https" },
	{ "auth", "password_min", K_INT, OFF(auth.password_min), "12", 8, 128,
	  "shortest password accepted, in characters" },
	{ "auth", "pwhash_opslimit", K_INT, OFF(auth.pwhash_opslimit), "2", 1, 100,
	  "argon2id passes (libsodium opslimit); changing it rehashes at the next login" },
	{ "auth", "pwhash_memlimit_kib", K_INT, OFF(auth.pwhash_memlimit_kib), "65536", 8192,
	  4194304, "argon2id memory in KiB (libsodium memlimit / 1024)" },
	{ "auth", "key_cache_ttl", K_INT, OFF(auth.key_cache_ttl), "30", 0, 3600,
	  "seconds memcached may answer for an API key: a revocation takes effect within this" },
	{ "ratelimit", "enabled", K_BOOL, OFF(ratelimit.enabled), "true", 0, 0,
	  "limit requests per key, user and address (false: leave it to a limiter in front; "
	  "login throttling stays on)" },
	{ "ratelimit", "login_per_minute", K_INT, OFF(ratelimit.login_per_minute), "10", 1, 100000,
	  "login attempts per minute from one IP address" },
	{ "ratelimit", "login_account_per_hour", K_INT, OFF(ratelimit.login_account_per_hour), "20",
	  1, 100000, "login attempts per hour for one account (from any address)" },
	{ "ratelimit", "writes_per_minute", K_INT, OFF(ratelimit.writes_per_minute), "600", 1,
	  10000000, "unsafe requests (POST, PUT, PATCH, DELETE) per minute per key or user" },
	{ "ratelimit", "reads_per_minute", K_INT, OFF(ratelimit.reads_per_minute), "3000", 1,
	  10000000, "safe requests (GET, HEAD) per minute per key or user" },
	{ "ratelimit", "anon_per_minute", K_INT, OFF(ratelimit.anon_per_minute), "300", 1,
	  10000000, "unauthenticated requests per minute per IP address" },
	{ "ratelimit", "fail_open_reads", K_BOOL, OFF(ratelimit.fail_open_reads), "true", 0, 0,
	  "serve reads unlimited while memcached is down (false: refuse with 503)" },
	{ "ratelimit", "fail_open_writes", K_BOOL, OFF(ratelimit.fail_open_writes), "true", 0, 0,
	  "serve writes unlimited while memcached is down (false: refuse with 503)" },
	{ "ratelimit", "fail_open_login", K_BOOL, OFF(ratelimit.fail_open_login), "false", 0, 0,
	  "allow logins unthrottled while memcached is down (false: refuse with 503)" },
	{ "jwt", "hs256_secret", K_STR, OFF(jwt.hs256_secret), "", 0, 0,
	  "shared secret for HS256 tokens; empty disables HS256" },
	{ "jwt", "jwks_file", K_STR, OFF(jwt.jwks_file), "", 0, 0,
	  "JWKS file with the RS256/ES256 public keys of the identity provider" },
	{ "jwt", "jwks_url", K_STR, OFF(jwt.jwks_url), "", 0, 0,
	  "JWKS URL of the identity provider (fetched, cached, refetched on an unknown kid)" },
	{ "jwt", "issuer", K_STR, OFF(jwt.issuer), "", 0, 0,
	  "required iss claim; empty disables bearer JWTs" },
	{ "jwt", "audience", K_STR, OFF(jwt.audience), "", 0, 0,
	  "required aud claim" },
	{ "jwt", "leeway", K_INT, OFF(jwt.leeway), "60", 0, 600,
	  "seconds of clock skew allowed on exp, nbf and iat" },
	{ "jwt", "jwks_refresh", K_INT, OFF(jwt.jwks_refresh), "300", 10, 86400,
	  "least seconds between two fetches of jwks_url" },
	{ "jwt", "org_claim", K_STR, OFF(jwt.org_claim), "org", 0, 0,
	  "claim naming the org slug of the caller" },
	{ "jwt", "role_claim", K_STR, OFF(jwt.role_claim), "role", 0, 0,
	  "claim naming the caller's role (owner, admin, member, viewer)" },
	{ "jwt", "default_role", K_STR, OFF(jwt.default_role), "viewer", 0, 0,
	  "role when the token has no role claim" },
	{ "cors", "allow_origins", K_STR, OFF(cors.allow_origins), "", 0, 0,
	  "comma-separated origins allowed to call the API from a browser; empty: none" },
	{ "oidc", "issuer", K_STR, OFF(oidc.issuer), "", 0, 0,
	  "OpenID Connect issuer URL (its discovery document is issuer + "
	  "/.well-known/openid-configuration); empty disables browser SSO" },
	{ "oidc", "client_id", K_STR, OFF(oidc.client_id), "", 0, 0,
	  "client id registered with the identity provider" },
	{ "oidc", "client_secret", K_STR, OFF(oidc.client_secret), "", 0, 0,
	  "client secret (empty for a public client using PKCE alone)" },
	{ "oidc", "redirect_uri", K_STR, OFF(oidc.redirect_uri), "", 0, 0,
	  "this site's callback URL, e.g. https://agents.example.org/api/v1/auth/oidc/callback" },
	{ "oidc", "scopes", K_STR, OFF(oidc.scopes), "openid email profile", 0, 0,
	  "scopes asked of the identity provider" },
	{ "oidc", "provision", K_BOOL, OFF(oidc.provision), "false", 0, 0,
	  "create an account at the first login of someone the provider vouches for" },
	{ "oidc", "provision_org", K_STR, OFF(oidc.provision_org), "", 0, 0,
	  "slug of the org new accounts join" },
	{ "oidc", "provision_role", K_STR, OFF(oidc.provision_role), "member", 0, 0,
	  "role of new accounts (owner, admin, member, viewer)" },
	{ "worker", "name", K_STR, OFF(worker.name), "", 0, 0,
	  "this worker's name in the runs it holds; empty: hostname:pid" },
	{ "worker", "max_inflight", K_INT, OFF(worker.max_inflight), "256", 1, 100000,
	  "runs one worker process executes at once" },
	{ "worker", "claim_batch", K_INT, OFF(worker.claim_batch), "200", 1, 10000,
	  "most runs claimed by one statement" },
	{ "worker", "org_max_inflight", K_INT, OFF(worker.org_max_inflight), "0", 0, 1000000,
	  "most runs of one org running at once across all workers; 0: no cap" },
	{ "worker", "lease", K_INT, OFF(worker.lease), "30", 2, 3600,
	  "seconds a claim holds a run without a heartbeat; then it is rescued" },
	{ "worker", "heartbeat", K_INT, OFF(worker.heartbeat), "10", 1, 3600,
	  "seconds between lease renewals (keep it well under lease)" },
	{ "worker", "poll_interval_ms", K_INT, OFF(worker.poll_interval_ms), "1000", 10, 60000,
	  "longest wait between claims when no notification arrives" },
	{ "worker", "flush_ms", K_INT, OFF(worker.flush_ms), "50", 1, 5000,
	  "longest an event waits before it is written (events are written in batches)" },
	{ "worker", "delta_ms", K_INT, OFF(worker.delta_ms), "100", 1, 10000,
	  "tokens are gathered into one message.delta event per this many milliseconds" },
	{ "worker", "cancel_check_ms", K_INT, OFF(worker.cancel_check_ms), "250", 10, 60000,
	  "how often a worker asks which of its runs were cancelled" },
	{ "worker", "shutdown_grace", K_INT, OFF(worker.shutdown_grace), "10", 0, 3600,
	  "seconds runs get to finish on SIGTERM before they are released to the queue" },
	{ "worker", "retry_base_ms", K_INT, OFF(worker.retry_base_ms), "2000", 1, 3600000,
	  "first retry delay of a failed attempt; doubles per attempt, with jitter" },
	{ "worker", "retry_max", K_INT, OFF(worker.retry_max), "300", 1, 86400,
	  "longest retry delay in seconds" },
	{ "worker", "rescue_interval", K_INT, OFF(worker.rescue_interval), "5", 1, 3600,
	  "seconds between sweeps for runs whose lease expired (one worker sweeps)" },
	{ "worker", "retention_days", K_INT, OFF(worker.retention_days), "30", 0, 36500,
	  "days finished runs and their events are kept; 0: forever" },
	{ "worker", "prune_batch", K_INT, OFF(worker.prune_batch), "500", 1, 100000,
	  "finished runs deleted per statement when pruning" },
	{ "worker", "metrics_listen", K_STR, OFF(worker.metrics_listen), "127.0.0.1:9464", 0, 0,
	  "address:port where the worker serves /metrics over HTTP; empty: off" },
	{ "stream", "socket", K_STR, OFF(stream.socket), "/run/switchboard/stream.sock", 0, 0,
	  "FastCGI socket of switchboard-stream when not started by socket activation" },
	{ "stream", "heartbeat", K_INT, OFF(stream.heartbeat), "15", 1, 3600,
	  "seconds between comment lines on an idle stream (keep under every proxy timeout)" },
	{ "stream", "retry_ms", K_INT, OFF(stream.retry_ms), "2000", 0, 600000,
	  "the retry: hint sent to clients, in milliseconds" },
	{ "stream", "client_buffer", K_INT, OFF(stream.client_buffer), "262144", 4096, 67108864,
	  "bytes waiting for one slow client before it is closed (it resumes from its last id)" },
	{ "stream", "max_streams", K_INT, OFF(stream.max_streams), "50000", 1, 10000000,
	  "open streams and long polls in one process (503 beyond)" },
	{ "stream", "max_per_user", K_INT, OFF(stream.max_per_user), "32", 1, 100000,
	  "open streams and long polls of one user or key (429 beyond)" },
	{ "stream", "sweep_ms", K_INT, OFF(stream.sweep_ms), "2000", 100, 600000,
	  "every this often the responder reads every watched run's new events, notified or not" },
	{ "stream", "recheck_ms", K_INT, OFF(stream.recheck_ms), "2000", 100, 5000,
	  "every this often the credentials of open streams are checked again: a revoked key "
	  "or session, a disabled user or a lowered role ends them within this" },
	{ "stream", "feed_ms", K_INT, OFF(stream.feed_ms), "250", 50, 60000,
	  "every this often the responder reads the watched org feeds (GET /api/v1/stream)" },
	{ "stream", "metrics_listen", K_STR, OFF(stream.metrics_listen), "127.0.0.1:9465", 0, 0,
	  "address:port where switchboard-stream serves /metrics over HTTP; empty: off" },
	{ "stream", "longpoll_max", K_INT, OFF(stream.longpoll_max), "60", 1, 3600,
	  "longest wait= a long poll may ask, in seconds" },
	{ "llm", "openai_base_url", K_STR, OFF(llm.openai_base_url), "https://api.openai.com/v1",
	  0, 0, "base URL of an OpenAI-compatible API (OpenAI, vLLM, llama.cpp, Ollama)" },
	{ "llm", "openai_api_key", K_STR, OFF(llm.openai_api_key), "", 0, 0,
	  "API key for the openai provider; empty: none sent" },
	{ "llm", "anthropic_base_url", K_STR, OFF(llm.anthropic_base_url),
	  "https://api.anthropic.com/v1", 0, 0, "base URL of the Anthropic Messages API" },
	{ "llm", "anthropic_api_key", K_STR, OFF(llm.anthropic_api_key), "", 0, 0,
	  "API key for the anthropic provider" },
	{ "llm", "anthropic_version", K_STR, OFF(llm.anthropic_version), "2023-06-01", 0, 0,
	  "anthropic-version header" },
	{ "llm", "connect_timeout_ms", K_INT, OFF(llm.connect_timeout_ms), "5000", 1, 600000,
	  "longest wait for a connection to a provider" },
	{ "llm", "first_token_timeout", K_INT, OFF(llm.first_token_timeout), "60", 1, 3600,
	  "seconds a call may take to produce its first output" },
	{ "llm", "idle_timeout", K_INT, OFF(llm.idle_timeout), "30", 1, 3600,
	  "seconds a streaming answer may stay silent" },
	{ "llm", "total_timeout", K_INT, OFF(llm.total_timeout), "600", 1, 86400,
	  "seconds one call may take in all" },
	{ "llm", "retries", K_INT, OFF(llm.retries), "2", 0, 20,
	  "retries of a call that failed before any output (429, 5xx, connection errors)" },
	{ "llm", "retry_after_max", K_INT, OFF(llm.retry_after_max), "60", 1, 3600,
	  "longest Retry-After honoured within an attempt; longer ends the attempt" },
	{ "llm", "builtin_tokens_per_s", K_INT, OFF(llm.builtin_tokens_per_s), "25", 1, 100000,
	  "pace of the offline builtin provider's answers" },
	{ "llm", "cache", K_BOOL, OFF(llm.cache), "false", 0, 0,
	  "cache answers to deterministic requests (temperature 0) in memcached" },
	{ "llm", "cache_ttl", K_INT, OFF(llm.cache_ttl), "86400", 1, 2592000,
	  "seconds a cached answer is kept" },
	{ "llm", "pricing", K_STR, OFF(llm.pricing), "", 0, 0,
	  "USD per million tokens: model=input/output, comma-separated" },
	{ "tools", "dir", K_STR, OFF(tools.dir), "", 0, 0,
	  "directory of HTTP tool definitions, one NAME.json each (docs/operations.md); "
	  "read at start by every program; empty: none" },
	{ "tools", "secrets_dir", K_STR, OFF(tools.secrets_dir), "", 0, 0,
	  "directory of the secrets tool headers name ({secret:NAME}), one file each, when "
	  "$CREDENTIALS_DIRECTORY (systemd LoadCredential=) does not hold them; empty: none" },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static void
env_name(const struct key *k, char *buf, size_t len)
{
	char *p;

	snprintf(buf, len, "SWITCHBOARD_%s_%s", k->section, k->name);
	for (p = buf; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
}

/* Stores value into cfg; on a bad value writes what is expected into why. */
static int
key_set(struct sb_config *cfg, const struct key *k, const char *value, char *why, size_t len)
{
	char	*end, **sp;
	long	 n;
	int	 level;

	switch (k->type) {
	case K_STR:
		sp = (char **)((char *)cfg + k->offset);
		free(*sp);
		*sp = sb_strdup(value);
		return 0;
	case K_INT:
	case K_OCTAL:
		errno = 0;
		n = strtol(value, &end, k->type == K_OCTAL ? 8 : 10);
		if (*value == '\0' || *end != '\0' || errno != 0 || n < k->min || n > k->max) {
			snprintf(why, len, "expected %s from %ld to %ld, got \"%s\"",
			    k->type == K_OCTAL ? "an octal mode" : "a whole number",
			    k->min, k->max, value);
			return -1;
		}
		*(int *)((char *)cfg + k->offset) = (int)n;
		return 0;
	case K_BOOL:
		if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 ||
		    strcmp(value, "on") == 0 || strcmp(value, "1") == 0)
			*(bool *)((char *)cfg + k->offset) = true;
		else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 ||
		    strcmp(value, "off") == 0 || strcmp(value, "0") == 0)
			*(bool *)((char *)cfg + k->offset) = false;
		else {
			snprintf(why, len, "expected true or false, got \"%s\"", value);
			return -1;
		}
		return 0;
	case K_LEVEL:
		if ((level = log_level_parse(value)) < 0) {
			snprintf(why, len, "expected debug, info, warn or error, got \"%s\"", value);
			return -1;
		}
		*(int *)((char *)cfg + k->offset) = level;
		return 0;
	}
	return -1;
}

static const struct key *
key_find(const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

char *
str_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Is s blank, or blank then a comment? */
static int
only_comment(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return *s == '\0' || *s == '#' || *s == ';';
}

/* Parses one file.  Values may be quoted with "..." to keep leading blanks or
 * a '#'; otherwise a '#' or ';' after a blank starts a comment. */
static int
parse_file(struct sb_config *cfg, const char *path, char *err, size_t errlen)
{
	FILE			*f;
	char			 line[4096], section[64] = "", why[200], *s, *eq, *name, *value, *p;
	const struct key	*k;
	int			 lineno = 0, rc = -1;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line longer than %zu bytes", path, lineno,
			    sizeof(line) - 1);
			goto out;
		}
		s = str_trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			if ((p = strchr(s, ']')) == NULL || !only_comment(p + 1) ||
			    p - s - 1 >= (long)sizeof(section)) {
				snprintf(err, errlen, "%s:%d: malformed section header", path, lineno);
				goto out;
			}
			*p = '\0';
			snprintf(section, sizeof(section), "%s", str_trim(s + 1));
			continue;
		}
		if ((eq = strchr(s, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected key = value", path, lineno);
			goto out;
		}
		*eq = '\0';
		name = str_trim(s);
		value = str_trim(eq + 1);
		if (*value == '"') {
			if ((p = strchr(value + 1, '"')) == NULL) {
				snprintf(err, errlen, "%s:%d: unterminated quote", path, lineno);
				goto out;
			}
			if (!only_comment(p + 1)) {
				snprintf(err, errlen, "%s:%d: unexpected text after the closing quote",
				    path, lineno);
				goto out;
			}
			*p = '\0';
			value++;
		} else {
			for (p = value; *p != '\0'; p++)
				if ((*p == '#' || *p == ';') && p > value && isspace((unsigned char)p[-1])) {
					*p = '\0';
					value = str_trim(value);
					break;
				}
		}
		if (section[0] == '\0') {
			snprintf(err, errlen, "%s:%d: key \"%s\" outside any [section]", path, lineno, name);
			goto out;
		}
		if ((k = key_find(section, name)) == NULL) {
			snprintf(err, errlen, "%s:%d: unknown key \"%s\" in [%s]", path, lineno, name, section);
			goto out;
		}
		if (key_set(cfg, k, value, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s:%d: %s.%s: %s", path, lineno, section, name, why);
			goto out;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	rc = 0;
out:
	fclose(f);
	return rc;
}

static int
config_fill(struct sb_config *cfg, const char *path, char *err, size_t errlen)
{
	char		 env[128], why[200];
	const char	*v;
	size_t		 i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < NKEYS; i++)
		if (key_set(cfg, &keys[i], keys[i].def, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "built-in default of %s.%s: %s", keys[i].section,
			    keys[i].name, why);
			return -1;
		}
	if (path != NULL) {
		cfg->path = sb_strdup(path);
		if (parse_file(cfg, path, err, errlen) < 0)
			return -1;
	}
	for (i = 0; i < NKEYS; i++) {
		env_name(&keys[i], env, sizeof(env));
		if ((v = getenv(env)) == NULL)
			continue;
		if (key_set(cfg, &keys[i], v, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s", env, why);
			return -1;
		}
	}
	/* Roles named in the config must exist: a typo would refuse every token. */
	if (role_parse(cfg->jwt.default_role) < 0 || role_parse(cfg->oidc.provision_role) < 0) {
		snprintf(err, errlen, "%s: expected owner, admin, member or viewer, got \"%s\"",
		    role_parse(cfg->jwt.default_role) < 0 ? "jwt.default_role" : "oidc.provision_role",
		    role_parse(cfg->jwt.default_role) < 0 ? cfg->jwt.default_role : cfg->oidc.provision_role);
		return -1;
	}
	/* memcached has no authentication: what comes back is trusted only under a
	 * secret (core/cache.c).  Without one, a random one: correct, not shared. */
	if (cfg->memcached.secret[0] == '\0') {
		unsigned char	 r[32];
		char		 hex[2 * sizeof(r) + 1];

		if (sodium_init() < 0) {
			snprintf(err, errlen, "memcached.secret: libsodium cannot start");
			return -1;
		}
		randombytes_buf(r, sizeof(r));
		sodium_bin2hex(hex, sizeof(hex), r, sizeof(r));
		free(cfg->memcached.secret);
		cfg->memcached.secret = sb_strdup(hex);
		cfg->memcached.secret_generated = true;
	} else if (strlen(cfg->memcached.secret) < 32) {
		snprintf(err, errlen, "memcached.secret: at least 32 characters, got %zu",
		    strlen(cfg->memcached.secret));
		return -1;
	}
	if (cfg->database.migrate_url[0] == '\0') {
		free(cfg->database.migrate_url);
		cfg->database.migrate_url = sb_strdup(cfg->database.url);
	}
	return 0;
}

int
config_load(struct sb_config *cfg, const char *path, char *err, size_t errlen)
{
	if (config_fill(cfg, path, err, errlen) == 0)
		return 0;
	config_free(cfg);	/* nothing is left to the caller on failure */
	return -1;
}

void
config_free(struct sb_config *cfg)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (keys[i].type == K_STR)
			free(*(char **)((char *)cfg + keys[i].offset));
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}

const char *
config_resolve_path(const char *named)
{
	const char *p = getenv("SWITCHBOARD_CONFIG");

	if (named != NULL)
		return named;
	if (p != NULL && *p != '\0')
		return p;
	return access(SB_SYSCONFDIR "/switchboard.conf", F_OK) == 0 ?
	    SB_SYSCONFDIR "/switchboard.conf" : NULL;
}

void
config_each_key(void (*fn)(const char *, const char *, const char *, void *), void *arg)
{
	char	 key[128], env[128];
	size_t	 i;

	for (i = 0; i < NKEYS; i++) {
		snprintf(key, sizeof(key), "%s.%s", keys[i].section, keys[i].name);
		env_name(&keys[i], env, sizeof(env));
		fn(key, env, keys[i].desc, arg);
	}
}
