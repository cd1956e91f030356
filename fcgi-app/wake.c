/* wake.c: a handler's side of waking the queue: a flag in shared memory and a pipe to the
 * notifier (notifier.c), so that a committed run is announced without a NOTIFY in its
 * transaction and wake-ups coalesce. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/metrics.h"
#include "fcgi-app/app.h"
#include "fcgi-app/wake.h"

int
queue_wake_init(struct queue_wake *w)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		log_error("cannot create the notifier's pipe", "{s:s}", "error", strerror(errno));
		return -1;
	}
	w->pending = metrics_shm_new(sizeof(*w->pending));
	w->rfd = fds[0];
	w->wfd = fds[1];
	return 0;
}

void
queue_wake(struct app *app)
{
	struct queue_wake *w = &app->wake;

	if (w->pending == NULL)
		return;
	/* Already pending: the notifier has not cleared the flag yet, so the NOTIFY it
	 * is about to send comes after this commit. */
	if (__atomic_exchange_n(w->pending, 1, __ATOMIC_SEQ_CST) != 0)
		return;
	counter_add(&app->metrics->queue_wakeups, 1);
	/* EAGAIN: the pipe is full, so the notifier has something to read anyway.
	 * Any other failure leaves pending set for its periodic look. */
	if (write(w->wfd, "", 1) < 0 && errno != EAGAIN)
		log_warn("cannot wake the notifier", "{s:s}", "error", strerror(errno));
}
