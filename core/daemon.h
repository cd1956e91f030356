/* daemon.h: what switchboard-fcgi, switchboard-stream and switchboard-worker do alike
 * around their own work: the command line (-c, -t, -V, -h and a program's own flags),
 * loading the configuration, the libraries every one of them initialises, the signals
 * they read from a signalfd, and what they tell systemd (sd_notify).  switchboardctl
 * uses the command line part.
 *
 * Nothing here allocates: a struct daemon is the caller's, and the strings it points
 * to are argv's, the environment's or static. */
#ifndef SB_DAEMON_H
#define SB_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct sb_config;

/* What the programs do differently today, kept as they were. */
#define DAEMON_HELP_OK		0x1	/* -h: usage on stdout, exit 0 (else a usage error) */
#define DAEMON_OPERANDS_OK	0x2	/* operands are left to the caller (else a usage error) */
#define DAEMON_LOG_CONFIG	0x4	/* a bad configuration is logged (JSON) rather than
					 * said on stderr, and said on stderr as well with -t */
#define DAEMON_TOOL_SECRETS	0x8	/* the configured tools' secrets are read (the
					 * worker, which sends them; core/tooldef.h) */

struct daemon {
	/* Set by the program. */
	const char	*name;		/* "switchboard-stream": logs, -V, messages */
	const char	*opts;		/* getopt(3) string: any of c: t V h, and its own */
	void		(*usage)(FILE *);	/* NULL: -c, -t and -V alone */
	/* Its own flags (those in opts but c, t, V and h): the exit status to leave with,
	 * or -1 to go on.  NULL: it has none. */
	int		(*own)(int ch, const char *arg);
	unsigned	 flags;		/* DAEMON_* */

	/* Set by daemon_args. */
	const char	*config;	/* -c, else $SWITCHBOARD_CONFIG, else the default file
					 * if it exists, else NULL (defaults and environment) */
	bool		 test;		/* -t: check the configuration and leave */
	int		 argi;		/* argv index of the first operand */
};

/* Reads the command line into d.  -1 to go on, or the status to exit with: 0 after
 * -V or (with DAEMON_HELP_OK) -h, 2 after a usage error (the usage is on stderr), or
 * what d->own returned. */
int	 daemon_args(struct daemon *d, int argc, char *argv[]);
/* Loads d->config into cfg, and the HTTP tools of its tools.dir into the tool
 * declarations (core/tooldef.h: tool_decls_configure(NULL) frees them).  0, or -1
 * with the reason said (see DAEMON_LOG_CONFIG) and cfg freed. */
int	 daemon_config(const struct daemon *d, struct sb_config *cfg);
/* libsodium and libcurl, once per process and before any fork.  0, or -1 (logged). */
int	 daemon_libs_init(void);
/* Blocks SIGTERM, SIGINT, SIGHUP (and also, if not 0: SIGCHLD for a process with
 * children) for a signalfd, which it returns (non-blocking, close-on-exec), or -1
 * with errno set.  SIGPIPE is ignored: a peer that left is seen as EPIPE. */
int	 daemon_signals(int also);

/* sd_notify: READY=1 with STATUS= the formatted text and MAINPID=, once serving. */
void	 daemon_ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* STATUS= the formatted text. */
void	 daemon_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* STOPPING=1, once a stop began. */
void	 daemon_stopping(void);
/* How often to ping the watchdog (half of WatchdogSec=), in microseconds, or 0 when
 * systemd does not watch this process. */
int64_t	 daemon_watchdog_us(void);
/* WATCHDOG=1. */
void	 daemon_watchdog(void);

#endif /* SB_DAEMON_H */
