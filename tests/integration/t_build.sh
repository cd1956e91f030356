# t_build.sh: configure names the Debian package of a library it cannot find.

dir=$STATE/configure-missing
mkdir -p "$dir"
out=$(cd "$dir" && PKG_CONFIG_LIBDIR=$dir/empty "$SB_SRC/configure" 2>&1)
rc=$?
check "configure fails when a library is missing" test "$rc" -ne 0
expect_match "and names the Debian package to install" \
	'fcgi not found: install the Debian package libfcgi-dev \(apt-get install libfcgi-dev\)' "$out"
