/* SPDX-License-Identifier: MIT */
/*
 * rsap_store_check for PostgreSQL: the state tables must be what the event
 * table says.  Each rule re-derives one table from the events, in SQL, and
 * every row that differs is a problem; the rules are the SQLite backend's
 * (lib/local/sqlite/check.c) in PostgreSQL's dialect.  The server keeps its
 * own pages and foreign keys (no pragma to ask), so the levels differ only
 * in that QUICK, rsapd's check at start, runs no rule.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pg.h"

struct rule {
        const char *what; /* "request %s: ..." with the first column */
        const char *sql;  /* rows that break the rule, first column describes one */
};

static const struct rule rules[] = {
        { "request %s has no 'request' event",
          "SELECT r.id FROM requests r WHERE NOT EXISTS (SELECT 1 FROM events e"
          " WHERE e.request_id = r.id AND e.action = 'request') ORDER BY r.id" },
        { "request %s: its state differs from its events",
          "SELECT r.id FROM requests r WHERE r.state != CASE"
          " WHEN EXISTS (SELECT 1 FROM events e WHERE e.request_id = r.id AND e.action = 'reject')"
          "  THEN 'rejected'"
          " WHEN EXISTS (SELECT 1 FROM events e WHERE e.request_id = r.id AND e.action = 'approve')"
          "  THEN 'approved' ELSE 'pending' END ORDER BY r.id" },
        { "assignment %s has no event that made it, or it names another port",
          "SELECT a.id FROM assignments a WHERE NOT EXISTS (SELECT 1 FROM events e"
          " WHERE e.assignment_id = a.id AND e.action IN ('approve', 'import')"
          " AND e.port = a.port AND e.protocol = a.protocol) ORDER BY a.id" },
        { "assignment %s: active or not, unlike its events",
          "SELECT a.id FROM assignments a WHERE (a.active = 1) = EXISTS (SELECT 1 FROM events e"
          " WHERE e.assignment_id = a.id AND e.action IN ('deassign', 'revoke')) ORDER BY a.id" },
        { "assignment %s: its quarantine differs from the event that ended it",
          "SELECT a.id FROM assignments a WHERE a.active = 0 AND a.quarantine_until_us IS"
          " DISTINCT FROM (SELECT (e.details::jsonb ->> 'quarantine_until_us')::bigint"
          "  FROM events e WHERE e.assignment_id = a.id AND e.action IN ('deassign', 'revoke')"
          "  ORDER BY e.id LIMIT 1) ORDER BY a.id" },
        { "service %s: its assignee differs from its last approval, import or transfer",
          "SELECT s.name FROM services s WHERE lower(s.assignee) IS DISTINCT FROM lower("
          " (SELECT CASE e.action WHEN 'transfer' THEN e.details::jsonb ->> 'to'"
          "  ELSE e.details::jsonb ->> 'assignee' END FROM events e"
          "  WHERE lower(e.service) = lower(s.name)"
          "  AND e.action IN ('approve', 'import', 'transfer') ORDER BY e.id DESC LIMIT 1))"
          " ORDER BY s.id" },
        { "holding %s has no active assignment or lease behind it",
          "SELECT port::text || '/' || protocol FROM (SELECT port, protocol, assignment_id,"
          " lease_id FROM holdings"
          " EXCEPT SELECT port, protocol, id, NULL::bigint FROM assignments WHERE active = 1"
          " EXCEPT SELECT port, 'tcp', NULL::bigint, id FROM leases WHERE active = 1"
          " EXCEPT SELECT port, 'udp', NULL::bigint, id FROM leases WHERE active = 1) AS h"
          " ORDER BY port, protocol" },
        { "%s is active but holds no port",
          "SELECT 'assignment ' || id::text FROM (SELECT id, port, protocol FROM assignments"
          " WHERE active = 1 EXCEPT SELECT assignment_id, port, protocol FROM holdings) AS a"
          " UNION ALL SELECT 'lease ' || id::text FROM leases l WHERE active = 1 AND"
          " (SELECT count(*) FROM holdings h WHERE h.lease_id = l.id AND h.port = l.port) != 2" },
        { "lease %s has no 'lease' event",
          "SELECT l.id FROM leases l WHERE NOT EXISTS (SELECT 1 FROM events e"
          " WHERE e.lease_id = l.id AND e.action = 'lease' AND e.port = l.port) ORDER BY l.id" },
        /* No 'lease' event at all: the subquery is NULL, a host of none. */
        { "lease %s: its holder's host differs from its 'lease' event",
          "SELECT l.id FROM leases l WHERE l.host IS DISTINCT FROM (SELECT e.host FROM events e"
          " WHERE e.lease_id = l.id AND e.action = 'lease' ORDER BY e.id LIMIT 1)"
          " ORDER BY l.id" },
        { "lease %s: active or not, unlike its events",
          "SELECT l.id FROM leases l WHERE (l.active = 1) = EXISTS (SELECT 1 FROM events e"
          " WHERE e.lease_id = l.id AND e.action IN ('release', 'expire')) ORDER BY l.id" },
};


static int run_rule(struct rsap_store *store, const struct rule *rule,
                    struct rsap_store_check_report *out)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = pg_prepare(store, rule->sql, &q);

        if (r < 0)
                return r;
        while ((r = pg_step(store, &q)) > 0) {
                const char *what = pg_column_text(&q, 0);

                store_check_add_problem(out, rule->what, what ? what : "?");
        }
        return r;
}

static int count_events(struct rsap_store *store, int64_t *out)
{
        _cleanup_(pg_query_finish) struct pg_query q = { 0 };
        int r = pg_prepare(store, "SELECT count(*) FROM events", &q);

        if (r == 0)
                r = pg_step(store, &q);
        if (r > 0)
                *out = pg_column_int(&q, 0);
        return r < 0 ? r : 0;
}

/* malformed_found has no use here: the server reads its own pages, or fails the query. */
int pg_check(struct rsap_store *store, enum rsap_store_check_level level, bool malformed_found,
             struct rsap_store_check_report *out)
{
        int r;

        (void)malformed_found;
        memset(out, 0, sizeof(*out));
        /* One snapshot for every rule, whatever commits meanwhile. */
        r = pg_exec(pg_db(store), "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        if (r < 0)
                return r;
        for (size_t i = 0; level != RSAP_STORE_CHECK_QUICK && i < ARRAY_SIZE(rules); i++) {
                r = run_rule(store, &rules[i], out);
                if (r < 0)
                        break;
        }
        if (r == 0)
                r = count_events(store, &out->events);
        (void)pg_exec(pg_db(store), r == 0 ? "COMMIT" : "ROLLBACK");
        return r;
}
