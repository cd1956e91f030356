/* test_fetch.c: core/fetch.c against a loopback HTTP server forked for the suite
 * (tests/mock/http.c): the size cap, the timeouts, the protocols, the redirects. */
#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/fetch.h"
#include "tests/mock/mock.h"
#include "tests/unit/unit.h"

#define BIG_BYTES	65536

static pid_t	 server_pid;
static int	 server_port;

/* Answers one request on fd by its path. */
static void
answer(int fd, const struct mock_req *q)
{
	struct sb_buf	 b = { 0 };
	size_t		 off = 0, i;
	char		 chunk[1024];
	const char	*ct;

	memset(chunk, 'z', sizeof(chunk));
	if (strcmp(q->path, "/small") == 0) {
		mock_http_head(&b, 200, "application/json", 11, NULL);
		buf_puts(&b, "{\"ok\":true}");
	} else if (strcmp(q->path, "/big") == 0) {
		/* Chunked: no length announced, so only counting what arrives stops it. */
		mock_http_head(&b, 200, "text/plain", -1, NULL);
		for (i = 0; i < BIG_BYTES / sizeof(chunk); i++) {
			buf_printf(&b, "%zx\r\n", sizeof(chunk));
			buf_append(&b, chunk, sizeof(chunk));
			buf_puts(&b, "\r\n");
		}
		buf_puts(&b, "0\r\n\r\n");
	} else if (strcmp(q->path, "/big-announced") == 0) {
		mock_http_head(&b, 200, "text/plain", BIG_BYTES, NULL);
		for (i = 0; i < BIG_BYTES / sizeof(chunk); i++)
			buf_append(&b, chunk, sizeof(chunk));
	} else if (strcmp(q->path, "/slow") == 0) {
		sleep(2);
		mock_http_head(&b, 200, "text/plain", 4, NULL);
		buf_puts(&b, "late");
	} else if (strcmp(q->path, "/redirect") == 0)
		mock_http_head(&b, 302, NULL, 0, "Location: /small\r\n");
	else if (strcmp(q->path, "/loop") == 0)
		mock_http_head(&b, 302, NULL, 0, "Location: /loop\r\n");
	else if (strcmp(q->path, "/to-file") == 0)
		mock_http_head(&b, 302, NULL, 0, "Location: file:///etc/passwd\r\n");
	else if (strcmp(q->path, "/echo") == 0) {
		ct = mock_http_header(q, "Content-Type");
		mock_http_head(&b, 201, "text/plain", -1, NULL);
		buf_printf(&b, "%zx\r\n%s %s|%.*s\r\n0\r\n\r\n",
		    strlen(q->method) + 2 + strlen(ct != NULL ? ct : "-") + q->bodylen,
		    q->method, ct != NULL ? ct : "-", (int)q->bodylen, q->body);
	} else
		mock_http_head(&b, 404, NULL, 0, NULL);
	while (mock_send(fd, &b, &off) == 0)
		poll(&(struct pollfd){ fd, POLLOUT, 0 }, 1, 1000);
	buf_free(&b);
}

/* One process per connection, so a slow answer holds up nothing else. */
static void
serve(int lfd)
{
	struct mock_req	 q;
	char		 in[8192];
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd, st = 0;

	for (;;) {
		poll(&(struct pollfd){ lfd, POLLIN, 0 }, 1, -1);
		if ((fd = accept(lfd, NULL, NULL)) < 0)
			continue;
		if (fork() != 0) {
			close(fd);
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
			continue;
		}
		while (st == 0 && len < sizeof(in) - 1 &&
		    (n = read(fd, in + len, sizeof(in) - 1 - len)) > 0) {
			len += (size_t)n;
			st = mock_http_parse(in, len, sizeof(in) - 1, sizeof(in) - 1, &q);
		}
		if (st == 200)
			answer(fd, &q);
		close(fd);
		_exit(0);
	}
}

static int
suite_init(void)
{
	struct sockaddr_in	 sa;
	socklen_t		 salen = sizeof(sa);
	int			 lfd;

	if ((lfd = mock_listen(0, 16)) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &salen) < 0)
		return -1;
	server_port = ntohs(sa.sin_port);
	if ((server_pid = fork()) < 0)
		return -1;
	if (server_pid == 0) {
		signal(SIGTERM, SIG_DFL);
		serve(lfd);
	}
	close(lfd);
	return 0;
}

static int
suite_clean(void)
{
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
	}
	return 0;
}

static char *
url(const char *path)
{
	static char	 u[128];

	snprintf(u, sizeof(u), "http://127.0.0.1:%d%s", server_port, path);
	return u;
}

static void
test_fetch_get(void)
{
	struct fetch_result	 r;

	UNIT_ASSERT_INT(fetch(url("/small"), NULL, &r), FETCH_OK);
	UNIT_ASSERT_INT(r.status, 200);
	UNIT_ASSERT_STR(r.body, "{\"ok\":true}");
	UNIT_ASSERT_INT(r.len, 11);
	UNIT_ASSERT_STR(r.content_type, "application/json");
	fetch_result_free(&r);
	/* An error status is an answer, not a failure. */
	UNIT_ASSERT_INT(fetch(url("/nothing"), NULL, &r), FETCH_OK);
	UNIT_ASSERT_INT(r.status, 404);
	UNIT_ASSERT_STR(r.body, "");
	fetch_result_free(&r);
}

static void
test_fetch_post(void)
{
	struct fetch_opts	 o = { .body = "a=1&b=2", .body_len = 7 };
	struct fetch_result	 r;

	UNIT_ASSERT_INT(fetch(url("/echo"), &o, &r), FETCH_OK);
	UNIT_ASSERT_INT(r.status, 201);
	UNIT_ASSERT_STR(r.body, "POST application/x-www-form-urlencoded|a=1&b=2");
	fetch_result_free(&r);
	o.body = "{\"x\":1}";
	o.body_len = 7;
	o.content_type = "application/json";
	UNIT_ASSERT_INT(fetch(url("/echo"), &o, &r), FETCH_OK);
	UNIT_ASSERT_STR(r.body, "POST application/json|{\"x\":1}");
	fetch_result_free(&r);
}

static void
test_fetch_size_cap(void)
{
	struct fetch_opts	 o = { .max_bytes = 4096 };
	struct fetch_result	 r;

	/* Refused while receiving (no length announced) and when announced. */
	UNIT_ASSERT_INT(fetch(url("/big"), &o, &r), FETCH_ERR_TOO_LARGE);
	CU_ASSERT_PTR_NULL(r.body);
	CU_ASSERT(r.error[0] != '\0');
	fetch_result_free(&r);
	UNIT_ASSERT_INT(fetch(url("/big-announced"), &o, &r), FETCH_ERR_TOO_LARGE);
	CU_ASSERT_PTR_NULL(r.body);
	fetch_result_free(&r);
	/* The same answers fit a larger cap, byte for byte. */
	o.max_bytes = BIG_BYTES;
	UNIT_ASSERT_INT(fetch(url("/big"), &o, &r), FETCH_OK);
	UNIT_ASSERT_INT(r.len, BIG_BYTES);
	fetch_result_free(&r);
	UNIT_ASSERT_INT(fetch(url("/big-announced"), &o, &r), FETCH_OK);
	UNIT_ASSERT_INT(r.len, BIG_BYTES);
	fetch_result_free(&r);
}

static void
test_fetch_timeout(void)
{
	struct fetch_opts	 o = { .timeout_ms = 300 };
	struct fetch_result	 r;
	int64_t			 t0 = clock_mono_us();

	UNIT_ASSERT_INT(fetch(url("/slow"), &o, &r), FETCH_ERR_TIMEOUT);
	CU_ASSERT(clock_mono_us() - t0 < 1500000);	/* the answer comes after 2 s */
	CU_ASSERT_PTR_NULL(r.body);
	fetch_result_free(&r);
}

static void
test_fetch_protocols(void)
{
	struct fetch_opts	 o = { .max_redirects = 3 };
	struct fetch_result	 r;

	UNIT_ASSERT_INT(fetch("file:///etc/passwd", NULL, &r), FETCH_ERR_PROTOCOL);
	CU_ASSERT_PTR_NULL(r.body);
	fetch_result_free(&r);
	UNIT_ASSERT_INT(fetch("ftp://127.0.0.1/", NULL, &r), FETCH_ERR_PROTOCOL);
	fetch_result_free(&r);
	/* Nor through a redirect. */
	UNIT_ASSERT_INT(fetch(url("/to-file"), &o, &r), FETCH_ERR_PROTOCOL);
	fetch_result_free(&r);
	UNIT_ASSERT_INT(fetch("http://", NULL, &r), FETCH_ERR_URL);
	fetch_result_free(&r);
}

static void
test_fetch_redirects(void)
{
	struct fetch_opts	 o = { 0 };
	struct fetch_result	 r;

	/* None followed unless asked for: the 302 is the answer. */
	UNIT_ASSERT_INT(fetch(url("/redirect"), &o, &r), FETCH_OK);
	UNIT_ASSERT_INT(r.status, 302);
	fetch_result_free(&r);
	o.max_redirects = 1;
	UNIT_ASSERT_INT(fetch(url("/redirect"), &o, &r), FETCH_OK);
	UNIT_ASSERT_INT(r.status, 200);
	UNIT_ASSERT_STR(r.body, "{\"ok\":true}");
	fetch_result_free(&r);
	o.max_redirects = 2;
	UNIT_ASSERT_INT(fetch(url("/loop"), &o, &r), FETCH_ERR_REDIRECTS);
	fetch_result_free(&r);
	UNIT_ASSERT_STR(fetch_err_name(FETCH_ERR_REDIRECTS), "redirects");
}

/* The same request from a curl multi loop, as the worker would make it. */
static void
test_fetch_multi(void)
{
	struct fetch_opts	 o = { .max_bytes = 4096 };
	struct fetch_result	 r;
	struct fetch_call	*f, *g, *done;
	CURLM			*m = curl_multi_init();
	CURLMsg			*msg;
	int			 running = 1, left, n = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	f = fetch_start(url("/small"), NULL);
	g = fetch_start(url("/big"), &o);
	CU_ASSERT_FATAL(f != NULL && g != NULL);
	curl_multi_add_handle(m, fetch_easy(f));
	curl_multi_add_handle(m, fetch_easy(g));
	while (running > 0 || n < 2) {
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&done);
			curl_multi_remove_handle(m, msg->easy_handle);
			if (done == f) {
				UNIT_ASSERT_INT(fetch_finish(done, msg->data.result, &r), FETCH_OK);
				UNIT_ASSERT_STR(r.body, "{\"ok\":true}");
			} else
				UNIT_ASSERT_INT(fetch_finish(done, msg->data.result, &r),
				    FETCH_ERR_TOO_LARGE);
			fetch_result_free(&r);
			n++;
		}
		if (n < 2)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	UNIT_ASSERT_INT(n, 2);
	curl_multi_cleanup(m);
}

void
suite_fetch(void)
{
	CU_pSuite s = unit_suite("fetch", suite_init, suite_clean);

	unit_test(s, "GET: body, status and content type", test_fetch_get);
	unit_test(s, "POST: the body and its content type", test_fetch_post);
	unit_test(s, "a body over the cap is refused while it arrives", test_fetch_size_cap);
	unit_test(s, "the total timeout ends a slow answer", test_fetch_timeout);
	unit_test(s, "only http and https, redirects included", test_fetch_protocols);
	unit_test(s, "redirects only when asked for, and bounded", test_fetch_redirects);
	unit_test(s, "started and finished from a curl multi loop", test_fetch_multi);
}
