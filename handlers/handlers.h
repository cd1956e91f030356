/* handlers.h: one handler function per route, grouped by resource file. */
#ifndef SB_HANDLERS_H
#define SB_HANDLERS_H

#include <stddef.h>
#include <stdio.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "core/err.h"
#include "fcgi-app/app.h"
#include "fcgi-app/request.h"

/* A timestamptz column as ISO 8601 UTC text, to the second or to the millisecond. */
#define SQL_ISO(col)	"to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define SQL_ISO_MS(col)	"to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* health.c */
enum sb_err	 h_healthz(struct sb_req *);
enum sb_err	 h_readyz(struct sb_req *);
/* auth.c */
enum sb_err	 h_login(struct sb_req *);
enum sb_err	 h_logout(struct sb_req *);
enum sb_err	 h_logout_all(struct sb_req *);
enum sb_err	 h_me(struct sb_req *);
/* Starts a browser session for a user who has proved who they are: ends the session
 * the browser came with, stores a new one in org_id, fills req->who (CSRF token
 * included), audits login.succeeded with target and details (stolen, may be NULL) and
 * sets the cookie.  Answers nothing: the caller does.  On failure nothing is set. */
enum sb_err	 session_start(struct sb_req *, int64_t user_id, int64_t org_id, int role,
		    const char *target, json_t *details);
/* oidc.c */
enum sb_err	 h_oidc_start(struct sb_req *);
enum sb_err	 h_oidc_callback(struct sb_req *);
/* keys.c */
enum sb_err	 h_keys_list(struct sb_req *);
enum sb_err	 h_keys_create(struct sb_req *);
enum sb_err	 h_keys_revoke(struct sb_req *);
/* agents.c */
enum sb_err	 h_agents_list(struct sb_req *);
enum sb_err	 h_agents_get(struct sb_req *);
enum sb_err	 h_agents_create(struct sb_req *);
enum sb_err	 h_agents_put(struct sb_req *);
enum sb_err	 h_agents_delete(struct sb_req *);
/* runs.c */
/* A column of a row as JSON, null when it is NULL (new references): its value parsed
 * as JSON (col_json), or its text as a string (col_str). */
json_t		*col_json(PGresult *, int row, int col);
json_t		*col_str(PGresult *, int row, int col);
/* The columns run_json() reads, in its order; n (the cursor) first. */
#define RUN_COLUMNS "n, id, agent_slug, state, attempt - released, max_attempts, priority, " \
	"input::text, metadata::text, output::text, error::text, usage::text, " \
	SQL_ISO_MS("created_at") ", " SQL_ISO_MS("started_at") ", " SQL_ISO_MS("finished_at") \
	", cancel_requested"
/* A run as the API shows it, from RUN_COLUMNS (a new reference). */
json_t		*run_json(PGresult *, int row);
/* Is s a UUID's text?  Anything else names no run or thread: 404, never an error
 * from the database. */
int		 uuid_shaped(const char *s);
/* Is s one of words[0..n)?  (A query parameter's allowed values.) */
int		 word_in(const char *s, const char *const *words, size_t n);
/* Runs fn(req, arg) in the caller's org on the resource whose id is the path's {id}
 * (set in *id): an id that is not a UUID, another org's or none (fn's
 * SB_ERR_NOT_FOUND) is 404 about:blank with the detail what ("no such run"). */
enum sb_err	 with_id(struct sb_req *, const char *what, const char **id,
		    enum sb_err (*fn)(struct sb_req *, void *), void *arg);
enum sb_err	 h_runs_create(struct sb_req *);
enum sb_err	 h_runs_list(struct sb_req *);
enum sb_err	 h_runs_get(struct sb_req *);
enum sb_err	 h_runs_cancel(struct sb_req *);
enum sb_err	 h_runs_events(struct sb_req *);
enum sb_err	 h_runs_stream(struct sb_req *);
enum sb_err	 h_feed_stream(struct sb_req *);
/* The position a never-ending stream (the feed, a thread's) starts after: Last-Event-ID,
 * else ?after=, as "XID-N" or 0 (*given: one was sent); else 400 bad-last-event-id or
 * bad-after, what explaining. */
enum sb_err	 stream_position(struct sb_req *, struct sb_cursor *, int *given,
		    const char *what);
/* threads.c */
enum sb_err	 h_threads_create(struct sb_req *);
enum sb_err	 h_threads_list(struct sb_req *);
enum sb_err	 h_threads_get(struct sb_req *);
enum sb_err	 h_threads_patch(struct sb_req *);
enum sb_err	 h_threads_delete(struct sb_req *);
enum sb_err	 h_threads_messages(struct sb_req *);
enum sb_err	 h_threads_run(struct sb_req *);
enum sb_err	 h_threads_stream(struct sb_req *);
/* inbox.c */
enum sb_err	 h_inbox_list(struct sb_req *);
enum sb_err	 h_inbox_get(struct sb_req *);
enum sb_err	 h_inbox_answer(struct sb_req *);
/* An answer to an inbox item (POST /api/v1/inbox/{id}/answer): a question's answer, or
 * an approval's decision and note; the strings are the body's. */
struct inbox_reply {
	const char	*answer;	/* NULL for an approval's decision */
	int		 approve;	/* 1 approve, 0 refuse; -1 for a question's answer */
	const char	*note;		/* may be NULL */
};
/* Reads the body into r: SB_OK; or SB_ERR_INVALID (*slug "invalid-body": not exactly
 * one of answer and approve, a wrong type, an unknown member, a note beside an answer)
 * or SB_ERR_UNPROCESSABLE ("invalid-answer": 0 or more than 65536 bytes;
 * "invalid-note": more than 8000), with *detail saying what is wanted. */
enum sb_err	 inbox_reply_read(json_t *body, struct inbox_reply *r, const char **slug,
		    const char **detail);
/* kb.c */
enum sb_err	 h_kb_create(struct sb_req *);
enum sb_err	 h_kb_list(struct sb_req *);
enum sb_err	 h_kb_get(struct sb_req *);
enum sb_err	 h_kb_delete(struct sb_req *);
/* audit.c */
enum sb_err	 h_audit_list(struct sb_req *);
/* version.c */
enum sb_err	 h_version(struct sb_req *);
/* metrics.c */
enum sb_err	 h_metrics(struct sb_req *);
void		 metrics_render_app(FILE *, const struct app *);

#endif /* SB_HANDLERS_H */
