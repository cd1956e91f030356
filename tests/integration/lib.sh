# lib.sh: assertions for the integration tests.  Each check prints one line,
# "ok - name" or "FAIL - name: why", and is counted for the closing summary.

T_PASSED=0
T_FAILED=0

pass() { T_PASSED=$((T_PASSED + 1)); printf 'ok - %s\n' "$1"; }
fail() { T_FAILED=$((T_FAILED + 1)); printf 'FAIL - %s: %s\n' "$1" "$2"; }

# check NAME CMD...: passes when CMD exits 0.
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name" "command failed: $*"; fi
}

# expect_eq NAME WANT GOT
expect_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "want [$2], got [$3]"; fi
}

# expect_match NAME REGEX TEXT
# (A here-string, not a pipe: grep -q stops at the first match, and under pipefail the
# writer's SIGPIPE on a text over the pipe's 64 KiB would count as no match.)
expect_match() {
	if grep -Eq -- "$2" <<<"$3"; then pass "$1"; else fail "$1" "[$3] does not match /$2/"; fi
}

# http METHOD URL [curl args...]: sets H_STATUS, H_BODY, H_HEADERS (lower-cased names).
http() {
	local method=$1 url=$2 out
	shift 2
	out=$(mktemp)
	local verb=(-X "$method")
	[ "$method" = HEAD ] && verb=(--head)
	H_STATUS=$(curl -sS -o "$out.body" -D "$out.head" -w '%{http_code}' "${verb[@]}" \
		--max-time 20 "$@" "$url" 2>"$out.err") || H_STATUS=000
	H_BODY=$(cat "$out.body" 2>/dev/null || true)
	H_HEADERS=$(tr -d '\r' <"$out.head" 2>/dev/null | sed 's/^\([^:]*\):/\L\1:/' || true)
	rm -f "$out" "$out.body" "$out.head" "$out.err"
}

# header NAME: the value of a response header from the last http call.
header() { printf '%s\n' "$H_HEADERS" | sed -n "s/^$1: //p" | tail -n 1; }

# jq-free JSON field reading: json_get FIELD reads a top-level string or number.
json_get() {
	printf '%s' "$H_BODY" | sed -n "s/.*\"$1\":\(\"[^\"]*\"\|[-0-9.]*\|true\|false\|null\).*/\1/p" |
		head -n 1 | sed 's/^"\(.*\)"$/\1/'
}

# psql_su ARGS...: psql as the superuser on the test database (unaligned, tuples only),
# for setting up and inspecting what the API cannot.
psql_su() { sb_as_pg "$(sb_pg_bindir)/psql" -h "$STATE/pg/run" -p "$PG_PORT" -U postgres -d switchboard -qAtX "$@"; }

# worker_conf DIR LLM_PORT NAME METRICS_PORT [WORKER_LINES [LLM_LINES]]: the config of a
# switchboard-worker (DIR/NAME.conf): the stack's, quick timers, and every provider
# pointed at the mock provider on LLM_PORT.
worker_conf() {
	local dir=$1 llm=$2
	shift 2
	{
		cat "$SB_CONF"
		printf '\n[worker]\nname = %s\nmetrics_listen = 127.0.0.1:%s\nlease = 3\nheartbeat = 1\n' "$1" "$2"
		printf 'rescue_interval = 1\nretry_base_ms = 100\nretry_max = 1\ncancel_check_ms = 100\n'
		printf 'flush_ms = 20\ndelta_ms = 50\nshutdown_grace = 1\n%s\n' "${3:-}"
		printf '\n[llm]\nopenai_base_url = http://127.0.0.1:%s/v1\n' "$llm"
		printf 'anthropic_base_url = http://127.0.0.1:%s/v1\n' "$llm"
		printf 'openai_api_key = test-key\nanthropic_api_key = test-key\n'
		printf 'idle_timeout = 2\nfirst_token_timeout = 10\nbuiltin_tokens_per_s = 200\n'
		printf 'pricing = mock=1.5/2.5\n%s\n' "${4:-}"
	} >"$dir/$1.conf"
}
# worker_start DIR NAME METRICS_PORT: starts the worker worker_conf wrote (DIR/NAME.pid).
worker_start() {
	sb_spawn "worker $2" "$1/$2.pid" "$1/$2.log" "curl -fsS 127.0.0.1:$3/metrics" 10 \
		"$SB_BUILD/switchboard-worker" -c "$1/$2.conf"
}

# inbox_fixture RUN ITEM: RUN (a run no worker holds) waits for a person, with ITEM an
# open question (step 1, call c1) as a worker's flush would leave it; again each time
# (the item opened again, its recorded answer forgotten).  For tests that aim at an
# item; inbox_wait makes items the worker's way.
inbox_fixture() {
	psql_su -c "UPDATE runs SET state = 'waiting', run_at = now() WHERE id = '$1';
		DELETE FROM run_steps WHERE run_id = '$1';
		INSERT INTO inbox_items (id, org_id, run_id, step, call_id, kind, question, expires_at)
		SELECT '$2', org_id, id, 1, 'c1', 'question', 'Go on?', now() + interval '1 day'
		  FROM runs WHERE id = '$1'
		ON CONFLICT (id) DO UPDATE SET state = 'open', answer = NULL, answered_by_kind = NULL,
			answered_by = NULL, answered_at = NULL, answered_attempt = NULL" >/dev/null
}

# inbox_claim RUN [COLUMN [END]]: claims RUN as a worker does (queue_claim), and only it:
# runs that other tests left queued are held back for the claim's transaction.  Prints
# the claim's COLUMN (attempt); END ROLLBACK only looks.
inbox_claim() {
	psql_su -v "run=$1" -v "col=${2:-attempt}" -v "end=${3:-COMMIT}" <<-'SQL'
	BEGIN;
	CREATE TEMP TABLE ib_held ON COMMIT DROP AS
	    SELECT id, run_at FROM runs WHERE state = 'queued' AND run_at <= now() AND id <> :'run';
	UPDATE runs r SET run_at = 'infinity' FROM ib_held h WHERE r.id = h.id;
	SELECT :"col" FROM queue_claim('tests', 10, 30000, 0) WHERE id = :'run';
	UPDATE runs r SET run_at = h.run_at FROM ib_held h WHERE r.id = h.id;
	:end;
	SQL
}

INBOX_ASK='[{"id":"c1","name":"ask_human","arguments":"{}"}]'
INBOX_FETCH='[{"id":"c1","name":"http_fetch","arguments":"{}"}]'
# inbox_wait RUN ITEMS [CALLS]: claims RUN and ends the attempt 'waiting' with the inbox
# items ITEMS (a JSON array), after a model turn (step 1) that made the tool calls
# CALLS: what the worker writes when the model asks a person.  Prints what the flush
# refused (0).
inbox_wait() {
	local attempt
	attempt=$(inbox_claim "$1")
	[ -n "$attempt" ] || { echo "not claimed"; return; }
	psql_su -v "run=$1" -v "att=$attempt" -v "items=$2" -v "calls=${3:-$INBOX_ASK}" <<-'SQL'
	SELECT count(*) FROM queue_flush('[]',
	    jsonb_build_array(jsonb_build_object('id', :'run', 'attempt', :att, 'kind', 'waiting',
	        'output', NULL, 'error', NULL, 'usage', '{}'::jsonb, 'inbox', :'items'::jsonb)),
	    jsonb_build_array(jsonb_build_object('id', :'run', 'attempt', :att, 'step', 1,
	        'call_id', '', 'data', jsonb_build_object('content', '', 'tool_calls', :'calls'::jsonb))));
	SQL
}
# inbox_question ID [EXPIRES_S [ON_TIMEOUT [CALL_ID [QUESTION]]]] and inbox_approval ID
# CALL_ID: one item (QUESTION is put in JSON as it is).
inbox_question() {
	printf '{"id":"%s","step":1,"call_id":"%s","kind":"question","question":"%s","expires_s":%s,"on_timeout":"%s"}' \
		"$1" "${4:-c1}" "${5:-Which colour?}" "${2:-3600}" "${3:-continue}"
}
inbox_approval() {
	printf '{"id":"%s","step":1,"call_id":"%s","kind":"approval","call":{"name":"http_fetch","arguments":{"url":"https://example.com/%s"}},"expires_s":3600}' \
		"$1" "$2" "$2"
}

# sb_tools_fixture DIR PORT: the HTTP tools of the stack (DIR/tools.d), which call
# tests/node/pages.mjs on 127.0.0.1:PORT, and their secret (DIR/tools-secrets).
sb_tools_fixture() {
	local d=$1/tools.d p=$2
	mkdir -p "$d" "$1/tools-secrets"
	(umask 077; printf 'it-crm-token-5f1e\n' >"$1/tools-secrets/crm_token")
	cat >"$d/crm_lookup.json" <<-JSON
		{"name": "crm_lookup", "description": "Look a customer up in the CRM.",
		 "parameters": {"type": "object", "properties": {
		   "customer_id": {"type": "string", "minLength": 1, "maxLength": 200},
		   "query": {"type": "string"}, "status": {"type": "integer"}},
		   "required": ["customer_id"], "additionalProperties": false},
		 "url": "http://127.0.0.1:$p/crm/customers/{customer_id}?q={query}&status={status}",
		 "headers": {"Authorization": "Bearer {secret:crm_token}", "X-Client": "switchboard"},
		 "allow_private": true, "timeout_s": 5}
	JSON
	cat >"$d/crm_note.json" <<-JSON
		{"name": "crm_note", "description": "Add a note to a customer.",
		 "parameters": {"type": "object", "properties": {
		   "customer_id": {"type": "string"}, "text": {"type": "string"}},
		   "required": ["customer_id", "text"]},
		 "method": "POST", "url": "http://127.0.0.1:$p/crm/notes/{customer_id}",
		 "body": {"customer": "{customer_id}", "note": {"text": "{text}"}, "source": "agent"},
		 "headers": {"Authorization": "Bearer {secret:crm_token}"}, "allow_private": true}
	JSON
	cat >"$d/crm_guarded.json" <<-JSON
		{"name": "crm_guarded", "description": "The CRM, without allow_private.",
		 "parameters": {"type": "object", "properties": {"customer_id": {"type": "string"}},
		   "required": ["customer_id"]},
		 "url": "http://127.0.0.1:$p/crm/guarded/{customer_id}"}
	JSON
	cat >"$d/crm_hop.json" <<-JSON
		{"name": "crm_hop", "description": "A CRM link that redirects.",
		 "parameters": {"type": "object", "properties": {"to": {"type": "string"}},
		   "required": ["to"]},
		 "url": "http://127.0.0.1:$p/redirect?to={to}", "allow_private": true}
	JSON
}
