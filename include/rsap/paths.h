/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include <rsap/iana.h>

/*
 * Where rsap keeps its data: the directory given (--db-dir), else
 * $RSAP_DB_DIR, else $XDG_DATA_HOME/rsap, else /var/lib/rsap for root, else
 * ~/.local/share/rsap.  -ENAMETOOLONG when it does not fit, -ENOENT when no
 * home directory is known.
 */
int rsap_data_dir(const char *override, char *buf, size_t size);

/* mkdir -p dir, each directory made 0755: 0, or the first error (-errno). */
int rsap_mkdir_parents(const char *dir);

/* The cached IANA snapshot inside a data directory. */
#define RSAP_CACHE_FILE "iana.snap"
int rsap_cache_path(const char *data_dir, char *buf, size_t size);

/* Where root's `rsap update` caches the registry for everyone. */
#define RSAP_SYSTEM_DATA_DIR "/var/lib/rsap"

/*
 * The cached copy lookups read: the data directory's, or, for a user with no
 * copy of their own and no directory named (--db-dir, $RSAP_DB_DIR), the
 * system's in RSAP_SYSTEM_DATA_DIR.  -ENOENT when there is none: lookups then
 * use the built-in copy.
 */
int rsap_cache_in_use(const char *data_dir_override, char *buf, size_t size);

/*
 * The registry lookups use: the cached copy from rsap_cache_in_use(), the
 * built-in copy otherwise.  A cached copy that exists but cannot be
 * read is an error (-EBADMSG, -EACCES...), never silently skipped; one in
 * another version's snapshot format is what an upgrade of rsap leaves, and
 * the built-in copy answers (rsap_snapshot_validate_file() tells).
 */
int rsap_iana_open_default(const char *data_dir_override, struct rsap_iana **out);
