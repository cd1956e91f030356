# t_live.sh: live progress through the real programs: Caddy -> switchboard-fcgi ->
# PostgreSQL -> switchboard-worker (builtin provider) -> its NOTIFY -> switchboard-stream
# -> Caddy -> the client.  switchboard-stream runs with a one-minute sweep here, so an
# event can only arrive quickly if the worker's wake-up reached it; and a failed
# statement in the worker is logged with its SQL state and counted.

LV=$STATE/worker/live
mkdir -p "$LV"
sb_free_port LV_M
$CTL agents import "$SB_ROOT/conf/agents" >/dev/null
$CTL org add lvco >/dev/null
LK=$($CTL key create --org lvco --scopes runs:write,runs:read)
lv_metric() { curl -fsS "$1" | awk -v m="$2" '$1 == m { print $2 }'; }
STREAM_M=http://127.0.0.1:$STREAM_METRICS_PORT/metrics

# switchboard-stream again, with the sweep out of the way.
sb_stop_pidfile "$STATE/stream.pid" 10
SWITCHBOARD_STREAM_SWEEP_MS=60000 sb_stream_start "$STATE" "$SB_BUILD" "$SB_CONF" ||
	fail "switchboard-stream starts with sweep_ms = 60000" "see $STATE/stream.log"
{
	cat "$SB_CONF"
	printf '\n[worker]\nname = live\nmetrics_listen = 127.0.0.1:%s\nflush_ms = 20\ndelta_ms = 50\n' "$LV_M"
	printf 'shutdown_grace = 1\n\n[llm]\nbuiltin_tokens_per_s = 40\n'
} >"$LV/worker.conf"
sb_spawn "worker live" "$LV/worker.pid" "$LV/worker.log" "curl -fsS 127.0.0.1:$LV_M/metrics" 10 \
	"$SB_BUILD/switchboard-worker" -c "$LV/worker.conf" || fail "the worker starts" "see $LV/worker.log"

# lv_run NAME: creates a run of the builtin summarizer; LV_RID is its id.
lv_run() {
	LV_RID=$(curl -s -H "Authorization: Bearer $LK" -H 'Content-Type: application/json' \
		--data "{\"agent\":\"summarizer\",\"input\":\"Live progress $1: the meeting moved to Tuesday.\"}" \
		"$CADDY_URL/api/v1/runs" | sed -n 's/^{"id":"\([0-9a-f-]\{36\}\)".*/\1/p')
}
# lv_watch NAME: a run, streamed through Caddy, each line stamped with its arrival (ms).
lv_watch() {
	lv_run "$1"
	curl -sS -N --max-time 30 -H "Authorization: Bearer $LK" "$CADDY_URL/api/v1/runs/$LV_RID/stream" |
		while IFS= read -r line; do printf '%s %s\n' "$(date +%s%3N)" "$line"; done >"$LV/$1.sse"
}
# lv_lags NAME: for every event of the run, its arrival minus its commit, in ms, sorted.
lv_lags() {
	psql_su -F ' ' -c "SELECT seq, (extract(epoch FROM created_at) * 1000)::bigint FROM run_events
	                   WHERE run_id = '$LV_RID'" >"$LV/$1.db"
	awk 'NR == FNR { at[$1] = $2; next } $2 == "id:" { id = $3; sub(/\r$/, "", id); if (id in at) print $1 - at[id] }' \
		"$LV/$1.db" "$LV/$1.sse" | sort -n
}
# lv_lag_of NAME SEQ: the lag of one event, in ms (empty if it did not arrive).
lv_lag_of() {
	awk -v s="$2" '$2 == "id:" { id = $3; sub(/\r$/, "", id); if (id == s) { print $1; exit } }' "$LV/$1.sse" |
		while read -r at; do
			echo $(( at - $(psql_su -c "SELECT (extract(epoch FROM created_at) * 1000)::bigint
			                            FROM run_events WHERE run_id = '$LV_RID' AND seq = $2") ))
		done
}

# ---- events reach a stream from the real worker well under the sweep
n0=$(lv_metric "$STREAM_M" switchboard_stream_notifications_total)
d0=$(lv_metric "$STREAM_M" switchboard_stream_notify_delay_seconds_count)
r0=$(lv_metric "$STREAM_M" switchboard_stream_read_seconds_count)
lv_watch a
lags=$(lv_lags a)
count=$(printf '%s\n' "$lags" | grep -c .)
check "the run's stream delivered its events and ended (30 s at most)" \
	test "$count" -ge 5 -a "$(grep -c '"type":"run.succeeded"\|^[0-9]* event: run.succeeded' "$LV/a.sse")" -ge 1
max=$(printf '%s\n' "$lags" | tail -n 1)
p50=$(printf '%s\n' "$lags" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
check "every event arrives well under the sweep interval (max ${max:-none} ms, p50 ${p50:-none} ms)" \
	test -n "$max" -a "${max:-99999}" -lt 1000
check "the stream responder was woken by the worker's NOTIFY" \
	test "$(lv_metric "$STREAM_M" switchboard_stream_notifications_total)" -gt "${n0:-0}"
d1=$(lv_metric "$STREAM_M" switchboard_stream_notify_delay_seconds_count)
check "the responder times notification -> events handed over ($((${d1:-0} - ${d0:-0})) times)" \
	test "${d1:-0}" -gt "${d0:-0}"
dsum=$(lv_metric "$STREAM_M" switchboard_stream_notify_delay_seconds_sum)
check "under a second on average here (${dsum:-none} s over ${d1:-0})" \
	awk -v s="${dsum:-x}" -v n="${d1:-0}" 'BEGIN { exit !(s ~ /^[0-9.e+-]+$/ && n > 0 && s / n < 1) }'
check "and its reads of new events" test "$(lv_metric "$STREAM_M" switchboard_stream_read_seconds_count)" -gt "${r0:-0}"
check "the worker counts the NOTIFYs it sent" test "$(lv_metric "127.0.0.1:$LV_M/metrics" switchboard_worker_notifies_total)" -gt 0
expect_eq "and no statement of the worker failed" 0 "$(lv_metric "127.0.0.1:$LV_M/metrics" switchboard_worker_db_errors_total)"

# ---- run.started, written by the claim, is announced by the claim (not by the next
# flush, here a second later): the stream is open before a slow worker claims the run
sb_stop_pidfile "$LV/worker.pid" 10
sed -e 's/^builtin_tokens_per_s = .*/builtin_tokens_per_s = 1/' -e 's/^flush_ms = .*/flush_ms = 1000/' "$LV/worker.conf" >"$LV/slow.conf"
lv_run c
curl -sS -N --max-time 30 -H "Authorization: Bearer $LK" "$CADDY_URL/api/v1/runs/$LV_RID/stream" |
	while IFS= read -r line; do printf '%s %s\n' "$(date +%s%3N)" "$line"; done >"$LV/c.sse" &
lvp=$!
sb_wait_for "grep -q 'retry:' '$LV/c.sse'" 5
sb_spawn "worker live" "$LV/worker.pid" "$LV/worker.log" "curl -fsS 127.0.0.1:$LV_M/metrics" 10 \
	"$SB_BUILD/switchboard-worker" -c "$LV/slow.conf" || fail "the slow worker starts" "see $LV/worker.log"
sb_wait_for "grep -q 'event: run.started' '$LV/c.sse'" 10
sleep 0.3
kill "$lvp" 2>/dev/null; wait "$lvp" 2>/dev/null
lag=$(lv_lag_of c 1)
check "run.started reaches an open stream at once (${lag:-none} ms after its commit)" test -n "$lag" -a "${lag:-9999}" -lt 500
sb_stop_pidfile "$LV/worker.pid" 10
sb_spawn "worker live" "$LV/worker.pid" "$LV/worker.log" "curl -fsS 127.0.0.1:$LV_M/metrics" 10 \
	"$SB_BUILD/switchboard-worker" -c "$LV/worker.conf" || fail "the worker starts again" "see $LV/worker.log"

# ---- a statement the database refuses is logged with its SQL state and counted
psql_su -c "REVOKE EXECUTE ON FUNCTION pg_notify(text, text) FROM PUBLIC" >/dev/null
lv_run b
check "a run ends while NOTIFY is refused" sb_wait_for \
	"[ \"\$(psql_su -c \"SELECT state FROM runs WHERE id = '$LV_RID'\")\" = succeeded ]" 20
psql_su -c "GRANT EXECUTE ON FUNCTION pg_notify(text, text) TO PUBLIC" >/dev/null
check "with its NOTIFY refused, the worker counts the failures in /metrics" \
	test "$(lv_metric "127.0.0.1:$LV_M/metrics" switchboard_worker_db_errors_total)" -gt 0
expect_match "and logs each as a warning with its SQL state" \
	'"level":"warn".*"msg":"database statement failed".*"statement":"queue_notify_events".*"sqlstate":"42501"' \
	"$(grep queue_notify_events "$LV/worker.log" | head -n 1)"

sb_stop_pidfile "$LV/worker.pid" 10
sb_stop_pidfile "$STATE/stream.pid" 10
sb_stream_start "$STATE" "$SB_BUILD" "$SB_CONF" || fail "switchboard-stream starts again" "see $STATE/stream.log"
