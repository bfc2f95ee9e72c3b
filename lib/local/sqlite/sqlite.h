/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The SQLite backend's own: its connection, result codes as negative errno
 * codes, and statements whose binds are checked: a bind that fails is
 * remembered and returned by the step, so no failed bind runs a statement.
 */
#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "../store_internal.h"

/*
 * Statements kept prepared for the connection's life, by their SQL: the
 * rules ask the same few questions more than once in a command (pick asks
 * each of its three twice), and on a small registry compiling a statement
 * costs more than running it.  A statement in use is never handed out twice.
 */
#define STATEMENT_CACHE_SIZE 16
struct cached_statement {
        char *sql;
        sqlite3_stmt *stmt;
        bool in_use;
};

struct sqlite_conn {
        sqlite3 *db;
        int busy_budget_ms;      /* how long a lock is waited for in all */
        int64_t busy_since_us;   /* monotonic: when the current wait began */
        char *log_path;          /* a writer's -wal file, checkpointed at close when big */
        struct cached_statement cache[STATEMENT_CACHE_SIZE];
        /* The port marks (port_marks.c): -1 when there are none to read or keep. */
        int marks_fd;
        bool marks_kept;         /* a writer's: rebuilt, set, synced and stamped */
        bool marks_need_sync;    /* this transaction set a mark a power cut must keep */
        /* RSAP_STORE_LOOKUP with trusted marks: the file opens at the first statement. */
        char *deferred_path;
        int deferred_busy_ms;
        int open_error;          /* why that open failed */
};

/* 0 once the connection is open (a deferred one opens here), else why not. */
int sqlite_ready(struct rsap_store *store);

static inline sqlite3 *store_db(struct rsap_store *store)
{
        (void)sqlite_ready(store); /* failing, db is NULL and SQLite says SQLITE_MISUSE */
        return ((struct sqlite_conn *)store->conn)->db;
}

/*
 * The port marks, registry.db-ports (port_marks.c).  A lookup's: the open
 * marks when their stamp is the files as they stand (else -ESTALE, -ENOENT
 * or -EBADMSG), and whether any of low..high is marked.  A writer's: begin
 * (inside the write lock) rebuilds them when they are not trusted, set marks
 * a port a row names, sync before the commit, stamp after it.
 */
int port_marks_open_trusted(const char *db_path, int *fd_out);
/* Every port a row names: what the marks must mark. */
#define NAMED_PORTS_SQL                                                                    \
        "SELECT port FROM assignments UNION SELECT port FROM requests"                   \
        " WHERE port IS NOT NULL UNION SELECT port FROM leases"
int port_marks_any(int fd, uint16_t low, uint16_t high, bool *any);
void port_marks_begin(struct rsap_store *store);
int port_marks_set(struct rsap_store *store, int port, bool durable);
int port_marks_sync(struct rsap_store *store);
void port_marks_stamp(struct rsap_store *store);
/* From before a commit until its stamp is written: other writers wait for the stamp. */
void port_marks_hold_stamp(struct rsap_store *store, bool hold);
bool port_marks_trusted(struct rsap_store *store);
/* Whether the marks of a deferred lookup say low..high has nothing: no open needed. */
bool port_marks_rule_out(struct rsap_store *store, uint16_t low, uint16_t high);

/* A SQLite result code (extended or primary) as a negative errno code. */
int store_errno(int rc);
/* store_errno() of the connection's last error. */
int store_last_errno(sqlite3 *db);
int store_exec(sqlite3 *db, const char *sql);

/* A prepared statement and the first failure of its binds. */
struct query {
        sqlite3_stmt *stmt;
        int bind_error;
        struct cached_statement *cached; /* where stmt goes back; NULL: finalized */
};
int query_prepare(struct rsap_store *store, const char *sql, struct query *q);
void query_finish(struct query *q); /* for _cleanup_ */
/* SQLITE_ROW: 1, SQLITE_DONE: 0, else (or after a failed bind) a negative errno code. */
int query_step(struct query *q);
/* A statement that returns no rows: 0 or a negative errno code. */
int query_done(struct query *q);

void bind_int(struct query *q, int index, int64_t value);
/* NULL for NULL and for "" (absent values are NULL, never ""). */
void bind_text(struct query *q, int index, const char *text);
/* NULL for 0: row ids start at 1. */
void bind_id(struct query *q, int index, int64_t id);
/* NULL for a negative port (none). */
void bind_port(struct query *q, int index, int port);
/* NULL for RSAP_PROTO_NONE. */
void bind_proto(struct query *q, int index, enum rsap_proto proto);

/* A copy of column i, or NULL when it is NULL (check errno for ENOMEM). */
char *column_strdup(struct query *q, int i);
/* Borrowed until the next step; NULL when NULL. */
const char *column_text(struct query *q, int i);
enum rsap_proto column_proto(struct query *q, int i);
int64_t column_int(struct query *q, int i);
bool column_is_null(struct query *q, int i);

int sqlite_check(struct rsap_store *store, enum rsap_store_check_level level,
                 bool malformed_found, struct rsap_store_check_report *out);

/* The operations of store_backend_sqlite (backend.h says what each does). */
int sqlite_open(struct rsap_store *store, const char *path, enum rsap_store_mode mode,
                int busy_timeout_ms);
void sqlite_close(struct rsap_store *store);
int sqlite_schema_version(struct rsap_store *store);
int sqlite_data_version(struct rsap_store *store, int64_t *out);
int sqlite_location_schema_version(const char *path);
int sqlite_begin(struct rsap_store *store);
int sqlite_commit(struct rsap_store *store);
void sqlite_rollback(struct rsap_store *store);
int sqlite_event_append(struct rsap_store *store, const struct store_event *ev,
                        const char *details, int64_t *id_out);

/* Listening intervals (intervals.c). */
int sqlite_interval_open(struct rsap_store *store, const struct rsap_interval *iv,
                         int64_t *id_out);
int sqlite_interval_close(struct rsap_store *store, int64_t id, int64_t ended_us);
int sqlite_intervals_close_unknown(struct rsap_store *store, int64_t *n_closed);
int sqlite_intervals_touch(struct rsap_store *store, int64_t now_us);
int sqlite_intervals_upkeep(struct rsap_store *store, const struct rsap_interval_policy *p,
                            int64_t now_us, struct rsap_interval_upkeep *out);
int sqlite_intervals(struct rsap_store *store, const struct rsap_interval_query *q,
                     store_interval_visit *visit, void *arg);
