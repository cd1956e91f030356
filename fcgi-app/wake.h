/* wake.h: the path from a committed run to the notifier process, which NOTIFYs
 * the queue's workers: a flag in shared memory and a pipe, made before fork. */
#ifndef SB_FCGI_APP_WAKE_H
#define SB_FCGI_APP_WAKE_H

/* The path from a committed run to the notifier (notifier.c): both made by the
 * master before fork.  pending is set by the worker that writes the pipe and
 * cleared by the notifier before it sends, so wake-ups coalesce while one is on
 * its way.  pending NULL: no notifier (a test driving requests): wakes are no-ops. */
struct queue_wake {
	unsigned	*pending;	/* in shared memory; accessed atomically */
	int		 rfd;		/* the pipe's read end: the notifier's */
	int		 wfd;		/* its write end, non-blocking: the workers' */
};

struct app;

/* wake.c and notifier.c: one process per master (the notifier) sends NOTIFY on
 * QUEUE_CHANNEL for every worker, at most one per NOTIFY_GAP_US, never inside a
 * request's transaction; a handler wakes it. */
#define NOTIFY_GAP_US	1000
#define NOTIFIER_NAME	"sb-notifier"	/* its process name (comm), for ps and tests */

/* The shared flag and the pipe, before fork.  0, or -1 (logged). */
int		 queue_wake_init(struct queue_wake *);
/* After a transaction that created a run has committed: wakes the notifier unless
 * a wake-up is already pending.  Never blocks; a full pipe already means a wake-up. */
void		 queue_wake(struct app *);

#endif /* SB_FCGI_APP_WAKE_H */
