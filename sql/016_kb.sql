-- 016_kb.sql: the org knowledge base.  A document is text or Markdown, kept whole in
-- kb_documents and cut into chunks of about 1,200 bytes in kb_chunks (the cutting is
-- core/chunk.c's, so the API and switchboardctl cut alike); the chunks are what full-text
-- search finds, and each carries its document's title, weighed above its text.
-- Documents are never changed once made: replaced (switchboardctl kb import) or deleted.

CREATE TABLE kb_documents (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    n               bigint GENERATED ALWAYS AS IDENTITY UNIQUE,    -- order and cursor
    org_id          bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    format          text NOT NULL CHECK (format IN ('text', 'markdown')),
    content         text NOT NULL CHECK (octet_length(content) BETWEEN 1 AND 262144),
    bytes           integer NOT NULL GENERATED ALWAYS AS (octet_length(content)) STORED,
    chunks          integer NOT NULL CHECK (chunks > 0),
    metadata        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_by_kind text NOT NULL,
    created_by      bigint,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX kb_documents_org_n ON kb_documents (org_id, n DESC);
CREATE INDEX kb_documents_org_title ON kb_documents (org_id, title);

-- The title is repeated in each chunk: a generated column reads only its own row, and a
-- document (so its title) never changes.
CREATE TABLE kb_chunks (
    document_id uuid NOT NULL REFERENCES kb_documents (id) ON DELETE CASCADE,
    chunk       integer NOT NULL CHECK (chunk >= 0),    -- from 0, in the document's order
    org_id      bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    title       text NOT NULL,
    content     text NOT NULL,
    tsv         tsvector NOT NULL GENERATED ALWAYS AS (
                    setweight(to_tsvector('english'::regconfig, title), 'A') ||
                    setweight(to_tsvector('english'::regconfig, content), 'B')) STORED,
    PRIMARY KEY (document_id, chunk)
);
-- The org is a filter after the index: a GIN index over (org_id, tsv) needs btree_gin,
-- an extension a migration may not be allowed to create.
CREATE INDEX kb_chunks_tsv ON kb_chunks USING gin (tsv);
CREATE INDEX kb_chunks_org ON kb_chunks (org_id);

ALTER TABLE kb_documents ENABLE ROW LEVEL SECURITY;
CREATE POLICY kb_documents_tenant ON kb_documents
    USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
ALTER TABLE kb_chunks ENABLE ROW LEVEL SECURITY;
CREATE POLICY kb_chunks_tenant ON kb_chunks
    USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());

-- Adds a document of org p_org with its chunks (p_chunks: a JSON array of their texts,
-- in order), in one statement's transaction, within the org's caps: 1,000 documents and
-- 64 MiB of content.  The caps are counted under a lock of the org's knowledge base, so
-- two adds at once cannot both pass the last place.  With p_replace, the org's documents
-- of the same title are replaced (their bytes and places count as free); when exactly
-- one is there with the same format, content and metadata, nothing changes and its id
-- is returned, so an import run twice keeps the ids.  No definer rights: called by the
-- application role, row-level security confines it to the caller's org (p_org must be
-- it); by the schema's owner (switchboardctl), to p_org.
-- outcome: 'created' or 'unchanged' (with the id), 'too-many-documents' or 'kb-too-large'
-- (nothing changed).
CREATE FUNCTION kb_document_add(p_org bigint, p_title text, p_format text, p_content text,
                                p_metadata jsonb, p_chunks jsonb, p_kind text, p_by bigint,
                                p_replace boolean)
    RETURNS TABLE (outcome text, id uuid)
    LANGUAGE plpgsql SET search_path = public, pg_temp
    AS $$
DECLARE
    docs    bigint;
    total   bigint;
    same    uuid;
    new_id  uuid;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('switchboard.kb:' || p_org, 0));
    IF p_replace THEN
        SELECT min(d.id::text)::uuid INTO same FROM kb_documents d
         WHERE d.org_id = p_org AND d.title = p_title
        HAVING count(*) = 1 AND bool_and(d.format = p_format AND d.content = p_content
                                         AND d.metadata = p_metadata);
        IF same IS NOT NULL THEN
            RETURN QUERY SELECT 'unchanged'::text, same;
            RETURN;
        END IF;
    END IF;
    SELECT count(*), coalesce(sum(d.bytes), 0) INTO docs, total FROM kb_documents d
     WHERE d.org_id = p_org AND NOT (p_replace AND d.title = p_title);
    IF docs >= 1000 THEN
        RETURN QUERY SELECT 'too-many-documents'::text, NULL::uuid;
        RETURN;
    END IF;
    IF total + octet_length(p_content) > 64 * 1024 * 1024 THEN
        RETURN QUERY SELECT 'kb-too-large'::text, NULL::uuid;
        RETURN;
    END IF;
    IF p_replace THEN
        DELETE FROM kb_documents d WHERE d.org_id = p_org AND d.title = p_title;
    END IF;
    INSERT INTO kb_documents (org_id, title, format, content, chunks, metadata,
                              created_by_kind, created_by)
    VALUES (p_org, p_title, p_format, p_content, jsonb_array_length(p_chunks), p_metadata,
            p_kind, p_by)
    RETURNING kb_documents.id INTO new_id;
    INSERT INTO kb_chunks (document_id, chunk, org_id, title, content)
    SELECT new_id, c.ord - 1, p_org, p_title, c.text
      FROM jsonb_array_elements_text(p_chunks) WITH ORDINALITY AS c(text, ord);
    RETURN QUERY SELECT 'created'::text, new_id;
END
$$;

-- The chunks of org p_org that best match p_query (websearch_to_tsquery syntax, the
-- 'english' configuration), best first, at most p_limit (held to 1..20).  The worker's
-- kb_search tool calls it across tenants, as queue_claim: definer rights, and the org is
-- the caller's to give; GET /api/v1/kb/documents?q= gives its own (current_org_id()).
-- An empty or stop-word-only query matches nothing: no rows, and no NOTICE either
-- (client_min_messages), which libpq would print on a program's stderr.
-- Rank: ts_rank_cd with normalisation 32 (rank / (rank + 1)).  Chunks are of about one
-- size by construction, so dividing by length (1, 2, 8, 16) would mostly favour a
-- document's short last chunk; 32 keeps the order of the raw rank and puts it in [0, 1),
-- a score a caller can read.  Ties: the older document first, then its chunk order.
CREATE FUNCTION kb_search(p_org bigint, p_query text, p_limit integer)
    RETURNS TABLE (document_id uuid, title text, chunk integer, content text, rank real)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    SET client_min_messages = warning
    AS $$
    SELECT c.document_id, c.title, c.chunk, c.content, ts_rank_cd(c.tsv, q.q, 32) AS rank
      FROM websearch_to_tsquery('english'::regconfig, coalesce(p_query, '')) AS q(q),
           kb_chunks c JOIN kb_documents d ON d.id = c.document_id
     WHERE c.org_id = p_org AND c.tsv @@ q.q
     ORDER BY rank DESC, d.n, c.chunk
     LIMIT least(greatest(coalesce(p_limit, 1), 1), 20)
    $$;

REVOKE ALL ON FUNCTION kb_document_add(bigint, text, text, text, jsonb, jsonb, text, bigint,
    boolean), kb_search(bigint, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kb_document_add(bigint, text, text, text, jsonb, jsonb, text, bigint,
    boolean), kb_search(bigint, text, integer) TO switchboard_app;
