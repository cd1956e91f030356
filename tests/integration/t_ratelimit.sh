# t_ratelimit.sh: core/ratelimit.c against the real memcached (sb-ratecheck prints one line per check).

out=$("$SB_BUILD/sb-ratecheck" "127.0.0.1:$MC_PORT" 2>&1)
rc=$?
while IFS= read -r line; do
	case $line in
	"ok - "*) pass "${line#ok - }" ;;
	"FAIL - "*) fail "${line#FAIL - }" "see sb-ratecheck" ;;
	esac
done <<<"$out"
expect_eq "sb-ratecheck exits 0" 0 "$rc"
check "sb-ratecheck ran its checks" test "$(printf '%s\n' "$out" | grep -c '^ok - ')" -ge 30
