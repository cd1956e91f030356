# t_authz.sh: the authorization matrix: every route x every kind of caller, generated
# from the route table, so a route cannot be added without its row in authz.txt.

PW='matrix password 0123'
AZ_SRC=100
$CTL org add authz >/dev/null
$CTL org add authz2 >/dev/null
for r in viewer member admin owner; do
	printf '%s\n' "$PW" | $CTL user add --org authz --email "$r@authz.test" --role "$r" >/dev/null
done
printf '%s\n' "$PW" | $CTL user add --org authz2 --email admin@authz2.test --role admin >/dev/null
# An id of this org for {id}: a key nobody uses.
TARGET=$($CTL key create --org authz --scopes runs:read --name target | cut -c4-15)
# A slug of this org for {slug}: an agent of its own (re-made before each DELETE).
printf '{"slug":"authz-target","name":"Target","provider":"builtin","model":"builtin"}\n' >"$STATE/authz-agent.json"
remake_target() {
	$CTL agents import --org authz "$STATE/authz-agent.json" >/dev/null
	# The other org's PUT made it one of its own: not the one under test.
	sb_as_pg "$(sb_pg_bindir)/psql" -h "$STATE/pg/run" -p "$PG_PORT" -U postgres -d switchboard -qAtX \
		-c "DELETE FROM agents WHERE slug = 'authz-target' AND org_id = (SELECT id FROM orgs WHERE slug = 'authz2')" >/dev/null
}
remake_target
# A run of this org for /api/v1/runs/{id}, of a global agent every org can run.
$CTL agents import "$SB_ROOT/conf/agents" >/dev/null
RUNKEY=$($CTL key create --org authz --scopes runs:write,runs:read)
RUN_TARGET=$(curl -s -H "Authorization: Bearer $RUNKEY" -H 'Content-Type: application/json' \
	--data '{"agent":"summarizer","input":"matrix"}' "$CADDY_URL/api/v1/runs" | sed -n 's/.*"id":"\([0-9a-f-]\{36\}\)".*/\1/p')
check "a run to aim the matrix at" test -n "$RUN_TARGET"
# A thread of this org for /api/v1/threads/{id} (re-made before each DELETE).
THREAD_TARGET=7b9e0c3a-5d41-4e6f-9a28-1c0ffee0a11a
remake_thread() {
	psql_su -c "INSERT INTO threads (id, org_id, created_by_kind) SELECT '$THREAD_TARGET', id, 'user' FROM orgs WHERE slug = 'authz' ON CONFLICT (id) DO NOTHING" >/dev/null
}
remake_thread
# An open inbox item of this org for /api/v1/inbox/{id}, on a run of its own that waits
# for it (opened again before each answer).
ITEM_TARGET=5e1f0a2c-7d3b-4c8e-9f61-0a11ce5e1f0a
ITEM_RUN=$(curl -s -H "Authorization: Bearer $RUNKEY" -H 'Content-Type: application/json' \
	--data '{"agent":"summarizer","input":"matrix inbox"}' "$CADDY_URL/api/v1/runs" | sed -n 's/.*"id":"\([0-9a-f-]\{36\}\)".*/\1/p')
check "a run waiting with an item to aim the matrix at" test -n "$ITEM_RUN"
inbox_fixture "$ITEM_RUN" "$ITEM_TARGET"
# A document of this org for /api/v1/kb/documents/{id} (re-made before each DELETE).
DOC_TARGET=4d0c5e7a-1b2f-4a8e-9c63-0dec0ffee0a1
remake_doc() {
	psql_su -c "WITH d AS (INSERT INTO kb_documents (id, org_id, title, format, content, chunks, created_by_kind)
		SELECT '$DOC_TARGET', id, 'Matrix target', 'text', 'The matrix aims here.', 1, 'system' FROM orgs WHERE slug = 'authz'
		ON CONFLICT (id) DO NOTHING RETURNING id, org_id, title, content)
		INSERT INTO kb_chunks (document_id, chunk, org_id, title, content) SELECT id, 0, org_id, title, content FROM d" >/dev/null
}
remake_doc

declare -A SESS CSRFS
az_login() {
	AZ_SRC=$((AZ_SRC + 1))
	http POST "$CADDY_URL/api/v1/auth/login" --interface "127.0.0.$AZ_SRC" -H 'Content-Type: application/json' \
		--data "{\"email\":\"$1\",\"password\":\"$PW\"}"
	SESS[$2]=$(header set-cookie | sed -n 's/^sb_session=\([^;]*\);.*/\1/p')
	CSRFS[$2]=$(json_get csrf_token)
	[ "$H_STATUS" = 200 ] || fail "authz: log in as $1" "$H_STATUS $H_BODY"
}
login_all() {
	local r
	for r in viewer member admin owner; do az_login "$r@authz.test" "$r"; done
	az_login admin@authz2.test other
}

# role_has ROLE SCOPE: the one table (core/scope.c) as the docs state it.
role_has() {
	case "$1:$2" in
	*:-) return 0 ;;
	viewer:runs:read|viewer:agents:read|viewer:usage:read|viewer:inbox:read|viewer:kb:read) return 0 ;;
	member:runs:read|member:agents:read|member:usage:read|member:inbox:read|member:kb:read) return 0 ;;
	member:runs:write|member:inbox:write|member:kb:write) return 0 ;;
	admin:org:admin) return 1 ;;
	admin:*|owner:*) return 0 ;;
	esac
	return 1
}

# call IDENTITY METHOD PATH BODY: one request as IDENTITY; sets H_*.
call() {
	local who=$1 m=$2 p=$3 body=$4 args=()
	[ "$body" != - ] && args=(-H 'Content-Type: application/json' --data "$body")
	# The org feed and a thread's stream never end: HEAD takes the head alone, through the
	# same route and checks.
	[[ $p == /api/v1/stream || $p == /api/v1/threads/*/stream ]] && m=HEAD
	case $who in
	anonymous) http "$m" "$CADDY_URL$p" "${args[@]}" ;;
	key_with|key_without) http "$m" "$CADDY_URL$p" -H "Authorization: Bearer ${KEYS[$who]}" "${args[@]}" ;;
	*) http "$m" "$CADDY_URL$p" -H "Cookie: sb_session=${SESS[$who]}" -H "X-CSRF-Token: ${CSRFS[$who]}" "${args[@]}" ;;
	esac
}

routes=$("$SB_BUILD/switchboard-fcgi" -R)
check "switchboard-fcgi -R lists the route table" test "$(printf '%s\n' "$routes" | grep -c .)" -ge 10
table=$(grep -v '^#' "$SB_ROOT/tests/integration/authz.txt" | grep .)
while read -r m p scope access; do
	if ! printf '%s\n' "$table" | grep -q "^$m $p "; then
		fail "authz.txt has a row for $m $p" "add the route's scope, access, status and body to tests/integration/authz.txt"
	elif ! printf '%s\n' "$table" | grep -q "^$m $p $scope $access "; then
		fail "$m $p needs the scope and access authz.txt states" \
			"the code says $scope $access; authz.txt: $(printf '%s\n' "$table" | grep "^$m $p " | cut -d' ' -f3,4)"
	fi
done <<<"$routes"
while read -r m p _ _; do
	printf '%s\n' "$routes" | grep -q "^$m $p " || fail "authz.txt names only real routes" "$m $p is not in the route table"
done <<<"$table"

declare -A KEYS
login_all
cells=0 bad=0
# Session-only routes end sessions: run them last.
for pass in other session; do
	while read -r m p scope access; do
		[ "$pass" = session ] && [ "$access" != session ] && continue
		[ "$pass" = other ] && [ "$access" = session ] && continue
		row=$(printf '%s\n' "$table" | grep "^$m $p " | head -n 1)
		[ -n "$row" ] || continue
		read -r _ _ _ _ allowed body <<<"$row"
		case $p in
		/api/v1/runs/*) path=${p//\{id\}/$RUN_TARGET} ;;
		/api/v1/threads/*) path=${p//\{id\}/$THREAD_TARGET} ;;
		/api/v1/inbox/*) path=${p//\{id\}/$ITEM_TARGET} ;;
		/api/v1/kb/documents/*) path=${p//\{id\}/$DOC_TARGET} ;;
		*) path=${p//\{id\}/$TARGET} ;;
		esac
		path=${path//\{slug\}/authz-target}
		with=$([ "$scope" = - ] && echo runs:read || echo "$scope,runs:read")
		without=$([ "$scope" = usage:read ] && echo runs:read || echo usage:read)
		KEYS[key_with]=$($CTL key create --org authz --scopes "$with")
		KEYS[key_without]=$($CTL key create --org authz --scopes "$without")
		for who in anonymous viewer member admin owner key_with key_without other; do
			if [ "$access" = public ]; then
				want=$allowed
			elif [ "$who" = anonymous ]; then
				want=401
			elif [ "$access" = session ] && [[ $who == key_* ]]; then
				want=403
			elif [ "$who" = key_with ]; then
				want=$allowed
			elif [ "$who" = key_without ]; then
				want=$([ "$scope" = - ] && echo "$allowed" || echo 403)
			elif ! role_has "$([ "$who" = other ] && echo admin || echo "$who")" "$scope"; then
				want=403
			elif [ "$who" = other ] && [ "$m" = PUT ] && [[ $p == *"{slug}"* ]]; then
				want=201	# PUT makes the other org an agent of its own
			elif [ "$who" = other ] && [[ $p == *"{id}"* || $p == *"{slug}"* ]]; then
				want=404
			else
				want=$allowed
			fi
			[ "$access" = session ] && [ "$who" != anonymous ] && [[ $who != key_* ]] &&
				az_login "$([ "$who" = other ] && echo admin@authz2.test || echo "$who@authz.test")" "$who"
			[ "$m" = DELETE ] && [[ $p == *"{slug}"* ]] && remake_target
			[ "$m" = DELETE ] && [[ $p == /api/v1/threads/* ]] && remake_thread
			[ "$m" = DELETE ] && [[ $p == /api/v1/kb/documents/* ]] && remake_doc
			[ "$m" = POST ] && [[ $p == */answer ]] && inbox_fixture "$ITEM_RUN" "$ITEM_TARGET"
			call "$who" "$m" "$path" "${body//\{n\}/$cells}"
			cells=$((cells + 1))
			if [ "$H_STATUS" != "$want" ]; then
				bad=$((bad + 1))
				fail "authz: $m $p as $who" "want $want, got $H_STATUS: $H_BODY"
			fi
		done
	done <<<"$routes"
done
check "the authorization matrix holds in all $cells cells" test "$bad" = 0 -a "$cells" -ge 80
# The answers queued the item's run again: nothing is left for a later test's worker.
psql_su -c "SELECT count(*) FROM run_cancel('$ITEM_RUN')" >/dev/null
