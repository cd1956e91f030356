# t_mock_llm.sh: sb-mock-llm (tests/mock/llm.c), the LLM provider double: OpenAI's and
# Anthropic's wire formats, whole and streamed, the scripts in the model name, many streams.

ML=$STATE/mock-llm
mkdir -p "$ML"
sb_free_port LLM_PORT
LLM=http://127.0.0.1:$LLM_PORT
ML_TAG="$$-$RANDOM"

# ml_body MODEL TEXT [MORE]: a request body; MORE is more JSON members (",..." not needed).
ml_body() { printf '{"model":"%s","max_tokens":1000,"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"%s"}]%s}' "$1" "$2" "${3:+,$3}"; }
# ml_an_body MODEL TEXT [MORE]: the same in Anthropic's shape (the system prompt apart).
ml_an_body() { printf '{"model":"%s","max_tokens":1000,"system":"be brief","messages":[{"role":"user","content":"%s"}]%s}' "$1" "$2" "${3:+,$3}"; }
ML_OA=(-H 'Authorization: Bearer test-key' -H 'Content-Type: application/json')
ML_AN=(-H 'x-api-key: test-key' -H 'anthropic-version: 2023-06-01' -H 'Content-Type: application/json')
# ml_stream FILE API BODY [curl args]: a stream into FILE; ML_RC is curl's exit status.
ml_stream() {
	local file=$1 api=$2 body=$3 url=$LLM/v1/chat/completions hdr=("${ML_OA[@]}")
	shift 3
	[ "$api" = an ] && { url=$LLM/v1/messages; hdr=("${ML_AN[@]}"); }
	ML_RC=0
	curl -sS -N --max-time 20 "${hdr[@]}" -d "$body" -o "$file" "$@" "$url" 2>"$file.err" || ML_RC=$?
}
# ml_text FILE: the OpenAI content pieces of a stream, concatenated.
ml_text() { sed -n 's/^data: .*"delta":{"content":"\([^"]*\)"}.*/\1/p' "$1" | tr -d '\n'; }
# ml_an_text FILE: the Anthropic text deltas of a stream, concatenated.
ml_an_text() { sed -n 's/^data: .*"delta":{"type":"text_delta","text":"\([^"]*\)"}.*/\1/p' "$1" | tr -d '\n'; }
# ml_args FILE KEY: the pieces of a streamed tool call's JSON arguments, unescaped.
ml_args() { sed -nE "s/^data: .*\"$2\":\"((\\\\.|[^\"\\\\])*)\".*/\\1/p" "$1" | tr -d '\n' | sed 's/\\"/"/g'; }
ml_secs() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

(cd "$SB_BUILD" && make sb-mock-llm) >"$ML/build.log" 2>&1
if ! sb_spawn sb-mock-llm "$ML/llm.pid" "$ML/llm.log" "curl -sS -o /dev/null $LLM/" 10 \
	"$SB_BUILD/sb-mock-llm" "$LLM_PORT"; then
	fail "mock-llm: sb-mock-llm starts" "see $ML/build.log and $ML/llm.log"
else
	# --- OpenAI, whole
	http POST "$LLM/v1/chat/completions" "${ML_OA[@]}" -d "$(ml_body mock 'hello big  world')"
	expect_eq "mock-llm: openai whole: 200" 200 "$H_STATUS"
	expect_match "mock-llm: openai whole: a chat.completion echoing the last user message" \
		'"object":"chat.completion".*"message":\{"role":"assistant","content":"Echo: hello big world"' "$H_BODY"
	expect_match "mock-llm: openai whole: usage counts words in, tokens out" \
		'"usage":\{"prompt_tokens":5,"completion_tokens":4,"total_tokens":9\}' "$H_BODY"
	expect_match "mock-llm: openai whole: finish_reason stop" '"finish_reason":"stop"' "$H_BODY"
	http POST "$LLM/v1/chat/completions" "${ML_OA[@]}" \
		-d '{"model":"mock,tokens=5","max_tokens":3,"messages":[{"role":"user","content":"a b c d e f g"}]}'
	expect_match "mock-llm: openai whole: max_tokens cuts the reply (finish_reason length)" \
		'"content":"Echo: a b".*"finish_reason":"length".*"completion_tokens":3' "$H_BODY"

	# --- OpenAI, streamed
	ml_stream "$ML/oa.sse" oa "$(ml_body mock 'hello stream world' '"stream":true,"stream_options":{"include_usage":true}')" -D "$ML/oa.head"
	expect_eq "mock-llm: openai stream: curl ok" 0 "$ML_RC"
	expect_match "mock-llm: openai stream: text/event-stream, chunked" \
		'content-type: text/event-stream.*transfer-encoding: chunked' "$(tr -d '\r' <"$ML/oa.head" | tr 'A-Z\n' 'a-z ')"
	expect_eq "mock-llm: openai stream: the pieces make the text" "Echo: hello stream world" "$(ml_text "$ML/oa.sse")"
	expect_match "mock-llm: openai stream: the first chunk says the role" '"delta":\{"role":"assistant"' \
		"$(grep -m1 '^data:' "$ML/oa.sse")"
	expect_eq "mock-llm: openai stream: 4 content chunks" 4 "$(grep -c '"delta":{"content":' "$ML/oa.sse")"
	expect_match "mock-llm: openai stream: then finish_reason stop" '"delta":\{\}.*"finish_reason":"stop"' \
		"$(grep '^data:' "$ML/oa.sse" | tail -n 3 | head -n 1)"
	expect_match "mock-llm: openai stream: then a usage chunk with no choices" \
		'"choices":\[\],"usage":\{"prompt_tokens":5,"completion_tokens":4,"total_tokens":9\}' \
		"$(grep '^data:' "$ML/oa.sse" | tail -n 2 | head -n 1)"
	expect_eq "mock-llm: openai stream: ends with [DONE]" "data: [DONE]" "$(grep '^data:' "$ML/oa.sse" | tail -n 1)"
	ml_stream "$ML/oa-nousage.sse" oa "$(ml_body mock 'hello stream world' '"stream":true')"
	expect_eq "mock-llm: openai stream: no usage chunk without include_usage" "0 Echo: hello stream world data: [DONE]" \
		"$(grep -c '"usage"' "$ML/oa-nousage.sse") $(ml_text "$ML/oa-nousage.sse") $(grep '^data:' "$ML/oa-nousage.sse" | tail -n 1)"

	# --- OpenAI tool calls
	ml_stream "$ML/oa-tool.sse" oa "$(ml_body mock,tool=search 'find the docs' \
		'"stream":true,"tools":[{"type":"function","function":{"name":"search","parameters":{"type":"object"}}}]')"
	expect_match "mock-llm: openai tool stream: the call's name and id come first" \
		'"tool_calls":\[\{"index":0,"id":"call_[^"]+","type":"function","function":\{"name":"search","arguments":""\}' \
		"$(grep -m1 '^data:' "$ML/oa-tool.sse")"
	expect_eq "mock-llm: openai tool stream: the argument pieces make the JSON" '{"q":"find the docs"}' \
		"$(grep -v '"name":' "$ML/oa-tool.sse" | ml_args /dev/stdin arguments)"
	check "mock-llm: openai tool stream: in several pieces" \
		test "$(grep -c '"function":{"arguments":' "$ML/oa-tool.sse")" -ge 2
	expect_match "mock-llm: openai tool stream: finish_reason tool_calls, then [DONE]" \
		'"finish_reason":"tool_calls".*data: \[DONE\]' "$(tr '\n' ' ' <"$ML/oa-tool.sse")"
	ml_stream "$ML/oa-notool.sse" oa "$(ml_body mock,tool=search 'no tools offered' '"stream":true')"
	expect_eq "mock-llm: openai: tool= with no such tool offered answers text" "Echo: no tools offered" "$(ml_text "$ML/oa-notool.sse")"

	# --- Anthropic
	ml_stream "$ML/an.sse" an "$(ml_an_body mock 'hello anthropic world' '"stream":true')"
	expect_eq "mock-llm: anthropic stream: the event sequence" \
		"message_start content_block_start ping content_block_delta content_block_delta content_block_delta content_block_delta content_block_stop message_delta message_stop" \
		"$(sed -n 's/^event: //p' "$ML/an.sse" | tr '\n' ' ' | sed 's/ $//')"
	expect_eq "mock-llm: anthropic stream: the deltas make the text" "Echo: hello anthropic world" "$(ml_an_text "$ML/an.sse")"
	expect_match "mock-llm: anthropic stream: message_start carries input_tokens" '"usage":\{"input_tokens":5,' \
		"$(grep -m1 '^data:' "$ML/an.sse")"
	expect_match "mock-llm: anthropic stream: message_delta has end_turn and output_tokens" \
		'"delta":\{"stop_reason":"end_turn","stop_sequence":null\},"usage":\{"output_tokens":4\}' \
		"$(grep '"type":"message_delta"' "$ML/an.sse")"
	ml_stream "$ML/an-tool.sse" an "$(ml_an_body mock,tool=lookup 'the weather' \
		'"stream":true,"tools":[{"name":"lookup","input_schema":{"type":"object"}}]')"
	expect_match "mock-llm: anthropic tool stream: a tool_use block" \
		'"content_block":\{"type":"tool_use","id":"toolu_[^"]+","name":"lookup","input":\{\}\}' "$(cat "$ML/an-tool.sse")"
	expect_eq "mock-llm: anthropic tool stream: partial_json pieces make the input" '{"q":"the weather"}' \
		"$(ml_args "$ML/an-tool.sse" partial_json)"
	expect_match "mock-llm: anthropic tool stream: stop_reason tool_use" '"stop_reason":"tool_use"' "$(cat "$ML/an-tool.sse")"
	http POST "$LLM/v1/messages" "${ML_AN[@]}" -d "$(ml_an_body mock 'whole message')"
	expect_match "mock-llm: anthropic whole: a message object" \
		'^\{"id":"msg_[^"]+","type":"message","role":"assistant","model":"mock","content":\[\{"type":"text","text":"Echo: whole message"\}\],"stop_reason":"end_turn","stop_sequence":null,"usage":\{"input_tokens":4,"output_tokens":3\}\}$' "$H_BODY"

	# --- credentials and errors, each in its provider's shape
	http POST "$LLM/v1/chat/completions" -d "$(ml_body mock hi)"
	expect_eq "mock-llm: openai without a bearer: 401" 401 "$H_STATUS"
	expect_match "mock-llm: openai 401: OpenAI's error shape" \
		'^\{"error":\{"message":"[^"]+","type":"invalid_request_error","param":null,"code":"invalid_api_key"\}\}$' "$H_BODY"
	http POST "$LLM/v1/chat/completions" -H 'Authorization: Bearer ' -d "$(ml_body mock hi)"
	expect_eq "mock-llm: openai with an empty bearer: 401" 401 "$H_STATUS"
	http POST "$LLM/v1/messages" -H 'anthropic-version: 2023-06-01' -d "$(ml_an_body mock hi)"
	expect_eq "mock-llm: anthropic without x-api-key: 401" 401 "$H_STATUS"
	expect_match "mock-llm: anthropic 401: Anthropic's error shape" \
		'^\{"type":"error","error":\{"type":"authentication_error","message":"[^"]+"\}\}$' "$H_BODY"
	http POST "$LLM/v1/messages" -H 'x-api-key: k' -d "$(ml_an_body mock hi)"
	expect_eq "mock-llm: anthropic without anthropic-version: 400" "400 invalid_request_error" "$H_STATUS $(printf '%s' "$H_BODY" | sed -n 's/.*"error":{"type":"\([^"]*\)".*/\1/p')"
	http POST "$LLM/v1/chat/completions" "${ML_OA[@]}" -d "$(ml_body mock,status=429,retry_after=3 hi)"
	expect_eq "mock-llm: openai status=429,retry_after=3: 429 with Retry-After 3" "429 3" "$H_STATUS $(header retry-after)"
	expect_match "mock-llm: openai 429: rate_limit_exceeded" '^\{"error":\{"message":"[^"]+","type":"requests","param":null,"code":"rate_limit_exceeded"\}\}$' "$H_BODY"
	http POST "$LLM/v1/messages" "${ML_AN[@]}" -d "$(ml_an_body mock,status=429,retry_after=7 hi)"
	expect_eq "mock-llm: anthropic 429: Retry-After and rate_limit_error" "429 7 rate_limit_error" \
		"$H_STATUS $(header retry-after) $(printf '%s' "$H_BODY" | sed -n 's/.*"error":{"type":"\([^"]*\)".*/\1/p')"
	http POST "$LLM/v1/chat/completions" "${ML_OA[@]}" -d "$(ml_body mock,status=500 hi '"stream":true')"
	expect_eq "mock-llm: openai status=500 (even streaming): a JSON server_error" "500 server_error" \
		"$H_STATUS $(printf '%s' "$H_BODY" | sed -n 's/.*"type":"\([^"]*\)".*/\1/p')"
	expect_eq "mock-llm: and no Retry-After unless asked" "" "$(header retry-after)"
	http POST "$LLM/v1/messages" "${ML_AN[@]}" -d "$(ml_an_body mock,status=529 hi)"
	expect_eq "mock-llm: anthropic status=529: overloaded_error" "529 overloaded_error" \
		"$H_STATUS $(printf '%s' "$H_BODY" | sed -n 's/.*"error":{"type":"\([^"]*\)".*/\1/p')"
	http POST "$LLM/v1/chat/completions" "${ML_OA[@]}" -d "$(ml_body gpt-4o hi)"
	expect_eq "mock-llm: a model that is not mock: 404" 404 "$H_STATUS"
	http POST "$LLM/v1/chat/completions" "${ML_OA[@]}" -d "$(ml_body mock,bogus=1 hi)"
	expect_match "mock-llm: an unknown directive: 400 naming it" '^400 .*unknown mock directive' "$H_STATUS $H_BODY"
	http POST "$LLM/v1/chat/completions" "${ML_OA[@]}" -d '{"model":"mock","messages":'
	expect_eq "mock-llm: a body that is not JSON: 400" 400 "$H_STATUS"

	# --- timing
	t=$(curl -sS -N --max-time 20 "${ML_OA[@]}" -o "$ML/pace.sse" -w '%{time_total}' \
		-d "$(ml_body mock,pace=20,tokens=10 'paced' '"stream":true')" "$LLM/v1/chat/completions")
	check "mock-llm: pace=20: 10 tokens take 0.3 to 2 s (took $t)" ml_secs "$t" 0.3
	check "mock-llm: pace=20: not over 2 s" ml_secs 2 "$t"
	expect_eq "mock-llm: pace=20,tokens=10: exactly 10 tokens" 10 "$(grep -c '"delta":{"content":' "$ML/pace.sse")"
	t=$(curl -sS --max-time 20 "${ML_OA[@]}" -o /dev/null -w '%{time_starttransfer}' \
		-d "$(ml_body mock,delay=1000 'delayed')" "$LLM/v1/chat/completions")
	check "mock-llm: delay=1000: the first byte after 0.9 to 3 s (took $t)" ml_secs "$t" 0.9
	check "mock-llm: delay=1000: not over 3 s" ml_secs 3 "$t"

	# --- broken streams
	ml_stream "$ML/disc.sse" oa "$(ml_body mock,disconnect=5,tokens=20 'cut short' '"stream":true')"
	check "mock-llm: disconnect=5: curl reports the cut (exit $ML_RC)" test "$ML_RC" -ne 0
	expect_eq "mock-llm: disconnect=5: 5 tokens and no [DONE]" "5 0" \
		"$(grep -c '"delta":{"content":' "$ML/disc.sse") $(grep -c '\[DONE\]' "$ML/disc.sse")"
	ml_stream "$ML/an-disc.sse" an "$(ml_an_body mock,disconnect=2 'cut short here' '"stream":true')"
	expect_eq "mock-llm: anthropic disconnect=2: 2 deltas, no message_stop" "2 0" \
		"$(grep -c '^event: content_block_delta' "$ML/an-disc.sse") $(grep -c message_stop "$ML/an-disc.sse")"
	ml_stream "$ML/bad.sse" oa "$(ml_body mock,malformed 'one two three four' '"stream":true')"
	expect_eq "mock-llm: malformed: one data line of broken JSON" 1 \
		"$(grep '^data: ' "$ML/bad.sse" | grep -v -e '}$' -e '^data: \[DONE\]$' | grep -c .)"
	expect_eq "mock-llm: malformed: the rest still arrives" "Echo: one two three four data: [DONE]" \
		"$(ml_text "$ML/bad.sse") $(grep '^data:' "$ML/bad.sse" | tail -n 1)"
	ml_stream "$ML/hang.sse" oa "$(ml_body mock,hang 'wait forever' '"stream":true')" --max-time 2 -D "$ML/hang.head"
	expect_eq "mock-llm: hang: curl --max-time 2 times out (28)" 28 "$ML_RC"
	expect_eq "mock-llm: hang: having had the head and no event" "HTTP/1.1 200 OK 0" \
		"$(head -n 1 "$ML/hang.head" | tr -d '\r') $(cat "$ML/hang.sse" 2>/dev/null | grep -c '^data:')"

	# --- times=: the same conversation fails twice, then succeeds
	got=
	for i in 1 2 3; do
		http POST "$LLM/v1/chat/completions" "${ML_OA[@]}" -d "$(ml_body mock,status=500,times=2 "retry me $ML_TAG")"
		got="$got $H_STATUS"
	done
	expect_eq "mock-llm: status=500,times=2: 500, 500, then 200" " 500 500 200" "$got"
	http POST "$LLM/v1/chat/completions" "${ML_OA[@]}" -d "$(ml_body mock,status=500,times=2 "another conversation $ML_TAG")"
	expect_eq "mock-llm: times= counts each conversation apart" 500 "$H_STATUS"

	# --- many streams at once
	ML_N=300
	body=$(ml_body mock,pace=20,tokens=20 'many' '"stream":true,"stream_options":{"include_usage":true}')
	pids=()
	t0=$(date +%s.%N)
	for i in $(seq 1 $ML_N); do
		curl -sS -N --max-time 30 "${ML_OA[@]}" -d "$body" -o "$ML/many.$i" "$LLM/v1/chat/completions" 2>/dev/null &
		pids+=($!)
	done
	wait "${pids[@]}"
	t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	want="Echo:$(printf ' many%.0s' $(seq 1 19))"
	ok=0
	for i in $(seq 1 $ML_N); do
		[ "$(ml_text "$ML/many.$i")" = "$want" ] && grep -q '"completion_tokens":20' "$ML/many.$i" &&
			grep -q '^data: \[DONE\]' "$ML/many.$i" && ok=$((ok + 1))
		rm -f "$ML/many.$i" "$ML/many.$i.err"
	done
	expect_eq "mock-llm: $ML_N concurrent streams of 20 tokens at pace=20 all complete" "$ML_N" "$ok"
	check "mock-llm: within 25 s (took $t s)" ml_secs 25 "$t"
	check "mock-llm: still answering" curl -fsS -o /dev/null "${ML_OA[@]}" -d "$(ml_body mock hi)" "$LLM/v1/chat/completions"
	expect_match "mock-llm: one log line per request" 'POST /v1/chat/completions mock,pace=20,tokens=20 stream -> 200' "$(cat "$ML/llm.log")"
fi
sb_stop_pidfile "$ML/llm.pid" 5
check "mock-llm: SIGTERM: a clean exit" grep -q 'sb-mock-llm: stopped' "$ML/llm.log"
