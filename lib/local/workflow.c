/* SPDX-License-Identifier: MIT */
/*
 * The registration workflow's common ground: parsing what commands point at,
 * filing and reading requests, and the rows every part reads.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <rsap/name.h>
#include <rsap/textsafe.h>

#include "workflow_internal.h"

void format_message(char *buf, size_t size, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, size, fmt, ap);
        va_end(ap);
}

/* ---- parsing ------------------------------------------------------------------- */

int rsap_duration_parse(const char *text, int64_t *us_out)
{
        static const struct {
                char unit;
                int64_t us;
        } units[] = {
                { 's', 1000000LL },
                { 'm', 60LL * 1000000 },
                { 'h', 3600LL * 1000000 },
                { 'd', 86400LL * 1000000 },
        };
        char *end;
        unsigned long long value;

        if (!isdigit((unsigned char)text[0]))
                return -EINVAL;
        errno = 0;
        value = strtoull(text, &end, 10);
        if (errno || end[0] == '\0' || end[1] != '\0')
                return -EINVAL;
        for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
                if (units[i].unit != *end)
                        continue;
                /* Ten years is more than any TTL or quarantine means. */
                if (value > 3650ULL * 86400 * 1000000 / (unsigned long long)units[i].us)
                        return -ERANGE;
                *us_out = (int64_t)value * units[i].us;
                return 0;
        }
        return -EINVAL;
}

int rsap_quarantine_parse(const char *text, int64_t *us_out)
{
        return rsap_duration_parse(text, us_out);
}

int rsap_ttl_parse(const char *text, int64_t *us_out)
{
        int64_t us;
        int r = rsap_duration_parse(text, &us);

        if (r == 0 && us == 0)
                return -EINVAL;
        if (r == 0)
                *us_out = us;
        return r;
}

static int parse_id(const char *text, int64_t *id_out)
{
        char *end;
        long long value;

        if (!isdigit((unsigned char)text[0]))
                return -EINVAL;
        errno = 0;
        value = strtoll(text, &end, 10);
        if (errno || *end || value < 1)
                return -EINVAL;
        *id_out = value;
        return 0;
}

int rsap_request_id_parse(const char *text, int64_t *id_out)
{
        if (strncmp(text, "request:", 8) == 0)
                text += 8;
        return parse_id(text, id_out);
}

int rsap_target_parse(const char *text, struct rsap_target *out)
{
        static const struct {
                const char *prefix;
                enum rsap_target_kind kind;
        } ids[] = {
                { "request:", RSAP_TARGET_REQUEST },
                { "assignment:", RSAP_TARGET_ASSIGNMENT },
                { "lease:", RSAP_TARGET_LEASE },
        };
        struct rsap_port_spec spec;
        size_t len = strlen(text);

        memset(out, 0, sizeof(*out));
        for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
                size_t plen = strlen(ids[i].prefix);

                if (strncmp(text, ids[i].prefix, plen) == 0) {
                        out->kind = ids[i].kind;
                        return parse_id(text + plen, &out->id);
                }
        }
        if (rsap_text_is_numeric(text)) {
                int r = rsap_port_spec_parse(text, &spec);

                if (r == 0 && spec.low != spec.high)
                        return -EINVAL;
                if (r == 0) {
                        out->kind = RSAP_TARGET_PORT;
                        out->port = spec.low;
                        out->proto = spec.proto;
                        return 0;
                }
                /* A few names start with a digit ("3com-tsmux"); a port has no letter. */
                if (strcspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == len)
                        return r;
        }
        if (len == 0 || len > RSAP_NAME_MAX || strpbrk(text, ":/"))
                return -EINVAL;
        out->kind = RSAP_TARGET_NAME;
        memcpy(out->name, text, len + 1);
        return 0;
}

/* ---- names ------------------------------------------------------------------------ */

const char *rsap_request_state_name(enum rsap_request_state state)
{
        switch (state) {
        case RSAP_REQUEST_PENDING:
                return "pending";
        case RSAP_REQUEST_APPROVED:
                return "approved";
        case RSAP_REQUEST_REJECTED:
                return "rejected";
        }
        return "?";
}

static enum rsap_request_state request_state_parse(const char *text)
{
        if (text && strcmp(text, "approved") == 0)
                return RSAP_REQUEST_APPROVED;
        if (text && strcmp(text, "rejected") == 0)
                return RSAP_REQUEST_REJECTED;
        return RSAP_REQUEST_PENDING;
}

/* ---- requests ----------------------------------------------------------------------- */

void rsap_request_clear(struct rsap_request *r)
{
        free(r->service);
        free(r->description);
        free(r->assignee);
        free(r->contact);
        free(r->reference);
        free(r->note);
        free(r->requested_by);
        memset(r, 0, sizeof(*r));
}

void rsap_request_list_free(struct rsap_request *list, size_t n)
{
        for (size_t i = 0; i < n; i++)
                rsap_request_clear(&list[i]);
        free(list);
}

int request_from_row(sqlite3_stmt *stmt, struct rsap_request *out)
{
        memset(out, 0, sizeof(*out));
        out->id = sqlite3_column_int64(stmt, 0);
        out->service = store_column_strdup(stmt, 1);
        out->any_port = sqlite3_column_type(stmt, 2) == SQLITE_NULL;
        out->port = (uint16_t)sqlite3_column_int(stmt, 2);
        out->range_low = (uint16_t)sqlite3_column_int(stmt, 3);
        out->range_high = (uint16_t)sqlite3_column_int(stmt, 4);
        out->protocols = (unsigned)sqlite3_column_int(stmt, 5);
        out->description = store_column_strdup(stmt, 6);
        out->assignee = store_column_strdup(stmt, 7);
        out->contact = store_column_strdup(stmt, 8);
        out->reference = store_column_strdup(stmt, 9);
        out->note = store_column_strdup(stmt, 10);
        out->allow_system = sqlite3_column_int(stmt, 11) != 0;
        out->over_iana = sqlite3_column_int(stmt, 12) != 0;
        out->same_service = sqlite3_column_int(stmt, 13) != 0;
        out->state = request_state_parse((const char *)sqlite3_column_text(stmt, 14));
        out->requested_by = store_column_strdup(stmt, 15);
        out->requested_us = sqlite3_column_int64(stmt, 16);
        if (!out->service || !out->description || !out->assignee || !out->contact ||
            !out->requested_by) {
                rsap_request_clear(out);
                return -ENOMEM;
        }
        return 0;
}

int rsap_request_get(struct rsap_store *store, int64_t id, struct rsap_request *out)
{
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *stmt = NULL;
        int r;

        memset(out, 0, sizeof(*out));
        r = store_prepare(store, "SELECT " REQUEST_COLUMNS " FROM requests WHERE id = ?", &stmt);
        if (r < 0)
                return r;
        sqlite3_bind_int64(stmt, 1, id);
        r = store_step(stmt);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENOENT;
        return request_from_row(stmt, out);
}

int rsap_request_list(struct rsap_store *store, bool pending_only, struct rsap_request **out,
                      size_t *n_out)
{
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *stmt = NULL;
        struct rsap_request *list = NULL;
        size_t n = 0, capacity = 0;
        int r;

        *out = NULL;
        *n_out = 0;
        r = store_prepare(store,
                          pending_only ? "SELECT " REQUEST_COLUMNS
                                         " FROM requests WHERE state = 'pending' ORDER BY id"
                                       : "SELECT " REQUEST_COLUMNS " FROM requests ORDER BY id",
                          &stmt);
        if (r < 0)
                return r;
        while ((r = store_step(stmt)) > 0) {
                r = rsap_grow(&list, &capacity, n + 1, sizeof(*list));
                if (r < 0)
                        break;
                r = request_from_row(stmt, &list[n]);
                if (r < 0)
                        break;
                n++;
        }
        if (r < 0) {
                rsap_request_list_free(list, n);
                return r;
        }
        *out = list;
        *n_out = n;
        return 0;
}

static bool present(const char *text)
{
        return text && *text;
}

/* Whether text, absent or present, holds nothing a terminal or a log line would obey. */
static bool clean(const char *text, bool multi_line)
{
        return !text || rsap_text_first_control(text, multi_line) < 0;
}

static int validate_request(const struct rsap_request_input *in)
{
        size_t len = in->service ? strlen(in->service) : 0;

        if (len == 0 || len > RSAP_NAME_MAX)
                return -EINVAL;
        if (!present(in->description) || !present(in->assignee) || !present(in->contact))
                return -EINVAL;
        /* Every field is printed and logged later: refuse control characters at the door. */
        if (!clean(in->service, false) || !clean(in->description, false) ||
            !clean(in->assignee, false) || !clean(in->contact, false) ||
            !clean(in->reference, false) || !clean(in->note, true))
                return -EILSEQ;
        if (in->protocols == 0 || (in->protocols & ~ALL_TRANSPORTS))
                return -EINVAL;
        if (in->has_range && (!in->any_port || in->range_low > in->range_high))
                return -EINVAL;
        return 0;
}

static json_t *request_details(const struct rsap_request_input *in, uint16_t low, uint16_t high)
{
        char protocols[32];

        rsap_proto_format_list(in->protocols, protocols, sizeof(protocols));
        return json_pack("{s:s, s:i, s:i, s:s, s:s, s:s, s:s?, s:s?, s:b, s:b, s:b}",
                         "protocols", protocols,
                         "range_low", low,
                         "range_high", high,
                         "description", in->description,
                         "assignee", in->assignee,
                         "contact", in->contact,
                         "reference", present(in->reference) ? in->reference : NULL,
                         "note", present(in->note) ? in->note : NULL,
                         "allow_system", in->allow_system,
                         "over_iana", in->over_iana,
                         "same_service", in->same_service);
}

static int insert_request(struct rsap_store *store, const struct rsap_request_input *in,
                          const char *actor, uint16_t low, uint16_t high, int64_t *id_out)
{
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *stmt = NULL;
        int r = store_prepare(store,
                              "INSERT INTO requests (service, port, range_low, range_high,"
                              " protocols, description, assignee, contact, reference, note,"
                              " allow_system, over_iana, same_service, requested_by, requested_us)"
                              " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                              &stmt);

        if (r < 0)
                return r;
        store_bind_text(stmt, 1, in->service);
        store_bind_port(stmt, 2, in->any_port ? -1 : in->port);
        sqlite3_bind_int(stmt, 3, low);
        sqlite3_bind_int(stmt, 4, high);
        sqlite3_bind_int(stmt, 5, (int)in->protocols);
        store_bind_text(stmt, 6, in->description);
        store_bind_text(stmt, 7, in->assignee);
        store_bind_text(stmt, 8, in->contact);
        store_bind_text(stmt, 9, in->reference);
        store_bind_text(stmt, 10, in->note);
        sqlite3_bind_int(stmt, 11, in->allow_system);
        sqlite3_bind_int(stmt, 12, in->over_iana);
        sqlite3_bind_int(stmt, 13, in->same_service);
        store_bind_text(stmt, 14, actor);
        sqlite3_bind_int64(stmt, 15, rsap_store_now(store));
        r = store_step_done(stmt);
        if (r == 0)
                *id_out = sqlite3_last_insert_rowid(store->db);
        return r;
}

int rsap_request_file(const struct rsap_workflow *wf, const struct rsap_request_input *in,
                      int64_t *id_out)
{
        _cleanup_(store_tx_end) struct store_tx tx = { 0 };
        _cleanup_(json_decrefp) json_t *details = NULL;
        uint16_t low = in->port, high = in->port;
        struct store_event ev = { .actor = wf->actor, .action = "request", .port = -1 };
        int r;

        r = validate_request(in);
        if (r < 0)
                return r;
        if (in->any_port) {
                low = in->has_range ? in->range_low : RSAP_DEFAULT_ANY_LOW;
                high = in->has_range ? in->range_high : RSAP_DEFAULT_ANY_HIGH;
        }
        details = request_details(in, low, high);
        if (!details)
                return -ENOMEM;
        r = store_tx_begin(wf->store, &tx);
        if (r < 0)
                return r;
        r = insert_request(wf->store, in, wf->actor, low, high, &ev.request_id);
        if (r < 0)
                return r;
        ev.service = in->service;
        ev.port = in->any_port ? -1 : in->port;
        ev.details = details;
        r = store_append_event(wf->store, &ev, NULL);
        if (r < 0)
                return r;
        r = store_tx_commit(&tx);
        if (r == 0)
                *id_out = ev.request_id;
        return r;
}

/* ---- assignments --------------------------------------------------------------------- */

void rsap_assignment_clear(struct rsap_assignment *a)
{
        free(a->service);
        free(a->assignee);
        free(a->contact);
        free(a->description);
        free(a->reference);
        free(a->note);
        free(a->over_iana);
        memset(a, 0, sizeof(*a));
}

void rsap_assignment_list_free(struct rsap_assignment *list, size_t n)
{
        for (size_t i = 0; i < n; i++)
                rsap_assignment_clear(&list[i]);
        free(list);
}

int assignment_from_row(sqlite3_stmt *stmt, struct rsap_assignment *out)
{
        memset(out, 0, sizeof(*out));
        out->id = sqlite3_column_int64(stmt, 0);
        out->request_id = sqlite3_column_int64(stmt, 1);
        out->service = store_column_strdup(stmt, 2);
        out->port = (uint16_t)sqlite3_column_int(stmt, 3);
        out->proto = store_column_proto(stmt, 4);
        out->assignee = store_column_strdup(stmt, 5);
        out->contact = store_column_strdup(stmt, 6);
        out->description = store_column_strdup(stmt, 7);
        out->reference = store_column_strdup(stmt, 8);
        out->note = store_column_strdup(stmt, 9);
        out->over_iana = store_column_strdup(stmt, 10);
        out->active = sqlite3_column_int(stmt, 11) != 0;
        out->assigned_us = sqlite3_column_int64(stmt, 12);
        out->ended_us = sqlite3_column_int64(stmt, 13);
        out->quarantine_until_us = sqlite3_column_int64(stmt, 14);
        if (!out->service || !out->assignee || !out->contact || !out->description) {
                rsap_assignment_clear(out);
                return -ENOMEM;
        }
        return 0;
}

int assignments_collect(sqlite3_stmt *stmt, struct rsap_assignment **out, size_t *n_out)
{
        struct rsap_assignment *list = NULL;
        size_t n = 0, capacity = 0;
        int r;

        while ((r = store_step(stmt)) > 0) {
                r = rsap_grow(&list, &capacity, n + 1, sizeof(*list));
                if (r < 0)
                        break;
                r = assignment_from_row(stmt, &list[n]);
                if (r < 0)
                        break;
                n++;
        }
        if (r < 0) {
                rsap_assignment_list_free(list, n);
                return r;
        }
        *out = list;
        *n_out = n;
        return 0;
}

int assignment_get(struct rsap_store *store, int64_t id, struct rsap_assignment *out)
{
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *stmt = NULL;
        int r = store_prepare(store, "SELECT " ASSIGNMENT_COLUMNS ASSIGNMENT_FROM "WHERE a.id = ?",
                              &stmt);

        if (r < 0)
                return r;
        sqlite3_bind_int64(stmt, 1, id);
        r = store_step(stmt);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENOENT;
        return assignment_from_row(stmt, out);
}
