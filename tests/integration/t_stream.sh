# t_stream.sh: switchboard-stream through Caddy: server-sent events of a run's log (live,
# replayed, resumed exactly with Last-Event-ID 200 times), heartbeats, many subscribers,
# tenant isolation, the long poll (resumed exactly 200 times too), a PostgreSQL restart
# mid-stream, slow clients.
# Events are written straight into run_events (as the worker does, with its NOTIFY), so
# every check knows exactly what the log holds.

ST=$STATE/stream-t
mkdir -p "$ST"
$CTL agents import "$SB_ROOT/conf/agents" >/dev/null
$CTL org add stco >/dev/null
$CTL org add stco2 >/dev/null
SK=$($CTL key create --org stco --scopes runs:write,runs:read)
SK2=$($CTL key create --org stco2 --scopes runs:write,runs:read)
spg() { psql_su -c "$1"; }
# st_run: a queued run of org stco (no worker runs here); ST_RID is its id.
st_run() {
	ST_RID=$(curl -s -H "Authorization: Bearer $SK" -H 'Content-Type: application/json' \
		--data '{"agent":"summarizer","input":"stream test"}' "$CADDY_URL/api/v1/runs" |
		sed -n 's/^{"id":"\([0-9a-f-]\{36\}\)".*/\1/p')
}
# st_add RID FIRST LAST [TYPE]: events FIRST..LAST, then the worker's NOTIFY.
st_add() {
	spg "INSERT INTO run_events (run_id, seq, org_id, attempt, type, data)
	     SELECT r.id, s, r.org_id, 1, '${4:-message.delta}', jsonb_build_object('text', 'piece ' || s)
	       FROM runs r, generate_series($2, $3) s WHERE r.id = '$1';
	     NOTIFY switchboard_events, '$1'" >/dev/null
}
# st_end RID SEQ: the terminal event, with the run's end in the same transaction (as the
# worker writes them).
st_end() {
	spg "INSERT INTO run_events (run_id, seq, org_id, attempt, type, data)
	     SELECT r.id, $2, r.org_id, 1, 'run.succeeded', '{}' FROM runs r WHERE r.id = '$1';
	     UPDATE runs SET state = 'succeeded', finished_at = now() WHERE id = '$1';
	     NOTIFY switchboard_events, '$1'" >/dev/null
}
# st_open25 KEY RID NAME: 25 streams of RID with KEY in the background, captured in
# $ST/NAME1..25; ST_PIDS holds their pids.  Fails unless all are open within 10 s.
st_open25() {
	local i
	ST_PIDS=()
	for i in $(seq 1 25); do
		curl -sS -N --max-time 30 -H "Authorization: Bearer $1" -o "$ST/$3$i" "$CADDY_URL/api/v1/runs/$2/stream" &
		ST_PIDS+=($!)
	done
	sb_wait_for "[ \$(grep -l '^retry:' $ST/$3* 2>/dev/null | wc -l) = 25 ]" 10
}
# st_metric NAME: the value of one of switchboard-stream's metrics.
st_metric() { curl -fsS "http://127.0.0.1:$STREAM_METRICS_PORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
# st_ids FILE: the ids of the events in an SSE capture, space-separated.
st_ids() { sed -n 's/^id: //p' "$1" | tr -d '\r' | tr '\n' ' ' | sed 's/ $//'; }
SSE=(-sS -N --max-time 20 -H "Authorization: Bearer $SK")
# st_timed URL FILE: a stream in the background, each line prefixed with the time it
# arrived (ms); pts is its pid.
st_timed() {
	curl "${SSE[@]}" "$1" |
		while IFS= read -r line; do printf '%s %s\n' "$(date +%s%3N)" "$line"; done >"$2" &
	pts=$!
}

# ---- a live stream: replay, then events as they are written, closed after the end
st_run
R1=$ST_RID
check "a run to watch" test -n "$R1"
st_add "$R1" 1 3
curl "${SSE[@]}" -D "$ST/h1" -o "$ST/s1" "$CADDY_URL/api/v1/runs/$R1/stream" &
p1=$!
check "the stream replays what was written before it opened" \
	sb_wait_for "[ \"\$(st_ids '$ST/s1')\" = '1 2 3' ]" 5
st_add "$R1" 4 6
check "then delivers new events live" sb_wait_for "[ \"\$(st_ids '$ST/s1')\" = '1 2 3 4 5 6' ]" 5
st_end "$R1" 7
check "and ends after the terminal event" sb_wait_for "! kill -0 $p1" 5
wait "$p1"
expect_eq "curl saw a complete response" 0 "$?"
hdr=$(tr -d '\r' <"$ST/h1")
expect_match "200 text/event-stream" '^HTTP/1.1 200' "$hdr"
expect_match "Content-Type: text/event-stream" '^Content-Type: text/event-stream$' "$hdr"
expect_eq "Cache-Control: no-cache, once" 'Cache-Control: no-cache' "$(grep -i '^Cache-Control' <<<"$hdr")"
expect_match "X-Accel-Buffering: no" '^X-Accel-Buffering: no$' "$hdr"
check "a retry: hint first" grep -qx 'retry: 500' "$ST/s1"
expect_match "each event has id, event and data lines" \
	'^id: 5event: message\.deltadata: \{"text": "piece 5"\}$' "$(sed -n '/^id: 5$/,/^$/p' "$ST/s1" | tr -d '\n')"
expect_eq "the terminal event is the last one" "run.succeeded" "$(sed -n 's/^event: //p' "$ST/s1" | tail -n 1)"

# ---- a finished run replays and closes; Last-Event-ID and ?after= resume exactly
curl "${SSE[@]}" -o "$ST/s2" "$CADDY_URL/api/v1/runs/$R1/stream"
expect_eq "a finished run replays its whole log and closes" "1 2 3 4 5 6 7" "$(st_ids "$ST/s2")"
curl "${SSE[@]}" -H 'Last-Event-ID: 4' -o "$ST/s3" "$CADDY_URL/api/v1/runs/$R1/stream"
expect_eq "Last-Event-ID: 4 gets 5 to 7" "5 6 7" "$(st_ids "$ST/s3")"
curl "${SSE[@]}" -o "$ST/s4" "$CADDY_URL/api/v1/runs/$R1/stream?after=6"
expect_eq "?after=6 gets 7" "7" "$(st_ids "$ST/s4")"
t0=$(date +%s%3N)
curl "${SSE[@]}" -H 'Last-Event-ID: 7' -o "$ST/s6" "$CADDY_URL/api/v1/runs/$R1/stream"
dt=$(( $(date +%s%3N) - t0 ))
check "resuming a finished run after its last event closes at once (${dt} ms)" test "$dt" -lt 2000 -a -z "$(st_ids "$ST/s6")"
# An EventSource reconnects after every close; only a 204 stops it for good.
http GET "$CADDY_URL/api/v1/runs/$R1/stream" -H "Authorization: Bearer $SK" -H 'Last-Event-ID: 7'
expect_eq "that reconnect is answered 204 No Content, which ends an EventSource" "204|" "$H_STATUS|$H_BODY"
http GET "$CADDY_URL/api/v1/runs/$R1/stream?after=7" -H "Authorization: Bearer $SK"
expect_eq "so is ?after= the last event" 204 "$H_STATUS"
http GET "$CADDY_URL/api/v1/runs/$R1/stream" -H "Authorization: Bearer $SK" -H 'Last-Event-ID: 6'
expect_eq "one event short of the end is still a 200 stream" "200 text/event-stream" "$H_STATUS $(header content-type)"
http GET "$APACHE_URL/api/v1/runs/$R1/stream" -H "Authorization: Bearer $SK" -H 'Last-Event-ID: 7'
expect_eq "204 through Apache too" 204 "$H_STATUS"
# A real EventSource client (the eventsource package) for 4 s, retry: 500 ms: before, it
# reconnected every half second for ever; now one stream, then the 204, then CLOSED.
for base in "$CADDY_URL" "$APACHE_URL"; do
	expect_eq "an EventSource on a finished run gets its log once and stops ($base)" \
		"opens 1 events 7 ids 1,2,3,4,5,6,7 state 2" \
		"$(node "$SB_ROOT/tests/node/es-client.mjs" "$base/api/v1/runs/$R1/stream" "$SK" 4)"
done
# And Chromium's own EventSource, in a page signed in with a session cookie.
printf '%s\n' 'browser pass phrase 0123' |
	$CTL user add --org stco --email es-browser@stco.test --role viewer >/dev/null
expect_eq "Chromium's EventSource on a finished run gets its log once and stops" \
	"opens 1 events 7 state 2" \
	"$(timeout 60 node "$SB_ROOT/tests/node/browser-es.mjs" "$CADDY_URL" es-browser@stco.test \
		'browser pass phrase 0123' "/api/v1/runs/$R1/stream" 4 2>&1 | tail -n 1)"
t0=$(date +%s%3N)
http GET "$CADDY_URL/api/v1/runs/$R1/events?after=7&wait=10" -H "Authorization: Bearer $SK"
dt=$(( $(date +%s%3N) - t0 ))
expect_eq "a long poll of a finished run answers at once, saying it is finished" \
	'200 {"items":[],"next_after":7,"finished":true}' "$H_STATUS $H_BODY"
check "without waiting for wait= (${dt} ms)" test "$dt" -lt 2000
curl "${SSE[@]}" -H 'Last-Event-ID: 5' -o "$ST/s5" "$CADDY_URL/api/v1/runs/$R1/stream?after=1"
expect_eq "the header wins over ?after= (a reconnecting EventSource)" "6 7" "$(st_ids "$ST/s5")"
http HEAD "$CADDY_URL/api/v1/runs/$R1/stream" -H "Authorization: Bearer $SK"
expect_eq "HEAD gets the stream's head" "200 text/event-stream" "$H_STATUS $(header content-type)"
check "and no body (no retry: line, no event)" sh -c "! printf '%s' \"\$1\" | grep -q '^retry:\|^id:'" _ "$H_BODY"
http GET "$CADDY_URL/api/v1/runs/$R1/stream" -H "Authorization: Bearer $SK" -H 'Last-Event-ID: x'
expect_eq "a malformed Last-Event-ID is 400" 400 "$H_STATUS"

# ---- requests a web server sends ahead on one kept connection are all answered
out=$(timeout 10 "$SB_BUILD/sb-fcgiclient" "$STATE/run/stream.sock" /api/v1/version /healthz /api/v1/version)
expect_eq "three requests written at once on one connection get three answers, in order" \
	"Status: 200 Status: 200 Status: 200 answers 3" "$(printf '%s' "$out" | tr '\n' ' ')"
out=$(timeout 10 "$SB_BUILD/sb-fcgiclient" -p "HTTP_AUTHORIZATION=Bearer $SK" "$STATE/run/stream.sock" \
	"/api/v1/runs/$R1/stream" /api/v1/version)
expect_eq "and after a stream that ends (a finished run's replay), the next one" \
	"Status: 200 Status: 200 answers 2" "$(printf '%s' "$out" | tr '\n' ' ')"

# ---- isolation and authentication
http GET "$CADDY_URL/api/v1/runs/$R1/stream" -H "Authorization: Bearer $SK2"
expect_eq "another org's run is 404" 404 "$H_STATUS"
http GET "$CADDY_URL/api/v1/runs/$R1/stream"
expect_eq "without credentials 401" 401 "$H_STATUS"
http GET "$CADDY_URL/api/v1/runs/00000000-0000-0000-0000-000000000000/stream" -H "Authorization: Bearer $SK"
expect_eq "an unknown run is 404" 404 "$H_STATUS"

# ---- heartbeats on an idle stream; many subscribers get every event
st_run
R2=$ST_RID
curl "${SSE[@]}" -o "$ST/hb" "$CADDY_URL/api/v1/runs/$R2/stream" &
phb=$!
check "an idle stream gets a heartbeat comment (heartbeat = 1 s)" \
	sb_wait_for "grep -qx ': keepalive' '$ST/hb'" 4
subs=()
for i in $(seq 1 20); do
	curl "${SSE[@]}" -o "$ST/sub$i" "$CADDY_URL/api/v1/runs/$R2/stream" &
	subs+=($!)
done
sleep 1
for i in $(seq 1 10); do st_add "$R2" "$i" "$i"; done
st_end "$R2" 11
for p in "${subs[@]}" "$phb"; do wait "$p"; done
ok=0
for i in $(seq 1 20); do [ "$(st_ids "$ST/sub$i")" = "1 2 3 4 5 6 7 8 9 10 11" ] && ok=$((ok + 1)); done
expect_eq "20 subscribers of one run each got all 11 events in order" 20 "$ok"

# ---- events reach the client at once (no buffering by Caddy)
st_run
R3=$ST_RID
st_timed "$CADDY_URL/api/v1/runs/$R3/stream" "$ST/ts"
sleep 0.5
t0=$(date +%s%3N)
st_add "$R3" 1 1
sb_wait_for "grep -q ' id: 1' '$ST/ts'" 5
t1=$(awk '$2 == "id:" && $3 == "1" { print $1; exit }' "$ST/ts")
check "an event is at the client within 300 ms of its write ($((t1 - t0)) ms)" test -n "$t1" -a $((t1 - t0)) -lt 300
st_end "$R3" 2
wait "$pts"

# ---- an open that waits on the database holds back no other stream: the responder
# sends an open's statement (stream_run_open) on a connection of its own and serves on
# while it runs.  Here that statement is made to take 3 s.
st_slow_opens() {
	spg "ALTER FUNCTION stream_run_open(bigint, uuid, integer, integer) RENAME TO stream_run_open_t;
	     CREATE FUNCTION stream_run_open(o bigint, r uuid, a integer, l integer)
	         RETURNS TABLE (finished boolean, last_seq integer, seq integer, type text,
	                        data text, attempt integer, created_at text)
	         LANGUAGE plpgsql SECURITY DEFINER AS \$\$
	         BEGIN PERFORM pg_sleep(3); RETURN QUERY SELECT * FROM stream_run_open_t(o, r, a, l); END
	         \$\$;
	     GRANT EXECUTE ON FUNCTION stream_run_open(bigint, uuid, integer, integer) TO switchboard_app" >/dev/null
}
st_fast_opens() {
	spg "DROP FUNCTION stream_run_open(bigint, uuid, integer, integer);
	     ALTER FUNCTION stream_run_open_t(bigint, uuid, integer, integer) RENAME TO stream_run_open" >/dev/null
}
st_run
R3S=$ST_RID
st_timed "$CADDY_URL/api/v1/runs/$R3S/stream" "$ST/ts-live"
sb_wait_for "grep -q ' retry:' '$ST/ts-live'" 5
st_slow_opens
t0=$(date +%s%3N)
curl "${SSE[@]}" -o "$ST/s-slow" "$CADDY_URL/api/v1/runs/$R1/stream" &
pslow=$!
sleep 0.5
expect_eq "an open waiting on the database shows in /metrics" 1 "$(st_metric switchboard_stream_opens_waiting)"
t1=$(date +%s%3N)
st_add "$R3S" 1 1
sb_wait_for "grep -q ' id: 1' '$ST/ts-live'" 5
t2=$(awk '$2 == "id:" && $3 == "1" { print $1; exit }' "$ST/ts-live")
check "meanwhile an open stream gets a new event at once ($((t2 - t1)) ms)" test -n "$t2" -a $((t2 - t1)) -lt 1000
wait "$pslow"
dt=$(( $(date +%s%3N) - t0 ))
expect_eq "and the slow open replays its run's whole log (${dt} ms)" "1 2 3 4 5 6 7" "$(st_ids "$ST/s-slow")"
check "after its statement's 3 s" test "$dt" -ge 2900
# The opens' connection lost mid-statement: that open is answered 503, the next connects.
curl -sS --max-time 20 -H "Authorization: Bearer $SK" -D "$ST/h-lost" -o "$ST/s-lost" \
	"$CADDY_URL/api/v1/runs/$R1/stream" &
plost=$!
sleep 0.5
expect_eq "the opens' connection is found and ended" t "$(psql_su -tA -c "SELECT bool_or(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE '%FROM stream_run_open(%' AND state = 'active' AND pid <> pg_backend_pid()")"
wait "$plost"
expect_match "the open in flight is answered 503" '^HTTP/1.1 503' "$(tr -d '\r' <"$ST/h-lost")"
expect_match "as problem+json saying to try again" '"type":"/problems/database-unavailable".*"status":503' "$(cat "$ST/s-lost")"
st_fast_opens
curl "${SSE[@]}" -o "$ST/s-again" "$CADDY_URL/api/v1/runs/$R1/stream"
expect_eq "the next open connects again and replays" "1 2 3 4 5 6 7" "$(st_ids "$ST/s-again")"
check "the responder logged the loss" grep -q 'database connection lost.*stream opens' "$STATE/stream.log"
st_end "$R3S" 2
wait "$pts"

# ---- and through Apache (mod_proxy_fcgi, flushpackets=on)
st_run
R3A=$ST_RID
st_add "$R3A" 1 2
st_timed "$APACHE_URL/api/v1/runs/$R3A/stream" "$ST/ts-apache"
check "through Apache the stream replays" sb_wait_for "grep -q ' id: 2' '$ST/ts-apache'" 5
t0=$(date +%s%3N)
st_add "$R3A" 3 3
sb_wait_for "grep -q ' id: 3' '$ST/ts-apache'" 5
t1=$(awk '$2 == "id:" && $3 == "3" { print $1; exit }' "$ST/ts-apache")
check "and a new event is at the client within 300 ms of its write ($((t1 - t0)) ms)" test -n "$t1" -a $((t1 - t0)) -lt 300
st_end "$R3A" 4
check "then it ends" sb_wait_for "! kill -0 $pts" 5
wait "$pts"
expect_eq "Apache passed every event" "1 2 3 4" "$(sed -n 's/^[0-9]* id: //p' "$ST/ts-apache" | tr '\n' ' ' | sed 's/ $//')"

# ---- resume exactness: 200 disconnects at random points across one long run
st_run
R4=$ST_RID
(
	for s in $(seq 1 400); do st_add "$R4" "$s" "$s"; sleep 0.01; done
	st_end "$R4" 401
) &
writer=$!
last=0
: >"$ST/assembled"
for i in $(seq 1 200); do
	k=$((1 + RANDOM % 12))
	curl -sS -N --max-time 10 -H "Authorization: Bearer $SK" -H "Last-Event-ID: $last" \
		"$CADDY_URL/api/v1/runs/$R4/stream" 2>/dev/null | head -n $((k * 4)) >"$ST/part" || true
	sed -n 's/^id: //p' "$ST/part" >>"$ST/assembled"
	n=$(sed -n 's/^id: //p' "$ST/part" | tail -n 1)
	[ -n "$n" ] && last=$n
done
wait "$writer"
# The rest, to the end.
curl "${SSE[@]}" -H "Last-Event-ID: $last" "$CADDY_URL/api/v1/runs/$R4/stream" | sed -n 's/^id: //p' >>"$ST/assembled"
expect_eq "200 resumes assembled the whole log: 401 events, no gap, no duplicate, in order" \
	"$(seq 1 401 | tr '\n' ' ')" "$(tr '\n' ' ' <"$ST/assembled")"

# ---- the same through the long poll: 200 polls of random sizes, some cut off while held
st_run
R4L=$ST_RID
(
	# Now and then a pause, so that polls wait (and some are given up) while held.
	for s in $(seq 1 400); do
		st_add "$R4L" "$s" "$s"
		if [ $((s % 20)) = 0 ]; then sleep 0.6; else sleep 0.01; fi
	done
	st_end "$R4L" 401
) &
writer=$!
last=0
cut=0
: >"$ST/assembled-lp"
for i in $(seq 1 200); do
	# A client that gives up on a held poll (a network that drops it) asks again
	# from the cursor it has; the answer it never read is not lost to it.
	body=$(curl -sS --max-time "0.$((RANDOM % 9 + 1))" -H "Authorization: Bearer $SK" \
		"$CADDY_URL/api/v1/runs/$R4L/events?after=$last&wait=5&limit=$((1 + RANDOM % 20))" 2>/dev/null) ||
		{ cut=$((cut + 1)); continue; }
	printf '%s' "$body" | grep -o '"seq":[0-9]*' | cut -d: -f2 >>"$ST/assembled-lp"
	n=$(printf '%s' "$body" | sed -n 's/.*"next_after":\([0-9]*\),"finished":[a-z]*}$/\1/p')
	[ -n "$n" ] && last=$n
done
wait "$writer"
while [ "$last" -lt 401 ]; do
	body=$(curl -sS --max-time 10 -H "Authorization: Bearer $SK" "$CADDY_URL/api/v1/runs/$R4L/events?after=$last&wait=5")
	printf '%s' "$body" | grep -o '"seq":[0-9]*' | cut -d: -f2 >>"$ST/assembled-lp"
	last=$(printf '%s' "$body" | sed -n 's/.*"next_after":\([0-9]*\),"finished":[a-z]*}$/\1/p')
	[ -n "$last" ] || break
done
expect_eq "200 long polls assembled the whole log: 401 events, no gap, no duplicate, in order" \
	"$(seq 1 401 | tr '\n' ' ')" "$(tr '\n' ' ' <"$ST/assembled-lp")"
check "some polls were cut off while held ($cut)" test "$cut" -gt 0

# ---- the long poll: at once when events exist, else held until one comes or time is up
st_run
R5=$ST_RID
st_add "$R5" 1 2
http GET "$CADDY_URL/api/v1/runs/$R5/events?after=0&wait=10" -H "Authorization: Bearer $SK"
expect_match "with events waiting it answers at once" '"next_after":2' "$H_STATUS $H_BODY"
( sleep 1; st_add "$R5" 3 3 ) &
t0=$(date +%s%3N)
http GET "$CADDY_URL/api/v1/runs/$R5/events?after=2&wait=10" -H "Authorization: Bearer $SK"
dt=$(( $(date +%s%3N) - t0 ))
expect_match "without, it waits for the next event and returns it" '^200 \{"items":\[\{"seq":3,"type":"message.delta","data":\{"text":"piece 3"\}' "$H_STATUS $H_BODY"
check "after about a second (${dt} ms)" test "$dt" -ge 800 -a "$dt" -lt 5000
t0=$(date +%s%3N)
http GET "$CADDY_URL/api/v1/runs/$R5/events?after=3&wait=1" -H "Authorization: Bearer $SK" -H 'Origin: https://app.example'
expect_eq "a held long poll's answer carries the CORS headers of its origin" "https://app.example" \
	"$(header access-control-allow-origin)"
dt=$(( $(date +%s%3N) - t0 ))
expect_eq "nothing within wait: an empty page, the same cursor" '200 {"items":[],"next_after":3,"finished":false}' "$H_STATUS $H_BODY"
check "after the wait (${dt} ms)" test "$dt" -ge 900 -a "$dt" -lt 4000
( sleep 1; st_add "$R5" 4 4 ) &
t0=$(date +%s%3N)
http GET "$APACHE_URL/api/v1/runs/$R5/events?after=3&wait=10" -H "Authorization: Bearer $SK"
dt=$(( $(date +%s%3N) - t0 ))
expect_match "through Apache the long poll waits for the next event too" '^200 \{"items":\[\{"seq":4,' "$H_STATUS $H_BODY"
check "(${dt} ms)" test "$dt" -ge 800 -a "$dt" -lt 5000
http GET "$CADDY_URL/api/v1/runs/$R5/events?after=4&wait=999" -H "Authorization: Bearer $SK"
expect_eq "a wait beyond longpoll_max is 400" 400 "$H_STATUS"
http GET "$CADDY_URL/api/v1/runs/$R5/events?after=0&wait=2" -H "Authorization: Bearer $SK2"
expect_eq "another org's run is 404 for the long poll too" 404 "$H_STATUS"

# ---- PostgreSQL restarted mid-stream: nothing is missed
st_run
R6=$ST_RID
st_add "$R6" 1 2
curl "${SSE[@]}" --max-time 40 -o "$ST/pg" "$CADDY_URL/api/v1/runs/$R6/stream" &
ppg=$!
sb_wait_for "[ \"\$(st_ids '$ST/pg')\" = '1 2' ]" 5
sb_as_pg "$(sb_pg_bindir)/pg_ctl" -D "$STATE/pg/data" -m fast -w restart >/dev/null 2>&1
st_add "$R6" 3 5
st_end "$R6" 6
check "after a PostgreSQL restart the stream gets every event and ends" sb_wait_for "! kill -0 $ppg" 20
wait "$ppg"
expect_eq "1 to 6, none missed" "1 2 3 4 5 6" "$(st_ids "$ST/pg")"

# ---- switchboard-fcgi, if a web server sends it a stream path, says where it belongs
out=$(env -i REQUEST_METHOD=GET REQUEST_URI="/api/v1/runs/$R1/stream" SCRIPT_FILENAME=/x \
	REMOTE_ADDR=127.0.0.1 HTTP_AUTHORIZATION="Bearer $SK" timeout 10 cgi-fcgi -bind -connect "$SOCK" 2>&1 | tr -d '\r')
expect_match "switchboard-fcgi answers a stream path 503 stream-responder" '^Status: 503.*/problems/stream-responder' "$(printf '%s' "$out" | tr '\n' ' ')"

# ---- a slow client is cut off with a retry hint, and the responder keeps serving
st_run
R7=$ST_RID
# Straight to the socket, never reading: the responder's buffer for it fills.
perl -MIO::Socket::UNIX -e '
	my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "$!\n";
	sub rec { my ($t, $c) = @_; pack("CCnnCx", 1, $t, 1, length($c), 0) . $c }
	sub nv { my ($n, $v) = @_; my $l = length($v);
		chr(length($n)) . ($l < 128 ? chr($l) : pack("N", $l | 0x80000000)) . $n . $v }
	my $p = nv("REQUEST_METHOD", "GET") . nv("REQUEST_URI", "/api/v1/runs/$ARGV[1]/stream")
	    . nv("REMOTE_ADDR", "127.0.0.1") . nv("HTTP_AUTHORIZATION", "Bearer $ARGV[2]");
	print $s rec(1, pack("nCx5", 1, 0)) . rec(4, $p) . rec(4, "") . rec(5, "");
	sleep 15;
' "$STATE/run/stream.sock" "$R7" "$SK" &
pslow=$!
sleep 0.5
spg "INSERT INTO run_events (run_id, seq, org_id, attempt, type, data)
     SELECT r.id, s, r.org_id, 1, 'message.delta', jsonb_build_object('text', repeat('x', 4000))
       FROM runs r, generate_series(1, 400) s WHERE r.id = '$R7'; NOTIFY switchboard_events, '$R7'" >/dev/null
check "a client that does not read is closed (client_buffer = 64 KiB)" \
	sb_wait_for "grep -q 'slow client: stream closed with a retry hint' '$STATE/stream.log'" 10
kill "$pslow" 2>/dev/null
wait "$pslow" 2>/dev/null
curl "${SSE[@]}" -H 'Last-Event-ID: 395' -o "$ST/after-slow" "$CADDY_URL/api/v1/runs/$R7/stream" --max-time 3
expect_eq "and the responder still serves others" "396 397 398 399 400" "$(st_ids "$ST/after-slow")"

# ---- the responder's own /metrics
sm=$(curl -fsS "http://127.0.0.1:$STREAM_METRICS_PORT/metrics")
expect_match "switchboard-stream serves /metrics with its slow-client count" \
	'^switchboard_stream_slow_closed_total [1-9]' "$sm"
expect_match "and the events it sent" '^switchboard_stream_events_sent_total [1-9][0-9]+' "$sm"
expect_match "and how many streams it holds" '^switchboard_stream_open [0-9]+$' "$sm"

# ---- the per-user cap: max_per_user = 25 open streams per key, 429 beyond
SK3=$($CTL key create --org stco --scopes runs:read)
st_run
R8=$ST_RID
check "25 streams of one key are open" st_open25 "$SK3" "$R8" cap
caps=("${ST_PIDS[@]}")
http GET "$CADDY_URL/api/v1/runs/$R8/stream" -H "Authorization: Bearer $SK3"
expect_eq "the 26th is 429" 429 "$H_STATUS"
expect_match "as too-many-streams, with Retry-After" '/problems/too-many-streams' "$H_BODY $(header retry-after)"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H "Authorization: Bearer $SK" \
	"$CADDY_URL/api/v1/runs/$R8/stream")
expect_eq "another key is not counted with it" 200 "$code"
sleep 0.4
http GET "$CADDY_URL/api/v1/runs/$R8/stream" -H "Authorization: Bearer $SK3"
expect_eq "the refusal probed the key's streams, and live ones stay: still 429" 429 "$H_STATUS"

# ---- held requests follow their credential (stream.recheck_ms, 2 s by default)
st_run
R9=$ST_RID
st_add "$R9" 1 2
RK=$($CTL key create --org stco --scopes runs:read)
# st_bg NAME CURL-ARGS...: a stream in the background into $ST/NAME, its pid in ST_BG.
st_bg() { local n=$1; shift; curl -sS -N --max-time 30 -o "$ST/$n" -w '%{http_code}' "$@" >"$ST/$n.code" & ST_BG=$!; }
# st_gone NAME PID: passes when a background stream ends within 5 s from now (its time in the name).
st_gone() {
	local t0 dt
	t0=$(date +%s%3N)
	sb_wait_for "! kill -0 $2" 8
	dt=$(( $(date +%s%3N) - t0 ))
	if ! kill -0 "$2" 2>/dev/null && [ "$dt" -le 5000 ]; then pass "$1 ($dt ms)"; else fail "$1" "still open after $dt ms"; fi
}
st_bg rk-stream -H "Authorization: Bearer $RK" "$CADDY_URL/api/v1/runs/$R9/stream"
pa=$ST_BG
st_bg rk-feed -H "Authorization: Bearer $RK" "$CADDY_URL/api/v1/stream"
pb=$ST_BG
st_bg rk-poll -H "Authorization: Bearer $RK" "$CADDY_URL/api/v1/runs/$R9/events?after=2&wait=20"
pc=$ST_BG
sb_wait_for "[ \"\$(st_ids '$ST/rk-stream')\" = '1 2' ] && grep -q '^event: feed.ready' '$ST/rk-feed'" 5
sleep 0.5
$CTL key revoke "$(printf '%s' "$RK" | cut -c4-15)" >/dev/null
st_gone "revoking a key ends its open run stream within 5 s" "$pa"
st_gone "and its org feed" "$pb"
st_gone "its held long poll is answered" "$pc"
expect_match "with 401 credential-revoked" '^401 .*"type":"[^"]*credential-revoked"' "$(cat "$ST/rk-poll.code") $(cat "$ST/rk-poll")"
http GET "$CADDY_URL/api/v1/runs/$R9/stream" -H "Authorization: Bearer $RK"
expect_eq "the EventSource's reconnect is refused (401), which ends it" 401 "$H_STATUS"
printf '%s\n' 'stream pass phrase 0123' | $CTL user add --org stco --email st-user@stco.test --role member >/dev/null
# st_login: a session of st-user; ST_COOKIE and ST_CSRF are its cookie and CSRF token.
st_login() {
	http POST "$CADDY_URL/api/v1/auth/login" -H 'Content-Type: application/json' --interface 127.0.0.77 \
		--data '{"email":"st-user@stco.test","password":"stream pass phrase 0123"}'
	ST_COOKIE=$(header set-cookie | sed -n 's/^sb_session=\([^;]*\);.*/\1/p')
	ST_CSRF=$(json_get csrf_token)
}
st_login
st_bg s-role -H "Cookie: sb_session=$ST_COOKIE" "$CADDY_URL/api/v1/runs/$R9/stream"
pd=$ST_BG
st_bg s-logout -H "Cookie: sb_session=$ST_COOKIE" "$CADDY_URL/api/v1/stream"
pe=$ST_BG
sb_wait_for "[ \"\$(st_ids '$ST/s-role')\" = '1 2' ]" 5
psql_su -c "UPDATE users SET role = 'viewer' WHERE email = 'st-user@stco.test'" >/dev/null
sleep 3
check "a role lowered to one that still reads runs keeps the stream open" kill -0 "$pd"
http POST "$CADDY_URL/api/v1/auth/logout" -H "Cookie: sb_session=$ST_COOKIE" -H "X-CSRF-Token: $ST_CSRF"
expect_eq "the session logs out" 204 "$H_STATUS"
st_gone "logging out ends the session's streams" "$pd"
st_gone "and its org feed" "$pe"
st_login
st_bg s-disable -H "Cookie: sb_session=$ST_COOKIE" "$CADDY_URL/api/v1/runs/$R9/stream"
pf=$ST_BG
sb_wait_for "[ \"\$(st_ids '$ST/s-disable')\" = '1 2' ]" 5
psql_su -c "UPDATE users SET disabled = true WHERE email = 'st-user@stco.test'" >/dev/null
st_gone "disabling the user ends its session's stream (in the database, as any tool may)" "$pf"
check "each is counted in /metrics" test "$(st_metric switchboard_stream_revoked_total)" -ge 6
# A bearer JWT ends at its exp.
stb64() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
jh=$(printf '%s' '{"alg":"HS256","typ":"JWT"}' | stb64)
jp=$(printf '{"iss":"https://idp.example","aud":"switchboard","sub":"st-jwt","org":"stco","role":"viewer","exp":%d}' $(( $(date +%s) + 3 )) | stb64)
js=$(printf '%s.%s' "$jh" "$jp" | openssl dgst -sha256 -hmac t_auth-hs256-secret-for-tests-only-0123456789 -binary | stb64)
st_bg jwt -H "Authorization: Bearer $jh.$jp.$js" "$CADDY_URL/api/v1/runs/$R9/stream"
pg=$ST_BG
sb_wait_for "[ \"\$(st_ids '$ST/jwt')\" = '1 2' ]" 3
check "a stream opened with a bearer JWT is open while it is valid" kill -0 "$pg"
st_gone "and ends once it expires (exp 3 s after it was made)" "$pg"

# ---- SIGTERM: every open stream is told to retry and ended; a restarted responder resumes
st_add "$R8" 1 1
sb_wait_for "grep -q '^id: 1' '$ST/cap25'" 5
spid=$(cat "$STATE/stream.pid")
kill -TERM "$spid"
ended=0
for p in "${caps[@]}"; do wait "$p" && ended=$((ended + 1)); done
expect_eq "on SIGTERM all 25 streams end cleanly" 25 "$ended"
check "each was told when to come back" grep -qx 'retry: 500' "$ST/cap25"
check "the responder exits" sb_wait_for "! kill -0 $spid" 10
rm -f "$STATE/stream.pid"
sb_stream_start "$STATE" "$SB_BUILD" "$SB_CONF" || fail "switchboard-stream starts again" "see $STATE/stream.log"
st_end "$R8" 2
curl "${SSE[@]}" -H 'Last-Event-ID: 1' -o "$ST/after-restart" "$CADDY_URL/api/v1/runs/$R8/stream"
expect_eq "a client resuming after the restart gets exactly what it missed" "2" "$(st_ids "$ST/after-restart")"

# ---- streams of clients that left give their places back when the cap is reached
# Caddy notices a client that left only after a few writes to it: a heartbeat (1 s here)
# alone would take 3-4 s.  A refusal at the cap probes the key's streams at once.
SK4=$($CTL key create --org stco --scopes runs:read)
st_run
R9=$ST_RID
check "25 streams of another key are open" st_open25 "$SK4" "$R9" ghost
kill "${ST_PIDS[@]}" 2>/dev/null
wait "${ST_PIDS[@]}" 2>/dev/null
probes0=$(st_metric switchboard_stream_probes_total)
http GET "$CADDY_URL/api/v1/runs/$R9/stream" -H "Authorization: Bearer $SK4"
expect_eq "25 browsers closed their tabs: the 26th stream is refused at first" 429 "$H_STATUS"
sleep 0.4
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 -H "Authorization: Bearer $SK4" \
	"$CADDY_URL/api/v1/runs/$R9/stream")
expect_eq "and 0.4 s later, the places of those that left are free again" 200 "$code"
probes1=$(st_metric switchboard_stream_probes_total)
check "switchboard_stream_probes_total counted the probe ($probes0 -> $probes1)" test "$probes1" -gt "$probes0"
