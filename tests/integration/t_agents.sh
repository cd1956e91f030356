# t_agents.sh: the agent registry: the default catalog, org agents over global ones, validation.

$CTL org add agentco >/dev/null
$CTL org add agentco2 >/dev/null
out=$($CTL agents import "$SB_ROOT/conf/agents" 2>&1); rc=$?
ncat=$(ls "$SB_ROOT"/conf/agents/*.json | wc -l)
expect_eq "the default catalog imports" 0 "$rc"
expect_match "as global defaults" "^$ncat imported, 0 updated, 0 unchanged as global defaults$" "$out"
check "the catalog has at least 12 agents" test "$ncat" -ge 12
out=$($CTL agents import "$SB_ROOT/conf/agents" 2>&1)
expect_eq "importing again changes nothing" "0 imported, 0 updated, $ncat unchanged as global defaults" "$out"
printf '{"slug":"summarizer","name":"Summarizer","provider":"builtin","model":"builtin","category":"writing","description":"changed"}\n' >"$STATE/sum.json"
out=$($CTL agents import "$STATE/sum.json" 2>&1)
expect_eq "a changed definition is updated" "0 imported, 1 updated, 0 unchanged as global defaults" "$out"
printf '{"slug":"bad","name":"Bad","provider":"nobody","model":"x"}\n' >"$STATE/bad.json"
out=$($CTL agents import "$STATE/bad.json" 2>&1); rc=$?
expect_eq "an invalid file fails the import" 1 "$rc"
expect_match "naming the file and the problem" 'bad\.json: unknown provider "nobody"' "$out"
$CTL agents import "$SB_ROOT/conf/agents" >/dev/null

KA=$($CTL key create --org agentco --scopes agents:read,agents:admin)
KR=$($CTL key create --org agentco --scopes agents:read)
KB=$($CTL key create --org agentco2 --scopes agents:read,agents:admin)
as() { local k=$1 m=$2 p=$3; shift 3; http "$m" "$CADDY_URL$p" -H "Authorization: Bearer $k" "$@"; }
json() { printf '%s' "-H" "Content-Type: application/json"; }

as "$KR" GET /api/v1/agents
expect_eq "GET /api/v1/agents is 200" 200 "$H_STATUS"
expect_eq "every org sees the global catalog" "$ncat" "$(printf '%s' "$H_BODY" | grep -o '"global":true' | wc -l)"
as "$KR" GET '/api/v1/agents?category=code'
expect_match "the list filters by category" '"slug":"code-reviewer"' "$H_BODY"
check "and only that category" bash -c "! printf '%s' '$H_BODY' | grep -q '\"category\":\"writing\"'"
as "$KR" GET /api/v1/agents/kb-answerer
expect_eq "GET /api/v1/agents/{slug} is 200" 200 "$H_STATUS"
expect_match "with the whole definition" '"slug":"kb-answerer".*"provider":"builtin".*"system_prompt":"You answer questions.*"parameters":\{.*\}.*"tools":\["kb_search"\].*"enabled":true.*"version":1.*"global":true' "$H_BODY"
expect_match "its parameters as given (no float noise)" '"parameters":\{"max_steps":4,"max_tokens":800,"temperature":0.2\}' "$H_BODY"
as "$KR" GET /api/v1/agents/nope
expect_eq "an unknown agent is 404" 404 "$H_STATUS"

body='{"slug":"triage-x","name":"Triage X","provider":"openai","model":"gpt-4o-mini","category":"support","system_prompt":"Route it.","parameters":{"temperature":0,"max_tokens":300}}'
as "$KR" POST /api/v1/agents -H 'Content-Type: application/json' --data "$body"
expect_eq "creating needs agents:admin" 403 "$H_STATUS"
as "$KA" POST /api/v1/agents -H 'Content-Type: application/json' --data "$body"
expect_eq "an org creates an agent (201)" 201 "$H_STATUS"
expect_eq "with a Location" /api/v1/agents/triage-x "$(header location)"
expect_match "its own, not global" '"global":false' "$H_BODY"
as "$KA" POST /api/v1/agents -H 'Content-Type: application/json' --data "$body"
expect_eq "the same slug again is 409" 409 "$H_STATUS"
as "$KB" GET /api/v1/agents/triage-x
expect_eq "another org does not see it (404)" 404 "$H_STATUS"
as "$KB" DELETE /api/v1/agents/triage-x
expect_eq "nor delete it (404)" 404 "$H_STATUS"

# An org's agent takes the place of the global one of the same slug, for that org only.
as "$KA" PUT /api/v1/agents/summarizer -H 'Content-Type: application/json' \
	--data '{"name":"Our summarizer","provider":"anthropic","model":"claude-x","category":"writing"}'
expect_eq "PUT over a global slug makes the org's own (201)" 201 "$H_STATUS"
as "$KA" GET /api/v1/agents/summarizer
expect_match "the org now sees its own" '"name":"Our summarizer".*"global":false' "$H_BODY"
as "$KB" GET /api/v1/agents/summarizer
expect_match "another org still sees the global one" '"name":"Summarizer".*"global":true' "$H_BODY"
as "$KA" GET /api/v1/agents
expect_eq "the org's list has each slug once" "$ncat" "$(printf '%s' "$H_BODY" | grep -o '"slug":"[^"]*"' | grep -v triage-x | sort -u | wc -l)"
as "$KA" PUT /api/v1/agents/summarizer -H 'Content-Type: application/json' \
	--data '{"name":"Our summarizer v2","provider":"anthropic","model":"claude-x"}'
expect_eq "PUT again replaces it (200)" 200 "$H_STATUS"
expect_match "with version 2" '"name":"Our summarizer v2".*"version":2' "$H_BODY"
as "$KA" DELETE /api/v1/agents/summarizer
expect_eq "deleting the org's agent is 204" 204 "$H_STATUS"
as "$KA" GET /api/v1/agents/summarizer
expect_match "and the global one shows again" '"global":true' "$H_BODY"
as "$KA" DELETE /api/v1/agents/kb-answerer
expect_eq "a global agent is not the org's to delete (404)" 404 "$H_STATUS"

# Validation: 422 for what is well-formed but wrong, 400 for the wrong shape.
v() { as "$KA" POST /api/v1/agents -H 'Content-Type: application/json' --data "$1"; expect_eq "$2" "$3" "$H_STATUS"; [ -n "${4:-}" ] && expect_match "$2: problem type" "\"type\":\"/problems/$4\"" "$H_BODY"; }
v '{"slug":"a1","name":"A","provider":"nobody","model":"m"}' "an unknown provider is 422" 422 unknown-provider
v '{"slug":"a2","name":"A","provider":"builtin","model":"m","tools":["web_search"]}' "an unknown tool is 422" 422 unknown-tool
v '{"slug":"a3","name":"A","provider":"builtin","model":"m","parameters":{"temperature":3}}' "a temperature out of range is 422" 422 invalid-parameter
v '{"slug":"a4","name":"A","provider":"builtin","model":"m","parameters":{"seed":1}}' "an unknown parameter is 422" 422 invalid-parameter
v '{"slug":"Bad Slug","name":"A","provider":"builtin","model":"m"}' "a bad slug is 422" 422 invalid-slug
v '{"slug":"a5","name":"","provider":"builtin","model":"m"}' "an empty name is 422" 422 invalid-field
v '{"slug":"a6","name":"A","provider":"builtin"}' "a missing model is 400" 400 invalid-body
v '{"slug":"a7","name":"A","provider":"builtin","model":"m","colour":"red"}' "an unknown field is 400" 400 invalid-body
as "$KA" PUT /api/v1/agents/a8 -H 'Content-Type: application/json' --data '{"slug":"other","name":"A","provider":"builtin","model":"m"}'
expect_eq "a body slug differing from the path's is 422" 422 "$H_STATUS"

# The audit log has the changes.
acid=$(sb_as_pg "$(sb_pg_bindir)/psql" -h "$STATE/pg/run" -p "$PG_PORT" -U postgres -d switchboard -qAtX \
	-c "SELECT string_agg(action, ',' ORDER BY id) FROM audit_log WHERE action LIKE 'agent.%' AND target IN ('triage-x', 'summarizer')")
expect_eq "agent changes are audited" "agent.created,agent.created,agent.updated,agent.deleted" "$acid"
