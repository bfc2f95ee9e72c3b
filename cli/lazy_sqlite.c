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
#include <dlfcn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <sqlite3.h>

#include "lazy_load.h"

/*
 * SQLite's memory in a command.  Debian builds SQLite without its lookaside
 * allocator (SQLITE_OMIT_LOOKASIDE), so every one of the thousands of small
 * pieces a command's SQLite makes (its schema, parsed again by each process,
 * and each statement) was a malloc() and a free(): a fifth of an `rsap
 * lease`'s instructions.  Pieces up to SMALL_MAX bytes come from an arena
 * instead, with a list of given-back pieces per size to take first: no lock,
 * no merging, and the same few pages used again (a fresh page for each new
 * piece cost more in page faults than malloc() did).  The arena is ARENA_BYTES;
 * past it, and for larger pieces, malloc().
 */
#define ARENA_BYTES (1u << 20)
#define SMALL_MAX 1024
#define PIECE_HEADER sizeof(size_t) /* the piece's size, before it; keeps 8-byte alignment */

static unsigned char *arena;
static size_t arena_used;
static void *given_back[SMALL_MAX / 8 + 1]; /* by size / 8; each piece holds the next */

static size_t rounded(int n)
{
        return ((size_t)n + 7) & ~(size_t)7;
}

static bool in_arena(const void *p)
{
        return arena && (const unsigned char *)p >= arena &&
               (const unsigned char *)p < arena + ARENA_BYTES;
}

static size_t *header_of(void *p)
{
        return (size_t *)((unsigned char *)p - PIECE_HEADER);
}

static void *arena_piece(size_t size)
{
        size_t *header;
        void **list = &given_back[size / 8];

        if (*list) {
                void *p = *list;

                *list = *(void **)p;
                return p;
        }
        if (!arena || ARENA_BYTES - arena_used < size + PIECE_HEADER)
                return NULL;
        header = (size_t *)(arena + arena_used);
        arena_used += size + PIECE_HEADER;
        *header = size;
        return header + 1;
}

static void *arena_malloc(int n)
{
        size_t size = rounded(n), *header;
        void *p = size <= SMALL_MAX ? arena_piece(size) : NULL;

        if (p)
                return p;
        header = malloc(size + PIECE_HEADER);
        if (!header)
                return NULL;
        *header = size;
        return header + 1;
}

static void arena_free(void *p)
{
        void **list;

        if (!in_arena(p)) {
                free(header_of(p));
                return;
        }
        list = &given_back[*header_of(p) / 8];
        *(void **)p = *list;
        *list = p;
}

static void *arena_realloc(void *p, int n)
{
        size_t size = rounded(n), *header = header_of(p);
        void *moved;

        if (size <= *header)
                return p;
        moved = arena_malloc(n);
        if (moved) {
                memcpy(moved, p, *header);
                arena_free(p);
        }
        return moved;
}

static int arena_size(void *p)
{
        return (int)*header_of(p);
}

static int arena_roundup(int n)
{
        return (int)rounded(n);
}

static int arena_init(void *unused)
{
        arena = mmap(NULL, ARENA_BYTES, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (arena == MAP_FAILED)
                arena = NULL; /* malloc() for everything */
        return SQLITE_OK;
}

static void arena_shutdown(void *unused)
{
}

/* Under AddressSanitizer SQLite's pieces stay malloc()'s, which it watches:
 * a use of a row's text after the next step is then seen. */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_WANTED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_WANTED 0
#endif
#endif
#ifndef ARENA_WANTED
#define ARENA_WANTED 1
#endif

/*
 * SQLite as rsap's commands use it, set before its first call: the arena;
 * one thread (no command shares SQLite between threads, so no mutex is
 * taken); no memory statistics (each allocation took a mutex to count
 * itself).  An `rsap lease` on a small registry: 3.76 million instructions
 * before, 2.60 million after (callgrind), of which the rest of SQLite's
 * start (its schema) is most.
 */
#define SQLITE_VARIADIC(name)
SQLITE_VARIADIC(sqlite3_config)
static void configure(void *handle)
{
        static const sqlite3_mem_methods memory = {
                arena_malloc, arena_free, arena_realloc, arena_size, arena_roundup,
                arena_init, arena_shutdown, NULL,
        };
        int (*config)(int, ...) = (int (*)(int, ...))dlsym(handle, "sqlite3_config");

        if (!config)
                return; /* SQLite as it comes: slower, no less right */
        (void)config(SQLITE_CONFIG_SINGLETHREAD);
        (void)config(SQLITE_CONFIG_MEMSTATUS, 0);
        if (ARENA_WANTED)
                (void)config(SQLITE_CONFIG_MALLOC, &memory);
}

static struct lazy_library sqlite = { .file = "rsap-sqlite.so",
                                      .needed_for = "the local registry",
                                      .loaded = configure };

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
