/* SPDX-License-Identifier: MIT */
/*
 * rsap import: another host's export (JSON or CSV) merged into this local
 * registry in one transaction.  A conflicting entry is never overwritten:
 * it is reported, and unless asked to skip it, nothing is imported.
 */
#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <rsap/name.h>
#include <rsap/textsafe.h>

#include "workflow_internal.h"

struct import_entry {
        char *service, *assignee, *contact, *description, *reference, *note, *over_iana;
        char *assigned; /* the source's date, kept in the event */
        uint16_t port;
        enum rsap_proto proto;
};

struct import_set {
        struct import_entry *items;
        size_t n, capacity;
        struct rsap_import_result *result; /* for error messages */
};

static void entry_clear(struct import_entry *e)
{
        free(e->service);
        free(e->assignee);
        free(e->contact);
        free(e->description);
        free(e->reference);
        free(e->note);
        free(e->over_iana);
        free(e->assigned);
}

static void import_set_clear(struct import_set *set)
{
        for (size_t i = 0; i < set->n; i++)
                entry_clear(&set->items[i]);
        free(set->items);
}

static int bad_input(struct import_set *set, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static int bad_input(struct import_set *set, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(set->result->error, sizeof(set->result->error), fmt, ap);
        va_end(ap);
        return -EBADMSG;
}

static struct import_entry *new_entry(struct import_set *set)
{
        if (rsap_grow(&set->items, &set->capacity, set->n + 1, sizeof(*set->items)) < 0)
                return NULL;
        memset(&set->items[set->n], 0, sizeof(set->items[0]));
        return &set->items[set->n++];
}

/* What every entry needs, whatever the file's form; where says which one. */
/* Whether text, absent or present, holds nothing a terminal or a log line would obey. */
static bool clean(const char *text, bool multi_line)
{
        return !text || rsap_text_first_control(text, multi_line) < 0;
}

static int validate_entry(struct import_set *set, const struct import_entry *e, const char *where)
{
        if (e->service && !clean(e->service, false))
                return bad_input(set, "%s: the service name holds a control character", where);
        if (!e->service || rsap_name_check(e->service) != RSAP_NAME_OK)
                return bad_input(set, "%s: '%s' is not a well-formed service name", where,
                                 e->service ? e->service : "");
        if (!e->assignee || !e->contact || !e->description)
                return bad_input(set, "%s: service, port, protocol, assignee, contact and "
                                      "description are required",
                                 where);
        if (!clean(e->assignee, false) || !clean(e->contact, false) ||
            !clean(e->description, false) || !clean(e->reference, false) ||
            !clean(e->over_iana, false) || !clean(e->assigned, false) || !clean(e->note, true))
                return bad_input(set, "%s: a field holds a control character or a byte that is "
                                      "not UTF-8 (only a note may hold line breaks)",
                                 where);
        if (e->proto == RSAP_PROTO_NONE)
                return bad_input(set, "%s: the protocol is tcp, udp, sctp or dccp", where);
        return 0;
}

/* ---- JSON ------------------------------------------------------------------------- */

static char *json_text(json_t *o, const char *key)
{
        const char *s = json_string_value(json_object_get(o, key));

        return s && *s ? strdup(s) : NULL;
}

static int json_entry(struct import_set *set, json_t *o, size_t index)
{
        struct import_entry *e;
        json_t *port = json_object_get(o, "port");
        const char *proto = json_string_value(json_object_get(o, "protocol"));
        char where[32];

        snprintf(where, sizeof(where), "assignment %zu", index + 1);
        if (!json_is_object(o))
                return bad_input(set, "%s is not an object", where);
        if (!json_is_integer(port) || json_integer_value(port) < 0 ||
            json_integer_value(port) > UINT16_MAX)
                return bad_input(set, "%s: the port is a number from 0 to 65535", where);
        e = new_entry(set);
        if (!e)
                return -ENOMEM;
        e->port = (uint16_t)json_integer_value(port);
        if (!proto || rsap_proto_parse(proto, &e->proto) < 0)
                e->proto = RSAP_PROTO_NONE;
        e->service = json_text(o, "service");
        e->assignee = json_text(o, "assignee");
        e->contact = json_text(o, "contact");
        e->description = json_text(o, "description");
        e->reference = json_text(o, "reference");
        e->note = json_text(o, "note");
        e->over_iana = json_text(o, "over_iana");
        e->assigned = json_text(o, "assigned");
        return validate_entry(set, e, where);
}

static int parse_json(struct import_set *set, const char *text, size_t size)
{
        _cleanup_(json_decrefp) json_t *doc = NULL;
        json_error_t error;
        json_t *list, *item;
        const char *kind;
        size_t i;
        int r;

        doc = json_loadb(text, size, 0, &error);
        if (!doc)
                return bad_input(set, "JSON line %d: %s", error.line, error.text);
        list = json_object_get(doc, "assignments");
        kind = json_string_value(json_object_get(doc, "kind"));
        if (!kind || strcmp(kind, "local-registry") != 0 || !json_is_array(list))
                return bad_input(set, "not an export of a local registry "
                                      "(rsap export --local --format json)");
        json_array_foreach(list, i, item) {
                r = json_entry(set, item, i);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- CSV ------------------------------------------------------------------------------- */

enum csv_column { COL_SERVICE, COL_PORT, COL_PROTOCOL, COL_ASSIGNEE, COL_CONTACT,
                  COL_DESCRIPTION, COL_REFERENCE, COL_NOTE, COL_OVER_IANA, COL_ASSIGNED,
                  COL_COUNT };

static const char *const column_names[COL_COUNT] = {
        "service", "port", "protocol", "assignee", "contact", "description",
        "reference", "note", "over_iana", "assigned",
};

struct csv_state {
        struct import_set *set;
        int position[COL_COUNT]; /* the file's column for each, -1: absent */
        char *row[COL_COUNT];
        size_t field, line;
        bool header_done;
        int error;
};

static void csv_row_clear(struct csv_state *c)
{
        for (size_t i = 0; i < COL_COUNT; i++) {
                free(c->row[i]);
                c->row[i] = NULL;
        }
        c->field = 0;
}

static void on_field(void *data, size_t len, void *arg)
{
        struct csv_state *c = arg;
        size_t column = c->field++;

        if (c->error)
                return;
        if (!c->header_done) {
                for (size_t i = 0; i < COL_COUNT; i++)
                        if (strlen(column_names[i]) == len && memcmp(data, column_names[i], len) == 0)
                                c->position[i] = (int)column;
                return;
        }
        for (size_t i = 0; i < COL_COUNT; i++) {
                if (c->position[i] != (int)column || len == 0)
                        continue;
                c->row[i] = strndup(data, len);
                if (!c->row[i])
                        c->error = -ENOMEM;
        }
}

static int csv_entry(struct csv_state *c)
{
        struct import_entry *e = new_entry(c->set);
        char where[32];
        uint16_t port;

        if (!e)
                return -ENOMEM;
        snprintf(where, sizeof(where), "line %zu", c->line);
        if (!c->row[COL_PORT] || rsap_port_parse(c->row[COL_PORT], &port) < 0)
                return bad_input(c->set, "%s: the port is a number from 0 to 65535", where);
        e->port = port;
        if (!c->row[COL_PROTOCOL] || rsap_proto_parse(c->row[COL_PROTOCOL], &e->proto) < 0)
                e->proto = RSAP_PROTO_NONE;
        e->service = c->row[COL_SERVICE];
        e->assignee = c->row[COL_ASSIGNEE];
        e->contact = c->row[COL_CONTACT];
        e->description = c->row[COL_DESCRIPTION];
        e->reference = c->row[COL_REFERENCE];
        e->note = c->row[COL_NOTE];
        e->over_iana = c->row[COL_OVER_IANA];
        e->assigned = c->row[COL_ASSIGNED];
        for (size_t i = 0; i < COL_COUNT; i++)
                if (i != COL_PORT && i != COL_PROTOCOL)
                        c->row[i] = NULL; /* now the entry's */
        return validate_entry(c->set, e, where);
}

static void on_row(int terminator, void *arg)
{
        struct csv_state *c = arg;

        (void)terminator;
        c->line++;
        if (!c->error && !c->header_done) {
                c->header_done = true;
                for (size_t i = 0; i <= COL_DESCRIPTION && !c->error; i++)
                        if (c->position[i] < 0)
                                c->error = bad_input(c->set, "the CSV has no '%s' column",
                                                     column_names[i]);
        } else if (!c->error) {
                c->error = csv_entry(c);
        }
        csv_row_clear(c);
}

static int parse_csv(struct import_set *set, const char *text, size_t size)
{
        struct csv_state c = { .set = set };
        struct csv_parser parser;
        int r = 0;

        for (size_t i = 0; i < COL_COUNT; i++)
                c.position[i] = -1;
        if (csv_init(&parser, CSV_APPEND_NULL) != 0)
                return -ENOMEM;
        if (csv_parse(&parser, text, size, on_field, on_row, &c) != size)
                r = bad_input(set, "CSV line %zu: %s", c.line + 1,
                              csv_strerror(csv_error(&parser)));
        if (r == 0)
                csv_fini(&parser, on_field, on_row, &c);
        csv_free(&parser);
        csv_row_clear(&c);
        if (r == 0 && !c.header_done)
                r = bad_input(set, "the file is empty");
        return r ? r : c.error;
}

/* ---- merging --------------------------------------------------------------------------- */

enum import_outcome { IMPORTED, UNCHANGED, CONFLICT };

static int add_conflict(struct rsap_import_result *result, const struct import_entry *e,
                        const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int add_conflict(struct rsap_import_result *result, const struct import_entry *e,
                        const char *fmt, ...)
{
        struct rsap_import_conflict *c;
        va_list ap;

        if (rsap_grow(&result->conflicts, &result->conflicts_capacity, result->n_conflicts + 1,
                      sizeof(*result->conflicts)) < 0)
                return -ENOMEM;
        c = &result->conflicts[result->n_conflicts++];
        c->service = strdup(e->service);
        c->port = e->port;
        c->proto = e->proto;
        va_start(ap, fmt);
        vsnprintf(c->message, sizeof(c->message), fmt, ap);
        va_end(ap);
        return c->service ? CONFLICT : -ENOMEM;
}

struct import_check {
        const struct import_entry *entry;
        struct rsap_import_result *result;
        int verdict;           /* IMPORTED until something says otherwise */
        int64_t quarantine_until_us;
};

static int judge_holder(const struct store_holding *h, void *arg)
{
        struct import_check *c = arg;
        const struct import_entry *e = c->entry;

        if (!h->assignment_id)
                c->verdict = add_conflict(c->result, e, "%u/%s is leased here (lease %lld)",
                                          e->port, rsap_proto_name(e->proto),
                                          (long long)h->lease_id);
        else if (h->service && rsap_name_equal(h->service, e->service))
                c->verdict = UNCHANGED;
        else
                c->verdict = add_conflict(c->result, e,
                                          "%u/%s is assigned here to %s (assignment %lld); the "
                                          "file gives it to %s",
                                          e->port, rsap_proto_name(e->proto),
                                          h->service ? h->service : "?",
                                          (long long)h->assignment_id, e->service);
        return c->verdict < 0 ? c->verdict : 0;
}

/* Who holds the entry's port/protocol here: UNCHANGED, CONFLICT or IMPORTED (free). */
static int check_holder(struct rsap_store *store, const struct import_entry *e,
                        struct rsap_import_result *result)
{
        struct import_check c = { e, result, IMPORTED, 0 };
        int r = STORE_OP(store, holdings)(store, e->port, e->port, e->proto, true, judge_holder,
                                          &c);

        return r < 0 ? r : c.verdict;
}

static int latest_quarantine(const struct store_quarantine *q, void *arg)
{
        struct import_check *c = arg;

        if (q->until_us > c->quarantine_until_us)
                c->quarantine_until_us = q->until_us;
        return 0;
}

static int check_quarantine_and_name(struct rsap_store *store, const struct import_entry *e,
                                     struct rsap_import_result *result)
{
        struct import_check c = { e, result, IMPORTED, 0 };
        struct store_service found;
        char until[RSAP_TIME_SIZE];
        int r = STORE_OP(store, quarantines)(store, e->port, e->port, e->proto,
                                             rsap_store_now(store), latest_quarantine, &c);

        if (r < 0)
                return r;
        if (c.quarantine_until_us) {
                rsap_time_format(c.quarantine_until_us, until, sizeof(until));
                return add_conflict(result, e, "%u/%s is quarantined here until %s", e->port,
                                    rsap_proto_name(e->proto), until);
        }
        r = STORE_OP(store, service_get)(store, e->service, &found);
        if (r < 0)
                return r == -ENOENT ? IMPORTED : r;
        if (strcasecmp(found.assignee, e->assignee) == 0)
                r = IMPORTED;
        else
                r = add_conflict(result, e, "service name '%s' is registered here to %s; the "
                                            "file says %s",
                                 e->service, found.assignee, e->assignee);
        store_service_clear(&found);
        return r;
}

static int record_import(const struct rsap_workflow *wf, const struct import_entry *e,
                         int64_t assignment_id, const char *origin)
{
        _cleanup_(json_decrefp) json_t *details =
                json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:s?}", "assignee",
                          e->assignee, "contact", e->contact, "description", e->description,
                          "reference", e->reference, "note", e->note, "over_iana", e->over_iana,
                          "assigned_at_origin", e->assigned, "origin", origin);
        char reason[300];
        struct store_event ev = {
                .actor = wf->actor, .action = "import", .assignment_id = assignment_id,
                .service = e->service, .port = e->port, .proto = e->proto, .reason = reason,
                .details = details,
        };

        if (!details)
                return -ENOMEM;
        format_message(reason, sizeof(reason), "imported from %s", origin ? origin : "a file");
        return store_append_event(wf->store, &ev, NULL);
}

static int import_entry(const struct rsap_workflow *wf, const struct import_entry *e,
                        const char *origin, struct rsap_import_result *result)
{
        struct assignment_fields f = {
                .port = e->port, .proto = e->proto, .description = e->description,
                .reference = e->reference, .note = e->note, .over_iana = e->over_iana,
        };
        int64_t assignment_id;
        int r = check_holder(wf->store, e, result);

        if (r == IMPORTED)
                r = check_quarantine_and_name(wf->store, e, result);
        if (r != IMPORTED)
                return r;
        r = service_find_or_create(wf->store, e->service, e->assignee, e->contact,
                                   &f.service_id);
        if (r == 0)
                r = STORE_OP(wf->store, assignment_insert)(wf->store, &f, &assignment_id);
        if (r == 0)
                r = record_import(wf, e, assignment_id, origin);
        return r < 0 ? r : IMPORTED;
}

static int merge(const struct rsap_workflow *wf, const struct import_set *set, const char *origin,
                 bool skip_conflicts, struct rsap_import_result *result)
{
        _cleanup_(store_tx_end) struct store_tx tx = { 0 };
        int r = store_tx_begin(wf->store, &tx);

        if (r == 0)
                r = leases_reap(wf->store, wf->actor, NULL);
        for (size_t i = 0; r == 0 && i < set->n; i++) {
                r = import_entry(wf, &set->items[i], origin, result);
                if (r == IMPORTED)
                        result->imported++;
                else if (r == UNCHANGED)
                        result->unchanged++;
                r = r < 0 ? r : 0;
        }
        if (r < 0)
                return r;
        if (result->n_conflicts > 0 && !skip_conflicts) {
                result->imported = 0;
                return -EEXIST; /* the transaction rolls back: nothing imported */
        }
        return store_tx_commit(&tx);
}

void rsap_import_result_clear(struct rsap_import_result *r)
{
        for (size_t i = 0; i < r->n_conflicts; i++)
                free(r->conflicts[i].service);
        free(r->conflicts);
        memset(r, 0, sizeof(*r));
}

int rsap_local_import(const struct rsap_workflow *wf, const char *text, size_t size,
                      const char *origin, bool skip_conflicts, struct rsap_import_result *out)
{
        struct import_set set = { .result = out };
        size_t skip;
        int r;

        memset(out, 0, sizeof(*out));
        skip = strspn(text, " \t\r\n");
        if (skip < size && text[skip] == '{')
                r = parse_json(&set, text, size);
        else
                r = parse_csv(&set, text, size);
        if (r == 0)
                r = merge(wf, &set, origin, skip_conflicts, out);
        import_set_clear(&set);
        return r;
}
