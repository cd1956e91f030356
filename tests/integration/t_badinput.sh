# t_badinput.sh: bad input on every route of `switchboard-fcgi -R`, through Caddy and
# Apache, to both programs: broken JSON, deep nesting, NUL and invalid UTF-8, numbers
# past 2^63, wrong types, oversized bodies, headers and queries, CRLF in headers, bad
# path ids.  Every answer the program gives to bad input is a problem+json 4xx of a type
# listed in docs/api.md, or the route's normal answer where the input is acceptable;
# never a 5xx, and no process dies.  A 4xx of the web server itself (no X-Request-Id:
# Apache's 400 for a header line over 8190 bytes, its 414) is accepted as it is.
#
# The cells come from the route table and authz.txt, as in t_authz.sh: a new route is
# swept without a change here (its valid body from authz.txt, its query parameters from
# BI_QUERY below when it reads any).

BI_T0=$(date +%s)
BI=$STATE/badinput
mkdir -p "$BI"
BI_PW='badinput password 0123'
$CTL org add badin >/dev/null
printf '%s\n' "$BI_PW" | $CTL user add --org badin --email owner@badin.test --role owner >/dev/null
BI_SCOPES=runs:read,runs:write,agents:read,agents:admin,keys:admin,users:admin,usage:read,audit:read,org:admin,inbox:read,inbox:write,kb:read,kb:write
$CTL agents import "$SB_ROOT/conf/agents" >/dev/null
printf '{"slug":"badin-target","name":"Target","provider":"builtin","model":"builtin"}\n' >"$BI/agent.json"
$CTL agents import --org badin "$BI/agent.json" >/dev/null
BI_KEY=$($CTL key create --org badin --scopes "$BI_SCOPES")
check "badinput: a key with every scope" test -n "$BI_KEY"
BI_TARGET_KEY=$($CTL key create --org badin --scopes runs:read --name target | cut -c4-15)
# A finished run: its stream replays and ends, its cancel leaves it as it is.
BI_RUN=$(curl -s -H "Authorization: Bearer $BI_KEY" -H 'Content-Type: application/json' \
	--data '{"agent":"summarizer","input":"bad input"}' "$CADDY_URL/api/v1/runs" | sed -n 's/.*"id":"\([0-9a-f-]\{36\}\)".*/\1/p')
check "badinput: a run to aim at" test -n "$BI_RUN"
curl -s -o /dev/null -X POST -H "Authorization: Bearer $BI_KEY" "$CADDY_URL/api/v1/runs/$BI_RUN/cancel"
# A thread (with a default agent, for its runs); its DELETE is the last of its routes.
BI_THREAD=$(curl -s -H "Authorization: Bearer $BI_KEY" -H 'Content-Type: application/json' \
	--data '{"title":"bad input","agent":"summarizer"}' "$CADDY_URL/api/v1/threads" | sed -n 's/^{"id":"\([0-9a-f-]\{36\}\)".*/\1/p')
BI_THREAD_DEL=$(curl -s -H "Authorization: Bearer $BI_KEY" -H 'Content-Type: application/json' \
	--data '{}' "$CADDY_URL/api/v1/threads" | sed -n 's/^{"id":"\([0-9a-f-]\{36\}\)".*/\1/p')
check "badinput: threads to aim at" test -n "$BI_THREAD" -a -n "$BI_THREAD_DEL"
# An inbox item, on a run that waits for it: the first good answer takes it, the rest
# are 409.
BI_ITEM=9b1d0a7e-3c52-4e8f-a6d4-0badd1e5e1f0
BI_ITEM_RUN=$(curl -s -H "Authorization: Bearer $BI_KEY" -H 'Content-Type: application/json' \
	--data '{"agent":"summarizer","input":"bad input, inbox"}' "$CADDY_URL/api/v1/runs" | sed -n 's/.*"id":"\([0-9a-f-]\{36\}\)".*/\1/p')
check "badinput: an inbox item to aim at" test -n "$BI_ITEM_RUN"
inbox_fixture "$BI_ITEM_RUN" "$BI_ITEM"
# Knowledge-base documents: one read, one for DELETE (the last of its routes).
BI_DOC=$(curl -s -H "Authorization: Bearer $BI_KEY" -H 'Content-Type: application/json' \
	--data '{"title":"bad input","content":"A document to aim at."}' "$CADDY_URL/api/v1/kb/documents" | sed -n 's/^{"id":"\([0-9a-f-]\{36\}\)".*/\1/p')
BI_DOC_DEL=$(curl -s -H "Authorization: Bearer $BI_KEY" -H 'Content-Type: application/json' \
	--data '{"title":"bad input, deleted","content":"Gone soon."}' "$CADDY_URL/api/v1/kb/documents" | sed -n 's/^{"id":"\([0-9a-f-]\{36\}\)".*/\1/p')
check "badinput: documents to aim at" test -n "$BI_DOC" -a -n "$BI_DOC_DEL"

# The documented problem types (docs/api.md, "### Problem types").
BI_TYPES=" $(sed -n '/^### Problem types/,/^## /p' "$SB_ROOT/docs/api.md" | grep -oE '`/problems/[a-z0-9-]+`' |
	sed 's,`/problems/\(.*\)`,\1,' | sort -u | tr '\n' ' ')"
check "badinput: docs/api.md lists problem types" test "$(wc -w <<<"$BI_TYPES")" -ge 30

# The query parameters each route reads (the others are ignored, and must be).
declare -A BI_QUERY=(
	["GET /api/v1/keys"]="limit cursor"
	["GET /api/v1/audit"]="limit cursor"
	["GET /api/v1/runs"]="limit cursor since state"
	["GET /api/v1/runs/{id}/events"]="limit cursor after wait"
	["GET /api/v1/runs/{id}/stream"]="after"
	["GET /api/v1/stream"]="after"
	["GET /api/v1/threads"]="limit cursor"
	["GET /api/v1/threads/{id}/messages"]="limit cursor"
	["GET /api/v1/threads/{id}/stream"]="after"
	["GET /api/v1/inbox"]="limit cursor state"
	["GET /api/v1/kb/documents"]="limit cursor"
)
# Members of a valid body that take any JSON value.
BI_FREE=" POST /api/v1/runs input "

# Static bodies.
{ head -c 10000 /dev/zero | tr '\0' '['; } >"$BI/deep-open"
{ head -c 10000 /dev/zero | tr '\0' '['; head -c 10000 /dev/zero | tr '\0' ']'; } >"$BI/deep-10000"
{ head -c 4000 /dev/zero | tr '\0' '['; head -c 4000 /dev/zero | tr '\0' ']'; } >"$BI/deep-4000"
{ printf '{"a":"'; head -c 1048600 /dev/zero | tr '\0' 'x'; printf '"}'; } >"$BI/big"
printf '{"a":"x\xff\xfey"}' >"$BI/utf8"
printf '{"a":"\xc0\xaf"}' >"$BI/overlong"
BI_PAD=$(head -c 8000 /dev/zero | tr '\0' 'p')
BI_LONG=$(head -c 300 /dev/zero | tr '\0' 'a')
BI_Q20K=$(head -c 20000 /dev/zero | tr '\0' 'q')
BI_PAIRS5K=$(for ((i = 0; i < 5000; i++)); do printf 'p%d=1&' "$i"; done)
BI_PAIRS1K=$(for ((i = 0; i < 1000; i++)); do printf 'p=%d&' "$i"; done)

BI_SRC=0	# 127.0.3.N: logins come from many addresses
BI_N=0		# requests, across the sweep
BI_SWEEP_CHECKS=0

# bi_norm METHOD PATTERN ACCESS STATUS: the route's normal answers to an allowed caller.
bi_norm() {
	local m=$1 p=$2 access=$3 st=$4
	if [ "$access" = session ]; then echo "204:- 401:unauthenticated"	# the first one ends it
	elif [ "$m" = DELETE ] && [[ $p == *"{slug}"* ]]; then echo "204:- 404:blank"	# then it is gone
	elif [ "$m" = DELETE ] && [[ $p == /api/v1/threads/* || $p == /api/v1/kb/documents/* ]]; then echo "204:- 404:blank"
	elif [ "$m" = PUT ] && [[ $p == *"{slug}"* ]]; then echo "200:- 201:-"
	elif [[ $p == */answer ]]; then echo "200:- 409:inbox-closed"	# then it is answered
	elif [ "$st" = 404 ]; then echo "404:blank"
	elif [ "$st" = 401 ]; then echo "401:invalid-credentials"
	elif [[ $p == */runs/\{id\}/stream ]]; then echo "200:- 204:-"
	else echo "$st:-"
	fi
}

# bi_cfg GROUP SPEC METHOD URL BODYFILE [config lines...]: one request of the batch.
bi_cfg() {
	local group=$1 spec=$2 m=$3 url=$4 body=$5 l
	shift 5
	BI_I=$((BI_I + 1))
	BI_N=$((BI_N + 1))
	printf '%s\t%s\t%s\n' "$BI_I" "$group" "$spec" >>"$BI/want"
	{
		# "next" between requests only: an empty last one would abort the batch.
		[ "$BI_I" -gt 1 ] && printf 'next\n'
		printf 'url = "%s"\nrequest = "%s"\noutput = "%s/out/%s"\n' "$url" "$m" "$BI" "$BI_I"
		printf 'write-out = "%%{filename_effective}\\t%%{http_code}\\t%%header{content-type}\\t%%header{x-request-id}\\t%%{exitcode} %%{errormsg}\\n"\n'
		printf 'max-time = %s\npath-as-is\n' "$BI_MAXTIME"
		[ "$body" != - ] && printf 'data-binary = "@%s"\n' "$body"
		for l in "$@"; do
			# Streams spread over four keys: closed ones linger a moment in the count.
			[ "$BI_MAXTIME" != 20 ] && [ "$l" = "${BI_AUTH[0]}" ] && [[ $l == *Bearer* ]] &&
				l="header = \"Authorization: Bearer ${BI_ROTK[BI_I % 4]}\""
			printf '%s\n' "$l"
		done
		[ -n "$BI_IFACE" ] && { BI_SRC=$((BI_SRC % 250 + 1)); printf 'interface = "127.0.3.%d"\n' "$BI_SRC"; }
	} >>"$BI/cfg"
}

# bi_body GROUP SPEC TEXT [config lines...]: a request with TEXT as its JSON body.
bi_body() {
	local f=$BI/body.$((BI_I + 1))
	printf '%s' "$3" >"$f"
	bi_cfg "$1" "$2" "$BI_M" "$BI_URL" "$f" "${BI_AUTH[@]}" 'header = "Content-Type: application/json"' "${@:4}"
}

# bi_valid: the route's valid body (or {} for a route without one).
bi_valid() {
	local b=${BI_VALID//\{n\}/bi$BI_N}
	[ -n "$b" ] || b='{}'
	printf '%s' "$b"
}

# bi_route M P SCOPE ACCESS STATUS BODY BASE: every case for one route on $BI_BASE.
bi_route() {
	local m=$1 p=$2 access=$4 st=$5 qbase=$7 norm auth401 path good id ids stream=0 f mem v k q qs t
	BI_M=$m BI_VALID=$6
	[ "$BI_VALID" = - ] && BI_VALID=
	norm=$(bi_norm "$m" "$p" "$access" "$st")
	auth401=$([ "$access" = public ] && echo "$norm" || echo "401:unauthenticated")
	path=${p//\{slug\}/badin-target}
	case $p in
	/api/v1/runs/*) path=${path//\{id\}/$BI_RUN} ;;
	/api/v1/threads/*)
		# DELETE has a thread of its own: the other routes' goes on existing.
		if [ "$m" = DELETE ]; then path=${path//\{id\}/$BI_THREAD_DEL}; else path=${path//\{id\}/$BI_THREAD}; fi ;;
	/api/v1/inbox/*) path=${path//\{id\}/$BI_ITEM} ;;
	/api/v1/kb/documents/*)
		if [ "$m" = DELETE ]; then path=${path//\{id\}/$BI_DOC_DEL}; else path=${path//\{id\}/$BI_DOC}; fi ;;
	*) path=${path//\{id\}/$BI_TARGET_KEY} ;;
	esac
	[[ $p =~ ^/api/v1/(stream|runs/[^/]+/stream|threads/[^/]+/stream)$ || $qbase == *wait=* ]] && stream=1
	BI_URL=$BI_BASE$path$qbase
	good=$path$qbase
	BI_IFACE=
	[ "$p" = /api/v1/auth/login ] && BI_IFACE=1
	BI_MAXTIME=20
	[ "$stream" = 1 ] && BI_MAXTIME=1.5
	BI_AUTH=("header = \"Authorization: Bearer $BI_KEY\"")
	if [ "$access" = session ]; then
		BI_SRC=$((BI_SRC % 250 + 1))
		http POST "$BI_BASE/api/v1/auth/login" --interface "127.0.3.$BI_SRC" -H 'Content-Type: application/json' \
			--data "{\"email\":\"owner@badin.test\",\"password\":\"$BI_PW\"}"
		[ "$H_STATUS" = 200 ] || fail "badinput: log in for $m $p" "$H_STATUS $H_BODY"
		BI_AUTH=("header = \"Cookie: sb_session=$(header set-cookie | sed -n 's/^sb_session=\([^;]*\);.*/\1/p')\""
			"header = \"X-CSRF-Token: $(json_get csrf_token)\"")
	else
		# Streams count against stream.max_per_user, writes against
		# ratelimit.writes_per_minute: a key of its own for each batch.
		BI_AUTH=("header = \"Authorization: Bearer $($CTL key create --org badin --scopes "$BI_SCOPES")\"")
		if [ "$stream" = 1 ]; then
			BI_ROTK=()
			for k in 1 2 3 4; do BI_ROTK+=("$($CTL key create --org badin --scopes "$BI_SCOPES")"); done
		fi
	fi
	: >"$BI/cfg"
	: >"$BI/want"
	: >"$BI/got.raw"
	rm -rf "$BI/out" "$BI"/body.*
	mkdir -p "$BI/out"
	BI_I=0

	# ---- bodies
	for v in '{' '[1,]' '{"a":}' '' '[' '{"a":1,"a":2}' 'null' '"str"' '42' '{"a":tru}' "{'a':1}"; do
		[ -z "$v" ] && continue
		bi_body body-malformed "400:invalid-json" "$v"
	done
	bi_cfg body-deep "$([ $stream = 1 ] && echo 413:body-too-large || echo 400:invalid-json)" "$m" "$BI_URL" "$BI/deep-open" \
		"${BI_AUTH[@]}" 'header = "Content-Type: application/json"'
	bi_cfg body-deep "$([ $stream = 1 ] && echo 413:body-too-large || echo 400:invalid-json)" "$m" "$BI_URL" "$BI/deep-10000" \
		"${BI_AUTH[@]}" 'header = "Content-Type: application/json"'
	bi_cfg body-deep "400:invalid-json" "$m" "$BI_URL" "$BI/deep-4000" "${BI_AUTH[@]}" 'header = "Content-Type: application/json"'
	bi_body body-strings "400:invalid-json" '{"a":"x\u0000y"}'
	bi_body body-strings "400:invalid-json" '{"a\u0000":1}'
	bi_body body-strings "400:invalid-json" '{"a":"\ud800"}'
	bi_body body-strings "400:invalid-json" '{"a":"\udc00\ud800"}'
	bi_body body-strings "400:invalid-json" '{"a":"\x"}'
	for f in utf8 overlong; do
		bi_cfg body-strings "400:invalid-json" "$m" "$BI_URL" "$BI/$f" "${BI_AUTH[@]}" 'header = "Content-Type: application/json"'
	done
	for v in 1e308 -1e308 1e19 -1e19 18446744073709551616 9223372036854775808 -9223372036854775809 1e400; do
		bi_body body-numbers "400:invalid-json" "{\"a\":$v}"
		bi_body body-numbers "400:invalid-json" "[$v]"
	done
	# Wrong types for every member of the valid body (and 1e-400, which is 0).
	if [ -n "$BI_VALID" ]; then
		bi_body body-types "400:invalid-body" "[$(bi_valid)]"
		bi_body body-types "400:invalid-body" '[]'
		while read -r mem; do
			[ -n "$mem" ] || continue
			k=${mem%%\":*}\"
			for t in 1 '"x"' '{}' '[]' null true 1e-400 '[1]' '{"a":"b"}'; do
				# A value of the member's own type is not a wrong type.
				case "${mem#*\":}:$t" in \"*:\"*|\[*:\[*|\{*:\{*) continue ;; esac
				q="400:invalid-body 422:*"
				# A member that takes any JSON value takes any but null.
				[[ $BI_FREE == *" $m $p ${k//\"/} "* ]] && [ "$t" != null ] && q=$norm
				v=${BI_VALID/"$mem"/$k:$t}
				bi_body body-types "$q" "${v//\{n\}/bi$BI_N}"
			done
		done < <(printf '%s' "$BI_VALID" | grep -oE '"[a-z_]+":("[^"]*"|\[[^]]*\]|[-0-9.]+|true|false|null)')
	else
		# A route without a body ignores a well-formed one.
		bi_body body-types "$norm" '[]'
		bi_body body-types "$norm" '{"a":1e-400,"b":[{},null,true]}'
	fi
	bi_cfg body-size "413:body-too-large" "$m" "$BI_URL" "$BI/big" "${BI_AUTH[@]}" 'header = "Content-Type: application/json"'
	q=
	case $m in POST|PUT|PATCH) ;; *) q=$norm ;; esac
	bi_cfg body-size "413:body-too-large $q" "$m" "$BI_URL" "$BI/big" "${BI_AUTH[@]}" 'header = "Content-Type: application/json"' \
		'header = "Transfer-Encoding: chunked"'
	for t in text/plain application/x-www-form-urlencoded 'multipart/form-data; boundary=x' application/jsonx \
		'application/json-seq' 'text/json'; do
		v=$(bi_valid)
		f=$BI/body.$((BI_I + 1))
		printf '%s' "$v" >"$f"
		bi_cfg body-ctype "415:unsupported-media-type" "$m" "$BI_URL" "$f" "${BI_AUTH[@]}" "header = \"Content-Type: $t\""
	done
	# A chunked body: read to its end for POST, PUT and PATCH; for another method the
	# program reads no body without a length, and checks it when the web server gives
	# one (Apache does, Caddy does not).
	q=
	case $m in POST|PUT|PATCH) ;; *) q=$norm ;; esac
	bi_body body-chunked "$norm" "$(bi_valid)" 'header = "Transfer-Encoding: chunked"'
	bi_body body-chunked "400:invalid-json $q" '{"a":' 'header = "Transfer-Encoding: chunked"'

	# ---- headers (the valid body goes along, so that only the header is wrong)
	bi_hdr() {
		local g=$1 s=$2
		shift 2
		if [ -n "$BI_VALID" ]; then bi_body "$g" "$s" "$(bi_valid)" "$@"
		else bi_cfg "$g" "$s" "$m" "$BI_URL" - "${BI_AUTH[@]}" "$@"; fi
	}
	bi_hdr headers-size "431:headers-too-large" "header = \"X-Pad1: $BI_PAD\"" "header = \"X-Pad2: $BI_PAD\"" \
		"header = \"X-Pad3: $BI_PAD\"" "header = \"X-Pad4: $BI_PAD\"" "header = \"X-Pad5: $BI_PAD\""
	bi_hdr headers-size "431:headers-too-large" "header = \"X-Pad: $BI_PAD$BI_PAD$BI_PAD$BI_PAD$BI_PAD\""
	bi_hdr headers-size "$norm" "header = \"X-Pad: $BI_PAD\""
	# Credentials that are not: a 10 KB Authorization, other schemes, garbage.
	for v in "Bearer sb_$BI_PAD$BI_LONG$BI_LONG" "Bearer $BI_PAD$BI_LONG$BI_LONG" 'Basic Zm9vOmJhcg==' 'Bearer ' \
		'Bearer sb_' 'Bearer sb_x_y' 'Bearer a.b.c' 'Bearer eyJhbGciOiJub25lIn0.e30.' 'bearer' "Bearer sb_${BI_KEY#sb_}x"; do
		f=$BI/body.$((BI_I + 1))
		if [ -n "$BI_VALID" ]; then bi_valid >"$f"; else f=-; fi
		bi_cfg headers-auth "$auth401" "$m" "$BI_URL" "$f" "header = \"Authorization: $v\"" \
			'header = "Content-Type: application/json"'
	done
	f=$BI/body.$((BI_I + 1))
	if [ -n "$BI_VALID" ]; then bi_valid >"$f"; else f=-; fi
	bi_cfg headers-auth "$auth401" "$m" "$BI_URL" "$f" 'header = "Cookie: sb_session=%00%ff; sb_session=x"' \
		'header = "Content-Type: application/json"'
	for v in null 'https://evil.example' "https://$BI_LONG.example" 'https://app.example.evil' '*' 'javascript:x'; do
		bi_hdr headers-origin "$norm" "header = \"Origin: $v\""
		# A preflight from an origin not allowed: 403, wherever the path is known.
		bi_cfg headers-origin "403:origin-not-allowed" OPTIONS "$BI_URL" - "header = \"Origin: $v\"" \
			"header = \"Access-Control-Request-Method: $m\""
	done
	for v in abc -1 99999999999999999999 1.5 +7 0x10 "$BI_LONG" '1-' '-' 'x-1' '1-2-3' '99999999999999999999999-1'; do
		q=$norm
		[ "$stream" = 1 ] && [[ $p != */events ]] && q="400:bad-last-event-id"
		bi_hdr headers-last-event-id "$q" "header = \"Last-Event-ID: $v\""
	done
	q=$norm
	[ "$m $p" = "POST /api/v1/runs" ] && q="400:invalid-idempotency-key"
	bi_hdr headers-misc "$q" "header = \"Idempotency-Key: $BI_LONG\""
	bi_hdr headers-misc "$q" 'header = "Idempotency-Key: a b"'
	bi_hdr headers-misc "$norm" 'header = "X-Request-Id: <script>alert(1)</script>"'
	bi_hdr headers-misc "$norm" "header = \"X-Request-Id: $BI_LONG\""
	bi_hdr headers-misc "$norm" 'header = "Accept: text/html"'
	bi_hdr headers-misc "$norm" 'header = "X-Forwarded-For: not an address, 999.1.1.1"'

	# ---- queries
	qs=${qbase:+${qbase#\?}&}
	bi_q() {
		local g=$1 s=$2 q=$3
		if [ -n "$BI_VALID" ]; then bi_cfg "$g" "$s" "$m" "$BI_BASE$path?$qs$q" "$(f=$BI/body.$((BI_I + 1)); bi_valid >"$f"; echo "$f")" \
			"${BI_AUTH[@]}" 'header = "Content-Type: application/json"'
		else bi_cfg "$g" "$s" "$m" "$BI_BASE$path?$qs$q" - "${BI_AUTH[@]}"; fi
	}
	reads() { [[ " ${BI_QUERY["$m $p"]:-} " == *" $1 "* ]]; }
	for v in 0 99999999999999999999 -1 abc '' 1.5 201 '%20' '1%00'; do
		reads limit && q="400:bad-limit" || q=$norm
		[ "$v" = '1%00' ] && q="400:bad-query"
		bi_q query-paging "$q" "limit=$v"
	done
	for v in -1 abc 99999999999999999999999 0 9223372036854775807 '' 1e3; do
		reads cursor && q="400:bad-cursor" || q=$norm
		bi_q query-paging "$q" "cursor=$v"
	done
	for v in garbage 9999999999 2026-13-45 '2026-01-01T25:00:00Z' "$BI_LONG" '%27%3B--'; do
		reads since && q="400:bad-since" || q=$norm
		bi_q query-filters "$q" "since=$v"
	done
	reads state && q="400:bad-state" || q=$norm
	bi_q query-filters "$q" "state=bogus"
	for v in garbage -1 99999999999999999999 1.5 '1-' 'x-1' '%2B1'; do
		reads after && q="400:bad-after" || q=$norm
		bi_q query-filters "$q" "after=$v"
	done
	for v in 999999 -1 abc 1e3; do
		reads wait && q="400:bad-wait" || q=$norm
		qs=${qs#wait=1&} bi_q query-filters "$q" "wait=$v"
	done
	bi_q query-filters "$norm" "agent=$BI_LONG&category=$BI_LONG"
	reads state && q="400:bad-state" || q=$norm
	bi_q query-filters "$q" "state"
	for v in 'x=%00' 'x=%ff' 'x=%zz' '%ff=1' 'x=%' 'x=%0' 'x=a%00b' '%c0%af=1' 'limit=%ff'; do
		bi_q query-encoding "400:bad-query" "$v"
	done
	bi_q query-size "431:headers-too-large" "$BI_PAIRS5K"
	bi_q query-size "431:headers-too-large" "x=$BI_Q20K"
	bi_q query-size "$norm" "$BI_PAIRS1K"

	# ---- path ids
	if [[ $p == *"{"* ]]; then
		for id in %ff %00 %2f '%c0%af' a%00b; do
			path=${p//\{id\}/$id}
			path=${path//\{slug\}/$id}
			if [ -n "$BI_VALID" ]; then bi_cfg path-ids "400:bad-path" "$m" "$BI_BASE$path$qbase" "$(f=$BI/body.$((BI_I + 1)); bi_valid >"$f"; echo "$f")" \
				"${BI_AUTH[@]}" 'header = "Content-Type: application/json"'
			else bi_cfg path-ids "400:bad-path" "$m" "$BI_BASE$path$qbase" - "${BI_AUTH[@]}"; fi
		done
		for id in "$BI_LONG" .. . '%2e%2e' 'x;y' "'" '00000000-0000-0000-0000-000000000000'; do
			path=${p//\{id\}/$id}
			path=${path//\{slug\}/$id}
			q="404:blank"
			[ "$m" = PUT ] && q="422:invalid-slug"
			# PUT makes an agent of that slug; DELETE then finds it.
			[ "$m $id" = "PUT 00000000-0000-0000-0000-000000000000" ] && q="200:- 201:-"
			[[ "$m $p $id" == "DELETE "*"{slug} 00000000-0000-0000-0000-000000000000" ]] && q=$norm
			# A dot segment is refused: the web servers resolve it before they choose
			# a program (/runs/./stream is not a stream path to them).
			[[ $id == . || $id == .. || $id == %2e%2e ]] && q="400:bad-path"
			if [ -n "$BI_VALID" ]; then bi_cfg path-ids "$q" "$m" "$BI_BASE$path$qbase" "$(f=$BI/body.$((BI_I + 1)); bi_valid >"$f"; echo "$f")" \
				"${BI_AUTH[@]}" 'header = "Content-Type: application/json"'
			else bi_cfg path-ids "$q" "$m" "$BI_BASE$path$qbase" - "${BI_AUTH[@]}"; fi
		done
	fi
	# ---- header bytes curl will not send: bare CR, bare LF, NUL, obs-fold, CL with TE
	local port=${BI_BASE##*:} ah raw
	ah=$(printf '%s\r\n' "${BI_AUTH[@]}" | sed 's/^header = "\(.*\)"\r$/\1\r/')$'\n'
	for raw in 'X-A: a\rX-B: b' 'X-A: a\nX-B: b' 'X-A: a\r\n b' 'X-A: a\0b' 'X-A: \xff\xfe' \
		'Authorization: Bearer x\rX-B: b' 'X-A: a\r\nTransfer-Encoding: chunked' 'Content-Length: 5\r\nContent-Length: 6' \
		'X A: b'; do
		bi_rawreq "$port" "$m" "$good" "$ah" "$raw" "$(bi_valid)"
	done
	if [ "$stream" = 1 ]; then
		# A stream that is answered runs until max-time, and a curl in parallel mode
		# fails the requests it starts after one timed out: a curl for each request.
		awk -v dir="$BI/cfgpart." 'BEGIN { n = 0 } /^next$/ { n++; next }
			{ print > (dir sprintf("%04d", n)) }' "$BI/cfg"
		printf '%s\n' "$BI"/cfgpart.* | nice xargs -P 8 -n 1 sh -c 'curl -s -K "$0" >"$0.got" 2>/dev/null'
		cat "$BI"/cfgpart.*.got >"$BI/got"
		rm -f "$BI"/cfgpart.*
	else
		nice curl -s --parallel --parallel-max 6 -K "$BI/cfg" >"$BI/got" 2>/dev/null
	fi
	cat "$BI/got.raw" >>"$BI/got"
	bi_judge "$m $p${qbase:+ (${qbase#\?})}" "$BI_SRV"
}

# bi_rawreq PORT METHOD PATH AUTHLINES HEADER BODY: one request written byte by byte.
bi_rawreq() {
	local port=$1 m=$2 hp=$3 ah=$4 hdr=$5 body=$6 o st
	BI_I=$((BI_I + 1))
	BI_N=$((BI_N + 1))
	o=$BI/out/$BI_I
	# The web server's own 400 is fine; so is the program's normal answer (it may read
	# the header as two, or drop it), or one of the body's documented refusals.
	# Framing a web server refuses (a bare CR, Transfer-Encoding beside Content-Length,
	# two lengths): it may close without an answer, or with one a reset loses.  The
	# checks that no process died still hold for these.
	local extra=
	[[ $hdr == *'\r'[!\\]* || $hdr == *Transfer-Encoding* || $hdr == Content-Length* ]] && extra=" 000:-"
	printf '%s\t%s\t%s\n' "$BI_I" headers-crlf "$norm$extra 400:invalid-json 400:bad-content-length 400:invalid-body 422:* 431:headers-too-large 401:unauthenticated" >>"$BI/want"
	local close='Connection: close\r\n'
	timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$0 || exit 1
		printf "$1 $2 HTTP/1.1\r\nHost: 127.0.0.1\r\n$6%s$4\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" \
			"$3" "${#5}" "$5" >&3
		timeout $7 cat <&3' "$port" "$m" "$hp" "$ah" "$hdr" "$body" "$close" 1 >"$o.raw" 2>/dev/null
	st=$(head -n 1 "$o.raw" | sed -n 's,^HTTP/1\.[01] \([0-9]\{3\}\).*,\1,p')
	sed '1,/^\r\{0,1\}$/d' "$o.raw" >"$o"
	printf '%s\t%s\t%s\t%s\n' "$o" "${st:-000}" \
		"$(sed -n '1,/^\r\{0,1\}$/s/^[Cc]ontent-[Tt]ype: \([^\r]*\).*/\1/p' "$o.raw" | head -n 1)" \
		"$(sed -n '1,/^\r\{0,1\}$/s/^[Xx]-[Rr]equest-[Ii]d: \([^\r]*\).*/\1/p' "$o.raw" | head -n 1)" >>"$BI/got.raw"
	rm -f "$o.raw"
}

# bi_judge LABEL SERVER: one line per case group, from $BI/want and $BI/got.
bi_judge() {
	local label=$1 srv=$2 line g bad
	grep -o -H '"type":"[^"]*"' "$BI"/out/* 2>/dev/null | sed 's,^.*/out/\([0-9]*\):"type":"\(.*\)"$,\1\t\2,' >"$BI/types"
	while IFS= read -r line; do
		g=${line%%$'\t'*}
		bad=${line#*$'\t'}
		BI_SWEEP_CHECKS=$((BI_SWEEP_CHECKS + 1))
		if [ -z "$bad" ]; then pass "badinput: $label $g ($srv)"; else fail "badinput: $label $g ($srv)" "$bad"; fi
	done < <(awk -F'\t' -v types="$BI_TYPES" -v out="$BI/out/" '
		FILENAME ~ /types$/ { ty[$1] = $2; next }
		FILENAME ~ /want$/ { grp[$1] = $2; spec[$1] = $3; if (!($2 in seen)) { seen[$2] = 1; order[++ng] = $2 } next }
		{
			n = $1; sub(".*/", "", n); got[n] = 1
			st = $2; ct = $3; rid = $4; t = "-"
			why = ""
			if (st == "000" && index(" " spec[n] " ", " 000:- ")) why = ""
			else if (st >= 500 || st == "000") why = "a " st " " $5
			else if (st >= 400 && rid == "") why = ""	# the web server, not the program
			else {
				if (st >= 400) {
					if (ct !~ /^application\/problem\+json/) why = "content-type " ct
					t = ty[n]
					if (t == "about:blank") t = "blank"
					else if (t ~ /^\/problems\//) { t = substr(t, 11); if (index(types, " " t " ") == 0) why = "type " t " is not in docs/api.md" }
					else why = "no type"
				}
				if (why == "") {
					ok = 0; k = split(spec[n], w, " ")
					for (i = 1; i <= k; i++) if (w[i] == st ":" t || (w[i] == st ":*" && t != "blank" && t != "-")) ok = 1
					if (!ok) why = "got " st ":" t
				}
			}
			if (why != "") { nb[grp[n]]++; if (nb[grp[n]] <= 3) msg[grp[n]] = msg[grp[n]] "#" n " " why " (want " spec[n] "); " }
		}
		END {
			for (n in grp) if (!(n in got)) { nb[grp[n]]++; if (nb[grp[n]] <= 3) msg[grp[n]] = msg[grp[n]] "#" n " no answer; " }
			for (i = 1; i <= ng; i++) { g = order[i]; printf "%s\t%s\n", g, (nb[g] ? nb[g] " bad: " msg[g] : "") }
		}' "$BI/types" "$BI/want" "$BI/got")
	# Keep the failing batch for a look.
	if [ "$T_FAILED" -gt "${BI_FAILED_SEEN:-0}" ]; then
		BI_FAILED_SEEN=$T_FAILED
		mkdir -p "$BI/failed/$BI_BATCH"
		cp -r "$BI/cfg" "$BI/want" "$BI/got" "$BI/out" "$BI/failed/$BI_BATCH/" 2>/dev/null
	fi
}

# ---- the sweep
bi_routes=$("$SB_BUILD/switchboard-fcgi" -R)
bi_table=$(grep -v '^#' "$SB_ROOT/tests/integration/authz.txt" | grep .)
bi_fcgi_pid=$(cat "$STATE/fcgi.pid")
bi_stream_pid=$(cat "$STATE/stream.pid")
bi_fcgi_lines=$(wc -l <"$STATE/fcgi.log")
bi_stream_lines=$(wc -l <"$STATE/stream.log")
BI_BATCH=0
bi_cells=0
while read -r m p scope access; do
	row=$(printf '%s\n' "$bi_table" | grep -F "$m $p " | head -n 1)
	if [ -z "$row" ]; then
		fail "badinput: a cell for $m $p" "add the route to tests/integration/authz.txt"
		continue
	fi
	read -r _ _ _ _ st body <<<"$row"
	for BI_SRV in Caddy Apache; do
		BI_BASE=$([ "$BI_SRV" = Caddy ] && echo "$CADDY_URL" || echo "$APACHE_URL")
		BI_BATCH=$((BI_BATCH + 1))
		bi_route "$m" "$p" "$scope" "$access" "$st" "$body" ""
		# Long polls of a run's events go to switchboard-stream: the same sweep there.
		[ "$p" = "/api/v1/runs/{id}/events" ] && { BI_BATCH=$((BI_BATCH + 1)); bi_route "$m" "$p" "$scope" "$access" "$st" "$body" "?wait=1"; }
	done
	bi_cells=$((bi_cells + 1))
done <<<"$bi_routes"
expect_eq "badinput: every route of -R was swept" "$(grep -c . <<<"$bi_routes")" "$bi_cells"

# ---- no process died
expect_eq "badinput: switchboard-fcgi is the same process" "$bi_fcgi_pid" "$(cat "$STATE/fcgi.pid")"
check "badinput: switchboard-fcgi is alive" kill -0 "$bi_fcgi_pid"
expect_eq "badinput: switchboard-stream is the same process" "$bi_stream_pid" "$(cat "$STATE/stream.pid")"
check "badinput: switchboard-stream is alive" kill -0 "$bi_stream_pid"
# The prefork master logs "worker died" for a worker that exited other than when asked.
expect_eq "badinput: no prefork worker died" "" "$(tail -n +"$((bi_fcgi_lines + 1))" "$STATE/fcgi.log" | grep '"worker died"')"
expect_eq "badinput: no 5xx logged by switchboard-stream" "" \
	"$(tail -n +"$((bi_stream_lines + 1))" "$STATE/stream.log" | grep '"status":5[0-9][0-9]' | head -n 3)"
expect_eq "badinput: no sanitizer report" "" \
	"$(grep -lE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$STATE"/*.log 2>/dev/null)"
# The answer queued the item's run again: nothing is left for a later test's worker.
psql_su -c "SELECT count(*) FROM run_cancel('$BI_ITEM_RUN')" >/dev/null
echo "# badinput: $BI_N requests, $BI_SWEEP_CHECKS groups, $(( $(date +%s) - BI_T0 )) s"
