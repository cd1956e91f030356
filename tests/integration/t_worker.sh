# t_worker.sh: switchboard-worker end to end: Caddy -> fcgi -> PostgreSQL -> worker -> mock
# provider -> event log.  Providers, retries, timeouts, cancel, kill -9 and rescue, fenced
# writes, SIGTERM release, a PostgreSQL restart, two workers, the per-org cap, the
# response cache, retention.

WK=$STATE/worker
mkdir -p "$WK"
sb_free_port WK_LLM_PORT
sb_free_port WK_M1
sb_free_port WK_M2
"$SB_BUILD/sb-mock-llm" "$WK_LLM_PORT" >"$WK/mock.log" 2>&1 &
echo $! >"$WK/mock.pid"
sb_wait_for "exec 3<>/dev/tcp/127.0.0.1/$WK_LLM_PORT" 5 || fail "mock provider starts" "no port"
WK_TAG="$$-$RANDOM"

pgq() { sb_as_pg "$(sb_pg_bindir)/psql" -h "$STATE/pg/run" -p "$PG_PORT" -U postgres -d switchboard -qAtX -c "$1"; }

# wk_conf NAME METRICS_PORT [WORKER_LINES [LLM_LINES]] and wk_start NAME METRICS_PORT:
# a worker of this test's, on the mock provider (lib.sh).
wk_conf() { worker_conf "$WK" "$WK_LLM_PORT" "$@"; }
wk_start() { worker_start "$WK" "$1" "$2"; }
wk_metric() { curl -fsS "127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }

$CTL agents import "$SB_ROOT/conf/agents" >/dev/null
$CTL org add wkco >/dev/null
$CTL org add wkco2 >/dev/null
WKA=$($CTL key create --org wkco --scopes runs:write,runs:read,agents:admin,agents:read)
WKB=$($CTL key create --org wkco2 --scopes runs:write,runs:read,agents:admin,agents:read)
wk_as() { local k=$1 m=$2 p=$3; shift 3; http "$m" "$CADDY_URL$p" -H "Authorization: Bearer $k" "$@"; }
# wk_agent KEY SLUG PROVIDER MODEL [PARAMETERS]
wk_agent() {
	wk_as "$1" PUT "/api/v1/agents/$2" -H 'Content-Type: application/json' \
		--data "{\"name\":\"$2\",\"provider\":\"$3\",\"model\":\"$4\",\"system_prompt\":\"Be brief.\",\"parameters\":${5:-{\}}}"
	[ "$H_STATUS" = 200 ] || [ "$H_STATUS" = 201 ] || fail "agent $2 is created" "$H_STATUS $H_BODY"
}
# wk_run KEY AGENT TEXT: creates a run; WK_RID is its id.
wk_run() {
	wk_as "$1" POST /api/v1/runs -H 'Content-Type: application/json' \
		--data "{\"agent\":\"$2\",\"input\":\"$3\"}"
	WK_RID=$(printf '%s' "$H_BODY" | sed -n 's/^{"id":"\([0-9a-f-]\{36\}\)".*/\1/p')
}
# wk_wait RID STATE SECONDS: polls the run until it is in STATE.
wk_wait() {
	local i
	for i in $(seq 1 $(($3 * 20))); do
		[ "$(pgq "SELECT state FROM runs WHERE id = '$1'")" = "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
wk_types() { pgq "SELECT string_agg(type, ' ' ORDER BY seq) FROM run_events WHERE run_id = '$1'"; }
wk_gapless() { pgq "SELECT count(*) = max(seq) AND min(seq) = 1 FROM run_events WHERE run_id = '$1'"; }
wk_terminals() { pgq "SELECT count(*) FROM run_events WHERE run_id = '$1' AND type IN ('run.succeeded', 'run.failed', 'run.cancelled')"; }

wk_agent "$WKA" wk-openai openai mock
wk_agent "$WKA" wk-anthropic anthropic mock
wk_agent "$WKA" wk-slow openai "mock,pace=5"
wk_agent "$WKA" wk-429 openai "mock,status=429,retry_after=1,times=1"
wk_agent "$WKA" wk-400 openai "mock,status=400"
wk_agent "$WKA" wk-500x3 anthropic "mock,status=500,times=3"
wk_agent "$WKA" wk-503 openai "mock,status=503"
wk_agent "$WKA" wk-cut openai "mock,pace=50,disconnect=2,times=1"
wk_agent "$WKA" wk-bad anthropic "mock,malformed,times=1"
wk_agent "$WKA" wk-hang openai "mock,hang,times=1"
wk_agent "$WKA" wk-cache openai mock '{"temperature":0}'
wk_agent "$WKB" wk-cache openai mock '{"temperature":0}'
wk_agent "$WKA" wk-pace openai "mock,pace=10"
wk_agent "$WKA" wk-nul openai "mock,nul"
wk_agent "$WKA" wk-nul-an anthropic "mock,nul"
wk_agent "$WKB" wk-pace openai "mock,pace=10"

wk_conf w1 "$WK_M1"
wk_start w1 "$WK_M1" || fail "switchboard-worker starts" "see $WK/w1.log"

# ---- end to end, both wire formats and the offline provider
wk_run "$WKA" wk-openai "hello from openai $WK_TAG"
OA=$WK_RID
wk_run "$WKA" wk-anthropic "hello from anthropic $WK_TAG"
AN=$WK_RID
wk_run "$WKA" summarizer "Summarize this: the meeting moved to Tuesday."
BI=$WK_RID
check "an OpenAI-format run succeeds" wk_wait "$OA" succeeded 15
check "an Anthropic-format run succeeds" wk_wait "$AN" succeeded 15
check "a run on the offline builtin provider succeeds" wk_wait "$BI" succeeded 15
wk_as "$WKA" GET "/api/v1/runs/$OA"
expect_match "its output is the model's answer, through the API" "\"output\":\\{\"text\":\"Echo: hello from openai $WK_TAG\",\"finish_reason\":\"stop\"\\}" "$H_BODY"
expect_eq "with its usage and cost (pricing: mock=1.5/2.5 USD per million)" "t|t|t" \
	"$(pgq "SELECT (usage->>'prompt_tokens')::int > 0, (usage->>'completion_tokens')::int > 0, round((usage->>'cost_usd')::numeric, 9) = round(((usage->>'prompt_tokens')::int * 1.5 + (usage->>'completion_tokens')::int * 2.5) / 1e6, 9) FROM runs WHERE id = '$OA'")"
expect_match "shown by the API" '"usage":\{.*"cost_usd":[0-9.e-]+' "$H_BODY"
expect_match "the events in order: started, agent, thinking, deltas, completed, succeeded" \
	'^run\.started agent\.started agent\.thinking (message\.delta )+message\.completed run\.succeeded$' "$(wk_types "$OA")"
expect_eq "the deltas add up to the answer" "Echo: hello from anthropic $WK_TAG" \
	"$(pgq "SELECT string_agg(data->>'text', '' ORDER BY seq) FROM run_events WHERE run_id = '$AN' AND type = 'message.delta'")"
expect_eq "seq runs from 1 without gaps" t "$(wk_gapless "$OA")"
expect_match "the builtin answer is labelled as a demo and quotes the input" \
	'^\[Offline demo answer from the builtin model: no language model was called\.\] Summarizer received 7 words: "Summarize this: the meeting moved to Tuesday\."' \
	"$(pgq "SELECT output->>'text' FROM runs WHERE id = '$BI'")"
expect_eq "the usage ledger has the attempt, priced" "1|openai|mock|t" \
	"$(pgq "SELECT count(*), min(provider), min(model), bool_and(cost_usd > 0) FROM usage_ledger WHERE run_id = '$OA'")"
wk_as "$WKA" GET "/api/v1/runs/$OA/events?after=0"
expect_match "the events page shows them to the org" '"items":\[\{"seq":1,"type":"run.started","data":\{"worker":"w1","attempt":1\}' "$H_BODY"
wk_as "$WKB" GET "/api/v1/runs/$OA/events?after=0"
expect_eq "and not to another org" 404 "$H_STATUS"

# ---- provider errors: retried within the attempt, across attempts, or final
t0=$(date +%s%N)
wk_run "$WKA" wk-429 "rate limited once $WK_TAG"
R429=$WK_RID
check "a 429 with Retry-After is retried and the run succeeds" wk_wait "$R429" succeeded 15
dt=$((($(date +%s%N) - t0) / 1000000))
check "after the Retry-After (1 s): ${dt} ms" test "$dt" -ge 1000
expect_eq "within its first attempt" 1 "$(pgq "SELECT attempt FROM runs WHERE id = '$R429'")"

wk_run "$WKA" wk-400 "bad request $WK_TAG"
R400=$WK_RID
check "a 400 fails the run at once" wk_wait "$R400" failed 10
expect_eq "no second attempt, the error kept with the provider's status" "1|400|false|1" \
	"$(pgq "SELECT attempt, error->>'status', error->>'retryable', jsonb_array_length(errors) FROM runs WHERE id = '$R400'")"
expect_match "its message is the provider's" 'openai answered 400: ' "$(pgq "SELECT error->>'message' FROM runs WHERE id = '$R400'")"

wk_run "$WKA" wk-500x3 "server errors $WK_TAG"
R500=$WK_RID
check "three 500s exhaust one attempt's calls; the next attempt succeeds" wk_wait "$R500" succeeded 20
expect_eq "attempt 2, with the first attempt's error in the history" "2|1|provider-error" \
	"$(pgq "SELECT attempt, jsonb_array_length(errors), errors->0->>'type' FROM runs WHERE id = '$R500'")"
expect_match "and a run.retrying event between the attempts" 'run\.retrying run\.started' "$(wk_types "$R500")"

wk_run "$WKA" wk-503 "always down $WK_TAG"
R503=$WK_RID
check "a provider that stays down fails the run after max_attempts" wk_wait "$R503" failed 30
expect_eq "3 attempts, 3 errors kept, one run.failed" "3|3|1" \
	"$(pgq "SELECT attempt, jsonb_array_length(errors), (SELECT count(*) FROM run_events WHERE run_id = r.id AND type = 'run.failed') FROM runs r WHERE id = '$R503'")"

wk_run "$WKA" wk-cut "one two three four five six $WK_TAG"
RCUT=$WK_RID
check "a stream cut mid-answer is retried and succeeds" wk_wait "$RCUT" succeeded 20
expect_eq "on attempt 2, with the full answer" "2|Echo: one two three four five six $WK_TAG" \
	"$(pgq "SELECT attempt, output->>'text' FROM runs WHERE id = '$RCUT'")"
expect_eq "its first attempt's partial deltas stay in the log, marked attempt 1" t \
	"$(pgq "SELECT count(*) > 0 FROM run_events WHERE run_id = '$RCUT' AND type = 'message.delta' AND data->>'text' LIKE 'Echo:%' AND seq < (SELECT min(seq) FROM run_events WHERE run_id = '$RCUT' AND type = 'run.retrying')")"

wk_run "$WKA" wk-bad "malformed $WK_TAG"
RBAD=$WK_RID
check "a malformed stream is an error; the run is retried and succeeds" wk_wait "$RBAD" succeeded 20
expect_eq "the error names the stream" "provider-stream" "$(pgq "SELECT errors->0->>'type' FROM runs WHERE id = '$RBAD'")"

wk_run "$WKA" wk-hang "hang $WK_TAG"
RHANG=$WK_RID
check "a provider that goes silent hits idle_timeout and the run is retried" wk_wait "$RHANG" succeeded 25
expect_match "after a timeout, tried again within the attempt" "\"msg\":\"provider call failed; trying again\",\"run\":\"$RHANG\",\"error\":\"Timeout was reached" "$(cat "$WK/w1.log")"
expect_eq "so its first attempt succeeded" "1|0" "$(pgq "SELECT attempt, jsonb_array_length(errors) FROM runs WHERE id = '$RHANG'")"

# ---- cancel while streaming, and twice
wk_run "$WKA" wk-slow "a b c d e f g h i j k l m n o p q r s t $WK_TAG"
RC=$WK_RID
check "a slow run starts streaming" sb_wait_for "[ \"\$(pgq \"SELECT count(*) FROM run_events WHERE run_id = '$RC' AND type = 'message.delta'\")\" -gt 0 ]" 10
t0=$(date +%s%N)
wk_as "$WKA" POST "/api/v1/runs/$RC/cancel"
expect_eq "cancel is 200" 200 "$H_STATUS"
check "the running run is cancelled" wk_wait "$RC" cancelled 5
dt=$((($(date +%s%N) - t0) / 1000000))
check "within 1 s (${dt} ms)" test "$dt" -le 1000
wk_as "$WKA" POST "/api/v1/runs/$RC/cancel"
expect_match "a second cancel is 200 and changes nothing" '"state":"cancelled"' "$H_STATUS $H_BODY"
sleep 0.3
expect_eq "exactly one terminal event, run.cancelled" "1|run.cancelled" \
	"$(pgq "SELECT count(*), min(type) FROM run_events WHERE run_id = '$RC' AND type IN ('run.succeeded', 'run.failed', 'run.cancelled')")"

# ---- kill -9 mid-run: rescued by another worker, attempt 2; stale writes refused
wk_run "$WKA" wk-slow "k1 k2 k3 k4 k5 k6 k7 k8 k9 k10 $WK_TAG"
RK=$WK_RID
check "a run is streaming" sb_wait_for "[ \"\$(pgq \"SELECT count(*) FROM run_events WHERE run_id = '$RK' AND type = 'message.delta'\")\" -gt 0 ]" 10
kill -9 "$(cat "$WK/w1.pid")"
wk_conf w2 "$WK_M2"
wk_start w2 "$WK_M2" || fail "a second worker starts" "see $WK/w2.log"
check "the run is rescued after its lease and succeeds" wk_wait "$RK" succeeded 30
expect_eq "on attempt 2, by the other worker" "2|w2" \
	"$(pgq "SELECT attempt, (SELECT data->>'worker' FROM run_events WHERE run_id = r.id AND type = 'run.started' ORDER BY seq DESC LIMIT 1) FROM runs r WHERE id = '$RK'")"
expect_eq "the rescue is in the log (lease-expired), with one terminal event" "lease-expired|1" \
	"$(pgq "SELECT (SELECT data->'error'->>'type' FROM run_events WHERE run_id = '$RK' AND type = 'run.retrying'), (SELECT count(*) FROM run_events WHERE run_id = '$RK' AND type IN ('run.succeeded', 'run.failed', 'run.cancelled'))")"
expect_eq "its log has no gap" t "$(wk_gapless "$RK")"
# The dead worker's attempt (fence token 1) writing late: refused, nothing changes.
stale=$(sb_as_pg "$(sb_pg_bindir)/psql" -h "$STATE/pg/run" -p "$PG_PORT" -U switchboard_app -d switchboard -qAtX -c \
	"SELECT refused FROM queue_flush('[{\"id\":\"$RK\",\"attempt\":1,\"seq\":999,\"type\":\"message.delta\",\"data\":{\"text\":\"late\"}}]', '[{\"id\":\"$RK\",\"attempt\":1,\"kind\":\"failed\",\"error\":{\"message\":\"late\"}}]', '[]')")
expect_eq "a stale attempt's late flush is refused" "$RK" "$stale"
expect_eq "and wrote nothing" "succeeded|0" \
	"$(pgq "SELECT state, (SELECT count(*) FROM run_events WHERE run_id = r.id AND seq = 999) FROM runs r WHERE id = '$RK'")"
stale=$(sb_as_pg "$(sb_pg_bindir)/psql" -h "$STATE/pg/run" -p "$PG_PORT" -U switchboard_app -d switchboard -qAtX -c \
	"SELECT count(*) FROM queue_heartbeat(ARRAY['$RK']::uuid[], ARRAY[1], 30000)")
expect_eq "and its heartbeat renews nothing" 0 "$stale"

# ---- SIGTERM: runs in flight are released to the queue without counting an attempt
wk_run "$WKA" wk-slow "s1 s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 s12 s13 s14 s15 s16 s17 s18 s19 s20 $WK_TAG"
RS=$WK_RID
check "a long run is streaming" sb_wait_for "[ \"\$(pgq \"SELECT count(*) FROM run_events WHERE run_id = '$RS' AND type = 'message.delta'\")\" -gt 0 ]" 10
wpid=$(cat "$WK/w2.pid")
kill -TERM "$wpid"
check "the worker exits within its grace period and a little more" sb_wait_for "! kill -0 $wpid" 8
wait "$wpid" 2>/dev/null
rc=$?
expect_eq "with status 0" 0 "$rc"
expect_eq "the run is queued again, its attempt not counted" "queued|0|1" \
	"$(pgq "SELECT state, attempt - released, released FROM runs WHERE id = '$RS'")"
expect_eq "with a run.retrying event saying so" false \
	"$(pgq "SELECT data->>'attempt_counted' FROM run_events WHERE run_id = '$RS' AND type = 'run.retrying'")"
wk_start w1 "$WK_M1" || fail "the worker starts again" "see $WK/w1.log"
check "the released run is picked up again and succeeds" wk_wait "$RS" succeeded 20
wk_as "$WKA" GET "/api/v1/runs/$RS"
expect_match "at attempt 1 as users see it" '"attempt":1,' "$H_BODY"

# ---- PostgreSQL restarted under load: nothing lost, nothing stuck
ids=()
for i in $(seq 1 30); do wk_run "$WKA" wk-pace "pg restart $i $WK_TAG"; ids+=("$WK_RID"); done
sleep 0.5
sb_as_pg "$(sb_pg_bindir)/pg_ctl" -D "$STATE/pg/data" -m fast -w restart >/dev/null 2>&1
ok=1
for id in "${ids[@]}"; do wk_wait "$id" succeeded 40 || { ok=0; break; }; done
check "after a PostgreSQL restart all 30 runs succeed" test "$ok" = 1
expect_eq "each with exactly one terminal event and no gap" "30|30" \
	"$(pgq "SELECT count(*) FILTER (WHERE t = 1), count(*) FILTER (WHERE g) FROM (SELECT r.id, (SELECT count(*) FROM run_events e WHERE e.run_id = r.id AND e.type IN ('run.succeeded','run.failed','run.cancelled')) AS t, (SELECT count(*) = max(seq) FROM run_events e WHERE e.run_id = r.id) AS g FROM runs r WHERE r.input::text LIKE '%pg restart % $WK_TAG%') x")"
check "the worker is still running" sb_alive "$WK/w1.pid"

# ---- two workers on one queue never run the same attempt; the per-org cap holds
wk_conf w2 "$WK_M2"
wk_start w2 "$WK_M2" || fail "a second worker starts" "see $WK/w2.log"
pids=()
for i in $(seq 1 200); do
	curl -s -o /dev/null -H "Authorization: Bearer $WKA" -H 'Content-Type: application/json' \
		--data "{\"agent\":\"summarizer\",\"input\":\"two workers $i $WK_TAG\"}" "$CADDY_URL/api/v1/runs" &
	pids+=($!)
	[ $((i % 20)) = 0 ] && { wait "${pids[@]}"; pids=(); }
done
check "200 runs shared by two workers all succeed" sb_wait_for \
	"[ \"\$(pgq \"SELECT count(*) FROM runs WHERE state = 'succeeded' AND input::text LIKE '%two workers % $WK_TAG%'\")\" = 200 ]" 40
expect_eq "each claimed once: one run.started per run, attempt 1" "200|200|1" \
	"$(pgq "SELECT count(DISTINCT r.id), count(e.*), max(r.attempt) FROM runs r JOIN run_events e ON e.run_id = r.id AND e.type = 'run.started' WHERE r.input::text LIKE '%two workers % $WK_TAG%'")"
expect_eq "both workers took a share" 2 \
	"$(pgq "SELECT count(DISTINCT e.data->>'worker') FROM runs r JOIN run_events e ON e.run_id = r.id AND e.type = 'run.started' WHERE r.input::text LIKE '%two workers % $WK_TAG%'")"

sb_stop_pidfile "$WK/w1.pid" 5
sb_stop_pidfile "$WK/w2.pid" 5
wk_conf w1 "$WK_M1" "org_max_inflight = 2"
wk_conf w2 "$WK_M2" "org_max_inflight = 2"
capa=(); capb=()
for i in 1 2 3 4 5 6; do wk_run "$WKA" wk-pace "cap a$i w1 w2 w3 w4 w5 $WK_TAG"; capa+=("$WK_RID"); done
for i in 1 2; do wk_run "$WKB" wk-pace "cap b$i w1 w2 w3 w4 w5 $WK_TAG"; capb+=("$WK_RID"); done
wk_start w1 "$WK_M1" || fail "worker w1 starts with a cap" "see $WK/w1.log"
wk_start w2 "$WK_M2" || fail "worker w2 starts with a cap" "see $WK/w2.log"
maxa=0; seenb=0
for i in $(seq 1 100); do
	row=$(pgq "SELECT count(*) FILTER (WHERE org_id = (SELECT id FROM orgs WHERE slug = 'wkco')), count(*) FILTER (WHERE org_id = (SELECT id FROM orgs WHERE slug = 'wkco2')) FROM runs WHERE state = 'running'")
	a=${row%|*}; b=${row#*|}
	[ "$a" -gt "$maxa" ] && maxa=$a
	[ "$b" -gt 0 ] && seenb=1
	[ "$(pgq "SELECT count(*) FROM runs WHERE state = 'queued' AND input::text LIKE '%cap % $WK_TAG%'")" = 0 ] && break
	sleep 0.1
done
check "with org_max_inflight = 2 one org never has more than 2 running across two workers (saw $maxa)" test "$maxa" -le 2 -a "$maxa" -ge 1
check "while the other org's runs ran alongside" test "$seenb" = 1
ok=1
for id in "${capa[@]}" "${capb[@]}"; do wk_wait "$id" succeeded 30 || ok=0; done
check "and every capped run finished" test "$ok" = 1
sb_stop_pidfile "$WK/w2.pid" 5

# ---- the response cache (temperature 0): the second identical request is not sent
sb_stop_pidfile "$WK/w1.pid" 5
wk_conf w1 "$WK_M1" "" "cache = true"
wk_start w1 "$WK_M1" || fail "a worker with the cache starts" "see $WK/w1.log"
before=$(grep -c "cached answer $WK_TAG" "$WK/mock.log" 2>/dev/null || true)
wk_run "$WKA" wk-cache "cached answer $WK_TAG"
C1=$WK_RID
check "a deterministic run succeeds" wk_wait "$C1" succeeded 10
wk_run "$WKA" wk-cache "cached answer $WK_TAG"
C2=$WK_RID
check "the same request again succeeds" wk_wait "$C2" succeeded 10
expect_eq "with the same answer, from the cache" "Echo: cached answer $WK_TAG|1" \
	"$(pgq "SELECT output->>'text', (SELECT count(*) FROM run_events WHERE run_id = r.id AND type = 'agent.cache_hit') FROM runs r WHERE id = '$C2'")"
expect_eq "the hit is counted in /metrics" 1 "$(wk_metric "$WK_M1" switchboard_llm_cache_hits_total)"
# Another org sending the very same request: the cache is per org, so its own call.
wk_run "$WKB" wk-cache "cached answer $WK_TAG"
C3=$WK_RID
check "another org's identical deterministic run succeeds" wk_wait "$C3" succeeded 10
expect_eq "without the first org's cached answer: no hit, the provider is asked" "0|1" \
	"$(pgq "SELECT count(*) FROM run_events WHERE run_id = '$C3' AND type = 'agent.cache_hit'")|$(wk_metric "$WK_M1" switchboard_llm_cache_hits_total)"
check "the worker's /metrics counts claims" test "$(wk_metric "$WK_M1" switchboard_worker_runs_claimed_total)" -ge 2

# ---- retention: finished runs older than retention_days are pruned with their events
sb_stop_pidfile "$WK/w1.pid" 5
old=$(pgq "SELECT id FROM runs WHERE id = '$OA'")
pgq "UPDATE runs SET finished_at = now() - interval '40 days' WHERE id = '$OA'" >/dev/null
wk_start w1 "$WK_M1" || fail "the worker starts again" "see $WK/w1.log"
check "a run finished 40 days ago is pruned (retention_days = 30)" sb_wait_for \
	"[ \"\$(pgq \"SELECT count(*) FROM runs WHERE id = '$old'\")\" = 0 ]" 10
expect_eq "with its events; its cost stays in the ledger" "0|1" \
	"$(pgq "SELECT (SELECT count(*) FROM run_events WHERE run_id = '$old'), (SELECT count(*) FROM usage_ledger WHERE run_id = '$old')")"
expect_eq "a recent one is kept" 1 "$(pgq "SELECT count(*) FROM runs WHERE id = '$AN'")"

# ---- text a database cannot store (U+0000 from the model) is replaced, never fatal
FFFD=$(printf '\357\277\275')
wk_run "$WKA" wk-nul "nul test $WK_TAG"
N1=$WK_RID
wk_run "$WKA" wk-nul-an "nul test $WK_TAG"
N2=$WK_RID
check "a model answer with U+0000 (OpenAI format) succeeds" wk_wait "$N1" succeeded 10
check "and in Anthropic's format" wk_wait "$N2" succeeded 10
expect_eq "the U+0000 is stored as U+FFFD, in the output and the deltas" \
	"Echo:$FFFD nul test $WK_TAG|Echo:$FFFD nul test $WK_TAG" \
	"$(pgq "SELECT output->>'text', (SELECT string_agg(data->>'text', '' ORDER BY seq) FROM run_events WHERE run_id = r.id AND type = 'message.delta') FROM runs r WHERE id = '$N1'")"

# ---- the builtin model quotes at most 300 bytes of the prompt: cut between characters
long_prompt="$(printf 'a%.0s' $(seq 1 299))$(printf '\303\251%.0s' $(seq 1 10))"
wk_as "$WKA" PUT /api/v1/agents/wk-utf8 -H 'Content-Type: application/json' \
	--data "{\"name\":\"wk-utf8\",\"provider\":\"builtin\",\"model\":\"builtin\",\"system_prompt\":\"$long_prompt\"}"
wk_run "$WKA" wk-utf8 "cut test"
U1=$WK_RID
check "a builtin run whose quote ends inside a character succeeds" wk_wait "$U1" succeeded 15
expect_eq "its answer quotes whole characters, and its deltas add up to it" "t|t|f" \
	"$(pgq "SELECT output->>'text' LIKE '%$(printf 'a%.0s' $(seq 1 299)).\"%', output->>'text' = (SELECT string_agg(data->>'text', '' ORDER BY seq) FROM run_events WHERE run_id = r.id AND type = 'message.delta'), output->>'text' LIKE '%$FFFD%' FROM runs r WHERE id = '$U1'")"

# ---- a batch the database refuses fails only the run whose items it refuses
pgq "CREATE FUNCTION t_poison() RETURNS trigger LANGUAGE plpgsql AS \$\$
     BEGIN IF NEW.data::text LIKE '%poison-$WK_TAG%' THEN RAISE EXCEPTION 'poisoned event'; END IF;
     RETURN NEW; END \$\$;
     CREATE TRIGGER t_poison BEFORE INSERT ON run_events FOR EACH ROW EXECUTE FUNCTION t_poison()" >/dev/null
wk_run "$WKA" wk-pace "healthy one two three four $WK_TAG"
P1=$WK_RID
wk_run "$WKA" wk-pace "poison-$WK_TAG one two three"
P2=$WK_RID
wk_run "$WKA" wk-pace "healthy five six seven eight $WK_TAG"
P3=$WK_RID
check "the run whose events the database refuses fails" wk_wait "$P2" failed 10
expect_eq "with a clear error, and a gapless log that ends in run.failed" "event-unstorable|t|run.failed" \
	"$(pgq "SELECT error->>'type', (SELECT count(*) = max(seq) FROM run_events WHERE run_id = r.id), (SELECT type FROM run_events WHERE run_id = r.id ORDER BY seq DESC LIMIT 1) FROM runs r WHERE id = '$P2'")"
check "the runs flushed in the same batches succeed" wk_wait "$P1" succeeded 10
check "all of them" wk_wait "$P3" succeeded 10
expect_eq "with their whole answers" "Echo: healthy one two three four $WK_TAG" \
	"$(pgq "SELECT output->>'text' FROM runs WHERE id = '$P1'")"
wk_run "$WKA" wk-openai "after the poison $WK_TAG"
check "and the worker goes on with new runs" wk_wait "$WK_RID" succeeded 10
pgq "DROP TRIGGER t_poison ON run_events; DROP FUNCTION t_poison()" >/dev/null

sb_stop_pidfile "$WK/w1.pid" 5
sb_stop_pidfile "$WK/w2.pid" 5
sb_stop_pidfile "$WK/mock.pid" 5
