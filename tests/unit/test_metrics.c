/* test_metrics.c: shared-memory counters and histograms, across processes. */
#include "config.h"

#include <sys/wait.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/metrics.h"
#include "fcgi-app/appmetrics.h"
#include "tests/unit/unit.h"

#define NCHILDREN	4
#define NEACH		10000

struct shared {
	uint64_t	 counter;
	struct sb_hist	 hist;
};

static void
test_aggregation_across_processes(void)
{
	struct shared	*sh = metrics_shm_new(sizeof(*sh));
	pid_t		 pid[NCHILDREN];
	uint64_t	 buckets = 0, want_sum = 0;
	int		 i, j, status, ok = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(sh);
	UNIT_ASSERT_INT(sh->counter, 0);	/* zeroed */
	fflush(NULL);	/* a child must not flush the parent's buffered output again */
	for (i = 0; i < NCHILDREN; i++) {
		if ((pid[i] = fork()) == 0) {
			for (j = 0; j < NEACH; j++) {
				hist_observe(&sh->hist, j);
				counter_add(&sh->counter, 1);
			}
			_exit(0);
		}
		CU_ASSERT_FATAL(pid[i] > 0);
	}
	for (i = 0; i < NCHILDREN; i++)
		if (waitpid(pid[i], &status, 0) == pid[i] && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0)
			ok++;
	UNIT_ASSERT_INT(ok, NCHILDREN);
	UNIT_ASSERT_INT(counter_get(&sh->counter), NCHILDREN * NEACH);
	UNIT_ASSERT_INT(counter_get(&sh->hist.count), NCHILDREN * NEACH);
	for (i = 0; i < HIST_BUCKETS; i++)
		buckets += counter_get(&sh->hist.bucket[i]);
	UNIT_ASSERT_INT(buckets, NCHILDREN * NEACH);
	for (j = 0; j < NEACH; j++)
		want_sum += (uint64_t)j;
	UNIT_ASSERT_INT(counter_get(&sh->hist.sum_us), NCHILDREN * want_sum);
}

/* Which bucket did one observation of us land in? */
static int
bucket_of(int64_t us)
{
	struct sb_hist	 h;
	int		 i, found = -1;

	memset(&h, 0, sizeof(h));
	hist_observe(&h, us);
	for (i = 0; i < HIST_BUCKETS; i++)
		if (h.bucket[i] == 1)
			found = found < 0 ? i : -2;
	return found;
}

static void
test_buckets(void)
{
	struct sb_hist h;

	UNIT_ASSERT_INT(bucket_of(0), 0);
	UNIT_ASSERT_INT(bucket_of(500), 0);		/* bounds are inclusive: le */
	UNIT_ASSERT_INT(bucket_of(501), 1);
	UNIT_ASSERT_INT(bucket_of(1000), 1);
	UNIT_ASSERT_INT(bucket_of(10000), 4);
	UNIT_ASSERT_INT(bucket_of(1000000), 10);
	UNIT_ASSERT_INT(bucket_of(5000000), HIST_BUCKETS - 2);
	UNIT_ASSERT_INT(bucket_of(5000001), HIST_BUCKETS - 1);	/* +Inf */
	UNIT_ASSERT_INT(bucket_of(-5), 0);

	memset(&h, 0, sizeof(h));
	hist_observe(&h, -5);
	UNIT_ASSERT_INT(h.sum_us, 0);	/* a clock step back adds nothing */
	UNIT_ASSERT_INT(h.count, 1);
}

/* Checks rendered histogram text: cumulative buckets ending in +Inf == count. */
static void
check_render(const char *text, const char *name, const char *labels, uint64_t count,
    double sum_s)
{
	char		 prefix[256], line[512];
	const char	*p = text, *nl;
	uint64_t	 v, prev = 0;
	int		 nbuckets = 0, decreasing = 0, inf_last = 0, count_ok = 0, sum_ok = 0;
	double		 d;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		snprintf(line, sizeof(line), "%.*s", (int)(nl != NULL ? nl - p : (long)strlen(p)), p);
		p = nl != NULL ? nl + 1 : p + strlen(p);
		snprintf(prefix, sizeof(prefix), "%s_bucket{%s%sle=\"", name, labels,
		    labels[0] ? "," : "");
		if (strncmp(line, prefix, strlen(prefix)) == 0) {
			v = strtoull(strrchr(line, ' ') + 1, NULL, 10);
			decreasing += v < prev;
			prev = v;
			nbuckets++;
			inf_last = strstr(line, "le=\"+Inf\"") != NULL;
			continue;
		}
		if (labels[0])
			snprintf(prefix, sizeof(prefix), "%s_count{%s} ", name, labels);
		else
			snprintf(prefix, sizeof(prefix), "%s_count ", name);
		if (strncmp(line, prefix, strlen(prefix)) == 0)
			count_ok = strtoull(line + strlen(prefix), NULL, 10) == count;
		if (labels[0])
			snprintf(prefix, sizeof(prefix), "%s_sum{%s} ", name, labels);
		else
			snprintf(prefix, sizeof(prefix), "%s_sum ", name);
		if (strncmp(line, prefix, strlen(prefix)) == 0) {
			d = strtod(line + strlen(prefix), NULL);
			sum_ok = d > sum_s - 1e-6 && d < sum_s + 1e-6;
		}
	}
	UNIT_ASSERT_INT(nbuckets, HIST_BUCKETS);
	UNIT_ASSERT_INT(decreasing, 0);
	UNIT_ASSERT_INT(prev, count);
	CU_ASSERT(count_ok);
	CU_ASSERT(sum_ok);
	CU_ASSERT(inf_last);	/* the last bucket is +Inf, and (above) equals count */
}

static char *
render(const struct sb_hist *h, const char *name, const char *labels)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	hist_render(f, name, labels, h);
	fclose(f);
	return buf;
}

static void
test_render(void)
{
	struct sb_hist	 h;
	int64_t		 obs[] = { 100, 700, 700, 3000, 40000, 2000000, 9000000 };
	size_t		 i;
	char		*text;

	memset(&h, 0, sizeof(h));
	for (i = 0; i < sizeof(obs) / sizeof(obs[0]); i++)
		hist_observe(&h, obs[i]);

	text = render(&h, "t_seconds", "route=\"/x\",method=\"GET\"");
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	check_render(text, "t_seconds", "route=\"/x\",method=\"GET\"", 7, 11.0445);
	UNIT_ASSERT_CONTAINS(text, "t_seconds_bucket{route=\"/x\",method=\"GET\",le=\"0.0005\"} 1\n");
	UNIT_ASSERT_CONTAINS(text, "t_seconds_bucket{route=\"/x\",method=\"GET\",le=\"0.001\"} 3\n");
	UNIT_ASSERT_CONTAINS(text, "t_seconds_bucket{route=\"/x\",method=\"GET\",le=\"5\"} 6\n");
	UNIT_ASSERT_CONTAINS(text, "t_seconds_bucket{route=\"/x\",method=\"GET\",le=\"+Inf\"} 7\n");
	free(text);

	text = render(&h, "t_seconds", "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	check_render(text, "t_seconds", "", 7, 11.0445);
	UNIT_ASSERT_CONTAINS(text, "t_seconds_bucket{le=\"+Inf\"} 7\n");
	UNIT_ASSERT_CONTAINS(text, "t_seconds_count 7\n");
	CU_ASSERT_PTR_NULL(strstr(text, "{,"));
	free(text);
}

static void
test_status_slot(void)
{
	size_t	 i;
	int	 wrong = 0;

	UNIT_ASSERT_INT(status_slot(200), 0);
	UNIT_ASSERT_INT(status_slots[status_slot(404)], 404);
	UNIT_ASSERT_INT(status_slots[status_slot(413)], 413);
	UNIT_ASSERT_INT(status_slots[status_slot(503)], 503);
	UNIT_ASSERT_INT(status_slot(503), STATUS_SLOTS - 2);
	for (i = 0; i < STATUS_SLOTS - 1; i++)
		wrong += status_slot(status_slots[i]) != (int)i;
	UNIT_ASSERT_INT(wrong, 0);	/* also: no status listed twice */
	UNIT_ASSERT_INT(status_slot(418), STATUS_SLOTS - 1);
	UNIT_ASSERT_INT(status_slot(499), STATUS_SLOTS - 1);
	UNIT_ASSERT_INT(status_slot(0), STATUS_SLOTS - 1);
	UNIT_ASSERT_INT(status_slot(-1), STATUS_SLOTS - 1);
	UNIT_ASSERT_INT(status_slot(99999), STATUS_SLOTS - 1);
}

void
suite_metrics(void)
{
	CU_pSuite s = unit_suite("metrics", NULL, NULL);

	unit_test(s, "aggregation across 4 processes", test_aggregation_across_processes);
	unit_test(s, "histogram bucket boundaries", test_buckets);
	unit_test(s, "hist_render: cumulative buckets ending in +Inf", test_render);
	unit_test(s, "status_slot", test_status_slot);
}
