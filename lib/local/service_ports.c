/* SPDX-License-Identifier: MIT */
/*
 * The TCP ports a service may bind (rsap run): its active tcp assignments
 * and the live leases taken in its name.  A lease's name is free text, so a
 * lease counts for a service only when its name is the service's name,
 * compared as service names are, without regard to case.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "workflow_internal.h"

void rsap_service_ports_clear(struct rsap_service_ports *p)
{
        free(p->service);
        free(p->ports);
        memset(p, 0, sizeof(*p));
}

static int add_port(struct rsap_service_ports *out, size_t *capacity, uint16_t port,
                    enum rsap_local_kind kind, int64_t id)
{
        if (rsap_grow(&out->ports, capacity, out->n_ports + 1, sizeof(*out->ports)) < 0)
                return -ENOMEM;
        out->ports[out->n_ports++] = (struct rsap_service_port){ port, kind, id };
        return 0;
}

static int add_assignments(struct rsap_store *store, const char *service,
                           struct rsap_service_ports *out, size_t *capacity)
{
        struct store_assignment_query q = {
                .target = { .kind = RSAP_TARGET_NAME }, .active_only = true, .by_port = true,
        };
        struct rsap_assignment *list = NULL;
        size_t n = 0;
        int r;

        snprintf(q.target.name, sizeof(q.target.name), "%s", service);
        r = STORE_OP(store, assignments)(store, &q, &list, &n);
        for (size_t i = 0; r == 0 && i < n; i++)
                if (list[i].proto == RSAP_PROTO_TCP)
                        r = add_port(out, capacity, list[i].port, RSAP_LOCAL_ASSIGNMENT,
                                     list[i].id);
        rsap_assignment_list_free(list, n);
        return r;
}

/* Live leases named after the service: *found says whether any was. */
static int add_leases(struct rsap_store *store, const char *service,
                      struct rsap_service_ports *out, size_t *capacity, bool *found)
{
        struct store_lease_query q = { .all = true, .active_only = true };
        struct rsap_lease *list = NULL;
        size_t n = 0;
        int r = STORE_OP(store, leases)(store, &q, &list, &n);

        for (size_t i = 0; i < n; i++) {
                const struct rsap_lease *l = &list[i];

                if (r == 0 && l->name && strcasecmp(l->name, service) == 0 &&
                    lease_is_live(store, l->expires_us, l->pid, l->pid_start, l->host)) {
                        *found = true;
                        r = add_port(out, capacity, l->port, RSAP_LOCAL_LEASE, l->id);
                }
                rsap_lease_clear(&list[i]);
        }
        free(list);
        return r;
}

static int by_port(const void *a, const void *b)
{
        const struct rsap_service_port *x = a, *y = b;

        return (int)x->port - (int)y->port;
}

/* The service's name as the registry spells it; -ENOENT when it has none so named. */
static int registry_name(struct rsap_store *store, const char *service, char **out)
{
        struct store_service s = { 0 };
        int r = STORE_OP(store, service_get)(store, service, &s);

        if (r == 0)
                *out = TAKE_PTR(s.name);
        store_service_clear(&s);
        return r;
}

int rsap_service_tcp_ports(struct rsap_store *store, const char *service,
                           struct rsap_service_ports *out)
{
        size_t capacity = 0;
        bool leased = false;
        int r;

        memset(out, 0, sizeof(*out));
        if (!service || !*service || strlen(service) > RSAP_NAME_MAX)
                return -EINVAL;
        r = registry_name(store, service, &out->service);
        if (r == 0)
                r = add_assignments(store, out->service, out, &capacity);
        if (r == 0 || r == -ENOENT) {
                int known = r;

                r = add_leases(store, service, out, &capacity, &leased);
                /* No service of that name, but leases taken for it: known too. */
                if (r == 0 && known == -ENOENT && !leased)
                        r = -ENOENT;
        }
        if (r == 0 && !out->service && !(out->service = strdup(service)))
                r = -ENOMEM;
        if (r < 0) {
                rsap_service_ports_clear(out);
                return r;
        }
        if (out->n_ports) /* qsort() may not be given NULL, even for nothing */
                qsort(out->ports, out->n_ports, sizeof(*out->ports), by_port);
        return 0;
}
