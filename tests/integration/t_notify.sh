# t_notify.sh: the wake-up path to switchboard-worker: after a run commits, the notifier
# sends NOTIFY switchboard_queue, coalesced, outside the transaction; it is respawned,
# replaced on reload, reconnects, and stops with the master.

NT=$STATE/notify
mkdir -p "$NT"
NT_MASTER=$(cat "$STATE/fcgi.pid")
$CTL org add notifyco >/dev/null
$CTL agents import "$SB_ROOT/conf/agents" >/dev/null
NT_KEY=$($CTL key create --org notifyco --scopes runs:write,runs:read)
NT_BURST_KEY=$($CTL key create --org notifyco --scopes runs:write)
# The listener connects as the superuser: its count of runs sees every org's rows.
NT_PGURL=$(sb_pg_url "$STATE" "$PG_PORT" postgres)
nt_psql() { sb_as_pg "$(sb_pg_bindir)/psql" -h "$STATE/pg/run" -p "$PG_PORT" -U postgres -d switchboard -qAtX -c "$1"; }
NT_ORG=$(nt_psql "SELECT id FROM orgs WHERE slug = 'notifyco'")
nt_metric() { curl -s "$CADDY_URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
# The live notifier child of master $1 (zombies excluded), and its workers.
nt_notifier() { ps --ppid "$1" -o pid=,stat=,comm= | awk '$2 !~ /^Z/ && $3 == "sb-notifier" { print $1 }'; }
nt_workers() { ps --ppid "$1" -o pid=,stat=,comm= | awk '$2 !~ /^Z/ && $3 != "sb-notifier" { print $1 }'; }
nt_now() { printf '%s\n' "${EPOCHREALTIME//[.,]/}"; }
# nt_listen NAME SECONDS [sb-listencheck options]: a listener in the background (NT_LPID),
# its lines in $NT/NAME: "<realtime us> <monotonic us> switchboard_queue <pid> [count]".
nt_listen() {
	local name=$1 secs=$2
	shift 2
	"$SB_BUILD/sb-listencheck" -t "$secs" "$@" "$NT_PGURL" switchboard_queue >"$NT/$name" 2>&1 &
	NT_LPID=$!
	sb_wait_for "grep -q '^listening' '$NT/$name'" 10
}
nt_stop_listener() { kill -TERM "$NT_LPID" 2>/dev/null; wait "$NT_LPID" 2>/dev/null; }
nt_arrivals() { awk '$3 == "switchboard_queue" { print $1 }' "$NT/$1"; }
# nt_post BODY [curl args]: creates a run; sets NT_STATUS, NT_T0 and NT_T1 (realtime us
# just before the request and just after its answer) and NT_HEAD (the answer's headers).
nt_post() {
	local body=$1
	shift
	NT_T0=$(nt_now)
	NT_STATUS=$(curl -s -o "$NT/body" -D "$NT/head" -w '%{http_code}' --max-time 20 \
		-H "Authorization: Bearer $NT_KEY" -H 'Content-Type: application/json' "$@" \
		--data "$body" "$CADDY_URL/api/v1/runs")
	NT_T1=$(nt_now)
	NT_HEAD=$(tr -d '\r' <"$NT/head" | tr 'A-Z' 'a-z')
}
# nt_one_run WHAT: one run while listening; checks that its NOTIFY came within 100 ms of
# the answer and sets NT_LAT_MS (arrival minus answer; negative: before curl had it).
nt_one_run() {
	local arr
	nt_listen "$1" 5 -n 1
	nt_post '{"agent":"summarizer","input":"wake up"}'
	wait "$NT_LPID"
	arr=$(nt_arrivals "$1" | head -n 1)
	NT_LAT_MS=$(awk -v a="${arr:-0}" -v b="$NT_T1" 'BEGIN { printf "%.2f", (a - b) / 1000 }')
	check "$2: 202 and a NOTIFY within 100 ms of the answer (${NT_LAT_MS} ms)" \
		test "$NT_STATUS" = 202 -a -n "$arr" -a "${arr:-0}" -lt $((NT_T1 + 100000))
}

# --- one notifier per master, not a worker, without the FastCGI socket
NT_PID=$(nt_notifier "$NT_MASTER")
expect_eq "the master runs one notifier" 1 "$(printf '%s' "$NT_PID" | grep -c .)"
expect_eq "it is not counted as a worker (switchboard_workers)" "$(nt_workers "$NT_MASTER" | grep -c .)" \
	"$(nt_metric switchboard_workers)"
# Which processes hold the listening socket, one "pid=N" per line.
holders=$(ss -xlpH 2>/dev/null | grep -F "$SOCK " | tr ',' '\n' | grep '^pid=')
nt_holds() { printf '%s\n' "$holders" | grep -qx "pid=$1"; }
check "the FastCGI socket is held by the master" nt_holds "$NT_MASTER"
check "and by the workers" nt_holds "$(nt_workers "$NT_MASTER" | head -n 1)"
check "but not by the notifier" test -n "$NT_PID" -a -z "$(printf '%s\n' "$holders" | grep -x "pid=$NT_PID")"
# The wake-up pipe: the one the notifier reads.  The notifier holds only its read end,
# a worker only its write end.
wake=$(ls -l "/proc/$NT_PID/fd" 2>/dev/null | awk '$NF ~ /^pipe:/ && $1 ~ /^lr/ { print $NF }')
nt_ends() { ls -l "/proc/$1/fd" 2>/dev/null | awk -v p="$wake" '$NF == p { print substr($1, 2, 3) }' | sort | tr '\n' ' '; }
expect_eq "the notifier reads one pipe" 1 "$(printf '%s' "$wake" | grep -c .)"
expect_eq "it holds only that pipe's read end, a worker only its write end" "r-x | -wx " \
	"$(nt_ends "$NT_PID")| $(nt_ends "$(nt_workers "$NT_MASTER" | head -n 1)")"

# --- (a) one run: one NOTIFY, within 100 ms of the answer
nt_one_run one "one run"
# Twenty runs one after another: each gets exactly its own NOTIFY.
# The listener reads, per NOTIFY, ms since the newest run's transaction began: an upper
# bound on the time from its commit to the NOTIFY's arrival.
nt_listen seq 30 -n 20 -q "SELECT round(extract(epoch FROM clock_timestamp() - max(created_at)) * 1000, 3) FROM runs WHERE org_id = $NT_ORG"
: >"$NT/seq.posts"
for i in $(seq 1 20); do
	nt_post '{"agent":"summarizer","input":"one of twenty"}'
	echo "$NT_STATUS $NT_T0 $NT_T1" >>"$NT/seq.posts"
	sleep 0.05
done
wait "$NT_LPID"
nt_arrivals seq >"$NT/seq.arrivals"
NT_P50_TX=$(awk '$3 == "switchboard_queue" { print $5 }' "$NT/seq" | sort -n | sed -n 10p)
expect_eq "twenty runs apart: twenty 202s and twenty NOTIFYs" "20 20" \
	"$(grep -c '^202 ' "$NT/seq.posts") $(grep -c . "$NT/seq.arrivals")"
# Per run: ms from the request's start, and from its answer, to its NOTIFY.
paste -d ' ' "$NT/seq.posts" "$NT/seq.arrivals" |
	awk '{ printf "%.3f %.3f\n", ($4 - $2) / 1000, ($4 - $3) / 1000 }' >"$NT/seq.lat"
NT_P50_START=$(cut -d ' ' -f 1 "$NT/seq.lat" | sort -n | sed -n 10p)
NT_P50_ANSWER=$(cut -d ' ' -f 2 "$NT/seq.lat" | sort -n | sed -n 10p)
NT_MAX_ANSWER=$(cut -d ' ' -f 2 "$NT/seq.lat" | sort -n | tail -n 1)
check "each NOTIFY within 100 ms of its answer (p50 ${NT_P50_ANSWER} ms after the answer, ${NT_P50_TX} ms after its transaction began, ${NT_P50_START} ms after curl started; max ${NT_MAX_ANSWER} ms after the answer)" \
	awk -v m="$NT_MAX_ANSWER" 'BEGIN { exit !(m != "" && m < 100) }'
check "each NOTIFY came after its own request started" awk '$1 <= 0 { bad = 1 } END { exit bad }' "$NT/seq.lat"

# --- (b) a burst: 200 runs from 32 concurrent clients, fewer NOTIFYs, none lost
n0=$(nt_psql "SELECT count(*) FROM runs WHERE org_id = $NT_ORG")
wake0=$(nt_metric switchboard_queue_wakeups_total)
sent0=$(nt_metric switchboard_queue_notify_total)
# After each NOTIFY the listener counts this org's runs: a run committed before the
# NOTIFY was sent is in that count.
nt_listen burst 60 -q "SELECT count(*) FROM runs WHERE org_id = $NT_ORG"
out=$("$SB_BUILD/sb-hammer" -n 200 -c 32 -d 60 -H "Authorization: Bearer $NT_BURST_KEY" \
	-H 'Content-Type: application/json' -b '{"agent":"summarizer","input":"burst"}' \
	"$CADDY_URL/api/v1/runs")
sleep 0.5
nt_stop_listener
expect_match "the burst: 200 runs created" '^requests 200 ok 200 failed 0 ' "$out"
nb=$(grep -c ' switchboard_queue ' "$NT/burst")
check "the burst sent at least one NOTIFY and fewer than runs ($nb for 200)" test "$nb" -ge 1 -a "$nb" -lt 200
expect_eq "no wake-up lost: after the last NOTIFY the listener saw every run of the burst" \
	$((n0 + 200)) "$(awk '$3 == "switchboard_queue" { c = $5 } END { print c }' "$NT/burst")"
expect_eq "switchboard_queue_notify_total counted the NOTIFYs the listener got" \
	$((sent0 + nb)) "$(nt_metric switchboard_queue_notify_total)"
wakes=$(( $(nt_metric switchboard_queue_wakeups_total) - wake0 ))
check "switchboard_queue_wakeups_total counted between $nb and 200 wake-ups ($wakes)" \
	test "$wakes" -ge "$nb" -a "$wakes" -le 200
# At most one NOTIFY a millisecond: n of them span at least n - 1 ms as sent; arrival
# times may bunch by a few ms.
span=$(awk '$3 == "switchboard_queue" { if (f == "") f = $2; l = $2 } END { printf "%d", (l - f) / 1000 }' "$NT/burst")
check "at most one NOTIFY per millisecond ($nb over ${span} ms)" test "$nb" -le $((span + 10))

# Only the last commit of a burst shows a lost wake-up, so: fifty small bursts of four
# concurrent runs, whose commits often fall while a NOTIFY is on its way.  Before the
# next burst starts, a NOTIFY must have come after all four were committed.
n0=$(nt_psql "SELECT count(*) FROM runs WHERE org_id = $NT_ORG")
nt_listen bursts 120 -q "SELECT count(*) FROM runs WHERE org_id = $NT_ORG"
: >"$NT/bursts.rounds"
for k in $(seq 0 50); do
	# when burst k+1 starts, and how many runs the bursts before it made
	echo "$(nt_now) $((n0 + 4 * k))" >>"$NT/bursts.rounds"
	[ "$k" = 50 ] && break
	"$SB_BUILD/sb-hammer" -n 4 -c 4 -d 20 -H "Authorization: Bearer $NT_BURST_KEY" \
		-H 'Content-Type: application/json' -b '{"agent":"summarizer","input":"small burst"}' \
		"$CADDY_URL/api/v1/runs" >>"$NT/bursts.hammer"
	sleep 0.03
done
nt_stop_listener
expect_eq "fifty bursts of four: 200 runs created" "$((n0 + 200))" \
	"$(nt_psql "SELECT count(*) FROM runs WHERE org_id = $NT_ORG")"
# Per burst: the most runs a NOTIFY saw before the next burst began; "k seen want" if short.
short=$(awk 'NR == FNR { if ($3 == "switchboard_queue") { t[++n] = $1; c[n] = $5 } next }
	FNR > 1 { m = 0; for (i = 1; i <= n; i++) if (t[i] < $1 && c[i] > m) m = c[i]
		if (m != $2) printf "%d:%d/%d ", FNR - 1, m, $2 }' "$NT/bursts" "$NT/bursts.rounds")
expect_eq "no wake-up lost in any of them: each got a NOTIFY after its last commit" "" "$short"

# --- (c) a replayed Idempotency-Key creates nothing, so it wakes nothing
wake0=$(nt_metric switchboard_queue_wakeups_total)
nt_post '{"agent":"summarizer","input":"once"}' -H 'Idempotency-Key: nt-once'
sleep 0.1
wake1=$(nt_metric switchboard_queue_wakeups_total)
expect_eq "a new run with an Idempotency-Key wakes the notifier once" "202 $((wake0 + 1))" "$NT_STATUS $wake1"
nt_listen replay 1
nt_post '{"agent":"summarizer","input":"once"}' -H 'Idempotency-Key: nt-once'
wait "$NT_LPID"
expect_eq "the replay is answered as one" "202 idempotent-replayed: true" \
	"$NT_STATUS $(printf '%s\n' "$NT_HEAD" | grep '^idempotent-replayed:')"
expect_eq "the replay moves no wake-up counter" "$wake1" "$(nt_metric switchboard_queue_wakeups_total)"
expect_eq "and sends no NOTIFY" "total 0" "$(tail -n 1 "$NT/replay")"

# --- (d) kill -9 of the notifier: respawned, not counted as a worker crash, runs still notify
crash0=$(nt_metric 'switchboard_worker_restarts_total{reason="crash"}')
old=$(nt_notifier "$NT_MASTER")
started=$(grep -c '"msg":"notifier started"' "$STATE/fcgi.log")
kill -KILL "$old"
check "a killed notifier is respawned" \
	sb_wait_for '[ -n "$(nt_notifier "$NT_MASTER")" ] && [ "$(nt_notifier "$NT_MASTER")" != '"$old"' ]' 10
check "and its death logged" grep -q "\"msg\":\"notifier died\",\"pid\":$old," "$STATE/fcgi.log"
expect_eq "it is no worker crash in /metrics" "$crash0" "$(nt_metric 'switchboard_worker_restarts_total{reason="crash"}')"
sb_wait_for "[ \$(grep -c '\"msg\":\"notifier started\"' '$STATE/fcgi.log') -gt $started ]" 5
nt_one_run respawned "after the respawn"

# --- SIGHUP: the notifier is replaced cleanly (new configuration), and runs still notify
old=$(nt_notifier "$NT_MASTER")
started=$(grep -c '"msg":"notifier started"' "$STATE/fcgi.log")
kill -HUP "$NT_MASTER"
check "a reload replaces the notifier" \
	sb_wait_for '[ -n "$(nt_notifier "$NT_MASTER")" ] && [ "$(nt_notifier "$NT_MASTER")" != '"$old"' ]' 10
sb_wait_for "[ \$(grep -c '\"msg\":\"notifier started\"' '$STATE/fcgi.log') -gt $started ]" 5
check "without calling it a death" bash -c "! grep -q '\"msg\":\"notifier died\",\"pid\":$old,' '$STATE/fcgi.log'"
sb_wait_for '[ "$(nt_workers "$NT_MASTER" | grep -c .)" = 4 ]' 10
nt_one_run reloaded "after a reload"

# --- PostgreSQL restarts: the notifier reconnects by itself
sb_pg_stop "$STATE"
sb_pg_start "$STATE" "$PG_PORT" >/dev/null
sb_wait_for '[ "$(curl -s -o /dev/null -w "%{http_code}" "$CADDY_URL/readyz")" = 200 ]' 15
sleep 1.1	# every worker may try its connection again
nt_one_run pgrestart "after PostgreSQL restarted"

# --- (e) SIGTERM: the master stops its notifier too, last, and leaves no process behind
mkdir -p "$STATE/run-nt"
sed "s#$STATE/run/fcgi.sock#$STATE/run-nt/fcgi.sock#" "$SB_CONF" >"$NT/second.conf"
"$SB_BUILD/switchboard-fcgi" -c "$NT/second.conf" >>"$NT/second.log" 2>&1 &
second=$!
sb_wait_for "[ -S '$STATE/run-nt/fcgi.sock' ] && [ -n \"\$(nt_notifier $second)\" ]" 10
snot=$(nt_notifier "$second")
kids=$(ps --ppid "$second" -o pid= | tr -d ' ' | tr '\n' ' ')
check "the second instance runs a notifier" test -n "$snot"
sb_wait_for "grep -q '\"msg\":\"notifier started\"' '$NT/second.log'" 5
kill -TERM "$second"
wait "$second"
expect_eq "SIGTERM stops the master with exit status 0" 0 "$?"
left=""
for p in $kids; do
	[ -d "/proc/$p" ] && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null && left="$left $p"
done
expect_eq "no process of it is left, the notifier included ($kids)" "" "$left"
check "the notifier stopped cleanly, before the master" \
	awk '/"msg":"notifier stopped"/ { n = NR } /"msg":"stopped"/ { s = NR } END { exit !(n > 0 && s > n) }' "$NT/second.log"
