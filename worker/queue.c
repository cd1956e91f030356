/* queue.c: the worker's statements: claim, flush, heartbeat, cancels, rescue, prune, LISTEN. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "worker/worker.h"
#include "worker/batch.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/db.h"
#include "core/err.h"
#include "core/listener.h"
#include "core/log.h"
#include "core/metrics.h"

#define RESCUE_BATCH		500
#define PRUNE_EVERY_US		(60 * 1000000LL)
#define PRUNE_ROUNDS		20			/* batches per pruning pass, at most */

void
pending_init(struct pending *p)
{
	p->events = json_array();
	p->finishes = json_array();
	p->steps = json_array();
	p->since_us = 0;
}

void
pending_clear(struct pending *p)
{
	json_array_clear(p->events);
	json_array_clear(p->finishes);
	json_array_clear(p->steps);
	p->since_us = 0;
	p->thread_ends = 0;
}

static struct run *
run_find(struct worker *w, const char *id)
{
	struct run *r;

	LIST_FOREACH(r, &w->runs, link)
		if (strcmp(r->id, id) == 0)
			return r;
	return NULL;
}

/* Adds to ids (run ids) the threads of those runs made on one, each once.  Once per
 * flush: one walk of the runs held and a set of the ids, not a search per id. */
static void
threads_of(struct worker *w, json_t *ids)
{
	struct run	*r;
	json_t		*named, *v;
	size_t		 i;

	LIST_FOREACH(r, &w->runs, link)
		if (r->thread_id[0] != '\0')
			break;
	if (r == NULL)
		return;			/* no thread's run held: nothing to add */
	named = json_object();
	json_array_foreach(ids, i, v)
		json_object_set(named, json_string_value(v), json_true());
	LIST_FOREACH(r, &w->runs, link)
		if (r->thread_id[0] != '\0' && json_object_get(named, r->id) != NULL &&
		    json_object_get(named, r->thread_id) == NULL) {
			json_object_set(named, r->thread_id, json_true());
			json_array_append_new(ids, json_string(r->thread_id));
		}
	json_decref(named);
}

/* ------------------------------------------------------------ claim */

/* Tells stream responders which runs have new events, after the events are committed,
 * and the threads of those made on one (a thread's stream watches all its runs): the
 * ids go as one uuid[] and the database cuts them into payloads of at most 200 ids
 * (7.4 KB, under NOTIFY's 8,000-byte limit), space-separated. */
static struct db_stmt notify_st = { "queue_notify_events",
    "SELECT pg_notify('" EVENTS_CHANNEL "', string_agg(id::text, ' ')) "
    "FROM (SELECT id, (row_number() OVER () - 1) / 200 AS part "
    "FROM unnest($1::uuid[]) AS id) AS x GROUP BY part", 1, 0 };

/* The ids as the statement's one parameter. */
static void
notify_array(json_t *ids, struct db_array *arr)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(ids, i, v)
		db_array_add(arr, "%s", json_string_value(v));
}

static void
notify_events(struct worker *w, json_t *ids)
{
	struct db_array		 arr = { 0 };
	const char		*p[1];
	enum sb_err		 err;

	if (json_array_size(ids) == 0)
		return;
	notify_array(ids, &arr);
	p[0] = db_array_text(&arr);
	PQclear(db_exec_stmt(&w->db, &notify_st, p, &err));
	if (err == SB_OK)
		w->m.notifies++;
	db_array_free(&arr);
}

int
queue_claim(struct worker *w, int limit)
{
	static struct db_stmt	 st = { "queue_claim",
	    "SELECT id, org_id, attempt, counted, max_attempts, seq, agent::text, input::text, "
	    "context::text, thread_id, steps::text, allow_hosts::text, approvals::text "
	    "FROM queue_claim($1, $2, $3, $4)", 4, 0 };
	char			 lim[16], lease[16], cap[16];
	const char		*p[4] = { w->name, lim, lease, cap };
	PGresult		*res;
	enum sb_err		 err;
	int64_t			 t0 = clock_mono_us();
	int			 i, n;
	struct run		*r;
	json_t			*ids;

	if (db_ensure(&w->db) != SB_OK)
		return -1;
	snprintf(lim, sizeof(lim), "%d", limit);
	snprintf(lease, sizeof(lease), "%d", w->cfg.worker.lease * 1000);
	snprintf(cap, sizeof(cap), "%d", w->cfg.worker.org_max_inflight);
	if ((res = db_exec_stmt(&w->db, &st, p, &err)) == NULL)
		return -1;
	hist_observe(&w->m.claim_latency, clock_mono_us() - t0);
	w->m.claims++;
	n = PQntuples(res);
	ids = json_array();
	for (i = 0; i < n; i++) {
		json_array_append_new(ids, json_string(PQgetvalue(res, i, 0)));
		/* The lease runs from before the statement: what we know for sure. */
		if ((r = run_new(w, res, i)) == NULL)
			continue;
		r->lease_end_us = t0 + (int64_t)w->cfg.worker.lease * 1000000;
		w->m.claimed++;
		run_start(r);
	}
	PQclear(res);
	/* The claim wrote each run's run.started: its watchers hear of it now, not with
	 * the next flush. */
	notify_events(w, ids);
	json_decref(ids);
	return n;
}

/* ------------------------------------------------------------ flush */

/*
 * Writes events, finishes and steps in one statement.  0, or -1 with *err set (the
 * items are then untouched).  Runs whose write was refused (lease lost) are lost.
 */
static int
flush_exec(struct worker *w, json_t *events, json_t *finishes, json_t *steps,
    json_t *notify, enum sb_err *err)
{
	static struct db_stmt	 st = { "queue_flush",
	    "SELECT refused FROM queue_flush($1::jsonb, $2::jsonb, $3::jsonb)", 3, 0 };
	char			*text[3];
	const char		*p[3], *np[1];
	struct db_array		 arr = { 0 };
	PGresult		*res;
	struct run		*r;
	int			 j;

	text[0] = json_dumps(events, JSON_COMPACT | JSON_REAL_PRECISION(15));
	text[1] = json_dumps(finishes, JSON_COMPACT | JSON_REAL_PRECISION(15));
	text[2] = json_dumps(steps, JSON_COMPACT | JSON_REAL_PRECISION(15));
	for (j = 0; j < 3; j++)
		if ((p[j] = text[j]) == NULL)
			sb_oom(0);
	if (json_array_size(notify) > 0) {
		/* The NOTIFY follows the commit in the same round trip: the responders
		 * hear of the events without waiting for this process to read the
		 * flush's answer.  Should the flush fail, they read and find nothing. */
		notify_array(notify, &arr);
		np[0] = db_array_text(&arr);
		res = db_exec_then(&w->db, &st, p, &notify_st, np, err);
		db_array_free(&arr);
		if (res != NULL)
			w->m.notifies++;
	} else
		res = db_exec_stmt(&w->db, &st, p, err);
	for (j = 0; j < 3; j++)
		free(text[j]);
	if (res == NULL)
		return -1;
	for (j = 0; j < PQntuples(res); j++) {
		if ((r = run_find(w, PQgetvalue(res, j, 0))) != NULL && r->phase != RUN_ENDED) {
			log_warn("run lost: a write was refused (lease lost or run moved on)",
			    "{s:s, s:i}", "run", r->id, "attempt", r->attempt);
			run_lost(r);
		}
	}
	PQclear(res);
	return 0;
}

/* Does items (pending) hold one of this run's? */
static int
names_run(json_t *items, const char *id)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(items, i, v)
		if (strcmp(json_string_value(json_object_get(v, "id")), id) == 0)
			return 1;
	return 0;
}

/* Is an end of this run still waiting to be written? */
static int
run_pending(struct worker *w, const char *id)
{
	return names_run(w->pending.finishes, id);
}

/* Is a step of this run still waiting to be written? */
static int
steps_pending(struct worker *w, const char *id)
{
	return names_run(w->pending.steps, id);
}

/*
 * The database refused a batch (not the connection: the data).  One run's bad item must
 * not hold up every run of this worker, and being retried forever it would: so each
 * run's items are written alone, and a run whose own items are refused fails, its
 * unwritten events replaced by run.failed (at the first of their seqs, so the log
 * keeps no gap) and a failed end that says why.  The rest stays pending when the
 * connection goes meanwhile.  Runs written are added to written (ids).
 */
static void
flush_split(struct worker *w, json_t *written)
{
	struct pending	*pd = &w->pending;
	json_t		*ev, *fin, *st;
	struct run	*r;
	enum sb_err	 err;
	const char	*next;
	char		*rid;
	int		 seq;

	while ((next = batch_next_run(pd->events, pd->finishes, pd->steps)) != NULL) {
		rid = sb_strdup(next);
		ev = batch_take_run(pd->events, rid);
		fin = batch_take_run(pd->finishes, rid);
		st = batch_take_run(pd->steps, rid);
		if (flush_exec(w, ev, fin, st, NULL, &err) == 0) {
			w->m.events += json_array_size(ev);
			json_array_append_new(written, json_string(rid));
		} else if (err == SB_ERR_UNAVAILABLE) {
			json_array_extend(pd->events, ev);	/* kept for the next flush */
			json_array_extend(pd->finishes, fin);
			json_array_extend(pd->steps, st);
			json_decref(ev);
			json_decref(fin);
			json_decref(st);
			free(rid);
			return;
		} else {
			r = run_find(w, rid);
			log_error("run failed: the database refused its events", "{s:s, s:s}",
			    "run", rid, "error", w->db.last_error);
			json_array_clear(st);		/* the run fails: nothing goes on */
			seq = batch_failed(rid, ev, fin, r != NULL ? r->next_seq : 0);
			if (r != NULL) {
				if (r->phase != RUN_ENDED)
					run_abandon(r);
				r->next_seq = seq + 1;
			}
			if (flush_exec(w, ev, fin, st, NULL, &err) == 0) {
				w->m.failed++;
				json_array_append_new(written, json_string(rid));
			}
			/* Else it is left to the rescuer once its lease runs out. */
		}
		json_decref(ev);
		json_decref(fin);
		json_decref(st);
		free(rid);
	}
}

int
queue_flush(struct worker *w)
{
	struct pending		*pd = &w->pending;
	enum sb_err		 err;
	int64_t			 t0 = clock_mono_us();
	size_t			 nev = json_array_size(pd->events);
	json_t			*list;
	struct run		*r, *next;
	int			 rc;

	if (nev == 0 && json_array_size(pd->finishes) == 0 && json_array_size(pd->steps) == 0)
		return 0;
	if (db_ensure(&w->db) != SB_OK) {
		w->m.flush_errors++;
		return -1;
	}
	list = batch_event_runs(pd->events);	/* the runs with new events */
	threads_of(w, list);
	rc = flush_exec(w, pd->events, pd->finishes, pd->steps, list, &err);
	json_array_clear(list);		/* told with the flush; after a failure, what
					 * flush_split writes is told below */
	if (rc == 0) {
		hist_observe(&w->m.flush_latency, clock_mono_us() - t0);
		w->m.flushes++;
		w->m.events += nev;
		/* A thread's next run was released by this commit (sql/013): claim now. */
		if (pd->thread_ends > 0)
			w->woken = 1;
		pending_clear(pd);
	} else {
		w->m.flush_errors++;
		/* Kept for the next flush when the database is away: events already written
		 * are skipped then, and an end already written finds its run no longer
		 * running (refused).  Refused as data: run by run. */
		if (err != SB_ERR_UNAVAILABLE)
			flush_split(w, list);
		if (json_array_size(pd->events) + json_array_size(pd->finishes) +
		    json_array_size(pd->steps) == 0)
			pd->since_us = 0;
	}
	notify_events(w, list);
	json_decref(list);
	/* Runs whose steps are now recorded go on (their next records wait again). */
	for (r = LIST_FIRST(&w->runs); r != NULL; r = next) {
		next = LIST_NEXT(r, link);
		if (r->saving && !steps_pending(w, r->id))
			step_saved(r);
	}
	/* Runs whose end is now written leave. */
	for (r = LIST_FIRST(&w->runs); r != NULL; r = next) {
		next = LIST_NEXT(r, link);
		if (r->phase == RUN_ENDED && !run_pending(w, r->id))
			run_free(r);
	}
	return json_array_size(pd->events) + json_array_size(pd->finishes) +
	    json_array_size(pd->steps) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ heartbeat and cancels */

void
queue_heartbeat(struct worker *w, int64_t now)
{
	static struct db_stmt	 st = { "queue_heartbeat",
	    "SELECT id, cancel_requested FROM queue_heartbeat($1::uuid[], $2::integer[], $3)",
	    3, 0 };
	struct db_array		 ids = { 0 }, atts = { 0 };
	char			 lease[16];
	const char		*p[3];
	PGresult		*res;
	enum sb_err		 err;
	struct run		*r, *next;
	json_t			*alive;
	int			 i;

	if (w->nruns == 0 || db_ensure(&w->db) != SB_OK)
		return;
	batch_heartbeat(&w->runs, &ids, &atts);
	snprintf(lease, sizeof(lease), "%d", w->cfg.worker.lease * 1000);
	p[0] = db_array_text(&ids);
	p[1] = db_array_text(&atts);
	p[2] = lease;
	res = db_exec_stmt(&w->db, &st, p, &err);
	db_array_free(&ids);
	db_array_free(&atts);
	if (res == NULL)
		return;		/* tried again next beat; the leases still run */
	w->m.heartbeats++;
	alive = json_object();
	for (i = 0; i < PQntuples(res); i++)
		json_object_set_new(alive, PQgetvalue(res, i, 0),
		    json_boolean(PQgetvalue(res, i, 1)[0] == 't'));
	PQclear(res);
	for (r = LIST_FIRST(&w->runs); r != NULL; r = next) {
		json_t *c = json_object_get(alive, r->id);

		next = LIST_NEXT(r, link);
		if (c == NULL) {
			if (r->phase != RUN_ENDED)
				log_warn("run lost: its lease was not renewed", "{s:s, s:i}",
				    "run", r->id, "attempt", r->attempt);
			run_lost(r);
			continue;
		}
		r->lease_end_us = now + (int64_t)w->cfg.worker.lease * 1000000;
		if (json_is_true(c) && r->phase != RUN_ENDED)
			run_cancel(r);
	}
	json_decref(alive);
}

void
queue_check_cancels(struct worker *w)
{
	static struct db_stmt	 st = { "queue_cancelling",
	    "SELECT id, attempt FROM queue_cancelling($1)", 1, 0 };
	const char		*p[1] = { w->name };
	PGresult		*res;
	enum sb_err		 err;
	struct run		*r;
	int			 i;

	if (w->nactive == 0 || db_ensure(&w->db) != SB_OK)
		return;
	if ((res = db_exec_stmt(&w->db, &st, p, &err)) == NULL)
		return;
	for (i = 0; i < PQntuples(res); i++) {
		r = run_find(w, PQgetvalue(res, i, 0));
		if (r != NULL && r->attempt == atoi(PQgetvalue(res, i, 1)) && r->phase != RUN_ENDED)
			run_cancel(r);
	}
	PQclear(res);
}

/* ------------------------------------------------------------ rescue and prune */

/* Inbox items past their deadline expire (sql/015_inbox.sql): their runs go on, or
 * fail, as their agents chose; a run that goes on is claimable now. */
static void
inbox_sweep(struct worker *w)
{
	static struct db_stmt	 st = { "inbox_expire",
	    "SELECT run_id FROM inbox_expire($1)", 1, 0 };
	char			 a[16];
	const char		*p[1] = { a };
	PGresult		*res;
	enum sb_err		 err;
	json_t			*ids;
	int			 i, n;

	snprintf(a, sizeof(a), "%d", RESCUE_BATCH);
	if ((res = db_exec_stmt(&w->db, &st, p, &err)) == NULL)
		return;
	n = PQntuples(res);
	ids = json_array();
	for (i = 0; i < n; i++) {
		log_info("inbox item expired: no one answered before its deadline", "{s:s}",
		    "run", PQgetvalue(res, i, 0));
		json_array_append_new(ids, json_string(PQgetvalue(res, i, 0)));
	}
	PQclear(res);
	w->m.expired += (uint64_t)n;
	if (n > 0)
		w->woken = 1;
	notify_events(w, ids);		/* their human.expired or run.failed */
	json_decref(ids);
}

void
queue_rescue(struct worker *w, int64_t now)
{
	static struct db_stmt	 rescue = { "queue_rescue",
	    "SELECT id, state FROM queue_rescue($1)", 1, 0 };
	static struct db_stmt	 prune = { "queue_prune", "SELECT queue_prune($1, $2)", 2, 0 };
	char			 a[16], b[16];
	const char		*p[2] = { a, b };
	PGresult		*res;
	PGresult		*lock;
	enum sb_err		 err;
	int			 n, i, round;

	if (!w->leader) {
		/* A session lock on the LISTEN connection: released if this process or
		 * that connection dies, so another worker takes over the sweeping. */
		if (w->listen.db.conn == NULL || !w->listen.listening)
			return;
		lock = db_exec(&w->listen.db,
		    "SELECT pg_try_advisory_lock(hashtext('switchboard.rescuer'))", 0, NULL, &err);
		if (lock == NULL)
			return;
		w->leader = PQgetvalue(lock, 0, 0)[0] == 't';
		PQclear(lock);
		if (!w->leader)
			return;
		log_info("this worker sweeps expired leases and prunes old runs", NULL);
	}
	if (db_ensure(&w->db) != SB_OK)
		return;
	snprintf(a, sizeof(a), "%d", RESCUE_BATCH);
	do {
		if ((res = db_exec_stmt(&w->db, &rescue, p, &err)) == NULL)
			return;
		n = PQntuples(res);
		for (i = 0; i < n; i++)
			log_warn("run rescued: its lease expired", "{s:s, s:s}", "run",
			    PQgetvalue(res, i, 0), "now", PQgetvalue(res, i, 1));
		w->m.rescued += (uint64_t)n;
		PQclear(res);
	} while (n == RESCUE_BATCH);
	inbox_sweep(w);

	if (w->cfg.worker.retention_days == 0 || now < w->next_prune_us)
		return;
	w->next_prune_us = now + PRUNE_EVERY_US;
	snprintf(a, sizeof(a), "%d", w->cfg.worker.retention_days * 86400);
	snprintf(b, sizeof(b), "%d", w->cfg.worker.prune_batch);
	for (round = 0; round < PRUNE_ROUNDS; round++) {
		if ((res = db_exec_stmt(&w->db, &prune, p, &err)) == NULL)
			return;
		n = atoi(PQgetvalue(res, 0, 0));
		PQclear(res);
		w->m.pruned += (uint64_t)n;
		if (n < w->cfg.worker.prune_batch)
			break;
	}
}

/* ------------------------------------------------------------ LISTEN */

void
queue_listen_ensure(struct worker *w)
{
	int was = w->listen.listening;

	if (listener_ensure(&w->listen))
		w->woken = 1;		/* anything created while we were not listening */
	if (was && !w->listen.listening && w->leader) {
		log_info("the rescuer's lock went with its connection", NULL);
		w->leader = 0;
	}
	if (w->listen.db.conn == NULL)
		w->leader = 0;
}

static void
on_notify(void *arg, const char *payload)
{
	struct worker *w = arg;

	(void)payload;
	w->woken = 1;
	w->m.notifies_received++;
}

void
queue_listen_read(struct worker *w)
{
	if (listener_read(&w->listen, on_notify, w) < 0)
		w->leader = 0;
}
