/* notify-probe.c: bench/tools' listener: when each NOTIFY on a channel arrives.
 *
 * usage: notify-probe CONNINFO CHANNEL FILE
 *
 * LISTENs on CHANNEL and stamps every notification with CLOCK_REALTIME in microseconds
 * (the clock of PostgreSQL's commit timestamps) at the read that brings it, writing
 * "T_US|PAYLOAD" to FILE, one a line (buffered).  Prints "ready" on stdout once it
 * listens.  SIGTERM or SIGINT: FILE is written out, "summary notifications N" printed,
 * exit 0; exit 1 if the connection fails.
 *
 * It listens beside switchboard-stream and is told at the same moment, so the time from
 * an event's commit to the first notification naming its run is the part of the lag
 * before the responder can know (the worker's NOTIFY after its flush, and PostgreSQL's
 * delivery), and the rest is the responder's, the web server's and the client's.  Built
 * by bench/tools itself (cc and libpq): it is no part of the project's programs. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

static volatile sig_atomic_t	stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* LISTEN on channel; 0, or -1 with the error told. */
static int
listen_on(PGconn *db, const char *channel)
{
	PGresult	*res;
	char		*id, sql[256];
	int		 rc = -1;

	if ((id = PQescapeIdentifier(db, channel, strlen(channel))) == NULL) {
		fprintf(stderr, "notify-probe: %s", PQerrorMessage(db));
		return -1;
	}
	snprintf(sql, sizeof(sql), "LISTEN %s", id);
	PQfreemem(id);
	res = PQexec(db, sql);
	if (PQresultStatus(res) == PGRES_COMMAND_OK)
		rc = 0;
	else
		fprintf(stderr, "notify-probe: %s", PQerrorMessage(db));
	PQclear(res);
	return rc;
}

/* Reads what the server sent and writes each notification with t.  -1: connection lost. */
static int
drain(PGconn *db, FILE *out, long long t, unsigned long *count)
{
	PGnotify *n;

	if (!PQconsumeInput(db)) {
		fprintf(stderr, "notify-probe: %s", PQerrorMessage(db));
		return -1;
	}
	while ((n = PQnotifies(db)) != NULL) {
		fprintf(out, "%lld|%s\n", t, n->extra);
		PQfreemem(n);
		(*count)++;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct sigaction	 sa;
	struct pollfd		 pfd;
	PGconn			*db;
	FILE			*out;
	unsigned long		 count = 0;
	int			 rc = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: notify-probe CONNINFO CHANNEL FILE\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: poll returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	db = PQconnectdb(argv[1]);
	if (PQstatus(db) != CONNECTION_OK) {
		fprintf(stderr, "notify-probe: %s", PQerrorMessage(db));
		PQfinish(db);
		return 1;
	}
	if (listen_on(db, argv[2]) < 0) {
		PQfinish(db);
		return 1;
	}
	if ((out = fopen(argv[3], "w")) == NULL) {
		perror(argv[3]);
		PQfinish(db);
		return 1;
	}
	setvbuf(out, NULL, _IOFBF, 1 << 16);
	printf("ready\n");
	fflush(stdout);
	pfd.fd = PQsocket(db);
	pfd.events = POLLIN;
	while (!stop) {
		if (poll(&pfd, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("notify-probe: poll");
			rc = 1;
			break;
		}
		if (drain(db, out, now_us(), &count) < 0) {
			rc = 1;
			break;
		}
	}
	if (fclose(out) != 0) {
		perror(argv[3]);
		rc = 1;
	}
	PQfinish(db);
	printf("summary notifications %lu\n", count);
	return rc;
}
