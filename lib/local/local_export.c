/* SPDX-License-Identifier: MIT */
/*
 * rsap export --local: the local registry's active assignments, to move it
 * to another host (JSON or CSV, which rsap import reads) or to give other
 * tools a services(5) file.
 */
#include <csv.h>
#include <errno.h>
#include <string.h>

#include <rsap/basic.h>

#include "workflow_internal.h"

/* The CSV's columns; rsap import reads them by name, in any order. */
static const char *const csv_columns[] = {
        "service", "port", "protocol", "assignee", "contact", "description",
        "reference", "note", "over_iana", "assigned",
};

static int active_assignments(struct rsap_store *store, struct rsap_assignment **out,
                              size_t *n_out)
{
        struct store_assignment_query q = { .all = true, .active_only = true, .by_port = true };

        *out = NULL;
        *n_out = 0;
        if (!store)
                return 0;
        return STORE_OP(store, assignments)(store, &q, out, n_out);
}

static int export_json(const struct rsap_assignment *list, size_t n, int64_t now, FILE *out)
{
        _cleanup_(json_decrefp) json_t *doc = NULL;
        json_t *assignments = json_array();
        char exported[RSAP_TIME_SIZE];

        rsap_time_format(now, exported, sizeof(exported));
        for (size_t i = 0; assignments && i < n; i++)
                json_array_append_new(assignments, rsap_assignment_to_json(&list[i]));
        doc = json_pack("{s:s, s:s, s:i, s:o}", "kind", "local-registry", "exported", exported,
                        "schema", RSAP_STORE_SCHEMA_VERSION, "assignments", assignments);
        if (!doc)
                return -ENOMEM;
        if (json_dumpf(doc, out, RSAP_JSON_DUMP_FLAGS) < 0 || fputc('\n', out) == EOF)
                return -EIO;
        return 0;
}

/* Quoted only when it must be. */
static void csv_cell(FILE *out, const char *text, bool last)
{
        if (text && strpbrk(text, ",\"\r\n"))
                csv_fwrite(out, text, strlen(text));
        else if (text)
                fputs(text, out);
        fputc(last ? '\n' : ',', out);
}

static int export_csv(const struct rsap_assignment *list, size_t n, FILE *out)
{
        for (size_t i = 0; i < ARRAY_SIZE(csv_columns); i++)
                csv_cell(out, csv_columns[i], i + 1 == ARRAY_SIZE(csv_columns));
        for (size_t i = 0; i < n; i++) {
                const struct rsap_assignment *a = &list[i];
                char port[8], assigned[RSAP_TIME_SIZE];

                snprintf(port, sizeof(port), "%u", a->port);
                rsap_time_format(a->assigned_us, assigned, sizeof(assigned));
                csv_cell(out, a->service, false);
                csv_cell(out, port, false);
                csv_cell(out, rsap_proto_name(a->proto), false);
                csv_cell(out, a->assignee, false);
                csv_cell(out, a->contact, false);
                csv_cell(out, a->description, false);
                csv_cell(out, a->reference, false);
                csv_cell(out, a->note, false);
                csv_cell(out, a->over_iana, false);
                csv_cell(out, assigned, true);
        }
        return ferror(out) ? -EIO : 0;
}

/* services(5) has no continuation lines: the comment is one line. */
static int export_services(const struct rsap_assignment *list, size_t n, FILE *out)
{
        fputs("# services(5): the local registry's assignments, written by rsap export --local\n",
              out);
        for (size_t i = 0; i < n; i++) {
                fprintf(out, "%s\t%u/%s\t# ", list[i].service, list[i].port,
                        rsap_proto_name(list[i].proto));
                for (const char *p = list[i].description; *p; p++)
                        fputc(*p == '\n' || *p == '\r' || *p == '\t' ? ' ' : *p, out);
                fputc('\n', out);
        }
        return ferror(out) ? -EIO : 0;
}

int rsap_local_export(struct rsap_store *store, enum rsap_export_format format, FILE *out)
{
        struct rsap_assignment *list;
        size_t n;
        int r = active_assignments(store, &list, &n);

        if (r < 0)
                return r;
        switch (format) {
        case RSAP_EXPORT_JSON:
                r = export_json(list, n, rsap_store_now(store), out);
                break;
        case RSAP_EXPORT_CSV:
                r = export_csv(list, n, out);
                break;
        case RSAP_EXPORT_SERVICES:
                r = export_services(list, n, out);
                break;
        default:
                r = -EINVAL;
        }
        rsap_assignment_list_free(list, n);
        return r;
}
