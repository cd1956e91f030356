-- 017_inbox_feed.sql: inbox items on the org feed (GET /api/v1/stream), beside the
-- runs, so that a dashboard sees what waits for a person as it is asked, answered or
-- expires.
--
-- An item takes its place in the feed as a run does (011): the transaction that last
-- changed it (changed_xid), delivered only below the reading snapshot's xmin, so a
-- position once passed is never written behind.  Runs and items share one order: a
-- run at (changed_xid, n), an item at (changed_xid, 10^18 + n).  A run's n never
-- reaches 10^18, so the two never collide, positions written before this (always a
-- run's) keep their meaning, and within one transaction its runs come before its
-- items.  Each item is delivered at its latest change, like a run.
--
-- Items are for principals with inbox:read: switchboard-stream watches an org's feed
-- either with its items ('ORG/inbox') or without them ('ORG'), and stream_feed reads
-- both kinds of topic in one statement.

-- Existing rows sit at the start of the feed (xid 1), as 011 did for runs.
ALTER TABLE inbox_items ADD COLUMN changed_xid xid8 NOT NULL DEFAULT '1';
ALTER TABLE inbox_items ALTER COLUMN changed_xid SET DEFAULT pg_current_xact_id();
CREATE INDEX inbox_items_feed ON inbox_items (org_id, changed_xid, n);

-- 011's trigger function stamps whatever row it is given.  An item moves when its state
-- changes (answered, expired, cancelled, asked again) or it is asked again with a new
-- deadline, which its event shows.
CREATE TRIGGER inbox_items_feed_move BEFORE UPDATE OF state, expires_at ON inbox_items
    FOR EACH ROW
    WHEN (OLD.state IS DISTINCT FROM NEW.state
          OR OLD.expires_at IS DISTINCT FROM NEW.expires_at)
    EXECUTE FUNCTION runs_feed_move();

-- The feeds p_feeds[i] ('ORG' or 'ORG/inbox') after position (p_xid[i], p_n[i]), at
-- most p_limit per feed, in order, feed by feed.  The keys are switchboard-stream's own
-- (an org's number), never a client's bytes.  A run's data is 011's: the run without
-- its input and output.  An item's is what GET /api/v1/inbox/{id} shows without what
-- can be large: the question cut to its first 500 characters, of a proposed call only
-- its name, no answer and no note.  Its type: inbox.created while it is open, then
-- inbox.answered, inbox.expired or inbox.cancelled.
DROP FUNCTION stream_feed(bigint[], xid8[], bigint[], integer);
CREATE FUNCTION stream_feed(p_feeds text[], p_xid xid8[], p_n bigint[], p_limit integer)
    RETURNS TABLE (feed text, xid xid8, n bigint, type text, data text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    SELECT w.feed, e.xid, e.n, e.type, e.data
      FROM unnest(p_feeds, p_xid, p_n) WITH ORDINALITY AS w(feed, xid, n, k),
           LATERAL (SELECT split_part(w.feed, '/', 1)::bigint AS org_id,
                           w.feed LIKE '%/inbox' AS items) f,
           LATERAL (
               (SELECT r.changed_xid AS xid, r.n, 'run.' || r.state AS type,
                       jsonb_build_object(
                           'id', r.id, 'agent', r.agent_slug, 'state', r.state,
                           'attempt', r.attempt - r.released,
                           'max_attempts', r.max_attempts, 'priority', r.priority,
                           'metadata', r.metadata, 'error', r.error, 'usage', r.usage,
                           'created_at', to_char(r.created_at AT TIME ZONE 'UTC',
                                                 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                           'started_at', to_char(r.started_at AT TIME ZONE 'UTC',
                                                 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                           'finished_at', to_char(r.finished_at AT TIME ZONE 'UTC',
                                                  'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                           'cancel_requested', r.cancel_requested)::text AS data
                  FROM runs r
                 WHERE r.org_id = f.org_id
                   AND (r.changed_xid, r.n) > (w.xid, w.n)
                   AND r.changed_xid < pg_snapshot_xmin(pg_current_snapshot())
                 ORDER BY r.changed_xid, r.n LIMIT p_limit)
               UNION ALL
               -- After a run's position every item of its transaction is ahead
               -- (w.n - 10^18 < 1); after an item's, the items past it.
               (SELECT i.changed_xid, 1000000000000000000 + i.n,
                       'inbox.' || CASE i.state WHEN 'open' THEN 'created' ELSE i.state END,
                       (jsonb_build_object(
                           'id', i.id, 'run', i.run_id, 'thread', i.thread_id,
                           'kind', i.kind, 'state', i.state, 'approved', i.approved,
                           'answered_by', CASE WHEN i.answered_by_kind IS NOT NULL THEN
                               jsonb_build_object('kind', i.answered_by_kind,
                                                  'id', i.answered_by) END,
                           'created_at', to_char(i.created_at AT TIME ZONE 'UTC',
                                                 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                           'expires_at', to_char(i.expires_at AT TIME ZONE 'UTC',
                                                 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                           'answered_at', to_char(i.answered_at AT TIME ZONE 'UTC',
                                                  'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) ||
                        CASE i.kind WHEN 'question'
                        THEN jsonb_build_object('question', left(i.question, 500))
                        ELSE jsonb_build_object('call', jsonb_build_object(
                                 'name', left(i.call->>'name', 200))) END)::text
                  FROM inbox_items i
                 WHERE f.items AND i.org_id = f.org_id
                   AND (i.changed_xid, i.n) > (w.xid, w.n - 1000000000000000000)
                   AND i.changed_xid < pg_snapshot_xmin(pg_current_snapshot())
                 ORDER BY i.changed_xid, i.n LIMIT p_limit)
               ORDER BY 1, 2 LIMIT p_limit) e
     ORDER BY w.k, e.xid, e.n
    $$;
REVOKE ALL ON FUNCTION stream_feed(text[], xid8[], bigint[], integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stream_feed(text[], xid8[], bigint[], integer) TO switchboard_app;
