/* stream.h: switchboard-stream, the event-driven FastCGI responder for server-sent events and long polls. */
#ifndef SB_STREAM_H
#define SB_STREAM_H

#include <sys/queue.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/cursor.h"
#include "core/db.h"
#include "core/dbq.h"
#include "core/err.h"
#include "core/listener.h"
#include "core/metrics.h"
#include "fcgi-app/app.h"
#include "fcgi-app/request.h"
#include "fcgi-app/fcgi.h"
#include "stream/topics.h"

struct topic;
struct topic_kind;

enum sconn_state {
	SC_READING,		/* gathering the request */
	SC_OPENING,		/* a stream's open waits for the database (runs.c) */
	SC_STREAMING,		/* an open event stream: events as they come */
	SC_WAITING,		/* a long poll: one answer when events come or time is up */
	SC_CLOSING		/* the answer is complete: close once written */
};

/* One FastCGI connection from the web server: one request at a time. */
struct sconn {
	LIST_ENTRY(sconn)	 link;			/* every connection */
	LIST_ENTRY(sconn)	 tlink;			/* the subscribers of its topic */
	int			 fd;
	enum sconn_state	 state;
	int			 pollout;		/* EPOLLOUT is asked for */
	struct fcgi_conn	 fc;
	struct fcgi_out		 out;
	struct topic		*topic;
	struct sb_cursor	 cursor;		/* the last event this client has */
	int64_t			 deadline_us;		/* long poll: when to answer empty */
	int64_t			 next_beat_us;		/* stream: next heartbeat */
	int			 limit;			/* long poll: events per answer */
	char			 who[48];		/* the caller, for the per-user cap */
	char			 request_id[65];
	const struct topic_kind	*kind;			/* what it watches: a kind of topic */
	char			 key[40];		/* and which one (a run id, an org id) */
	int			 subscribe;		/* watch it once the head is out */
	json_t			*items;			/* long poll: events to answer with */
	struct sconn		*ready_next;		/* long polls with items, in a read */
	/* The credential it was let in with, checked again while it is held (recheck.c). */
	enum auth_kind		 cred_kind;
	char			 cred[HASH_HEX_LEN + 1];	/* a session's token hash, a key's id */
	unsigned		 need_scope;		/* the route's scopes */
	int64_t			 cred_expires;		/* Unix seconds; 0: never */
	int			 counted;		/* holds a place in the per-user count */
	int			 probes;		/* probe comments still to write */
	int64_t			 next_probe_us;
	struct sb_buf		 rest;			/* bytes of the next request, read early */
	struct dbq_req		*opening;		/* SC_OPENING: its statement */
};

/* The process: the FastCGI app machinery (auth, router, responses) plus the hub. */
struct stream_server {
	struct app		 app;
	int			 listen_fd;
	int			 metrics_fd;		/* GET /metrics, or -1 */
	int			 epfd;
	LIST_HEAD(, sconn)	 conns;
	LIST_HEAD(, sconn)	 closed;		/* closed in this wake-up, freed after */
	int			 nconns;
	int			 nstreams;		/* streaming or waiting */
	struct sb_listener	 listener;		/* LISTEN switchboard_events */
	struct dbq		*opens;			/* stream opens, not waited for */
	struct topic_table	 topics;		/* by kind and key (topics.c) */
	int			 dirty;			/* some topic has unread events */
	int64_t			 fetched_us;		/* the last read of dirty topics */
	int64_t			 notified_us;		/* the oldest notification not yet read for */
	int64_t			 next_sweep_us;
	int64_t			 next_poll_us;		/* polled kinds (the feed) */
	int64_t			 next_recheck_us;	/* credentials of held requests */
	int			 poll_due;		/* read every topic of a polled kind */
	int			 stopping;
	int			 nprobing;		/* connections with probes to write */
	int			 nrest;			/* connections holding a next request */
	struct sconn		*current;		/* the connection being dispatched */
	struct {
		uint64_t	 streams_opened, events_sent, slow_closed, heartbeats;
		uint64_t	 longpolls, fetches, probes;
		uint64_t	 notifications;	/* NOTIFY payloads received from workers */
		uint64_t	 revoked;	/* held requests ended: their credential went */
		struct sb_hist	 read_time;	/* a read of new events, round trip */
		struct sb_hist	 notify_delay;	/* notification heard -> its events written */
	} m;
};

extern struct stream_server	*srv;

/* conn.c */
void	 sconn_accept(void);
void	 sconn_readable(struct sconn *);
/* Feeds what c read ahead (a next request) once c reads again. */
void	 sconn_feed_rest(struct sconn *);
/* Writes what it can: 0, or -1 once c is closed (and freed: the web server left). */
int	 sconn_flush(struct sconn *);
/* Closes c; its memory stays (fd -1) until sconn_reap(), after the wake-up whose
 * events may still name it. */
void	 sconn_close(struct sconn *);
void	 sconn_reap(void);
/* Appends body bytes of the current answer (FCGI_STDOUT); closes a client that
 * cannot keep up (over stream.client_buffer). 0, or -1 once closed. */
int	 sconn_send(struct sconn *, const char *buf, size_t len);
void	 sconn_end(struct sconn *);		/* the answer is complete */
/* After an answer was built on c (a dispatch, an open's end): ends it unless c now
 * holds a stream, a long poll or an open, subscribes a new stream, writes.  0, or -1
 * once c is closed. */
int	 sconn_answered(struct sconn *);
/* Tells a stream's client when to come back (retry:), where it resumes with its
 * Last-Event-ID, and ends the stream. */
void	 sconn_retry_end(struct sconn *);
/* A comment line ("line" with its blank line) written now; 0, or -1 once closed. */
int	 sconn_comment(struct sconn *, const char *line);
/* A problem+json answer to c's request (appended as FCGI_STDOUT, logged). */
void	 sconn_problem(struct sconn *, int status, const char *slug, const char *detail);
/* An answer built by fill() on a request made from c's params, appended as FCGI_STDOUT. */
void	 sconn_answer(struct sconn *, void (*fill)(struct sb_req *, void *), void *arg);

/* recheck.c: held requests follow their credential.  Every stream.recheck_ms, one
 * statement per kind of credential asks the database whether each is still good;
 * those that are not (revoked, expired, user disabled, role without the route's
 * scope) are ended. */
void	 recheck_hold(struct sconn *, const struct sb_req *);	/* notes c's credential */
void	 recheck_tick(int64_t now);

/* metrics.c */
char	*smetrics_render(void *, size_t *len);

/* One event of a topic, as a kind's read gives it. */
struct hub_event {
	const char		*key;		/* its topic: a run id, an org id */
	struct sb_cursor	 pos;
	const char		*type;
	const char		*data;		/* JSON on one line */
	int			 attempt;	/* run events: for long-poll items */
	const char		*created_at;
};

typedef void (*hub_event_fn)(void *arg, const struct hub_event *);

/* A kind of topic a stream can watch: where its events come from.  Adding a kind of
 * stream is one file that defines one of these and a stream_ops entry. */
struct topic_kind {
	const char	*name;
	/* The events after after[i] of each topic keys[i] (n of them), at most limit
	 * each, in order per topic, in one statement: fn for each.  -1 if the database
	 * failed. */
	int		(*read)(const char **keys, const struct sb_cursor *after, size_t n,
			    int limit, hub_event_fn fn, void *arg);
	/* Is this the last event of its topic (the stream then ends)?  NULL: never. */
	int		(*ends)(const struct hub_event *);
	/* The event as an item of a long poll's answer; NULL: the kind has no long poll. */
	json_t		*(*item)(const struct hub_event *);
	/* Read every stream.feed_ms while watched: no notification names its topics. */
	int		 polled;
};

/* hub.c: who watches which topic, and the events they get. */
void	 hub_subscribe(struct sconn *);		/* c->kind, c->key after c->cursor */
void	 hub_unsubscribe(struct sconn *);
void	 hub_listen(void);			/* (re)connects and LISTENs */
int	 hub_listen_fd(void);
void	 hub_notified(void);			/* reads notifications */
void	 hub_fetch(void);			/* reads the dirty topics' events */
/* Between the requests of one wake-up: what was announced goes out if the last read
 * is over CATCH_UP_MS old.  An open waits on the database in this one loop, and a
 * wake-up that opens a hundred streams must not hold back the events of the others
 * until its end. */
void	 hub_catch_up(void);
#define CATCH_UP_MS	10
void	 hub_tick(int64_t now);			/* sweeps and polls now and then */
void	 hub_free(void);			/* at exit */
/* A kind's read statement with its parameters: the keys, the positions after which to
 * read (their xids first when with_xid, then their ns) as arrays, and the limit.  The
 * result, or NULL if the database failed. */
PGresult *hub_query(struct db_stmt *, const char **keys, const struct sb_cursor *after,
	    size_t n, int limit, int with_xid);
/* A kind's read whose statement takes the positions with their xids and returns
 * (key, xid, n, type, data) rows in order: fn for each.  0, or -1 if the database
 * failed.  The feed (xid: the transaction) and threads (xid: the run's n) read so. */
int	 hub_read_positions(struct db_stmt *, const char **keys, const struct sb_cursor *after,
	    size_t n, int limit, hub_event_fn fn, void *arg);

/* sse.c: what every event stream shares. */
/* An SSE frame of one event; 0, or -1 once the connection is closed. */
int	 sse_event(struct sconn *, const struct hub_event *);
/* The caps every held request counts against (the process', the caller's). */
enum sb_err stream_hold(struct sb_req *, struct sconn *);
void	 user_release(struct sconn *);		/* gives back its place in the per-user cap */
/* Writes the probe comments that are due (see sse.c); the next is PROBE_GAP_MS away. */
void	 probe_tick(int64_t now);
#define PROBE_GAP_MS	25
/* Answers with an event stream of the topic: after its head (and preamble, if any),
 * the events after `after`, then live ones.  finished: the topic has no more events
 * to come (the stream closes after the replay). */
enum sb_err stream_open(struct sb_req *, const struct topic_kind *, const char *key,
	    const struct sb_cursor *after, const char *preamble, int finished);
/* The same once the caller holds its place (stream_hold), the first page of events
 * read by first(first_arg, fn, arg) (at most REPLAY_PAGE of them, read with what the
 * open asked the database) instead of by the kind's read. */
enum sb_err stream_begin(struct sb_req *, const struct topic_kind *, const char *key,
	    const struct sb_cursor *after, const char *preamble, int finished,
	    int (*first)(void *, hub_event_fn, void *), void *first_arg);
#define REPLAY_PAGE	500		/* events a replay reads at once */

/* runs.c: a run's events, as a stream and as a long poll. */
extern const struct topic_kind	run_kind;
/* Answers a waiting long poll with these events ([{seq, type, data, ...}]), stolen. */
void	 longpoll_answer(struct sconn *, json_t *items);
/* GET /api/v1/runs/{id}/stream: the run in the caller's org, its state and the first
 * page of its events in one statement (sql/021), sent on srv->opens and not waited
 * for: the connection answers when its result comes (404; 204 when the run has ended
 * and the caller has all of it; else the stream). */
enum sb_err run_stream(struct sb_req *, const char *run_id, int64_t after);
enum sb_err run_wait(struct sb_req *, const char *run_id, int64_t after, int wait_s,
	    int limit);

/* feed.c: the org's feed of runs and, for inbox:read, inbox items. */
extern const struct topic_kind	feed_kind;
enum sb_err feed_stream(struct sb_req *, int64_t org_id, const struct sb_cursor *after);

/* threads.c: a thread's runs' events, one run after the other. */
extern const struct topic_kind	thread_kind;
enum sb_err thread_stream(struct sb_req *, const char *thread_id, const struct sb_cursor *after);

/* main.c: the kinds of stream this responder serves (struct stream_ops). */
extern const struct stream_ops	stream_ops;

#endif /* SB_STREAM_H */
