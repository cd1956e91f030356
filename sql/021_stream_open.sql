-- 021_stream_open.sql: opening a run's stream is one statement.  switchboard-stream
-- answers every stream from one loop; before this, an open cost it four round trips
-- to the database (BEGIN, the org, the run's state, COMMIT) before the replay's read,
-- and each held back every stream's events while it waited.
--
-- The run p_run of org p_org (as row-level security would find it for that org),
-- whether it has ended and the seq of its last event, with its events after p_after,
-- at most p_limit, in order: one row per event, or one row with a NULL seq when none
-- is there; no row when the org has no such run.  Definer rights as 009's
-- stream_events, with the org checked here: the caller's org comes from its
-- authenticated request, never from the client's words.
CREATE FUNCTION stream_run_open(p_org bigint, p_run uuid, p_after integer, p_limit integer)
    RETURNS TABLE (finished boolean, last_seq integer, seq integer, type text, data text,
                   attempt integer, created_at text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    SELECT r.state IN ('succeeded', 'failed', 'cancelled'), run_last_seq(r.id),
           e.seq, e.type, e.data::text, e.attempt,
           to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
      FROM runs r
      LEFT JOIN LATERAL (SELECT x.seq, x.type, x.data, x.attempt, x.created_at
                           FROM run_events x
                          WHERE x.run_id = r.id AND x.seq > p_after
                          ORDER BY x.seq LIMIT p_limit) e ON true
     WHERE r.id = p_run AND r.org_id = p_org
     ORDER BY e.seq
    $$;
REVOKE ALL ON FUNCTION stream_run_open(bigint, uuid, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stream_run_open(bigint, uuid, integer, integer) TO switchboard_app;
