-- 013_threads.sql: conversations.  A thread holds the messages of its finished turns;
-- a run made on a thread is an ordinary run with thread_id, whose model sees the
-- thread's messages (queue_claim hands them to the worker).  One run of a thread
-- executes at a time: a run that waits its turn is queued with run_at 'infinity',
-- and the end of the one before releases it.  A turn (the user's message and the
-- answer) joins the thread in the transaction that ends its run, so a thread never
-- shows half a turn.
--
-- A thread's runs write their events in the order of the runs (n): a run waiting its
-- turn that is cancelled is only flagged (run_cancel, 012), and ends (with its
-- run.cancelled) when its turn comes (runs_thread_end, here).  So the thread's stream, every run's events one after the other, can be
-- resumed exactly from (run n, seq).

CREATE TABLE threads (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    n               bigint GENERATED ALWAYS AS IDENTITY UNIQUE,    -- order and cursor
    org_id          bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    title           text NOT NULL DEFAULT '' CHECK (length(title) <= 200),
    metadata        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    agent_slug      text,                       -- the default agent of its runs
    state           text NOT NULL DEFAULT 'idle'
                    CHECK (state IN ('idle', 'busy', 'waiting', 'error')),
    last_seq        integer NOT NULL DEFAULT 0, -- of its last message; 0: none yet
    created_by_kind text NOT NULL,
    created_by      bigint,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX threads_org_n ON threads (org_id, n DESC);

CREATE TABLE thread_messages (
    thread_id   uuid NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    seq         integer NOT NULL CHECK (seq > 0),        -- per thread, from 1, no gaps
    org_id      bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('user', 'assistant', 'tool', 'human')),
    content     text NOT NULL,
    data        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
    run_id      uuid REFERENCES runs (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (thread_id, seq)
);

-- A thread's runs outlive it: they keep their own logs.
ALTER TABLE runs ADD COLUMN thread_id uuid REFERENCES threads (id) ON DELETE SET NULL;
CREATE INDEX runs_thread ON runs (thread_id, n) WHERE thread_id IS NOT NULL;

ALTER TABLE threads ENABLE ROW LEVEL SECURITY;
CREATE POLICY threads_tenant ON threads
    USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
ALTER TABLE thread_messages ENABLE ROW LEVEL SECURITY;
CREATE POLICY thread_messages_tenant ON thread_messages
    USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());

-- The text of a run's input the model gets as the user's message: a string, or the
-- "text", "message", "prompt" or "question" of an object, or else the input as JSON.
-- worker/run.c (input_text) reads a run's input the same way: the thread records what
-- the model was sent.
CREATE FUNCTION input_text(p_input jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE
        WHEN jsonb_typeof(p_input) = 'string' THEN p_input #>> '{}'
        WHEN jsonb_typeof(p_input->'text') = 'string' THEN p_input->>'text'
        WHEN jsonb_typeof(p_input->'message') = 'string' THEN p_input->>'message'
        WHEN jsonb_typeof(p_input->'prompt') = 'string' THEN p_input->>'prompt'
        WHEN jsonb_typeof(p_input->'question') = 'string' THEN p_input->>'question'
        ELSE p_input::text END
    $$;

-- The agent a run of the caller's org executes, as the run keeps it: the org's own
-- first (a disabled one hides the global one too); no row when none is enabled.  No
-- SET clause and no definer rights, so that PostgreSQL inlines it into the statement
-- that calls it (POST /api/v1/runs makes thousands of runs a second).
CREATE FUNCTION agent_snapshot(p_slug text) RETURNS TABLE (slug text, agent jsonb)
    LANGUAGE sql STABLE
    AS $$
    SELECT a.slug, jsonb_build_object('slug', a.slug, 'name', a.name, 'provider', a.provider,
               'model', a.model, 'system_prompt', a.system_prompt,
               'parameters', a.parameters, 'tools', to_jsonb(a.tools), 'version', a.version)
      FROM (SELECT * FROM public.agents WHERE agents.slug = p_slug
             ORDER BY org_id NULLS LAST LIMIT 1) a
     WHERE a.enabled
    $$;

-- Starts a run on the caller's thread p_thread (row-level security: another org's is
-- not there), as p_agent or the thread's agent.  The thread's row is locked, so two
-- starts on one thread are ordered, and what is running decides by p_multitask:
--   reject     nothing is made while a run of the thread is queued or running;
--   enqueue    the run waits (run_at 'infinity') until the ones before it have ended;
--   interrupt  the thread's queued and running runs are cancelled (a running one
--              ends at its worker's next check, keeping what it had said), and the
--              run waits for them to end.
-- outcome: 'created' (with the run's id), 'no-thread', 'no-agent' or 'busy'.
CREATE FUNCTION thread_run_start(p_thread uuid, p_agent text, p_input jsonb, p_metadata jsonb,
                                 p_multitask text, p_kind text, p_by bigint)
    RETURNS TABLE (outcome text, id uuid)
    LANGUAGE plpgsql SET search_path = public, pg_temp
    AS $$
DECLARE
    t       threads%ROWTYPE;
    snap    record;
    active  integer;
    new_id  uuid;
BEGIN
    -- Runs before their thread, the order of whatever ends a run (its UPDATE locks
    -- the run, then runs_thread_end the thread): never the other way round.
    PERFORM 1 FROM runs r WHERE r.thread_id = p_thread AND r.state IN ('queued', 'running')
      ORDER BY r.id FOR UPDATE;
    SELECT * INTO t FROM threads WHERE threads.id = p_thread FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'no-thread'::text, NULL::uuid;
        RETURN;
    END IF;
    SELECT * INTO snap FROM agent_snapshot(coalesce(p_agent, t.agent_slug));
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'no-agent'::text, NULL::uuid;
        RETURN;
    END IF;
    SELECT count(*) INTO active FROM runs r
     WHERE r.thread_id = p_thread AND r.state IN ('queued', 'running');
    IF active > 0 AND p_multitask = 'reject' THEN
        RETURN QUERY SELECT 'busy'::text, NULL::uuid;
        RETURN;
    END IF;
    IF active > 0 AND p_multitask = 'interrupt' THEN
        PERFORM run_cancel(r.id) FROM runs r
          WHERE r.thread_id = p_thread AND r.state IN ('queued', 'running') ORDER BY r.n;
        -- A queued one ended now; a running one ends when its worker sees the flag.
        SELECT count(*) INTO active FROM runs r
         WHERE r.thread_id = p_thread AND r.state IN ('queued', 'running');
    END IF;
    INSERT INTO runs (org_id, thread_id, agent_slug, agent, input, metadata, run_at,
                      created_by_kind, created_by)
    VALUES (t.org_id, p_thread, snap.slug, snap.agent, p_input, p_metadata,
            CASE WHEN active > 0 THEN 'infinity'::timestamptz ELSE now() END, p_kind, p_by)
    RETURNING runs.id INTO new_id;
    UPDATE threads SET state = 'busy', updated_at = now() WHERE threads.id = p_thread;
    RETURN QUERY SELECT 'created'::text, new_id;
END
$$;

-- When a run of a thread ends: its turn joins the thread (succeeded; cancelled with
-- something said), the thread's next run gets its turn (released; or, when it was
-- cancelled while it waited, ended now with its run.cancelled, which fires this again
-- for the one after it), and the thread's state follows (busy while a run is left,
-- else idle, or error after a failure).  Fired by whatever ends the run (the worker's
-- flush, the rescuer, a cancel), in its transaction.
CREATE FUNCTION runs_thread_end() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE
    said    text := NEW.output->>'text';
    last    integer;
    nxt     record;
BEGIN
    -- The thread first: a run started on it meanwhile (thread_run_start holds the row)
    -- is then seen below, and released.
    PERFORM 1 FROM threads WHERE threads.id = NEW.thread_id FOR UPDATE;
    IF NEW.state = 'succeeded' OR (NEW.state = 'cancelled' AND coalesce(said, '') <> '') THEN
        UPDATE threads SET last_seq = last_seq + 2 WHERE threads.id = NEW.thread_id
        RETURNING last_seq INTO last;
        IF FOUND THEN
            INSERT INTO thread_messages (thread_id, seq, org_id, role, content, run_id)
            VALUES (NEW.thread_id, last - 1, NEW.org_id, 'user', input_text(NEW.input), NEW.id),
                   (NEW.thread_id, last, NEW.org_id, 'assistant', coalesce(said, ''), NEW.id);
        END IF;
    END IF;
    SELECT r.id, r.cancel_requested, r.attempt, r.org_id INTO nxt FROM runs r
     WHERE r.thread_id = NEW.thread_id AND r.state = 'queued' AND r.id <> NEW.id
       AND r.run_at = 'infinity'
       AND NOT EXISTS (SELECT 1 FROM runs o WHERE o.thread_id = NEW.thread_id
                         AND o.id <> NEW.id AND o.n < r.n
                         AND (o.state = 'running' OR (o.state = 'queued' AND o.run_at <> 'infinity')))
     ORDER BY r.n LIMIT 1 FOR UPDATE;
    IF nxt.id IS NOT NULL AND nxt.cancel_requested THEN
        INSERT INTO run_events (run_id, seq, org_id, attempt, type, data)
        VALUES (nxt.id, run_last_seq(nxt.id) + 1, nxt.org_id, nxt.attempt, 'run.cancelled',
                '{"reason": "cancelled before it started"}');
        UPDATE runs SET state = 'cancelled', finished_at = now() WHERE runs.id = nxt.id;
    ELSIF nxt.id IS NOT NULL THEN
        UPDATE runs SET run_at = now() WHERE runs.id = nxt.id;
    END IF;
    UPDATE threads SET updated_at = now(),
           state = CASE WHEN EXISTS (SELECT 1 FROM runs r WHERE r.thread_id = NEW.thread_id
                                       AND r.state IN ('queued', 'running')) THEN 'busy'
                        WHEN NEW.state = 'failed' THEN 'error'
                        WHEN state = 'error' AND NEW.state = 'cancelled' THEN 'error'
                        ELSE 'idle' END
     WHERE threads.id = NEW.thread_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER runs_thread_end AFTER UPDATE OF state ON runs
    FOR EACH ROW
    WHEN (NEW.thread_id IS NOT NULL AND OLD.state IN ('queued', 'running')
          AND NEW.state IN ('succeeded', 'failed', 'cancelled'))
    EXECUTE FUNCTION runs_thread_end();

REVOKE ALL ON FUNCTION input_text(jsonb), agent_snapshot(text),
    thread_run_start(uuid, text, jsonb, jsonb, text, text, bigint), runs_thread_end() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION input_text(jsonb), agent_snapshot(text),
    thread_run_start(uuid, text, jsonb, jsonb, text, text, bigint) TO switchboard_app;

-- What switchboard-stream reads for a thread's stream (as stream_events for a run's,
-- across tenants: who may watch is decided per request): the events of each thread
-- p_threads[i]'s runs after (run n p_after_n[i], seq p_after_seq[i]), in the order of
-- the runs and then of their logs, at most p_limit per thread; each event's data
-- names its run.
CREATE FUNCTION stream_thread_events(p_threads uuid[], p_after_n bigint[],
                                     p_after_seq integer[], p_limit integer)
    RETURNS TABLE (thread_id uuid, n bigint, seq integer, type text, data text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    SELECT w.thread_id, e.n, e.seq, e.type, e.data::text
      FROM unnest(p_threads, p_after_n, p_after_seq) AS w(thread_id, after_n, after_seq),
           LATERAL (SELECT r.n, x.seq, x.type,
                           x.data || jsonb_build_object('run', r.id) AS data
                      FROM runs r JOIN run_events x ON x.run_id = r.id
                     WHERE r.thread_id = w.thread_id AND r.n >= w.after_n
                       AND (r.n > w.after_n OR x.seq > w.after_seq)
                     ORDER BY r.n, x.seq LIMIT p_limit) e
     ORDER BY w.thread_id, e.n, e.seq
    $$;
REVOKE ALL ON FUNCTION stream_thread_events(uuid[], bigint[], integer[], integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stream_thread_events(uuid[], bigint[], integer[], integer)
    TO switchboard_app;

-- queue_claim, as in 008 with 010's plan setting, takes each run's next seq from
-- run_last_seq (012), and also returns the thread's messages of a run made on a thread
-- (its last 400, oldest first; the worker trims them to the agent's budget), NULL for
-- any other run, and the thread (whose stream the worker's NOTIFYs then name too).
-- Its result type changes: it is dropped and made again, with 008's grants.
DROP FUNCTION queue_claim(text, integer, integer, integer);
CREATE FUNCTION queue_claim(p_worker text, p_limit integer, p_lease_ms integer,
                            p_org_cap integer)
    RETURNS TABLE (id uuid, org_id bigint, attempt integer, counted integer,
                   max_attempts integer, seq integer, agent jsonb, input jsonb,
                   context jsonb, thread_id uuid)
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
        RETURNING r.id, r.org_id, r.attempt, r.released, r.max_attempts, r.agent, r.input,
                  r.thread_id
    ), ev AS (
        INSERT INTO run_events (run_id, seq, org_id, attempt, type, data)
        SELECT u.id, run_last_seq(u.id) + 1,
               u.org_id, u.attempt, 'run.started',
               jsonb_build_object('attempt', u.attempt - u.released, 'worker', p_worker)
          FROM upd u
        RETURNING run_id, run_events.seq
    )
    SELECT u.id, u.org_id, u.attempt, u.attempt - u.released, u.max_attempts, ev.seq,
           u.agent, u.input,
           CASE WHEN u.thread_id IS NOT NULL THEN
               (SELECT coalesce(jsonb_agg(jsonb_build_object('role', m.role,
                                          'content', m.content) ORDER BY m.seq), '[]')
                  FROM (SELECT * FROM thread_messages m0 WHERE m0.thread_id = u.thread_id
                         ORDER BY m0.seq DESC LIMIT 400) m)
           END, u.thread_id
      FROM upd u JOIN ev ON ev.run_id = u.id;
END
$$;

REVOKE ALL ON FUNCTION queue_claim(text, integer, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION queue_claim(text, integer, integer, integer) TO switchboard_app;
