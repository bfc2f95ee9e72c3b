/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rsap/import.h>

/*
 * `rsap update`: fetch IANA's registry (libcurl for URLs, a plain read for
 * files), parse it whole, check it, and only then replace the cached snapshot
 * with an atomic rename.  Nothing on disk changes unless every step passed.
 */

/* Input larger than this is refused (-EFBIG): IANA's XML is about 4 MB. */
#define RSAP_UPDATE_MAX_BYTES (64u << 20)
/* A registry with fewer records is refused as partial (IANA has ~14,500). */
#define RSAP_UPDATE_MIN_RECORDS 10000u

/* How long a download may take in all, unless the options say otherwise. */
#define RSAP_UPDATE_DEFAULT_TIMEOUT 120u

struct rsap_update_options {
        /* http(s):// or file:/// URL, or a path to a regular file; NULL: the default URL */
        const char *from;
        const char *data_dir; /* NULL: rsap_data_dir()'s default */
        /* Called while downloading; total is 0 when unknown. */
        void (*progress)(void *userdata, uint64_t done, uint64_t total);
        void *userdata;
        unsigned timeout_s;  /* the whole download; 0: RSAP_UPDATE_DEFAULT_TIMEOUT */
        /* Take a release older than the cached one, or dated in the future. */
        bool allow_any_date;
};

struct rsap_update_result {
        enum rsap_format format;
        size_t bytes;
        size_t records;
        char release[64];
        char path[4096]; /* the snapshot written */
};

/*
 * 0 on success.  On failure a negative errno and err->message says why in one
 * line: -ENOENT/-EACCES for an unreadable file, -EHOSTUNREACH/-EIO for a failed
 * download, -ETIMEDOUT past the time limit, -EBADMSG for malformed data or data
 * that fails the checks, -EFBIG, -EINVAL for a FIFO, device or unknown URL
 * scheme, -ESTALE for a release older than the cached one or dated in the
 * future, -EPERM when root would write into a directory another user controls.
 */
int rsap_update(const struct rsap_update_options *opts, struct rsap_update_result *result,
                struct rsap_import_error *err);

/* The checks an update makes before installing: enough records, core ports. */
int rsap_update_check(const struct rsap_iana *reg, struct rsap_import_error *err);
