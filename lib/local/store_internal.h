/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What the local registry's library files share: the store itself (a
 * backend and its connection), transactions that roll back unless
 * committed, the one way to append an event, and liveness judged once per
 * transaction.  No file outside lib/local/sqlite/ knows SQL.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include <rsap/port.h>
#include <rsap/store.h>

#include <rsap/basic.h>

#include "backend.h"

/* One process's liveness, as judged once in a write transaction. */
struct store_liveness {
        pid_t pid;
        uint64_t start;
        bool live;
};

struct rsap_store {
        const struct rsap_store_backend *backend;
        void *conn;              /* the backend's */
        char *path;              /* what the URI names, for messages */
        char host[256];          /* rsap_host_name() at open */
        bool writable;
        int64_t clock_us; /* 0: the real clock */
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

/* The backend's operation, for the rules' files: STORE_OP(store, holdings)(store, ...). */
#define STORE_OP(store, op) ((store)->backend->op)

/*
 * Whether process pid, started at start (clock ticks since boot), is alive:
 * inside a write transaction the first answer for a process is kept for the
 * rest of it.
 */
bool store_process_alive(struct rsap_store *store, pid_t pid, uint64_t start);

/*
 * One write transaction: the backend takes the write lock first, so every
 * check made inside sees the state the write will change.  Declare it with
 * _cleanup_(store_tx_end): it rolls back unless committed.
 */
struct store_tx {
        struct rsap_store *store;
        bool open;
};
int store_tx_begin(struct rsap_store *store, struct store_tx *tx);
int store_tx_commit(struct store_tx *tx);
void store_tx_end(struct store_tx *tx);

int store_append_event(struct rsap_store *store, const struct store_event *ev, int64_t *id_out);

/* A backend's check: one problem, the template's one "%s" replaced by what,
 * cut with "..." when long; past RSAP_STORE_CHECK_MAX_PROBLEMS only counted. */
void store_check_add_problem(struct rsap_store_check_report *out, const char *template,
                             const char *what);
