/* ratelimit.c: GCRA rate limits in memcached, exact across processes. */
#include "config.h"

#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmemcached/memcached.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/arena.h"
#include "core/cache.h"
#include "core/err.h"
#include "core/log.h"
#include "core/ratelimit.h"

/*
 * GCRA (the generic cell rate algorithm) keeps one number per bucket, its
 * theoretical arrival time (TAT): the time at which the bucket is full again.
 * With an emission interval T = period / limit and a burst tolerance
 * tau = T * (limit - 1), a request at time now is allowed when
 * max(TAT, now) - now <= tau, and then moves TAT to max(TAT, now) + T.
 * A fresh bucket thus allows `limit` requests at once, then one every T.
 *
 * The TAT lives in one memcached item per bucket, in wall-clock microseconds
 * (several hosts share memcached) as decimal text.  It is read with gets and
 * written back with cas, or add when absent, so two takers of the same bucket
 * cannot both spend the same slot: the loser reads again and decides again.
 * A refusal writes nothing.
 */

#define RL_US		1000000
#define RL_TRIES	16		/* reads and writes before giving up on a hot bucket */
#define RL_TTL_SLACK	2		/* seconds an item outlives its bucket's refill */
#define RL_REL_MAX	(30 * 24 * 3600)	/* longer expiries are Unix times to memcached */

static int64_t
rl_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * RL_US + ts.tv_nsec / 1000;
}

static int
rl_ceil_s(int64_t us)
{
	return (int)((us + RL_US - 1) / RL_US);
}

/* The TAT an item holds, or -1 if it holds something else. */
static int64_t
rl_parse(const char *v, size_t len)
{
	char		 buf[24], *end;
	long long	 t;

	if (v == NULL || len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, v, len);
	buf[len] = '\0';
	t = strtoll(buf, &end, 10);
	if (*end != '\0' || t < 0 || t == LLONG_MAX)
		return -1;
	return (int64_t)t;
}

/*
 * Reads a bucket's item with gets.  SB_OK with *tat (-1 if unreadable) and *cas,
 * SB_ERR_NOT_FOUND, or SB_ERR_UNAVAILABLE with *rc saying why.
 */
static enum sb_err
rl_read(memcached_st *mc, const char *key, size_t keylen, int64_t *tat, uint64_t *cas,
    memcached_return_t *rc)
{
	memcached_result_st	 res;
	const char		*keys[1] = { key };
	size_t			 lens[1] = { keylen };
	enum sb_err		 err = SB_ERR_NOT_FOUND;

	if ((*rc = memcached_mget(mc, keys, lens, 1)) != MEMCACHED_SUCCESS)
		return SB_ERR_UNAVAILABLE;
	if (memcached_result_create(mc, &res) == NULL)
		sb_oom(sizeof(res));
	/* Drain to the end even after the one answer, or the next command reads it. */
	while (memcached_fetch_result(mc, &res, rc) != NULL) {
		if (err == SB_OK)
			continue;
		*tat = rl_parse(memcached_result_value(&res), memcached_result_length(&res));
		*cas = memcached_result_cas(&res);
		err = SB_OK;
	}
	if (*rc != MEMCACHED_END && *rc != MEMCACHED_NOTFOUND && *rc != MEMCACHED_SUCCESS)
		err = SB_ERR_UNAVAILABLE;
	memcached_result_free(&res);
	return err;
}

static int
rl_policy_ok(const struct rl_policy *p)
{
	return p->limit >= 1 && p->period_s >= 1;
}

/* The expiry for an item whose bucket is full again in d microseconds. */
static int64_t
rl_expiry(int64_t now, int64_t d)
{
	int64_t ttl = (int64_t)rl_ceil_s(d) + RL_TTL_SLACK;

	if (ttl > RL_REL_MAX)
		return now / RL_US + ttl;
	return ttl;
}

/*
 * The GCRA decision for one request, with no I/O: the arithmetic ratelimit_take()
 * applies to what it read.  tat is the bucket's stored TAT in wall-clock
 * microseconds, or -1 when there is none (absent or unreadable); now is the wall
 * clock in microseconds.  Fills *r whether allowed or not; when allowed, also
 * *new_tat (the TAT to store) and *expiry (the item's memcached expiry: seconds
 * from now, or a Unix time when that is over 30 days).  SB_ERR_INVALID for a
 * policy with limit or period_s below 1, SB_OK otherwise.
 */
enum sb_err
ratelimit_decide(const struct rl_policy *p, int64_t tat, int64_t now, struct rl_result *r,
    int64_t *new_tat, int64_t *expiry)
{
	int64_t t, tau, d;

	memset(r, 0, sizeof(*r));
	if (!rl_policy_ok(p))
		return SB_ERR_INVALID;
	r->limit = p->limit;
	/* T is rounded down: at worst the bucket refills `limit` microseconds
	 * early per period, and a burst is still exactly `limit`. */
	if ((t = (int64_t)p->period_s * RL_US / p->limit) < 1)
		t = 1;
	tau = t * (p->limit - 1);
	/* Absent, unreadable or in the past: a full bucket.  Beyond what one
	 * allowed request can leave (another host's clock runs ahead, or the
	 * policy was shortened): as if just emptied.  So d never exceeds
	 * limit * T <= period: no value read can overflow what follows. */
	if (tat < now)
		tat = now;
	if (tat - now > tau + t)
		tat = now + tau + t;
	d = tat - now;
	if (d > tau) {
		r->reset_s = rl_ceil_s(d);
		r->retry_after_s = rl_ceil_s(d - tau);
		return SB_OK;
	}
	d += t;
	*new_tat = tat + t;
	*expiry = rl_expiry(now, d);
	r->allowed = 1;
	r->remaining = (int)((p->limit * t - d) / t);
	r->reset_s = rl_ceil_s(d);
	return SB_OK;
}

/*
 * Takes one request from the bucket named key (any string: see cache_key).
 * SB_OK with *r filled, whether allowed or not; SB_ERR_INVALID for a policy
 * with limit or period_s below 1; SB_ERR_UNAVAILABLE (logged) when memcached
 * cannot be reached or answers with an error; SB_ERR_INTERNAL if the cache
 * handle does not return CAS values.  Nothing is kept between calls, so any
 * number of processes may share buckets; each needs its own cache.
 */
enum sb_err
ratelimit_take(struct sb_cache *c, const char *key, const struct rl_policy *p,
    struct rl_result *r)
{
	memcached_st		*mc;
	memcached_return_t	 rc = MEMCACHED_SUCCESS;
	enum sb_err		 err;
	char			 mkey[CACHE_KEY_MAX + 1], val[24];
	size_t			 mlen;
	int64_t			 now, tat, new_tat, expiry;
	uint64_t		 cas = 0;
	int			 tries, found, n, io_retried = 0;

	memset(r, 0, sizeof(*r));
	if (!rl_policy_ok(p))
		return SB_ERR_INVALID;
	r->limit = p->limit;
	if (c == NULL)
		return SB_ERR_UNAVAILABLE;
	mc = cache_handle(c);
	mlen = cache_key(mkey, "rl", key, strlen(key));

	for (tries = 0; tries < RL_TRIES; tries++) {
		now = rl_now_us();
		err = rl_read(mc, mkey, mlen, &tat, &cas, &rc);
		/* One retry after an I/O error: it reconnects (see cache_open). */
		if (err == SB_ERR_UNAVAILABLE && cache_io_error(rc) && !io_retried++) {
			cache_reconnect(c);
			mc = cache_handle(c);
			err = rl_read(mc, mkey, mlen, &tat, &cas, &rc);
		}
		if (err == SB_ERR_UNAVAILABLE)
			goto out;
		found = err == SB_OK;
		if (found && cas == 0) {
			log_error("memcached returned no CAS value", NULL);
			err = SB_ERR_INTERNAL;
			goto out;
		}
		(void)ratelimit_decide(p, found ? tat : -1, now, r, &new_tat, &expiry);
		if (!r->allowed) {
			err = SB_OK;
			goto out;
		}
		n = snprintf(val, sizeof(val), "%" PRId64, new_tat);
		if (found)
			rc = memcached_cas(mc, mkey, mlen, val, (size_t)n, (time_t)expiry, 0, cas);
		else
			rc = memcached_add(mc, mkey, mlen, val, (size_t)n, (time_t)expiry, 0);
		switch (rc) {
		case MEMCACHED_SUCCESS:
		case MEMCACHED_STORED:
			err = SB_OK;
			goto out;
		case MEMCACHED_DATA_EXISTS:	/* another taker wrote first */
		case MEMCACHED_NOTSTORED:	/* another taker added first */
		case MEMCACHED_NOTFOUND:	/* expired or evicted since the read */
			break;
		default:
			if (cache_io_error(rc) && !io_retried++) {
				cache_reconnect(c);	/* read and decide again, afresh */
				mc = cache_handle(c);
				break;
			}
			err = SB_ERR_UNAVAILABLE;
			goto out;
		}
	}
	/* Lost the race RL_TRIES times in a row: the bucket is contended hard
	 * enough that refusing this one request, which spent nothing, is cheaper
	 * than waiting; it may come back in a second.  reset_s is the last
	 * decision's. */
	r->allowed = 0;
	r->remaining = 0;
	r->retry_after_s = 1;
	err = SB_OK;
out:
	if (err != SB_OK) {
		/* A failed take decided nothing, whatever an earlier try decided. */
		memset(r, 0, sizeof(*r));
		r->limit = p->limit;
	}
	if (err == SB_ERR_UNAVAILABLE)
		log_warn("rate limit: memcached unavailable", "{s:s}", "error",
		    memcached_strerror(mc, rc));
	return err;
}
