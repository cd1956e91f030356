# t_knowledge.sh: what agents know, through Caddy and the real worker: the knowledge
# base (kb_search finds the org's documents and the answer cites them) and what they
# remember (memory_save, memory_search): a fact kept in one run is recalled in a later
# one for the same person, and by no one else (another key, another org, another end
# user named in metadata, another thread when the agent keeps thread memories); the same
# fact kept twice is one memory; a scope keeps at most memory_scope_cap() facts; both
# wire formats; and the worker's tool connection lost and found again.

TM=$STATE/memory
mkdir -p "$TM"
sb_free_port TM_LLM
sb_free_port TM_M1
"$SB_BUILD/sb-mock-llm" "$TM_LLM" >"$TM/tm-mock.log" 2>&1 &
echo $! >"$TM/tm-mock.pid"
sb_wait_for "exec 3<>/dev/tcp/127.0.0.1/$TM_LLM" 5 || fail "memory: the mock provider starts" "no port"
worker_conf "$TM" "$TM_LLM" tmw1 "$TM_M1"
worker_start "$TM" tmw1 "$TM_M1" || fail "memory: the worker starts" "see $TM/tmw1.log"

$CTL agents import "$SB_ROOT/conf/agents" >/dev/null
$CTL org add tmco >/dev/null
$CTL org add tmco2 >/dev/null
TMK=$($CTL key create --org tmco --scopes runs:write,runs:read,agents:admin,agents:read)
TMK2=$($CTL key create --org tmco --scopes runs:write,runs:read)
TMO=$($CTL key create --org tmco2 --scopes runs:write,runs:read)
TMK_ID=$(psql_su -c "SELECT id FROM api_keys WHERE key_id = '${TMK:3:12}'")
tm_as() { local k=$1 m=$2 p=$3; shift 3; http "$m" "$CADDY_URL$p" -H "Authorization: Bearer $k" "$@"; }
tm_json() { tm_as "$1" "$2" "$3" -H 'Content-Type: application/json' --data "$4"; }
tm_id() { printf '%s' "$H_BODY" | sed -n 's/^{"id":"\([0-9a-f-]\{36\}\)".*/\1/p'; }
tm_pg() { psql_su -c "$1"; }
tm_wait() { sb_wait_for "[ \"\$(psql_su -c \"SELECT state FROM runs WHERE id = '$1'\")\" = $2 ]" "$3"; }
tm_output() { tm_pg "SELECT output->>'text' FROM runs WHERE id = '$1'"; }
tm_events() { tm_pg "SELECT string_agg(type, ' ' ORDER BY seq) FROM run_events WHERE run_id = '$1' AND type <> 'message.delta'"; }
# tm_ask KEY AGENT MESSAGE [METADATA]: a run, waited for; its id in TM_R.
tm_ask() {
	local md='{}'
	[ -z "${4:-}" ] || md=$4
	tm_json "$1" POST /api/v1/runs "{\"agent\":\"$2\",\"input\":{\"message\":\"$3\"},\"metadata\":$md}"
	TM_R=$(tm_id)
	tm_wait "$TM_R" succeeded 20
}

# ---- the knowledge base: the catalog's kb-answerer searches the org's documents and
# cites them; another org's documents are not found
TMKB=$($CTL key create --org tmco --scopes kb:write,kb:read,runs:write,runs:read)
TMKB2=$($CTL key create --org tmco2 --scopes kb:write,kb:read,runs:write,runs:read)
tm_json "$TMKB" POST /api/v1/kb/documents '{"title":"Rotating API keys","format":"markdown","content":"# Rotating API keys\n\nTo rotate a key, create a new key, move your programs to it, then revoke the old key. A revoked key stops working at once."}'
expect_eq "a document is added to the org's knowledge base" 201 "$H_STATUS"
KD1=$(tm_id)
tm_json "$TMKB" POST /api/v1/kb/documents '{"title":"Rate limits","content":"Each key may create 20 runs a second; past that the API answers 429 with Retry-After."}'
KD2=$(tm_id)
tm_json "$TMKB2" POST /api/v1/kb/documents '{"title":"Secret plans","content":"The other org rotates its keys every full moon."}'
check "a question to kb-answerer succeeds" tm_ask "$TMKB" kb-answerer "How do I rotate an API key?"
expect_eq "it searched, then answered" \
	"run.started agent.started agent.thinking tool.executing tool.completed agent.thinking message.completed run.succeeded" \
	"$(tm_events "$TM_R")"
expect_eq "the search was the message" '{"query": "How do I rotate an API key?"}' \
	"$(tm_pg "SELECT data->'arguments' FROM run_events WHERE run_id = '$TM_R' AND type = 'tool.executing'")"
expect_match "the answer quotes the best passage and cites its document" \
	"From \"Rotating API keys\": \".*To rotate a key, create a new key.*\" \\[doc:$KD1\\]" "$(tm_output "$TM_R")"
expect_eq "the other org's document was not among the results" 0 \
	"$(tm_pg "SELECT count(*) FROM run_events WHERE run_id = '$TM_R' AND type = 'tool.completed' AND data->>'result' LIKE '%full moon%'")"
# A document whose several chunks match is cited once, beside the other documents.
para="Storage quotas are counted per org and shown on the usage page. "
para="$para$para$para$para$para$para$para$para$para$para"
tm_json "$TMKB" POST /api/v1/kb/documents "{\"title\":\"Storage quotas\",\"format\":\"markdown\",\"content\":\"# Storage quotas\n\n$para\n\n## Raising one\n\n$para\n\n## Lowering one\n\n$para\"}"
KD3=$(tm_id)
expect_eq "a long document is cut in several chunks" 3 \
	"$(tm_pg "SELECT count(*) FROM kb_chunks WHERE document_id = '$KD3'")"
tm_json "$TMKB" POST /api/v1/kb/documents '{"title":"Quota alerts","content":"Storage quotas send an alert at 90 percent."}'
KD4=$(tm_id)
check "a question several of its chunks answer" tm_ask "$TMKB" kb-answerer "storage quotas"
out=$(tm_output "$TM_R")
expect_eq "each document is cited once" "1 1" \
	"$(grep -o "\[doc:$KD3\]" <<<"$out" | wc -l) $(grep -o "\[doc:$KD4\]" <<<"$out" | wc -l)"
expect_match "the others named after the quote" 'See also "(Storage quotas|Quota alerts)" \[doc:[0-9a-f-]+\]\.$' "$out"
check "a question the documents do not answer" tm_ask "$TMKB" kb-answerer "Who painted the Mona Lisa?"
expect_match "is answered with no guess" "The knowledge base has no document about" "$(tm_output "$TM_R")"
for p in openai anthropic; do
	tm_json "$TMK" PUT "/api/v1/agents/tm-kb-$p" "{\"name\":\"Searcher\",\"provider\":\"$p\",\"model\":\"mock,tool=kb_search,arg=query\",\"tools\":[\"kb_search\"]}"
	check "$p: a model's kb_search runs" tm_ask "$TMKB" "tm-kb-$p" "rate limits"
	expect_match "$p: the model gets the passage with its document's id and title" \
		"^Echo: \\{\"query\":\"rate limits\",\"results\":\\[\\{\"document_id\":\"$KD2\",\"title\":\"Rate limits\",\"chunk\":0,\"passage\":\"Each key may create 20 runs a second" \
		"$(tm_output "$TM_R")"
done
check "a question with words no passage has" tm_ask "$TMKB" tm-kb-openai "what happens past the rate limits"
expect_match "still finds the passages with some of them (any-word fallback)" \
	"^Echo: \\{\"query\":\"what happens past the rate limits\",\"results\":\\[\\{\"document_id\":\"$KD2\"" \
	"$(tm_output "$TM_R")"

# ---- the catalog's personal assistant keeps a fact and recalls it later
check "a run asked to remember succeeds" tm_ask "$TMK" personal-assistant "Remember that my favourite colour is blue."
expect_eq "it called memory_save" \
	"run.started agent.started agent.thinking tool.executing tool.completed agent.thinking message.completed run.succeeded" \
	"$(tm_events "$TM_R")"
expect_eq "the fact is kept for the key that made the run, and for no one else" \
	"key:$TMK_ID|my favourite colour is blue" \
	"$(tm_pg "SELECT string_agg(scope || '|' || content, ',') FROM memories WHERE org_id = (SELECT id FROM orgs WHERE slug = 'tmco')")"
expect_match "the answer says it will remember" "Noted: I will remember that" "$(tm_output "$TM_R")"
check "a later run asks what it was told" tm_ask "$TMK" personal-assistant "What is my favourite colour?"
expect_match "it looked (memory_search) and recalls the fact" \
	'You told me before: "my favourite colour is blue"' "$(tm_output "$TM_R")"
expect_match "the tool's result, as the event shows it, names the fact" \
	'^\{"query":"What is my favourite colour\?","memories":\[\{"id":"[0-9a-f-]{36}","content":"my favourite colour is blue","saved_at":"[0-9T:-]{19}Z"\}\]\}$' \
	"$(tm_pg "SELECT data->>'result' FROM run_events WHERE run_id = '$TM_R' AND type = 'tool.completed' AND data->>'name' = 'memory_search'")"
check "another key of the same org asks" tm_ask "$TMK2" personal-assistant "What is my favourite colour?"
expect_match "and is told nothing: the memory is the other key's" "I have nothing saved about that yet" "$(tm_output "$TM_R")"
check "a key of another org asks" tm_ask "$TMO" personal-assistant "What is my favourite colour?"
expect_match "and is told nothing either" "I have nothing saved about that yet" "$(tm_output "$TM_R")"

# ---- the end users a key acts for (metadata.user) are kept apart, under the key
check "alice's fact is kept" tm_ask "$TMK" personal-assistant "Remember that I drink green tea." '{"user":"alice"}'
check "bob asks" tm_ask "$TMK" personal-assistant "What do I drink?" '{"user":"bob"}'
expect_match "bob is told nothing of alice's" "I have nothing saved about that yet" "$(tm_output "$TM_R")"
check "alice asks" tm_ask "$TMK" personal-assistant "What do I drink?" '{"user":"alice"}'
expect_match "alice is told hers" 'You told me before: "I drink green tea"' "$(tm_output "$TM_R")"
expect_eq "her scope is the key's, then her name" "key:$TMK_ID/alice" \
	"$(tm_pg "SELECT scope FROM memories WHERE content = 'I drink green tea'")"
expect_eq "the key's own memory did not see hers either" 1 \
	"$(tm_pg "SELECT count(*) FROM memories WHERE scope = 'key:$TMK_ID'")"

# ---- memories of a thread
tm_json "$TMK" PUT /api/v1/agents/tm-thread '{"name":"Thread memory","provider":"builtin","model":"builtin","tools":["memory_save","memory_search"],"parameters":{"memory_scope":"thread"}}'
expect_eq "an agent that keeps memories by thread is accepted" 201 "$H_STATUS"
tm_json "$TMK" PUT /api/v1/agents/tm-bad '{"name":"Bad","provider":"builtin","model":"builtin","tools":["memory_save"],"parameters":{"memory_scope":"org"}}'
expect_eq "a scope that is neither user nor thread is refused" 422 "$H_STATUS"
tm_json "$TMK" POST /api/v1/threads '{"agent":"tm-thread"}'
T1=$(tm_id)
tm_json "$TMK" POST /api/v1/threads '{"agent":"tm-thread"}'
T2=$(tm_id)
tm_json "$TMK" POST "/api/v1/threads/$T1/runs" '{"input":{"message":"Remember that the launch is on Friday."}}'
R=$(tm_id)
check "a thread's run keeps a fact" tm_wait "$R" succeeded 20
tm_json "$TMK" POST "/api/v1/threads/$T2/runs" '{"input":{"message":"When is the launch?"}}'
R=$(tm_id)
check "a run of another thread asks" tm_wait "$R" succeeded 20
expect_match "and is told nothing: the fact is the first thread's" "I have nothing saved" "$(tm_output "$R")"
tm_json "$TMK" POST "/api/v1/threads/$T1/runs" '{"input":{"message":"When is the launch?"}}'
R=$(tm_id)
check "the first thread's next run asks" tm_wait "$R" succeeded 20
expect_match "and recalls it" 'You told me before: "the launch is on Friday"' "$(tm_output "$R")"
expect_eq "the fact's scope is the thread" "thread:$T1" \
	"$(tm_pg "SELECT scope FROM memories WHERE content = 'the launch is on Friday'")"

# ---- both wire formats: the model's own call, its arguments as it wrote them
for p in openai anthropic; do
	tm_json "$TMK" PUT "/api/v1/agents/tm-$p" "{\"name\":\"Saver\",\"provider\":\"$p\",\"model\":\"mock,tool=memory_save,arg=content\",\"tools\":[\"memory_save\"]}"
	check "$p: a model's memory_save runs" tm_ask "$TMK" "tm-$p" "The $p customer prefers email."
	expect_match "$p: the model is told it was kept, a new memory" \
		'^Echo: \{"saved":true,"id":"[0-9a-f-]{36}","new":true,"scope":"user"\}$' "$(tm_output "$TM_R")"
	check "$p: the same fact again" tm_ask "$TMK" "tm-$p" "The $p customer prefers email."
	expect_match "$p: is the same memory, not a new one" '"new":false' "$(tm_output "$TM_R")"
	expect_eq "$p: one row" 1 "$(tm_pg "SELECT count(*) FROM memories WHERE content = 'The $p customer prefers email.'")"
done
tm_json "$TMK" PUT /api/v1/agents/tm-long '{"name":"Long","provider":"openai","model":"mock,tool=memory_save,arg=content","tools":["memory_save"]}'
LONG=$(head -c 2001 /dev/zero | tr '\0' 'x')
check "a fact over 2,000 characters" tm_ask "$TMK" tm-long "$LONG"
expect_match "is refused by the schema and the model is told" '^Echo: .*content' "$(tm_output "$TM_R")"
expect_eq "nothing of it is kept" 0 "$(tm_pg "SELECT count(*) FROM memories WHERE content LIKE 'xxxx%'")"

# ---- the database decides the scope: a run of one org cannot write into another's
TMO_ORG=$(tm_pg "SELECT id FROM orgs WHERE slug = 'tmco2'")
TMCO=$(tm_pg "SELECT id FROM orgs WHERE slug = 'tmco'")
# As the worker's role (switchboard_app), which may only call the two functions.
tm_app() { tm_pg "SET ROLE switchboard_app; $1"; }
expect_eq "memory_save with another org's run keeps nothing" 0 \
	"$(tm_app "SELECT count(*) FROM memory_save($TMO_ORG, '$TM_R', 'user', 'sneaky')")"
expect_eq "memory_search with another org's run finds nothing" 0 \
	"$(tm_app "SELECT count(*) FROM memory_search($TMO_ORG, '$TM_R', 'user', '', 20)")"
expect_eq "the worker's role reads no memory directly" 0 \
	"$(tm_app "SELECT count(*) FROM memories")"

# ---- a scope keeps the newest memory_scope_cap() facts
tm_pg "DO \$\$ BEGIN FOR i IN 1..1005 LOOP PERFORM memory_save($TMCO, '$TM_R', 'user', 'fact number ' || i); END LOOP; END \$\$" >/dev/null
expect_eq "a scope holds 1,000 facts at most" 1000 \
	"$(tm_pg "SELECT count(*) FROM memories WHERE scope = 'key:$TMK_ID'")"
expect_eq "the oldest are forgotten, the newest kept" "0|1" \
	"$(tm_pg "SELECT count(*) FILTER (WHERE content = 'my favourite colour is blue') || '|' || count(*) FILTER (WHERE content = 'fact number 1005') FROM memories WHERE scope = 'key:$TMK_ID'")"

# ---- the worker's tool connection lost: the next call connects again
expect_eq "the worker's tool connection is found and ended" t \
	"$(tm_pg "SELECT bool_or(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE '%FROM memory\_s%(\$1::bigint%' AND pid <> pg_backend_pid()")"
sleep 0.5
check "a run after the loss succeeds" tm_ask "$TMK" personal-assistant "What is fact number 1004?"
expect_match "and its tool worked" 'You told me before: "fact number 1004"' "$(tm_output "$TM_R")"
expect_match "the worker logged the loss" "database connection lost.*tool statements" "$(cat "$TM/tmw1.log")"
expect_match "and counted the statements (metrics)" "switchboard_tool_statement_failures_total [0-9]" "$(curl -fsS "127.0.0.1:$TM_M1/metrics")"

sb_stop_pidfile "$TM/tmw1.pid" 5
sb_stop_pidfile "$TM/tm-mock.pid" 5
