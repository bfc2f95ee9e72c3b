/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A row of a backend's result, read through the backend's own column
 * readers, and the facts made from one (rows.c): the same for SQLite and
 * PostgreSQL, which select the same columns in the same order.
 */
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"

struct store_columns {
        int64_t (*integer)(void *row, int i);  /* NULL reads as 0 */
        const char *(*text)(void *row, int i); /* NULL for NULL; borrowed until the next row */
        bool (*is_null)(void *row, int i);
};

struct store_row {
        const struct store_columns *columns;
        void *row; /* the backend's query, at the row */
};

/* Indexed by enum rsap_request_state: the words the tables hold. */
extern const char *const store_request_states[3];
enum rsap_request_state store_request_state_parse(const char *text);

/* 0 or -ENOMEM (out cleared); the holding's strings are borrowed from the row. */
int store_request_from_row(const struct store_row *row, struct rsap_request *out);
int store_assignment_from_row(const struct store_row *row, struct rsap_assignment *out);
void store_holding_from_row(const struct store_row *row, bool who, struct store_holding *h);
int store_lease_from_row(const struct store_row *row, struct rsap_lease *out);
int store_entry_from_row(const struct store_row *row, struct rsap_local_entry *e);
int store_event_from_row(const struct store_row *row, struct rsap_event *e);

/*
 * Findings (rsap/findings.h): the columns each backend selects, in this
 * order, and the finding made of them, its strings borrowed from the row.
 */
#define STORE_FINDING_COLUMNS                                                              \
        "id, found_us, resolved_us, host, kind, port, protocol, address, service,"        \
        " assignment_id, lease_id, owners"
void store_finding_from_row(const struct store_row *row, struct rsap_listen_finding *f);
