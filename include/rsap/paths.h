/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/*
 * Where rsap keeps its data: the directory given (--db-dir), else
 * $RSAP_DB_DIR, else $XDG_DATA_HOME/rsap, else /var/lib/rsap for root, else
 * ~/.local/share/rsap.  -ENAMETOOLONG when it does not fit, -ENOENT when no
 * home directory is known.
 */
int rsap_data_dir(const char *override, char *buf, size_t size);

/* "a/b" (b NULL: "a") into buf: 0 or -ENAMETOOLONG. */
int rsap_path_join(char *buf, size_t size, const char *a, const char *b);

/* mkdir -p dir, each directory made 0755: 0, or the first error (-errno). */
int rsap_mkdir_parents(const char *dir);

/* Where root's `rsap update` caches IANA's registry for everyone. */
#define RSAP_SYSTEM_DATA_DIR "/var/lib/rsap"
