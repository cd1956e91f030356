/* queue-ceiling.c: bench/queue's ceiling: the worker's statements with nothing around them.
 *
 * usage: queue-ceiling CONNINFO RUNS BATCH [SLUG NAME MODEL]
 *
 * On one connection, one statement at a time, as switchboard-worker does: claims BATCH
 * runs with queue_claim (the worker's own statement text, prepared), writes for each the
 * three events and the end that the worker writes for a builtin/noop run (agent.started,
 * message.completed, run.succeeded, "succeeded"), in one queue_flush, then sends the
 * switchboard_events NOTIFY of their ids (at most 7,900 bytes a payload) as the worker
 * does after every flush; until RUNS runs are done or a claim finds none.  The JSON is
 * written with snprintf into one buffer: no parsing, no JSON library, no event loop.
 * SLUG, NAME and MODEL go into agent.started as the worker writes them (default
 * bench-noop, "Bench noop", noop); they must need no JSON escaping.  For experiments,
 * the environment variable QC_SETUP may hold SQL run once after connecting (e.g.
 * "SET plan_cache_mode = force_custom_plan").
 *
 * Prints one line (cpu_s: this program's own user + system time):
 *   runs N claims C wall_s W claim_s X flush_s Y notify_s Z cpu_s U
 * Exits 1 on a failed statement (the error on stderr). */
#include <sys/resource.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <stddef.h>

#define NOTIFY_PAYLOAD_MAX	7900

#define CLAIM_SQL	"SELECT id, org_id, attempt, counted, max_attempts, seq, agent::text, " \
			"input::text FROM queue_claim($1, $2, $3, $4)"
#define FLUSH_SQL	"SELECT refused FROM queue_flush($1::jsonb, $2::jsonb, '[]'::jsonb)"
#define NOTIFY_SQL	"SELECT pg_notify('switchboard_events', x) FROM unnest($1::text[]) AS x"

#define OUT_JSON	"{\"text\":\"\",\"finish_reason\":\"stop\"}"

struct buf {
	char	*p;
	size_t	 len, cap;
};

static void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			fprintf(stderr, "queue-ceiling: vsnprintf failed\n");
			exit(1);
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap + (size_t)n + 1) * 2;
		if ((b->p = realloc(b->p, b->cap)) == NULL) {
			fprintf(stderr, "queue-ceiling: out of memory\n");
			exit(1);
		}
	}
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static PGresult *
run(PGconn *c, const char *name, int n, const char *const *params, double *acc)
{
	double		 t0 = now_s();
	PGresult	*res = PQexecPrepared(c, name, n, params, NULL, NULL, 0);

	*acc += now_s() - t0;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "queue-ceiling: %s: %s", name, PQerrorMessage(c));
		exit(1);
	}
	return res;
}

static void
prepare(PGconn *c, const char *name, const char *sql, int n)
{
	PGresult *res = PQprepare(c, name, sql, n, NULL);

	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "queue-ceiling: prepare %s: %s", name, PQerrorMessage(c));
		exit(1);
	}
	PQclear(res);
}

int
main(int argc, char *argv[])
{
	const char	*slug = argc > 4 ? argv[4] : "bench-noop";
	const char	*name = argc > 5 ? argv[5] : "Bench noop";
	const char	*model = argc > 6 ? argv[6] : "noop";
	struct buf	 ev = { NULL, 0, 0 }, fin = { NULL, 0, 0 }, ids = { NULL, 0, 0 };
	char		 batch[16], usage[256];
	const char	*cp[4], *fp[2], *np[1];
	double		 t0, claim_s = 0, flush_s = 0, notify_s = 0;
	long		 runs, done = 0, claims = 0;
	size_t		 plen;
	PGconn		*c;
	PGresult	*res;
	struct rusage	 ru;
	int		 i, n;

	if (argc < 4 || argc > 7 || (runs = atol(argv[2])) <= 0 || atoi(argv[3]) <= 0) {
		fprintf(stderr, "usage: queue-ceiling CONNINFO RUNS BATCH [SLUG NAME MODEL]\n");
		return 2;
	}
	snprintf(batch, sizeof(batch), "%d", atoi(argv[3]));
	snprintf(usage, sizeof(usage), "{\"provider\":\"builtin\",\"model\":\"%s\","
	    "\"prompt_tokens\":0,\"completion_tokens\":0,\"cost_usd\":0.0}", model);
	c = PQconnectdb(argv[1]);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "queue-ceiling: %s", PQerrorMessage(c));
		return 1;
	}
	if (getenv("QC_SETUP") != NULL && getenv("QC_SETUP")[0] != '\0') {
		res = PQexec(c, getenv("QC_SETUP"));
		if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
			fprintf(stderr, "queue-ceiling: QC_SETUP: %s", PQerrorMessage(c));
			return 1;
		}
		PQclear(res);
	}
	prepare(c, "claim", CLAIM_SQL, 4);
	prepare(c, "flush", FLUSH_SQL, 2);
	prepare(c, "notify", NOTIFY_SQL, 1);
	cp[0] = "bench-ceiling";
	cp[1] = batch;
	cp[2] = "30000";
	cp[3] = "0";

	t0 = now_s();
	while (done < runs) {
		res = run(c, "claim", 4, cp, &claim_s);
		claims++;
		if ((n = PQntuples(res)) == 0) {
			PQclear(res);
			break;
		}
		ev.len = fin.len = ids.len = 0;
		buf_printf(&ev, "[");
		buf_printf(&fin, "[");
		buf_printf(&ids, "{\"");
		plen = 0;
		for (i = 0; i < n; i++) {
			const char	*id = PQgetvalue(res, i, 0);
			int		 att = atoi(PQgetvalue(res, i, 2));
			int		 seq = atoi(PQgetvalue(res, i, 5));

			buf_printf(&ev, "%s{\"id\":\"%s\",\"attempt\":%d,\"seq\":%d,\"type\":"
			    "\"agent.started\",\"data\":{\"agent\":\"%s\",\"name\":\"%s\","
			    "\"provider\":\"builtin\",\"model\":\"%s\"}}", i > 0 ? "," : "",
			    id, att, seq + 1, slug, name, model);
			buf_printf(&ev, ",{\"id\":\"%s\",\"attempt\":%d,\"seq\":%d,\"type\":"
			    "\"message.completed\",\"data\":{\"message\":" OUT_JSON ",\"usage\":%s}}",
			    id, att, seq + 2, usage);
			buf_printf(&ev, ",{\"id\":\"%s\",\"attempt\":%d,\"seq\":%d,\"type\":"
			    "\"run.succeeded\",\"data\":{\"output\":" OUT_JSON ",\"usage\":%s}}",
			    id, att, seq + 3, usage);
			buf_printf(&fin, "%s{\"id\":\"%s\",\"attempt\":%d,\"kind\":\"succeeded\","
			    "\"output\":" OUT_JSON ",\"error\":null,\"usage\":%s,\"delay_ms\":0}",
			    i > 0 ? "," : "", id, att, usage);
			if (plen > 0 && plen + strlen(id) + 1 > NOTIFY_PAYLOAD_MAX) {
				buf_printf(&ids, "\",\"");
				plen = 0;
			}
			buf_printf(&ids, "%s%s", plen > 0 ? " " : "", id);
			plen += strlen(id) + (plen > 0);
		}
		buf_printf(&ev, "]");
		buf_printf(&fin, "]");
		buf_printf(&ids, "\"}");
		PQclear(res);
		fp[0] = ev.p;
		fp[1] = fin.p;
		res = run(c, "flush", 2, fp, &flush_s);
		if (PQntuples(res) > 0)
			fprintf(stderr, "queue-ceiling: %d writes refused\n", PQntuples(res));
		PQclear(res);
		np[0] = ids.p;
		PQclear(run(c, "notify", 1, np, &notify_s));
		done += n;
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("runs %ld claims %ld wall_s %.3f claim_s %.3f flush_s %.3f notify_s %.3f cpu_s %.3f\n",
	    done, claims, now_s() - t0, claim_s, flush_s, notify_s,
	    (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	PQfinish(c);
	free(ev.p);
	free(fin.p);
	free(ids.p);
	return 0;
}
