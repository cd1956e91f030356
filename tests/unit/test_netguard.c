/* test_netguard.c: core/netguard.c, every refused block at its edges and the public
 * addresses beside them, in text and as the resolver gives them to a connect(). */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include "core/netguard.h"
#include "tests/unit/unit.h"

struct verdict {
	const char	*text;
	int		 want;	/* 1 public, 0 refused, -1 not an address */
};

static const struct verdict v4[] = {
	{ "8.8.8.8", 1 }, { "1.1.1.1", 1 },
	{ "0.0.0.0", 0 }, { "0.255.255.255", 0 }, { "1.0.0.0", 1 },
	{ "9.255.255.255", 1 }, { "10.0.0.0", 0 }, { "10.255.255.255", 0 }, { "11.0.0.0", 1 },
	{ "100.63.255.255", 1 }, { "100.64.0.0", 0 }, { "100.127.255.255", 0 },
	{ "100.128.0.0", 1 },
	{ "126.255.255.255", 1 }, { "127.0.0.0", 0 }, { "127.0.0.1", 0 },
	{ "127.255.255.255", 0 }, { "128.0.0.0", 1 },
	{ "169.253.255.255", 1 }, { "169.254.0.0", 0 }, { "169.254.169.254", 0 },
	{ "169.254.255.255", 0 }, { "169.255.0.0", 1 },
	{ "172.15.255.255", 1 }, { "172.16.0.0", 0 }, { "172.31.255.255", 0 }, { "172.32.0.0", 1 },
	{ "191.255.255.255", 1 }, { "192.0.0.0", 0 }, { "192.0.0.255", 0 }, { "192.0.1.0", 1 },
	{ "192.0.2.0", 0 }, { "192.0.2.255", 0 }, { "192.0.3.0", 1 },
	{ "192.88.98.255", 1 }, { "192.88.99.0", 0 }, { "192.88.99.255", 0 },
	{ "192.88.100.0", 1 },
	{ "192.167.255.255", 1 }, { "192.168.0.0", 0 }, { "192.168.255.255", 0 },
	{ "192.169.0.0", 1 },
	{ "198.17.255.255", 1 }, { "198.18.0.0", 0 }, { "198.19.255.255", 0 }, { "198.20.0.0", 1 },
	{ "198.51.99.255", 1 }, { "198.51.100.0", 0 }, { "198.51.100.255", 0 },
	{ "198.51.101.0", 1 },
	{ "203.0.112.255", 1 }, { "203.0.113.0", 0 }, { "203.0.113.255", 0 }, { "203.0.114.0", 1 },
	{ "223.255.255.255", 1 }, { "224.0.0.0", 0 }, { "239.255.255.255", 0 },
	{ "240.0.0.0", 0 }, { "255.255.255.254", 0 }, { "255.255.255.255", 0 },
	/* The numbers a resolver (and so curl) takes for IPv4 addresses. */
	{ "2130706433", 0 }, { "0177.0.0.1", 0 }, { "017700000001", 0 }, { "0x7f.1", 0 },
	{ "127.1", 0 }, { "0xa9fea9fe", 0 }, { "0", 0 }, { "134744072", 1 }, { "0x8.8.8.8", 1 },
};

static const struct verdict v6[] = {
	{ "2606:4700::1111", 1 }, { "2001:4860:4860::8888", 1 }, { "[2606:4700::1111]", 1 },
	{ "::", 0 }, { "::1", 0 }, { "[::1]", 0 }, { "::2", 0 },
	/* IPv4 inside IPv6: the IPv4 address is judged. */
	{ "::ffff:127.0.0.1", 0 }, { "::ffff:7f00:1", 0 }, { "::ffff:10.0.0.1", 0 },
	{ "::ffff:169.254.169.254", 0 }, { "::ffff:0.0.0.0", 0 }, { "::ffff:8.8.8.8", 1 },
	{ "::127.0.0.1", 0 }, { "::8.8.8.8", 1 },
	{ "::ffff:0:127.0.0.1", 0 }, { "::ffff:0:8.8.8.8", 1 },
	{ "64:ff9b::127.0.0.1", 0 }, { "64:ff9b::a9fe:a9fe", 0 }, { "64:ff9b::8.8.8.8", 1 },
	{ "64:ff9b:1::8.8.8.8", 0 },
	{ "2002:7f00:1::", 0 }, { "2002:a9fe:a9fe::1", 0 }, { "2002:c0a8:101::1", 0 },
	{ "2002:808:808::1", 1 },
	/* 2000::/3 and the blocks inside it that are not public. */
	{ "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0 }, { "2000::", 1 },
	{ "2001::", 0 }, { "2001:0:4136:e378::1", 0 },
	{ "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
	{ "2001:200::", 1 },
	{ "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", 1 }, { "2001:db8::", 0 },
	{ "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 0 }, { "2001:db9::", 1 },
	{ "3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1 }, { "3fff::", 0 },
	{ "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", 0 }, { "3fff:1000::", 1 },
	{ "3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1 }, { "4000::", 0 },
	{ "100::1", 0 },
	{ "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0 }, { "fc00::", 0 }, { "fd00:ec2::254", 0 },
	{ "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
	{ "fe80::", 0 }, { "fe80::1%lo", 0 }, { "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
	{ "fec0::1", 0 }, { "ff00::", 0 }, { "ff02::1", 0 },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
};

static const struct verdict names[] = {
	{ "localhost", -1 }, { "example.com", -1 }, { "", -1 }, { "deadbeef", -1 },
	{ "256.0.0.1", -1 }, { "1.2.3.4 x", -1 }, { "1.2.3.4.5", -1 }, { "[127.0.0.1]", -1 },
	{ "[", -1 }, { "[]", -1 }, { "::ffff:1.2.3", -1 }, { "1::2::3", -1 },
	{ "127.0.0.1.nip.io", -1 },
};

/* The verdict on the address getaddrinfo() makes of text, as curl would connect to it. */
static int
resolved_verdict(const char *text)
{
	struct addrinfo	 hints = { .ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_STREAM };
	struct addrinfo	*ai;
	char		 host[64];
	size_t		 n = strlen(text);
	int		 v;

	if (text[0] == '[') {
		snprintf(host, sizeof(host), "%.*s", (int)(n - 2), text + 1);
		text = host;
	}
	if (getaddrinfo(text, "80", &hints, &ai) != 0)
		return -2;
	v = netguard_addr_public(ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return v;
}

static void
check(const struct verdict *t, size_t n)
{
	char	 what[96];
	size_t	 i;

	for (i = 0; i < n; i++) {
		snprintf(what, sizeof(what), "netguard_text_public(\"%s\")", t[i].text);
		unit_assert_int(netguard_text_public(t[i].text), t[i].want, what, __FILE__,
		    __LINE__);
		if (t[i].want < 0)
			continue;
		snprintf(what, sizeof(what), "netguard_addr_public(%s)", t[i].text);
		unit_assert_int(resolved_verdict(t[i].text), t[i].want, what, __FILE__, __LINE__);
	}
}

static void
test_netguard_v4(void)
{
	check(v4, sizeof(v4) / sizeof(v4[0]));
}

static void
test_netguard_v6(void)
{
	check(v6, sizeof(v6) / sizeof(v6[0]));
}

static void
test_netguard_not_addresses(void)
{
	check(names, sizeof(names) / sizeof(names[0]));
	UNIT_ASSERT_INT(netguard_text_public(NULL), -1);
}

static void
test_netguard_sockaddr(void)
{
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	struct sockaddr_in6	 sin6 = { .sin6_family = AF_INET6 };
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX, .sun_path = "/run/x" };

	inet_pton(AF_INET, "8.8.8.8", &sin.sin_addr);
	UNIT_ASSERT_INT(netguard_addr_public((struct sockaddr *)&sin, sizeof(sin)), 1);
	/* Too short to hold the address it claims: refused, not read past its end. */
	UNIT_ASSERT_INT(netguard_addr_public((struct sockaddr *)&sin, sizeof(sin) - 1), 0);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	UNIT_ASSERT_INT(netguard_addr_public((struct sockaddr *)&sin, sizeof(sin)), 0);
	inet_pton(AF_INET6, "2606:4700::1111", &sin6.sin6_addr);
	UNIT_ASSERT_INT(netguard_addr_public((struct sockaddr *)&sin6, sizeof(sin6)), 1);
	UNIT_ASSERT_INT(netguard_addr_public((struct sockaddr *)&sin6, sizeof(sin)), 0);
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6.sin6_addr);
	UNIT_ASSERT_INT(netguard_addr_public((struct sockaddr *)&sin6, sizeof(sin6)), 0);
	UNIT_ASSERT_INT(netguard_addr_public((struct sockaddr *)&sun, sizeof(sun)), 0);
	UNIT_ASSERT_INT(netguard_addr_public(NULL, 0), 0);
}

void
suite_netguard(void)
{
	CU_pSuite s = unit_suite("netguard", NULL, NULL);

	unit_test(s, "IPv4: every refused block at its edges, and its public neighbours",
	    test_netguard_v4);
	unit_test(s, "IPv6: refused blocks, and IPv4 inside IPv6 judged as IPv4",
	    test_netguard_v6);
	unit_test(s, "names and malformed text are not addresses", test_netguard_not_addresses);
	unit_test(s, "sockaddrs: families and lengths", test_netguard_sockaddr);
}
