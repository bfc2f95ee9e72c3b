/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rsap/fileio.h>
#include <rsap/name.h>

#include "snapshot_internal.h"

static bool part_fits(const struct snap_header *h, size_t size, uint32_t off, uint64_t count,
                      size_t elem)
{
        return off % 4 == 0 && off <= size && count <= (size - off) / elem;
}

/* The checks every open makes: cheap, so that a corrupt file is refused or, if
 * it gets past them, read through bounds-checked accessors without crashing. */
static int check_header(const void *data, size_t size)
{
        const struct snap_header *h = data;
        const char *strings;

        if (size < sizeof(*h) || ((uintptr_t)data & 7) != 0)
                return -EBADMSG;
        if (memcmp(h->magic, SNAP_MAGIC, sizeof(h->magic)) != 0)
                return -EBADMSG;
        /* A snapshot, but one another version of rsap wrote: not damage. */
        if (h->version != SNAP_VERSION)
                return -EPROTONOSUPPORT;
        if (h->endian != SNAP_ENDIAN || h->size != size)
                return -EBADMSG;
        if (!part_fits(h, size, h->records_off, h->n_records, sizeof(struct snap_record)) ||
            !part_fits(h, size, h->people_off, h->n_people, sizeof(struct snap_person)) ||
            !part_fits(h, size, h->lists_off, h->n_list_words, 4) ||
            !part_fits(h, size, h->port_first_off, SNAP_PORT_FIRST_WORDS, 4) ||
            !part_fits(h, size, h->port_entries_off, h->n_port_entries, 4) ||
            !part_fits(h, size, h->name_slots_off, h->n_name_slots, 4) ||
            !part_fits(h, size, h->strings_off, h->strings_size, 1))
                return -EBADMSG;
        if (h->n_name_slots == 0 || (h->n_name_slots & (h->n_name_slots - 1)) != 0)
                return -EBADMSG;
        strings = (const char *)data + h->strings_off;
        if (h->strings_size == 0 || strings[h->strings_size - 1] != '\0')
                return -EBADMSG;
        return 0;
}

int rsap_snapshot_validate(const void *data, size_t size)
{
        const struct snap_header *h = data;
        int r = check_header(data, size);

        if (r < 0)
                return r;
        if (rsap_fnv1a((const char *)data + sizeof(*h), size - sizeof(*h)) != h->checksum)
                return -EBADMSG;
        return 0;
}

int rsap_iana_open_memory(const void *data, size_t size, struct rsap_iana **out)
{
        const unsigned char *base = data;
        const struct snap_header *h = data;
        struct rsap_iana *reg;
        int r;

        r = check_header(data, size);
        if (r < 0)
                return r;
        reg = calloc(1, sizeof(*reg));
        if (!reg)
                return -ENOMEM;
        reg->h = h;
        reg->size = size;
        reg->records = (const struct snap_record *)(base + h->records_off);
        reg->people = (const struct snap_person *)(base + h->people_off);
        reg->lists = (const uint32_t *)(base + h->lists_off);
        reg->port_first = (const uint32_t *)(base + h->port_first_off);
        reg->port_entries = (const uint32_t *)(base + h->port_entries_off);
        reg->name_slots = (const uint32_t *)(base + h->name_slots_off);
        reg->strings = (const char *)(base + h->strings_off);
        *out = reg;
        return 0;
}

/*
 * The whole of a snapshot file, read into memory that the registry owns.  Not
 * mapped: `cp` or `truncate` on a mapped file while it is in use turns the
 * next lookup into SIGBUS, and a long-running rsapd or a long `rsap search`
 * must survive whatever happens to the file.  The cost is one read of ~3 MB
 * (bench/snapfile.c).  -EBADMSG when too short for a header, or
 * when the file grew while it was read.
 */
static int read_snapshot(const char *path, struct rsap_file_copy *copy)
{
        int r = rsap_file_copy_read(path, RSAP_SNAPSHOT_MAX_BYTES, copy);

        if (r == -EINVAL || r == -EFBIG || r == -EAGAIN)
                return -EBADMSG;
        if (r == 0 && copy->size < sizeof(struct snap_header)) {
                rsap_file_copy_free(copy);
                return -EBADMSG;
        }
        return r;
}

static int open_file(const char *path, bool verify, struct rsap_iana **out)
{
        struct rsap_file_copy copy;
        struct rsap_iana *reg;
        int r;

        r = read_snapshot(path, &copy);
        if (r < 0)
                return r;
        r = verify ? rsap_snapshot_validate(copy.data, copy.size) : 0;
        if (r == 0)
                r = rsap_iana_open_memory(copy.data, copy.size, &reg);
        if (r < 0) {
                rsap_file_copy_free(&copy);
                return r;
        }
        reg->owned = copy;
        reg->origin = strdup(path);
        if (!reg->origin) {
                rsap_iana_free(reg);
                return -ENOMEM;
        }
        *out = reg;
        return 0;
}

int rsap_iana_open_file(const char *path, struct rsap_iana **out)
{
        return open_file(path, false, out);
}

int rsap_iana_open_file_verified(const char *path, struct rsap_iana **out)
{
        return open_file(path, true, out);
}

int rsap_iana_verify(const struct rsap_iana *reg)
{
        return rsap_snapshot_validate(reg->h, reg->size);
}

int rsap_snapshot_validate_file(const char *path)
{
        struct rsap_file_copy copy;
        int r;

        r = read_snapshot(path, &copy);
        if (r < 0)
                return r;
        r = rsap_snapshot_validate(copy.data, copy.size);
        rsap_file_copy_free(&copy);
        return r;
}

void rsap_iana_free(struct rsap_iana *reg)
{
        if (!reg)
                return;
        rsap_file_copy_free(&reg->owned);
        free(reg->origin);
        free(reg);
}

void rsap_iana_freep(struct rsap_iana **reg)
{
        rsap_iana_free(*reg);
}

const char *registry_string(const struct rsap_iana *reg, uint32_t off)
{
        if (off == 0 || off >= reg->h->strings_size)
                return NULL;
        return reg->strings + off;
}

/* A list's count, or 0 when the list would run past the lists part. */
uint32_t registry_list(const struct rsap_iana *reg, uint32_t off, uint32_t width,
                       const uint32_t **items)
{
        uint32_t n;

        if (off == 0 || off >= reg->h->n_list_words)
                return 0;
        n = reg->lists[off];
        if (n > (reg->h->n_list_words - off - 1) / width)
                return 0;
        *items = reg->lists + off + 1;
        return n;
}

/* The format a record was read from.  The built-in copy is made from IANA's
 * XML at build time (data/), so its records carry every field a cached XML
 * record does and say so; only the copy itself (rsap_iana_info) is
 * "built-in". */
static enum rsap_source record_source(const struct rsap_iana *reg)
{
        enum rsap_source copy = (enum rsap_source)reg->h->source;

        return copy == RSAP_SOURCE_BUILTIN ? RSAP_SOURCE_IANA_XML : copy;
}

void rsap_iana_info(const struct rsap_iana *reg, struct rsap_iana_info *out)
{
        out->source = (enum rsap_source)reg->h->source;
        out->release = registry_string(reg, reg->h->release);
        out->origin = reg->origin ? reg->origin : "built-in";
        out->records = reg->h->n_records;
        out->people = reg->h->n_people;
}

size_t rsap_iana_count(const struct rsap_iana *reg)
{
        return reg->h->n_records;
}

static void fill_person(const struct rsap_iana *reg, uint32_t i, struct rsap_person *out)
{
        const struct snap_person *p;

        memset(out, 0, sizeof(*out));
        if (i >= reg->h->n_people)
                return;
        p = &reg->people[i];
        out->id = registry_string(reg, p->id);
        out->name = registry_string(reg, p->name);
        out->org = registry_string(reg, p->org);
        out->email = registry_string(reg, p->email);
        out->uri = registry_string(reg, p->uri);
}

static size_t fill_people(const struct rsap_iana *reg, uint32_t list,
                          struct rsap_person *out)
{
        const uint32_t *items = NULL;
        uint32_t n = registry_list(reg, list, 1, &items);

        if (n > RSAP_MAX_PEOPLE)
                n = RSAP_MAX_PEOPLE;
        for (uint32_t k = 0; k < n; k++)
                fill_person(reg, items[k], &out[k]);
        return n;
}

static size_t fill_references(const struct rsap_iana *reg, uint32_t list,
                              struct rsap_reference *out)
{
        const uint32_t *items = NULL;
        uint32_t n = registry_list(reg, list, 3, &items);

        if (n > RSAP_MAX_REFERENCES)
                n = RSAP_MAX_REFERENCES;
        for (uint32_t k = 0; k < n; k++) {
                out[k].type = items[3 * k] <= RSAP_REF_NOTE ? (enum rsap_ref_type)items[3 * k]
                                                             : RSAP_REF_TEXT;
                out[k].text = registry_string(reg, items[3 * k + 1]);
                out[k].url = registry_string(reg, items[3 * k + 2]);
                if (!out[k].text)
                        out[k].text = "";
        }
        return n;
}

void rsap_iana_record(const struct rsap_iana *reg, uint32_t i, struct rsap_record *out)
{
        const struct snap_record *r;

        memset(out, 0, offsetof(struct rsap_record, assignee));
        if (i >= reg->h->n_records) {
                out->n_assignee = out->n_contact = out->n_references = 0;
                return;
        }
        r = &reg->records[i];
        out->service = registry_string(reg, r->service);
        out->has_port = r->has_port;
        out->port_low = r->port_low;
        out->port_high = r->port_high;
        out->proto = r->proto < RSAP_PROTO_COUNT ? (enum rsap_proto)r->proto : RSAP_PROTO_NONE;
        out->status = r->status <= RSAP_STATUS_ASSIGNED ? (enum rsap_status)r->status
                                                         : RSAP_STATUS_UNASSIGNED;
        out->description = registry_string(reg, r->description);
        out->n_assignee = fill_people(reg, r->assignee, out->assignee);
        out->n_contact = fill_people(reg, r->contact, out->contact);
        out->n_references = fill_references(reg, r->references, out->references);
        out->registered = registry_string(reg, r->registered);
        out->modified = registry_string(reg, r->modified);
        out->service_code = registry_string(reg, r->service_code);
        out->unauthorized_use = registry_string(reg, r->unauthorized);
        out->notes = registry_string(reg, r->notes);
        out->source = record_source(reg);
}

/* The records of one protocol's table for a port, bounds-checked. */
static uint32_t port_slice(const struct rsap_iana *reg, enum rsap_proto proto,
                           uint16_t port, const uint32_t **ids)
{
        const uint32_t *first = reg->port_first + (size_t)port * RSAP_PROTO_COUNT + proto;
        uint32_t lo = first[0], hi = first[1];

        if (lo > hi || hi > reg->h->n_port_entries)
                return 0;
        *ids = reg->port_entries + lo;
        return hi - lo;
}

/* Merges sorted id slices into out (sorted, no duplicates); returns the total. */
static size_t merge_slices(const uint32_t *const *slices, const uint32_t *lens, size_t n,
                           uint32_t *out, size_t max)
{
        size_t pos[RSAP_PROTO_COUNT] = { 0 };
        size_t total = 0;

        for (;;) {
                size_t best = n;

                for (size_t s = 0; s < n; s++)
                        if (pos[s] < lens[s] &&
                            (best == n || slices[s][pos[s]] < slices[best][pos[best]]))
                                best = s;
                if (best == n)
                        return total;
                if (total < max)
                        out[total] = slices[best][pos[best]];
                total++;
                pos[best]++;
        }
}

size_t rsap_iana_find_port(const struct rsap_iana *reg, uint16_t port,
                           enum rsap_proto proto, uint32_t *ids, size_t max)
{
        const uint32_t *slices[RSAP_PROTO_COUNT];
        uint32_t lens[RSAP_PROTO_COUNT];
        size_t n = 0;

        for (unsigned p = 0; p < RSAP_PROTO_COUNT; p++) {
                if (proto != RSAP_PROTO_NONE && p != RSAP_PROTO_NONE && p != (unsigned)proto)
                        continue;
                lens[n] = port_slice(reg, (enum rsap_proto)p, port, &slices[n]);
                if (lens[n])
                        n++;
        }
        if (n == 1) { /* the common case: one table, already in order */
                for (size_t k = 0; k < lens[0] && k < max; k++)
                        ids[k] = slices[0][k];
                return lens[0];
        }
        return merge_slices(slices, lens, n, ids, max);
}

static enum rsap_status slice_status(const struct rsap_iana *reg, const uint32_t *ids,
                                     uint32_t n, enum rsap_status best)
{
        for (uint32_t k = 0; k < n; k++) {
                uint32_t id = ids[k];

                if (id < reg->h->n_records && reg->records[id].status > best)
                        best = (enum rsap_status)reg->records[id].status;
        }
        return best > RSAP_STATUS_ASSIGNED ? RSAP_STATUS_ASSIGNED : best;
}

enum rsap_status rsap_iana_port_status(const struct rsap_iana *reg, uint16_t port,
                                       enum rsap_proto proto)
{
        enum rsap_status best = RSAP_STATUS_UNASSIGNED;
        const uint32_t *ids = NULL;
        uint32_t n;

        for (unsigned p = 0; p < RSAP_PROTO_COUNT; p++) {
                if (proto != RSAP_PROTO_NONE && p != RSAP_PROTO_NONE && p != (unsigned)proto)
                        continue;
                n = port_slice(reg, (enum rsap_proto)p, port, &ids);
                best = slice_status(reg, ids, n, best);
        }
        return best;
}

static const char *first_service(const struct rsap_iana *reg, enum rsap_proto proto,
                                 uint16_t port)
{
        const uint32_t *ids = NULL;
        uint32_t n = port_slice(reg, proto, port, &ids);

        for (uint32_t k = 0; k < n; k++) {
                if (ids[k] >= reg->h->n_records)
                        continue;
                const char *name = registry_string(reg, reg->records[ids[k]].service);
                if (name)
                        return name;
        }
        return NULL;
}

const char *rsap_iana_service_name(const struct rsap_iana *reg, uint16_t port,
                                   enum rsap_proto proto)
{
        const char *name = NULL;

        if (proto != RSAP_PROTO_NONE)
                name = first_service(reg, proto, port);
        return name ? name : first_service(reg, RSAP_PROTO_NONE, port);
}

size_t rsap_iana_find_name(const struct rsap_iana *reg, const char *name,
                           uint32_t *ids, size_t max)
{
        uint32_t mask = reg->h->n_name_slots - 1;
        size_t j = rsap_name_hash(name, strlen(name)) & mask;

        for (uint32_t probes = 0; probes <= mask; probes++, j = (j + 1) & mask) {
                const uint32_t *items = NULL;
                uint32_t n = registry_list(reg, reg->name_slots[j], 1, &items);
                const char *service;

                if (n == 0)
                        return 0;
                if (items[0] >= reg->h->n_records)
                        return 0;
                service = registry_string(reg, reg->records[items[0]].service);
                if (!service || !rsap_name_equal(service, name))
                        continue;
                for (uint32_t k = 0; k < n && k < max; k++)
                        ids[k] = items[k];
                return n;
        }
        return 0;
}

void rsap_iana_range_counts(const struct rsap_iana *reg, enum rsap_range_class range,
                            enum rsap_proto proto, struct rsap_range_counts *out)
{
        const struct rsap_range_info *info = rsap_range_info(range);

        memset(out, 0, sizeof(*out));
        if (!info)
                return;
        for (uint32_t port = info->low; port <= info->high; port++) {
                switch (rsap_iana_port_status(reg, (uint16_t)port, proto)) {
                case RSAP_STATUS_ASSIGNED:
                        out->assigned++;
                        break;
                case RSAP_STATUS_RESERVED:
                        out->reserved++;
                        break;
                case RSAP_STATUS_UNASSIGNED:
                        out->unassigned++;
                        break;
                }
        }
}
