/* fuzz_webjson.c: the browser app's JSON reader on any bytes (web/src/wjson.c),
 * against jansson: both accept and refuse the same texts (within the app's depth and
 * jansson's integers; jansson stops at a NUL), and read the same values; what it reads, its writer writes
 * back to the same strings. */
#include "config.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <jansson.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"
#include "tests/fuzz/fuzz.h"
#include "web/src/wjson.h"

static struct sb_arena	*arena;

/* v and j are the same value (an object with a repeated key is only counted). */
static void
same(const struct wj *v, json_t *j)
{
	const struct wj	*m;
	size_t		 i;
	double		 d;

	switch (v->type) {
	case WJ_NULL:
		FUZZ_ASSERT(json_is_null(j));
		break;
	case WJ_TRUE:
		FUZZ_ASSERT(json_is_true(j));
		break;
	case WJ_FALSE:
		FUZZ_ASSERT(json_is_false(j));
		break;
	case WJ_NUMBER:
		FUZZ_ASSERT(json_is_number(j));
		d = json_number_value(j);
		FUZZ_ASSERT(v->num == d || fabs(v->num - d) <= 1e-9 * fabs(d) ||
		    (isinf(v->num) && isinf(d)));
		break;
	case WJ_STRING:
		FUZZ_ASSERT(json_is_string(j) && json_string_length(j) == v->len &&
		    memcmp(json_string_value(j), v->str, v->len) == 0);
		FUZZ_ASSERT(strlen(v->str) == v->len && utf8_valid(v->str, v->len));
		break;
	case WJ_ARRAY:
		FUZZ_ASSERT(json_is_array(j) && json_array_size(j) == v->len);
		for (i = 0, m = v->first; m != NULL; m = m->next, i++)
			same(m, json_array_get(j, i));
		break;
	case WJ_OBJECT:
		FUZZ_ASSERT(json_is_object(j) && json_object_size(j) <= v->len);
		if (json_object_size(j) != v->len)
			break;		/* a repeated key: jansson keeps the last */
		for (m = v->first; m != NULL; m = m->next)
			same(m, json_object_get(j, m->key));
		break;
	}
}

/* Every string the writer writes reads back as itself. */
static void
round_trip(const struct wj *v)
{
	const struct wj	*m, *back;
	struct sb_buf	 b;

	if (v->type == WJ_STRING) {
		buf_init(&b, 0);
		wj_write_str(&b, v->str);
		back = wj_parse(arena, b.data, b.len, NULL);
		FUZZ_ASSERT(back != NULL && back->type == WJ_STRING && strcmp(back->str, v->str) == 0);
		buf_free(&b);
	}
	for (m = v->type == WJ_ARRAY || v->type == WJ_OBJECT ? v->first : NULL; m != NULL; m = m->next)
		round_trip(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wj	*v;
	struct wj_error	 err;
	json_error_t	 jerr;
	json_t		*j;
	int		 depth = 0;
	size_t		 longest = 0;

	if (arena == NULL)
		arena = arena_new(65536);
	v = wj_parse(arena, (const char *)data, size, &err);
	if (memchr(data, '\0', size) != NULL) {
		/* Never JSON (a NUL is a control character in a string, and nothing outside
		 * one); jansson takes a NUL for the end of the text, so it is no judge. */
		FUZZ_ASSERT(v == NULL);
		arena_reset(arena);
		return 0;
	}
	j = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
	if (j != NULL)
		fuzz_json_measure(j, 0, &depth, &longest);
	if (v == NULL) {
		FUZZ_ASSERT(err.why != NULL && err.pos <= size);
		/* Refused: jansson refuses it too, unless it is only too deep for the app. */
		FUZZ_ASSERT(j == NULL || depth > WJSON_MAX_DEPTH);
	} else {
		/* Accepted: jansson accepts it too, unless an integer is too big for it. */
		FUZZ_ASSERT(j != NULL || strstr(jerr.text, "too big") != NULL ||
		    strstr(jerr.text, "overflow") != NULL);
		if (j != NULL)
			same(v, j);
		round_trip(v);
	}
	json_decref(j);
	arena_reset(arena);
	return 0;
}
