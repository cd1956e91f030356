-- 007_runs.sql: runs and their event logs.  A run is created queued by the API and
-- claimed by a worker (FOR UPDATE SKIP LOCKED on runs_claimable), which holds it with a
-- lease it renews; every write of an attempt is fenced on (id, attempt).  Each run keeps
-- a snapshot of its agent's definition as it was when the run was made.

CREATE TABLE runs (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    n                   bigint GENERATED ALWAYS AS IDENTITY UNIQUE,    -- order and cursor
    org_id              bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    agent_slug          text NOT NULL,
    agent               jsonb NOT NULL,             -- the definition the run executes
    state               text NOT NULL DEFAULT 'queued'
                        CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    input               jsonb NOT NULL,
    metadata            jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    priority            smallint NOT NULL DEFAULT 0 CHECK (priority BETWEEN -10 AND 10),
    attempt             integer NOT NULL DEFAULT 0,
    max_attempts        integer NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 20),
    run_at              timestamptz NOT NULL DEFAULT now(),
    lease_until         timestamptz,
    worker              text,
    cancel_requested    boolean NOT NULL DEFAULT false,
    output              jsonb,
    error               jsonb,
    errors              jsonb NOT NULL DEFAULT '[]',   -- one entry per failed attempt
    usage               jsonb NOT NULL DEFAULT '{}',
    idempotency_key     text CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    request_hash        text,
    created_by_kind     text NOT NULL,
    created_by          bigint,
    created_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    finished_at         timestamptz
);
-- The same Idempotency-Key from the same org is the same run.
CREATE UNIQUE INDEX runs_idempotency_key ON runs (org_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
-- What a worker claims from: small, because finished runs leave it.
CREATE INDEX runs_claimable ON runs (priority DESC, run_at, n) WHERE state = 'queued';
CREATE INDEX runs_leased ON runs (lease_until) WHERE state = 'running';
CREATE INDEX runs_org_n ON runs (org_id, n DESC);

CREATE TABLE run_events (
    run_id      uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq         integer NOT NULL CHECK (seq > 0),    -- per run, from 1, no gaps
    org_id      bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    attempt     integer NOT NULL,
    type        text NOT NULL,
    data        jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, seq)
);

ALTER TABLE runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY runs_tenant ON runs
    USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
ALTER TABLE run_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY run_events_tenant ON run_events
    USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
