/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <rsap/basic.h>
#include <rsap/iana.h>

/*
 * The snapshot: one block of bytes readable in place, so that the built-in
 * copy costs nothing to open and a cached copy is only mapped.  Every field is
 * in host byte order (the endian marker refuses a foreign file) and every
 * reference is an offset checked against the block's bounds before use.
 *
 *   header | records | people | lists (uint32 words) | port index | strings
 *
 * Strings: offset 0 is the empty string and means "absent".
 * Lists: word 0 is unused so that 0 means "empty list"; a list is its count
 * followed by that many items (a person is one word, a reference three).
 * Port index: one slot per port and protocol, the protocols of a port side
 * by side (RSAP_PROTO_NONE first), so that a lookup of every protocol of a
 * port reads one cache line rather than a page per protocol; the records of
 * slot s = port * RSAP_PROTO_COUNT + proto are port_entries[first[s] ..
 * first[s + 1]).  Version 1 had a table per protocol.
 * Name index: open addressing over a power-of-two table of list offsets; each
 * list holds the records of one case-folded service name.
 */
#define SNAP_MAGIC "RSAPSNAP"
#define SNAP_VERSION 2u
#define SNAP_ENDIAN 0x01020304u
#define SNAP_PORT_SLOTS (65536u * RSAP_PROTO_COUNT)
#define SNAP_PORT_FIRST_WORDS (SNAP_PORT_SLOTS + 1u)

struct snap_header {
        char magic[8];
        uint32_t version;
        uint32_t endian;
        uint64_t size;
        uint32_t checksum; /* FNV-1a of every byte after the header */
        uint32_t source;
        uint32_t release;  /* string */
        uint32_t n_records;
        uint32_t n_people;
        uint32_t records_off;
        uint32_t people_off;
        uint32_t lists_off;
        uint32_t n_list_words;
        uint32_t port_first_off;   /* SNAP_PORT_FIRST_WORDS words */
        uint32_t port_entries_off;
        uint32_t n_port_entries;
        uint32_t name_slots_off;
        uint32_t n_name_slots;     /* a power of two */
        uint32_t strings_off;
        uint32_t strings_size;
};

struct snap_record {
        uint32_t service, description, registered, modified;
        uint32_t service_code, unauthorized, notes;
        uint32_t assignee, contact, references; /* lists */
        uint16_t port_low, port_high;
        uint8_t proto, status, has_port, pad;
};

struct snap_person {
        uint32_t id, name, org, email, uri;
};

uint32_t rsap_fnv1a(const void *data, size_t size);

