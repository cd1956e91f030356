/* listener.c: one LISTEN connection, waited on in an event loop, reconnected when lost. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <libpq-fe.h>

#include "core/db.h"
#include "core/err.h"
#include "core/listener.h"
#include "core/log.h"

void
listener_init(struct sb_listener *l, const char *url, int connect_timeout, const char *channel)
{
	memset(l, 0, sizeof(*l));
	db_init(&l->db, url, connect_timeout, 0);
	snprintf(l->channel, sizeof(l->channel), "%s", channel);
}

void
listener_close(struct sb_listener *l)
{
	db_close(&l->db);
	l->listening = 0;
}

static void
listener_drop(struct sb_listener *l, const char *why)
{
	log_warn("LISTEN connection lost", "{s:s, s:s}", "channel", l->channel, "error", why);
	PQfinish(l->db.conn);
	l->db.conn = NULL;
	l->listening = 0;
}

int
listener_ensure(struct sb_listener *l)
{
	char		 sql[96];
	PGresult	*res;
	enum sb_err	 err;

	if (l->db.conn != NULL && PQstatus(l->db.conn) != CONNECTION_OK)
		listener_drop(l, "the connection is not usable");
	if (l->listening)
		return 0;
	/* While connected, the idle check of db_ensure would take a notification for the
	 * server hanging up: it is only asked to connect. */
	if (l->db.conn == NULL && db_ensure(&l->db) != SB_OK)
		return 0;
	snprintf(sql, sizeof(sql), "LISTEN %s", l->channel);
	if ((res = db_exec(&l->db, sql, 0, NULL, &err)) == NULL)
		return 0;
	PQclear(res);
	l->listening = 1;
	log_info("listening", "{s:s}", "channel", l->channel);
	return 1;
}

int
listener_fd(const struct sb_listener *l)
{
	return l->listening && l->db.conn != NULL ? PQsocket(l->db.conn) : -1;
}

int
listener_read(struct sb_listener *l, void (*fn)(void *arg, const char *payload), void *arg)
{
	PGnotify	*n;
	int		 count = 0;

	if (!l->listening || l->db.conn == NULL)
		return 0;
	if (PQconsumeInput(l->db.conn) == 0) {
		listener_drop(l, PQerrorMessage(l->db.conn));
		return -1;
	}
	while ((n = PQnotifies(l->db.conn)) != NULL) {
		count++;
		if (fn != NULL)
			fn(arg, n->extra);
		PQfreemem(n);
	}
	return count;
}
