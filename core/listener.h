/* listener.h: a PostgreSQL connection that LISTENs on one channel, for an event
 * loop, and the names of the channels Switchboard NOTIFYs on. */
#ifndef SB_CORE_LISTENER_H
#define SB_CORE_LISTENER_H

#include "core/db.h"

/* LISTEN/NOTIFY channels: runs were created (switchboard-fcgi wakes the workers);
 * runs have new events (the worker tells the stream responder which). */
#define QUEUE_CHANNEL	"switchboard_queue"
#define EVENTS_CHANNEL	"switchboard_events"

/* A connection that LISTENs on one channel, for an event loop: poll listener_fd()
 * for input, then listener_read().  Reconnects (at most once a second) when lost. */
struct sb_listener {
	struct sb_db	 db;
	char		 channel[64];
	int		 listening;
};

void	 listener_init(struct sb_listener *, const char *url, int connect_timeout,
	    const char *channel);
void	 listener_close(struct sb_listener *);
/* Connects and LISTENs if not yet: 1 when it just started listening (notifications
 * sent meanwhile were missed: catch up), else 0. */
int	 listener_ensure(struct sb_listener *);
int	 listener_fd(const struct sb_listener *);	/* -1 while not listening */
/* Calls fn for each notification waiting: how many, or -1 when the connection was
 * lost (listener_ensure reconnects). */
int	 listener_read(struct sb_listener *, void (*fn)(void *arg, const char *payload),
	    void *arg);

#endif /* SB_CORE_LISTENER_H */
