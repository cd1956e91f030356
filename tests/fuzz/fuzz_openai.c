/* fuzz_openai.c: a streamed answer in the OpenAI chat completions wire format (worker/llm/openai.c)
 * and its error bodies. */
#include "config.h"
#include <stddef.h>
#include <stdint.h>

#include "tests/fuzz/llm_stream.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return llm_fuzz(LLM_OPENAI, data, size);
}
