# services.sh: start and stop the services Switchboard runs with, each on loopback,
# each under one state directory.  Sourced by scripts/dev and the integration tests.
# Every service is started in the background, its PID written to $dir/<name>.pid,
# and stopped only by that PID.

SB_ROOT=${SB_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}

# The packages the build, the stack and the tests need.
SB_PACKAGES="build-essential autoconf automake libtool pkg-config curl ca-certificates \
libfcgi-dev libfcgi-bin libpq-dev postgresql postgresql-contrib libmemcached-dev memcached \
libcurl4-openssl-dev libjansson-dev libsodium-dev libsystemd-dev libcunit1-dev \
libjwt-dev libssl-dev openssl caddy apache2 wrk systemd iproute2 procps \
clang libfuzzer-14-dev libclang-rt-14-dev"

sb_log() { printf '%s\n' "$*" >&2; }

# Installs what is missing (as root); without root, names what to install.
sb_install_deps() {
	local missing="" p
	for p in $SB_PACKAGES; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		sb_log "missing Debian packages:$missing"
		sb_log "install them with: sudo apt-get install$missing"
		return 1
	fi
	sb_log "installing:$missing"
	# Keep apt from starting system-wide services: Switchboard starts its own.
	local policy_added=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		policy_added=1
	fi
	local rc=0
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $missing; } >&2 || rc=$?
	[ "$policy_added" = 1 ] && rm -f /usr/sbin/policy-rc.d
	return $rc
}

sb_pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

# sb_free_port VAR: sets VAR to a free TCP port on 127.0.0.1: below the kernel's
# ephemeral range (so no client connection can be holding it), used by no socket in
# any state, and not handed out before by this shell.  Not in $(...): the record
# of ports handed out must stay in this shell.
sb_free_port() {
	local low p i
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
	[ "$low" -gt 12000 ] || low=32768
	for i in $(seq 1 200); do
		p=$((10000 + RANDOM % (low - 10000)))
		ss -Htan "( sport = :$p or dport = :$p )" 2>/dev/null | grep -q . && continue
		[[ " ${SB_PORTS_GIVEN:-} " == *" $p "* ]] && continue
		SB_PORTS_GIVEN="${SB_PORTS_GIVEN:-} $p"
		printf -v "$1" '%s' "$p"
		return 0
	done
	return 1
}

sb_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Waits up to $2 seconds (default 10) for a command to succeed.
sb_wait_for() {
	local cmd=$1 limit=${2:-10} i
	for i in $(seq 1 $((limit * 10))); do
		eval "$cmd" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# Stops the process whose PID is in $1: TERM, then KILL after $2 seconds.
sb_stop_pidfile() {
	local pidfile=$1 grace=${2:-10} pid i
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for i in $(seq 1 $((grace * 10))); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	fi
	rm -f "$pidfile"
}

# sb_spawn NAME PIDFILE LOG WAIT SECONDS CMD...: CMD in the background, its
# output appended to LOG, its PID in PIDFILE; succeeds once WAIT does.
sb_spawn() {
	local name=$1 pidfile=$2 log=$3 wait=$4 secs=$5
	shift 5
	"$@" >>"$log" 2>&1 &
	echo $! >"$pidfile"
	sb_wait_for "$wait" "$secs" || { sb_log "$name did not start: see $log"; return 1; }
}

# sb_build NAME [configure flags...]: an out-of-tree build in var/build/NAME
# (reconfigured when the flags change); prints the build directory.
sb_build() {
	local name=$1 var=$SB_ROOT/var dir=$SB_ROOT/var/build/$1
	shift
	mkdir -p "$dir"
	if [ ! -x "$SB_ROOT/configure" ] || [ "$SB_ROOT/configure.ac" -nt "$SB_ROOT/configure" ] ||
		[ "$SB_ROOT/Makefile.am" -nt "$SB_ROOT/Makefile.in" ]; then
		(cd "$SB_ROOT" && autoreconf --install --force >"$var/autoreconf.log" 2>&1) ||
			{ sb_log "autoreconf failed: see $var/autoreconf.log"; return 1; }
	fi
	if [ ! -f "$dir/Makefile" ] || [ "$(cat "$dir/.flags" 2>/dev/null)" != "$*" ]; then
		(cd "$dir" && "$SB_ROOT/configure" "$@" >configure.out 2>&1) ||
			{ sb_log "configure failed: see $dir/configure.out and $dir/config.log"; return 1; }
		echo "$*" >"$dir/.flags"
	fi
	(cd "$dir" && make -j"$(nproc)" all >make.out 2>&1) ||
		{ tail -n 30 "$dir/make.out" >&2; sb_log "build failed: see $dir/make.out"; return 1; }
	printf '%s\n' "$dir"
}

# Runs a command as the postgres user when we are root (PostgreSQL refuses root).
sb_as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# sb_pg_start DIR PORT: a cluster in DIR/pg listening on 127.0.0.1:PORT and on a
# socket in DIR/pg/run; database "switchboard" owned by role "switchboard" (which
# runs the migrations) and role "switchboard_app" (what the programs connect as:
# it owns nothing and cannot bypass row-level security).
sb_pg_start() {
	local dir=$1 port=$2 bin
	bin=$(sb_pg_bindir)
	[ -n "$bin" ] || { sb_log "PostgreSQL is not installed"; return 1; }
	mkdir -p "$dir/pg/run"
	[ "$(id -u)" = 0 ] && chown -R postgres: "$dir/pg"
	if [ ! -f "$dir/pg/data/PG_VERSION" ]; then
		sb_as_pg "$bin/initdb" -D "$dir/pg/data" -U postgres --auth=trust \
			--encoding=UTF8 --locale=C.UTF-8 >"$dir/pg/initdb.log" 2>&1 ||
			{ sb_log "initdb failed: see $dir/pg/initdb.log"; return 1; }
	fi
	if ! sb_as_pg "$bin/pg_ctl" -D "$dir/pg/data" status >/dev/null 2>&1; then
		sb_as_pg "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/postgres.log" -w -t 30 \
			-o "-c listen_addresses=127.0.0.1 -p $port -k $dir/pg/run -c fsync=on" \
			start >/dev/null || { sb_log "PostgreSQL did not start: see $dir/pg/postgres.log"; return 1; }
	fi
	sb_as_pg "$bin/psql" -h "$dir/pg/run" -p "$port" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 <<-SQL >/dev/null
		SELECT 'CREATE ROLE switchboard LOGIN'
		 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'switchboard') \gexec
		SELECT 'CREATE ROLE switchboard_app LOGIN NOSUPERUSER NOBYPASSRLS'
		 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'switchboard_app') \gexec
		SELECT 'CREATE DATABASE switchboard OWNER switchboard'
		 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'switchboard') \gexec
	SQL
}

# sb_pg_warm_wal DIR PORT: for benchmarks.  A running server recycles its WAL segments;
# a fresh cluster creates and zero-fills each new 16 MB one, and the commit that crosses
# into it waits (75 ms here, bench/README.md).  ~80 MB of WAL written and checkpointed
# away leaves segments to recycle (min_wal_size), as in steady state.
sb_pg_warm_wal() {
	sb_as_pg "$(sb_pg_bindir)/psql" -h "$1/pg/run" -p "$2" -U postgres -d postgres -qAtX -v ON_ERROR_STOP=1 \
		-c "CREATE TABLE sb_warm_wal AS SELECT repeat('x', 900) AS x FROM generate_series(1, 90000)" \
		-c "DROP TABLE sb_warm_wal" -c "CHECKPOINT" -c "SELECT pg_switch_wal()" -c "CHECKPOINT" >/dev/null
}

sb_pg_stop() {
	local dir=$1 bin
	bin=$(sb_pg_bindir)
	[ -f "$dir/pg/data/postmaster.pid" ] || return 0
	sb_as_pg "$bin/pg_ctl" -D "$dir/pg/data" -m fast -w stop >/dev/null 2>&1 || true
}

# sb_pg_url DIR PORT [ROLE]: a connection string to the local cluster (default role:
# the application's).
sb_pg_url() {
	printf 'postgresql:///switchboard?host=%s/pg/run&port=%s&user=%s\n' "$1" "$2" "${3:-switchboard_app}"
}

# sb_memcached_start DIR PORT
# sb_memcached_start DIR PORT [SOCKET]: on 127.0.0.1:PORT, or on the unix socket
# SOCKET instead when given (the cheaper way on one host).
sb_memcached_start() {
	local dir=$1 port=$2 sock=${3:-} user=()
	sb_alive "$dir/memcached.pid" && return 0
	[ "$(id -u)" = 0 ] && user=(-u nobody)
	if [ -n "$sock" ]; then
		# memcached binds the socket after dropping to nobody: a directory it may write.
		mkdir -p "$(dirname "$sock")"
		[ "$(id -u)" = 0 ] && chown nobody "$(dirname "$sock")"
		sb_spawn memcached "$dir/memcached.pid" "$dir/memcached.log" "[ -S '$sock' ]" 5 \
			memcached -s "$sock" -a 0666 -m 64 -c 4096 "${user[@]}"
	else
		sb_spawn memcached "$dir/memcached.pid" "$dir/memcached.log" \
			"exec 3<>/dev/tcp/127.0.0.1/$port" 5 \
			memcached -l 127.0.0.1 -p "$port" -U 0 -m 64 -c 4096 "${user[@]}"
	fi
}

# sb_stream_start DIR BINDIR CONFIG: switchboard-stream creating its socket in DIR/run.
sb_stream_start() {
	local dir=$1 bindir=$2 conf=$3
	sb_alive "$dir/stream.pid" && return 0
	mkdir -p "$dir/run"
	sb_spawn switchboard-stream "$dir/stream.pid" "$dir/stream.log" "[ -S '$dir/run/stream.sock' ]" 10 \
		env SWITCHBOARD_STREAM_SOCKET="$dir/run/stream.sock" "$bindir/switchboard-stream" -c "$conf"
}

# sb_fcgi_start DIR BINDIR CONFIG: switchboard-fcgi creating its socket in DIR/run.
sb_fcgi_start() {
	local dir=$1 bindir=$2 conf=$3
	sb_alive "$dir/fcgi.pid" && return 0
	mkdir -p "$dir/run"
	sb_spawn switchboard-fcgi "$dir/fcgi.pid" "$dir/fcgi.log" "[ -S '$dir/run/fcgi.sock' ]" 10 \
		env SWITCHBOARD_CONFIG="$conf" "$bindir/switchboard-fcgi" -c "$conf"
}

# sb_caddy_start DIR PORT SOCKET: the shipped conf/Caddyfile on 127.0.0.1:PORT.
sb_caddy_start() {
	local dir=$1 port=$2 sock=$3 ssock=${4:-$1/run/stream.sock}
	sb_alive "$dir/caddy.pid" && return 0
	mkdir -p "$dir/caddy"
	sb_spawn Caddy "$dir/caddy.pid" "$dir/caddy.log" "curl -fsS -o /dev/null http://127.0.0.1:$port/" 15 \
		env XDG_DATA_HOME="$dir/caddy" XDG_CONFIG_HOME="$dir/caddy" \
		SWITCHBOARD_SITE="http://:$port" SWITCHBOARD_BIND=127.0.0.1 \
		SWITCHBOARD_CADDY_ADMIN=off SWITCHBOARD_FCGI_SOCKET="$sock" SWITCHBOARD_STREAM_SOCKET="$ssock" \
		SWITCHBOARD_WEB_ROOT="$SB_ROOT/web" SWITCHBOARD_CADDY_LOG="file $dir/caddy/access.log" \
		caddy run --adapter caddyfile --config "$SB_ROOT/conf/Caddyfile"
}

# sb_apache_start DIR PORT SOCKET: the shipped conf/apache2/switchboard.conf,
# included from a minimal server config of our own on 127.0.0.1:PORT.
sb_apache_start() {
	local dir=$1 port=$2 sock=$3 mods=/usr/lib/apache2/modules m
	sb_alive "$dir/apache/httpd.pid" && return 0
	mkdir -p "$dir/apache"
	{
		echo "ServerRoot /etc/apache2"
		echo "ServerName 127.0.0.1"
		echo "Listen 127.0.0.1:$port"
		echo "PidFile $dir/apache/httpd.pid"
		echo "ErrorLog $dir/apache/error.log"
		echo "LogLevel warn"
		echo "DefaultRuntimeDir $dir/apache"
		echo "Mutex file:$dir/apache default"
		echo "User www-data"
		echo "Group www-data"
		echo "Timeout 60"
		for m in mpm_event authz_core authz_host mime dir headers setenvif env rewrite proxy proxy_fcgi; do
			echo "LoadModule ${m}_module $mods/mod_$m.so"
		done
		echo "TypesConfig /etc/mime.types"
		echo "LogFormat \"%h %l %u %t \\\"%r\\\" %>s %b %D\" timed"
		echo "CustomLog $dir/apache/access.log timed"
		echo "Define SWITCHBOARD_PORT $port"
		echo "Define SWITCHBOARD_FCGI_SOCKET $sock"
		echo "Define SWITCHBOARD_STREAM_SOCKET ${4:-$dir/run/stream.sock}"
		echo "Define SWITCHBOARD_WEB_ROOT $SB_ROOT/web"
		echo "Include $SB_ROOT/conf/apache2/switchboard.conf"
	} >"$dir/apache/httpd.conf"
	APACHE_RUN_DIR=$dir/apache /usr/sbin/apache2 -f "$dir/apache/httpd.conf" -k start \
		>>"$dir/apache/start.log" 2>&1 || { sb_log "Apache did not start: see $dir/apache"; return 1; }
	sb_wait_for "curl -fsS -o /dev/null http://127.0.0.1:$port/" 15 ||
		{ sb_log "Apache did not answer: see $dir/apache/error.log"; return 1; }
}

sb_apache_stop() {
	local dir=$1
	sb_alive "$dir/apache/httpd.pid" || return 0
	# The PID file names Apache's parent, started by us.
	sb_stop_pidfile "$dir/apache/httpd.pid" 10
}

# sb_write_config FILE DIR PGPORT MCPORT: the configuration the local stack runs with.
sb_write_config() {
	local file=$1 dir=$2 pgport=$3 mcport=$4
	cat >"$file" <<-CONF
		# Written by scripts/dev for the local stack; see conf/switchboard.conf.example.
		[server]
		socket = $dir/run/fcgi.sock
		socket_mode = 0666
		workers = ${SB_WORKERS:-0}

		[database]
		url = "$(sb_pg_url "$dir" "$pgport")"
		migrate_url = "$(sb_pg_url "$dir" "$pgport" switchboard)"
		sql_dir = $SB_ROOT/sql

		[memcached]
		servers = 127.0.0.1:$mcport

		[auth]
		# Cheaper password hashing than production's, for a quick local stack.
		pwhash_memlimit_kib = 8192
		pwhash_opslimit = 1
	CONF
}
