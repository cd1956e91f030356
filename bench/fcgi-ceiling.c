/* fcgi-ceiling.c: the benchmark's ceiling: the smallest prefork libfcgi responder.
 *
 * usage: fcgi-ceiling SOCKET [WORKERS]
 *
 * Listens on the unix socket SOCKET (mode 0666), forks WORKERS processes
 * (default twice the number of cores), and answers every request with the
 * same fixed response: the status, header count and sizes of switchboard-fcgi's
 * GET /api/v1/version.  Whatever the same web server in front of it can do with
 * this is the most Switchboard can hope for on that path (see bench/README.md).
 * SIGTERM or SIGINT stops the workers and removes the socket. */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <stddef.h>

#define MAX_WORKERS	1024

/* The body has the shape and size of switchboard-fcgi's version document with
 * a 12-character git commit; the headers are the ones response.c always sends. */
#define BODY \
	"{\"version\":\"0.1.0\",\"git_commit\":\"0123456789ab\"," \
	"\"build_time\":\"2025-01-01T00:00:00Z\",\"schema_version\":1}\n"

static const char response[] =
    "Status: 200 OK\r\n"
    "X-Request-Id: 0123456789abcdef0123456789abcdef\r\n"
    "Cache-Control: no-store\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: %zu\r\n"
    "\r\n"
    "%s";

static pid_t	 workers[MAX_WORKERS];
static int	 nworkers;

/* Never returns: answers requests until the master sends SIGTERM. */
static void __attribute__((noreturn))
worker(int fd, const char *buf, int len)
{
	FCGX_Request	 req;
	sigset_t	 none;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	FCGX_InitRequest(&req, fd, 0);
	while (FCGX_Accept_r(&req) >= 0) {
		FCGX_PutStr(buf, len, req.out);
		FCGX_Finish_r(&req);
	}
	fprintf(stderr, "fcgi-ceiling: FCGX_Accept_r failed in worker %d\n", (int)getpid());
	_exit(1);
}

/* Forks one worker into slot i; returns -1 if fork failed. */
static int
spawn(int i, int fd, const char *buf, int len)
{
	pid_t pid;

	if ((pid = fork()) < 0) {
		perror("fcgi-ceiling: fork");
		return -1;
	}
	if (pid == 0)
		worker(fd, buf, len);
	workers[i] = pid;
	return 0;
}

int
main(int argc, char *argv[])
{
	char		 buf[1024];
	struct stat	 st;
	sigset_t	 set;
	long		 ncpu;
	pid_t		 pid;
	int		 fd, i, len, n, sig, status;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: fcgi-ceiling SOCKET [WORKERS]\n");
		return 2;
	}
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	n = argc == 3 ? atoi(argv[2]) : (ncpu > 0 ? (int)(2 * ncpu) : 2);
	if (n < 1 || n > MAX_WORKERS) {
		fprintf(stderr, "fcgi-ceiling: WORKERS must be 1 to %d\n", MAX_WORKERS);
		return 2;
	}
	len = snprintf(buf, sizeof(buf), response, strlen(BODY), BODY);
	if (len < 0 || (size_t)len >= sizeof(buf))
		return 1;

	if (FCGX_Init() != 0) {
		fprintf(stderr, "fcgi-ceiling: FCGX_Init failed\n");
		return 1;
	}
	/* A socket left by an earlier run is replaced; anything else at the path is not. */
	if (lstat(argv[1], &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			fprintf(stderr, "fcgi-ceiling: %s exists and is not a socket\n", argv[1]);
			return 1;
		}
		unlink(argv[1]);
	}
	if ((fd = FCGX_OpenSocket(argv[1], 1024)) < 0) {
		fprintf(stderr, "fcgi-ceiling: cannot listen on %s\n", argv[1]);
		return 1;
	}
	if (chmod(argv[1], 0666) < 0) {
		fprintf(stderr, "fcgi-ceiling: chmod %s: %s\n", argv[1], strerror(errno));
		return 1;
	}

	/* The master only waits for signals; blocking them before the forks
	 * leaves no window in which one is lost. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (nworkers = 0; nworkers < n; nworkers++)
		if (spawn(nworkers, fd, buf, len) < 0)
			break;
	fprintf(stderr, "fcgi-ceiling: %d workers on %s, %d-byte response\n",
	    nworkers, argv[1], len);

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig != SIGCHLD)
			break;
		/* A worker that died is a bug worth seeing: say so and replace it. */
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			for (i = 0; i < nworkers; i++)
				if (workers[i] == pid) {
					fprintf(stderr, "fcgi-ceiling: worker %d died (status %d)\n",
					    (int)pid, status);
					if (spawn(i, fd, buf, len) < 0)
						workers[i] = 0;
				}
	}

	for (i = 0; i < nworkers; i++)
		if (workers[i] > 0)
			kill(workers[i], SIGTERM);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	close(fd);
	unlink(argv[1]);
	return 0;
}
