/* test_chunk.c: core/chunk.c, knowledge-base documents cut into chunks: which break
 * each cut takes, UTF-8 never split, Markdown headings and the heading each chunk
 * carries, and nothing of the text lost. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "core/arena.h"
#include "core/chunk.h"
#include "core/json.h"
#include "tests/unit/unit.h"

/* A growing test text. */
struct text {
	char	*s;
	size_t	 len;
};

static void
add(struct text *t, const char *s)
{
	size_t n = strlen(s);

	t->s = sb_realloc(t->s, t->len + n + 1);
	memcpy(t->s + t->len, s, n + 1);
	t->len += n;
}

/* s repeated until at least n bytes were added. */
static void
add_until(struct text *t, const char *s, size_t n)
{
	size_t start = t->len;

	while (t->len - start < n)
		add(t, s);
}

/* The chunk's stored text, as a string the caller frees. */
static char *
text_of(const struct text *t, const struct chunk *c)
{
	size_t n;

	return chunk_text(t->s, c, &n);
}

/* What every split promises: bodies in order, within the bound, trimmed, between
 * characters, and the text's non-space bytes all in them, once. */
static void
check_cover(const struct text *t, const struct chunk *v, size_t n)
{
	size_t	 i, j, pos = 0;

	for (i = 0; i < n; i++) {
		CU_ASSERT(v[i].off >= pos);
		CU_ASSERT(v[i].len > 0 && v[i].len <= CHUNK_TARGET);
		CU_ASSERT(v[i].head_len <= CHUNK_HEAD_MAX);
		CU_ASSERT(utf8_valid(t->s + v[i].off, v[i].len));
		CU_ASSERT(strchr(" \t\r\n", t->s[v[i].off]) == NULL);
		CU_ASSERT(strchr(" \t\r\n", t->s[v[i].off + v[i].len - 1]) == NULL);
		for (j = pos; j < v[i].off; j++)
			CU_ASSERT(strchr(" \t\r\n", t->s[j]) != NULL);
		pos = v[i].off + v[i].len;
	}
	for (j = pos; j < t->len; j++)
		CU_ASSERT(strchr(" \t\r\n", t->s[j]) != NULL);
}

static void
test_chunk_small(void)
{
	struct chunk	*v = NULL;
	struct text	 t = { NULL, 0 };
	char		*s;

	UNIT_ASSERT_INT(chunk_split("", 0, 0, &v), 0);
	CU_ASSERT(v == NULL);
	UNIT_ASSERT_INT(chunk_split(" \n\t\r\n  ", 7, 1, &v), 0);
	CU_ASSERT(v == NULL);
	add(&t, "\n\n  Rate limits reset every minute.  \n\n");
	UNIT_ASSERT_INT(chunk_split(t.s, t.len, 0, &v), 1);
	s = text_of(&t, &v[0]);
	UNIT_ASSERT_STR(s, "Rate limits reset every minute.");
	UNIT_ASSERT_INT(v[0].head_len, 0);
	free(s);
	free(v);
	free(t.s);
}

/* Paragraphs of 500 bytes: a cut falls on the last paragraph break in the window. */
static void
test_chunk_paragraphs(void)
{
	struct chunk	*v = NULL;
	struct text	 t = { NULL, 0 };
	size_t		 n, i;

	for (i = 0; i < 5; i++) {
		add_until(&t, "word. Another line\n", 498);
		add(&t, "\n\n");
	}
	n = chunk_split(t.s, t.len, 0, &v);
	check_cover(&t, v, n);
	UNIT_ASSERT_INT(n, 3);
	/* Two paragraphs each (the third would pass 1200), then the last. */
	UNIT_ASSERT_INT(v[1].off, 2 * (t.len / 5));
	CU_ASSERT(t.s[v[0].off + v[0].len + 1] == '\n' && t.s[v[0].off + v[0].len + 2] == '\n');
	CU_ASSERT(t.s[v[1].off - 1] == '\n' && t.s[v[1].off - 2] == '\n');
	free(v);
	free(t.s);
}

/* Without blank lines, a line break; without those, a sentence end; without those, a
 * space. */
static void
test_chunk_breaks(void)
{
	struct chunk	*v = NULL;
	struct text	 t = { NULL, 0 };
	size_t		 n;

	add_until(&t, "one line that ends. ", 700);
	add(&t, "\n");
	add_until(&t, "more words, no end. ", 1500);
	n = chunk_split(t.s, t.len, 0, &v);
	check_cover(&t, v, n);
	CU_ASSERT(n >= 2);
	CU_ASSERT(t.s[v[1].off - 1] == '\n');	/* the line break, not a sentence */
	free(v);
	free(t.s);

	t.s = NULL;
	t.len = 0;
	add_until(&t, "a clause, then another ", 700);
	add(&t, "Its end. ");
	add_until(&t, "a clause, then another ", 1500);
	n = chunk_split(t.s, t.len, 0, &v);
	check_cover(&t, v, n);
	UNIT_ASSERT_INT(t.s[v[0].off + v[0].len - 1], '.');	/* the sentence's end */
	CU_ASSERT(strncmp(t.s + v[1].off, "a clause", 8) == 0);
	free(v);
	free(t.s);

	t.s = NULL;
	t.len = 0;
	add_until(&t, "word ", 3000);
	n = chunk_split(t.s, t.len, 0, &v);
	check_cover(&t, v, n);
	UNIT_ASSERT_INT(n, 3);
	UNIT_ASSERT_INT(v[0].len, 1199);	/* "word " x 240, trimmed */
	CU_ASSERT(strncmp(t.s + v[1].off, "word word", 9) == 0);
	free(v);
	free(t.s);
}

/* No space at all: a cut between characters, never inside one. */
static void
test_chunk_utf8(void)
{
	struct chunk	*v = NULL;
	struct text	 t = { NULL, 0 };
	size_t		 n, i;

	add(&t, "a");
	add_until(&t, "\xe2\x82\xac", 4000);		/* U+20AC, three bytes */
	n = chunk_split(t.s, t.len, 0, &v);
	check_cover(&t, v, n);
	UNIT_ASSERT_INT(n, 4);
	UNIT_ASSERT_INT(v[0].len, 1198);		/* 1 + 3 x 399: 1200 is inside one */
	for (i = 0; i < n; i++)
		CU_ASSERT((t.s[v[i].off] & 0xc0) != 0x80);
	free(v);
	free(t.s);
}

/* Markdown: each heading starts a chunk; the later chunks of a section carry it. */
static void
test_chunk_markdown(void)
{
	struct chunk	*v = NULL;
	struct text	 t = { NULL, 0 };
	size_t		 n;
	char		*s;

	add(&t, "Preamble.\n# API keys\nKeys start with sb_.\n\n## Rate limits  \n");
	add_until(&t, "Each key has a bucket. ", 3000);
	add(&t, "\n```\n# not a heading\n```\n");
	n = chunk_split(t.s, t.len, 1, &v);
	check_cover(&t, v, n);
	UNIT_ASSERT_INT(n, 5);
	s = text_of(&t, &v[0]);
	UNIT_ASSERT_STR(s, "Preamble.");
	free(s);
	s = text_of(&t, &v[1]);
	UNIT_ASSERT_STR(s, "# API keys\nKeys start with sb_.");
	free(s);
	UNIT_ASSERT_INT(v[2].head_len, 0);		/* it starts with its heading */
	s = text_of(&t, &v[2]);
	CU_ASSERT(strncmp(s, "## Rate limits  \nEach key", 25) == 0);
	free(s);
	s = text_of(&t, &v[3]);
	CU_ASSERT(strncmp(s, "## Rate limits\n\nEach key", 24) == 0);
	free(s);
	s = text_of(&t, &v[4]);
	UNIT_ASSERT_CONTAINS(s, "## Rate limits\n\n");
	UNIT_ASSERT_CONTAINS(s, "```\n# not a heading\n```");	/* in a fence: no heading */
	free(s);
	free(v);

	/* The same text as plain text: headings are text like any other. */
	n = chunk_split(t.s, t.len, 0, &v);
	check_cover(&t, v, n);
	UNIT_ASSERT_INT(n, 3);
	CU_ASSERT(v[0].head_len == 0 && v[1].head_len == 0 && v[2].head_len == 0);
	UNIT_ASSERT_INT(v[0].off, 0);		/* "Preamble." and on, no cut at a heading */
	free(v);
	free(t.s);

	/* "#word" and seven '#' are no headings; an empty "#" is. */
	t.s = NULL;
	t.len = 0;
	add(&t, "#hashtag\n####### seven\n#\nafter");
	n = chunk_split(t.s, t.len, 1, &v);
	check_cover(&t, v, n);
	UNIT_ASSERT_INT(n, 2);
	UNIT_ASSERT_INT(v[1].off, 23);
	free(v);
	free(t.s);
}

/* A long heading is carried cut to CHUNK_HEAD_MAX bytes, between characters. */
static void
test_chunk_long_heading(void)
{
	struct chunk	*v = NULL;
	struct text	 t = { NULL, 0 };
	size_t		 n;

	add(&t, "# x");
	add_until(&t, "\xc3\xa9", 400);		/* U+00E9, two bytes: 3 + 2k */
	add(&t, "\n");
	add_until(&t, "Body text here. ", 3000);
	n = chunk_split(t.s, t.len, 1, &v);
	check_cover(&t, v, n);
	CU_ASSERT(n >= 3);
	UNIT_ASSERT_INT(v[1].head_off, 0);
	UNIT_ASSERT_INT(v[1].head_len, CHUNK_HEAD_MAX - 1);	/* 200 is inside one */
	CU_ASSERT(utf8_valid(t.s + v[1].head_off, v[1].head_len));
	free(v);
	free(t.s);
}

/* The title switchboardctl kb import gives a file: its first heading's words. */
static void
test_chunk_title(void)
{
	static const struct {
		const char	*text, *want;	/* want NULL: no title */
	} cases[] = {
		{ "# API keys\nbody", "API keys" },
		{ "intro\n\n  ##   Rate limits ##  \r\nbody", "Rate limits" },
		{ "## C#\n", "C#" },
		{ "```\n# in a fence\n```\n### After ###", "After" },
		{ "#\n# \n## ##\n#### Fourth", "Fourth" },
		{ "#hashtag\nno heading", NULL },
		{ "", NULL },
	};
	size_t	 i, off, len;
	char	 got[64];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!chunk_title(cases[i].text, strlen(cases[i].text), &off, &len)) {
			CU_ASSERT(cases[i].want == NULL);
			continue;
		}
		snprintf(got, sizeof(got), "%.*s", (int)len, cases[i].text + off);
		UNIT_ASSERT_STR(got, cases[i].want);
	}
}

/* What kb_document_add gets: each chunk's text, heading first where carried. */
static void
test_chunk_json(void)
{
	struct text	 t = { NULL, 0 };
	json_t		*a;

	add(&t, "# Streams\n");
	add_until(&t, "Resume with Last-Event-ID. ", 1300);
	a = chunk_json(t.s, t.len, 1);
	UNIT_ASSERT_INT(json_array_size(a), 2);
	CU_ASSERT(strncmp(json_string_value(json_array_get(a, 0)), "# Streams\nResume", 16) == 0);
	CU_ASSERT(strncmp(json_string_value(json_array_get(a, 1)), "# Streams\n\nResume", 17) == 0);
	json_decref(a);
	a = chunk_json("  \n ", 4, 1);
	UNIT_ASSERT_INT(json_array_size(a), 0);
	json_decref(a);
	free(t.s);
}

void
suite_chunk(void)
{
	CU_pSuite s = unit_suite("chunk", NULL, NULL);

	unit_test(s, "nothing, white space, one short chunk trimmed", test_chunk_small);
	unit_test(s, "cut at the last paragraph break in the window", test_chunk_paragraphs);
	unit_test(s, "else a line break, a sentence end, a space", test_chunk_breaks);
	unit_test(s, "never inside a UTF-8 character", test_chunk_utf8);
	unit_test(s, "Markdown headings start chunks and are carried", test_chunk_markdown);
	unit_test(s, "a long heading carried cut between characters", test_chunk_long_heading);
	unit_test(s, "a document's title is its first heading's words", test_chunk_title);
	unit_test(s, "the chunks' texts as kb_document_add takes them", test_chunk_json);
}
