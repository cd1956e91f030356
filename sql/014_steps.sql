-- 014_steps.sql: the agent loop's journal.  A run that uses tools goes model turn,
-- tool calls, tool results, model turn...  Each model turn that called tools and each
-- tool call's result is a row of run_steps, written by the worker's flush (fenced on
-- the run's attempt, like its events) before the next step uses it.  A later attempt
-- of the run gets the rows with its claim and goes on from them: a model turn
-- recorded is not asked (nor paid for) again, and a tool call recorded is not run
-- again.  A call that has no row may have been running when its worker died: the
-- worker runs it again only if the tool says that is safe (worker/tools/).
--
-- Usage is billed when it is recorded: a recorded model turn's tokens go to the
-- ledger and the run's totals with its row, so an attempt that dies after it loses
-- none and the next one does not count it twice.
--
-- A run can also wait for a person (ask_human, or a call that needs approval): its
-- attempt ends with the state 'waiting' and an inbox item per question, and it holds
-- no worker and no lease until the answer queues it again (sql/015_inbox.sql).  The
-- flush writes both, so they are here.
--
-- The turn a thread's run adds (013's runs_thread_end, made again here) now holds the
-- recorded steps too: the user's message, then each model turn that called tools
-- (role assistant, its calls in data) and each call's result (role tool), then the
-- answer.  A call left without a result (the run was cancelled while it ran) gets
-- one that says so, since no provider takes a call without its result.

CREATE TABLE run_steps (
    run_id      uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step        integer NOT NULL CHECK (step > 0),      -- the model turn, from 1
    call_id     text NOT NULL DEFAULT ''                -- '': the model turn itself
                CHECK (length(call_id) <= 200),
    org_id      bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    attempt     integer NOT NULL,                       -- the attempt that recorded it
    -- The model turn: {"content", "tool_calls": [{"id", "name", "arguments"}],
    -- "usage": {...}}; a result: {"index", "name", "ok", "content", "duration_ms"}.
    data        jsonb NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, step, call_id)
);

ALTER TABLE run_steps ENABLE ROW LEVEL SECURITY;
CREATE POLICY run_steps_tenant ON run_steps
    USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());

ALTER TABLE runs DROP CONSTRAINT runs_state_check;
ALTER TABLE runs ADD CONSTRAINT runs_state_check
    CHECK (state IN ('queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'));

-- What a run waits for: a question for a person (ask_human) or a call that needs a
-- person's approval.  Made by the flush that ends the attempt in 'waiting'; answered
-- through the API (inbox_answer) or expired by the rescuer (inbox_expire), 015.  The
-- id is the worker's: its human.requested event names it before the row exists.
CREATE TABLE inbox_items (
    id              uuid PRIMARY KEY,
    n               bigint GENERATED ALWAYS AS IDENTITY UNIQUE,    -- order and cursor
    org_id          bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    run_id          uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    thread_id       uuid REFERENCES threads (id) ON DELETE SET NULL,
    step            integer NOT NULL,
    call_id         text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('question', 'approval')),
    question        text NOT NULL DEFAULT '' CHECK (length(question) <= 8000),
    call            jsonb,                      -- an approval's {"name", "arguments"}
    state           text NOT NULL DEFAULT 'open'
                    CHECK (state IN ('open', 'answered', 'expired', 'cancelled')),
    answer          text CHECK (length(answer) <= 65536),
    approved        boolean,
    note            text CHECK (length(note) <= 8000),
    on_timeout      text NOT NULL DEFAULT 'continue' CHECK (on_timeout IN ('continue', 'fail')),
    answered_by_kind text,
    answered_by     bigint,
    answered_attempt integer,                   -- the run's attempt when it was answered
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    answered_at     timestamptz,
    UNIQUE (run_id, step, call_id)
);
CREATE INDEX inbox_items_org_n ON inbox_items (org_id, n DESC);
CREATE INDEX inbox_items_open ON inbox_items (expires_at) WHERE state = 'open';
ALTER TABLE inbox_items ENABLE ROW LEVEL SECURITY;
CREATE POLICY inbox_items_tenant ON inbox_items
    USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());

-- The hosts an org's agents may fetch although they resolve to addresses a fetch is
-- otherwise refused (loopback, private, link-local): an intranet wiki, a test server.
-- Set with `switchboardctl org allow-host`; read by the worker with each claim.
ALTER TABLE orgs ADD COLUMN fetch_allow_hosts text[] NOT NULL DEFAULT '{}'
    CHECK (cardinality(fetch_allow_hosts) <= 100);

-- queue_flush, as in 008, also writes p_steps: [{"id", "attempt", "step", "call_id",
-- "data"}], fenced like the events, and bills the usage a step carries; and an end
-- may be 'waiting' (the attempt is not counted, like a release) with its "inbox":
-- [{"id", "step", "call_id", "kind", "question", "call", "expires_s", "on_timeout"}].
-- Its parameters change: the old one is dropped, with 008's grants made again.
DROP FUNCTION queue_flush(jsonb, jsonb);
CREATE FUNCTION queue_flush(p_events jsonb, p_finishes jsonb, p_steps jsonb)
    RETURNS TABLE (refused uuid)
    LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    WITH e AS (
        SELECT * FROM jsonb_to_recordset(p_events)
                 AS e(id uuid, attempt integer, seq integer, type text, data jsonb)
    ), f AS (
        SELECT * FROM jsonb_to_recordset(p_finishes)
                 AS f(id uuid, attempt integer, kind text, output jsonb, error jsonb,
                      usage jsonb, delay_ms integer, inbox jsonb)
    ), s AS (
        SELECT * FROM jsonb_to_recordset(p_steps)
                 AS s(id uuid, attempt integer, step integer, call_id text, data jsonb)
    ), named AS (
        SELECT DISTINCT w.id, w.attempt
          FROM (SELECT e.id, e.attempt FROM e UNION ALL SELECT f.id, f.attempt FROM f
                UNION ALL SELECT s.id, s.attempt FROM s) w
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
    ), sl AS (
        SELECT s.*, l.org_id FROM s JOIN live l ON l.id = s.id AND l.attempt = s.attempt
    ), st AS (
        INSERT INTO run_steps (run_id, step, call_id, org_id, attempt, data)
        SELECT s.id, s.step, coalesce(s.call_id, ''), s.org_id, s.attempt, s.data FROM sl s
        ON CONFLICT (run_id, step, call_id) DO NOTHING
    ), fl AS (
        SELECT f.*, l.org_id FROM f JOIN live l ON l.id = f.id AND l.attempt = f.attempt
    ), asked AS (
        INSERT INTO inbox_items (id, org_id, run_id, thread_id, step, call_id, kind, question,
                                 call, on_timeout, expires_at)
        SELECT i.id, f.org_id, f.id, r.thread_id, i.step, i.call_id, i.kind,
               coalesce(i.question, ''), i.call, coalesce(i.on_timeout, 'continue'),
               now() + coalesce(i.expires_s, 86400) * interval '1 second'
          FROM fl f JOIN runs r ON r.id = f.id,
               jsonb_to_recordset(f.inbox) AS i(id uuid, step integer, call_id text, kind text,
                                                question text, call jsonb, expires_s integer,
                                                on_timeout text)
         WHERE f.kind = 'waiting'
        ON CONFLICT (run_id, step, call_id) DO UPDATE SET state = 'open',
            expires_at = excluded.expires_at, answered_at = NULL, answer = NULL,
            approved = NULL, note = NULL, answered_by_kind = NULL, answered_by = NULL,
            answered_attempt = NULL
    ), billed AS (      -- every usage this flush bills: the ends' and the steps'
        SELECT f.id, f.org_id, f.attempt, f.usage FROM fl f
         WHERE f.usage ? 'provider'
        UNION ALL
        SELECT s.id, s.org_id, s.attempt, s.data->'usage' FROM sl s
         WHERE s.data->'usage' ? 'provider'
    ), ledger AS (
        INSERT INTO usage_ledger (org_id, run_id, attempt, provider, model, prompt_tokens,
                                  completion_tokens, cost_usd)
        SELECT b.org_id, b.id, b.attempt, b.usage->>'provider', b.usage->>'model',
               coalesce((b.usage->>'prompt_tokens')::bigint, 0),
               coalesce((b.usage->>'completion_tokens')::bigint, 0),
               coalesce((b.usage->>'cost_usd')::numeric, 0)
          FROM billed b
         WHERE coalesce((b.usage->>'prompt_tokens')::bigint, 0) > 0
               OR coalesce((b.usage->>'completion_tokens')::bigint, 0) > 0
    ), total AS (       -- per run
        SELECT b.id, sum(coalesce((b.usage->>'prompt_tokens')::bigint, 0)) AS pt,
               sum(coalesce((b.usage->>'completion_tokens')::bigint, 0)) AS ct,
               sum(coalesce((b.usage->>'cost_usd')::numeric, 0)) AS cost
          FROM billed b GROUP BY b.id
    ), fin AS (
        UPDATE runs r SET
            state = CASE f.kind WHEN 'retry' THEN 'queued' WHEN 'released' THEN 'queued'
                    ELSE f.kind END,
            output = coalesce(f.output, r.output),
            error = CASE WHEN f.kind IN ('failed', 'retry') THEN f.error ELSE r.error END,
            errors = CASE WHEN f.kind IN ('failed', 'retry') AND f.error IS NOT NULL
                     THEN r.errors || jsonb_build_array(f.error) ELSE r.errors END,
            usage = CASE WHEN t.id IS NULL THEN r.usage ELSE jsonb_build_object(
                        'prompt_tokens', coalesce((r.usage->>'prompt_tokens')::bigint, 0) + t.pt,
                        'completion_tokens',
                            coalesce((r.usage->>'completion_tokens')::bigint, 0) + t.ct,
                        'cost_usd', coalesce((r.usage->>'cost_usd')::numeric, 0) + t.cost)
                    END,
            released = r.released + CASE WHEN f.kind IN ('released', 'waiting') THEN 1 ELSE 0 END,
            run_at = CASE f.kind
                     WHEN 'retry' THEN now() + coalesce(f.delay_ms, 0) * interval '1 millisecond'
                     WHEN 'released' THEN now() ELSE r.run_at END,
            lease_until = NULL, worker = NULL,
            finished_at = CASE WHEN f.kind IN ('succeeded', 'failed', 'cancelled') THEN now()
                          END
          FROM fl f LEFT JOIN total t ON t.id = f.id
         WHERE r.id = f.id
    ), billing AS (     -- runs that go on: only their totals move
        UPDATE runs r SET usage = jsonb_build_object(
                   'prompt_tokens', coalesce((r.usage->>'prompt_tokens')::bigint, 0) + t.pt,
                   'completion_tokens', coalesce((r.usage->>'completion_tokens')::bigint, 0) + t.ct,
                   'cost_usd', coalesce((r.usage->>'cost_usd')::numeric, 0) + t.cost)
          FROM total t
         WHERE r.id = t.id AND NOT EXISTS (SELECT 1 FROM fl f WHERE f.id = t.id)
    )
    SELECT w.id FROM named w
     WHERE NOT EXISTS (SELECT 1 FROM live l WHERE l.id = w.id AND l.attempt = w.attempt)
    $$;
REVOKE ALL ON FUNCTION queue_flush(jsonb, jsonb, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION queue_flush(jsonb, jsonb, jsonb) TO switchboard_app;

-- queue_claim, as in 013, also returns the run's recorded steps (in order: each model
-- turn, then its calls' results; NULL when there are none), the org's fetch allowlist,
-- each thread message's data (a tool call's id and name, a model turn's calls), and
-- the calls a person approved ({"STEP CALL_ID": true when this is the first attempt
-- since, so the call cannot have started; false otherwise}; NULL when none).
DROP FUNCTION queue_claim(text, integer, integer, integer);
CREATE FUNCTION queue_claim(p_worker text, p_limit integer, p_lease_ms integer,
                            p_org_cap integer)
    RETURNS TABLE (id uuid, org_id bigint, attempt integer, counted integer,
                   max_attempts integer, seq integer, agent jsonb, input jsonb,
                   context jsonb, thread_id uuid, steps jsonb, allow_hosts jsonb,
                   approvals jsonb)
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
                                          'content', m.content, 'data', m.data)
                                          ORDER BY m.seq), '[]')
                  FROM (SELECT * FROM thread_messages m0 WHERE m0.thread_id = u.thread_id
                         ORDER BY m0.seq DESC LIMIT 400) m)
           END, u.thread_id,
           (SELECT jsonb_agg(jsonb_build_object('step', s.step, 'call_id', s.call_id,
                                                'data', s.data) ORDER BY s.step, s.call_id)
              FROM run_steps s WHERE s.run_id = u.id),
           (SELECT to_jsonb(o.fetch_allow_hosts) FROM orgs o WHERE o.id = u.org_id),
           (SELECT jsonb_object_agg(i.step || ' ' || i.call_id,
                                    i.answered_attempt = u.attempt - 1)
              FROM inbox_items i WHERE i.run_id = u.id AND i.kind = 'approval'
               AND i.state = 'answered' AND i.approved)
      FROM upd u JOIN ev ON ev.run_id = u.id;
END
$$;
REVOKE ALL ON FUNCTION queue_claim(text, integer, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION queue_claim(text, integer, integer, integer) TO switchboard_app;

-- 013's runs_thread_end, with the recorded steps in the turn, and a run waiting for a
-- person (a thread is 'waiting' while one does) holding the thread's next run back.
CREATE OR REPLACE FUNCTION runs_thread_end() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE
    said    text := NEW.output->>'text';
    last    integer;
    nxt     record;
BEGIN
    -- The thread first: a run started on it meanwhile (thread_run_start holds the row)
    -- is then seen below, and released.
    SELECT t.last_seq INTO last FROM threads t WHERE t.id = NEW.thread_id FOR UPDATE;
    IF FOUND AND (NEW.state = 'succeeded' OR (NEW.state = 'cancelled' AND
            (coalesce(said, '') <> '' OR EXISTS (SELECT 1 FROM run_steps s
                                                  WHERE s.run_id = NEW.id)))) THEN
        WITH turn AS (
            SELECT 0 AS step, 0 AS k, 'user' AS role, input_text(NEW.input) AS content,
                   '{}'::jsonb AS data
            UNION ALL
            SELECT s.step, 0, 'assistant', coalesce(s.data->>'content', ''),
                   jsonb_build_object('tool_calls', s.data->'tool_calls')
              FROM run_steps s WHERE s.run_id = NEW.id AND s.call_id = ''
            UNION ALL
            SELECT s.step, c.i, 'tool',
                   coalesce(res.data->>'content', 'The run ended before this call had a result.'),
                   jsonb_build_object('tool_call_id', c.call->>'id', 'name', c.call->>'name',
                                      'is_error', coalesce(NOT (res.data->>'ok')::boolean, true))
              FROM run_steps s
             CROSS JOIN LATERAL jsonb_array_elements(s.data->'tool_calls')
                   WITH ORDINALITY AS c(call, i)
              LEFT JOIN run_steps res ON res.run_id = s.run_id AND res.step = s.step
                                     AND res.call_id = c.call->>'id'
             WHERE s.run_id = NEW.id AND s.call_id = ''
            UNION ALL
            SELECT 2147483647, 0, 'assistant', coalesce(said, ''), '{}'::jsonb
             WHERE NEW.state = 'succeeded' OR coalesce(said, '') <> ''
        )
        INSERT INTO thread_messages (thread_id, seq, org_id, role, content, data, run_id)
        SELECT NEW.thread_id, last + row_number() OVER (ORDER BY t.step, t.k), NEW.org_id,
               t.role, t.content, t.data, NEW.id
          FROM turn t;
        UPDATE threads SET last_seq = (SELECT max(m.seq) FROM thread_messages m
                                        WHERE m.thread_id = NEW.thread_id)
         WHERE threads.id = NEW.thread_id;
    END IF;
    SELECT r.id, r.cancel_requested, r.attempt, r.org_id INTO nxt FROM runs r
     WHERE r.thread_id = NEW.thread_id AND r.state = 'queued' AND r.id <> NEW.id
       AND r.run_at = 'infinity'
       AND NOT EXISTS (SELECT 1 FROM runs o WHERE o.thread_id = NEW.thread_id
                         AND o.id <> NEW.id AND o.n < r.n
                         AND (o.state IN ('running', 'waiting')
                              OR (o.state = 'queued' AND o.run_at <> 'infinity')))
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
                                       AND r.state = 'waiting') THEN 'waiting'
                        WHEN EXISTS (SELECT 1 FROM runs r WHERE r.thread_id = NEW.thread_id
                                       AND r.state IN ('queued', 'running')) THEN 'busy'
                        WHEN NEW.state = 'failed' THEN 'error'
                        WHEN state = 'error' AND NEW.state = 'cancelled' THEN 'error'
                        ELSE 'idle' END
     WHERE threads.id = NEW.thread_id;
    RETURN NULL;
END
$$;

-- It also fires for a waiting run that ends (cancelled, or failed when no one
-- answered).
DROP TRIGGER runs_thread_end ON runs;
CREATE TRIGGER runs_thread_end AFTER UPDATE OF state ON runs
    FOR EACH ROW
    WHEN (NEW.thread_id IS NOT NULL AND OLD.state IN ('queued', 'running', 'waiting')
          AND NEW.state IN ('succeeded', 'failed', 'cancelled'))
    EXECUTE FUNCTION runs_thread_end();
