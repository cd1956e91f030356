/* daemon.c: the command line, configuration, signals and systemd of the daemons (daemon.h). */
#include "config.h"

#include <sys/signalfd.h>

#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <systemd/sd-daemon.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/conf.h"
#include "core/crypto.h"
#include "core/daemon.h"
#include "core/log.h"
#include "core/tooldef.h"
#include "core/version.h"

static void	notify_status(bool, const char *, va_list) __attribute__((format(printf, 2, 0)));

/* The program's usage, or the one of a daemon with no flags of its own. */
static void
usage(const struct daemon *d, FILE *f)
{
	if (d->usage != NULL) {
		d->usage(f);
		return;
	}
	fprintf(f, "usage: %s [-t] [-c config] [-V]\n"
	    "  -c FILE   configuration file\n"
	    "  -t        check the configuration and exit\n"
	    "  -V        print the version and exit\n", d->name);
}

static int
usage_error(const struct daemon *d)
{
	usage(d, stderr);
	return 2;
}

int
daemon_args(struct daemon *d, int argc, char *argv[])
{
	const char	*path = NULL;
	int		 ch, rc;

	d->test = false;
	optind = 0;	/* a whole new scan, even if getopt ran before */
	while ((ch = getopt(argc, argv, d->opts)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 't':
			d->test = true;
			break;
		case 'V':
			printf("%s %s (%s)\n", d->name, sb_version(), sb_git_commit());
			return 0;
		case 'h':
			if (!(d->flags & DAEMON_HELP_OK))
				return usage_error(d);
			usage(d, stdout);
			return 0;
		case '?':
		case ':':
			return usage_error(d);
		default:
			if (d->own == NULL)
				return usage_error(d);
			if ((rc = d->own(ch, optarg)) >= 0)
				return rc;
			break;
		}
	}
	if (optind != argc && !(d->flags & DAEMON_OPERANDS_OK))
		return usage_error(d);
	d->argi = optind;
	d->config = config_resolve_path(path);
	return -1;
}

int
daemon_config(const struct daemon *d, struct sb_config *cfg)
{
	char	 err[512];

	if (config_load(cfg, d->config, err, sizeof(err)) < 0)
		goto bad;
	/* The tools are configuration too: a malformed one stops the program now. */
	if (tools_configure(cfg, d->flags & DAEMON_TOOL_SECRETS ? TOOLDEF_SECRETS : 0, err,
	    sizeof(err)) == 0)
		return 0;
bad:
	if (d->flags & DAEMON_LOG_CONFIG)
		log_error("configuration invalid", "{s:s}", "error", err);
	if (!(d->flags & DAEMON_LOG_CONFIG) || d->test)
		fprintf(stderr, "%s: %s\n", d->name, err);
	config_free(cfg);
	return -1;
}

int
daemon_libs_init(void)
{
	if (crypto_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		log_error("libsodium or libcurl failed to initialise", NULL);
		return -1;
	}
	return 0;
}

int
daemon_signals(int also)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	if (also != 0)
		sigaddset(&set, also);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* STATUS= the formatted text, after READY=1 and before MAINPID= if ready. */
static void
notify_status(bool ready, const char *fmt, va_list ap)
{
	char	 status[256];

	vsnprintf(status, sizeof(status), fmt, ap);
	if (ready)
		sd_notifyf(0, "READY=1\nSTATUS=%s\nMAINPID=%d", status, (int)getpid());
	else
		sd_notifyf(0, "STATUS=%s", status);
}

void
daemon_ready(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	notify_status(true, fmt, ap);
	va_end(ap);
}

void
daemon_status(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	notify_status(false, fmt, ap);
	va_end(ap);
}

void
daemon_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

int64_t
daemon_watchdog_us(void)
{
	uint64_t usec;

	return sd_watchdog_enabled(0, &usec) > 0 ? (int64_t)(usec / 2) : 0;
}

void
daemon_watchdog(void)
{
	sd_notify(0, "WATCHDOG=1");
}
