/* SPDX-License-Identifier: MIT */
/*
 * rsap export --local: the local registry's active assignments, to move it
 * to another host (JSON or CSV, which rsap import reads) or to give other
 * tools a services(5) file.  Each assignment is written as it is read, so
 * an export holds one row in memory whatever the registry's size.
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

struct export_state {
        FILE *out;
        size_t n_rows;                         /* written so far */
        void (*head)(const struct export_state *e); /* what comes before the rows */
        const char *exported;                  /* JSON: the export's time */
};

/*
 * The head is written with the first row, or after a walk that found none:
 * a registry that cannot be read at all leaves nothing on the output.
 */
static void begin_row(struct export_state *e)
{
        if (e->n_rows++ == 0)
                e->head(e);
}

/* The active assignments by port and protocol, each handed to row as it is read. */
static int each_active_assignment(struct rsap_store *store, store_assignment_visit *row,
                                  struct export_state *e)
{
        struct store_assignment_query q = { .all = true, .active_only = true, .by_port = true };
        int r = store ? STORE_OP(store, assignments_walk)(store, &q, row, e) : 0;

        if (r == 0 && e->n_rows == 0)
                e->head(e);
        return r < 0 ? r : ferror(e->out) ? -EIO : 0;
}

/*
 * The bytes jansson printed when it held the whole document (RSAP_JSON_DUMP_FLAGS:
 * two spaces a level): the frame by hand, each assignment by jansson, its
 * lines moved in by the two levels of the frame.
 */
static int json_row(const struct rsap_assignment *a, void *arg)
{
        struct export_state *e = arg;
        _cleanup_(json_decrefp) json_t *doc = rsap_assignment_to_json(a);
        _cleanup_(freep) char *text = doc ? json_dumps(doc, RSAP_JSON_DUMP_FLAGS) : NULL;

        if (!text)
                return -ENOMEM;
        begin_row(e);
        fputs(e->n_rows == 1 ? "[\n    " : ",\n    ", e->out);
        /* jansson escapes every line break inside a string: each one here ends a line. */
        for (const char *p = text; *p; p++) {
                fputc(*p, e->out);
                if (*p == '\n')
                        fputs("    ", e->out);
        }
        return ferror(e->out) ? -EIO : 0;
}

static void json_head(const struct export_state *e)
{
        fprintf(e->out, "{\n  \"kind\": \"local-registry\",\n  \"exported\": \"%s\",\n"
                        "  \"schema\": %d,\n  \"assignments\": ",
                e->exported, RSAP_STORE_SCHEMA_VERSION);
}

static int export_json(struct rsap_store *store, int64_t now, FILE *out)
{
        char exported[RSAP_TIME_SIZE];
        struct export_state e = { out, 0, json_head, exported };
        int r;

        rsap_time_format(now, exported, sizeof(exported));
        r = each_active_assignment(store, json_row, &e);
        if (r < 0)
                return r;
        fputs(e.n_rows == 0 ? "[]\n}\n" : "\n  ]\n}\n", out);
        return ferror(out) ? -EIO : 0;
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

static void csv_head(const struct export_state *e)
{
        for (size_t i = 0; i < ARRAY_SIZE(csv_columns); i++)
                csv_cell(e->out, csv_columns[i], i + 1 == ARRAY_SIZE(csv_columns));
}

static int csv_row(const struct rsap_assignment *a, void *arg)
{
        FILE *out = ((struct export_state *)arg)->out;
        char port[8], assigned[RSAP_TIME_SIZE];

        begin_row(arg);
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
        return ferror(out) ? -EIO : 0;
}

static int export_csv(struct rsap_store *store, FILE *out)
{
        struct export_state e = { out, 0, csv_head, NULL };

        return each_active_assignment(store, csv_row, &e);
}

static void services_head(const struct export_state *e)
{
        fputs("# services(5): the local registry's assignments, written by rsap export --local\n",
              e->out);
}

/* services(5) has no continuation lines: the comment is one line. */
static int services_row(const struct rsap_assignment *a, void *arg)
{
        FILE *out = ((struct export_state *)arg)->out;

        begin_row(arg);
        fprintf(out, "%s\t%u/%s\t# ", a->service, a->port, rsap_proto_name(a->proto));
        for (const char *p = a->description; *p; p++)
                fputc(*p == '\n' || *p == '\r' || *p == '\t' ? ' ' : *p, out);
        fputc('\n', out);
        return ferror(out) ? -EIO : 0;
}

static int export_services(struct rsap_store *store, FILE *out)
{
        struct export_state e = { out, 0, services_head, NULL };

        return each_active_assignment(store, services_row, &e);
}

int rsap_local_export(struct rsap_store *store, enum rsap_export_format format, FILE *out)
{
        switch (format) {
        case RSAP_EXPORT_JSON:
                return export_json(store, rsap_store_now(store), out);
        case RSAP_EXPORT_CSV:
                return export_csv(store, out);
        case RSAP_EXPORT_SERVICES:
                return export_services(store, out);
        default:
                break;
        }
        return -EINVAL;
}
