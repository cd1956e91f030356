/* stream.h: switchboard-stream, the event-driven FastCGI responder for server-sent events and long polls. */
#ifndef SB_STREAM_H
#define SB_STREAM_H

#include "fcgi-app.h"
#include "fcgi.h"

struct topic;

enum sconn_state {
	SC_READING,		/* gathering the request */
	SC_STREAMING,		/* an open event stream: events as they come */
	SC_WAITING,		/* a long poll: one answer when events come or time is up */
	SC_CLOSING		/* the answer is complete: close once written */
};

/* One FastCGI connection from the web server: one request at a time. */
struct sconn {
	struct sconn		*next, *prev;		/* every connection */
	struct sconn		*tnext, *tprev;		/* the subscribers of its topic */
	int			 fd;
	enum sconn_state	 state;
	int			 pollout;		/* EPOLLOUT is asked for */
	struct fcgi_conn	 fc;
	struct fcgi_out		 out;
	struct topic		*topic;
	int64_t			 cursor;		/* the last seq this client has */
	int64_t			 deadline_us;		/* long poll: when to answer empty */
	int64_t			 next_beat_us;		/* stream: next heartbeat */
	int			 limit;			/* long poll: events per answer */
	char			 who[48];		/* the caller, for the per-user cap */
	char			 request_id[65];
	char			 run_id[40];		/* what it watches */
	int			 subscribe;		/* watch run_id once the head is out */
	json_t			*items;			/* long poll: events to answer with */
	struct sconn		*ready_next;		/* long polls with items, in a read */
	int			 counted;		/* holds a place in the per-user count */
};

/* The process: the FastCGI app machinery (auth, router, responses) plus the hub. */
struct stream_server {
	struct app		 app;
	int			 listen_fd;
	int			 metrics_fd;		/* GET /metrics, or -1 */
	int			 epfd;
	struct sconn		*conns;
	int			 nconns;
	int			 nstreams;		/* streaming or waiting */
	struct sb_listener	 listener;		/* LISTEN switchboard_events */
	struct topic		**topics;		/* hash table by run id */
	size_t			 ntopics, captopics;
	int			 dirty;			/* some topic has unread events */
	int64_t			 next_sweep_us;
	int			 stopping;
	struct sconn		*current;		/* the connection being dispatched */
	struct {
		uint64_t	 streams_opened, events_sent, slow_closed, heartbeats;
		uint64_t	 longpolls, fetches;
	} m;
};

extern struct stream_server	*srv;

/* conn.c */
void	 sconn_accept(void);
void	 sconn_readable(struct sconn *);
void	 sconn_flush(struct sconn *);		/* writes what it can */
void	 sconn_close(struct sconn *);
/* Appends body bytes of the current answer (FCGI_STDOUT); closes a client that
 * cannot keep up (over stream.client_buffer). 0, or -1 once closed. */
int	 sconn_send(struct sconn *, const char *buf, size_t len);
void	 sconn_end(struct sconn *);		/* the answer is complete */
/* An answer built by fill() on a request made from c's params, appended as FCGI_STDOUT. */
void	 sconn_answer(struct sconn *, void (*fill)(struct sb_req *, void *), void *arg);

/* metrics.c */
char	*smetrics_render(void *, size_t *len);

/* hub.c: who watches which run, and the events they get. */
void	 hub_subscribe(struct sconn *, const char *run_id);
void	 hub_unsubscribe(struct sconn *);
void	 hub_listen(void);			/* (re)connects and LISTENs */
int	 hub_listen_fd(void);
void	 hub_notified(void);			/* reads notifications */
void	 hub_fetch(void);			/* reads the dirty topics' events */
void	 hub_sweep(int64_t now);		/* all topics dirty now and then */
void	 hub_free(void);			/* at exit */
uint64_t hub_hash(const char *);		/* FNV-1a, for the process' hash tables */
/* Events after after[i] of each run ids[i], at most limit each, in one statement
 * (stream_events): fn per row (run_id, seq, type, data, attempt, created_at). */
int	 hub_read(const char **ids, const int64_t *after, size_t n, int limit,
	    void (*fn)(void *arg, PGresult *res, int row), void *arg);

/* runs.c: the stream kinds and the long poll (struct stream_ops). */
extern const struct stream_ops	stream_ops;
/* An SSE frame of one event; 0, or -1 once the connection is closed. */
int	 sse_event(struct sconn *, long long seq, const char *type, const char *data);
int	 is_terminal(const char *type);
/* Answers a waiting long poll with these events ([{seq, type, data, ...}]), stolen. */
void	 longpoll_answer(struct sconn *, json_t *items);
void	 user_release(struct sconn *);		/* gives back its place in the per-user cap */

#endif /* SB_STREAM_H */
