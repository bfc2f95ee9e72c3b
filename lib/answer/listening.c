/* SPDX-License-Identifier: MIT */
/*
 * What listens, joined with what the local registry holds: the sockets come
 * from lib/listen, the holdings from lib/local, and neither layer knows the
 * other.  Each socket gets the local entry that holds its port/protocol: an
 * active assignment, else a live lease.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rsap/answer.h>
#include <rsap/basic.h>
#include <rsap/listen.h>
#include <rsap/workflow.h>

/* An assignment outranks a lease: it is what the port is registered for. */
static bool better_holding(const struct rsap_local_entry *candidate,
                           const struct rsap_local_entry *current)
{
        return !current || (candidate->kind == RSAP_LOCAL_ASSIGNMENT &&
                            current->kind != RSAP_LOCAL_ASSIGNMENT);
}

static bool holds(const struct rsap_local_entry *e, const struct rsap_listen_socket *s)
{
        if (e->port != (int)s->port || !(e->protocols & (1u << s->proto)))
                return false;
        if (e->kind == RSAP_LOCAL_ASSIGNMENT)
                return strcmp(e->state, "active") == 0;
        return e->kind == RSAP_LOCAL_LEASE;
}

/* The first entry at port or above: the entries come sorted by port. */
static size_t first_entry_at(const struct rsap_local_list *local, uint16_t port)
{
        size_t lo = 0, hi = local->n_entries;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (local->entries[mid].port < (int)port)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static const struct rsap_local_entry *holding_of(const struct rsap_local_list *local,
                                                 const struct rsap_listen_socket *s)
{
        const struct rsap_local_entry *best = NULL;

        for (size_t k = first_entry_at(local, s->port);
             k < local->n_entries && local->entries[k].port == (int)s->port; k++)
                if (holds(&local->entries[k], s) && better_holding(&local->entries[k], best))
                        best = &local->entries[k];
        return best;
}

int rsap_listening_join(struct rsap_listening_answer *a, const struct rsap_local_list *local)
{
        free(a->holdings);
        a->holdings = NULL;
        if (!local || !a->list || a->list->count == 0)
                return 0;
        a->holdings = calloc(a->list->count, sizeof(*a->holdings));
        if (!a->holdings)
                return -ENOMEM;
        for (size_t i = 0; i < a->list->count; i++)
                a->holdings[i] = holding_of(local, &a->list->sockets[i]);
        return 0;
}

const struct rsap_local_entry *rsap_listening_holding(const struct rsap_listening_answer *a,
                                                      size_t socket)
{
        return a->holdings ? a->holdings[socket] : NULL;
}

void rsap_listening_keep(struct rsap_listening_answer *a,
                         bool (*keep)(const struct rsap_listening_answer *a, size_t socket,
                                      const void *data),
                         const void *data)
{
        struct rsap_listen_list *list = a->list;
        size_t kept = 0;

        for (size_t i = 0; list && i < list->count; i++) {
                if (!keep(a, i, data))
                        continue;
                list->sockets[kept] = list->sockets[i];
                if (a->holdings)
                        a->holdings[kept] = a->holdings[i];
                kept++;
        }
        if (list)
                list->count = kept;
}

/* Registered by IANA (status Assigned) or by an active local assignment. */
static bool unregistered(const struct rsap_listening_answer *a, size_t i, const void *iana)
{
        const struct rsap_listen_socket *s = &a->list->sockets[i];
        const struct rsap_local_entry *e = rsap_listening_holding(a, i);

        if (e && e->kind == RSAP_LOCAL_ASSIGNMENT)
                return false;
        return !rsap_listen_port_registered(iana, s->port, s->proto);
}

void rsap_listening_keep_unregistered(struct rsap_listening_answer *a,
                                      const struct rsap_iana *iana)
{
        rsap_listening_keep(a, unregistered, iana);
}

/* The local registry's entries on the ports the list covers. */
static int read_local(const struct rsap_answer_sources *src, struct rsap_listening_answer *a)
{
        const struct rsap_listen_list *list = a->list;
        uint16_t low = 65535, high = 0;
        int r;

        for (size_t i = 0; i < list->count; i++) {
                if (list->sockets[i].port < low)
                        low = list->sockets[i].port;
                if (list->sockets[i].port > high)
                        high = list->sockets[i].port;
        }
        a->local = calloc(1, sizeof(*a->local));
        if (!a->local)
                return -ENOMEM;
        if (src->store_lock)
                pthread_mutex_lock(src->store_lock);
        r = rsap_local_for_range(src->store, low, high, a->local);
        if (src->store_lock)
                pthread_mutex_unlock(src->store_lock);
        return r;
}

int rsap_answer_listening(const struct rsap_answer_sources *src,
                          const struct rsap_listen_filter *f, bool unregistered_only,
                          struct rsap_listening_answer *out, enum rsap_answer_part *failed)
{
        int r;

        memset(out, 0, sizeof(*out));
        *failed = RSAP_ANSWER_LISTENERS;
        r = src->sockets ? rsap_listen_list_select(src->sockets, f, &out->list)
                         : rsap_listen_collect(f, &out->list);
        if (r < 0)
                return r;
        *failed = RSAP_ANSWER_LOCAL;
        if (src->store && out->list->count > 0) {
                r = read_local(src, out);
                if (r == 0)
                        r = rsap_listening_join(out, out->local);
        }
        if (r == 0 && unregistered_only)
                rsap_listening_keep_unregistered(out, src->iana);
        if (r < 0)
                rsap_listening_answer_clear(out);
        return r;
}

void rsap_listening_answer_clear(struct rsap_listening_answer *a)
{
        rsap_listen_list_free(a->list);
        free(a->holdings);
        rsap_local_list_free(a->local);
        memset(a, 0, sizeof(*a));
}

/* ---- JSON: the sockets' own, with "local" from the holdings ------------------------ */

static json_t *holding_json(size_t socket, const void *data)
{
        const struct rsap_local_entry *e = rsap_listening_holding(data, socket);

        return e ? rsap_local_entry_to_json(e) : NULL;
}

json_t *rsap_listening_answer_to_json(const struct rsap_listening_answer *a,
                                      const struct rsap_iana *iana)
{
        struct rsap_listen_json_local local = { holding_json, a };

        return rsap_listen_list_to_json(a->list, iana, &local);
}

int rsap_listening_answer_write_json(const struct rsap_listening_answer *a,
                                     const struct rsap_iana *iana, FILE *out)
{
        struct rsap_listen_json_local local = { holding_json, a };

        return rsap_listen_list_write_json(a->list, iana, &local, out);
}
