/* test_context.c: a thread's messages trimmed to an agent's budget (worker/context.c):
 * the newest kept, the oldest dropped whole, a kept context that starts with a user
 * turn, the new message always last, roles as the wire has them. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "worker/context.h"
#include "worker/worker.h"
#include "tests/unit/unit.h"

/* "role:content|role:content|..." of a message array, for one comparison. */
static char *
shape(json_t *msgs)
{
	static char	 s[4096];
	json_t		*m;
	size_t		 i, n = 0;

	s[0] = '\0';
	json_array_foreach(msgs, i, m)
		n += (size_t)snprintf(s + n, sizeof(s) - n, "%s%s:%s", i > 0 ? "|" : "",
		    json_string_value(json_object_get(m, "role")),
		    json_string_value(json_object_get(m, "content")));
	return s;
}

/* A thread of turns: "u1", "a1", "u2", "a2", ... each content 8 bytes (2 tokens). */
static json_t *
thread(int turns)
{
	json_t	*t = json_array();
	char	 c[16];
	int	 i;

	for (i = 1; i <= turns; i++) {
		snprintf(c, sizeof(c), "user%04d", i);
		json_array_append_new(t, json_pack("{s:s, s:s}", "role", "user", "content", c));
		snprintf(c, sizeof(c), "asst%04d", i);
		json_array_append_new(t, json_pack("{s:s, s:s}", "role", "assistant", "content", c));
	}
	return t;
}

static void
test_context_tokens(void)
{
	UNIT_ASSERT_INT(context_tokens(0), 0);
	UNIT_ASSERT_INT(context_tokens(1), 1);
	UNIT_ASSERT_INT(context_tokens(4), 1);
	UNIT_ASSERT_INT(context_tokens(5), 2);
	UNIT_ASSERT_INT(context_tokens(4000), 1000);
}

static void
test_context_none(void)
{
	json_t *m = context_messages(NULL, "hello", 8000, 1), *empty = json_array();

	UNIT_ASSERT_STR(shape(m), "user:hello");
	json_decref(m);
	/* An empty thread is no different. */
	m = context_messages(empty, "hello", 8000, 1);
	UNIT_ASSERT_STR(shape(m), "user:hello");
	json_decref(m);
	json_decref(empty);
}

static void
test_context_all_fit(void)
{
	json_t *t = thread(2), *m = context_messages(t, "next", 8000, 1);

	UNIT_ASSERT_STR(shape(m), "user:user0001|assistant:asst0001|user:user0002|"
	    "assistant:asst0002|user:next");
	json_decref(m);
	json_decref(t);
}

static void
test_context_oldest_dropped(void)
{
	json_t *t = thread(3), *m;

	/* "next" is 1 token; each message 2: a budget of 9 keeps the newest four. */
	m = context_messages(t, "next", 9, 1);
	UNIT_ASSERT_STR(shape(m), "user:user0002|assistant:asst0002|user:user0003|"
	    "assistant:asst0003|user:next");
	json_decref(m);
	/* 8 would keep asst0002 and turn 3: the answer whose question went is dropped too. */
	m = context_messages(t, "next", 8, 1);
	UNIT_ASSERT_STR(shape(m), "user:user0003|assistant:asst0003|user:next");
	json_decref(m);
	/* Nothing fits beside the new message: it goes alone, over the budget or not. */
	m = context_messages(t, "a new message far longer than the budget", 2, 1);
	UNIT_ASSERT_STR(shape(m), "user:a new message far longer than the budget");
	json_decref(m);
	json_decref(t);
}

static void
test_context_roles(void)
{
	json_t *t = json_array(), *m;

	json_array_append_new(t, json_pack("{s:s, s:s}", "role", "tool", "content", "orphan"));
	json_array_append_new(t, json_pack("{s:s, s:s}", "role", "user", "content", "q"));
	json_array_append_new(t, json_pack("{s:s, s:s}", "role", "assistant", "content", "ask"));
	json_array_append_new(t, json_pack("{s:s, s:s}", "role", "human", "content", "yes"));
	json_array_append_new(t, json_pack("{s:s}", "role", "user"));	/* no content */
	m = context_messages(t, "go", 8000, 1);
	/* The leading tool result has no question: dropped; a person's answer is a user
	 * turn on the wire; a message without content is skipped. */
	UNIT_ASSERT_STR(shape(m), "user:q|assistant:ask|user:yes|user:go");
	json_decref(m);
	json_decref(t);
}

/* A turn with a tool call, as sql/014 writes it to a thread: the user's question, the
 * model's call (data.tool_calls), the result (role tool), the answer. */
static void
tool_turn(json_t *t, const char *q, const char *id)
{
	json_array_append_new(t, json_pack("{s:s, s:s}", "role", "user", "content", q));
	json_array_append_new(t, json_pack("{s:s, s:s, s:{s:[{s:s, s:s, s:s}]}}", "role",
	    "assistant", "content", "", "data", "tool_calls", "id", id, "name", "http_fetch",
	    "arguments", "{\"url\":\"http://example.com/\"}"));
	json_array_append_new(t, json_pack("{s:s, s:s, s:{s:s, s:s, s:b}}", "role", "tool",
	    "content", "page text", "data", "tool_call_id", id, "name", "http_fetch",
	    "is_error", 1));
	json_array_append_new(t, json_pack("{s:s, s:s}", "role", "assistant", "content", "done"));
}

static void
test_context_tool_turns(void)
{
	json_t	*t = json_array(), *m, *call, *res;

	tool_turn(t, "first", "c1");
	tool_turn(t, "second", "c2");
	m = context_messages(t, "next", 8000, 1);
	UNIT_ASSERT_STR(shape(m), "user:first|assistant:|tool:page text|assistant:done|"
	    "user:second|assistant:|tool:page text|assistant:done|user:next");
	/* The call and its result go on the wire as such (llm.h). */
	call = json_array_get(json_object_get(json_array_get(m, 1), "tool_calls"), 0);
	UNIT_ASSERT_STR(json_string_value(json_object_get(call, "id")), "c1");
	UNIT_ASSERT_STR(json_string_value(json_object_get(call, "arguments")),
	    "{\"url\":\"http://example.com/\"}");
	res = json_array_get(m, 2);
	UNIT_ASSERT_STR(json_string_value(json_object_get(res, "tool_call_id")), "c1");
	UNIT_ASSERT_STR(json_string_value(json_object_get(res, "name")), "http_fetch");
	CU_ASSERT(json_is_true(json_object_get(res, "is_error")));
	CU_ASSERT_PTR_NULL(json_object_get(json_array_get(m, 3), "tool_calls"));
	json_decref(m);
	/* A budget that cuts the second turn after its call keeps none of it but the
	 * answer... which has no question: the whole turn goes.  "next" 1, "done" 1,
	 * "page text" 3, the call's arguments 8: 13 keeps the result and the answer, and
	 * the kept part must start with a user turn, so only the new message is left. */
	m = context_messages(t, "next", 13, 1);
	UNIT_ASSERT_STR(shape(m), "user:next");
	json_decref(m);
	/* 16 keeps the whole second turn (question 2 tokens, empty call text 0). */
	m = context_messages(t, "next", 16, 1);
	UNIT_ASSERT_STR(shape(m), "user:second|assistant:|tool:page text|assistant:done|"
	    "user:next");
	json_decref(m);
	/* A request without tools carries neither calls nor results: the turns keep
	 * their question and answer. */
	m = context_messages(t, "next", 8000, 0);
	UNIT_ASSERT_STR(shape(m), "user:first|assistant:done|user:second|assistant:done|"
	    "user:next");
	json_decref(m);
	/* A result without its call's id is not a message. */
	json_array_append_new(t, json_pack("{s:s, s:s}", "role", "tool", "content", "lost"));
	m = context_messages(t, "next", 8000, 1);
	CU_ASSERT(strstr(shape(m), "lost") == NULL);
	json_decref(m);
	json_decref(t);
}

static void
test_context_long_thread(void)
{
	json_t	*t = thread(400), *m;

	/* 800 messages of 2 tokens and 1 for the new one: 8000 keeps them all. */
	m = context_messages(t, "next", 8000, 1);
	UNIT_ASSERT_INT(json_array_size(m), 801);
	json_decref(m);
	/* 1001 keeps the newest 500 messages (250 turns) and the new one. */
	m = context_messages(t, "next", 1001, 1);
	UNIT_ASSERT_INT(json_array_size(m), 501);
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_array_get(m, 0), "content")),
	    "user0151");
	json_decref(m);
	json_decref(t);
}

static void
collect_text(void *arg, const char *text, size_t len)
{
	strncat(arg, text, len);
}

/* The whole answer of the offline model to these messages, and its prompt tokens. */
static void
builtin_answer(json_t *msgs, char *out, size_t outlen, int64_t *prompt)
{
	struct llm_request	 q;
	struct llm_usage	 u = { 0, 0 };
	struct builtin		*b;
	int64_t			 next;

	memset(&q, 0, sizeof(q));
	q.model = "builtin";
	q.system = "Be brief.";
	q.messages = msgs;
	b = builtin_new("Echo", &q, 1000, 0);
	out[0] = '\0';
	(void)outlen;
	while (builtin_step(b, INT64_MAX / 2, collect_text, out, &next) == 0)
		;
	builtin_usage(b, &u);
	*prompt = u.prompt_tokens;
	builtin_free(b);
}

static void
test_context_builtin(void)
{
	static char	 text[4096];
	json_t		*t = thread(1), *m;
	int64_t		 prompt;

	/* Alone: the message and the system prompt, as before threads. */
	m = context_messages(NULL, "three little words", 8000, 1);
	builtin_answer(m, text, sizeof(text), &prompt);
	UNIT_ASSERT_CONTAINS(text, "Echo received 3 words: \"three little words\".");
	CU_ASSERT(strstr(text, "earlier message") == NULL);
	UNIT_ASSERT_INT(prompt, 3 + 2);
	json_decref(m);
	/* On a thread: the earlier turn is said and counted. */
	m = context_messages(t, "three little words", 8000, 1);
	builtin_answer(m, text, sizeof(text), &prompt);
	UNIT_ASSERT_CONTAINS(text, "Echo received 3 words: \"three little words\".");
	UNIT_ASSERT_CONTAINS(text, "It had the 2 earlier messages of this conversation in view.");
	UNIT_ASSERT_INT(prompt, 1 + 1 + 3 + 2);
	json_decref(m);
	json_decref(t);
}

void
suite_context(void)
{
	CU_pSuite s = unit_suite("context", NULL, NULL);

	unit_test(s, "tokens are a quarter of the bytes, at least one", test_context_tokens);
	unit_test(s, "no thread: the new message alone", test_context_none);
	unit_test(s, "a thread within the budget is sent whole, oldest first", test_context_all_fit);
	unit_test(s, "the oldest turns are dropped first, whole", test_context_oldest_dropped);
	unit_test(s, "roles as the wire has them; no dangling tool result", test_context_roles);
	unit_test(s, "a long thread is cut at the budget", test_context_long_thread);
	unit_test(s, "tool calls and results travel whole, with their ids", test_context_tool_turns);
	unit_test(s, "the offline model says and counts a thread's earlier turns",
	    test_context_builtin);
}
