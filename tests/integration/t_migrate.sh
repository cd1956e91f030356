# t_migrate.sh: switchboardctl migrate and check against the real PostgreSQL.

psql_admin() { PGOPTIONS="-c client_min_messages=warning" sb_as_pg "$(sb_pg_bindir)/psql" -h "$STATE/pg/run" -p "$PG_PORT" -U postgres -qAtX -v ON_ERROR_STOP=1 "$@"; }
# A scratch database owned by switchboard, and a URL to it.
scratch_db() {
	psql_admin -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1 OWNER switchboard" >/dev/null
	printf 'postgresql:///%s?host=%s/pg/run&port=%s&user=switchboard\n' "$1" "$STATE" "$PG_PORT"
}
# Migrations run with migrate_url: point it at a scratch database.
mig() { SWITCHBOARD_DATABASE_MIGRATE_URL=$1 $CTL migrate "${@:2}"; }

out=$($CTL migrate 2>&1); rc=$?
expect_eq "migrate again applies nothing and succeeds" "0:" "$rc:$out"
out=$($CTL migrate --status 2>&1)
expect_match "migrate --status lists 001 as applied" '^1 +001_init\.sql +applied [0-9-]+ [0-9:]+$' "$(printf '%s\n' "$out" | sed -n 2p)"

# Four migrators at once on an empty database: one applies, the others wait and find nothing to do.
url=$(scratch_db sb_concurrent)
for i in 1 2 3 4; do
	mig "$url" >"$STATE/mig.$i" 2>&1 &
	pids="${pids:-} $!"
done
rcs=""
for p in $pids; do wait "$p"; rcs="$rcs$?"; done
unset pids
expect_eq "four concurrent migrates all succeed" "0000" "$rcs"
expect_eq "each migration applied exactly once" "1" "$(cat "$STATE"/mig.* | grep -c '^applied 001_init.sql$')"
nfiles=$(ls "$SB_ROOT"/sql/[0-9][0-9][0-9]_*.sql | wc -l)
expect_eq "schema_migrations has one row per file" "$nfiles" "$(psql_admin -d sb_concurrent -c 'SELECT count(*) FROM schema_migrations')"
expect_eq "every file was applied once in all" "$nfiles" "$(cat "$STATE"/mig.* | grep -c '^applied ')"

# An applied file that was edited is refused, and nothing runs.
mkdir -p "$STATE/sql-edited"
cp "$SB_ROOT"/sql/*.sql "$STATE/sql-edited/"
echo "-- an edit after the fact" >>"$STATE/sql-edited/001_init.sql"
printf 'CREATE TABLE must_not_exist (x int);\n' >"$STATE/sql-edited/900_later.sql"
out=$(mig "$url" --sql-dir "$STATE/sql-edited" 2>&1); rc=$?
expect_eq "an edited migration makes migrate fail" 1 "$rc"
expect_match "the refusal names the file" '001_init\.sql was edited after it was applied' "$out"
expect_eq "no later migration ran" "" "$(psql_admin -d sb_concurrent -c "SELECT to_regclass('must_not_exist')")"
out=$(mig "$url" --status --sql-dir "$STATE/sql-edited" 2>&1)
expect_match "--status flags the edited file" '001_init\.sql +EDITED' "$out"

# A failing migration rolls back entirely and is not recorded.
mkdir -p "$STATE/sql-bad"
cp "$SB_ROOT"/sql/*.sql "$STATE/sql-bad/"
printf 'CREATE TABLE half_done (x int);\nSELECT 1/0;\n' >"$STATE/sql-bad/900_bad.sql"
out=$(mig "$url" --sql-dir "$STATE/sql-bad" 2>&1); rc=$?
expect_eq "a failing migration makes migrate fail" 1 "$rc"
expect_match "the failure names the file and the error" '900_bad\.sql failed: ERROR: +division by zero' "$out"
expect_eq "its statements were rolled back" "" "$(psql_admin -d sb_concurrent -c "SELECT to_regclass('half_done')")"
expect_eq "it was not recorded" "0" "$(psql_admin -d sb_concurrent -c 'SELECT count(*) FROM schema_migrations WHERE version = 900')"

# A database newer than this build is refused.
psql_admin -d sb_concurrent -c "INSERT INTO schema_migrations VALUES (999, '999_future.sql', 'x')" >/dev/null
out=$(mig "$url" 2>&1); rc=$?
expect_eq "a database with unknown migrations is refused" "1" "$rc"
expect_match "the refusal says why" 'has migration 999, which this build does not know' "$out"

# switchboardctl check: all good, then with memcached wrong, then with a bad key.
out=$($CTL check 2>&1); rc=$?
expect_eq "check passes on the running stack" 0 "$rc"
expect_match "check reports each dependency" 'database +ok.*role +ok: switchboard_app is confined.*schema +ok: at version [0-9]+.*memcached +ok' "$(printf '%s' "$out" | tr '\n' ' ')"
out=$(SWITCHBOARD_DATABASE_URL="$(sb_pg_url "$STATE" "$PG_PORT" switchboard)" $CTL check 2>&1); rc=$?
expect_eq "check fails when database.url names the tables' owner" 1 "$rc"
expect_match "and says it bypasses row-level security" 'role +FAIL: switchboard bypasses row-level security' "$out"
out=$(SWITCHBOARD_MEMCACHED_SERVERS=127.0.0.1:1 $CTL check 2>&1); rc=$?
expect_eq "check fails when memcached is unreachable" 1 "$rc"
expect_match "and says which" 'memcached +FAIL: cannot reach 127\.0\.0\.1:1' "$out"
# memcached on a unix socket: servers may name a socket path.
mkdir -p "$STATE/mcsock"
sb_memcached_start "$STATE/mcsock" 0 "$STATE/mcsock/s/memcached.sock"
out=$(SWITCHBOARD_MEMCACHED_SERVERS=$STATE/mcsock/s/memcached.sock $CTL check 2>&1); rc=$?
expect_match "memcached is reached on a unix socket" "memcached +ok: reached $STATE/mcsock/s/memcached.sock" "$out"
out=$(SWITCHBOARD_MEMCACHED_SERVERS="127.0.0.1:$MC_PORT, $STATE/mcsock/s/memcached.sock" $CTL check 2>&1)
expect_match "and with a TCP server in the same list" "memcached +ok" "$out"
sb_stop_pidfile "$STATE/mcsock/memcached.pid" 5
out=$(SWITCHBOARD_MEMCACHED_SERVERS="127.0.0.1:notaport" $CTL check 2>&1)
expect_match "a malformed server list is named" 'memcached +FAIL: malformed server list' "$out"
out=$(SWITCHBOARD_DATABASE_URL=$(scratch_db sb_empty) $CTL check 2>&1); rc=$?
expect_eq "check fails on an unmigrated database" 1 "$rc"
expect_match "and says to migrate" 'schema +FAIL: .*run switchboardctl migrate' "$out"

printf '[server]\nworkers = 2\nbogus_key = 1\n' >"$STATE/bad.conf"
out=$("$SB_BUILD/switchboard-fcgi" -t -c "$STATE/bad.conf" 2>&1); rc=$?
expect_eq "switchboard-fcgi -t rejects an unknown key" 1 "$rc"
expect_match "the error names file and line" "bad\.conf:3: unknown key \"bogus_key\" in \[server\]" "$out"
out=$("$SB_BUILD/switchboard-fcgi" -t -c "$STATE/no-such.conf" 2>&1); rc=$?
expect_eq "a config file named with -c must exist" 1 "$rc"
expect_match "and the error names it" 'no-such\.conf: No such file or directory' "$out"
default_conf=$(sed -n 's/^sysconfdir = //p' "$SB_BUILD/Makefile" | sed "s#\${prefix}#$(sed -n 's/^prefix = //p' "$SB_BUILD/Makefile")#")/switchboard/switchboard.conf
if [ ! -e "$default_conf" ]; then
	"$SB_BUILD/switchboard-fcgi" -t -c "$default_conf" >/dev/null 2>&1
	expect_eq "so must the default file when named with -c (as the unit does)" 1 "$?"
	out=$(env -u SWITCHBOARD_CONFIG "$SB_BUILD/switchboard-fcgi" -t 2>&1)
	expect_match "without -c a missing default file means defaults and environment" 'configuration ok \(defaults and environment\)' "$out"
fi
out=$(SWITCHBOARD_SERVER_WORKERS=many "$SB_BUILD/switchboard-fcgi" -t -c "$SB_CONF" 2>&1); rc=$?
expect_eq "a bad environment override is rejected" 1 "$rc"
expect_match "the error names the variable" 'SWITCHBOARD_SERVER_WORKERS: expected a whole number' "$out"
psql_admin -d postgres -c "DROP DATABASE sb_concurrent" -c "DROP DATABASE sb_empty" >/dev/null
