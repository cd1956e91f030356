/* metrics.c: counters and histograms in memory shared by every process of a program. */
#include "config.h"

#include <sys/mman.h>

#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/arena.h"
#include "core/metrics.h"

/* Upper bounds of the latency buckets, in seconds (Prometheus convention). */
const double hist_bounds_s[HIST_BUCKETS - 1] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5
};

void *
metrics_shm_new(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		sb_oom(size);
	return p;	/* mmap gives zeroed pages */
}

void
hist_observe(struct sb_hist *h, int64_t us)
{
	double	 s = (double)us / 1e6;
	int	 i;

	if (us < 0)
		us = 0;
	for (i = 0; i < HIST_BUCKETS - 1; i++)
		if (s <= hist_bounds_s[i])
			break;
	counter_add(&h->bucket[i], 1);
	counter_add(&h->sum_us, (uint64_t)us);
	counter_add(&h->count, 1);
}

/* Writes the _bucket, _sum and _count lines; labels is "" or `a="b",c="d"`. */
void
hist_render(FILE *f, const char *name, const char *labels, const struct sb_hist *h)
{
	uint64_t	 cum = 0;
	const char	*sep = labels[0] != '\0' ? "," : "";
	int		 i;

	for (i = 0; i < HIST_BUCKETS; i++) {
		cum += counter_get(&h->bucket[i]);
		if (i < HIST_BUCKETS - 1)
			fprintf(f, "%s_bucket{%s%sle=\"%g\"} %lu\n", name, labels, sep,
			    hist_bounds_s[i], (unsigned long)cum);
		else
			fprintf(f, "%s_bucket{%s%sle=\"+Inf\"} %lu\n", name, labels, sep,
			    (unsigned long)cum);
	}
	fprintf(f, "%s_sum%s%s%s %.6f\n", name, *sep ? "{" : "", labels, *sep ? "}" : "",
	    (double)counter_get(&h->sum_us) / 1e6);
	fprintf(f, "%s_count%s%s%s %lu\n", name, *sep ? "{" : "", labels, *sep ? "}" : "",
	    (unsigned long)counter_get(&h->count));
}
