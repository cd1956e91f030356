/* fuzz_anthropic.c: a streamed answer in the Anthropic Messages wire format
 * (worker/llm/anthropic.c) and its error bodies. */
#include "config.h"
#include <stddef.h>
#include <stdint.h>

#include "tests/fuzz/llm_stream.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return llm_fuzz(LLM_ANTHROPIC, data, size);
}
