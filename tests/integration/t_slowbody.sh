# t_slowbody.sh: clients that send their bodies slowly.  Through Caddy (which reads the
# whole body first) they hold no prefork worker: with more slow bodies open than
# switchboard-fcgi has workers (4 here), the API answers at once.  Through Apache (whose
# mod_proxy_fcgi streams bodies) a worker is held until http.request_timeout ends the
# read, however the body trickles (before, each byte restarted a per-read timeout).

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

# Apache, with http.request_timeout = 2 s: the body's deadline is the whole read's.
sb_stop_pidfile "$STATE/fcgi.pid" 15
SWITCHBOARD_HTTP_REQUEST_TIMEOUT=2 sb_fcgi_start "$STATE" "$SB_BUILD" "$SB_CONF" ||
	fail "switchboard-fcgi starts with request_timeout 2" "see $STATE/fcgi.log"
SLOW_PIDS=()
for i in 1 2 3 4 5 6; do sb_slow "$APACHE_PORT" 1; done
sleep 1
sb_version_time "$APACHE_PORT"
check "Apache: with 6 slow bodies open (4 workers), /api/v1/version answers once request_timeout ends their reads ($CODE in $DT ms)" \
	test "$CODE" = 200 -a "$DT" -lt 5000
check "and each given-up body is logged" sb_wait_for \
	"[ \$(grep -c 'request body not complete within http.request_timeout' '$STATE/fcgi.log') -ge 4 ]" 10
kill "${SLOW_PIDS[@]}" 2>/dev/null
wait "${SLOW_PIDS[@]}" 2>/dev/null
sb_stop_pidfile "$STATE/fcgi.pid" 15
sb_fcgi_start "$STATE" "$SB_BUILD" "$SB_CONF" || fail "switchboard-fcgi starts again" "see $STATE/fcgi.log"
