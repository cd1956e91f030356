/* fuzz_llmbody.c: the request bodies a run sends a model (worker/llm/wire.c with
 * openai.c and anthropic.c), from any messages: thread and tool text are other
 * people's words. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "worker/llm/llm.h"
#include "tests/fuzz/fuzz.h"

/* What a body must be when there is one: JSON with the model and a messages array. */
static json_t *
body_of(enum llm_kind kind, const struct llm_request *q)
{
	char	*text = llm_request_body(kind, q);
	json_t	*b;

	if (text == NULL)
		return NULL;
	b = json_loads(text, 0, NULL);
	FUZZ_ASSERT(json_is_object(b));
	FUZZ_ASSERT(json_is_array(json_object_get(b, "messages")));
	FUZZ_ASSERT(strcmp(json_string_value(json_object_get(b, "model")), "m") == 0);
	free(text);
	return b;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct llm_request	 q;
	json_t			*msgs, *oa, *an, *m, *prev = NULL;
	size_t			 i;

	if ((msgs = json_loadb((const char *)data, size, 0, NULL)) == NULL)
		return 0;
	memset(&q, 0, sizeof(q));
	q.model = "m";
	q.system = "Be brief.";
	q.messages = msgs;
	q.temperature = -1;
	oa = body_of(LLM_OPENAI, &q);
	an = body_of(LLM_ANTHROPIC, &q);
	/* The two formats take and refuse the same messages. */
	FUZZ_ASSERT((oa == NULL) == (an == NULL));
	if (oa != NULL) {
		/* OpenAI: the system prompt, then one message per message given. */
		FUZZ_ASSERT(json_array_size(json_object_get(oa, "messages")) ==
		    json_array_size(msgs) + 1);
		/* Anthropic: no two messages in a row of one role. */
		json_array_foreach(json_object_get(an, "messages"), i, m) {
			FUZZ_ASSERT(prev == NULL || !json_equal(json_object_get(m, "role"),
			    json_object_get(prev, "role")));
			prev = m;
		}
	}
	json_decref(oa);
	json_decref(an);
	json_decref(msgs);
	return 0;
}
