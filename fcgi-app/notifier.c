/* notifier.c: the notifier process: wakes switchboard-worker with coalesced NOTIFYs, sent
 * outside the request transactions (a handler sets the flag: wake.c). */
#include "config.h"

#include <sys/prctl.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stdint.h>
#include <sys/types.h>
#include <libpq-fe.h>

#include "fcgi-app/prefork.h"
#include "core/clock.h"
#include "core/db.h"
#include "core/err.h"
#include "core/listener.h"
#include "core/log.h"
#include "core/metrics.h"
#include "fcgi-app/app.h"
#include "fcgi-app/dispatch.h"
#include "fcgi-app/wake.h"

/* A worker killed between setting pending and writing the pipe would leave the flag
 * set with nothing to read, and no worker writes while it is set: the notifier looks
 * at the flag this often when the pipe stays quiet. */
#define STRANDED_CHECK_MS	1000

static volatile sig_atomic_t	 stopping;
static uint64_t			 session_gen;	/* the connection notify_session() set up */

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

/* SIGTERM and SIGINT stay blocked except while waiting in ppoll(), so a statement
 * to PostgreSQL is never interrupted and no signal falls between the check and the
 * wait.  *wait gets the mask to wait with. */
static void
notifier_signals(sigset_t *wait)
{
	sigset_t term;

	child_signals(on_term, 0);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sigprocmask(SIG_SETMASK, &term, NULL);
	sigemptyset(wait);
}


/* Reads everything in the pipe; 1 if there was anything. */
static int
drain(int fd)
{
	char	 buf[512];
	ssize_t	 n;
	int	 any = 0;

	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			any = 1;
	return any;
}

/* Once per connection.  A transaction that notifies gets a transaction id and
 * so a commit record: without synchronous_commit it would wait for a WAL flush,
 * which durability of a wake-up does not need (the worker daemon polls anyway).
 * The name shows the connection for what it is in pg_stat_activity. */
static enum sb_err
notify_session(struct sb_db *db)
{
	enum sb_err	 err;
	PGresult	*res;

	if (session_gen == db->generation)
		return SB_OK;
	res = db_exec(db, "SELECT set_config('synchronous_commit', 'off', false), "
	    "set_config('application_name', 'switchboard-notifier', false)", 0, NULL, &err);
	PQclear(res);
	if (err == SB_OK)
		session_gen = db->generation;
	return err;
}

/* One NOTIFY, on a fresh connection if the old one turns out dead.  While the
 * database is down wake-ups are dropped (the worker daemon polls): logged when it
 * goes and when it comes back, not per wake-up. */
static void
notify_send(struct app *app, int *down)
{
	enum sb_err	 err = SB_ERR_UNAVAILABLE;
	PGresult	*res;
	int		 try;

	for (try = 0; try < 2; try++) {
		if (db_ensure(&app->db) != SB_OK)
			break;
		if ((err = notify_session(&app->db)) != SB_OK) {
			if (err != SB_ERR_UNAVAILABLE)
				break;
			continue;
		}
		if ((res = db_exec(&app->db, "NOTIFY " QUEUE_CHANNEL, 0, NULL, &err)) != NULL) {
			PQclear(res);
			counter_add(&app->metrics->queue_notify, 1);
			if (*down)
				log_info("notifier: database reachable again", NULL);
			*down = 0;
			return;
		}
		if (err != SB_ERR_UNAVAILABLE)
			break;
	}
	if (!*down)
		log_warn("notifier: database unreachable: dropping wake-ups until it is back",
		    "{s:s}", "error", app->db.last_error);
	*down = 1;
}

/* Waits until NOTIFY_GAP_US after the last send (or a signal). */
static void
notify_gap(int64_t last_us)
{
	struct timespec	 ts;
	int64_t		 left = last_us + NOTIFY_GAP_US - clock_mono_us();

	if (left <= 0)
		return;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)left * 1000;
	nanosleep(&ts, NULL);
}

int
notifier_main(struct app *app)
{
	struct pollfd	 pfd;
	struct timespec	 quiet;
	sigset_t	 wait;
	pid_t		 parent = getppid();
	int64_t		 last_us = 0;
	int		 down = 0, woken, n;

	/* Leave with the master, whatever killed it. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	prctl(PR_SET_NAME, NOTIFIER_NAME);
	notifier_signals(&wait);
	if (getppid() != parent)
		return 0;
	close(app->wake.wfd);	/* the workers' end */
	app->wake.wfd = -1;
	db_init(&app->db, app->cfg.database.url, app->cfg.database.connect_timeout,
	    app->cfg.database.statement_timeout_ms);
	if (db_ensure(&app->db) != SB_OK || notify_session(&app->db) != SB_OK) {
		log_warn("notifier: database unreachable: dropping wake-ups until it is back",
		    "{s:s}", "error", app->db.last_error);
		down = 1;
	}
	log_info("notifier started", "{s:s}", "channel", QUEUE_CHANNEL);

	/* A wake-up that the notifier before this one read but did not send. */
	woken = drain(app->wake.rfd) ||
	    __atomic_load_n(app->wake.pending, __ATOMIC_SEQ_CST) != 0;
	pfd.fd = app->wake.rfd;
	pfd.events = POLLIN;
	quiet.tv_sec = STRANDED_CHECK_MS / 1000;
	quiet.tv_nsec = (STRANDED_CHECK_MS % 1000) * 1000000L;
	while (!stopping) {
		if (!woken) {
			pfd.revents = 0;
			n = ppoll(&pfd, 1, &quiet, &wait);
			if (n < 0 && errno != EINTR) {
				log_error("notifier: poll failed", "{s:s}", "error", strerror(errno));
				break;
			}
			if (n > 0 && (pfd.revents & POLLIN) == 0) {
				/* The master holds a write end for as long as it lives. */
				log_error("notifier: its pipe is closed", NULL);
				break;
			}
			if (n < 0 || (n == 0 &&
			    __atomic_load_n(app->wake.pending, __ATOMIC_SEQ_CST) == 0))
				continue;
		}
		/* Wake-ups that come during the pause join this NOTIFY. */
		notify_gap(last_us);
		(void)drain(app->wake.rfd);
		/* Cleared before sending: a commit during the send sets it again and
		 * gets a NOTIFY of its own. */
		__atomic_store_n(app->wake.pending, 0, __ATOMIC_SEQ_CST);
		last_us = clock_mono_us();
		notify_send(app, &down);
		woken = 0;
	}
	/* The master stops the notifier after the workers: their last commits still
	 * get their NOTIFY. */
	woken = drain(app->wake.rfd);
	if (__atomic_exchange_n(app->wake.pending, 0, __ATOMIC_SEQ_CST) != 0 || woken) {
		notify_gap(last_us);
		notify_send(app, &down);
	}
	db_close(&app->db);
	log_info("notifier stopped", NULL);
	return 0;
}
