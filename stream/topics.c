/* topics.c: switchboard-stream's table of topics by kind and key (a chained hash table
 * whose buckets double past 3/4 full); the hub decides what goes in and out. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>

#include "stream/topics.h"
#include "core/arena.h"

#define TOPICS_FIRST_CAP	1024

uint64_t
fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ULL;	/* the FNV offset basis */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct topic_chain *
bucket(const struct topic_table *tab, const char *id)
{
	return &tab->buckets[fnv1a(id) & (tab->cap - 1)];
}

struct topic *
topics_find(const struct topic_table *tab, const struct topic_kind *kind, const char *id)
{
	struct topic *t;

	if (tab->cap == 0)
		return NULL;
	SLIST_FOREACH(t, bucket(tab, id), hlink)
		if (t->kind == kind && strcmp(t->id, id) == 0)
			return t;
	return NULL;
}

static void
grow(struct topic_table *tab)
{
	struct topic_chain	*old = tab->buckets;
	struct topic		*t;
	size_t			 oldcap = tab->cap, i;

	tab->cap = oldcap ? oldcap * 2 : TOPICS_FIRST_CAP;
	tab->buckets = sb_calloc(tab->cap, sizeof(*tab->buckets));	/* SLIST_INIT */
	for (i = 0; i < oldcap; i++)
		while ((t = SLIST_FIRST(&old[i])) != NULL) {
			SLIST_REMOVE_HEAD(&old[i], hlink);
			SLIST_INSERT_HEAD(bucket(tab, t->id), t, hlink);
		}
	free(old);
}

struct topic *
topics_add(struct topic_table *tab, const struct topic_kind *kind, const char *id)
{
	struct topic *t;

	if (tab->n + 1 > tab->cap * 3 / 4)
		grow(tab);
	t = sb_calloc(1, sizeof(*t));
	t->kind = kind;
	snprintf(t->id, sizeof(t->id), "%s", id);
	LIST_INIT(&t->subs);
	SLIST_INSERT_HEAD(bucket(tab, t->id), t, hlink);
	tab->n++;
	return t;
}

void
topics_remove(struct topic_table *tab, struct topic *t)
{
	SLIST_REMOVE(bucket(tab, t->id), t, topic, hlink);
	tab->n--;
	free(t);
}

size_t
topics_prune(struct topic_table *tab)
{
	struct topic	*t, *next;
	size_t		 i, gone = 0;

	for (i = 0; i < tab->cap; i++)
		for (t = SLIST_FIRST(&tab->buckets[i]); t != NULL; t = next) {
			next = SLIST_NEXT(t, hlink);
			if (t->nsubs == 0) {
				topics_remove(tab, t);
				gone++;
			}
		}
	return gone;
}

void
topics_free(struct topic_table *tab)
{
	struct topic	*t;
	size_t		 i;

	for (i = 0; i < tab->cap; i++)
		while ((t = SLIST_FIRST(&tab->buckets[i])) != NULL) {
			SLIST_REMOVE_HEAD(&tab->buckets[i], hlink);
			free(t);
		}
	free(tab->buckets);
	memset(tab, 0, sizeof(*tab));
}
