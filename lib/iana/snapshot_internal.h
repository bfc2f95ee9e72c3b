/* SPDX-License-Identifier: MIT */
#pragma once

#include <rsap/fileio.h>

#include "snapshot_format.h"

/* A snapshot opened for reading: pointers into the block, never copies. */
struct rsap_iana {
        const struct snap_header *h;
        size_t size;
        const struct snap_record *records;
        const struct snap_person *people;
        const uint32_t *lists;
        const uint32_t *port_first;
        const uint32_t *port_entries;
        const uint32_t *name_slots;
        const char *strings;
        struct rsap_file_copy owned; /* the file's bytes, read into memory */
        char *origin; /* the file's path, NULL for built-in or memory */
};

/* NULL for offset 0 or an offset past the strings. */
const char *registry_string(const struct rsap_iana *reg, uint32_t off);
/* A list's item count (items of width words each) and its first item. */
uint32_t registry_list(const struct rsap_iana *reg, uint32_t off, uint32_t width,
                       const uint32_t **items);
