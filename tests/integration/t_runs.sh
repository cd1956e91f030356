# t_runs.sh: the runs API: create (idempotent), read, list, cancel, the event log; tenant isolation.

$CTL org add runco >/dev/null
$CTL org add runco2 >/dev/null
$CTL agents import "$SB_ROOT/conf/agents" >/dev/null
KW=$($CTL key create --org runco --scopes runs:write,runs:read,agents:admin,agents:read)
KR=$($CTL key create --org runco --scopes runs:read)
KO=$($CTL key create --org runco2 --scopes runs:write,runs:read)
as() { local k=$1 m=$2 p=$3; shift 3; http "$m" "$CADDY_URL$p" -H "Authorization: Bearer $k" "$@"; }
post() { as "$1" POST /api/v1/runs -H 'Content-Type: application/json' --data "$2" "${@:3}"; }
run_id() { printf '%s' "$H_BODY" | sed -n 's/^{"id":"\([0-9a-f-]\{36\}\)".*/\1/p'; }

post "$KW" '{"agent":"summarizer","input":{"text":"A long text.","lang":"en"},"metadata":{"ticket":"T-1"},"priority":5}'
expect_eq "creating a run is 202" 202 "$H_STATUS"
RID=$(run_id)
check "it has an id (a UUID)" test -n "$RID"
expect_eq "with a Location" "/api/v1/runs/$RID" "$(header location)"
expect_match "queued, at attempt 0, with its links" "\"agent\":\"summarizer\",\"state\":\"queued\",\"attempt\":0,\"max_attempts\":3,\"priority\":5,\"input\":\\{(\"lang\":\"en\",\"text\":\"A long text.\"|\"text\":\"A long text.\",\"lang\":\"en\")\\},\"metadata\":\\{\"ticket\":\"T-1\"\\}.*\"links\":\\{\"self\":\"/api/v1/runs/$RID\",\"events\":\"/api/v1/runs/$RID/events\",\"stream\":\"/api/v1/runs/$RID/stream\"\\}" "$H_BODY"
as "$KR" GET "/api/v1/runs/$RID"
expect_eq "GET /api/v1/runs/{id} is 200" 200 "$H_STATUS"
expect_match "and shows the run" "\"id\":\"$RID\".*\"state\":\"queued\"" "$H_BODY"
snap=$(sb_as_pg "$(sb_pg_bindir)/psql" -h "$STATE/pg/run" -p "$PG_PORT" -U postgres -d switchboard -qAtX \
	-c "SELECT r.agent->>'provider', r.agent->>'system_prompt' = a.system_prompt, (r.agent->>'version')::int = a.version FROM runs r JOIN agents a ON a.slug = r.agent_slug AND a.org_id IS NULL WHERE r.id = '$RID'")
expect_eq "the run keeps a snapshot of its agent's definition (provider, prompt, version)" "builtin|t|t" "$snap"

# The agent a run names: the org's own first; unknown or disabled ones are refused.
post "$KW" '{"agent":"no-such-agent","input":"x"}'
expect_eq "an unknown agent is 422" 422 "$H_STATUS"
expect_match "as unknown-agent" '"type":"/problems/unknown-agent"' "$H_BODY"
as "$KW" PUT /api/v1/agents/writer -H 'Content-Type: application/json' \
	--data '{"name":"Off","provider":"builtin","model":"builtin","enabled":false}'
post "$KW" '{"agent":"writer","input":"x"}'
expect_eq "a disabled agent (the org's own over the global one) is 422" 422 "$H_STATUS"
post "$KO" '{"agent":"writer","input":"x"}'
expect_eq "another org still runs the global one" 202 "$H_STATUS"
post "$KW" '{"agent":"summarizer"}'
expect_eq "a run without input is 400" 400 "$H_STATUS"
post "$KW" '{"agent":"summarizer","input":null}'
expect_eq "a null input is 400" 400 "$H_STATUS"
post "$KW" '{"agent":"summarizer","input":"x","priority":11}'
expect_eq "a priority beyond 10 is 422" 422 "$H_STATUS"
post "$KW" '{"agent":"summarizer","input":"x","metadata":[1]}'
expect_eq "metadata that is not an object is 422" 422 "$H_STATUS"
post "$KW" '{"agent":"summarizer","input":"x","extra":1}'
expect_eq "an unknown field is 400" 400 "$H_STATUS"
post "$KR" '{"agent":"summarizer","input":"x"}'
expect_eq "creating needs runs:write" 403 "$H_STATUS"

# Idempotency: the same key and body are the same run; the same key with another body is refused.
post "$KW" '{"agent":"summarizer","input":"once"}' -H 'Idempotency-Key: order-42'
first=$(run_id)
post "$KW" '{"input":"once","agent":"summarizer"}' -H 'Idempotency-Key: order-42'
expect_eq "the same Idempotency-Key and request (keys in another order) give the same run" "202 $first" "$H_STATUS $(run_id)"
expect_eq "marked as a replay" true "$(header idempotent-replayed)"
post "$KW" '{"agent":"summarizer","input":"twice"}' -H 'Idempotency-Key: order-42'
expect_eq "the same key with another body is 422" 422 "$H_STATUS"
expect_match "as idempotency-key-reused" '"type":"/problems/idempotency-key-reused"' "$H_BODY"
post "$KO" '{"agent":"summarizer","input":"once"}' -H 'Idempotency-Key: order-42'
check "another org's same key is another run" test "$(run_id)" != "$first" -a "$H_STATUS" = 202
post "$KW" '{"agent":"summarizer","input":"x"}' -H 'Idempotency-Key: has space'
expect_eq "a key with a space is 400" 400 "$H_STATUS"
pids=""
for i in 1 2 3 4 5 6; do
	curl -s -o "$STATE/idem.$i" -H "Authorization: Bearer $KW" -H 'Content-Type: application/json' \
		-H 'Idempotency-Key: race-1' --data '{"agent":"summarizer","input":"race"}' "$CADDY_URL/api/v1/runs" &
	pids="$pids $!"
done
wait $pids
expect_eq "six concurrent requests with one key make one run" 1 "$(sed -n 's/^{"id":"\([0-9a-f-]*\)".*/\1/p' "$STATE"/idem.* | sort -u | wc -l)"

# Lists: newest first, filters, cursor pages.
as "$KR" GET '/api/v1/runs?limit=2'
expect_eq "GET /api/v1/runs is 200" 200 "$H_STATUS"
expect_match "newest first, with a next cursor" '"next_cursor":"[0-9]+"' "$H_BODY"
as "$KR" GET "/api/v1/runs?limit=2&cursor=$(json_get next_cursor)"
expect_eq "the next page" 200 "$H_STATUS"
as "$KR" GET '/api/v1/runs?agent=summarizer&state=queued&limit=200'
check "filters by agent and state" bash -c "printf '%s' '$H_BODY' | grep -q '\"agent\":\"summarizer\",\"state\":\"queued\"' && ! printf '%s' '$H_BODY' | grep -q '\"state\":\"cancelled\"'"
as "$KR" GET '/api/v1/runs?since=2000-01-01T00:00:00Z'
expect_eq "since takes an ISO time" 200 "$H_STATUS"
as "$KR" GET '/api/v1/runs?since=yesterday'
expect_eq "a malformed since is 400" 400 "$H_STATUS"
as "$KR" GET '/api/v1/runs?state=done'
expect_eq "an unknown state is 400" 400 "$H_STATUS"
as "$KO" GET '/api/v1/runs?limit=200'
check "another org's list has none of this org's runs" bash -c "! printf '%s' '$H_BODY' | grep -q '$RID'"

# Cancel: a queued run is cancelled at once, with its terminal event; twice is the same.
as "$KW" POST "/api/v1/runs/$RID/cancel"
expect_eq "cancelling a queued run is 200" 200 "$H_STATUS"
expect_match "and it is cancelled" '"state":"cancelled".*"finished_at":"20' "$H_BODY"
as "$KW" POST "/api/v1/runs/$RID/cancel"
expect_eq "cancelling again is 200 too" 200 "$H_STATUS"
expect_match "and changes nothing" '"state":"cancelled"' "$H_BODY"
as "$KR" GET "/api/v1/runs/$RID/events"
expect_eq "the event log is 200" 200 "$H_STATUS"
expect_match "with exactly one terminal event" '^\{"items":\[\{"seq":1,"type":"run.cancelled","data":\{"reason":"cancelled before it started"\},"attempt":0,"created_at":"[^"]+"\}\],"next_after":1,"finished":true\}$' "$H_BODY"
as "$KR" GET "/api/v1/runs/$RID/events?after=1"
expect_eq "after the last event: none, the same cursor, and finished" '{"items":[],"next_after":1,"finished":true}' "$H_BODY"
as "$KR" GET "/api/v1/runs/$RID/events?after=-1"
expect_eq "a negative after is 400" 400 "$H_STATUS"

# Another org's run, or no run, is 404 on every route.
for path in "/api/v1/runs/$RID" "/api/v1/runs/$RID/events"; do
	as "$KO" GET "$path"
	expect_eq "another org's run is 404 ($path)" 404 "$H_STATUS"
done
as "$KO" POST "/api/v1/runs/$RID/cancel"
expect_eq "another org cannot cancel it (404)" 404 "$H_STATUS"
as "$KR" GET /api/v1/runs/not-a-uuid
expect_eq "an id that is no UUID is 404" 404 "$H_STATUS"
as "$KR" GET /api/v1/runs/00000000-0000-0000-0000-000000000000
expect_eq "an unknown run is 404" 404 "$H_STATUS"
