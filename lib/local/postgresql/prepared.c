/* SPDX-License-Identifier: MIT */
/*
 * Statements prepared once per connection.  Sent unnamed (PQexecParams),
 * every statement is parsed and planned again by the server: in rsapd, on
 * a warm connection, that was two thirds of a lease's time on the server
 * (3.0 of 4.6 ms, log_min_duration_statement).  A statement is prepared
 * the second time its connection runs it, not the first: a one-shot rsap
 * command runs most of its statements once, and preparing them would cost
 * it a round trip each for nothing.  A statement is known by its text and
 * its parameters' types (the types are part of what the server prepared).
 * The server forgets them with the connection: pg_prepared_forget() after
 * a reconnection.  Past MAX_STATEMENTS texts (SQL built with a varying
 * list), the rest run unnamed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"

#define MAX_STATEMENTS 256

struct pg_statement {
        char *sql;
        Oid types[PG_MAX_PARAMS];
        int n_params;
        bool prepared;
        char name[24];
};

static bool same_statement(const struct pg_statement *s, const struct pg_query *q)
{
        return s->n_params == q->n_params && strcmp(s->sql, q->sql) == 0 &&
               memcmp(s->types, q->types, sizeof(Oid) * (size_t)q->n_params) == 0;
}

static struct pg_statement *find(struct pg_conn *conn, const struct pg_query *q)
{
        for (size_t i = 0; i < conn->n_statements; i++)
                if (same_statement(&conn->statements[i], q))
                        return &conn->statements[i];
        return NULL;
}

/* Noted at its first use: -ENOMEM or -ENOSPC (the table is full) leave it unnamed. */
static int note(struct pg_conn *conn, const struct pg_query *q)
{
        struct pg_statement *s;
        int r;

        if (conn->n_statements >= MAX_STATEMENTS)
                return -ENOSPC;
        r = rsap_grow(&conn->statements, &conn->statements_capacity, conn->n_statements + 1,
                      sizeof(*conn->statements));
        if (r < 0)
                return r;
        s = &conn->statements[conn->n_statements];
        *s = (struct pg_statement){ .sql = strdup(q->sql), .n_params = q->n_params };
        if (!s->sql)
                return -ENOMEM;
        memcpy(s->types, q->types, sizeof(Oid) * (size_t)q->n_params);
        snprintf(s->name, sizeof(s->name), "rsap_%zu", conn->n_statements);
        conn->n_statements++;
        return 0;
}

static int prepare(PGconn *db, struct pg_statement *s)
{
        PGresult *res = PQprepare(db, s->name, s->sql, s->n_params, s->types);
        int r = pg_result_errno(res);

        PQclear(res);
        if (r == 0)
                s->prepared = true;
        return r;
}

int pg_prepared_name(struct rsap_store *store, const struct pg_query *q, const char **name)
{
        struct pg_conn *conn = store->conn;
        struct pg_statement *s = find(conn, q);
        int r;

        *name = NULL;
        if (!s) {
                r = note(conn, q);
                return r == -ENOSPC ? 0 : r;
        }
        if (!s->prepared && (r = prepare(conn->db, s)) < 0)
                return r;
        *name = s->name;
        return 0;
}

void pg_prepared_forget(struct pg_conn *conn)
{
        for (size_t i = 0; i < conn->n_statements; i++)
                conn->statements[i].prepared = false;
}

void pg_prepared_free(struct pg_conn *conn)
{
        for (size_t i = 0; i < conn->n_statements; i++)
                free(conn->statements[i].sql);
        free(conn->statements);
        conn->statements = NULL;
        conn->n_statements = conn->statements_capacity = 0;
}
