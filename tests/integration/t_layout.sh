# t_layout.sh: the arrows of docs/architecture.md ("Modules and their arrows") hold in
# the sources: which directory may include which, one include spelling, and headers
# that say what they are for.

# The project headers a set of files includes: "FILE: HEADER" lines.
layout_includes() {
	grep -Ho '^#include "[^"]*"' "$@" 2>/dev/null | sed 's/#include "//; s/"$//'
}

# The lines of layout_includes that break a rule: those whose header matches the
# extended regex bad.
layout_offenders() {
	local bad=$1
	shift
	layout_includes "$@" | grep -E ":($bad)\$"
}

layout_rule() {
	local name=$1 bad=$2 off
	shift 2
	off=$(layout_offenders "$bad" "$@")
	if [ -z "$off" ]; then pass "$name"; else fail "$name" "$(printf '%s ' $off)"; fi
}

cd "$SB_SRC" || exit 1

layout_rule "core/ includes nothing above it (no fcgi-app/, handlers/, stream/, worker/, cli/)" \
	'(fcgi-app|handlers|stream|worker|cli|tests)/.*' core/*.c core/*.h
layout_rule "worker/ never sees an HTTP request (no fcgi-app/, handlers/, stream/)" \
	'(fcgi-app|handlers|stream)/.*' worker/*.c worker/*.h worker/llm/*.c worker/llm/*.h
layout_rule "handlers/ never talk to a provider or the worker (no worker/, stream/)" \
	'(worker|stream)/.*' handlers/*.c handlers/*.h
layout_rule "handlers/ and stream/ know nothing of switchboard-fcgi's own processes (prefork.h)" \
	'fcgi-app/prefork\.h' handlers/*.c handlers/*.h stream/*.c stream/*.h
off=$(layout_includes web/src/*.c web/src/*.h | grep -vE ':(config\.h|core/arena\.h|core/buf\.h|web/src/[a-z_]+\.h)$')
if [ -z "$off" ]; then pass "web/src/ (built for wasm32 too) includes only itself, core/arena.h and core/buf.h"
else fail "web/src/ (built for wasm32 too) includes only itself, core/arena.h and core/buf.h" "$(printf '%s ' $off)"; fi
layout_rule "cli/ is no FastCGI program (no fcgi-app/, handlers/, stream/, worker/)" \
	'(fcgi-app|handlers|stream|worker)/.*' cli/*.c cli/*.h

# The app module (libsbapp.a) is what both FastCGI programs sit on: its fcgi-app/
# files are the ones Makefile.am lists for it, and none of them includes prefork.h.
app_files=$(sed -n '/^libsbapp_a_SOURCES/,/^$/p' Makefile.am | grep -o 'fcgi-app/[a-z-]*\.[ch]')
check "Makefile.am lists the app module's fcgi-app/ files" test -n "$app_files"
# shellcheck disable=SC2086
layout_rule "the app module's fcgi-app/ files know nothing of the prefork processes" \
	'fcgi-app/prefork\.h' $app_files

# One spelling: every project include names its file from the top of the tree (the
# build's only include path); config.h and build-info.h are the build's own.
bad=""
while IFS= read -r line; do
	h=${line#*:}
	case $h in config.h | build-info.h) continue ;; esac
	[ -f "$h" ] || bad="$bad $line"
done < <(layout_includes core/*.[ch] fcgi-app/*.[ch] handlers/*.[ch] stream/*.[ch] \
	worker/*.[ch] worker/llm/*.[ch] cli/*.[ch] tests/unit/*.[ch] tests/fuzz/*.[ch] \
	tests/mock/*.[ch] tests/integration/*.c)
if [ -z "$bad" ]; then pass "every project include is spelled from the top of the tree"
else fail "every project include is spelled from the top of the tree" "$bad"; fi
expect_eq "the build adds no include path but the tree's top" '-I$(top_srcdir)' \
	"$(grep -o -- '-I[^ ]\+' Makefile.am tests/fuzz/fuzz.mk | sed 's/^[^:]*://' |
		grep -v -- '-I\$(B)' | sed 's/-I\$(ROOT)/-I$(top_srcdir)/' | sort -u)"

# Each header opens with its own name and what it is for.
bad=""
for h in core/*.h fcgi-app/*.h handlers/*.h stream/*.h worker/*.h worker/llm/*.h cli/*.h web/src/*.h; do
	head -n 1 "$h" | grep -q "^/\* $(basename "$h"): ." || bad="$bad $h"
done
if [ -z "$bad" ]; then pass "each header opens with what it is for"
else fail "each header opens with what it is for" "$bad"; fi

# Every migration is installed: switchboardctl migrate reads them from the data
# directory, and /readyz wants the last one applied.
bad=""
for f in sql/*.sql; do
	grep -q "$f" Makefile.am || bad="$bad $f"
done
if [ -z "$bad" ]; then pass "every sql/ migration is installed (dist_sql_DATA)"
else fail "every sql/ migration is installed (dist_sql_DATA)" "$bad"; fi

cd - >/dev/null || exit 1
