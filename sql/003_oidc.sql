-- 003_oidc.sql: identities at OpenID Connect providers, each linked to one account.
--
-- A browser sign-in through the provider ends with an ID token whose (iss, sub) names
-- the person for good; an email address can change hands, a subject cannot.  The
-- callback finds the account by that pair before it knows the org, so the lookup is a
-- SECURITY DEFINER function like those of 002_identity.sql.  Linking and provisioning
-- happen once the org is known, in a transaction scoped to it, under row-level security.

CREATE TABLE user_identities (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issuer          text NOT NULL CHECK (length(issuer) BETWEEN 1 AND 2048),
    subject         text NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    email           text CHECK (length(email) <= 320),  -- as the token said at linking time
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (issuer, subject)
);
CREATE INDEX user_identities_user_idx ON user_identities (user_id);

-- An identity lives in its account's org: row-level security checks org_id only, and
-- the foreign key to users alone would accept an account of another org.
CREATE UNIQUE INDEX users_id_org_key ON users (id, org_id);
ALTER TABLE user_identities ADD CONSTRAINT user_identities_user_org_fkey
    FOREIGN KEY (user_id, org_id) REFERENCES users (id, org_id) ON DELETE CASCADE;

ALTER TABLE user_identities ENABLE ROW LEVEL SECURITY;
CREATE POLICY user_identities_tenant ON user_identities
    USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());

-- The account an identity signs in to, across orgs: what the callback needs, no more.
-- pg_temp last: a temporary table of the caller's cannot stand in for ours.
CREATE FUNCTION auth_identity(p_issuer text, p_subject text)
    RETURNS TABLE (user_id bigint, org_id bigint, role text, disabled boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        SELECT u.id, u.org_id, u.role, u.disabled
          FROM user_identities i JOIN users u ON u.id = i.user_id
         WHERE i.issuer = p_issuer AND i.subject = p_subject
    $$;

REVOKE ALL ON FUNCTION auth_identity(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_identity(text, text) TO switchboard_app;

-- The application reads and links identities; it never edits or removes one (the
-- default privileges of 002 would grant all four).  Unlinking is an operator's job.
REVOKE ALL ON user_identities FROM switchboard_app;
GRANT SELECT, INSERT ON user_identities TO switchboard_app;
