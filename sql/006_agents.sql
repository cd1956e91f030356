-- 006_agents.sql: the agent registry.  An agent is a named configuration of a provider,
-- a model, a system prompt, parameters and tools.  Rows with no org_id are the global
-- defaults every org sees (imported by switchboardctl agents import); an org's own agent
-- of the same slug takes their place for that org.

CREATE TABLE agents (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          bigint REFERENCES orgs (id) ON DELETE CASCADE,  -- NULL: a global default
    slug            text NOT NULL CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description     text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    category        text NOT NULL DEFAULT 'general' CHECK (category ~ '^[a-z][a-z-]{0,31}$'),
    provider        text NOT NULL CHECK (provider IN ('openai', 'anthropic', 'builtin')),
    model           text NOT NULL CHECK (length(model) BETWEEN 1 AND 200),
    system_prompt   text NOT NULL DEFAULT '' CHECK (length(system_prompt) <= 65536),
    parameters      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(parameters) = 'object'),
    tools           text[] NOT NULL DEFAULT '{}',
    enabled         boolean NOT NULL DEFAULT true,
    version         integer NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX agents_org_slug_key ON agents (coalesce(org_id, 0), slug);

ALTER TABLE agents ENABLE ROW LEVEL SECURITY;
-- Read: the org's agents and the global defaults.  Write: the org's agents only.
CREATE POLICY agents_read ON agents FOR SELECT
    USING (org_id = current_org_id() OR org_id IS NULL);
CREATE POLICY agents_tenant ON agents
    USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
