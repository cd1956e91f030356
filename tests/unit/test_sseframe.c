/* test_sseframe.c: the frames switchboard-stream writes (stream/sseframe.c), byte for
 * byte, and read back by the worker's event-stream parser (worker/llm/eventparse.c). */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>

#include "core/buf.h"
#include "stream/sseframe.h"
#include "worker/llm/wire.h"
#include "tests/unit/unit.h"

/* The frame of (id, type, data), checked against want and its length. */
#define CHECK_FRAME(id, type, data, want) do {				\
	size_t	 len_;							\
	char	*f_ = sse_frame((id), (type), (data), &len_);		\
									\
	UNIT_ASSERT_STR(f_, (want));					\
	UNIT_ASSERT_INT(len_, strlen(want));				\
	free(f_);							\
} while (0)

static void
test_frame_fields(void)
{
	CHECK_FRAME("7", "message.delta", "{\"text\":\"hi\"}",
	    "id: 7\nevent: message.delta\ndata: {\"text\":\"hi\"}\n\n");
	/* A feed's position (xid-n) is an id like any other. */
	CHECK_FRAME("7345-12", "run.updated", "{}", "id: 7345-12\nevent: run.updated\ndata: {}\n\n");
	CHECK_FRAME("9223372036854775807-9223372036854775807", "run.succeeded", "null",
	    "id: 9223372036854775807-9223372036854775807\nevent: run.succeeded\ndata: null\n\n");
	/* Without an id or an event name, those lines are left out. */
	CHECK_FRAME(NULL, "ping", "1", "event: ping\ndata: 1\n\n");
	CHECK_FRAME("3", NULL, "1", "id: 3\ndata: 1\n\n");
	CHECK_FRAME(NULL, NULL, "x", "data: x\n\n");
	/* Data is written as it is, spaces and colons included. */
	CHECK_FRAME("1", "t", " a: b ", "id: 1\nevent: t\ndata:  a: b \n\n");
}

static void
test_frame_data_lines(void)
{
	CHECK_FRAME("1", "t", "", "id: 1\nevent: t\ndata: \n\n");
	CHECK_FRAME(NULL, NULL, "a\nb", "data: a\ndata: b\n\n");
	CHECK_FRAME(NULL, NULL, "a\r\nb", "data: a\ndata: b\n\n");
	CHECK_FRAME(NULL, NULL, "a\rb", "data: a\ndata: b\n\n");
	CHECK_FRAME(NULL, NULL, "a\n", "data: a\ndata: \n\n");
	CHECK_FRAME(NULL, NULL, "\n", "data: \ndata: \n\n");
	CHECK_FRAME(NULL, NULL, "a\r\n\r\nb", "data: a\ndata: \ndata: b\n\n");
	CHECK_FRAME(NULL, NULL, "a\n\rb", "data: a\ndata: \ndata: b\n\n");
	CHECK_FRAME(NULL, NULL, "\r\r\n\n", "data: \ndata: \ndata: \ndata: \n\n");
}

/* The one event the parser reads from a frame. */
struct heard {
	int		 n;
	char		 type[64], id[64];
	struct sb_buf	 data;
};

static int
hear(void *arg, const struct evp_event *ev)
{
	struct heard *h = arg;

	h->n++;
	snprintf(h->type, sizeof(h->type), "%s", ev->type);
	snprintf(h->id, sizeof(h->id), "%s", ev->id);
	h->data.len = 0;
	buf_append(&h->data, "", 0);
	buf_append(&h->data, ev->data, ev->len);
	return 0;
}

/* Frames (id, type, data), parses it: one event of type want_type (the parser's
 * "message" when none), the id ("" when none) and want_data. */
static void
round_trip(const char *id, const char *type, const char *data, const char *want_type,
    const char *want_data)
{
	struct evp_parser	 d;
	struct heard		 h;
	size_t			 len;
	char			*f = sse_frame(id, type, data, &len);

	memset(&h, 0, sizeof(h));
	evp_init(&d, 4096, hear, &h);
	UNIT_ASSERT_INT(evp_feed(&d, f, len), 0);
	UNIT_ASSERT_INT(h.n, 1);
	UNIT_ASSERT_STR(h.type, want_type);
	UNIT_ASSERT_STR(h.id, id != NULL ? id : "");
	UNIT_ASSERT_STR(h.data.data, want_data);
	evp_free(&d);
	buf_free(&h.data);
	free(f);
}

static void
test_frame_round_trip(void)
{
	round_trip("42", "message.delta", "{\"text\":\"a\\nb\"}", "message.delta",
	    "{\"text\":\"a\\nb\"}");
	round_trip("7345-12", "run.updated", "", "run.updated", "");
	round_trip("2", "t", "one\ntwo\nthree", "t", "one\ntwo\nthree");
	round_trip("3", "t", "one\r\ntwo\rthree", "t", "one\ntwo\nthree");	/* LF joins them */
	round_trip("4", "t", "trailing\n", "t", "trailing\n");
	round_trip(NULL, NULL, "x", "message", "x");
}

static void
test_retry(void)
{
	char	 buf[SSE_RETRY_MAX];

	UNIT_ASSERT_INT(sse_retry(buf, 3000), 13);
	UNIT_ASSERT_STR(buf, "retry: 3000\n\n");
	UNIT_ASSERT_INT(sse_retry(buf, 0), 10);
	UNIT_ASSERT_STR(buf, "retry: 0\n\n");
	UNIT_ASSERT_INT(sse_retry(buf, INT_MAX), 19);
	UNIT_ASSERT_STR(buf, "retry: 2147483647\n\n");
}

void
suite_sseframe(void)
{
	CU_pSuite s = unit_suite("sseframe", NULL, NULL);

	unit_test(s, "an event's id, event and data lines", test_frame_fields);
	unit_test(s, "each line of data is a data line; empty data is one", test_frame_data_lines);
	unit_test(s, "the worker's parser reads back what was framed", test_frame_round_trip);
	unit_test(s, "retry hints", test_retry);
}
