-- 011_feed.sql: the org's run lifecycle feed (GET /api/v1/stream).
--
-- A counter per org would make every create of an org wait for the one before it.
-- Instead each run remembers the transaction that last changed its state
-- (changed_xid), and the feed is the org's runs ordered by (changed_xid, n).  Only
-- rows with changed_xid below the reading snapshot's xmin are delivered: every
-- transaction that could still write a smaller position has ended, so a position once
-- passed is never written behind again, and resuming after it is exact.  A run is
-- delivered at its latest change: a client that was away gets each run that changed
-- meanwhile once, in its present state.

-- Existing rows sit at the start of the feed (xid 1); the constant default adds the
-- column without rewriting the table, and new rows take their transaction's xid.
ALTER TABLE runs ADD COLUMN changed_xid xid8 NOT NULL DEFAULT '1';
ALTER TABLE runs ALTER COLUMN changed_xid SET DEFAULT pg_current_xact_id();
CREATE INDEX runs_feed ON runs (org_id, changed_xid, n);

-- Every statement that changes a run's state or asks it to stop (the queue functions,
-- the cancel handler, whatever comes later) moves the run in the feed: one trigger,
-- called only when one of the two really changes (heartbeats never call it).
CREATE FUNCTION runs_feed_move() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.changed_xid := pg_current_xact_id();
    RETURN NEW;
END
$$;
CREATE TRIGGER runs_feed_move BEFORE UPDATE OF state, cancel_requested ON runs
    FOR EACH ROW
    WHEN (OLD.state IS DISTINCT FROM NEW.state
          OR OLD.cancel_requested IS DISTINCT FROM NEW.cancel_requested)
    EXECUTE FUNCTION runs_feed_move();

-- The feed's changes of each org p_orgs[i] after position (p_xid[i], p_n[i]), at most
-- p_limit per org, in order.  switchboard-stream reads the feeds of every watched org
-- in one statement, which crosses tenants; who may watch which org is decided before,
-- per request.  data is the run without its input and output (those can be large).
CREATE FUNCTION stream_feed(p_orgs bigint[], p_xid xid8[], p_n bigint[], p_limit integer)
    RETURNS TABLE (org_id bigint, xid xid8, n bigint, type text, data text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    SELECT w.org_id, r.changed_xid, r.n, 'run.' || r.state,
           jsonb_build_object(
               'id', r.id, 'agent', r.agent_slug, 'state', r.state,
               'attempt', r.attempt - r.released, 'max_attempts', r.max_attempts,
               'priority', r.priority, 'metadata', r.metadata, 'error', r.error,
               'usage', r.usage,
               'created_at', to_char(r.created_at AT TIME ZONE 'UTC',
                                     'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'started_at', to_char(r.started_at AT TIME ZONE 'UTC',
                                     'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'finished_at', to_char(r.finished_at AT TIME ZONE 'UTC',
                                      'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'cancel_requested', r.cancel_requested)::text
      FROM unnest(p_orgs, p_xid, p_n) AS w(org_id, xid, n),
           LATERAL (SELECT x.*
                      FROM runs x
                     WHERE x.org_id = w.org_id
                       AND (x.changed_xid, x.n) > (w.xid, w.n)
                       AND x.changed_xid < pg_snapshot_xmin(pg_current_snapshot())
                     ORDER BY x.changed_xid, x.n LIMIT p_limit) r
     ORDER BY w.org_id, r.changed_xid, r.n
    $$;
REVOKE ALL ON FUNCTION stream_feed(bigint[], xid8[], bigint[], integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stream_feed(bigint[], xid8[], bigint[], integer) TO switchboard_app;
