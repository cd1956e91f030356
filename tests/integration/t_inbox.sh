# t_inbox.sh: people in the loop through Caddy: the items a waiting run asks (made here
# as a worker makes them: queue_claim, then queue_flush ending the attempt 'waiting'),
# listed, filtered, paged and read; answered (a question's answer, an approval given or
# refused), and the run queued again; what is refused (bad bodies, the wrong kind, a
# second answer, another org, a missing scope); a waiting run cancelled; items that
# expire; a thread that waits.  No worker runs here.

$CTL org add ibco >/dev/null
$CTL org add ibco2 >/dev/null
IBK=$($CTL key create --org ibco --scopes runs:write,runs:read,agents:admin,agents:read,inbox:read,inbox:write,audit:read)
IBR=$($CTL key create --org ibco --scopes runs:read,inbox:read)
IBO=$($CTL key create --org ibco2 --scopes runs:write,runs:read,inbox:read,inbox:write)
IBK_ID=$(psql_su -c "SELECT id FROM api_keys WHERE key_id = '${IBK:3:12}'")
ib_as() { local k=$1 m=$2 p=$3; shift 3; http "$m" "$CADDY_URL$p" -H "Authorization: Bearer $k" "$@"; }
ib_json() { ib_as "$1" "$2" "$3" -H 'Content-Type: application/json' --data "$4"; }
ib_id() { printf '%s' "$H_BODY" | sed -n 's/^{"id":"\([0-9a-f-]\{36\}\)".*/\1/p'; }
ib_uuid() { cat /proc/sys/kernel/random/uuid; }
ib_pg() { psql_su -c "$1"; }
ib_run() { ib_json "$IBK" POST /api/v1/runs "{\"agent\":\"ib-asker\",\"input\":\"$1\"}"; ib_id; }

ib_json "$IBK" PUT /api/v1/agents/ib-asker '{"name":"Asker","provider":"builtin","model":"builtin"}'
check "inbox: an agent to run" test "$H_STATUS" = 201

# ---- items: a question, an approval to give, one to refuse
R1=$(ib_run "colour")
Q1=$(ib_uuid)
expect_eq "a run whose attempt ends waiting with a question (as the worker ends it)" 0 \
	"$(inbox_wait "$R1" "[$(inbox_question "$Q1")]")"
ib_as "$IBK" GET "/api/v1/runs/$R1"
expect_eq "the run is waiting" "200 waiting" "$H_STATUS $(json_get state)"
expect_eq "and holds no worker and no lease" t \
	"$(ib_pg "SELECT worker IS NULL AND lease_until IS NULL FROM runs WHERE id = '$R1'")"
R2=$(ib_run "approve")
A1=$(ib_uuid)
expect_eq "one waiting for an approval" 0 "$(inbox_wait "$R2" "[$(inbox_approval "$A1" c1)]" "$INBOX_FETCH")"
R3=$(ib_run "refuse")
A2=$(ib_uuid)
expect_eq "and one more" 0 "$(inbox_wait "$R3" "[$(inbox_approval "$A2" c1)]" "$INBOX_FETCH")"

ib_as "$IBK" GET "/api/v1/inbox/$Q1"
expect_match "GET an item: a question as the API shows it" \
	"^\\{\"id\":\"$Q1\",\"kind\":\"question\",\"state\":\"open\",\"question\":\"Which colour\\?\",\"run\":\"$R1\",\"thread\":null,\"call_id\":\"c1\",\"answer\":null,\"approved\":null,\"note\":null,\"answered_by\":null,\"created_at\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z\",\"expires_at\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z\",\"answered_at\":null,\"links\":\\{\"self\":\"/api/v1/inbox/$Q1\",\"answer\":\"/api/v1/inbox/$Q1/answer\",\"run\":\"/api/v1/runs/$R1\"\\}\\}$" \
	"$H_BODY"
expect_eq "it expires expires_s after it was asked" 3600 \
	"$(ib_pg "SELECT extract(epoch FROM expires_at - created_at)::int FROM inbox_items WHERE id = '$Q1'")"
expect_eq "(expires_at as the database has it)" \
	"$(ib_pg "SELECT to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM inbox_items WHERE id = '$Q1'")" \
	"$(json_get expires_at)"
ib_as "$IBK" GET "/api/v1/inbox/$A1"
expect_match "an approval has the call, and no question" \
	"^\\{\"id\":\"$A1\",\"kind\":\"approval\",\"state\":\"open\",\"call\":\\{\"name\":\"http_fetch\",\"arguments\":\\{\"url\":\"https://example.com/c1\"\\}\\},\"run\":\"$R2\",\"thread\":null,\"call_id\":\"c1\",\"answer\":null," \
	"$H_BODY"

# ---- the list: newest first, paged, filtered
ib_as "$IBR" GET /api/v1/inbox
expect_eq "the org's items, newest first (inbox:read is enough)" "200 $A2 $A1 $Q1" \
	"$H_STATUS $(grep -oE '"id":"[0-9a-f-]{36}","kind"' <<<"$H_BODY" | cut -d'"' -f4 | tr '\n' ' ' | sed 's/ $//')"
expect_match "one page" '"next_cursor":null\}$' "$H_BODY"
ib_as "$IBK" GET "/api/v1/inbox?limit=2"
expect_eq "a page of two" "$A2 $A1" "$(grep -oE '"id":"[0-9a-f-]{36}","kind"' <<<"$H_BODY" | cut -d'"' -f4 | tr '\n' ' ' | sed 's/ $//')"
cursor=$(json_get next_cursor)
check "with a cursor" test -n "$cursor" -a "$cursor" != null
ib_as "$IBK" GET "/api/v1/inbox?limit=2&cursor=$cursor"
expect_match "the next page holds the oldest alone, and is the last" "^\\{\"items\":\\[\\{\"id\":\"$Q1\"[^]]*\\],\"next_cursor\":null\\}$" "$H_BODY"
ib_as "$IBK" GET "/api/v1/inbox?run=$R2"
expect_match "?run= keeps that run's items" "^\\{\"items\":\\[\\{\"id\":\"$A1\"[^]]*\\],\"next_cursor\":null\\}$" "$H_BODY"
ib_as "$IBK" GET "/api/v1/inbox?state=answered"
expect_eq "?state=answered: none yet" '200 {"items":[],"next_cursor":null}' "$H_STATUS $H_BODY"
ib_as "$IBK" GET "/api/v1/inbox?state=open&limit=1"
expect_match "?state=open pages too" "^\\{\"items\":\\[\\{\"id\":\"$A2\".*\"next_cursor\":\"[0-9]+\"\\}$" "$H_BODY"
ib_as "$IBK" GET "/api/v1/inbox?state=waiting"
expect_eq "a state items do not have is 400 bad-state" "400 /problems/bad-state" "$H_STATUS $(json_get type)"
ib_as "$IBK" GET "/api/v1/inbox?run=${R1}x"
expect_eq "a run that is not a UUID is 400 bad-run" "400 /problems/bad-run" "$H_STATUS $(json_get type)"
ib_as "$IBK" GET "/api/v1/inbox?thread=nope"
expect_eq "a thread that is not a UUID is 400 bad-thread" "400 /problems/bad-thread" "$H_STATUS $(json_get type)"
ib_as "$IBK" GET "/api/v1/inbox?run=$(ib_uuid)"
expect_eq "an unknown run has no items" '200 {"items":[],"next_cursor":null}' "$H_STATUS $H_BODY"

# ---- other orgs, unknown ids, scopes
ib_as "$IBO" GET /api/v1/inbox
expect_eq "another org sees none of them" '200 {"items":[],"next_cursor":null}' "$H_STATUS $H_BODY"
ib_as "$IBO" GET "/api/v1/inbox?run=$R1"
expect_eq "not even by its run" '200 {"items":[],"next_cursor":null}' "$H_STATUS $H_BODY"
ib_as "$IBO" GET "/api/v1/inbox/$Q1"
expect_eq "another org's item is 404 about:blank" "404 about:blank" "$H_STATUS $(json_get type)"
ib_json "$IBO" POST "/api/v1/inbox/$Q1/answer" '{"answer":"Red."}'
expect_eq "and cannot be answered by it: 404" "404 about:blank" "$H_STATUS $(json_get type)"
ib_as "$IBK" GET "/api/v1/inbox/$(ib_uuid)"
expect_eq "an unknown item is 404" 404 "$H_STATUS"
ib_as "$IBK" GET /api/v1/inbox/not-a-uuid
expect_eq "a malformed id is 404" "404 about:blank" "$H_STATUS $(json_get type)"
ib_json "$IBK" POST /api/v1/inbox/not-a-uuid/answer '{"answer":"Red."}'
expect_eq "answering a malformed id is 404" 404 "$H_STATUS"
ib_json "$IBR" POST "/api/v1/inbox/$Q1/answer" '{"answer":"Red."}'
expect_eq "answering needs inbox:write" "403 /problems/missing-scope" "$H_STATUS $(json_get type)"
ib_as "$IBO" GET "/api/v1/runs?state=waiting"
expect_eq "(nor does it see the waiting runs)" '200 {"items":[],"next_cursor":null}' "$H_STATUS $H_BODY"
IBN=$($CTL key create --org ibco --scopes runs:read)
ib_as "$IBN" GET /api/v1/inbox
expect_eq "reading needs inbox:read" "403 /problems/missing-scope" "$H_STATUS $(json_get type)"

# ---- bad bodies change nothing (and wake no worker: a listener counts the NOTIFYs)
IB_DIR=$STATE/inbox
mkdir -p "$IB_DIR"
"$SB_BUILD/sb-listencheck" -t 20 "$(sb_pg_url "$STATE" "$PG_PORT" postgres)" switchboard_queue >"$IB_DIR/listen" 2>&1 &
IB_LPID=$!
sb_wait_for "grep -q '^listening' '$IB_DIR/listen'" 10 || fail "inbox: the listener starts" "$(cat "$IB_DIR/listen")"
ib_notifies() { grep -c ' switchboard_queue ' "$IB_DIR/listen"; }
for body in '{}' '{"answer":"a","approve":true}' '{"answer":7}' '{"answer":null}' '{"approve":"yes"}' \
	'{"answer":"a","colour":"red"}' '{"answer":"a","note":"n"}' '{"approve":true,"note":false}' '["Red."]'; do
	ib_json "$IBK" POST "/api/v1/inbox/$Q1/answer" "$body"
	expect_eq "the body $body is 400 invalid-body" "400 /problems/invalid-body" "$H_STATUS $(json_get type)"
done
ib_as "$IBK" POST "/api/v1/inbox/$Q1/answer"
expect_eq "no body is 400 invalid-body" "400 /problems/invalid-body" "$H_STATUS $(json_get type)"
ib_json "$IBK" POST "/api/v1/inbox/$Q1/answer" '{"answer":""}'
expect_eq "an empty answer is 422 invalid-answer" "422 /problems/invalid-answer" "$H_STATUS $(json_get type)"
ib_json "$IBK" POST "/api/v1/inbox/$A1/answer" "{\"approve\":true,\"note\":\"$(head -c 8001 /dev/zero | tr '\0' n)\"}"
expect_eq "a note over 8000 bytes is 422 invalid-note" "422 /problems/invalid-note" "$H_STATUS $(json_get type)"
ib_json "$IBK" POST "/api/v1/inbox/$Q1/answer" '{"approve":true}'
expect_eq "approving a question is 422 wrong-kind" "422 /problems/wrong-kind" "$H_STATUS $(json_get type)"
ib_json "$IBK" POST "/api/v1/inbox/$A1/answer" '{"answer":"Yes."}'
expect_eq "answering an approval with text is 422 wrong-kind" "422 /problems/wrong-kind" "$H_STATUS $(json_get type)"
expect_eq "all of it left the items open and the runs waiting" "open open, waiting waiting" \
	"$(ib_pg "SELECT string_agg(state, ' ') FROM inbox_items WHERE id IN ('$Q1', '$A1')"), $(ib_pg "SELECT string_agg(state, ' ') FROM runs WHERE id IN ('$R1', '$R2')")"

# ---- a question answered
expect_eq "no NOTIFY for refused answers" 0 "$(ib_notifies)"
ib_json "$IBK" POST "/api/v1/inbox/$Q1/answer" '{"answer":"Blue, the \"deep\" one."}'
expect_eq "answering a question is 200" 200 "$H_STATUS"
check "the answer woke the workers (a NOTIFY), to claim the run at once" \
	sb_wait_for "[ \"\$(ib_notifies)\" -ge 1 ]" 2
kill -TERM "$IB_LPID" 2>/dev/null
wait "$IB_LPID" 2>/dev/null
expect_match "with the item answered: the answer, who, when" \
	"^\\{\"id\":\"$Q1\",\"kind\":\"question\",\"state\":\"answered\",\"question\":\"Which colour\\?\",\"run\":\"$R1\",\"thread\":null,\"call_id\":\"c1\",\"answer\":\"Blue, the \\\\\"deep\\\\\" one.\",\"approved\":null,\"note\":null,\"answered_by\":\\{\"kind\":\"key\",\"id\":$IBK_ID\\},.*\"answered_at\":\"[0-9T:.Z-]{24}\"," \
	"$H_BODY"
ib_as "$IBK" GET "/api/v1/runs/$R1"
expect_eq "the run is queued again, to go on at once" "queued t" \
	"$(json_get state) $(ib_pg "SELECT run_at <= now() FROM runs WHERE id = '$R1'")"
ib_as "$IBK" GET "/api/v1/runs/$R1/events"
expect_match "its log says why: human.answered with the answer" \
	"\"type\":\"human.answered\",\"data\":\\{\"item\":\"$Q1\",\"kind\":\"question\",\"note\":null,\"answer\":\"Blue, the \\\\\"deep\\\\\" one.\",\"call_id\":\"c1\",\"approved\":null\\}" \
	"$H_BODY"
expect_eq "the answer is the call's recorded result, for the next attempt" 'ask_human|true|Blue, the "deep" one.' \
	"$(ib_pg "SELECT data->>'name', data->>'ok', data->>'content' FROM run_steps WHERE run_id = '$R1' AND step = 1 AND call_id = 'c1'")"
ib_json "$IBK" POST "/api/v1/inbox/$Q1/answer" '{"answer":"Red."}'
expect_eq "answering twice is 409 inbox-closed" "409 /problems/inbox-closed" "$H_STATUS $(json_get type)"
expect_eq "and keeps the first answer" 'Blue, the "deep" one.' "$(ib_pg "SELECT answer FROM inbox_items WHERE id = '$Q1'")"
ib_json "$IBK" POST "/api/v1/inbox/$Q1/answer" '{"approve":true}'
expect_eq "a closed item is 409 whatever the body" 409 "$H_STATUS"
ib_as "$IBK" GET "/api/v1/audit?limit=5"
expect_match "the answer is in the audit log" \
	"\"actor_type\":\"key\",\"action\":\"inbox.answered\",\"target\":\"$Q1\",.*\"details\":\\{\"run\":\"$R1\",\"kind\":\"question\"\\}" \
	"$H_BODY"
ib_as "$IBK" GET "/api/v1/inbox?state=answered"
expect_match "?state=answered lists it" "^\\{\"items\":\\[\\{\"id\":\"$Q1\"[^]]*\\],\"next_cursor\":null\\}$" "$H_BODY"

# ---- approvals: given, refused
ib_json "$IBK" POST "/api/v1/inbox/$A1/answer" '{"approve":true}'
expect_match "approving is 200, the item approved" \
	"^\\{\"id\":\"$A1\",\"kind\":\"approval\",\"state\":\"answered\",.*\"answer\":null,\"approved\":true,\"note\":null," "$H_BODY"
expect_eq "an approved call has no result: it runs when the run goes on" "queued 0" \
	"$(ib_pg "SELECT r.state || ' ' || (SELECT count(*) FROM run_steps s WHERE s.run_id = r.id AND s.call_id = 'c1') FROM runs r WHERE r.id = '$R2'")"
expect_eq "the next claim carries the approval (first attempt since: the call has not started)" '{"1 c1": true}' \
	"$(inbox_claim "$R2" approvals ROLLBACK)"
ib_json "$IBK" POST "/api/v1/inbox/$A2/answer" '{"approve":false,"note":"Not that host."}'
expect_match "refusing is 200, with the note" \
	"^\\{\"id\":\"$A2\",\"kind\":\"approval\",\"state\":\"answered\",.*\"answer\":null,\"approved\":false,\"note\":\"Not that host.\"," "$H_BODY"
expect_eq "a refusal is the call's result: an error the model reads" \
	"http_fetch|false|A person refused this call. Their note: Not that host." \
	"$(ib_pg "SELECT data->>'name', data->>'ok', data->>'content' FROM run_steps WHERE run_id = '$R3' AND call_id = 'c1'")"
ib_as "$IBK" GET "/api/v1/runs/$R3/events"
expect_match "and human.answered says it was refused" \
	"\"type\":\"human.answered\",\"data\":\\{\"item\":\"$A2\",\"kind\":\"approval\",\"note\":\"Not that host.\",\"answer\":null,\"call_id\":\"c1\",\"approved\":false\\}" \
	"$H_BODY"
ib_as "$IBK" GET "/api/v1/audit?limit=1"
expect_match "the audit entry says which way" "\"target\":\"$A2\",.*\"details\":\\{\"run\":\"$R3\",\"kind\":\"approval\",\"approved\":false\\}" "$H_BODY"

# ---- two items: the run goes on once both are answered
R4=$(ib_run "two")
Q4=$(ib_uuid)
A4=$(ib_uuid)
expect_eq "a run that asks two things at once" 0 \
	"$(inbox_wait "$R4" "[$(inbox_question "$Q4"), $(inbox_approval "$A4" c2)]" \
		'[{"id":"c1","name":"ask_human","arguments":"{}"},{"id":"c2","name":"http_fetch","arguments":"{}"}]')"
ib_json "$IBK" POST "/api/v1/inbox/$Q4/answer" '{"answer":"Green."}'
expect_eq "one answered: 200, and the run still waits for the other" "200 waiting" \
	"$H_STATUS $(ib_pg "SELECT state FROM runs WHERE id = '$R4'")"

# ---- two answers at once: one is taken, the other is 409
R7=$(ib_run "race")
Q7=$(ib_uuid)
expect_eq "a question to answer twice at once" 0 "$(inbox_wait "$R7" "[$(inbox_question "$Q7")]")"
ib_pids=()
for who in first second; do
	curl -s -o /dev/null -w '%{http_code}\n' --max-time 20 -H "Authorization: Bearer $IBK" \
		-H 'Content-Type: application/json' --data "{\"answer\":\"$who\"}" \
		"$CADDY_URL/api/v1/inbox/$Q7/answer" >"$IB_DIR/race.$who" &
	ib_pids+=($!)
done
wait "${ib_pids[@]}"
expect_eq "one 200, one 409" "200 409" "$(sort -n "$IB_DIR"/race.* | tr '\n' ' ' | sed 's/ $//')"
expect_eq "one answer recorded, one result, one human.answered" "1 1 1" \
	"$(ib_pg "SELECT (SELECT count(*) FROM inbox_items WHERE id = '$Q7' AND answer IN ('first', 'second')) || ' ' ||
		(SELECT count(*) FROM run_steps WHERE run_id = '$R7' AND call_id = 'c1') || ' ' ||
		(SELECT count(*) FROM run_events WHERE run_id = '$R7' AND type = 'human.answered')")"

# ---- cancelling a waiting run
ib_as "$IBK" POST "/api/v1/runs/$R4/cancel"
expect_eq "cancelling a waiting run ends it at once" "200 cancelled" "$H_STATUS $(json_get state)"
expect_eq "its open item is cancelled, the answered one stays answered" "answered cancelled" \
	"$(ib_pg "SELECT string_agg(state, ' ' ORDER BY n) FROM inbox_items WHERE run_id = '$R4'")"
ib_as "$IBK" GET "/api/v1/runs/$R4/events"
expect_match "with its terminal event" '"type":"run.cancelled","data":\{"reason":"cancelled while it waited for a person"\}' "$H_BODY"
ib_json "$IBK" POST "/api/v1/inbox/$A4/answer" '{"approve":true}'
expect_eq "answering then is 409 inbox-closed" "409 /problems/inbox-closed" "$H_STATUS $(json_get type)"
expect_match "which says why" '"detail":"the item is cancelled, no longer open"' "$H_BODY"
ib_as "$IBK" GET "/api/v1/inbox?state=cancelled"
expect_match "?state=cancelled lists it" "^\\{\"items\":\\[\\{\"id\":\"$A4\"[^]]*\\],\"next_cursor\":null\\}$" "$H_BODY"

# ---- expiry: the result says no one answered, or the run fails
R5=$(ib_run "late")
E5=$(ib_uuid)
expect_eq "an item that expires at once, the run to go on" 0 "$(inbox_wait "$R5" "[$(inbox_question "$E5" 0 continue)]")"
R6=$(ib_run "late, fail")
E6=$(ib_uuid)
expect_eq "one whose run fails when no one answers" 0 "$(inbox_wait "$R6" "[$(inbox_question "$E6" 0 fail)]")"
sleep 0.1
expect_eq "the rescuer's sweep expires both" 2 \
	"$(ib_pg "SELECT count(*) FROM inbox_expire(10) e WHERE e.run_id IN ('$R5', '$R6')")"
ib_as "$IBK" GET "/api/v1/inbox/$E5"
expect_eq "an expired item" "200 expired" "$H_STATUS $(json_get state)"
ib_as "$IBK" GET "/api/v1/runs/$R5/events"
expect_match "on_timeout continue: human.expired, the run queued again" \
	"\"type\":\"human.expired\",\"data\":\\{\"item\":\"$E5\",\"kind\":\"question\",\"call_id\":\"c1\"\\}" "$H_BODY"
expect_eq "(queued, with the result that no one answered)" "queued|No one answered before the deadline." \
	"$(ib_pg "SELECT r.state || '|' || (s.data->>'content') FROM runs r JOIN run_steps s ON s.run_id = r.id AND s.call_id = 'c1' WHERE r.id = '$R5'")"
ib_as "$IBK" GET "/api/v1/runs/$R6"
expect_eq "on_timeout fail: the run failed, human-timeout" "failed human-timeout" \
	"$(json_get state) $(printf '%s' "$H_BODY" | sed -n 's/.*"error":{[^}]*"type":"\([a-z-]*\)".*/\1/p')"
ib_as "$IBK" GET "/api/v1/runs/$R6/events"
expect_match "with run.failed in its log" '"type":"run.failed","data":\{"error":\{[^}]*"type":"human-timeout"' "$H_BODY"
ib_json "$IBK" POST "/api/v1/inbox/$E5/answer" '{"answer":"Too late?"}'
expect_eq "an expired item is 409 inbox-closed" "409 /problems/inbox-closed" "$H_STATUS $(json_get type)"
expect_match "(expired)" '"detail":"the item is expired, no longer open"' "$H_BODY"

# ---- a thread waits with its run
# ib_thread_asks TITLE: a thread (IB_T) whose run (IB_R) waits with a question (IB_Q).
ib_thread_asks() {
	ib_json "$IBK" POST /api/v1/threads "{\"title\":\"$1\",\"agent\":\"ib-asker\"}"
	IB_T=$(ib_id)
	ib_json "$IBK" POST "/api/v1/threads/$IB_T/runs" '{"input":{"message":"Which colour?"}}'
	IB_R=$(ib_id)
	IB_Q=$(ib_uuid)
	expect_eq "a thread's run waits for a person ($1)" 0 "$(inbox_wait "$IB_R" "[$(inbox_question "$IB_Q")]")"
}
ib_thread_asks "Asks"
TH1=$IB_T RT=$IB_R QT=$IB_Q
ib_as "$IBK" GET "/api/v1/threads/$TH1"
expect_eq "the thread is waiting" "200 waiting" "$H_STATUS $(json_get state)"
ib_json "$IBK" POST "/api/v1/threads/$TH1/runs" '{"input":{"message":"And another thing"}}'
expect_eq "a waiting run is under way: another is 409 thread-busy" "409 /problems/thread-busy" "$H_STATUS $(json_get type)"
ib_as "$IBK" GET "/api/v1/inbox?thread=$TH1"
expect_match "?thread= lists its item, which names the thread" \
	"^\\{\"items\":\\[\\{\"id\":\"$QT\",[^]]*\"run\":\"$RT\",\"thread\":\"$TH1\",[^]]*\\],\"next_cursor\":null\\}$" "$H_BODY"
ib_json "$IBK" POST "/api/v1/inbox/$QT/answer" '{"answer":"Blue."}'
expect_eq "answered" 200 "$H_STATUS"
ib_as "$IBK" GET "/api/v1/threads/$TH1"
expect_eq "the thread is busy again, its run queued" "busy queued" "$(json_get state) $(ib_pg "SELECT state FROM runs WHERE id = '$RT'")"

# Deleting a thread cancels its waiting run too (its unfinished runs), and the run's
# open item with it: no answer can start the run again without its thread.
ib_thread_asks "Deleted while it asks"
TH2=$IB_T RD=$IB_R QD=$IB_Q
ib_as "$IBK" DELETE "/api/v1/threads/$TH2"
expect_eq "the thread is deleted" 204 "$H_STATUS"
expect_eq "its waiting run is cancelled, and its item" "cancelled cancelled" \
	"$(ib_pg "SELECT r.state || ' ' || i.state FROM runs r JOIN inbox_items i ON i.run_id = r.id WHERE r.id = '$RD'")"
ib_json "$IBK" POST "/api/v1/inbox/$QD/answer" '{"answer":"This one."}'
expect_eq "answering then is 409" "409 /problems/inbox-closed" "$H_STATUS $(json_get type)"

# Nothing of this is left for the workers of later tests: the runs queued again are
# cancelled.
for r in "$R1" "$R2" "$R3" "$R5" "$R7" "$RT"; do
	ib_as "$IBK" POST "/api/v1/runs/$r/cancel"
	[ "$(json_get state)" = cancelled ] || fail "inbox: cancel $r at the end" "$H_BODY"
done
