-- 009_stream.sql: what switchboard-stream reads.  It watches runs of every org at once
-- and reads their new events in one statement per wake-up, whatever the number of
-- runs: that crosses tenants, so it goes through this SECURITY DEFINER function.
-- Who may watch which run is decided before, per request, under row-level security.

-- The events of each run p_runs[i] after sequence number p_after[i], at most p_limit
-- per run, in order.
CREATE FUNCTION stream_events(p_runs uuid[], p_after integer[], p_limit integer)
    RETURNS TABLE (run_id uuid, seq integer, type text, data text, attempt integer,
                   created_at text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    SELECT e.run_id, e.seq, e.type, e.data::text, e.attempt,
           to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
      FROM unnest(p_runs, p_after) AS w(run_id, after),
           LATERAL (SELECT x.run_id, x.seq, x.type, x.data, x.attempt, x.created_at
                      FROM run_events x
                     WHERE x.run_id = w.run_id AND x.seq > w.after
                     ORDER BY x.seq LIMIT p_limit) e
     ORDER BY e.run_id, e.seq
    $$;
REVOKE ALL ON FUNCTION stream_events(uuid[], integer[], integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stream_events(uuid[], integer[], integer) TO switchboard_app;
