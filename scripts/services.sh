# services.sh: start and stop the services Switchboard runs with, each on loopback,
# each under one state directory.  Sourced by scripts/dev and the integration tests.
# Every service is started in the background, its PID written to $dir/<name>.pid,
# and stopped only by that PID.

SB_ROOT=${SB_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}

# ------------------------------------------------------------ where state lives
# The services run as their own users when we are root: PostgreSQL as postgres,
# Apache's children as www-data, memcached as nobody.  They cannot enter a checkout in
# a 0700 home (Debian 12 makes every home 0700), and autotools refuse a source or
# build path with a blank in it.  So a checkout's builds and local state ("var")
# live in $SB_ROOT/var only when that path is fit for both; otherwise in
#   /var/lib/switchboard-dev/<checkout name>-<hash of the checkout path>   (as root)
#   ${XDG_STATE_HOME:-~/.local/state}/switchboard-dev/<name>-<hash>         (otherwise)
# and $SB_ROOT/var is a symbolic link to it.  SWITCHBOARD_DEV_VAR names another place.
# Nothing about the checkout or the home around it is changed.

# sb_path_plain PATH: PATH has no blank and nothing else automake refuses in srcdir.
sb_path_plain() { [[ $1 != *[[:space:]\\\"\#\$\&\'\`]* ]]; }

# sb_reachable DIR: every user the services run as may enter DIR (always, unless root).
# nobody stands for a service user not created yet (it has no group of its own).
sb_reachable() {
	local u
	[ "$(id -u)" = 0 ] || return 0
	for u in nobody postgres www-data; do
		id -u "$u" >/dev/null 2>&1 || continue
		(cd / && runuser -u "$u" -- test -x "$1") || return 1
	done
}

# sb_var_away: the place outside the checkout (see above).
sb_var_away() {
	local name hash base
	name=$(basename "$SB_ROOT" | tr -c 'A-Za-z0-9._\n-' '_' | cut -c1-24)
	hash=$(cd "$SB_ROOT" && pwd -P | tr -d '\n' | sha256sum | cut -c1-12)
	if [ "$(id -u)" = 0 ]; then
		base=/var/lib/switchboard-dev
	else
		base=${XDG_STATE_HOME:-$HOME/.local/state}/switchboard-dev
	fi
	printf '%s/%s-%s\n' "$base" "$name" "$hash"
}

# sb_var: prints the directory of this checkout's builds and state; creates nothing.
sb_var() {
	if [ -n "${SWITCHBOARD_DEV_VAR:-}" ]; then
		printf '%s\n' "$SWITCHBOARD_DEV_VAR"
	elif [ -L "$SB_ROOT/var" ]; then
		readlink -m "$SB_ROOT/var"
	elif [ -d "$SB_ROOT/var" ] || { sb_path_plain "$SB_ROOT" && sb_reachable "$SB_ROOT"; }; then
		printf '%s\n' "$SB_ROOT/var"
	else
		sb_var_away
	fi
}

# sb_var_make: sb_var, created (mode 0755, for the service users) and linked from
# $SB_ROOT/var when away.  A var/ left in the checkout by an earlier version where the
# services cannot reach it is moved into the new place (as old-var-DATE), unless
# something of it still runs.
sb_var_make() {
	local var old p
	if [ -n "${SWITCHBOARD_DEV_VAR:-}" ]; then
		var=$SWITCHBOARD_DEV_VAR
	elif [ -L "$SB_ROOT/var" ]; then
		var=$(readlink -m "$SB_ROOT/var")
	elif [ -d "$SB_ROOT/var" ] && sb_path_plain "$SB_ROOT" && sb_reachable "$SB_ROOT/var"; then
		var=$SB_ROOT/var
	elif [ ! -e "$SB_ROOT/var" ] && sb_path_plain "$SB_ROOT" && sb_reachable "$SB_ROOT"; then
		var=$SB_ROOT/var
	else
		var=$(sb_var_away)
		old=$SB_ROOT/var
		if [ -d "$old" ]; then
			for p in "$old"/stack/*.pid "$old"/stack/pg/data/postmaster.pid; do
				[ -f "$p" ] && kill -0 "$(head -n 1 "$p")" 2>/dev/null || continue
				sb_log "$old is out of the services' reach (or its path has a blank), but"
				sb_log "$p names a process that runs: stop it, then move or remove $old"
				return 1
			done
			mkdir -p "$var" || return 1
			old=$var/old-var-$(date +%Y%m%d%H%M%S)
			mv "$SB_ROOT/var" "$old" || return 1
			sb_log "moved $SB_ROOT/var to $old: the services could not reach it"
		fi
	fi
	mkdir -p "$var" || return 1
	if [ "$var" = "$(sb_var_away)" ]; then chmod 0755 "$var" "$(dirname "$var")" || return 1; fi
	if [ -z "${SWITCHBOARD_DEV_VAR:-}" ] && [ "$var" != "$SB_ROOT/var" ] && [ ! -L "$SB_ROOT/var" ]; then
		ln -s "$var" "$SB_ROOT/var" || return 1
	fi
	printf '%s\n' "$var"
}

# sb_src: the source tree by a path configure accepts: the checkout itself, or a
# symbolic link to it in sb_var when the checkout's path has a blank.
sb_src() {
	local var
	if sb_path_plain "$SB_ROOT"; then printf '%s\n' "$SB_ROOT"; return 0; fi
	var=$(sb_var_make) || return 1
	ln -sfn "$SB_ROOT" "$var/src" || return 1
	printf '%s\n' "$var/src"
}

# The packages the build, the stack and the tests need.
SB_PACKAGES="build-essential autoconf automake libtool pkg-config curl ca-certificates \
libfcgi-dev libfcgi-bin libpq-dev postgresql postgresql-contrib libmemcached-dev memcached \
libcurl4-openssl-dev libjansson-dev libsodium-dev libsystemd-dev libcunit1-dev \
libjwt-dev libssl-dev openssl caddy apache2 wrk systemd iproute2 procps tzdata \
clang libfuzzer-14-dev libclang-rt-14-dev lld wasi-libc libclang-rt-14-dev-wasm32"

sb_log() { printf '%s\n' "$*" >&2; }

# sb_node_deps: Node.js, Chromium and the npm packages of tests/node (third-party clients
# the tests drive Switchboard with), installed into tests/node/node_modules from its lock
# file.  playwright-core drives Debian's /usr/bin/chromium: no browser is downloaded.
sb_node_deps() {
	local dir=$SB_ROOT/tests/node
	if ! command -v npm >/dev/null 2>&1; then
		SB_PACKAGES="nodejs npm" sb_install_deps || return 1
	fi
	[ -x /usr/bin/chromium ] || SB_PACKAGES="chromium" sb_install_deps || return 1
	[ -d "$dir/node_modules/eventsource" ] && [ -d "$dir/node_modules/playwright-core" ] &&
		[ -d "$dir/node_modules/axe-core" ] && return 0
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
}

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

# sb_build NAME [configure flags...]: an out-of-tree build in var/build/NAME (var as
# sb_var_make says; reconfigured when the flags change); prints the build directory.
# configure runs by sb_src's path: autotools refuse a source path with a blank.
sb_build() {
	local name=$1 var src dir
	shift
	var=$(sb_var_make) || return 1
	src=$(sb_src) || return 1
	dir=$var/build/$name
	mkdir -p "$dir"
	if [ ! -x "$SB_ROOT/configure" ] || [ "$SB_ROOT/configure.ac" -nt "$SB_ROOT/configure" ] ||
		[ "$SB_ROOT/Makefile.am" -nt "$SB_ROOT/Makefile.in" ]; then
		(cd "$src" && autoreconf --install --force >"$var/autoreconf.log" 2>&1) ||
			{ sb_log "autoreconf failed: see $var/autoreconf.log"; return 1; }
	fi
	if [ ! -f "$dir/Makefile" ] || [ "$(cat "$dir/.flags" 2>/dev/null)" != "$*" ]; then
		(cd "$dir" && "$src/configure" "$@" >configure.out 2>&1) ||
			{ sb_log "configure failed: see $dir/configure.out and $dir/config.log"; return 1; }
		echo "$*" >"$dir/.flags"
	fi
	(cd "$dir" && make -j"$(nproc)" all >make.out 2>&1) ||
		{ tail -n 30 "$dir/make.out" >&2; sb_log "build failed: see $dir/make.out"; return 1; }
	printf '%s\n' "$dir"
}

# Runs a command as the postgres user when we are root (PostgreSQL refuses root),
# from / (the caller's directory may be one postgres cannot enter): absolute paths only.
sb_as_pg() {
	if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
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
			-o "-c listen_addresses=127.0.0.1 -p $port -k '$dir/pg/run' -c fsync=on" \
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
	local host=$1/pg/run
	host=${host//%/%25}
	printf 'postgresql:///switchboard?host=%s&port=%s&user=%s\n' "${host// /%20}" "$2" "${3:-switchboard_app}"
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

# sb_web_root: the web root to serve: $SB_WEB_ROOT, else the one the build in
# $SB_BUILD made (web/root: the app with its hashed names, see web/mkroot.sh), else
# the sources' web/ (its style sheet, no app).
sb_web_root() {
	if [ -n "${SB_WEB_ROOT:-}" ]; then
		printf '%s\n' "$SB_WEB_ROOT"
	elif [ -n "${SB_BUILD:-}" ] && [ -f "$SB_BUILD/web/root/index.html" ]; then
		printf '%s\n' "$SB_BUILD/web/root"
	else
		printf '%s\n' "$SB_ROOT/web"
	fi
}

# sb_caddy_start DIR PORT SOCKET: the shipped conf/Caddyfile on 127.0.0.1:PORT, serving
# sb_web_root.
sb_caddy_start() {
	local dir=$1 port=$2 sock=$3 ssock=${4:-$1/run/stream.sock}
	sb_alive "$dir/caddy.pid" && return 0
	mkdir -p "$dir/caddy"
	# Up once it answers at all: a web root without the app (a build that made none)
	# answers / with 404.
	sb_spawn Caddy "$dir/caddy.pid" "$dir/caddy.log" "curl -sS -o /dev/null http://127.0.0.1:$port/" 15 \
		env XDG_DATA_HOME="$dir/caddy" XDG_CONFIG_HOME="$dir/caddy" \
		SWITCHBOARD_SITE="http://:$port" SWITCHBOARD_BIND=127.0.0.1 \
		SWITCHBOARD_CADDY_ADMIN=off SWITCHBOARD_FCGI_SOCKET="$sock" SWITCHBOARD_STREAM_SOCKET="$ssock" \
		SWITCHBOARD_WEB_ROOT="$(sb_web_root)" SWITCHBOARD_CADDY_LOG="file $dir/caddy/access.log" \
		caddy run --adapter caddyfile --config "$SB_ROOT/conf/Caddyfile"
}

# sb_apache_start DIR PORT SOCKET: the shipped conf/apache2/switchboard.conf and the
# event MPM's sizing for streams (conf/apache2/switchboard-mpm.conf, so that what is
# tested is what ships), included from a minimal server config of our own on
# 127.0.0.1:PORT.  Its children run as www-data, who may not enter the checkout (a 0700
# home): they serve a copy of sb_web_root in DIR/apache/web, and DIR and the sockets must be
# where www-data can reach them.
sb_apache_start() {
	local dir=$1 port=$2 sock=$3 mods=/usr/lib/apache2/modules m
	sb_alive "$dir/apache/httpd.pid" && return 0
	mkdir -p "$dir/apache"
	rm -rf "$dir/apache/web"
	cp -R "$(sb_web_root)" "$dir/apache/web" && chmod -R a+rX "$dir/apache/web" || return 1
	{
		echo "ServerRoot /etc/apache2"
		echo "ServerName 127.0.0.1"
		echo "Listen 127.0.0.1:$port"
		echo "PidFile \"$dir/apache/httpd.pid\""
		echo "ErrorLog \"$dir/apache/error.log\""
		echo "LogLevel warn"
		echo "DefaultRuntimeDir \"$dir/apache\""
		echo "Mutex \"file:$dir/apache\" default"
		echo "User www-data"
		echo "Group www-data"
		echo "Timeout 60"
		for m in mpm_event authz_core authz_host mime dir headers setenvif env rewrite proxy proxy_fcgi reqtimeout; do
			echo "LoadModule ${m}_module $mods/mod_$m.so"
		done
		echo "TypesConfig /etc/mime.types"
		echo "LogFormat \"%h %l %u %t \\\"%r\\\" %>s %b %D\" timed"
		echo "CustomLog \"$dir/apache/access.log\" timed"
		echo "Define SWITCHBOARD_PORT $port"
		echo "Define SWITCHBOARD_FCGI_SOCKET \"$sock\""
		echo "Define SWITCHBOARD_STREAM_SOCKET \"${4:-$dir/run/stream.sock}\""
		echo "Define SWITCHBOARD_WEB_ROOT \"$dir/apache/web\""
		echo "Include \"$SB_ROOT/conf/apache2/switchboard-mpm.conf\""
		echo "Include \"$SB_ROOT/conf/apache2/switchboard.conf\""
	} >"$dir/apache/httpd.conf"
	APACHE_RUN_DIR=$dir/apache /usr/sbin/apache2 -f "$dir/apache/httpd.conf" -k start \
		>>"$dir/apache/start.log" 2>&1 || { sb_log "Apache did not start: see $dir/apache"; return 1; }
	sb_wait_for "curl -sS -o /dev/null http://127.0.0.1:$port/" 15 ||
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
	# The secret that seals memcached values: made once per stack, kept beside its state.
	[ -s "$dir/memcached-secret" ] ||
		(umask 077; head -c 32 /dev/urandom | base64 | tr -d '=\n' >"$dir/memcached-secret")
	cat >"$file" <<-CONF
		# Written by scripts/dev for the local stack; see conf/switchboard.conf.example.
		[server]
		socket = "$dir/run/fcgi.sock"
		socket_mode = 0666
		workers = ${SB_WORKERS:-0}

		[database]
		url = "$(sb_pg_url "$dir" "$pgport")"
		migrate_url = "$(sb_pg_url "$dir" "$pgport" switchboard)"
		sql_dir = "$SB_ROOT/sql"

		[memcached]
		servers = 127.0.0.1:$mcport
		secret = $(cat "$dir/memcached-secret")

		[auth]
		# Cheaper password hashing than production's, for a quick local stack.
		pwhash_memlimit_kib = 8192
		pwhash_opslimit = 1
	CONF
}
