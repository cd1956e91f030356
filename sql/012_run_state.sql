-- 012_run_state.sql: a run's event log and its state changes in one place.  Every
-- writer of run_events (the queue functions of 008, the API's cancel) appends after the
-- run's last event while holding the run's row locked, so the seq it takes is the
-- next: run_last_seq says what the last one is.  The API's cancel is a function here,
-- beside the queue's, instead of a statement in handlers/runs.c.

-- The seq of the run's last event; 0 before the first.  No SET clause (it is called
-- once per row of a claim) and no definer rights: under the caller's, row-level
-- security still applies to a caller that is not the tables' owner.
CREATE FUNCTION run_last_seq(p_run uuid) RETURNS integer
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT coalesce(max(e.seq), 0) FROM public.run_events e WHERE e.run_id = p_run
    $$;

-- Cancels the caller's run p_id (row-level security: another org's run is not there)
-- and returns it as it is now; no row when there is no such run.  Queued: cancelled
-- now, with its terminal event.  Running: its worker is asked to stop
-- (cancel_requested) and writes the event.  Finished: nothing changes.
CREATE FUNCTION run_cancel(p_id uuid) RETURNS SETOF runs
    LANGUAGE sql SET search_path = public, pg_temp
    AS $$
    WITH before AS (SELECT r.id, r.state FROM runs r WHERE r.id = p_id FOR UPDATE),
    upd AS (
        UPDATE runs r SET
            state = CASE WHEN b.state = 'queued' THEN 'cancelled' ELSE r.state END,
            finished_at = CASE WHEN b.state = 'queued' THEN now() ELSE r.finished_at END,
            cancel_requested = r.cancel_requested OR b.state IN ('queued', 'running')
          FROM before b WHERE r.id = b.id
        RETURNING r.*
    ), ev AS (
        INSERT INTO run_events (run_id, seq, org_id, attempt, type, data)
        SELECT u.id, run_last_seq(u.id) + 1, u.org_id, u.attempt, 'run.cancelled',
               '{"reason": "cancelled before it started"}'
          FROM upd u JOIN before b ON b.id = u.id WHERE b.state = 'queued'
    )
    SELECT * FROM upd
    $$;

REVOKE ALL ON FUNCTION run_last_seq(uuid), run_cancel(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION run_last_seq(uuid), run_cancel(uuid) TO switchboard_app;

-- The queue's two functions that append an event, as in 008 but for the seq (and
-- queue_claim keeps 010's plan setting: a replaced function has only the SET clauses
-- it is given).  Their owner and grants stay.
CREATE OR REPLACE FUNCTION queue_claim(p_worker text, p_limit integer, p_lease_ms integer,
                            p_org_cap integer)
    RETURNS TABLE (id uuid, org_id bigint, attempt integer, counted integer,
                   max_attempts integer, seq integer, agent jsonb, input jsonb)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    SET plan_cache_mode = force_custom_plan
    AS $$
#variable_conflict use_column
DECLARE
    busy_orgs   bigint[] := '{}';
    busy_counts bigint[] := '{}';
    full_orgs   bigint[] := '{}';
BEGIN
    IF p_org_cap > 0 THEN
        PERFORM pg_advisory_xact_lock(hashtext('switchboard.queue_claim'));
        SELECT coalesce(array_agg(b.org_id), '{}'), coalesce(array_agg(b.n), '{}'),
               coalesce(array_agg(b.org_id) FILTER (WHERE b.n >= p_org_cap), '{}')
          INTO busy_orgs, busy_counts, full_orgs
          FROM (SELECT r.org_id, count(*) AS n FROM runs r
                 WHERE r.state = 'running' GROUP BY r.org_id) b;
    END IF;
    RETURN QUERY
    WITH c AS MATERIALIZED (
        SELECT r.id, r.org_id, r.priority, r.run_at, r.n FROM runs r
         WHERE r.state = 'queued' AND r.run_at <= now()
           AND NOT (r.org_id = ANY (full_orgs))
         ORDER BY r.priority DESC, r.run_at, r.n
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED
    ), pick AS (
        SELECT k.id FROM (
            SELECT c.id, c.org_id,
                   row_number() OVER (PARTITION BY c.org_id
                                      ORDER BY c.priority DESC, c.run_at, c.n) AS rank
              FROM c) k
          LEFT JOIN unnest(busy_orgs, busy_counts) AS b(org_id, n) ON b.org_id = k.org_id
         WHERE p_org_cap <= 0 OR k.rank + coalesce(b.n, 0) <= p_org_cap
    ), upd AS (
        UPDATE runs r
           SET state = 'running', attempt = r.attempt + 1, worker = p_worker,
               lease_until = now() + p_lease_ms * interval '1 millisecond',
               started_at = coalesce(r.started_at, now())
          FROM pick WHERE r.id = pick.id
        RETURNING r.id, r.org_id, r.attempt, r.released, r.max_attempts, r.agent, r.input
    ), ev AS (
        INSERT INTO run_events (run_id, seq, org_id, attempt, type, data)
        SELECT u.id, run_last_seq(u.id) + 1,
               u.org_id, u.attempt, 'run.started',
               jsonb_build_object('attempt', u.attempt - u.released, 'worker', p_worker)
          FROM upd u
        RETURNING run_id, run_events.seq
    )
    SELECT u.id, u.org_id, u.attempt, u.attempt - u.released, u.max_attempts, ev.seq,
           u.agent, u.input
      FROM upd u JOIN ev ON ev.run_id = u.id;
END
$$;

CREATE OR REPLACE FUNCTION queue_rescue(p_limit integer)
    RETURNS TABLE (id uuid, state text)
    LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    WITH c AS MATERIALIZED (
        SELECT r.id, jsonb_build_object(
                   'attempt', r.attempt - r.released, 'type', 'lease-expired',
                   'message', 'the worker stopped renewing its lease',
                   'worker', r.worker, 'retryable', true,
                   'at', to_char(now() AT TIME ZONE 'UTC',
                                 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) AS err
          FROM runs r
         WHERE r.state = 'running' AND r.lease_until < now()
         ORDER BY r.lease_until LIMIT p_limit
           FOR UPDATE SKIP LOCKED
    ), upd AS (
        UPDATE runs r SET
            state = CASE WHEN r.cancel_requested THEN 'cancelled'
                    WHEN r.attempt - r.released >= r.max_attempts THEN 'failed'
                    ELSE 'queued' END,
            error = CASE WHEN r.cancel_requested THEN r.error ELSE x.err END,
            errors = CASE WHEN r.cancel_requested THEN r.errors ELSE r.errors || x.err END,
            finished_at = CASE WHEN r.cancel_requested
                               OR r.attempt - r.released >= r.max_attempts THEN now() END,
            run_at = now(), lease_until = NULL, worker = NULL
          FROM c x
         WHERE r.id = x.id AND r.state = 'running' AND r.lease_until < now()
        RETURNING r.id, r.org_id, r.attempt, r.state, x.err
    ), ev AS (
        INSERT INTO run_events (run_id, seq, org_id, attempt, type, data)
        SELECT u.id, run_last_seq(u.id) + 1,
               u.org_id, u.attempt,
               CASE u.state WHEN 'queued' THEN 'run.retrying' WHEN 'failed' THEN 'run.failed'
               ELSE 'run.cancelled' END,
               CASE u.state WHEN 'cancelled'
               THEN '{"reason": "cancelled; its worker stopped"}'::jsonb
               ELSE jsonb_build_object('error', u.err) END
          FROM upd u
    )
    SELECT u.id, u.state FROM upd u
    $$;
