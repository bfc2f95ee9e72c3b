/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rsap/import.h>
#include <rsap/iana.h>

static inline size_t fuzz_touch(const char *s)
{
        return s ? strlen(s) : 0;
}

/* Reads every string of a record, so that the sanitizers see each byte. */
static inline size_t fuzz_touch_record(const struct rsap_record *r)
{
        size_t n = fuzz_touch(r->service) + fuzz_touch(r->description) +
                   fuzz_touch(r->registered) + fuzz_touch(r->modified) +
                   fuzz_touch(r->service_code) + fuzz_touch(r->unauthorized_use) +
                   fuzz_touch(r->notes);

        for (size_t i = 0; i < r->n_assignee; i++)
                n += fuzz_touch(r->assignee[i].id) + fuzz_touch(r->assignee[i].email);
        for (size_t i = 0; i < r->n_contact; i++)
                n += fuzz_touch(r->contact[i].id) + fuzz_touch(r->contact[i].name) +
                     fuzz_touch(r->contact[i].org) + fuzz_touch(r->contact[i].uri);
        for (size_t i = 0; i < r->n_references; i++)
                n += fuzz_touch(r->references[i].text) + fuzz_touch(r->references[i].url);
        return n;
}

/*
 * One importer on the fuzzer's bytes; what it accepts must also make a
 * snapshot that opens, and every record of it must read back.
 */
static inline void fuzz_import(int (*import)(const void *, size_t, struct rsap_builder *,
                                             struct rsap_import_error *),
                               const uint8_t *data, size_t size)
{
        struct rsap_builder *b = rsap_builder_new();
        struct rsap_import_error err;
        struct rsap_iana *reg = NULL;
        void *snap = NULL;
        size_t snap_size;

        if (!b)
                return;
        if (import(data, size, b, &err) == 0 && rsap_builder_finish(b, &snap, &snap_size) == 0) {
                if (rsap_iana_open_memory(snap, snap_size, &reg) != 0)
                        abort(); /* a snapshot the builder just wrote must open */
                for (uint32_t i = 0; i < rsap_iana_count(reg); i++) {
                        struct rsap_record r;

                        rsap_iana_record(reg, i, &r);
                        if (fuzz_touch_record(&r) == SIZE_MAX)
                                abort(); /* never; keeps the reads */
                }
                rsap_iana_free(reg);
                free(snap);
        }
        rsap_builder_free(b);
}
