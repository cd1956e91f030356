# t_install.sh: `make install` puts every file where the docs and units expect it.

dest=$STATE/install
(cd "$SB_BUILD" && make install DESTDIR="$dest" >"$STATE/install.log" 2>&1)
expect_eq "make install succeeds" 0 "$?"
prefix=$(sed -n 's/^prefix = //p' "$SB_BUILD/Makefile")
sysconf=$(sed -n 's/^sysconfdir = //p' "$SB_BUILD/Makefile" | sed "s#\${prefix}#$prefix#")
unitdir=$(sed -n 's/^systemdsystemunitdir = //p' "$SB_BUILD/Makefile")
for f in "$prefix/sbin/switchboard-fcgi" "$prefix/bin/switchboardctl"; do
	check "installed executable $f" test -x "$dest$f"
done
for f in "$prefix/share/switchboard/sql/001_init.sql" "$prefix/share/switchboard/web/index.html" \
	"$sysconf/switchboard/switchboard.conf.example" "$sysconf/switchboard/Caddyfile" \
	"$sysconf/switchboard/apache2/switchboard.conf" "$sysconf/switchboard/apache2/switchboard-mpm.conf"; do
	check "installed $f" test -f "$dest$f"
done
# The browser app: the files index.html names, each with its gzip copy.
web=$dest$prefix/share/switchboard/web
for ext in wasm js css; do
	f=$(grep -o "[a-z]*\.[0-9a-f]\{10\}\.$ext" "$web/index.html" 2>/dev/null | head -n 1)
	check "installed the .$ext file index.html names, and its gzip copy" \
		test -n "$f" -a -s "$web/$f" -a -s "$web/$f.gz"
done
for f in "$SB_ROOT"/sql/[0-9][0-9][0-9]_*.sql; do
	check "migration $(basename "$f") is installed" test -f "$dest$prefix/share/switchboard/sql/$(basename "$f")"
done
check "the example is not installed under the live config's name" test ! -e "$dest$sysconf/switchboard/switchboard.conf"
if [ -n "$unitdir" ]; then
	for f in switchboard-fcgi.socket switchboard-fcgi.service; do
		check "installed unit $f" test -f "$dest$unitdir/$f"
	done
else
	fail "systemd units installed" "the test build was configured without --with-systemdsystemunitdir"
fi
# The installed program finds the installed migrations by default.
out=$("$dest$prefix/bin/switchboardctl" -c /dev/null check 2>&1)
expect_match "the default sql_dir is the installed one" "sql_dir +.*$prefix/share/switchboard/sql" "$out"
