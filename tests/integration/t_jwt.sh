# t_jwt.sh: core/jwt.c fetching a JWKS URL served by Caddy: first use, rotation on an
# unknown kid, the refetch rate limit, and the identity provider down or misbehaving.

JW=$STATE/jwt
JW_REFRESH=2
mkdir -p "$JW/www" "$JW/caddy"
sb_free_port JWKS_PORT
JWKS_URL=http://127.0.0.1:$JWKS_PORT

cat >"$JW/Caddyfile" <<EOF
{
	admin off
}
http://:$JWKS_PORT {
	bind 127.0.0.1
	redir /moved /jwks.json 302
	root * $JW/www
	file_server
	log {
		output file $JW/access.log
		format json
	}
}
EOF
echo ready >"$JW/www/ready.txt"

jwks_start() {
	sb_spawn "Caddy (JWKS)" "$JW/caddy.pid" "$JW/caddy.log" "curl -fsS -o /dev/null $JWKS_URL/ready.txt" 15 \
		env XDG_DATA_HOME="$JW/caddy" XDG_CONFIG_HOME="$JW/caddy" \
		caddy run --adapter caddyfile --config "$JW/Caddyfile"
}
jwks_stop() { sb_stop_pidfile "$JW/caddy.pid" 10; }
# The requests Caddy answered for a path, from its access log.
jwks_served() {
	local n
	n=$(grep -c "\"uri\":\"$1\"" "$JW/access.log" 2>/dev/null)
	echo "${n:-0}"
}
# jwtc COMMAND...: one line to sb-jwtcheck, its answer in R.
jwtc() {
	R="(no answer)"
	{ printf '%s\n' "$*" >&"${JC[1]}"; } 2>/dev/null || return 0
	IFS= read -r -t 30 R <&"${JC[0]}" || R="(no answer)"
}
jwks_pause() { sleep $((JW_REFRESH + 1)); }

if ! jwks_start; then
	fail "JWKS file server starts" "see $JW/caddy.log"
else
	coproc JC { exec "$SB_BUILD/sb-jwtcheck" "$JW/www" "$JWKS_URL/jwks.json" "$JW_REFRESH" 2>>"$JW/jwtcheck.log"; }
	# shellcheck disable=SC2153 # set by coproc
	jc_pid=$JC_PID
	jwtc gen k1 rsa
	jwtc gen k2 ec
	jwtc gen k3 rsa
	jwtc gen k4 rsa
	jwtc publish k1
	expect_eq "jwt: the JWKS is published" ok "$R"
	expect_eq "jwt: no fetch before the first token" 0 "$(jwks_served /jwks.json)"

	jwtc verify k1
	expect_eq "jwt: an RS256 token is verified with a key fetched from jwks_url" accepted "$R"
	expect_eq "jwt: the first token fetched the JWKS once" 1 "$(jwks_served /jwks.json)"
	jwtc verify k1
	jwtc verify k1
	expect_eq "jwt: known kids do not refetch" "accepted 1" "$R $(jwks_served /jwks.json)"

	# Rotation: a new key with a new kid, picked up on the first token naming it.
	jwks_pause
	jwtc publish k1 k2
	jwtc verify k2
	expect_eq "jwt: a rotated-in key (ES256, new kid) is fetched on its unknown kid" accepted "$R"
	expect_eq "jwt: the rotation cost one fetch" 2 "$(jwks_served /jwks.json)"

	# A second unknown kid within jwks_refresh: refused, and the IdP is not asked.
	jwtc publish k1 k2 k3
	jwtc verify k3
	expect_eq "jwt: a second unknown kid within jwks_refresh is refused" "refused: unknown key id" "$R"
	jwtc verify k4
	jwtc verify k3
	sleep 0.5
	expect_eq "jwt: unknown kids within jwks_refresh do not refetch" 2 "$(jwks_served /jwks.json)"
	jwks_pause
	jwtc verify k3
	expect_eq "jwt: after jwks_refresh the unknown kid refetches and is accepted" "accepted 3" \
		"$R $(jwks_served /jwks.json)"

	# The IdP down: the keys already fetched keep working.
	jwks_stop
	jwtc verify k1
	expect_eq "jwt: with the JWKS server down a known key still verifies" accepted "$R"
	jwks_pause
	jwtc verify k4
	expect_eq "jwt: with the server down an unknown kid is refused" "refused: unknown key id" "$R"
	jwtc verify k2
	expect_eq "jwt: a failed refetch keeps the old keys" accepted "$R"

	# A JWKS that is not JSON: fetched, and the old keys kept.
	jwtc garbage
	if jwks_start; then
		jwks_pause
		jwtc verify k4
		expect_eq "jwt: an unparsable JWKS is fetched" "refused: unknown key id 4" "$R $(jwks_served /jwks.json)"
		jwtc verify k3
		expect_eq "jwt: an unparsable JWKS keeps the old keys" accepted "$R"
	else
		fail "JWKS file server restarts" "see $JW/caddy.log"
	fi

	# A redirect is not followed; a JWKS over 1 MiB is refused.
	jwtc publish k1
	jwtc verifier "$JWKS_URL/moved"
	jwtc verify k1
	expect_eq "jwt: a redirect from jwks_url is not followed" "refused: unknown key id 1 4" \
		"$R $(jwks_served /moved) $(jwks_served /jwks.json)"
	jwtc big k1
	jwtc verifier "$JWKS_URL/big.json"
	jwtc verify k1
	expect_eq "jwt: a JWKS larger than 1 MiB is refused" "refused: unknown key id" "$R"
	jwtc verifier "$JWKS_URL/jwks.json"
	jwtc verify k1
	expect_eq "jwt: the same key from a normal JWKS is accepted" accepted "$R"

	eval "exec ${JC[1]}>&-"
	wait "$jc_pid"
	expect_eq "jwt: sb-jwtcheck exits 0 (no leak, no sanitizer report)" 0 "$?"
	check "jwt: sb-jwtcheck logged its JWKS fetches" grep -q '"msg":"JWKS fetched"' "$JW/jwtcheck.log"
	jwks_stop
fi
