-- 008_queue.sql: the queue's side of runs.  switchboard-worker executes runs of every
-- org, so what it does crosses tenants: it goes through the SECURITY DEFINER functions
-- below (queue_*), the only cross-tenant paths to runs, each doing one narrow thing.
--
-- Fencing: runs.attempt is the fence token.  A claim increments it; every later write
-- of that attempt (events, lease renewal, completion) names (id, attempt) and applies
-- only while the run is still 'running' at that attempt, with the row locked, so a
-- worker that lost its lease can never append to, complete or overwrite a newer
-- attempt.  A run released on shutdown keeps its count of attempts: `released` counts
-- the claims that did not count, and attempt - released is the attempt users see.

ALTER TABLE runs ADD COLUMN released integer NOT NULL DEFAULT 0;

-- The worker asks several times a second which of its runs were asked to stop:
-- this index is empty but for those few rows.
CREATE INDEX runs_cancelling ON runs (worker) WHERE state = 'running' AND cancel_requested;
-- Retention pruning walks finished runs oldest first.
CREATE INDEX runs_finished ON runs (finished_at)
    WHERE state IN ('succeeded', 'failed', 'cancelled');
-- The queue is updated several times per run: leave room for HOT updates and vacuum
-- it sooner than the default.
ALTER TABLE runs SET (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02,
                      autovacuum_analyze_scale_factor = 0.02);

-- One row per attempt that used a model: what it cost.
CREATE TABLE usage_ledger (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id              bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    run_id              uuid,               -- kept when the run is pruned
    attempt             integer NOT NULL,
    provider            text NOT NULL,
    model               text NOT NULL,
    prompt_tokens       bigint NOT NULL DEFAULT 0,
    completion_tokens   bigint NOT NULL DEFAULT 0,
    cost_usd            numeric(14, 6) NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX usage_ledger_org_time ON usage_ledger (org_id, created_at);
ALTER TABLE usage_ledger ENABLE ROW LEVEL SECURITY;
CREATE POLICY usage_ledger_tenant ON usage_ledger
    USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());

-- Claims up to p_limit runs for p_worker, highest priority first, each leased for
-- p_lease_ms, with its run.started event written in the same statement.  With
-- p_org_cap > 0 no org gets more than p_org_cap runs running across all workers:
-- claims then take turns (a transaction-level advisory lock), so the count each one
-- reads is exact.
CREATE FUNCTION queue_claim(p_worker text, p_limit integer, p_lease_ms integer,
                            p_org_cap integer)
    RETURNS TABLE (id uuid, org_id bigint, attempt integer, counted integer,
                   max_attempts integer, seq integer, agent jsonb, input jsonb)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
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
        SELECT u.id, coalesce((SELECT max(e.seq) FROM run_events e WHERE e.run_id = u.id), 0) + 1,
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

-- Renews the leases of p_worker's runs that are still its own at those attempts, and
-- says which of them were asked to stop.  A run missing from the answer is lost.
CREATE FUNCTION queue_heartbeat(p_ids uuid[], p_attempts integer[], p_lease_ms integer)
    RETURNS TABLE (id uuid, cancel_requested boolean)
    LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        UPDATE runs r SET lease_until = now() + p_lease_ms * interval '1 millisecond'
          FROM unnest(p_ids, p_attempts) AS h(id, attempt)
         WHERE r.id = h.id AND r.attempt = h.attempt AND r.state = 'running'
        RETURNING r.id, r.cancel_requested
    $$;

-- p_worker's runs that were asked to stop (an index scan of runs_cancelling).
CREATE FUNCTION queue_cancelling(p_worker text)
    RETURNS TABLE (id uuid, attempt integer)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        SELECT r.id, r.attempt FROM runs r
         WHERE r.worker = p_worker AND r.state = 'running' AND r.cancel_requested
    $$;

-- One flush of a worker: events of many runs, then the ends of some of them, in one
-- statement.  Both apply only to runs still running at the attempt named, locked for
-- the rest of the transaction; the answer lists the runs that were not (their writes
-- were refused).  Events already written (a flush retried after its commit went
-- unacknowledged) are skipped.
--   p_events:   [{"id", "attempt", "seq", "type", "data"}]
--   p_finishes: [{"id", "attempt", "kind", "output", "error", "usage", "delay_ms"}]
-- kind: 'succeeded', 'failed', 'cancelled', 'retry' (queued again after delay_ms) or
-- 'released' (queued again at once; the attempt does not count).  usage:
-- {"provider", "model", "prompt_tokens", "completion_tokens", "cost_usd"} of the
-- attempt, added to the run's totals and written to the ledger.
CREATE FUNCTION queue_flush(p_events jsonb, p_finishes jsonb)
    RETURNS TABLE (refused uuid)
    LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    WITH e AS (
        SELECT * FROM jsonb_to_recordset(p_events)
                 AS e(id uuid, attempt integer, seq integer, type text, data jsonb)
    ), f AS (
        SELECT * FROM jsonb_to_recordset(p_finishes)
                 AS f(id uuid, attempt integer, kind text, output jsonb, error jsonb,
                      usage jsonb, delay_ms integer)
    ), named AS (
        SELECT DISTINCT w.id, w.attempt
          FROM (SELECT e.id, e.attempt FROM e UNION ALL SELECT f.id, f.attempt FROM f) w
    ), live AS MATERIALIZED (
        SELECT r.id, r.org_id, r.attempt FROM runs r JOIN named w
            ON r.id = w.id AND r.attempt = w.attempt
         WHERE r.state = 'running'
         ORDER BY r.id
           FOR NO KEY UPDATE OF r
    ), ev AS (
        INSERT INTO run_events (run_id, seq, org_id, attempt, type, data)
        SELECT e.id, e.seq, l.org_id, e.attempt, e.type, coalesce(e.data, '{}')
          FROM e JOIN live l ON l.id = e.id AND l.attempt = e.attempt
        ON CONFLICT (run_id, seq) DO NOTHING
    ), fl AS (
        SELECT f.*, l.org_id FROM f JOIN live l ON l.id = f.id AND l.attempt = f.attempt
    ), ledger AS (
        INSERT INTO usage_ledger (org_id, run_id, attempt, provider, model, prompt_tokens,
                                  completion_tokens, cost_usd)
        SELECT f.org_id, f.id, f.attempt, f.usage->>'provider', f.usage->>'model',
               coalesce((f.usage->>'prompt_tokens')::bigint, 0),
               coalesce((f.usage->>'completion_tokens')::bigint, 0),
               coalesce((f.usage->>'cost_usd')::numeric, 0)
          FROM fl f
         WHERE f.usage ? 'provider' AND (coalesce((f.usage->>'prompt_tokens')::bigint, 0) > 0
               OR coalesce((f.usage->>'completion_tokens')::bigint, 0) > 0)
    ), fin AS (
        UPDATE runs r SET
            state = CASE f.kind WHEN 'retry' THEN 'queued' WHEN 'released' THEN 'queued'
                    ELSE f.kind END,
            output = coalesce(f.output, r.output),
            error = CASE WHEN f.kind IN ('failed', 'retry') THEN f.error ELSE r.error END,
            errors = CASE WHEN f.kind IN ('failed', 'retry') AND f.error IS NOT NULL
                     THEN r.errors || jsonb_build_array(f.error) ELSE r.errors END,
            usage = CASE WHEN f.usage ? 'provider' THEN jsonb_build_object(
                        'prompt_tokens', coalesce((r.usage->>'prompt_tokens')::bigint, 0)
                            + coalesce((f.usage->>'prompt_tokens')::bigint, 0),
                        'completion_tokens', coalesce((r.usage->>'completion_tokens')::bigint, 0)
                            + coalesce((f.usage->>'completion_tokens')::bigint, 0),
                        'cost_usd', coalesce((r.usage->>'cost_usd')::numeric, 0)
                            + coalesce((f.usage->>'cost_usd')::numeric, 0))
                    ELSE r.usage END,
            released = r.released + CASE f.kind WHEN 'released' THEN 1 ELSE 0 END,
            run_at = CASE f.kind
                     WHEN 'retry' THEN now() + coalesce(f.delay_ms, 0) * interval '1 millisecond'
                     WHEN 'released' THEN now() ELSE r.run_at END,
            lease_until = NULL, worker = NULL,
            finished_at = CASE WHEN f.kind IN ('succeeded', 'failed', 'cancelled') THEN now()
                          END
          FROM fl f WHERE r.id = f.id
    )
    SELECT w.id FROM named w
     WHERE NOT EXISTS (SELECT 1 FROM live l WHERE l.id = w.id AND l.attempt = w.attempt)
    $$;

-- The rescuer: runs whose lease expired (their worker died or lost the database) go
-- back to the queue, or fail if that was their last attempt, or end cancelled if they
-- were asked to stop; each gets its event.  The outer UPDATE repeats the guard, so a
-- run that completed meanwhile is left alone.
CREATE FUNCTION queue_rescue(p_limit integer)
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
        SELECT u.id, coalesce((SELECT max(e.seq) FROM run_events e WHERE e.run_id = u.id), 0) + 1,
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

-- Deletes up to p_limit runs (with their events) finished more than p_age_s seconds
-- ago, oldest first; returns how many.
CREATE FUNCTION queue_prune(p_age_s integer, p_limit integer)
    RETURNS bigint
    LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    WITH gone AS (
        DELETE FROM runs r WHERE r.id IN (
            SELECT o.id FROM runs o
             WHERE o.state IN ('succeeded', 'failed', 'cancelled')
               AND o.finished_at < now() - p_age_s * interval '1 second'
             ORDER BY o.finished_at LIMIT p_limit
               FOR UPDATE SKIP LOCKED)
        RETURNING 1)
    SELECT count(*) FROM gone
    $$;

REVOKE ALL ON FUNCTION queue_claim(text, integer, integer, integer),
    queue_heartbeat(uuid[], integer[], integer), queue_cancelling(text),
    queue_flush(jsonb, jsonb),
    queue_rescue(integer), queue_prune(integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION queue_claim(text, integer, integer, integer),
    queue_heartbeat(uuid[], integer[], integer), queue_cancelling(text),
    queue_flush(jsonb, jsonb),
    queue_rescue(integer), queue_prune(integer, integer) TO switchboard_app;
