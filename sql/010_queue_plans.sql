-- 010_queue_plans.sql: plans of the queue's statements that do not depend on the
-- statistics of the moment, and no foreign-key checks per event.
--
-- queue_claim: PL/pgSQL caches a generic plan after five calls; for large batches it
-- chose a sequential scan and a sort of every queued run (claims of 500 went from 21 ms
-- to 70 ms, and grew with the backlog).  Each call is planned for its own arguments.
ALTER FUNCTION queue_claim(text, integer, integer, integer) SET plan_cache_mode = force_custom_plan;

-- queue_heartbeat and queue_flush find their runs through the primary key (id = ANY),
-- then keep those at the attempt named.  Joined to unnest() instead, with statistics
-- gathered while the runs were still queued, the planner expected one running row and
-- rescanned the arrays for every row: a heartbeat of 2,000 runs took a second, during
-- which the worker read no stream.
CREATE OR REPLACE FUNCTION queue_heartbeat(p_ids uuid[], p_attempts integer[], p_lease_ms integer)
    RETURNS TABLE (id uuid, cancel_requested boolean)
    LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        UPDATE runs r SET lease_until = now() + p_lease_ms * interval '1 millisecond'
         WHERE r.id = ANY (p_ids) AND r.state = 'running'
           AND (r.id, r.attempt) IN (SELECT * FROM unnest(p_ids, p_attempts))
        RETURNING r.id, r.cancel_requested
    $$;

CREATE OR REPLACE FUNCTION queue_flush(p_events jsonb, p_finishes jsonb)
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
        SELECT r.id, r.org_id, r.attempt FROM runs r
         WHERE r.id = ANY (ARRAY(SELECT w.id FROM named w)) AND r.state = 'running'
           AND (r.id, r.attempt) IN (SELECT w.id, w.attempt FROM named w)
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

-- Every row of run_events is written by a queue function or the cancel handler, each
-- holding its run's row locked, and copying the run's org: the two foreign keys added
-- nothing but a lookup of runs and one of orgs per event (a third of the flush).  What
-- their cascades did, a statement trigger does: deleting runs (pruning, an org's
-- deletion) deletes their events, in one statement per statement.
ALTER TABLE run_events DROP CONSTRAINT run_events_org_id_fkey;
ALTER TABLE run_events DROP CONSTRAINT run_events_run_id_fkey;

CREATE FUNCTION run_events_follow_runs() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    DELETE FROM run_events e USING gone_runs g WHERE e.run_id = g.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER runs_delete_events AFTER DELETE ON runs
    REFERENCING OLD TABLE AS gone_runs
    FOR EACH STATEMENT EXECUTE FUNCTION run_events_follow_runs();
