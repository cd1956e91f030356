/* conf.h: the configuration: one file, every key overridable by an environment
 * variable.  struct sb_config owns its strings; config_free() releases them. */
#ifndef SB_CORE_CONF_H
#define SB_CORE_CONF_H

#include <stdbool.h>
#include <stddef.h>

/* The whole configuration.  Every field is described once, in the key table
 * of conf.c, which gives its file key, its environment variable, its type,
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
	struct {
		char	*dir;
		char	*secrets_dir;
	} tools;
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

#endif /* SB_CORE_CONF_H */
