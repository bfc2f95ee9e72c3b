/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "pool.h"

void pool_init(struct port_pool *p, uint16_t low, uint16_t high)
{
        *p = (struct port_pool){ .low = low, .high = high, .next = low };
}

void pool_clear(struct port_pool *p)
{
        free(p->leases);
        *p = (struct port_pool){ 0 };
}

const struct pool_lease *pool_find(const struct port_pool *p, uint16_t port)
{
        for (size_t i = 0; i < p->count; i++)
                if (p->leases[i].port == port)
                        return &p->leases[i];
        return NULL;
}

static int add_lease(struct port_pool *p, uint16_t port, int pid, uint64_t start_time)
{
        if (p->count == p->capacity) {
                size_t cap = p->capacity ? p->capacity * 2 : 16;
                struct pool_lease *l = realloc(p->leases, cap * sizeof(*l));

                if (!l)
                        return -ENOMEM;
                p->leases = l;
                p->capacity = cap;
        }
        p->leases[p->count++] = (struct pool_lease){ port, pid, start_time };
        return 0;
}

int pool_grant(struct port_pool *p, int pid, uint64_t start_time,
               bool (*usable)(uint16_t port, void *ud), void *ud, uint16_t *out)
{
        uint32_t size = (uint32_t)p->high - p->low + 1;

        if (p->high < p->low)
                return -EAGAIN;
        for (uint32_t tried = 0; tried < size; tried++) {
                uint16_t port = p->next;

                p->next = port == p->high ? p->low : (uint16_t)(port + 1);
                if (pool_find(p, port) || (usable && !usable(port, ud)))
                        continue;
                if (add_lease(p, port, pid, start_time) < 0)
                        return -ENOMEM;
                *out = port;
                return 0;
        }
        return -EAGAIN;
}

static void remove_at(struct port_pool *p, size_t i)
{
        p->leases[i] = p->leases[--p->count];
}

size_t pool_release_pid(struct port_pool *p, int pid, uint16_t *released, size_t max)
{
        size_t n = 0;

        for (size_t i = 0; i < p->count;) {
                if (p->leases[i].pid != pid) {
                        i++;
                        continue;
                }
                if (released && n < max)
                        released[n] = p->leases[i].port;
                n++;
                remove_at(p, i);
        }
        return n;
}

int pool_release_port(struct port_pool *p, uint16_t port)
{
        for (size_t i = 0; i < p->count; i++) {
                if (p->leases[i].port == port) {
                        remove_at(p, i);
                        return 0;
                }
        }
        return -ENOENT;
}

size_t pool_count_pid(const struct port_pool *p, int pid)
{
        size_t n = 0;

        for (size_t i = 0; i < p->count; i++)
                n += p->leases[i].pid == pid;
        return n;
}
