/* SPDX-License-Identifier: MIT */
/*
 * The facts as every backend reads them from a row of its results: the
 * backend gives its column readers (struct store_columns), and turning the
 * columns of a request, an assignment, a holding, a lease, a lookup's entry
 * or an event (each backend's *_COLUMNS, in the same order) into the
 * library's structs is written once, here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rsap/basic.h>

#include "rows.h"

static int64_t row_int(const struct store_row *row, int i)
{
        return row->columns->integer(row->row, i);
}

static const char *row_text(const struct store_row *row, int i)
{
        return row->columns->text(row->row, i);
}

static bool row_is_null(const struct store_row *row, int i)
{
        return row->columns->is_null(row->row, i);
}

/* A copy, or NULL for NULL; errno tells a NULL from a failed copy. */
static char *row_strdup(const struct store_row *row, int i)
{
        const char *text = row_text(row, i);

        errno = 0;
        return text ? strdup(text) : NULL;
}

static enum rsap_proto row_proto(const struct store_row *row, int i)
{
        const char *text = row_text(row, i);
        enum rsap_proto proto = RSAP_PROTO_NONE;

        if (text && rsap_proto_parse(text, &proto) < 0)
                proto = RSAP_PROTO_NONE;
        return proto;
}

const char *const store_request_states[] = {
        [RSAP_REQUEST_PENDING] = "pending",
        [RSAP_REQUEST_APPROVED] = "approved",
        [RSAP_REQUEST_REJECTED] = "rejected",
};

enum rsap_request_state store_request_state_parse(const char *text)
{
        for (size_t i = 0; text && i < ARRAY_SIZE(store_request_states); i++)
                if (strcmp(text, store_request_states[i]) == 0)
                        return (enum rsap_request_state)i;
        return RSAP_REQUEST_PENDING;
}

int store_request_from_row(const struct store_row *row, struct rsap_request *out)
{
        memset(out, 0, sizeof(*out));
        out->id = row_int(row, 0);
        out->service = row_strdup(row, 1);
        out->any_port = row_is_null(row, 2);
        out->port = (uint16_t)row_int(row, 2);
        out->range_low = (uint16_t)row_int(row, 3);
        out->range_high = (uint16_t)row_int(row, 4);
        out->protocols = (unsigned)row_int(row, 5);
        out->description = row_strdup(row, 6);
        out->assignee = row_strdup(row, 7);
        out->contact = row_strdup(row, 8);
        out->reference = row_strdup(row, 9);
        out->note = row_strdup(row, 10);
        out->allow_system = row_int(row, 11) != 0;
        out->over_iana = row_int(row, 12) != 0;
        out->same_service = row_int(row, 13) != 0;
        out->state = store_request_state_parse(row_text(row, 14));
        out->requested_by = row_strdup(row, 15);
        out->requested_us = row_int(row, 16);
        if (!out->service || !out->description || !out->assignee || !out->contact ||
            !out->requested_by) {
                rsap_request_clear(out);
                return -ENOMEM;
        }
        return 0;
}

int store_assignment_from_row(const struct store_row *row, struct rsap_assignment *out)
{
        memset(out, 0, sizeof(*out));
        out->id = row_int(row, 0);
        out->request_id = row_int(row, 1);
        out->service = row_strdup(row, 2);
        out->port = (uint16_t)row_int(row, 3);
        out->proto = row_proto(row, 4);
        out->assignee = row_strdup(row, 5);
        out->contact = row_strdup(row, 6);
        out->description = row_strdup(row, 7);
        out->reference = row_strdup(row, 8);
        out->note = row_strdup(row, 9);
        out->over_iana = row_strdup(row, 10);
        out->active = row_int(row, 11) != 0;
        out->assigned_us = row_int(row, 12);
        out->ended_us = row_int(row, 13);
        out->quarantine_until_us = row_int(row, 14);
        if (!out->service || !out->assignee || !out->contact || !out->description) {
                rsap_assignment_clear(out);
                return -ENOMEM;
        }
        return 0;
}

void store_holding_from_row(const struct store_row *row, bool who, struct store_holding *h)
{
        *h = (struct store_holding){
                .port = (uint16_t)row_int(row, 0), .proto = row_proto(row, 1),
                .assignment_id = row_int(row, 2), .lease_id = row_int(row, 5),
        };
        if (h->assignment_id && who) {
                h->service = row_text(row, 3);
                h->assignee = row_text(row, 4);
        }
        if (h->lease_id) {
                h->lease_name = row_text(row, 6);
                h->expires_us = row_int(row, 7);
                h->pid = (pid_t)row_int(row, 8);
                h->pid_start = (uint64_t)row_int(row, 9);
                h->host = row_text(row, 10);
        }
}

int store_lease_from_row(const struct store_row *row, struct rsap_lease *out)
{
        memset(out, 0, sizeof(*out));
        out->id = row_int(row, 0);
        out->port = (uint16_t)row_int(row, 1);
        out->name = row_strdup(row, 2);
        if (!out->name && errno == ENOMEM)
                return -ENOMEM;
        out->pid = (pid_t)row_int(row, 3);
        out->pid_start = (uint64_t)row_int(row, 4);
        out->leased_us = row_int(row, 5);
        out->expires_us = row_int(row, 6);
        out->active = row_int(row, 7) != 0;
        out->ended_us = row_int(row, 8);
        out->host = row_strdup(row, 9);
        if (!out->host && errno == ENOMEM) {
                rsap_lease_clear(out);
                return -ENOMEM;
        }
        return 0;
}

static const char *entry_state(enum rsap_local_kind kind, bool active)
{
        switch (kind) {
        case RSAP_LOCAL_ASSIGNMENT:
                return active ? "active" : "quarantined";
        case RSAP_LOCAL_REQUEST:
                return "pending";
        case RSAP_LOCAL_LEASE:
                break;
        }
        return "live";
}

int store_entry_from_row(const struct store_row *row, struct rsap_local_entry *e)
{
        enum rsap_proto proto = row_proto(row, 4);

        memset(e, 0, sizeof(*e));
        e->kind = (enum rsap_local_kind)row_int(row, 0);
        e->id = row_int(row, 1);
        e->service = row_strdup(row, 2);
        e->port = row_is_null(row, 3) ? -1 : (int)row_int(row, 3);
        e->protocols = proto ? 1u << proto : (unsigned)row_int(row, 5);
        e->assignee = row_strdup(row, 6);
        e->contact = row_strdup(row, 7);
        e->description = row_strdup(row, 8);
        e->over_iana = row_strdup(row, 9);
        e->state = entry_state(e->kind, row_int(row, 10) != 0);
        e->since_us = row_int(row, 11);
        e->until_us = row_int(row, 12);
        e->pid = (pid_t)row_int(row, 13);
        return 0;
}

int store_event_from_row(const struct store_row *row, struct rsap_event *e)
{
        memset(e, 0, sizeof(*e));
        e->id = row_int(row, 0);
        e->time_us = row_int(row, 1);
        e->actor = row_strdup(row, 2);
        e->action = row_strdup(row, 3);
        e->request_id = row_int(row, 4);
        e->assignment_id = row_int(row, 5);
        e->lease_id = row_int(row, 6);
        e->service = row_strdup(row, 7);
        e->port = row_is_null(row, 8) ? -1 : (int)row_int(row, 8);
        e->proto = row_proto(row, 9);
        e->reason = row_strdup(row, 10);
        e->details = row_strdup(row, 11);
        e->host = row_strdup(row, 12);
        return e->actor && e->action ? 0 : -ENOMEM;
}

void store_finding_from_row(const struct store_row *row, struct rsap_listen_finding *f)
{
        const char *kind = row_text(row, 4), *address = row_text(row, 7);

        *f = (struct rsap_listen_finding){
                .id = row_int(row, 0), .found_us = row_int(row, 1),
                .resolved_us = row_int(row, 2), .host = (char *)row_text(row, 3),
                .port = (uint16_t)row_int(row, 5), .proto = row_proto(row, 6),
                .service = (char *)row_text(row, 8), .assignment_id = row_int(row, 9),
                .lease_id = row_int(row, 10), .owners = (char *)row_text(row, 11),
        };
        /* The table's CHECK keeps kind to the three names. */
        if (!kind || rsap_squat_kind_parse(kind, &f->kind) < 0)
                f->kind = RSAP_SQUAT_NONE;
        snprintf(f->address, sizeof(f->address), "%s", address ? address : "");
}
