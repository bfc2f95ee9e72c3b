/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The port server's bookkeeping, apart from its sockets so that it can be
 * tested alone: which port of the pool each client process holds.  Ports are
 * handed out round-robin, so a port just returned is the last to be reused
 * (a test that closed it may still have it in TIME_WAIT).
 */
struct pool_lease {
        uint16_t port;
        int pid;
        uint64_t start_time; /* the process's start, in clock ticks after boot */
};

struct port_pool {
        uint16_t low, high, next;
        struct pool_lease *leases;
        size_t count, capacity;
};

void pool_init(struct port_pool *p, uint16_t low, uint16_t high);
void pool_clear(struct port_pool *p);
/*
 * A port that no lease holds and usable() accepts (free on the host, not
 * assigned...), now leased to pid: 0, or -EAGAIN when none is left, -ENOMEM.
 */
int pool_grant(struct port_pool *p, int pid, uint64_t start_time,
               bool (*usable)(uint16_t port, void *ud), void *ud, uint16_t *out);
/* Ends every lease of pid; returns how many, writing at most max ports to released. */
size_t pool_release_pid(struct port_pool *p, int pid, uint16_t *released, size_t max);
/* Ends one lease: 0, or -ENOENT. */
int pool_release_port(struct port_pool *p, uint16_t port);
const struct pool_lease *pool_find(const struct port_pool *p, uint16_t port);
size_t pool_count_pid(const struct port_pool *p, int pid);
