/* cache.c: the memcached pool (sessions cache, rate limits, response cache). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libmemcached/memcached.h>

#include "core.h"

struct sb_cache {
	memcached_st	*mc;
};

struct sb_cache *
cache_open(const char *servers, int timeout_ms)
{
	memcached_server_list_st	 list;
	struct sb_cache			*c;

	if ((list = memcached_servers_parse(servers)) == NULL) {
		log_error("malformed memcached server list", "{s:s}", "servers", servers);
		return NULL;
	}
	c = sb_calloc(1, sizeof(*c));
	if ((c->mc = memcached_create(NULL)) == NULL)
		sb_oom(sizeof(memcached_st));
	memcached_server_push(c->mc, list);
	memcached_server_list_free(list);
	/* Consistent hashing: adding a server moves only its share of the keys. */
	memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_DISTRIBUTION, MEMCACHED_DISTRIBUTION_CONSISTENT);
	memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, (uint64_t)timeout_ms);
	memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, (uint64_t)timeout_ms);
	memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_RCV_TIMEOUT, (uint64_t)timeout_ms * 1000);
	memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_SND_TIMEOUT, (uint64_t)timeout_ms * 1000);
	memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
	/* A dead server is retried after a second, not on every request. */
	memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, 1);
	return c;
}

void
cache_close(struct sb_cache *c)
{
	if (c == NULL)
		return;
	memcached_free(c->mc);
	free(c);
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
