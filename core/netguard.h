/* netguard.h: which addresses a fetch made on someone else's behalf (a URL a model
 * chose) may connect to: public unicast ones only, so that it cannot reach this host,
 * the local network or the cloud's metadata service (server-side request forgery).
 *
 * The check is on addresses, never on names: a name is only known to be safe once it
 * has resolved, so core/fetch.c asks here about each address it is about to connect
 * to (struct fetch_opts.guard).  Nothing here allocates, resolves or logs. */
#ifndef SB_CORE_NETGUARD_H
#define SB_CORE_NETGUARD_H

#include <sys/socket.h>

/* 1 if a guarded fetch may connect to this address: a public unicast address.  0 for
 * loopback, unspecified, private (RFC 1918), carrier-grade NAT (100.64/10),
 * link-local (169.254/16 incl. the cloud metadata 169.254.169.254, fe80::/10), unique
 * local (fc00::/7, covers fd00:ec2::254), multicast, broadcast, reserved (0/8,
 * 240/4, 192.0.0/24, 198.18/15, documentation ranges), and IPv4-mapped / NAT64 /
 * 6to4 / IPv4-compatible IPv6 forms of any of those (check the embedded v4).
 * IPv6 outside 2000::/3 (the only global unicast IANA allocates) is refused whole,
 * and so are Teredo (2001::/32), the rest of 2001::/23 and the local-use NAT64
 * prefix 64:ff9b:1::/48.  0 too for any other family (AF_UNIX) or a short len. */
int	netguard_addr_public(const struct sockaddr *, socklen_t);
/* The same for a textual address ("10.0.0.1", "::ffff:127.0.0.1", "[::1]"), and the
 * forms of IPv4 that resolvers take as numbers ("2130706433", "0177.0.0.1",
 * "0x7f.1"): -1 if not an address (a name, which only resolving can judge). */
int	netguard_text_public(const char *);

#endif /* SB_CORE_NETGUARD_H */
