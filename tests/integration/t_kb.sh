# t_kb.sh: the org knowledge base through Caddy: documents made (text and Markdown),
# chunked, listed by pages, read and deleted; the limits and their problem types; another
# org sees nothing; the scopes; search ranking (a title match above a body match), and
# kb_search called as the worker calls it; switchboardctl kb import, twice.

$CTL org add kbco >/dev/null
$CTL org add kbco2 >/dev/null
KBW=$($CTL key create --org kbco --scopes kb:read,kb:write)
KBR=$($CTL key create --org kbco --scopes kb:read)
KBN=$($CTL key create --org kbco --scopes runs:read)
KBO=$($CTL key create --org kbco2 --scopes kb:read,kb:write)
kb_as() { local k=$1 m=$2 p=$3; shift 3; http "$m" "$CADDY_URL$p" -H "Authorization: Bearer $k" "$@"; }
kb_post() { kb_as "$1" POST /api/v1/kb/documents -H 'Content-Type: application/json' --data-binary "$2"; }
kb_id() { printf '%s' "$H_BODY" | sed -n 's/^{"id":"\([0-9a-f-]\{36\}\)".*/\1/p'; }
kb_psql_app() { sb_as_pg "$(sb_pg_bindir)/psql" -h "$STATE/pg/run" -p "$PG_PORT" -U switchboard_app -d switchboard -qAtX "$@"; }
KBORG=$(psql_su -c "SELECT id FROM orgs WHERE slug = 'kbco'")
KBORG2=$(psql_su -c "SELECT id FROM orgs WHERE slug = 'kbco2'")

# ---- making documents
kb_post "$KBW" '{"title":"Rotating API keys","content":"Make a new key, move your programs to it, then revoke the old one.","metadata":{"team":"support"}}'
expect_eq "a text document is 201" 201 "$H_STATUS"
D1=$(kb_id)
expect_eq "with a Location" "/api/v1/kb/documents/$D1" "$(header location)"
expect_match "its fields, without its content" "^\\{\"id\":\"$D1\",\"title\":\"Rotating API keys\",\"format\":\"text\",\"bytes\":66,\"chunks\":1,\"metadata\":\\{\"team\":\"support\"\\},\"created_by\":\\{\"kind\":\"key\",\"id\":[0-9]+\\},\"created_at\":\"[0-9T:.-]+Z\",\"links\":\\{\"self\":\"/api/v1/kb/documents/$D1\"\\}\\}$" "$H_BODY"
# A Markdown document of three sections, the second longer than a chunk: its later
# chunks carry its heading.
KB_LONG=$(for i in $(seq 40); do printf 'A stream resumes from the last event id it saw. '; done)
kb_post "$KBW" "{\"title\":\"Streaming guide\",\"format\":\"markdown\",\"content\":\"# Streams\\n\\nOpen one per run.\\n\\n## Resuming\\n\\n$KB_LONG\\n\\n## Heartbeats\\n\\nA comment every 15 seconds.\"}"
expect_eq "a Markdown document is 201" 201 "$H_STATUS"
D2=$(kb_id)
expect_match "cut into four chunks" '"format":"markdown",.*"chunks":4,' "$H_BODY"
expect_eq "its chunks: one per heading, the long section in two, its heading carried" \
	"0|# Streams|1|## Resuming|2|## Resuming|3|## Heartbeats" \
	"$(psql_su -c "SELECT chunk, split_part(content, E'\\n', 1) FROM kb_chunks WHERE document_id = '$D2' ORDER BY chunk" | tr '\n' '|' | sed 's/|$//')"
expect_eq "no chunk over 1200 bytes of body" 0 \
	"$(psql_su -c "SELECT count(*) FROM kb_chunks WHERE document_id = '$D2' AND octet_length(content) > 1200 + 14")"
kb_as "$KBR" GET "/api/v1/kb/documents/$D2"
expect_eq "a document can be read" 200 "$H_STATUS"
expect_match "with its content" '"content":"# Streams\\n\\nOpen one per run\.' "$H_BODY"
D3_BODY=$(head -c 262144 /dev/zero | tr '\0' 'w')
printf '{"title":"Largest","content":"%s"}' "$D3_BODY" >"$STATE/kb-largest.json"
kb_post "$KBW" "@$STATE/kb-largest.json"
expect_eq "a document of 262144 bytes is taken (over http.max_json_string)" "201 262144" "$H_STATUS $(json_get bytes)"
D3=$(kb_id)
# Only this route takes strings over http.max_json_string (65536): a thread's is refused.
printf '{"title":"%s"}' "$(head -c 70000 /dev/zero | tr '\0' 't')" >"$STATE/kb-thread.json"
KBT=$($CTL key create --org kbco --scopes runs:write)
kb_as "$KBT" POST /api/v1/threads -H 'Content-Type: application/json' --data-binary "@$STATE/kb-thread.json"
expect_eq "a long string elsewhere is still 400 invalid-json" "400 /problems/invalid-json" "$H_STATUS $(json_get type)"

# ---- limits and their problem types
kb_refused() { kb_post "$KBW" "$2"; expect_eq "$1" "$3" "$H_STATUS $(json_get type)"; }
printf '{"title":"Too large","content":"%sw"}' "$D3_BODY" >"$STATE/kb-over.json"
kb_refused "262145 bytes of content is 413 document-too-large" "@$STATE/kb-over.json" "413 /problems/document-too-large"
kb_refused "empty content is 422 invalid-content" '{"title":"Empty","content":""}' "422 /problems/invalid-content"
kb_refused "white space alone is 422 invalid-content" '{"title":"Blank","content":" \n\t "}' "422 /problems/invalid-content"
kb_refused "content that is not a string is 422" '{"title":"Number","content":7}' "422 /problems/invalid-content"
kb_refused "NUL in content is refused before the handler" '{"title":"Nul","content":"a\u0000b"}' "400 /problems/invalid-json"
kb_refused "an empty title is 422 invalid-title" '{"title":"","content":"x"}' "422 /problems/invalid-title"
kb_refused "a title over 200 bytes is 422" "{\"title\":\"$(printf 'x%.0s' $(seq 201))\",\"content\":\"x\"}" "422 /problems/invalid-title"
kb_refused "a title of 200 bytes is taken" "{\"title\":\"$(printf 'x%.0s' $(seq 200))\",\"content\":\"x\"}" "201 "
kb_refused "another format is 422 invalid-format" '{"title":"F","content":"x","format":"html"}' "422 /problems/invalid-format"
kb_refused "metadata not an object is 422" '{"title":"M","content":"x","metadata":[1]}' "422 /problems/invalid-metadata"
kb_refused "an unknown member is 400 invalid-body" '{"title":"U","content":"x","colour":"red"}' "400 /problems/invalid-body"
kb_refused "no title is 400 invalid-body" '{"content":"x"}' "400 /problems/invalid-body"
kb_as "$KBW" POST /api/v1/kb/documents -H 'Content-Type: text/markdown' --data-binary '# A heading'
expect_eq "a body that is not JSON is 415" "415 /problems/unsupported-media-type" "$H_STATUS $(json_get type)"
# The org caps, reached by documents put in directly: 1000 documents, 64 MiB.
psql_su -c "INSERT INTO kb_documents (org_id, title, format, content, chunks, created_by_kind)
	SELECT $KBORG2, 'filler ' || i, 'text', repeat('f', 67108), 1, 'system' FROM generate_series(1, 999) i" >/dev/null
kb_post "$KBO" '{"title":"Just fits","content":"The last place."}'
expect_eq "the 1000th document is taken" 201 "$H_STATUS"
kb_post "$KBO" '{"title":"One more","content":"No place left."}'
expect_eq "the 1001st is 409 too-many-documents" "409 /problems/too-many-documents" "$H_STATUS $(json_get type)"
psql_su -c "DELETE FROM kb_documents WHERE org_id = $KBORG2 AND title IN ('filler 1', 'filler 2')" >/dev/null
printf '{"title":"Over the bytes","content":"%s"}' "$D3_BODY" >"$STATE/kb-bytes.json"
kb_post "$KBO" "@$STATE/kb-bytes.json"
expect_eq "a document taking the org past 64 MiB is 413 kb-too-large" "413 /problems/kb-too-large" "$H_STATUS $(json_get type)"
kb_post "$KBO" '{"title":"Small","content":"Still fits."}'
expect_eq "a small one still fits" 201 "$H_STATUS"
psql_su -c "DELETE FROM kb_documents WHERE org_id = $KBORG2" >/dev/null

# ---- lists and pages
kb_as "$KBR" GET '/api/v1/kb/documents?limit=2'
expect_match "a page of two, newest first" "^\\{\"items\":\\[\\{\"id\":\"[0-9a-f-]{36}\",\"title\":\"x{200}\".*\\{\"id\":\"$D3\".*\\],\"next_cursor\":\"[0-9]+\"\\}$" "$H_BODY"
check "lists carry no content" test "${H_BODY/\"content\"/}" = "$H_BODY"
kb_as "$KBR" GET "/api/v1/kb/documents?limit=2&cursor=$(json_get next_cursor)"
expect_match "the next page goes on" "^\\{\"items\":\\[\\{\"id\":\"$D2\".*\\{\"id\":\"$D1\".*\\],\"next_cursor\":null\\}$" "$H_BODY"
kb_as "$KBR" GET '/api/v1/kb/documents?limit=0'
expect_eq "a bad limit is 400" "400 /problems/bad-limit" "$H_STATUS $(json_get type)"

# ---- tenants and scopes
kb_as "$KBO" GET "/api/v1/kb/documents/$D1"
expect_eq "another org's document is 404" 404 "$H_STATUS"
kb_as "$KBO" DELETE "/api/v1/kb/documents/$D1"
expect_eq "another org cannot delete it" 404 "$H_STATUS"
kb_as "$KBO" GET '/api/v1/kb/documents'
expect_eq "another org's list is empty" '{"items":[],"next_cursor":null}' "$H_BODY"
kb_as "$KBO" GET '/api/v1/kb/documents?q=rotating+keys'
expect_eq "another org's search finds nothing" '{"items":[],"next_cursor":null}' "$H_BODY"
kb_as "$KBW" GET /api/v1/kb/documents/not-a-uuid
expect_eq "an id that is not a UUID is 404" 404 "$H_STATUS"
kb_as "$KBN" GET /api/v1/kb/documents
expect_eq "without kb:read, 403" "403 /problems/missing-scope" "$H_STATUS $(json_get type)"
kb_post "$KBR" '{"title":"Reader","content":"x"}'
expect_eq "kb:read cannot write" "403 /problems/missing-scope" "$H_STATUS $(json_get type)"
kb_as "$KBR" DELETE "/api/v1/kb/documents/$D1"
expect_eq "nor delete" 403 "$H_STATUS"

# ---- search
kb_post "$KBW" '{"title":"Billing","content":"Invoices are sent monthly. Quotas reset each month; the rate limit is separate."}'
DB=$(kb_id)
kb_post "$KBW" '{"title":"Rate limits","content":"Each key has its own bucket, refilled every minute."}'
DR=$(kb_id)
kb_as "$KBR" GET '/api/v1/kb/documents?q=rate+limits'
expect_eq "a search is 200" 200 "$H_STATUS"
expect_match "the title match ranks above the body match" "^\\{\"items\":\\[\\{\"document_id\":\"$DR\",\"title\":\"Rate limits\",\"chunk\":0,\"content\":\"Each key has its own bucket, refilled every minute\\.\",\"rank\":0\\.[0-9]+,\"links\":\\{\"document\":\"/api/v1/kb/documents/$DR\"\\}\\},\\{\"document_id\":\"$DB\",.*\\],\"next_cursor\":null\\}$" "$H_BODY"
kb_as "$KBR" GET '/api/v1/kb/documents?q=%22last+event+id%22+-nothing'
expect_match "websearch syntax: a phrase, the Markdown chunk that has it" "^\\{\"items\":\\[\\{\"document_id\":\"$D2\",\"title\":\"Streaming guide\",\"chunk\":1," "$H_BODY"
kb_as "$KBR" GET '/api/v1/kb/documents?q=resumes&limit=1'
expect_eq "limit bounds the results" 1 "$(printf '%s' "$H_BODY" | grep -o '"document_id"' | wc -l)"
kb_as "$KBR" GET '/api/v1/kb/documents?q=the+and+of'
expect_eq "a stop-word query finds nothing" '200 {"items":[],"next_cursor":null}' "$H_STATUS $H_BODY"
kb_as "$KBR" GET '/api/v1/kb/documents?q='
expect_eq "an empty query finds nothing" '200 {"items":[],"next_cursor":null}' "$H_STATUS $H_BODY"
kb_as "$KBR" GET '/api/v1/kb/documents?q=x&limit=21'
expect_eq "with q, limit is at most 20" "400 /problems/bad-limit" "$H_STATUS $(json_get type)"
kb_as "$KBR" GET '/api/v1/kb/documents?q=x&cursor=5'
expect_eq "with q, no cursor" "400 /problems/bad-cursor" "$H_STATUS $(json_get type)"
kb_as "$KBR" GET "/api/v1/kb/documents?q=$(printf 'q%.0s' $(seq 1001))"
expect_eq "a query over 1000 bytes is 400 bad-q" "400 /problems/bad-q" "$H_STATUS $(json_get type)"
kb_as "$KBR" GET "/api/v1/kb/documents?q=%27%3B+DROP+TABLE+kb_chunks%3B+--+%26+%7C+%21+%3A*"
expect_eq "tsquery operators and quotes are only words" 200 "$H_STATUS"
# As the worker's role calls it: any org, by its id; no setting of the org needed.
expect_eq "kb_search as switchboard_app returns the document ids, best first" "$DR|$DB" \
	"$(kb_psql_app -c "SELECT document_id FROM kb_search($KBORG, 'rate limits', 5)" | tr '\n' '|' | sed 's/|$//')"
expect_eq "its columns" "Rate limits|0|t" \
	"$(kb_psql_app -F '|' -c "SELECT title, chunk, rank > 0 AND rank < 1 FROM kb_search($KBORG, 'rate limits', 1)")"
expect_eq "an empty or stop-word query: no rows, no error, no notice" "0|0|" \
	"$(kb_psql_app -c "SELECT count(*) FROM kb_search($KBORG, '', 5)" -c "SELECT count(*) FROM kb_search($KBORG, 'the a of', 5)" 2>&1 | tr '\n' '|')"
expect_eq "p_limit is held to 1..20" "1|2" \
	"$(kb_psql_app -c "SELECT count(*) FROM kb_search($KBORG, 'rate', 0)" -c "SELECT count(*) FROM kb_search($KBORG, 'rate', 500)" | tr '\n' '|' | sed 's/|$//')"
expect_eq "another org's id finds none of these" 0 "$(kb_psql_app -c "SELECT count(*) FROM kb_search($KBORG2, 'rate limits', 5)")"
expect_match "the app role cannot read the chunks without its org" "^0$" "$(kb_psql_app -c "SELECT count(*) FROM kb_chunks")"

# ---- deleting
kb_as "$KBW" DELETE "/api/v1/kb/documents/$D2"
expect_eq "a document is deleted: 204" 204 "$H_STATUS"
expect_eq "its chunks go with it" 0 "$(psql_su -c "SELECT count(*) FROM kb_chunks WHERE document_id = '$D2'")"
kb_as "$KBW" DELETE "/api/v1/kb/documents/$D2"
expect_eq "deleting it again is 404" 404 "$H_STATUS"
kb_as "$KBR" GET "/api/v1/kb/documents?q=resumes"
expect_eq "search no longer finds it" '{"items":[],"next_cursor":null}' "$H_BODY"
expect_eq "made and deleted documents are audited" "kb_document.created kb_document.deleted" \
	"$(psql_su -c "SELECT action FROM audit_log WHERE target = '$D2' ORDER BY id" | tr '\n' ' ' | sed 's/ $//')"

# ---- switchboardctl kb import
KBDIR=$STATE/kb-import
mkdir -p "$KBDIR"
printf '# Getting started\n\nCreate an org, then a key.\n' >"$KBDIR/start.md"
printf 'Plain notes about webhooks.\n' >"$KBDIR/webhook-notes.txt"
printf 'ignored\n' >"$KBDIR/other.json"
out=$($CTL kb import --org kbco "$KBDIR" 2>&1)
expect_eq "import: two documents" "2 imported, 0 unchanged in org kbco" "$out"
expect_eq "titles: the first heading, else the file name; formats by extension" \
	"Getting started|markdown|{\"source\": \"start.md\"};webhook-notes|text|{\"source\": \"webhook-notes.txt\"};" \
	"$(psql_su -F '|' -c "SELECT title, format, metadata FROM kb_documents WHERE org_id = $KBORG AND created_by_kind = 'system' ORDER BY title" | tr '\n' ';')"
KB_IDS=$(psql_su -c "SELECT string_agg(id::text, ',' ORDER BY title) FROM kb_documents WHERE org_id = $KBORG AND created_by_kind = 'system'")
out=$($CTL kb import --org kbco "$KBDIR" 2>&1)
expect_eq "import again: nothing changes" "0 imported, 2 unchanged in org kbco" "$out"
expect_eq "and the ids stay" "$KB_IDS" \
	"$(psql_su -c "SELECT string_agg(id::text, ',' ORDER BY title) FROM kb_documents WHERE org_id = $KBORG AND created_by_kind = 'system'")"
printf '# Getting started\n\nCreate an org, then a key, then an agent.\n' >"$KBDIR/start.md"
out=$($CTL kb import --org kbco "$KBDIR" 2>&1)
expect_eq "a changed file replaces its document" "1 imported, 1 unchanged in org kbco" "$out"
expect_eq "one document of that title, with the new text" "1|t" \
	"$(psql_su -F '|' -c "SELECT count(*), bool_and(content LIKE '%an agent.%') FROM kb_documents WHERE org_id = $KBORG AND title = 'Getting started'")"
kb_as "$KBR" GET '/api/v1/kb/documents?q=agent'
expect_match "imported documents are found" "\"title\":\"Getting started\"" "$H_BODY"
out=$($CTL kb import --org no-such-org "$KBDIR" 2>&1)
expect_eq "an unknown org fails" 1 "$?"
$CTL kb import "$KBDIR" >/dev/null 2>&1
expect_eq "--org is needed: usage" 2 "$?"
printf '\xff\xfe bad\n' >"$KBDIR/bad.txt"
out=$($CTL kb import --org kbco "$KBDIR" 2>&1)
st=$?
expect_eq "a file that is not UTF-8 fails the import, the others go on" "1" "$st"
expect_match "and is named" "bad.txt: not UTF-8" "$out"
# The demo knowledge base imports cleanly.
$CTL org add kbdemo >/dev/null
out=$($CTL kb import --org kbdemo "$SB_ROOT/conf/kb" 2>&1)
expect_match "conf/kb imports" "^[4-6] imported, 0 unchanged in org kbdemo$" "$out"
