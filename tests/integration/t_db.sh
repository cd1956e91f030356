# t_db.sh: core/db.c against the real PostgreSQL (sb-dbcheck prints one line per check).

out=$("$SB_BUILD/sb-dbcheck" "$(sb_pg_url "$STATE" "$PG_PORT")" 2>&1)
rc=$?
while IFS= read -r line; do
	case $line in
	"ok - "*) pass "${line#ok - }" ;;
	"FAIL - "*) fail "${line#FAIL - }" "see sb-dbcheck" ;;
	esac
done <<<"$out"
expect_eq "sb-dbcheck exits 0" 0 "$rc"
check "sb-dbcheck ran its checks" test "$(printf '%s\n' "$out" | grep -c '^ok - ')" -ge 15
