/* ratelimit.h: rate limits: GCRA over memcached, exact across processes and hosts. */
#ifndef SB_CORE_RATELIMIT_H
#define SB_CORE_RATELIMIT_H

#include <stdint.h>
#include "core/cache.h"
#include "core/err.h"

/* GCRA (the generic cell rate algorithm) over memcached: one item per bucket holds
 * its theoretical arrival time and is updated with CAS, so a limit holds exactly
 * across processes and hosts.  `limit` requests per `period_s`, in bursts of up to
 * `limit`. */
struct rl_policy {
	int	 limit;
	int	 period_s;
};

struct rl_result {
	int	 allowed;	/* 1: go ahead; 0: refused */
	int	 limit;		/* RateLimit-Limit */
	int	 remaining;	/* RateLimit-Remaining: requests still allowed right now */
	int	 reset_s;	/* RateLimit-Reset: seconds until the bucket is full again */
	int	 retry_after_s;	/* when refused: seconds until one more is allowed (>= 1) */
};

/* Takes one request from the bucket named key.  SB_OK with *r filled, or
 * SB_ERR_UNAVAILABLE if memcached cannot be reached: the caller then applies its
 * fail-open or fail-closed policy. */
enum sb_err	 ratelimit_take(struct sb_cache *, const char *key, const struct rl_policy *,
		    struct rl_result *r);
/* The arithmetic of one take, with no I/O (ratelimit_take reads, calls it, and
 * writes what it decided).  tat: the bucket's stored theoretical arrival time in
 * wall-clock microseconds, -1 for none; now: the wall clock in microseconds.  Fills
 * *r, allowed or not; when allowed also *new_tat (to store) and *expiry (the item's
 * memcached expiry: seconds, or a Unix time beyond 30 days).  SB_ERR_INVALID for a
 * policy with limit or period_s below 1. */
enum sb_err	 ratelimit_decide(const struct rl_policy *, int64_t tat, int64_t now,
		    struct rl_result *r, int64_t *new_tat, int64_t *expiry);

#endif /* SB_CORE_RATELIMIT_H */
