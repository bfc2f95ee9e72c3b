/* SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

#define CACHE_SLOTS 4096 /* at a few kB an answer, 16 MB at most */

struct cache_slot {
        pthread_mutex_t lock;
        char *path;
        unsigned generation;
        long long expires_ms;
        struct MHD_Response *resp;
        unsigned status;
        size_t len;
};

struct response_cache {
        struct cache_slot slots[CACHE_SLOTS];
};

struct response_cache *cache_new(void)
{
        struct response_cache *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        for (size_t i = 0; i < CACHE_SLOTS; i++)
                pthread_mutex_init(&c->slots[i].lock, NULL);
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
                pthread_mutex_destroy(&c->slots[i].lock);
        }
        free(c);
}

/* FNV-1a */
static struct cache_slot *slot_for(struct response_cache *c, const char *path)
{
        unsigned h = 2166136261u;

        for (const unsigned char *p = (const unsigned char *)path; *p; p++)
                h = (h ^ *p) * 16777619u;
        return &c->slots[h % CACHE_SLOTS];
}

bool cache_queue(struct response_cache *c, const char *path, unsigned generation,
                 long long now_ms, struct MHD_Connection *conn, enum MHD_Result *ret,
                 unsigned *status, size_t *len)
{
        struct cache_slot *slot = slot_for(c, path);
        bool hit;

        pthread_mutex_lock(&slot->lock);
        hit = slot->resp && slot->generation == generation && now_ms < slot->expires_ms &&
              strcmp(slot->path, path) == 0;
        if (hit) {
                /* Queued under the lock: an eviction cannot free it first. */
                *ret = MHD_queue_response(conn, slot->status, slot->resp);
                *status = slot->status;
                *len = slot->len;
        }
        pthread_mutex_unlock(&slot->lock);
        return hit;
}

void cache_store(struct response_cache *c, const char *path, unsigned generation,
                 long long expires_ms, struct MHD_Response *resp, unsigned status, size_t len)
{
        struct cache_slot *slot = slot_for(c, path);
        struct MHD_Response *old;
        char *copy = strdup(path), *old_path;

        if (!copy) {
                MHD_destroy_response(resp);
                return;
        }
        pthread_mutex_lock(&slot->lock);
        old = slot->resp;
        old_path = slot->path;
        slot->resp = resp;
        slot->path = copy;
        slot->generation = generation;
        slot->expires_ms = expires_ms;
        slot->status = status;
        slot->len = len;
        pthread_mutex_unlock(&slot->lock);
        if (old)
                MHD_destroy_response(old);
        free(old_path);
}
