# t_auth.sh: accounts, sessions, API keys, CSRF, audit, tenant isolation, login throttling.

PW='correct horse battery staple'
SRC=10		# each login comes from its own loopback address: 127.0.0.$SRC
psql_app_role() { sb_as_pg "$(sb_pg_bindir)/psql" -h "$STATE/pg/run" -p "$PG_PORT" -U switchboard_app -d switchboard -qAtX "$@"; }
mc() { exec 5<>"/dev/tcp/127.0.0.1/$MC_PORT"; printf '%s\r\n' "$1" >&5; timeout 2 head -n 1 <&5; exec 5>&-; }
# b2 TEXT: hex BLAKE2b-256, as token_hash() and cache_key() make it.
b2() { printf '%s' "$1" | b2sum -l 256 | cut -d' ' -f1; }
# mckey NS ID: the memcached key core/cache.c uses for (NS, ID).
mckey() { printf '%s:%s' "$1" "$(b2 "$2")"; }
# mc_put KEY VALUE: writes an item straight into memcached, as any program that reaches it can.
mc_put() { exec 5<>"/dev/tcp/127.0.0.1/$MC_PORT"; printf 'set %s 0 60 %d\r\n%s\r\n' "$1" "${#2}" "$2" >&5; timeout 2 head -n 1 <&5; exec 5>&-; }

# login EMAIL [PASSWORD]: sets SESSION and CSRF (empty on failure) and H_*.
login() {
	SRC=$((SRC + 1))
	http POST "$CADDY_URL/api/v1/auth/login" --interface "127.0.0.$SRC" \
		-H 'Content-Type: application/json' --data "{\"email\":\"$1\",\"password\":\"${2:-$PW}\"}"
	SESSION=$(header set-cookie | sed -n 's/^sb_session=\([^;]*\);.*/\1/p')
	CSRF=$(json_get csrf_token)
}
# as_session TOKEN CSRF METHOD PATH [curl args...]
as_session() { local t=$1 c=$2 m=$3 p=$4; shift 4; http "$m" "$CADDY_URL$p" -H "Cookie: sb_session=$t" -H "X-CSRF-Token: $c" "$@"; }
# as_key KEY METHOD PATH [curl args...]
as_key() { local k=$1 m=$2 p=$3; shift 3; http "$m" "$CADDY_URL$p" -H "Authorization: Bearer $k" "$@"; }

# --- the CLI: orgs, users (password on stdin), keys printed alone
$CTL org add acme "Acme Inc" >/dev/null
expect_eq "org add refuses a slug that exists" 1 "$($CTL org add acme >/dev/null 2>&1; echo $?)"
expect_eq "org add --exist-ok accepts it" 0 "$($CTL org add acme --exist-ok >/dev/null 2>&1; echo $?)"
$CTL org add other "Other Ltd" >/dev/null
for r in owner admin member viewer; do
	printf '%s\n' "$PW" | $CTL user add --org acme --email "$r@acme.test" --role "$r" >/dev/null
done
printf '%s\n' "$PW" | $CTL user add --org other --email admin@other.test --role admin >/dev/null
out=$(printf 'éééééééééé\n' | $CTL user add --org acme --email short2@acme.test 2>&1); rc=$?
expect_eq "password length counts characters, not bytes (10 characters, 20 bytes)" "1" "$rc"
out=$(printf 'short\n' | $CTL user add --org acme --email short@acme.test 2>&1); rc=$?
expect_eq "user add refuses a short password" "1" "$rc"
expect_match "and says so" 'password shorter than 12 characters' "$out"
KEY_RO=$($CTL key create --org acme --scopes runs:read --name reader)
expect_match "key create prints the key alone, sb_<id>_<secret>" '^sb_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$' "$KEY_RO"
KEY_ADMIN=$($CTL key create --org acme --scopes keys:admin,audit:read,runs:read)
KEY_OTHER=$($CTL key create --org other --scopes keys:admin)
out=$($CTL key create --org acme --scopes runs:read,bogus 2>&1); rc=$?
expect_eq "key create refuses an unknown scope" "2" "$rc"
expect_match "and names it" 'unknown scope "bogus"' "$out"

# --- sessions
login admin@acme.test
expect_eq "login with the right password is 200" 200 "$H_STATUS"
check "login sets a session cookie" test -n "$SESSION"
expect_match "the cookie is HttpOnly, SameSite=Lax, not Secure over plain http" \
	'^sb_session=[A-Za-z0-9_-]{43}; Path=/; Max-Age=1209600; HttpOnly; SameSite=Lax$' "$(header set-cookie)"
expect_match "login answers who you are, with a CSRF token" '"auth":"session".*"role":"admin".*"csrf_token":"[A-Za-z0-9_-]{43}"' "$H_BODY"
S_ADMIN=$SESSION C_ADMIN=$CSRF
as_session "$S_ADMIN" "$C_ADMIN" GET /api/v1/me
expect_eq "/me with the session cookie is 200" 200 "$H_STATUS"
expect_match "/me names user and org" '"org":\{"id":[0-9]+,"slug":"acme","name":"Acme Inc"\}.*"user":\{"id":[0-9]+,"email":"admin@acme.test"' "$H_BODY"
check "only a hash of the session token is stored" test "$(sb_as_pg "$(sb_pg_bindir)/psql" -h "$STATE/pg/run" -p "$PG_PORT" -U postgres -d switchboard -qAtX -c "SELECT count(*) FROM sessions WHERE token_hash = '$S_ADMIN' OR csrf_token = '$S_ADMIN'")" = 0

login admin@acme.test 'wrong password here'
expect_eq "a wrong password is 401" 401 "$H_STATUS"
wrong=$(printf '%s' "$H_BODY" | sed 's/"request_id":"[^"]*"//')
login nobody@acme.test 'wrong password here'
expect_eq "an unknown address is 401 too" 401 "$H_STATUS"
expect_eq "and the answers are the same: nothing says whether the address exists" "$wrong" "$(printf '%s' "$H_BODY" | sed 's/"request_id":"[^"]*"//')"
t_known=0 t_unknown=0
for i in 1 2 3; do
	t0=$(date +%s%N); login member@acme.test 'not the password!'; t_known=$((t_known + $(date +%s%N) - t0))
	t0=$(date +%s%N); login ghost$i@acme.test 'not the password!'; t_unknown=$((t_unknown + $(date +%s%N) - t0))
done
check "an unknown address takes as long as a known one ($((t_unknown / 3000000)) vs $((t_known / 3000000)) ms)" \
	awk -v a="$t_unknown" -v b="$t_known" 'BEGIN { exit !(a > b / 2 && a < b * 2) }'
http POST "$CADDY_URL/api/v1/auth/login" -H 'Content-Type: application/json' --data '{"email":"admin@acme.test"}'
expect_eq "a login body without password is 400" 400 "$H_STATUS"

# CSRF: a cookie alone cannot make an unsafe request.
http POST "$CADDY_URL/api/v1/keys" -H "Cookie: sb_session=$S_ADMIN" -H 'Content-Type: application/json' --data '{"scopes":["runs:read"]}'
expect_eq "an unsafe request with the cookie but no CSRF token is 403" 403 "$H_STATUS"
expect_match "and says why" '"type":"/problems/csrf"' "$H_BODY"
as_session "$S_ADMIN" "not-the-token" POST /api/v1/keys -H 'Content-Type: application/json' --data '{"scopes":["runs:read"]}'
expect_eq "a wrong CSRF token is 403" 403 "$H_STATUS"
as_session "$S_ADMIN" "$C_ADMIN" POST /api/v1/keys -H 'Content-Type: application/json' --data '{"scopes":["runs:read"],"name":"made in the browser"}'
expect_eq "with the right CSRF token it is 201" 201 "$H_STATUS"
KEY_WEB=$(json_get key)
expect_match "the new key is shown once, with a Location" '^/api/v1/keys/[a-z2-7]{12}$' "$(header location)"

# Session fixation: a login ends the session the browser came with and makes a new one.
login admin@acme.test
S_OLD=$SESSION
SRC=$((SRC + 1))
http POST "$CADDY_URL/api/v1/auth/login" --interface "127.0.0.$SRC" -H "Cookie: sb_session=$S_OLD" \
	-H 'Content-Type: application/json' --data "{\"email\":\"admin@acme.test\",\"password\":\"$PW\"}"
S_NEW=$(header set-cookie | sed -n 's/^sb_session=\([^;]*\);.*/\1/p')
check "a login always issues a new session id" test -n "$S_NEW" -a "$S_NEW" != "$S_OLD"
as_session "$S_OLD" x GET /api/v1/me
expect_eq "the session presented at login no longer works" 401 "$H_STATUS"
login admin@other.test
S_FOREIGN=$SESSION
SRC=$((SRC + 1))
http POST "$CADDY_URL/api/v1/auth/login" --interface "127.0.0.$SRC" -H "Cookie: sb_session=$S_FOREIGN" \
	-H 'Content-Type: application/json' --data "{\"email\":\"admin@acme.test\",\"password\":\"$PW\"}"
as_session "$S_FOREIGN" x GET /api/v1/me
expect_eq "a login ends the presented session even when it belongs to another org" 401 "$H_STATUS"
login admin@other.test
S_KEEP=$SESSION
SRC=$((SRC + 1))
http POST "$CADDY_URL/api/v1/auth/login" --interface "127.0.0.$SRC" -H "Cookie: xsb_session=$S_KEEP" \
	-H 'Content-Type: application/json' --data "{\"email\":\"admin@acme.test\",\"password\":\"$PW\"}"
as_session "$S_KEEP" x GET /api/v1/me
expect_eq "a cookie merely ending in sb_session is not taken for the session" 200 "$H_STATUS"

# Logout and logout-all.
login member@acme.test; S1=$SESSION C1=$CSRF
login member@acme.test; S2=$SESSION
as_session "$S1" "$C1" POST /api/v1/auth/logout
expect_eq "logout is 204" 204 "$H_STATUS"
expect_match "and clears the cookie" '^sb_session=; Path=/; Max-Age=0' "$(header set-cookie)"
as_session "$S1" "$C1" GET /api/v1/me
expect_eq "the logged-out session is refused at once" 401 "$H_STATUS"
as_session "$S2" x GET /api/v1/me
expect_eq "the user's other session still works" 200 "$H_STATUS"
login member@acme.test; S3=$SESSION C3=$CSRF
as_session "$S3" "$C3" POST /api/v1/auth/logout-all
expect_eq "logout-all is 204" 204 "$H_STATUS"
as_session "$S2" x GET /api/v1/me
expect_eq "logout-all ends every session of the user at once" 401 "$H_STATUS"
as_key "$KEY_RO" POST /api/v1/auth/logout
expect_eq "logout is for sessions only" 403 "$H_STATUS"

# --- API keys
as_key "$KEY_RO" GET /api/v1/me
expect_eq "/me with an API key is 200" 200 "$H_STATUS"
expect_match "and shows the key's scopes only" '"auth":"key","scopes":\["runs:read"\]' "$H_BODY"
as_key "$KEY_RO" GET /api/v1/keys
expect_eq "a key without keys:admin cannot list keys" 403 "$H_STATUS"
expect_match "and is told the scope" '"type":"/problems/missing-scope".*keys:admin' "$H_BODY"
as_key "$KEY_ADMIN" GET /api/v1/keys
expect_eq "a key with keys:admin lists keys" 200 "$H_STATUS"
check "the list never shows a secret or its hash" bash -c "! printf '%s' '$H_BODY' | grep -qE 'secret|hash|sb_[a-z2-7]{12}_'"
expect_match "the list has the org's keys" '"name":"reader"' "$H_BODY"
as_key "$KEY_ADMIN" POST /api/v1/keys -H 'Content-Type: application/json' --data '{"scopes":["users:admin"]}'
expect_eq "a key cannot be made with a scope its maker lacks" 422 "$H_STATUS"
as_key "$KEY_ADMIN" POST /api/v1/keys -H 'Content-Type: application/json' --data '{"scopes":["runs:read"],"extra":1}'
expect_eq "unknown fields in a key request are refused" 400 "$H_STATUS"
as_key "$KEY_ADMIN" GET '/api/v1/keys?limit=1'
expect_match "keys are paginated by cursor" '"next_cursor":"[0-9]+"' "$H_BODY"
cursor=$(json_get next_cursor)
as_key "$KEY_ADMIN" GET "/api/v1/keys?limit=1&cursor=$cursor"
expect_eq "the next page is 200" 200 "$H_STATUS"
as_key "$KEY_ADMIN" GET '/api/v1/keys?limit=0'
expect_eq "a bad limit is 400" 400 "$H_STATUS"

web_id=$(printf '%s' "$KEY_WEB" | cut -c4-15)
as_key "$KEY_WEB" GET /api/v1/me
expect_eq "the key made in the browser works" 200 "$H_STATUS"
as_key "$KEY_ADMIN" DELETE "/api/v1/keys/$web_id"
expect_eq "revoking a key is 204" 204 "$H_STATUS"
as_key "$KEY_WEB" GET /api/v1/me
expect_eq "a revoked key is refused at once" 401 "$H_STATUS"
as_key "$KEY_ADMIN" DELETE "/api/v1/keys/$web_id"
expect_eq "revoking twice is fine (204)" 204 "$H_STATUS"
other_id=$(printf '%s' "$KEY_OTHER" | cut -c4-15)
as_key "$KEY_ADMIN" DELETE "/api/v1/keys/$other_id"
expect_eq "another org's key is 404, never 403" 404 "$H_STATUS"
as_key "$KEY_OTHER" GET /api/v1/me
expect_eq "and it keeps working" 200 "$H_STATUS"
as_key "$KEY_OTHER" GET /api/v1/keys
check "another org sees none of this org's keys" bash -c "! printf '%s' '$H_BODY' | grep -q reader"

last=${KEY_RO: -1}
for bad in "sb_short" "sb_aaaaaaaaaaaa_$(printf 'x%.0s' $(seq 1 43))" "${KEY_RO%?}$([ "$last" = A ] && echo B || echo A)" "not-a-token"; do
	as_key "$bad" GET /api/v1/me
	expect_eq "a malformed or wrong key is 401 (${bad:0:16}...)" 401 "$H_STATUS"
done
ghost=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=' | cut -c1-43)
http GET "$CADDY_URL/api/v1/me" -H "Cookie: sb_session=$ghost"
expect_eq "an unknown session cookie is 401" 401 "$H_STATUS"
expect_eq "a failed authentication is charged to the address's budget" 10000000 "$(header ratelimit-limit)"
expect_match "and the unknown session is remembered, so guessing costs no query" '^VALUE sess:' \
	"$(mc "get $(mckey sess "$(b2 "$ghost")")")"
http GET "$CADDY_URL/api/v1/me" -H "Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l"
expect_eq "other authorization schemes are 401" 401 "$H_STATUS"
expect_eq "a 401 says how to authenticate" 'Bearer realm="switchboard"' "$(header www-authenticate)"
expired=$($CTL key create --org acme --scopes runs:read --expires-days 1)
exp_id=$(printf '%s' "$expired" | cut -c4-15)
sb_as_pg "$(sb_pg_bindir)/psql" -h "$STATE/pg/run" -p "$PG_PORT" -U postgres -d switchboard -qAtX \
	-c "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE key_id = '$exp_id'" >/dev/null
mc "delete $(mckey key "$exp_id")" >/dev/null
as_key "$expired" GET /api/v1/me
expect_eq "an expired key is 401" 401 "$H_STATUS"
$CTL key revoke "$(printf '%s' "$KEY_RO" | cut -c4-15)" 2>/dev/null
as_key "$KEY_RO" GET /api/v1/me
expect_eq "a key revoked with switchboardctl is refused at once" 401 "$H_STATUS"

# --- roles changed and users disabled from the command line take effect at once
login viewer@acme.test; S_V=$SESSION
$CTL user role --email viewer@acme.test member
as_session "$S_V" x GET /api/v1/me
expect_eq "a role change ends the user's sessions" 401 "$H_STATUS"
login viewer@acme.test
expect_match "the next login has the new role" '"role":"member"' "$H_BODY"
S_V=$SESSION
$CTL user disable --email viewer@acme.test
as_session "$S_V" x GET /api/v1/me
expect_eq "a disabled user's session is refused" 401 "$H_STATUS"
login viewer@acme.test
expect_eq "and the user cannot log in" 401 "$H_STATUS"
$CTL user enable --email viewer@acme.test
login viewer@acme.test
expect_eq "user enable lets the user in again" 200 "$H_STATUS"
S_V=$SESSION
printf '%s\n' 'a brand new password 42' | $CTL user password --email viewer@acme.test
as_session "$S_V" x GET /api/v1/me
expect_eq "a password change ends the user's sessions" 401 "$H_STATUS"
login viewer@acme.test
expect_eq "the old password no longer works" 401 "$H_STATUS"
login viewer@acme.test 'a brand new password 42'
expect_eq "the new one does" 200 "$H_STATUS"

# --- the audit log
login owner@acme.test; S_O=$SESSION C_O=$CSRF
as_session "$S_O" "$C_O" GET '/api/v1/audit?limit=200'
expect_eq "an owner reads the audit log" 200 "$H_STATUS"
expect_match "role.changed records the new role" '"action":"role.changed","target":"viewer@acme.test","request_id":"[^"]*","details":\{"role":"member"\}' "$H_BODY"
for a in login.succeeded login.failed key.created key.revoked logout logout.all role.changed user.disabled user.enabled password.changed; do
	expect_match "the audit log records $a" "\"action\":\"$a\"" "$H_BODY"
done
expect_match "entries carry actor, ip and request id" '"actor_type":"user".*"request_id":"[0-9a-f]{32}".*"ip":"127\.0\.0\.[0-9]+"' "$H_BODY"
login member@acme.test
as_session "$SESSION" "$CSRF" GET /api/v1/audit
expect_eq "a member cannot read the audit log" 403 "$H_STATUS"
as_key "$KEY_OTHER" GET /api/v1/audit
expect_eq "a key without audit:read cannot either" 403 "$H_STATUS"
login admin@other.test
as_session "$SESSION" "$CSRF" GET '/api/v1/audit?limit=200'
check "another org's audit log has none of this org's entries" bash -c "! printf '%s' '$H_BODY' | grep -q 'acme.test'"

# --- tenant isolation in the database itself
acme=$(sb_as_pg "$(sb_pg_bindir)/psql" -h "$STATE/pg/run" -p "$PG_PORT" -U postgres -d switchboard -qAtX -c "SELECT id FROM orgs WHERE slug = 'acme'")
total=$(sb_as_pg "$(sb_pg_bindir)/psql" -h "$STATE/pg/run" -p "$PG_PORT" -U postgres -d switchboard -qAtX -c "SELECT count(DISTINCT org_id) FROM api_keys")
check "keys exist in more than one org" test "$total" -ge 2
expect_eq "a query that forgets WHERE org_id sees only the org in its setting" "$acme" \
	"$(psql_app_role -c "BEGIN" -c "SELECT set_config('switchboard.org_id', '$acme', true)" -c "SELECT string_agg(DISTINCT org_id::text, ',') FROM api_keys" -c "COMMIT" | sed -n 2p)"
expect_eq "without the setting it sees nothing" 0 "$(psql_app_role -c "SELECT count(*) FROM users")"
out=$(psql_app_role -c "SET row_security = off" -c "SELECT count(*) FROM users" 2>&1)
expect_match "the application role cannot switch row security off" 'row-level security' "$out"
out=$(psql_app_role -c "ALTER TABLE users DISABLE ROW LEVEL SECURITY" 2>&1)
expect_match "nor alter the tables" 'must be owner' "$out"

# --- login throttling
ip=200
for i in $(seq 1 20); do
	http POST "$CADDY_URL/api/v1/auth/login" --interface "127.0.0.$ip" -H 'Content-Type: application/json' \
		--data "{\"email\":\"flood$i@acme.test\",\"password\":\"whatever it is\"}"
	[ "$H_STATUS" = 401 ] || break
done
expect_eq "20 logins a minute from one address are answered" "401 $(header ratelimit-limit)" "$H_STATUS 20"
http POST "$CADDY_URL/api/v1/auth/login" --interface "127.0.0.$ip" -H 'Content-Type: application/json' \
	--data '{"email":"flood2@acme.test","password":"whatever it is"}'
expect_eq "the 21st is 429" 429 "$H_STATUS"
expect_match "with Retry-After" '^[1-9][0-9]*$' "$(header retry-after)"
expect_eq "and RateLimit-Remaining 0" 0 "$(header ratelimit-remaining)"
expect_match "as a problem" '"type":"/problems/rate-limited"' "$H_BODY"
printf '%s\n' "$PW" | $CTL user add --org acme --email slow@acme.test >/dev/null
for i in 1 2 3 4; do login slow@acme.test 'not the password!'; done
login slow@acme.test
expect_eq "after four failures in a row the account must wait" 429 "$H_STATUS"
expect_match "and is told how long" '"type":"/problems/login-delayed"' "$H_BODY"
sleep "$(header retry-after)"
login slow@acme.test
expect_eq "after the wait the right password works" 200 "$H_STATUS"

# --- rate limit headers on authenticated requests, per key
fresh=$($CTL key create --org acme --scopes runs:read,keys:admin)
as_key "$fresh" GET /api/v1/me
expect_eq "reads carry RateLimit headers with the configured limit" 3000 "$(header ratelimit-limit)"
expect_eq "a key has a bucket of its own: its first request leaves limit - 1" 2999 "$(header ratelimit-remaining)"
as_key "$fresh" POST /api/v1/keys -H 'Content-Type: application/json' --data '{"scopes":["runs:read"]}'
expect_eq "writes have a bucket of their own (600 a minute)" "600 599" "$(header ratelimit-limit) $(header ratelimit-remaining)"

# --- memcached down: logins fail closed, reads fail open
sb_stop_pidfile "$STATE/memcached.pid" 5
login member@acme.test
expect_eq "logins are refused while memcached is down (fail closed)" 503 "$H_STATUS"
expect_match "saying why" '"type":"/problems/rate-limit-unavailable"' "$H_BODY"
expect_eq "with one Retry-After" 1 "$(printf '%s\n' "$H_HEADERS" | grep -c '^retry-after:')"
as_key "$KEY_ADMIN" GET /api/v1/me
expect_eq "reads are served while memcached is down (fail open)" 200 "$H_STATUS"
expect_match "and counted in /metrics" 'switchboard_ratelimit_unavailable_total\{policy="open"\} [1-9]' "$(curl -s "$CADDY_URL/metrics")"
sb_memcached_start "$STATE" "$MC_PORT"
sb_wait_for '[ "$(curl -s -o /dev/null -w "%{http_code}" "$CADDY_URL/readyz")" = 200 ]' 10
codes=""
for i in 1 2 3 4 5 6 7 8; do login member@acme.test; codes="$codes$H_STATUS "; done
expect_eq "logins work again on every worker once memcached is back" "200 200 200 200 200 200 200 200 " "$codes"

# --- the FastCGI Status line is not passed on as a header
http GET "$CADDY_URL/api/v1/me"
expect_eq "Caddy does not pass on a Status header" "" "$(header status)"

# --- CORS: an allowlist, never "*" with credentials
http GET "$CADDY_URL/api/v1/me" -H "Authorization: Bearer $KEY_ADMIN" -H 'Origin: https://app.example'
expect_eq "an allowed origin is named in Access-Control-Allow-Origin" "https://app.example" "$(header access-control-allow-origin)"
expect_eq "with credentials" "true" "$(header access-control-allow-credentials)"
expect_eq "and Vary: Origin" "Origin" "$(header vary)"
http GET "$CADDY_URL/api/v1/me" -H "Authorization: Bearer $KEY_ADMIN" -H 'Origin: https://evil.example'
expect_eq "another origin gets no CORS headers" "" "$(header access-control-allow-origin)"
http OPTIONS "$CADDY_URL/api/v1/keys" -H 'Origin: https://admin.example' -H 'Access-Control-Request-Method: POST' \
	-H 'Access-Control-Request-Headers: content-type, x-csrf-token'
expect_eq "a preflight from an allowed origin is 204" 204 "$H_STATUS"
expect_eq "and lists the methods" "GET, HEAD, POST, OPTIONS" "$(header access-control-allow-methods)"
expect_match "and allows the CSRF header" 'X-CSRF-Token' "$(header access-control-allow-headers)"
http OPTIONS "$CADDY_URL/api/v1/keys" -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: POST'
expect_eq "a preflight from another origin is 403" 403 "$H_STATUS"
check "no response ever says Access-Control-Allow-Origin: *" bash -c "! grep -rq 'Allow-Origin: \*' '$SB_ROOT/fcgi-app' '$SB_ROOT/conf'"

# --- bearer JWTs from an identity provider (HS256 with the test secret)
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
# mint HEADER_JSON PAYLOAD_JSON [SECRET]
mint() {
	local h p s
	h=$(printf '%s' "$1" | b64url)
	p=$(printf '%s' "$2" | b64url)
	s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -hmac "${3:-t_auth-hs256-secret-for-tests-only-0123456789}" -binary | b64url)
	printf '%s.%s.%s' "$h" "$p" "$s"
}
now=$(date +%s)
claims() { printf '{"iss":"https://idp.example","aud":"switchboard","sub":"svc-7","org":"%s","role":"%s","exp":%d}' "$1" "$2" "$3"; }
hs='{"alg":"HS256","typ":"JWT"}'
as_key "$(mint "$hs" "$(claims acme member $((now + 300)))")" GET /api/v1/me
expect_eq "a valid bearer JWT is accepted" 200 "$H_STATUS"
expect_match "as a token of its org, role and subject" '"auth":"token".*"role":"member".*"subject":"svc-7".*"slug":"acme"' "$H_BODY"
as_key "$(mint "$hs" "$(claims acme member $((now + 300)))")" GET /api/v1/keys
expect_eq "its role's scopes apply (a member cannot list keys)" 403 "$H_STATUS"
as_key "$(mint "$hs" "$(claims acme admin $((now + 300)))")" GET /api/v1/keys
expect_eq "an admin token can" 200 "$H_STATUS"
as_key "$(mint "$hs" "$(claims acme member $((now + 300)))" 'another-secret-entirely-0123456789')" GET /api/v1/me
expect_eq "a JWT signed with another secret is 401" 401 "$H_STATUS"
as_key "$(mint "$hs" "$(claims acme member $((now - 600)))")" GET /api/v1/me
expect_eq "an expired JWT is 401" 401 "$H_STATUS"
as_key "$(mint "$hs" "$(claims nosuchorg member $((now + 300)))")" GET /api/v1/me
expect_eq "a JWT naming an unknown org is 401" 401 "$H_STATUS"
as_key "$(mint "$hs" "$(claims acme superuser $((now + 300)))")" GET /api/v1/me
expect_eq "a JWT with an unknown role is 401" 401 "$H_STATUS"
none="$(printf '{"alg":"none","typ":"JWT"}' | b64url).$(claims acme owner $((now + 300)) | b64url)."
as_key "$none" GET /api/v1/me
expect_eq "alg none is 401" 401 "$H_STATUS"
as_key "$(mint "$hs" "$(printf '{"iss":"https://idp.example","aud":"other","sub":"x","org":"acme","exp":%d}' $((now + 300)))")" GET /api/v1/me
expect_eq "a JWT for another audience is 401" 401 "$H_STATUS"

# --- memcached is not a trust boundary: keys carry no client bytes, values are sealed
tag=pwned$RANDOM
http POST "$CADDY_URL/api/v1/auth/login" --interface 127.0.0.99 -H 'Content-Type: application/json' \
	--data "{\"email\":\"x\\r\\nset $tag 0 0 5 noreply\\r\\nhello\",\"password\":\"p\"}"
expect_eq "a login whose email carries CR LF is an ordinary failure" 401 "$H_STATUS"
expect_eq "and writes nothing of its own into memcached's protocol" END "$(mc "get $tag" | tr -d '\r')"
expect_eq "memcached still answers in step afterwards" STORED "$(mc_put "$(mckey probe x)" ok | tr -d '\r')"
acme_id=$(psql_su -c "SELECT id FROM orgs WHERE slug = 'acme'")
other_org_id=$(psql_su -c "SELECT id FROM orgs WHERE slug = 'other'")
now=$(date +%s)
# A session cookie nobody was given, with a well-formed owner session written for it, under
# the key an older build read and under the key this one reads (no seal: none can be made).
forged=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=' | cut -c1-43)
fhash=$(b2 "$forged")
fval=$(printf '{"sid":1,"uid":1,"oid":%s,"exp":%d,"seen":%d,"role":3,"ok":true,"csrf":"%s","em":"evil@x.test","nm":"Evil","os":"acme","on":"Acme Inc"}' \
	"$acme_id" $((now + 3600)) "$now" "$forged")
mc_put "sess:$fhash" "$fval" >/dev/null
mc_put "$(mckey sess "$fhash")" "$fval" >/dev/null
as_session "$forged" "$forged" GET /api/v1/me
expect_eq "a session forged straight into memcached is refused" 401 "$H_STATUS"
# A genuine sealed session copied under another cookie's key: bound to its key, refused.
login member@acme.test
S_REAL=$SESSION
as_session "$S_REAL" x GET /api/v1/me
sealed=$(mc "get $(mckey sess "$(b2 "$S_REAL")")")
expect_match "a session is cached once used, sealed" '^VALUE sess:[0-9a-f]{64} 0 [0-9]+' "$sealed"
forged2=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=' | cut -c1-43)
exec 5<>"/dev/tcp/127.0.0.1/$MC_PORT"
printf 'get %s\r\n' "$(mckey sess "$(b2 "$S_REAL")")" >&5
IFS=' ' read -r _ _ _ vlen <&5
vlen=${vlen%$'\r'}
head -c "$vlen" <&5 >"$STATE/sealed.bin"
exec 5>&-
{ printf 'set %s 0 60 %d\r\n' "$(mckey sess "$(b2 "$forged2")")" "$vlen"; cat "$STATE/sealed.bin"; printf '\r\n'; } |
	timeout 2 bash -c "exec 5<>/dev/tcp/127.0.0.1/$MC_PORT; cat >&5; head -n 1 <&5" >/dev/null
as_session "$forged2" x GET /api/v1/me
expect_eq "a genuine session's sealed value copied under another cookie is refused" 401 "$H_STATUS"
# An API key that does not exist, with a cache entry claiming every scope in acme.
fid=abcdefgh2345
fsecret=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=' | cut -c1-43)
kval=$(printf '{"id":999,"oid":%s,"exp":0,"scopes":65535,"ok":true,"h":"%s","os":"acme","on":"Acme Inc"}' \
	"$acme_id" "$(b2 "$fsecret")")
mc_put "key:$fid" "$kval" >/dev/null
mc_put "$(mckey key "$fid")" "$kval" >/dev/null
as_key "sb_${fid}_$fsecret" GET /api/v1/keys
expect_eq "an API key forged straight into memcached is refused" 401 "$H_STATUS"
# A JWT's org looked up by slug: a forged entry cannot move acme's tokens into another org.
mc_put "org:acme" "$other_org_id Other Ltd" >/dev/null
mc_put "$(mckey org acme)" "$other_org_id Other Ltd" >/dev/null
as_key "$(mint "$hs" "$(claims acme member $((now + 300)))")" GET /api/v1/me
expect_match "a forged org entry does not move a token into another org" \
	"\"org\":\\{\"id\":$acme_id,\"slug\":\"acme\",\"name\":\"Acme Inc\"" "$H_BODY"

# --- a connection that could bypass row-level security is refused, not used
au_reload() {
	local n
	n=$(grep -c -e 'reloading: replacing' -e 'reload refused' "$STATE/fcgi.log")
	kill -HUP "$(cat "$STATE/fcgi.pid")"
	sb_wait_for '[ "$(grep -c -e "reloading: replacing" -e "reload refused" "$STATE/fcgi.log")" -gt '"$n"' ]' 10
	sb_wait_for '[ "$(ps --ppid "$(cat "$STATE/fcgi.pid")" -o comm= | grep -cvx sb-notifier)" = 4 ] && sleep 0.5' 10
}
cp "$SB_CONF" "$STATE/conf.auth"
owner_url=$(sb_pg_url "$STATE" "$PG_PORT" switchboard)
sed -i "s#^url = .*#url = \"${owner_url//&/\\&}\"#" "$SB_CONF"
check "the test config now connects as the owner" grep -q "^url = .*user=switchboard\"$" "$SB_CONF"
au_reload
codes=""
for i in 1 2 3 4 5 6; do http GET "$CADDY_URL/readyz"; codes="$codes$H_STATUS "; done
expect_eq "connected as the tables' owner, /readyz is 503 on every worker" "503 503 503 503 503 503 " "$codes"
expect_match "naming the role" '"database":"role bypasses row-level security"' "$H_BODY"
as_key "$KEY_ADMIN" GET /api/v1/keys
expect_eq "and database routes are refused" 503 "$H_STATUS"
expect_match "saying why" '"type":"/problems/database-role"' "$H_BODY"
check "and the reason is logged" grep -q 'the database role bypasses row-level security' "$STATE/fcgi.log"
cp "$STATE/conf.auth" "$SB_CONF"
au_reload
as_key "$KEY_ADMIN" GET /api/v1/keys
expect_eq "back on the application role, they are served" 200 "$H_STATUS"

# --- ratelimit.enabled = false leaves request limits to a limiter in front; logins stay throttled
cp "$SB_CONF" "$STATE/conf.auth"
sed -i 's/^\[ratelimit\]$/[ratelimit]\nenabled = false/' "$SB_CONF"
check "the test config turns rate limits off" grep -q '^enabled = false$' "$SB_CONF"
au_reload
http GET "$CADDY_URL/api/v1/version"
expect_eq "with rate limits off, answers carry no RateLimit headers" "200 " "$H_STATUS $(header ratelimit-limit)"
SRC=$((SRC + 1))
http POST "$CADDY_URL/api/v1/auth/login" --interface "127.0.0.$SRC" -H 'Content-Type: application/json' \
	--data '{"email":"nobody-rl@acme.test","password":"whatever it is"}'
expect_eq "but logins are still throttled" 20 "$(header ratelimit-limit)"
cp "$STATE/conf.auth" "$SB_CONF"
au_reload

# --- an expired session cookie is refused
login member@acme.test
S_EXP=$SESSION
hash=$(printf '%s' "$S_EXP" | b2sum -l 256 | cut -d' ' -f1)
sb_as_pg "$(sb_pg_bindir)/psql" -h "$STATE/pg/run" -p "$PG_PORT" -U postgres -d switchboard -qAtX \
	-c "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE token_hash = '$hash'" >/dev/null
mc "delete $(mckey sess "$hash")" >/dev/null
as_session "$S_EXP" x GET /api/v1/me
expect_eq "an expired session cookie is 401" 401 "$H_STATUS"

# --- API keys record when they were last used
used=$($CTL key create --org acme --scopes runs:read,keys:admin)
as_key "$used" GET /api/v1/keys
expect_match "a key used once shows last_used_at" "\"id\":\"$(printf '%s' "$used" | cut -c4-15)\"[^}]*\"last_used_at\":\"20[0-9-]+T" "$H_BODY"

# --- changed password-hashing parameters: the next login stores a new hash
pwhash() { sb_as_pg "$(sb_pg_bindir)/psql" -h "$STATE/pg/run" -p "$PG_PORT" -U postgres -d switchboard -qAtX -c "SELECT password_hash FROM users WHERE email = 'owner@acme.test'"; }
before=$(pwhash)
cp "$SB_CONF" "$STATE/conf.auth"
sed -i 's/^pwhash_opslimit = 1$/pwhash_opslimit = 2/' "$SB_CONF"
check "the test config raises pwhash_opslimit" grep -q '^pwhash_opslimit = 2$' "$SB_CONF"
au_reload
login owner@acme.test
expect_eq "a login with the old parameters still works" 200 "$H_STATUS"
after=$(pwhash)
expect_match "the hash was made with the old parameters" '^\$argon2id\$v=19\$m=8192,t=1,' "$before"
expect_match "and is rehashed with the new ones at login" '^\$argon2id\$v=19\$m=8192,t=2,' "$after"
login owner@acme.test
expect_eq "and the password still works" 200 "$H_STATUS"
cp "$STATE/conf.auth" "$SB_CONF"
au_reload
