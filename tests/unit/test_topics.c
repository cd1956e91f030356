/* test_topics.c: switchboard-stream's topic table (stream/topics.c): find, add, grow,
 * remove and prune, with many topics and with chains that share a bucket. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>

#include "stream/stream.h"
#include "tests/unit/unit.h"
#include "core/arena.h"

/* Two kinds: a topic is found by kind and id together. */
static const struct topic_kind kind_a = { "a", NULL, NULL, NULL, 0 };
static const struct topic_kind kind_b = { "b", NULL, NULL, NULL, 1 };

/* Counts the topics a walk visits. */
static size_t
walk(const struct topic_table *tab)
{
	struct topic	*t;
	size_t		 i, n = 0;

	TOPICS_FOREACH(t, tab, i)
		n++;
	return n;
}

static void
test_topics_basic(void)
{
	struct topic_table	 tab;
	struct topic		*a, *b;
	char			 longid[64];

	memset(&tab, 0, sizeof(tab));
	CU_ASSERT_PTR_NULL(topics_find(&tab, &kind_a, "r1"));	/* empty: no buckets */
	UNIT_ASSERT_INT(walk(&tab), 0);
	a = topics_add(&tab, &kind_a, "r1");
	UNIT_ASSERT_STR(a->id, "r1");
	CU_ASSERT(a->kind == &kind_a);
	CU_ASSERT(LIST_EMPTY(&a->subs));
	UNIT_ASSERT_INT(a->nsubs, 0);
	UNIT_ASSERT_INT(a->dirty, 0);
	UNIT_ASSERT_INT(a->last.n, 0);
	UNIT_ASSERT_INT(tab.n, 1);
	UNIT_ASSERT_INT(tab.cap, 1024);
	CU_ASSERT(topics_find(&tab, &kind_a, "r1") == a);
	/* The same id of another kind is another topic. */
	CU_ASSERT_PTR_NULL(topics_find(&tab, &kind_b, "r1"));
	b = topics_add(&tab, &kind_b, "r1");
	CU_ASSERT(b != a);
	CU_ASSERT(topics_find(&tab, &kind_a, "r1") == a);
	CU_ASSERT(topics_find(&tab, &kind_b, "r1") == b);
	CU_ASSERT_PTR_NULL(topics_find(&tab, &kind_a, "r"));
	CU_ASSERT_PTR_NULL(topics_find(&tab, &kind_a, "r12"));
	UNIT_ASSERT_INT(walk(&tab), 2);
	topics_remove(&tab, a);
	CU_ASSERT_PTR_NULL(topics_find(&tab, &kind_a, "r1"));
	CU_ASSERT(topics_find(&tab, &kind_b, "r1") == b);
	UNIT_ASSERT_INT(tab.n, 1);
	/* An id is cut to what a topic holds, and found by what was kept. */
	memset(longid, 'x', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	a = topics_add(&tab, &kind_a, longid);
	UNIT_ASSERT_INT(strlen(a->id), sizeof(a->id) - 1);
	longid[sizeof(a->id) - 1] = '\0';
	CU_ASSERT(topics_find(&tab, &kind_a, longid) == a);
	topics_free(&tab);
	UNIT_ASSERT_INT(tab.n, 0);
	UNIT_ASSERT_INT(tab.cap, 0);
	CU_ASSERT_PTR_NULL(tab.buckets);
	CU_ASSERT_PTR_NULL(topics_find(&tab, &kind_a, longid));
}

/* n ids that all land in bucket 0 of a table of cap buckets (the low bits of the
 * hash are 0), into ids[i] (40 bytes each). */
static void
colliding(char (*ids)[40], size_t n, size_t cap)
{
	size_t	 found = 0;
	long	 k;

	for (k = 0; found < n; k++) {
		snprintf(ids[found], 40, "run-%ld", k);
		if ((fnv1a(ids[found]) & (cap - 1)) == 0)
			found++;
	}
}

static void
test_topics_collisions(void)
{
	struct topic_table	 tab;
	struct topic		*t[24];
	char			 ids[24][40];
	size_t			 i;

	memset(&tab, 0, sizeof(tab));
	colliding(ids, 24, 1024);
	for (i = 0; i < 24; i++)
		t[i] = topics_add(&tab, i % 2 ? &kind_b : &kind_a, ids[i]);
	UNIT_ASSERT_INT(tab.cap, 1024);		/* 24 topics: no growth */
	for (i = 0; i < 24; i++) {
		CU_ASSERT(topics_find(&tab, i % 2 ? &kind_b : &kind_a, ids[i]) == t[i]);
		CU_ASSERT_PTR_NULL(topics_find(&tab, i % 2 ? &kind_a : &kind_b, ids[i]));
	}
	/* All in one chain: removing its head, its tail and one in the middle leaves
	 * the others found. */
	topics_remove(&tab, t[23]);		/* the head (added last) */
	topics_remove(&tab, t[0]);		/* the tail */
	topics_remove(&tab, t[11]);
	UNIT_ASSERT_INT(tab.n, 21);
	UNIT_ASSERT_INT(walk(&tab), 21);
	for (i = 0; i < 24; i++)
		CU_ASSERT(topics_find(&tab, i % 2 ? &kind_b : &kind_a, ids[i]) ==
		    (i == 0 || i == 11 || i == 23 ? NULL : t[i]));
	topics_free(&tab);
}

static void
test_topics_grow(void)
{
	enum { N = 20000 };
	struct topic_table	 tab;
	struct topic		**t = sb_calloc(N, sizeof(*t));
	char			 id[40];
	size_t			 i, cap = 0, grew = 0;

	memset(&tab, 0, sizeof(tab));
	for (i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "%08zx-0000-4000-8000-%012zx", i * 7919, i);
		t[i] = topics_add(&tab, &kind_a, id);
		t[i]->last.n = (int64_t)i;
		if (tab.cap != cap) {
			grew++;
			cap = tab.cap;
		}
		/* Never over 3/4 full, always a power of two. */
		CU_ASSERT(tab.n * 4 <= tab.cap * 3);
		CU_ASSERT((tab.cap & (tab.cap - 1)) == 0);
	}
	UNIT_ASSERT_INT(tab.n, N);
	UNIT_ASSERT_INT(tab.cap, 32768);	/* 1024, doubled five times */
	UNIT_ASSERT_INT(grew, 6);
	UNIT_ASSERT_INT(walk(&tab), N);
	/* Every topic moved to its new bucket with what it held. */
	for (i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "%08zx-0000-4000-8000-%012zx", i * 7919, i);
		if (topics_find(&tab, &kind_a, id) != t[i] || t[i]->last.n != (int64_t)i) {
			CU_FAIL(id);
			break;
		}
	}
	/* Half go; the other half are still found; the table does not shrink. */
	for (i = 0; i < N; i += 2)
		topics_remove(&tab, t[i]);
	UNIT_ASSERT_INT(tab.n, N / 2);
	UNIT_ASSERT_INT(walk(&tab), N / 2);
	for (i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "%08zx-0000-4000-8000-%012zx", i * 7919, i);
		if ((topics_find(&tab, &kind_a, id) == NULL) != (i % 2 == 0)) {
			CU_FAIL(id);
			break;
		}
	}
	UNIT_ASSERT_INT(tab.cap, 32768);
	topics_free(&tab);
	free(t);
}

static void
test_topics_prune(void)
{
	struct topic_table	 tab;
	struct topic		*t[40];
	char			 ids[40][40];
	size_t			 i;

	memset(&tab, 0, sizeof(tab));
	colliding(ids, 20, 1024);		/* one long chain, and 20 elsewhere */
	for (i = 20; i < 40; i++)
		snprintf(ids[i], 40, "org-%zu", i);
	for (i = 0; i < 40; i++) {
		t[i] = topics_add(&tab, &kind_b, ids[i]);
		t[i]->nsubs = i % 3 == 0;	/* watched: 0, 3, 6, ... */
	}
	UNIT_ASSERT_INT(topics_prune(&tab), 26);
	UNIT_ASSERT_INT(tab.n, 14);
	UNIT_ASSERT_INT(walk(&tab), 14);
	for (i = 0; i < 40; i++)
		CU_ASSERT((topics_find(&tab, &kind_b, ids[i]) != NULL) == (i % 3 == 0));
	UNIT_ASSERT_INT(topics_prune(&tab), 0);	/* nothing left to prune */
	for (i = 0; i < 40; i += 3)
		t[i]->nsubs = 0;
	UNIT_ASSERT_INT(topics_prune(&tab), 14);
	UNIT_ASSERT_INT(tab.n, 0);
	UNIT_ASSERT_INT(walk(&tab), 0);
	topics_free(&tab);
}

static void
test_topics_hash(void)
{
	/* FNV-1a 64, as published: the empty string is the offset basis. */
	CU_ASSERT(fnv1a("") == 0xcbf29ce484222325ULL);
	CU_ASSERT(fnv1a("a") == 0xaf63dc4c8601ec8cULL);
	CU_ASSERT(fnv1a("foobar") == 0x85944171f73967e8ULL);
}

void
suite_topics(void)
{
	CU_pSuite s = unit_suite("topics", NULL, NULL);

	unit_test(s, "a topic is found by kind and id, added and removed", test_topics_basic);
	unit_test(s, "topics sharing a bucket are each found and removed", test_topics_collisions);
	unit_test(s, "20000 topics: the table doubles, every topic still found",
	    test_topics_grow);
	unit_test(s, "pruning frees exactly the topics nobody watches", test_topics_prune);
	unit_test(s, "the hash is FNV-1a 64", test_topics_hash);
}
