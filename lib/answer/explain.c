/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include <rsap/basic.h>
#include <rsap/explain.h>
#include <rsap/listen.h>
#include <rsap/workflow.h>

/* Collects a lookup of unknown size: asks once with room for a few, then
 * again with room for all. */
static int collect(size_t (*find)(const struct rsap_iana *, const void *, uint32_t *, size_t),
                   const struct rsap_iana *reg, const void *key, uint32_t **ids_out,
                   size_t *n_out)
{
        uint32_t small[16];
        size_t n = find(reg, key, small, ARRAY_SIZE(small));
        uint32_t *ids = malloc((n ? n : 1) * sizeof(*ids));

        if (!ids)
                return -ENOMEM;
        if (n <= ARRAY_SIZE(small))
                memcpy(ids, small, n * sizeof(*ids));
        else
                find(reg, key, ids, n);
        *ids_out = ids;
        *n_out = n;
        return 0;
}

struct port_key {
        uint16_t port;
        enum rsap_proto proto;
};

static size_t find_port(const struct rsap_iana *reg, const void *key, uint32_t *ids,
                        size_t max)
{
        const struct port_key *k = key;

        return rsap_iana_find_port(reg, k->port, k->proto, ids, max);
}

static size_t find_name(const struct rsap_iana *reg, const void *key, uint32_t *ids,
                        size_t max)
{
        return rsap_iana_find_name(reg, key, ids, max);
}

int rsap_explain_port(const struct rsap_iana *reg, uint16_t port, enum rsap_proto proto,
                      struct rsap_port_answer *out)
{
        struct port_key key = { port, proto };

        memset(out, 0, sizeof(*out));
        out->port = port;
        out->proto = proto;
        out->range = rsap_range_info(rsap_range_class_of(port));
        for (unsigned p = RSAP_TRANSPORTS_FIRST; p <= RSAP_TRANSPORTS_LAST; p++)
                out->status[p] = rsap_iana_port_status(reg, port, (enum rsap_proto)p);
        return collect(find_port, reg, &key, &out->ids, &out->n_ids);
}

void rsap_port_answer_clear(struct rsap_port_answer *a)
{
        free(a->ids);
        a->ids = NULL;
        a->n_ids = 0;
        rsap_listening_answer_clear(&a->listening);
        rsap_local_list_free(a->local);
        a->local = NULL;
}

int rsap_explain_name(const struct rsap_iana *reg, const char *name,
                      struct rsap_name_answer *out)
{
        size_t len = strlen(name);
        int r;

        memset(out, 0, sizeof(*out));
        if (len == 0 || len >= sizeof(out->name))
                return -EINVAL;
        memcpy(out->name, name, len + 1);
        out->problem = rsap_name_check(name);
        r = collect(find_name, reg, name, &out->ids, &out->n_ids);
        if (r < 0)
                return r;
        for (size_t i = 0; i < out->n_ids && !out->replacement[0]; i++) {
                struct rsap_record rec;

                rsap_iana_record(reg, out->ids[i], &rec);
                if (rsap_record_replacement(&rec, out->replacement, sizeof(out->replacement)) < 0)
                        out->replacement[0] = '\0';
        }
        return 0;
}

/* The text between the quotes after marker in the notes. */
static int quoted_after(const char *notes, const char *marker, char *buf, size_t size)
{
        const char *start = notes ? strcasestr(notes, marker) : NULL;
        const char *end;
        size_t len;

        if (!start)
                return -ENOENT;
        start += strlen(marker);
        end = strchr(start, '"');
        len = end ? (size_t)(end - start) : 0;
        if (len == 0 || len >= size)
                return -ENOENT;
        memcpy(buf, start, len);
        buf[len] = '\0';
        return 0;
}

int rsap_record_alias_of(const struct rsap_record *r, char *buf, size_t size)
{
        if (rsap_record_replacement(r, buf, size) == 0)
                return 0;
        return quoted_after(r->notes, "duplicate of the \"", buf, size);
}

void rsap_name_answer_clear(struct rsap_name_answer *a)
{
        free(a->ids);
        a->ids = NULL;
        a->n_ids = 0;
        rsap_local_list_free(a->local);
        a->local = NULL;
}

static void fill_row(const struct rsap_iana *reg, uint16_t port, enum rsap_proto proto,
                     struct rsap_list_row *row)
{
        uint32_t ids[8];
        size_t n = rsap_iana_find_port(reg, port, proto, ids, ARRAY_SIZE(ids));
        struct rsap_record rec;

        row->port = port;
        row->proto = proto;
        row->status = rsap_iana_port_status(reg, port, proto);
        row->service = rsap_iana_service_name(reg, port, proto);
        row->description = NULL;
        row->local = NULL;
        if (n > ARRAY_SIZE(ids))
                n = ARRAY_SIZE(ids);
        for (size_t i = 0; i < n && !row->description; i++) {
                rsap_iana_record(reg, ids[i], &rec);
                row->description = rec.description;
        }
}

int rsap_list_ports(const struct rsap_iana *reg, uint16_t low, uint16_t high,
                    unsigned proto_mask, unsigned status_mask,
                    int (*row)(const struct rsap_list_row *row, void *userdata), void *userdata)
{
        for (uint32_t port = low; port <= high; port++) {
                for (unsigned p = RSAP_TRANSPORTS_FIRST; p <= RSAP_TRANSPORTS_LAST; p++) {
                        struct rsap_list_row r;
                        int stop;

                        if (!(proto_mask & (1u << p)))
                                continue;
                        fill_row(reg, (uint16_t)port, (enum rsap_proto)p, &r);
                        if (status_mask && !(status_mask & (1u << r.status)))
                                continue;
                        stop = row(&r, userdata);
                        if (stop)
                                return stop;
                }
        }
        return 0;
}

static bool same_text(const char *a, const char *b)
{
        return a == b || (a && b && strcmp(a, b) == 0);
}

bool rsap_people_same(const struct rsap_person *a, size_t na, const struct rsap_person *b,
                      size_t nb)
{
        if (na != nb)
                return false;
        for (size_t i = 0; i < na; i++)
                if (!same_text(a[i].id, b[i].id) || !same_text(a[i].name, b[i].name) ||
                    !same_text(a[i].org, b[i].org) || !same_text(a[i].email, b[i].email) ||
                    !same_text(a[i].uri, b[i].uri))
                        return false;
        return true;
}

static bool same_references(const struct rsap_record *a, const struct rsap_record *b)
{
        if (a->n_references != b->n_references)
                return false;
        for (size_t i = 0; i < a->n_references; i++)
                if (a->references[i].type != b->references[i].type ||
                    !same_text(a->references[i].text, b->references[i].text) ||
                    !same_text(a->references[i].url, b->references[i].url))
                        return false;
        return true;
}

bool rsap_record_same_but_protocol(const struct rsap_record *a, const struct rsap_record *b)
{
        return same_text(a->service, b->service) && a->has_port == b->has_port &&
               (!a->has_port || (a->port_low == b->port_low && a->port_high == b->port_high)) &&
               a->status == b->status && a->source == b->source &&
               same_text(a->description, b->description) &&
               rsap_people_same(a->assignee, a->n_assignee, b->assignee, b->n_assignee) &&
               rsap_people_same(a->contact, a->n_contact, b->contact, b->n_contact) &&
               same_references(a, b) && same_text(a->registered, b->registered) &&
               same_text(a->modified, b->modified) && same_text(a->service_code, b->service_code) &&
               same_text(a->unauthorized_use, b->unauthorized_use) && same_text(a->notes, b->notes);
}
