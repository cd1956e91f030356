/* cache.c: the memcached pool (sessions cache, rate limits, response cache). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libmemcached/memcached.h>

#include "core.h"

struct sb_cache {
	memcached_st	*mc;		/* the handle operations use */
	memcached_st	*pristine;	/* never used for I/O: cloned to start afresh */
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
cache_open(const char *servers, int timeout_ms)
{
	struct sb_cache *c;

	c = sb_calloc(1, sizeof(*c));
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
	free(c);
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
cache_get(struct sb_cache *c, const char *key, char **val, size_t *len)
{
	memcached_return_t	 rc;
	uint32_t		 flags;
	char			*v;

	*val = NULL;
	*len = 0;
	if (c == NULL)
		return SB_ERR_UNAVAILABLE;
	v = memcached_get(c->mc, key, strlen(key), len, &flags, &rc);
	if (v == NULL && cache_io_error(rc)) {
		cache_reconnect(c);
		v = memcached_get(c->mc, key, strlen(key), len, &flags, &rc);
	}
	if (v == NULL)
		return cache_err(rc == MEMCACHED_SUCCESS ? MEMCACHED_NOTFOUND : rc, "get", key);
	*val = v;
	return SB_OK;
}

enum sb_err
cache_set(struct sb_cache *c, const char *key, const void *val, size_t len, int ttl_s)
{
	memcached_return_t rc;

	if (c == NULL)
		return SB_ERR_UNAVAILABLE;
	WITH_RETRY(c, rc, memcached_set(c->mc, key, strlen(key), val, len, (time_t)ttl_s, 0));
	return cache_err(rc, "set", key);
}

enum sb_err
cache_add(struct sb_cache *c, const char *key, const void *val, size_t len, int ttl_s)
{
	memcached_return_t rc;

	if (c == NULL)
		return SB_ERR_UNAVAILABLE;
	WITH_RETRY(c, rc, memcached_add(c->mc, key, strlen(key), val, len, (time_t)ttl_s, 0));
	return cache_err(rc, "add", key);
}

enum sb_err
cache_delete(struct sb_cache *c, const char *key)
{
	memcached_return_t	 rc;
	enum sb_err		 err;

	if (c == NULL)
		return SB_ERR_UNAVAILABLE;
	WITH_RETRY(c, rc, memcached_delete(c->mc, key, strlen(key), 0));
	err = cache_err(rc, "delete", key);
	return err == SB_ERR_NOT_FOUND ? SB_OK : err;
}
