-- 004_auth_facts.sql: the authentication lookups also return what GET /api/v1/me
-- shows (address, name, org slug and name), so an authenticated request needs no
-- further query and memcached can answer it whole.

DROP FUNCTION auth_session(text);
CREATE FUNCTION auth_session(p_token_hash text)
    RETURNS TABLE (session_id bigint, user_id bigint, org_id bigint, role text, csrf_token text,
                   expires_at timestamptz, last_seen_at timestamptz, usable boolean,
                   email text, name text, org_slug text, org_name text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT s.id, s.user_id, s.org_id, u.role, s.csrf_token, s.expires_at, s.last_seen_at,
               s.revoked_at IS NULL AND NOT u.disabled, u.email, u.name, o.slug, o.name
          FROM sessions s JOIN users u ON u.id = s.user_id JOIN orgs o ON o.id = s.org_id
         WHERE s.token_hash = p_token_hash
    $$;

DROP FUNCTION auth_api_key(text);
CREATE FUNCTION auth_api_key(p_key_id text)
    RETURNS TABLE (id bigint, org_id bigint, secret_hash text, scopes text[],
                   expires_at timestamptz, usable boolean, org_slug text, org_name text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT k.id, k.org_id, k.secret_hash, k.scopes, k.expires_at,
               k.revoked_at IS NULL AND (k.created_by IS NULL OR
                   NOT (SELECT disabled FROM users WHERE users.id = k.created_by)),
               o.slug, o.name
          FROM api_keys k JOIN orgs o ON o.id = k.org_id WHERE k.key_id = p_key_id
    $$;

-- An org by slug, for bearer tokens that name theirs.
CREATE FUNCTION auth_org(p_slug text) RETURNS TABLE (id bigint, name text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT id, name FROM orgs WHERE slug = p_slug $$;

REVOKE ALL ON FUNCTION auth_session(text), auth_api_key(text), auth_org(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_session(text), auth_api_key(text), auth_org(text) TO switchboard_app;
