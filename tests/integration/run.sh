#!/usr/bin/env bash
# run.sh: start throwaway services on free loopback ports, run every
# tests/integration/t_*.sh against them, stop what was started, print the summary.
# Needs SB_BUILD (a build directory with switchboard-fcgi, switchboardctl, sb-hammer).
# The state is in /tmp (mktemp, made 0755): PostgreSQL (as postgres), Apache's children
# (as www-data) and memcached (as nobody) must reach it, which they cannot in a checkout
# in a 0700 home; Apache serves a copy of the build's web root there (sb_apache_start).
set -uo pipefail
umask 022

SB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export SB_ROOT
. "$SB_ROOT/scripts/services.sh"
. "$SB_ROOT/tests/integration/lib.sh"

: "${SB_BUILD:?set SB_BUILD to a build directory}"
# The services started here get the hard limit of open files: t_capacity.sh holds 600
# streams, two descriptors each in Caddy (Debian's 2.6.2 does not raise its own limit).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
STATE=$(mktemp -d /tmp/sb-it.XXXXXX)
chmod 755 "$STATE"
# The source tree by a path configure accepts (no blank), for t_build.sh.
SB_SRC=$(sb_src) || { echo "FAIL - setup: no source path configure accepts"; echo "0 passed, 1 failed"; exit 1; }
export STATE SB_BUILD SB_SRC

sb_free_port PG_PORT
sb_free_port MC_PORT
sb_free_port CADDY_PORT
sb_free_port APACHE_PORT
sb_free_port STREAM_METRICS_PORT
SB_CONF=$STATE/switchboard.conf
SOCK=$STATE/run/fcgi.sock
CADDY_URL=http://127.0.0.1:$CADDY_PORT
APACHE_URL=http://127.0.0.1:$APACHE_PORT
export PG_PORT MC_PORT CADDY_PORT APACHE_PORT STREAM_METRICS_PORT SB_CONF SOCK CADDY_URL APACHE_URL
CTL="$SB_BUILD/switchboardctl -c $SB_CONF"
export CTL

stop_all() {
	local p
	for p in "$STATE"/worker/*.pid; do [ -f "$p" ] && sb_stop_pidfile "$p" 5; done
	sb_stop_pidfile "$STATE/caddy.pid" 10
	sb_apache_stop "$STATE"
	sb_stop_pidfile "$STATE/stream.pid" 10
	sb_stop_pidfile "$STATE/fcgi.pid" 15
	sb_stop_pidfile "$STATE/memcached.pid" 5
	sb_pg_stop "$STATE"
}
trap stop_all EXIT

setup_failed() { fail "setup" "$1"; echo "$T_PASSED passed, $T_FAILED failed"; exit 1; }

SB_WORKERS=4 sb_write_config "$SB_CONF" "$STATE" "$PG_PORT" "$MC_PORT"
# The HTTP tools every program loads at start (t_httptools.sh): their service is
# tests/node/pages.mjs on TOOLS_PORT, their secret a file in tools-secrets.
sb_free_port TOOLS_PORT
export TOOLS_PORT
sb_tools_fixture "$STATE" "$TOOLS_PORT"
# The load tests send thousands of anonymous requests from one address; logins
# come from many loopback addresses (tests pick 127.0.0.N per case).
cat >>"$SB_CONF" <<-CONF

	[ratelimit]
	anon_per_minute = 10000000
	login_per_minute = 20

	[cors]
	allow_origins = https://app.example, https://admin.example

	[stream]
	# Short, so that t_stream.sh sees heartbeats and slow-client cut-offs quickly.
	heartbeat = 1
	client_buffer = 65536
	retry_ms = 500
	max_per_user = 25
	metrics_listen = 127.0.0.1:$STREAM_METRICS_PORT

	[tools]
	dir = $STATE/tools.d
	secrets_dir = $STATE/tools-secrets

	[jwt]
	# A test-only secret: bearer JWTs minted by t_auth.sh.
	hs256_secret = t_auth-hs256-secret-for-tests-only-0123456789
	issuer = https://idp.example
	audience = switchboard
CONF
sb_pg_start "$STATE" "$PG_PORT" || setup_failed "PostgreSQL did not start"
sb_memcached_start "$STATE" "$MC_PORT" || setup_failed "memcached did not start"
$CTL migrate >"$STATE/migrate.log" 2>&1 || setup_failed "migrate failed: $(cat "$STATE/migrate.log")"
sb_fcgi_start "$STATE" "$SB_BUILD" "$SB_CONF" || setup_failed "switchboard-fcgi did not start"
sb_stream_start "$STATE" "$SB_BUILD" "$SB_CONF" || setup_failed "switchboard-stream did not start"
sb_caddy_start "$STATE" "$CADDY_PORT" "$SOCK" || setup_failed "Caddy did not start"
sb_apache_start "$STATE" "$APACHE_PORT" "$SOCK" || setup_failed "Apache did not start"

only=${SB_TESTS:-}
for t in "$SB_ROOT"/tests/integration/t_*.sh; do
	name=$(basename "$t" .sh)
	[ -n "$only" ] && [[ ",$only," != *",$name,"* ]] && continue
	echo "# $name"
	# shellcheck disable=SC1090
	. "$t"
done

# A worker that crashed or a service that died shows up here, not as a hang later.
if ! sb_alive "$STATE/fcgi.pid"; then fail "switchboard-fcgi still running at the end" "it exited"; fi
if ! sb_alive "$STATE/stream.pid"; then fail "switchboard-stream still running at the end" "it exited"; fi
reports=$(grep -lE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$STATE"/*.log "$STATE"/*/*.log 2>/dev/null)
if [ -n "$reports" ]; then fail "no sanitizer report in any log" "$reports"; else pass "no sanitizer report in any log"; fi
if [ "$T_FAILED" -gt 0 ]; then
	echo "# logs kept in $STATE"
	trap - EXIT
	stop_all
else
	trap - EXIT
	stop_all
	rm -rf "$STATE"
fi
echo "$T_PASSED passed, $T_FAILED failed"
[ "$T_FAILED" = 0 ]
