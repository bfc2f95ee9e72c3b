/* SPDX-License-Identifier: MIT */
/*
 * SQLite, loaded when rsap first opens a local registry.
 *
 * Most runs of rsap open none: `rsap 1647` without a registry.db reads the
 * IANA snapshot and asks the kernel, nothing else.  Linked into rsap, SQLite
 * cost every run at start all the same: the dynamic loader applied some
 * 1,700 relocations to its function tables and copied the nine pages they
 * sit in (rsap 1647: 0.784x getent with it, 0.759x without, bench-pairtime,
 * 2000 rounds, both in one run).  So SQLite is a module of rsap's own,
 * rsap-sqlite.so (libsqlite3.a whole, exporting the functions forwarded to
 * here and nothing else: cli/sqlite_map.py makes its version script from
 * this file), and rsap defines those functions as forwarders: the first call
 * loads the module, and every call goes on to SQLite's function.  A lookup
 * with a registry pays for the loading instead (about 0.1 ms); rsapd and the
 * tests link SQLite as before.
 *
 * Each forwarder is defined against <sqlite3.h>'s prototype, so the compiler
 * checks it.  rsap links no SQLite at all: a function librsap starts to call
 * without a forwarder here fails the link as an undefined reference.
 */
#include <stdarg.h>

#include <sqlite3.h>

#include "lazy_load.h"

static struct lazy_library sqlite = { .file = "rsap-sqlite.so",
                                      .needed_for = "the local registry" };

#define SQLITE_FORWARD(ret, name, params, args) LAZY_FORWARD(&sqlite, ret, name, params, args)

SQLITE_FORWARD(int, sqlite3_open_v2,
               (const char *file, sqlite3 **db, int flags, const char *vfs),
               (file, db, flags, vfs))
SQLITE_FORWARD(int, sqlite3_close_v2, (sqlite3 *db), (db))
SQLITE_FORWARD(int, sqlite3_busy_handler, (sqlite3 *db, int (*fn)(void *, int), void *arg),
               (db, fn, arg))
SQLITE_FORWARD(int, sqlite3_extended_result_codes, (sqlite3 *db, int on), (db, on))
SQLITE_FORWARD(int, sqlite3_db_readonly, (sqlite3 *db, const char *name), (db, name))
SQLITE_FORWARD(int, sqlite3_exec,
               (sqlite3 *db, const char *sql, int (*fn)(void *, int, char **, char **),
                void *arg, char **errmsg),
               (db, sql, fn, arg, errmsg))
SQLITE_FORWARD(int, sqlite3_prepare_v2,
               (sqlite3 *db, const char *sql, int len, sqlite3_stmt **st, const char **tail),
               (db, sql, len, st, tail))
SQLITE_FORWARD(int, sqlite3_bind_int, (sqlite3_stmt *st, int i, int v), (st, i, v))
SQLITE_FORWARD(int, sqlite3_bind_int64, (sqlite3_stmt *st, int i, sqlite3_int64 v), (st, i, v))
SQLITE_FORWARD(int, sqlite3_bind_null, (sqlite3_stmt *st, int i), (st, i))
SQLITE_FORWARD(int, sqlite3_bind_text,
               (sqlite3_stmt *st, int i, const char *v, int len, void (*free_fn)(void *)),
               (st, i, v, len, free_fn))
SQLITE_FORWARD(int, sqlite3_step, (sqlite3_stmt *st), (st))
SQLITE_FORWARD(int, sqlite3_column_type, (sqlite3_stmt *st, int col), (st, col))
SQLITE_FORWARD(int, sqlite3_column_int, (sqlite3_stmt *st, int col), (st, col))
SQLITE_FORWARD(sqlite3_int64, sqlite3_column_int64, (sqlite3_stmt *st, int col), (st, col))
SQLITE_FORWARD(const unsigned char *, sqlite3_column_text, (sqlite3_stmt *st, int col),
               (st, col))
SQLITE_FORWARD(int, sqlite3_finalize, (sqlite3_stmt *st), (st))
SQLITE_FORWARD(int, sqlite3_reset, (sqlite3_stmt *st), (st))
SQLITE_FORWARD(int, sqlite3_clear_bindings, (sqlite3_stmt *st), (st))
SQLITE_FORWARD(sqlite3 *, sqlite3_db_handle, (sqlite3_stmt *st), (st))
SQLITE_FORWARD(int, sqlite3_changes, (sqlite3 *db), (db))
SQLITE_FORWARD(sqlite3_int64, sqlite3_last_insert_rowid, (sqlite3 *db), (db))
SQLITE_FORWARD(int, sqlite3_extended_errcode, (sqlite3 *db), (db))
SQLITE_FORWARD(int, sqlite3_system_errno, (sqlite3 *db), (db))

/*
 * Variadic, so not a LAZY_FORWARD: forwarded for the options that take an
 * int and an int * (SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE and its kind), the
 * only ones librsap sets.  SQLITE_VARIADIC names it for cli/sqlite_map.py.
 */
#define SQLITE_VARIADIC(name)
SQLITE_VARIADIC(sqlite3_db_config)
int sqlite3_db_config(sqlite3 *db, int op, ...)
{
        static __typeof__(sqlite3_db_config) *lazy_real;
        __typeof__(sqlite3_db_config) *fn = __atomic_load_n(&lazy_real, __ATOMIC_ACQUIRE);
        va_list ap;
        int value, *out;

        va_start(ap, op);
        value = va_arg(ap, int);
        out = va_arg(ap, int *);
        va_end(ap);
        if (!fn) {
                fn = (__typeof__(sqlite3_db_config) *)lazy_symbol(&sqlite, "sqlite3_db_config");
                __atomic_store_n(&lazy_real, fn, __ATOMIC_RELEASE);
        }
        return fn(db, op, value, out);
}
