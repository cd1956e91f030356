#!/usr/bin/env bash
# build.sh [BUILD_DIR]: builds every libFuzzer target (tests/fuzz/fuzz_*.c) with clang,
# ASan and UBSan, from the project's own sources, without the autotools build.
# BUILD_DIR defaults to var/build/fuzz.  Rebuilds only what changed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bdir=${1:-$root/var/build/fuzz}
mkdir -p "$bdir"
bdir=$(cd "$bdir" && pwd)

command -v clang >/dev/null ||
	{ echo "build.sh: clang not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
exec make --no-print-directory -j"$(nproc)" -f "$root/tests/fuzz/fuzz.mk" ROOT="$root" B="$bdir"
