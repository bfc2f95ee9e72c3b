/* SPDX-License-Identifier: MIT */
/*
 * The snapshot reader on outside data: a cached iana.snap is a file anyone
 * who can write the data directory (or a broken disk) controls.  Every
 * snapshot holds 1.3 MB of port tables, far more than a fuzzer input, so the
 * input is read two ways:
 *
 *  - starting with the snapshot magic, it is a whole snapshot (short ones
 *    test the header checks);
 *  - otherwise it is a list of patches to a valid snapshot built once from a
 *    small registry: [region][offset: 4 bytes LE][length][bytes], region 0
 *    the header, 1 the records, 2 the people, 3 the lists, 4 the strings,
 *    5 the ports' first entries, 6 the port entries, anything else the
 *    whole file.
 *
 * What opens is then read through every accessor, for every record.
 */
#include <stdbool.h>
#include <stdint.h>

#include "fuzz_common.h"

/* The layout of lib/iana/snapshot_format.h's struct snap_header, as offsets. */
enum {
        HEADER_SIZE = 88,
        H_N_RECORDS = 36,
        H_N_PEOPLE = 40,
        H_RECORDS_OFF = 44,
        H_PEOPLE_OFF = 48,
        H_LISTS_OFF = 52,
        H_N_LIST_WORDS = 56,
        H_PORT_FIRST_OFF = 60,
        H_PORT_ENTRIES_OFF = 64,
        H_N_PORT_ENTRIES = 68,
        H_STRINGS_OFF = 80,
        H_STRINGS_SIZE = 84,
        RECORD_SIZE = 48,
        PERSON_SIZE = 20,
};

static const char base_csv[] =
        "Service Name,Port Number,Transport Protocol,Description,Assignee,Contact,"
        "Registration Date,Modification Date,Reference,Service Code,"
        "Unauthorized Use Reported,Assignment Notes\n"
        ",0,tcp,Reserved,,,,2024-12-20,[RFC6335],,,\n"
        ",225-241,,Reserved,,,,,,,,\n"
        "active-net,3322-3325,,Active Networks,[Bob_Braden_2][Holger_Reif],"
        "[Bob_Braden_2][Holger_Reif],,,,,,\n"
        "exp1,1021,sctp,RFC3692-style Experiment 1,[IESG],[IETF_Chair],2005-05,,"
        "[1][RFC4727][RFC6335],,,\n"
        "discard,9,dccp,Discard,[Eddie_Kohler],[Eddie_Kohler],2009-06-15,2022-02-07,"
        "\"[draft-ietf-dccp-spec-11][https://example.org/spec][RFC8765, Section 6.1]\","
        "1145656131,,\n"
        "x11,6000-6063,tcp,X Window System,[Stephen_Gildea],[Stephen_Gildea],,,,,"
        "Known Unauthorized Use on port 6003,\n"
        "sql*net,66,tcp,Oracle SQL*NET,[Jack_Haverty],[Jack_Haverty],,,,,,"
        "\"This entry is an alias to \"\"sql-net\"\".\"\n"
        "rsap,1647,tcp,rsap,[Someone],[Someone],2025-01,,,,,\n"
        "rsap,1647,udp,rsap,[Someone],[Someone],2025-01,,,,,\n"
        ",359,udp,Reserved,,,,2023-11-16,,,,De-Assigned on 2023-11-16.\n";

static void *base;
static size_t base_size;
/* The patched copy: allocated once (a fresh 1.3 MB buffer per input made the
 * target crawl under ASan), exactly base_size long, so overreads still trip. */
static unsigned char *patched;

static void build_base(void)
{
        struct rsap_builder *b = rsap_builder_new();
        struct rsap_import_error err;

        if (!b || rsap_import_iana_csv(base_csv, sizeof(base_csv) - 1, b, &err) != 0 ||
            rsap_builder_finish(b, &base, &base_size) != 0)
                abort(); /* the base registry is the target's own: it must build */
        rsap_builder_free(b);
        patched = malloc(base_size); /* malloc's alignment is the 8 a snapshot needs */
        if (!patched)
                abort();
}

static uint32_t word(const unsigned char *snap, size_t off)
{
        uint32_t v;

        memcpy(&v, snap + off, sizeof(v));
        return v;
}

/* Where a patch of region lands: a part's start and length, clamped to the file. */
static void region_span(const unsigned char *snap, size_t size, unsigned region, size_t *start,
                        size_t *len)
{
        uint64_t off = 0, n = size;

        switch (region) {
        case 0: n = HEADER_SIZE; break;
        case 1: off = word(snap, H_RECORDS_OFF); n = (uint64_t)word(snap, H_N_RECORDS) * RECORD_SIZE; break;
        case 2: off = word(snap, H_PEOPLE_OFF); n = (uint64_t)word(snap, H_N_PEOPLE) * PERSON_SIZE; break;
        case 3: off = word(snap, H_LISTS_OFF); n = (uint64_t)word(snap, H_N_LIST_WORDS) * 4; break;
        case 4: off = word(snap, H_STRINGS_OFF); n = word(snap, H_STRINGS_SIZE); break;
        case 5: off = word(snap, H_PORT_FIRST_OFF); n = (uint64_t)RSAP_PROTO_COUNT * 65537 * 4; break;
        case 6: off = word(snap, H_PORT_ENTRIES_OFF); n = (uint64_t)word(snap, H_N_PORT_ENTRIES) * 4; break;
        default: break;
        }
        if (off >= size)
                off = 0;
        if (n == 0 || n > size - off)
                n = size - off;
        *start = (size_t)off;
        *len = (size_t)n;
}

static void apply_patches(unsigned char *snap, size_t size, const uint8_t *data, size_t left)
{
        while (left >= 6) {
                size_t start, span, at, n = data[5];

                region_span(snap, size, data[0], &start, &span);
                at = start + (data[1] | (size_t)data[2] << 8 | (size_t)data[3] << 16 |
                              (size_t)data[4] << 24) % span;
                data += 6;
                left -= 6;
                if (n > left)
                        n = left;
                if (n > size - at)
                        n = size - at;
                memcpy(snap + at, data, n);
                data += n;
                left -= n;
        }
}

/* Every accessor, for every record; what they return is read to its end. */
static void read_all(const struct rsap_iana *reg)
{
        struct rsap_iana_info info;
        struct rsap_search_hit hits[8];
        uint32_t ids[64];
        size_t n = 0;

        rsap_iana_info(reg, &info);
        n += fuzz_touch(info.release);
        for (uint32_t i = 0; i < rsap_iana_count(reg) && i < 4096; i++) {
                struct rsap_record r;
                size_t found;

                rsap_iana_record(reg, i, &r);
                n += fuzz_touch_record(&r);
                found = rsap_iana_find_port(reg, r.port_low, r.proto, ids, 64);
                found += rsap_iana_find_port(reg, r.port_high, RSAP_PROTO_NONE, ids, 64);
                n += found + (size_t)rsap_iana_port_status(reg, r.port_low, r.proto);
                n += fuzz_touch(rsap_iana_service_name(reg, r.port_low, r.proto));
                if (r.service)
                        n += rsap_iana_find_name(reg, r.service, ids, 64);
                /* A search reads every record and its people: for two only,
                 * or a patched record count of thousands, each naming
                 * dozens of long strings, makes one input take seconds. */
                if (r.service && i < 2)
                        n += rsap_iana_search(reg, r.service, hits, 8);
        }
        if (n == SIZE_MAX)
                abort(); /* never; keeps the reads */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct rsap_iana *reg = NULL;
        unsigned char *snap;
        size_t snap_size;

        if (!base)
                build_base();
        if (size >= 8 && memcmp(data, base, 8) == 0) {
                snap_size = size;
                snap = malloc(size);
                if (!snap)
                        return 0;
                memcpy(snap, data, size);
        } else {
                snap_size = base_size;
                snap = patched;
                memcpy(snap, base, base_size);
                apply_patches(snap, snap_size, data, size);
        }
        /* The checksum over 1.3 MB would cost more than all the rest, and a
         * patch almost never keeps it right: whole snapshots only. */
        if (snap != patched)
                (void)rsap_snapshot_validate(snap, snap_size);
        if (rsap_iana_open_memory(snap, snap_size, &reg) == 0) {
                read_all(reg);
                rsap_iana_free(reg);
        }
        if (snap != patched)
                free(snap);
        return 0;
}
