/* ratecheck.c: core/ratelimit.c against a real memcached: bursts, refill,
 * exactness across processes, odd keys, an unreachable server.
 * usage: sb-ratecheck SERVERS; prints "ok - ..." or "FAIL - ..." per check. */
#include "config.h"

#include <sys/wait.h>

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmemcached/memcached.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "core/cache.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/ratelimit.h"

#define SECRET	"ratecheck-secret-0123456789abcdef0123"

#define TIMEOUT_MS	1000

static int		 failed;
static const char	*servers;
static char		 run_id[64];	/* keeps buckets of earlier runs apart */

static void
expect(int cond, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
expect(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", cond ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		failed++;
}

/* A bucket name no earlier run of this program used. */
static const char *
bucket(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "ratecheck:%s:%s", run_id, name);
	return buf;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

/* Takes n times; returns how many were allowed (-1 on an error). */
static int
take_n(struct sb_cache *c, const char *key, const struct rl_policy *p, int n)
{
	struct rl_result	 r;
	int			 i, allowed = 0;

	for (i = 0; i < n; i++) {
		if (ratelimit_take(c, key, p, &r) != SB_OK)
			return -1;
		allowed += r.allowed;
	}
	return allowed;
}

/* A fresh bucket of 10 a minute: ten at once, counting down, then a refusal. */
static void
check_burst(struct sb_cache *c)
{
	struct rl_policy	 p = { 10, 60 };
	struct rl_result	 r;
	char			 key[128];
	int			 i, ok_allow = 1, ok_remaining = 1, ok_reset = 1, ok_retry = 1;
	int			 ok_limit = 1, last_reset = 0;

	bucket(key, sizeof(key), "burst");
	for (i = 0; i < 10; i++) {
		if (ratelimit_take(c, key, &p, &r) != SB_OK || !r.allowed) {
			ok_allow = 0;
			break;
		}
		if (r.remaining != 9 - i)
			ok_remaining = 0;
		if (r.reset_s < 1 || r.reset_s > 60 || r.reset_s < last_reset)
			ok_reset = 0;
		if (r.retry_after_s != 0)
			ok_retry = 0;
		if (r.limit != 10)
			ok_limit = 0;
		last_reset = r.reset_s;
	}
	expect(ok_allow, "ratelimit: a fresh bucket of 10/60s allows 10 at once");
	expect(ok_remaining, "ratelimit: remaining counts down 9..0");
	expect(ok_reset && last_reset == 60,
	    "ratelimit: reset_s grows by the interval to 60 (got %d)", last_reset);
	expect(ok_retry && ok_limit,
	    "ratelimit: an allowed request has retry_after 0 and limit 10");
	expect(ratelimit_take(c, key, &p, &r) == SB_OK && !r.allowed,
	    "ratelimit: the 11th is refused");
	expect(r.remaining == 0 && r.retry_after_s >= 1 && r.retry_after_s <= 6,
	    "ratelimit: refused with remaining 0 and 1 <= retry_after_s <= 6 (got %d, %d)",
	    r.remaining, r.retry_after_s);
	expect(r.reset_s >= 59 && r.reset_s <= 60 && r.limit == 10,
	    "ratelimit: a refusal reports reset_s ~60 (got %d)", r.reset_s);
}

/* 5 a second: T = 200 ms, so after 250 ms exactly one more. */
static void
check_refill(struct sb_cache *c)
{
	struct rl_policy	 p = { 5, 1 };
	struct rl_result	 r;
	char			 key[128];
	int			 n;

	bucket(key, sizeof(key), "refill");
	n = take_n(c, key, &p, 6);
	expect(n == 5, "ratelimit: 5/1s allows 5 of 6 at once (got %d)", n);
	sleep_ms(250);
	expect(ratelimit_take(c, key, &p, &r) == SB_OK && r.allowed && r.remaining == 0,
	    "ratelimit: one emission interval later, one more is allowed");
	expect(ratelimit_take(c, key, &p, &r) == SB_OK && !r.allowed && r.retry_after_s == 1,
	    "ratelimit: and only one");
}

static memcached_return_t
sum_badval(const memcached_instance_st *srv, const char *key, size_t keylen,
    const char *val, size_t vallen, void *arg)
{
	char buf[32];

	(void)srv;
	if (keylen == 10 && memcmp(key, "cas_badval", 10) == 0 && vallen < sizeof(buf)) {
		memcpy(buf, val, vallen);
		buf[vallen] = '\0';
		*(int64_t *)arg += strtoll(buf, NULL, 10);
	}
	return MEMCACHED_SUCCESS;
}

/* memcached's count of cas commands that lost to another writer, or -1: shows
 * that the processes below did race. */
static int64_t
cas_badval(struct sb_cache *c)
{
	int64_t n = 0;

	if (memcached_stat_execute(cache_handle(c), NULL, sum_badval, &n) != MEMCACHED_SUCCESS)
		return -1;
	return n;
}

/* One child: its own cache, waits for the start, takes for a second, reports. */
static void
hammer_child(const char *key, int go_fd, int out_fd)
{
	struct rl_policy	 p = { 200, 3600 };
	struct rl_result	 r;
	struct sb_cache		*c;
	int64_t			 end;
	int			 counts[2] = { 0, 0 };	/* allowed, errors */
	char			 b;

	if ((c = cache_open(servers, TIMEOUT_MS, "ratecheck-secret-0123456789abcdef0123")) == NULL)
		_exit(3);
	if (read(go_fd, &b, 1) < 0)
		_exit(3);
	end = clock_mono_us() + 1000000;
	while (clock_mono_us() < end) {
		if (ratelimit_take(c, key, &p, &r) != SB_OK)
			counts[1]++;
		else
			counts[0] += r.allowed;
	}
	cache_close(c);
	if (write(out_fd, counts, sizeof(counts)) != (ssize_t)sizeof(counts))
		_exit(3);
	/* _exit: the parent's stdio and cache belong to the parent. */
	_exit(0);
}

/* nproc processes take from one bucket of 200 at once: exactly 200 get through. */
static void
check_processes(struct sb_cache *c, int nproc)
{
	pid_t	 pids[8];
	char	 key[128], name[32], each[128];
	int	 go[2], out[2], counts[2], i, status, total = 0, errors = 0, bad = 0;
	size_t	 off = 0;
	int64_t	 lost0, lost1;

	snprintf(name, sizeof(name), "procs%d", nproc);
	bucket(key, sizeof(key), name);
	if (pipe(go) == -1 || pipe(out) == -1) {
		expect(0, "ratelimit: pipes for %d processes", nproc);
		return;
	}
	lost0 = cas_badval(c);
	fflush(stdout);
	for (i = 0; i < nproc; i++) {
		if ((pids[i] = fork()) == -1) {
			expect(0, "ratelimit: fork");
			nproc = i;
			break;
		}
		if (pids[i] == 0) {
			close(go[1]);
			close(out[0]);
			hammer_child(key, go[0], out[1]);
		}
	}
	close(go[0]);
	close(out[1]);
	sleep_ms(100);		/* let every child connect before the start */
	close(go[1]);		/* the start: every read returns 0 */
	each[0] = '\0';
	for (i = 0; i < nproc; i++) {
		if (read(out[0], counts, sizeof(counts)) != (ssize_t)sizeof(counts)) {
			bad++;
			continue;
		}
		total += counts[0];
		errors += counts[1];
		off += (size_t)snprintf(each + off, sizeof(each) - off, "%s%d",
		    i ? "+" : "", counts[0]);
		if (off >= sizeof(each))
			off = sizeof(each) - 1;
	}
	close(out[0]);
	for (i = 0; i < nproc; i++)
		if (waitpid(pids[i], &status, 0) == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			bad++;
	lost1 = cas_badval(c);
	expect(bad == 0 && errors == 0,
	    "ratelimit: %d processes hammered one bucket without errors (%d errors, %d bad)",
	    nproc, errors, bad);
	expect(lost1 - lost0 > 0 && lost0 >= 0,
	    "ratelimit: %d processes raced: memcached refused some of their cas writes", nproc);
	expect(total == 200, "ratelimit: %d processes got exactly 200 of 200/3600s "
	    "(%s = %d; %" PRId64 " writes lost a race and were retried)", nproc, each, total,
	    lost0 < 0 || lost1 < 0 ? -1 : lost1 - lost0);
}

/* Buckets do not share: one empty leaves another full. */
static void
check_independent(struct sb_cache *c)
{
	struct rl_policy	 p = { 2, 60 };
	struct rl_result	 r;
	char			 a[128], b[128];

	bucket(a, sizeof(a), "indep-a");
	bucket(b, sizeof(b), "indep-b");
	expect(take_n(c, a, &p, 3) == 2, "ratelimit: bucket a allows 2 of 3");
	expect(ratelimit_take(c, b, &p, &r) == SB_OK && r.allowed && r.remaining == 1,
	    "ratelimit: bucket b is untouched by a");
}

/* Keys memcached would refuse as they are: each is a bucket of its own. */
static void
check_odd_keys(struct sb_cache *c)
{
	struct rl_policy	 p = { 2, 60 };
	char			 sp[128], ctl[128], utf[128], l1[320], l2[320], edge[260];
	size_t			 n;

	bucket(sp, sizeof(sp), "a key with spaces");
	expect(take_n(c, sp, &p, 3) == 2, "ratelimit: a key with spaces holds its count");
	bucket(ctl, sizeof(ctl), "tab\tnewline\r\nend");
	expect(take_n(c, ctl, &p, 3) == 2,
	    "ratelimit: a key with control characters holds its count");
	bucket(utf, sizeof(utf), "caf\xc3\xa9");
	expect(take_n(c, utf, &p, 3) == 2, "ratelimit: a key with UTF-8 holds its count");

	/* Two 300-byte keys that differ only in their last byte. */
	n = (size_t)snprintf(l1, sizeof(l1), "ratecheck:%s:", run_id);
	memset(l1 + n, 'x', 300 - n);
	l1[300] = '\0';
	memcpy(l2, l1, sizeof(l1));
	l2[299] = 'y';
	expect(take_n(c, l1, &p, 3) == 2, "ratelimit: a 300-byte key holds its count");
	expect(take_n(c, l2, &p, 1) == 1,
	    "ratelimit: a 300-byte key differing in its last byte is another bucket");

	/* Around memcached's 250-byte limit: keys are hashed, so length does not matter. */
	n = (size_t)snprintf(edge, sizeof(edge), "ratecheck:%s:", run_id);
	memset(edge + n, 'e', 247 - n);
	edge[247] = '\0';
	expect(take_n(c, edge, &p, 3) == 2, "ratelimit: a 247-byte key holds its count");
	edge[247] = 'e';
	edge[248] = '\0';
	expect(take_n(c, edge, &p, 3) == 2, "ratelimit: a 248-byte key holds its count");
}

/* Writes an item under a bucket's memcached key as another program could: raw bytes,
 * no seal (rate limit items carry none: a forged one can only refuse or allow what
 * deleting it would). */
static void
raw_set(struct sb_cache *c, const char *bucket_key, const char *val)
{
	char	 mkey[CACHE_KEY_MAX + 1];
	size_t	 n = cache_key(mkey, "rl", bucket_key, strlen(bucket_key));

	(void)memcached_set(cache_handle(c), mkey, n, val, strlen(val), 60, 0);
}

/* Items the code did not write: garbage is a full bucket, a far-future TAT is clamped. */
static void
check_foreign_items(struct sb_cache *c)
{
	struct rl_policy	 p = { 3, 60 };
	struct rl_result	 r;
	char			 key[128], val[32];
	enum sb_err		 err;

	bucket(key, sizeof(key), "garbage");
	raw_set(c, key, "garbage");
	expect(ratelimit_take(c, key, &p, &r) == SB_OK && r.allowed && r.remaining == 2,
	    "ratelimit: an unreadable item counts as a full bucket");

	bucket(key, sizeof(key), "future");
	snprintf(val, sizeof(val), "%" PRId64, (clock_real_ms() + 36000000) * 1000);
	raw_set(c, key, val);
	err = ratelimit_take(c, key, &p, &r);
	expect(err == SB_OK && !r.allowed &&
	    r.retry_after_s >= 1 && r.retry_after_s <= 20 && r.reset_s <= 60,
	    "ratelimit: a TAT ten hours ahead waits at most one interval (retry_after %d)",
	    r.retry_after_s);
}

static void
check_errors(void)
{
	struct rl_policy	 zero = { 0, 60 }, noperiod = { 10, 0 }, p = { 10, 60 };
	struct rl_result	 r;
	struct sb_cache		*down;
	int64_t			 t0;
	enum sb_err		 e1, e2;

	down = cache_open("127.0.0.1:1", TIMEOUT_MS, SECRET);
	t0 = clock_mono_us();
	e1 = ratelimit_take(down, "ratecheck:down", &p, &r);
	e2 = ratelimit_take(down, "ratecheck:down", &p, &r);
	expect(e1 == SB_ERR_UNAVAILABLE && e2 == SB_ERR_UNAVAILABLE,
	    "ratelimit: an unreachable server is unavailable (%s, %s)", sb_err_name(e1),
	    sb_err_name(e2));
	expect(clock_mono_us() - t0 < 1000000, "ratelimit: and says so within a second (%" PRId64
	    " ms for two)", (clock_mono_us() - t0) / 1000);
	expect(ratelimit_take(NULL, "ratecheck:none", &p, &r) == SB_ERR_UNAVAILABLE,
	    "ratelimit: no cache at all is unavailable");
	expect(ratelimit_take(down, "ratecheck:down", &zero, &r) == SB_ERR_INVALID,
	    "ratelimit: limit 0 is invalid");
	expect(ratelimit_take(down, "ratecheck:down", &noperiod, &r) == SB_ERR_INVALID,
	    "ratelimit: period 0 is invalid");
	cache_close(down);
}

/* Raw bytes under the memcached key of (ns, id), as another program could write them. */
static void
raw_put(struct sb_cache *c, const char *ns, const char *id, const void *val, size_t len)
{
	char	 mkey[CACHE_KEY_MAX + 1];
	size_t	 n = cache_key(mkey, ns, id, strlen(id));

	(void)memcached_set(cache_handle(c), mkey, n, val, len, 60, 0);
}

/* The raw bytes stored for (ns, id): malloc'd, or NULL. */
static char *
raw_get(struct sb_cache *c, const char *ns, const char *id, size_t *len)
{
	char			 mkey[CACHE_KEY_MAX + 1];
	size_t			 n = cache_key(mkey, ns, id, strlen(id));
	uint32_t		 flags;
	memcached_return_t	 rc;

	return memcached_get(cache_handle(c), mkey, n, len, &flags, &rc);
}

/* Values are sealed: what another program writes, copies or replays reads as absent. */
static void
check_seal(struct sb_cache *c)
{
	struct sb_cache	*other;
	char		 a[128], b[128], *v, *raw;
	size_t		 len, rawlen;
	uint64_t	 forged0 = cache_forged(c);

	snprintf(a, sizeof(a), "ratecheck:%s:a\r\nset pwned 0 0 1 noreply\r\nx", run_id);
	snprintf(b, sizeof(b), "ratecheck:%s:b", run_id);
	expect(cache_set(c, "sess", a, "owner", 5, 60) == SB_OK &&
	    cache_get(c, "sess", a, &v, &len) == SB_OK && len == 5 && memcmp(v, "owner", 5) == 0,
	    "cache: a value comes back as stored, under an id with CR LF and spaces");
	if (len == 5)
		free(v);
	expect(memcached_exist(cache_handle(c), "pwned", 5) != MEMCACHED_SUCCESS,
	    "cache: the id's bytes never reach memcached's protocol");

	/* Another program writes a plain value, or a well-formed one with a wrong MAC. */
	raw_put(c, "sess", b, "owner", 5);
	expect(cache_get(c, "sess", b, &v, &len) == SB_ERR_NOT_FOUND,
	    "cache: a value written without the seal is a miss");
	raw = raw_get(c, "sess", a, &rawlen);
	expect(raw != NULL && rawlen == 5 + 40, "cache: a sealed value is the value and 40 bytes");
	if (raw != NULL) {
		raw[rawlen - 1] = 'X';
		raw_put(c, "sess", a, raw, rawlen);
		expect(cache_get(c, "sess", a, &v, &len) == SB_ERR_NOT_FOUND,
		    "cache: a sealed value changed by one byte is a miss");
		raw[rawlen - 1] = 'r';
		/* A genuine value moved under another key: bound to its key, so refused. */
		raw_put(c, "sess", b, raw, rawlen);
		expect(cache_get(c, "sess", b, &v, &len) == SB_ERR_NOT_FOUND,
		    "cache: a sealed value copied under another key is a miss");
		raw_put(c, "key", a, raw, rawlen);
		expect(cache_get(c, "key", a, &v, &len) == SB_ERR_NOT_FOUND,
		    "cache: a sealed value copied under another namespace is a miss");
		free(raw);
	}
	/* A genuine value kept and put back after its expiry: refused by its own clock. */
	expect(cache_set(c, "sess", b, "owner", 5, 1) == SB_OK &&
	    (raw = raw_get(c, "sess", b, &rawlen)) != NULL, "cache: a value with a 1 s TTL");
	if (raw != NULL) {
		sleep(2);
		raw_put(c, "sess", b, raw, rawlen);
		expect(cache_get(c, "sess", b, &v, &len) == SB_ERR_NOT_FOUND,
		    "cache: a sealed value replayed after its expiry is a miss");
		free(raw);
	}
	/* Another secret (another installation, or an attacker's guess) seals differently. */
	if ((other = cache_open(servers, TIMEOUT_MS, "another-secret-0123456789abcdef0123456")) != NULL) {
		expect(cache_set(other, "sess", b, "owner", 5, 60) == SB_OK &&
		    cache_get(c, "sess", b, &v, &len) == SB_ERR_NOT_FOUND,
		    "cache: a value sealed under another secret is a miss");
		cache_close(other);
	}
	expect(cache_forged(c) - forged0 == 6, "cache: each refusal is counted (%llu)",
	    (unsigned long long)(cache_forged(c) - forged0));
}

int
main(int argc, char *argv[])
{
	struct sb_cache	*c;

	if (argc != 2) {
		fprintf(stderr, "usage: sb-ratecheck SERVERS\n");
		return 2;
	}
	servers = argv[1];
	log_init("sb-ratecheck", SB_LOG_ERROR);
	snprintf(run_id, sizeof(run_id), "%ld.%" PRId64, (long)getpid(), clock_real_ms());
	if ((c = cache_open(servers, TIMEOUT_MS, SECRET)) == NULL || cache_ping(c) != SB_OK) {
		expect(0, "ratelimit: memcached at %s answers", servers);
		cache_close(c);
		return 1;
	}
	check_burst(c);
	check_refill(c);
	check_processes(c, 2);
	check_processes(c, 4);
	check_independent(c);
	check_odd_keys(c);
	check_foreign_items(c);
	check_seal(c);
	check_errors();
	cache_close(c);
	return failed ? 1 : 0;
}
