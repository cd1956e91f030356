/* fuzz.h: what every libFuzzer target of tests/fuzz shares. */
#ifndef SB_FUZZ_H
#define SB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* libFuzzer's entry points, declared for -Wmissing-prototypes. */
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	LLVMFuzzerInitialize(int *argc, char ***argv);

/* A property the code under test must keep: a violation is a crash, so libFuzzer
 * saves the input that caused it. */
#define FUZZ_ASSERT(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property violated: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* The deepest nesting of arrays and objects in v (a scalar is 0), and the longest
 * string or key in it, in decoded bytes: what the JSON limits bound. */
static inline void
fuzz_json_measure(json_t *v, int level, int *depth, size_t *longest)
{
	const char	*key;
	json_t		*item;
	size_t		 i;

	if (json_is_string(v) && json_string_length(v) > *longest)
		*longest = json_string_length(v);
	if (!json_is_array(v) && !json_is_object(v))
		return;
	if (level + 1 > *depth)
		*depth = level + 1;
	if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			fuzz_json_measure(item, level + 1, depth, longest);
	} else {
		json_object_foreach(v, key, item) {
			if (strlen(key) > *longest)
				*longest = strlen(key);
			fuzz_json_measure(item, level + 1, depth, longest);
		}
	}
}

#endif /* SB_FUZZ_H */
