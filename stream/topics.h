/* topics.h: switchboard-stream's table of topics (what somebody watches) by kind and key.
 * No I/O and no globals: the hub owns one table; the unit tests make their own. */
#ifndef SB_STREAM_TOPICS_H
#define SB_STREAM_TOPICS_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include "core/cursor.h"

struct sconn;
struct topic_kind;

/* What somebody watches: one run's log, one org's feed.  last: the last event read
 * for it and fanned out.  subs: its subscribers, linked through sconn.tlink. */
struct topic {
	SLIST_ENTRY(topic)		 hlink;		/* its bucket's chain */
	const struct topic_kind		*kind;
	char				 id[40];
	struct sb_cursor		 last;
	LIST_HEAD(, sconn)		 subs;
	int				 nsubs;
	int				 dirty;
};

SLIST_HEAD(topic_chain, topic);

/* A hash table of topics by (kind, id), chained; an empty table is all zeroes. */
struct topic_table {
	struct topic_chain	*buckets;	/* cap of them (a power of two), or NULL */
	size_t			 n, cap;
};

/* FNV-1a of a string, for the process' hash tables. */
uint64_t	 fnv1a(const char *);

/* The topic of this kind and id, or NULL. */
struct topic	*topics_find(const struct topic_table *, const struct topic_kind *,
		    const char *id);
/* A new topic of this kind and id (at most 39 bytes are kept; the table must not
 * hold it yet), zeroed but for those, with no subscribers.  The table owns it and
 * grows to keep at most 3/4 of its buckets' number of topics; never NULL. */
struct topic	*topics_add(struct topic_table *, const struct topic_kind *, const char *id);
/* Takes t out of the table and frees it.  t's subscribers must have left. */
void		 topics_remove(struct topic_table *, struct topic *t);
/* Removes and frees every topic nobody watches (nsubs == 0): how many went. */
size_t		 topics_prune(struct topic_table *);
/* Frees every topic and the buckets: the table is empty again. */
void		 topics_free(struct topic_table *);

/* Walks every topic of tab (i: a size_t); the body must not add or remove topics. */
#define TOPICS_FOREACH(t, tab, i)					\
	for ((i) = 0; (i) < (tab)->cap; (i)++)				\
		SLIST_FOREACH((t), &(tab)->buckets[(i)], hlink)

#endif /* SB_STREAM_TOPICS_H */
