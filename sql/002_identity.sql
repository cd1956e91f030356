-- 002_identity.sql: users, sessions, API keys, the audit log, and tenant isolation.
--
-- The programs connect as switchboard_app, a role that owns nothing and cannot bypass
-- row-level security; this file runs as the schema owner (database.migrate_url).  Every
-- tenant table carries org_id and a policy that shows a session only the rows of the
-- org in its switchboard.org_id setting, which request handlers set per transaction
-- (SET LOCAL).  A query that forgets its WHERE org_id still sees only the caller's rows.
--
-- The few lookups that must cross orgs (a login by email, a session by its token hash,
-- an API key by its id, a failed login's audit line) go through SECURITY DEFINER
-- functions below that return only what authentication needs.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'switchboard_app') THEN
        RAISE EXCEPTION 'role switchboard_app does not exist: create it first '
            '(CREATE ROLE switchboard_app LOGIN; see docs/deploy.md)';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'switchboard_app'
               AND (rolsuper OR rolbypassrls)) THEN
        RAISE EXCEPTION 'role switchboard_app must not be a superuser or bypass row-level security';
    END IF;
END
$$;

-- The org a request acts for, or NULL outside a request (no rows then).
CREATE FUNCTION current_org_id() RETURNS bigint
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('switchboard.org_id', true), '')::bigint $$;

CREATE TABLE users (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    email           text NOT NULL CHECK (length(email) BETWEEN 3 AND 320 AND email LIKE '%_@_%'),
    name            text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    role            text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    password_hash   text,                       -- NULL: signs in only through SSO
    disabled        boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- One account per address across all orgs: a login names no org.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_org_idx ON users (org_id);

CREATE TABLE sessions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash      text NOT NULL UNIQUE,       -- BLAKE2b of the cookie's token; the token is never stored
    csrf_token      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,       -- absolute expiry
    revoked_at      timestamptz,
    ip              inet,
    user_agent      text CHECK (length(user_agent) <= 512)
);
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE api_keys (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    key_id          text NOT NULL UNIQUE CHECK (key_id ~ '^[a-z2-7]{12}$'),  -- the visible part
    secret_hash     text NOT NULL,              -- BLAKE2b of the secret part
    name            text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    scopes          text[] NOT NULL,
    created_by      bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz,
    revoked_at      timestamptz,
    last_used_at    timestamptz
);
CREATE INDEX api_keys_org_idx ON api_keys (org_id);

CREATE TABLE audit_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          bigint REFERENCES orgs (id) ON DELETE CASCADE,  -- NULL: no org (unknown account)
    actor_type      text NOT NULL CHECK (actor_type IN ('user', 'key', 'token', 'system', 'anonymous')),
    actor_id        bigint,
    action          text NOT NULL,
    target          text NOT NULL DEFAULT '',
    ip              inet,
    request_id      text NOT NULL DEFAULT '',
    details         jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_org_idx ON audit_log (org_id, id DESC);

-- Tenant isolation.
ALTER TABLE orgs ENABLE ROW LEVEL SECURITY;
CREATE POLICY orgs_tenant ON orgs
    USING (id = current_org_id()) WITH CHECK (id = current_org_id());
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_tenant ON users
    USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY sessions_tenant ON sessions
    USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY api_keys_tenant ON api_keys
    USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_log_tenant ON audit_log
    USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());

-- Authentication lookups that cannot know the org yet.
CREATE FUNCTION auth_user_by_email(p_email text)
    RETURNS TABLE (id bigint, org_id bigint, role text, password_hash text, disabled boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT id, org_id, role, password_hash, disabled FROM users WHERE lower(email) = lower(p_email) $$;

CREATE FUNCTION auth_session(p_token_hash text)
    RETURNS TABLE (session_id bigint, user_id bigint, org_id bigint, role text, csrf_token text,
                   expires_at timestamptz, last_seen_at timestamptz, usable boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT s.id, s.user_id, s.org_id, u.role, s.csrf_token, s.expires_at, s.last_seen_at,
               s.revoked_at IS NULL AND NOT u.disabled
          FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = p_token_hash
    $$;

CREATE FUNCTION auth_api_key(p_key_id text)
    RETURNS TABLE (id bigint, org_id bigint, secret_hash text, scopes text[],
                   expires_at timestamptz, usable boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT k.id, k.org_id, k.secret_hash, k.scopes, k.expires_at,
               k.revoked_at IS NULL AND (k.created_by IS NULL OR
                   NOT (SELECT disabled FROM users WHERE users.id = k.created_by))
          FROM api_keys k WHERE k.key_id = p_key_id
    $$;

CREATE FUNCTION auth_org_by_slug(p_slug text) RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT id FROM orgs WHERE slug = p_slug $$;

-- A failed login for an address no account has: an audit line with no org.
CREATE FUNCTION auth_audit_anonymous(p_action text, p_target text, p_ip inet, p_request_id text)
    RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = public
    AS $$
        INSERT INTO audit_log (org_id, actor_type, action, target, ip, request_id)
        VALUES (NULL, 'anonymous', p_action, left(p_target, 320), p_ip, left(p_request_id, 64))
    $$;

REVOKE ALL ON FUNCTION auth_user_by_email(text), auth_session(text), auth_api_key(text),
    auth_org_by_slug(text), auth_audit_anonymous(text, text, inet, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_user_by_email(text), auth_session(text), auth_api_key(text),
    auth_org_by_slug(text), auth_audit_anonymous(text, text, inet, text), current_org_id()
    TO switchboard_app;

-- What the application may do: data only, never DDL; tables made by later
-- migrations get the same grants.
GRANT USAGE ON SCHEMA public TO switchboard_app;
GRANT SELECT ON schema_migrations TO switchboard_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON orgs, users, sessions, api_keys TO switchboard_app;
GRANT SELECT, INSERT ON audit_log TO switchboard_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO switchboard_app;
ALTER DEFAULT PRIVILEGES GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO switchboard_app;
ALTER DEFAULT PRIVILEGES GRANT USAGE ON SEQUENCES TO switchboard_app;
