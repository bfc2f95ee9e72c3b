/* SPDX-License-Identifier: MIT */
/*
 * The PostgreSQL backend's facts: requests, services, assignments, holdings,
 * quarantines, leases, the lookups' entries and the history, each read or
 * written by one statement (or two that change a row and its holding), and
 * the backend's table of operations.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pg.h"
#include "../rows.h"

/* ---- rows, read by lib/local/rows.c ------------------------------------------------ */

static int64_t row_integer(void *q, int i)
{
        return pg_column_int(q, i);
}

static const char *row_text(void *q, int i)
{
        return pg_column_text(q, i);
}

static bool row_is_null(void *q, int i)
{
        return pg_column_is_null(q, i);
}

static const struct store_columns columns = { row_integer, row_text, row_is_null };

/* The query's current row, as rows.c reads one. */
#define ROW(q) (&(struct store_row){ &columns, (q) })

/* An INSERT ... RETURNING id run, and the id it made. */
static int insert_returning_id(struct rsap_store *store, struct pg_query *q, int64_t *id_out)
{
        int r = pg_step(store, q);

        if (r == 0)
                return -EIO;
        if (r > 0)
                *id_out = pg_column_int(q, 0);
        return r < 0 ? r : 0;
}

/*
 * A target's values, in the parameters every statement on targets uses:
 * $1 the port and $2 its protocol, $3 a name, $4 an id.  Only those the
 * target's kind has are bound: a statement holds no others.
 */
static void bind_target(struct pg_query *q, const struct rsap_target *t)
{
        switch (t->kind) {
        case RSAP_TARGET_PORT:
                pg_bind_int(q, 1, t->port);
                pg_bind_proto(q, 2, t->proto);
                break;
        case RSAP_TARGET_NAME:
                pg_bind_text(q, 3, t->name);
                break;
        case RSAP_TARGET_REQUEST:
        case RSAP_TARGET_ASSIGNMENT:
        case RSAP_TARGET_LEASE:
                pg_bind_int(q, 4, t->id);
                break;
        }
}

/* ---- requests ---------------------------------------------------------------------- */

#define REQUEST_COLUMNS                                                                   \
        "id, service, port, range_low, range_high, protocols, description, assignee,"    \
        " contact, reference, note, allow_system, over_iana, same_service, state,"       \
        " requested_by, requested_us"




static int request_insert(struct rsap_store *store, const struct rsap_request *in,
                          int64_t *id_out)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = pg_prepare(store,
                              "INSERT INTO requests (service, port, range_low, range_high,"
                              " protocols, description, assignee, contact, reference, note,"
                              " allow_system, over_iana, same_service, requested_by, requested_us)"
                              " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,"
                              " $14, $15)"
                              " RETURNING id",
                              &q);

        if (r < 0)
                return r;
        pg_bind_text(&q, 1, in->service);
        pg_bind_port(&q, 2, in->any_port ? -1 : in->port);
        pg_bind_int(&q, 3, in->range_low);
        pg_bind_int(&q, 4, in->range_high);
        pg_bind_int(&q, 5, in->protocols);
        pg_bind_text(&q, 6, in->description);
        pg_bind_text(&q, 7, in->assignee);
        pg_bind_text(&q, 8, in->contact);
        pg_bind_text(&q, 9, in->reference);
        pg_bind_text(&q, 10, in->note);
        pg_bind_int(&q, 11, in->allow_system);
        pg_bind_int(&q, 12, in->over_iana);
        pg_bind_int(&q, 13, in->same_service);
        pg_bind_text(&q, 14, in->requested_by);
        pg_bind_int(&q, 15, in->requested_us);
        return insert_returning_id(store, &q, id_out);
}

static int request_get(struct rsap_store *store, int64_t id, struct rsap_request *out)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = pg_prepare(store, "SELECT " REQUEST_COLUMNS " FROM requests WHERE id = $1", &q);

        if (r < 0)
                return r;
        pg_bind_int(&q, 1, id);
        r = pg_step(store, &q);
        if (r < 0)
                return r;
        return r == 0 ? -ENOENT : store_request_from_row(ROW(&q), out);
}

static int request_list(struct rsap_store *store, bool pending_only, struct rsap_request **out,
                        size_t *n_out)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        struct rsap_request *list = NULL;
        size_t n = 0, capacity = 0;
        int r = pg_prepare(store,
                              pending_only ? "SELECT " REQUEST_COLUMNS
                                             " FROM requests WHERE state = 'pending' ORDER BY id"
                                           : "SELECT " REQUEST_COLUMNS " FROM requests ORDER BY id",
                              &q);

        while (r == 0 && (r = pg_step(store, &q)) > 0) {
                r = rsap_grow(&list, &capacity, n + 1, sizeof(*list));
                if (r == 0)
                        r = store_request_from_row(ROW(&q), &list[n]);
                if (r == 0)
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

static int request_decide(struct rsap_store *store, int64_t id, enum rsap_request_state state)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = pg_prepare(store,
                              "UPDATE requests SET state = $1 WHERE id = $2 AND state = 'pending'",
                              &q);

        if (r < 0)
                return r;
        pg_bind_text(&q, 1, store_request_states[state]);
        pg_bind_int(&q, 2, id);
        r = pg_run(store, &q);
        if (r == 0 && pg_changes(&q) != 1)
                r = -EALREADY;
        return r;
}

static int pending(struct rsap_store *store, uint16_t low, uint16_t high, const char *name,
                   store_pending_visit *visit, void *arg)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = pg_prepare(store,
                              name ? "SELECT id, service, assignee, port, protocols FROM requests"
                                     " WHERE state = 'pending' AND lower(service) = lower($3)"
                                     " ORDER BY id"
                                   : "SELECT id, service, assignee, port, protocols FROM requests"
                                     " WHERE state = 'pending' AND port BETWEEN $1 AND $2"
                                     " ORDER BY id",
                              &q);

        if (r < 0)
                return r;
        if (name)
                pg_bind_text(&q, 3, name);
        else {
                pg_bind_int(&q, 1, low);
                pg_bind_int(&q, 2, high);
        }
        while ((r = pg_step(store, &q)) > 0) {
                struct store_pending p = {
                        .id = pg_column_int(&q, 0), .service = pg_column_text(&q, 1),
                        .assignee = pg_column_text(&q, 2),
                        .port = pg_column_is_null(&q, 3) ? -1 : (int)pg_column_int(&q, 3),
                        .protocols = (unsigned)pg_column_int(&q, 4),
                };

                r = visit(&p, arg);
                if (r < 0)
                        return r;
        }
        return r;
}

/* ---- services ----------------------------------------------------------------------- */

static int service_get(struct rsap_store *store, const char *name, struct store_service *out)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = pg_prepare(store,
                              "SELECT id, name, assignee, contact, created_us FROM services"
                              " WHERE lower(name) = lower($1)",
                              &q);

        memset(out, 0, sizeof(*out));
        if (r < 0)
                return r;
        pg_bind_text(&q, 1, name);
        r = pg_step(store, &q);
        if (r <= 0)
                return r < 0 ? r : -ENOENT;
        out->id = pg_column_int(&q, 0);
        out->name = pg_column_strdup(&q, 1);
        out->assignee = pg_column_strdup(&q, 2);
        out->contact = pg_column_strdup(&q, 3);
        out->created_us = pg_column_int(&q, 4);
        if (out->name && out->assignee && out->contact)
                return 0;
        store_service_clear(out);
        return -ENOMEM;
}

static int service_insert(struct rsap_store *store, const struct store_service *s,
                          int64_t *id_out)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = pg_prepare(store,
                              "INSERT INTO services (name, assignee, contact, created_us)"
                              " VALUES ($1, $2, $3, $4) RETURNING id",
                              &q);

        if (r < 0)
                return r;
        pg_bind_text(&q, 1, s->name);
        pg_bind_text(&q, 2, s->assignee);
        pg_bind_text(&q, 3, s->contact);
        pg_bind_int(&q, 4, s->created_us);
        return insert_returning_id(store, &q, id_out);
}

static int service_set_people(struct rsap_store *store, int64_t id, const char *assignee,
                              const char *contact)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = pg_prepare(store, "UPDATE services SET assignee = $1, contact = $2 WHERE id = $3",
                              &q);

        if (r < 0)
                return r;
        pg_bind_text(&q, 1, assignee);
        pg_bind_text(&q, 2, contact);
        pg_bind_int(&q, 3, id);
        return pg_run(store, &q);
}

static int service_names(struct rsap_store *store, int (*visit)(const char *name, void *arg),
                         void *arg)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = pg_prepare(store, "SELECT name FROM services ORDER BY id", &q);

        while (r == 0 && (r = pg_step(store, &q)) > 0)
                r = visit(pg_column_text(&q, 0), arg);
        return r;
}

/* ---- assignments ---------------------------------------------------------------------- */

#define ASSIGNMENT_COLUMNS                                                               \
        "a.id, a.request_id, s.name, a.port, a.protocol, s.assignee, s.contact,"        \
        " a.description, a.reference, a.note, a.over_iana, a.active, a.assigned_us,"   \
        " a.ended_us, a.quarantine_until_us"
#define ASSIGNMENT_FROM " FROM assignments a JOIN services s ON s.id = a.service_id "


static int hold_for_assignment(struct rsap_store *store, uint16_t port, enum rsap_proto proto,
                               int64_t assignment_id)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = pg_prepare(store,
                              "INSERT INTO holdings (port, protocol, kind, assignment_id)"
                              " VALUES ($1, $2, 'assignment', $3)",
                              &q);

        if (r < 0)
                return r;
        pg_bind_int(&q, 1, port);
        pg_bind_proto(&q, 2, proto);
        pg_bind_int(&q, 3, assignment_id);
        return pg_run(store, &q);
}

static int assignment_insert(struct rsap_store *store, const struct assignment_fields *f,
                             int64_t *id_out)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = pg_prepare(store,
                              "INSERT INTO assignments (service_id, request_id, port, protocol,"
                              " description, reference, note, over_iana, assigned_us)"
                              " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                              &q);

        if (r < 0)
                return r;
        pg_bind_int(&q, 1, f->service_id);
        pg_bind_id(&q, 2, f->request_id);
        pg_bind_int(&q, 3, f->port);
        pg_bind_proto(&q, 4, f->proto);
        pg_bind_text(&q, 5, f->description);
        pg_bind_text(&q, 6, f->reference);
        pg_bind_text(&q, 7, f->note);
        pg_bind_text(&q, 8, f->over_iana);
        pg_bind_int(&q, 9, f->assigned_us ? f->assigned_us : rsap_store_now(store));
        r = insert_returning_id(store, &q, id_out);
        return r < 0 ? r : hold_for_assignment(store, f->port, f->proto, *id_out);
}

static int unhold(struct rsap_store *store, const char *sql, int64_t id)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = pg_prepare(store, sql, &q);

        if (r < 0)
                return r;
        pg_bind_int(&q, 1, id);
        return pg_run(store, &q);
}

static int assignment_end(struct rsap_store *store, int64_t id, int64_t ended_us,
                          int64_t quarantine_until_us)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = pg_prepare(store,
                              "UPDATE assignments SET active = 0, ended_us = $1,"
                              " quarantine_until_us = $2 WHERE id = $3 AND active = 1",
                              &q);

        if (r < 0)
                return r;
        pg_bind_int(&q, 1, ended_us);
        pg_bind_int(&q, 2, quarantine_until_us);
        pg_bind_int(&q, 3, id);
        r = pg_run(store, &q);
        if (r == 0)
                r = unhold(store, "DELETE FROM holdings WHERE assignment_id = $1", id);
        return r;
}

/* The condition on a (and s) that names what the query asks for; NULL: none. */
static const char *assignment_where(const struct store_assignment_query *q)
{
        if (q->all)
                return "TRUE";
        switch (q->target.kind) {
        case RSAP_TARGET_PORT:
                return "a.port = $1 AND ($2 IS NULL OR a.protocol = $2)";
        case RSAP_TARGET_NAME:
                return "lower(s.name) = lower($3)";
        case RSAP_TARGET_ASSIGNMENT:
                return "a.id = $4";
        case RSAP_TARGET_REQUEST:
                return "a.request_id = $4";
        case RSAP_TARGET_LEASE:
                break;
        }
        return NULL;
}

static int assignments_collect(struct rsap_store *store, struct pg_query *q,
                               struct rsap_assignment **out, size_t *n_out)
{
        struct rsap_assignment *list = NULL;
        size_t n = 0, capacity = 0;
        int r;

        while ((r = pg_step(store, q)) > 0) {
                r = rsap_grow(&list, &capacity, n + 1, sizeof(*list));
                if (r == 0)
                        r = store_assignment_from_row(ROW(q), &list[n]);
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

static int assignments_prepare(struct rsap_store *store, const struct store_assignment_query *aq,
                               struct pg_query *q)
{
        const char *where = assignment_where(aq);
        char sql[1024];
        int r;

        if (!where)
                return -EINVAL;
        snprintf(sql, sizeof(sql), "SELECT " ASSIGNMENT_COLUMNS ASSIGNMENT_FROM "WHERE %s%s %s",
                 aq->active_only ? "a.active = 1 AND " : "", where,
                 aq->by_port ? "ORDER BY a.port, a.protocol" : "ORDER BY a.id");
        r = pg_prepare(store, sql, q);
        if (r == 0 && !aq->all)
                bind_target(q, &aq->target);
        return r;
}

static int assignments(struct rsap_store *store, const struct store_assignment_query *aq,
                       struct rsap_assignment **out, size_t *n_out)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r;

        *out = NULL;
        *n_out = 0;
        r = assignments_prepare(store, aq, &q);
        if (r < 0)
                return r;
        return assignments_collect(store, &q, out, n_out);
}

/* One row in memory at a time: an export of any size. */
static int assignments_walk(struct rsap_store *store, const struct store_assignment_query *aq,
                            store_assignment_visit *visit, void *arg)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = assignments_prepare(store, aq, &q);

        while (r == 0 && (r = pg_step(store, &q)) > 0) {
                struct rsap_assignment a;

                r = store_assignment_from_row(ROW(&q), &a);
                if (r == 0)
                        r = visit(&a, arg);
                rsap_assignment_clear(&a);
        }
        return r;
}

/* ---- holdings and quarantines ----------------------------------------------------------- */

/*
 * $1 $2 the ports, $3 the protocol; the %s: the assignment's people or
 * NULLs, their join or none, the protocol's condition or none (each
 * condition and join a row need not pass costs pick, which reads them all).
 */
#define HOLDINGS_QUERY                                                                       \
        "SELECT h.port, h.protocol, h.assignment_id, %s, h.lease_id, l.name, l.expires_us,"  \
        " l.pid, l.pid_start, l.host FROM holdings h"                                        \
        " %s LEFT JOIN leases l ON l.id = h.lease_id"                                         \
        " WHERE h.port BETWEEN $1 AND $2%s ORDER BY h.port, h.protocol"

/*
 * Only the columns the holder has are read: pick walks every holding of a
 * range.
 */

static int holdings(struct rsap_store *store, uint16_t low, uint16_t high, enum rsap_proto proto,
                    bool who, store_holding_visit *visit, void *arg)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        char sql[1024];
        int r;

        snprintf(sql, sizeof(sql), HOLDINGS_QUERY, who ? "s.name, s.assignee" : "NULL, NULL",
                 who ? "LEFT JOIN assignments a ON a.id = h.assignment_id"
                       " LEFT JOIN services s ON s.id = a.service_id"
                     : "",
                 proto ? " AND h.protocol = $3" : "");
        r = pg_prepare(store, sql, &q);
        if (r < 0)
                return r;
        pg_bind_int(&q, 1, low);
        pg_bind_int(&q, 2, high);
        if (proto)
                pg_bind_proto(&q, 3, proto);
        while ((r = pg_step(store, &q)) > 0) {
                struct store_holding h;

                store_holding_from_row(ROW(&q), who, &h);
                r = visit(&h, arg);
                if (r < 0)
                        return r;
        }
        return r;
}

/*
 * The holdings' primary key (port, protocol) is the index: its cost follows
 * the range and the holdings in it, as SQLite's held_bits does the range.
 */
static int assigned_ports(struct rsap_store *store, uint16_t low, uint16_t high, unsigned mask,
                          struct rsap_port_set *out)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = pg_prepare(store,
                           "SELECT port FROM holdings WHERE port BETWEEN $1 AND $2"
                           " AND protocol IN ($3, $4, $5, $6) AND kind = 'assignment'",
                           &q);

        if (r < 0)
                return r;
        pg_bind_int(&q, 1, low);
        pg_bind_int(&q, 2, high);
        /* A protocol not in mask binds NULL, which matches nothing. */
        for (unsigned p = RSAP_TRANSPORTS_FIRST; p <= RSAP_TRANSPORTS_LAST; p++)
                pg_bind_proto(&q, 3 + (int)(p - RSAP_TRANSPORTS_FIRST),
                              mask & (1u << p) ? (enum rsap_proto)p : RSAP_PROTO_NONE);
        while ((r = pg_step(store, &q)) > 0)
                rsap_port_set_add(out, (uint16_t)pg_column_int(&q, 0));
        return r;
}

/* From the few active leases (their partial index), not from every holding of the range. */
static int lease_holdings(struct rsap_store *store, uint16_t low, uint16_t high,
                          store_holding_visit *visit, void *arg)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = pg_prepare(store,
                              "SELECT h.port, h.protocol, NULL, NULL, NULL, h.lease_id, l.name,"
                              " l.expires_us, l.pid, l.pid_start, l.host"
                              " FROM leases l JOIN holdings h ON h.lease_id = l.id"
                              " WHERE l.active = 1 AND l.port BETWEEN $1 AND $2"
                              " ORDER BY h.port, h.protocol",
                              &q);

        if (r < 0)
                return r;
        pg_bind_int(&q, 1, low);
        pg_bind_int(&q, 2, high);
        while ((r = pg_step(store, &q)) > 0) {
                struct store_holding h;

                store_holding_from_row(ROW(&q), false, &h);
                r = visit(&h, arg);
                if (r < 0)
                        return r;
        }
        return r;
}

static int quarantines(struct rsap_store *store, uint16_t low, uint16_t high,
                       enum rsap_proto proto, int64_t now_us, store_quarantine_visit *visit,
                       void *arg)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = pg_prepare(store,
                              "SELECT a.id, s.name, a.port, a.protocol, a.ended_us,"
                              " a.quarantine_until_us"
                              " FROM assignments a JOIN services s ON s.id = a.service_id"
                              /* The running ones by their end (+: not by port,
                               * where every active assignment of the range is). */
                              " WHERE a.port BETWEEN $1 AND $2 AND ($3 IS NULL OR a.protocol = $3)"
                              " AND a.active = 0 AND a.quarantine_until_us > $4"
                              " ORDER BY a.port, a.protocol, a.quarantine_until_us DESC",
                              &q);

        if (r < 0)
                return r;
        pg_bind_int(&q, 1, low);
        pg_bind_int(&q, 2, high);
        pg_bind_proto(&q, 3, proto);
        pg_bind_int(&q, 4, now_us);
        while ((r = pg_step(store, &q)) > 0) {
                struct store_quarantine qu = {
                        .assignment_id = pg_column_int(&q, 0), .service = pg_column_text(&q, 1),
                        .port = (uint16_t)pg_column_int(&q, 2), .proto = pg_column_proto(&q, 3),
                        .ended_us = pg_column_int(&q, 4), .until_us = pg_column_int(&q, 5),
                };

                r = visit(&qu, arg);
                if (r < 0)
                        return r;
        }
        return r;
}

/* ---- leases ------------------------------------------------------------------------------ */

#define LEASE_COLUMNS                                                                     \
        "id, port, name, pid, pid_start, leased_us, expires_us, active, ended_us, host"


static int hold_for_lease(struct rsap_store *store, uint16_t port, int64_t lease_id)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = pg_prepare(store,
                              "INSERT INTO holdings (port, protocol, kind, lease_id)"
                              " VALUES ($1, 'tcp', 'lease', $2), ($1, 'udp', 'lease', $2)",
                              &q);

        if (r < 0)
                return r;
        pg_bind_int(&q, 1, port);
        pg_bind_int(&q, 2, lease_id);
        return pg_run(store, &q);
}

static int lease_insert(struct rsap_store *store, const struct rsap_lease *l, int64_t *id_out)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = pg_prepare(store,
                              "INSERT INTO leases (port, name, pid, pid_start, expires_us,"
                              " leased_us, host) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                              &q);

        if (r < 0)
                return r;
        pg_bind_int(&q, 1, l->port);
        pg_bind_text(&q, 2, l->name);
        pg_bind_id(&q, 3, l->pid);
        if (l->pid > 0)
                pg_bind_int(&q, 4, (int64_t)l->pid_start);
        else
                pg_bind_id(&q, 4, 0); /* NULL, as a number */
        pg_bind_int(&q, 5, l->expires_us);
        pg_bind_int(&q, 6, l->leased_us);
        pg_bind_text(&q, 7, l->host);
        r = insert_returning_id(store, &q, id_out);
        return r < 0 ? r : hold_for_lease(store, l->port, *id_out);
}

static int lease_end(struct rsap_store *store, int64_t id, int64_t ended_us)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = pg_prepare(store,
                              "UPDATE leases SET active = 0, ended_us = $1"
                              " WHERE id = $2 AND active = 1",
                              &q);

        if (r < 0)
                return r;
        pg_bind_int(&q, 1, ended_us);
        pg_bind_int(&q, 2, id);
        r = pg_run(store, &q);
        if (r == 0)
                r = unhold(store, "DELETE FROM holdings WHERE lease_id = $1", id);
        return r;
}

/* The condition a lease query puts on leases: $1 a port, $4 an id; NULL: none. */
static const char *lease_where(const struct store_lease_query *lq)
{
        if (lq->all)
                return "TRUE";
        if (lq->target.kind == RSAP_TARGET_PORT)
                return "port = $1";
        return lq->target.kind == RSAP_TARGET_LEASE ? "id = $4" : NULL;
}

static void lease_list_free(struct rsap_lease *list, size_t n)
{
        for (size_t i = 0; i < n; i++)
                rsap_lease_clear(&list[i]);
        free(list);
}

static int leases(struct rsap_store *store, const struct store_lease_query *lq,
                  struct rsap_lease **out, size_t *n_out)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        const char *where = lease_where(lq);
        struct rsap_lease *list = NULL;
        size_t n = 0, capacity = 0;
        char sql[512];
        int r;

        *out = NULL;
        *n_out = 0;
        if (!where)
                return -EINVAL;
        /* The active ones by port, the order of their partial index. */
        snprintf(sql, sizeof(sql), "SELECT " LEASE_COLUMNS " FROM leases WHERE %s%s ORDER BY %s",
                 lq->active_only ? "active = 1 AND " : "", where, lq->active_only ? "port" : "id");
        r = pg_prepare(store, sql, &q);
        /* A lease holds tcp and udp: a port target's protocol does not matter. */
        if (r == 0 && !lq->all && lq->target.kind == RSAP_TARGET_PORT)
                pg_bind_int(&q, 1, lq->target.port);
        else if (r == 0 && !lq->all)
                pg_bind_int(&q, 4, lq->target.id);
        while (r == 0 && (r = pg_step(store, &q)) > 0) {
                r = rsap_grow(&list, &capacity, n + 1, sizeof(*list));
                if (r == 0)
                        r = store_lease_from_row(ROW(&q), &list[n]);
                if (r == 0)
                        n++;
        }
        if (r < 0) {
                lease_list_free(list, n);
                return r;
        }
        *out = list;
        *n_out = n;
        return 0;
}

/* ---- the lookups' entries ----------------------------------------------------------------- */

/*
 * What LOCAL_QUERY below would return over every port.  An active
 * assignment is what holds its port/protocol (the holdings table, written in
 * the transaction that makes or ends the assignment), so the active ones are
 * every holding less the leases'; the rest are counted over partial indexes
 * of what is live, never over the history.
 */
/*
 * What moves when any connection commits: every commit counts itself in
 * rsap_schema, in the same transaction (pg_commit), so a reader sees the
 * count move with the state, never before it.
 */
static int data_version(struct rsap_store *store, int64_t *out)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = pg_prepare(store, "SELECT commits FROM rsap_schema", &q);

        if (r < 0)
                return r;
        r = pg_step(store, &q);
        if (r < 0)
                return r;
        *out = r > 0 ? pg_column_int(&q, 0) : 0;
        return 0;
}

static int counts(struct rsap_store *store, int64_t now_us, struct store_counts *out)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = pg_prepare(store,
                              "SELECT (SELECT count(*) FROM holdings)"
                              " - (SELECT count(*) FROM holdings WHERE lease_id IS NOT NULL),"
                              " (SELECT count(*) FROM assignments WHERE active = 0"
                              "  AND quarantine_until_us > $1),"
                              " (SELECT count(*) FROM requests WHERE state = 'pending'"
                              "  AND port BETWEEN 0 AND 65535)",
                              &q);

        if (r < 0)
                return r;
        pg_bind_int(&q, 1, now_us);
        r = pg_step(store, &q);
        if (r < 0)
                return r;
        if (r == 0)
                return -EIO;
        out->assignments = pg_column_int(&q, 0) + pg_column_int(&q, 1);
        out->requests = pg_column_int(&q, 2);
        return 0;
}

/*
 * One statement for the three kinds, so a lookup costs one indexed query.
 * The %s are each kind's condition; $1 $2 a port range, $3 a name, $4 now.
 */
#define LOCAL_QUERY                                                                            \
        "SELECT 0, a.id, s.name, a.port, a.protocol, 0, s.assignee, s.contact, a.description," \
        " a.over_iana, a.active, a.assigned_us, a.quarantine_until_us, 0, 0, NULL"            \
        " FROM assignments a JOIN services s ON s.id = a.service_id"                           \
        " WHERE %s AND (a.active = 1 OR a.quarantine_until_us > $4)"                               \
        " UNION ALL"                                                                           \
        " SELECT 1, r.id, r.service, r.port, NULL, r.protocols, r.assignee, r.contact,"        \
        " r.description, NULL, 1, r.requested_us, 0, 0, 0, NULL"                              \
        " FROM requests r WHERE r.state = 'pending' AND %s"                                    \
        " UNION ALL"                                                                           \
        " SELECT 2, l.id, l.name, l.port, NULL, 6, NULL, NULL, NULL, NULL, 1, l.leased_us,"    \
        " l.expires_us, l.pid, l.pid_start, l.host FROM leases l WHERE l.active = 1 AND %s"        \
        " ORDER BY 4, 1, 2"



static int entries(struct rsap_store *store, const struct store_entries_query *eq,
                   store_entry_visit *visit, void *arg)
{
        static const char *const conditions[][3] = {
                [STORE_ENTRIES_PORTS] = { "a.port BETWEEN $1 AND $2", "r.port BETWEEN $1 AND $2",
                                          "l.port BETWEEN $1 AND $2" },
                /* a lease's name is free text, not a service */
                [STORE_ENTRIES_NAME] = { "lower(s.name) = lower($3)",
                                         "lower(r.service) = lower($3)", "FALSE" },
                [STORE_ENTRIES_ALL] = { "TRUE", "TRUE", "TRUE" },
        };
        const char *const *c = conditions[eq->scope];
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        char sql[2048];
        int r;

        snprintf(sql, sizeof(sql), LOCAL_QUERY, c[0], c[1], c[2]);
        r = pg_prepare(store, sql, &q);
        if (r < 0)
                return r;
        pg_bind_int(&q, 1, eq->low);
        pg_bind_int(&q, 2, eq->high);
        pg_bind_text(&q, 3, eq->name);
        pg_bind_int(&q, 4, eq->now_us);
        while ((r = pg_step(store, &q)) > 0) {
                struct rsap_local_entry e;

                store_entry_from_row(ROW(&q), &e);
                r = visit(&e, (uint64_t)pg_column_int(&q, 14), pg_column_text(&q, 15), arg);
                if (r < 0)
                        return r;
        }
        return r;
}

/* ---- history ------------------------------------------------------------------------------- */


static const char *history_where(enum rsap_target_kind kind)
{
        switch (kind) {
        case RSAP_TARGET_PORT:
                return "port = $1 AND ($2 IS NULL OR protocol IS NULL OR protocol = $2)";
        case RSAP_TARGET_NAME:
                return "lower(service) = lower($3)";
        case RSAP_TARGET_REQUEST:
                return "request_id = $4";
        case RSAP_TARGET_ASSIGNMENT:
                return "assignment_id = $4";
        case RSAP_TARGET_LEASE:
                return "lease_id = $4";
        }
        return NULL;
}

/* Events in id order: the order they were recorded in. */
static int history(struct rsap_store *store, const struct rsap_target *target,
                   struct rsap_history *out)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        const char *where = history_where(target->kind);
        size_t capacity = 0;
        char sql[512];
        int r;

        if (!where)
                return -EINVAL;
        snprintf(sql, sizeof(sql),
                 "SELECT id, time_us, actor, action, request_id, assignment_id, lease_id, service,"
                 " port, protocol, reason, details, host FROM events WHERE %s ORDER BY id",
                 where);
        r = pg_prepare(store, sql, &q);
        if (r < 0)
                return r;
        bind_target(&q, target);
        while ((r = pg_step(store, &q)) > 0) {
                if (rsap_grow(&out->events, &capacity, out->n_events + 1,
                              sizeof(*out->events)) < 0)
                        return -ENOMEM;
                /* Counted before it is checked: the caller's clear frees what it holds. */
                r = store_event_from_row(ROW(&q), &out->events[out->n_events++]);
                if (r < 0)
                        return r;
        }
        return r;
}

/* ---- behind the store's back ----------------------------------------------------------------- */

/* ---- squatter findings ----------------------------------------------------------------- */

static int finding_insert(struct rsap_store *store, const struct rsap_listen_finding *f,
                          int64_t *id_out)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = pg_prepare(store,
                              "INSERT INTO listen_findings (found_us, host, port, protocol,"
                              " address, kind, service, assignment_id, lease_id, owners)"
                              " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                              &q);

        if (r < 0)
                return r;
        pg_bind_int(&q, 1, f->found_us);
        pg_bind_text(&q, 2, f->host);
        pg_bind_int(&q, 3, f->port);
        pg_bind_proto(&q, 4, f->proto);
        pg_bind_text(&q, 5, f->address);
        pg_bind_text(&q, 6, rsap_squat_kind_name(f->kind));
        pg_bind_text(&q, 7, f->service);
        pg_bind_id(&q, 8, f->assignment_id);
        pg_bind_id(&q, 9, f->lease_id);
        pg_bind_text(&q, 10, f->owners);
        return insert_returning_id(store, &q, id_out);
}

static bool finding_exists(struct rsap_store *store, int64_t id)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = pg_prepare(store, "SELECT 1 FROM listen_findings WHERE id = $1", &q);

        if (r == 0) {
                pg_bind_int(&q, 1, id);
                r = pg_step(store, &q);
        }
        return r > 0;
}

static int finding_resolve(struct rsap_store *store, int64_t id, int64_t resolved_us)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = pg_prepare(store,
                              "UPDATE listen_findings SET resolved_us = GREATEST($1::bigint, found_us)"
                              " WHERE id = $2 AND resolved_us IS NULL",
                              &q);

        if (r < 0)
                return r;
        pg_bind_int(&q, 1, resolved_us);
        pg_bind_int(&q, 2, id);
        r = pg_run(store, &q);
        if (r == 0 && pg_changes(&q) != 1)
                r = finding_exists(store, id) ? -EALREADY : -ENOENT;
        return r;
}

static int findings(struct rsap_store *store, const struct rsap_findings_query *fq,
                    int (*visit)(const struct rsap_listen_finding *f, void *arg), void *arg)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        char sql[512];
        int r;

        snprintf(sql, sizeof(sql),
                 "SELECT " STORE_FINDING_COLUMNS " FROM listen_findings WHERE found_us >= $1%s%s%s"
                 " ORDER BY id",
                 fq->port >= 0 ? " AND port = $2" : "",
                 fq->proto ? (fq->port >= 0 ? " AND protocol = $3" : " AND protocol = $2") : "",
                 fq->open_only ? " AND resolved_us IS NULL" : "");
        r = pg_prepare(store, sql, &q);
        if (r < 0)
                return r;
        pg_bind_int(&q, 1, fq->since_us);
        if (fq->port >= 0)
                pg_bind_int(&q, 2, fq->port);
        if (fq->proto) /* numbered after the port's, when there is one */
                pg_bind_proto(&q, fq->port >= 0 ? 3 : 2, fq->proto);
        while ((r = pg_step(store, &q)) > 0) {
                struct rsap_listen_finding f;

                store_finding_from_row(ROW(&q), &f);
                r = visit(&f, arg);
                if (r < 0)
                        return r;
        }
        return r;
}

static int tamper(struct rsap_store *store, enum store_tamper what)
{
        static const char *const sql[] = {
                [STORE_TAMPER_EVENT_UPDATE] = "UPDATE events SET actor = 'mallory'",
                [STORE_TAMPER_EVENT_DELETE] = "DELETE FROM events",
                [STORE_TAMPER_SERVICE_ASSIGNEE] = "UPDATE services SET assignee = 'Mallory'",
        };

        if ((size_t)what >= ARRAY_SIZE(sql))
                return -EINVAL;
        return pg_exec(pg_db(store), sql[what]);
}

/* ---- the table --------------------------------------------------------------------------- */

/* One table for both schemes: resolve() in lib/local/store.c matches "postgres" too. */
const struct rsap_store_backend store_backend_postgresql = {
        .scheme = "postgresql",
        .known_schema = PG_SCHEMA_VERSION,
        .open = pg_open,
        .close = pg_close,
        .schema_version = pg_schema_version,
        .location_schema_version = pg_location_schema_version,
        .begin = pg_begin,
        .commit = pg_commit,
        .rollback = pg_rollback,
        .event_append = pg_event_append,
        .history = history,
        .request_insert = request_insert,
        .request_get = request_get,
        .request_list = request_list,
        .request_decide = request_decide,
        .pending = pending,
        .service_get = service_get,
        .service_insert = service_insert,
        .service_set_people = service_set_people,
        .service_names = service_names,
        .assignment_insert = assignment_insert,
        .assignment_end = assignment_end,
        .assignments = assignments,
        .assignments_walk = assignments_walk,
        .holdings = holdings,
        .quarantines = quarantines,
        .assigned_ports = assigned_ports,
        .lease_holdings = lease_holdings,
        .lease_insert = lease_insert,
        .lease_end = lease_end,
        .leases = leases,
        .entries = entries,
        .counts = counts,
        .data_version = data_version,
        .follow_open = pg_follow_open,
        .follow_wait = pg_follow_wait,
        .follow_close = pg_follow_close,
        .interval_open = pg_interval_open,
        .interval_close = pg_interval_close,
        .intervals_close_unknown = pg_intervals_close_unknown,
        .intervals_touch = pg_intervals_touch,
        .intervals_upkeep = pg_intervals_upkeep,
        .intervals = pg_intervals,
        .finding_insert = finding_insert,
        .finding_resolve = finding_resolve,
        .findings = findings,
        .check = pg_check,
        .tamper = tamper,
};
