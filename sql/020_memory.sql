-- 020_memory.sql: what agents remember (the memory_save and memory_search tools), and
-- kb_search (016) finding passages that share some words of a question when none has
-- them all.
--
-- A memory is a short fact an agent chose to keep, in a scope: the person a run is
-- for, or the run's thread.  The worker never names a scope itself: it passes the run
-- and the kind of scope its agent asks for, and memory_scope() derives the scope from
-- the run's row, so a tool call can reach no one else's memory whatever the model
-- writes.  The person a run is for is the principal that made it ("user:ID" or
-- "key:ID"); a run made with an API key for one of the key holder's own users names
-- that user as metadata.user, which is kept apart under the key ("key:ID/alice"): a
-- caller can name only users of its own.

CREATE TABLE memories (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    n           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,    -- order: newest last
    org_id      bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    scope       text NOT NULL CHECK (length(scope) BETWEEN 3 AND 200),
    content     text NOT NULL CHECK (length(content) BETWEEN 1 AND 2000),
    tsv         tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED,
    run_id      uuid REFERENCES runs (id) ON DELETE SET NULL,  -- the run that kept it
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- A fact is kept once per scope (by its digest: 2,000 characters are too long for a
-- btree entry).
CREATE UNIQUE INDEX memories_fact ON memories (org_id, scope, md5(content));
CREATE INDEX memories_scope ON memories (org_id, scope, n DESC);
CREATE INDEX memories_tsv ON memories USING gin (tsv);

ALTER TABLE memories ENABLE ROW LEVEL SECURITY;
CREATE POLICY memories_tenant ON memories
    USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());

-- The scope of run p_run of org p_org for memories of kind p_kind ('user' or
-- 'thread'); a run without a thread keeps thread memories in its person's scope.
-- NULL: no such run of that org.
CREATE FUNCTION memory_scope(p_org bigint, p_run uuid, p_kind text) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT CASE
        WHEN p_kind = 'thread' AND r.thread_id IS NOT NULL THEN 'thread:' || r.thread_id
        ELSE r.created_by_kind || ':' || coalesce(r.created_by::text, '-')
             || CASE WHEN jsonb_typeof(r.metadata -> 'user') = 'string'
                          AND length(r.metadata ->> 'user') BETWEEN 1 AND 128
                     THEN '/' || (r.metadata ->> 'user') ELSE '' END
        END
    FROM runs r
    WHERE r.id = p_run AND r.org_id = p_org
$$;

-- How many memories one scope keeps: saving one more forgets the oldest.
CREATE FUNCTION memory_scope_cap() RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 1000 $$;

-- Keeps p_content in the scope of run p_run.  The same fact kept again is one memory
-- (a call run twice after a crash, or a model repeating itself): it is moved to the
-- newest.  Returns the memory's id and whether it is new; no row: no such run.
CREATE FUNCTION memory_save(p_org bigint, p_run uuid, p_kind text, p_content text)
    RETURNS TABLE (id uuid, created boolean)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
#variable_conflict use_column
DECLARE
    v_scope text := memory_scope(p_org, p_run, p_kind);
BEGIN
    IF v_scope IS NULL THEN
        RETURN;
    END IF;
    -- One save of a scope at a time: the cap below counts what is there.
    PERFORM pg_advisory_xact_lock(hashtextextended('memory:' || p_org || ':' || v_scope, 0));
    RETURN QUERY
        INSERT INTO memories AS m (org_id, scope, content, run_id)
        VALUES (p_org, v_scope, p_content, p_run)
        ON CONFLICT (org_id, scope, md5(content)) DO UPDATE
            SET n = DEFAULT, run_id = EXCLUDED.run_id, created_at = now()
        RETURNING m.id, (m.xmax = 0);
    DELETE FROM memories m
    WHERE m.org_id = p_org AND m.scope = v_scope
      AND m.n <= (SELECT k.n FROM memories k
                  WHERE k.org_id = p_org AND k.scope = v_scope
                  ORDER BY k.n DESC OFFSET memory_scope_cap() LIMIT 1);
END
$$;

-- The words of p_text as a query any one of which matches ('english' stems, stop
-- words left out), or NULL when there is none.  A lexeme holds no space, so the
-- " & " between plainto_tsquery's words is only ever its operator.
CREATE FUNCTION any_word_tsquery(p_text text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT nullif(replace(plainto_tsquery('english', coalesce(p_text, ''))::text,
                          ' & ', ' | '), '')::tsquery
$$;

-- The memories of run p_run's scope that share a word with p_query, best first
-- (ts_rank_cd: words close together count more; then the newest).  Any word may
-- match, not all: a question and the fact that answers it rarely share every word.
-- An empty query (or one of stop words only) gives the newest memories.
CREATE FUNCTION memory_search(p_org bigint, p_run uuid, p_kind text, p_query text,
                              p_limit integer)
    RETURNS TABLE (id uuid, content text, created_at timestamptz, rank real)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    SET client_min_messages = warning
    AS $$
#variable_conflict use_column
DECLARE
    v_scope text := memory_scope(p_org, p_run, p_kind);
    v_query tsquery := any_word_tsquery(p_query);
    v_limit integer := least(greatest(coalesce(p_limit, 5), 1), 20);
BEGIN
    IF v_scope IS NULL THEN
        RETURN;
    END IF;
    IF v_query IS NULL THEN
        RETURN QUERY
            SELECT m.id, m.content, m.created_at, 0::real FROM memories m
            WHERE m.org_id = p_org AND m.scope = v_scope
            ORDER BY m.n DESC LIMIT v_limit;
        RETURN;
    END IF;
    RETURN QUERY
        SELECT m.id, m.content, m.created_at, ts_rank_cd(m.tsv, v_query) AS r
        FROM memories m
        WHERE m.org_id = p_org AND m.scope = v_scope AND m.tsv @@ v_query
        ORDER BY r DESC, m.n DESC LIMIT v_limit;
END
$$;

-- The chunks of org p_org that match p_query, best first, at most p_limit: 016's ranking
-- and order, for either query kb_search tries.  NULL matches nothing.
CREATE FUNCTION kb_match(p_org bigint, p_query tsquery, p_limit integer)
    RETURNS TABLE (document_id uuid, title text, chunk integer, content text, rank real)
    LANGUAGE sql STABLE
    AS $$
    SELECT c.document_id, c.title, c.chunk, c.content, ts_rank_cd(c.tsv, p_query, 32)
      FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id
     WHERE c.org_id = p_org AND c.tsv @@ p_query
     ORDER BY 5 DESC, d.n, c.chunk
     LIMIT p_limit
$$;

-- kb_search as 016 made it, and then, when no passage has every word of the query, the
-- passages that have any (ranked the same way: those with more of the words, closer
-- together, first).  A model's or a person's question ("what happens when I hit the
-- rate limit?") rarely shares every word with the passage that answers it.
CREATE OR REPLACE FUNCTION kb_search(p_org bigint, p_query text, p_limit integer)
    RETURNS TABLE (document_id uuid, title text, chunk integer, content text, rank real)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    SET client_min_messages = warning
    AS $$
DECLARE
    v_limit integer := least(greatest(coalesce(p_limit, 1), 1), 20);
BEGIN
    RETURN QUERY SELECT * FROM kb_match(p_org,
        websearch_to_tsquery('english'::regconfig, coalesce(p_query, '')), v_limit);
    IF NOT FOUND THEN
        RETURN QUERY SELECT * FROM kb_match(p_org, any_word_tsquery(p_query), v_limit);
    END IF;
END
$$;

REVOKE ALL ON FUNCTION kb_match(bigint, tsquery, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION memory_save(bigint, uuid, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION memory_search(bigint, uuid, text, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION memory_save(bigint, uuid, text, text) TO switchboard_app;
GRANT EXECUTE ON FUNCTION memory_search(bigint, uuid, text, text, integer) TO switchboard_app;
