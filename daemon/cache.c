/* SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

/* Every port's answer has a slot of its own more often than not (10,000
 * ports drawn at random share few); the slots are 3 MiB, calloc'ed, so
 * untouched pages cost nothing. */
#define CACHE_SLOTS 65536
/* Slots share locks: one each would be 2.5 MiB of mutexes. */
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
static size_t slot_index(const char *path)
{
        unsigned h = 2166136261u;

        for (const unsigned char *p = (const unsigned char *)path; *p; p++)
                h = (h ^ *p) * 16777619u;
        return h % CACHE_SLOTS;
}

static pthread_mutex_t *lock_of(struct response_cache *c, size_t index)
{
        return &c->locks[index % CACHE_LOCKS];
}

static bool same_version(const struct cache_version *a, const struct cache_version *b)
{
        return a->generation == b->generation && a->sockets == b->sockets;
}

bool cache_queue(struct response_cache *c, const char *path, const struct cache_version *v,
                 long long now_ms, struct MHD_Connection *conn, enum MHD_Result *ret,
                 unsigned *status, size_t *len)
{
        size_t i = slot_index(path);
        struct cache_slot *slot = &c->slots[i];
        bool hit;

        pthread_mutex_lock(lock_of(c, i));
        hit = slot->resp && same_version(&slot->version, v) && now_ms < slot->expires_ms &&
              strcmp(slot->path, path) == 0;
        if (hit) {
                /* Queued under the lock: an eviction cannot free it first. */
                *ret = MHD_queue_response(conn, slot->status, slot->resp);
                *status = slot->status;
                *len = slot->len;
        }
        pthread_mutex_unlock(lock_of(c, i));
        return hit;
}

void cache_store(struct response_cache *c, const char *path, const struct cache_version *v,
                 long long expires_ms, struct MHD_Response *resp, unsigned status, size_t len)
{
        size_t i = slot_index(path);
        struct cache_slot *slot = &c->slots[i];
        struct MHD_Response *old;
        char *copy = strdup(path), *old_path;

        if (!copy) {
                MHD_destroy_response(resp);
                return;
        }
        pthread_mutex_lock(lock_of(c, i));
        if (atomic_load(&c->bytes) - slot->len + len > CACHE_BYTES) {
                pthread_mutex_unlock(lock_of(c, i)); /* full: this one is not kept */
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
        pthread_mutex_unlock(lock_of(c, i));
        if (old)
                MHD_destroy_response(old);
        free(old_path);
}
