-- 010_queue_plans.sql: plans of the queue's statements that do not depend on the
-- statistics of the moment, and no foreign-key checks per event.
--
-- queue_claim: PL/pgSQL caches a generic plan after five calls; for large batches it
-- chose a sequential scan and a sort of every queued run (claims of 500 went from 21 ms
-- to 70 ms, and grew with the backlog).  Each call is planned for its own arguments.
ALTER FUNCTION queue_claim(text, integer, integer, integer) SET plan_cache_mode = force_custom_plan;

-- queue_heartbeat: joined to unnest() of 2,000 ids, with statistics gathered while the
-- runs were still queued (as after any burst), the planner expected one running row and
-- chose a nested loop that rescans the arrays for every row: a heartbeat took a second,
-- during which the worker read no stream.  Hash joins do not depend on that estimate.
ALTER FUNCTION queue_heartbeat(uuid[], integer[], integer) SET enable_nestloop = off;

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
