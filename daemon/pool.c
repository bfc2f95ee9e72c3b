/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include <rsap/basic.h>

#include "pool.h"

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

int pool_add(struct port_pool *p, uint16_t port, int pid)
{
        return pool_add_for(p, port, pid, (unsigned)-1);
}

int pool_add_for(struct port_pool *p, uint16_t port, int pid, unsigned uid)
{
        if (pool_find(p, port))
                return -EEXIST;
        if (rsap_grow(&p->leases, &p->capacity, p->count + 1, sizeof(*p->leases)) < 0)
                return -ENOMEM;
        p->leases[p->count++] = (struct pool_lease){ port, pid, uid };
        return 0;
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
                p->leases[i] = p->leases[--p->count];
        }
        return n;
}

size_t pool_count_pid(const struct port_pool *p, int pid)
{
        size_t n = 0;

        for (size_t i = 0; i < p->count; i++)
                n += p->leases[i].pid == pid;
        return n;
}

size_t pool_count_uid(const struct port_pool *p, unsigned uid)
{
        size_t n = 0;

        for (size_t i = 0; i < p->count; i++)
                n += p->leases[i].uid == uid;
        return n;
}
