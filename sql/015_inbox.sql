-- 015_inbox.sql: people in the loop, and the agent a run is handed over to.  A run
-- that asks a person (ask_human) or proposes a call that needs approval ends its
-- attempt 'waiting' with an inbox item (014's flush).  It holds no worker and no
-- lease while it waits.  The answer, given through the API, becomes the call's
-- recorded result (an approval: the call may run, or a refusal as its result), and the
-- run is queued again: the next attempt goes on from its steps.  An item no one
-- answers in time expires (the rescuer): the result says so, or the run fails, as the
-- agent chose.

-- A thread whose run waits for a person is 'waiting'; busy again when it is queued.
CREATE FUNCTION runs_thread_wait() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    UPDATE threads SET state = CASE NEW.state WHEN 'waiting' THEN 'waiting' ELSE 'busy' END,
           updated_at = now()
     WHERE threads.id = NEW.thread_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER runs_thread_wait AFTER UPDATE OF state ON runs
    FOR EACH ROW
    WHEN (NEW.thread_id IS NOT NULL AND OLD.state IS DISTINCT FROM NEW.state
          AND (NEW.state = 'waiting' OR (OLD.state = 'waiting' AND NEW.state = 'queued')))
    EXECUTE FUNCTION runs_thread_wait();
REVOKE ALL ON FUNCTION runs_thread_wait() FROM PUBLIC;

-- 012's run_cancel: a waiting run ends at once too (nothing runs it), and its open
-- items close.
CREATE OR REPLACE FUNCTION run_cancel(p_id uuid) RETURNS SETOF runs
    LANGUAGE sql SET search_path = public, pg_temp
    AS $$
    WITH before AS (
        SELECT r.id, (r.state = 'queued' AND r.run_at <> 'infinity') OR r.state = 'waiting'
                   AS now_ended, r.state
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
               CASE b.state WHEN 'waiting' THEN '{"reason": "cancelled while it waited for a person"}'::jsonb
               ELSE '{"reason": "cancelled before it started"}'::jsonb END
          FROM upd u JOIN before b ON b.id = u.id WHERE b.now_ended
    ), closed AS (
        UPDATE inbox_items i SET state = 'cancelled'
          FROM before b WHERE i.run_id = b.id AND b.now_ended AND i.state = 'open'
    )
    SELECT * FROM upd
    $$;

-- 013's thread_run_start: a run waiting for a person is one of the thread's runs
-- under way (reject refuses, enqueue waits for it, interrupt cancels it).
CREATE OR REPLACE FUNCTION thread_run_start(p_thread uuid, p_agent text, p_input jsonb,
                                            p_metadata jsonb, p_multitask text, p_kind text,
                                            p_by bigint)
    RETURNS TABLE (outcome text, id uuid)
    LANGUAGE plpgsql SET search_path = public, pg_temp
    AS $$
DECLARE
    t       threads%ROWTYPE;
    snap    record;
    active  integer;
    new_id  uuid;
BEGIN
    PERFORM 1 FROM runs r WHERE r.thread_id = p_thread
       AND r.state IN ('queued', 'running', 'waiting') ORDER BY r.id FOR UPDATE;
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
     WHERE r.thread_id = p_thread AND r.state IN ('queued', 'running', 'waiting');
    IF active > 0 AND p_multitask = 'reject' THEN
        RETURN QUERY SELECT 'busy'::text, NULL::uuid;
        RETURN;
    END IF;
    IF active > 0 AND p_multitask = 'interrupt' THEN
        PERFORM run_cancel(r.id) FROM runs r
          WHERE r.thread_id = p_thread AND r.state IN ('queued', 'running', 'waiting')
          ORDER BY r.n;
        SELECT count(*) INTO active FROM runs r
         WHERE r.thread_id = p_thread AND r.state IN ('queued', 'running', 'waiting');
    END IF;
    INSERT INTO runs (org_id, thread_id, agent_slug, agent, input, metadata, run_at,
                      created_by_kind, created_by)
    VALUES (t.org_id, p_thread, snap.slug, snap.agent, p_input, p_metadata,
            CASE WHEN active > 0 THEN 'infinity'::timestamptz ELSE now() END, p_kind, p_by)
    RETURNING runs.id INTO new_id;
    UPDATE threads SET state = CASE WHEN threads.state = 'waiting' THEN 'waiting' ELSE 'busy' END,
           updated_at = now() WHERE threads.id = p_thread;
    RETURN QUERY SELECT 'created'::text, new_id;
END
$$;

-- What an item's end records for the run: the call's result, in the journal's shape,
-- at the run's current attempt (the one that will read it is the next).
CREATE FUNCTION inbox_record(i inbox_items, p_ok boolean, p_content text) RETURNS void
    LANGUAGE sql SET search_path = public, pg_temp
    AS $$
    INSERT INTO run_steps (run_id, step, call_id, org_id, attempt, data)
    SELECT i.run_id, i.step, i.call_id, i.org_id, r.attempt,
           jsonb_build_object('name', coalesce(i.call->>'name', 'ask_human'), 'ok', p_ok,
                              'content', p_content, 'duration_ms',
                              (extract(epoch FROM now() - i.created_at) * 1000)::bigint,
                              'index', -1)
      FROM runs r WHERE r.id = i.run_id
    ON CONFLICT (run_id, step, call_id) DO NOTHING
    $$;

-- The run of an item goes on: queued now, with an event that says why.  Its lock is
-- held by the caller.
CREATE FUNCTION inbox_resume(i inbox_items, p_type text, p_data jsonb) RETURNS void
    LANGUAGE sql SET search_path = public, pg_temp
    AS $$
    INSERT INTO run_events (run_id, seq, org_id, attempt, type, data)
    SELECT r.id, run_last_seq(r.id) + 1, r.org_id, r.attempt, p_type, p_data
      FROM runs r WHERE r.id = i.run_id AND r.state = 'waiting';
    UPDATE runs SET state = 'queued', run_at = now()
     WHERE runs.id = i.run_id AND runs.state = 'waiting'
       AND NOT EXISTS (SELECT 1 FROM inbox_items o WHERE o.run_id = i.run_id
                         AND o.id <> i.id AND o.state = 'open');
    $$;

-- Answers the caller's item p_id (row-level security: another org's is not there):
-- a question with p_answer, an approval with p_approve (and p_note).  outcome:
-- 'answered', 'no-item', 'closed' (answered, expired or cancelled before), or
-- 'wrong-kind' (an answer to an approval or the other way round); with the item as
-- it is now.  The run's row is locked first, as everything that changes a run does.
CREATE FUNCTION inbox_answer(p_id uuid, p_answer text, p_approve boolean, p_note text,
                             p_kind text, p_by bigint)
    RETURNS TABLE (outcome text, item jsonb)
    LANGUAGE plpgsql SET search_path = public, pg_temp
    AS $$
DECLARE
    i   inbox_items%ROWTYPE;
    out text := 'answered';
BEGIN
    PERFORM 1 FROM runs r WHERE r.id = (SELECT x.run_id FROM inbox_items x WHERE x.id = p_id)
      FOR UPDATE;
    SELECT * INTO i FROM inbox_items x WHERE x.id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'no-item'::text, NULL::jsonb;
        RETURN;
    END IF;
    IF i.state <> 'open' THEN
        out := 'closed';
    ELSIF (i.kind = 'question') <> (p_answer IS NOT NULL) OR
          (i.kind = 'approval') <> (p_approve IS NOT NULL) THEN
        out := 'wrong-kind';
    ELSE
        UPDATE inbox_items x SET state = 'answered', answer = p_answer, approved = p_approve,
               note = p_note, answered_by_kind = p_kind, answered_by = p_by, answered_at = now(),
               answered_attempt = (SELECT r.attempt FROM runs r WHERE r.id = x.run_id)
         WHERE x.id = p_id RETURNING * INTO i;
        -- An approved call runs when the run goes on (the worker finds the item);
        -- any other answer is the call's result now.
        IF i.kind = 'question' THEN
            PERFORM inbox_record(i, true, p_answer);
        ELSIF NOT p_approve THEN
            PERFORM inbox_record(i, false, 'A person refused this call.' ||
                    coalesce(' Their note: ' || nullif(p_note, ''), ''));
        END IF;
        PERFORM inbox_resume(i, 'human.answered', jsonb_build_object('item', i.id,
                'call_id', i.call_id, 'kind', i.kind, 'answer', i.answer,
                'approved', i.approved, 'note', i.note));
    END IF;
    RETURN QUERY SELECT out, to_jsonb(i);
END
$$;

-- The rescuer's sweep: open items past their deadline expire, at most p_limit.  The
-- call's result says no one answered and the run goes on, or the run fails
-- (human-timeout), as the item's on_timeout says.  Returns the runs moved.
CREATE FUNCTION inbox_expire(p_limit integer) RETURNS TABLE (run_id uuid)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE
    i   inbox_items%ROWTYPE;
    err jsonb;
BEGIN
    FOR i IN SELECT * FROM inbox_items x WHERE x.state = 'open' AND x.expires_at < now()
               ORDER BY x.expires_at LIMIT p_limit FOR UPDATE SKIP LOCKED LOOP
        PERFORM 1 FROM runs r WHERE r.id = i.run_id FOR UPDATE;
        UPDATE inbox_items x SET state = 'expired', answered_at = now() WHERE x.id = i.id;
        IF i.on_timeout = 'fail' THEN
            -- Its waiting attempt was not counted: the one that asked is named.
            err := jsonb_build_object('attempt', (SELECT greatest(r.attempt - r.released, 1)
                                                    FROM runs r WHERE r.id = i.run_id),
                       'type', 'human-timeout', 'message',
                       'no one answered the inbox item before its deadline',
                       'retryable', false, 'at', to_char(now() AT TIME ZONE 'UTC',
                                                        'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
            INSERT INTO run_events (run_id, seq, org_id, attempt, type, data)
            SELECT r.id, run_last_seq(r.id) + 1, r.org_id, r.attempt, 'run.failed',
                   jsonb_build_object('error', err)
              FROM runs r WHERE r.id = i.run_id AND r.state = 'waiting';
            UPDATE runs SET state = 'failed', error = err, errors = errors || err,
                   finished_at = now()
             WHERE runs.id = i.run_id AND runs.state = 'waiting';
            UPDATE inbox_items x SET state = 'cancelled'
             WHERE x.run_id = i.run_id AND x.state = 'open';
        ELSE
            PERFORM inbox_record(i, false, 'No one answered before the deadline.');
            PERFORM inbox_resume(i, 'human.expired', jsonb_build_object('item', i.id,
                    'call_id', i.call_id, 'kind', i.kind));
        END IF;
        run_id := i.run_id;
        RETURN NEXT;
    END LOOP;
END
$$;

REVOKE ALL ON FUNCTION inbox_record(inbox_items, boolean, text),
    inbox_resume(inbox_items, text, jsonb), inbox_answer(uuid, text, boolean, text, text, bigint),
    inbox_expire(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION inbox_record(inbox_items, boolean, text),
    inbox_resume(inbox_items, text, jsonb), inbox_answer(uuid, text, boolean, text, text, bigint),
    inbox_expire(integer) TO switchboard_app;

-- The agent of org p_org called p_slug, as a run keeps it (agent_snapshot's shape, 013):
-- the org's own first, else the global one; NULL when none is enabled.  For the
-- worker's handoff tool, which acts for a run's org without a request's org context.
CREATE FUNCTION agent_snapshot_org(p_org bigint, p_slug text) RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    SELECT jsonb_build_object('slug', a.slug, 'name', a.name, 'provider', a.provider,
               'model', a.model, 'system_prompt', a.system_prompt,
               'parameters', a.parameters, 'tools', to_jsonb(a.tools), 'version', a.version)
      FROM (SELECT * FROM agents WHERE agents.slug = p_slug
               AND (agents.org_id = p_org OR agents.org_id IS NULL)
             ORDER BY org_id NULLS LAST LIMIT 1) a
     WHERE a.enabled
    $$;
REVOKE ALL ON FUNCTION agent_snapshot_org(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agent_snapshot_org(bigint, text) TO switchboard_app;
