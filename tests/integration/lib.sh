# lib.sh: assertions for the integration tests.  Each check prints one line,
# "ok - name" or "FAIL - name: why", and is counted for the closing summary.

T_PASSED=0
T_FAILED=0

pass() { T_PASSED=$((T_PASSED + 1)); printf 'ok - %s\n' "$1"; }
fail() { T_FAILED=$((T_FAILED + 1)); printf 'FAIL - %s: %s\n' "$1" "$2"; }

# check NAME CMD...: passes when CMD exits 0.
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name" "command failed: $*"; fi
}

# expect_eq NAME WANT GOT
expect_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "want [$2], got [$3]"; fi
}

# expect_match NAME REGEX TEXT
# (A here-string, not a pipe: grep -q stops at the first match, and under pipefail the
# writer's SIGPIPE on a text over the pipe's 64 KiB would count as no match.)
expect_match() {
	if grep -Eq -- "$2" <<<"$3"; then pass "$1"; else fail "$1" "[$3] does not match /$2/"; fi
}

# http METHOD URL [curl args...]: sets H_STATUS, H_BODY, H_HEADERS (lower-cased names).
http() {
	local method=$1 url=$2 out
	shift 2
	out=$(mktemp)
	local verb=(-X "$method")
	[ "$method" = HEAD ] && verb=(--head)
	H_STATUS=$(curl -sS -o "$out.body" -D "$out.head" -w '%{http_code}' "${verb[@]}" \
		--max-time 20 "$@" "$url" 2>"$out.err") || H_STATUS=000
	H_BODY=$(cat "$out.body" 2>/dev/null || true)
	H_HEADERS=$(tr -d '\r' <"$out.head" 2>/dev/null | sed 's/^\([^:]*\):/\L\1:/' || true)
	rm -f "$out" "$out.body" "$out.head" "$out.err"
}

# header NAME: the value of a response header from the last http call.
header() { printf '%s\n' "$H_HEADERS" | sed -n "s/^$1: //p" | tail -n 1; }

# jq-free JSON field reading: json_get FIELD reads a top-level string or number.
json_get() {
	printf '%s' "$H_BODY" | sed -n "s/.*\"$1\":\(\"[^\"]*\"\|[-0-9.]*\|true\|false\|null\).*/\1/p" |
		head -n 1 | sed 's/^"\(.*\)"$/\1/'
}

# psql_su ARGS...: psql as the superuser on the test database (unaligned, tuples only),
# for setting up and inspecting what the API cannot.
psql_su() { sb_as_pg "$(sb_pg_bindir)/psql" -h "$STATE/pg/run" -p "$PG_PORT" -U postgres -d switchboard -qAtX "$@"; }
