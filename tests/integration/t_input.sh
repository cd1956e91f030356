# t_input.sh: input that once lost data or got the wrong answer, through Caddy and Apache
# (and straight to both programs' sockets): every refusal a problem+json 4xx with its
# documented type and a detail, never a 2xx with nothing in it, never a 5xx.

$CTL agents import "$SB_ROOT/conf/agents" >/dev/null
$CTL org add inco >/dev/null
IK=$($CTL key create --org inco --scopes runs:write,runs:read,keys:admin,agents:read,audit:read)
in_pg() { psql_su -c "$1"; }
# in_expect NAME STATUS TYPE: the last answer was STATUS, problem+json of TYPE, with a detail.
in_expect() {
	expect_eq "$1: $2 $3" "$2 application/problem+json /problems/$3 detail" \
		"$H_STATUS $(header content-type) $(json_get type) $(printf '%s' "$H_BODY" | grep -q '"detail":"[^"]' && echo detail)"
}
stream_lines=$(wc -l <"$STATE/stream.log")
runs_before=$(in_pg "SELECT count(*) FROM runs r JOIN orgs o ON o.id = r.org_id WHERE o.slug = 'inco'")

for base in "$CADDY_URL" "$APACHE_URL"; do
	srv=$([ "$base" = "$CADDY_URL" ] && echo Caddy || echo Apache)
	as() { local m=$1 p=$2; shift 2; http "$m" "$base$p" -H "Authorization: Bearer $IK" "$@"; }
	J=(-H 'Content-Type: application/json')

	# Numbers that cannot be stored and read back exactly: refused, no ghost run.
	as POST /api/v1/runs "${J[@]}" --data '{"agent":"summarizer","input":1e308}'
	in_expect "$srv: an input of 1e308" 400 invalid-json
	as POST /api/v1/runs "${J[@]}" --data '{"agent":"summarizer","input":"x","metadata":{"n":1e19}}'
	in_expect "$srv: metadata with 1e19" 400 invalid-json
	# U+0000 in any string.
	as POST /api/v1/keys "${J[@]}" --data '{"name":"n","scopes":["runs:read\u0000junk"]}'
	in_expect "$srv: a scope with U+0000" 400 invalid-json
	as POST /api/v1/runs "${J[@]}" --data '{"agent":"summarizer","input":"a\u0000b"}'
	in_expect "$srv: an input with U+0000" 400 invalid-json
	# Query and path values that do not decode to text.
	as GET "/api/v1/runs?agent=%00"
	in_expect "$srv: ?agent=%00 no longer lists every run" 400 bad-query
	as GET "/api/v1/runs?agent=%ff"
	in_expect "$srv: a query value that is not UTF-8" 400 bad-query
	as GET "/api/v1/runs?agent=%zz"
	in_expect "$srv: a malformed %-escape in the query" 400 bad-query
	as GET /api/v1/agents/%ff
	in_expect "$srv: a path that is not UTF-8" 400 bad-path
	# Absurd query values.
	as GET "/api/v1/runs?cursor=99999999999999999999999"
	in_expect "$srv: a cursor past 2^63" 400 bad-cursor
	as GET "/api/v1/audit?cursor=9223372036854775808"
	in_expect "$srv: an audit cursor of 2^63" 400 bad-cursor
	for s in 9999999999 2026-13-45T99:99:99Z 2026-02-30 2026-01-01T24:00:00Z 2026-1-01; do
		as GET "/api/v1/runs?since=$s"
		in_expect "$srv: since=$s" 400 bad-since
	done
	as GET "/api/v1/runs?since=2026-02-28T23:59:59.5%2B01:00"
	expect_eq "$srv: a real time with a fraction and an offset is fine" 200 "$H_STATUS"
	# Chunked uploads are read to their end, within max_body.
	as POST /api/v1/runs "${J[@]}" -H 'Transfer-Encoding: chunked' --data '{"agent":"summarizer","input":"chunked upload"}'
	expect_eq "$srv: a chunked body is read (202)" 202 "$H_STATUS"
	head -c 1100000 /dev/zero | tr '\0' ' ' >"$STATE/in-big"
	as POST /api/v1/runs "${J[@]}" -H 'Transfer-Encoding: chunked' --data-binary "@$STATE/in-big"
	in_expect "$srv: a chunked body over max_body" 413 body-too-large
	# Headers over the documented 32 KiB, on both programs' routes.
	pad=$(head -c 40000 /dev/zero | tr '\0' 'h')
	as GET /api/v1/runs -H "X-Pad: $pad"
	[ "$H_STATUS" = 431 ] && in_expect "$srv: 40 KB of headers (switchboard-fcgi)" 431 headers-too-large ||
		expect_match "$srv: 40 KB of headers are refused by the server or 431 (switchboard-fcgi)" '^(431|400|413|414)$' "$H_STATUS"
done
expect_eq "no run was made by any refused request (two chunked ones were)" "$((runs_before + 2))" \
	"$(in_pg "SELECT count(*) FROM runs r JOIN orgs o ON o.id = r.org_id WHERE o.slug = 'inco'")"

# ---- both programs, straight to their sockets: the same bounds, the same answers
out=$(timeout 10 "$SB_BUILD/sb-fcgiclient" -P 40000 "$STATE/run/stream.sock" /api/v1/version /api/v1/version)
expect_eq "switchboard-stream: params over 32 KiB are 431, and the connection serves the next request" \
	"Status: 431 Status: 431 answers 2" "$(printf '%s' "$out" | tr '\n' ' ')"
out=$(timeout 10 "$SB_BUILD/sb-fcgiclient" -P 40000 "$STATE/run/fcgi.sock" /api/v1/version)
expect_eq "switchboard-fcgi: params over 32 KiB are 431" "Status: 431 answers 1" "$(printf '%s' "$out" | tr '\n' ' ')"
# A kept connection's pipelined requests are each answered (libfcgi's workers dropped
# what followed the first): the worker answers the first and hands the connection,
# with the bytes after it, to the master, which hands the next ones back whole.  A
# body over 48 KiB (the master hands those on in a memfd) arrives whole, parsed: 405.
out=$(timeout 10 "$SB_BUILD/sb-fcgiclient" "$STATE/run/fcgi.sock" /api/v1/version /healthz /api/v1/version)
expect_eq "switchboard-fcgi: requests pipelined on a kept connection are all answered" \
	"Status: 200 Status: 200 Status: 200 answers 3" "$(printf '%s' "$out" | tr '\n' ' ')"
big=$(printf '{"a":[%s1]}' "$(printf '1,%.0s' $(seq 1 50000))")
out=$(timeout 10 "$SB_BUILD/sb-fcgiclient" -b "$big" "$STATE/run/fcgi.sock" /api/v1/version /api/v1/version)
expect_eq "switchboard-fcgi: a 100 KB body arrives whole and parsed (405 for POST), twice on one connection" \
	"Status: 405 Status: 405 answers 2" "$(printf '%s' "$out" | tr '\n' ' ')"
out=$(timeout 10 "$SB_BUILD/sb-fcgiclient" -B 9000 "$STATE/run/stream.sock" /api/v1/version /api/v1/version)
expect_eq "switchboard-stream: a body over 8 KiB is 413, and the connection serves the next request" \
	"Status: 413 Status: 413 answers 2" "$(printf '%s' "$out" | tr '\n' ' ')"
R=$(in_pg "SELECT r.id FROM runs r JOIN orgs o ON o.id = r.org_id WHERE o.slug = 'inco' LIMIT 1")
out=$(timeout 10 "$SB_BUILD/sb-fcgiclient" -p "HTTP_AUTHORIZATION=Bearer $IK" -b '{"a":1}' "$STATE/run/stream.sock" "/api/v1/runs/$R/events")
expect_eq "switchboard-stream: a small body on its route is read as switchboard-fcgi reads it (405 for POST)" \
	"Status: 405 answers 1" "$(printf '%s' "$out" | tr '\n' ' ')"
out=$(timeout 10 "$SB_BUILD/sb-fcgiclient" -p "HTTP_AUTHORIZATION=Bearer $IK" -b 'not json' "$STATE/run/stream.sock" "/api/v1/runs/$R/events")
expect_eq "switchboard-stream: a body that is not JSON is 400 invalid-json, as in switchboard-fcgi" \
	"Status: 400 answers 1" "$(printf '%s' "$out" | tr '\n' ' ')"
check "no 5xx was logged by switchboard-stream meanwhile" sh -c "! tail -n +$stream_lines '$STATE/stream.log' | grep -q '\"status\":5[0-9][0-9]'"
