/* SPDX-License-Identifier: MIT */
/*
 * Which ports the local registry has entries on, so that the answer of any
 * other port needs no query: with 10,000 ports asked at random and a
 * registry that holds a few, the query was a sixth of an answer's time.
 *
 * The set is read with one query at a data generation, and serves while the
 * generation stays: an entry never appears without a write, and every write
 * moves the generation (rsapd's own, a reload, another process's commit seen
 * by rsapd_notice_store_changes()).  An entry that ends by itself (a lease's
 * TTL, a quarantine) leaves its port in the set, which only means a query
 * that finds nothing.  Built again at most every REBUILD_GAP_MS: between,
 * after a write, every port is asked about as before, so a burst of writes
 * (the port server's leases) never turns each answer into a read of the
 * whole registry.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rsap/time.h>
#include <rsap/workflow.h>

#include "rsapd.h"

#define REBUILD_GAP_MS 100

static struct {
        pthread_mutex_t lock;
        bool built;
        unsigned generation; /* the one it was read at */
        int64_t built_ms;
        uint64_t bits[65536 / 64];
} ports = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Under ports.lock: reads the set anew for generation; false when the store cannot. */
static bool rebuild(struct rsapd *d, unsigned generation)
{
        struct rsap_local_list all = { 0 };
        int r;

        pthread_mutex_lock(&d->store_lock);
        r = rsap_local_for_range(d->store, 0, 65535, &all);
        pthread_mutex_unlock(&d->store_lock);
        ports.built_ms = rsap_monotonic_ms();
        ports.built = r == 0;
        if (r < 0)
                return false;
        memset(ports.bits, 0, sizeof(ports.bits));
        for (size_t i = 0; i < all.n_entries; i++)
                if (all.entries[i].port >= 0 && all.entries[i].port <= 65535)
                        ports.bits[all.entries[i].port / 64] |= 1ull << (all.entries[i].port % 64);
        ports.generation = generation;
        rsap_local_list_clear(&all);
        return true;
}

bool rsapd_local_port_empty(struct rsapd *d, uint16_t port)
{
        unsigned generation;
        bool empty = false;

        if (!d->store)
                return false;
        /* The generation first, then the set read at it or before: never newer. */
        rsapd_notice_store_changes(d);
        generation = rsapd_generation(d);
        pthread_mutex_lock(&ports.lock);
        if ((ports.built && ports.generation == generation) ||
            (rsap_monotonic_ms() - ports.built_ms >= REBUILD_GAP_MS && rebuild(d, generation)))
                empty = !(ports.bits[port / 64] & (1ull << (port % 64)));
        pthread_mutex_unlock(&ports.lock);
        return empty;
}
