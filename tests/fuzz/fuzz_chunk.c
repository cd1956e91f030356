/* fuzz_chunk.c: knowledge-base documents cut into chunks (core/chunk.c), as text and as
 * Markdown, from any bytes. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/chunk.h"
#include "core/json.h"
#include "tests/fuzz/fuzz.h"

static int
blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * The first byte chooses Markdown (odd) or text; the rest is the document.  Bodies come
 * in order without overlap, each 1..CHUNK_TARGET bytes, starting and ending on a byte
 * that is not white space, and what lies between and around them is white space alone:
 * nothing of the text is lost or repeated.  A carried heading is within the text, at
 * most CHUNK_HEAD_MAX bytes, and only in Markdown.  For a text that is UTF-8 without
 * NUL, every body, heading and stored text is too (no cut inside a character), and
 * chunk_json gives one string per chunk; chunk_title's words lie within the text.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*t = (const char *)data + 1;
	struct chunk	*v;
	size_t		 n, len, i, j, pos = 0, tlen, off;
	int		 md, utf8;
	char		*s;
	json_t		*a;

	if (size < 1)
		return 0;
	md = data[0] & 1;
	len = size - 1;
	utf8 = utf8_valid(t, len);
	n = chunk_split(t, len, md, &v);
	for (i = 0; i < n; i++) {
		FUZZ_ASSERT(v[i].off >= pos && v[i].off + v[i].len <= len);
		FUZZ_ASSERT(v[i].len >= 1 && v[i].len <= CHUNK_TARGET);
		FUZZ_ASSERT(!blank((unsigned char)t[v[i].off]));
		FUZZ_ASSERT(!blank((unsigned char)t[v[i].off + v[i].len - 1]));
		for (j = pos; j < v[i].off; j++)
			FUZZ_ASSERT(blank((unsigned char)t[j]));
		FUZZ_ASSERT(v[i].head_len <= CHUNK_HEAD_MAX);
		FUZZ_ASSERT(md || v[i].head_len == 0);
		FUZZ_ASSERT(v[i].head_off + v[i].head_len <= len);
		FUZZ_ASSERT(v[i].head_len == 0 || v[i].head_off < v[i].off);
		s = chunk_text(t, &v[i], &tlen);
		FUZZ_ASSERT(tlen == v[i].len + (v[i].head_len > 0 ? v[i].head_len + 2 : 0));
		if (utf8) {
			FUZZ_ASSERT(utf8_valid(t + v[i].off, v[i].len));
			FUZZ_ASSERT(utf8_valid(t + v[i].head_off, v[i].head_len));
			FUZZ_ASSERT(utf8_valid(s, tlen));
		}
		free(s);
		pos = v[i].off + v[i].len;
	}
	for (j = pos; j < len; j++)
		FUZZ_ASSERT(blank((unsigned char)t[j]));
	free(v);
	if (utf8) {
		a = chunk_json(t, len, md);
		FUZZ_ASSERT(json_array_size(a) == n);
		json_decref(a);
		if (chunk_title(t, len, &off, &tlen)) {
			FUZZ_ASSERT(tlen > 0 && off + tlen <= len);
			FUZZ_ASSERT(!blank((unsigned char)t[off]) && !blank((unsigned char)t[off + tlen - 1]));
			FUZZ_ASSERT(utf8_valid(t + off, tlen));
		}
	}
	return 0;
}
