# t_http.sh: the HTTP surface through both web servers: health, version, errors, limits.

for server in caddy apache; do
	if [ "$server" = caddy ]; then base=$CADDY_URL; else base=$APACHE_URL; fi

	http GET "$base/healthz"
	expect_eq "$server: GET /healthz is 200" 200 "$H_STATUS"
	expect_match "$server: /healthz says ok" '"status":"ok"' "$H_BODY"
	expect_match "$server: request id generated and echoed" '^[0-9a-f]{32}$' "$(header x-request-id)"

	http GET "$base/healthz" -H 'X-Request-Id: trace-abc.123'
	expect_eq "$server: a valid X-Request-Id is echoed" "trace-abc.123" "$(header x-request-id)"
	http GET "$base/healthz" -H 'X-Request-Id: bad id with spaces'
	expect_match "$server: an invalid X-Request-Id is replaced" '^[0-9a-f]{32}$' "$(header x-request-id)"

	http GET "$base/readyz"
	expect_eq "$server: GET /readyz is 200 with every dependency up" 200 "$H_STATUS"
	expect_match "$server: /readyz names its checks" '"database":"ok".*"schema":"ok".*"memcached":"ok"' "$H_BODY"

	http GET "$base/api/v1/version"
	expect_eq "$server: GET /api/v1/version is 200" 200 "$H_STATUS"
	expect_match "$server: version body" '"version":"[0-9]+\.[0-9]+\.[0-9]+".*"git_commit":".+".*"build_time":"[0-9T:Z-]+".*"schema_version":[0-9]+' "$H_BODY"
	expect_eq "$server: version is application/json" "application/json" "$(header content-type)"

	http HEAD "$base/api/v1/version"
	expect_eq "$server: HEAD answers like GET" 200 "$H_STATUS"
	# HTTP/1.0 closes after the answer: whatever follows the blank line is a body.
	port=${base##*:}
	raw=$(exec 3<>"/dev/tcp/127.0.0.1/$port"; printf 'HEAD /api/v1/version HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3; timeout 5 cat <&3)
	expect_eq "$server: HEAD has no body" "" "$(printf '%s' "$raw" | tr -d '\r' | sed '1,/^$/d')"
	# Apache drops Content-Length from HEAD answers, which HTTP allows.
	[ "$server" = caddy ] &&
		expect_match "$server: HEAD keeps GET's Content-Length" '[Cc]ontent-[Ll]ength: [1-9]' "$raw"

	http GET "$base/api/v1/nope"
	expect_eq "$server: unknown API path is 404" 404 "$H_STATUS"
	expect_eq "$server: 404 is problem+json" "application/problem+json" "$(header content-type)"
	expect_match "$server: 404 body is a problem with instance and request id" \
		'"type":"about:blank".*"title":"Not Found".*"status":404.*"instance":"/api/v1/nope".*"request_id":"[0-9a-f]{32}"' "$H_BODY"

	http DELETE "$base/api/v1/version"
	expect_eq "$server: wrong method is 405" 405 "$H_STATUS"
	expect_eq "$server: 405 lists the allowed methods" "GET, HEAD, OPTIONS" "$(header allow)"
	expect_match "$server: 405 is a problem" '"status":405' "$H_BODY"

	http OPTIONS "$base/api/v1/version"
	expect_eq "$server: OPTIONS is 204" 204 "$H_STATUS"
	expect_eq "$server: OPTIONS lists the methods" "GET, HEAD, OPTIONS" "$(header allow)"

	http GET "$base/api/v1/version/?x=1"
	expect_eq "$server: trailing slash redirects" 308 "$H_STATUS"
	expect_eq "$server: redirect keeps the query" "/api/v1/version?x=1" "$(header location)"

	big=$(mktemp)
	head -c 1100000 /dev/zero | tr '\0' 'a' >"$big"
	http POST "$base/api/v1/version" -H 'Content-Type: application/json' --data-binary "@$big"
	expect_eq "$server: body over http.max_body is 413" 413 "$H_STATUS"
	expect_match "$server: 413 problem says the limit" '"type":"/problems/body-too-large".*"detail":"the body is 1100000 bytes; the limit is 1048576"' "$H_BODY"
	rm -f "$big"

	http POST "$base/api/v1/version" -H 'Content-Type: text/plain' --data 'hello'
	expect_eq "$server: a non-JSON body is 415" 415 "$H_STATUS"
	expect_match "$server: 415 problem" '"type":"/problems/unsupported-media-type"' "$H_BODY"

	http POST "$base/api/v1/version" -H 'Content-Type: application/json' --data '{"a": [1, 2,}'
	expect_eq "$server: malformed JSON is 400" 400 "$H_STATUS"
	expect_match "$server: 400 says where" '"type":"/problems/invalid-json".*"line":1,"column":[0-9]+,"position":[0-9]+' "$H_BODY"

	deep=$(printf '%.0s[' $(seq 1 40))$(printf '%.0s]' $(seq 1 40))
	http POST "$base/api/v1/version" -H 'Content-Type: application/json' --data "$deep"
	expect_eq "$server: JSON deeper than max_json_depth is 400" 400 "$H_STATUS"
	expect_match "$server: depth problem says the limit" 'nesting deeper than 32 levels' "$H_BODY"

	http POST "$base/api/v1/version" -H 'Content-Type: application/json' --data '{"ok": true}'
	expect_eq "$server: a valid body on a GET-only route is 405" 405 "$H_STATUS"

	http GET "$base/"
	expect_eq "$server: the static frontend is served" 200 "$H_STATUS"
	expect_match "$server: index.html" '<title>Switchboard</title>' "$H_BODY"
	expect_eq "$server: static pages carry a CSP" 1 "$(header content-security-policy | grep -c "frame-ancestors 'none'")"

	http GET "$base/api/v1/nope"
	expect_eq "$server: an API answer has one Content-Security-Policy, the API's own" \
		"default-src 'none'; frame-ancestors 'none'" "$(printf '%s\n' "$H_HEADERS" | sed -n 's/^content-security-policy: //p')"
	expect_eq "$server: and one X-Content-Type-Options" 1 "$(printf '%s\n' "$H_HEADERS" | grep -c '^x-content-type-options:')"

	http GET "$base/metrics"
	expect_eq "$server: /metrics answers loopback clients" 200 "$H_STATUS"
	expect_match "$server: /metrics counts requests by route and status" \
		'switchboard_http_requests_total\{method="GET",route="/healthz",status="200"\} [0-9]+' "$H_BODY"
done

# One view across all workers: the counter must have grown by exactly the requests sent.
before=$(curl -s "$CADDY_URL/metrics" | sed -n 's/^switchboard_http_requests_total{method="GET",route="\/readyz",status="200"} //p')
for i in $(seq 1 20); do curl -s -o /dev/null "$CADDY_URL/readyz"; done
after=$(curl -s "$CADDY_URL/metrics" | sed -n 's/^switchboard_http_requests_total{method="GET",route="\/readyz",status="200"} //p')
expect_eq "metrics aggregate every worker's requests" $((${before:-0} + 20)) "${after:-0}"
expect_match "metrics carry a latency histogram" 'switchboard_http_request_duration_seconds_bucket\{method="GET",route="/readyz",le="\+Inf"\}' "$(curl -s "$CADDY_URL/metrics")"

# The access log: one JSON line per request with the fields operators need.
http GET "$CADDY_URL/healthz" -H 'X-Request-Id: access-log-probe'
sleep 0.2
line=$(grep '"request_id":"access-log-probe"' "$STATE/fcgi.log" | grep '"msg":"request"' | tail -n 1)
expect_match "access log line has method, route, status, bytes, duration" \
	'"method":"GET","route":"/healthz","path":"/healthz","status":200,"bytes":[0-9]+,"duration_ms":[0-9]+(\.[0-9]{1,6})?[,}]' "$line"

# The schema may be ahead of this build (hosts upgraded one by one), never behind it.
psql_app() { sb_as_pg "$(sb_pg_bindir)/psql" -h "$STATE/pg/run" -p "$PG_PORT" -U postgres -d switchboard -qAtX -v ON_ERROR_STOP=1 "$@"; }
psql_app -c "INSERT INTO schema_migrations VALUES (9999, '9999_later.sql', 'x')"
http GET "$CADDY_URL/readyz"
expect_eq "a schema newer than the build is ready" 200 "$H_STATUS"
psql_app -c "DELETE FROM schema_migrations WHERE version = 9999"
newest=$(psql_app -c "SELECT max(version) FROM schema_migrations")
psql_app -c "UPDATE schema_migrations SET version = 0 WHERE version = $newest"
http GET "$CADDY_URL/readyz"
expect_eq "a schema older than the build is not ready" 503 "$H_STATUS"
expect_match "and says to migrate" 'older than version [0-9]+: run switchboardctl migrate.*"schema":"at version [0-9]+, expected [0-9]+"' "$H_BODY"
psql_app -c "UPDATE schema_migrations SET version = $newest WHERE version = 0"
http GET "$CADDY_URL/readyz"
expect_eq "ready again once the schema is back" 200 "$H_STATUS"

# The local stack answers whatever name the browser used for the loopback address.
http GET "$CADDY_URL/healthz" -H 'Host: localhost'
expect_eq "Caddy answers Host: localhost as well as 127.0.0.1" 200 "$H_STATUS"

# Generated request ids are distinct across requests and workers.
ids=$(for i in $(seq 1 60); do curl -s -D - -o /dev/null "$CADDY_URL/healthz" | tr -d '\r' | sed -n 's/^[Xx]-[Rr]equest-[Ii]d: //p'; done)
expect_eq "60 requests get 60 distinct request ids" "60 60" "$(echo "$ids" | grep -cE '^[0-9a-f]{32}$') $(echo "$ids" | sort -u | grep -c .)"
