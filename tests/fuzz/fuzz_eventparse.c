/* fuzz_eventparse.c: the worker's event-stream parser (worker/llm/eventparse.c) fed a hostile provider. */
#include "config.h"

#include <string.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "worker/llm/wire.h"
#include "tests/fuzz/fuzz.h"

struct run {
	size_t		 max;
	struct sb_buf	 events;	/* type NUL data NUL id NUL, per event */
};

static int
on_event(void *arg, const struct evp_event *ev)
{
	struct run *r = arg;

	FUZZ_ASSERT(ev->type != NULL && ev->data != NULL && ev->id != NULL);
	/* The data's lines and their "\n"s fit in max, but for the last "\n". */
	FUZZ_ASSERT(ev->len + 1 <= r->max);
	FUZZ_ASSERT(ev->data[ev->len] == '\0');
	/* CR and LF end lines: none is left in a field but the "\n" joining data lines. */
	FUZZ_ASSERT(memchr(ev->data, '\r', ev->len) == NULL);
	FUZZ_ASSERT(strpbrk(ev->type, "\r\n") == NULL && strpbrk(ev->id, "\r\n") == NULL);
	buf_append(&r->events, ev->type, strlen(ev->type) + 1);
	buf_append(&r->events, ev->data, ev->len + 1);
	buf_append(&r->events, ev->id, strlen(ev->id) + 1);
	return 0;
}

/* Decodes buf in chunks whose sizes come from seed (0: in one piece); returns
 * what the last evp_feed() returned, the events in r and the error in err. */
static int
decode(const char *buf, size_t len, unsigned seed, struct run *r, char err[96])
{
	struct evp_parser	 d;
	size_t			 off = 0, n;
	int			 rc = 0;

	evp_init(&d, r->max, on_event, r);
	do {
		n = len - off;
		if (seed != 0) {
			seed = seed * 1103515245u + 12345u;
			n = 1 + (seed >> 16) % 17;
			if (n > len - off)
				n = len - off;
		}
		rc = evp_feed(&d, buf + off, n);
		off += n;
		FUZZ_ASSERT(rc == 0 || rc == -1);
		FUZZ_ASSERT((rc == -1) == (d.failed != 0));
		FUZZ_ASSERT(d.line.len <= r->max && d.data.len <= r->max);
	} while (rc == 0 && off < len);
	if (rc < 0) {
		FUZZ_ASSERT(d.err[0] != '\0');
		FUZZ_ASSERT(evp_feed(&d, "\n\n", 2) == -1);
	}
	memcpy(err, d.err, 96);
	evp_free(&d);
	return rc;
}

/* A byte for the bound, a byte for the chunking, then the stream.  The events
 * must not depend on where the stream was cut. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run	 whole = { 0 }, split = { 0 };
	char		 err1[96], err2[96];
	int		 rc1, rc2;

	if (size < 2)
		return 0;
	whole.max = split.max = 1 + (size_t)data[0] * 2;
	rc1 = decode((const char *)data + 2, size - 2, 0, &whole, err1);
	rc2 = decode((const char *)data + 2, size - 2, data[1] | 1u, &split, err2);
	FUZZ_ASSERT(rc1 == rc2 && strcmp(err1, err2) == 0);
	FUZZ_ASSERT(whole.events.len == split.events.len);
	FUZZ_ASSERT(whole.events.len == 0 ||
	    memcmp(whole.events.data, split.events.data, whole.events.len) == 0);
	buf_free(&whole.events);
	buf_free(&split.events);
	return 0;
}
