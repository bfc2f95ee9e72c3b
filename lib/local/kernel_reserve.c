/* SPDX-License-Identifier: MIT */
/*
 * net.ipv4.ip_local_reserved_ports: ports the kernel never hands out as
 * ephemeral source ports (it applies to IPv6 too).  kernel-reserve merges
 * the locally assigned ports into it, keeping what is already there, so
 * outgoing connections cannot take a port a service is assigned.  The
 * sysctl is per network namespace.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "workflow_internal.h"

/* ---- port sets -------------------------------------------------------------------- */

void rsap_port_set_add(struct rsap_port_set *set, uint16_t port)
{
        set->words[port / 64] |= 1ULL << (port % 64);
}

bool rsap_port_set_has(const struct rsap_port_set *set, uint16_t port)
{
        return set->words[port / 64] & (1ULL << (port % 64));
}

size_t rsap_port_set_count(const struct rsap_port_set *set)
{
        size_t n = 0;

        for (size_t i = 0; i < ARRAY_SIZE(set->words); i++)
                n += (size_t)__builtin_popcountll(set->words[i]);
        return n;
}

static int parse_number(const char **p, unsigned *out)
{
        char *end;
        unsigned long value;

        if (!isdigit((unsigned char)**p))
                return -EINVAL;
        errno = 0;
        value = strtoul(*p, &end, 10);
        if (errno || value > UINT16_MAX)
                return -EINVAL;
        *out = (unsigned)value;
        *p = end;
        return 0;
}

int rsap_port_set_parse(const char *text, struct rsap_port_set *out)
{
        const char *p = text + strspn(text, " \t");

        memset(out, 0, sizeof(*out));
        while (*p && *p != '\n') {
                unsigned low, high;

                if (parse_number(&p, &low) < 0)
                        return -EINVAL;
                high = low;
                if (*p == '-') {
                        p++;
                        if (parse_number(&p, &high) < 0 || high < low)
                                return -EINVAL;
                }
                for (unsigned port = low; port <= high; port++)
                        rsap_port_set_add(out, (uint16_t)port);
                if (*p == ',')
                        p++;
                else if (*p && *p != '\n')
                        return -EINVAL;
        }
        return 0;
}

int rsap_port_set_format(const struct rsap_port_set *set, char *buf, size_t size)
{
        size_t used = 0;

        if (size == 0)
                return -ENOSPC;
        buf[0] = '\0';
        for (uint32_t port = 0; port <= UINT16_MAX; port++) {
                uint32_t end = port;
                int n;

                if (!rsap_port_set_has(set, (uint16_t)port))
                        continue;
                while (end < UINT16_MAX && rsap_port_set_has(set, (uint16_t)(end + 1)))
                        end++;
                n = end == port ? snprintf(buf + used, size - used, "%s%u", used ? "," : "", port)
                                : snprintf(buf + used, size - used, "%s%u-%u", used ? "," : "",
                                           port, end);
                if (n < 0 || (size_t)n >= size - used)
                        return -ENOSPC;
                used += (size_t)n;
                port = end;
        }
        return 0;
}

/* ---- the plan ---------------------------------------------------------------------- */

/* The longest list: every other port, "0,2,4,...": under 400 KiB. */
#define PORT_LIST_SIZE (400 * 1024)

static int read_reserved(const char *path, struct rsap_port_set *set, char **text_out)
{
        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        char *text = malloc(PORT_LIST_SIZE);
        size_t n;

        if (!text)
                return -ENOMEM;
        if (!f) {
                free(text);
                return -errno;
        }
        n = fread(text, 1, PORT_LIST_SIZE - 1, f);
        text[n] = '\0';
        text[strcspn(text, "\n")] = '\0';
        if (rsap_port_set_parse(text, set) < 0) {
                free(text);
                return -EBADMSG;
        }
        *text_out = text;
        return 0;
}

/* The ports of the active assignments, each once, lowest first. */
static int assigned_ports(struct rsap_store *store, struct rsap_kernel_reserve *out)
{
        struct store_assignment_query q = { .all = true, .active_only = true, .by_port = true };
        struct rsap_assignment *list = NULL;
        size_t n = 0, capacity = 0;
        int r;

        if (!store)
                return 0;
        r = STORE_OP(store, assignments)(store, &q, &list, &n);
        for (size_t i = 0; r == 0 && i < n; i++) {
                if (out->n_assigned && out->assigned[out->n_assigned - 1] == list[i].port)
                        continue;
                r = rsap_grow(&out->assigned, &capacity, out->n_assigned + 1,
                              sizeof(*out->assigned));
                if (r == 0)
                        out->assigned[out->n_assigned++] = list[i].port;
        }
        rsap_assignment_list_free(list, n);
        return r;
}

int rsap_kernel_reserve_plan(struct rsap_store *store, const char *path,
                             struct rsap_kernel_reserve *out)
{
        _cleanup_(freep) struct rsap_port_set *set = malloc(sizeof(*set));
        int r;

        memset(out, 0, sizeof(*out));
        if (!set)
                return -ENOMEM;
        r = read_reserved(path ? path : RSAP_RESERVED_PORTS_PATH, set, &out->current);
        if (r == 0)
                r = assigned_ports(store, out);
        for (size_t i = 0; r == 0 && i < out->n_assigned; i++) {
                if (!rsap_port_set_has(set, out->assigned[i]))
                        out->n_added++;
                rsap_port_set_add(set, out->assigned[i]);
        }
        if (r == 0) {
                out->merged = malloc(PORT_LIST_SIZE);
                r = out->merged ? rsap_port_set_format(set, out->merged, PORT_LIST_SIZE) : -ENOMEM;
        }
        if (r < 0)
                rsap_kernel_reserve_clear(out);
        return r;
}

int rsap_kernel_reserve_apply(struct rsap_kernel_reserve *plan, const char *path)
{
        int fd = open(path ? path : RSAP_RESERVED_PORTS_PATH, O_WRONLY | O_CLOEXEC);
        size_t len = strlen(plan->merged);
        ssize_t n;
        int err = 0;

        if (fd < 0)
                return -errno;
        /* The kernel reads a sysctl in one write; an empty list is "\n". */
        n = write(fd, len ? plan->merged : "\n", len ? len : 1);
        if (n < 0)
                err = -errno;
        else if ((size_t)n != (len ? len : 1))
                err = -EIO;
        if (close(fd) < 0 && err == 0)
                err = -errno;
        if (err == 0)
                plan->applied = true;
        return err;
}

void rsap_kernel_reserve_clear(struct rsap_kernel_reserve *k)
{
        free(k->current);
        free(k->merged);
        free(k->assigned);
        memset(k, 0, sizeof(*k));
}
