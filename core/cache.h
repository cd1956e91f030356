/* cache.h: memcached through libmemcached: namespaced, hashed keys and sealed
 * values (memcached is disposable and unauthenticated).  Values read are
 * malloc'd copies the caller frees. */
#ifndef SB_CORE_CACHE_H
#define SB_CORE_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

struct sb_cache;

/* servers: "host:port[,host:port...]"; secret: memcached.secret, which seals every
 * value (see cache.c).  NULL on a malformed list (logged). */
struct sb_cache	*cache_open(const char *servers, int timeout_ms, const char *secret);
void		 cache_close(struct sb_cache *);
/* A round trip to every server: SB_OK or SB_ERR_UNAVAILABLE. */
enum sb_err	 cache_ping(struct sb_cache *);
/*
 * Items are named by a namespace, a short constant of the code ("sess", "key"), and
 * an id, any string, a client's bytes included: the key memcached sees is the
 * namespace and a hash of the id, never the id.  Values are opaque bytes, sealed
 * with a MAC bound to the key and the expiry; a value that fails its check reads
 * as absent.  cache_get returns SB_OK with a malloc'd, NUL-terminated copy in *val
 * (caller frees), SB_ERR_NOT_FOUND, or SB_ERR_UNAVAILABLE.  ttl_s 0: no expiry.
 */
enum sb_err	 cache_get(struct sb_cache *, const char *ns, const char *id, char **val,
		    size_t *len);
enum sb_err	 cache_set(struct sb_cache *, const char *ns, const char *id, const void *val,
		    size_t len, int ttl_s);
/* Stores only if absent: SB_OK, SB_ERR_CONFLICT if present, SB_ERR_UNAVAILABLE. */
enum sb_err	 cache_add(struct sb_cache *, const char *ns, const char *id, const void *val,
		    size_t len, int ttl_s);
enum sb_err	 cache_delete(struct sb_cache *, const char *ns, const char *id);
/* The memcached key of (ns, id): "ns:" and 64 hex digits; its length.  An invalid
 * namespace is a bug and aborts.  For code that talks to memcached itself. */
#define CACHE_NS_MAX	16
#define CACHE_KEY_MAX	(CACHE_NS_MAX + 1 + 64)
size_t		 cache_key(char buf[CACHE_KEY_MAX + 1], const char *ns, const char *id,
		    size_t idlen);
/* How many values read back failed their seal since cache_open. */
uint64_t	 cache_forged(const struct sb_cache *);
/* The libmemcached handle, for code in core/ that needs CAS (ratelimit.c). */
struct memcached_st *cache_handle(struct sb_cache *);
/* Is this memcached_return_t an I/O error worth one immediate retry (a connection
 * from before a memcached restart)?  Retry after cache_reconnect(), which swaps the
 * handle (cache_handle() changes) for a fresh one without connections or failure
 * state. */
int		 cache_io_error(int rc);
void		 cache_reconnect(struct sb_cache *);

#endif /* SB_CORE_CACHE_H */
