# t_oidc.sh: browser sign-in through OpenID Connect against sb-mock-idp (tests/mock/idp.c):
# the code flow with PKCE, state and nonce, provisioning, linking, and every refusal.

OI=$STATE/oidc
mkdir -p "$OI"
OI_MASTER=$(cat "$STATE/fcgi.pid")
OI_CLIENT=switchboard-web
OI_SECRET=mock-client-secret-0123
OI_REDIRECT=$CADDY_URL/api/v1/auth/oidc/callback
OI_PW='oidc password 0123456'
sb_free_port IDP_PORT
IDP=http://127.0.0.1:$IDP_PORT

oi_psql() { sb_as_pg "$(sb_pg_bindir)/psql" -h "$STATE/pg/run" -p "$PG_PORT" -U postgres -d switchboard -qAtX "$@"; }
oi_workers() { ps --ppid "$OI_MASTER" -o pid=,comm= | awk '$2 != "sb-notifier" { print $1 }' | sort; }
# oi_reload: SIGHUP, then wait until the master has read the file and every worker
# that ran with the old one is gone (as t_resilience.sh's reload, plus the workers).
oi_reload() {
	local n old nw
	old=$(oi_workers)
	nw=$(printf '%s\n' "$old" | grep -c .)
	n=$(grep -c -e 'reloading: replacing' -e 'reload refused' "$STATE/fcgi.log")
	kill -HUP "$OI_MASTER"
	sb_wait_for '[ "$(grep -c -e "reloading: replacing" -e "reload refused" "$STATE/fcgi.log")" -gt '"$n"' ]' 10
	sb_wait_for '[ "$(oi_workers | grep -c .)" = '"$nw"' ] && [ -z "$(comm -12 <(echo "$old") <(oi_workers))" ]' 20
}
# oi_config ISSUER PROVISION: the saved configuration plus an [oidc] section, then a reload.
oi_config() {
	{
		cat "$OI/conf.saved"
		printf '\n[oidc]\nissuer = %s\nclient_id = %s\nclient_secret = %s\n' "$1" "$OI_CLIENT" "$OI_SECRET"
		printf 'redirect_uri = %s\nprovision = %s\nprovision_org = oidc-org\nprovision_role = viewer\n' "$OI_REDIRECT" "$2"
	} >"$OI/conf.new"
	cp "$OI/conf.new" "$SB_CONF"
	oi_reload
}
oi_cookie() { printf '%s\n' "$H_HEADERS" | sed -n "s/^set-cookie: \($1=.*\)/\1/p" | tail -n 1; }
oi_cookie_value() { oi_cookie "$1" | sed -n "s/^$1=\([^;]*\);.*/\1/p"; }
oi_qparam() { printf '%s' "$2" | sed -n "s/.*[?&]$1=\([^&]*\).*/\1/p"; }
# oi_start [QUERY]: GET start; O_LOC is where it sends the browser, O_STATE its cookie.
oi_start() {
	http GET "$CADDY_URL/api/v1/auth/oidc/start${1:+?$1}"
	O_LOC=$(header location)
	O_STATE=$(oi_cookie_value sb_oidc)
}
# oi_authorize HINT: the browser at the provider, signed in as HINT; O_CB is the way back.
oi_authorize() {
	http GET "$O_LOC&login_hint=$1"
	O_CB=$(header location)
}
# oi_callback [COOKIE]: back through Caddy with sb_oidc=COOKIE (default O_STATE, - none).
oi_callback() {
	local c=${1-$O_STATE} args=()
	[ "$c" != - ] && args=(-H "Cookie: sb_oidc=$c")
	http GET "$O_CB" "${args[@]}"
	O_SESSION=$(oi_cookie_value sb_session)
}
# oi_login HINT [QUERY]: the whole flow; H_* are the callback's answer.
oi_login() { oi_start "${2:-}"; oi_authorize "$1"; oi_callback; }
# oi_me SESSION: GET /api/v1/me; O_UID is the user's id.
oi_me() {
	http GET "$CADDY_URL/api/v1/me" -H "Cookie: sb_session=$1"
	O_UID=$(printf '%s' "$H_BODY" | sed -n 's/.*"user":{"id":\([0-9]*\).*/\1/p')
}

cp "$SB_CONF" "$OI/conf.saved"
(cd "$SB_BUILD" && make sb-mock-idp) >"$OI/build.log" 2>&1
if ! sb_spawn sb-mock-idp "$OI/idp.pid" "$OI/idp.log" \
	"curl -fsS -o /dev/null $IDP/.well-known/openid-configuration" 15 \
	"$SB_BUILD/sb-mock-idp" "$IDP_PORT" "$OI_CLIENT" "$OI_REDIRECT" "$OI_SECRET"; then
	fail "oidc: sb-mock-idp starts" "see $OI/build.log and $OI/idp.log"
else
	$CTL org add oidc-org "OIDC Org" >/dev/null
	$CTL org add oidc-other "Other OIDC Org" >/dev/null
	for u in bob carol frank; do
		printf '%s\n' "$OI_PW" | $CTL user add --org oidc-other --email "$u@oidc.test" --role admin >/dev/null
	done
	oi_config "$IDP" true

	# --- start: state, nonce and PKCE, and where the browser goes
	oi_start
	expect_eq "oidc: start answers 302" 302 "$H_STATUS"
	expect_match "oidc: to the provider's authorization endpoint" "^$IDP/authorize\?" "$O_LOC"
	ru_enc=$(printf '%s' "$OI_REDIRECT" | sed 's/:/%3A/g; s#/#%2F#g')
	for p in response_type=code "client_id=$OI_CLIENT" "redirect_uri=$ru_enc" \
		'scope=openid%20email%20profile' 'state=[A-Za-z0-9_-]{43}' 'nonce=[A-Za-z0-9_-]{43}' \
		'code_challenge=[A-Za-z0-9_-]{43}' code_challenge_method=S256; do
		expect_match "oidc: the authorization request has ${p%%=*}" "[?&]$p(&|$)" "$O_LOC"
	done
	expect_match "oidc: start sets the state cookie, for these two routes only" \
		'^sb_oidc=[A-Za-z0-9_-]{43}; Path=/api/v1/auth/oidc; Max-Age=600; HttpOnly; SameSite=Lax$' "$(oi_cookie sb_oidc)"
	expect_eq "oidc: the state in the URL is the cookie's" "$O_STATE" "$(oi_qparam state "$O_LOC")"
	check "oidc: state, nonce and code_challenge all differ" test "$(oi_qparam state "$O_LOC")" != "$(oi_qparam nonce "$O_LOC")" \
		-a "$(oi_qparam nonce "$O_LOC")" != "$(oi_qparam code_challenge "$O_LOC")"
	st1=$O_STATE
	oi_start
	check "oidc: every start makes a new state" test -n "$O_STATE" -a "$O_STATE" != "$st1"

	# --- the provider, then back
	oi_authorize alice
	expect_eq "oidc: the provider sends the browser back (302)" 302 "$H_STATUS"
	expect_match "oidc: to the callback, with a code and our state" \
		"^$OI_REDIRECT\?code=[0-9a-f]{32}&state=$O_STATE$" "$O_CB"
	code1=$(oi_qparam code "$O_CB")
	oi_callback
	expect_eq "oidc: the callback answers 302" 302 "$H_STATUS"
	expect_eq "oidc: to / by default" / "$(header location)"
	expect_match "oidc: with a session cookie like a password login's" \
		'^sb_session=[A-Za-z0-9_-]{43}; Path=/; Max-Age=[0-9]+; HttpOnly; SameSite=Lax$' "$(oi_cookie sb_session)"
	expect_match "oidc: and the state cookie cleared" '^sb_oidc=; Path=/api/v1/auth/oidc; Max-Age=0' "$(oi_cookie sb_oidc)"
	oi_me "$O_SESSION"
	expect_eq "oidc: /me with that session is 200" 200 "$H_STATUS"
	expect_match "oidc: the provisioned user: email from the token, the provision role and org" \
		'"role":"viewer".*"org":\{"id":[0-9]+,"slug":"oidc-org".*"user":\{"id":[0-9]+,"email":"alice@oidc.test","name":"Mock alice","role":"viewer"' "$H_BODY"
	alice=$O_UID
	expect_eq "oidc: the identity is stored with the issuer and subject" "$alice" \
		"$(oi_psql -c "SELECT user_id FROM user_identities WHERE issuer = '$IDP' AND subject = 'mock-alice'")"
	expect_eq "oidc: a provisioned account has no password" t \
		"$(oi_psql -c "SELECT password_hash IS NULL FROM users WHERE id = $alice")"
	http POST "$IDP/token" --data "grant_type=authorization_code&code=$code1&redirect_uri=$ru_enc&client_id=$OI_CLIENT&client_secret=$OI_SECRET&code_verifier=$(printf 'v%.0s' $(seq 1 43))"
	expect_eq "oidc: the provider's code works once only" 400 "$H_STATUS"

	oi_login alice
	oi_me "$O_SESSION"
	expect_eq "oidc: the second sign-in of the same person is the same account" "$alice" "$O_UID"
	oi_start; oi_authorize alice
	http POST "$IDP/token" --data "grant_type=authorization_code&code=$(oi_qparam code "$O_CB")&redirect_uri=$ru_enc&client_id=$OI_CLIENT&client_secret=$OI_SECRET&code_verifier=$(printf 'v%.0s' $(seq 1 43))"
	expect_match "oidc: the provider checks PKCE (a wrong code_verifier is refused)" 'code_verifier does not match' "$H_BODY"

	# --- return_to
	oi_login alice 'return_to=%2Fruns%2F42%3Ftab%3Dlog'
	expect_eq "oidc: return_to is where the callback sends the browser" "302 /runs/42?tab=log" "$H_STATUS $(header location)"
	for bad in '%2F%2Fevil.example' 'https%3A%2F%2Fevil.example' '%2F%5Cevil.example' 'runs'; do
		oi_login alice "return_to=$bad"
		expect_eq "oidc: return_to $bad is refused: back to /" "302 /" "$H_STATUS $(header location)"
	done

	# --- state: this browser's, known, once
	oi_start; st_a=$O_STATE loc_a=$O_LOC
	oi_start; st_b=$O_STATE
	O_LOC=$loc_a; oi_authorize alice
	oi_callback "$st_b"
	expect_eq "oidc: a state that is not the cookie's is 400" 400 "$H_STATUS"
	expect_match "oidc: as the problem oidc-state" '"type":"/problems/oidc-state"' "$H_BODY"
	check "oidc: and no session is made" test -z "$O_SESSION"
	oi_callback -
	expect_eq "oidc: a callback without the cookie is 400" "400 /problems/oidc-state" "$H_STATUS $(printf '%s' "$H_BODY" | sed -n 's/.*"type":"\([^"]*\)".*/\1/p')"
	oi_callback "$st_a"
	expect_eq "oidc: the right cookie still works after those" 302 "$H_STATUS"
	oi_callback "$st_a"
	expect_eq "oidc: the same state again (a replay) is 400" 400 "$H_STATUS"
	expect_match "oidc: as oidc-state, saying so" '"type":"/problems/oidc-state".*already used' "$H_BODY"
	http GET "$CADDY_URL/api/v1/auth/oidc/callback"
	expect_eq "oidc: a callback without anything is 400" 400 "$H_STATUS"

	# --- the ID token
	oi_login badnonce:alice
	expect_eq "oidc: an ID token with another nonce is 401" 401 "$H_STATUS"
	expect_match "oidc: as oidc-nonce" '"type":"/problems/oidc-nonce"' "$H_BODY"
	check "oidc: and no session is made" test -z "$O_SESSION"
	oi_login wrongaud:alice
	expect_eq "oidc: an ID token for another client is 401" 401 "$H_STATUS"
	expect_match "oidc: as oidc-id-token, saying why" '"type":"/problems/oidc-id-token".*wrong audience' "$H_BODY"
	oi_login deny:alice
	expect_eq "oidc: the provider's error is 401" 401 "$H_STATUS"
	expect_match "oidc: naming the error" '"type":"/problems/oidc-denied".*access_denied' "$H_BODY"
	check "oidc: the log never carries an ID token or a code" \
		bash -c "! grep -qE 'eyJ[A-Za-z0-9_-]{20}|$code1' '$STATE/fcgi.log'"

	# --- linking an account that exists
	bob=$(oi_psql -c "SELECT id FROM users WHERE email = 'bob@oidc.test'")
	oi_login bob
	expect_eq "oidc: a verified email of a password account signs in" 302 "$H_STATUS"
	oi_me "$O_SESSION"
	expect_eq "oidc: to that account (linked, not a new one)" "$bob" "$O_UID"
	expect_match "oidc: with its own org and role" '"role":"admin".*"slug":"oidc-other"' "$H_BODY"
	oi_login bob
	oi_me "$O_SESSION"
	expect_eq "oidc: and the link holds at the next sign-in" "$bob" "$O_UID"
	oi_login unverified:carol
	expect_eq "oidc: an unverified email of a password account is refused (403)" 403 "$H_STATUS"
	expect_match "oidc: as oidc-email-unverified" '"type":"/problems/oidc-email-unverified"' "$H_BODY"
	expect_eq "oidc: and nothing is linked to that account" 0 \
		"$(oi_psql -c "SELECT count(*) FROM user_identities WHERE subject = 'mock-carol'")"
	oi_login unverified:dave
	expect_eq "oidc: an unverified email makes no account either (403)" 403 "$H_STATUS"
	expect_eq "oidc: none was made" 0 "$(oi_psql -c "SELECT count(*) FROM users WHERE email = 'dave@oidc.test'")"

	# --- the audit log
	expect_match "oidc: login.succeeded is audited with method oidc" '^[1-9][0-9]*$' \
		"$(oi_psql -c "SELECT count(*) FROM audit_log WHERE action = 'login.succeeded' AND details->>'method' = 'oidc' AND actor_id = $alice")"
	expect_eq "oidc: the provisioning and the link are audited" "identity.linked user.provisioned" \
		"$(oi_psql -c "SELECT string_agg(DISTINCT action, ' ' ORDER BY action) FROM audit_log WHERE action IN ('user.provisioned', 'identity.linked') AND actor_id IN ($alice, $bob)")"

	# --- a disabled account
	$CTL user disable --email alice@oidc.test
	oi_login alice
	expect_eq "oidc: a disabled user cannot sign in" "401 /problems/account-disabled" "$H_STATUS $(printf '%s' "$H_BODY" | sed -n 's/.*"type":"\([^"]*\)".*/\1/p')"

	# --- provisioning off
	oi_config "$IDP" false
	oi_login erin
	expect_eq "oidc: provisioning off: a new person is 403" 403 "$H_STATUS"
	expect_match "oidc: as not-provisioned" '"type":"/problems/not-provisioned"' "$H_BODY"
	expect_eq "oidc: and no account is made" 0 "$(oi_psql -c "SELECT count(*) FROM users WHERE email = 'erin@oidc.test'")"
	oi_login bob
	expect_eq "oidc: a linked account still signs in" 302 "$H_STATUS"
	frank=$(oi_psql -c "SELECT id FROM users WHERE email = 'frank@oidc.test'")
	oi_login frank
	oi_me "$O_SESSION"
	expect_eq "oidc: a verified email still links an existing account (it makes none)" "$frank" "$O_UID"

	# --- the provider unusable
	oi_config "$IDP/" true
	oi_start
	expect_eq "oidc: a discovery document naming another issuer is refused (503)" "503 /problems/oidc-unavailable" \
		"$H_STATUS $(printf '%s' "$H_BODY" | sed -n 's/.*"type":"\([^"]*\)".*/\1/p')"
	check "oidc: and logged" grep -q 'OIDC discovery names another issuer' "$STATE/fcgi.log"
	sb_stop_pidfile "$OI/idp.pid" 5
	oi_config "$IDP" true
	oi_start
	expect_eq "oidc: the provider down: start is 503" 503 "$H_STATUS"
	expect_match "oidc: with Retry-After" '^[0-9]+$' "$(header retry-after)"
fi
sb_stop_pidfile "$OI/idp.pid" 5

# --- back to the normal configuration: sign-in through OIDC is off
cp "$OI/conf.saved" "$SB_CONF"
oi_reload
http GET "$CADDY_URL/api/v1/auth/oidc/start"
expect_eq "oidc: off (no issuer): start is 404" 404 "$H_STATUS"
http GET "$CADDY_URL/api/v1/auth/oidc/callback?code=x&state=y"
expect_eq "oidc: off: callback is 404" 404 "$H_STATUS"
