/* dbq.h: a database connection whose statements do not block the loop that sends
 * them.  struct sb_db (db.h) waits for each statement, which is fine for a program's
 * own few statements a second; statements made for many clients at once (a worker's
 * tool calls, switchboard-stream's stream opens) must not hold each other up.  Here
 * they are sent at once in libpq's pipeline mode, each with its own sync point, and
 * their results read when the socket is readable in the caller's loop. */
#ifndef SB_CORE_DBQ_H
#define SB_CORE_DBQ_H

#include <stdint.h>

#include <libpq-fe.h>

struct dbq;
struct dbq_req;

/* The end of a statement: res is its result (PGRES_TUPLES_OK, or an error of the
 * statement), or NULL when the connection failed (err says why).  res is dbq's: it is
 * cleared after the call. */
typedef void	 dbq_done_fn(void *arg, const PGresult *res, const char *err);

/* name says in logs what the connection is for ("tool statements"). */
struct dbq	*dbq_new(const char *name, const char *url, int connect_timeout,
		    int statement_timeout_ms);
/* Ends every statement in flight (no callbacks) and closes the connection. */
void		 dbq_free(struct dbq *);
/* Sends a statement (parameters as text, copied by libpq); done is called once,
 * later, from dbq_io().  NULL when it cannot be sent (no connection): no callback
 * then, and err says why. */
struct dbq_req	*dbq_send(struct dbq *, const char *sql, int nparams, const char *const *params,
		    dbq_done_fn *done, void *arg, char *err, size_t errlen);
/* The caller no longer wants the result: no callback for it. */
void		 dbq_cancel(struct dbq_req *);
/* The socket to poll and for what (POLLIN, POLLOUT), or -1 when there is none. */
int		 dbq_fd(const struct dbq *, short *events);
/* After a poll: sends what waits, reads what arrived, ends what is complete. */
void		 dbq_io(struct dbq *);

/* For /metrics. */
struct dbq_stats {
	uint64_t	 sent, failed;		/* statements; failed: no result (connection) */
	uint64_t	 connects;		/* connections made: the socket may be new */
	int		 in_flight;
};
void		 dbq_stats(const struct dbq *, struct dbq_stats *);

#endif /* SB_CORE_DBQ_H */
