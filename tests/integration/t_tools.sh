# t_tools.sh: agents that call tools, through Caddy and the real worker: the loop (model,
# tool calls, results, model) in both wire formats with the mock provider, parallel
# calls, max_steps, errors fed back to the model, the journal a later attempt goes on
# from (kill -9 between a tool call and the next turn: no call runs twice, no turn is
# billed twice), tool turns in a thread, and the SSRF guard of http_fetch.

TL=$STATE/worker
mkdir -p "$TL"
sb_free_port TL_LLM
sb_free_port TL_PAGES
sb_free_port TL_M1
sb_free_port TL_M2
"$SB_BUILD/sb-mock-llm" "$TL_LLM" >"$TL/tl-mock.log" 2>&1 &
echo $! >"$TL/tl-mock.pid"
node "$SB_ROOT/tests/node/pages.mjs" "$TL_PAGES" >"$TL/tl-pages.log" 2>&1 &
echo $! >"$TL/tl-pages.pid"
sb_wait_for "exec 3<>/dev/tcp/127.0.0.1/$TL_LLM" 5 || fail "tools: the mock provider starts" "no port"
sb_wait_for "exec 3<>/dev/tcp/127.0.0.1/$TL_PAGES" 5 || fail "tools: the page server starts" "no port"
worker_conf "$TL" "$TL_LLM" tlw1 "$TL_M1"
worker_start "$TL" tlw1 "$TL_M1" || fail "tools: the worker starts" "see $TL/tlw1.log"

$CTL agents import "$SB_ROOT/conf/agents" >/dev/null
$CTL org add tlco >/dev/null
$CTL org add tlco2 >/dev/null
TLK=$($CTL key create --org tlco --scopes runs:write,runs:read,agents:admin,agents:read)
TLK2=$($CTL key create --org tlco2 --scopes runs:write,runs:read,agents:admin,agents:read)
tl_as() { local k=$1 m=$2 p=$3; shift 3; http "$m" "$CADDY_URL$p" -H "Authorization: Bearer $k" "$@"; }
tl_json() { tl_as "$1" "$2" "$3" -H 'Content-Type: application/json' --data "$4"; }
tl_id() { printf '%s' "$H_BODY" | sed -n 's/^{"id":"\([0-9a-f-]\{36\}\)".*/\1/p'; }
tl_pg() { psql_su -c "$1"; }
tl_wait() { sb_wait_for "[ \"\$(psql_su -c \"SELECT state FROM runs WHERE id = '$1'\")\" = $2 ]" "$3"; }
# tl_run KEY AGENT MESSAGE: starts a run; its id in TL_RID.
tl_run() {
	tl_json "$1" POST /api/v1/runs "{\"agent\":\"$2\",\"input\":{\"message\":\"$3\"}}"
	TL_RID=$(tl_id)
}
# The event types of a run, in order, space-separated, deltas left out.
tl_events() { tl_pg "SELECT string_agg(type, ' ' ORDER BY seq) FROM run_events WHERE run_id = '$1' AND type <> 'message.delta'"; }
tl_output() { tl_pg "SELECT output->>'text' FROM runs WHERE id = '$1'"; }
PAGES=http://127.0.0.1:$TL_PAGES

expect_eq "the org allows the page server's host" "127.0.0.1" "$($CTL org allow-host tlco 127.0.0.1)"
expect_eq "allowing it twice keeps it once" "127.0.0.1" "$($CTL org allow-host tlco 127.0.0.1)"
check "a host that is no host is refused" sh -c "! $CTL org allow-host tlco 'a b' 2>/dev/null"
for k in "$TLK" "$TLK2"; do
	for p in openai anthropic; do
		tl_json "$k" PUT "/api/v1/agents/tl-fetch-$p" "{\"name\":\"Fetcher\",\"provider\":\"$p\",\"model\":\"mock,tool=http_fetch,arg=url\",\"tools\":[\"http_fetch\"]}"
	done
done
expect_eq "an agent with the http_fetch tool is accepted" 201 "$H_STATUS"

# ---- the loop: the model calls http_fetch, gets the page's text, answers with it
for p in openai anthropic; do
	tl_run "$TLK" "tl-fetch-$p" "$PAGES/page"
	R=$TL_RID
	check "$p: the run with a tool call succeeds" tl_wait "$R" succeeded 20
	expect_eq "$p: model, tool, model: its events in order" \
		"run.started agent.started agent.thinking tool.executing tool.completed agent.thinking message.completed run.succeeded" \
		"$(tl_events "$R")"
	expect_match "$p: the tool saw the page as text: title, paragraphs, entities decoded, no script or style" \
		"^Echo: HTTP 200 from $PAGES/page Opening hours Home \\| About Opening hours The library opens at 9 am & closes at 5 pm\\. On Sundays it is closed — except in December\\.\$" \
		"$(tl_output "$R")"
	expect_eq "$p: tool.executing names the call, the tool and its arguments" "http_fetch|$PAGES/page" \
		"$(tl_pg "SELECT data->>'name' || '|' || (data->'arguments'->>'url') FROM run_events WHERE run_id = '$R' AND type = 'tool.executing'")"
	expect_eq "$p: tool.completed: the same call, ok, a result, a duration" "true|true|true|true" \
		"$(tl_pg "SELECT (c.data->>'call_id' = x.data->>'call_id')::text || '|' || (c.data->>'ok') || '|' || (c.data->>'result' LIKE 'HTTP 200 from %')::text || '|' || (c.data ? 'duration_ms')::text FROM run_events c, run_events x WHERE c.run_id = '$R' AND x.run_id = '$R' AND c.type = 'tool.completed' AND x.type = 'tool.executing'")"
	expect_eq "$p: agent.thinking counts the steps" "1 2" \
		"$(tl_pg "SELECT string_agg(data->>'step', ' ' ORDER BY seq) FROM run_events WHERE run_id = '$R' AND type = 'agent.thinking'")"
	expect_eq "$p: the output says how many model turns it took" 2 \
		"$(tl_pg "SELECT output->>'steps' FROM runs WHERE id = '$R'")"
	expect_eq "$p: the journal holds the model's turn and the call's result" "1::http_fetch|1:call:ok" \
		"$(tl_pg "SELECT string_agg(step || ':' || CASE WHEN call_id = '' THEN ':' || (data->'tool_calls'->0->>'name') ELSE 'call:' || CASE WHEN (data->>'ok')::boolean THEN 'ok' ELSE 'error' END END, '|' ORDER BY step, call_id) FROM run_steps WHERE run_id = '$R'")"
	expect_eq "$p: usage is billed once per model turn: the recorded turn's and the answer's" 2 \
		"$(tl_pg "SELECT count(*) FROM usage_ledger WHERE run_id = '$R'")"
	expect_eq "$p: and the run's totals are their sum" t \
		"$(tl_pg "SELECT (SELECT sum(prompt_tokens) FROM usage_ledger WHERE run_id = '$R') = (usage->>'prompt_tokens')::bigint AND (SELECT sum(completion_tokens) FROM usage_ledger WHERE run_id = '$R') = (usage->>'completion_tokens')::bigint FROM runs WHERE id = '$R'")"
done
R=$TL_RID
tl_as "$TLK" GET "/api/v1/runs/$R/events"
expect_match "the events are in the API's log too" '"type":"tool.completed"' "$H_BODY"

# ---- what the fetch gives: text, JSON, other types, size, errors
for case in "text|plain words here" "json|\"temperature\": 21" "binary|which is not text: not shown" "nothing-here|HTTP 404"; do
	tl_run "$TLK" tl-fetch-openai "$PAGES/${case%%|*}"
	tl_wait "$TL_RID" succeeded 20
	expect_match "a fetch of /${case%%|*} gives the model: ${case#*|}" "${case#*|}" \
		"$(tl_pg "SELECT data->>'result' FROM run_events WHERE run_id = '$TL_RID' AND type = 'tool.completed'")"
done
expect_eq "a 404 is a failed call (ok false), fed back to the model" false \
	"$(tl_pg "SELECT data->>'ok' FROM run_events WHERE run_id = '$TL_RID' AND type = 'tool.completed'")"
tl_run "$TLK" tl-fetch-openai "$PAGES/big"
tl_wait "$TL_RID" succeeded 20
expect_eq "a big page reaches the model cut at 16 KiB; the event shows 1 KiB and says it is cut" "true|true|true" \
	"$(tl_pg "SELECT (length(s.data->>'content') <= 16384 AND length(s.data->>'content') > 16000)::text || '|' || (octet_length(e.data->>'result') <= 1024)::text || '|' || (e.data->>'truncated') FROM run_steps s, run_events e WHERE s.run_id = '$TL_RID' AND s.call_id <> '' AND e.run_id = s.run_id AND e.type = 'tool.completed'")"
tl_run "$TLK" tl-fetch-openai "$PAGES/redirect?to=/text"
tl_wait "$TL_RID" succeeded 20
expect_match "a redirect is followed" "plain words here" "$(tl_output "$TL_RID")"

# ---- the guard: an org that allows no private host
n=0
for url in "http://127.0.0.1:$TL_PAGES/count/g1" "http://localhost:$TL_PAGES/count/g1" "http://[::1]:$TL_PAGES/count/g1" \
	"http://2130706433:$TL_PAGES/count/g1" "http://0x7f000001:$TL_PAGES/count/g1" "http://127.1:$TL_PAGES/count/g1" \
	"http://10.0.0.1/" "http://192.168.1.1/" "http://169.254.169.254/latest/meta-data/"; do
	tl_run "$TLK2" tl-fetch-openai "$url"
	tl_wait "$TL_RID" succeeded 20
	expect_match "guarded: $url is refused, and the model is told" "^Echo: Refused: " "$(tl_output "$TL_RID")"
done
tl_run "$TLK" tl-fetch-openai "$PAGES/redirect?to=http://localhost:$TL_PAGES/count/g1"
tl_wait "$TL_RID" succeeded 20
expect_match "a redirect from an allowed host to loopback by another name is refused" "^Echo: Refused: http://localhost" "$(tl_output "$TL_RID")"
tl_run "$TLK2" tl-fetch-openai "http://127.0.0.1:$TL_PAGES/redirect?to=/count/g1"
tl_wait "$TL_RID" succeeded 20
for url in "file:///etc/passwd" "ftp://127.0.0.1/" "gopher://127.0.0.1:$TL_PAGES/"; do
	tl_run "$TLK" tl-fetch-openai "$url"
	tl_wait "$TL_RID" succeeded 20
	expect_match "no scheme but http(s): $url" "is not an http or https URL" "$(tl_output "$TL_RID")"
done
expect_eq "the page server never saw a refused fetch" 0 "$(curl -s "$PAGES/hits/g1")"

# ---- bad calls are errors the model sees, not failures of the run
tl_json "$TLK" PUT /api/v1/agents/tl-noargs '{"name":"No args","provider":"openai","model":"mock,tool=http_fetch","tools":["http_fetch"]}'
tl_run "$TLK" tl-noargs "$PAGES/page"
check "a call with arguments that miss the schema still ends the run" tl_wait "$TL_RID" succeeded 20
expect_match "the model was told what was wrong" "^Echo: The arguments do not fit the tool's schema: " "$(tl_output "$TL_RID")"

# ---- parallel calls in one turn run side by side
tl_json "$TLK" PUT /api/v1/agents/tl-par '{"name":"Parallel","provider":"anthropic","model":"mock,tool=http_fetch,arg=url,calls=3","tools":["http_fetch"]}'
tl_run "$TLK" tl-par "$PAGES/slow?ms=1000"
R=$TL_RID
check "three parallel calls end the run" tl_wait "$R" succeeded 20
expect_eq "three calls, three results, each its own id" "3|3|3" \
	"$(tl_pg "SELECT (SELECT count(*) FROM run_events WHERE run_id = '$R' AND type = 'tool.executing') || '|' || (SELECT count(*) FROM run_events WHERE run_id = '$R' AND type = 'tool.completed') || '|' || (SELECT count(DISTINCT data->>'call_id') FROM run_events WHERE run_id = '$R' AND type = 'tool.completed')")"
expect_eq "all three were under way before the first ended (1 s each)" t \
	"$(tl_pg "SELECT max(e.seq) FILTER (WHERE e.type = 'tool.executing') < min(e.seq) FILTER (WHERE e.type = 'tool.completed') FROM run_events e WHERE e.run_id = '$R'")"
expect_eq "and the three took about one second together, not three" t \
	"$(tl_pg "SELECT max(created_at) FILTER (WHERE type = 'tool.completed') - min(created_at) FILTER (WHERE type = 'tool.executing') < interval '1900 ms' FROM run_events WHERE run_id = '$R'")"

# ---- max_steps
tl_json "$TLK" PUT /api/v1/agents/tl-loop '{"name":"Looper","provider":"openai","model":"mock,tool=http_fetch,arg=url,steps=5","tools":["http_fetch"],"parameters":{"max_steps":3}}'
tl_run "$TLK" tl-loop "$PAGES/text"
check "an agent that calls tools in its last allowed turn fails" tl_wait "$TL_RID" failed 20
expect_eq "with max-steps, after three model turns and two calls" "max-steps|3|2" \
	"$(tl_pg "SELECT error->>'type' || '|' || (SELECT count(*) FROM run_events WHERE run_id = r.id AND type = 'agent.thinking') || '|' || (SELECT count(*) FROM run_events WHERE run_id = r.id AND type = 'tool.completed') FROM runs r WHERE id = '$TL_RID'")"
tl_json "$TLK" PUT /api/v1/agents/tl-loop5 '{"name":"Looper","provider":"openai","model":"mock,tool=http_fetch,arg=url,steps=5","tools":["http_fetch"],"parameters":{"max_steps":6}}'
tl_run "$TLK" tl-loop5 "$PAGES/text"
check "with room for them, five tool turns and the answer" tl_wait "$TL_RID" succeeded 30
expect_eq "six model turns" 6 "$(tl_pg "SELECT output->>'steps' FROM runs WHERE id = '$TL_RID'")"

# ---- kill -9 between a tool call and the next model turn
# The answer after the call comes at 2 tokens a second: the worker is killed while it
# streams.  The next attempt goes on from the journal: the call is not made again, the
# first turn is not asked (nor billed) again.
tl_json "$TLK" PUT /api/v1/agents/tl-slow '{"name":"Slow","provider":"openai","model":"mock,tool=http_fetch,arg=url,pace=4","tools":["http_fetch"]}'
tl_run "$TLK" tl-slow "$PAGES/count/k1"
R=$TL_RID
check "the call is made and its result recorded" sb_wait_for "[ \"\$(psql_su -c \"SELECT count(*) FROM run_steps WHERE run_id = '$R' AND call_id <> ''\")\" = 1 ]" 20
check "the second turn is under way" sb_wait_for "[ \"\$(psql_su -c \"SELECT count(*) FROM run_events WHERE run_id = '$R' AND type = 'agent.thinking'\")\" = 2 ]" 10
kill -9 "$(cat "$TL/tlw1.pid")"
worker_conf "$TL" "$TL_LLM" tlw2 "$TL_M2"
worker_start "$TL" tlw2 "$TL_M2" || fail "tools: a second worker starts" "see $TL/tlw2.log"
check "the run is rescued and succeeds" tl_wait "$R" succeeded 30
expect_eq "on attempt 2, which went on from step 1 with no call to run again" "2|1|0|0" \
	"$(tl_pg "SELECT attempt || '|' || (SELECT string_agg(data->>'step' || '|' || (data->>'calls_rerun') || '|' || (data->>'calls_unknown'), ',') FROM run_events WHERE run_id = r.id AND type = 'agent.resumed') FROM runs r WHERE id = '$R'")"
expect_eq "the page was fetched once" 1 "$(curl -s "$PAGES/hits/k1")"
expect_eq "one tool.executing in the whole log" 1 \
	"$(tl_pg "SELECT count(*) FROM run_events WHERE run_id = '$R' AND type = 'tool.executing'")"
expect_eq "the first turn billed once (attempt 1, with its record), the answer once (attempt 2)" "1:1|2:1" \
	"$(tl_pg "SELECT string_agg(attempt || ':' || n, '|' ORDER BY attempt) FROM (SELECT attempt, count(*) AS n FROM usage_ledger WHERE run_id = '$R' GROUP BY attempt) x")"
expect_match "the answer is the page's, as the model got it" "^Echo: HTTP 200 from $PAGES/count/k1 counted k1 GET\$" "$(tl_output "$R")"

# A call in flight when the worker dies: a GET runs again (it is safe to).
tl_json "$TLK" PUT /api/v1/agents/tl-get '{"name":"Getter","provider":"openai","model":"mock,tool=http_fetch,arg=url","tools":["http_fetch"]}'
tl_run "$TLK" tl-get "$PAGES/count/k2?ms=4000"
R=$TL_RID
check "the call is under way" sb_wait_for "[ \"\$(curl -s $PAGES/hits/k2)\" = 1 ]" 20
kill -9 "$(cat "$TL/tlw2.pid")"
worker_start "$TL" tlw1 "$TL_M1" || fail "tools: the first worker starts again" "see $TL/tlw1.log"
check "the run with a call in flight is rescued and succeeds" tl_wait "$R" succeeded 40
expect_eq "the GET in flight ran again (1 rerun, 0 unknown), and the page saw it twice" "1|0|2" \
	"$(tl_pg "SELECT (data->>'calls_rerun') || '|' || (data->>'calls_unknown') FROM run_events WHERE run_id = '$R' AND type = 'agent.resumed'")|$(curl -s "$PAGES/hits/k2")"

# ---- POST: only when the agent allows it; a POST under way when its worker dies is
# not sent again (it may have taken effect): the model is told its outcome is unknown.
tl_json "$TLK" PUT /api/v1/agents/tl-getonly '{"name":"Get only","provider":"openai","model":"mock,tool=http_fetch,arg=*","tools":["http_fetch"]}'
tl_json "$TLK" PUT /api/v1/agents/tl-poster '{"name":"Poster","provider":"openai","model":"mock,tool=http_fetch,arg=*","tools":["http_fetch"],"parameters":{"fetch_post":true}}'
# tl_post URL BODY: the arguments of a POST, as a message (JSON inside JSON).
tl_post() { printf '{\\"url\\":\\"%s\\",\\"method\\":\\"POST\\",\\"body\\":\\"%s\\"}' "$1" "$2"; }
tl_run "$TLK" tl-getonly "$(tl_post "$PAGES/count/p0" hello)"
tl_wait "$TL_RID" succeeded 20
expect_match "an agent without fetch_post may not POST" "^Echo: Refused: this agent may only GET" "$(tl_output "$TL_RID")"
expect_eq "and nothing was sent" 0 "$(curl -s "$PAGES/hits/p0")"
tl_run "$TLK" tl-poster "$(tl_post "$PAGES/echo" "hello there")"
tl_wait "$TL_RID" succeeded 20
expect_match "an agent with fetch_post POSTs the body, as text when it is not JSON" \
	"^Echo: HTTP 200 from $PAGES/echo echo \\(text/plain; charset=utf-8\\): hello there\$" "$(tl_output "$TL_RID")"
tl_run "$TLK" tl-poster "$(tl_post "$PAGES/count/p1?ms=4000" order)"
R=$TL_RID
check "a POST is under way" sb_wait_for "[ \"\$(curl -s $PAGES/hits/p1)\" = 1 ]" 20
kill -9 "$(cat "$TL/tlw1.pid")"
worker_start "$TL" tlw2 "$TL_M2" || fail "tools: the second worker starts again" "see $TL/tlw2.log"
check "the run with a POST in flight is rescued and succeeds" tl_wait "$R" succeeded 40
expect_eq "the POST was not sent again (0 rerun, 1 unknown; the server saw it once)" "0|1|1" \
	"$(tl_pg "SELECT (data->>'calls_rerun') || '|' || (data->>'calls_unknown') FROM run_events WHERE run_id = '$R' AND type = 'agent.resumed'")|$(curl -s "$PAGES/hits/p1")"
expect_match "and the model was told its outcome is unknown" "^Echo: The outcome of this call is unknown" "$(tl_output "$R")"

# ---- handoff: the run goes on as another agent of the registry
tl_json "$TLK" PUT /api/v1/agents/tl-target '{"name":"Target","provider":"anthropic","model":"mock","system_prompt":"Target speaking."}'
tl_json "$TLK" PUT /api/v1/agents/tl-router '{"name":"Router","provider":"openai","model":"mock,tool=handoff,arg=*","tools":["handoff"],"parameters":{"handoff_to":["tl-target","tl-ask"]}}'
for k in "$TLK" "$TLK2"; do
	tl_json "$k" PUT /api/v1/agents/tl-router-any '{"name":"Router","provider":"openai","model":"mock,tool=handoff,arg=*","tools":["handoff"]}'
done
tl_run "$TLK" tl-router '{\"agent\":\"tl-target\",\"reason\":\"it knows\"}'
R=$TL_RID
check "a run that hands over succeeds" tl_wait "$R" succeeded 20
expect_eq "agent.handoff says from whom to whom, and why" "tl-router|tl-target|Target|it knows" \
	"$(tl_pg "SELECT (data->>'from') || '|' || (data->>'to') || '|' || (data->>'name') || '|' || (data->>'reason') FROM run_events WHERE run_id = '$R' AND type = 'agent.handoff'")"
expect_eq "the answer is the new agent's: its model (the other wire format) was told of the handover" \
	"Echo: The conversation is now with Target (tl-target), because: it knows. Answer the user's last message." "$(tl_output "$R")"
expect_eq "each turn billed to the agent that took it" "openai|anthropic" \
	"$(tl_pg "SELECT string_agg(provider, '|' ORDER BY id) FROM usage_ledger WHERE run_id = '$R'")"
expect_eq "the record keeps the new agent, for a later attempt" tl-target \
	"$(tl_pg "SELECT data->'agent'->>'slug' FROM run_steps WHERE run_id = '$R' AND call_id <> ''")"
tl_run "$TLK" tl-router '{\"agent\":\"tl-fetch-openai\"}'
tl_wait "$TL_RID" succeeded 20
expect_eq "an agent not in handoff_to is refused, and the model told" 'Echo: This agent may not hand over to "tl-fetch-openai".' "$(tl_output "$TL_RID")"
tl_run "$TLK" tl-router-any '{\"agent\":\"no-such-agent\"}'
tl_wait "$TL_RID" succeeded 20
expect_eq "without handoff_to any agent may be named, but it must exist" 'Echo: There is no agent "no-such-agent" to hand over to.' "$(tl_output "$TL_RID")"
tl_run "$TLK2" tl-router-any '{\"agent\":\"tl-target\"}'
tl_wait "$TL_RID" succeeded 20
expect_eq "another org's agent is not there" 'Echo: There is no agent "tl-target" to hand over to.' "$(tl_output "$TL_RID")"
tl_run "$TLK" router "What does $PAGES/text say?"
R=$TL_RID
check "offline, the catalog's router hands a URL to web-reader, which fetches it" tl_wait "$R" succeeded 30
expect_eq "(its steps)" "router>web-reader|http_fetch" \
	"$(tl_pg "SELECT (SELECT (data->>'from') || '>' || (data->>'to') FROM run_events WHERE run_id = '$R' AND type = 'agent.handoff') || '|' || (SELECT data->>'name' FROM run_events WHERE run_id = '$R' AND type = 'tool.completed' AND data->>'name' = 'http_fetch')")"
expect_match "(its answer)" "Web reader called http_fetch, which answered with [0-9]+ words, beginning: \"HTTP 200 from $PAGES/text plain words here\"" "$(tl_output "$R")"

# ---- people in the loop: ask_human and calls that need approval.  A waiting run holds
# no worker and no lease; the answer (POST /api/v1/inbox/{id}/answer) is the call's
# result, and the run goes on from its steps in a new attempt that is not counted.
TLI=$($CTL key create --org tlco --scopes runs:write,runs:read,inbox:read,inbox:write)
tl_json "$TLK" PUT /api/v1/agents/tl-ask '{"name":"Asker","provider":"openai","model":"mock,tool=ask_human,arg=question","tools":["ask_human"]}'
tl_json "$TLK" POST /api/v1/threads '{"agent":"tl-ask"}'
TA=$(tl_id)
tl_json "$TLK" POST "/api/v1/threads/$TA/runs" '{"input":{"message":"Which colour should the logo be?"}}'
R=$(tl_id)
check "a run that asks a person waits" tl_wait "$R" waiting 20
expect_eq "holding no worker and no lease, its attempt not counted (like a release), its thread waiting" "||0|waiting" \
	"$(tl_pg "SELECT coalesce(worker, '') || '|' || coalesce(lease_until::text, '') || '|' || (attempt - released) || '|' || (SELECT state FROM threads WHERE id = '$TA') FROM runs WHERE id = '$R'")"
ITEM=$(tl_pg "SELECT data->>'item' FROM run_events WHERE run_id = '$R' AND type = 'human.requested'")
expect_eq "human.requested names the item, a question, the call and a deadline" "question|Which colour should the logo be?|t" \
	"$(tl_pg "SELECT (data->>'kind') || '|' || (data->>'question') || '|' || ((data->>'expires_at')::timestamptz > now() + interval '23 hours')::text FROM run_events WHERE run_id = '$R' AND type = 'human.requested'" | sed 's/|true$/|t/')"
tl_as "$TLI" GET "/api/v1/inbox?state=open"
expect_match "the item is in the org's inbox" "\"id\":\"$ITEM\"" "$H_BODY"
tl_json "$TLI" POST "/api/v1/inbox/$ITEM/answer" '{"answer":"Teal, like the old one"}'
expect_eq "answering is 200" 200 "$H_STATUS"
check "the run goes on and succeeds with the answer" tl_wait "$R" succeeded 20
expect_eq "the model got the person's answer as the call's result" "Echo: Teal, like the old one" "$(tl_output "$R")"
expect_eq "its events: asked, answered, then a new attempt that goes on from step 1" \
	"run.started agent.started agent.thinking tool.executing human.requested human.answered run.started agent.started agent.resumed agent.thinking message.completed run.succeeded" \
	"$(tl_events "$R")"
expect_eq "one counted attempt" 1 "$(tl_pg "SELECT attempt - released FROM runs WHERE id = '$R'")"
expect_eq "the thread holds the question and the answer as a call and its result" \
	"user|assistant:ask_human|tool:Teal, like the old one|assistant" \
	"$(tl_pg "SELECT string_agg(role || coalesce(':' || (data->'tool_calls'->0->>'name'), '') || CASE WHEN role = 'tool' THEN ':' || content ELSE '' END, '|' ORDER BY seq) FROM thread_messages WHERE thread_id = '$TA'")"
tl_json "$TLI" POST "/api/v1/inbox/$ITEM/answer" '{"answer":"again"}'
expect_eq "answering twice is 409" 409 "$H_STATUS"

# Approval: the agent's approve_tools make http_fetch wait for a person's yes.
tl_json "$TLK" PUT /api/v1/agents/tl-approve '{"name":"Careful","provider":"anthropic","model":"mock,tool=http_fetch,arg=url","tools":["http_fetch"],"parameters":{"approve_tools":["http_fetch"]}}'
tl_run "$TLK" tl-approve "$PAGES/count/a1"
R=$TL_RID
check "a call that needs approval makes the run wait" tl_wait "$R" waiting 20
expect_eq "and was not made" 0 "$(curl -s "$PAGES/hits/a1")"
ITEM=$(tl_pg "SELECT data->>'item' FROM run_events WHERE run_id = '$R' AND type = 'human.requested'")
expect_eq "the item proposes the call" "approval|http_fetch|$PAGES/count/a1" \
	"$(tl_pg "SELECT kind || '|' || (call->>'name') || '|' || ((call->>'arguments')::jsonb->>'url') FROM inbox_items WHERE id = '$ITEM'")"
tl_json "$TLI" POST "/api/v1/inbox/$ITEM/answer" '{"answer":"yes"}'
expect_eq "an approval is not answered with text (422)" 422 "$H_STATUS"
tl_json "$TLI" POST "/api/v1/inbox/$ITEM/answer" '{"approve":true}'
check "approved, the call runs and the run succeeds" tl_wait "$R" succeeded 20
expect_eq "the page was fetched once, after the approval" 1 "$(curl -s "$PAGES/hits/a1")"
expect_match "and the model got the page" "^Echo: HTTP 200 from $PAGES/count/a1 counted a1 GET\$" "$(tl_output "$R")"
tl_run "$TLK" tl-approve "$PAGES/count/a2"
R=$TL_RID
tl_wait "$R" waiting 20
ITEM=$(tl_pg "SELECT data->>'item' FROM run_events WHERE run_id = '$R' AND type = 'human.requested'")
tl_json "$TLI" POST "/api/v1/inbox/$ITEM/answer" '{"approve":false,"note":"not that site"}'
check "refused, the run goes on without the call" tl_wait "$R" succeeded 20
expect_eq "the page was never fetched" 0 "$(curl -s "$PAGES/hits/a2")"
expect_eq "and the model was told why" "Echo: A person refused this call. Their note: not that site" "$(tl_output "$R")"

# No one answers: the deadline (the rescuer's sweep) ends the wait as the agent chose.
tl_json "$TLK" PUT /api/v1/agents/tl-ask-fail '{"name":"Asker","provider":"openai","model":"mock,tool=ask_human,arg=question","tools":["ask_human"],"parameters":{"on_human_timeout":"fail","human_deadline_s":60}}'
for a in tl-ask tl-ask-fail; do
	tl_run "$TLK" "$a" "anyone there"
	tl_wait "$TL_RID" waiting 20
	tl_pg "UPDATE inbox_items SET expires_at = now() WHERE run_id = '$TL_RID'" >/dev/null
	eval "EXP_$(printf '%s' "$a" | tr -c 'a-z\n' '_')=$TL_RID"
done
check "continue: the run goes on, told no one answered" tl_wait "$EXP_tl_ask" succeeded 20
expect_eq "(its answer)" "Echo: No one answered before the deadline." "$(tl_output "$EXP_tl_ask")"
check "fail: the run fails" tl_wait "$EXP_tl_ask_fail" failed 20
expect_eq "with human-timeout, and its item expired" "human-timeout|expired" \
	"$(tl_pg "SELECT (error->>'type') || '|' || (SELECT state FROM inbox_items WHERE run_id = r.id) FROM runs r WHERE id = '$EXP_tl_ask_fail'")"

# Handed over, then waiting: the next attempt goes on as the agent it was handed to.
tl_run "$TLK" router "I was charged twice and want to talk to a person"
R=$TL_RID
check "offline, the router hands a request for a person to support-triage, which asks one" tl_wait "$R" waiting 30
ITEM=$(tl_pg "SELECT data->>'item' FROM run_events WHERE run_id = '$R' AND type = 'human.requested'")
tl_json "$TLI" POST "/api/v1/inbox/$ITEM/answer" '{"answer":"Refunded the second charge."}'
check "answered, it succeeds" tl_wait "$R" succeeded 30
expect_eq "the new attempt went on as support-triage, not as the run's router" "router|support-triage" \
	"$(tl_pg "SELECT (SELECT data->>'agent' FROM run_events WHERE run_id = '$R' AND type = 'agent.started' ORDER BY seq DESC LIMIT 1) || '|' || (SELECT data->>'agent' FROM run_events WHERE run_id = '$R' AND type = 'agent.resumed')")"
expect_match "and answered with the person's words" "Support triage called ask_human, which answered with 4 words, beginning: \"Refunded the second charge.\"" "$(tl_output "$R")"

# A waiting run is cancelled at once; its item closes.
tl_run "$TLK" tl-ask "cancel me"
R=$TL_RID
tl_wait "$R" waiting 20
tl_as "$TLK" POST "/api/v1/runs/$R/cancel"
expect_eq "cancelling a waiting run ends it at once" "200 cancelled" "$H_STATUS $(json_get state)"
expect_eq "its item is cancelled, and answering it is 409" "cancelled|409" \
	"$(tl_pg "SELECT state FROM inbox_items WHERE run_id = '$R'")|$(tl_json "$TLI" POST "/api/v1/inbox/$(tl_pg "SELECT id FROM inbox_items WHERE run_id = '$R'")/answer" '{"answer":"late"}'; echo "$H_STATUS")"

# ---- tool turns in a thread
tl_json "$TLK" POST /api/v1/threads '{"agent":"tl-fetch-openai"}'
T=$(tl_id)
tl_json "$TLK" POST "/api/v1/threads/$T/runs" "{\"input\":{\"message\":\"$PAGES/text\"}}"
TR=$(tl_id)
check "a tool-using run on a thread succeeds" tl_wait "$TR" succeeded 20
expect_eq "the thread holds the whole turn: question, call, result, answer" \
	"1:user:|2:assistant:http_fetch|3:tool:http_fetch:f|4:assistant:" \
	"$(tl_pg "SELECT string_agg(seq || ':' || role || ':' || coalesce(data->'tool_calls'->0->>'name', '') || coalesce((data->>'name') || ':' || left(data->>'is_error', 1), ''), '|' ORDER BY seq) FROM thread_messages WHERE thread_id = '$T'")"
expect_eq "the result answers the call's id" t \
	"$(tl_pg "SELECT (SELECT data->'tool_calls'->0->>'id' FROM thread_messages WHERE thread_id = '$T' AND seq = 2) = (SELECT data->>'tool_call_id' FROM thread_messages WHERE thread_id = '$T' AND seq = 3)")"
tl_as "$TLK" GET "/api/v1/threads/$T/messages"
expect_match "the API shows the tool message with its call" '"role":"tool","content":"HTTP 200 from [^"]*plain words here","data":\{"name":"http_fetch","is_error":false,"tool_call_id":"[^"]+"\}' "$H_BODY"
tl_json "$TLK" PUT /api/v1/agents/tl-chat '{"name":"Chat","provider":"anthropic","model":"mock"}'
tl_json "$TLK" POST "/api/v1/threads/$T/runs" '{"agent":"tl-chat","input":{"message":"and now"}}'
TR2=$(tl_id)
check "a later run on the thread, in the other wire format, sees the tool turn (the mock refuses dangling calls)" tl_wait "$TR2" succeeded 20

sb_stop_pidfile "$TL/tlw2.pid" 5
sb_stop_pidfile "$TL/tl-pages.pid" 5
sb_stop_pidfile "$TL/tl-mock.pid" 5
