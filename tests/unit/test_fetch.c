/* test_fetch.c: core/fetch.c against a loopback HTTP server forked for the suite
 * (tests/mock/http.c): the size cap, the timeouts, the protocols, the redirects, the
 * headers, and the guard that keeps a fetch off this host's addresses. */
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
static int	 server_v6;	/* 1: the server answers on [::1] too */

/* Answers request nth (from 1) of a connection on fd by its path. */
static void
answer(int fd, const struct mock_req *q, int nth)
{
	struct sb_buf	 b = { 0 };
	size_t		 off = 0, i;
	char		 chunk[1024];
	const char	*ct, *h;

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
	} else if (strcmp(q->path, "/header") == 0) {
		h = mock_http_header(q, "X-Switchboard-Test");
		mock_http_head(&b, 200, "text/plain", h != NULL ? (long long)strlen(h) : 1, NULL);
		buf_puts(&b, h != NULL ? h : "-");
	} else if (strcmp(q->path, "/keep") == 0)	/* the connection stays open */
		buf_printf(&b, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
		    "Content-Length: 6\r\n\r\nkept %d", nth % 10);
	else
		mock_http_head(&b, 404, NULL, 0, NULL);
	while (mock_send(fd, &b, &off) == 0)
		poll(&(struct pollfd){ fd, POLLOUT, 0 }, 1, 1000);
	buf_free(&b);
}

/* The requests of one connection: one, or more for as long as they are for /keep. */
static void
converse(int fd)
{
	struct mock_req	 q;
	char		 in[8192];
	size_t		 len;
	ssize_t		 n;
	int		 st, nth = 0;

	do {
		len = 0;
		st = 0;
		while (st == 0 && len < sizeof(in) - 1 &&
		    (n = read(fd, in + len, sizeof(in) - 1 - len)) > 0) {
			len += (size_t)n;
			st = mock_http_parse(in, len, sizeof(in) - 1, sizeof(in) - 1, &q);
		}
		if (st != 200)
			break;
		answer(fd, &q, ++nth);
	} while (strcmp(q.path, "/keep") == 0);
	close(fd);
}

/* One process per connection, so a slow answer holds up nothing else.  lfd6 is -1
 * without IPv6 (poll skips it). */
static void
serve(int lfd, int lfd6)
{
	struct pollfd	 p[2] = { { lfd, POLLIN, 0 }, { lfd6, POLLIN, 0 } };
	int		 fd, i;

	for (;;) {
		poll(p, 2, -1);
		for (i = 0; i < 2; i++) {
			if ((p[i].revents & POLLIN) == 0 || (fd = accept(p[i].fd, NULL, NULL)) < 0)
				continue;
			if (fork() == 0) {
				converse(fd);
				_exit(0);
			}
			close(fd);
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
		}
	}
}

/* A listener on [::1] at the IPv4 listener's port, or -1 where there is no IPv6. */
static int
listen_v6(int port)
{
	struct sockaddr_in6	 sa = { .sin6_family = AF_INET6,
				    .sin6_addr = IN6ADDR_LOOPBACK_INIT,
				    .sin6_port = htons((uint16_t)port) };
	int			 fd, on = 1;

	if ((fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0)
		return -1;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
suite_init(void)
{
	struct sockaddr_in	 sa;
	socklen_t		 salen = sizeof(sa);
	int			 lfd, lfd6;

	if ((lfd = mock_listen(0, 16)) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &salen) < 0)
		return -1;
	server_port = ntohs(sa.sin_port);
	lfd6 = listen_v6(server_port);
	server_v6 = lfd6 >= 0;
	if ((server_pid = fork()) < 0)
		return -1;
	if (server_pid == 0) {
		signal(SIGTERM, SIG_DFL);
		serve(lfd, lfd6);
	}
	close(lfd);
	if (lfd6 >= 0)
		close(lfd6);
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

/* The server's URL for path, with host as the URL spells it. */
static char *
url_at(const char *host, const char *path)
{
	static char	 u[128];

	snprintf(u, sizeof(u), "http://%s:%d%s", host, server_port, path);
	return u;
}

static char *
url(const char *path)
{
	return url_at("127.0.0.1", path);
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

	char			 want[128];

	/* None followed unless asked for: the 302 is the answer, and its Location is
	 * resolved against the URL for a caller that follows it itself. */
	snprintf(want, sizeof(want), "%s", url("/small"));
	UNIT_ASSERT_INT(fetch(url("/redirect"), &o, &r), FETCH_OK);
	UNIT_ASSERT_INT(r.status, 302);
	UNIT_ASSERT_STR(r.location, want);
	fetch_result_free(&r);
	CU_ASSERT_PTR_NULL(r.location);
	/* Any scheme: the caller checks it before following. */
	UNIT_ASSERT_INT(fetch(url("/to-file"), &o, &r), FETCH_OK);
	UNIT_ASSERT_STR(r.location, "file:///etc/passwd");
	fetch_result_free(&r);
	UNIT_ASSERT_INT(fetch(url("/small"), &o, &r), FETCH_OK);
	CU_ASSERT_PTR_NULL(r.location);
	fetch_result_free(&r);
	o.max_redirects = 1;
	UNIT_ASSERT_INT(fetch(url("/redirect"), &o, &r), FETCH_OK);
	UNIT_ASSERT_INT(r.status, 200);
	UNIT_ASSERT_STR(r.body, "{\"ok\":true}");
	CU_ASSERT_PTR_NULL(r.location);
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

static void
test_fetch_headers(void)
{
	struct curl_slist	*h = curl_slist_append(NULL, "X-Switchboard-Test: hello");
	struct fetch_opts	 o = { .headers = h, .accept = "text/plain" };
	struct fetch_result	 r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	UNIT_ASSERT_INT(fetch(url("/header"), &o, &r), FETCH_OK);
	UNIT_ASSERT_STR(r.body, "hello");
	fetch_result_free(&r);
	UNIT_ASSERT_INT(fetch(url("/header"), NULL, &r), FETCH_OK);
	UNIT_ASSERT_STR(r.body, "-");
	fetch_result_free(&r);
	curl_slist_free_all(h);
}

/* Every way a URL can name this host: refused when guarded, reached when not. */
static void
test_fetch_guard_loopback(void)
{
	static const struct {
		const char	*host, *addr;	/* as the URL spells it; as the error names it */
	} hosts[] = {
		{ "127.0.0.1", "127.0.0.1" }, { "localhost", "" }, { "[::1]", "::1" },
		{ "2130706433", "127.0.0.1" }, { "0177.0.0.1", "127.0.0.1" },
		{ "0x7f.1", "127.0.0.1" }, { "[::ffff:127.0.0.1]", "::ffff:127.0.0.1" },
	};
	struct fetch_opts	 guarded = { .guard = 1 }, o = { 0 };
	struct fetch_result	 r;
	size_t			 i;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		UNIT_ASSERT_INT(fetch(url_at(hosts[i].host, "/small"), &guarded, &r),
		    FETCH_ERR_FORBIDDEN);
		CU_ASSERT_PTR_NULL(r.body);
		UNIT_ASSERT_CONTAINS(r.error, "not a public address");
		UNIT_ASSERT_CONTAINS(r.error, hosts[i].addr);
		fetch_result_free(&r);
		if (strcmp(hosts[i].host, "[::1]") == 0 && !server_v6)
			continue;
		UNIT_ASSERT_INT(fetch(url_at(hosts[i].host, "/small"), &o, &r), FETCH_OK);
		UNIT_ASSERT_STR(r.body, "{\"ok\":true}");
		fetch_result_free(&r);
	}
	UNIT_ASSERT_STR(fetch_err_name(FETCH_ERR_FORBIDDEN), "forbidden");
}

/* Policies for a guarded call that count the connections asked for, and check that
 * each is to the server's address and port, as resolved. */
static int	 policy_calls, policy_saw_server;

static int
policy_record(const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)(const void *)sa;

	policy_calls++;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(*sin) &&
	    sin->sin_addr.s_addr == htonl(INADDR_LOOPBACK) && ntohs(sin->sin_port) == server_port)
		policy_saw_server++;
	return policy_calls;
}

static int
allow_all(const struct sockaddr *sa, socklen_t len)
{
	policy_record(sa, len);
	return 1;
}

/* Lets a call's first connection through and refuses the others. */
static int
allow_once(const struct sockaddr *sa, socklen_t len)
{
	return policy_record(sa, len) == 1;
}

/* Each hop of a redirect connects anew (the server closes after each answer), and
 * each connection is put to the policy. */
static void
test_fetch_guard_each_hop(void)
{
	struct fetch_opts	 o = { .guard = 1, .allow = allow_all, .max_redirects = 1 };
	struct fetch_result	 r;

	policy_calls = policy_saw_server = 0;
	UNIT_ASSERT_INT(fetch(url("/redirect"), &o, &r), FETCH_OK);
	UNIT_ASSERT_INT(r.status, 200);
	UNIT_ASSERT_STR(r.body, "{\"ok\":true}");
	fetch_result_free(&r);
	UNIT_ASSERT_INT(policy_calls, 2);
	UNIT_ASSERT_INT(policy_saw_server, 2);
	/* The second hop refused: the call is, though the first hop was let through. */
	o.allow = allow_once;
	policy_calls = 0;
	UNIT_ASSERT_INT(fetch(url("/redirect"), &o, &r), FETCH_ERR_FORBIDDEN);
	CU_ASSERT_PTR_NULL(r.body);
	UNIT_ASSERT_CONTAINS(r.error, "127.0.0.1");
	fetch_result_free(&r);
	UNIT_ASSERT_INT(policy_calls, 2);
	/* Not followed: the caller gets the 302 and its location, to check itself. */
	o.max_redirects = 0;
	policy_calls = 0;
	UNIT_ASSERT_INT(fetch(url("/redirect"), &o, &r), FETCH_OK);
	UNIT_ASSERT_INT(r.status, 302);
	CU_ASSERT_PTR_NOT_NULL(r.location);
	fetch_result_free(&r);
	UNIT_ASSERT_INT(policy_calls, 1);
}

/* One call made from a curl multi loop, as the worker makes it. */
static enum fetch_err
multi_fetch(CURLM *m, const char *u, const struct fetch_opts *o, struct fetch_result *r)
{
	struct fetch_call	*f = fetch_start(u, o);
	CURLMsg			*msg;
	int			 running, left, code = -1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	curl_multi_add_handle(m, fetch_easy(f));
	while (code < 0) {
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL)
			if (msg->msg == CURLMSG_DONE)
				code = msg->data.result;
		if (code < 0)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	curl_multi_remove_handle(m, fetch_easy(f));
	return fetch_finish(f, code, r);
}

/* A multi handle keeps the connections of unguarded calls for reuse: a guarded call
 * on it never takes one, neither for its URL nor for a redirect's hop (where libcurl
 * would reuse one despite CURLOPT_FRESH_CONNECT). */
static void
test_fetch_guard_multi_pool(void)
{
	struct fetch_opts	 o = { .guard = 1 };
	struct fetch_result	 r;
	CURLM			*m = curl_multi_init();

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	UNIT_ASSERT_INT(multi_fetch(m, url("/keep"), NULL, &r), FETCH_OK);
	UNIT_ASSERT_STR(r.body, "kept 1");
	fetch_result_free(&r);
	/* The pool has a connection open to the server: an unguarded call reuses it... */
	UNIT_ASSERT_INT(multi_fetch(m, url("/keep"), NULL, &r), FETCH_OK);
	UNIT_ASSERT_STR(r.body, "kept 2");
	fetch_result_free(&r);
	/* ...a guarded one opens its own, which the guard refuses. */
	UNIT_ASSERT_INT(multi_fetch(m, url("/keep"), &o, &r), FETCH_ERR_FORBIDDEN);
	fetch_result_free(&r);
	o.allow = allow_once;
	o.max_redirects = 1;
	policy_calls = 0;
	UNIT_ASSERT_INT(multi_fetch(m, url("/redirect"), &o, &r), FETCH_ERR_FORBIDDEN);
	fetch_result_free(&r);
	UNIT_ASSERT_INT(policy_calls, 2);
	/* The pooled connection was left alone. */
	UNIT_ASSERT_INT(multi_fetch(m, url("/keep"), NULL, &r), FETCH_OK);
	UNIT_ASSERT_STR(r.body, "kept 3");
	fetch_result_free(&r);
	curl_multi_cleanup(m);
}

/* A guarded call takes no proxy from the environment (the proxy's address would be
 * the one checked, and the proxy would then reach any address). */
static void
test_fetch_guard_no_env_proxy(void)
{
	static const char *const vars[] = { "http_proxy", "no_proxy", "NO_PROXY", "all_proxy",
					    "ALL_PROXY" };
	struct fetch_opts	 o = { .guard = 1, .allow = allow_all };
	struct fetch_result	 r;
	char			*saved[5];
	size_t			 i;

	for (i = 0; i < 5; i++) {
		saved[i] = getenv(vars[i]) != NULL ? strdup(getenv(vars[i])) : NULL;
		unsetenv(vars[i]);
	}
	setenv("http_proxy", "http://127.0.0.1:1", 1);	/* nothing listens there */
	UNIT_ASSERT_INT(fetch(url("/small"), NULL, &r), FETCH_ERR_CONNECT);
	fetch_result_free(&r);
	policy_calls = policy_saw_server = 0;
	UNIT_ASSERT_INT(fetch(url("/small"), &o, &r), FETCH_OK);
	UNIT_ASSERT_STR(r.body, "{\"ok\":true}");
	fetch_result_free(&r);
	UNIT_ASSERT_INT(policy_saw_server, 1);
	for (i = 0; i < 5; i++) {
		if (saved[i] != NULL)
			setenv(vars[i], saved[i], 1);
		else
			unsetenv(vars[i]);
		free(saved[i]);
	}
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
	unit_test(s, "extra request headers are sent", test_fetch_headers);
	unit_test(s, "guarded: every spelling of this host is refused", test_fetch_guard_loopback);
	unit_test(s, "guarded: each hop of a redirect is checked", test_fetch_guard_each_hop);
	unit_test(s, "guarded: no connection of a shared multi pool is reused",
	    test_fetch_guard_multi_pool);
	unit_test(s, "guarded: no proxy from the environment", test_fetch_guard_no_env_proxy);
}
