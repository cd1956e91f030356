# t_build.sh: configure names the Debian package of a library it cannot find.

dir=$STATE/configure-missing
mkdir -p "$dir"
out=$(cd "$dir" && PKG_CONFIG_LIBDIR=$dir/empty "$SB_SRC/configure" 2>&1)
rc=$?
check "configure fails when a library is missing" test "$rc" -ne 0
expect_match "and names the Debian package to install" \
	'fcgi not found: install the Debian package libfcgi-dev \(apt-get install libfcgi-dev\)' "$out"

# The browser app's toolchain: a clang without the wasm32 target, and no wasi-libc.
dir=$STATE/configure-wasm
mkdir -p "$dir"
out=$(cd "$dir" && WASM_CC=false "$SB_SRC/configure" 2>&1)
rc=$?
check "configure fails without a compiler for wasm32" test "$rc" -ne 0
expect_match "and names the Debian packages of the toolchain" \
	'install the Debian packages clang lld wasi-libc libclang-rt-14-dev-wasm32' "$out"
out=$(cd "$dir" && WASM_SYSROOT=$dir/no-sysroot "$SB_SRC/configure" 2>&1)
rc=$?
check "configure fails without wasi-libc" test "$rc" -ne 0
expect_match "and names its Debian package" 'install the Debian package wasi-libc' "$out"
