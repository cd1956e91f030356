# t_systemd.sh: the systemd units (systemd-analyze verify, hardening) and socket
# activation of switchboard-fcgi without systemd as PID 1 (systemd-socket-activate).
# Sourced by run.sh: uses SB_ROOT, SB_BUILD, STATE and lib.sh's check/expect_*/pass/fail.
# Everything it starts is stopped by its PID before it returns.

sd_src=$SB_ROOT/systemd
sd_dir=$STATE/systemd-units
sd_bin=$SB_BUILD/switchboard-fcgi

# ---------------------------------------------------------------- the unit files

# The shipped units name /usr/sbin/switchboard-fcgi, which a dev machine lacks:
# verify copies whose ExecStart=/ExecStartPre= name the binary just built.
mkdir -p "$sd_dir/bad"
cp "$sd_src/switchboard-fcgi.socket" "$sd_src/switchboard-fcgi.service" "$sd_dir/"
sed -i "s#/usr/sbin/switchboard-fcgi#$sd_bin#g" "$sd_dir/switchboard-fcgi.service"
expect_eq "systemd: ExecStart and ExecStartPre rewritten to the build" 2 \
	"$(grep -cE "^ExecStart(Pre)?=$sd_bin " "$sd_dir/switchboard-fcgi.service")"

# sd_verify FILE...: systemd-analyze verify's output lines that mention the units.
# It also loads and may complain about unrelated system units; those are ignored.
sd_verify() {
	(cd "$(dirname "$1")" && SYSTEMD_LOG_COLOR=0 SYSTEMD_PAGER=cat \
		systemd-analyze verify --man=no --generators=no "$@" 2>&1) | grep -i 'switchboard'
}

if ! command -v systemd-analyze >/dev/null 2>&1; then
	fail "systemd: systemd-analyze verify" "systemd-analyze not found (install the Debian package systemd)"
else
	sd_out=$(sd_verify "$sd_dir/switchboard-fcgi.socket" "$sd_dir/switchboard-fcgi.service")
	expect_eq "systemd: systemd-analyze verify says nothing about the units" "" "$sd_out"

	# The control: a broken copy must be reported, or the check above proves nothing
	# (systemd-analyze failing to run at all would also print nothing about the units).
	cp "$sd_dir/switchboard-fcgi.socket" "$sd_dir/switchboard-fcgi.service" "$sd_dir/bad/"
	sed -i 's/^Type=notify$/Type=notifyy/; s/^KillMode=mixed$/KillMode=mixed\nNoSuchDirective=1/' \
		"$sd_dir/bad/switchboard-fcgi.service"
	sd_out=$(sd_verify "$sd_dir/bad/switchboard-fcgi.socket" "$sd_dir/bad/switchboard-fcgi.service")
	expect_match "systemd: verify reports a bad Type= (control)" 'service type.*notifyy' "$sd_out"
	expect_match "systemd: verify reports an unknown directive (control)" \
		"Unknown key.*NoSuchDirective" "$sd_out"

	# systemd's own score of the sandbox: 0 is fully locked down, 10 is none at all.
	sd_out=$(cd "$sd_dir" && SYSTEMD_LOG_COLOR=0 systemd-analyze security --offline=yes --man=no \
		"$sd_dir/switchboard-fcgi.service" 2>&1 | sed -n 's/.*Overall exposure level for switchboard-fcgi.service: \([0-9.]*\).*/\1/p')
	if [ -n "$sd_out" ] && awk -v e="$sd_out" 'BEGIN { exit !(e <= 2.0) }'; then
		pass "systemd: security exposure $sd_out <= 2.0"
	else
		fail "systemd: security exposure <= 2.0" "got [${sd_out:-no score}]"
	fi
fi

# sd_has UNIT LINE: the unit file has exactly this line (comments never match).
# shellcheck disable=SC2317 # called through check
sd_has() { grep -qxF -- "$2" "$sd_src/$1"; }
# shellcheck disable=SC2016 # $MAINPID is meant literally
for sd_line in \
	'Type=notify' 'NotifyAccess=main' \
	'ExecStart=/usr/sbin/switchboard-fcgi -c /etc/switchboard/switchboard.conf' \
	'ExecStartPre=/usr/sbin/switchboard-fcgi -t -c /etc/switchboard/switchboard.conf' \
	'ExecReload=/bin/kill -HUP $MAINPID' \
	'KillMode=mixed' 'Restart=on-failure' \
	'Requires=switchboard-fcgi.socket' 'After=switchboard-fcgi.socket' \
	'User=switchboard' 'Group=switchboard' \
	'StandardOutput=journal' 'StandardError=journal' 'LimitNOFILE=65536' \
	'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
	'PrivateDevices=yes' 'ProtectKernelTunables=yes' 'ProtectKernelModules=yes' \
	'ProtectKernelLogs=yes' 'ProtectControlGroups=yes' \
	'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' 'RestrictNamespaces=yes' \
	'LockPersonality=yes' 'MemoryDenyWriteExecute=yes' 'RestrictRealtime=yes' \
	'SystemCallArchitectures=native' 'CapabilityBoundingSet='; do
	check "systemd: service has $sd_line" sd_has switchboard-fcgi.service "$sd_line"
done
for sd_line in 'ListenStream=/run/switchboard/fcgi.sock' 'Accept=no' 'SocketUser=switchboard' \
	'SocketGroup=www-data' 'SocketMode=0660'; do
	check "systemd: socket has $sd_line" sd_has switchboard-fcgi.socket "$sd_line"
done
check "systemd: socket has a Backlog=" grep -qE '^Backlog=[0-9]+$' "$sd_src/switchboard-fcgi.socket"
# Nothing is writable; a ReadWritePaths= must come with a reason in docs/deploy.md.
check "systemd: service has no ReadWritePaths=" \
	sh -c "! grep -qE '^(ReadWritePaths|RuntimeDirectory|StateDirectory)=' '$sd_src/switchboard-fcgi.service'"

# The stop timeout must leave the master its whole grace period (plus its last second).
sd_grace=$(sed -n '/^\[server\]/,/^\[/s/^shutdown_grace *= *\([0-9]*\).*/\1/p' "$SB_ROOT/conf/switchboard.conf.example")
sd_stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)$/\1/p' "$sd_src/switchboard-fcgi.service")
if [ -n "$sd_grace" ] && [ -n "$sd_stop" ] && [ "$sd_stop" -gt $((sd_grace + 1)) ]; then
	pass "systemd: TimeoutStopSec=$sd_stop exceeds shutdown_grace=$sd_grace"
else
	fail "systemd: TimeoutStopSec exceeds shutdown_grace" "TimeoutStopSec=[$sd_stop] shutdown_grace=[$sd_grace]"
fi
# The socket path is the same everywhere a default names it.
expect_eq "systemd: ListenStream= matches server.socket in the example config" \
	"$(sed -n '/^\[server\]/,/^\[/s/^socket *= *//p' "$SB_ROOT/conf/switchboard.conf.example")" \
	"$(sed -n 's/^ListenStream=//p' "$sd_src/switchboard-fcgi.socket")"

# The ExecStartPre= check: -t accepts the test config and refuses a broken one.
check "systemd: switchboard-fcgi -t accepts the config" \
	sh -c "'$sd_bin' -t -c '$SB_CONF' >/dev/null 2>&1"
printf '[server]\nno_such_key = 1\n' >"$STATE/bad.conf"
sd_out=$("$sd_bin" -t -c "$STATE/bad.conf" 2>&1)
sd_rc=$?
expect_eq "systemd: switchboard-fcgi -t refuses a bad config (exit 1)" 1 "$sd_rc"
expect_match "systemd: -t names the bad key" 'unknown key "no_such_key"' "$sd_out"

# ---------------------------------------------------------------- socket activation

# systemd-socket-activate listens like switchboard-fcgi.socket (Accept=no) and, on the
# first connection, execs the program with LISTEN_FDS=1 (fd 3) in its own PID.
# NOTIFY_SOCKET points at a datagram socket a small listener writes to a file, to
# see READY=1 and STOPPING=1 as systemd would.
sd_act=$STATE/sd-activate
sd_sock=$sd_act/fcgi.sock
sd_mine=$sd_act/created-by-the-program.sock
sd_notify=$sd_act/notify.sock
mkdir -p "$sd_act"
sd_ssa=$(command -v systemd-socket-activate || true)
for sd_i in /usr/lib/systemd/systemd-socket-activate /lib/systemd/systemd-socket-activate; do
	[ -z "$sd_ssa" ] && [ -x "$sd_i" ] && sd_ssa=$sd_i
done
sd_cgi=$(command -v cgi-fcgi || true)

# sd_listen SOCKET LOG: what systemd's NOTIFY_SOCKET receives, one message per line.  Run
# in the background, it is perl itself (exec), so that killing $! stops it.
sd_listen() {
	exec perl -MIO::Socket::UNIX -MSocket -e '
		my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $ARGV[0]) or die "$!\n";
		open(my $out, ">>", $ARGV[1]) or die "$!\n";
		$out->autoflush(1);
		while (1) { my $m; defined($s->recv($m, 4096)) and print $out "$m\n"; }
	' "$1" "$2"
}

# sd_fcgi URI: one FastCGI GET over the activated socket, as a web server would send it.
sd_fcgi() {
	env -i SCRIPT_FILENAME="$1" REQUEST_METHOD=GET REQUEST_URI="$1" REMOTE_ADDR=127.0.0.1 \
		timeout 20 "$sd_cgi" -bind -connect "$sd_sock" 2>&1 | tr -d '\r'
}

if [ -z "$sd_ssa" ]; then
	fail "socket activation" "systemd-socket-activate not found (install the Debian package systemd)"
elif [ -z "$sd_cgi" ]; then
	fail "socket activation" "cgi-fcgi not found (install the Debian package libfcgi-bin)"
else
	sd_listen "$sd_notify" "$sd_act/notify.log" 2>"$sd_act/notify.err" &
	sd_notify_pid=$!
	sb_wait_for "[ -S '$sd_notify' ]" 5 || fail "socket activation: notify listener" "$(cat "$sd_act/notify.err")"

	# systemd-socket-activate hands the program only the variables named by -E.
	# server.socket names a path the program must NOT create: it has to use fd 3.
	"$sd_ssa" -l "$sd_sock" -E SWITCHBOARD_CONFIG="$SB_CONF" \
		-E SWITCHBOARD_SERVER_SOCKET="$sd_mine" -E SWITCHBOARD_SERVER_WORKERS=2 \
		-E NOTIFY_SOCKET="$sd_notify" "$sd_bin" >"$sd_act/fcgi.log" 2>&1 &
	sd_pid=$!
	sb_wait_for "[ -S '$sd_sock' ]" 10 || fail "socket activation: listening socket" "$(cat "$sd_act/fcgi.log")"

	sd_out=$(sd_fcgi /healthz)
	expect_match "socket activation: /healthz answers Status: 200" '^Status: 200' "$sd_out"
	expect_match "socket activation: /healthz body" '^\{"status":"ok"\}$' "$sd_out"
	sd_ok=0
	for sd_i in 1 2 3 4 5 6 7 8; do
		sd_fcgi /api/v1/version | grep -q '^Status: 200' && sd_ok=$((sd_ok + 1))
	done
	expect_eq "socket activation: 8 more requests served" 8 "$sd_ok"
	expect_match "socket activation: used the socket it was passed" \
		'"msg":"listening on the socket systemd passed"' "$(cat "$sd_act/fcgi.log")"
	check "socket activation: created no socket of its own" test ! -e "$sd_mine"
	expect_match "socket activation: READY=1 with MAINPID of the exec'd master" \
		"MAINPID=$sd_pid" "$(grep -A3 '^READY=1' "$sd_act/notify.log" 2>/dev/null)"
	sd_kids=$(pgrep -P "$sd_pid" | tr '\n' ' ')
	sd_workers=$(ps --ppid "$sd_pid" -o pid=,comm= | awk '$2 != "sb-notifier" { print $1 }' | tr '\n' ' ')
	expect_eq "socket activation: 2 workers" 2 "$(printf '%s' "$sd_workers" | wc -w)"

	# SIGTERM to the master alone (KillMode=mixed): it stops its workers and exits 0.
	kill -TERM "$sd_pid"
	sd_rc=timeout
	for sd_i in $(seq 1 150); do
		kill -0 "$sd_pid" 2>/dev/null || { wait "$sd_pid"; sd_rc=$?; break; }
		sleep 0.1
	done
	expect_eq "socket activation: SIGTERM stops the master with exit 0" 0 "$sd_rc"
	sd_left=""
	for sd_i in $sd_kids; do kill -0 "$sd_i" 2>/dev/null && sd_left="$sd_left $sd_i"; done
	expect_eq "socket activation: no worker (nor the notifier) outlives the master" "" "$sd_left"
	check "socket activation: STOPPING=1 sent" grep -qx 'STOPPING=1' "$sd_act/notify.log"
	# The socket belongs to whoever passed it (systemd): the program must leave it.
	check "socket activation: the passed socket is left in place" test -S "$sd_sock"

	if kill -0 "$sd_pid" 2>/dev/null; then
		kill -KILL "$sd_pid" 2>/dev/null
		wait "$sd_pid" 2>/dev/null
	fi
	kill -TERM "$sd_notify_pid" 2>/dev/null
	wait "$sd_notify_pid" 2>/dev/null
fi

# ---------------------------------------------------------------- switchboard-worker

sd_wbin=$SB_BUILD/switchboard-worker
cp "$sd_src/switchboard-worker.service" "$sd_dir/"
sed -i "s#/usr/sbin/switchboard-worker#$sd_wbin#g" "$sd_dir/switchboard-worker.service"
if command -v systemd-analyze >/dev/null 2>&1; then
	expect_eq "systemd: systemd-analyze verify says nothing about the worker unit" "" \
		"$(sd_verify "$sd_dir/switchboard-worker.service")"
fi
# shellcheck disable=SC2043
for sd_line in 'Type=notify' 'NotifyAccess=main' 'WatchdogSec=30' 'KillMode=mixed' \
	'ExecStart=/usr/sbin/switchboard-worker -c /etc/switchboard/switchboard.conf' \
	'ExecStartPre=/usr/sbin/switchboard-worker -t -c /etc/switchboard/switchboard.conf' \
	'Restart=on-failure' 'User=switchboard' 'NoNewPrivileges=yes' 'ProtectSystem=strict' \
	'PrivateTmp=yes' 'PrivateDevices=yes' 'MemoryDenyWriteExecute=yes' 'CapabilityBoundingSet=' \
	'SystemCallArchitectures=native' 'RestrictNamespaces=yes'; do
	check "systemd: worker unit has $sd_line" sd_has switchboard-worker.service "$sd_line"
done
sd_wgrace=$(sed -n '/^\[worker\]/,/^\[/s/^shutdown_grace *= *\([0-9]*\).*/\1/p' "$SB_ROOT/conf/switchboard.conf.example")
sd_wstop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)$/\1/p' "$sd_src/switchboard-worker.service")
check "systemd: the worker's TimeoutStopSec=$sd_wstop exceeds worker.shutdown_grace=$sd_wgrace + 5" \
	test -n "$sd_wgrace" -a -n "$sd_wstop" -a "${sd_wstop:-0}" -gt $((${sd_wgrace:-99} + 5))
check "systemd: switchboard-worker -t accepts the config" sh -c "'$sd_wbin' -t -c '$SB_CONF' >/dev/null 2>&1"
printf '[llm]\npricing = gpt-x=1\n' >"$STATE/bad-worker.conf"
sd_out=$("$sd_wbin" -t -c "$STATE/bad-worker.conf" 2>&1)
expect_eq "systemd: switchboard-worker -t refuses a bad pricing table (exit 1)" 1 "$?"
expect_match "systemd: and says why" 'llm.pricing: "gpt-x=1" is not model=input/output' "$sd_out"

# READY=1, the watchdog pings and STOPPING=1 over NOTIFY_SOCKET, as systemd would see them.
sd_wn=$STATE/sd-worker
mkdir -p "$sd_wn"
sd_listen "$sd_wn/notify.sock" "$sd_wn/notify.log" 2>"$sd_wn/notify.err" &
sd_wn_pid=$!
sb_wait_for "[ -S '$sd_wn/notify.sock' ]" 5 || fail "worker notify listener" "$(cat "$sd_wn/notify.err")"
{ cat "$SB_CONF"; printf '\n[worker]\nmetrics_listen =\nshutdown_grace = 1\n'; } >"$sd_wn/worker.conf"
NOTIFY_SOCKET=$sd_wn/notify.sock WATCHDOG_USEC=400000 "$sd_wbin" -c "$sd_wn/worker.conf" \
	>"$sd_wn/worker.log" 2>&1 &
sd_wpid=$!
check "systemd: the worker sends READY=1" sb_wait_for "grep -qx 'READY=1' '$sd_wn/notify.log'" 5
check "systemd: and pings the watchdog (WATCHDOG_USEC=400000)" \
	sb_wait_for "[ \$(grep -cx 'WATCHDOG=1' '$sd_wn/notify.log') -ge 3 ]" 5
kill -TERM "$sd_wpid"
sd_rc=timeout
for sd_i in $(seq 1 100); do
	kill -0 "$sd_wpid" 2>/dev/null || { wait "$sd_wpid"; sd_rc=$?; break; }
	sleep 0.1
done
expect_eq "systemd: SIGTERM stops an idle worker with exit 0" 0 "$sd_rc"
check "systemd: the worker sent STOPPING=1" grep -qx 'STOPPING=1' "$sd_wn/notify.log"
kill -0 "$sd_wpid" 2>/dev/null && { kill -KILL "$sd_wpid"; wait "$sd_wpid" 2>/dev/null; }
kill -TERM "$sd_wn_pid" 2>/dev/null
wait "$sd_wn_pid" 2>/dev/null
# The listeners stop with their pids (they once outlived the suite as orphans).
check "systemd: the NOTIFY_SOCKET listeners this test started are gone" \
	sb_wait_for "! pgrep -f '$STATE/sd-[a-z]*/notify.sock' >/dev/null" 5

# ---------------------------------------------------------------- switchboard-stream

sd_sbin=$SB_BUILD/switchboard-stream
cp "$sd_src/switchboard-stream.socket" "$sd_src/switchboard-stream.service" "$sd_dir/"
sed -i "s#/usr/sbin/switchboard-stream#$sd_sbin#g" "$sd_dir/switchboard-stream.service"
if command -v systemd-analyze >/dev/null 2>&1; then
	expect_eq "systemd: systemd-analyze verify says nothing about the stream units" "" \
		"$(sd_verify "$sd_dir/switchboard-stream.socket" "$sd_dir/switchboard-stream.service")"
fi
for sd_line in 'Type=notify' 'Requires=switchboard-stream.socket' 'LimitNOFILE=131072' \
	'NoNewPrivileges=yes' 'ProtectSystem=strict' 'MemoryDenyWriteExecute=yes'; do
	check "systemd: stream unit has $sd_line" sd_has switchboard-stream.service "$sd_line"
done
expect_eq "systemd: the stream socket is stream.socket's default in the example config" \
	"$(sed -n '/^\[stream\]/,/^\[/s/^socket *= *//p' "$SB_ROOT/conf/switchboard.conf.example")" \
	"$(sed -n 's/^ListenStream=//p' "$sd_src/switchboard-stream.socket")"
sd_smax=$(sed -n '/^\[stream\]/,/^\[/s/^max_streams *= *//p' "$SB_ROOT/conf/switchboard.conf.example")
check "systemd: LimitNOFILE leaves room for stream.max_streams ($sd_smax)" test "${sd_smax:-999999}" -lt 131072
check "systemd: switchboard-stream -t accepts the config" sh -c "'$sd_sbin' -t -c '$SB_CONF' >/dev/null 2>&1"
unset -f sd_verify sd_has sd_fcgi sd_listen
true
