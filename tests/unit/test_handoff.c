/* test_handoff.c: fcgi-app/handoff.c, a whole request from the master to a worker and back. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <stddef.h>
#include <stdio.h>

#include "fcgi-app/prefork.h"
#include "tests/unit/unit.h"
#include "core/arena.h"

/* Sends a request of these params and a body of body_len bytes from one end of a
 * socketpair and receives it at the other: what arrives is what went. */
static void
roundtrip(char **envp, size_t body_len, int over)
{
	struct fcgi_req		 r;
	struct handoff_job	 job;
	struct sb_arena		*a = arena_new(4096);
	struct stat		 st_sent, st_got;
	char			*body = malloc(body_len + 1);
	int			 sv[2], conn[2], i, n;

	for (i = 0; i < (int)body_len; i++)
		body[i] = (char)('a' + i % 26);
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	/* Any descriptor stands for the connection: it must arrive as the same file. */
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, conn) == 0);
	memset(&r, 0, sizeof(r));
	r.id = 7;
	r.over = over;
	r.envp = envp;
	r.in = body;
	r.in_len = body_len;
	UNIT_ASSERT_INT(handoff_send(sv[0], conn[0], &r), 0);
	UNIT_ASSERT_INT(handoff_recv(sv[1], &job, a), 1);
	CU_ASSERT(job.fd >= 0 && job.fd != conn[0]);
	CU_ASSERT(fstat(conn[0], &st_sent) == 0 && fstat(job.fd, &st_got) == 0 &&
	    st_sent.st_ino == st_got.st_ino);
	UNIT_ASSERT_INT(job.req.id, 7);
	UNIT_ASSERT_INT(job.req.over, over);
	for (n = 0; envp[n] != NULL; n++)
		UNIT_ASSERT_STR(job.req.envp[n], envp[n]);
	CU_ASSERT_PTR_NULL(job.req.envp[n]);
	UNIT_ASSERT_INT(job.req.nparams, n);
	UNIT_ASSERT_INT(job.req.in_len, body_len);
	CU_ASSERT(body_len == 0 || memcmp(job.req.in, body, body_len) == 0);
	UNIT_ASSERT_INT(job.req.in[body_len], '\0');

	/* The worker's word back, and the end of the channel. */
	UNIT_ASSERT_INT(handoff_tell(sv[1], HANDOFF_DONE | HANDOFF_KEEP), 0);
	CU_ASSERT(recv(sv[0], &i, sizeof(i), 0) == 1 && (char)i == (HANDOFF_DONE | HANDOFF_KEEP));
	close(sv[0]);
	UNIT_ASSERT_INT(handoff_recv(sv[1], &job, a), 0);
	close(sv[1]);
	close(conn[0]);
	close(conn[1]);
	free(body);
	arena_free(a);
}

static void
test_small(void)
{
	char *envp[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/api/v1/runs", "HTTP_X=", NULL };
	char *none[] = { NULL };

	roundtrip(envp, 17, 0);
	roundtrip(envp, 0, 0);
	roundtrip(none, 0, 431);
}

/* Over 48 KiB the payload travels in a memfd: a 1 MiB body and many params. */
static void
test_large(void)
{
	char	*envp[FCGI_NPARAMS_MAX + 1];
	int	 i;

	for (i = 0; i < FCGI_NPARAMS_MAX; i++) {
		envp[i] = malloc(64);
		snprintf(envp[i], 64, "HTTP_X_%d=%0*d", i, 40, i);
	}
	envp[i] = NULL;
	roundtrip(envp, 1024 * 1024, 0);
	roundtrip(envp, 40 * 1024, 413);	/* together over 48 KiB */
	for (i = 0; i < FCGI_NPARAMS_MAX; i++)
		free(envp[i]);
}

/* A message that is not a request is refused, and its descriptor not kept. */
static void
test_malformed(void)
{
	struct handoff_job	 job;
	struct sb_arena		*a = arena_new(4096);
	int			 sv[2];

	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	CU_ASSERT(send(sv[0], "short", 5, 0) == 5);
	UNIT_ASSERT_INT(handoff_recv(sv[1], &job, a), -1);
	UNIT_ASSERT_INT(job.fd, -1);
	close(sv[0]);
	close(sv[1]);
	arena_free(a);
}

void
suite_handoff(void)
{
	CU_pSuite s = unit_suite("handoff", NULL, NULL);

	unit_test(s, "a small request arrives as sent", test_small);
	unit_test(s, "a large request arrives through a memfd", test_large);
	unit_test(s, "a malformed message is refused", test_malformed);
}
