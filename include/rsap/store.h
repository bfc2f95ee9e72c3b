/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rsap/time.h>

/*
 * The organisation's local registry: a store named by a URI (today one
 * SQLite database in WAL mode beside the cached IANA data, or wherever --db
 * puts it; lib/local/backend.h is what any backend implements).  It holds
 * an append-only table of events (every request, approval, lease... ever
 * recorded: who, when, on which host, what, why) and the current state
 * derived from them (services, requests, assignments, leases, and the
 * holdings that make a double assignment impossible at the database level).
 * Every change is one transaction that takes the write lock first (SQLite:
 * BEGIN IMMEDIATE), so checks and writes are serialised across processes.
 * See docs/registration.md.
 *
 * Errors are negative errno codes:
 *   -ENOENT     the database does not exist (read mode never creates it)
 *   -EBADMSG    corrupt, truncated, or not an SQLite database at all
 *   -EROFS      the file or its directory cannot be written (write mode)
 *   -EACCES     it cannot be read
 *   -EBUSY      another process held the lock past the busy timeout
 *   -EPROTONOSUPPORT  written by a newer rsap (schema version unknown);
 *               only this (rsap_store_file_schema_version() says which)
 *   -EMEDIUMTYPE  tables but no schema version: not a registry rsap made
 *   -ESTALE     an older schema, opened read-only: a write command upgrades it
 *   -ENOSPC     the disk is full (SQLITE_FULL, or a log that could not grow)
 *   -ENOTRECOVERABLE  the database's own integrity rules (its triggers:
 *               history is append-only, nothing is deleted) refused a write:
 *               a bug in rsap, or a database changed behind its back
 *   -EIO, -ENOMEM as their names say
 */

struct rsap_store;

/* The registry file inside a data directory (see rsap_data_dir()). */
#define RSAP_STORE_FILE "registry.db"
/* The schema this rsap writes; PRAGMA user_version holds the database's. */
#define RSAP_STORE_SCHEMA_VERSION 6
/*
 * How long a command waits in all for another's transaction before -EBUSY:
 * growing sleeps (1 ms doubling to 100 ms, randomised), so that fifty
 * writers on a loaded machine queue without one timing out.
 */
#define RSAP_STORE_DEFAULT_BUSY_TIMEOUT_MS 30000

enum rsap_store_mode {
        RSAP_STORE_READ = 0, /* lookups: never creates, never migrates, never writes */
        RSAP_STORE_WRITE,    /* creates the file (not its directory) and migrates */
        /*
         * READ for one lookup: what SQLite's port marks (registry.db-ports)
         * say has no entries is answered without opening the file; the file
         * opens at the first question they cannot answer, and an error of
         * that open comes from that question.
         */
        RSAP_STORE_LOOKUP,
};

/* <data dir>/registry.db for the data directory override (NULL: the default). */
int rsap_store_default_path(const char *data_dir_override, char *buf, size_t size);

/*
 * A store is named by a URI: a plain path or "sqlite:PATH" (the same
 * SQLite file; a relative file whose name has a colon is "./a:b").  The
 * scheme picks the backend from rsap's table of backends.
 *   -ENOSYS        a scheme rsap knows but has no backend for yet:
 *                  "postgresql://..." and "postgres://..."
 *   -EPFNOSUPPORT  any other scheme, or a URI that names nothing ("sqlite:")
 * rsap_store_uri_check() says so without opening anything;
 * rsap_store_uri_file() is the file a URI names (a pointer into uri), or
 * NULL when its backend keeps none or the URI is refused.
 */
int rsap_store_uri_check(const char *uri);
const char *rsap_store_uri_file(const char *uri);

/*
 * Opens the store uri names.  busy_timeout_ms <= 0 takes the default.  In
 * write mode a missing file is created with the current schema, and an
 * older schema is migrated in one transaction.
 */
int rsap_store_open(const char *uri, enum rsap_store_mode mode, int busy_timeout_ms,
                    struct rsap_store **out);
void rsap_store_close(struct rsap_store *store);
void rsap_store_closep(struct rsap_store **store);
/* What the URI names: for SQLite the file. */
const char *rsap_store_path(const struct rsap_store *store);
/*
 * The host the store speaks for, recorded in every event and with every
 * lease holder: rsap_host_name() (rsap/host.h) when it was opened.  A
 * process's liveness means something only on its own host.
 */
const char *rsap_store_host(const struct rsap_store *store);
/* PRAGMA user_version: 0 for a database no rsap has initialised. */
int rsap_store_schema_version(struct rsap_store *store);
/*
 * A number that changes whenever another connection (another process, or
 * another store opened on the file) commits a change to the registry; this
 * store's own writes leave it as it was.  A holder of what it read keeps it
 * while the number stays (SQLite: PRAGMA data_version).
 */
int rsap_store_data_version(struct rsap_store *store, int64_t *out);

/*
 * Commits to the store uri names, by any connection on any host, as they
 * happen: on its own connection, for one thread.  -EOPNOTSUPP for a
 * backend that cannot tell (SQLite: ask rsap_store_data_version()).
 * rsap_store_changes_wait() waits up to timeout_ms and answers 1 when a
 * commit came, or when the connection was made (again) and anything may
 * have been committed while nobody listened; 0 when none came; else a
 * negative errno code (-ECONNRESET: the connection was lost; -ECONNREFUSED:
 * the server does not answer), after which the next call tries again.
 */
struct rsap_store_changes;
int rsap_store_changes_open(const char *uri, struct rsap_store_changes **out);
int rsap_store_changes_wait(struct rsap_store_changes *changes, int timeout_ms);
void rsap_store_changes_free(struct rsap_store_changes *changes);
/*
 * The schema version of the store uri names (SQLite: the file's user_version,
 * opened read-only for just that), for a message after -EPROTONOSUPPORT; a
 * negative errno code if unreadable.
 */
int rsap_store_file_schema_version(const char *uri);
/* The schema version this rsap knows for the backend of uri (SQLite's is
 * RSAP_STORE_SCHEMA_VERSION); a negative errno code for a URI it cannot open. */
int rsap_store_known_schema_version(const char *uri);

/*
 * Tests pin the clock (microseconds since the epoch; 0 is the real clock) so
 * that TTLs and quarantines can be checked without sleeping.
 */
void rsap_store_set_clock(struct rsap_store *store, int64_t now_us);
/* Tests play another host in one process the same way (cut at 255 bytes). */
void rsap_store_set_host(struct rsap_store *store, const char *host);
int64_t rsap_store_now(const struct rsap_store *store);


/*
 * Re-derives the state (requests, assignments, services, leases, holdings)
 * from the event table and compares it with the state tables, after SQLite's
 * own integrity and foreign-key checks.  Returns 0 with n_problems set (0:
 * consistent), or a negative errno code when the check itself failed.
 */
#define RSAP_STORE_CHECK_MAX_PROBLEMS 16
struct rsap_store_check_report {
        size_t n_problems;          /* all found, possibly more than kept */
        char problems[RSAP_STORE_CHECK_MAX_PROBLEMS][200];
        int64_t events;             /* rows in the event table */
};
int rsap_store_check(struct rsap_store *store, struct rsap_store_check_report *out);
/* The same at the level FULL (rsap audit --consistency --full). */
int rsap_store_check_full(struct rsap_store *store, struct rsap_store_check_report *out);

/*
 * How deep rsap_store_check_level() looks.  QUICK: SQLite's quick_check
 * alone, without re-evaluating the CHECK constraints (each page and record
 * well formed, NOT NULL; what rsapd runs at start).  CONSISTENCY: the same
 * quick_check (every page of every table and index well formed, NOT NULL),
 * then the foreign keys and the state re-derived from the events (rsap db
 * check, rsap audit --consistency).  FULL: integrity_check with the CHECK
 * constraints instead, which also compares every index with its table
 * (--full of both).  A page SQLite cannot read is a problem found, not an
 * error.
 */
enum rsap_store_check_level {
        RSAP_STORE_CHECK_QUICK,
        RSAP_STORE_CHECK_CONSISTENCY,
        RSAP_STORE_CHECK_FULL,
};
int rsap_store_check_level(struct rsap_store *store, enum rsap_store_check_level level,
                           struct rsap_store_check_report *out);
