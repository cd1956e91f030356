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
# ml_oa MODEL MESSAGES [MORE], ml_an ...: a body offering the tool search, in each shape.
ml_oa() { printf '{"model":"%s","messages":[%s],"tools":[{"type":"function","function":{"name":"search","parameters":{"type":"object"}}}]%s}' "$1" "$2" "${3:+,$3}"; }
ml_an() { printf '{"model":"%s","max_tokens":1000,"messages":[%s],"tools":[{"name":"search","input_schema":{"type":"object"}}]%s}' "$1" "$2" "${3:+,$3}"; }
# ml_ids FILE PREFIX: the distinct ids PREFIX_... in FILE, in order, on one line.
ml_ids() { grep -o "\"id\":\"${2}_[^\"]*\"" "$1" | sed 's/.*:"\(.*\)"/\1/' | awk '!s[$0]++' | tr '\n' ' '; }
# ml_calls oa|an ID...: an assistant turn calling search once per id, with the
# arguments the mock gives ({"q":"find two docs","n":i}), in that API's shape.
ml_calls() {
	local api=$1 i=0 sep= out='{"role":"assistant","content":null,"tool_calls":['
	shift
	[ "$api" = an ] && out='{"role":"assistant","content":['
	for id; do
		if [ "$api" = an ]; then
			out+="$sep"'{"type":"tool_use","id":"'"$id"'","name":"search","input":{"q":"find two docs","n":'"$i"'}}'
		else
			out+="$sep"'{"id":"'"$id"'","type":"function","function":{"name":"search","arguments":"{\"q\":\"find two docs\",\"n\":'"$i"'}"}}'
		fi
		sep=, i=$((i + 1))
	done
	printf '%s]}' "$out"
}
# ml_oa_results ID TEXT [ID TEXT...]: one tool message per call.
ml_oa_results() {
	local sep=
	while [ $# -ge 2 ]; do
		printf '%s{"role":"tool","tool_call_id":"%s","content":"%s"}' "$sep" "$1" "$2"
		sep=, && shift 2
	done
}
# ml_an_results TEXT ID RESULT [ID RESULT...]: one user message of tool_result blocks,
# then a text block when TEXT is not empty.
ml_an_results() {
	local text=$1 sep= out='{"role":"user","content":['
	shift
	while [ $# -ge 2 ]; do
		out+="$sep"'{"type":"tool_result","tool_use_id":"'"$1"'","content":"'"$2"'"}'
		sep=, && shift 2
	done
	[ -n "$text" ] && out+=',{"type":"text","text":"'"$text"'"}'
	printf '%s]}' "$out"
}
# ml_refused WHAT API MESSAGES REGEX: a body of MESSAGES is a 400 in the provider's
# error shape whose message matches REGEX.
ml_refused() {
	if [ "$2" = oa ]; then
		http POST "$LLM/v1/chat/completions" "${ML_OA[@]}" -d "$(ml_oa mock,tool=search "$3")"
		expect_match "mock-llm: openai refuses $1: 400" \
			"^400 \\{\"error\":\\{\"message\":\".*$4.*\",\"type\":\"invalid_request_error\"" "$H_STATUS $H_BODY"
	else
		http POST "$LLM/v1/messages" "${ML_AN[@]}" -d "$(ml_an mock,tool=search "$3")"
		expect_match "mock-llm: anthropic refuses $1: 400" \
			"^400 \\{\"type\":\"error\",\"error\":\\{\"type\":\"invalid_request_error\",\"message\":\".*$4" "$H_STATUS $H_BODY"
	fi
}
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

	# --- tool turns: calls=2,steps=2 calls two tools at once, twice, then answers text
	ML_M=mock,tool=search,calls=2,steps=2
	ML_Q='{"role":"user","content":"find two docs"}'
	ml_stream "$ML/oa-s1.sse" oa "$(ml_oa $ML_M "$ML_Q" '"stream":true,"stream_options":{"include_usage":true}')"
	read -r id0 id1 <<<"$(ml_ids "$ML/oa-s1.sse" call)"
	check "mock-llm: openai calls=2: two calls with ids of their own ($id0, $id1)" \
		test -n "$id1" -a "$id0" != "$id1"
	expect_eq "mock-llm: openai calls=2: at tool_calls indexes 0 and 1, the first chunk with the role" \
		'{"role":"assistant","content":null,"tool_calls":[{"index":0 {"tool_calls":[{"index":1' \
		"$(grep '"id":"call_' "$ML/oa-s1.sse" | grep -o '"delta":{[^[]*\[{"index":[0-9]*' | sed 's/^"delta"://' | tr '\n' ' ' | sed 's/ $//')"
	expect_eq "mock-llm: openai calls=2: the arguments say the question and n" \
		'{"q":"find two docs","n":0} {"q":"find two docs","n":1}' \
		"$(grep '"tool_calls":\[{"index":0' "$ML/oa-s1.sse" | ml_args /dev/stdin arguments) $(grep '"tool_calls":\[{"index":1' "$ML/oa-s1.sse" | ml_args /dev/stdin arguments)"
	expect_match "mock-llm: openai calls=2: finish_reason tool_calls, then usage" \
		'"finish_reason":"tool_calls".*"completion_tokens":[1-9]' "$(tr '\n' ' ' <"$ML/oa-s1.sse")"
	ML_A1=$(ml_calls oa "$id0" "$id1")
	ML_R1=$(ml_oa_results "$id0" "alpha one" "$id1" "beta two")
	http POST "$LLM/v1/chat/completions" "${ML_OA[@]}" -d "$(ml_oa $ML_M "$ML_Q,$ML_A1,$ML_R1")"
	expect_match "mock-llm: openai steps=2: after one tool-result turn it calls again (whole answer)" \
		'^200 .*"message":\{"role":"assistant","content":null,"tool_calls":\[\{"id":"call_[^"]+","type":"function","function":\{"name":"search","arguments":"\{\\"q\\":\\"find two docs\\",\\"n\\":0\}"\}\},\{"id":"call_[^"]+",.*"n\\":1\}"\}\}\]\}.*"finish_reason":"tool_calls"' \
		"$H_STATUS $H_BODY"
	read -r id2 id3 <<<"$(printf '%s' "$H_BODY" | ml_ids /dev/stdin call)"
	check "mock-llm: openai: the second turn's ids are new ($id2, $id3)" \
		test -n "$id3" -a "$id2" != "$id0" -a "$id2" != "$id3"
	ML_A2=$(ml_calls oa "$id2" "$id3")
	ML_R2=$(ml_oa_results "$id2" "gamma" "$id3" "delta three")
	http POST "$LLM/v1/chat/completions" "${ML_OA[@]}" -d "$(ml_oa $ML_M "$ML_Q,$ML_A1,$ML_R1,$ML_A2,$ML_R2")"
	expect_match "mock-llm: openai steps=2: after two, the text echoes the last turn's results in order" \
		'^200 .*"content":"Echo: gamma delta three".*"finish_reason":"stop"' "$H_STATUS $H_BODY"
	# 3 words asked, 2 x 2 calls of 3 words each (the arguments as JSON text), 7 words of results.
	expect_match "mock-llm: openai: prompt tokens count the arguments and the results" \
		'"prompt_tokens":22,' "$H_BODY"
	ml_stream "$ML/oa-s1b.sse" oa "$(ml_oa mock,tool=search "$ML_Q,$(ml_calls oa c1),$(ml_oa_results c1 'the result')" '"stream":true')"
	expect_eq "mock-llm: openai steps=1: one tool-result turn, then the text" "Echo: the result" "$(ml_text "$ML/oa-s1b.sse")"

	ml_stream "$ML/an-s1.sse" an "$(ml_an $ML_M "$ML_Q" '"stream":true')"
	read -r t0 t1 <<<"$(ml_ids "$ML/an-s1.sse" toolu)"
	check "mock-llm: anthropic calls=2: two tool_use blocks with ids of their own ($t0, $t1)" \
		test -n "$t1" -a "$t0" != "$t1"
	expect_eq "mock-llm: anthropic calls=2: the events of two blocks" \
		"message_start content_block_start ping content_block_delta content_block_delta content_block_delta content_block_delta content_block_stop content_block_start content_block_delta content_block_delta content_block_delta content_block_delta content_block_stop message_delta message_stop" \
		"$(sed -n 's/^event: //p' "$ML/an-s1.sse" | tr '\n' ' ' | sed 's/ $//')"
	expect_eq "mock-llm: anthropic calls=2: blocks 0 and 1 hold the question and n" \
		'{"q":"find two docs","n":0} {"q":"find two docs","n":1}' \
		"$(grep '"index":0,"delta"' "$ML/an-s1.sse" | ml_args /dev/stdin partial_json) $(grep '"index":1,"delta"' "$ML/an-s1.sse" | ml_args /dev/stdin partial_json)"
	ML_A1=$(ml_calls an "$t0" "$t1")
	ML_R1=$(ml_an_results "" "$t0" "alpha one" "$t1" "beta two")
	http POST "$LLM/v1/messages" "${ML_AN[@]}" -d "$(ml_an $ML_M "$ML_Q,$ML_A1,$ML_R1")"
	expect_match "mock-llm: anthropic steps=2: after one tool-result turn it calls again (whole answer)" \
		'^200 .*"content":\[\{"type":"tool_use","id":"toolu_[^"]+","name":"search","input":\{"q":"find two docs","n":0\}\},\{"type":"tool_use","id":"toolu_[^"]+","name":"search","input":\{"q":"find two docs","n":1\}\}\],"stop_reason":"tool_use"' \
		"$H_STATUS $H_BODY"
	read -r t2 t3 <<<"$(printf '%s' "$H_BODY" | ml_ids /dev/stdin toolu)"
	ML_A2=$(ml_calls an "$t2" "$t3")
	ML_R2=$(ml_an_results "" "$t2" "gamma" "$t3" "delta three")
	ml_stream "$ML/an-s3.sse" an "$(ml_an $ML_M "$ML_Q,$ML_A1,$ML_R1,$ML_A2,$ML_R2" '"stream":true')"
	expect_eq "mock-llm: anthropic steps=2: after two, the text echoes the last turn's results in order" \
		"Echo: gamma delta three end_turn" \
		"$(ml_an_text "$ML/an-s3.sse") $(sed -n 's/.*"stop_reason":"\([a-z_]*\)".*/\1/p' "$ML/an-s3.sse")"
	expect_match "mock-llm: anthropic: input tokens count the inputs and the results" \
		'"input_tokens":22,' "$(grep -m1 '^data:' "$ML/an-s3.sse")"
	http POST "$LLM/v1/messages" "${ML_AN[@]}" \
		-d "$(ml_an $ML_M "$ML_Q,$ML_A1,$(ml_an_results 'and now?' "$t0" "alpha one" "$t1" "beta two")")"
	expect_match "mock-llm: anthropic: a question after the results, in their message, is asked anew" \
		'^200 .*"input":\{"q":"and now\?","n":0\}.*"stop_reason":"tool_use"' "$H_STATUS $H_BODY"

	# --- arg=: the question under another key
	ml_stream "$ML/oa-arg.sse" oa "$(ml_oa mock,tool=search,arg=url "$ML_Q" '"stream":true')"
	expect_eq "mock-llm: openai arg=url: the question goes in url" '{"url":"find two docs"}' \
		"$(ml_args "$ML/oa-arg.sse" arguments)"
	http POST "$LLM/v1/messages" "${ML_AN[@]}" -d "$(ml_an mock,tool=search,arg=url "$ML_Q")"
	expect_match "mock-llm: anthropic arg=url: the question goes in url" '"input":\{"url":"find two docs"\}' "$H_BODY"
	http POST "$LLM/v1/messages" "${ML_AN[@]}" -d "$(ml_an mock,tool=search,arg=url,calls=2 "$ML_Q")"
	expect_match "mock-llm: arg=url with calls=2: two calls, the url alone in each (no n)" \
		'"input":\{"url":"find two docs"\}.*"input":\{"url":"find two docs"\}' "$H_BODY"
	http POST "$LLM/v1/messages" "${ML_AN[@]}" -d "$(ml_an 'mock,tool=search,arg=*' '{"role":"user","content":"{\"url\": \"u\", \"n\": 2}"}')"
	expect_match "mock-llm: arg=*: the question is the arguments" '"input":\{"url":"u","n":2\}' "$H_BODY"
	http POST "$LLM/v1/chat/completions" "${ML_OA[@]}" -d "$(ml_oa mock,tool=search,arg=URL "$ML_Q")"
	expect_match "mock-llm: arg= takes [a-z_] only" '^400 .*unknown mock directive' "$H_STATUS $H_BODY"
	http POST "$LLM/v1/chat/completions" "${ML_OA[@]}" -d "$(ml_oa mock,tool=search,calls=17 "$ML_Q")"
	expect_match "mock-llm: calls= is 1 to 16" '^400 .*calls must be an integer from 1 to 16' "$H_STATUS $H_BODY"
	http POST "$LLM/v1/chat/completions" "${ML_OA[@]}" -d "$(ml_oa mock,tool=search,steps=51 "$ML_Q")"
	expect_match "mock-llm: steps= is 1 to 50" '^400 .*steps must be an integer from 1 to 50' "$H_STATUS $H_BODY"

	# --- tool turns the providers refuse, refused alike
	C1='{"id":"c1","type":"function","function":{"name":"search","arguments":"{}"}}'
	ml_refused "a result of no call of the assistant before it" oa \
		"$ML_Q,$(ml_calls oa c1),$(ml_oa_results c1 r c2 r)" 'messages\[3\]: tool_call_id c2 is not a tool call of the nearest assistant message before it'
	ml_refused "a result with no assistant before it" oa \
		"$ML_Q,$(ml_oa_results c1 r)" 'messages\[1\]: tool_call_id c1 is not a tool call'
	ml_refused "a call not answered before the next user message" oa \
		"$ML_Q,$(ml_calls oa c1 c2),$(ml_oa_results c1 r),$ML_Q" "messages\[1\]: an assistant message with 'tool_calls' must be followed by tool messages .*none answers c2"
	ml_refused "a call not answered at the end" oa \
		"$ML_Q,$(ml_calls oa c1)" 'none answers c1'
	ml_refused "a call without an id" oa \
		"$ML_Q,"'{"role":"assistant","content":null,"tool_calls":[{"type":"function","function":{"name":"search","arguments":"{}"}}]}' \
		"Missing or invalid parameter: 'messages\[1\]\.tool_calls\[0\]\.id'"
	ml_refused "a call of another type than function" oa \
		"$ML_Q,"'{"role":"assistant","content":null,"tool_calls":['"$C1"',{"id":"c2","type":"tool","function":{"name":"search","arguments":"{}"}}]}' \
		"'messages\[1\]\.tool_calls\[1\]\.type'"
	ml_refused "a call without function.name" oa \
		"$ML_Q,"'{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"arguments":"{}"}}]}' \
		"'messages\[1\]\.tool_calls\[0\]\.function\.name'"
	ml_refused "a call whose arguments are not a string" oa \
		"$ML_Q,"'{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"search","arguments":{"q":"x"}}}]}' \
		"'messages\[1\]\.tool_calls\[0\]\.function\.arguments'"
	ml_refused "a result whose content is not a string" oa \
		"$ML_Q,$(ml_calls oa c1),"'{"role":"tool","tool_call_id":"c1","content":[{"type":"text","text":"r"}]}' \
		'messages\[2\]\.content: the content of a tool message must be a string'

	ml_refused "two user messages in a row" an "$ML_Q,$ML_Q" 'messages\.1: roles must alternate between \\"user\\" and \\"assistant\\", starting with \\"user\\"'
	ml_refused "an assistant message first" an '{"role":"assistant","content":"hi"},'"$ML_Q" 'messages\.0: roles must alternate'
	ml_refused "a tool_result of no tool_use of the message before" an \
		"$ML_Q,$(ml_calls an u1),$(ml_an_results '' u1 r u2 r)" \
		'messages\.2\.content\.1: unexpected tool_use_id found in tool_result blocks: u2\. Each tool_result block must have a corresponding tool_use block in the previous message'
	ml_refused "a tool_use not answered in the next message" an \
		"$ML_Q,$(ml_calls an u1 u2),$(ml_an_results '' u1 r)" \
		'messages\.1: tool_use ids were found without tool_result blocks immediately after: u2\. Each tool_use block must have a corresponding tool_result block in the next message'
	ml_refused "a tool_use in the last message" an "$ML_Q,$(ml_calls an u1)" 'immediately after: u1'
	ml_refused "a tool_use without an id" an \
		"$ML_Q,"'{"role":"assistant","content":[{"type":"tool_use","name":"search","input":{}}]}' \
		'messages\.1\.content\.0: a tool_use block needs an id, a name and an object input'
	ml_refused "a tool_use without a name" an \
		"$ML_Q,"'{"role":"assistant","content":[{"type":"text","text":"x"},{"type":"tool_use","id":"u1","input":{}}]}' \
		'messages\.1\.content\.1: a tool_use block needs an id, a name and an object input'
	ml_refused "a tool_use whose input is not an object" an \
		"$ML_Q,"'{"role":"assistant","content":[{"type":"tool_use","id":"u1","name":"search","input":"q"}]}' \
		'messages\.1\.content\.0: a tool_use block needs an id, a name and an object input'
	ml_refused "a tool_result after a text block" an \
		"$ML_Q,$(ml_calls an u1),"'{"role":"user","content":[{"type":"text","text":"x"},{"type":"tool_result","tool_use_id":"u1","content":"r"}]}' \
		'messages\.2\.content\.1: tool_result blocks must come first'

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
