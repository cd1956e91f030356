/* test_batch.c: the parameters of the worker's queue statements (worker/batch.c): a
 * refused flush split run by run, a refused run's replacement items, the runs a flush
 * names, a heartbeat's arrays. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include "worker/worker.h"
#include "worker/batch.h"
#include "tests/unit/unit.h"
#include "core/arena.h"
#include "core/db.h"

#define RA	"0b0b1c4e-0000-4000-8000-00000000000a"
#define RB	"0b0b1c4e-0000-4000-8000-00000000000b"
#define RC	"0b0b1c4e-0000-4000-8000-00000000000c"
#define RD	"0b0b1c4e-0000-4000-8000-00000000000d"

static json_t *
event(const char *id, int attempt, int seq)
{
	return json_pack("{s:s, s:i, s:i, s:s, s:{}}", "id", id, "attempt", attempt, "seq", seq,
	    "type", "message.delta", "data");
}

static json_t *
end(const char *id, int attempt, const char *kind)
{
	return json_pack("{s:s, s:i, s:s, s:n, s:n, s:{}, s:i}", "id", id, "attempt", attempt,
	    "kind", kind, "output", "error", "usage", "delay_ms", 0);
}

/* A run's part of a split, as text: "RUN-LETTER e:SEQ,SEQ f:KIND,KIND". */
static void
describe(char *buf, size_t cap, const char *id, json_t *ev, json_t *fin)
{
	json_t	*v;
	size_t	 i, n;

	n = (size_t)snprintf(buf, cap, "%c e:", id[strlen(id) - 1]);
	json_array_foreach(ev, i, v)
		n += (size_t)snprintf(buf + n, cap - n, "%s%lld", i ? "," : "",
		    (long long)json_integer_value(json_object_get(v, "seq")));
	n += (size_t)snprintf(buf + n, cap - n, " f:");
	json_array_foreach(fin, i, v)
		n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? "," : "",
		    json_string_value(json_object_get(v, "kind")));
}

/* Splits events and finishes as flush_split does, into "part; part; ...". */
/* Splits the items run by run as queue.c does; each run: its events, its end, and
 * the number of its steps (" s:N", when it has any). */
static void
split3(json_t *events, json_t *finishes, json_t *steps, char *out, size_t cap)
{
	const char	*next;
	char		*id, part[200];
	json_t		*ev, *fin, *st;
	size_t		 n = 0;

	out[0] = '\0';
	while ((next = batch_next_run(events, finishes, steps)) != NULL) {
		id = sb_strdup(next);
		ev = batch_take_run(events, id);
		fin = batch_take_run(finishes, id);
		st = batch_take_run(steps, id);
		describe(part, sizeof(part), id, ev, fin);
		n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? "; " : "", part);
		if (json_array_size(st) > 0)
			n += (size_t)snprintf(out + n, cap - n, " s:%zu", json_array_size(st));
		json_decref(ev);
		json_decref(fin);
		json_decref(st);
		free(id);
	}
}

static void
split(json_t *events, json_t *finishes, char *out, size_t cap)
{
	split3(events, finishes, NULL, out, cap);
}

static void
test_batch_split(void)
{
	json_t	*events = json_array(), *finishes = json_array();
	char	 out[400];

	json_array_append_new(events, event(RA, 1, 1));
	json_array_append_new(events, event(RB, 2, 7));
	json_array_append_new(events, event(RA, 1, 2));
	json_array_append_new(events, event(RC, 1, 4));
	json_array_append_new(events, event(RA, 1, 3));
	json_array_append_new(finishes, end(RD, 1, "released"));
	json_array_append_new(finishes, end(RB, 2, "succeeded"));
	json_array_append_new(finishes, end(RA, 1, "failed"));
	split(events, finishes, out, sizeof(out));
	/* Runs in the order their first event comes, then runs with only an end; each
	 * run's items in their order; every item once. */
	UNIT_ASSERT_STR(out, "a e:1,2,3 f:failed; b e:7 f:succeeded; c e:4 f:; d e: f:released");
	UNIT_ASSERT_INT(json_array_size(events), 0);
	UNIT_ASSERT_INT(json_array_size(finishes), 0);
	json_decref(events);
	json_decref(finishes);
}

/* Steps (the agent loop's journal) go with their run's other items; a run with only
 * steps pending comes last, and is not forgotten. */
static void
test_batch_split_steps(void)
{
	json_t	*events = json_array(), *finishes = json_array(), *steps = json_array();
	char	 out[400];

	json_array_append_new(steps, json_pack("{s:s, s:i}", "id", RC, "step", 1));
	json_array_append_new(steps, json_pack("{s:s, s:i}", "id", RA, "step", 1));
	json_array_append_new(steps, json_pack("{s:s, s:i}", "id", RA, "step", 2));
	json_array_append_new(events, event(RA, 1, 5));
	json_array_append_new(finishes, end(RB, 1, "succeeded"));
	UNIT_ASSERT_STR(batch_next_run(NULL, NULL, steps), RC);
	split3(events, finishes, steps, out, sizeof(out));
	UNIT_ASSERT_STR(out, "a e:5 f: s:2; b e: f:succeeded; c e: f: s:1");
	UNIT_ASSERT_INT(json_array_size(steps), 0);
	json_decref(events);
	json_decref(finishes);
	json_decref(steps);
}

static void
test_batch_split_empty(void)
{
	json_t	*events = json_array(), *finishes = json_array(), *got;
	char	 out[400];

	CU_ASSERT_PTR_NULL(batch_next_run(events, finishes, NULL));
	CU_ASSERT_PTR_NULL(batch_next_run(NULL, NULL, NULL));
	split(events, finishes, out, sizeof(out));
	UNIT_ASSERT_STR(out, "");
	/* Ends alone. */
	json_array_append_new(finishes, end(RB, 1, "cancelled"));
	json_array_append_new(finishes, end(RA, 1, "succeeded"));
	UNIT_ASSERT_STR(batch_next_run(events, finishes, NULL), RB);
	split(events, finishes, out, sizeof(out));
	UNIT_ASSERT_STR(out, "b e: f:cancelled; a e: f:succeeded");
	/* Taking a run that has no items takes nothing and leaves the rest as it was. */
	json_array_append_new(events, event(RA, 1, 1));
	json_array_append_new(events, event(RB, 1, 2));
	got = batch_take_run(events, RC);
	CU_ASSERT(json_is_array(got));
	UNIT_ASSERT_INT(json_array_size(got), 0);
	UNIT_ASSERT_INT(json_array_size(events), 2);
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_array_get(events, 0), "id")), RA);
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_array_get(events, 1), "id")), RB);
	json_decref(got);
	got = batch_take_run(finishes, RA);	/* an empty array */
	UNIT_ASSERT_INT(json_array_size(got), 0);
	json_decref(got);
	json_decref(events);
	json_decref(finishes);
}

/* The replacement items of a refused run, checked field by field. */
static void
check_failed(json_t *ev, json_t *fin, int attempt, int seq)
{
	json_t *e, *f, *err;

	UNIT_ASSERT_INT(json_array_size(ev), seq > 0 ? 1 : 0);
	if (seq > 0) {
		e = json_array_get(ev, 0);
		UNIT_ASSERT_STR(json_string_value(json_object_get(e, "id")), RA);
		UNIT_ASSERT_INT(json_integer_value(json_object_get(e, "attempt")), attempt);
		UNIT_ASSERT_INT(json_integer_value(json_object_get(e, "seq")), seq);
		UNIT_ASSERT_STR(json_string_value(json_object_get(e, "type")), "run.failed");
		err = json_object_get(json_object_get(e, "data"), "error");
		UNIT_ASSERT_STR(json_string_value(json_object_get(err, "type")), "event-unstorable");
		CU_ASSERT(json_is_false(json_object_get(err, "retryable")));
	}
	UNIT_ASSERT_INT(json_array_size(fin), 1);
	f = json_array_get(fin, 0);
	UNIT_ASSERT_STR(json_string_value(json_object_get(f, "id")), RA);
	UNIT_ASSERT_INT(json_integer_value(json_object_get(f, "attempt")), attempt);
	UNIT_ASSERT_STR(json_string_value(json_object_get(f, "kind")), "failed");
	CU_ASSERT(json_is_null(json_object_get(f, "output")));
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_object_get(f, "error"), "type")),
	    "event-unstorable");
	UNIT_ASSERT_INT(json_object_size(json_object_get(f, "usage")), 0);
	UNIT_ASSERT_INT(json_integer_value(json_object_get(f, "delay_ms")), 0);
}

static void
test_batch_failed(void)
{
	json_t *ev = json_array(), *fin = json_array();

	/* Its events are replaced by run.failed at the first one's seq, so the log keeps
	 * no gap; its end by a failed one. */
	json_array_append_new(ev, event(RA, 2, 5));
	json_array_append_new(ev, event(RA, 2, 6));
	json_array_append_new(fin, end(RA, 2, "succeeded"));
	UNIT_ASSERT_INT(batch_failed(RA, ev, fin, 99), 5);
	check_failed(ev, fin, 2, 5);
	/* An end alone: the event goes at the run's next seq. */
	json_array_clear(ev);
	json_array_clear(fin);
	json_array_append_new(fin, end(RA, 3, "succeeded"));
	UNIT_ASSERT_INT(batch_failed(RA, ev, fin, 9), 9);
	check_failed(ev, fin, 3, 9);
	/* No next seq known (the run has left this worker): the end alone. */
	json_array_clear(ev);
	json_array_clear(fin);
	json_array_append_new(fin, end(RA, 4, "cancelled"));
	UNIT_ASSERT_INT(batch_failed(RA, ev, fin, 0), 0);
	check_failed(ev, fin, 4, 0);
	json_decref(ev);
	json_decref(fin);
}

static void
test_batch_event_runs(void)
{
	json_t	*events = json_array(), *ids;

	ids = batch_event_runs(events);
	UNIT_ASSERT_INT(json_array_size(ids), 0);
	json_decref(ids);
	json_array_append_new(events, event(RB, 1, 1));
	json_array_append_new(events, event(RA, 1, 1));
	json_array_append_new(events, event(RB, 1, 2));
	json_array_append_new(events, event(RC, 1, 1));
	json_array_append_new(events, event(RA, 1, 2));
	ids = batch_event_runs(events);
	UNIT_ASSERT_INT(json_array_size(ids), 3);
	UNIT_ASSERT_STR(json_string_value(json_array_get(ids, 0)), RB);
	UNIT_ASSERT_STR(json_string_value(json_array_get(ids, 1)), RA);
	UNIT_ASSERT_STR(json_string_value(json_array_get(ids, 2)), RC);
	UNIT_ASSERT_INT(json_array_size(events), 5);	/* read, not taken */
	json_decref(ids);
	json_decref(events);
}

static void
test_batch_heartbeat(void)
{
	struct run	 r[3];
	struct run_list	 runs;
	struct db_array	 ids = { 0 }, atts = { 0 };

	LIST_INIT(&runs);
	batch_heartbeat(&runs, &ids, &atts);
	UNIT_ASSERT_STR(db_array_text(&ids), "{}");
	UNIT_ASSERT_STR(db_array_text(&atts), "{}");
	db_array_free(&ids);
	db_array_free(&atts);
	memset(r, 0, sizeof(r));
	snprintf(r[0].id, sizeof(r[0].id), "%s", RA);
	r[0].attempt = 1;
	snprintf(r[1].id, sizeof(r[1].id), "%s", RB);
	r[1].attempt = 12;
	snprintf(r[2].id, sizeof(r[2].id), "%s", RC);
	r[2].attempt = 3;
	/* The worker adds at the head: the list reads r[0], r[1], r[2]. */
	LIST_INSERT_HEAD(&runs, &r[2], link);
	LIST_INSERT_HEAD(&runs, &r[1], link);
	LIST_INSERT_HEAD(&runs, &r[0], link);
	batch_heartbeat(&runs, &ids, &atts);
	UNIT_ASSERT_STR(db_array_text(&ids), "{" RA "," RB "," RC "}");
	UNIT_ASSERT_STR(db_array_text(&atts), "{1,12,3}");
	db_array_free(&ids);
	db_array_free(&atts);
}

void
suite_batch(void)
{
	CU_pSuite s = unit_suite("batch", NULL, NULL);

	unit_test(s, "a refused flush is split run by run, in order", test_batch_split);
	unit_test(s, "empty sets, ends alone, a run with no items", test_batch_split_empty);
	unit_test(s, "a refused run's items become run.failed and a failed end",
	    test_batch_failed);
	unit_test(s, "steps go with their run's items, a run with only steps last",
	    test_batch_split_steps);
	unit_test(s, "a flush names each run with events once", test_batch_event_runs);
	unit_test(s, "a heartbeat's ids and attempts, in the same order", test_batch_heartbeat);
}
