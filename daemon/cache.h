/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <microhttpd.h>

/*
 * Answers that depend on nothing but the data (a port, a service, the
 * ranges) are kept as libmicrohttpd response objects and queued again, so
 * the hot path builds no JSON.  MHD counts references to a response, so one
 * queued on a connection outlives its eviction here.
 *
 * An entry carries the versions of what it was made from, read before the
 * data: the data generation (rsapd_generation(): rsapd's writes, a reload,
 * another process's commit to the local registry), and for a port's answer
 * the version of that port's sockets (listeners_port_version()).  An entry
 * whose versions are not the current ones is never served, so no change is
 * missed however long it lives; what changes by itself (a lease's expiry, a
 * quarantine's end) ends it at that moment, and --cache-ttl bounds its life
 * besides.  A fixed table of slots, in sets of four named by the path's hash, and a
 * bound on the bytes held bound the memory.
 */
struct response_cache;

struct cache_version {
        unsigned generation; /* rsapd_generation() */
        unsigned sockets;    /* listeners_port_version() for a port's answer, else 0 */
};

struct response_cache *cache_new(void);
void cache_free(struct response_cache *c);
/*
 * Queues the cached answer for path, if one made at version v is there and
 * has not expired at now_ms (monotonic), and says so; fills its status and
 * length for the log.
 */
bool cache_queue(struct response_cache *c, const char *path, const struct cache_version *v,
                 long long now_ms, struct MHD_Connection *conn, enum MHD_Result *ret,
                 unsigned *status, size_t *len);
/* Takes over the caller's reference to resp, to serve until expires_ms (monotonic). */
void cache_store(struct response_cache *c, const char *path, const struct cache_version *v,
                 long long expires_ms, struct MHD_Response *resp, unsigned status, size_t len);
