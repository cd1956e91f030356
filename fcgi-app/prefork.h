/* prefork.h: switchboard-fcgi's own processes: the master, its event loop, the handoff
 * of connections between it and its workers, a worker's life, the notifier.  The app
 * module (request.h, response.h, router.h, access.h, ...) knows none of this, and
 * switchboard-stream has no use for it. */
#ifndef SB_PREFORK_H
#define SB_PREFORK_H

#include <sys/queue.h>

#include "core/arena.h"
#include "core/conf.h"
#include "fcgi-app/app.h"
#include "fcgi-app/fcgi.h"

/* master.c */
int		 master_run(struct sb_config *, const char *config_path);

/* child.c.  In a process the master forked (a worker, the notifier): SIGTERM and
 * SIGINT call term (sigaction flags `flags`), SIGHUP and SIGPIPE are ignored,
 * SIGCHLD is the default again.  The signal mask is the caller's to set. */
void		 child_signals(void (*term)(int), int flags);
/* child.c: a prefork worker's life; returns its exit status. */
int		 child_main(struct app *, int chan, int listen_fd, int work_fd);

/* handoff.c: connections between the master and a worker, over the worker's channel
 * (a SOCK_SEQPACKET socketpair).  A worker accepts from the listening socket itself
 * and serves a request that arrived whole at once; one that did not, and a kept
 * connection after its answer, it hands to the master (adopt), which reads them in
 * its event loop and hands whole requests back to an idle worker (send). */
#define HANDOFF_DONE	0x01	/* a request the master handed on was answered */
#define HANDOFF_KEEP	0x02	/* and its connection may serve another request */
#define HANDOFF_LEAVING	0x04	/* the worker takes no more requests (its last word but a
				 * DONE): it exits when the master closes the channel */
#define HANDOFF_PULL	0x20	/* from a worker that took a work token: send a request */
#define HANDOFF_NONE	0x40	/* to it: the queue emptied meanwhile */
#define HANDOFF_QUIET	0x08	/* to a worker: stop accepting (the master is stopping) */
#define HANDOFF_LEAVE	0x10	/* to a worker: stop accepting, and answer HANDOFF_LEAVING
				 * once the request in hand is answered */
#define ADOPT_READ	1	/* a request to read (the bytes read so far come along) */
#define ADOPT_LINGER	2	/* answered before its body ended: read and drop the rest */
struct handoff_job {
	int		 flags;		/* a word from the master (HANDOFF_QUIET) */
	int		 fd;		/* the connection: the worker's to close */
	struct fcgi_req	 req;		/* envp and in: in the arena or a buffer of
					 * handoff.c, valid until the next receive */
};
/* What the master reads from a worker's channel: a word (fd -1) or a connection. */
struct handoff_word {
	int		 flags;		/* HANDOFF_* */
	int		 fd;		/* an adopted connection, or -1 */
	int		 mode;		/* ADOPT_* */
	char		*bytes;		/* already read from it: malloc'd, the caller's */
	size_t		 len;
};
/* 0, or -1 (errno) when the worker's end is gone.  The caller keeps conn_fd. */
int		 handoff_send(int chan, int conn_fd, const struct fcgi_req *);
/* 1 with a request, 2 with a word (job->flags), 0 when the master closed the channel,
 * -1 on error (errno). */
int		 handoff_recv(int chan, struct handoff_job *, struct sb_arena *);
int		 handoff_tell(int chan, int flags);
/* The worker's side: conn_fd (which it then closes) to the master. */
int		 handoff_adopt(int chan, int conn_fd, int mode, const char *bytes, size_t len);
/* The master's side: 1, 0 at end of file, -1 (errno; EAGAIN: nothing yet). */
int		 handoff_from_worker(int chan, struct handoff_word *);

/* front.c: the master's event loop reads the requests workers handed it (fcgi.c's
 * parser) and queues them, whole, for a worker to pull; master.c owns the processes and
 * the loop. */
#define MAX_WORKERS	2048
enum front_kind { FRONT_SIGNAL, FRONT_CONN, FRONT_SLOT };
struct front_src {
	enum front_kind	 kind;		/* what an epoll event's data.ptr points at */
};
extern struct front_src	 front_signal_src;
/* A worker as the front sees it. */
struct front_slot {
	struct front_src	 src;		/* FRONT_SLOT */
	LIST_ENTRY(front_slot)	 all;
	pid_t			 pid;
	int			 chan;		/* the master's end; -1 once closed */
	struct fconn		*conn;		/* a kept connection it answers, or NULL */
	int			 busy;		/* answering a request the master handed it */
	int			 draining;	/* takes no more: asked to leave, or leaving */
	int			 leaving;	/* it said HANDOFF_LEAVING: closed once not busy */
};
/* Returns the work token descriptor the workers watch, or -1. */
int		 front_init(struct app *, int epfd);
void		 front_readable(struct front_src *);		/* a FRONT_CONN */
void		 front_slot_readable(struct front_src *);	/* a FRONT_SLOT */
void		 front_expire(int64_t now_us);
int64_t		 front_next_deadline(void);	/* 0: none */
struct front_slot *front_slot_add(pid_t, int chan);
void		 front_slot_drain(struct front_slot *);
void		 front_slot_gone(struct front_slot *);	/* frees it */
void		 front_stop(void);		/* the workers stop accepting */
int		 front_idle(void);		/* no connection is held */
void		 front_close_all(void);
void		 front_forget(void);		/* in a forked child */

/* notifier.c: the notifier process: connects with database.url and loops until
 * SIGTERM.  Returns the exit status. */
int		 notifier_main(struct app *);

#endif /* SB_PREFORK_H */
