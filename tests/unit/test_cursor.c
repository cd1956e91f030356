/* test_cursor.c: stream positions (core/cursor.c) and array literals (db_array_*). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdio.h>

#include "core/cursor.h"
#include "core/db.h"
#include "tests/unit/unit.h"

static void
test_cursor_round_trip(void)
{
	struct sb_cursor	 c;
	char			 buf[CURSOR_MAX];

	UNIT_ASSERT_INT(cursor_parse("17", &c), 0);
	UNIT_ASSERT_INT(c.xid, 0);
	UNIT_ASSERT_INT(c.n, 17);
	cursor_format(&c, buf);
	UNIT_ASSERT_STR(buf, "17");
	UNIT_ASSERT_INT(cursor_parse("7345-12", &c), 0);
	UNIT_ASSERT_INT(c.xid, 7345);
	UNIT_ASSERT_INT(c.n, 12);
	cursor_format(&c, buf);
	UNIT_ASSERT_STR(buf, "7345-12");
	UNIT_ASSERT_INT(cursor_parse("9223372036854775807-9223372036854775807", &c), 0);
	cursor_format(&c, buf);
	UNIT_ASSERT_STR(buf, "9223372036854775807-9223372036854775807");
	UNIT_ASSERT_INT(cursor_parse("0", &c), 0);
	UNIT_ASSERT_INT(c.xid, 0);
	UNIT_ASSERT_INT(c.n, 0);
}

static void
test_cursor_rejects(void)
{
	static const char *const bad[] = { "", "-", "-1", "1-", "-1-2", "1-2-3", "a", "1a",
	    " 1", "1 ", "+1", "1--2", "1-+2", "9223372036854775808", "1-9223372036854775808",
	    "99999999999999999999-1", "0x10" };
	struct sb_cursor	 c = { 5, 6 };
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cursor_parse(bad[i], &c) != -1)
			CU_FAIL_FATAL(bad[i]);
	UNIT_ASSERT_INT(cursor_parse(NULL, &c), -1);
}

static void
test_cursor_order(void)
{
	struct sb_cursor a = { 0, 9 }, b = { 1, 0 }, c = { 1, 2 }, d = { 1, 2 };

	UNIT_ASSERT_INT(cursor_cmp(&a, &b), -1);
	UNIT_ASSERT_INT(cursor_cmp(&b, &c), -1);
	UNIT_ASSERT_INT(cursor_cmp(&c, &b), 1);
	UNIT_ASSERT_INT(cursor_cmp(&c, &d), 0);
}

static void
test_db_array(void)
{
	struct db_array	 a = { 0 };
	char		 want[20000];
	size_t		 len = 0;
	int		 i;

	UNIT_ASSERT_STR(db_array_text(&a), "{}");
	db_array_free(&a);
	db_array_add(&a, "%d", 7);
	UNIT_ASSERT_STR(db_array_text(&a), "{7}");
	db_array_free(&a);
	/* Past the first allocation, in steps that land on its edges. */
	want[len++] = '{';
	for (i = 0; i < 2000; i++) {
		db_array_add(&a, "%d", i);
		len += (size_t)snprintf(want + len, sizeof(want) - len, "%s%d", i ? "," : "", i);
	}
	snprintf(want + len, sizeof(want) - len, "}");
	UNIT_ASSERT_STR(db_array_text(&a), want);
	db_array_free(&a);
	db_array_add(&a, "%s", "0b0b1c4e-0000-4000-8000-000000000001");
	db_array_add(&a, "%s", "0b0b1c4e-0000-4000-8000-000000000002");
	UNIT_ASSERT_STR(db_array_text(&a),
	    "{0b0b1c4e-0000-4000-8000-000000000001,0b0b1c4e-0000-4000-8000-000000000002}");
	db_array_free(&a);
	UNIT_ASSERT_INT(a.b.len, 0);
}

void
suite_cursor(void)
{
	CU_pSuite s = unit_suite("cursor", NULL, NULL);

	unit_test(s, "positions round-trip through their text", test_cursor_round_trip);
	unit_test(s, "anything else is refused", test_cursor_rejects);
	unit_test(s, "positions order by xid, then n", test_cursor_order);
	unit_test(s, "array literals of any length", test_db_array);
}
