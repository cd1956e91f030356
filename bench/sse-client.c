/* sse-client.c: bench/stream's two helpers and bench/live's client, one program.
 *
 * usage: sse-client connect [-c INFLIGHT] [-o FILE] PORT[,PORT...] KEY N PATHFILE
 *
 *   Holds N server-sent event streams over plain sockets and epoll, one thread: stream i
 *   connects to 127.0.0.1:PORT (round-robin over the ports given) and sends
 *   "GET PATH HTTP/1.1" with "Authorization: Bearer KEY", PATH being line i % lines of
 *   PATHFILE; at most INFLIGHT (default 256) streams are being opened at once.  Each
 *   answer must be 200; its body is read through the chunked transfer coding into SSE
 *   lines, and an event counts as received at the read that brings the blank line
 *   ending it, stamped with CLOCK_REALTIME in microseconds (the clock PostgreSQL's
 *   commit timestamps and the serve mode below use).  Prints on stdout, line by line:
 *     ready open O failed F secs S     once every stream is open or has failed
 *     all SEQ T_US                     when every open stream has received event SEQ
 *     status open O closed C failed F events E     on SIGUSR1
 *   On SIGTERM or SIGINT it writes one line per event received to FILE
 *   ("SEQ T_US STREAM"), prints "summary ..." and exits 0.  The first few failures
 *   are told on stderr.
 *
 * usage: sse-client live [-c INFLIGHT] [-s RAMP_MS] [-o FILE] [-r RUNSFILE] PORT[,PORT...] KEY N BODYFILE
 *
 *   bench/live's client, a closed loop of N slots: each slot creates a run (POST
 *   /api/v1/runs with the KEY, a body taken from the lines of BODYFILE in turn,
 *   "Connection: close"; the run's id is read from the 202's Location header), then
 *   opens its event stream (GET /api/v1/runs/ID/stream, read as in connect mode) and,
 *   when the stream ends (the run's terminal event ends it), creates the next run.  The
 *   slots start one after another over RAMP_MS (default 0: all at once); at most
 *   INFLIGHT (default 256) are creating or opening at once; a slot whose create or
 *   open fails stops there (counted, the first few told on stderr).  Runs are numbered from 0
 *   in the order they are created; arrivals in FILE are "SEQ T_US RUN".  On SIGTERM or
 *   SIGINT it also writes one line per run to RUNSFILE: "RUN ID T_POST T_CREATED
 *   T_OPEN T_END SLOT" (CLOCK_REALTIME microseconds, 0 if it did not happen: T_CREATED
 *   when the 202 was read, T_OPEN when the stream's 200 head was, T_END when the
 *   stream ended), prints "summary ..." and exits 0.  SIGUSR1 prints "status ...".
 *
 * usage: sse-client serve [-i MS] SOCKET
 *
 *   The ceiling: the smallest FastCGI responder that holds event streams.  Listens on
 *   the unix socket SOCKET (mode 0666) and answers every request with an event-stream
 *   head and a "retry:" line, then holds it.  On SIGUSR1 it writes the next event
 *   ("id: SEQ", "event: message.delta", a small JSON data line, like switchboard-stream's
 *   frames) to every stream it holds; with -i, SIGUSR2 starts (and stops) writing one
 *   every MS milliseconds.  For each it prints "emit SEQ T_US STREAMS FAILED", T_US
 *   taken just before the first write.  SIGTERM or SIGINT: prints "summary ...",
 *   removes the socket, exits 0.  No database, no authentication, no buffering: what
 *   the same web server in front of it does with these streams is the most
 *   switchboard-stream can hope for (see bench/README.md). */
#define _GNU_SOURCE

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stddef.h>
#include <sys/types.h>

#define EVENTS_MAX	1024
#define READ_BUF	65536
#define HEAD_MAX	4096
#define MAX_PORTS	16
#define FAIL_TOLD	5
#define EV_SIGNAL	UINT64_MAX
#define EV_LISTEN	(UINT64_MAX - 1)
#define EV_TIMER	(UINT64_MAX - 2)

static char	 rbuf[READ_BUF];

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL) {
		fprintf(stderr, "sse-client: out of memory\n");
		exit(1);
	}
	return p;
}

static void *
xrealloc(void *p, size_t size)
{
	if ((p = realloc(p, size)) == NULL) {
		fprintf(stderr, "sse-client: out of memory\n");
		exit(1);
	}
	return p;
}

static int
signals(int extra)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	if (extra)
		sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void
ep_add(int epfd, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u64 = data;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		perror("sse-client: epoll_ctl");
		exit(1);
	}
}

/* ================================================================ connect */

enum { S_IDLE, S_CONNECTING, S_HEAD, S_BODY, S_GONE, S_PCONNECTING, S_PREAD };
enum { CH_SIZE, CH_EXT, CH_DATA, CH_CRLF };

/* One stream: 48 bytes, plus its head while it is read. */
struct stream {
	int		 fd;
	uint8_t		 state;
	uint8_t		 chunked;
	uint8_t		 cstate;	/* chunked decoder */
	uint8_t		 llen;		/* bytes in line */
	uint8_t		 lover;		/* the line is longer than line[] */
	uint16_t	 hlen;
	uint32_t	 clen;		/* bytes left in the chunk */
	uint32_t	 seq;		/* id: of the event being read, 0 if none */
	char		 line[16];
	uint32_t	 num;		/* what arrivals name it by: the stream, or the run */
	char		*head;
};

struct arrival {
	uint32_t	 seq;
	uint32_t	 stream;
	int64_t		 t;
};

static struct {
	struct stream	*s;
	int		 n, started, inflight, maxinflight;
	int		 open, closed, failed, told, ready;
	int		 epfd;
	struct sockaddr_in addr[MAX_PORTS];
	int		 nports;
	char		**paths;
	int		 npaths;
	const char	*key;
	struct arrival	*arr;
	size_t		 narr, caparr;
	uint32_t	*count;		/* streams that have each seq */
	size_t		 capcount;
	uint64_t	 bytes;
	int64_t		 t_start;
	int		 live;		/* live mode: the slots' own loop, below */
} C;

static void	live_drop(int, const char *);
static void	live_more(void);
static void	live_opened(int, int64_t);

static void
tell_failure(int i, const char *why)
{
	struct stream	*s = &C.s[i];
	char		*eol;

	if (C.told++ >= FAIL_TOLD)
		return;
	if (s->head != NULL && s->hlen > 0) {
		s->head[s->hlen < HEAD_MAX ? s->hlen : HEAD_MAX - 1] = '\0';
		if ((eol = strchr(s->head, '\r')) != NULL)
			*eol = '\0';
		fprintf(stderr, "sse-client: stream %d: %s: %s\n", i, why, s->head);
	} else
		fprintf(stderr, "sse-client: stream %d: %s\n", i, why);
}

static void start_more(void);

/* The stream ends: failed while opening, or closed after it was open. */
static void
drop(int i, const char *why)
{
	struct stream *s = &C.s[i];

	if (C.live) {
		live_drop(i, why);
		return;
	}
	if (s->state == S_CONNECTING || s->state == S_HEAD) {
		tell_failure(i, why);
		C.failed++;
		C.inflight--;
	} else if (s->state == S_BODY) {
		C.open--;
		C.closed++;
		if (C.closed <= FAIL_TOLD)
			fprintf(stderr, "sse-client: stream %d closed: %s\n", i, why);
	}
	epoll_ctl(C.epfd, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	s->fd = -1;
	free(s->head);
	s->head = NULL;
	s->state = S_GONE;
	start_more();
}

/* Starts slot i's non-blocking connect to its port, in state; 0, or -1 with why
 * (the caller drops the slot, which it counted in C.inflight). */
static int
slot_connect(int i, int state, const char **why)
{
	struct stream	*s = &C.s[i];
	int		 fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	s->fd = fd;
	s->state = state;
	if (fd < 0 || (connect(fd, (struct sockaddr *)&C.addr[i % C.nports],
	    sizeof(C.addr[0])) < 0 && errno != EINPROGRESS)) {
		*why = strerror(errno);
		return -1;
	}
	ep_add(C.epfd, fd, EPOLLOUT | EPOLLIN, (uint64_t)i);
	return 0;
}

static void
start_one(int i)
{
	const char *why;

	C.s[i].num = (uint32_t)i;
	C.inflight++;
	if (slot_connect(i, S_CONNECTING, &why) < 0)
		drop(i, why);
}

static void
start_more(void)
{
	if (C.live) {
		live_more();
		return;
	}
	while (C.started < C.n && C.inflight < C.maxinflight)
		start_one(C.started++);
	if (!C.ready && C.started == C.n && C.inflight == 0) {
		C.ready = 1;
		printf("ready open %d failed %d secs %.2f\n", C.open, C.failed,
		    (double)(now_us() - C.t_start) / 1e6);
	}
}

/* Once slot i's connect is done: writes GET path and waits for the answer's head.
 * 0, or -1 with why (the caller drops the slot). */
static int
send_get(int i, const char *path, const char **why)
{
	struct stream		*s = &C.s[i];
	struct epoll_event	 ev;
	char			 req[1024];
	int			 err = 0, n;
	socklen_t		 len = sizeof(err);

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
		*why = strerror(err ? err : errno);
		return -1;
	}
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
	    "Authorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n",
	    path, ntohs(C.addr[i % C.nports].sin_port), C.key);
	if (n <= 0 || (size_t)n >= sizeof(req) || write(s->fd, req, (size_t)n) != n) {
		*why = "cannot send the GET";
		return -1;
	}
	s->state = S_HEAD;
	s->head = xcalloc(1, HEAD_MAX);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = (uint64_t)i;
	epoll_ctl(C.epfd, EPOLL_CTL_MOD, s->fd, &ev);
	return 0;
}

static void
send_request(int i)
{
	const char *why;

	if (send_get(i, C.paths[i % C.npaths], &why) < 0)
		drop(i, why);
}

static void
received(int i, uint32_t seq, int64_t t)
{
	size_t cap;

	if (C.narr == C.caparr) {
		C.caparr = C.caparr ? C.caparr * 2 : 65536;
		C.arr = xrealloc(C.arr, C.caparr * sizeof(*C.arr));
	}
	C.arr[C.narr].seq = seq;
	C.arr[C.narr].stream = C.s[i].num;
	C.arr[C.narr++].t = t;
	if (C.live)
		return;
	if (seq >= C.capcount) {
		cap = C.capcount ? C.capcount : 1024;
		while (cap <= seq)
			cap *= 2;
		C.count = xrealloc(C.count, cap * sizeof(*C.count));
		memset(C.count + C.capcount, 0, (cap - C.capcount) * sizeof(*C.count));
		C.capcount = cap;
	}
	if (++C.count[seq] == (uint32_t)C.open)
		printf("all %u %lld\n", seq, (long long)t);
}

/* SSE lines: "id: N" names the event, a blank line ends it. */
static void
sse_feed(int i, const char *p, size_t n, int64_t t)
{
	struct stream	*s = &C.s[i];
	size_t		 k;
	char		 ch;

	for (k = 0; k < n; k++) {
		ch = p[k];
		if (ch == '\n') {
			if (s->llen == 0 && !s->lover) {
				if (s->seq != 0)
					received(i, s->seq, t);
				s->seq = 0;
			} else if (s->llen > 4 && memcmp(s->line, "id: ", 4) == 0) {
				s->line[s->llen] = '\0';
				s->seq = (uint32_t)strtoul(s->line + 4, NULL, 10);
			}
			s->llen = 0;
			s->lover = 0;
		} else if (ch == '\r')
			continue;
		else if (s->llen < sizeof(s->line) - 1)
			s->line[s->llen++] = ch;
		else
			s->lover = 1;
	}
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = (char)tolower((unsigned char)ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* The body, through the chunked coding when there is one.  -1: the answer ended. */
static int
body_feed(int i, const char *p, size_t n, int64_t t)
{
	struct stream	*s = &C.s[i];
	size_t		 k = 0, take;
	int		 v;

	if (!s->chunked) {
		sse_feed(i, p, n, t);
		return 0;
	}
	while (k < n) {
		switch (s->cstate) {
		case CH_SIZE:
		case CH_EXT:
			if (p[k] == '\n') {
				if (s->clen == 0)
					return -1;	/* the last chunk */
				s->cstate = CH_DATA;
			} else if (s->cstate == CH_SIZE && (v = hexval(p[k])) >= 0)
				s->clen = s->clen * 16 + (uint32_t)v;
			else if (p[k] != '\r')
				s->cstate = CH_EXT;
			k++;
			break;
		case CH_DATA:
			take = n - k < s->clen ? n - k : s->clen;
			sse_feed(i, p + k, take, t);
			k += take;
			if ((s->clen -= (uint32_t)take) == 0)
				s->cstate = CH_CRLF;
			break;
		case CH_CRLF:
			if (p[k++] == '\n') {
				s->cstate = CH_SIZE;
				s->clen = 0;
			}
			break;
		}
	}
	return 0;
}

/* Lowercase substring search in the head. */
static int
head_has(const char *head, const char *needle)
{
	size_t	 i, j, nl = strlen(needle);

	for (i = 0; head[i] != '\0'; i++) {
		for (j = 0; j < nl && head[i + j] != '\0' &&
		    tolower((unsigned char)head[i + j]) == needle[j]; j++)
			;
		if (j == nl)
			return 1;
	}
	return 0;
}

static void
readable(int i)
{
	struct stream	*s = &C.s[i];
	ssize_t		 n;
	size_t		 take, used;
	char		*end;
	int64_t		 t;

	n = read(s->fd, rbuf, sizeof(rbuf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop(i, n == 0 ? "the server closed the connection" : strerror(errno));
		return;
	}
	t = now_us();
	C.bytes += (uint64_t)n;
	if (s->state == S_HEAD) {
		take = (size_t)n < HEAD_MAX - 1u - s->hlen ? (size_t)n : HEAD_MAX - 1u - s->hlen;
		memcpy(s->head + s->hlen, rbuf, take);
		s->hlen = (uint16_t)(s->hlen + take);
		s->head[s->hlen] = '\0';
		if ((end = strstr(s->head, "\r\n\r\n")) == NULL) {
			if (s->hlen >= HEAD_MAX - 1)
				drop(i, "response head too long");
			return;
		}
		if (strncmp(s->head, "HTTP/1.1 200", 12) != 0) {
			drop(i, "not 200");
			return;
		}
		s->chunked = (uint8_t)head_has(s->head, "transfer-encoding: chunked");
		/* What followed the head in this read is body. */
		used = (size_t)(end + 4 - s->head) - (s->hlen - take);
		free(s->head);
		s->head = NULL;
		s->state = S_BODY;
		C.inflight--;
		C.open++;
		if (C.live)
			live_opened(i, t);
		if (body_feed(i, rbuf + used, (size_t)n - used, t) < 0)
			drop(i, "the answer ended");
		start_more();
		return;
	}
	if (body_feed(i, rbuf, (size_t)n, t) < 0)
		drop(i, "the answer ended");
}

static int
write_arrivals(const char *path)
{
	FILE	*f;
	size_t	 k;

	if (path == NULL)
		return 0;
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		return -1;
	}
	for (k = 0; k < C.narr; k++)
		fprintf(f, "%u %lld %u\n", C.arr[k].seq, (long long)C.arr[k].t, C.arr[k].stream);
	return fclose(f);
}

static int
read_paths(const char *file)
{
	FILE	*f = fopen(file, "r");
	char	 line[2048];
	size_t	 len;
	int	 cap = 0;

	if (f == NULL) {
		perror(file);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		len = strcspn(line, "\r\n");
		if (len == 0)
			continue;
		line[len] = '\0';
		if (C.npaths == cap) {
			cap = cap ? cap * 2 : 64;
			C.paths = xrealloc(C.paths, (size_t)cap * sizeof(*C.paths));
		}
		C.paths[C.npaths++] = strdup(line);
	}
	fclose(f);
	return C.npaths > 0 ? 0 : -1;
}

static int
run_connect(int argc, char *argv[])
{
	struct epoll_event	 evs[EVENTS_MAX];
	struct signalfd_siginfo	 si;
	const char		*out = NULL;
	char			*ports, *tok, *save = NULL;
	int			 ch, sigfd, nev, k, stop = 0;

	C.maxinflight = 256;
	while ((ch = getopt(argc, argv, "c:o:")) != -1) {
		switch (ch) {
		case 'c':
			C.maxinflight = atoi(optarg);
			break;
		case 'o':
			out = optarg;
			break;
		default:
			return 2;
		}
	}
	if (argc - optind != 4 || C.maxinflight < 1)
		return 2;
	ports = argv[optind];
	for (tok = strtok_r(ports, ",", &save); tok != NULL && C.nports < MAX_PORTS;
	    tok = strtok_r(NULL, ",", &save)) {
		C.addr[C.nports].sin_family = AF_INET;
		C.addr[C.nports].sin_port = htons((uint16_t)atoi(tok));
		C.addr[C.nports++].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
	C.key = argv[optind + 1];
	C.n = atoi(argv[optind + 2]);
	if (C.nports == 0 || C.n < 1 || read_paths(argv[optind + 3]) < 0)
		return 2;
	raise_nofile();
	setvbuf(stdout, NULL, _IOLBF, 0);
	C.s = xcalloc((size_t)C.n, sizeof(*C.s));
	C.epfd = epoll_create1(EPOLL_CLOEXEC);
	sigfd = signals(0);
	ep_add(C.epfd, sigfd, EPOLLIN, EV_SIGNAL);
	C.t_start = now_us();
	start_more();
	while (!stop) {
		nev = epoll_wait(C.epfd, evs, EVENTS_MAX, -1);
		for (k = 0; k < nev; k++) {
			uint64_t d = evs[k].data.u64;

			if (d == EV_SIGNAL) {
				while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
					if (si.ssi_signo == SIGUSR1)
						printf("status open %d closed %d failed %d events %zu\n",
						    C.open, C.closed, C.failed, C.narr);
					else
						stop = 1;
				}
				continue;
			}
			if (C.s[d].state == S_CONNECTING) {
				if (evs[k].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
					send_request((int)d);
				continue;
			}
			if (C.s[d].state == S_HEAD || C.s[d].state == S_BODY)
				readable((int)d);
		}
	}
	if (write_arrivals(out) < 0)
		return 1;
	printf("summary streams %d open %d closed %d failed %d events %zu bytes %llu cpu_s %.2f\n",
	    C.n, C.open, C.closed, C.failed, C.narr, (unsigned long long)C.bytes, cpu_seconds());
	return 0;
}

/* ================================================================ live */

#define POST_MAX	8192
#define ID_LEN		36

/* A run the live loop created. */
struct liverun {
	char		 id[ID_LEN + 1];
	int		 slot;
	int64_t		 t_post, t_created, t_open, t_end;
};

static struct {
	struct liverun	*r;
	size_t		 n, cap;
	char		**bodies;
	int		 nbodies;
	int		*wait;		/* slots waiting for their turn to create a run */
	int		 nwait;
	int		 ramp_ms, stopping;
	uint64_t	 ended, cut, refused;
} L;

/* The slot's next run: created now, or queued while INFLIGHT are under way. */
static void
live_next(int i)
{
	struct stream	*s = &C.s[i];
	struct liverun	*r;
	const char	*why;

	if (L.stopping) {
		s->state = S_IDLE;
		return;
	}
	if (C.inflight >= C.maxinflight) {
		s->state = S_IDLE;
		L.wait[L.nwait++] = i;
		return;
	}
	if (L.n == L.cap) {
		L.cap = L.cap ? L.cap * 2 : 4096;
		L.r = xrealloc(L.r, L.cap * sizeof(*L.r));
	}
	r = &L.r[L.n];
	memset(r, 0, sizeof(*r));
	r->slot = i;
	r->t_post = now_us();
	s->num = (uint32_t)L.n++;
	s->llen = s->lover = 0;
	s->seq = 0;
	s->hlen = 0;
	C.inflight++;
	if (slot_connect(i, S_PCONNECTING, &why) < 0)
		live_drop(i, why);
}

/* Slots started by the ramp, then those waiting for a place. */
static void
live_more(void)
{
	int64_t	 now = now_us();
	int	 i;

	while (C.started < C.n && (L.ramp_ms == 0 ||
	    now >= C.t_start + (int64_t)C.started * L.ramp_ms * 1000 / C.n))
		live_next(C.started++);
	while (L.nwait > 0 && C.inflight < C.maxinflight && !L.stopping) {
		i = L.wait[0];
		memmove(L.wait, L.wait + 1, (size_t)--L.nwait * sizeof(*L.wait));
		live_next(i);
	}
	if (!C.ready && C.started == C.n) {
		C.ready = 1;
		printf("ready slots %d secs %.2f\n", C.n, (double)(now_us() - C.t_start) / 1e6);
	}
}

/* The slot's current step ends: its stream's end (the slot goes on with a new run), or
 * a failure while creating or opening (counted; the slot stops). */
static void
live_drop(int i, const char *why)
{
	struct stream	*s = &C.s[i];
	struct liverun	*r = &L.r[s->num];
	int		 failed = 0;

	if (s->state == S_BODY) {
		C.open--;
		r->t_end = now_us();
		if (strcmp(why, "the answer ended") == 0)
			L.ended++;
		else {
			L.cut++;
			if (L.cut <= FAIL_TOLD)
				fprintf(stderr, "sse-client: run %s: stream cut: %s\n", r->id, why);
		}
	} else if (s->state != S_IDLE && s->state != S_GONE) {
		tell_failure(i, why);
		C.failed++;
		C.inflight--;
		failed = 1;
	}
	if (s->fd >= 0) {
		epoll_ctl(C.epfd, EPOLL_CTL_DEL, s->fd, NULL);
		close(s->fd);
	}
	s->fd = -1;
	free(s->head);
	s->head = NULL;
	s->state = S_GONE;
	if (!failed)
		live_next(i);
	live_more();
}

static void
live_opened(int i, int64_t t)
{
	L.r[C.s[i].num].t_open = t;
}

static void
live_send_post(int i)
{
	struct stream		*s = &C.s[i];
	struct epoll_event	 ev;
	const char		*body = L.bodies[s->num % (uint32_t)L.nbodies];
	char			 req[4096];
	int			 err = 0, n;
	socklen_t		 len = sizeof(err);

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
		live_drop(i, strerror(err ? err : errno));
		return;
	}
	n = snprintf(req, sizeof(req), "POST /api/v1/runs HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
	    "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
	    ntohs(C.addr[i % C.nports].sin_port), C.key, strlen(body), body);
	if (n <= 0 || (size_t)n >= sizeof(req) || write(s->fd, req, (size_t)n) != n) {
		live_drop(i, "cannot send the POST");
		return;
	}
	s->state = S_PREAD;
	s->head = xcalloc(1, POST_MAX);
	s->hlen = 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = (uint64_t)i;
	epoll_ctl(C.epfd, EPOLL_CTL_MOD, s->fd, &ev);
}

/* The answer to the POST, read to its end (Connection: close); then the stream. */
static void
live_post_readable(int i)
{
	struct stream	*s = &C.s[i];
	struct liverun	*r = &L.r[s->num];
	ssize_t		 n;
	size_t		 take;
	const char	*loc, *why;
	int		 k;

	n = read(s->fd, rbuf, sizeof(rbuf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		live_drop(i, strerror(errno));
		return;
	}
	if (n > 0) {
		take = (size_t)n < POST_MAX - 1u - s->hlen ? (size_t)n : POST_MAX - 1u - s->hlen;
		memcpy(s->head + s->hlen, rbuf, take);
		s->hlen = (uint16_t)(s->hlen + take);
		return;
	}
	s->head[s->hlen] = '\0';
	if (strncmp(s->head, "HTTP/1.1 202", 12) != 0) {
		L.refused++;
		live_drop(i, "POST /api/v1/runs not 202");
		return;
	}
	if ((loc = strstr(s->head, "/api/v1/runs/")) == NULL) {
		live_drop(i, "no Location in the 202");
		return;
	}
	loc += strlen("/api/v1/runs/");
	for (k = 0; k < ID_LEN && (isxdigit((unsigned char)loc[k]) || loc[k] == '-'); k++)
		r->id[k] = loc[k];
	r->id[k] = '\0';
	if (k != ID_LEN) {
		live_drop(i, "no run id in the Location");
		return;
	}
	r->t_created = now_us();
	epoll_ctl(C.epfd, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	free(s->head);
	s->head = NULL;
	/* The stream, on a new connection (Caddy opens one per request anyway). */
	s->hlen = 0;
	s->chunked = s->cstate = 0;
	s->clen = 0;
	if (slot_connect(i, S_CONNECTING, &why) < 0)
		live_drop(i, why);
}

static void
live_send_get(int i)
{
	char		 path[128];
	const char	*why;

	snprintf(path, sizeof(path), "/api/v1/runs/%s/stream", L.r[C.s[i].num].id);
	if (send_get(i, path, &why) < 0)
		live_drop(i, why);
}

static int
write_runs(const char *path)
{
	FILE	*f;
	size_t	 k;

	if (path == NULL)
		return 0;
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		return -1;
	}
	for (k = 0; k < L.n; k++)
		fprintf(f, "%zu %s %lld %lld %lld %lld %d\n", k, L.r[k].id[0] ? L.r[k].id : "-",
		    (long long)L.r[k].t_post, (long long)L.r[k].t_created,
		    (long long)L.r[k].t_open, (long long)L.r[k].t_end, L.r[k].slot);
	return fclose(f);
}

static int
run_live(int argc, char *argv[])
{
	struct epoll_event	 evs[EVENTS_MAX];
	struct signalfd_siginfo	 si;
	struct itimerspec	 its;
	const char		*out = NULL, *runs = NULL;
	char			*ports, *tok, *save = NULL;
	uint64_t		 ticks;
	int			 ch, sigfd, tfd, nev, k, stop = 0;

	C.live = 1;
	C.maxinflight = 256;
	while ((ch = getopt(argc, argv, "c:o:r:s:")) != -1) {
		switch (ch) {
		case 'c':
			C.maxinflight = atoi(optarg);
			break;
		case 'o':
			out = optarg;
			break;
		case 'r':
			runs = optarg;
			break;
		case 's':
			L.ramp_ms = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (argc - optind != 4 || C.maxinflight < 1 || L.ramp_ms < 0)
		return 2;
	ports = argv[optind];
	for (tok = strtok_r(ports, ",", &save); tok != NULL && C.nports < MAX_PORTS;
	    tok = strtok_r(NULL, ",", &save)) {
		C.addr[C.nports].sin_family = AF_INET;
		C.addr[C.nports].sin_port = htons((uint16_t)atoi(tok));
		C.addr[C.nports++].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
	C.key = argv[optind + 1];
	C.n = atoi(argv[optind + 2]);
	/* The bodies: the lines of BODYFILE (read as paths are). */
	if (C.nports == 0 || C.n < 1 || read_paths(argv[optind + 3]) < 0)
		return 2;
	L.bodies = C.paths;
	L.nbodies = C.npaths;
	raise_nofile();
	setvbuf(stdout, NULL, _IOLBF, 0);
	C.s = xcalloc((size_t)C.n, sizeof(*C.s));
	for (k = 0; k < C.n; k++)
		C.s[k].fd = -1;
	L.wait = xcalloc((size_t)C.n, sizeof(*L.wait));
	C.epfd = epoll_create1(EPOLL_CLOEXEC);
	sigfd = signals(0);
	ep_add(C.epfd, sigfd, EPOLLIN, EV_SIGNAL);
	/* The ramp's clock: every 10 ms. */
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	memset(&its, 0, sizeof(its));
	its.it_value.tv_nsec = 10000000;
	its.it_interval = its.it_value;
	timerfd_settime(tfd, 0, &its, NULL);
	ep_add(C.epfd, tfd, EPOLLIN, EV_TIMER);
	C.t_start = now_us();
	live_more();
	while (!stop) {
		nev = epoll_wait(C.epfd, evs, EVENTS_MAX, -1);
		for (k = 0; k < nev; k++) {
			uint64_t	 d = evs[k].data.u64;
			int		 st;

			if (d == EV_SIGNAL) {
				while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
					if (si.ssi_signo == SIGUSR1)
						printf("status runs %zu open %d ended %llu cut %llu failed %d events %zu\n",
						    L.n, C.open, (unsigned long long)L.ended,
						    (unsigned long long)L.cut, C.failed, C.narr);
					else
						stop = 1;
				}
				continue;
			}
			if (d == EV_TIMER) {
				if (read(tfd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks) &&
				    C.started == C.n && L.nwait == 0) {
					close(tfd);	/* the ramp is over */
					tfd = -1;
				} else
					live_more();
				continue;
			}
			st = C.s[d].state;
			if (st == S_PCONNECTING) {
				if (evs[k].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
					live_send_post((int)d);
			} else if (st == S_PREAD)
				live_post_readable((int)d);
			else if (st == S_CONNECTING) {
				if (evs[k].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
					live_send_get((int)d);
			} else if (st == S_HEAD || st == S_BODY)
				readable((int)d);
		}
	}
	if (write_arrivals(out) < 0 || write_runs(runs) < 0)
		return 1;
	printf("summary slots %d runs %zu open %d ended %llu cut %llu failed %d refused %llu events %zu bytes %llu cpu_s %.2f\n",
	    C.n, L.n, C.open, (unsigned long long)L.ended, (unsigned long long)L.cut, C.failed,
	    (unsigned long long)L.refused, C.narr, (unsigned long long)C.bytes, cpu_seconds());
	return 0;
}

/* ================================================================ serve */

/* One FastCGI connection from the web server: where its record parser stands. */
struct fconn {
	uint8_t		 hdr[8];
	uint8_t		 hlen;
	uint8_t		 streaming;
	uint16_t	 reqid;
	uint32_t	 skip;		/* content and padding bytes left in the record */
};

static struct fconn	*F;
static int		 nfds, nstreams, maxstreams;

#define FCGI_BEGIN_REQUEST	1
#define FCGI_STDIN		5
#define FCGI_STDOUT		6

/* An FCGI_STDOUT record of content (at most 8 KiB) into buf: its length. */
static size_t
stdout_record(char *buf, uint16_t id, const char *content, size_t clen)
{
	size_t pad = -clen & 7;

	buf[0] = 1;
	buf[1] = FCGI_STDOUT;
	buf[2] = (char)(id >> 8);
	buf[3] = (char)(id & 0xff);
	buf[4] = (char)(clen >> 8);
	buf[5] = (char)(clen & 0xff);
	buf[6] = (char)pad;
	buf[7] = 0;
	memcpy(buf + 8, content, clen);
	memset(buf + 8 + clen, 0, pad);
	return 8 + clen + pad;
}

static void
fclose_conn(int fd)
{
	if (F[fd].streaming)
		nstreams--;
	memset(&F[fd], 0, sizeof(F[fd]));
	close(fd);
}

static void
begin_stream(int fd)
{
	static const char head[] =
	    "Status: 200 OK\r\n"
	    "Content-Type: text/event-stream\r\n"
	    "Cache-Control: no-cache\r\n"
	    "X-Accel-Buffering: no\r\n"
	    "\r\n"
	    "retry: 2000\n\n";
	char	 rec[512];
	size_t	 len = stdout_record(rec, F[fd].reqid, head, sizeof(head) - 1);

	if (write(fd, rec, len) != (ssize_t)len) {
		fclose_conn(fd);
		return;
	}
	F[fd].streaming = 1;
	if (++nstreams > maxstreams)
		maxstreams = nstreams;
}

static void
fconn_readable(int fd)
{
	struct fconn	*c = &F[fd];
	ssize_t		 n;
	size_t		 k = 0, take;
	uint32_t	 clen;

	n = read(fd, rbuf, sizeof(rbuf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		fclose_conn(fd);
		return;
	}
	while (k < (size_t)n) {
		if (c->hlen < 8) {
			c->hdr[c->hlen++] = (uint8_t)rbuf[k++];
			if (c->hlen < 8)
				continue;
			clen = (uint32_t)c->hdr[4] << 8 | c->hdr[5];
			c->skip = clen + c->hdr[6];
			if (c->hdr[1] == FCGI_BEGIN_REQUEST)
				c->reqid = (uint16_t)(c->hdr[2] << 8 | c->hdr[3]);
			else if (c->hdr[1] == FCGI_STDIN && clen == 0 && !c->streaming) {
				begin_stream(fd);
				if (F[fd].hlen == 0)
					return;		/* closed */
			}
			if (c->skip == 0)
				c->hlen = 0;
			continue;
		}
		take = (size_t)n - k < c->skip ? (size_t)n - k : c->skip;
		k += take;
		if ((c->skip -= (uint32_t)take) == 0)
			c->hlen = 0;
	}
}

static void
emit(uint32_t seq)
{
	char	 frame[256], rec[512];
	size_t	 flen, len;
	int	 fd, sent = 0, failed = 0;
	int64_t	 t;

	flen = (size_t)snprintf(frame, sizeof(frame),
	    "id: %u\nevent: message.delta\ndata: {\"text\": \"piece %u\"}\n\n", seq, seq);
	len = stdout_record(rec, 1, frame, flen);
	t = now_us();
	for (fd = 0; fd < nfds; fd++) {
		if (!F[fd].streaming)
			continue;
		rec[2] = (char)(F[fd].reqid >> 8);
		rec[3] = (char)(F[fd].reqid & 0xff);
		if (write(fd, rec, len) == (ssize_t)len)
			sent++;
		else
			failed++;
	}
	printf("emit %u %lld %d %d\n", seq, (long long)t, sent, failed);
}

static int
run_serve(int argc, char *argv[])
{
	struct epoll_event	 evs[EVENTS_MAX];
	struct signalfd_siginfo	 si;
	struct sockaddr_un	 sun;
	struct itimerspec	 its;
	struct rlimit		 rl;
	const char		*path;
	uint64_t		 ticks;
	uint32_t		 seq = 0;
	int			 ch, lfd, epfd, sigfd, tfd = -1, nev, k, fd, stop = 0,
				 interval = 0, ticking = 0;

	while ((ch = getopt(argc, argv, "i:")) != -1) {
		switch (ch) {
		case 'i':
			interval = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (argc - optind != 1 || interval < 0)
		return 2;
	path = argv[optind];
	raise_nofile();
	getrlimit(RLIMIT_NOFILE, &rl);
	nfds = rl.rlim_cur > 1048576 ? 1048576 : (int)rl.rlim_cur;
	F = xcalloc((size_t)nfds, sizeof(*F));
	setvbuf(stdout, NULL, _IOLBF, 0);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "sse-client: socket path too long\n");
		return 1;
	}
	strcpy(sun.sun_path, path);
	unlink(path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(path, 0666) < 0 || listen(lfd, 4096) < 0) {
		perror(path);
		return 1;
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	sigfd = signals(1);
	ep_add(epfd, lfd, EPOLLIN, EV_LISTEN);
	ep_add(epfd, sigfd, EPOLLIN, EV_SIGNAL);
	if (interval > 0) {
		tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		ep_add(epfd, tfd, EPOLLIN, EV_TIMER);
	}
	while (!stop) {
		nev = epoll_wait(epfd, evs, EVENTS_MAX, -1);
		for (k = 0; k < nev; k++) {
			uint64_t d = evs[k].data.u64;

			if (d == EV_LISTEN) {
				while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					if (fd >= nfds) {
						close(fd);
						continue;
					}
					memset(&F[fd], 0, sizeof(F[fd]));
					ep_add(epfd, fd, EPOLLIN, (uint64_t)fd);
				}
			} else if (d == EV_SIGNAL) {
				while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
					if (si.ssi_signo == SIGUSR1)
						emit(++seq);
					else if (si.ssi_signo == SIGUSR2 && tfd >= 0) {
						ticking = !ticking;
						memset(&its, 0, sizeof(its));
						if (ticking) {
							its.it_value.tv_sec = interval / 1000;
							its.it_value.tv_nsec = (long)(interval % 1000) * 1000000;
							its.it_interval = its.it_value;
						}
						timerfd_settime(tfd, 0, &its, NULL);
					} else if (si.ssi_signo != SIGUSR2)
						stop = 1;
				}
			} else if (d == EV_TIMER) {
				if (read(tfd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks) && ticking)
					emit(++seq);
			} else
				fconn_readable((int)d);
		}
	}
	printf("summary streams %d max %d events %u cpu_s %.2f\n", nstreams, maxstreams, seq,
	    cpu_seconds());
	unlink(path);
	return 0;
}

int
main(int argc, char *argv[])
{
	int rc = 2;

	if (argc >= 2 && strcmp(argv[1], "connect") == 0)
		rc = run_connect(argc - 1, argv + 1);
	else if (argc >= 2 && strcmp(argv[1], "live") == 0)
		rc = run_live(argc - 1, argv + 1);
	else if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		rc = run_serve(argc - 1, argv + 1);
	if (rc == 2)
		fprintf(stderr, "usage: sse-client connect [-c INFLIGHT] [-o FILE] PORT[,PORT...] KEY N PATHFILE\n"
		    "       sse-client live [-c INFLIGHT] [-s RAMP_MS] [-o FILE] [-r RUNSFILE] PORT[,PORT...] KEY N BODYFILE\n"
		    "       sse-client serve [-i MS] SOCKET\n");
	return rc;
}
