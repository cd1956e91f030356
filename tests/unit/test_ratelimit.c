/* test_ratelimit.c: the GCRA arithmetic of core/ratelimit.c (ratelimit_decide), without memcached. */
#include "config.h"

#include <limits.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/ratelimit.h"
#include "tests/unit/unit.h"

#define US	1000000LL
#define NOW	(1800000000LL * US)	/* a wall clock in 2027, in microseconds */

/* What one take decided, and the bucket's TAT after it (unchanged when refused). */
struct take {
	enum sb_err		 err;
	struct rl_result	 r;
	int64_t			 expiry;
};

static struct take
take(const struct rl_policy *p, int64_t *tat, int64_t now)
{
	struct take	 t;
	int64_t		 next = -7;

	memset(&t, 0, sizeof(t));
	t.expiry = -7;
	t.err = ratelimit_decide(p, *tat, now, &t.r, &next, &t.expiry);
	if (t.r.allowed)
		*tat = next;
	else
		CU_ASSERT(next == -7 && t.expiry == -7);	/* a refusal stores nothing */
	return t;
}

/* The four numbers a take answers with, checked at the caller's line (t is
 * evaluated once: it may be a take). */
#define EXPECT(t, allowed_, remaining_, reset_, retry_) do {		\
	struct take e_ = (t);						\
									\
	UNIT_ASSERT_INT(e_.r.allowed, (allowed_));			\
	UNIT_ASSERT_INT(e_.r.remaining, (remaining_));			\
	UNIT_ASSERT_INT(e_.r.reset_s, (reset_));			\
	UNIT_ASSERT_INT(e_.r.retry_after_s, (retry_));			\
} while (0)

static void
test_rl_burst(void)
{
	struct rl_policy	 p = { 5, 60 };		/* T = 12 s, tau = 48 s */
	struct take		 t;
	int64_t			 tat = -1;
	int			 i;

	for (i = 1; i <= 5; i++) {
		t = take(&p, &tat, NOW);
		UNIT_ASSERT_INT(t.err, SB_OK);
		UNIT_ASSERT_INT(t.r.limit, 5);
		EXPECT(t, 1, 5 - i, 12 * i, 0);
		UNIT_ASSERT_INT(tat, NOW + 12 * US * i);
		UNIT_ASSERT_INT(t.expiry, 12 * i + 2);	/* outlives its refill by 2 s */
	}
	/* The sixth at the same instant: refused until one interval has passed. */
	t = take(&p, &tat, NOW);
	UNIT_ASSERT_INT(t.err, SB_OK);
	UNIT_ASSERT_INT(t.r.limit, 5);
	EXPECT(t, 0, 0, 60, 12);
	UNIT_ASSERT_INT(tat, NOW + 60 * US);
}

static void
test_rl_steady(void)
{
	struct rl_policy	 p = { 5, 60 };
	struct take		 t;
	int64_t			 tat = NOW + 60 * US;	/* just emptied by a burst at NOW */
	int64_t			 now;
	int			 i;

	/* One request per interval is allowed for good, none in between. */
	for (i = 1, now = NOW + 12 * US; i <= 10; i++, now += 12 * US) {
		t = take(&p, &tat, now - 1);
		EXPECT(t, 0, 0, 49, 1);		/* 1 microsecond short, rounded up */
		t = take(&p, &tat, now);
		EXPECT(t, 1, 0, 60, 0);
		UNIT_ASSERT_INT(tat, now + 60 * US);
	}
	/* A bucket left alone for a whole period is full again. */
	t = take(&p, &tat, tat);
	EXPECT(t, 1, 4, 12, 0);
}

static void
test_rl_retry_after(void)
{
	struct rl_policy	 p = { 5, 60 };
	struct take		 t;
	int64_t			 tat = NOW + 60 * US;

	t = take(&p, &tat, NOW + 5 * US);		/* 7 s short of the next slot */
	EXPECT(t, 0, 0, 55, 7);
	t = take(&p, &tat, NOW + US / 2);		/* 11.5 s short: 12, never 11 */
	EXPECT(t, 0, 0, 60, 12);			/* 59.5 s, rounded up */
	t = take(&p, &tat, NOW + 12 * US - 1);	/* one microsecond short */
	EXPECT(t, 0, 0, 49, 1);
	/* Under a second per interval: three a second, and retry after is still >= 1. */
	p.limit = 3;
	p.period_s = 1;
	tat = -1;
	UNIT_ASSERT_INT(take(&p, &tat, NOW).r.remaining, 2);
	UNIT_ASSERT_INT(take(&p, &tat, NOW).r.remaining, 1);
	EXPECT(take(&p, &tat, NOW), 1, 0, 1, 0);
	EXPECT(take(&p, &tat, NOW), 0, 0, 1, 1);
}

static void
test_rl_clock(void)
{
	struct rl_policy	 p = { 5, 60 };
	int64_t			 tat;

	/* A TAT in the past (the bucket refilled long ago) is a full bucket. */
	tat = NOW - 3600 * US;
	EXPECT(take(&p, &tat, NOW), 1, 4, 12, 0);
	UNIT_ASSERT_INT(tat, NOW + 12 * US);
	/* This clock went back 30 s since the last take: it sees 42 s of debt, still
	 * within the burst, and is allowed with what is left. */
	EXPECT(take(&p, &tat, NOW - 30 * US), 1, 0, 54, 0);
	UNIT_ASSERT_INT(tat, NOW + 24 * US);
	/* Another host's clock ten minutes ahead wrote a TAT beyond what one take can
	 * leave: as if just emptied, never ten minutes of refusal. */
	tat = NOW + 600 * US;
	EXPECT(take(&p, &tat, NOW), 0, 0, 60, 12);
	/* A TAT exactly one full period and one interval ahead is taken as it is. */
	tat = NOW + 60 * US;
	UNIT_ASSERT_INT(take(&p, &tat, NOW).r.retry_after_s, 12);
}

static void
test_rl_expiry(void)
{
	struct rl_policy	 p = { 1, 2591998 };	/* refill 2 s short of 30 days */
	struct take		 t;
	int64_t			 tat = -1;

	/* Up to 30 days, memcached takes an expiry as seconds from now... */
	t = take(&p, &tat, NOW);
	UNIT_ASSERT_INT(t.r.allowed, 1);
	UNIT_ASSERT_INT(t.expiry, 2592000);
	/* ...beyond, as a Unix time. */
	p.period_s = 2591999;
	tat = -1;
	t = take(&p, &tat, NOW);
	UNIT_ASSERT_INT(t.expiry, NOW / US + 2592001);
	p.period_s = 60 * 86400;
	tat = -1;
	t = take(&p, &tat, NOW + US / 2);
	UNIT_ASSERT_INT(t.expiry, NOW / US + 60 * 86400 + 2);
	UNIT_ASSERT_INT(t.r.reset_s, 60 * 86400);
}

static void
test_rl_large(void)
{
	struct rl_policy	 p = { 1, INT_MAX };
	struct take		 t;
	int64_t			 tat = -1;

	/* One a period of 68 years: reset and retry after still fit an int. */
	t = take(&p, &tat, NOW);
	UNIT_ASSERT_INT(t.r.allowed, 1);
	UNIT_ASSERT_INT(t.r.reset_s, INT_MAX);
	UNIT_ASSERT_INT(t.expiry, NOW / US + (int64_t)INT_MAX + 2);
	EXPECT(take(&p, &tat, NOW), 0, 0, INT_MAX, INT_MAX);
	/* The largest TAT an item can hold: clamped, not overflowed. */
	p.limit = 5;
	p.period_s = 60;
	tat = LLONG_MAX - 1;
	t = take(&p, &tat, NOW);
	UNIT_ASSERT_INT(t.err, SB_OK);
	EXPECT(t, 0, 0, 60, 12);
	/* More requests than microseconds per period: the interval is one microsecond. */
	p.limit = INT_MAX;
	p.period_s = 1;
	tat = -1;
	EXPECT(take(&p, &tat, NOW), 1, INT_MAX - 1, 1, 0);
	UNIT_ASSERT_INT(tat, NOW + 1);
}

static void
test_rl_invalid(void)
{
	static const struct rl_policy bad[] = { { 0, 60 }, { 5, 0 }, { -1, 60 }, { 5, -60 },
	    { INT_MIN, INT_MIN } };
	struct rl_result	 r;
	int64_t			 tat = 5, expiry = 5;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&r, 0xff, sizeof(r));
		UNIT_ASSERT_INT(ratelimit_decide(&bad[i], -1, NOW, &r, &tat, &expiry),
		    SB_ERR_INVALID);
		UNIT_ASSERT_INT(r.allowed, 0);
		UNIT_ASSERT_INT(tat, 5);
		UNIT_ASSERT_INT(expiry, 5);
	}
}

void
suite_ratelimit(void)
{
	CU_pSuite s = unit_suite("ratelimit", NULL, NULL);

	unit_test(s, "a fresh bucket allows limit at once, then refuses", test_rl_burst);
	unit_test(s, "then one per interval, and full again after a period", test_rl_steady);
	unit_test(s, "retry after and reset are rounded up, never 0", test_rl_retry_after);
	unit_test(s, "a clock behind or ahead costs at most one period", test_rl_clock);
	unit_test(s, "expiries over 30 days are Unix times", test_rl_expiry);
	unit_test(s, "extreme policies and TATs do not overflow", test_rl_large);
	unit_test(s, "a policy below 1 is refused and decides nothing", test_rl_invalid);
}
