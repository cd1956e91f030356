# t_httptools.sh: HTTP tools defined in configuration (tools.dir, core/tooldef.c),
# through Caddy, the API and the real worker: an agent names one, the mock model calls
# it, the tool calls tests/node/pages.mjs with its secret header and the arguments
# encoded in its URL, and the model gets the answer; the secret is nowhere else.
# run.sh wrote the definitions (sb_tools_fixture) before the programs started.

HT=$STATE/worker
mkdir -p "$HT"
sb_free_port HT_LLM
sb_free_port HT_M1
"$SB_BUILD/sb-mock-llm" "$HT_LLM" >"$HT/ht-mock.log" 2>&1 &
echo $! >"$HT/ht-mock.pid"
node "$SB_ROOT/tests/node/pages.mjs" "$TOOLS_PORT" >"$HT/ht-pages.log" 2>&1 &
echo $! >"$HT/ht-pages.pid"
sb_wait_for "exec 3<>/dev/tcp/127.0.0.1/$HT_LLM" 5 || fail "httptools: the mock provider starts" "no port"
sb_wait_for "exec 3<>/dev/tcp/127.0.0.1/$TOOLS_PORT" 5 || fail "httptools: the tools' service starts" "no port"
worker_conf "$HT" "$HT_LLM" htw1 "$HT_M1"
worker_start "$HT" htw1 "$HT_M1" || fail "httptools: the worker starts" "see $HT/htw1.log"

$CTL org add htco >/dev/null
HTK=$($CTL key create --org htco --scopes runs:write,runs:read,agents:admin,agents:read)
ht_json() { http "$1" "$CADDY_URL$2" -H "Authorization: Bearer $HTK" -H 'Content-Type: application/json' --data "$3"; }
ht_pg() { psql_su -c "$1"; }
ht_wait() { sb_wait_for "[ \"\$(psql_su -c \"SELECT state FROM runs WHERE id = '$1'\")\" = $2 ]" "$3"; }
ht_output() { ht_pg "SELECT output->>'text' FROM runs WHERE id = '$1'"; }
ht_result() { ht_pg "SELECT (data->>'ok') || '|' || (data->>'result') FROM run_events WHERE run_id = '$1' AND type = 'tool.completed'"; }
ht_seen() { curl -s "http://127.0.0.1:$TOOLS_PORT/seen/$1"; }
# ht_run AGENT ARGS: a run whose mock model calls the agent's tool with ARGS (JSON as
# a message: quotes escaped); its id in HT_RID, waited for.
ht_run() {
	ht_json POST /api/v1/runs "{\"agent\":\"$1\",\"input\":{\"message\":\"$2\"}}"
	HT_RID=$(printf '%s' "$H_BODY" | sed -n 's/^{"id":"\([0-9a-f-]\{36\}\)".*/\1/p')
	ht_wait "$HT_RID" succeeded 20 || fail "httptools: the run of $1 succeeds" "$(ht_pg "SELECT state || ' ' || coalesce(error::text, '') FROM runs WHERE id = '$HT_RID'")"
}
for t in crm_lookup crm_note crm_guarded crm_hop; do
	ht_json PUT "/api/v1/agents/ht-${t//_/-}" "{\"name\":\"CRM\",\"provider\":\"openai\",\"model\":\"mock,tool=$t,arg=*\",\"tools\":[\"$t\"]}"
done
expect_eq "an agent naming a configured tool is accepted by the API" 201 "$H_STATUS"
ht_json PUT /api/v1/agents/ht-none '{"name":"CRM","provider":"openai","model":"mock","tools":["crm_delete"]}'
expect_eq "an agent naming a tool that is not configured is 422" "422 unknown-tool" "$H_STATUS $(json_get type | sed 's|.*/||')"
ht_json PUT /api/v1/agents/ht-approve '{"name":"CRM","provider":"openai","model":"mock","tools":["crm_lookup"],"parameters":{"approve_tools":["crm_lookup"]}}'
expect_eq "and approve_tools may name one" 201 "$H_STATUS"

# ---- the call: secret header, arguments encoded in the path and the query
ht_run ht-crm-lookup '{\"customer_id\":\"../ada?x=1#f@evil.example\",\"query\":\"a&b=c d\"}'
R=$HT_RID
expect_eq "the service saw the path and the query with every argument encoded in its place" \
	'/crm/customers/..%2Fada%3Fx%3D1%23f%40evil.example?q=a%26b%3Dc%20d' \
	"$(ht_seen customers | sed -n 's/.*"url":"\([^"]*\)".*/\1/p')"
expect_match "the service saw the secret in the Authorization header, and the literal header" \
	'"authorization":"Bearer it-crm-token-5f1e","client":"switchboard"' "$(ht_seen customers)"
expect_eq "the model got the answer's body as it is" 'Echo: {"name": "Ada Lovelace", "plan": "gold"}' "$(ht_output "$R")"
expect_eq "tool.completed: ok, the body" 'true|{"name": "Ada Lovelace", "plan": "gold"}' "$(ht_result "$R")"
expect_eq "the secret is in no event, step or output" 0 \
	"$(ht_pg "SELECT (SELECT count(*) FROM run_events WHERE data::text LIKE '%it-crm-token%') + (SELECT count(*) FROM run_steps WHERE data::text LIKE '%it-crm-token%') + (SELECT count(*) FROM runs WHERE output::text LIKE '%it-crm-token%')")"
ht_run ht-crm-lookup '{\"customer_id\":\"c7\"}'
expect_eq "a missing optional argument drops its query parameter" '/crm/customers/c7' \
	"$(ht_seen customers | sed -n 's/.*"url":"\([^"]*\)".*/\1/p')"
ht_run ht-crm-lookup '{\"customer_id\":\"..\"}'
expect_match "a value that would move up the path is refused, and the model told" \
	'^false\|Refused: the path would have a "." or ".." segment' "$(ht_result "$HT_RID")"
expect_eq "and nothing was sent" 2 "$(ht_seen customers | sed -n 's/.*"n":\([0-9]*\).*/\1/p')"
ht_run ht-crm-lookup '{\"customer_id\":\"x\",\"status\":404}'
expect_eq "an HTTP error is a failed call with its status and body" \
	'false|HTTP 404

{"error": "no such customer"}' "$(ht_result "$HT_RID")"
ht_run ht-crm-lookup '{\"customer_id\":\"x\",\"extra\":1}'
expect_match "arguments outside the schema are refused before any request" \
	"^false\\|The arguments do not fit the tool's schema" "$(ht_result "$HT_RID")"

# ---- POST: the body template filled from the arguments
ht_run ht-crm-note '{\"customer_id\":\"c1\",\"text\":\"called back & {text}\"}'
expect_eq "a POST tool sends its body template, filled, as JSON, with the secret header" \
	'POST|application/json|Bearer it-crm-token-5f1e|{"customer":"c1","note":{"text":"called back & {text}"},"source":"agent"}' \
	"$(ht_seen notes | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log([j.method,j.type,j.authorization,j.body].join("|"))})')"

# ---- the guard: on by default; allow_private exempts the template's own host only
ht_run ht-crm-guarded '{\"customer_id\":\"c1\"}'
expect_match "a tool without allow_private may not reach a private address" \
	'^false\|Refused: crm_guarded leads to an address this agent may not fetch' "$(ht_result "$HT_RID")"
expect_eq "and the service never saw it" '{}' "$(ht_seen guarded)"
ht_run ht-crm-hop "{\\\"to\\\":\\\"http://localhost:$TOOLS_PORT/crm/customers/hop\\\"}"
expect_eq "a redirect to another host is not followed" \
	'false|Refused: crm_hop was redirected to another host, which this tool does not follow.' "$(ht_result "$HT_RID")"
ht_run ht-crm-hop '{\"to\":\"/crm/customers/hop\"}'
expect_eq "a redirect within the template's origin is" 'true|{"name": "Ada Lovelace", "plan": "gold"}' "$(ht_result "$HT_RID")"

check "the secret is in no log line of the worker" sh -c "! grep -q it-crm-token '$HT/htw1.log'"

# ---- a definition that is wrong stops the programs; -t says which and why
mkdir -p "$HT/bad.d" "$HT/creds"
cp "$STATE/tools.d/crm_lookup.json" "$HT/bad.d/"
printf '{"name": "broken", "description": "d", "parameters": {"type": "object"}, "url": "https://{host}/x"}\n' >"$HT/bad.d/broken.json"
out=$(SWITCHBOARD_TOOLS_DIR=$HT/bad.d "$SB_BUILD/switchboard-worker" -t -c "$HT/htw1.conf" 2>&1)
expect_eq "switchboard-worker -t fails on a malformed definition" 1 "$?"
expect_match "naming the file and what is wrong" "bad.d/broken.json: url: the host \\(and port\\) must be written out" "$out"
rm "$HT/bad.d/broken.json"
out=$(SWITCHBOARD_TOOLS_DIR=$HT/bad.d SWITCHBOARD_TOOLS_SECRETS_DIR=$HT/creds "$SB_BUILD/switchboard-worker" -t -c "$HT/htw1.conf" 2>&1)
expect_match "a missing secret fails the worker's check" "crm_lookup.json: secret crm_token: in neither" "$out"
out=$(SWITCHBOARD_TOOLS_DIR=$HT/bad.d SWITCHBOARD_TOOLS_SECRETS_DIR=$HT/creds "$SB_BUILD/switchboard-fcgi" -t -c "$HT/htw1.conf" 2>&1)
expect_match "the API's programs do not read secrets" "configuration ok" "$out"
printf 'from-systemd' >"$HT/creds/crm_token"
out=$(CREDENTIALS_DIRECTORY=$HT/creds SWITCHBOARD_TOOLS_DIR=$HT/bad.d SWITCHBOARD_TOOLS_SECRETS_DIR= "$SB_BUILD/switchboard-worker" -t -c "$HT/htw1.conf" 2>&1)
expect_match "a secret from \$CREDENTIALS_DIRECTORY (LoadCredential=) will do" "configuration ok" "$out"
printf '{"name": "http_fetch", "description": "d", "parameters": {"type": "object"}, "url": "https://h/"}\n' >"$HT/bad.d/mine.json"
out=$(SWITCHBOARD_TOOLS_DIR=$HT/bad.d "$SB_BUILD/switchboardctl" -c "$HT/htw1.conf" check 2>&1)
expect_match "switchboardctl refuses it too: a built-in tool's name" "mine.json: name: \"http_fetch\" is a built-in tool's" "$out"

sb_stop_pidfile "$HT/htw1.pid" 5
sb_stop_pidfile "$HT/ht-pages.pid" 5
sb_stop_pidfile "$HT/ht-mock.pid" 5
