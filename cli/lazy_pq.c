/* SPDX-License-Identifier: MIT */
/*
 * libpq, loaded when rsap first opens a PostgreSQL store (--db
 * postgresql://...).  Linked into rsap, libpq brought 24 shared libraries
 * with it (OpenSSL, GnuTLS, Kerberos, LDAP, SASL ...), which the dynamic
 * loader mapped and relocated at every start, registry or not (LD_DEBUG=
 * statistics: 1.1-1.6 million cycles in the loader for `rsap 1647`).  As
 * for SQLite (lazy_sqlite.c), rsap defines the functions lib/local/postgresql/
 * calls as forwarders, and the first call loads the system's libpq.so.5;
 * rsapd and the tests link libpq as usual.  Each forwarder is defined
 * against <libpq-fe.h>'s prototype, so the compiler checks it; a function
 * the backend starts to call without one here fails rsap's link.
 */
#include <libpq-fe.h>

#include "lazy_load.h"

static struct lazy_library libpq = { .file = "libpq.so.5", .system = true,
                                     .needed_for = "a PostgreSQL store" };

#define PQ_FORWARD(ret, name, params, args) LAZY_FORWARD(&libpq, ret, name, params, args)

PQ_FORWARD(PGconn *, PQconnectdb, (const char *conninfo), (conninfo))
PQ_FORWARD(PQnoticeProcessor, PQsetNoticeProcessor,
           (PGconn *conn, PQnoticeProcessor proc, void *arg), (conn, proc, arg))
PQ_FORWARD(int, PQenterPipelineMode, (PGconn *conn), (conn))
PQ_FORWARD(int, PQexitPipelineMode, (PGconn *conn), (conn))
PQ_FORWARD(int, PQpipelineSync, (PGconn *conn), (conn))
PQ_FORWARD(int, PQsendQueryParams,
           (PGconn *conn, const char *command, int nParams, const Oid *paramTypes,
            const char *const *paramValues, const int *paramLengths, const int *paramFormats,
            int resultFormat),
           (conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats,
            resultFormat))
PQ_FORWARD(int, PQsendQueryPrepared,
           (PGconn *conn, const char *stmtName, int nParams, const char *const *paramValues,
            const int *paramLengths, const int *paramFormats, int resultFormat),
           (conn, stmtName, nParams, paramValues, paramLengths, paramFormats, resultFormat))
PQ_FORWARD(PGresult *, PQprepare,
           (PGconn *conn, const char *stmtName, const char *query, int nParams,
            const Oid *paramTypes),
           (conn, stmtName, query, nParams, paramTypes))
PQ_FORWARD(PGresult *, PQexecPrepared,
           (PGconn *conn, const char *stmtName, int nParams, const char *const *paramValues,
            const int *paramLengths, const int *paramFormats, int resultFormat),
           (conn, stmtName, nParams, paramValues, paramLengths, paramFormats, resultFormat))
PQ_FORWARD(PGresult *, PQgetResult, (PGconn *conn), (conn))
PQ_FORWARD(int, PQsocket, (const PGconn *conn), (conn))
PQ_FORWARD(int, PQconsumeInput, (PGconn *conn), (conn))
PQ_FORWARD(PGnotify *, PQnotifies, (PGconn *conn), (conn))
PQ_FORWARD(ConnStatusType, PQstatus, (const PGconn *conn), (conn))
PQ_FORWARD(PGTransactionStatusType, PQtransactionStatus, (const PGconn *conn), (conn))
PQ_FORWARD(PGresult *, PQexec, (PGconn *conn, const char *query), (conn, query))
PQ_FORWARD(PGresult *, PQexecParams,
           (PGconn *conn, const char *command, int nParams, const Oid *paramTypes,
            const char *const *paramValues, const int *paramLengths, const int *paramFormats,
            int resultFormat),
           (conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats,
            resultFormat))
PQ_FORWARD(ExecStatusType, PQresultStatus, (const PGresult *res), (res))
PQ_FORWARD(char *, PQresultErrorField, (const PGresult *res, int fieldcode), (res, fieldcode))
PQ_FORWARD(int, PQntuples, (const PGresult *res), (res))
PQ_FORWARD(char *, PQcmdTuples, (PGresult *res), (res))
PQ_FORWARD(int, PQgetisnull, (const PGresult *res, int tup_num, int field_num),
           (res, tup_num, field_num))
PQ_FORWARD(char *, PQgetvalue, (const PGresult *res, int tup_num, int field_num),
           (res, tup_num, field_num))

/* Without a result or a connection there is nothing to free: libpq need not load for that. */
void PQclear(PGresult *res)
{
        static void (*real)(PGresult *);

        if (!res)
                return;
        if (!real)
                real = (void (*)(PGresult *))lazy_symbol(&libpq, "PQclear");
        real(res);
}

void PQfinish(PGconn *conn)
{
        static void (*real)(PGconn *);

        if (!conn)
                return;
        if (!real)
                real = (void (*)(PGconn *))lazy_symbol(&libpq, "PQfinish");
        real(conn);
}

void PQreset(PGconn *conn)
{
        static void (*real)(PGconn *);

        if (!real)
                real = (void (*)(PGconn *))lazy_symbol(&libpq, "PQreset");
        real(conn);
}

void PQfreemem(void *ptr)
{
        static void (*real)(void *);

        if (!ptr)
                return;
        if (!real)
                real = (void (*)(void *))lazy_symbol(&libpq, "PQfreemem");
        real(ptr);
}
