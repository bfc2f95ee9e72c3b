/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The port server's own bookkeeping, apart from its sockets so that it can
 * be tested alone: which ports it has leased to which client process, so
 * that it can return them when that process exits.  The leases themselves
 * live in the local registry (rsap_lease_take()).
 */
struct pool_lease {
        uint16_t port;
        int pid;
        unsigned uid; /* who asked for it: the per-uid limit counts these */
};

struct port_pool {
        struct pool_lease *leases;
        size_t count, capacity;
};

void pool_clear(struct port_pool *p);
/* Records that pid holds port: 0, -EEXIST when someone does already, -ENOMEM. */
int pool_add(struct port_pool *p, uint16_t port, int pid);
/* The same, counted against uid. */
int pool_add_for(struct port_pool *p, uint16_t port, int pid, unsigned uid);
/* Forgets every lease of pid; returns how many, writing at most max ports to released. */
size_t pool_release_pid(struct port_pool *p, int pid, uint16_t *released, size_t max);
const struct pool_lease *pool_find(const struct port_pool *p, uint16_t port);
size_t pool_count_pid(const struct port_pool *p, int pid);
size_t pool_count_uid(const struct port_pool *p, unsigned uid);
