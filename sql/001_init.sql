-- 001_init.sql: organizations, the tenants every later table belongs to.
-- schema_migrations itself is created by `switchboardctl migrate` before the first file runs.

CREATE TABLE orgs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        text NOT NULL UNIQUE
                CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE orgs IS 'Tenants: every tenant table carries org_id referencing this table.';
