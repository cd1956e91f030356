# t_threads.sh: conversations through Caddy: threads and their messages, runs on a
# thread that see its earlier turns (the mock provider counts every word it is sent),
# one run at a time (reject, enqueue, interrupt), tenants, and the real worker.

# Its files sit with t_worker's, where run.sh stops any worker a failed test left.
TH=$STATE/worker
mkdir -p "$TH"
sb_free_port TH_LLM_PORT
sb_free_port TH_METRICS
"$SB_BUILD/sb-mock-llm" "$TH_LLM_PORT" >"$TH/th-mock.log" 2>&1 &
echo $! >"$TH/th-mock.pid"
sb_wait_for "exec 3<>/dev/tcp/127.0.0.1/$TH_LLM_PORT" 5 || fail "threads: the mock provider starts" "no port"
worker_conf "$TH" "$TH_LLM_PORT" thw "$TH_METRICS"
worker_start "$TH" thw "$TH_METRICS" || fail "threads: the worker starts" "see $TH/thw.log"

$CTL org add thco >/dev/null
$CTL org add thco2 >/dev/null
THK=$($CTL key create --org thco --scopes runs:write,runs:read,agents:admin,agents:read)
THR=$($CTL key create --org thco --scopes runs:read)
THO=$($CTL key create --org thco2 --scopes runs:write,runs:read)
th_as() { local k=$1 m=$2 p=$3; shift 3; http "$m" "$CADDY_URL$p" -H "Authorization: Bearer $k" "$@"; }
th_json() { th_as "$1" "$2" "$3" -H 'Content-Type: application/json' --data "$4"; }
th_id() { printf '%s' "$H_BODY" | sed -n 's/^{"id":"\([0-9a-f-]\{36\}\)".*/\1/p'; }
th_pg() { psql_su -c "$1"; }
# th_wait RUN STATE SECONDS
th_wait() { sb_wait_for "[ \"\$(psql_su -c \"SELECT state FROM runs WHERE id = '$1'\")\" = $2 ]" "$3"; }
# An agent on the mock: its answer is "Echo:" and the last user message's words.
th_json "$THK" PUT /api/v1/agents/th-echo '{"name":"Echo","provider":"openai","model":"mock","system_prompt":"Be brief."}'
th_json "$THK" PUT /api/v1/agents/th-slow '{"name":"Slow","provider":"openai","model":"mock,pace=10","system_prompt":"Be brief."}'
th_json "$THK" PUT /api/v1/agents/th-small '{"name":"Small","provider":"openai","model":"mock","system_prompt":"Be brief.","parameters":{"context_tokens":256}}'

# ---- threads: create, read, list, update
th_json "$THK" POST /api/v1/threads '{"title":"Support chat","metadata":{"ticket":"T-9"},"agent":"th-echo"}'
expect_eq "creating a thread is 201" 201 "$H_STATUS"
T1=$(th_id)
expect_eq "with a Location" "/api/v1/threads/$T1" "$(header location)"
expect_match "idle, no messages, its agent and links" "\"title\":\"Support chat\",\"metadata\":\\{\"ticket\":\"T-9\"\\},\"agent\":\"th-echo\",\"state\":\"idle\",\"messages\":0,.*\"links\":\\{\"self\":\"/api/v1/threads/$T1\",\"messages\":\"/api/v1/threads/$T1/messages\",\"runs\":\"/api/v1/threads/$T1/runs\"\\}" "$H_BODY"
th_as "$THK" POST /api/v1/threads
expect_eq "a thread needs no body" 201 "$H_STATUS"
T0=$(th_id)
th_json "$THK" POST /api/v1/threads '{"agent":"no-such-agent"}'
expect_eq "an unknown agent is 422 unknown-agent" "422 /problems/unknown-agent" "$H_STATUS $(json_get type)"
th_json "$THK" POST /api/v1/threads '{"title":7}'
expect_eq "a title that is not a string is 422" 422 "$H_STATUS"
th_json "$THK" POST /api/v1/threads "{\"title\":\"$(printf 'x%.0s' $(seq 201))\"}"
expect_eq "a title over 200 bytes is 422" 422 "$H_STATUS"
th_json "$THK" POST /api/v1/threads '{"metadata":[1]}'
expect_eq "metadata that is not an object is 422" 422 "$H_STATUS"
th_json "$THK" POST /api/v1/threads '{"colour":"red"}'
expect_eq "an unknown field is 400" 400 "$H_STATUS"
th_json "$THR" POST /api/v1/threads '{}'
expect_eq "creating needs runs:write" 403 "$H_STATUS"
th_as "$THR" GET "/api/v1/threads/$T1"
expect_eq "GET a thread is 200 with runs:read" "200 $T1" "$H_STATUS $(json_get id)"
th_as "$THR" GET "/api/v1/threads?limit=1"
expect_match "the list is newest first, in pages" "^\\{\"items\":\\[\\{\"id\":\"$T0\".*\"next_cursor\":\"[0-9]+\"\\}$" "$H_BODY"
th_json "$THK" PATCH "/api/v1/threads/$T0" '{"title":"Renamed","agent":"th-echo"}'
expect_eq "PATCH sets what it names" "200 Renamed th-echo" "$H_STATUS $(json_get title) $(json_get agent)"
th_json "$THK" PATCH "/api/v1/threads/$T0" '{"agent":null}'
expect_eq "and agent null clears the default agent, leaving the title" "200 Renamed" "$H_STATUS $(json_get title)"
expect_match "(agent null)" '"agent":null' "$H_BODY"
th_json "$THK" PATCH "/api/v1/threads/$T0" '{"agent":"no-such-agent"}'
expect_eq "PATCH to an unknown agent is 422" 422 "$H_STATUS"
th_as "$THO" GET "/api/v1/threads/$T1"
expect_eq "another org's thread is 404" 404 "$H_STATUS"
th_as "$THK" GET /api/v1/threads/not-a-uuid
expect_eq "a malformed id is 404" 404 "$H_STATUS"

# ---- runs on a thread: each sees the turns before it
th_json "$THK" POST "/api/v1/threads/$T1/runs" '{"input":{"message":"alpha beta"}}'
expect_eq "a run on the thread is 202, as its agent" "202 th-echo" "$H_STATUS $(json_get agent)"
R1=$(th_id)
th_as "$THK" GET "/api/v1/threads/$T1"
check "the thread is busy while it runs, or idle once done" test "$(json_get state)" = busy -o "$(json_get state)" = idle
check "the first run succeeds" th_wait "$R1" succeeded 15
th_as "$THK" GET "/api/v1/threads/$T1/messages"
expect_match "its turn joined the thread: the user's message and the answer, newest first" \
	"^\\{\"items\":\\[\\{\"seq\":2,\"role\":\"assistant\",\"content\":\"Echo: alpha beta\",\"data\":\\{\\},\"run\":\"$R1\".*\\{\"seq\":1,\"role\":\"user\",\"content\":\"alpha beta\",\"data\":\\{\\},\"run\":\"$R1\"" "$H_BODY"
th_as "$THK" GET "/api/v1/threads/$T1"
expect_match "the thread is idle with 2 messages" '"state":"idle","messages":2,' "$H_BODY"
# The mock counts the words of every message and of the system prompt as prompt tokens:
# alone, "Be brief." and "alpha beta" are 4; with the first turn before it, "gamma" is
# 2 + 2 + 3 ("Echo: alpha beta") + 1 = 8.
expect_eq "the first run's model saw the system prompt and its message" 4 \
	"$(th_pg "SELECT usage->>'prompt_tokens' FROM runs WHERE id = '$R1'")"
th_json "$THK" POST "/api/v1/threads/$T1/runs" '{"input":{"message":"gamma"}}'
R2=$(th_id)
check "the second run succeeds" th_wait "$R2" succeeded 15
expect_eq "and its model saw the first turn before its message" 8 \
	"$(th_pg "SELECT usage->>'prompt_tokens' FROM runs WHERE id = '$R2'")"
expect_eq "the thread holds both turns in order" "1:user:alpha beta|2:assistant:Echo: alpha beta|3:user:gamma|4:assistant:Echo: gamma" \
	"$(th_pg "SELECT string_agg(seq || ':' || role || ':' || content, '|' ORDER BY seq) FROM thread_messages WHERE thread_id = '$T1'")"
th_as "$THK" GET "/api/v1/threads/$T1/messages?limit=3"
expect_match "messages page back in time" '"next_cursor":"2"' "$H_BODY"
th_as "$THK" GET "/api/v1/threads/$T1/messages?cursor=2"
expect_match "the next page holds the first message alone" '^\{"items":\[\{"seq":1,[^]]*\}\],"next_cursor":null\}$' "$H_BODY"

# ---- the thread's stream: every run's events, one run after the other, resumable
# th_sse THREAD FILE SECONDS [LAST_EVENT_ID]
th_sse() {
	curl -s -N --max-time "$3" -H "Authorization: Bearer $THK" ${4:+-H "Last-Event-ID: $4"} \
		-o "$2" "$CADDY_URL/api/v1/threads/$1/stream"
}
th_sse "$T1" "$TH/t1.sse" 2
want=$(th_pg "SELECT count(*) FROM run_events WHERE run_id IN ('$R1', '$R2')")
expect_eq "the stream replays every event of the thread's runs" "$want" "$(grep -c '^id: ' "$TH/t1.sse")"
expect_eq "ids are the run's n and the seq, in order (runs one after the other)" \
	"$(th_pg "SELECT string_agg(r.n || '-' || e.seq, ' ' ORDER BY r.n, e.seq) FROM runs r JOIN run_events e ON e.run_id = r.id WHERE r.id IN ('$R1', '$R2')")" \
	"$(sed -n 's/^id: //p' "$TH/t1.sse" | tr '\n' ' ' | sed 's/ $//')"
expect_match "each event names its run: the first run's first" "\"run\": ?\"$R1\"" "$(sed -n 's/^data: //p' "$TH/t1.sse" | head -n 1)"
expect_match "and the last is the second run's end" "^event: run.succeeded$" "$(grep '^event: ' "$TH/t1.sse" | tail -n 1)"
third=$(sed -n 's/^id: //p' "$TH/t1.sse" | sed -n 3p)
th_sse "$T1" "$TH/t1b.sse" 2 "$third"
expect_eq "resumed after the third event (Last-Event-ID), it gives exactly the rest" \
	"$(sed -n 's/^id: //p' "$TH/t1.sse" | sed -n '4,$p' | tr '\n' ' ')" "$(sed -n 's/^id: //p' "$TH/t1b.sse" | tr '\n' ' ')"
th_as "$THK" GET "/api/v1/threads/$T1/stream?after=x-1"
expect_eq "a malformed position is 400 bad-after" "400 /problems/bad-after" "$H_STATUS $(json_get type)"
th_as "$THO" GET "/api/v1/threads/$T1/stream"
expect_eq "another org's thread stream is 404" 404 "$H_STATUS"
last=$(sed -n 's/^id: //p' "$TH/t1.sse" | tail -n 1)
th_sse "$T1" "$TH/t1c.sse" 6 "$last" &
th_sse_pid=$!
sleep 1
th_json "$THK" POST "/api/v1/threads/$T1/runs" '{"input":{"message":"live"}}'
R3=$(th_id)
wait "$th_sse_pid"
expect_eq "a new run's events come live on the open stream, and only they" \
	"$(th_pg "SELECT count(*) FROM run_events WHERE run_id = '$R3'") $R3" \
	"$(grep -c '^id: ' "$TH/t1c.sse") $(sed -n 's/^data: .*"run": \?"\([0-9a-f-]*\)".*/\1/p' "$TH/t1c.sse" | sort -u)"

# Live events come with the worker's announcement, which names the thread, not with the
# sweep (stream.sweep_ms, 2 s): five runs in a row, each one's run.succeeded on the open
# stream within 800 ms of the transaction that wrote it.
{ curl -s -N --max-time 9 -H "Authorization: Bearer $THK" -H "Last-Event-ID: $(sed -n 's/^id: //p' "$TH/t1c.sse" | tail -n 1)" \
	"$CADDY_URL/api/v1/threads/$T1/stream" | while IFS= read -r line; do printf '%s %s\n' "$(date +%s%3N)" "$line"; done >"$TH/t1d.sse"; } &
th_lag_pid=$!
sleep 1
lags=""
for i in 1 2 3 4 5; do
	th_json "$THK" POST "/api/v1/threads/$T1/runs" "{\"input\":{\"message\":\"lag $i\"}}"
	rid=$(th_id)
	th_wait "$rid" succeeded 10 || fail "threads: run $i of the lag check ends" "$H_BODY"
	lags="$lags $rid"
done
wait "$th_lag_pid"
late=""
for rid in $lags; do
	sent=$(th_pg "SELECT (extract(epoch FROM created_at) * 1000)::bigint FROM run_events WHERE run_id = '$rid' AND type = 'run.succeeded'")
	got=$(awk -v id="$rid" '$2 == "event:" { type = $3 } $2 == "data:" && index($0, id) && type == "run.succeeded" { print $1; exit }' "$TH/t1d.sse")
	if [ -z "$got" ] || [ $((got - sent)) -gt 800 ]; then late="$late $rid:${got:-none}-$sent"; fi
done
expect_eq "each run's end reached the thread's stream within 800 ms" "" "$late"

# The budget: an agent with context_tokens keeps the newest turns that fit.
th_json "$THK" POST /api/v1/threads '{"agent":"th-small"}'
TS=$(th_id)
long=$(printf 'word%d ' $(seq 200))
th_json "$THK" POST "/api/v1/threads/$TS/runs" "{\"input\":{\"message\":\"$long\"}}"
check "a long first turn" th_wait "$(th_id)" succeeded 15
th_json "$THK" POST "/api/v1/threads/$TS/runs" '{"input":{"message":"short"}}'
RS=$(th_id)
check "then a short one" th_wait "$RS" succeeded 15
expect_eq "the turn over the agent's budget (256 tokens) is left out of the context" 3 \
	"$(th_pg "SELECT usage->>'prompt_tokens' FROM runs WHERE id = '$RS'")"

# ---- bad input
th_json "$THK" POST "/api/v1/threads/$T1/runs" '{"input":"just text"}'
expect_eq "input must be an object" "400 /problems/invalid-body" "$H_STATUS $(json_get type)"
th_json "$THK" POST "/api/v1/threads/$T1/runs" '{"input":{"message":""}}'
expect_eq "an empty message is 422" "422 /problems/invalid-message" "$H_STATUS $(json_get type)"
th_json "$THK" POST "/api/v1/threads/$T1/runs" '{"input":{"message":"x"},"multitask":"sometimes"}'
expect_eq "an unknown multitask is 422" "422 /problems/invalid-multitask" "$H_STATUS $(json_get type)"
th_json "$THK" POST "/api/v1/threads/$T0/runs" '{"input":{"message":"x"}}'
expect_eq "a thread without an agent needs one in the request" "422 /problems/unknown-agent" "$H_STATUS $(json_get type)"
th_json "$THO" POST "/api/v1/threads/$T1/runs" '{"input":{"message":"x"}}'
expect_eq "another org cannot run on the thread" 404 "$H_STATUS"
th_json "$THR" POST "/api/v1/threads/$T1/runs" '{"input":{"message":"x"}}'
expect_eq "running needs runs:write" 403 "$H_STATUS"

# ---- one run at a time: reject, enqueue, interrupt
th_json "$THK" POST /api/v1/threads '{"agent":"th-slow"}'
TM=$(th_id)
th_json "$THK" POST "/api/v1/threads/$TM/runs" '{"input":{"message":"one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty"}}'
M1=$(th_id)
th_json "$THK" POST "/api/v1/threads/$TM/runs" '{"input":{"message":"refused"}}'
expect_eq "a second run while one is going is 409 thread-busy (multitask reject)" "409 /problems/thread-busy" "$H_STATUS $(json_get type)"
th_json "$THK" POST "/api/v1/threads/$TM/runs" '{"input":{"message":"queued after"},"multitask":"enqueue"}'
M2=$(th_id)
expect_eq "enqueue makes it wait" "202 queued" "$H_STATUS $(json_get state)"
check "the first run gets going" th_wait "$M1" running 10
expect_eq "the queued run waits for it" queued "$(th_pg "SELECT state FROM runs WHERE id = '$M2'")"
check "it ends" th_wait "$M1" succeeded 30
check "and the queued one runs next, and succeeds" th_wait "$M2" succeeded 30
expect_eq "it started after the first had ended" t \
	"$(th_pg "SELECT b.started_at >= a.finished_at FROM runs a, runs b WHERE a.id = '$M1' AND b.id = '$M2'")"
expect_eq "and saw its turn" "Echo: one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty" \
	"$(th_pg "SELECT content FROM thread_messages WHERE thread_id = '$TM' AND seq = 2")"
# A run waiting its turn that is cancelled ends when its turn comes, after the runs
# before it: the thread's events stay in the order of its runs.
th_json "$THK" POST "/api/v1/threads/$TM/runs" '{"input":{"message":"one two three four five six seven eight nine ten eleven twelve"}}'
C1=$(th_id)
th_json "$THK" POST "/api/v1/threads/$TM/runs" '{"input":{"message":"never"},"multitask":"enqueue"}'
C2=$(th_id)
check "the first gets going" th_wait "$C1" running 10
th_as "$THK" POST "/api/v1/runs/$C2/cancel"
expect_eq "cancelling the waiting one flags it, still queued" "200 queued" "$H_STATUS $(json_get state)"
expect_match "(cancel_requested)" '"cancel_requested":true' "$H_BODY"
check "the first ends as it would" th_wait "$C1" succeeded 30
check "then the waiting one ends cancelled" th_wait "$C2" cancelled 10
expect_eq "its run.cancelled was written after the first run's end, and nothing joined the thread" "t|0" \
	"$(th_pg "SELECT (SELECT created_at FROM run_events WHERE run_id = '$C2' AND type = 'run.cancelled') >= (SELECT created_at FROM run_events WHERE run_id = '$C1' AND type = 'run.succeeded'), (SELECT count(*) FROM thread_messages WHERE run_id = '$C2')")"

# Concurrent starts with reject: the database lets exactly one through.
codes=$(for i in 1 2 3 4 5 6; do
	curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $THK" -H 'Content-Type: application/json' \
		--data "{\"input\":{\"message\":\"race $i\"}}" "$CADDY_URL/api/v1/threads/$TM/runs" &
done; wait)
expect_eq "six starts at once: one 202, five 409" "1 5" \
	"$(printf '%s\n' "$codes" | grep -c '^202$') $(printf '%s\n' "$codes" | grep -c '^409$')"
check "the winner ends" sb_wait_for "[ \"\$(psql_su -c \"SELECT count(*) FROM runs WHERE thread_id = '$TM' AND state IN ('queued','running')\")\" = 0 ]" 30
# Interrupt: the running run is cancelled keeping what it said, the new one runs next.
th_json "$THK" POST "/api/v1/threads/$TM/runs" '{"input":{"message":"a b c d e f g h i j k l m n o p q r s t u v w x y z"}}'
I1=$(th_id)
check "a long run gets going" th_wait "$I1" running 10
sb_wait_for "[ \"\$(psql_su -c \"SELECT count(*) FROM run_events WHERE run_id = '$I1' AND type = 'message.delta'\")\" -gt 0 ]" 10
th_json "$THK" POST "/api/v1/threads/$TM/runs" '{"input":{"message":"instead"},"multitask":"interrupt"}'
I2=$(th_id)
expect_eq "interrupt is 202" 202 "$H_STATUS"
check "the running run is cancelled" th_wait "$I1" cancelled 10
check "the new one runs and succeeds" th_wait "$I2" succeeded 30
expect_eq "the interrupted turn is in the thread with what it had said, then the new turn" "user:a b c d e f g h i j k l m n o p q r s t u v w x y z|assistant:true|user:instead|assistant:Echo: instead" \
	"$(th_pg "SELECT string_agg(role || ':' || CASE WHEN run_id = '$I1' AND role = 'assistant' THEN (content LIKE 'Echo:%' AND content <> 'Echo: a b c d e f g h i j k l m n o p q r s t u v w x y z')::text ELSE content END, '|' ORDER BY seq) FROM thread_messages WHERE thread_id = '$TM' AND run_id IN ('$I1', '$I2')")"

# ---- delete: the thread goes, its runs stay (cancelled if unfinished)
th_json "$THK" POST "/api/v1/threads/$TM/runs" '{"input":{"message":"one two three four five six seven eight"}}'
D1=$(th_id)
th_as "$THO" DELETE "/api/v1/threads/$TM"
expect_eq "another org cannot delete it" 404 "$H_STATUS"
th_as "$THK" DELETE "/api/v1/threads/$TM"
expect_eq "DELETE is 204" 204 "$H_STATUS"
th_as "$THK" GET "/api/v1/threads/$TM"
expect_eq "the thread is gone" 404 "$H_STATUS"
check "its unfinished run is cancelled" th_wait "$D1" cancelled 10
expect_eq "its runs remain, without a thread, and its messages are gone" "t|0" \
	"$(th_pg "SELECT (SELECT count(*) = 3 FROM runs WHERE id IN ('$M1', '$M2', '$D1') AND thread_id IS NULL), (SELECT count(*) FROM thread_messages WHERE thread_id = '$TM')")"
th_as "$THK" DELETE "/api/v1/threads/$TM"
expect_eq "deleting again is 404" 404 "$H_STATUS"

sb_stop_pidfile "$TH/thw.pid" 5
sb_stop_pidfile "$TH/th-mock.pid" 5
