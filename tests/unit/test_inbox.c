/* test_inbox.c: handlers/inbox.c's reading of an answer's body: what is a question's
 * answer, what an approval's decision, and what each refusal is called. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <jansson.h>

#include "handlers/handlers.h"
#include "tests/unit/unit.h"

/* Reads the JSON text body: the error, with r, *slug filled. */
static enum sb_err
read_text(const char *text, struct inbox_reply *r, const char **slug)
{
	const char	*detail = NULL;
	json_t		*body = json_loads(text, JSON_DECODE_ANY, NULL);
	enum sb_err	 err;

	CU_ASSERT_PTR_NOT_NULL_FATAL(body);
	err = inbox_reply_read(body, r, slug, &detail);
	if (err != SB_OK)
		CU_ASSERT(detail != NULL && *detail != '\0');
	json_decref(body);	/* r's strings are not looked at after this */
	return err;
}

static void
test_question(void)
{
	struct inbox_reply	 r;
	const char		*slug, *detail;
	json_t			*body;

	body = json_pack("{s:s}", "answer", "Blue.");
	UNIT_ASSERT_INT(inbox_reply_read(body, &r, &slug, &detail), SB_OK);
	UNIT_ASSERT_STR(r.answer, "Blue.");
	UNIT_ASSERT_INT(r.approve, -1);
	CU_ASSERT_PTR_NULL(r.note);
	json_decref(body);
}

static void
test_approval(void)
{
	struct inbox_reply	 r;
	const char		*slug, *detail;
	json_t			*body;

	UNIT_ASSERT_INT(read_text("{\"approve\":true}", &r, &slug), SB_OK);
	UNIT_ASSERT_INT(r.approve, 1);
	CU_ASSERT_PTR_NULL(r.answer);
	CU_ASSERT_PTR_NULL(r.note);
	body = json_pack("{s:b, s:s}", "approve", 0, "note", "Not that host.");
	UNIT_ASSERT_INT(inbox_reply_read(body, &r, &slug, &detail), SB_OK);
	UNIT_ASSERT_INT(r.approve, 0);
	CU_ASSERT_PTR_NULL(r.answer);
	UNIT_ASSERT_STR(r.note, "Not that host.");
	json_decref(body);
	/* An empty note is a note. */
	UNIT_ASSERT_INT(read_text("{\"approve\":false,\"note\":\"\"}", &r, &slug), SB_OK);
	UNIT_ASSERT_INT(r.approve, 0);
}

/* Every shape that is not exactly one of the two: 400 invalid-body. */
static void
test_shapes_refused(void)
{
	static const char *const bad[] = {
		"{}", "[]", "\"yes\"", "null", "7",
		"{\"answer\":\"a\",\"approve\":true}",		/* both */
		"{\"note\":\"n\"}",				/* neither */
		"{\"answer\":7}", "{\"answer\":null}", "{\"answer\":[\"a\"]}",
		"{\"answer\":{\"a\":1}}", "{\"answer\":true}",
		"{\"approve\":\"true\"}", "{\"approve\":1}", "{\"approve\":null}",
		"{\"approve\":true,\"note\":7}", "{\"approve\":true,\"note\":null}",
		"{\"answer\":\"a\",\"note\":\"n\"}",		/* a note goes with approve */
		"{\"answer\":\"a\",\"colour\":\"red\"}",	/* unknown members */
		"{\"approve\":false,\"by\":1}",
	};
	struct inbox_reply	 r;
	const char		*slug, *detail;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		slug = NULL;
		if (read_text(bad[i], &r, &slug) != SB_ERR_INVALID || slug == NULL ||
		    strcmp(slug, "invalid-body") != 0) {
			fprintf(stderr, "\n  %s: not refused as invalid-body\n", bad[i]);
			CU_FAIL("a malformed answer was not 400 invalid-body");
		}
	}
	slug = NULL;
	UNIT_ASSERT_INT(inbox_reply_read(NULL, &r, &slug, &detail), SB_ERR_INVALID);
	UNIT_ASSERT_STR(slug, "invalid-body");
}

/* Lengths, in bytes, at their edges: 422 with a type of their own. */
static void
test_lengths(void)
{
	struct inbox_reply	 r;
	const char		*slug, *detail;
	char			*big;
	json_t			*body;

	UNIT_ASSERT_INT(read_text("{\"answer\":\"\"}", &r, &slug), SB_ERR_UNPROCESSABLE);
	UNIT_ASSERT_STR(slug, "invalid-answer");
	big = malloc(65537 + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, 'a', 65537);
	big[65537] = '\0';
	body = json_pack("{s:s}", "answer", big);
	UNIT_ASSERT_INT(inbox_reply_read(body, &r, &slug, &detail), SB_ERR_UNPROCESSABLE);
	UNIT_ASSERT_STR(slug, "invalid-answer");
	json_decref(body);
	big[65536] = '\0';
	body = json_pack("{s:s}", "answer", big);
	UNIT_ASSERT_INT(inbox_reply_read(body, &r, &slug, &detail), SB_OK);
	json_decref(body);
	/* Four bytes a character: 2001 characters are 8004 bytes. */
	big[0] = '\0';
	while (strlen(big) < 8004)
		strcat(big, "\xf0\x9f\x99\x82");
	body = json_pack("{s:b, s:s}", "approve", 1, "note", big);
	UNIT_ASSERT_INT(inbox_reply_read(body, &r, &slug, &detail), SB_ERR_UNPROCESSABLE);
	UNIT_ASSERT_STR(slug, "invalid-note");
	json_decref(body);
	memset(big, 'n', 8000);
	big[8000] = '\0';
	body = json_pack("{s:b, s:s}", "approve", 1, "note", big);
	UNIT_ASSERT_INT(inbox_reply_read(body, &r, &slug, &detail), SB_OK);
	UNIT_ASSERT_INT(strlen(r.note), 8000);
	json_decref(body);
	free(big);
}

void
suite_inbox(void)
{
	CU_pSuite s = unit_suite("inbox", NULL, NULL);

	unit_test(s, "a question's answer", test_question);
	unit_test(s, "an approval's decision and note", test_approval);
	unit_test(s, "any other shape is invalid-body", test_shapes_refused);
	unit_test(s, "answer and note lengths in bytes, at the edges", test_lengths);
}
