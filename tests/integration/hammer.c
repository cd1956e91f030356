/* hammer.c: a bounded libcurl load client that counts every request's fate.
 *
 * usage: sb-hammer [-n requests] [-c concurrency] [-d max_seconds] [-H header]...
 *                  [-b body] URL
 * -H adds a request header (up to 8); -b sends body as a POST instead of a GET.
 * Prints "requests N ok N failed N" and then one line per failure kind
 * ("status 502 N", "error <curl message> N").  Stops after n requests or
 * d seconds, whichever comes first.  Loopback targets only: it refuses others. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <stddef.h>

#define MAX_KINDS 32

struct kind {
	char	 what[160];
	long	 n;
};

static struct kind	 kinds[MAX_KINDS];
static size_t		 nkinds;
static struct curl_slist	*headers;
static const char	*body;

static void
count_kind(const char *what)
{
	size_t i;

	for (i = 0; i < nkinds; i++)
		if (strcmp(kinds[i].what, what) == 0) {
			kinds[i].n++;
			return;
		}
	if (nkinds < MAX_KINDS) {
		snprintf(kinds[nkinds].what, sizeof(kinds[nkinds].what), "%s", what);
		kinds[nkinds++].n = 1;
	}
}

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static CURL *
new_easy(const char *url)
{
	CURL *e = curl_easy_init();

	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	if (headers != NULL)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
	if (body != NULL)
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	return e;
}

static void
usage(void)
{
	fprintf(stderr, "usage: sb-hammer [-n requests] [-c concurrency] [-d seconds] "
	    "[-H header]... [-b body] URL\n");
	exit(2);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
	CURLM		*multi;
	CURLMsg		*msg;
	const char	*url;
	char		 what[200];
	long		 total = 1000, conc = 16, started = 0, done = 0, ok = 0, code;
	double		 max_s = 60, t0;
	int		 c, running, left, nheaders = 0;
	size_t		 i;

	while ((c = getopt(argc, argv, "n:c:d:H:b:")) != -1) {
		switch (c) {
		case 'n': total = atol(optarg); break;
		case 'c': conc = atol(optarg); break;
		case 'd': max_s = atof(optarg); break;
		case 'H':
			if (++nheaders > 8)
				usage();
			headers = curl_slist_append(headers, optarg);
			break;
		case 'b': body = optarg; break;
		default:
			usage();
		}
	}
	if (optind != argc - 1 || total < 1 || conc < 1)
		usage();
	url = argv[optind];
	if (strncmp(url, "http://127.", 11) != 0 && strncmp(url, "http://localhost", 16) != 0 &&
	    strncmp(url, "http://[::1]", 12) != 0) {
		fprintf(stderr, "sb-hammer: only loopback targets\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	multi = curl_multi_init();
	t0 = now_s();
	for (; started < conc && started < total; started++)
		curl_multi_add_handle(multi, new_easy(url));
	do {
		curl_multi_perform(multi, &running);
		while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			done++;
			if (msg->data.result != CURLE_OK) {
				snprintf(what, sizeof(what), "error %s", curl_easy_strerror(msg->data.result));
				count_kind(what);
			} else {
				curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
				if (code >= 200 && code < 300)
					ok++;
				else {
					snprintf(what, sizeof(what), "status %ld", code);
					count_kind(what);
				}
			}
			curl_multi_remove_handle(multi, msg->easy_handle);
			curl_easy_cleanup(msg->easy_handle);
			if (started < total && now_s() - t0 < max_s) {
				curl_multi_add_handle(multi, new_easy(url));
				started++;
			}
		}
		if (running > 0)
			curl_multi_poll(multi, NULL, 0, 100, NULL);
	} while (running > 0 || done < started);
	curl_multi_cleanup(multi);
	curl_slist_free_all(headers);
	curl_global_cleanup();
	printf("requests %ld ok %ld failed %ld seconds %.2f\n", done, ok, done - ok, now_s() - t0);
	for (i = 0; i < nkinds; i++)
		printf("%s %ld\n", kinds[i].what, kinds[i].n);
	return 0;
}
