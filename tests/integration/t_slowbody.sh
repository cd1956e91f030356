# t_slowbody.sh: clients that send their bodies slowly hold no prefork worker: with more
# slow bodies open than switchboard-fcgi has workers (4 here), the API answers at once,
# through Caddy (which reads the whole body first) and through Apache (whose
# mod_proxy_fcgi passes the body on as it comes: switchboard-fcgi's master reads it).
# A request not whole within http.request_timeout is answered 408.

# sb_slow PORT GAP: a POST whose 60-byte body comes one byte every GAP s, in the background.
sb_slow() {
	( exec 7<>"/dev/tcp/127.0.0.1/$1" || exit 0
	  printf 'POST /api/v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n' >&7
	  for i in $(seq 1 60); do printf ' ' >&7 2>/dev/null || exit 0; sleep "$2"; done ) &
	SLOW_PIDS+=($!)
}
# sb_version_time PORT: sets CODE and DT (ms) of a GET /api/v1/version.
sb_version_time() {
	local t0
	t0=$(date +%s%3N)
	CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 15 "http://127.0.0.1:$1/api/v1/version")
	DT=$(( $(date +%s%3N) - t0 ))
}

SLOW_PIDS=()
for i in 1 2 3 4 5 6; do sb_slow "$CADDY_PORT" 2; done
sleep 3
sb_version_time "$CADDY_PORT"
check "Caddy: with 6 slow bodies open (4 workers), /api/v1/version answers at once ($CODE in $DT ms)" \
	test "$CODE" = 200 -a "$DT" -lt 2000
kill "${SLOW_PIDS[@]}" 2>/dev/null
wait "${SLOW_PIDS[@]}" 2>/dev/null

# Apache's mod_proxy_fcgi passes a body on as it comes, but a request not whole within
# 10 ms goes to the master, which reads it: the slow bodies hold no worker there either.
SLOW_PIDS=()
for i in 1 2 3 4 5 6; do sb_slow "$APACHE_PORT" 2; done
sleep 3
sb_version_time "$APACHE_PORT"
check "Apache: with 6 slow bodies open (4 workers), /api/v1/version answers at once ($CODE in $DT ms)" \
	test "$CODE" = 200 -a "$DT" -lt 2000
sb_metric() { curl -s "http://127.0.0.1:$CADDY_PORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
check "the master holds them, none waits for a worker ($(sb_metric switchboard_front_connections) held, $(sb_metric switchboard_front_queued) queued)" \
	test "$(sb_metric switchboard_front_connections)" -ge 6 -a "$(sb_metric switchboard_front_queued)" = 0
kill "${SLOW_PIDS[@]}" 2>/dev/null
wait "${SLOW_PIDS[@]}" 2>/dev/null

# With http.request_timeout = 2 s: a body still trickling when it ends is answered 408
# by the master, whatever the web server's own timeouts.
sb_stop_pidfile "$STATE/fcgi.pid" 15
SWITCHBOARD_HTTP_REQUEST_TIMEOUT=2 sb_fcgi_start "$STATE" "$SB_BUILD" "$SB_CONF" ||
	fail "switchboard-fcgi starts with request_timeout 2" "see $STATE/fcgi.log"
T0=$(date +%s%3N)
OUT=$( { printf 'POST /api/v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 60\r\nConnection: close\r\n\r\n'
	for i in $(seq 1 8); do printf ' '; sleep 0.5; done; } |
	timeout 10 curl -s --max-time 8 telnet://127.0.0.1:"$APACHE_PORT" 2>/dev/null)
DT=$(( $(date +%s%3N) - T0 ))
expect_match "Apache: a body not whole within request_timeout is answered 408 request-timeout (in $DT ms)" \
	'HTTP/1.1 408|/problems/request-timeout' "$OUT"
check "and it is counted in switchboard_request_timeouts_total" \
	test "$(sb_metric switchboard_request_timeouts_total)" -ge 1
check "and among the requests answered, unmatched (it never reached a route), as 408" \
	test "$(sb_metric 'switchboard_http_requests_total{method="",route="unmatched",status="408"}')" -ge 1
sb_stop_pidfile "$STATE/fcgi.pid" 15
sb_fcgi_start "$STATE" "$SB_BUILD" "$SB_CONF" || fail "switchboard-fcgi starts again" "see $STATE/fcgi.log"
