/* SPDX-License-Identifier: MIT */
/*
 * What the local registry holds for the lookups (rsap PORT, NAME, search,
 * list, listening): its assignments, pending requests and live leases on a
 * port, a range or a name, each one indexed query.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "workflow_internal.h"

/* ---- the local registry in lookups -------------------------------------------------- */

void local_entry_clear(struct rsap_local_entry *e)
{
        free(e->service);
        free(e->assignee);
        free(e->contact);
        free(e->description);
        free(e->over_iana);
        memset(e, 0, sizeof(*e));
}

void rsap_local_list_clear(struct rsap_local_list *list)
{
        for (size_t i = 0; i < list->n_entries; i++)
                local_entry_clear(&list->entries[i]);
        free(list->entries);
        memset(list, 0, sizeof(*list));
}

typedef bool (*entry_filter)(const struct rsap_local_entry *e, const void *key);

struct entry_collector {
        struct rsap_store *store;
        entry_filter filter;
        const void *key;
        struct rsap_local_list *out;
        size_t capacity;
};

/* Keeps an entry that still holds (a lease: while its holder lives) and passes the filter. */
static int collect_entry(struct rsap_local_entry *e, uint64_t pid_start, const char *host,
                         void *arg)
{
        struct entry_collector *c = arg;
        struct rsap_local_list *out = c->out;
        bool keep = e->kind != RSAP_LOCAL_LEASE ||
                    lease_is_live(c->store, e->until_us, e->pid, pid_start, host);

        if (keep && c->filter)
                keep = c->filter(e, c->key);
        if (!keep) {
                local_entry_clear(e);
                return 0;
        }
        if (rsap_grow(&out->entries, &c->capacity, out->n_entries + 1,
                      sizeof(*out->entries)) < 0) {
                local_entry_clear(e);
                return -ENOMEM;
        }
        out->entries[out->n_entries++] = *e;
        return 0;
}

static int local_query(struct rsap_store *store, const struct store_entries_query *q,
                       entry_filter filter, const void *key, struct rsap_local_list *out)
{
        struct store_entries_query at = *q;
        struct entry_collector c = { store, filter, key, out, 0 };
        int r;

        memset(out, 0, sizeof(*out));
        at.now_us = rsap_store_now(store);
        r = STORE_OP(store, entries)(store, &at, collect_entry, &c);
        if (r < 0)
                rsap_local_list_clear(out);
        return r;
}

static bool on_protocol(const struct rsap_local_entry *e, const void *key)
{
        enum rsap_proto proto = *(const enum rsap_proto *)key;

        return proto == RSAP_PROTO_NONE || (e->protocols & (1u << proto));
}

int rsap_local_for_port(struct rsap_store *store, uint16_t port, enum rsap_proto proto,
                        struct rsap_local_list *out)
{
        struct store_entries_query q = { .scope = STORE_ENTRIES_PORTS, .low = port, .high = port };

        return local_query(store, &q, on_protocol, &proto, out);
}

int rsap_local_for_range(struct rsap_store *store, uint16_t low, uint16_t high,
                         struct rsap_local_list *out)
{
        struct store_entries_query q = { .scope = STORE_ENTRIES_PORTS, .low = low, .high = high };

        return local_query(store, &q, NULL, NULL, out);
}

int rsap_local_for_name(struct rsap_store *store, const char *name, struct rsap_local_list *out)
{
        struct store_entries_query q = { .scope = STORE_ENTRIES_NAME, .name = name };

        return local_query(store, &q, NULL, NULL, out);
}

static bool field_has(const char *field, const char *word, size_t len)
{
        for (; field && *field; field++)
                if (strncasecmp(field, word, len) == 0)
                        return true;
        return false;
}

/* Every word of the text appears in one of the entry's fields. */
static bool matches_words(const struct rsap_local_entry *e, const void *key)
{
        const char *text = key;

        while (*text) {
                size_t skip = strspn(text, " \t\n"), len;

                text += skip;
                len = strcspn(text, " \t\n");
                if (len == 0)
                        break;
                if (!field_has(e->service, text, len) && !field_has(e->description, text, len) &&
                    !field_has(e->assignee, text, len) && !field_has(e->contact, text, len))
                        return false;
                text += len;
        }
        return true;
}

int rsap_local_search(struct rsap_store *store, const char *text, struct rsap_local_list *out)
{
        struct store_entries_query q = { .scope = STORE_ENTRIES_ALL };

        return local_query(store, &q, matches_words, text, out);
}

/* ---- counts --------------------------------------------------------------------------- */

/* Whether a lease lives is the holder's to say: only active ones are read, one by one. */
static int count_live_leases(struct rsap_store *store, size_t *out)
{
        struct store_lease_query q = { .all = true, .active_only = true };
        struct rsap_lease *list = NULL;
        size_t n = 0;
        int r = STORE_OP(store, leases)(store, &q, &list, &n);

        *out = 0;
        for (size_t i = 0; i < n; i++) {
                if (r == 0 && lease_is_live(store, list[i].expires_us, list[i].pid,
                                            list[i].pid_start, list[i].host))
                        (*out)++;
                rsap_lease_clear(&list[i]);
        }
        free(list);
        return r;
}

int rsap_local_counts(struct rsap_store *store, struct rsap_local_counts *out)
{
        struct store_counts c = { 0 };
        int r;

        memset(out, 0, sizeof(*out));
        r = STORE_OP(store, counts)(store, rsap_store_now(store), &c);
        if (r == 0)
                r = count_live_leases(store, &out->leases);
        if (r < 0) {
                memset(out, 0, sizeof(*out));
                return r;
        }
        out->assignments = (size_t)c.assignments;
        out->requests = (size_t)c.requests;
        return 0;
}

void rsap_local_list_free(struct rsap_local_list *list)
{
        if (!list)
                return;
        rsap_local_list_clear(list);
        free(list);
}

void rsap_local_list_freep(struct rsap_local_list **list)
{
        rsap_local_list_free(*list);
}

const struct rsap_local_entry *rsap_local_list_find(const struct rsap_local_list *list,
                                                    uint16_t port, enum rsap_proto proto,
                                                    size_t *cursor)
{
        while (*cursor < list->n_entries && list->entries[*cursor].port < port)
                (*cursor)++;
        for (size_t i = *cursor; i < list->n_entries && list->entries[i].port == port; i++)
                if (list->entries[i].protocols & (1u << proto))
                        return &list->entries[i];
        return NULL;
}
