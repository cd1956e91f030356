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
-- (cancel_requested) and writes the event.  Finished: nothing changes.  A run waiting
-- its thread's turn (queued at 'infinity', sql/013) is only flagged: it ends when its
-- turn comes, so that its run.cancelled comes after the events of the runs before it.
CREATE FUNCTION run_cancel(p_id uuid) RETURNS SETOF runs
    LANGUAGE sql SET search_path = public, pg_temp
    AS $$
    WITH before AS (
        SELECT r.id, r.state = 'queued' AND r.run_at <> 'infinity' AS now_ended, r.state
          FROM runs r WHERE r.id = p_id FOR UPDATE
    ), upd AS (
        UPDATE runs r SET
            state = CASE WHEN b.now_ended THEN 'cancelled' ELSE r.state END,
            finished_at = CASE WHEN b.now_ended THEN now() ELSE r.finished_at END,
            cancel_requested = r.cancel_requested OR b.state IN ('queued', 'running')
          FROM before b WHERE r.id = b.id
        RETURNING r.*
    ), ev AS (
        INSERT INTO run_events (run_id, seq, org_id, attempt, type, data)
        SELECT u.id, run_last_seq(u.id) + 1, u.org_id, u.attempt, 'run.cancelled',
               '{"reason": "cancelled before it started"}'
          FROM upd u JOIN before b ON b.id = u.id WHERE b.now_ended
    )
    SELECT * FROM upd
    $$;

REVOKE ALL ON FUNCTION run_last_seq(uuid), run_cancel(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION run_last_seq(uuid), run_cancel(uuid) TO switchboard_app;

-- queue_rescue, as in 008 but for the seq.  Its owner and grants stay.  (queue_claim
-- appends one too: 013 makes it again, with what threads add.)
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
