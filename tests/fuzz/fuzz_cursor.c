/* fuzz_cursor.c: stream positions: cursor_parse, and the Last-Event-ID and ?after= checks. */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "handlers/handlers.h"
#include "tests/fuzz/fuzz.h"
#include "core/arena.h"
#include "core/conf.h"
#include "core/cursor.h"
#include "core/err.h"
#include "core/log.h"
#include "fcgi-app/app.h"
#include "fcgi-app/request.h"

static struct app	 app;

/* switchboard-stream's side, offline: a stream that gets past the handler's checks
 * fails as one would without a database. */
static enum sb_err
no_run_stream(struct sb_req *req, const char *id, int64_t after)
{
	(void)req, (void)id, (void)after;
	return SB_ERR_UNAVAILABLE;
}

static enum sb_err
no_run_wait(struct sb_req *req, const char *id, int64_t after, int wait_s, int limit)
{
	(void)req, (void)id, (void)after, (void)wait_s, (void)limit;
	return SB_ERR_UNAVAILABLE;
}

static enum sb_err
no_feed_stream(struct sb_req *req, int64_t org, const struct sb_cursor *after)
{
	(void)req, (void)org, (void)after;
	return SB_ERR_UNAVAILABLE;
}

static enum sb_err
no_thread_stream(struct sb_req *req, const char *id, const struct sb_cursor *after)
{
	(void)req, (void)id, (void)after;
	return SB_ERR_UNAVAILABLE;
}

static const struct stream_ops offline = { no_run_stream, no_run_wait, no_feed_stream,
	no_thread_stream };
static struct sb_arena	*arena;
static struct fcgi_out	 fo;

/* A request of these params, as the parser hands it on. */
static void
req_env(struct sb_req *req, char **envp)
{
	struct fcgi_req fr;

	memset(&fr, 0, sizeof(fr));
	fr.id = 1;
	fr.envp = envp;
	req_init(req, &app, &fr, &fo, arena);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	log_init("fuzz_cursor", SB_LOG_ERROR + 1);
	if (config_load(&app.cfg, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "config_load: %s\n", err);
		abort();
	}
	/* No database: a handler that gets past its checks fails at once, offline. */
	app.db.next_attempt_us = INT64_MAX;
	app.stream = &offline;	/* as in switchboard-stream, which serves these routes */
	arena = arena_new(16 * 1024);
	return 0;
}

/* Leading zeros (and an explicit xid 0) parse but format differently. */
static int
canonical(const char *s)
{
	const char *p = s;

	if (strncmp(s, "0-", 2) == 0)
		return 0;
	for (;;) {
		if (p[0] == '0' && isdigit((unsigned char)p[1]))
			return 0;
		if ((p = strchr(p, '-')) == NULL)
			return 1;
		p++;
	}
}

/* What the runs' handlers accept for Last-Event-ID and after: a decimal seq from 0
 * to INT32_MAX, digits only.  Written from the API's words, not from the code. */
static int
seq_ok(const char *s)
{
	unsigned long long	 v = 0;
	size_t			 i;

	if (*s == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > INT32_MAX)
			return 0;
	}
	return 1;
}

static void
check_parse(const char *s)
{
	struct sb_cursor	 c, again;
	char			 text[CURSOR_MAX], text2[CURSOR_MAX];

	if (cursor_parse(s, &c) < 0)
		return;
	FUZZ_ASSERT(c.n >= 0 && c.xid <= INT64_MAX);
	cursor_format(&c, text);
	FUZZ_ASSERT(strlen(text) < CURSOR_MAX - 1);
	FUZZ_ASSERT(cursor_parse(text, &again) == 0 && cursor_cmp(&c, &again) == 0);
	cursor_format(&again, text2);
	FUZZ_ASSERT(strcmp(text, text2) == 0);
	if (canonical(s))
		FUZZ_ASSERT(strcmp(text, s) == 0);
}

/* One handler run with the given params; returns what it returned. */
static enum sb_err
run(enum sb_err (*h)(struct sb_req *), char **envp)
{
	struct sb_req	 req;
	enum sb_err	 err;

	req_env(&req, envp);
	req.who.org_id = 0;	/* org_tx refuses before any SQL */
	req.match.nparams = 1;
	req.match.names[0] = "id";
	req.match.values[0] = "0b9e4a5c-7d1e-4c2a-9f3b-1a2b3c4d5e6f";
	err = h(&req);
	FUZZ_ASSERT(err != SB_ERR_INVALID || req.problem != NULL);
	req_free(&req);
	arena_reset(arena);
	fcgi_out_free(&fo);
	return err;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sb_cursor	 c;
	char			*s, *hdr, *uri, *envp[3] = { NULL };
	const char		*after;
	struct sb_req		 req;
	enum sb_err		 err;
	int			 feed_ok, after_ok;

	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	check_parse(s);

	/* Last-Event-ID as the web server passes it: a param, NUL-free. */
	hdr = malloc(size + 32);
	snprintf(hdr, size + 32, "HTTP_LAST_EVENT_ID=%s", s);
	envp[0] = hdr;
	err = run(h_runs_stream, envp);
	FUZZ_ASSERT((err == SB_ERR_INVALID) == (*s != '\0' && !seq_ok(s)));
	feed_ok = cursor_parse(s, &c) == 0 && !(c.xid == 0 && c.n != 0);
	err = run(h_feed_stream, envp);
	FUZZ_ASSERT((err == SB_ERR_INVALID) == (*s != '\0' && !feed_ok));

	/* ?after= in the query, decoded as the handlers see it. */
	uri = malloc(size + 64);
	snprintf(uri, size + 64, "REQUEST_URI=/api/v1/runs/x/events?after=%s", s);
	envp[0] = uri;
	req_env(&req, envp);
	after = req_query(&req, "after");
	after_ok = after == NULL || seq_ok(after);
	req_free(&req);
	arena_reset(arena);
	err = run(h_runs_events, envp);
	if (!after_ok)
		FUZZ_ASSERT(err == SB_ERR_INVALID);
	else if (strchr(s, '&') == NULL)	/* no other param to refuse */
		FUZZ_ASSERT(err != SB_ERR_INVALID);

	free(uri);
	free(hdr);
	free(s);
	return 0;
}
