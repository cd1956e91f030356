# t_resilience.sh: workers killed, reloaded, recycled; PostgreSQL and memcached going away.

MASTER=$(cat "$STATE/fcgi.pid")
# Live workers: an exited one stays in the process table until the master reaps it.
# The notifier (t_notify.sh) is a child too, but no worker.
workers() { ps --ppid "$MASTER" -o pid=,stat=,comm= | awk '$2 !~ /^Z/ && $3 != "sb-notifier" { print $1 }' | sort; }
nworkers() { workers | grep -c .; }
# replaced PID: 4 workers and PID not among them, in one look (a dying process is still
# listed by one ps and gone from the next).
replaced() { local w; w=$(workers); [ "$(grep -c . <<<"$w")" = 4 ] && ! grep -qx "$1" <<<"$w"; }
# lost OUT: the requests of a hammer run that failed, but for the rate limit's 429s
# (the address's bucket is real here, and a fast run can empty it).
lost() { echo $(( $(field failed "$1") - $(printf '%s\n' "$1" | awk '$1 == "status" && $2 == 429 { print $3 }' | grep . || echo 0) )); }
metric() { curl -s "$CADDY_URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
# hammer N URL: N requests at 16 at a time; prints "requests N ok N failed N ..."
hammer() { "$SB_BUILD/sb-hammer" -n "$1" -c 16 -d 120 "$2"; }
# reload: SIGHUP, then wait until the master has read the file (before it is touched again).
reload() {
	local n
	n=$(grep -c -e 'reloading: replacing' -e 'reload refused' "$STATE/fcgi.log")
	kill -HUP "$MASTER"
	sb_wait_for '[ "$(grep -c -e "reloading: replacing" -e "reload refused" "$STATE/fcgi.log")" -gt '"$n"' ]' 10
}
field() { printf '%s\n' "$2" | awk -v f="$1" 'NR == 1 { for (i = 1; i < NF; i++) if ($i == f) print $(i + 1) }'; }

expect_eq "the master runs the configured 4 workers" 4 "$(nworkers)"

# SIGKILL of a worker under load loses at most its own in-flight request.
crash0=$(metric 'switchboard_worker_restarts_total{reason="crash"}')
hammer 4000 "$CADDY_URL/api/v1/version" >"$STATE/h.kill" &
hp=$!
sleep 0.5
victim=$(workers | head -n 1)
kill -KILL "$victim"
wait "$hp"
out=$(cat "$STATE/h.kill")
expect_eq "every request of the load was answered or failed" 4000 "$(field requests "$out")"
check "SIGKILL of a worker under load loses at most one request ($(lost "$out") lost)" \
	test "$(lost "$out")" -le 1
check "the master replaces the killed worker" sb_wait_for "replaced $victim" 5
expect_eq "the crash is counted in /metrics" $((crash0 + 1)) "$(metric 'switchboard_worker_restarts_total{reason="crash"}')"

# A crash loop backs off: workers killed young are respawned after growing pauses.
delays=""
for i in 1 2 3; do
	# A young one (under 5 s), as the last one respawned is: by age, not by pid (pids
	# wrap on a busy machine).
	victim=$(ps --ppid "$MASTER" -o pid=,etimes=,stat=,comm= |
		awk '$3 !~ /^Z/ && $4 != "sb-notifier"' | sort -k2,2n | head -n 1 | awk '{ print $1 }')
	kill -KILL "$victim"
	sb_wait_for "replaced $victim" 10
	delays="$delays$(grep "\"msg\":\"worker died\",\"pid\":$victim," "$STATE/fcgi.log" | tail -n 1 | sed 's/.*"respawn_in_ms":\([0-9]*\).*/\1/') "
done
check "respawn pauses grow in a crash loop ($delays ms)" \
	awk -v d="$delays" 'BEGIN { split(d, a, " "); exit !(a[1] < a[2] && a[2] < a[3]) }'

# SIGHUP under load: every worker is replaced, one at a time, and no request fails.
old=$(workers)
reload0=$(metric 'switchboard_worker_restarts_total{reason="reload"}')
other0="$(metric 'switchboard_worker_restarts_total{reason="recycle"}') $(metric 'switchboard_worker_restarts_total{reason="crash"}')"
hammer 6000 "$CADDY_URL/api/v1/version" >"$STATE/h.hup" &
hp=$!
sleep 0.3
kill -HUP "$MASTER"
wait "$hp"
out=$(cat "$STATE/h.hup")
expect_eq "SIGHUP under load drops no request" "6000 0" "$(field requests "$out") $(lost "$out")"
check "every old worker was replaced" sb_wait_for \
	'[ "$(nworkers)" = 4 ] && [ -z "$(comm -12 <(echo "$old") <(workers))" ]' 10
expect_eq "the reload replaced 4 workers (recycled, crashed before: $other0; after: $(metric 'switchboard_worker_restarts_total{reason="recycle"}') $(metric 'switchboard_worker_restarts_total{reason="crash"}'))" \
	$((reload0 + 4)) "$(metric 'switchboard_worker_restarts_total{reason="reload"}')"

# A reload picks up a changed configuration: here, workers recycle after 100 requests.
cp "$SB_CONF" "$STATE/conf.saved"
sed -i 's/^\[server\]$/[server]\nmax_requests = 100/' "$SB_CONF"
reload
sb_wait_for '[ "$(nworkers)" = 4 ] && [ "$(metric "switchboard_worker_restarts_total{reason=\"reload\"}")" = '$((reload0 + 8))' ]' 10
recycle0=$(metric 'switchboard_worker_restarts_total{reason="recycle"}')
out=$(hammer 2000 "$CADDY_URL/api/v1/version")
expect_eq "recycling workers drop no request" "2000 0" "$(field requests "$out") $(lost "$out")"
recycled=$(( $(metric 'switchboard_worker_restarts_total{reason="recycle"}') - recycle0 ))
check "workers recycled after max_requests ($recycled replaced)" test "$recycled" -ge 12
cp "$STATE/conf.saved" "$SB_CONF"
reload

# A reload lets uploads in progress finish, and kills a worker stuck past the grace period.
sed -i 's/^\[server\]$/[server]\nshutdown_grace = 2/' "$SB_CONF"
reload
sb_wait_for '[ "$(nworkers)" = 4 ] && [ "$(ps --ppid "$MASTER" -o etimes= | sort -n | tail -n 1 | tr -d " ")" -ge 1 ]' 10
post_head='POST /api/v1/version HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n'
# (Caddy reads a body whole before it asks the program; Apache's mod_proxy_fcgi passes
# it on as it comes, and the master holds it until it is whole.)
exec 7<>"/dev/tcp/127.0.0.1/$CADDY_PORT"
exec 8<>"/dev/tcp/127.0.0.1/$APACHE_PORT"
printf "$post_head"'{"a": ' >&7
printf "$post_head"'{"b": ' >&8
sleep 0.5
old=$(workers)
# A worker that cannot leave (stopped) stands for one stuck in a request.
stuck=$(workers | head -n 1)
kill -STOP "$stuck"
t0=$(date +%s%N)
reload
sleep 0.5
printf '12345}' >&7
printf '12345}' >&8
answer=$(timeout 5 head -n 1 <&7 | tr -d '\r')
expect_eq "an upload in progress during a reload is answered, not cut (Caddy)" "HTTP/1.1 405 Method Not Allowed" "$answer"
answer=$(timeout 5 head -n 1 <&8 | tr -d '\r')
expect_eq "and through Apache, whose body the master held" "HTTP/1.1 405 Method Not Allowed" "$answer"
check "the reload replaces every worker, the stuck one within the grace period" sb_wait_for \
	'[ "$(nworkers)" = 4 ] && [ -z "$(comm -12 <(echo "$old") <(workers))" ]' 10
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "the whole reload took under grace + 3 s (${ms} ms)" test "$ms" -lt 5000
check "the overrun was logged" grep -q "draining worker overran the grace period: killed\",\"pid\":$stuck" "$STATE/fcgi.log"
exec 7>&- 8>&-
cp "$STATE/conf.saved" "$SB_CONF"
reload
sb_wait_for '[ "$(nworkers)" = 4 ]' 10

# A bad configuration on reload is refused and the old one keeps serving.
printf '[server]\nworkers = lots\n' >"$SB_CONF"
reload
check "a reload with a bad config is refused and logged" grep -q 'reload refused: configuration invalid' "$STATE/fcgi.log"
http GET "$CADDY_URL/healthz"
expect_eq "the old configuration keeps serving" 200 "$H_STATUS"
cp "$STATE/conf.saved" "$SB_CONF"
reload
sb_wait_for '[ "$(nworkers)" = 4 ]' 10
check "no reload ever saw a half-written file" bash -c "! grep -q 'server.socket changed' '$STATE/fcgi.log'"

# PostgreSQL goes away: /readyz says 503 at once, nothing crashes; it comes back by itself.
crash0=$(metric 'switchboard_worker_restarts_total{reason="crash"}')
# The reload above is over only when its workers stop changing: four children can be a
# moment's mix of new ones and an old one still draining (seen on a loaded machine).
sb_wait_for '[ "$(nworkers)" = 4 ] && w1=$(workers) && sleep 0.5 && [ "$w1" = "$(workers)" ]' 15
before=$(workers)
sb_pg_stop "$STATE"
t0=$(date +%s%N)
codes=""
for i in 1 2 3 4 5 6 7 8; do http GET "$CADDY_URL/readyz"; codes="$codes$H_STATUS "; done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_eq "/readyz is 503 on every worker while PostgreSQL is down" "503 503 503 503 503 503 503 503 " "$codes"
check "and answers quickly, without hanging (8 requests in ${ms} ms)" test "$ms" -lt 8000
expect_match "the 503 names what is down" '"type":"/problems/not-ready".*"checks":\{"database":"unreachable"' "$H_BODY"
expect_eq "the 503 carries Retry-After" 2 "$(header retry-after)"
sb_pg_start "$STATE" "$PG_PORT" >/dev/null
check "/readyz is 200 again after PostgreSQL restarts" sb_wait_for '[ "$(curl -s -o /dev/null -w "%{http_code}" "$CADDY_URL/readyz")" = 200 ]' 15
# A worker whose last attempt failed waits a second before the next (no connection storms).
sleep 1.1
codes=""
for i in $(seq 1 12); do http GET "$CADDY_URL/readyz"; codes="$codes$H_STATUS"; done
expect_eq "every worker reconnected" "$(printf '200%.0s' $(seq 1 12))" "$codes"
expect_eq "no worker crashed during the outage" "$crash0" "$(metric 'switchboard_worker_restarts_total{reason="crash"}')"
expect_eq "the same workers served throughout" "$before" "$(workers)"

# Connections cut by the server (pg_terminate_backend) are noticed before use.
sb_as_pg "$(sb_pg_bindir)/psql" -h "$STATE/pg/run" -p "$PG_PORT" -U postgres -qAtX -d postgres \
	-c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = 'switchboard'" >/dev/null
codes=""
for i in $(seq 1 12); do http GET "$CADDY_URL/readyz"; codes="$codes$H_STATUS"; done
expect_eq "terminated connections are replaced without a failed request" "$(printf '200%.0s' $(seq 1 12))" "$codes"

# memcached goes away and comes back.
sb_stop_pidfile "$STATE/memcached.pid" 5
http GET "$CADDY_URL/readyz"
expect_eq "/readyz is 503 while memcached is down" 503 "$H_STATUS"
expect_match "and names memcached" '"memcached":"unreachable"' "$H_BODY"
sb_memcached_start "$STATE" "$MC_PORT"
check "/readyz is 200 again after memcached restarts" sb_wait_for '[ "$(curl -s -o /dev/null -w "%{http_code}" "$CADDY_URL/readyz")" = 200 ]' 10

# SIGTERM: a second instance on its own socket exits 0 within the grace period and removes its socket.
mkdir -p "$STATE/run2"
sed "s#$STATE/run/fcgi.sock#$STATE/run2/fcgi.sock#" "$SB_CONF" >"$STATE/second.conf"
"$SB_BUILD/switchboard-fcgi" -c "$STATE/second.conf" >>"$STATE/second.log" 2>&1 &
second=$!
sb_wait_for "[ -S '$STATE/run2/fcgi.sock' ]" 10
check "a second instance refuses a socket that is in use" \
	bash -c "! SWITCHBOARD_SERVER_SOCKET='$STATE/run2/fcgi.sock' timeout 5 '$SB_BUILD/switchboard-fcgi' -c '$SB_CONF' 2>&1 | grep -q 'another process serves this socket' && false || true"
kill -TERM "$second"
t0=$(date +%s)
wait "$second"
rc=$?
expect_eq "SIGTERM stops the master with exit status 0" 0 "$rc"
check "within the grace period" test $(( $(date +%s) - t0 )) -le 10
check "and the socket it created is gone" test ! -e "$STATE/run2/fcgi.sock"
check "no worker of it is left" bash -c "! ps --ppid $second -o pid= | grep -q ."
