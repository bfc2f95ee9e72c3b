/* SPDX-License-Identifier: MIT */
/*
 * The store, whatever its backend: opening it by name, its clock and host,
 * transactions that roll back unless committed, each transaction's one
 * judgement of which lease holders live, and the one way events are added.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rsap/paths.h>
#include <rsap/textsafe.h>
#include <rsap/workflow.h>

#include "store_internal.h"

/* ---- opening --------------------------------------------------------------------- */

int rsap_store_default_path(const char *data_dir_override, char *buf, size_t size)
{
        char dir[4096];
        int r = rsap_data_dir(data_dir_override, dir, sizeof(dir));
        int n;

        if (r < 0)
                return r;
        n = snprintf(buf, size, "%s/%s", dir, RSAP_STORE_FILE);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int rsap_store_open(const char *path, enum rsap_store_mode mode, int busy_timeout_ms,
                    struct rsap_store **out)
{
        const struct rsap_store_backend *backend = &store_backend_sqlite;
        struct rsap_store *store;
        int r;

        *out = NULL;
        store = calloc(1, sizeof(*store));
        if (!store)
                return -ENOMEM;
        store->backend = backend;
        store->writable = mode == RSAP_STORE_WRITE; /* the backend migrates in a transaction */
        store->path = strdup(path);
        r = store->path ? rsap_host_name(store->host, sizeof(store->host)) : -ENOMEM;
        if (r == 0)
                r = backend->open(store, path, mode, busy_timeout_ms);
        if (r < 0) {
                rsap_store_close(store);
                return r;
        }
        *out = store;
        return 0;
}

void rsap_store_close(struct rsap_store *store)
{
        if (!store)
                return;
        if (store->conn)
                store->backend->close(store);
        free(store->liveness);
        free(store->path);
        free(store);
}

void rsap_store_closep(struct rsap_store **store)
{
        rsap_store_close(*store);
        *store = NULL;
}

const char *rsap_store_path(const struct rsap_store *store)
{
        return store->path;
}

const char *rsap_store_host(const struct rsap_store *store)
{
        return store->host;
}

int rsap_store_schema_version(struct rsap_store *store)
{
        return store->backend->schema_version(store);
}

int rsap_store_file_schema_version(const char *path)
{
        return store_backend_sqlite.location_schema_version(path);
}

/* ---- time ----------------------------------------------------------------------- */

void rsap_store_set_clock(struct rsap_store *store, int64_t now_us)
{
        store->clock_us = now_us;
}

int64_t rsap_store_now(const struct rsap_store *store)
{
        if (store && store->clock_us)
                return store->clock_us;
        if (store && store->tx_now_us)
                return store->tx_now_us; /* one transaction, one moment */
        return rsap_realtime_us();
}

/* ---- transactions --------------------------------------------------------------- */

int store_tx_begin(struct rsap_store *store, struct store_tx *tx)
{
        int r;

        tx->store = store;
        tx->open = false;
        if (!store->writable)
                return -EROFS;
        r = store->backend->begin(store);
        if (r < 0)
                return r;
        tx->open = true;
        store->n_liveness = 0;
        store->tx_now_us = rsap_store_now(store);
        return 0;
}

/* The snapshot lasts as long as the transaction. */
static void snapshot_end(struct rsap_store *store)
{
        store->tx_now_us = 0;
        store->n_liveness = 0;
}

int store_tx_commit(struct store_tx *tx)
{
        int r = tx->store->backend->commit(tx->store);

        /* A failed commit leaves the transaction open: store_tx_end rolls back. */
        if (r == 0) {
                tx->open = false;
                snapshot_end(tx->store);
        }
        return r;
}

void store_tx_end(struct store_tx *tx)
{
        if (tx->open)
                tx->store->backend->rollback(tx->store);
        if (tx->store)
                snapshot_end(tx->store);
        tx->open = false;
}

/* ---- liveness ------------------------------------------------------------------- */

bool store_process_alive(struct rsap_store *store, pid_t pid, uint64_t start)
{
        struct store_liveness *seen;
        uint64_t now_start;
        bool live;

        for (size_t i = 0; store->tx_now_us && i < store->n_liveness; i++)
                if (store->liveness[i].pid == pid && store->liveness[i].start == start)
                        return store->liveness[i].live;
        live = rsap_process_start_time(pid, &now_start) == 0 && now_start == start;
        /* Out of memory: judged again next time, as outside a transaction. */
        if (store->tx_now_us && rsap_grow(&store->liveness, &store->liveness_capacity,
                                          store->n_liveness + 1, sizeof(*store->liveness)) == 0) {
                seen = &store->liveness[store->n_liveness++];
                *seen = (struct store_liveness){ pid, start, live };
        }
        return live;
}

/* ---- events --------------------------------------------------------------------- */

int store_append_event(struct rsap_store *store, const struct store_event *ev, int64_t *id_out)
{
        _cleanup_(freep) char *details = NULL;
        int64_t id = 0;
        int r;

        /* Every decision's why passes here: a reason is one line of text, nothing a terminal obeys. */
        if (ev->reason && rsap_text_first_control(ev->reason, false) >= 0)
                return -EILSEQ;
        if (ev->details) {
                details = json_dumps(ev->details, JSON_COMPACT | JSON_SORT_KEYS);
                if (!details)
                        return -ENOMEM;
        }
        r = store->backend->event_append(store, ev, details, &id);
        if (r == 0 && id_out)
                *id_out = id;
        return r;
}

/* ---- consistency ------------------------------------------------------------------ */

int rsap_store_check_level(struct rsap_store *store, enum rsap_store_check_level level,
                           struct rsap_store_check_report *out)
{
        return store->backend->check(store, level, true, out);
}

/* rsap audit --consistency: a database the backend cannot read stays -EBADMSG (exit 2). */
int rsap_store_check(struct rsap_store *store, struct rsap_store_check_report *out)
{
        return store->backend->check(store, RSAP_STORE_CHECK_FULL, false, out);
}
