/* SPDX-License-Identifier: MIT */
/*
 * The SQLite backend's listening intervals (migration 5's listen_intervals;
 * include/rsap/listen_history.h says what each operation does).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sqlite.h"

/* An open interval's last sighting is its recorder's last poll, when later than its own. */
#define INTERVAL_COLUMNS                                                                     \
        "i.id, i.host, port, protocol, address, netns, uid, pid, pid_start, command, exe,"  \
        " owners, started_us, CASE WHEN ended IS NULL THEN max(i.last_seen_us,"            \
        " coalesce(r.last_seen_us, 0)) ELSE i.last_seen_us END, ended_us, ended, count"     \
        " FROM listen_intervals AS i LEFT JOIN listen_recorders AS r ON r.host = i.host"

int sqlite_interval_open(struct rsap_store *store, const struct rsap_interval *iv,
                         int64_t *id_out)
{
        _cleanup_(query_finish) struct query q = { 0 };
        int r = query_prepare(store,
                              "INSERT INTO listen_intervals (host, port, protocol, address,"
                              " netns, uid, pid, pid_start, command, exe, owners, started_us,"
                              " last_seen_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
                              " ?11, ?12, ?12)",
                              &q);

        if (r < 0)
                return r;
        bind_text(&q, 1, store->host);
        bind_int(&q, 2, iv->port);
        bind_proto(&q, 3, iv->proto);
        bind_text(&q, 4, iv->address);
        bind_int(&q, 5, (int64_t)iv->netns);
        bind_int(&q, 6, iv->uid);
        bind_id(&q, 7, iv->pid);
        bind_id(&q, 8, (int64_t)iv->pid_start);
        bind_text(&q, 9, iv->command);
        bind_text(&q, 10, iv->exe);
        bind_text(&q, 11, iv->owners);
        bind_int(&q, 12, iv->started_us);
        r = query_done(&q);
        if (r == 0 && id_out)
                *id_out = sqlite3_last_insert_rowid(store_db(store));
        return r;
}

int sqlite_interval_close(struct rsap_store *store, int64_t id, int64_t ended_us)
{
        _cleanup_(query_finish) struct query q = { 0 };
        int r = query_prepare(store,
                              "UPDATE listen_intervals SET ended = 'stopped',"
                              " ended_us = max(started_us, ?2),"
                              " last_seen_us = max(last_seen_us, ?2)"
                              " WHERE id = ?1 AND ended IS NULL",
                              &q);

        if (r < 0)
                return r;
        bind_int(&q, 1, id);
        bind_int(&q, 2, ended_us);
        r = query_done(&q);
        if (r == 0 && sqlite3_changes(store_db(store)) == 0)
                return -ENOENT;
        return r;
}

int sqlite_intervals_close_unknown(struct rsap_store *store, int64_t *n_closed)
{
        _cleanup_(query_finish) struct query q = { 0 };
        int r = query_prepare(store,
                              "UPDATE listen_intervals SET ended = 'unknown',"
                              " ended_us = max(last_seen_us, coalesce((SELECT r.last_seen_us"
                              " FROM listen_recorders AS r WHERE r.host = ?1), 0)),"
                              " last_seen_us = max(last_seen_us, coalesce((SELECT"
                              " r.last_seen_us FROM listen_recorders AS r WHERE r.host = ?1),"
                              " 0)) WHERE ended IS NULL AND host = ?1",
                              &q);

        if (r < 0)
                return r;
        bind_text(&q, 1, store->host);
        r = query_done(&q);
        if (r == 0 && n_closed)
                *n_closed = sqlite3_changes(store_db(store));
        return r;
}

int sqlite_intervals_touch(struct rsap_store *store, int64_t now_us)
{
        _cleanup_(query_finish) struct query q = { 0 };
        int r = query_prepare(store,
                              "INSERT INTO listen_recorders (host, last_seen_us) VALUES (?1, ?2)"
                              " ON CONFLICT (host) DO UPDATE SET last_seen_us ="
                              " max(last_seen_us, excluded.last_seen_us)",
                              &q);

        if (r < 0)
                return r;
        bind_text(&q, 1, store->host);
        bind_int(&q, 2, now_us);
        return query_done(&q);
}

/* ---- upkeep ---------------------------------------------------------------------- */

/* A statement with up to three numbers bound: how many rows it changed. */
static int run_counted(struct rsap_store *store, const char *sql, const int64_t *values,
                       int n_values, int64_t *changed)
{
        _cleanup_(query_finish) struct query q = { 0 };
        int r = query_prepare(store, sql, &q);

        if (r < 0)
                return r;
        for (int i = 0; i < n_values; i++)
                bind_int(&q, i + 1, values[i]);
        r = query_done(&q);
        if (r == 0 && changed)
                *changed = sqlite3_changes(store_db(store));
        return r;
}

static int count_rows(struct rsap_store *store, const char *sql, int64_t *out)
{
        _cleanup_(query_finish) struct query q = { 0 };
        int r = query_prepare(store, sql, &q);

        if (r < 0)
                return r;
        r = query_step(&q);
        if (r < 0)
                return r;
        *out = r > 0 ? column_int(&q, 0) : 0;
        return 0;
}

/* What makes two ended rows one program's short intervals on one socket (d and o). */
#define SAME_SHORT_GROUP                                                                     \
        "o.ended IS NOT NULL AND o.ended_us - o.started_us < ?1 AND o.id <= ?2"             \
        " AND o.host = d.host AND o.port = d.port AND o.protocol = d.protocol"             \
        " AND o.address = d.address AND o.netns = d.netns AND o.command IS d.command"      \
        " AND o.exe IS d.exe"

/*
 * The ended short intervals (rows up to the highest id now) of each group
 * that has two or more become one row: their count summed, the first start,
 * the last end, "unknown" if any end was, the pid and uid when all agree.
 */
static int compact(struct rsap_store *store, int64_t short_us, int64_t *folded)
{
        int64_t top = 0, values[2];
        int r = count_rows(store, "SELECT coalesce(max(id), 0) FROM listen_intervals", &top);

        values[0] = short_us;
        values[1] = top;
        if (r == 0)
                r = run_counted(
                        store,
                        "INSERT INTO listen_intervals (host, port, protocol, address, netns,"
                        " uid, pid, command, exe, started_us, last_seen_us, ended_us, ended,"
                        " count) SELECT host, port, protocol, address, netns, min(uid),"
                        " CASE WHEN min(pid) = max(pid) AND count(pid) = count(*) THEN"
                        " min(pid) END, command, exe, min(started_us), max(last_seen_us),"
                        " max(ended_us), CASE WHEN max(ended = 'unknown') THEN 'unknown'"
                        " ELSE 'stopped' END, sum(count) FROM listen_intervals"
                        " WHERE ended IS NOT NULL AND ended_us - started_us < ?1"
                        " AND id <= ?2 GROUP BY host, port, protocol, address, netns,"
                        " command, exe HAVING count(*) >= 2",
                        values, 2, NULL);
        if (r == 0)
                r = run_counted(store,
                                "DELETE FROM listen_intervals AS d WHERE d.ended IS NOT NULL"
                                " AND d.ended_us - d.started_us < ?1 AND d.id <= ?2"
                                " AND EXISTS (SELECT 1 FROM listen_intervals AS o"
                                " WHERE o.id <> d.id AND " SAME_SHORT_GROUP ")",
                                values, 2, folded);
        return r;
}

/* Past the cap (beside the open rows), the rows ended first go. */
static int keep_cap(struct rsap_store *store, int64_t cap, int64_t *dropped)
{
        int64_t ended = 0, excess;
        int r = count_rows(store, "SELECT count(*) FROM listen_intervals WHERE ended IS NOT NULL",
                           &ended);

        excess = ended - cap;
        if (r < 0 || excess <= 0)
                return r;
        return run_counted(store,
                           "DELETE FROM listen_intervals WHERE id IN (SELECT id FROM"
                           " listen_intervals WHERE ended IS NOT NULL ORDER BY ended_us, id"
                           " LIMIT ?1)",
                           &excess, 1, dropped);
}

int sqlite_intervals_upkeep(struct rsap_store *store, const struct rsap_interval_policy *p,
                            int64_t now_us, struct rsap_interval_upkeep *out)
{
        int64_t ended = 0, before = now_us - p->retention_us;
        int r = 0;

        if (p->retention_us > 0)
                r = run_counted(store,
                                "DELETE FROM listen_intervals WHERE ended IS NOT NULL"
                                " AND ended_us < ?1",
                                &before, 1, &out->expired);
        if (r == 0 && p->cap > 0)
                r = count_rows(store,
                               "SELECT count(*) FROM listen_intervals WHERE ended IS NOT NULL",
                               &ended);
        if (r == 0 && p->cap > 0 && ended > p->cap)
                r = compact(store, p->short_us, &out->compacted);
        if (r == 0 && p->cap > 0)
                r = keep_cap(store, p->cap, &out->dropped);
        if (r == 0)
                r = count_rows(store, "SELECT count(*) FROM listen_intervals", &out->rows);
        return r;
}

/* ---- queries --------------------------------------------------------------------- */

/* Column i's copy; *oom set when a value there could not be copied. */
static char *dup_column(struct query *q, int i, bool *oom)
{
        char *text = column_strdup(q, i);

        if (!text && !column_is_null(q, i))
                *oom = true;
        return text;
}

static int read_interval(struct query *q, struct rsap_interval *iv)
{
        const char *ended = column_text(q, 15);
        bool oom = false;

        *iv = (struct rsap_interval){
                .id = column_int(q, 0), .host = dup_column(q, 1, &oom),
                .port = (uint16_t)column_int(q, 2), .proto = column_proto(q, 3),
                .address = dup_column(q, 4, &oom), .netns = (uint64_t)column_int(q, 5),
                .uid = (uid_t)column_int(q, 6), .pid = (pid_t)column_int(q, 7),
                .pid_start = (uint64_t)column_int(q, 8), .command = dup_column(q, 9, &oom),
                .exe = dup_column(q, 10, &oom), .owners = dup_column(q, 11, &oom),
                .started_us = column_int(q, 12), .last_seen_us = column_int(q, 13),
                .ended_us = column_int(q, 14), .count = column_int(q, 16),
                .end = !ended                          ? RSAP_INTERVAL_OPEN
                       : strcmp(ended, "unknown") == 0 ? RSAP_INTERVAL_UNKNOWN
                                                       : RSAP_INTERVAL_STOPPED,
        };
        if (oom) {
                rsap_interval_clear(iv);
                return -ENOMEM;
        }
        return 0;
}

static const char *query_sql(enum rsap_interval_scope scope)
{
        switch (scope) {
        case RSAP_INTERVALS_PORT:
                return "SELECT " INTERVAL_COLUMNS " WHERE port = ?1"
                       " AND (?2 IS NULL OR protocol = ?2) AND (?4 IS NULL OR i.host = ?4)"
                       " ORDER BY started_us, id";
        case RSAP_INTERVALS_AT:
                return "SELECT " INTERVAL_COLUMNS
                       " WHERE started_us <= ?3 AND (ended_us IS NULL OR ended_us > ?3)"
                       " AND count = 1 AND (?4 IS NULL OR i.host = ?4)"
                       " ORDER BY protocol, port, address, netns, id";
        case RSAP_INTERVALS_SINCE:
                return "SELECT " INTERVAL_COLUMNS
                       " WHERE started_us >= ?3 AND (?4 IS NULL OR i.host = ?4)"
                       " ORDER BY started_us, id";
        }
        return NULL;
}

int sqlite_intervals(struct rsap_store *store, const struct rsap_interval_query *iq,
                     store_interval_visit *visit, void *arg)
{
        _cleanup_(query_finish) struct query q = { 0 };
        const char *sql = query_sql(iq->scope);
        struct rsap_interval iv;
        int r;

        if (!sql)
                return -EINVAL;
        r = query_prepare(store, sql, &q);
        if (r < 0)
                return r;
        bind_int(&q, 1, iq->port);
        bind_proto(&q, 2, iq->proto);
        bind_int(&q, 3, iq->at_us);
        bind_text(&q, 4, iq->host);
        while ((r = query_step(&q)) > 0) {
                r = read_interval(&q, &iv);
                if (r == 0)
                        r = visit(&iv, arg);
                if (r < 0)
                        return r;
        }
        return r;
}
