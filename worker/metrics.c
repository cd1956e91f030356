/* metrics.c: the worker's GET /metrics (Prometheus text) on a small loopback HTTP listener. */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "worker.h"

#define REQUEST_MAX	2048

int
wmetrics_listen(const char *addr)
{
	struct sockaddr_in	 sin;
	char			 host[64];
	const char		*colon;
	int			 fd, one = 1;
	long			 port;

	if (addr == NULL || addr[0] == '\0')
		return -1;
	colon = strrchr(addr, ':');
	if (colon == NULL || (size_t)(colon - addr) >= sizeof(host) ||
	    (port = strtol(colon + 1, NULL, 10)) <= 0 || port > 65535) {
		log_error("worker.metrics_listen is not address:port", "{s:s}", "value", addr);
		return -1;
	}
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		log_error("worker.metrics_listen needs an IPv4 address", "{s:s}", "value", addr);
		return -1;
	}
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 16) < 0) {
		log_warn("metrics listener not started", "{s:s, s:s}", "address", addr,
		    "error", strerror(errno));
		close(fd);
		return -1;
	}
	log_info("serving /metrics", "{s:s}", "address", addr);
	return fd;
}

static void
counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
	    (unsigned long long)v);
}

static void
gauge(FILE *f, const char *name, const char *help, long long v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name, help, name, name, v);
}

static char *
render(struct worker *w, size_t *len)
{
	const struct worker_metrics	*m = &w->m;
	char				*buf = NULL;
	FILE				*f = open_memstream(&buf, len);

	if (f == NULL)
		sb_oom(0);
	gauge(f, "switchboard_worker_runs_inflight", "Runs this worker is executing.", w->nactive);
	gauge(f, "switchboard_worker_runs_held", "Runs held, including those whose end is being written.",
	    w->nruns);
	gauge(f, "switchboard_worker_rescuer", "1 if this worker sweeps expired leases.", w->leader);
	counter(f, "switchboard_worker_claims_total", "Claim statements run.", m->claims);
	counter(f, "switchboard_worker_runs_claimed_total", "Runs claimed.", m->claimed);
	fprintf(f, "# HELP switchboard_worker_runs_ended_total Attempts ended, by how.\n"
	    "# TYPE switchboard_worker_runs_ended_total counter\n");
	fprintf(f, "switchboard_worker_runs_ended_total{how=\"succeeded\"} %llu\n",
	    (unsigned long long)m->succeeded);
	fprintf(f, "switchboard_worker_runs_ended_total{how=\"failed\"} %llu\n",
	    (unsigned long long)m->failed);
	fprintf(f, "switchboard_worker_runs_ended_total{how=\"cancelled\"} %llu\n",
	    (unsigned long long)m->cancelled);
	fprintf(f, "switchboard_worker_runs_ended_total{how=\"retry\"} %llu\n",
	    (unsigned long long)m->retried);
	fprintf(f, "switchboard_worker_runs_ended_total{how=\"released\"} %llu\n",
	    (unsigned long long)m->released);
	fprintf(f, "switchboard_worker_runs_ended_total{how=\"lost\"} %llu\n",
	    (unsigned long long)m->lost);
	counter(f, "switchboard_worker_events_total", "Run events written.", m->events);
	counter(f, "switchboard_worker_flushes_total", "Flushes written.", m->flushes);
	counter(f, "switchboard_worker_flush_errors_total", "Flushes that failed and were kept.",
	    m->flush_errors);
	counter(f, "switchboard_worker_heartbeats_total", "Lease renewals.", m->heartbeats);
	counter(f, "switchboard_worker_rescued_total", "Runs whose expired lease this worker swept.",
	    m->rescued);
	counter(f, "switchboard_worker_pruned_total", "Finished runs deleted by retention.",
	    m->pruned);
	counter(f, "switchboard_worker_notifications_total", "Wake-ups received by LISTEN.",
	    m->notifies_received);
	counter(f, "switchboard_llm_calls_total", "Provider calls started.", m->llm_calls);
	counter(f, "switchboard_llm_errors_total", "Provider calls that failed.", m->llm_errors);
	counter(f, "switchboard_llm_retries_total", "Provider calls tried again within an attempt.",
	    m->llm_retries);
	counter(f, "switchboard_llm_cache_hits_total", "Answers served from the response cache.",
	    m->cache_hits);
	counter(f, "switchboard_llm_cache_misses_total", "Cacheable requests not in the cache.",
	    m->cache_misses);
	fprintf(f, "# HELP switchboard_llm_tokens_total Tokens used, by kind.\n"
	    "# TYPE switchboard_llm_tokens_total counter\n"
	    "switchboard_llm_tokens_total{kind=\"prompt\"} %llu\n"
	    "switchboard_llm_tokens_total{kind=\"completion\"} %llu\n",
	    (unsigned long long)m->prompt_tokens, (unsigned long long)m->completion_tokens);
	fprintf(f, "# HELP switchboard_worker_flush_seconds Time to write one flush.\n"
	    "# TYPE switchboard_worker_flush_seconds histogram\n");
	hist_render(f, "switchboard_worker_flush_seconds", "", &m->flush_latency);
	fprintf(f, "# HELP switchboard_worker_claim_seconds Time of one claim statement.\n"
	    "# TYPE switchboard_worker_claim_seconds histogram\n");
	hist_render(f, "switchboard_worker_claim_seconds", "", &m->claim_latency);
	fclose(f);
	return buf;
}

/* One short exchange per connection; a scraper that dawdles is cut off after 200 ms. */
static void
serve(struct worker *w, int fd)
{
	struct timeval	 tv = { 0, 200000 };
	char		 req[REQUEST_MAX + 1], head[256], *body;
	size_t		 blen;
	ssize_t		 n;
	size_t		 got = 0;
	int		 ok;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (got < REQUEST_MAX && (n = read(fd, req + got, REQUEST_MAX - got)) > 0) {
		got += (size_t)n;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL || strstr(req, "\n\n") != NULL)
			break;
	}
	req[got] = '\0';
	ok = strncmp(req, "GET /metrics ", 13) == 0 || strncmp(req, "GET /metrics?", 13) == 0;
	if (ok) {
		body = render(w, &blen);
		snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: text/plain; "
		    "version=0.0.4\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", blen);
	} else {
		body = sb_strdup("not found\n");
		blen = strlen(body);
		snprintf(head, sizeof(head), "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n", blen);
	}
	if (write(fd, head, strlen(head)) > 0)
		(void)!write(fd, body, blen);
	free(body);
}

void
wmetrics_accept(struct worker *w)
{
	int fd;

	while ((fd = accept4(w->metrics_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		serve(w, fd);
		close(fd);
	}
}
