/* metrics.h: Prometheus metrics: counters, gauges and histograms in shared memory
 * updated with relaxed atomics, their text form, and the small /metrics HTTP
 * listener of the daemons without a web server in front. */
#ifndef SB_CORE_METRICS_H
#define SB_CORE_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Metrics live in one MAP_SHARED region created before fork and are updated
 * with relaxed atomics, so a scrape of any process sees every process' work. */
#define HIST_BUCKETS 14
extern const double hist_bounds_s[HIST_BUCKETS - 1];	/* the last bucket is +Inf */

struct sb_hist {
	uint64_t	 bucket[HIST_BUCKETS];	/* non-cumulative */
	uint64_t	 count;
	uint64_t	 sum_us;
};

void	*metrics_shm_new(size_t size);		/* zeroed, shared with children; never freed */
void	 hist_observe(struct sb_hist *, int64_t us);
void	 hist_render(FILE *, const char *name, const char *labels, const struct sb_hist *);
static inline void
counter_add(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}
static inline uint64_t
counter_get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}
static inline void
gauge_add(int64_t *g, int64_t n)
{
	__atomic_fetch_add(g, n, __ATOMIC_RELAXED);
}

/* GET /metrics over plain HTTP for the daemons without a web server in front (the
 * worker, the stream responder): a non-blocking listener on an IPv4 "address:port"
 * (-1, logged, if empty or unusable), and the answers to what waits on it, each the
 * text render() returns (malloc'd; freed here).  A slow scraper is cut off at 200 ms. */
int	 metrics_http_listen(const char *addr);
void	 metrics_http_accept(int fd, char *(*render)(void *arg, size_t *len), void *arg);
/* One counter or gauge with its HELP and TYPE lines. */
void	 metrics_counter(FILE *, const char *name, const char *help, uint64_t v);
void	 metrics_gauge(FILE *, const char *name, const char *help, long long v);

#endif /* SB_CORE_METRICS_H */
