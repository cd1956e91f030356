#!/usr/bin/env bash
# run.sh [TARGET] [SECONDS]: builds the fuzz targets if needed, then fuzzes each one
# (or TARGET alone) for SECONDS (5 by default), one after the other, niced, one
# process at a time.  Prints one line per target:
#   fuzz TARGET: ok (N runs, S s)
#   fuzz TARGET: CRASH (file)
# and exits non-zero if any target crashed.  A crashing input is kept in
# var/fuzz/crashes/TARGET/ (replay it with: var/build/fuzz/fuzz_TARGET FILE).
# The committed seeds in tests/fuzz/corpus/TARGET/ are only read; what a run
# learns goes to var/fuzz/corpus/TARGET/ and is reused by the next run.  A
# dictionary in tests/fuzz/dict/TARGET.dict is passed when there is one.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bdir=${SB_FUZZ_BUILD:-$root/var/build/fuzz}
work=$root/var/fuzz
only=${1:-}
secs=${2:-5}

case $only in
'' | all) only= ;;
*[!a-z0-9_]*) echo "run.sh: bad target name: $only" >&2; exit 2 ;;
esac
case $secs in
'' | *[!0-9]*) echo "run.sh: SECONDS must be a whole number: $secs" >&2; exit 2 ;;
esac

mkdir -p "$bdir" "$work/logs"
if ! nice -n 19 bash "$root/tests/fuzz/build.sh" "$bdir" >"$work/logs/build.log" 2>&1; then
	tail -n 30 "$work/logs/build.log" >&2
	echo "fuzz build: FAILED (see $work/logs/build.log)"
	exit 1
fi

targets=()
for f in "$root"/tests/fuzz/fuzz_*.c; do
	t=$(basename "$f" .c)
	t=${t#fuzz_}
	[ -z "$only" ] || [ "$only" = "$t" ] && targets+=("$t")
done
[ "${#targets[@]}" -gt 0 ] || { echo "run.sh: no target named $only" >&2; exit 2; }

failed=0
for t in "${targets[@]}"; do
	corpus=$work/corpus/$t crashes=$work/crashes/$t log=$work/logs/$t.log
	mkdir -p "$corpus" "$crashes"
	seeds=() dict=()
	[ -d "$root/tests/fuzz/corpus/$t" ] && seeds=("$root/tests/fuzz/corpus/$t")
	[ -f "$root/tests/fuzz/dict/$t.dict" ] && dict=(-dict="$root/tests/fuzz/dict/$t.dict")
	# Single process (no -jobs/-workers), lowest priority: the machine is shared.
	nice -n 19 "$bdir/fuzz_$t" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$crashes/" "${dict[@]}" \
		"$corpus" "${seeds[@]}" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
	took=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$log" | tail -n 1)
	if [ "$rc" = 0 ] && [ -n "$runs" ]; then
		echo "fuzz $t: ok ($runs runs, $took s)"
	else
		file=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
		echo "fuzz $t: CRASH (${file:-no input saved; see $log})"
		failed=$((failed + 1))
	fi
done
[ "$failed" = 0 ]
