/* test_arena.c: the per-request bump allocator: alignment, growth, reset and reuse, and
 * the cleanups registered with it. */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <stddef.h>
#include <jansson.h>

#include "core/arena.h"
#include "tests/unit/unit.h"

static int
aligned16(const void *p)
{
	return ((uintptr_t)p & 15) == 0;
}

static void
test_alignment(void)
{
	struct sb_arena	*a = arena_new(4096);
	unsigned char	*p[64];
	size_t		 i, misaligned = 0, bad = 0;

	/* Odd sizes would misalign the next block if the arena did not round up. */
	for (i = 0; i < 64; i++) {
		p[i] = arena_alloc(a, i * 7 + 1);
		if (!aligned16(p[i]))
			misaligned++;
		memset(p[i], (int)i, i * 7 + 1);
	}
	UNIT_ASSERT_INT(misaligned, 0);
	/* No block overlaps another: each still holds its own byte. */
	for (i = 0; i < 64; i++)
		if (p[i][0] != (unsigned char)i || p[i][i * 7] != (unsigned char)i)
			bad++;
	UNIT_ASSERT_INT(bad, 0);
	CU_ASSERT(aligned16(arena_strdup(a, "x")));
	CU_ASSERT(aligned16(arena_calloc(a, 3, 5)));
	arena_free(a);
}

static void
test_used_counts_rounded(void)
{
	struct sb_arena *a = arena_new(4096);

	UNIT_ASSERT_INT(arena_used(a), 0);
	arena_alloc(a, 1);
	UNIT_ASSERT_INT(arena_used(a), 16);
	arena_alloc(a, 16);
	UNIT_ASSERT_INT(arena_used(a), 32);
	arena_alloc(a, 17);
	UNIT_ASSERT_INT(arena_used(a), 64);
	arena_free(a);
}

static void
test_minimum_chunk(void)
{
	struct sb_arena *a = arena_new(10);

	/* A tiny chunk size is raised so that small requests do not each take a malloc. */
	CU_ASSERT(arena_reserved(a) >= 1024);
	arena_free(a);
	arena_free(NULL);	/* like free(3) */
}

static void
test_growth_across_chunks(void)
{
	struct sb_arena	*a = arena_new(1024);
	unsigned char	*p[200];
	size_t		 i, bad = 0, first = arena_reserved(a);

	UNIT_ASSERT_INT(first, 1024);
	for (i = 0; i < 200; i++) {
		p[i] = arena_alloc(a, 100);
		memset(p[i], (int)(i & 0xff), 100);
	}
	UNIT_ASSERT_INT(arena_used(a), 200 * 112);
	CU_ASSERT(arena_reserved(a) >= 200 * 112);
	CU_ASSERT(arena_reserved(a) > first);
	for (i = 0; i < 200; i++)
		if (p[i][0] != (unsigned char)i || p[i][99] != (unsigned char)i)
			bad++;
	UNIT_ASSERT_INT(bad, 0);
	arena_free(a);
}

static void
test_oversized(void)
{
	struct sb_arena	*a = arena_new(4096);
	size_t		 big = 1024 * 1024 + 3, i, bad = 0;
	unsigned char	*p, *q, *r;

	q = arena_alloc(a, 32);
	memset(q, 0x5a, 32);
	p = arena_alloc(a, big);
	CU_ASSERT(aligned16(p));
	for (i = 0; i < big; i++)
		p[i] = (unsigned char)(i * 31);
	CU_ASSERT(arena_reserved(a) >= big + 4096);
	/* Small allocations keep working after an oversized one. */
	r = arena_alloc(a, 64);
	memset(r, 0xa5, 64);
	for (i = 0; i < big; i++)
		if (p[i] != (unsigned char)(i * 31))
			bad++;
	for (i = 0; i < 32; i++)
		if (q[i] != 0x5a)
			bad++;
	UNIT_ASSERT_INT(bad, 0);
	UNIT_ASSERT_INT(arena_used(a), 32 + ((big + 15) & ~(size_t)15) + 64);
	arena_free(a);
}

static void
test_strings(void)
{
	struct sb_arena	*a = arena_new(1024);
	const char	*src = "hello, arena";
	char		*s, *t, *u, *v, *w;
	char		 longs[5001];

	s = arena_strdup(a, src);
	UNIT_ASSERT_STR(s, src);
	CU_ASSERT(s != src);
	t = arena_strndup(a, "hello", 3);
	UNIT_ASSERT_STR(t, "hel");
	u = arena_strdup(a, "");
	UNIT_ASSERT_STR(u, "");
	v = arena_printf(a, "%s-%d-%05.1f", "abc", 42, 3.5);
	UNIT_ASSERT_STR(v, "abc-42-003.5");
	/* A string longer than a chunk goes to an oversized chunk, intact. */
	memset(longs, 'x', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	w = arena_printf(a, "<%s>", longs);
	UNIT_ASSERT_INT(strlen(w), 5002);
	CU_ASSERT(w[0] == '<' && w[5001] == '>' && w[2500] == 'x');
	/* Earlier strings are untouched by later ones. */
	UNIT_ASSERT_STR(s, src);
	UNIT_ASSERT_STR(t, "hel");
	arena_free(a);
}

static void
test_calloc_zeroes_reused_memory(void)
{
	struct sb_arena	*a = arena_new(1024);
	unsigned char	*p;
	size_t		 i, nonzero = 0;

	p = arena_alloc(a, 512);
	memset(p, 0xff, 512);
	arena_reset(a);
	/* The same bytes come back after a reset; calloc must clear them. */
	p = arena_calloc(a, 64, 8);
	for (i = 0; i < 512; i++)
		nonzero += p[i] != 0;
	UNIT_ASSERT_INT(nonzero, 0);
	arena_free(a);
}

static void
test_reset(void)
{
	struct sb_arena	*a = arena_new(2048);
	char		*p;
	int		 i;

	for (i = 0; i < 100; i++)
		arena_alloc(a, 300);
	arena_alloc(a, 100000);
	CU_ASSERT(arena_reserved(a) > 2048);
	arena_reset(a);
	UNIT_ASSERT_INT(arena_used(a), 0);
	UNIT_ASSERT_INT(arena_reserved(a), 2048);
	/* Still usable, both within the kept chunk and beyond it. */
	p = arena_strdup(a, "after reset");
	UNIT_ASSERT_STR(p, "after reset");
	p = arena_alloc(a, 10000);
	memset(p, 1, 10000);
	CU_ASSERT(p[9999] == 1);
	UNIT_ASSERT_INT(arena_used(a), 16 + 10000);
	arena_free(a);
}

/* A request-like workload: small strings, a header array, one large body. */
static void
workload(struct sb_arena *a, int n)
{
	int i;

	for (i = 0; i < 50; i++)
		arena_printf(a, "header-%d: value-%d", i, n);
	arena_calloc(a, 16, sizeof(void *));
	memset(arena_alloc(a, 70000), 0, 70000);
	arena_strdup(a, "/api/v1/version");
}

static void
test_reserved_stable_over_cycles(void)
{
	struct sb_arena	*a = arena_new(4096);
	size_t		 peak_first, idle_first, peak, grew = 0, leaked = 0;
	int		 n;

	workload(a, 0);
	peak_first = arena_reserved(a);
	arena_reset(a);
	idle_first = arena_reserved(a);
	for (n = 1; n <= 1000; n++) {
		workload(a, n);
		peak = arena_reserved(a);
		if (peak > peak_first)
			grew++;
		arena_reset(a);
		if (arena_reserved(a) != idle_first || arena_used(a) != 0)
			leaked++;
	}
	UNIT_ASSERT_INT(grew, 0);
	UNIT_ASSERT_INT(leaked, 0);
	UNIT_ASSERT_INT(idle_first, 4096);
	arena_free(a);
}

/* ------------------------------------------------------------ cleanups */

/* Each cleanup appends its number to a log. */
static int	 ran[20000];
static size_t	 nran;

static void
note(void *p)
{
	if (nran < sizeof(ran) / sizeof(ran[0]))
		ran[nran] = *(int *)p;
	nran++;
}

static void
test_defer_order(void)
{
	struct sb_arena	*a = arena_new(1024);
	int		*v;
	int		 i;

	nran = 0;
	for (i = 1; i <= 3; i++) {
		v = arena_alloc(a, sizeof(*v));	/* arena memory: still there when they run */
		*v = i;
		arena_defer(a, note, v);
	}
	UNIT_ASSERT_INT(nran, 0);
	arena_reset(a);
	UNIT_ASSERT_INT(nran, 3);
	UNIT_ASSERT_INT(ran[0], 3);
	UNIT_ASSERT_INT(ran[1], 2);
	UNIT_ASSERT_INT(ran[2], 1);
	/* Run once: a second reset has nothing left to run. */
	arena_reset(a);
	UNIT_ASSERT_INT(nran, 3);
	arena_free(a);
	UNIT_ASSERT_INT(nran, 3);
}

static void
test_defer_on_free(void)
{
	struct sb_arena	*a = arena_new(1024);
	static int	 seven = 7;

	nran = 0;
	arena_defer(a, note, &seven);
	arena_free(a);
	UNIT_ASSERT_INT(nran, 1);
	UNIT_ASSERT_INT(ran[0], 7);
}

static void
test_defer_many(void)
{
	struct sb_arena	*a = arena_new(4096);
	static int	 vals[10000];
	size_t		 i, wrong = 0, idle;
	int		 round;

	idle = arena_reserved(a);
	for (round = 0; round < 3; round++) {
		nran = 0;
		for (i = 0; i < 10000; i++) {
			vals[i] = (int)i;
			arena_defer(a, note, &vals[i]);
		}
		arena_reset(a);
		UNIT_ASSERT_INT(nran, 10000);
		for (i = 0; i < 10000; i++)
			if (ran[i] != (int)(9999 - i))
				wrong++;
		UNIT_ASSERT_INT(wrong, 0);
		/* The records went with the chunks they filled. */
		UNIT_ASSERT_INT(arena_reserved(a), idle);
		UNIT_ASSERT_INT(arena_used(a), 0);
	}
	arena_free(a);
}

/* A cleanup that registers another: it runs in the same reset. */
static struct sb_arena *chain_arena;

static void
chain(void *p)
{
	static int	 late = 99;

	note(p);
	arena_defer(chain_arena, note, &late);
}

static void
test_defer_from_cleanup(void)
{
	static int	 first = 1;

	chain_arena = arena_new(1024);
	nran = 0;
	arena_defer(chain_arena, chain, &first);
	arena_reset(chain_arena);
	UNIT_ASSERT_INT(nran, 2);
	UNIT_ASSERT_INT(ran[0], 1);
	UNIT_ASSERT_INT(ran[1], 99);
	arena_reset(chain_arena);
	UNIT_ASSERT_INT(nran, 2);
	arena_free(chain_arena);
}

static void
test_adopt(void)
{
	struct sb_arena	*a = arena_new(1024);
	json_t		*v = json_string("kept"), *got;

	/* The arena holds one reference: ours is given up, the caller's extra survives. */
	json_incref(v);
	got = arena_adopt_json(a, v);
	CU_ASSERT_PTR_EQUAL(got, v);
	UNIT_ASSERT_INT(v->refcount, 2);
	arena_reset(a);
	UNIT_ASSERT_INT(v->refcount, 1);
	json_decref(v);
	/* NULL registers nothing. */
	CU_ASSERT_PTR_NULL(arena_adopt_json(a, NULL));
	CU_ASSERT_PTR_NULL(arena_adopt_result(a, NULL));
	UNIT_ASSERT_INT(arena_used(a), 0);
	/* A result is cleared at reset (ASan reports a leak otherwise). */
	CU_ASSERT_PTR_NOT_NULL(arena_adopt_result(a, PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK)));
	CU_ASSERT(arena_used(a) > 0);
	arena_free(a);
}

void
suite_arena(void)
{
	CU_pSuite s = unit_suite("arena", NULL, NULL);

	unit_test(s, "allocations are 16-byte aligned and disjoint", test_alignment);
	unit_test(s, "arena_used counts rounded sizes", test_used_counts_rounded);
	unit_test(s, "tiny chunk sizes are raised; arena_free(NULL) is safe", test_minimum_chunk);
	unit_test(s, "growth across chunks keeps earlier blocks", test_growth_across_chunks);
	unit_test(s, "oversized allocations get their own chunk", test_oversized);
	unit_test(s, "strdup, strndup and printf", test_strings);
	unit_test(s, "calloc zeroes memory reused after reset", test_calloc_zeroes_reused_memory);
	unit_test(s, "reset frees extra chunks and stays usable", test_reset);
	unit_test(s, "cleanups run newest first, once, at reset", test_defer_order);
	unit_test(s, "arena_free runs the cleanups", test_defer_on_free);
	unit_test(s, "10000 cleanups run in reverse; their records are freed", test_defer_many);
	unit_test(s, "a cleanup registered by a cleanup runs too", test_defer_from_cleanup);
	unit_test(s, "adopted JSON and results are released at reset", test_adopt);
	unit_test(s, "reserved bytes stable over 1000 reset cycles",
	    test_reserved_stable_over_cycles);
}
