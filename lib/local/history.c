/* SPDX-License-Identifier: MIT */
/* The history of a port, a name or a record: every event recorded for it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "workflow_internal.h"

/* ---- history ------------------------------------------------------------------- */

static void event_clear(struct rsap_event *e)
{
        free(e->actor);
        free(e->action);
        free(e->service);
        free(e->reason);
        free(e->details);
        free(e->host);
        memset(e, 0, sizeof(*e));
}

void rsap_history_clear(struct rsap_history *h)
{
        for (size_t i = 0; i < h->n_events; i++)
                event_clear(&h->events[i]);
        free(h->events);
        memset(h, 0, sizeof(*h));
}

static int event_from_row(sqlite3_stmt *stmt, struct rsap_event *e)
{
        memset(e, 0, sizeof(*e));
        e->id = sqlite3_column_int64(stmt, 0);
        e->time_us = sqlite3_column_int64(stmt, 1);
        e->actor = store_column_strdup(stmt, 2);
        e->action = store_column_strdup(stmt, 3);
        e->request_id = sqlite3_column_int64(stmt, 4);
        e->assignment_id = sqlite3_column_int64(stmt, 5);
        e->lease_id = sqlite3_column_int64(stmt, 6);
        e->service = store_column_strdup(stmt, 7);
        e->port = sqlite3_column_type(stmt, 8) == SQLITE_NULL ? -1 : sqlite3_column_int(stmt, 8);
        e->proto = store_column_proto(stmt, 9);
        e->reason = store_column_strdup(stmt, 10);
        e->details = store_column_strdup(stmt, 11);
        e->host = store_column_strdup(stmt, 12);
        if (!e->actor || !e->action) {
                event_clear(e);
                return -ENOMEM;
        }
        return 0;
}

static const char *history_where(enum rsap_target_kind kind)
{
        switch (kind) {
        case RSAP_TARGET_PORT:
                return "port = ?1 AND (?2 IS NULL OR protocol IS NULL OR protocol = ?2)";
        case RSAP_TARGET_NAME:
                return "service = ?3 COLLATE NOCASE";
        case RSAP_TARGET_REQUEST:
                return "request_id = ?4";
        case RSAP_TARGET_ASSIGNMENT:
                return "assignment_id = ?4";
        case RSAP_TARGET_LEASE:
                return "lease_id = ?4";
        }
        return NULL;
}

static int collect_events(sqlite3_stmt *stmt, struct rsap_history *out)
{
        size_t capacity = 0;
        int r;

        while ((r = store_step(stmt)) > 0) {
                if (rsap_grow(&out->events, &capacity, out->n_events + 1,
                              sizeof(*out->events)) < 0)
                        return -ENOMEM;
                r = event_from_row(stmt, &out->events[out->n_events]);
                if (r < 0)
                        return r;
                out->n_events++;
        }
        return r;
}

int rsap_history(struct rsap_store *store, const struct rsap_target *target,
                 struct rsap_history *out)
{
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *stmt = NULL;
        const char *where = history_where(target->kind);
        char sql[512];
        int r;

        memset(out, 0, sizeof(*out));
        out->target = *target;
        if (!where)
                return -EINVAL;
        snprintf(sql, sizeof(sql),
                 "SELECT id, time_us, actor, action, request_id, assignment_id, lease_id, service,"
                 " port, protocol, reason, details, host FROM events WHERE %s ORDER BY id",
                 where);
        r = store_prepare(store, sql, &stmt);
        if (r < 0)
                return r;
        sqlite3_bind_int(stmt, 1, target->port);
        store_bind_proto(stmt, 2, target->proto);
        store_bind_text(stmt, 3, target->name);
        sqlite3_bind_int64(stmt, 4, target->id);
        r = collect_events(stmt, out);
        if (r < 0)
                rsap_history_clear(out);
        return r;
}
