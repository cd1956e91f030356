/* page_chat.c: Chat (#/chat, #/chat/{thread}): the org's threads, a new one with an
 * agent chosen, and the conversation of the thread open: its turns as the thread's
 * stream replays and continues them (GET /api/v1/threads/{id}/stream from 0, then
 * after the last position applied), the user's messages from the thread's messages,
 * text token by token, tool calls as cards that fold, questions for a person with a
 * link to the inbox, handoffs, each run's state and its cancel; sending with the
 * thread's busy policy (reject, enqueue, interrupt).
 *
 * Exact resume: each turn keeps the seq of the last event it applied, and an event is
 * applied only when it is the next one (seq = last + 1); one already applied is
 * skipped, and one past a gap reopens the stream after the last position applied, so
 * no token is shown twice or lost whatever the network does.  Without EventSource a
 * run sent from this page is followed by the run's long poll instead
 * (GET /api/v1/runs/{id}/events?after=N&wait=S), through the same arithmetic; a
 * thread busy with a run made elsewhere is asked again every 3 s until it is idle. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "web/src/app.h"
#include "web/src/wjson.h"

#define THREAD_STREAM	2
#define REOPEN_TIMER	2
#define POLL_TIMER	3
#define REFRESH_TIMER	4	/* runs ended: the list and the messages again, once */
#define POLL_WAIT_S	20
#define MAX_TURNS	200	/* the oldest turns are forgotten past this */
#define MAX_BLOCKS	64	/* a turn's cards and texts past this are not shown */
#define MAX_TEXT	(256 * 1024)	/* a text block's bytes past this are not shown */

enum {
	TAG_THREADS = 1, TAG_AGENTS, TAG_THREAD, TAG_MESSAGES, TAG_NEW, TAG_SEND, TAG_CANCEL,
	TAG_SESSION, TAG_POLL
};
/* The answers that belong to the thread open carry its generation above the tag's
 * byte: one for a thread left meanwhile is dropped. */
#define GEN(tag)	((tag) | (st.gen & 0xffffffu) << 8)

static const char	 types[] = "run.queued,run.started,agent.started,agent.thinking,"
			    "agent.handoff,agent.resumed,tool.executing,tool.completed,"
			    "human.requested,human.answered,human.expired,message.delta,"
			    "message.completed,run.retrying,run.succeeded,run.failed,run.cancelled";

enum bkind { B_TEXT, B_TOOL, B_HUMAN, B_NOTE };

/* A piece of a turn, in the order it came. */
struct block {
	enum bkind	 kind;
	char		*key;		/* tool: call id; human: inbox item id */
	char		*name;		/* tool: its name; human: question or approval */
	char		*args;		/* tool: arguments (JSON); human: the question or call */
	char		*result;	/* tool: result; human: the answer */
	struct sb_buf	 text;		/* text, note */
	int		 ok;		/* tool: -1 running, 0 failed, 1 ok */
	long		 ms;		/* tool: duration, -1 unknown */
	unsigned	 attempt;	/* text: the attempt that wrote it */
};

/* One run of the thread: the user's message and what followed. */
struct turn {
	char		*run;		/* "" until the run's id is known */
	char		*user;
	char		*state;
	char		*error;
	unsigned long	 number;	/* the stream's N (run order), 0 unknown */
	unsigned long	 made;		/* insertion order */
	unsigned long	 last_seq;	/* the last event applied */
	unsigned	 attempt;
	int		 live;		/* built from events (else from stored messages) */
	struct block	*b;
	size_t		 nb;
};

static struct {
	char		*thread;	/* the thread open, or NULL */
	struct kept	 threads;
	struct kept	 agents;
	struct kept	 info;		/* the thread open */
	struct turn	*turns;
	size_t		 n;
	unsigned long	 made;
	char		*last_id;	/* the stream's last position applied */
	int		 open;
	int		 live;
	char		*draft;
	char		*multitask;
	char		*agent;		/* the new thread's agent */
	char		*error;
	int		 sending;
	char		*poll_run;	/* without EventSource: the run followed */
	unsigned long	 poll_after;
	int		 polling;
	unsigned	 gen;		/* counts the threads opened */
} st;

static void
block_clear(struct block *b)
{
	free(b->key);
	free(b->name);
	free(b->args);
	free(b->result);
	buf_free(&b->text);
	memset(b, 0, sizeof(*b));
}

static void
turn_clear(struct turn *t)
{
	size_t	 i;

	for (i = 0; i < t->nb; i++)
		block_clear(&t->b[i]);
	free(t->b);
	free(t->run);
	free(t->user);
	free(t->state);
	free(t->error);
	memset(t, 0, sizeof(*t));
}

static void
turns_clear(void)
{
	size_t	 i;

	for (i = 0; i < st.n; i++)
		turn_clear(&st.turns[i]);
	free(st.turns);
	st.turns = NULL;
	st.n = 0;
	app_set(&st.last_id, NULL);
}

static void
turn_remove(size_t i)
{
	turn_clear(&st.turns[i]);
	memmove(&st.turns[i], &st.turns[i + 1], (st.n - i - 1) * sizeof(*st.turns));
	st.n--;
	memset(&st.turns[st.n], 0, sizeof(*st.turns));	/* moved down: not its own any more */
}

static struct turn *
turn_for(const char *run)
{
	size_t		 i;
	struct turn	*t;

	for (i = 0; i < st.n; i++)
		if (strcmp(st.turns[i].run, run) == 0)
			return &st.turns[i];
	if (st.turns == NULL)
		st.turns = sb_calloc(MAX_TURNS, sizeof(*st.turns));
	if (st.n == MAX_TURNS)
		turn_remove(0);
	t = &st.turns[st.n++];
	t->run = sb_strdup(run);
	t->made = ++st.made;
	return t;
}

static struct block *
block_add(struct turn *t, enum bkind kind, const char *key)
{
	struct block	*b;

	if (t->nb == MAX_BLOCKS)
		return NULL;
	if (t->b == NULL)
		t->b = sb_calloc(MAX_BLOCKS, sizeof(*t->b));
	b = &t->b[t->nb++];
	b->kind = kind;
	b->key = key != NULL ? sb_strdup(key) : NULL;
	b->ok = -1;
	b->ms = -1;
	b->attempt = t->attempt;
	buf_init(&b->text, 0);
	return b;
}

static struct block *
block_find(struct turn *t, enum bkind kind, const char *key)
{
	size_t	 i;

	for (i = 0; key != NULL && i < t->nb; i++)
		if (t->b[i].kind == kind && t->b[i].key != NULL && strcmp(t->b[i].key, key) == 0)
			return &t->b[i];
	return NULL;
}

static void
text_add(struct turn *t, enum bkind kind, const char *s)
{
	struct block	*b = t->nb > 0 ? &t->b[t->nb - 1] : NULL;
	size_t		 n = strlen(s);

	if (b == NULL || b->kind != kind || kind != B_TEXT || b->attempt != t->attempt)
		b = block_add(t, kind, NULL);
	if (b == NULL)
		return;
	if (b->text.len + n > MAX_TEXT)
		n = b->text.len < MAX_TEXT ? MAX_TEXT - b->text.len : 0;
	buf_append(&b->text, s, n);
}

/* A JSON value as text: a string as it is, anything else as JSON. */
static char *
json_text(const struct wj *v)
{
	struct sb_buf	 b;
	char		*s;

	if (v == NULL)
		return NULL;
	if (v->type == WJ_STRING)
		return sb_strdup(v->str);
	buf_init(&b, 0);
	wj_write(&b, v);
	s = sb_strdup(b.data != NULL ? b.data : "");
	buf_free(&b);
	return s;
}

static void
set_json(char **slot, const struct wj *v)
{
	free(*slot);
	*slot = json_text(v);
}

/* Drops the text the attempt under way wrote since its last tool call or question:
 * the model turn that was cut short, which the next attempt says again (the turns
 * recorded before are not asked again). */
static void
drop_attempt_text(struct turn *t)
{
	while (t->nb > 0 && t->b[t->nb - 1].kind == B_TEXT && t->b[t->nb - 1].attempt == t->attempt)
		block_clear(&t->b[--t->nb]);
}

static void
refresh(struct app *app)
{
	app_fetch(app, &page_chat, TAG_THREADS, "GET", "/api/v1/threads?limit=100", NULL, 0);
	if (st.thread != NULL) {
		app_fetch(app, &page_chat, GEN(TAG_THREAD), "GET",
		    arena_printf(app->msg, "/api/v1/threads/%s", route_encode(app->msg, st.thread)),
		    NULL, 0);
		app_fetch(app, &page_chat, GEN(TAG_MESSAGES), "GET",
		    arena_printf(app->msg, "/api/v1/threads/%s/messages?limit=200",
		    route_encode(app->msg, st.thread)), NULL, 0);
	}
}

/* One event of a run, seq its place in the run's log.  Returns 2 when applied (the
 * position moves to it), 1 when it was applied before (skipped), 0 when it comes
 * after a gap (not applied). */
static int
apply(struct app *app, const char *run, unsigned long number, unsigned long seq,
    const char *type, const struct wj *d)
{
	struct turn	*t = turn_for(run);
	struct block	*b;
	const char	*s;

	if (seq <= t->last_seq)
		return 1;
	if (seq != t->last_seq + 1)
		return 0;
	t->last_seq = seq;
	if (number != 0)
		t->number = number;
	if (!t->live) {
		/* Events rebuild what stored messages showed, with durations and states. */
		while (t->nb > 0)
			block_clear(&t->b[--t->nb]);
		t->live = 1;
	}
	if (strcmp(type, "run.started") == 0) {
		t->attempt = (unsigned)wj_num(wj_get(d, "attempt"), t->attempt + 1);
		app_set(&t->state, "running");
	} else if (strcmp(type, "run.queued") == 0)
		app_set(&t->state, "queued");
	else if (strcmp(type, "run.retrying") == 0) {
		drop_attempt_text(t);
		app_set(&t->state, "queued");
	} else if (strcmp(type, "agent.handoff") == 0) {
		text_add(t, B_NOTE, arena_printf(app->msg, "Handed over to %s%s%s",
		    wj_gets(d, "to", "another agent"), wj_gets(d, "reason", NULL) != NULL ? ": " : "",
		    wj_gets(d, "reason", "")));
	} else if (strcmp(type, "tool.executing") == 0) {
		if ((b = block_add(t, B_TOOL, wj_gets(d, "call_id", ""))) != NULL) {
			app_set(&b->name, wj_gets(d, "name", "tool"));
			set_json(&b->args, wj_get(d, "arguments"));
		}
	} else if (strcmp(type, "tool.completed") == 0) {
		if ((b = block_find(t, B_TOOL, wj_gets(d, "call_id", NULL))) == NULL &&
		    (b = block_add(t, B_TOOL, wj_gets(d, "call_id", ""))) != NULL)
			app_set(&b->name, wj_gets(d, "name", "tool"));
		if (b != NULL) {
			set_json(&b->result, wj_get(d, "result"));
			b->ok = wj_true(wj_get(d, "ok"));
			b->ms = (long)wj_num(wj_get(d, "duration_ms"), -1);
		}
	} else if (strcmp(type, "human.requested") == 0) {
		if ((b = block_add(t, B_HUMAN, wj_gets(d, "item", ""))) != NULL) {
			app_set(&b->name, wj_gets(d, "kind", "question"));
			if ((s = wj_gets(d, "question", NULL)) != NULL)
				app_set(&b->args, s);
			else
				set_json(&b->args, wj_get(wj_get(d, "call"), "name"));
		}
		app_set(&t->state, "waiting");
	} else if (strcmp(type, "human.answered") == 0 || strcmp(type, "human.expired") == 0) {
		if ((b = block_find(t, B_HUMAN, wj_gets(d, "item", NULL))) != NULL) {
			if (type[6] == 'e')
				app_set(&b->result, "No one answered in time.");
			else if ((s = wj_gets(d, "answer", NULL)) != NULL)
				app_set(&b->result, s);
			else
				app_set(&b->result, wj_true(wj_get(d, "approved")) ? "Approved." : "Refused.");
		}
	} else if (strcmp(type, "message.delta") == 0)
		text_add(t, B_TEXT, wj_gets(d, "text", ""));
	else if (strncmp(type, "run.", 4) == 0 && (strcmp(type + 4, "succeeded") == 0 ||
	    strcmp(type + 4, "failed") == 0 || strcmp(type + 4, "cancelled") == 0)) {
		app_set(&t->state, type + 4);
		app_set(&t->error, wj_gets(wj_get(d, "error"), "message", wj_gets(d, "reason", NULL)));
		/* The turn joined the thread: its user's message for a run made elsewhere,
		 * the thread's state in the list (once for a replay's many ends). */
		app_timer(app, &page_chat, REFRESH_TIMER, 300);
	}
	return 2;
}

static void
open_stream(struct app *app)
{
	if (st.thread == NULL || !app->sse)
		return;
	app_sse_open(app, &page_chat, THREAD_STREAM,
	    arena_printf(app->msg, "/api/v1/threads/%s/stream?after=%s",
	    route_encode(app->msg, st.thread),
	    st.last_id != NULL ? route_encode(app->msg, st.last_id) : "0"), types);
	st.open = 1;
	st.live = 0;
}

static void
poll(struct app *app)
{
	if (st.poll_run == NULL)
		return;
	st.polling = 1;
	app_fetch(app, &page_chat, GEN(TAG_POLL), "GET",
	    arena_printf(app->msg, "/api/v1/runs/%s/events?after=%lu&wait=%d",
	    route_encode(app->msg, st.poll_run), st.poll_after, POLL_WAIT_S), NULL, 0);
}

static void
close_thread(struct app *app)
{
	app_sse_close(app, THREAD_STREAM);
	app_untimer(app, REOPEN_TIMER);
	app_untimer(app, POLL_TIMER);
	app_untimer(app, REFRESH_TIMER);
	st.open = st.live = 0;
	turns_clear();
	app_set(&st.thread, NULL);
	app_set(&st.poll_run, NULL);
	st.polling = 0;
	st.sending = 0;
	st.gen++;
	kept_free(&st.info);
}

static void
enter(struct app *app, int again)
{
	const char	*sub = app->route.sub;

	if (!again) {
		app_fetch(app, &page_chat, TAG_AGENTS, "GET", "/api/v1/agents", NULL, 0);
		if (st.multitask == NULL)
			app_set(&st.multitask, "reject");
	}
	if (st.thread != NULL && strcmp(st.thread, sub) == 0) {
		if (!st.open)
			open_stream(app);
		refresh(app);
		return;
	}
	close_thread(app);
	app_set(&st.error, NULL);
	if (sub[0] != '\0') {
		app_set(&st.thread, sub);
		open_stream(app);
	}
	refresh(app);
}

static void
leave(struct app *app)
{
	close_thread(app);
}

/* "N-SEQ" into its two numbers; 0 when it is not one. */
static int
position(const char *id, unsigned long *n, unsigned long *seq)
{
	char	*end;

	*n = strtoul(id, &end, 10);
	if (*end != '-' || end == id)
		return 0;
	*seq = strtoul(end + 1, &end, 10);
	return *end == '\0' && *seq > 0;
}

static void
sse(struct app *app, unsigned stream, const struct sse_event *ev)
{
	unsigned long	 n, seq;
	const char	*run = wj_gets(ev->data, "run", NULL);

	(void)stream;
	if (!position(ev->id, &n, &seq) || run == NULL)
		return;
	switch (apply(app, run, n, seq, ev->type, ev->data)) {
	case 2:
		app_set(&st.last_id, ev->id);
		break;
	case 1:
		break;		/* a replay of what was applied: the position stays */
	default:
		/* A gap: ask again from the last position applied. */
		app_sse_close(app, THREAD_STREAM);
		open_stream(app);
		break;
	}
}

static void
sse_state(struct app *app, unsigned stream, unsigned state)
{
	(void)stream;
	st.live = state == 1;
	if (state == 2) {
		st.open = 0;
		app_stream_lost(app, &page_chat, TAG_SESSION, REOPEN_TIMER);
	}
}

static void
timer(struct app *app, unsigned n)
{
	if (n == REOPEN_TIMER && !st.open)
		open_stream(app);
	else if (n == POLL_TIMER && !st.polling)
		poll(app);
	else if (n == REFRESH_TIMER)
		refresh(app);
}

/* The stored messages (newest first): the user's messages, and whole turns for runs
 * whose events this page has not seen (without EventSource: every earlier turn). */
static void
stored(const struct wj *items)
{
	const struct wj	*m, **order;
	struct turn	*t;
	struct block	*b;
	const struct wj	*c, *data;
	const char	*role, *content, *run;
	size_t		 n = 0, i;

	/* Turns built from an earlier answer are built again from this one. */
	for (i = 0; i < st.n; i++)
		while (!st.turns[i].live && st.turns[i].run[0] != '\0' && st.turns[i].nb > 0)
			block_clear(&st.turns[i].b[--st.turns[i].nb]);
	for (m = items != NULL ? items->first : NULL; m != NULL; m = m->next)
		n++;
	order = sb_calloc(n + 1, sizeof(*order));
	for (i = n, m = items != NULL ? items->first : NULL; m != NULL; m = m->next)
		order[--i] = m;
	for (i = 0; i < n; i++) {
		m = order[i];
		role = wj_gets(m, "role", "");
		content = wj_gets(m, "content", "");
		data = wj_get(m, "data");
		if ((run = wj_gets(m, "run", NULL)) == NULL || run[0] == '\0')
			continue;
		t = turn_for(run);
		if (strcmp(role, "user") == 0) {
			if (t->user == NULL)
				app_set(&t->user, content);
			continue;
		}
		if (t->live)
			continue;
		if (strcmp(role, "assistant") == 0) {
			if (content[0] != '\0')
				text_add(t, B_TEXT, content);
			c = wj_get(data, "tool_calls");
			for (c = c != NULL && c->type == WJ_ARRAY ? c->first : NULL; c != NULL; c = c->next)
				if ((b = block_add(t, B_TOOL, wj_gets(c, "id", ""))) != NULL) {
					app_set(&b->name, wj_gets(c, "name", "tool"));
					set_json(&b->args, wj_get(c, "arguments"));
				}
			if (t->state == NULL)
				app_set(&t->state, "succeeded");
		} else if (strcmp(role, "tool") == 0) {
			if ((b = block_find(t, B_TOOL, wj_gets(data, "tool_call_id", NULL))) != NULL) {
				app_set(&b->result, content);
				b->ok = !wj_true(wj_get(data, "is_error"));
			}
		} else if (content[0] != '\0')
			text_add(t, B_NOTE, content);
	}
	free(order);
}

static void
polled(struct app *app, const struct reply *r)
{
	const struct wj	*e;
	unsigned long	 seq;
	size_t		 got = 0;

	st.polling = 0;
	if (st.poll_run == NULL)
		return;
	if (r->status != 200 || r->json == NULL) {
		/* Offline or refused for now: ask again in a moment from the same place. */
		app_timer(app, &page_chat, POLL_TIMER, r->status == 0 ? 2000 : 5000);
		return;
	}
	e = wj_get(r->json, "items");
	for (e = e != NULL && e->type == WJ_ARRAY ? e->first : NULL; e != NULL; e = e->next) {
		seq = (unsigned long)wj_num(wj_get(e, "seq"), 0);
		switch (apply(app, st.poll_run, 0, seq, wj_gets(e, "type", ""), wj_get(e, "data"))) {
		case 2:
			st.poll_after = seq;
			got++;
			break;
		case 1:
			continue;
		}
		if (seq != st.poll_after)
			break;		/* a gap: asked again from the last applied */
	}
	/* Finished, and nothing more after the last event: the run is followed to its end. */
	if (wj_true(wj_get(r->json, "finished")) && got == 0 && e == NULL) {
		app_set(&st.poll_run, NULL);
		return;
	}
	poll(app);
}

static void
sent(struct app *app, const struct reply *r)
{
	size_t		 i;
	struct turn	*t = NULL, *p;
	const char	*run = wj_gets(r->json, "id", NULL);

	st.sending = 0;
	for (i = 0; i < st.n && st.turns[i].run[0] != '\0'; i++)
		;
	if (i == st.n)
		return;
	p = &st.turns[i];
	if (r->status != 202 || run == NULL) {
		/* Not made: the message back in the box, the reason in words. */
		app_set(&st.draft, p->user);
		app_set(&st.error, app_problem_text(app, r));
		turn_remove(i);
		return;
	}
	for (i = 0; i < st.n; i++)
		if (strcmp(st.turns[i].run, run) == 0)
			t = &st.turns[i];
	if (t != NULL) {
		/* Its events came first: the message goes to the turn they made. */
		if (t->user == NULL)
			app_set(&t->user, p->user);
		turn_remove((size_t)(p - st.turns));
	} else {
		app_set(&p->run, run);
		app_set(&p->state, wj_gets(r->json, "state", "queued"));
	}
	if (!app->sse) {
		app_set(&st.poll_run, run);
		st.poll_after = 0;
		poll(app);
	}
	app_fetch(app, &page_chat, TAG_THREADS, "GET", "/api/v1/threads?limit=100", NULL, 0);
}

static void
fetched(struct app *app, unsigned tag, const struct reply *r)
{
	const char	*id;

	if (tag > 0xff) {
		if (tag >> 8 != (st.gen & 0xffffffu))
			return;		/* for a thread no longer open */
		tag &= 0xff;
	}
	switch (tag) {
	case TAG_THREADS:
		if (kept_set(&st.threads, r, "items") < 0)
			app_set(&st.error, app_problem_text(app, r));
		break;
	case TAG_AGENTS:
		if (kept_set(&st.agents, r, "items") < 0)
			app_set(&st.error, app_problem_text(app, r));
		else if (st.agent == NULL && kept_first(&st.agents) != NULL)
			app_set(&st.agent, wj_gets(kept_first(&st.agents), "slug", ""));
		break;
	case TAG_THREAD:
		if (kept_set(&st.info, r, NULL) < 0)
			app_set(&st.error, app_problem_text(app, r));
		else if (!app->sse && st.poll_run == NULL &&
		    (strcmp(wj_gets(st.info.v, "state", ""), "busy") == 0 ||
		    strcmp(wj_gets(st.info.v, "state", ""), "waiting") == 0))
			/* Without EventSource a run made elsewhere has no poll of its own
			 * here: its turn shows once it has joined the thread. */
			app_timer(app, &page_chat, REFRESH_TIMER, 3000);
		break;
	case TAG_MESSAGES:
		if (r->status == 200)
			stored(wj_get(r->json, "items"));
		break;
	case TAG_NEW:
		st.sending = 0;
		if (r->status == 201 && (id = wj_gets(r->json, "id", NULL)) != NULL)
			app_go(app, arena_printf(app->msg, "#/chat/%s", route_encode(app->msg, id)));
		else
			app_set(&st.error, app_problem_text(app, r));
		break;
	case TAG_SEND:
		sent(app, r);
		break;
	case TAG_CANCEL:
		if (r->status != 200)
			app_set(&st.error, app_problem_text(app, r));
		break;
	case TAG_POLL:
		polled(app, r);
		break;
	}
}

static void
send_message(struct app *app, const char *text)
{
	struct sb_buf	 body;
	int		 first = 1;
	struct turn	*t;
	size_t		 i;

	if (text[0] == '\0' || st.thread == NULL || st.sending) {
		if (text[0] == '\0')
			app_set(&st.error, "Write a message first.");
		return;
	}
	for (i = 0; i < st.n && st.turns[i].run[0] != '\0'; i++)
		;
	t = i < st.n ? &st.turns[i] : turn_for("");
	app_set(&t->user, text);
	app_set(&t->state, "sending");
	buf_init(&body, 0);
	buf_puts(&body, "{\"input\":{");
	wj_write_member(&body, &first, "message", text);
	buf_puts(&body, "}");
	wj_write_member(&body, &first, "multitask", st.multitask);
	buf_puts(&body, "}");
	app_fetch(app, &page_chat, GEN(TAG_SEND), "POST", arena_printf(app->msg,
	    "/api/v1/threads/%s/runs", route_encode(app->msg, st.thread)), body.data, 0);
	buf_free(&body);
	st.sending = 1;
	app_set(&st.draft, "");
	app_set(&st.error, NULL);
}

static void
event(struct app *app, const struct ui_event *ev)
{
	struct sb_buf	 body;
	int		 first = 1;

	if (strcmp(ev->action, "chat-input") == 0)
		app_set(&st.draft, ev->value);
	else if (strcmp(ev->action, "chat-multitask") == 0)
		app_set(&st.multitask, ev->value);
	else if (strcmp(ev->action, "chat-agent") == 0)
		app_set(&st.agent, ev->value);
	else if (strcmp(ev->action, "chat-send") == 0)
		send_message(app, ui_field(ev, "message", st.draft != NULL ? st.draft : ""));
	else if (strncmp(ev->action, "cancel:", 7) == 0)
		app_fetch(app, &page_chat, TAG_CANCEL, "POST", arena_printf(app->msg,
		    "/api/v1/runs/%s/cancel", route_encode(app->msg, ev->action + 7)), NULL, 0);
	else if (strcmp(ev->action, "chat-new") == 0 && !st.sending) {
		app_set(&st.agent, ui_field(ev, "chat-agent", st.agent != NULL ? st.agent : ""));
		buf_init(&body, 0);
		buf_puts(&body, "{");
		if (st.agent[0] != '\0')
			wj_write_member(&body, &first, "agent", st.agent);
		buf_puts(&body, "}");
		app_fetch(app, &page_chat, TAG_NEW, "POST", "/api/v1/threads", body.data, 0);
		buf_free(&body);
		st.sending = 1;
	}
}

static void
threads_view(struct app *app, struct view *v)
{
	const struct wj	*t, *a;
	const char	*id, *title;

	(void)app;
	v_open(v, "aside");
	v_attr(v, "class", "threads");
	v_attr(v, "aria-labelledby", "threads-h");
	v_open(v, "h2");
	v_attr(v, "id", "threads-h");
	v_text(v, "Threads");
	v_close(v);
	if (app_can(app, "runs:write")) {
		v_open(v, "form");
		v_attr(v, "class", "new-thread");
		v_attr(v, "data-submit", "chat-new");
		v_open(v, "div");
		v_attr(v, "class", "field");
		v_open(v, "label");
		v_attr(v, "for", "chat-agent");
		v_text(v, "Agent");
		v_close(v);
		v_open(v, "select");
		v_attr(v, "id", "chat-agent");
		v_attr(v, "name", "chat-agent");
		v_attr(v, "data-change", "chat-agent");
		v_attr(v, "data-test", "chat-agent");
		for (a = kept_first(&st.agents); a != NULL; a = a->next) {
			id = wj_gets(a, "slug", "");
			v_open(v, "option");
			v_key(v, id);
			v_attr(v, "value", id);
			v_attr(v, "selected", st.agent != NULL && strcmp(st.agent, id) == 0 ? "1" : "");
			v_text(v, wj_gets(a, "name", id));
			v_close(v);
		}
		v_close(v);
		v_close(v);
		v_open(v, "button");
		v_attr(v, "type", "submit");
		v_attr(v, "data-test", "chat-new");
		v_text(v, "New chat");
		v_close(v);
		v_close(v);
	}
	v_open(v, "ul");
	v_attr(v, "class", "thread-list");
	for (t = kept_first(&st.threads); t != NULL; t = t->next) {
		id = wj_gets(t, "id", "");
		title = wj_gets(t, "title", "");
		v_open(v, "li");
		v_key(v, id);
		v_open(v, "a");
		v_attrf(v, "href", "#/chat/%s", id);
		v_attr(v, "data-test", "thread");
		if (st.thread != NULL && strcmp(st.thread, id) == 0)
			v_attr(v, "aria-current", "page");
		v_leafc(v, "span", "what", title[0] != '\0' ? title : wj_gets(t, "agent", "A chat"));
		v_open(v, "span");
		v_attrf(v, "class", "badge state-%s", wj_gets(t, "state", ""));
		v_text(v, wj_gets(t, "state", ""));
		v_close(v);
		v_close(v);
		v_close(v);
	}
	v_close(v);
	if (kept_first(&st.threads) == NULL)
		v_leaf(v, "p", "No chat yet.");
	v_close(v);
}

static void
tool_card(struct view *v, const struct block *b)
{
	v_open(v, "details");
	v_key(v, b->key);
	v_attr(v, "class", "tool-card");
	v_attr(v, "data-test", "tool-card");
	v_attr(v, "data-tool", b->name);
	v_open(v, "summary");
	v_leafc(v, "span", "tool-name", b->name);
	v_open(v, "span");
	v_attr(v, "class", b->ok == 1 ? "badge state-succeeded" : b->ok == 0 ? "badge state-failed" :
	    "badge state-running");
	v_text(v, b->ok == 1 ? "done" : b->ok == 0 ? "error" : b->result != NULL ? "done" : "running");
	v_close(v);
	if (b->ms >= 0)
		v_leafc(v, "span", "when", arena_printf(v->arena, "%ld ms", b->ms));
	v_close(v);
	v_leaf(v, "h3", "Arguments");
	v_leaf(v, "pre", b->args != NULL ? b->args : "");
	v_leaf(v, "h3", "Result");
	v_leaf(v, "pre", b->result != NULL ? b->result : "(not yet)");
	v_close(v);
}

static void
human_view(struct view *v, const struct block *b)
{
	v_open(v, "div");
	v_key(v, b->key);
	v_attr(v, "class", "human");
	v_attr(v, "data-test", "human-request");
	v_open(v, "p");
	v_leaf(v, "strong", strcmp(b->name, "approval") == 0 ? "Asks a person to approve: " :
	    "Asks a person: ");
	v_text(v, b->args != NULL ? b->args : "");
	v_close(v);
	if (b->result != NULL) {
		v_open(v, "p");
		v_attr(v, "data-test", "human-answer");
		v_leaf(v, "strong", "Answer: ");
		v_text(v, b->result);
		v_close(v);
	} else {
		v_open(v, "a");
		v_attrf(v, "href", "#/inbox?item=%s", b->key);
		v_attr(v, "data-test", "inbox-link");
		v_text(v, "Answer it in the inbox");
		v_close(v);
	}
	v_close(v);
}

static int
turn_going(const struct turn *t)
{
	return t->state != NULL && (strcmp(t->state, "queued") == 0 ||
	    strcmp(t->state, "running") == 0 || strcmp(t->state, "waiting") == 0);
}

static void
turn_view(struct app *app, struct view *v, const struct turn *t)
{
	size_t	 i;

	v_open(v, "li");
	v_key(v, t->run[0] != '\0' ? t->run : "pending");
	v_attr(v, "class", "turn");
	if (t->user != NULL) {
		v_open(v, "div");
		v_key(v, "user");
		v_attr(v, "class", "message user");
		v_attr(v, "data-test", "message");
		v_attr(v, "data-role", "user");
		v_text(v, t->user);
		v_close(v);
	}
	for (i = 0; i < t->nb; i++) {
		const struct block *b = &t->b[i];

		if (b->kind == B_TOOL)
			tool_card(v, b);
		else if (b->kind == B_HUMAN)
			human_view(v, b);
		else {
			v_open(v, b->kind == B_TEXT ? "div" : "p");
			v_key(v, arena_printf(v->arena, "b%zu", i));
			v_attr(v, "class", b->kind == B_TEXT ? "message assistant" : "note");
			if (b->kind == B_TEXT) {
				v_attr(v, "data-test", "message");
				v_attr(v, "data-role", "assistant");
			}
			v_text(v, b->text.data != NULL ? b->text.data : "");
			v_close(v);
		}
	}
	v_open(v, "p");
	v_key(v, "meta");
	v_attr(v, "class", "turn-meta");
	if (t->state != NULL) {
		v_open(v, "span");
		v_attrf(v, "class", "badge state-%s", t->state);
		v_attr(v, "data-test", "run-state");
		v_attr(v, "data-state", t->state);
		v_text(v, t->state);
		v_close(v);
	}
	if (t->error != NULL)
		v_leafc(v, "span", "error", t->error);
	if (t->run[0] != '\0') {
		v_open(v, "a");
		v_attrf(v, "href", "#/runs/%s", t->run);
		v_text(v, "Run details");
		v_close(v);
	}
	if (t->run[0] != '\0' && turn_going(t) && app_can(app, "runs:write"))
		view_button_for(v, arena_printf(v->arena, "cancel:%s", t->run), "run-cancel", "link",
		    "Cancel", "Cancel this run");
	v_close(v);
	v_close(v);
}

static void
composer(struct view *v)
{
	static const char *const policy[][2] = { { "reject", "Refuse my message" },
		{ "enqueue", "Queue it after the run" }, { "interrupt", "Stop the run, send mine" } };
	size_t	 i;

	v_open(v, "form");
	v_attr(v, "class", "composer");
	v_attr(v, "data-submit", "chat-send");
	v_open(v, "div");
	v_attr(v, "class", "field");
	v_open(v, "label");
	v_attr(v, "for", "chat-input");
	v_text(v, "Your message");
	v_close(v);
	v_open(v, "textarea");
	v_attr(v, "id", "chat-input");
	v_attr(v, "name", "message");
	v_attr(v, "rows", "3");
	v_attr(v, "data-input", "chat-input");
	v_attr(v, "data-test", "chat-input");
	v_attr(v, "value", st.draft != NULL ? st.draft : "");
	v_close(v);
	v_close(v);
	v_open(v, "div");
	v_attr(v, "class", "field");
	v_open(v, "label");
	v_attr(v, "for", "chat-multitask");
	v_text(v, "When a run is already going");
	v_close(v);
	v_open(v, "select");
	v_attr(v, "id", "chat-multitask");
	v_attr(v, "data-change", "chat-multitask");
	v_attr(v, "data-test", "chat-multitask");
	for (i = 0; i < sizeof(policy) / sizeof(policy[0]); i++) {
		v_open(v, "option");
		v_key(v, policy[i][0]);
		v_attr(v, "value", policy[i][0]);
		v_attr(v, "selected", st.multitask != NULL && strcmp(st.multitask, policy[i][0]) == 0 ?
		    "1" : "");
		v_text(v, policy[i][1]);
		v_close(v);
	}
	v_close(v);
	v_close(v);
	view_submit(v, "chat-send", st.sending, "Send");
	v_close(v);
}

/* Turns in run order: the stream's run numbers where both have one, else as made. */
static int
before(const struct turn *a, const struct turn *b)
{
	if (a->number != 0 && b->number != 0)
		return a->number < b->number;
	return a->made < b->made;
}

static void
view(struct app *app, struct view *v)
{
	const struct turn	**order;
	const struct wj		*info = st.info.v;
	const char		*title;
	size_t			 i, j;

	v_open(v, "div");
	v_attr(v, "class", "chat");
	threads_view(app, v);
	v_open(v, "section");
	v_attr(v, "class", "conversation");
	v_attr(v, "aria-labelledby", "conv-h");
	view_error(v, st.error);
	if (st.thread == NULL) {
		v_open(v, "h2");
		v_attr(v, "id", "conv-h");
		v_text(v, "No chat open");
		v_close(v);
		v_leaf(v, "p", "Choose a chat on the left, or start a new one with an agent.");
		v_close(v);
		v_close(v);
		return;
	}
	title = wj_gets(info, "title", "");
	v_open(v, "h2");
	v_attr(v, "id", "conv-h");
	v_text(v, title[0] != '\0' ? title : "Chat");
	v_close(v);
	v_open(v, "p");
	v_attr(v, "class", "summary");
	v_textf(v, "with %s · ", wj_gets(info, "agent", "its agent"));
	v_text(v, !app->online ? "waiting for the network" : !app->sse ? "following by polling" :
	    st.live ? "live" : "connecting…");
	v_close(v);

	order = arena_calloc(v->arena, st.n + 1, sizeof(*order));
	for (i = 0; i < st.n; i++) {
		for (j = i; j > 0 && before(&st.turns[i], order[j - 1]); j--)
			order[j] = order[j - 1];
		order[j] = &st.turns[i];
	}
	v_open(v, "ol");
	v_attr(v, "class", "turns");
	for (i = 0; i < st.n; i++)
		if (order[i]->run[0] != '\0' || order[i]->user != NULL)
			turn_view(app, v, order[i]);
	v_close(v);
	if (app_can(app, "runs:write"))
		composer(v);
	v_close(v);
	v_close(v);
}

static void
reset(struct app *app)
{
	(void)app;
	turns_clear();
	kept_free(&st.threads);
	kept_free(&st.agents);
	kept_free(&st.info);
	free(st.thread);
	free(st.draft);
	free(st.multitask);
	free(st.agent);
	free(st.error);
	free(st.poll_run);
	memset(&st, 0, sizeof(st));
}

const struct page page_chat = {
	.name = "chat",
	.title = "Chat",
	.enter = enter,
	.leave = leave,
	.view = view,
	.event = event,
	.fetched = fetched,
	.sse = sse,
	.sse_state = sse_state,
	.timer = timer,
	.reset = reset,
};
