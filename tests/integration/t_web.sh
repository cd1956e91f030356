# t_web.sh: the browser app as the web servers serve it (types, gzip copies, caching,
# CSP), and end to end in Chromium (tests/e2e/app.mjs: sign in, home's live feed,
# the agents catalog, chat with streamed tokens, a tool card, a question answered
# from the inbox in another browser, offline mid-stream, run detail, keys, audit log,
# knowledge base, the long poll without EventSource, axe-core on each page), each of
# its checks counted here, against a worker whose providers are the mock provider.
# Screenshots of every page are kept in var/e2e.

for server in caddy apache; do
	if [ "$server" = caddy ]; then base=$CADDY_URL; else base=$APACHE_URL; fi
	http GET "$base/"
	expect_eq "$server: the app's index.html is served" 200 "$H_STATUS"
	expect_eq "$server: index.html is revalidated every time" "no-cache" "$(header cache-control)"
	expect_match "$server: index.html has no inline script" '<script src="glue\.[0-9a-f]{10}\.js" data-wasm="app\.[0-9a-f]{10}\.wasm" defer></script>' "$H_BODY"
	expect_match "$server: the CSP allows WebAssembly and no inline script" \
		"script-src 'self' 'wasm-unsafe-eval';.*object-src 'none'.*frame-ancestors 'none'; base-uri 'none'" \
		"$(header content-security-policy)"
	wasm=$(grep -o 'app\.[0-9a-f]\{10\}\.wasm' <<<"$H_BODY" | head -n 1)
	glue=$(grep -o 'glue\.[0-9a-f]\{10\}\.js' <<<"$H_BODY" | head -n 1)
	css=$(grep -o 'app\.[0-9a-f]\{10\}\.css' <<<"$H_BODY" | head -n 1)
	for f in "$wasm" "$glue" "$css"; do
		case $f in
		*.wasm) type='application/wasm' ;;
		*.js) type='text/javascript' ;;
		*) type='text/css' ;;
		esac
		http HEAD "$base/$f"
		expect_eq "$server: $f is served" 200 "$H_STATUS"
		expect_match "$server: $f is $type" "^$type" "$(header content-type)"
		expect_eq "$server: $f is kept for a year" "public, max-age=31536000, immutable" "$(header cache-control)"
		expect_eq "$server: $f unasked is not compressed" "" "$(header content-encoding)"
		plain=$(curl -s "$base/$f" | sha256sum)
		zipped=$(curl -s -H 'Accept-Encoding: gzip' -D "$STATE/web-head" "$base/$f" | gunzip 2>/dev/null | sha256sum)
		expect_eq "$server: $f goes gzip'd to a browser that takes it, the same bytes" "$plain" "$zipped"
		expect_match "$server: $f gzip'd says so" '^content-encoding: gzip' "$(tr -d '\r' <"$STATE/web-head" | tr 'A-Z' 'a-z')"
		expect_match "$server: $f gzip'd keeps its type" "^content-type: $type" "$(tr -d '\r' <"$STATE/web-head" | tr 'A-Z' 'a-z')"
	done
done

# The size of what a browser downloads, compressed (budget: 150 KiB for wasm + JS + CSS).
root=$(sb_web_root)
size=$(cat "$root"/app.*.wasm.gz "$root"/glue.*.js.gz "$root"/app.*.css.gz | wc -c)
echo "# web: wasm + JS + CSS, gzip'd: $size bytes"
expect_eq "the app's wasm, JS and CSS are 150 KiB or less compressed" 1 "$((size <= 150 * 1024))"

# End to end in Chromium, with a user of its own org, and a worker whose providers
# are the mock provider (the chat's agents are its models).
WB=$STATE/worker
mkdir -p "$WB"
sb_free_port WB_LLM
sb_free_port WB_M
"$SB_BUILD/sb-mock-llm" "$WB_LLM" >"$WB/wb-mock.log" 2>&1 &
echo $! >"$WB/wb-mock.pid"
sb_wait_for "exec 3<>/dev/tcp/127.0.0.1/$WB_LLM" 5 || fail "web: the mock provider starts" "no port"
worker_conf "$WB" "$WB_LLM" wbw "$WB_M"
worker_start "$WB" wbw "$WB_M" || fail "web: the worker starts" "see $WB/wbw.log"
$CTL org add webe2e "Web e2e" --exist-ok >/dev/null
printf '%s\n' 'web-e2e-password-1' | $CTL user add --org webe2e --email owner@webe2e.test \
	--role owner --name "Web e2e" --exist-ok >/dev/null
$CTL agents import "$SB_ROOT/conf/agents" >/dev/null
shots=$(sb_var_make)/e2e
rm -rf "$shots"
out=$(timeout 420 node "$SB_ROOT/tests/e2e/app.mjs" "$CADDY_URL" owner@webe2e.test web-e2e-password-1 "$shots" 2>&1)
rc=$?
n=0
while IFS= read -r line; do
	case $line in
	"ok - "*) pass "e2e: ${line#ok - }"; n=$((n + 1)) ;;
	"FAIL - "*) rest=${line#FAIL - }; fail "e2e: ${rest%%: *}" "${rest#*: }"; n=$((n + 1)) ;;
	"# "*) echo "$line" ;;
	esac
done <<<"$out"
[ "$n" -gt 0 ] || fail "e2e: the browser checks ran" "$(tail -n 5 <<<"$out")"
expect_eq "e2e: the browser run ended well" 0 "$rc"
for p in login home agents chat run inbox keys audit kb; do
	check "e2e: a screenshot of $p is kept" test -s "$shots/$p-1440.png"
done
sb_stop_pidfile "$WB/wbw.pid" 5
sb_stop_pidfile "$WB/wb-mock.pid" 5
