/* stream-client.c: bench/inflight's comparison: N streaming calls held by a bare libcurl client.
 *
 * usage: stream-client poll|socket BASE_URL N MODEL [KEY]
 *
 * Starts N OpenAI-style streaming calls (POST BASE_URL/chat/completions, "stream": true,
 * one user message "stream number I of the client") at once on one curl multi handle
 * and throws the bodies away: no SSE decoding, no JSON, no database.  "poll" drives the
 * calls the way switchboard-worker does (curl_multi_perform over every transfer, then
 * curl_multi_poll); "socket" the way libcurl suggests for many transfers
 * (curl_multi_socket_action on the sockets epoll reports ready, and curl's timer).
 * What it costs to hold the same streams with libcurl alone, each way, is what the
 * worker's CPU compares with; when each call got its first byte shows how fast the mock
 * answered.
 *
 * Prints one line (times in ms from the start, over the calls; cpu_s: this program's
 * own user + system time):
 *   calls N ok K bytes B wall_s W cpu_s U first_p50 F first_p99 G first_max H end_max E
 * Exits 1 when it cannot start. */
#include <sys/epoll.h>
#include <sys/resource.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <stddef.h>

struct call {
	CURL		*easy;
	char		 body[256];
	double		 first_ms, end_ms;
	long		 bytes;
};

static double	 t_start;
static CURLM	*multi;
static int	 epfd = -1;
static long	 timer_ms = -1;		/* curl's timer as it last set it; -1: none */
static int	 ok;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static size_t
on_body(char *buf, size_t size, size_t n, void *arg)
{
	struct call *c = arg;

	(void)buf;
	if (c->bytes == 0)
		c->first_ms = now_ms() - t_start;
	c->bytes += (long)(size * n);
	return size * n;
}

/* CURLMOPT_SOCKETFUNCTION: what curl wants to hear about each socket, kept in epoll. */
static int
on_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *known)
{
	struct epoll_event ev;

	(void)easy;
	(void)arg;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
		return 0;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
	ev.data.fd = fd;
	if (known == NULL) {
		epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
		curl_multi_assign(multi, fd, &epfd);
	} else
		epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION */
static int
on_timer(CURLM *m, long ms, void *arg)
{
	(void)m;
	(void)arg;
	timer_ms = ms;
	return 0;
}

/* Notes the transfers that ended, and whether they went well. */
static void
finished(void)
{
	CURLMsg	*m;
	int	 left;

	while ((m = curl_multi_info_read(multi, &left)) != NULL) {
		struct call	*c;
		long		 status = 0;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
		curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
		c->end_ms = now_ms() - t_start;
		if (m->data.result == CURLE_OK && status == 200)
			ok++;
	}
}

/* The worker's way: every transfer looked at on every turn. */
static void
drive_poll(void)
{
	int running;

	do {
		curl_multi_perform(multi, &running);
		finished();
		if (running > 0)
			curl_multi_poll(multi, NULL, 0, 1000, NULL);
	} while (running > 0);
}

/* The event-driven way: only the sockets that are ready, and curl's timer when due. */
static void
drive_socket(void)
{
	struct epoll_event	 evs[256];
	double			 due;
	int			 running = 1, n, i, flags;

	curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
	while (running > 0) {
		due = timer_ms < 0 ? -1 : now_ms() + (double)timer_ms;
		n = epoll_wait(epfd, evs, 256, timer_ms < 0 ? 1000 : (int)timer_ms);
		for (i = 0; i < n; i++) {
			flags = ((evs[i].events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
			    ((evs[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
			    ((evs[i].events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
			curl_multi_socket_action(multi, evs[i].data.fd, flags, &running);
		}
		if (n <= 0 || (due >= 0 && now_ms() >= due))
			curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
		finished();
	}
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank. */
static double
rank(const double *v, int n, double p)
{
	int k = (int)(p * n);

	if (k < p * n)
		k++;
	return n == 0 ? 0 : v[(k < 1 ? 1 : k) - 1];
}

int
main(int argc, char *argv[])
{
	struct curl_slist	*hdr = NULL;
	struct call		*calls;
	struct rusage		 ru;
	char			 url[512], auth[256];
	double			*first, end_max = 0;
	long			 bytes = 0;
	int			 n, i, nfirst = 0, sock;

	if (argc < 5 || argc > 6 || (strcmp(argv[1], "poll") != 0 && strcmp(argv[1], "socket") != 0) ||
	    (n = atoi(argv[3])) <= 0) {
		fprintf(stderr, "usage: stream-client poll|socket BASE_URL N MODEL [KEY]\n");
		return 2;
	}
	sock = strcmp(argv[1], "socket") == 0;
	snprintf(url, sizeof(url), "%s/chat/completions", argv[2]);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", argc > 5 ? argv[5] : "bench-key");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || (multi = curl_multi_init()) == NULL) {
		fprintf(stderr, "stream-client: libcurl failed to initialise\n");
		return 1;
	}
	if (sock) {
		if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
			fprintf(stderr, "stream-client: epoll_create1 failed\n");
			return 1;
		}
		curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
		curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
	}
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	hdr = curl_slist_append(hdr, auth);
	calls = calloc((size_t)n, sizeof(*calls));
	first = calloc((size_t)n, sizeof(*first));
	if (calls == NULL || first == NULL || hdr == NULL) {
		fprintf(stderr, "stream-client: out of memory\n");
		return 1;
	}
	t_start = now_ms();
	for (i = 0; i < n; i++) {
		struct call *c = &calls[i];

		snprintf(c->body, sizeof(c->body), "{\"model\":\"%s\",\"stream\":true,\"messages\":"
		    "[{\"role\":\"user\",\"content\":\"stream number %d of the client\"}]}", argv[4], i + 1);
		if ((c->easy = curl_easy_init()) == NULL) {
			fprintf(stderr, "stream-client: curl_easy_init failed\n");
			return 1;
		}
		curl_easy_setopt(c->easy, CURLOPT_URL, url);
		curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body);
		curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
		curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
		curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c->easy, CURLOPT_TIMEOUT, 600L);
		curl_multi_add_handle(multi, c->easy);
	}
	if (sock)
		drive_socket();
	else
		drive_poll();

	for (i = 0; i < n; i++) {
		bytes += calls[i].bytes;
		if (calls[i].bytes > 0)
			first[nfirst++] = calls[i].first_ms;
		if (calls[i].end_ms > end_max)
			end_max = calls[i].end_ms;
		curl_multi_remove_handle(multi, calls[i].easy);
		curl_easy_cleanup(calls[i].easy);
	}
	qsort(first, (size_t)nfirst, sizeof(*first), cmp);
	getrusage(RUSAGE_SELF, &ru);
	printf("calls %d ok %d bytes %ld wall_s %.3f cpu_s %.3f first_p50 %.1f first_p99 %.1f "
	    "first_max %.1f end_max %.1f\n", n, ok, bytes, (now_ms() - t_start) / 1e3,
	    (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
	    rank(first, nfirst, 0.5), rank(first, nfirst, 0.99),
	    nfirst > 0 ? first[nfirst - 1] : 0, end_max);
	curl_slist_free_all(hdr);
	curl_multi_cleanup(multi);
	curl_global_cleanup();
	free(calls);
	free(first);
	return 0;
}
