/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What the local registry's library files share: the store itself, SQLite
 * helpers that turn result codes into negative errno codes, transactions
 * that roll back unless committed, and the one way to append an event.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>
#include <sqlite3.h>

#include <rsap/port.h>
#include <rsap/store.h>

#include <rsap/basic.h>

/* One process's liveness, as judged once in a write transaction. */
struct store_liveness {
        pid_t pid;
        uint64_t start;
        bool live;
};

struct rsap_store {
        sqlite3 *db;
        char *path;
        char host[RSAP_HOST_NAME_MAX + 1]; /* rsap_host_name() at open */
        bool writable;
        int64_t clock_us; /* 0: the real clock */
        int busy_budget_ms;      /* how long a lock is waited for in all */
        int64_t busy_since_us;   /* monotonic: when the current wait began */
        /*
         * A write transaction's snapshot: its moment (0 outside one) and the
         * liveness of each lease owner it asked about.  Every step of the
         * transaction (reaping, choosing a port, checking a request) sees the
         * same leases alive, though processes die meanwhile.
         */
        int64_t tx_now_us;
        struct store_liveness *liveness;
        size_t n_liveness, liveness_capacity;
};

/*
 * Whether process pid, started at start (clock ticks since boot), is alive:
 * inside a write transaction the first answer for a process is kept for the
 * rest of it.
 */
bool store_process_alive(struct rsap_store *store, pid_t pid, uint64_t start);

static inline void sqlite3_finalizep(sqlite3_stmt **stmt)
{
        sqlite3_finalize(*stmt); /* a no-op on NULL */
}

/* A SQLite result code (extended or primary) as a negative errno code. */
int store_errno(int rc);
/* store_errno() of the connection's last error. */
int store_last_errno(struct rsap_store *store);

int store_prepare(struct rsap_store *store, const char *sql, sqlite3_stmt **out);
/* Runs a statement that returns no rows: 0 or a negative errno code. */
int store_step_done(sqlite3_stmt *stmt);
/* SQLITE_ROW: 1, SQLITE_DONE: 0, else a negative errno code. */
int store_step(sqlite3_stmt *stmt);
int store_exec(struct rsap_store *store, const char *sql);

/* NULL for NULL and for "" (absent values are NULL, never ""). */
int store_bind_text(sqlite3_stmt *stmt, int index, const char *text);
/* NULL for 0: row ids start at 1. */
int store_bind_id(sqlite3_stmt *stmt, int index, int64_t id);
/* NULL for a negative port (none). */
int store_bind_port(sqlite3_stmt *stmt, int index, int port);
int store_bind_proto(sqlite3_stmt *stmt, int index, enum rsap_proto proto);
/* A copy of column i, or NULL when it is NULL (check errno for ENOMEM). */
char *store_column_strdup(sqlite3_stmt *stmt, int i);
enum rsap_proto store_column_proto(sqlite3_stmt *stmt, int i);

/*
 * One write transaction, BEGIN IMMEDIATE: the write lock is taken first, so
 * every check made inside sees the state the write will change.  Declare it
 * with _cleanup_(store_tx_end): it rolls back unless committed.
 */
struct store_tx {
        struct rsap_store *store;
        bool open;
};
int store_tx_begin(struct rsap_store *store, struct store_tx *tx);
int store_tx_commit(struct store_tx *tx);
void store_tx_end(struct store_tx *tx);

/* An event row; the id and the time are the store's. */
struct store_event {
        const char *actor;
        const char *action;      /* one of the schema's actions */
        int64_t request_id;      /* 0: none */
        int64_t assignment_id;
        int64_t lease_id;
        const char *service;     /* NULL: none */
        int port;                /* -1: none */
        enum rsap_proto proto;   /* RSAP_PROTO_NONE: none */
        const char *reason;      /* why, as the actor said; NULL: none */
        json_t *details;         /* an object or NULL; borrowed */
};
int store_append_event(struct rsap_store *store, const struct store_event *ev, int64_t *id_out);
