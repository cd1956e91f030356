/* listencheck.c: LISTENs on a channel and prints each notification with its arrival time.
 *
 * usage: sb-listencheck [-n count] [-t seconds] [-q sql] URL CHANNEL
 * Prints "listening" once LISTEN is in effect, then per notification one line
 * "<realtime us> <monotonic us> <channel> <sender pid> [<first value of sql>]" and,
 * at the end, "total <n>".  The realtime column is the clock of bash's $EPOCHREALTIME
 * (scripts compare it with when they got an answer); the monotonic one is for
 * intervals.  -q runs sql after each notification, so its answer shows what was
 * committed before the notification arrived.  Exits after count notifications or
 * seconds (default 10), whichever comes first; 0 unless the connection failed. */
#include "config.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

static long long
clock_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
command(PGconn *c, const char *sql)
{
	PGresult	*res = PQexec(c, sql);
	int		 ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
		fprintf(stderr, "sb-listencheck: %s: %s", sql, PQerrorMessage(c));
	PQclear(res);
	return ok;
}

static void
usage(void)
{
	fprintf(stderr, "usage: sb-listencheck [-n count] [-t seconds] [-q sql] URL CHANNEL\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	PGconn		*c;
	PGnotify	*n;
	PGresult	*res;
	struct pollfd	 pfd;
	const char	*query = NULL;
	char		*ident, sql[300];
	long		 want = 0, got = 0;
	double		 secs = 10;
	long long	 deadline, left;
	int		 ch;

	while ((ch = getopt(argc, argv, "n:q:t:")) != -1) {
		switch (ch) {
		case 'n':
			want = atol(optarg);
			break;
		case 'q':
			query = optarg;
			break;
		case 't':
			secs = atof(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 2)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	c = PQconnectdb(argv[optind]);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "sb-listencheck: %s", PQerrorMessage(c));
		PQfinish(c);
		return 1;
	}
	ident = PQescapeIdentifier(c, argv[optind + 1], strlen(argv[optind + 1]));
	snprintf(sql, sizeof(sql), "LISTEN %s", ident != NULL ? ident : "\"\"");
	PQfreemem(ident);
	if (!command(c, sql)) {
		PQfinish(c);
		return 1;
	}
	printf("listening\n");
	deadline = clock_us(CLOCK_MONOTONIC) + (long long)(secs * 1e6);
	pfd.fd = PQsocket(c);
	pfd.events = POLLIN;
	while ((want == 0 || got < want) && (left = deadline - clock_us(CLOCK_MONOTONIC)) > 0) {
		if (poll(&pfd, 1, (int)(left / 1000) + 1) < 0)
			break;
		if (!PQconsumeInput(c)) {
			fprintf(stderr, "sb-listencheck: %s", PQerrorMessage(c));
			PQfinish(c);
			return 1;
		}
		while ((n = PQnotifies(c)) != NULL && (want == 0 || got < want)) {
			long long real = clock_us(CLOCK_REALTIME), mono = clock_us(CLOCK_MONOTONIC);

			got++;
			if (query == NULL)
				printf("%lld %lld %s %d\n", real, mono, n->relname, n->be_pid);
			else {
				res = PQexec(c, query);
				printf("%lld %lld %s %d %s\n", real, mono, n->relname, n->be_pid,
				    PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0 ?
				    PQgetvalue(res, 0, 0) : "?");
				PQclear(res);
			}
			PQfreemem(n);
		}
		if (n != NULL)
			PQfreemem(n);
	}
	printf("total %ld\n", got);
	PQfinish(c);
	return 0;
}
