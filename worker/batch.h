/* batch.h: the parameters of the queue's statements (worker/queue.c), built with no I/O:
 * the pending items split run by run, the replacement of a refused run's items, the
 * runs a flush names, and the arrays a heartbeat sends. */
#ifndef SB_WORKER_BATCH_H
#define SB_WORKER_BATCH_H

#include "core/db.h"

struct run_list;

/* The run whose items a split writes next: the run of the first pending event, or
 * of the first pending end when no event is left, or of the first step when neither
 * is; NULL when all are empty.  The string belongs to the item. */
const char	*batch_next_run(json_t *events, json_t *finishes, json_t *steps);
/* Takes the items of run id out of from (an array of {"id", ...}), in their order,
 * into a new array (the caller decrefs); from keeps the others, in their order. */
json_t		*batch_take_run(json_t *from, const char *id);
/* What a run whose items the database refused writes instead: its events (ev) and
 * ends (fin) are replaced by one run.failed event at the seq of the first event
 * (next_seq when there was none; no event when that is 0) and one failed end that
 * says why, both at the attempt of the first item.  Returns that seq. */
int		 batch_failed(const char *id, json_t *ev, json_t *fin, int next_seq);
/* The ids of the runs that events name, each once, in the order they first appear
 * (a new array of strings: the caller decrefs). */
json_t		*batch_event_runs(json_t *events);
/* A heartbeat's parameters: the ids and attempts of runs (linked by next), as
 * array literals in the same order; the caller frees them (db_array_free). */
void		 batch_heartbeat(const struct run_list *runs, struct db_array *ids,
		    struct db_array *attempts);

#endif /* SB_WORKER_BATCH_H */
