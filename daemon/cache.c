/* SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

/* Sets of CACHE_WAYS slots, the path's hash naming the set: 10,000 ports
 * drawn at random all fit (direct-mapped, one in fourteen shared a slot and
 * was made anew on every other request).  The slots are 3 MiB, calloc'ed,
 * so untouched pages cost nothing. */
#define CACHE_WAYS 4
#define CACHE_SETS 16384
#define CACHE_SLOTS (CACHE_WAYS * CACHE_SETS)
/* Sets share locks: one each would be 640 KiB of mutexes. */
#define CACHE_LOCKS 256
/* The answers' bytes held at most (a port's answer is 1-4 KiB). */
#define CACHE_BYTES (48u << 20)

struct cache_slot {
        char *path;
        struct cache_version version;
        long long expires_ms;
        struct MHD_Response *resp;
        unsigned status;
        size_t len;
};

struct response_cache {
        pthread_mutex_t locks[CACHE_LOCKS];
        atomic_size_t bytes; /* the len of every slot's answer */
        struct cache_slot slots[CACHE_SLOTS];
};

struct response_cache *cache_new(void)
{
        struct response_cache *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        for (size_t i = 0; i < CACHE_LOCKS; i++)
                pthread_mutex_init(&c->locks[i], NULL);
        return c;
}

void cache_free(struct response_cache *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < CACHE_SLOTS; i++) {
                if (c->slots[i].resp)
                        MHD_destroy_response(c->slots[i].resp);
                free(c->slots[i].path);
        }
        for (size_t i = 0; i < CACHE_LOCKS; i++)
                pthread_mutex_destroy(&c->locks[i]);
        free(c);
}

/* FNV-1a */
static size_t set_of(const char *path)
{
        unsigned h = 2166136261u;

        for (const unsigned char *p = (const unsigned char *)path; *p; p++)
                h = (h ^ *p) * 16777619u;
        return h % CACHE_SETS;
}

static pthread_mutex_t *lock_of(struct response_cache *c, size_t set)
{
        return &c->locks[set % CACHE_LOCKS];
}

static bool same_version(const struct cache_version *a, const struct cache_version *b)
{
        return a->generation == b->generation && a->sockets == b->sockets;
}

static bool serves(const struct cache_slot *slot, const char *path, const struct cache_version *v,
                   long long now_ms)
{
        return slot->resp && same_version(&slot->version, v) && now_ms < slot->expires_ms &&
               strcmp(slot->path, path) == 0;
}

bool cache_queue(struct response_cache *c, const char *path, const struct cache_version *v,
                 long long now_ms, struct MHD_Connection *conn, enum MHD_Result *ret,
                 unsigned *status, size_t *len)
{
        size_t set = set_of(path);
        struct cache_slot *ways = &c->slots[set * CACHE_WAYS];
        bool hit = false;

        pthread_mutex_lock(lock_of(c, set));
        for (size_t w = 0; !hit && w < CACHE_WAYS; w++) {
                hit = serves(&ways[w], path, v, now_ms);
                if (hit) {
                        /* Queued under the lock: an eviction cannot free it first. */
                        *ret = MHD_queue_response(conn, ways[w].status, ways[w].resp);
                        *status = ways[w].status;
                        *len = ways[w].len;
                }
        }
        pthread_mutex_unlock(lock_of(c, set));
        return hit;
}

/* The slot of a set to store path in: path's own, else an empty one, else
 * the one that expires first (a stale one has no better claim: its versions
 * are behind, but it might be the only answer of a busy path). */
static struct cache_slot *way_for(struct cache_slot *ways, const char *path)
{
        struct cache_slot *pick = &ways[0];

        for (size_t w = 0; w < CACHE_WAYS; w++) {
                if (!ways[w].resp || strcmp(ways[w].path, path) == 0)
                        return &ways[w];
                if (ways[w].expires_ms < pick->expires_ms)
                        pick = &ways[w];
        }
        return pick;
}

void cache_store(struct response_cache *c, const char *path, const struct cache_version *v,
                 long long expires_ms, struct MHD_Response *resp, unsigned status, size_t len)
{
        size_t set = set_of(path);
        struct cache_slot *slot;
        struct MHD_Response *old;
        char *copy = strdup(path), *old_path;

        if (!copy) {
                MHD_destroy_response(resp);
                return;
        }
        pthread_mutex_lock(lock_of(c, set));
        slot = way_for(&c->slots[set * CACHE_WAYS], path);
        if (atomic_load(&c->bytes) - slot->len + len > CACHE_BYTES) {
                pthread_mutex_unlock(lock_of(c, set)); /* full: this one is not kept */
                MHD_destroy_response(resp);
                free(copy);
                return;
        }
        atomic_fetch_add(&c->bytes, len);
        atomic_fetch_sub(&c->bytes, slot->len);
        old = slot->resp;
        old_path = slot->path;
        *slot = (struct cache_slot){ .path = copy, .version = *v, .expires_ms = expires_ms,
                                     .resp = resp, .status = status, .len = len };
        pthread_mutex_unlock(lock_of(c, set));
        if (old)
                MHD_destroy_response(old);
        free(old_path);
}
