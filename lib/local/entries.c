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

/*
 * One statement for the three kinds, so a lookup costs one indexed query.
 * The %s are each kind's condition; ?1 ?2 a port range, ?3 a name, ?4 now.
 */
#define LOCAL_QUERY                                                                            \
        "SELECT 0, a.id, s.name, a.port, a.protocol, 0, s.assignee, s.contact, a.description," \
        " a.over_iana, a.active, a.assigned_us, a.quarantine_until_us, 0, 0, NULL"                  \
        " FROM assignments a JOIN services s ON s.id = a.service_id"                           \
        " WHERE %s AND (a.active OR a.quarantine_until_us > ?4)"                               \
        " UNION ALL"                                                                           \
        " SELECT 1, r.id, r.service, r.port, NULL, r.protocols, r.assignee, r.contact,"        \
        " r.description, NULL, 1, r.requested_us, 0, 0, 0, NULL"                                     \
        " FROM requests r WHERE r.state = 'pending' AND %s"                                    \
        " UNION ALL"                                                                           \
        " SELECT 2, l.id, l.name, l.port, NULL, 6, NULL, NULL, NULL, NULL, 1, l.leased_us,"    \
        " l.expires_us, l.pid, l.pid_start, l.host FROM leases l WHERE l.active AND %s"                \
        " ORDER BY 4, 1, 2"

static bool entry_is_live(struct rsap_store *store, sqlite3_stmt *stmt)
{
        if (sqlite3_column_int(stmt, 0) != RSAP_LOCAL_LEASE)
                return true;
        return lease_is_live(store, sqlite3_column_int64(stmt, 12),
                             (pid_t)sqlite3_column_int(stmt, 13),
                             (uint64_t)sqlite3_column_int64(stmt, 14),
                             (const char *)sqlite3_column_text(stmt, 15));
}

static const char *entry_state(enum rsap_local_kind kind, bool active)
{
        switch (kind) {
        case RSAP_LOCAL_ASSIGNMENT:
                return active ? "active" : "quarantined";
        case RSAP_LOCAL_REQUEST:
                return "pending";
        case RSAP_LOCAL_LEASE:
                break;
        }
        return "live";
}

static int entry_from_row(sqlite3_stmt *stmt, struct rsap_local_entry *e)
{
        enum rsap_proto proto = store_column_proto(stmt, 4);

        memset(e, 0, sizeof(*e));
        e->kind = (enum rsap_local_kind)sqlite3_column_int(stmt, 0);
        e->id = sqlite3_column_int64(stmt, 1);
        e->service = store_column_strdup(stmt, 2);
        e->port = sqlite3_column_type(stmt, 3) == SQLITE_NULL ? -1 : sqlite3_column_int(stmt, 3);
        e->protocols = proto ? 1u << proto : (unsigned)sqlite3_column_int(stmt, 5);
        e->assignee = store_column_strdup(stmt, 6);
        e->contact = store_column_strdup(stmt, 7);
        e->description = store_column_strdup(stmt, 8);
        e->over_iana = store_column_strdup(stmt, 9);
        e->state = entry_state(e->kind, sqlite3_column_int(stmt, 10) != 0);
        e->since_us = sqlite3_column_int64(stmt, 11);
        e->until_us = sqlite3_column_int64(stmt, 12);
        e->pid = (pid_t)sqlite3_column_int(stmt, 13);
        return 0;
}

typedef bool (*entry_filter)(const struct rsap_local_entry *e, const void *key);

static int append_entry(struct rsap_local_list *out, size_t *capacity,
                        const struct rsap_local_entry *e)
{
        if (rsap_grow(&out->entries, capacity, out->n_entries + 1, sizeof(*out->entries)) < 0)
                return -ENOMEM;
        out->entries[out->n_entries++] = *e;
        return 0;
}

static int local_query(struct rsap_store *store, const char *a_cond, const char *r_cond,
                       const char *l_cond, const struct rsap_port_spec *range, const char *name,
                       entry_filter filter, const void *key, struct rsap_local_list *out)
{
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *stmt = NULL;
        int64_t now = rsap_store_now(store);
        size_t capacity = 0;
        char sql[2048];
        int r;

        memset(out, 0, sizeof(*out));
        snprintf(sql, sizeof(sql), LOCAL_QUERY, a_cond, r_cond, l_cond);
        r = store_prepare(store, sql, &stmt);
        if (r < 0)
                return r;
        sqlite3_bind_int(stmt, 1, range ? range->low : 0);
        sqlite3_bind_int(stmt, 2, range ? range->high : 0);
        store_bind_text(stmt, 3, name);
        sqlite3_bind_int64(stmt, 4, now);
        while ((r = store_step(stmt)) > 0) {
                struct rsap_local_entry e;

                if (!entry_is_live(store, stmt))
                        continue;
                entry_from_row(stmt, &e);
                if ((filter && !filter(&e, key)) || (r = append_entry(out, &capacity, &e)) < 0)
                        local_entry_clear(&e);
                if (r < 0)
                        break;
        }
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
        struct rsap_port_spec spec = { .low = port, .high = port };

        return local_query(store, "a.port = ?1", "r.port = ?1", "l.port = ?1", &spec, NULL,
                           on_protocol, &proto, out);
}

int rsap_local_for_range(struct rsap_store *store, uint16_t low, uint16_t high,
                         struct rsap_local_list *out)
{
        struct rsap_port_spec spec = { .low = low, .high = high };

        return local_query(store, "a.port BETWEEN ?1 AND ?2", "r.port BETWEEN ?1 AND ?2",
                           "l.port BETWEEN ?1 AND ?2", &spec, NULL, NULL, NULL, out);
}

int rsap_local_for_name(struct rsap_store *store, const char *name, struct rsap_local_list *out)
{
        return local_query(store, "s.name = ?3", "r.service = ?3 COLLATE NOCASE",
                           /* a lease's name is free text, not a service */ "0", NULL, name,
                           NULL, NULL, out);
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
        return local_query(store, "1", "1", "1", NULL, NULL, matches_words, text, out);
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
