-- 005_hardening.sql: a login ends the session the browser came with, whatever org
-- that session belongs to (row-level security would hide another org's); and every
-- SECURITY DEFINER function searches pg_temp last, as PostgreSQL advises.

CREATE FUNCTION auth_session_end(p_token_hash text) RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        UPDATE sessions SET revoked_at = now()
         WHERE token_hash = p_token_hash AND revoked_at IS NULL
    $$;
REVOKE ALL ON FUNCTION auth_session_end(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_session_end(text) TO switchboard_app;

ALTER FUNCTION auth_user_by_email(text) SET search_path = public, pg_temp;
ALTER FUNCTION auth_session(text) SET search_path = public, pg_temp;
ALTER FUNCTION auth_api_key(text) SET search_path = public, pg_temp;
ALTER FUNCTION auth_org_by_slug(text) SET search_path = public, pg_temp;
ALTER FUNCTION auth_org(text) SET search_path = public, pg_temp;
ALTER FUNCTION auth_audit_anonymous(text, text, inet, text) SET search_path = public, pg_temp;
