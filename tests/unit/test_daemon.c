/* test_daemon.c: the daemons' command line (daemon_args) and what they tell systemd. */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/arena.h"
#include "core/daemon.h"
#include "tests/unit/unit.h"

static int	 usage_calls, own_calls;

static void
usage(FILE *f)
{
	(void)f;
	usage_calls++;
}

static int
own(int ch, const char *arg)
{
	(void)arg;
	own_calls++;
	return ch == 'R' ? 0 : -1;
}

/* The words of the last command line: d->config may point into them. */
static char	*words_kept[16];

static void
words_free(void)
{
	size_t i;

	for (i = 0; words_kept[i] != NULL; i++) {
		free(words_kept[i]);
		words_kept[i] = NULL;
	}
}

/* daemon_args over a NULL-terminated list of words after the program name. */
static int
args(struct daemon *d, const char *const *words)
{
	int	 argc = 0, rc;

	words_free();
	words_kept[argc++] = sb_strdup("prog");
	while (*words != NULL && argc < 15)
		words_kept[argc++] = sb_strdup(*words++);
	usage_calls = own_calls = 0;
	opterr = 0;	/* getopt's own complaints would only clutter the output */
	rc = daemon_args(d, argc, words_kept);
	opterr = 1;
	return rc;
}

static void
test_daemon_args(void)
{
	struct daemon	 d = { .name = "prog", .opts = "c:hRtVx", .usage = usage, .own = own };

	UNIT_ASSERT_INT(args(&d, (const char *[]){ "-c", "/x.conf", "-t", NULL }), -1);
	UNIT_ASSERT_STR(d.config, "/x.conf");
	CU_ASSERT(d.test);
	UNIT_ASSERT_INT(d.argi, 4);
	/* Its own flag decides, or lets the scan go on. */
	UNIT_ASSERT_INT(args(&d, (const char *[]){ "-R", NULL }), 0);
	UNIT_ASSERT_INT(own_calls, 1);
	UNIT_ASSERT_INT(args(&d, (const char *[]){ "-x", "-c", "/y", NULL }), -1);
	UNIT_ASSERT_INT(own_calls, 1);
	UNIT_ASSERT_STR(d.config, "/y");
	CU_ASSERT(!d.test);
	/* Usage errors: an unknown flag, a missing argument, operands, -h without
	 * DAEMON_HELP_OK. */
	UNIT_ASSERT_INT(args(&d, (const char *[]){ "-c", NULL }), 2);
	UNIT_ASSERT_INT(usage_calls, 1);
	UNIT_ASSERT_INT(args(&d, (const char *[]){ "-t", "extra", NULL }), 2);
	UNIT_ASSERT_INT(args(&d, (const char *[]){ "-h", NULL }), 2);
	UNIT_ASSERT_INT(usage_calls, 1);
	d.flags = DAEMON_HELP_OK | DAEMON_OPERANDS_OK;
	UNIT_ASSERT_INT(args(&d, (const char *[]){ "-h", NULL }), 0);
	UNIT_ASSERT_INT(usage_calls, 1);
	UNIT_ASSERT_INT(args(&d, (const char *[]){ "-t", "extra", NULL }), -1);
	UNIT_ASSERT_INT(d.argi, 2);
	/* "+": the scan stops at the first operand (switchboardctl's command). */
	d.opts = "+c:hV";
	UNIT_ASSERT_INT(args(&d, (const char *[]){ "-c", "/z", "check", "-x", NULL }), -1);
	UNIT_ASSERT_INT(d.argi, 3);
	UNIT_ASSERT_STR(d.config, "/z");
	words_free();
}

static void
test_daemon_notify(void)
{
	struct sockaddr_un	 sa;
	char			 got[512], want[128];
	ssize_t			 n;
	int			 fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/sb-unit-notify.%d", (int)getpid());
	unlink(sa.sun_path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CU_ASSERT_FATAL(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	setenv("NOTIFY_SOCKET", sa.sun_path, 1);
	daemon_ready("%d workers", 4);
	n = recv(fd, got, sizeof(got) - 1, MSG_DONTWAIT);
	got[n > 0 ? n : 0] = '\0';
	snprintf(want, sizeof(want), "READY=1\nSTATUS=4 workers\nMAINPID=%d", (int)getpid());
	UNIT_ASSERT_STR(got, want);
	daemon_status("%d runs in flight%s", 2, ", database unreachable");
	n = recv(fd, got, sizeof(got) - 1, MSG_DONTWAIT);
	got[n > 0 ? n : 0] = '\0';
	UNIT_ASSERT_STR(got, "STATUS=2 runs in flight, database unreachable");
	daemon_stopping();
	n = recv(fd, got, sizeof(got) - 1, MSG_DONTWAIT);
	got[n > 0 ? n : 0] = '\0';
	UNIT_ASSERT_STR(got, "STOPPING=1");
	/* Watched: half of WATCHDOG_USEC (when meant for this process). */
	setenv("WATCHDOG_USEC", "400000", 1);
	unsetenv("WATCHDOG_PID");
	UNIT_ASSERT_INT(daemon_watchdog_us(), 200000);
	daemon_watchdog();
	n = recv(fd, got, sizeof(got) - 1, MSG_DONTWAIT);
	got[n > 0 ? n : 0] = '\0';
	UNIT_ASSERT_STR(got, "WATCHDOG=1");
	unsetenv("WATCHDOG_USEC");
	UNIT_ASSERT_INT(daemon_watchdog_us(), 0);
	unsetenv("NOTIFY_SOCKET");
	close(fd);
	unlink(sa.sun_path);
}

void
suite_daemon(void)
{
	CU_pSuite s = unit_suite("daemon", NULL, NULL);

	unit_test(s, "the command line: -c, -t, own flags, usage errors", test_daemon_args);
	unit_test(s, "READY, STATUS, STOPPING and WATCHDOG as systemd reads them",
	    test_daemon_notify);
}
