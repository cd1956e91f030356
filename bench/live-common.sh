# live-common.sh: what bench/live and bench/tools share, sourced by both after
# scripts/services.sh.  The stack (PostgreSQL with commit timestamps, memcached,
# switchboard-fcgi, switchboard-stream, Caddy with the shipped Caddyfile, the real
# switchboard-worker), the closed-loop clients (bench/sse-client live: each creates a
# run through Caddy, streams it to its end, creates the next), the window over which
# CPU is counted, and the join of every event's commit with its arrival at a client.
# The caller sets NAME (bench/NAME), STATE (its directory under var/) and defines say,
# and the knobs RUNS, RAMP, SETTLE and INFLIGHT; every process is stopped by its PID.
# Its variables are the caller's: it sets them for it and reads those it sets.
# shellcheck shell=bash disable=SC2034,SC2153

HZ=$(getconf CLK_TCK)
PSQL="$(sb_pg_bindir)/psql"
GRACE=2		# s between the end of the window and the clients' stop

die() { sb_log "bench/$NAME: $*"; exit 1; }

# live_stop_all [PIDFILE...]: the clients, the worker, the PIDFILEs given (the bench's
# own processes: responders before Caddy, which waits for the streams it proxies), then
# the stack.  Safe to call twice, and from the EXIT trap however the bench ends.
live_stop_all() {
	local f
	sb_stop_pidfile "$STATE/client.pid" 30
	sb_stop_pidfile "$STATE/worker.pid" 20
	for f in "$@"; do
		sb_stop_pidfile "$f" 5
	done
	sb_stop_pidfile "$STATE/stream.pid" 15
	sb_stop_pidfile "$STATE/fcgi.pid" 15
	for f in "$STATE"/caddy-*/caddy.pid; do
		[ -f "$f" ] && sb_stop_pidfile "$f" 10
	done
	sb_stop_pidfile "$STATE/memcached.pid" 5
	[ -d "$STATE/pg" ] && sb_pg_stop "$STATE"
	return 0
}

# live_prepare MAKE-TARGET...: descriptors for RUNS streams, the packages, the build
# (configure's default flags, var/build/bench) with the TARGETs (bench/sse-client),
# a clean STATE, free ports; sets BDIR, CLIENT, CONF, PG_PORT, MC_PORT, HTTP_PORT,
# SMET_PORT, WMET_PORT.  CONF has [server], [database], [memcached], [auth], rate
# limits and stream limits out of the way, no access log: the caller adds [worker]
# and [llm] with live_conf.
live_prepare() {
	# A descriptor per stream in the client and the responder, two in Caddy.
	[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge $((2 * RUNS + 1000)) ] ||
		ulimit -Hn $((2 * RUNS + 1000)) 2>/dev/null || true
	ulimit -n "$(ulimit -Hn)"
	[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge $((2 * RUNS + 1000)) ] ||
		die "RLIMIT_NOFILE is $(ulimit -n): $RUNS streams need $((2 * RUNS + 1000)) in Caddy"
	sb_install_deps || die "missing packages"
	BDIR=$(sb_build bench) || die "build failed"
	(cd "$BDIR" && make "$@" >"$BDIR/make-$NAME.out" 2>&1) ||
		die "$* did not build: see $BDIR/make-$NAME.out"
	CLIENT=$BDIR/bench/sse-client
	live_stop_all "$STATE"/*.pid
	rm -rf "$STATE"
	mkdir -p "$STATE/run" "$STATE/agents"
	chmod 755 "$STATE"
	sb_free_port PG_PORT
	sb_free_port MC_PORT
	sb_free_port HTTP_PORT
	sb_free_port SMET_PORT
	sb_free_port WMET_PORT
	CONF=$STATE/switchboard.conf
	sb_write_config "$CONF" "$STATE" "$PG_PORT" "$MC_PORT"
	live_conf <<-CONF

		[ratelimit]
		reads_per_minute = 10000000
		writes_per_minute = 10000000

		[log]
		access = false

		[stream]
		max_streams = 100000
		max_per_user = 100000
		metrics_listen = 127.0.0.1:$SMET_PORT
	CONF
	# A deeper listen backlog, in [server] (the first section).
	awk '{ print } /^workers = / { print "backlog = 4096" }' "$CONF" >"$CONF.tmp" &&
		mv "$CONF.tmp" "$CONF"
}

# live_conf: appends its standard input to CONF.
live_conf() { cat >>"$CONF"; }

pgq() { sb_as_pg "$PSQL" -h "$STATE/pg/run" -p "$PG_PORT" -U postgres -d switchboard -qAtX -v ON_ERROR_STOP=1 "$@"; }

# live_stack_start: PostgreSQL (track_commit_timestamp on, WAL warmed, the libraries of
# PG_PRELOAD if the caller sets it), memcached on a
# unix socket, the schema, org "bench" and an API key for it (KEY), switchboard-fcgi,
# switchboard-stream and Caddy on HTTP_PORT (URL).  No worker: live_worker_start.
live_stack_start() {
	# Commit timestamps: when each event's transaction committed, on the machine's clock.
	sb_pg_start "$STATE" "$PG_PORT" || die "PostgreSQL did not start"
	pgq -c "ALTER SYSTEM SET track_commit_timestamp = on" >/dev/null
	if [ -n "${PG_PRELOAD:-}" ]; then
		pgq -c "ALTER SYSTEM SET shared_preload_libraries = '$PG_PRELOAD'" >/dev/null
	fi
	sb_pg_stop "$STATE"
	sb_pg_start "$STATE" "$PG_PORT" || die "PostgreSQL did not restart"
	sb_pg_warm_wal "$STATE" "$PG_PORT"
	[ "$(pgq -c "SHOW track_commit_timestamp")" = on ] || die "track_commit_timestamp is not on"
	sb_memcached_start "$STATE" "$MC_PORT" "$STATE/mc/memcached.sock" || die "memcached did not start"
	sed -i "s#^servers = .*#servers = $STATE/mc/memcached.sock#" "$CONF"
	CTL="$BDIR/switchboardctl -c $CONF"
	$CTL migrate >/dev/null || die "migrate failed"
	$CTL org add bench >/dev/null
	KEY=$($CTL key create --org bench --scopes runs:write,runs:read)
	sb_fcgi_start "$STATE" "$BDIR" "$CONF" || die "switchboard-fcgi did not start"
	sb_stream_start "$STATE" "$BDIR" "$CONF" || die "switchboard-stream did not start"
	sb_caddy_start "$STATE/caddy-app" "$HTTP_PORT" "$STATE/run/fcgi.sock" "$STATE/run/stream.sock" ||
		die "Caddy did not start: see $STATE/caddy-app"
	URL=http://127.0.0.1:$HTTP_PORT
}

# live_post BODY: creates a run through Caddy; its id in RUN_ID, or dies.
live_post() {
	local code
	code=$(curl -s -o "$STATE/post.json" -w '%{http_code}' -H "Authorization: Bearer $KEY" \
		-H 'Content-Type: application/json' --data "$1" "$URL/api/v1/runs" || true)
	[ "$code" = 202 ] || die "POST /api/v1/runs is not 202 but $code: see $STATE/post.json"
	RUN_ID=$(sed -n 's/^{"id":"\([0-9a-f-]\{36\}\)".*/\1/p' "$STATE/post.json")
}

# live_worker_start CONFIG: switchboard-worker, up once its /metrics answers.
live_worker_start() {
	sb_spawn switchboard-worker "$STATE/worker.pid" "$STATE/worker.log" \
		"curl -fsS -o /dev/null 127.0.0.1:$WMET_PORT/metrics" 10 \
		"$BDIR/switchboard-worker" -c "$1" || die "the worker did not start"
}

# live_wait_run ID STATE SECONDS: the run reaches STATE.
live_wait_run() {
	sb_wait_for "[ \"\$(pgq -c \"SELECT state FROM runs WHERE id = '$1'\")\" = $2 ]" "$3"
}

# ---------------------------------------------------------------- measuring

# tree_ticks PID: the utime + stime of PID, of the children it reaped and of those it
# has (a forking server: PostgreSQL, switchboard-fcgi), in clock ticks.
tree_ticks() {
	local t=0 p v
	for p in "$1" $(ps -o pid= --ppid "$1"); do
		v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$p/stat" 2>/dev/null) || v=0
		t=$((t + ${v:-0}))
	done
	echo "$t"
}
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
now_us() { echo "${EPOCHREALTIME/./}"; }
metric() { curl -fsS --max-time 2 "$1" 2>/dev/null | awk -v m="$2" '$1 == m { print $2 }'; }
wait_line() {
	local file=$1 re=$2 secs=$3 _
	for _ in $(seq 1 $((secs * 20))); do
		grep -qE "$re" "$file" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
core() { awk -v t="$1" -v hz="$HZ" -v us="$2" 'BEGIN { printf "%.3f", t / hz / (us / 1e6) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "inf" || a == "-" || b == "-" || b + 0 <= 0) print "-"; else printf "%.2f", a / b }'; }
meets() { awk -v v="$1" -v t="$2" 'BEGIN { print ((v == "inf" || v == "-" || v == "Infinity" || v + 0 > t + 0) ? "MISSES" : "meets") }'; }

# live_cpu_begin NAME=PID...: the window starts (T0); live_cpu_end ends it (T1) and
# sets CPU_NAME, the share of one core the process tree of PID used over it, for each
# NAME, WALL (us), and OTHER, the busy time of the machine used by none of them (%).
live_cpu_begin() {
	local g
	LIVE_GROUPS=("$@")
	T0=$(now_us)
	LIVE_B0=$(busy)
	for g in "$@"; do
		printf -v "LIVE_C0_${g%%=*}" '%s' "$(tree_ticks "${g#*=}")"
	done
}
live_cpu_end() {
	local g n v0 d sum=0 b1
	T1=$(now_us)
	b1=$(busy)
	WALL=$((T1 - T0))
	for g in "${LIVE_GROUPS[@]}"; do
		n=${g%%=*}
		v0=LIVE_C0_$n
		d=$(($(tree_ticks "${g#*=}") - ${!v0}))
		sum=$((sum + d))
		printf -v "CPU_$n" '%s' "$(core "$d" "$WALL")"
	done
	OTHER=$(awk -v b=$((b1 - LIVE_B0)) -v o="$sum" 'BEGIN { printf "%.0f", (b > 0 ? 100 * (b - o) / b : 0) }')
}

# live_clients DIR BODYFILE: RUNS closed-loop clients (their pidfile STATE/client.pid,
# K_PID) writing DIR/arrivals and DIR/runs, started over RAMP s; returns once all have
# started, SETTLE s later.
live_clients() {
	mkdir -p "$1"
	chmod 755 "$1"
	"$CLIENT" live -c "$INFLIGHT" -s $((RAMP * 1000)) -o "$1/arrivals" -r "$1/runs" \
		"$HTTP_PORT" "$KEY" "$RUNS" "$2" >"$1/client.out" 2>"$1/client.err" &
	K_PID=$!
	echo "$K_PID" >"$STATE/client.pid"
	wait_line "$1/client.out" '^ready ' $((RAMP + 30)) ||
		say "  (the clients had not all started after $((RAMP + 30)) s)"
	sleep "$SETTLE"
}

# live_window: DURATION s, reading the worker's runs_held every second (HELD_MIN,
# HELD_AVG).
live_window() {
	local held="" _
	for _ in $(seq 1 "$DURATION"); do
		sleep 1
		held="$held $(metric "127.0.0.1:$WMET_PORT/metrics" switchboard_worker_runs_held)"
	done
	HELD_AVG=$(awk '{ for (i = 1; i <= NF; i++) { s += $i; n++ } } END { printf "%.0f", (n ? s / n : 0) }' <<<"$held")
	HELD_MIN=$(tr ' ' '\n' <<<"$held" | grep . | sort -n | head -n 1)
}

# live_clients_stop DIR: GRACE s after the window, the clients stop and write their
# files; their summary line in SUMMARY.
live_clients_stop() {
	sleep "$GRACE"
	kill -TERM "$K_PID" 2>/dev/null || true
	wait "$K_PID" || true
	rm -f "$STATE/client.pid"
	SUMMARY=$(grep '^summary ' "$1/client.out" || true)
}

# live_lag DIR [SQLFILE]: the join, in the bench's database, of every event committed in
# [T0, T1) to a run of DIR/runs whose stream was open (its 200 head read) by then, with
# when it arrived (the first time, DIR/arrivals); a missing event is infinitely late.
# SQLFILE, when given, runs after it in the same session (temporary tables lr: the
# clients' runs, ev: their events, lag: those counted), its rows in LAG_MORE.  Sets
# L_EXP L_N L_P50 L_P99 L_P999 L_MAX, D_N D_P99 (message.delta), O_N O_P99 (others),
# EV_S (events received a second), OPEN_AVG CREATED ENDED, BACKLOG TWICE, FIRST_P50
# FIRST_P99 OPEN_P50 OPEN_P99, FL_N FL_P50 FL_MAX (flush commits), STATES, BYTYPE; the
# figures stay in DIR/lag.txt.
live_lag() {
	local dir=$1 out
	cat >"$dir/lag.sql" <<-SQL
		CREATE TEMP TABLE arr (seq int, t bigint, num int);
		\copy arr FROM '$dir/arrivals' WITH (DELIMITER ' ')
		CREATE TEMP TABLE lr (num int, id uuid, t_post bigint, t_created bigint, t_open bigint, t_end bigint, slot int);
		\copy lr FROM '$dir/runs' WITH (DELIMITER ' ', NULL '-')
		CREATE TEMP TABLE a1 AS SELECT num, seq, min(t) AS t, count(*) AS n FROM arr GROUP BY 1, 2;
		CREATE TEMP TABLE ev AS
		SELECT l.num, e.seq, e.type, l.t_open,
		       (extract(epoch FROM pg_xact_commit_timestamp(e.xmin)) * 1000000)::bigint AS c
		  FROM lr l JOIN run_events e ON e.run_id = l.id;
		CREATE TEMP TABLE lag AS
		SELECT ev.*, ((a1.t - ev.c) / 1000.0)::float8 AS ms
		  FROM ev LEFT JOIN a1 USING (num, seq)
		 WHERE ev.t_open > 0 AND ev.c >= ev.t_open AND ev.c >= $T0 AND ev.c < $T1;
		-- 0: expected received p50 p99 p99.9 max (ms; a missing event is infinitely late)
		SELECT count(*), count(ms),
		       coalesce(round(percentile_disc(0.5) WITHIN GROUP (ORDER BY coalesce(ms, 'infinity'))::numeric, 1)::text, '-'),
		       coalesce(round(percentile_disc(0.99) WITHIN GROUP (ORDER BY coalesce(ms, 'infinity'))::numeric, 1)::text, '-'),
		       coalesce(round(percentile_disc(0.999) WITHIN GROUP (ORDER BY coalesce(ms, 'infinity'))::numeric, 1)::text, '-'),
		       coalesce(round(max(ms)::numeric, 1)::text, '-')
		  FROM lag;
		-- 1: the same for message.delta only, and for the other events
		SELECT count(*), coalesce(round(percentile_disc(0.99) WITHIN GROUP (ORDER BY coalesce(ms, 'infinity'))::numeric, 1)::text, '-')
		  FROM lag WHERE type = 'message.delta';
		SELECT count(*), coalesce(round(percentile_disc(0.99) WITHIN GROUP (ORDER BY coalesce(ms, 'infinity'))::numeric, 1)::text, '-')
		  FROM lag WHERE type <> 'message.delta';
		-- 3: events received during the window, per second
		SELECT round(count(*) / ($T1 - $T0)::numeric * 1000000) FROM arr WHERE t >= $T0 AND t < $T1;
		-- 4: streams open on average over the window; runs created and ended in it
		SELECT round(sum(greatest(0, least(CASE WHEN t_end > 0 THEN t_end ELSE $T1 END, $T1) - greatest(t_open, $T0)))
		             / ($T1 - $T0)::numeric, 1),
		       count(*) FILTER (WHERE t_created >= $T0 AND t_created < $T1),
		       count(*) FILTER (WHERE t_end >= $T0 AND t_end < $T1)
		  FROM lr WHERE t_open > 0;
		-- 5: events in the window committed before their stream was open (sent as the
		--    stream's backlog when it opened: not counted), and events received twice
		SELECT (SELECT count(*) FROM ev WHERE ev.c >= $T0 AND ev.c < $T1 AND (ev.t_open = 0 OR ev.c < ev.t_open)),
		       (SELECT count(*) FROM a1 WHERE n > 1);
		-- 6: a run's creation (the 202) to the commit of its first event, and to its stream's
		--    200 head, for the runs created in the window (ms, p50 and p99)
		SELECT coalesce(round(percentile_disc(0.5) WITHIN GROUP (ORDER BY f)::numeric)::text, '-'),
		       coalesce(round(percentile_disc(0.99) WITHIN GROUP (ORDER BY f)::numeric)::text, '-'),
		       coalesce(round(percentile_disc(0.5) WITHIN GROUP (ORDER BY o)::numeric)::text, '-'),
		       coalesce(round(percentile_disc(0.99) WITHIN GROUP (ORDER BY o)::numeric)::text, '-')
		  FROM (SELECT (min(ev.c) - l.t_created) / 1000.0 AS f, (l.t_open - l.t_created) / 1000.0 AS o
		          FROM lr l JOIN ev USING (num) WHERE l.t_created >= $T0 AND l.t_created < $T1 AND l.t_open > 0
		         GROUP BY l.num, l.t_created, l.t_open) x;
		-- 7: the worker's flush commits in the window: how many, and the time between them
		SELECT count(*), coalesce(round(percentile_disc(0.5) WITHIN GROUP (ORDER BY g)::numeric)::text, '-'),
		       coalesce(round(max(g)::numeric)::text, '-')
		  FROM (SELECT (c - lag(c) OVER (ORDER BY c)) / 1000.0 AS g
		          FROM (SELECT DISTINCT c FROM ev WHERE c >= $T0 AND c < $T1) d) x;
		-- 8: the runs the clients created, by state
		SELECT coalesce(string_agg(state || ' ' || n, ', ' ORDER BY n DESC), 'none')
		  FROM (SELECT r.state, count(*) AS n FROM lr JOIN runs r ON r.id = lr.id GROUP BY 1) s;
		-- 9: by event type: count, received, p50, p99, max
		SELECT string_agg(format('%s %s/%s p50 %s p99 %s max %s ms', type, n, got, p50, p99, mx), '; ' ORDER BY n DESC)
		  FROM (SELECT type, count(*) AS n, count(ms) AS got,
		               coalesce(round(percentile_disc(0.5) WITHIN GROUP (ORDER BY coalesce(ms, 'infinity'))::numeric, 1)::text, '-') AS p50,
		               coalesce(round(percentile_disc(0.99) WITHIN GROUP (ORDER BY coalesce(ms, 'infinity'))::numeric, 1)::text, '-') AS p99,
		               coalesce(round(max(ms)::numeric, 1)::text, '-') AS mx
		          FROM lag GROUP BY type) t;
	SQL
	if [ -n "${2:-}" ]; then printf '\\i %s\n' "$2" >>"$dir/lag.sql"; fi
	mapfile -t out < <(pgq -F ' ' -f "$dir/lag.sql")
	printf '%s\n' "${out[@]}" >"$dir/lag.txt"
	read -r L_EXP L_N L_P50 L_P99 L_P999 L_MAX <<<"${out[0]:-0 0 - - - -}"
	read -r D_N D_P99 <<<"${out[1]:-0 -}"
	read -r O_N O_P99 <<<"${out[2]:-0 -}"
	EV_S=${out[3]:-0}
	read -r OPEN_AVG CREATED ENDED <<<"${out[4]:-0 0 0}"
	read -r BACKLOG TWICE <<<"${out[5]:-0 0}"
	read -r FIRST_P50 FIRST_P99 OPEN_P50 OPEN_P99 <<<"${out[6]:-- - - -}"
	read -r FL_N FL_P50 FL_MAX <<<"${out[7]:-0 - -}"
	STATES=${out[8]:-none}
	BYTYPE=${out[9]:-none}
	LAG_MORE=("${out[@]:10}")
}

# live_lag_summary: live_lag's figures, as both summaries print them (with P50_TARGET,
# ms, when the bench has one for the median).
live_lag_summary() {
	cat <<-SUMMARY
		  lag commit -> client  p50 $L_P50 ms${P50_TARGET:+ (target <= $P50_TARGET: $(meets "$L_P50" "$P50_TARGET"))}  p99 $L_P99 ms (target <= 100: $(meets "$L_P99" 100))  p99.9 $L_P999 ms  max $L_MAX ms
		    events committed in the window to open streams: $L_EXP, received $L_N, received twice $TWICE; message.delta $D_N (p99 $D_P99 ms), others $O_N (p99 $O_P99 ms)
		    not counted: $BACKLOG committed before their stream was open (its backlog at open)
		    by type: $BYTYPE
		  events/s received     $EV_S; streams open on average $OPEN_AVG; runs the worker held (each second) min ${HELD_MIN:-?} avg $HELD_AVG
		    created -> first event committed p50 $FIRST_P50 ms p99 $FIRST_P99 ms; created -> stream open p50 $OPEN_P50 ms p99 $OPEN_P99 ms
		    worker flush commits in the window $FL_N, every $FL_P50 ms at the median, longest gap $FL_MAX ms
	SUMMARY
}
