/* test_buf.c: the growable byte buffer (core/buf.c). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <stddef.h>

#include "core/buf.h"
#include "tests/unit/unit.h"

static void
test_buf_growth(void)
{
	struct sb_buf	 b = { 0 };
	char		 chunk[1000];
	size_t		 i, cap;

	memset(chunk, 'x', sizeof(chunk));
	CU_ASSERT_PTR_NULL(b.data);
	for (i = 0; i < 100; i++)
		UNIT_ASSERT_INT(buf_append(&b, chunk, sizeof(chunk)), 0);
	UNIT_ASSERT_INT(b.len, 100000);
	CU_ASSERT(b.cap > b.len);
	CU_ASSERT(b.cap <= 2 * (b.len + 1));	/* doubling, not a copy per append */
	UNIT_ASSERT_INT(b.data[b.len], '\0');
	CU_ASSERT(b.data[0] == 'x' && b.data[99999] == 'x');
	/* Bytes with NULs in them are kept whole. */
	buf_reset(&b);
	UNIT_ASSERT_INT(b.len, 0);
	cap = b.cap;
	UNIT_ASSERT_INT(buf_append(&b, "a\0b", 3), 0);
	UNIT_ASSERT_INT(b.len, 3);
	CU_ASSERT(memcmp(b.data, "a\0b", 4) == 0);
	UNIT_ASSERT_INT(b.cap, cap);		/* reset keeps the memory */
	buf_free(&b);
	CU_ASSERT_PTR_NULL(b.data);
	UNIT_ASSERT_INT(b.cap, 0);
}

static void
test_buf_printf(void)
{
	struct sb_buf	 b = { 0 };
	char		 big[300];

	UNIT_ASSERT_INT(buf_printf(&b, "%s=%d", "n", 42), 0);
	UNIT_ASSERT_INT(buf_puts(&b, ";"), 0);
	UNIT_ASSERT_STR(b.data, "n=42;");
	UNIT_ASSERT_INT(b.len, 5);
	/* Longer than the first allocation: grown, then formatted whole. */
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	UNIT_ASSERT_INT(buf_printf(&b, "[%s]", big), 0);
	UNIT_ASSERT_INT(b.len, 5 + 301);
	UNIT_ASSERT_INT(b.data[b.len - 1], ']');
	UNIT_ASSERT_INT(b.data[b.len], '\0');
	buf_free(&b);
}

static void
test_buf_cap(void)
{
	struct sb_buf	 b;

	buf_init(&b, 10);
	UNIT_ASSERT_INT(buf_append(&b, "0123456", 7), 0);
	/* Past the bound: refused whole, nothing appended. */
	UNIT_ASSERT_INT(buf_append(&b, "7890", 4), -1);
	UNIT_ASSERT_INT(b.len, 7);
	UNIT_ASSERT_STR(b.data, "0123456");
	UNIT_ASSERT_INT(buf_printf(&b, "%d", 1234), -1);
	UNIT_ASSERT_INT(b.len, 7);
	UNIT_ASSERT_INT(buf_reserve(&b, 4), -1);
	/* Up to the bound exactly is fine. */
	UNIT_ASSERT_INT(buf_append(&b, "789", 3), 0);
	UNIT_ASSERT_STR(b.data, "0123456789");
	UNIT_ASSERT_INT(buf_append(&b, "", 0), 0);
	UNIT_ASSERT_INT(buf_append(&b, "x", 1), -1);
	/* The bound outlives reset and free. */
	buf_reset(&b);
	UNIT_ASSERT_INT(buf_append(&b, "01234567890", 11), -1);
	buf_free(&b);
	UNIT_ASSERT_INT(buf_append(&b, "01234567890", 11), -1);
	UNIT_ASSERT_INT(buf_append(&b, "0123456789", 10), 0);
	buf_free(&b);
}

static void
test_buf_steal(void)
{
	struct sb_buf	 b = { 0 };
	char		*p;
	size_t		 n = 99;

	/* An empty buffer gives "", never NULL. */
	p = buf_steal(&b, &n);
	UNIT_ASSERT_STR(p, "");
	UNIT_ASSERT_INT(n, 0);
	free(p);
	buf_puts(&b, "hello");
	p = buf_steal(&b, &n);
	UNIT_ASSERT_STR(p, "hello");
	UNIT_ASSERT_INT(n, 5);
	/* The buffer let go of it: empty, and a new append does not touch p. */
	CU_ASSERT_PTR_NULL(b.data);
	UNIT_ASSERT_INT(b.len, 0);
	buf_puts(&b, "again");
	UNIT_ASSERT_STR(p, "hello");
	UNIT_ASSERT_STR(b.data, "again");
	free(p);
	buf_free(&b);
}

static void
test_buf_reserve_consume(void)
{
	struct sb_buf	 b = { 0 };

	UNIT_ASSERT_INT(buf_reserve(&b, 500), 0);
	CU_ASSERT(b.cap >= 501);
	memcpy(b.data, "abcdef", 6);
	buf_commit(&b, 6);
	UNIT_ASSERT_STR(b.data, "abcdef");
	buf_consume(&b, 2);
	UNIT_ASSERT_STR(b.data, "cdef");
	UNIT_ASSERT_INT(b.len, 4);
	buf_consume(&b, 100);
	UNIT_ASSERT_INT(b.len, 0);
	UNIT_ASSERT_STR(b.data, "");
	buf_free(&b);
}

void
suite_buf(void)
{
	CU_pSuite s = unit_suite("buf", NULL, NULL);

	unit_test(s, "appends grow by doubling and keep NULs", test_buf_growth);
	unit_test(s, "printf formats whole, past the first allocation", test_buf_printf);
	unit_test(s, "a hard cap refuses an append whole", test_buf_cap);
	unit_test(s, "steal hands the bytes over and leaves it empty", test_buf_steal);
	unit_test(s, "reserve, commit and consume", test_buf_reserve_consume);
}
