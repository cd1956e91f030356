/* access.h: who is calling and what they may do: authentication, the route's
 * scope and rate limit, the caller's org for row-level security, and the audit log. */
#ifndef SB_FCGI_APP_ACCESS_H
#define SB_FCGI_APP_ACCESS_H

#include <jansson.h>
#include <libpq-fe.h>
#include "core/db.h"
#include "core/err.h"
#include "core/ratelimit.h"
#include "fcgi-app/app.h"
#include "fcgi-app/request.h"

/* Authentication (session cookie, API key, JWT) and the checks of a route. */
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
/* Runs st (req_exec) and, when it returned exactly one row, makes *out of it with
 * item (a new reference): SB_OK; no row (or another org's: row-level security) is
 * SB_ERR_NOT_FOUND. */
enum sb_err	 req_one(struct sb_req *, struct db_stmt *st, const char *const *params,
		    json_t *(*item)(PGresult *, int row), json_t **out);
/* Who made what the request makes, as rows record it (created_by_kind, created_by):
 * "user" and the user's id, "key" and the key's id, "token" and 0. */
const char	*req_creator(const struct sb_req *, char id[24]);
PGresult	*req_exec(struct sb_req *, struct db_stmt *, const char *const *params,
		    enum sb_err *err);

/* Appends to the audit log in the caller's org (a failed login with no org goes
 * through auth_audit_anonymous).  Failures are logged, never fatal to the request.
 * details (may be NULL) is taken: the request's arena releases it. */
void		 audit(struct sb_req *, const char *action, const char *target, json_t *details);

/* Is the database connection made as a role row-level security confines (not the
 * tables' owner, not a superuser, no BYPASSRLS)?  Checked once per connection;
 * logged loudly when not.  -1 when the check itself failed. */
int		 app_role_safe(struct app *);

#endif /* SB_FCGI_APP_ACCESS_H */
