/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include <rsap/buf.h>
#include <rsap/name.h>

#include "snapshot_format.h"

/* A growable array of uint32_t words. */
struct words {
        uint32_t *v;
        size_t n, cap;
};

static int words_push(struct words *w, uint32_t value)
{
        if (rsap_grow(&w->v, &w->cap, w->n + 1, sizeof(*w->v)) < 0)
                return -ENOMEM;
        w->v[w->n++] = value;
        return 0;
}

/* Interned strings: equal strings share one offset, which makes the snapshot
 * small (thousands of "Unassigned") and lets people be keyed by offset. */
struct strings {
        struct rsap_buf pool; /* each string with its NUL, "" at offset 0 */
        uint32_t *slots; /* offsets, 0 = empty slot */
        size_t n_slots, n_used;
};

/* The port index expands ranges, so the ports all records cover are capped;
 * IANA's registry covers about 55,000. */
#define MAX_INDEXED_PORTS (1u << 20)

struct rsap_builder {
        enum rsap_source source;
        size_t indexed_ports;
        uint32_t release;
        struct strings strings;
        struct snap_record *records;
        size_t n_records, cap_records;
        struct snap_person *people;
        size_t n_people, cap_people;
        struct words lists; /* person items hold id strings until finish */
};

static int strings_grow_slots(struct strings *s)
{
        size_t n = s->n_slots ? s->n_slots * 2 : 4096;
        uint32_t *slots = calloc(n, sizeof(*slots));

        if (!slots)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_slots; i++) {
                uint32_t off = s->slots[i];
                size_t j;

                if (!off)
                        continue;
                j = rsap_fnv1a(s->pool.data + off, strlen(s->pool.data + off)) & (n - 1);
                while (slots[j])
                        j = (j + 1) & (n - 1);
                slots[j] = off;
        }
        free(s->slots);
        s->slots = slots;
        s->n_slots = n;
        return 0;
}

static int strings_append(struct strings *s, const char *text, size_t len, uint32_t *out)
{
        struct rsap_buf *pool = &s->pool;
        int r;

        if (pool->len + len + 2 > UINT32_MAX)
                return -EFBIG;
        /* The buffer's own NUL ends each string: the next one starts after it. */
        if (pool->len == 0 && (r = rsap_buf_append(pool, "", 1)) < 0)
                return r; /* offset 0: the absent string */
        *out = (uint32_t)pool->len;
        r = rsap_buf_append(pool, text, len);
        if (r < 0)
                return r;
        return rsap_buf_append(pool, "", 1);
}

/* Returns the offset of text in the pool (0 for NULL or ""), adding it once. */
static int intern(struct strings *s, const char *text, uint32_t *out)
{
        size_t len, j;
        int r;

        *out = 0;
        if (!text || !*text)
                return 0;
        if (s->n_used * 2 >= s->n_slots) {
                r = strings_grow_slots(s);
                if (r < 0)
                        return r;
        }
        len = strlen(text);
        j = rsap_fnv1a(text, len) & (s->n_slots - 1);
        while (s->slots[j]) {
                if (strcmp(s->pool.data + s->slots[j], text) == 0) {
                        *out = s->slots[j];
                        return 0;
                }
                j = (j + 1) & (s->n_slots - 1);
        }
        r = strings_append(s, text, len, out);
        if (r < 0)
                return r;
        s->slots[j] = *out;
        s->n_used++;
        return 0;
}

struct rsap_builder *rsap_builder_new(void)
{
        struct rsap_builder *b = calloc(1, sizeof(*b));

        if (!b)
                return NULL;
        /* List word 0 is reserved so that offset 0 means "empty". */
        if (words_push(&b->lists, 0) < 0) {
                free(b);
                return NULL;
        }
        return b;
}

void rsap_builder_free(struct rsap_builder *b)
{
        if (!b)
                return;
        rsap_buf_free(&b->strings.pool);
        free(b->strings.slots);
        free(b->records);
        free(b->people);
        free(b->lists.v);
        free(b);
}

void rsap_builder_set_source(struct rsap_builder *b, enum rsap_source source)
{
        b->source = source;
}

int rsap_builder_set_release(struct rsap_builder *b, const char *release)
{
        return intern(&b->strings, release, &b->release);
}

size_t rsap_builder_count(const struct rsap_builder *b)
{
        return b->n_records;
}

int rsap_builder_add_person(struct rsap_builder *b, const struct rsap_person *p)
{
        struct snap_person sp;
        int r;

        if (!p->id || !*p->id)
                return -EINVAL;
        r = rsap_grow(&b->people, &b->cap_people, b->n_people + 1, sizeof(*b->people));
        if (r < 0)
                return r;
        if ((r = intern(&b->strings, p->id, &sp.id)) < 0 ||
            (r = intern(&b->strings, p->name, &sp.name)) < 0 ||
            (r = intern(&b->strings, p->org, &sp.org)) < 0 ||
            (r = intern(&b->strings, p->email, &sp.email)) < 0 ||
            (r = intern(&b->strings, p->uri, &sp.uri)) < 0)
                return r;
        b->people[b->n_people++] = sp;
        return 0;
}

/* A list of person ids; finish() turns each id into a person number. */
static int add_people_list(struct rsap_builder *b, const struct rsap_person *people, size_t n,
                           uint32_t *out)
{
        uint32_t start = (uint32_t)b->lists.n;
        int r;

        *out = 0;
        if (n == 0)
                return 0;
        if ((r = words_push(&b->lists, (uint32_t)n)) < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                uint32_t id;

                if (!people[i].id || !*people[i].id)
                        return -EINVAL;
                if ((r = intern(&b->strings, people[i].id, &id)) < 0 ||
                    (r = words_push(&b->lists, id)) < 0)
                        return r;
        }
        *out = start;
        return 0;
}

static int add_reference_list(struct rsap_builder *b, const struct rsap_reference *refs,
                              size_t n, uint32_t *out)
{
        uint32_t start = (uint32_t)b->lists.n;
        int r;

        *out = 0;
        if (n == 0)
                return 0;
        if ((r = words_push(&b->lists, (uint32_t)n)) < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                uint32_t text, url;

                if ((r = intern(&b->strings, refs[i].text, &text)) < 0 ||
                    (r = intern(&b->strings, refs[i].url, &url)) < 0 ||
                    (r = words_push(&b->lists, (uint32_t)refs[i].type)) < 0 ||
                    (r = words_push(&b->lists, text)) < 0 ||
                    (r = words_push(&b->lists, url)) < 0)
                        return r;
        }
        *out = start;
        return 0;
}

static int check_record(const struct rsap_record *r)
{
        if (r->has_port && r->port_low > r->port_high)
                return -EINVAL;
        if ((unsigned)r->proto >= RSAP_PROTO_COUNT)
                return -EINVAL;
        if (r->n_assignee > RSAP_MAX_PEOPLE || r->n_contact > RSAP_MAX_PEOPLE ||
            r->n_references > RSAP_MAX_REFERENCES)
                return -EINVAL;
        return 0;
}

int rsap_builder_add_record(struct rsap_builder *b, const struct rsap_record *in)
{
        struct snap_record sr = { 0 };
        size_t n_people;
        int r;

        r = check_record(in);
        if (r < 0)
                return r;
        if (b->n_records >= UINT32_MAX / 2)
                return -EFBIG;
        if (in->has_port) {
                size_t ports = (size_t)in->port_high - in->port_low + 1;

                if (ports > MAX_INDEXED_PORTS - b->indexed_ports)
                        return -EFBIG;
                b->indexed_ports += ports;
        }
        r = rsap_grow(&b->records, &b->cap_records, b->n_records + 1, sizeof(*b->records));
        if (r < 0)
                return r;
        if ((r = intern(&b->strings, in->service, &sr.service)) < 0 ||
            (r = intern(&b->strings, in->description, &sr.description)) < 0 ||
            (r = intern(&b->strings, in->registered, &sr.registered)) < 0 ||
            (r = intern(&b->strings, in->modified, &sr.modified)) < 0 ||
            (r = intern(&b->strings, in->service_code, &sr.service_code)) < 0 ||
            (r = intern(&b->strings, in->unauthorized_use, &sr.unauthorized)) < 0 ||
            (r = intern(&b->strings, in->notes, &sr.notes)) < 0 ||
            (r = add_people_list(b, in->assignee, in->n_assignee, &sr.assignee)) < 0 ||
            (r = add_people_list(b, in->contact, in->n_contact, &sr.contact)) < 0 ||
            (r = add_reference_list(b, in->references, in->n_references, &sr.references)) < 0)
                return r;
        sr.has_port = in->has_port;
        sr.port_low = in->has_port ? in->port_low : 0;
        sr.port_high = in->has_port ? in->port_high : 0;
        sr.proto = (uint8_t)in->proto;
        n_people = in->n_assignee + in->n_contact;
        sr.status = (uint8_t)rsap_status_derive(in->service, in->description, n_people);
        b->records[b->n_records++] = sr;
        return 0;
}

/* ---- finishing: people resolved, indexes built, one block laid out ----- */

/* Maps an interned person id (a string offset) to its person number. */
struct person_map {
        uint32_t *keys, *values;
        size_t n_slots;
};

static size_t map_slot(const struct person_map *m, uint32_t key)
{
        size_t j = (key * 2654435761u) & (m->n_slots - 1);

        while (m->keys[j] && m->keys[j] != key)
                j = (j + 1) & (m->n_slots - 1);
        return j;
}

static size_t power_of_two_above(size_t n)
{
        size_t p = 16;

        while (p < n * 2)
                p *= 2;
        return p;
}

static int add_person_id_only(struct rsap_builder *b, uint32_t id)
{
        int r = rsap_grow(&b->people, &b->cap_people, b->n_people + 1, sizeof(*b->people));

        if (r < 0)
                return r;
        b->people[b->n_people++] = (struct snap_person){ .id = id };
        return 0;
}

/* Counts the person items of every record list so the map can be sized once. */
static size_t count_person_items(const struct rsap_builder *b)
{
        size_t n = 0;

        for (size_t i = 0; i < b->n_records; i++) {
                if (b->records[i].assignee)
                        n += b->lists.v[b->records[i].assignee];
                if (b->records[i].contact)
                        n += b->lists.v[b->records[i].contact];
        }
        return n;
}

static int resolve_list(struct rsap_builder *b, struct person_map *m, uint32_t list)
{
        if (!list)
                return 0;
        for (uint32_t k = 1; k <= b->lists.v[list]; k++) {
                uint32_t id = b->lists.v[list + k];
                size_t j = map_slot(m, id);

                if (!m->keys[j]) {
                        /* A record names someone the people table lacks
                         * (always so in the CSV): keep the bare id. */
                        int r = add_person_id_only(b, id);

                        if (r < 0)
                                return r;
                        m->keys[j] = id;
                        m->values[j] = (uint32_t)(b->n_people - 1);
                }
                b->lists.v[list + k] = m->values[j];
        }
        return 0;
}

static int resolve_people(struct rsap_builder *b)
{
        _cleanup_(freep) uint32_t *keys = NULL;
        _cleanup_(freep) uint32_t *values = NULL;
        struct person_map m;
        int r;

        m.n_slots = power_of_two_above(b->n_people + count_person_items(b));
        keys = calloc(m.n_slots, sizeof(*keys));
        values = calloc(m.n_slots, sizeof(*values));
        if (!keys || !values)
                return -ENOMEM;
        m.keys = keys;
        m.values = values;
        /* The first entry for an id wins; IANA lists each person once. */
        for (size_t i = 0; i < b->n_people; i++) {
                size_t j = map_slot(&m, b->people[i].id);

                if (!m.keys[j]) {
                        m.keys[j] = b->people[i].id;
                        m.values[j] = (uint32_t)i;
                }
        }
        for (size_t i = 0; i < b->n_records; i++) {
                if ((r = resolve_list(b, &m, b->records[i].assignee)) < 0 ||
                    (r = resolve_list(b, &m, b->records[i].contact)) < 0)
                        return r;
        }
        return 0;
}

static size_t port_slot(uint32_t port, unsigned proto)
{
        return (size_t)port * RSAP_PROTO_COUNT + (size_t)proto;
}

/* first[] gets SNAP_PORT_FIRST_WORDS prefix sums; entries the ids. */
static int build_port_index(const struct rsap_builder *b, uint32_t **first_out,
                            uint32_t **entries_out, size_t *n_entries_out)
{
        size_t n_first = SNAP_PORT_FIRST_WORDS;
        _cleanup_(freep) uint32_t *first = calloc(n_first, sizeof(uint32_t));
        _cleanup_(freep) uint32_t *fill = NULL;
        uint32_t *entries;
        size_t total = 0;

        if (!first)
                return -ENOMEM;
        for (size_t i = 0; i < b->n_records; i++) {
                const struct snap_record *r = &b->records[i];

                if (!r->has_port)
                        continue;
                for (uint32_t p = r->port_low; p <= r->port_high; p++)
                        first[port_slot(p, r->proto) + 1]++;
                total += (size_t)r->port_high - r->port_low + 1;
        }
        for (size_t s = 1; s < n_first; s++)
                first[s] += first[s - 1];
        entries = malloc((total ? total : 1) * sizeof(*entries));
        fill = malloc(n_first * sizeof(*fill));
        if (!entries || !fill) {
                free(entries);
                return -ENOMEM;
        }
        memcpy(fill, first, n_first * sizeof(*fill));
        for (size_t i = 0; i < b->n_records; i++) {
                const struct snap_record *r = &b->records[i];

                if (!r->has_port)
                        continue;
                for (uint32_t p = r->port_low; p <= r->port_high; p++)
                        entries[fill[port_slot(p, r->proto)]++] = (uint32_t)i;
        }
        *first_out = first;
        first = NULL;
        *entries_out = entries;
        *n_entries_out = total;
        return 0;
}

static const char *record_service(const struct rsap_builder *b, uint32_t id)
{
        return b->strings.pool.data + b->records[id].service;
}

/* Slot of a name: the one holding its group, or the empty one to start it. */
static size_t name_slot(const struct rsap_builder *b, const uint32_t *rep, size_t n_slots,
                        const char *name)
{
        size_t j = rsap_name_hash(name, strlen(name)) & (n_slots - 1);

        while (rep[j] && !rsap_name_equal(record_service(b, rep[j] - 1), name))
                j = (j + 1) & (n_slots - 1);
        return j;
}

static int build_name_index(struct rsap_builder *b, uint32_t **slots_out, size_t *n_slots_out)
{
        size_t n_slots = power_of_two_above(b->n_records);
        _cleanup_(freep) uint32_t *rep = calloc(n_slots, sizeof(uint32_t)); /* id + 1 */
        _cleanup_(freep) uint32_t *count = calloc(n_slots, sizeof(uint32_t));
        uint32_t *slots = calloc(n_slots, sizeof(uint32_t));
        int r;

        if (!rep || !count || !slots) {
                free(slots);
                return -ENOMEM;
        }
        for (uint32_t i = 0; i < b->n_records; i++) {
                size_t j;

                if (!b->records[i].service)
                        continue;
                j = name_slot(b, rep, n_slots, record_service(b, i));
                if (!rep[j])
                        rep[j] = i + 1;
                count[j]++;
        }
        for (size_t j = 0; j < n_slots; j++) {
                if (!count[j])
                        continue;
                slots[j] = (uint32_t)b->lists.n;
                if ((r = words_push(&b->lists, 0)) < 0)
                        goto fail;
                for (uint32_t k = 0; k < count[j]; k++)
                        if ((r = words_push(&b->lists, 0)) < 0)
                                goto fail;
        }
        for (uint32_t i = 0; i < b->n_records; i++) {
                uint32_t list;

                if (!b->records[i].service)
                        continue;
                list = slots[name_slot(b, rep, n_slots, record_service(b, i))];
                b->lists.v[list + 1 + b->lists.v[list]++] = i;
        }
        *slots_out = slots;
        *n_slots_out = n_slots;
        return 0;
fail:
        free(slots);
        return r;
}

static size_t align8(size_t n)
{
        return (n + 7) & ~(size_t)7;
}

struct layout_part {
        const void *data;
        size_t size;
        uint32_t *offset; /* where the header records the part's offset */
};

int rsap_builder_finish(struct rsap_builder *b, void **data_out, size_t *size_out)
{
        _cleanup_(freep) uint32_t *port_first = NULL;
        _cleanup_(freep) uint32_t *port_entries = NULL;
        _cleanup_(freep) uint32_t *name_slots = NULL;
        size_t n_port_entries, n_name_slots, total;
        struct snap_header h = { 0 };
        unsigned char *out;
        uint32_t none;
        int r;

        /* The pool must hold its leading NUL even when nothing was interned. */
        if (b->strings.pool.len == 0 && (r = strings_append(&b->strings, "", 0, &none)) < 0)
                return r;
        if ((r = resolve_people(b)) < 0 ||
            (r = build_port_index(b, &port_first, &port_entries, &n_port_entries)) < 0 ||
            (r = build_name_index(b, &name_slots, &n_name_slots)) < 0)
                return r;

        struct layout_part parts[] = {
                { b->records, b->n_records * sizeof(*b->records), &h.records_off },
                { b->people, b->n_people * sizeof(*b->people), &h.people_off },
                { b->lists.v, b->lists.n * sizeof(uint32_t), &h.lists_off },
                { port_first, SNAP_PORT_FIRST_WORDS * sizeof(uint32_t), &h.port_first_off },
                { port_entries, n_port_entries * sizeof(uint32_t), &h.port_entries_off },
                { name_slots, n_name_slots * sizeof(uint32_t), &h.name_slots_off },
                { b->strings.pool.data, b->strings.pool.len, &h.strings_off },
        };
        total = align8(sizeof(h));
        for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
                total = align8(total + parts[i].size);
        if (total > UINT32_MAX)
                return -EFBIG;
        out = calloc(1, total);
        if (!out)
                return -ENOMEM;
        total = align8(sizeof(h));
        for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
                *parts[i].offset = (uint32_t)total;
                if (parts[i].size)
                        memcpy(out + total, parts[i].data, parts[i].size);
                total = align8(total + parts[i].size);
        }
        memcpy(h.magic, SNAP_MAGIC, sizeof(h.magic));
        h.version = SNAP_VERSION;
        h.endian = SNAP_ENDIAN;
        h.size = total;
        h.source = (uint32_t)b->source;
        h.release = b->release;
        h.n_records = (uint32_t)b->n_records;
        h.n_people = (uint32_t)b->n_people;
        h.n_list_words = (uint32_t)b->lists.n;
        h.n_port_entries = (uint32_t)n_port_entries;
        h.n_name_slots = (uint32_t)n_name_slots;
        h.strings_size = (uint32_t)b->strings.pool.len;
        h.checksum = rsap_fnv1a(out + sizeof(h), total - sizeof(h));
        memcpy(out, &h, sizeof(h));
        *data_out = out;
        *size_out = total;
        return 0;
}
