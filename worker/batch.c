/* batch.c: the parameters of the queue's statements, built with no I/O (see batch.h). */
#include "config.h"

#include <string.h>
#include <stddef.h>
#include <jansson.h>

#include "worker/worker.h"
#include "worker/batch.h"
#include "core/db.h"

/* An item's run id ("" when it has none). */
static const char *
run_of(json_t *item)
{
	const char *id = json_string_value(json_object_get(item, "id"));

	return id != NULL ? id : "";
}

const char *
batch_next_run(json_t *events, json_t *finishes, json_t *steps)
{
	if (json_array_size(events) > 0)
		return run_of(json_array_get(events, 0));
	if (json_array_size(finishes) > 0)
		return run_of(json_array_get(finishes, 0));
	if (json_array_size(steps) > 0)
		return run_of(json_array_get(steps, 0));
	return NULL;
}

json_t *
batch_take_run(json_t *from, const char *id)
{
	json_t	*out = json_array(), *v;
	size_t	 i;

	for (i = 0; i < json_array_size(from); ) {
		v = json_array_get(from, i);
		if (strcmp(run_of(v), id) == 0) {
			json_array_append(out, v);
			json_array_remove(from, i);
		} else
			i++;
	}
	return out;
}

int
batch_failed(const char *id, json_t *ev, json_t *fin, int next_seq)
{
	json_t	*first, *error;
	int	 attempt, seq;

	first = json_array_size(ev) > 0 ? json_array_get(ev, 0) : json_array_get(fin, 0);
	attempt = (int)json_integer_value(json_object_get(first, "attempt"));
	seq = json_array_size(ev) > 0 ? (int)json_integer_value(json_object_get(first, "seq")) :
	    next_seq;
	error = json_pack("{s:s, s:s, s:b}", "type", "event-unstorable", "message",
	    "the database refused what this run produced; it was not stored", "retryable", 0);
	json_array_clear(ev);
	json_array_clear(fin);
	if (seq > 0)
		json_array_append_new(ev, json_pack("{s:s, s:i, s:i, s:s, s:{s:O}}", "id", id,
		    "attempt", attempt, "seq", seq, "type", "run.failed", "data", "error", error));
	json_array_append_new(fin, json_pack("{s:s, s:i, s:s, s:n, s:O, s:{}, s:i}", "id", id,
	    "attempt", attempt, "kind", "failed", "output", "error", error, "usage",
	    "delay_ms", 0));
	json_decref(error);
	return seq;
}

json_t *
batch_event_runs(json_t *events)
{
	json_t		*seen = json_object(), *list = json_array(), *v;
	const char	*id;
	size_t		 i;

	json_array_foreach(events, i, v) {
		id = run_of(v);
		if (json_object_get(seen, id) == NULL) {
			json_object_set_new(seen, id, json_true());
			json_array_append_new(list, json_string(id));
		}
	}
	json_decref(seen);
	return list;
}

void
batch_heartbeat(const struct run_list *runs, struct db_array *ids, struct db_array *attempts)
{
	const struct run *r;

	LIST_FOREACH(r, runs, link) {
		db_array_add(ids, "%s", r->id);
		db_array_add(attempts, "%d", r->attempt);
	}
}
