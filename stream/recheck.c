/* recheck.c: held streams and long polls follow their credential: revoked, expired or
 * stripped of the route's scope, they end within stream.recheck_ms. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <libpq-fe.h>

#include "stream/stream.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/db.h"
#include "core/err.h"
#include "core/log.h"
#include "core/scope.h"
#include "fcgi-app/app.h"
#include "fcgi-app/request.h"
#include "fcgi-app/router.h"

void
recheck_hold(struct sconn *c, const struct sb_req *req)
{
	const struct principal *w = &req->who;

	c->cred_kind = w->kind;
	c->cred[0] = '\0';
	if (w->kind == AUTH_SESSION)
		snprintf(c->cred, sizeof(c->cred), "%s", w->token_hash);
	else if (w->kind == AUTH_KEY)
		snprintf(c->cred, sizeof(c->cred), "%.*s", KEY_ID_LEN, w->subject);
	c->need_scope = req->app->routes[req->match.index].scope;
	c->cred_expires = w->expires;
}

static int
held(const struct sconn *c)
{
	return c->state == SC_STREAMING || c->state == SC_WAITING;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What the database says of one kind of credential. */
struct verdicts {
	char		**creds;	/* distinct, sorted copies (ending a request frees it) */
	size_t		  n;
	unsigned	 *scopes;	/* what each still grants; 0: nothing (refused) */
};

/* The distinct credentials of this kind among held requests. */
static void
collect(enum auth_kind kind, struct verdicts *v)
{
	struct sconn	*c;
	size_t		 cap = 0, i, k;

	memset(v, 0, sizeof(*v));
	LIST_FOREACH(c, &srv->conns, link) {
		if (!held(c) || c->cred_kind != kind || c->cred[0] == '\0')
			continue;
		if (v->n == cap) {
			cap = cap ? cap * 2 : 64;
			v->creds = sb_realloc(v->creds, cap * sizeof(*v->creds));
		}
		v->creds[v->n++] = c->cred;
	}
	if (v->n == 0)
		return;
	qsort(v->creds, v->n, sizeof(*v->creds), str_cmp);
	for (i = 1, k = 1; i < v->n; i++)
		if (strcmp(v->creds[i], v->creds[k - 1]) != 0)
			v->creds[k++] = v->creds[i];
	v->n = k;
	for (i = 0; i < v->n; i++)
		v->creds[i] = sb_strdup(v->creds[i]);
}

/*
 * Asks the database about every credential in v, in one statement (the auth_*
 * functions the first check used, through unnest, in the order given).  0, or -1
 * when the database failed: then nobody is ended on its account.
 */
static int
ask(struct db_stmt *st, int is_session, struct verdicts *v)
{
	struct db_array	 arr = { 0 };
	const char	*p[1];
	PGresult	*res;
	enum sb_err	 err;
	size_t		 i;
	int		 role;

	if (v->n == 0)
		return 0;
	for (i = 0; i < v->n; i++)
		db_array_add(&arr, "%s", v->creds[i]);	/* hex hashes, base32 ids: no quoting */
	p[0] = db_array_text(&arr);
	res = db_ensure(&srv->app.db) == SB_OK ? db_exec_stmt(&srv->app.db, st, p, &err) : NULL;
	db_array_free(&arr);
	if (res == NULL || (size_t)PQntuples(res) != v->n) {
		PQclear(res);
		return -1;
	}
	v->scopes = sb_calloc(v->n, sizeof(*v->scopes));
	for (i = 0; i < v->n; i++) {
		if (PQgetvalue(res, (int)i, 0)[0] != 't')
			continue;
		if (is_session) {
			role = role_parse(PQgetvalue(res, (int)i, 1));
			v->scopes[i] = role >= 0 ? role_scopes((enum sb_role)role) : 0;
		} else
			v->scopes[i] = scopes_from_pg_array(PQgetvalue(res, (int)i, 1));
	}
	PQclear(res);
	return 0;
}

static void
verdicts_free(struct verdicts *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		free(v->creds[i]);
	free(v->creds);
	free(v->scopes);
}

/* What c's credential grants now; ~0u when it was not asked about (kept as it is). */
static unsigned
granted(const struct sconn *c, const struct verdicts *s, const struct verdicts *k)
{
	const struct verdicts	*v = c->cred_kind == AUTH_SESSION ? s :
	    c->cred_kind == AUTH_KEY ? k : NULL;
	const char		*key = c->cred;
	char			**hit;

	if (v == NULL || v->scopes == NULL)
		return ~0u;
	hit = bsearch(&key, v->creds, v->n, sizeof(*v->creds), str_cmp);
	return hit != NULL ? v->scopes[hit - v->creds] : ~0u;
}

/* Ends a held request: a stream closes (its EventSource reconnects and is refused),
 * a long poll is answered with the problem. */
static void
end_held(struct sconn *c, int status)
{
	srv->m.revoked++;
	log_info("held request ended: its credential was revoked or lost the scope",
	    "{s:s, s:i}", "request_id", c->request_id, "status", status);
	if (c->state == SC_WAITING) {
		json_decref(c->items);
		c->items = NULL;
		if (status == 401)
			sconn_problem(c, 401, "credential-revoked", "the session, key or token "
			    "this request was made with is no longer valid");
		else
			sconn_problem(c, 403, "scope-revoked", "the credential no longer has the "
			    "scope this request needs");
	} else if (sconn_comment(c, ": credential revoked\n\n") < 0)
		return;		/* the client had left: closed already */
	sconn_end(c);
}

void
recheck_tick(int64_t now)
{
	static struct db_stmt	 sessions = { "stream_recheck_sessions",
	    "SELECT coalesce(s.usable AND s.expires_at > now(), false), s.role "
	    "FROM unnest($1::text[]) WITH ORDINALITY AS x (h, i) "
	    "LEFT JOIN LATERAL auth_session(x.h) s ON true ORDER BY x.i", 1, 0 };
	static struct db_stmt	 keys = { "stream_recheck_keys",
	    "SELECT coalesce(k.usable AND (k.expires_at IS NULL OR k.expires_at > now()), false), "
	    "k.scopes FROM unnest($1::text[]) WITH ORDINALITY AS x (id, i) "
	    "LEFT JOIN LATERAL auth_api_key(x.id) k ON true ORDER BY x.i", 1, 0 };
	struct verdicts		 s, k;
	struct sconn		*c, *next;
	unsigned		 g;
	int64_t			 wall = clock_real_ms() / 1000;

	if (now < srv->next_recheck_us || srv->nstreams == 0)
		return;
	srv->next_recheck_us = now + (int64_t)srv->app.cfg.stream.recheck_ms * 1000;
	collect(AUTH_SESSION, &s);
	collect(AUTH_KEY, &k);
	(void)ask(&sessions, 1, &s);
	(void)ask(&keys, 0, &k);
	for (c = LIST_FIRST(&srv->conns); c != NULL; c = next) {
		next = LIST_NEXT(c, link);
		if (!held(c))
			continue;
		g = granted(c, &s, &k);
		if (g == 0 || (c->cred_expires != 0 && wall >= c->cred_expires))
			end_held(c, 401);
		else if ((g & c->need_scope) != c->need_scope)
			end_held(c, 403);
	}
	verdicts_free(&s);
	verdicts_free(&k);
}
