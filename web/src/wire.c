/* wire.c: the byte encoding between the app and the glue (wire.h). */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "web/src/wire.h"

void
wire_u8(struct sb_buf *out, unsigned v)
{
	unsigned char	 c = (unsigned char)v;

	buf_append(out, &c, 1);
}

void
wire_u32(struct sb_buf *out, uint32_t v)
{
	unsigned char	 b[4];

	b[0] = (unsigned char)v;
	b[1] = (unsigned char)(v >> 8);
	b[2] = (unsigned char)(v >> 16);
	b[3] = (unsigned char)(v >> 24);
	buf_append(out, b, sizeof(b));
}

void
wire_str(struct sb_buf *out, const char *s)
{
	size_t	 n = s != NULL ? strlen(s) : 0;

	wire_u32(out, (uint32_t)n);
	buf_append(out, s != NULL ? s : "", n);
}

void
wire_in_init(struct wire_in *in, const void *msg, size_t len)
{
	in->p = msg;
	in->len = len;
	in->off = 0;
	in->bad = 0;
}

unsigned
wire_in_u8(struct wire_in *in)
{
	if (in->bad || in->len - in->off < 1) {
		in->bad = 1;
		return 0;
	}
	return in->p[in->off++];
}

uint32_t
wire_in_u32(struct wire_in *in)
{
	const unsigned char	*b;

	if (in->bad || in->len - in->off < 4) {
		in->bad = 1;
		return 0;
	}
	b = in->p + in->off;
	in->off += 4;
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

const char *
wire_in_str(struct wire_in *in, size_t *n)
{
	uint32_t	 len = wire_in_u32(in);
	const char	*s;

	if (in->bad || in->len - in->off < len) {
		in->bad = 1;
		*n = 0;
		return "";
	}
	s = (const char *)in->p + in->off;
	in->off += len;
	*n = len;
	return s;
}
