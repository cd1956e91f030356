/* http.c: the loopback listener and the bits of HTTP/1.1 the mock servers share. */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"
#include "tests/mock/mock.h"

volatile sig_atomic_t mock_stopping;

static void
on_term(int sig)
{
	(void)sig;
	mock_stopping = 1;
}

void
mock_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;	/* no SA_RESTART: poll returns at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

int
mock_listen(int port, int backlog)
{
	struct sockaddr_in	 sa;
	int			 fd, one = 1, saved;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, backlog) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Splits the head in place: the request line into q, the headers into q->hdr. */
static long
head_split(char *head, struct mock_req *q, char **line)
{
	char	*h, *next, *v;
	long	 clen = 0;

	*line = head;
	if ((next = strstr(head, "\r\n")) != NULL) {
		*next = '\0';
		next += 2;
	}
	for (h = next; h != NULL && *h != '\0'; h = next) {
		if ((next = strstr(h, "\r\n")) != NULL) {
			*next = '\0';
			next += 2;
		}
		if ((v = strchr(h, ':')) == NULL)
			continue;
		*v++ = '\0';
		while (*v == ' ' || *v == '\t')
			v++;
		if (strcasecmp(h, "Content-Length") == 0)
			clen = strlen(v) > 0 && strspn(v, "0123456789") == strlen(v) && strlen(v) < 9 ?
			    strtol(v, NULL, 10) : -1;
		if (q->nhdr < MOCK_HDRS) {
			q->hdr[q->nhdr].name = h;
			q->hdr[q->nhdr++].value = v;
		}
	}
	return clen;
}

int
mock_http_parse(char *in, size_t inlen, size_t headmax, size_t max, struct mock_req *q)
{
	static char	 head[MOCK_HEAD_MAX + 1];
	char		*end, *line, *sp1, *sp2, *qm;
	size_t		 hlen;
	long		 clen;

	memset(q, 0, sizeof(*q));
	if (headmax > MOCK_HEAD_MAX)
		headmax = MOCK_HEAD_MAX;
	in[inlen] = '\0';
	if ((end = memmem(in, inlen, "\r\n\r\n", 4)) == NULL)
		return inlen < headmax ? 0 : 431;
	hlen = (size_t)(end - in) + 4;
	if (hlen - 4 > headmax)
		return 431;
	/* The head is parsed in a copy: the body may still be on its way. */
	memcpy(head, in, hlen - 4);
	head[hlen - 4] = '\0';
	clen = head_split(head, q, &line);
	if ((sp1 = strchr(line, ' ')) == NULL || (sp2 = strchr(sp1 + 1, ' ')) == NULL ||
	    strncmp(sp2 + 1, "HTTP/1.", 7) != 0 || clen < 0)
		return 400;
	if (hlen > max || (size_t)clen > max - hlen)
		return 413;
	*sp1 = *sp2 = '\0';
	q->method = line;
	q->path = sp1 + 1;
	q->query = "";
	if ((qm = strchr(sp1 + 1, '?')) != NULL) {
		*qm = '\0';
		q->query = qm + 1;
	}
	q->headlen = hlen;
	q->bodylen = (size_t)clen;
	if (inlen < hlen + (size_t)clen)
		return 0;
	in[hlen + (size_t)clen] = '\0';
	q->body = in + hlen;
	return 200;
}

const char *
mock_http_header(const struct mock_req *q, const char *name)
{
	int i;

	for (i = 0; i < q->nhdr; i++)
		if (strcasecmp(q->hdr[i].name, name) == 0)
			return q->hdr[i].value;
	return NULL;
}

const char *
mock_http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 302: return "Found";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 529: return "Overloaded";
	}
	return "Internal Server Error";
}

void
mock_http_head(struct sb_buf *b, int status, const char *ctype, long long clen,
    const char *extra)
{
	buf_printf(b, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n", status,
	    mock_http_reason(status), ctype != NULL ? ctype : "text/plain");
	if (clen >= 0)
		buf_printf(b, "Content-Length: %lld\r\n", clen);
	else
		buf_printf(b, "Transfer-Encoding: chunked\r\n");
	buf_printf(b, "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n",
	    extra != NULL ? extra : "");
}

int
mock_send(int fd, const struct sb_buf *b, size_t *off)
{
	ssize_t n;

	while (*off < b->len) {
		n = send(fd, b->data + *off, b->len - *off, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
		*off += (size_t)n;
	}
	return 1;
}
