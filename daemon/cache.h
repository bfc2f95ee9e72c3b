/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <microhttpd.h>

/*
 * Answers that depend on nothing but the data (a port, a service, the
 * ranges) are kept as libmicrohttpd response objects and queued again, so
 * the hot path builds no JSON.  MHD counts references to a response, so one
 * queued on a connection outlives its eviction here.  Entries carry the data
 * generation they were made from (rsapd_generation()): any change to the data
 * bumps it, and older entries are then never served.  Answers also show
 * live state (the sockets on a port, the local registry as other processes
 * change it), so an entry serves for a short time only (--cache-ttl).  A
 * fixed table of
 * slots, direct-mapped by the path's hash, bounds the memory.
 */
struct response_cache;

struct response_cache *cache_new(void);
void cache_free(struct response_cache *c);
/*
 * Queues the cached answer for path, if one from generation is there, and
 * says so; fills its status and length for the log.
 */
bool cache_queue(struct response_cache *c, const char *path, unsigned generation,
                 long long now_ms, struct MHD_Connection *conn, enum MHD_Result *ret,
                 unsigned *status, size_t *len);
/* Takes over the caller's reference to resp, to serve until expires_ms. */
void cache_store(struct response_cache *c, const char *path, unsigned generation,
                 long long expires_ms, struct MHD_Response *resp, unsigned status, size_t len);
