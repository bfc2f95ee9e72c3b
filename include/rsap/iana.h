/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rsap/port.h>

/*
 * The IANA model.  Records are built with a builder (by the importers), frozen
 * into a snapshot (one flat, position-independent block of bytes: compiled into
 * the binary, or cached on disk by `rsap update`), and read in place through a
 * struct rsap_iana.  Strings returned by the reader point into the snapshot
 * and live as long as the registry.
 */

enum rsap_status {
        RSAP_STATUS_UNASSIGNED = 0,
        RSAP_STATUS_RESERVED,
        RSAP_STATUS_ASSIGNED,
};

enum rsap_source {
        RSAP_SOURCE_BUILTIN = 0, /* IANA's XML release in data/, compiled in */
        RSAP_SOURCE_IANA_XML,
        RSAP_SOURCE_IANA_CSV,
};

enum rsap_ref_type {
        RSAP_REF_RFC = 0,
        RSAP_REF_DRAFT,
        RSAP_REF_URI,
        RSAP_REF_TEXT,
        RSAP_REF_NOTE, /* a footnote of the registry, such as [1] */
};

struct rsap_person {
        const char *id;    /* IANA's opaque person id, such as "Holger_Reif" */
        const char *name;  /* NULL when the registry gives none */
        const char *org;
        const char *email; /* '&' turned back into '@' */
        const char *uri;   /* the first non-mailto URI, if any */
};

struct rsap_reference {
        enum rsap_ref_type type;
        const char *text; /* what the registry shows: "RFC6335", a draft name, a label */
        const char *url;  /* NULL when there is none */
};

/* Limits that keep a record a fixed-size value; importers refuse more. */
#define RSAP_MAX_PEOPLE 8
#define RSAP_MAX_REFERENCES 16

struct rsap_record {
        const char *service;     /* NULL when the record has no name */
        bool has_port;           /* false for a name-only record */
        uint16_t port_low, port_high;
        enum rsap_proto proto;   /* RSAP_PROTO_NONE: every transport */
        enum rsap_status status; /* derived, see rsap_status_derive() */
        const char *description;
        size_t n_assignee, n_contact, n_references;
        struct rsap_person assignee[RSAP_MAX_PEOPLE];
        struct rsap_person contact[RSAP_MAX_PEOPLE];
        struct rsap_reference references[RSAP_MAX_REFERENCES];
        const char *registered;  /* "YYYY-MM" or "YYYY-MM-DD" */
        const char *modified;
        const char *service_code; /* DCCP service code, decimal */
        const char *unauthorized_use;
        const char *notes;
        enum rsap_source source;
};

/*
 * Assigned when the record has a service name.  Otherwise Reserved when the
 * description starts with "Reserved", Unassigned when it mentions
 * "unassigned", and for the few other unnamed rows ("any private mail
 * system", "De-registered") Assigned when a person holds them, else
 * Unassigned.
 */
enum rsap_status rsap_status_derive(const char *service, const char *description,
                                    size_t n_people);
const char *rsap_status_name(enum rsap_status status);
const char *rsap_source_name(enum rsap_source source);
const char *rsap_ref_type_name(enum rsap_ref_type type);
/*
 * The well-formed name a historic record's notes give ("This entry is an
 * alias to \"sql-net\"."): 0 with it in buf, else -ENOENT.
 */
int rsap_record_replacement(const struct rsap_record *r, char *buf, size_t size);

/* ---- building ---------------------------------------------------------- */

struct rsap_builder;

struct rsap_builder *rsap_builder_new(void);
void rsap_builder_set_source(struct rsap_builder *b, enum rsap_source source);
void rsap_builder_free(struct rsap_builder *b);
/* The release date of the data ("2025-12-15"), when the source says. */
int rsap_builder_set_release(struct rsap_builder *b, const char *release);
/* Persons may be added before or after the records that name them. */
int rsap_builder_add_person(struct rsap_builder *b, const struct rsap_person *p);
/*
 * Copies the record.  Persons in assignee/contact are looked up by id when the
 * snapshot is finished; only their id field is read here.  The status field is
 * ignored and derived.  -EINVAL for a record that breaks the model (port_low >
 * port_high, too many people or references).
 */
int rsap_builder_add_record(struct rsap_builder *b, const struct rsap_record *r);
size_t rsap_builder_count(const struct rsap_builder *b);
/* Resolves persons and writes the snapshot into a malloc'ed buffer. */
int rsap_builder_finish(struct rsap_builder *b, void **data_out, size_t *size_out);

/* ---- reading ----------------------------------------------------------- */

struct rsap_iana;

struct rsap_iana_info {
        enum rsap_source source;
        const char *release;  /* NULL when unknown */
        const char *origin;   /* "built-in" or the cached file's path */
        size_t records;
        size_t people;
};

/* The copy compiled into the library. */
int rsap_iana_open_builtin(struct rsap_iana **out);
/*
 * A snapshot file, read into memory the registry owns (never mapped, so
 * nothing done to the file afterwards reaches the registry): -ENOENT,
 * -EBADMSG when corrupt or not a regular file, -EPROTONOSUPPORT when
 * written by a version of rsap with another snapshot format.
 */
int rsap_iana_open_file(const char *path, struct rsap_iana **out);
/* The same, with the whole checksum checked too (what rsapd swaps in). */
int rsap_iana_open_file_verified(const char *path, struct rsap_iana **out);
/* Files past this size are not snapshots (IANA's whole registry is ~3.3 MB). */
#define RSAP_SNAPSHOT_MAX_BYTES (256u << 20)
/* A snapshot in memory; the registry copies nothing, the caller keeps data alive. */
int rsap_iana_open_memory(const void *data, size_t size, struct rsap_iana **out);
/* Checks a snapshot's structure without opening it: 0, -EBADMSG or
 * -EPROTONOSUPPORT (another format version). */
int rsap_snapshot_validate(const void *data, size_t size);
/*
 * Reads a snapshot file and checks it end to end, checksum
 * included, with rsap_snapshot_validate: 0, -ENOENT, -EISDIR, -EBADMSG,
 * -EPROTONOSUPPORT...
 */
int rsap_snapshot_validate_file(const char *path);
/* An open registry's bytes against their checksum: 0 or -EBADMSG. */
int rsap_iana_verify(const struct rsap_iana *reg);
void rsap_iana_free(struct rsap_iana *reg);
void rsap_iana_freep(struct rsap_iana **reg);

void rsap_iana_info(const struct rsap_iana *reg, struct rsap_iana_info *out);
size_t rsap_iana_count(const struct rsap_iana *reg);
/* Fills out with record number i (0 <= i < count). */
void rsap_iana_record(const struct rsap_iana *reg, uint32_t i, struct rsap_record *out);

/*
 * Record numbers for a port on one transport, including the protocol-less
 * records and the range records that cover it, in registry order.  Returns how
 * many there are; fills at most max.  proto RSAP_PROTO_NONE asks for the
 * records of every transport.
 */
size_t rsap_iana_find_port(const struct rsap_iana *reg, uint16_t port,
                           enum rsap_proto proto, uint32_t *ids, size_t max);
/* The one status of a port on a transport: no record means Unassigned. */
enum rsap_status rsap_iana_port_status(const struct rsap_iana *reg, uint16_t port,
                                       enum rsap_proto proto);
/* Records of a service name, case-insensitively, in registry order. */
size_t rsap_iana_find_name(const struct rsap_iana *reg, const char *name,
                           uint32_t *ids, size_t max);
/* The first service name that IANA assigned to a port/protocol, or NULL. */
const char *rsap_iana_service_name(const struct rsap_iana *reg, uint16_t port,
                                   enum rsap_proto proto);

struct rsap_search_hit {
        uint32_t id;
        int score; /* higher is better */
};

/*
 * Records whose service name, description or people match text
 * (case-insensitive), best first.  Returns the number of hits found in total;
 * fills at most max.
 */
size_t rsap_iana_search(const struct rsap_iana *reg, const char *text,
                        struct rsap_search_hit *hits, size_t max);

/* Port counts per status for one range class and transport. */
struct rsap_range_counts {
        uint32_t assigned, reserved, unassigned;
};
void rsap_iana_range_counts(const struct rsap_iana *reg, enum rsap_range_class range,
                            enum rsap_proto proto, struct rsap_range_counts *out);

/* ---- the cached copy (lib/iana/cache.c) --------------------------------------- */

/* The cached IANA snapshot inside a data directory. */
#define RSAP_CACHE_FILE "iana.snap"
int rsap_cache_path(const char *data_dir, char *buf, size_t size);

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
