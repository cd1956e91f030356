# t_feed.sh: GET /api/v1/stream, the org's run lifecycle feed, through Caddy and Apache:
# created, started, cancelling and finished runs arrive live; a resume with Last-Event-ID
# is exact (each run that changed, once, at its latest state) across random disconnects
# while runs change in concurrent transactions; a change is held back until every older
# transaction has ended; orgs are isolated; bad positions are 400.

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
# "ID TYPE RUN STATE CANCEL_REQUESTED"; feed.ready lines are "ID feed.ready".
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
				if (ev == "feed.ready") print id, ev; else print id, ev, run, st, cr
			}
			id = ""; ev = ""; d = ""
		}'
}
# fd_changes FILE...: the run events alone, without feed.ready.
fd_changes() { fd_events "$@" | awk '$2 != "feed.ready"'; }
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
# A client that drops its connection at random moments and resumes from the last
# complete event it got, like EventSource.
pos=$base
n=0
while kill -0 "$pw1" 2>/dev/null || kill -0 "$pw2" 2>/dev/null || kill -0 "$pw3" 2>/dev/null ||
	kill -0 "$pw4" 2>/dev/null || kill -0 "$pw5" 2>/dev/null; do
	n=$((n + 1))
	curl "${FSSE[@]}" --max-time "0.$((RANDOM % 6 + 2))" -H "Last-Event-ID: $pos" \
		-o "$FD/c$n" "$CADDY_URL/api/v1/stream" 2>/dev/null
	got=$(fd_events "$FD/c$n" | tail -n 1 | cut -d' ' -f1)
	[ -n "$got" ] && pos=$got
done
wait "$pw1" "$pw2" "$pw3" "$pw4" "$pw5"
n=$((n + 1))
curl "${FSSE[@]}" --max-time 2 -H "Last-Event-ID: $pos" -o "$FD/c$n" "$CADDY_URL/api/v1/stream" 2>/dev/null
check "the client reconnected many times ($n)" test "$n" -ge 15
files=$(for i in $(seq 1 "$n"); do echo "$FD/c$i"; done)
# shellcheck disable=SC2086
fd_changes $files >"$FD/all"
ids=$(cut -d' ' -f1 "$FD/all")
expect_eq "no position twice, all in order" "$(printf '%s\n' "$ids" | sort -t- -k1,1n -k2,2n -u)" "$ids"
# The last state each run had in the feed is its state in the database.
awk '{ last[$3] = $4 } END { for (r in last) print r, last[r] }' "$FD/all" | sort >"$FD/fed"
fpg "SELECT id, state FROM runs WHERE org_id = $FORG AND changed_xid >= '${base%-*}'" | tr '|' ' ' | sort >"$FD/db"
expect_eq "every run that changed arrived, at its final state" "$(cat "$FD/db")" "$(cat "$FD/fed")"
check "many runs took part" test "$(wc -l <"$FD/db")" -ge 100

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
out=$($CTL migrate 2>&1)
expect_match "switchboardctl migrate says it moved them" '^1 runs had org-feed positions from another cluster' "$out"
expect_eq "to the start of the feed" 1 "$(fpg "SELECT changed_xid FROM runs WHERE id = '$RE'")"
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
