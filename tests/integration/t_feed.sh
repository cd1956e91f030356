# t_feed.sh: GET /api/v1/stream, the org's run lifecycle feed, through Caddy and Apache:
# created, started, cancelling and finished runs arrive live; a resume with Last-Event-ID
# is exact (each run that changed, once, at its latest state) across random disconnects
# while runs change in concurrent transactions; a change is held back until every older
# transaction has ended; orgs are isolated; bad positions are 400.  Inbox items (made
# as a worker makes them) arrive for principals with inbox:read, in the same order as
# the runs: created, answered, expired, cancelled; resumed exactly across both kinds.

FD=$STATE/feed-t
mkdir -p "$FD"
$CTL agents import "$SB_ROOT/conf/agents" >/dev/null
$CTL org add fdco >/dev/null
$CTL org add fdco2 >/dev/null
FK=$($CTL key create --org fdco --scopes runs:write,runs:read)
FK2=$($CTL key create --org fdco2 --scopes runs:write,runs:read)
fpg() { psql_su -c "$1"; }
FORG=$(fpg "SELECT id FROM orgs WHERE slug = 'fdco'")
# fd_run KEY: a queued run of the key's org (no worker runs here); FD_RID is its id.
fd_run() {
	FD_RID=$(curl -s -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
		--data '{"agent":"summarizer","input":"feed test"}' "$CADDY_URL/api/v1/runs" |
		sed -n 's/^{"id":"\([0-9a-f-]\{36\}\)".*/\1/p')
}
# fd_events FILE...: the complete events of SSE captures, one per line:
# "ID TYPE RUN STATE CANCEL_REQUESTED" ("ID TYPE ITEM STATE -" for an inbox item);
# feed.ready lines are "ID feed.ready".
fd_events() {
	cat "$@" | tr -d '\r' | awk '
		/^id: /    { id = substr($0, 5) }
		/^event: / { ev = substr($0, 8) }
		/^data: /  { d = substr($0, 7) }
		/^$/ {
			if (id != "" && ev != "") {
				run = d; sub(/.*"id": "/, "", run); sub(/".*/, "", run)
				st = d; sub(/.*"state": "/, "", st); sub(/".*/, "", st)
				cr = d; sub(/.*"cancel_requested": /, "", cr); sub(/[,}].*/, "", cr)
				if (d !~ /"cancel_requested": /) cr = "-"
				if (ev == "feed.ready") print id, ev; else print id, ev, run, st, cr
			}
			id = ""; ev = ""; d = ""
		}'
}
# fd_changes FILE...: the run and item events alone, without feed.ready.
fd_changes() { fd_events "$@" | awk '$2 != "feed.ready"'; }
# fd_follow POS KEY PID...: a client of KEY's feed that drops its connection at random
# moments while any PID runs, and resumes from the last complete event it got, like
# EventSource; then once more.  FD_FILES are its captures, FD_N how many.
fd_follow() {
	local pos=$1 key=$2 p live got
	shift 2
	FD_N=0
	FD_FILES=
	while :; do
		live=
		for p in "$@"; do kill -0 "$p" 2>/dev/null && live=1; done
		FD_N=$((FD_N + 1))
		curl -sS -N -H "Authorization: Bearer $key" -H "Last-Event-ID: $pos" \
			--max-time "$([ -n "$live" ] && echo "0.$((RANDOM % 6 + 2))" || echo 2)" \
			-o "$FD/c$FD_N" "$CADDY_URL/api/v1/stream" 2>/dev/null
		FD_FILES="$FD_FILES $FD/c$FD_N"
		got=$(fd_events "$FD/c$FD_N" | tail -n 1 | cut -d' ' -f1)
		[ -n "$got" ] && pos=$got
		[ -n "$live" ] || break
	done
}
# fd_exact WHAT DB-QUERY: FD_FILES hold no position twice, all in order, and the last
# state each id had in them is the one DB-QUERY ("id|state" rows) gives.
fd_exact() {
	local ids
	check "the client reconnected many times ($FD_N)" test "$FD_N" -ge 15
	# shellcheck disable=SC2086
	fd_changes $FD_FILES >"$FD/all"
	ids=$(cut -d' ' -f1 "$FD/all")
	expect_eq "no position twice, all in order" "$(printf '%s\n' "$ids" | sort -t- -k1,1n -k2,2n -u)" "$ids"
	awk '{ last[$3] = $4 } END { for (r in last) print r, last[r] }' "$FD/all" | sort >"$FD/fed"
	fpg "$2" | tr '|' ' ' | sort >"$FD/db"
	expect_eq "every $1 that changed arrived, at its final state" "$(cat "$FD/db")" "$(cat "$FD/fed")"
	check "many took part" test "$(wc -l <"$FD/db")" -ge 100
}
FSSE=(-sS -N --max-time 60 -H "Authorization: Bearer $FK")

# ---- a live feed from now: created, started, asked to stop, finished
fd_run "$FK"
R0=$FD_RID
check "a run from before the feed" test -n "$R0"
curl "${FSSE[@]}" -D "$FD/h1" -o "$FD/f1" "$CADDY_URL/api/v1/stream" &
pf1=$!
curl -sS -N --max-time 60 -H "Authorization: Bearer $FK2" -o "$FD/o1" "$CADDY_URL/api/v1/stream" &
po1=$!
check "the feed opens with feed.ready" sb_wait_for "grep -q '^event: feed.ready' '$FD/f1'" 5
hdr=$(tr -d '\r' <"$FD/h1")
expect_match "200 text/event-stream" '^Content-Type: text/event-stream$' "$hdr"
READY=$(fd_events "$FD/f1" | awk '$2 == "feed.ready" { print $1 }')
expect_match "feed.ready's id is a position XID-N" '^[0-9]+-0$' "$READY"
expect_match "and its data says where it starts" "\"after\":\"$READY\"" "$(cat "$FD/f1")"
check "a retry: hint first" grep -qx 'retry: 500' "$FD/f1"
sleep 0.5
check "a feed from now brings no run from before" test -z "$(fd_changes "$FD/f1" | grep "$R0")"

fd_run "$FK"
RA=$FD_RID
check "a run to follow" test -n "$RA"
check "its creation arrives: run.queued" sb_wait_for "fd_changes '$FD/f1' | grep -q ' run.queued $RA queued false$'" 5
data=$(grep -m1 "\"id\": \"$RA\"" "$FD/f1")
expect_match "the event's data is the run: agent, attempt, timestamps" \
	'"agent": "summarizer".*"attempt": 0.*"created_at": "[0-9T:.-]+Z"' "$data"
check "without its input or output" test -z "$(grep -m1 "\"id\": \"$RA\"" "$FD/f1" | grep -e '"input"' -e '"output"')"
curl -s -o /dev/null -X POST -H "Authorization: Bearer $FK" "$CADDY_URL/api/v1/runs/$RA/cancel"
check "a queued run cancelled: run.cancelled" sb_wait_for "fd_changes '$FD/f1' | grep -q ' run.cancelled $RA cancelled true$'" 5

fd_run "$FK"
RB=$FD_RID
fpg "UPDATE runs SET state = 'running', attempt = 1, worker = 't_feed', started_at = now(),
     lease_until = now() + interval '1 hour' WHERE id = '$RB'"
check "a claimed run: run.running" sb_wait_for "fd_changes '$FD/f1' | grep -q ' run.running $RB running false$'" 5
xid_before=$(fpg "SELECT changed_xid FROM runs WHERE id = '$RB'")
fpg "UPDATE runs SET lease_until = now() + interval '2 hours' WHERE id = '$RB'"
expect_eq "a heartbeat (lease renewal) does not move the run in the feed" "$xid_before" \
	"$(fpg "SELECT changed_xid FROM runs WHERE id = '$RB'")"
curl -s -o /dev/null -X POST -H "Authorization: Bearer $FK" "$CADDY_URL/api/v1/runs/$RB/cancel"
check "a running run asked to stop: run.running, cancel_requested" \
	sb_wait_for "fd_changes '$FD/f1' | grep -q ' run.running $RB running true$'" 5
fpg "UPDATE runs SET state = 'cancelled', finished_at = now() WHERE id = '$RB'"
check "then its end: run.cancelled" sb_wait_for "fd_changes '$FD/f1' | grep -q ' run.cancelled $RB cancelled true$'" 5
ids=$(fd_changes "$FD/f1" | awk '{ print $1 }')
expect_eq "five changes, in order of position" "$(printf '%s\n' "$ids" | sort -t- -k1,1n -k2,2n -u)" "$ids"
expect_eq "five changes" 5 "$(printf '%s\n' "$ids" | grep -c .)"
check "the feed stays open" kill -0 "$pf1"

# ---- resume: each run that changed after the position, once, at its latest state
curl "${FSSE[@]}" --max-time 2 -H "Last-Event-ID: $READY" -o "$FD/r1" "$CADDY_URL/api/v1/stream" 2>/dev/null
expect_eq "Last-Event-ID at the start: RA then RB, as they are now" \
	"run.cancelled $RA cancelled true|run.cancelled $RB cancelled true" \
	"$(fd_changes "$FD/r1" | cut -d' ' -f2- | paste -sd'|')"
first=$(fd_changes "$FD/f1" | head -n 1 | cut -d' ' -f1)
curl "${FSSE[@]}" --max-time 2 -H "Last-Event-ID: $first" -o "$FD/r2" "$CADDY_URL/api/v1/stream" 2>/dev/null
expect_eq "resuming after RA's first change still brings RA's later one" \
	"$RA $RB" "$(fd_changes "$FD/r2" | cut -d' ' -f3 | paste -sd' ')"
last=$(fd_changes "$FD/f1" | tail -n 1 | cut -d' ' -f1)
curl "${FSSE[@]}" --max-time 2 "$CADDY_URL/api/v1/stream?after=$last" -o "$FD/r3" 2>/dev/null
check "?after= the last change: nothing more" test -z "$(fd_changes "$FD/r3")"
expect_eq "and feed.ready says it starts there" "$last feed.ready" "$(fd_events "$FD/r3")"
curl "${FSSE[@]}" --max-time 2 "$CADDY_URL/api/v1/stream?after=0" -o "$FD/r4" 2>/dev/null
expect_eq "?after=0: every run of the org" "$(fpg "SELECT count(*) FROM runs WHERE org_id = $FORG")" \
	"$(fd_changes "$FD/r4" | wc -l)"
check "through Apache too" sh -c "curl -s -N --max-time 2 -H 'Authorization: Bearer $FK' \
	-H 'Last-Event-ID: $READY' '$APACHE_URL/api/v1/stream' | grep -c '^event: run\.' | grep -qx 2"

# ---- orgs are isolated
fd_run "$FK2"
RO=$FD_RID
check "the other org's feed gets its own run" sb_wait_for "fd_changes '$FD/o1' | grep -q ' $RO '" 5
check "and none of this org's" test -z "$(fd_changes "$FD/o1" | grep -e "$RA" -e "$RB")"
check "this org's feed none of the other's" test -z "$(fd_changes "$FD/f1" | grep "$RO")"
kill "$pf1" "$po1" 2>/dev/null
wait "$pf1" "$po1" 2>/dev/null

# ---- a change waits for every older transaction: nothing is ever written behind
fd_run "$FK"
RC=$FD_RID
curl "${FSSE[@]}" -o "$FD/f2" "$CADDY_URL/api/v1/stream" &
pf2=$!
sb_wait_for "grep -q '^event: feed.ready' '$FD/f2'" 5
# An older transaction moves RC and stays open; a newer one (a create) commits first.
fpg "BEGIN; UPDATE runs SET state = 'failed', finished_at = now() WHERE id = '$RC';
     SELECT pg_sleep(3); COMMIT" >/dev/null &
ptx=$!
sleep 0.5
fd_run "$FK"
RD=$FD_RID
sleep 1
check "a newer change is held back while an older transaction is open" \
	test -z "$(fd_changes "$FD/f2" | grep "$RD")"
wait "$ptx"
check "once it commits both arrive" sb_wait_for "[ \$(fd_changes '$FD/f2' | wc -l) -ge 2 ]" 5
expect_eq "the older first" "$RC failed|$RD queued" \
	"$(fd_changes "$FD/f2" | cut -d' ' -f3,4 | paste -sd'|')"
kill "$pf2" 2>/dev/null
wait "$pf2" 2>/dev/null

# ---- exact resume across random disconnects while runs change concurrently
base=$(fd_events "$FD/f2" | awk '$2 == "feed.ready" { print $1 }')
fpg "SELECT id FROM runs WHERE org_id = $FORG AND state = 'queued'" >"$FD/queued"
# Four sessions change runs in transactions of random length that overlap; a fifth
# creates runs through the API.
for w in 1 2 3 4; do
	for i in $(seq 1 40); do
		printf "BEGIN; INSERT INTO runs (org_id, agent_slug, agent, input, created_by_kind) VALUES (%s, 'summarizer', '{}', '\"x\"', 'key') RETURNING 1;\n" "$FORG"
		printf "SELECT pg_sleep(random() * 0.1);\n"
		printf "UPDATE runs SET state = (ARRAY['running','succeeded','failed','queued'])[1 + floor(random() * 4)::int] WHERE id IN (SELECT id FROM runs WHERE org_id = %s ORDER BY random() LIMIT 2);\n" "$FORG"
		printf "SELECT pg_sleep(random() * 0.4); COMMIT;\n"
	done | psql_su >/dev/null 2>&1 &
	eval "pw$w=\$!"
done
(for i in $(seq 1 30); do fd_run "$FK"; done) &
pw5=$!
fd_follow "$base" "$FK" "$pw1" "$pw2" "$pw3" "$pw4" "$pw5"
wait "$pw1" "$pw2" "$pw3" "$pw4" "$pw5"
fd_exact run "SELECT id, state FROM runs WHERE org_id = $FORG AND changed_xid >= '${base%-*}'"

# ---- inbox items: to principals with inbox:read, in one order with the runs
FKI=$($CTL key create --org fdco --scopes runs:write,runs:read,inbox:read,inbox:write)
FKI_ID=$(fpg "SELECT id FROM api_keys WHERE key_id = '${FKI:3:12}'")
FK2I=$($CTL key create --org fdco2 --scopes runs:write,runs:read,inbox:read)
FKL=$($CTL key create --org fdco --scopes runs:read,inbox:read)
FISSE=(-sS -N --max-time 60 -H "Authorization: Bearer $FKI")
fd_uuid() { cat /proc/sys/kernel/random/uuid; }
# fd_data FILE ID: the data of the last event of item (or run) ID in FILE.
fd_data() { grep "^data: .*\"id\": \"$2\"" "$1" | tail -n 1; }
curl "${FISSE[@]}" -o "$FD/i1" "$CADDY_URL/api/v1/stream" &
pi1=$!
curl "${FSSE[@]}" -o "$FD/i2" "$CADDY_URL/api/v1/stream" &
pi2=$!
curl -sS -N --max-time 60 -H "Authorization: Bearer $FK2I" -o "$FD/i3" "$CADDY_URL/api/v1/stream" &
pi3=$!
curl -sS -N --max-time 60 -H "Authorization: Bearer $FKL" -o "$FD/i4" "$CADDY_URL/api/v1/stream" &
pi4=$!
check "four feeds open: with inbox:read, without, another org's, one to lose the scope" sb_wait_for \
	"grep -q '^event: feed.ready' '$FD/i1' && grep -q '^event: feed.ready' '$FD/i2' &&
	 grep -q '^event: feed.ready' '$FD/i3' && grep -q '^event: feed.ready' '$FD/i4'" 5
IREADY=$(fd_events "$FD/i1" | awk '$2 == "feed.ready" { print $1 }')

fd_run "$FKI"
RQ=$FD_RID
QQ=$(fd_uuid)
expect_eq "a run waits for a person (its attempt ended as a worker ends it)" 0 \
	"$(inbox_wait "$RQ" "[$(inbox_question "$QQ")]")"
check "its item arrives: inbox.created" sb_wait_for "fd_changes '$FD/i1' | grep -q ' inbox.created $QQ open -$'" 5
expect_match "the event's data is the item as GET /api/v1/inbox/{id} shows it, without what can be large" \
	"^data: \\{\"id\": \"$QQ\", \"run\": \"$RQ\", \"kind\": \"question\", \"state\": \"open\", \"thread\": null, \"approved\": null, \"question\": \"Which colour\\?\", \"created_at\": \"[0-9T:.-]{23}Z\", \"expires_at\": \"[0-9T:.-]{23}Z\", \"answered_at\": null, \"answered_by\": null\\}$" \
	"$(fd_data "$FD/i1" "$QQ")"
expect_eq "(expires_at as the database has it)" \
	"$(fpg "SELECT to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM inbox_items WHERE id = '$QQ'")" \
	"$(fd_data "$FD/i1" "$QQ" | sed 's/.*"expires_at": "\([^"]*\)".*/\1/')"
waited=$(fd_changes "$FD/i1" | grep " run.waiting $RQ " | cut -d' ' -f1)
created=$(fd_changes "$FD/i1" | grep " inbox.created $QQ " | cut -d' ' -f1)
expect_eq "right after the run's run.waiting, in the same transaction: XID-(10^18 + the item's n)" \
	"${waited%-*}-$((1000000000000000000 + $(fpg "SELECT n FROM inbox_items WHERE id = '$QQ'")))" "$created"
check "a feed without inbox:read gets the run's change" \
	sb_wait_for "fd_changes '$FD/i2' | grep -q ' run.waiting $RQ waiting false$'" 5
curl "${FISSE[@]}" --max-time 2 -H "Last-Event-ID: $waited" -o "$FD/ir1" "$CADDY_URL/api/v1/stream" 2>/dev/null
expect_eq "resuming after the run's change brings the item of its transaction" \
	"$created inbox.created $QQ open -" "$(fd_changes "$FD/ir1")"
curl "${FISSE[@]}" --max-time 2 -H "Last-Event-ID: $created" -o "$FD/ir2" "$CADDY_URL/api/v1/stream" 2>/dev/null
check "resuming after the item: nothing more" test -z "$(fd_changes "$FD/ir2")"

http POST "$CADDY_URL/api/v1/inbox/$QQ/answer" -H "Authorization: Bearer $FKI" \
	-H 'Content-Type: application/json' --data '{"answer":"Blue, a secret blue."}'
expect_eq "the question answered" 200 "$H_STATUS"
check "inbox.answered arrives" sb_wait_for "fd_changes '$FD/i1' | grep -q ' inbox.answered $QQ answered -$'" 5
expect_match "with who answered and when" \
	"\"answered_at\": \"[0-9T:.-]{23}Z\", \"answered_by\": \\{\"id\": $FKI_ID, \"kind\": \"key\"\\}\\}$" \
	"$(fd_data "$FD/i1" "$QQ")"
check "and not the answer" test -z "$(grep 'secret blue' "$FD/i1")"
expect_eq "after the run queued again, in the same transaction" "run.queued $RQ|inbox.answered $QQ" \
	"$(fd_changes "$FD/i1" | tail -n 2 | cut -d' ' -f2,3 | paste -sd'|')"

fd_run "$FKI"
RA=$FD_RID
AA=$(fd_uuid)
expect_eq "a run waits for an approval" 0 "$(inbox_wait "$RA" "[$(inbox_approval "$AA" c1)]" "$INBOX_FETCH")"
check "inbox.created" sb_wait_for "fd_changes '$FD/i1' | grep -q ' inbox.created $AA open -$'" 5
expect_match "an approval's data has the call's name, and not its arguments" \
	"\"call\": \\{\"name\": \"http_fetch\"\\}, \"kind\": \"approval\"" "$(fd_data "$FD/i1" "$AA")"
check "(nor a question)" test -z "$(fd_data "$FD/i1" "$AA" | grep -e example.com -e '"question"')"
http POST "$CADDY_URL/api/v1/inbox/$AA/answer" -H "Authorization: Bearer $FKI" \
	-H 'Content-Type: application/json' --data '{"approve":false,"note":"Not that secret host."}'
check "refused: inbox.answered" sb_wait_for "fd_changes '$FD/i1' | grep -q ' inbox.answered $AA answered -$'" 5
expect_match "approved false" '"approved": false' "$(fd_data "$FD/i1" "$AA")"
check "and not the note" test -z "$(grep 'secret host' "$FD/i1")"

fd_run "$FKI"
RX=$FD_RID
EX=$(fd_uuid)
long=$(head -c 600 /dev/zero | tr '\0' q)
expect_eq "a run asks a long question that expires at once" 0 \
	"$(inbox_wait "$RX" "[$(inbox_question "$EX" 0 continue c1 "$long")]")"
check "inbox.created" sb_wait_for "fd_changes '$FD/i1' | grep -q ' inbox.created $EX open -$'" 5
expect_eq "its question cut to 500 characters" 500 \
	"$(fd_data "$FD/i1" "$EX" | sed -n 's/.*"question": "\(q*\)".*/\1/p' | tr -d '\n' | wc -c)"
sleep 0.1
expect_eq "the rescuer's sweep expires it" 1 "$(fpg "SELECT count(*) FROM inbox_expire(100) e WHERE e.run_id = '$RX'")"
check "inbox.expired" sb_wait_for "fd_changes '$FD/i1' | grep -q ' inbox.expired $EX expired -$'" 5

fd_run "$FKI"
RK=$FD_RID
KQ=$(fd_uuid)
expect_eq "a run waits, then is cancelled" 0 "$(inbox_wait "$RK" "[$(inbox_question "$KQ")]")"
check "inbox.created" sb_wait_for "fd_changes '$FD/i1' | grep -q ' inbox.created $KQ open -$'" 5
curl -s -o /dev/null -X POST -H "Authorization: Bearer $FKI" "$CADDY_URL/api/v1/runs/$RK/cancel"
check "inbox.cancelled" sb_wait_for "fd_changes '$FD/i1' | grep -q ' inbox.cancelled $KQ cancelled -$'" 5
expect_eq "every item's changes, live, in order" \
	"inbox.created $QQ|inbox.answered $QQ|inbox.created $AA|inbox.answered $AA|inbox.created $EX|inbox.expired $EX|inbox.created $KQ|inbox.cancelled $KQ" \
	"$(fd_changes "$FD/i1" | grep ' inbox\.' | cut -d' ' -f2,3 | paste -sd'|')"
ids=$(fd_changes "$FD/i1" | cut -d' ' -f1)
expect_eq "runs and items, no position twice, all in order" \
	"$(printf '%s\n' "$ids" | sort -t- -k1,1n -k2,2n -u)" "$ids"
check "the feed without inbox:read got the runs" sb_wait_for "fd_changes '$FD/i2' | grep -q ' run.cancelled $RK '" 5
expect_eq "each of them" 4 "$(fd_changes "$FD/i2" | cut -d' ' -f3 | sort -u | grep -c -x -e "$RQ" -e "$RA" -e "$RX" -e "$RK")"
check "and no item" test -z "$(grep -e '^event: inbox\.' -e "$QQ" "$FD/i2")"
curl "${FISSE[@]}" --max-time 2 -H "Last-Event-ID: $IREADY" -o "$FD/ir3" "$CADDY_URL/api/v1/stream" 2>/dev/null
expect_eq "resuming from the start: each run and item once, as it is now, in order" \
	"run.queued $RQ|inbox.answered $QQ|run.queued $RA|inbox.answered $AA|run.queued $RX|inbox.expired $EX|run.cancelled $RK|inbox.cancelled $KQ" \
	"$(fd_changes "$FD/ir3" | cut -d' ' -f2,3 | paste -sd'|')"
fd_run "$FK2I"
RO2=$FD_RID
QO=$(fd_uuid)
expect_eq "an item of the other org" 0 "$(inbox_wait "$RO2" "[$(inbox_question "$QO")]")"
check "the other org's feed gets it" sb_wait_for "fd_changes '$FD/i3' | grep -q ' inbox.created $QO open -$'" 5
check "and none of this org's" test -z "$(grep -e "$QQ" -e "$AA" -e "$EX" -e "$KQ" "$FD/i3")"
check "nor this org's feed the other's" test -z "$(grep "$QO" "$FD/i1" "$FD/i2" "$FD/i4")"
curl -s -o /dev/null -X POST -H "Authorization: Bearer $FK2I" "$CADDY_URL/api/v1/runs/$RO2/cancel"

# A credential that loses inbox:read while its feed is open: the feed ends (its client
# reconnects and is let in again, without items); one without it stays.
check "a feed with inbox:read got the items" sb_wait_for "fd_changes '$FD/i4' | grep -q ' inbox.cancelled $KQ '" 5
fpg "UPDATE api_keys SET scopes = array_remove(scopes, 'inbox:read') WHERE key_id = '${FKL:3:12}'" >/dev/null
t0=$(date +%s%3N)
sb_wait_for "! kill -0 $pi4" 8
dt=$(( $(date +%s%3N) - t0 ))
gone=yes
kill -0 "$pi4" 2>/dev/null && gone=no
expect_eq "losing inbox:read ends it within 5 s ($dt ms)" "yes 1" "$gone $((dt <= 5000))"
check "the feeds that keep their scopes stay open" kill -0 "$pi1" "$pi2"
kill "$pi1" "$pi2" "$pi3" 2>/dev/null
wait "$pi1" "$pi2" "$pi3" "$pi4" 2>/dev/null

# ---- exact resume across runs and items while both change in concurrent transactions
curl "${FISSE[@]}" --max-time 1 -o "$FD/i5" "$CADDY_URL/api/v1/stream" 2>/dev/null
base=$(fd_events "$FD/i5" | awk '$2 == "feed.ready" { print $1 }')
for w in 1 2 3; do
	for i in $(seq 1 40); do
		printf "BEGIN; INSERT INTO inbox_items (id, org_id, run_id, step, call_id, kind, question, expires_at) SELECT gen_random_uuid(), org_id, id, 1, gen_random_uuid()::text, 'question', 'q', now() + interval '1 day' FROM runs WHERE org_id = %s ORDER BY random() LIMIT 1 RETURNING 1;\n" "$FORG"
		printf "SELECT pg_sleep(random() * 0.1);\n"
		printf "UPDATE inbox_items SET state = (ARRAY['open','answered','expired','cancelled'])[1 + floor(random() * 4)::int] WHERE id IN (SELECT id FROM inbox_items WHERE org_id = %s ORDER BY random() LIMIT 2);\n" "$FORG"
		printf "UPDATE runs SET state = (ARRAY['running','succeeded','failed','queued'])[1 + floor(random() * 4)::int] WHERE id IN (SELECT id FROM runs WHERE org_id = %s ORDER BY random() LIMIT 1);\n" "$FORG"
		printf "SELECT pg_sleep(random() * 0.4); COMMIT;\n"
	done | psql_su >/dev/null 2>&1 &
	eval "pw$w=\$!"
done
fd_follow "$base" "$FKI" "$pw1" "$pw2" "$pw3"
wait "$pw1" "$pw2" "$pw3"
fd_exact "run and item" "SELECT id, state FROM runs WHERE org_id = $FORG AND changed_xid >= '${base%-*}'
	UNION ALL SELECT id, state FROM inbox_items WHERE org_id = $FORG AND changed_xid >= '${base%-*}'"
check "items among them" test "$(grep -c ' inbox\.' "$FD/all")" -ge 40

# ---- a position from another cluster (a dump restored into a new one starts xids over)
curl "${FSSE[@]}" -H "Last-Event-ID: 99999999999-5" -o "$FD/f3" "$CADDY_URL/api/v1/stream" &
pf3=$!
sb_wait_for "grep -q '^event: feed.ready' '$FD/f3'" 5
fut=$(fd_events "$FD/f3" | awk '$2 == "feed.ready" { print $1 }')
check "a position no transaction here has reached restarts the feed from now ($fut)" \
	test -n "$fut" -a "${fut%-*}" -lt 99999999999
fd_run "$FK"
RE=$FD_RID
check "and changes arrive again" sb_wait_for "fd_changes '$FD/f3' | grep -q ' $RE '" 5
kill "$pf3" 2>/dev/null
wait "$pf3" 2>/dev/null
# Rows restored with the old cluster's xids sort after every change made here: migrate
# moves them to the start of the feed.
fpg "UPDATE runs SET changed_xid = '99999999999' WHERE id = '$RE'"
fpg "UPDATE inbox_items SET changed_xid = '99999999999' WHERE id = '$QQ'"
out=$($CTL migrate 2>&1)
expect_match "switchboardctl migrate says it moved them" '^1 runs had org-feed positions from another cluster' "$out"
expect_match "inbox items too" '1 inbox items had org-feed positions from another cluster' "$out"
expect_eq "to the start of the feed" "1 1" \
	"$(fpg "SELECT changed_xid FROM runs WHERE id = '$RE'") $(fpg "SELECT changed_xid FROM inbox_items WHERE id = '$QQ'")"
expect_eq "and says nothing when there is nothing to move" "" "$($CTL migrate 2>&1)"

# ---- positions that are not one are 400
for bad in abc 17 1-2-3 -1 '1-' 99999999999999999999-1; do
	http GET "$CADDY_URL/api/v1/stream" -H "Authorization: Bearer $FK" -H "Last-Event-ID: $bad"
	expect_eq "Last-Event-ID: '$bad' is 400" 400 "$H_STATUS"
done
expect_match "a problem document" '/problems/bad-last-event-id' "$H_BODY"
http GET "$CADDY_URL/api/v1/stream?after=x" -H "Authorization: Bearer $FK"
expect_eq "?after=x is 400 bad-after" "400 bad-after" "$H_STATUS $(json_get type | sed 's#.*/##')"
http HEAD "$CADDY_URL/api/v1/stream" -H "Authorization: Bearer $FK"
expect_eq "HEAD: the head alone" "200 text/event-stream" "$H_STATUS $(header content-type)"
out=$(env -i REQUEST_METHOD=GET REQUEST_URI=/api/v1/stream SCRIPT_FILENAME=/x \
	REMOTE_ADDR=127.0.0.1 HTTP_AUTHORIZATION="Bearer $FK" timeout 10 cgi-fcgi -bind -connect "$SOCK" 2>&1 | tr -d '\r')
expect_match "switchboard-fcgi answers the feed 503 stream-responder" '^Status: 503.*/problems/stream-responder' "$(printf '%s' "$out" | tr '\n' ' ')"
