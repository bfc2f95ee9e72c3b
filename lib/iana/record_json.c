/* SPDX-License-Identifier: MIT */
/* IANA's records as JSON, the shape every answer and export embeds. */
#include <rsap/iana_json.h>

/* jansson's json_object_set_new() takes ownership even on failure, which
 * keeps every builder below to one expression per key. */
static json_t *string_or_null(const char *s)
{
        return s ? json_string(s) : json_null();
}

static json_t *proto_or_null(enum rsap_proto proto)
{
        return string_or_null(rsap_proto_name(proto));
}

json_t *rsap_person_to_json(const struct rsap_person *p)
{
        return json_pack("{s:o, s:o, s:o, s:o, s:o}",
                         "id", string_or_null(p->id),
                         "name", string_or_null(p->name),
                         "org", string_or_null(p->org),
                         "email", string_or_null(p->email),
                         "uri", string_or_null(p->uri));
}

static json_t *people_to_json(const struct rsap_person *people, size_t n)
{
        json_t *list;

        if (n == 0)
                return json_null();
        list = json_array();
        for (size_t i = 0; list && i < n; i++)
                json_array_append_new(list, rsap_person_to_json(&people[i]));
        return list;
}

static json_t *references_to_json(const struct rsap_reference *refs, size_t n)
{
        json_t *list = json_array();

        for (size_t i = 0; list && i < n; i++)
                json_array_append_new(list,
                                      json_pack("{s:s, s:o, s:o}",
                                                "type", rsap_ref_type_name(refs[i].type),
                                                "text", string_or_null(refs[i].text),
                                                "url", string_or_null(refs[i].url)));
        return list;
}

static void set_ports(json_t *o, const struct rsap_record *r)
{
        if (!r->has_port) {
                json_object_set_new(o, "port", json_null());
        } else if (r->port_low == r->port_high) {
                json_object_set_new(o, "port", json_integer(r->port_low));
        } else {
                json_object_set_new(o, "port_low", json_integer(r->port_low));
                json_object_set_new(o, "port_high", json_integer(r->port_high));
        }
}

json_t *rsap_record_to_json(const struct rsap_record *r)
{
        json_t *o = json_object();

        if (!o)
                return NULL;
        json_object_set_new(o, "service", string_or_null(r->service));
        set_ports(o, r);
        json_object_set_new(o, "protocol", proto_or_null(r->proto));
        json_object_set_new(o, "status", json_string(rsap_status_name(r->status)));
        json_object_set_new(o, "description", string_or_null(r->description));
        json_object_set_new(o, "assignee", people_to_json(r->assignee, r->n_assignee));
        json_object_set_new(o, "contact", people_to_json(r->contact, r->n_contact));
        json_object_set_new(o, "registered", string_or_null(r->registered));
        json_object_set_new(o, "modified", string_or_null(r->modified));
        /* The built-in copy knows no references: unknown, so null, not []. */
        json_object_set_new(o, "references",
                            r->source == RSAP_SOURCE_BUILTIN
                                    ? json_null()
                                    : references_to_json(r->references, r->n_references));
        json_object_set_new(o, "service_code", string_or_null(r->service_code));
        json_object_set_new(o, "unauthorized_use", string_or_null(r->unauthorized_use));
        json_object_set_new(o, "notes", string_or_null(r->notes));
        json_object_set_new(o, "source", json_string(rsap_source_name(r->source)));
        return o;
}

json_t *rsap_iana_info_to_json(const struct rsap_iana *reg)
{
        struct rsap_iana_info info;

        rsap_iana_info(reg, &info);
        return json_pack("{s:s, s:o, s:s, s:I, s:I}",
                         "source", rsap_source_name(info.source),
                         "release", string_or_null(info.release),
                         "origin", info.origin,
                         "records", (json_int_t)info.records,
                         "people", (json_int_t)info.people);
}
