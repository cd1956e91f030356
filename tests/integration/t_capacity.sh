# t_capacity.sh: 600 idle event streams of one run through Apache, and 600 through Caddy,
# and one event reaches every one of them.  Apache holds a thread for each open stream:
# with its compiled MPM defaults it holds 400 (Debian's mpm_event.conf, 150), and stream
# 401 waits in the backlog; the shipped conf/apache2/switchboard-mpm.conf, which
# sb_apache_start includes, holds 1,250.  bench/sse-client holds the streams.

CP=$STATE/capacity
CP_N=600
mkdir -p "$CP"
$CTL agents import "$SB_ROOT/conf/agents" >/dev/null
$CTL org add capco >/dev/null
CPK=$($CTL key create --org capco --scopes runs:write,runs:read)
# cp_run: a queued run of org capco (no worker runs here); CP_RID is its id.
cp_run() {
	CP_RID=$(curl -s -H "Authorization: Bearer $CPK" -H 'Content-Type: application/json' \
		--data '{"agent":"summarizer","input":"capacity test"}' "$CADDY_URL/api/v1/runs" |
		sed -n 's/^{"id":"\([0-9a-f-]\{36\}\)".*/\1/p')
}
# cp_nofile PID: the soft limit of its open files.
cp_nofile() { awk '/^Max open files/ { print $4 }' "/proc/$1/limits"; }
# cp_enough NAME PID WANT: PID may open WANT files (Caddy does not raise its own limit).
cp_enough() {
	local n
	n=$(cp_nofile "$2")
	if [ "$n" = unlimited ] || [ "${n:-0}" -ge "$3" ]; then
		pass "$1 may open $3 files (limit $n)"
	else
		fail "$1 may open $3 files" "its limit is $n: raise ulimit -n where the suite starts"
	fi
}

# cp_front NAME URL: CP_N streams of a new run through the web server at URL, then one
# event to the run; every stream must have it.
cp_front() {
	local name=$1 port=${2##*:} out=$CP/$1.out cpid status
	cp_run
	check "$name: a run to watch" test -n "$CP_RID"
	echo "/api/v1/runs/$CP_RID/stream" >"$CP/$name.paths"
	"$CP_CLIENT" connect "$port" "$CPK" "$CP_N" "$CP/$name.paths" >"$out" 2>"$CP/$name.err" &
	cpid=$!
	if sb_wait_for "grep -q '^ready ' '$out'" 20; then
		expect_eq "$name: $CP_N idle streams of one run are open" \
			"ready open $CP_N failed 0" "$(grep '^ready ' "$out" | cut -d' ' -f1-5)"
	else
		kill -USR1 "$cpid"
		sleep 0.5
		fail "$name: $CP_N idle streams of one run are open" \
			"after 20 s, $(grep '^status ' "$out" | tail -n 1); the others wait $(head -n 1 "$CP/$name.err")"
	fi
	psql_su -c "INSERT INTO run_events (run_id, seq, org_id, attempt, type, data)
	            SELECT id, 1, org_id, 1, 'message.delta', '{\"text\": \"to everyone\"}' FROM runs WHERE id = '$CP_RID';
	            NOTIFY switchboard_events, '$CP_RID'" >/dev/null
	sb_wait_for "grep -q '^all 1 ' '$out'" 10
	kill -TERM "$cpid"
	wait "$cpid"
	status=$?
	expect_eq "$name: one event reaches every one of them" \
		"0 open $CP_N closed 0 failed 0 events $CP_N" \
		"$status $(sed -n 's/^summary streams [0-9]* \(open [0-9]* closed [0-9]* failed [0-9]* events [0-9]*\).*/\1/p' "$out")"
}

if (cd "$SB_BUILD" && make bench/sse-client >"$CP/make.out" 2>&1); then
	CP_CLIENT=$SB_BUILD/bench/sse-client
	# One descriptor per stream in switchboard-stream (which raises its own limit) and
	# the client (which does too), two in Caddy and in each Apache child (a child holds at
	# most ThreadsPerChild streams, 250).
	cp_enough "Caddy" "$(cat "$STATE/caddy.pid")" $((2 * CP_N + 100))
	cp_enough "Apache" "$(cat "$STATE/apache/httpd.pid")" 600
	# switchboard-stream again, with room for CP_N streams of one key (and those of the
	# first front still being let go of while the second opens).
	sb_stop_pidfile "$STATE/stream.pid" 10
	SWITCHBOARD_STREAM_MAX_PER_USER=$((2 * CP_N + 50)) sb_stream_start "$STATE" "$SB_BUILD" "$SB_CONF" ||
		fail "switchboard-stream starts with max_per_user $((2 * CP_N + 50))" "see $STATE/stream.log"
	cp_err0=$(wc -l <"$STATE/apache/error.log")
	cp_front apache "$APACHE_URL"
	expect_eq "apache: its error log does not say it reached MaxRequestWorkers (AH00484)" "" \
		"$(tail -n +$((cp_err0 + 1)) "$STATE/apache/error.log" | grep -m 1 AH00484)"
	cp_front caddy "$CADDY_URL"
	# Back to the suite's configuration; the streams still held end with the restart.
	sb_stop_pidfile "$STATE/stream.pid" 10
	sb_stream_start "$STATE" "$SB_BUILD" "$SB_CONF" || fail "switchboard-stream starts again" "see $STATE/stream.log"
else
	fail "bench/sse-client builds" "see $CP/make.out"
fi
