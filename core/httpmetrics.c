/* httpmetrics.c: GET /metrics (Prometheus text) on a small loopback HTTP listener, for
 * the daemons that have no web server in front of them (the worker, the stream responder). */
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
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "core/arena.h"
#include "core/log.h"
#include "core/metrics.h"

#define REQUEST_MAX	2048

void
metrics_counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
	    (unsigned long long)v);
}

void
metrics_gauge(FILE *f, const char *name, const char *help, long long v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name, help, name, name, v);
}

int
metrics_http_listen(const char *addr)
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
		log_error("metrics_listen is not address:port", "{s:s}", "value", addr);
		return -1;
	}
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		log_error("metrics_listen needs an IPv4 address", "{s:s}", "value", addr);
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

/* One short exchange per connection; a scraper that dawdles is cut off after 200 ms. */
static void
serve(int fd, char *(*render)(void *, size_t *), void *arg)
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
		body = render(arg, &blen);
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
metrics_http_accept(int lfd, char *(*render)(void *arg, size_t *len), void *arg)
{
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		serve(fd, render, arg);
		close(fd);
	}
}
