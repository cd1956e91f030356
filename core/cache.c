/* cache.c: the memcached pool (sessions cache, rate limits, response cache). */
#include "config.h"

#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include <libmemcached/memcached.h>
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/cache.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"

/*
 * memcached has no authentication, and on shared hosting other programs may reach
 * it.  So nothing read back is trusted for what it says:
 *
 * - Keys never carry a caller's bytes.  Every key is "NS:" and the hex BLAKE2b-256
 *   of the caller's id (cache_key), NS being a short constant of the code.  No id,
 *   whatever bytes it holds, can reach the text protocol or name another's item.
 * - Every value is sealed: a MAC under the configured memcached.secret, bound to
 *   the key it was stored under and to an expiry time, over the value's bytes.
 *   A value that does not verify (forged, copied to another key, replayed after it
 *   expired) is a miss.  Stored: tag[32] | expires_at (8 bytes, big-endian Unix
 *   seconds, 0: never) | the value.
 */

#define TAG_LEN		crypto_generichash_BYTES	/* 32 */
#define SEAL_LEN	(TAG_LEN + 8)

struct sb_cache {
	memcached_st	*mc;		/* the handle operations use */
	memcached_st	*pristine;	/* never used for I/O: cloned to start afresh */
	unsigned char	 mac_key[crypto_generichash_KEYBYTES];
	uint64_t	 forged;	/* values that failed their check */
};

/* Adds "host:port", "host" (port 11211) or "/path/to/socket" entries, comma-separated.
 * A unix socket is the cheaper way to a memcached on the same host. */
static int
add_servers(memcached_st *mc, const char *servers)
{
	char		 entry[512], *colon, *end;
	const char	*p = servers, *e;
	long		 port;
	size_t		 n;
	int		 count = 0;

	while (*p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		for (e = p; *e != '\0' && *e != ',' && *e != ' '; e++)
			;
		if ((n = (size_t)(e - p)) == 0)
			break;
		if (n >= sizeof(entry))
			return -1;
		memcpy(entry, p, n);
		entry[n] = '\0';
		p = e;
		if (entry[0] == '/') {
			if (memcached_server_add_unix_socket(mc, entry) != MEMCACHED_SUCCESS)
				return -1;
		} else {
			port = 11211;
			if ((colon = strrchr(entry, ':')) != NULL) {
				*colon = '\0';
				port = strtol(colon + 1, &end, 10);
				if (*end != '\0' || port < 1 || port > 65535)
					return -1;
			}
			if (entry[0] == '\0' ||
			    memcached_server_add(mc, entry, (in_port_t)port) != MEMCACHED_SUCCESS)
				return -1;
		}
		count++;
	}
	return count > 0 ? 0 : -1;
}

struct sb_cache *
cache_open(const char *servers, int timeout_ms, const char *secret)
{
	struct sb_cache *c;

	if (sodium_init() < 0)
		return NULL;
	c = sb_calloc(1, sizeof(*c));
	/* The MAC key is derived, so a secret of any length gives a full-size key. */
	crypto_generichash(c->mac_key, sizeof(c->mac_key), (const unsigned char *)secret,
	    strlen(secret), (const unsigned char *)"switchboard cache v1", 20);
	if ((c->mc = memcached_create(NULL)) == NULL)
		sb_oom(sizeof(memcached_st));
	if (add_servers(c->mc, servers) < 0) {
		log_error("malformed memcached server list", "{s:s}", "servers", servers);
		memcached_free(c->mc);
		free(c);
		return NULL;
	}
	/* Consistent hashing: adding a server moves only its share of the keys. */
	memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_DISTRIBUTION, MEMCACHED_DISTRIBUTION_CONSISTENT);
	memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, (uint64_t)timeout_ms);
	memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, (uint64_t)timeout_ms);
	memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_RCV_TIMEOUT, (uint64_t)timeout_ms * 1000);
	memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_SND_TIMEOUT, (uint64_t)timeout_ms * 1000);
	memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
	memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_SUPPORT_CAS, 1);	/* gets for ratelimit.c */
	/* A second guard: libmemcached refuses a key with spaces or control bytes. */
	memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_VERIFY_KEY, 1);
	/* After an I/O error the handle is replaced by a clone of this one (see
	 * cache_reconnect), so libmemcached's own failure bookkeeping never keeps a
	 * restarted memcached out of use. */
	if ((c->pristine = memcached_clone(NULL, c->mc)) == NULL)
		sb_oom(sizeof(memcached_st));
	return c;
}

void
cache_close(struct sb_cache *c)
{
	if (c == NULL)
		return;
	memcached_free(c->mc);
	memcached_free(c->pristine);
	sodium_memzero(c->mac_key, sizeof(c->mac_key));
	free(c);
}

uint64_t
cache_forged(const struct sb_cache *c)
{
	return c != NULL ? c->forged : 0;
}

/* A namespace is a short constant of the code: lower-case letters, digits, '-'. */
static int
ns_valid(const char *ns)
{
	size_t i, n = strlen(ns);

	if (n == 0 || n > CACHE_NS_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((ns[i] >= 'a' && ns[i] <= 'z') || (ns[i] >= '0' && ns[i] <= '9') ||
		    ns[i] == '-'))
			return 0;
	return 1;
}

size_t
cache_key(char buf[CACHE_KEY_MAX + 1], const char *ns, const char *id, size_t idlen)
{
	unsigned char	 h[32];
	size_t		 n;

	if (!ns_valid(ns)) {
		/* A bug in the caller, never input: no key names anything. */
		log_error("invalid cache namespace", "{s:s}", "ns", ns);
		abort();
	}
	crypto_generichash(h, sizeof(h), (const unsigned char *)id, idlen, NULL, 0);
	n = strlen(ns);
	memcpy(buf, ns, n);
	buf[n++] = ':';
	sodium_bin2hex(buf + n, CACHE_KEY_MAX + 1 - n, h, sizeof(h));
	return n + 2 * sizeof(h);
}

static void
seal_tag(const struct sb_cache *c, unsigned char tag[TAG_LEN], const char *key, size_t klen,
    const unsigned char exp[8], const void *val, size_t len)
{
	crypto_generichash_state	 st;
	unsigned char			 kl = (unsigned char)klen;

	crypto_generichash_init(&st, c->mac_key, sizeof(c->mac_key), TAG_LEN);
	crypto_generichash_update(&st, &kl, 1);
	crypto_generichash_update(&st, (const unsigned char *)key, klen);
	crypto_generichash_update(&st, exp, 8);
	crypto_generichash_update(&st, val, len);
	crypto_generichash_final(&st, tag, TAG_LEN);
}

/* The sealed form of val: a malloc'd buffer of len + SEAL_LEN bytes. */
static unsigned char *
seal(const struct sb_cache *c, const char *key, size_t klen, const void *val, size_t len,
    int ttl_s)
{
	unsigned char	*b = sb_malloc(len + SEAL_LEN);
	uint64_t	 exp = ttl_s > 0 ? (uint64_t)(clock_real_ms() / 1000) + (uint64_t)ttl_s : 0;
	int		 i;

	for (i = 0; i < 8; i++)
		b[TAG_LEN + i] = (unsigned char)(exp >> (56 - 8 * i));
	memcpy(b + SEAL_LEN, val, len);
	seal_tag(c, b, key, klen, b + TAG_LEN, val, len);
	return b;
}

/* Checks a sealed value in place: the length of its value (which starts at
 * b + SEAL_LEN), or -1 when it is not one this cache stored under key. */
static ssize_t
unseal(struct sb_cache *c, const char *key, size_t klen, const unsigned char *b, size_t len)
{
	unsigned char	 tag[TAG_LEN];
	uint64_t	 exp = 0;
	int		 i;

	if (len < SEAL_LEN)
		goto forged;
	seal_tag(c, tag, key, klen, b + TAG_LEN, b + SEAL_LEN, len - SEAL_LEN);
	if (crypto_verify_32(tag, b) != 0)
		goto forged;
	for (i = 0; i < 8; i++)
		exp = exp << 8 | b[TAG_LEN + i];
	/* Expired by its own clock: a stored copy put back later is refused. */
	if (exp != 0 && exp < (uint64_t)(clock_real_ms() / 1000))
		goto forged;
	return (ssize_t)(len - SEAL_LEN);
forged:
	c->forged++;
	log_warn("memcached value refused: it does not carry a valid seal", "{s:s}", "key", key);
	return -1;
}

void
cache_reconnect(struct sb_cache *c)
{
	memcached_st *fresh = memcached_clone(NULL, c->pristine);

	if (fresh == NULL)
		sb_oom(sizeof(memcached_st));
	memcached_free(c->mc);
	c->mc = fresh;
}

enum sb_err
cache_ping(struct sb_cache *c)
{
	memcached_st		*probe;
	memcached_return_t	 rc;

	if (c == NULL)
		return SB_ERR_UNAVAILABLE;
	/* memcached_version() skips servers whose version it already knows, so it
	 * cannot tell that one went away: ask from a fresh clone, which knows none
	 * and keeps our timeouts. */
	if ((probe = memcached_clone(NULL, c->mc)) == NULL)
		sb_oom(sizeof(memcached_st));
	rc = memcached_version(probe);
	memcached_free(probe);
	if (rc != MEMCACHED_SUCCESS) {
		log_warn("memcached unreachable", "{s:s}", "error", memcached_strerror(NULL, rc));
		return SB_ERR_UNAVAILABLE;
	}
	return SB_OK;
}

memcached_st *
cache_handle(struct sb_cache *c)
{
	return c->mc;
}

int
cache_io_error(int rc)
{
	switch ((memcached_return_t)rc) {
	case MEMCACHED_CONNECTION_FAILURE:
	case MEMCACHED_WRITE_FAILURE:
	case MEMCACHED_READ_FAILURE:
	case MEMCACHED_UNKNOWN_READ_FAILURE:
	case MEMCACHED_ERRNO:
	case MEMCACHED_SERVER_TEMPORARILY_DISABLED:
		return 1;
	default:
		return 0;
	}
}

/* Runs op once more, on a fresh handle, after an I/O error: the connection may
 * date from before a memcached restart. */
#define WITH_RETRY(c, rc, op) do {				\
	(rc) = (op);						\
	if (cache_io_error(rc)) {				\
		cache_reconnect(c);				\
		(rc) = (op);					\
	}							\
} while (0)

/* The one place memcached's many return codes become ours. */
static enum sb_err
cache_err(memcached_return_t rc, const char *op, const char *key)
{
	switch (rc) {
	case MEMCACHED_SUCCESS:
	case MEMCACHED_STORED:
	case MEMCACHED_DELETED:
		return SB_OK;
	case MEMCACHED_NOTFOUND:
		return SB_ERR_NOT_FOUND;
	case MEMCACHED_NOTSTORED:
	case MEMCACHED_DATA_EXISTS:
		return SB_ERR_CONFLICT;
	default:
		log_warn("memcached operation failed", "{s:s, s:s, s:s}", "op", op, "key", key,
		    "error", memcached_strerror(NULL, rc));
		return SB_ERR_UNAVAILABLE;
	}
}

enum sb_err
cache_get(struct sb_cache *c, const char *ns, const char *id, char **val, size_t *len)
{
	memcached_return_t	 rc;
	uint32_t		 flags;
	char			*v, key[CACHE_KEY_MAX + 1];
	size_t			 klen, vlen;
	ssize_t			 n;

	*val = NULL;
	*len = 0;
	if (c == NULL)
		return SB_ERR_UNAVAILABLE;
	klen = cache_key(key, ns, id, strlen(id));
	v = memcached_get(c->mc, key, klen, &vlen, &flags, &rc);
	if (v == NULL && cache_io_error(rc)) {
		cache_reconnect(c);
		v = memcached_get(c->mc, key, klen, &vlen, &flags, &rc);
	}
	if (v == NULL)
		return cache_err(rc == MEMCACHED_SUCCESS ? MEMCACHED_NOTFOUND : rc, "get", key);
	if ((n = unseal(c, key, klen, (unsigned char *)v, vlen)) < 0) {
		free(v);
		return SB_ERR_NOT_FOUND;
	}
	/* The value moves to the front, NUL-terminated for callers that read text. */
	memmove(v, v + SEAL_LEN, (size_t)n);
	v[n] = '\0';
	*val = v;
	*len = (size_t)n;
	return SB_OK;
}

/* set or add (add: only if absent). */
static enum sb_err
cache_store(struct sb_cache *c, int add, const char *ns, const char *id, const void *val,
    size_t len, int ttl_s)
{
	memcached_return_t	 rc;
	char			 key[CACHE_KEY_MAX + 1];
	size_t			 klen;
	unsigned char		*b;

	if (c == NULL)
		return SB_ERR_UNAVAILABLE;
	klen = cache_key(key, ns, id, strlen(id));
	b = seal(c, key, klen, val, len, ttl_s);
	if (add)
		WITH_RETRY(c, rc, memcached_add(c->mc, key, klen, (char *)b, len + SEAL_LEN,
		    (time_t)ttl_s, 0));
	else
		WITH_RETRY(c, rc, memcached_set(c->mc, key, klen, (char *)b, len + SEAL_LEN,
		    (time_t)ttl_s, 0));
	free(b);
	return cache_err(rc, add ? "add" : "set", key);
}

enum sb_err
cache_set(struct sb_cache *c, const char *ns, const char *id, const void *val, size_t len,
    int ttl_s)
{
	return cache_store(c, 0, ns, id, val, len, ttl_s);
}

enum sb_err
cache_add(struct sb_cache *c, const char *ns, const char *id, const void *val, size_t len,
    int ttl_s)
{
	return cache_store(c, 1, ns, id, val, len, ttl_s);
}

enum sb_err
cache_delete(struct sb_cache *c, const char *ns, const char *id)
{
	memcached_return_t	 rc;
	enum sb_err		 err;
	char			 key[CACHE_KEY_MAX + 1];
	size_t			 klen;

	if (c == NULL)
		return SB_ERR_UNAVAILABLE;
	klen = cache_key(key, ns, id, strlen(id));
	WITH_RETRY(c, rc, memcached_delete(c->mc, key, klen, 0));
	err = cache_err(rc, "delete", key);
	return err == SB_ERR_NOT_FOUND ? SB_OK : err;
}
