/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include <rsap/answer.h>
#include <rsap/basic.h>
#include <rsap/error.h>
#include <rsap/json.h>
#include <rsap/listen.h>
#include <rsap/workflow.h>

/* jansson's json_object_set_new() takes ownership even on failure, which
 * keeps every builder below to one expression per key. */
static json_t *string_or_null(const char *s)
{
        return s ? json_string(s) : json_null();
}

/* The local registry's entries: null when there is no local registry. */
static json_t *local_to_json(const struct rsap_local_list *local)
{
        return local ? rsap_local_list_to_json(local) : json_null();
}

static json_t *proto_or_null(enum rsap_proto proto)
{
        return string_or_null(rsap_proto_name(proto));
}

static json_t *records_to_json(const struct rsap_iana *reg, const uint32_t *ids, size_t n)
{
        json_t *list = json_array();

        for (size_t i = 0; list && i < n; i++) {
                struct rsap_record rec;

                rsap_iana_record(reg, ids[i], &rec);
                json_array_append_new(list, rsap_record_to_json(&rec));
        }
        return list;
}

static json_t *range_to_json(const struct rsap_range_info *range)
{
        return json_pack("{s:s, s:s, s:i, s:i, s:s}",
                         "name", range->name,
                         "title", range->title,
                         "low", range->low,
                         "high", range->high,
                         "meaning", range->meaning);
}

json_t *rsap_port_answer_to_json(const struct rsap_iana *reg,
                                 const struct rsap_port_answer *a)
{
        json_t *status = json_object();

        for (unsigned p = RSAP_TRANSPORTS_FIRST; status && p <= RSAP_TRANSPORTS_LAST; p++)
                if (a->proto == RSAP_PROTO_NONE || a->proto == (enum rsap_proto)p)
                        json_object_set_new(status, rsap_proto_name((enum rsap_proto)p),
                                            json_string(rsap_status_name(a->status[p])));
        return json_pack("{s:s, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                         "kind", "port",
                         "port", a->port,
                         "protocol", proto_or_null(a->proto),
                         "range", range_to_json(a->range),
                         "status", status,
                         "records", records_to_json(reg, a->ids, a->n_ids),
                         "listening", a->listening.list
                                              ? rsap_listening_answer_to_json(&a->listening, reg)
                                              : json_null(),
                         "local", local_to_json(a->local),
                         "data", rsap_iana_info_to_json(reg));
}

/* A name nothing answers for: the error object rsap/error.h describes, 404. */
static json_t *no_service_error(const struct rsap_name_answer *a)
{
        char message[512];

        if (a->n_ids > 0 || (a->local && a->local->n_entries > 0))
                return NULL;
        rsap_no_service_message(a->name, a->problem, message, sizeof(message));
        return rsap_error_body_to_json(404, message);
}

json_t *rsap_name_answer_to_json(const struct rsap_iana *reg,
                                 const struct rsap_name_answer *a)
{
        bool valid = a->problem == RSAP_NAME_OK;

        return json_pack("{s:s, s:s, s:b, s:o, s:o, s:o, s:o, s:o, s:o*}",
                         "kind", "service",
                         "service", a->name,
                         "valid", valid,
                         "problem", valid ? json_null()
                                          : json_string(rsap_name_problem_text(a->problem)),
                         "replacement", a->replacement[0] ? json_string(a->replacement)
                                                          : json_null(),
                         "records", records_to_json(reg, a->ids, a->n_ids),
                         "local", local_to_json(a->local),
                         "data", rsap_iana_info_to_json(reg),
                         "error", no_service_error(a));
}

json_t *rsap_search_answer_to_json(const struct rsap_iana *reg,
                                   const struct rsap_search_answer *a)
{
        json_t *results = json_array();

        for (size_t i = 0; results && i < a->n_hits; i++) {
                struct rsap_record rec;
                json_t *o;

                rsap_iana_record(reg, a->hits[i].id, &rec);
                o = rsap_record_to_json(&rec);
                if (o)
                        json_object_set_new(o, "score", json_integer(a->hits[i].score));
                json_array_append_new(results, o);
        }
        return json_pack("{s:s, s:s, s:I, s:o, s:o, s:o}",
                         "kind", "search",
                         "query", a->text,
                         "total", (json_int_t)a->total,
                         "results", results,
                         "local", local_to_json(a->local),
                         "data", rsap_iana_info_to_json(reg));
}

json_t *rsap_list_row_to_json(const struct rsap_list_row *row)
{
        return json_pack("{s:i, s:s, s:s, s:o, s:o, s:o}",
                         "port", row->port,
                         "protocol", rsap_proto_name(row->proto),
                         "status", rsap_status_name(row->status),
                         "service", string_or_null(row->service),
                         "description", string_or_null(row->description),
                         "local", row->local ? rsap_local_entry_to_json(row->local) : json_null());
}

static int append_list_row(const struct rsap_list_row *row, void *rows)
{
        return json_array_append_new(rows, rsap_list_row_to_json(row)) < 0 ? -ENOMEM : 0;
}

json_t *rsap_range_answer_to_json(const struct rsap_iana *reg, const struct rsap_range_answer *a)
{
        json_t *rows = json_array();

        if (!rows)
                return NULL;
        if (rsap_range_answer_rows(reg, a, append_list_row, rows)) {
                json_decref(rows);
                return NULL;
        }
        return json_pack("{s:s, s:i, s:i, s:o, s:o}",
                         "kind", "list",
                         "low", a->low,
                         "high", a->high,
                         "ports", rows,
                         "data", rsap_iana_info_to_json(reg));
}

static json_t *range_counts_to_json(const struct rsap_iana *reg,
                                    const struct rsap_range_info *range)
{
        json_t *counts = json_object();

        for (unsigned p = RSAP_TRANSPORTS_FIRST; counts && p <= RSAP_TRANSPORTS_LAST; p++) {
                struct rsap_range_counts c;

                rsap_iana_range_counts(reg, range->id, (enum rsap_proto)p, &c);
                json_object_set_new(counts, rsap_proto_name((enum rsap_proto)p),
                                    json_pack("{s:i, s:i, s:i}",
                                              "assigned", (int)c.assigned,
                                              "reserved", (int)c.reserved,
                                              "unassigned", (int)c.unassigned));
        }
        return counts;
}

json_t *rsap_ranges_to_json(const struct rsap_iana *reg)
{
        json_t *list = json_array();

        for (unsigned i = 0; list && i < RSAP_RANGE_COUNT; i++) {
                const struct rsap_range_info *range = rsap_range_info((enum rsap_range_class)i);
                json_t *o = range_to_json(range);

                if (o)
                        json_object_set_new(o, "counts", range_counts_to_json(reg, range));
                json_array_append_new(list, o);
        }
        return json_pack("{s:s, s:o, s:o}",
                         "kind", "ranges",
                         "ranges", list,
                         "data", rsap_iana_info_to_json(reg));
}

json_t *rsap_status_to_json(const struct rsap_iana *reg, const char *data_dir,
                            const char *cache_path, bool cached)
{
        return json_pack("{s:s, s:s, s:s, s:b, s:o}",
                         "kind", "status",
                         "data_dir", data_dir,
                         "cache", cache_path,
                         "cached", cached,
                         "data", rsap_iana_info_to_json(reg));
}
