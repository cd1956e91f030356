/* routes.c: the route table: every path Switchboard answers, its handler and needs. */
#include "config.h"
#include <stddef.h>

#include "handlers/handlers.h"
#include "core/scope.h"
#include "fcgi-app/router.h"

/* tests/integration/authz.txt states the scope and access of each route again; the
 * authorization matrix test fails until both agree. */
const struct route routes[] = {
	/* Operations: no credentials, no rate limit. */
	{ "GET", "/healthz", h_healthz, 0, ROUTE_PUBLIC | ROUTE_NOLIMIT },
	{ "GET", "/readyz", h_readyz, 0, ROUTE_PUBLIC | ROUTE_NOLIMIT },
	{ "GET", "/metrics", h_metrics, 0, ROUTE_PUBLIC | ROUTE_NOLIMIT | ROUTE_LOOPBACK },
	/* Public, limited per address. */
	{ "GET", "/api/v1/version", h_version, 0, ROUTE_PUBLIC },
	{ "POST", "/api/v1/auth/login", h_login, 0, ROUTE_PUBLIC | ROUTE_LOGIN | ROUTE_DB },
	{ "GET", "/api/v1/auth/oidc/start", h_oidc_start, 0, ROUTE_PUBLIC | ROUTE_DB },
	{ "GET", "/api/v1/auth/oidc/callback", h_oidc_callback, 0, ROUTE_PUBLIC | ROUTE_DB },
	/* Any authenticated caller. */
	{ "GET", "/api/v1/me", h_me, 0, ROUTE_DB },
	{ "POST", "/api/v1/auth/logout", h_logout, 0, ROUTE_SESSION | ROUTE_DB },
	{ "POST", "/api/v1/auth/logout-all", h_logout_all, 0, ROUTE_SESSION | ROUTE_DB },
	/* API keys. */
	{ "GET", "/api/v1/keys", h_keys_list, SCOPE_KEYS_ADMIN, ROUTE_DB },
	{ "POST", "/api/v1/keys", h_keys_create, SCOPE_KEYS_ADMIN, ROUTE_DB },
	{ "DELETE", "/api/v1/keys/{id}", h_keys_revoke, SCOPE_KEYS_ADMIN, ROUTE_DB },
	/* The agent registry. */
	{ "GET", "/api/v1/agents", h_agents_list, SCOPE_AGENTS_READ, ROUTE_DB },
	{ "POST", "/api/v1/agents", h_agents_create, SCOPE_AGENTS_ADMIN, ROUTE_DB },
	{ "GET", "/api/v1/agents/{slug}", h_agents_get, SCOPE_AGENTS_READ, ROUTE_DB },
	{ "PUT", "/api/v1/agents/{slug}", h_agents_put, SCOPE_AGENTS_ADMIN, ROUTE_DB },
	{ "DELETE", "/api/v1/agents/{slug}", h_agents_delete, SCOPE_AGENTS_ADMIN, ROUTE_DB },
	/* Runs. */
	{ "POST", "/api/v1/runs", h_runs_create, SCOPE_RUNS_WRITE, ROUTE_DB },
	{ "GET", "/api/v1/runs", h_runs_list, SCOPE_RUNS_READ, ROUTE_DB },
	{ "GET", "/api/v1/runs/{id}", h_runs_get, SCOPE_RUNS_READ, ROUTE_DB },
	{ "POST", "/api/v1/runs/{id}/cancel", h_runs_cancel, SCOPE_RUNS_WRITE, ROUTE_DB },
	{ "GET", "/api/v1/runs/{id}/events", h_runs_events, SCOPE_RUNS_READ, ROUTE_DB },
	{ "GET", "/api/v1/runs/{id}/stream", h_runs_stream, SCOPE_RUNS_READ, ROUTE_DB | ROUTE_STREAM },
	{ "GET", "/api/v1/stream", h_feed_stream, SCOPE_RUNS_READ, ROUTE_DB | ROUTE_STREAM },
	/* Threads: conversations, their messages and their runs. */
	{ "POST", "/api/v1/threads", h_threads_create, SCOPE_RUNS_WRITE, ROUTE_DB },
	{ "GET", "/api/v1/threads", h_threads_list, SCOPE_RUNS_READ, ROUTE_DB },
	{ "GET", "/api/v1/threads/{id}", h_threads_get, SCOPE_RUNS_READ, ROUTE_DB },
	{ "PATCH", "/api/v1/threads/{id}", h_threads_patch, SCOPE_RUNS_WRITE, ROUTE_DB },
	{ "DELETE", "/api/v1/threads/{id}", h_threads_delete, SCOPE_RUNS_WRITE, ROUTE_DB },
	{ "GET", "/api/v1/threads/{id}/messages", h_threads_messages, SCOPE_RUNS_READ, ROUTE_DB },
	{ "POST", "/api/v1/threads/{id}/runs", h_threads_run, SCOPE_RUNS_WRITE, ROUTE_DB },
	{ "GET", "/api/v1/threads/{id}/stream", h_threads_stream, SCOPE_RUNS_READ,
	    ROUTE_DB | ROUTE_STREAM },
	/* The inbox: what runs ask people, and their answers. */
	{ "GET", "/api/v1/inbox", h_inbox_list, SCOPE_INBOX_READ, ROUTE_DB },
	{ "GET", "/api/v1/inbox/{id}", h_inbox_get, SCOPE_INBOX_READ, ROUTE_DB },
	{ "POST", "/api/v1/inbox/{id}/answer", h_inbox_answer, SCOPE_INBOX_WRITE, ROUTE_DB },
	/* The knowledge base: documents, and the search the kb_search tool makes. */
	{ "POST", "/api/v1/kb/documents", h_kb_create, SCOPE_KB_WRITE, ROUTE_DB | ROUTE_TEXT },
	{ "GET", "/api/v1/kb/documents", h_kb_list, SCOPE_KB_READ, ROUTE_DB },
	{ "GET", "/api/v1/kb/documents/{id}", h_kb_get, SCOPE_KB_READ, ROUTE_DB },
	{ "DELETE", "/api/v1/kb/documents/{id}", h_kb_delete, SCOPE_KB_WRITE, ROUTE_DB },
	/* The audit log. */
	{ "GET", "/api/v1/audit", h_audit_list, SCOPE_AUDIT_READ, ROUTE_DB },
};

const size_t nroutes = sizeof(routes) / sizeof(routes[0]);
