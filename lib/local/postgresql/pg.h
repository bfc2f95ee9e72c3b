/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The PostgreSQL backend's own: its connection (libpq), errors as negative
 * errno codes, and parameterised queries.  Every value goes to the server
 * as a parameter of PQexecParams, typed here (bigint or text), never into
 * the SQL text; a query's parameters are $1.. as in the SQLite backend's
 * ?1.., and a parameter a statement does not name is allowed, since its
 * type is given.
 */
#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "../store_internal.h"

/* The backend's schema: migrations numbered from 1, recorded in rsap_schema. */
#define PG_SCHEMA_VERSION 3

struct pg_conn {
        PGconn *db;
        bool in_tx; /* between begin() and commit() or rollback() */
        /* As opened: set again on a connection made anew (pg_reconnect). */
        enum rsap_store_mode mode;
        int busy_timeout_ms;
        /* Statements this connection has run (prepared.c). */
        struct pg_statement *statements;
        size_t n_statements, statements_capacity;
};

/* The channel every commit notifies (pg_commit), and pg_follow_* listen on. */
#define PG_CHANGES_CHANNEL "rsap_changes"

static inline PGconn *pg_db(struct rsap_store *store)
{
        return ((struct pg_conn *)store->conn)->db;
}

/* A result's SQLSTATE as a negative errno code (0 for success). */
int pg_result_errno(const PGresult *res);
/* A statement without parameters or rows (BEGIN, a migration): 0 or why not. */
int pg_exec(PGconn *db, const char *sql);

#define PG_MAX_PARAMS 16
struct pg_query {
        char *sql; /* a copy: callers build SQL in buffers that end before it runs */
        int n_params;
        Oid types[PG_MAX_PARAMS];
        char *values[PG_MAX_PARAMS]; /* NULL: SQL NULL */
        int bind_error;
        PGresult *res;
        int row, n_rows;
};
void pg_query_init(struct pg_query *q, const char *sql);
void pg_query_finish(struct pg_query *q); /* for _cleanup_ */
/* Runs it (once): rows then come from pg_step; 0 or a negative errno code. */
int pg_run(struct rsap_store *store, struct pg_query *q);
/* 1 with the next row, 0 at the end, else a negative errno code (runs it first). */
int pg_step(struct rsap_store *store, struct pg_query *q);
/* How many rows an UPDATE or DELETE changed, after pg_run. */
int64_t pg_changes(struct pg_query *q);

void pg_bind_int(struct pg_query *q, int index, int64_t value);
/* NULL for NULL and for "" (absent values are NULL, never ""). */
void pg_bind_text(struct pg_query *q, int index, const char *text);
void pg_bind_id(struct pg_query *q, int index, int64_t id);     /* NULL for 0 */
void pg_bind_port(struct pg_query *q, int index, int port);     /* NULL for < 0 */
void pg_bind_proto(struct pg_query *q, int index, enum rsap_proto proto);

char *pg_column_strdup(struct pg_query *q, int i); /* check errno for ENOMEM */
const char *pg_column_text(struct pg_query *q, int i); /* NULL when NULL */
int64_t pg_column_int(struct pg_query *q, int i);
bool pg_column_is_null(struct pg_query *q, int i);
enum rsap_proto pg_column_proto(struct pg_query *q, int i);

int pg_check(struct rsap_store *store, enum rsap_store_check_level level, bool malformed_found,
             struct rsap_store_check_report *out);

int pg_open(struct rsap_store *store, const char *location, enum rsap_store_mode mode,
            int busy_timeout_ms);
void pg_close(struct rsap_store *store);
int pg_schema_version(struct rsap_store *store);
int pg_location_schema_version(const char *location);
int pg_begin(struct rsap_store *store);
int pg_commit(struct rsap_store *store);
void pg_rollback(struct rsap_store *store);

/*
 * The name q's statement is prepared under on this connection (preparing it
 * if it runs for the second time), or NULL: run it unnamed.  0 or why not.
 */
int pg_prepared_name(struct rsap_store *store, const struct pg_query *q, const char **name);
/* The server forgot them (a new connection); and freeing them at close. */
void pg_prepared_forget(struct pg_conn *conn);
void pg_prepared_free(struct pg_conn *conn);

/* Following commits (follow.c): LISTEN on a connection of its own. */
int pg_follow_open(const char *location, void **out);
int pg_follow_wait(void *changes, int timeout_ms);
void pg_follow_close(void *changes);
/* A connection to location (a URI's rest, or libpq's key=value words). */
PGconn *pg_connect_to(const char *location);
int pg_event_append(struct rsap_store *store, const struct store_event *ev, const char *details,
                    int64_t *id_out);

/* A query of sql on the store's connection, for the operations' files (rows.c, check.c). */
static inline int pg_prepare(struct rsap_store *store, const char *sql, struct pg_query *q)
{
        pg_query_init(q, sql);
        return store->conn ? 0 : -ENOTCONN;
}

/* Listening intervals (intervals.c). */
int pg_interval_open(struct rsap_store *store, const struct rsap_interval *iv,
                  int64_t *id_out);
int pg_interval_close(struct rsap_store *store, int64_t id, int64_t ended_us);
int pg_intervals_close_unknown(struct rsap_store *store, int64_t *n_closed);
int pg_intervals_touch(struct rsap_store *store, int64_t now_us);
int pg_intervals_upkeep(struct rsap_store *store, const struct rsap_interval_policy *p,
                     int64_t now_us, struct rsap_interval_upkeep *out);
int pg_intervals(struct rsap_store *store, const struct rsap_interval_query *q,
              store_interval_visit *visit, void *arg);
