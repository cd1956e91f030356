/* netguard.c: public unicast addresses only, for guarded fetches (netguard.h). */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/netguard.h"

/* An address block: the first bits of net (4 bytes used for IPv4, 16 for IPv6). */
struct block {
	uint8_t		 net[16];
	unsigned	 bits;
};

/* IPv4 a guarded fetch may not reach (RFC 6890 and its updates): every block that is
 * not globally reachable unicast. */
static const struct block v4_refused[] = {
	{ { 0, 0, 0, 0 }, 8 },		/* "this network", 0.0.0.0 included */
	{ { 10, 0, 0, 0 }, 8 },		/* private */
	{ { 100, 64, 0, 0 }, 10 },	/* carrier-grade NAT */
	{ { 127, 0, 0, 0 }, 8 },	/* loopback */
	{ { 169, 254, 0, 0 }, 16 },	/* link-local, the cloud metadata service */
	{ { 172, 16, 0, 0 }, 12 },	/* private */
	{ { 192, 0, 0, 0 }, 24 },	/* IETF protocol assignments */
	{ { 192, 0, 2, 0 }, 24 },	/* documentation (TEST-NET-1) */
	{ { 192, 88, 99, 0 }, 24 },	/* the retired 6to4 relay anycast */
	{ { 192, 168, 0, 0 }, 16 },	/* private */
	{ { 198, 18, 0, 0 }, 15 },	/* benchmarking */
	{ { 198, 51, 100, 0 }, 24 },	/* documentation (TEST-NET-2) */
	{ { 203, 0, 113, 0 }, 24 },	/* documentation (TEST-NET-3) */
	{ { 224, 0, 0, 0 }, 4 },	/* multicast */
	{ { 240, 0, 0, 0 }, 4 },	/* reserved, 255.255.255.255 included */
};

/* IPv6 forms that carry an IPv4 address: the connection really goes to (or through a
 * translator to) that address, so the IPv4 address is what is judged.  off is where
 * its 4 bytes are. */
static const struct {
	struct block	 b;
	unsigned	 off;
} v6_embedding[] = {
	{ { { [10] = 0xff, [11] = 0xff }, 96 }, 12 },	/* ::ffff:a.b.c.d mapped */
	{ { { 0 }, 96 }, 12 },				/* ::a.b.c.d compatible, :: and ::1 */
	{ { { [8] = 0xff, [9] = 0xff }, 96 }, 12 },	/* ::ffff:0:a.b.c.d translated */
	{ { { 0x00, 0x64, 0xff, 0x9b }, 96 }, 12 },	/* 64:ff9b::a.b.c.d NAT64 */
	{ { { 0x20, 0x02 }, 16 }, 2 },			/* 2002:aabb:ccdd:: 6to4 */
};

/* Inside 2000::/3, the global unicast space, the blocks that are not public. */
static const struct block v6_refused[] = {
	{ { 0x20, 0x01, 0x00, 0x00 }, 23 },	/* IETF protocol assignments, Teredo */
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32 },	/* documentation */
	{ { 0x3f, 0xff, 0x00, 0x00 }, 20 },	/* documentation (RFC 9637) */
};

static int
in_block(const uint8_t *a, const struct block *b)
{
	unsigned	 whole = b->bits / 8, rest = b->bits % 8;
	uint8_t		 mask;

	if (memcmp(a, b->net, whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[whole] & mask) == (b->net[whole] & mask);
}

static int
v4_public(const uint8_t a[4])
{
	size_t	 i;

	for (i = 0; i < sizeof(v4_refused) / sizeof(v4_refused[0]); i++)
		if (in_block(a, &v4_refused[i]))
			return 0;
	return 1;
}

static int
v6_public(const uint8_t a[16])
{
	size_t	 i;

	for (i = 0; i < sizeof(v6_embedding) / sizeof(v6_embedding[0]); i++)
		if (in_block(a, &v6_embedding[i].b))
			return v4_public(a + v6_embedding[i].off);
	if ((a[0] & 0xe0) != 0x20)
		return 0;	/* not 2000::/3: ULA, link-local, multicast, reserved */
	for (i = 0; i < sizeof(v6_refused) / sizeof(v6_refused[0]); i++)
		if (in_block(a, &v6_refused[i]))
			return 0;
	return 1;
}

int
netguard_addr_public(const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(*sin)) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		return v4_public((const uint8_t *)&sin->sin_addr);
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(*sin6)) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		return v6_public(sin6->sin6_addr.s6_addr);
	}
	return 0;
}

/* 1 if s holds only what an inet_aton() number may (digits, hex, dots): glibc's
 * inet_aton() also takes "1.2.3.4 and anything after a blank". */
static int
aton_chars(const char *s)
{
	return s[0] != '\0' && strspn(s, "0123456789abcdefABCDEFxX.") == strlen(s);
}

int
netguard_text_public(const char *text)
{
	char		 s[INET6_ADDRSTRLEN + 1];
	size_t		 n;
	int		 bracketed;
	struct in_addr	 a4;
	struct in6_addr	 a6;

	if (text == NULL || (n = strlen(text)) == 0)
		return -1;
	if ((bracketed = text[0] == '[' && n > 1 && text[n - 1] == ']')) {
		text++;
		n -= 2;
	}
	if (n >= sizeof(s))
		return -1;
	memcpy(s, text, n);
	s[n] = '\0';
	/* Every IPv4 form a resolver takes as a number, dotted quads included. */
	if (!bracketed && aton_chars(s) && inet_aton(s, &a4) != 0)
		return v4_public((const uint8_t *)&a4);
	if (strchr(s, ':') == NULL)
		return -1;
	s[strcspn(s, "%")] = '\0';	/* a zone ("fe80::1%eth0") does not change the address */
	if (inet_pton(AF_INET6, s, &a6) == 1)
		return v6_public(a6.s6_addr);
	return -1;
}
