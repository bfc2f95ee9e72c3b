/* SPDX-License-Identifier: MIT */
/*
 * rsap_store_check: the state tables must be what the event table says.
 * Each rule below re-derives one table from the events, in SQL, and every
 * row that differs is a problem.  SQLite's own integrity and foreign-key
 * checks come first: they find what a crash or a bad disk left.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sqlite.h"

/* The check's page cache, and the connection's again after it (SQLite's default). */
#define CHECK_CACHE_KIB "131072"
#define SQLITE_DEFAULT_CACHE "-2000"
/* The check reads the file through a map of up to 1 GiB, not read() into the cache. */
#define CHECK_MMAP_BYTES "1073741824"

/* What held_bits must hold: a bit for each port/protocol an assignment holds. */
#define HELD_BITS_DERIVED                                                              \
        "SELECT protocol, port >> 6 AS block, sum(1 << (port & 63)) AS bits FROM holdings" \
        " WHERE kind = 'assignment' GROUP BY protocol, port >> 6"

struct rule {
        const char *what; /* "request %s: ..." with the first column */
        const char *sql;  /* rows that break the rule, first column describes one */
};

static const struct rule rules[] = {
        { "request %s has no 'request' event",
          "SELECT r.id FROM requests r WHERE NOT EXISTS (SELECT 1 FROM events e"
          " WHERE e.request_id = r.id AND e.action = 'request')" },
        { "request %s: its state differs from its events",
          "SELECT r.id FROM requests r WHERE r.state != CASE"
          " WHEN EXISTS (SELECT 1 FROM events e WHERE e.request_id = r.id AND e.action = 'reject')"
          "  THEN 'rejected'"
          " WHEN EXISTS (SELECT 1 FROM events e WHERE e.request_id = r.id AND e.action = 'approve')"
          "  THEN 'approved' ELSE 'pending' END" },
        { "assignment %s has no event that made it, or it names another port",
          "SELECT a.id FROM assignments a WHERE NOT EXISTS (SELECT 1 FROM events e"
          " WHERE e.assignment_id = a.id AND e.action IN ('approve', 'import')"
          " AND e.port = a.port AND e.protocol = a.protocol)" },
        { "assignment %s: active or not, unlike its events",
          "SELECT a.id FROM assignments a WHERE a.active = EXISTS (SELECT 1 FROM events e"
          " WHERE e.assignment_id = a.id AND e.action IN ('deassign', 'revoke'))" },
        { "assignment %s: its quarantine differs from the event that ended it",
          "SELECT a.id FROM assignments a WHERE NOT a.active AND a.quarantine_until_us IS NOT"
          " (SELECT json_extract(e.details, '$.quarantine_until_us') FROM events e"
          "  WHERE e.assignment_id = a.id AND e.action IN ('deassign', 'revoke')"
          "  ORDER BY e.id LIMIT 1)" },
        { "service %s: its assignee differs from its last approval, import or transfer",
          "SELECT s.name FROM services s WHERE s.assignee IS NOT"
          " (SELECT CASE e.action WHEN 'transfer' THEN json_extract(e.details, '$.to')"
          "  ELSE json_extract(e.details, '$.assignee') END FROM events e"
          "  WHERE e.service = s.name COLLATE NOCASE"
          "  AND e.action IN ('approve', 'import', 'transfer') ORDER BY e.id DESC LIMIT 1)"
          " COLLATE NOCASE" },
        { "holding %s has no active assignment or lease behind it",
          "SELECT port || '/' || protocol FROM (SELECT port, protocol, assignment_id, lease_id"
          " FROM holdings EXCEPT SELECT port, protocol, id, NULL FROM assignments WHERE active"
          " EXCEPT SELECT port, 'tcp', NULL, id FROM leases WHERE active"
          " EXCEPT SELECT port, 'udp', NULL, id FROM leases WHERE active)" },
        { "%s is active but holds no port",
          "SELECT 'assignment ' || id FROM (SELECT id, port, protocol FROM assignments"
          " WHERE active EXCEPT SELECT assignment_id, port, protocol FROM holdings)"
          " UNION ALL SELECT 'lease ' || id FROM leases l WHERE active AND"
          " (SELECT count(*) FROM holdings h WHERE h.lease_id = l.id AND h.port = l.port) != 2" },
        /* held_bits is derived (migration 3's triggers): pick trusts it alone. */
        { "%s: held_bits differs from the assignments' holdings",
          "SELECT protocol || ' ' || (block * 64) || '-' || (block * 64 + 63) FROM ("
          " SELECT protocol, block FROM (SELECT protocol, block, bits FROM held_bits"
          "  WHERE bits != 0 EXCEPT " HELD_BITS_DERIVED ")"
          " UNION SELECT protocol, block FROM (" HELD_BITS_DERIVED
          "  EXCEPT SELECT protocol, block, bits FROM held_bits WHERE bits != 0))" },
};


/* One problem per line of SQLite's report, without its "*** in database main ***". */
static void add_lines(struct rsap_store_check_report *out, const char *template, const char *text)
{
        char line[200];

        while (*text) {
                size_t len = strcspn(text, "\n");

                snprintf(line, sizeof(line), "%.*s", (int)len, text);
                if (len > 0 && strncmp(line, "*** in database", 15) != 0)
                        store_check_add_problem(out, template, line);
                text += len;
                if (*text == '\n')
                        text++;
        }
}

static int run_pragma(struct rsap_store *store, const char *sql, const char *fmt,
                      struct rsap_store_check_report *out)
{
        _cleanup_(query_finish) struct query q = { 0 };
        int r = query_prepare(store, sql, &q);

        if (r < 0)
                return r;
        while ((r = query_step(&q)) > 0) {
                const char *text = column_text(&q, 0);

                if (text && strcmp(text, "ok") == 0)
                        continue;
                add_lines(out, fmt, text ? text : "?");
        }
        return r;
}

static int run_rule(struct rsap_store *store, const struct rule *rule,
                    struct rsap_store_check_report *out)
{
        _cleanup_(query_finish) struct query q = { 0 };
        int r = query_prepare(store, rule->sql, &q);

        if (r < 0)
                return r;
        while ((r = query_step(&q)) > 0) {
                const char *what = column_text(&q, 0);

                store_check_add_problem(out, rule->what, what ? what : "?");
        }
        return r;
}

/*
 * The lease rules, in one merge of the leases (by id) with their events (by
 * lease, from events_lease_made): a probe of the events per lease and rule
 * cost more than everything else the rules do on a registry of many leases.
 */
struct lease_events {
        bool made;           /* a 'lease' event for the lease's port */
        bool ended;          /* a 'release' or 'expire' event */
        int64_t first_made;  /* the first 'lease' event, 0: none */
        bool host_differs;   /* its host is not the lease's */
};

/* SQL's "a IS NOT b" of two texts, NULL for none. */
static bool text_is_not(const char *a, const char *b)
{
        return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

/*
 * Consumes the events of the lease the row lease is (ev already stepped:
 * r > 0 while ev has a row), comparing them with it as they come.
 */
static int read_lease_events(struct query *ev, int r, struct query *lease,
                             struct lease_events *out)
{
        int64_t id = column_int(lease, 0), port = column_int(lease, 1);

        for (; r > 0 && column_int(ev, 0) <= id; r = query_step(ev)) {
                const char *action = column_text(ev, 1);

                if (column_int(ev, 0) < id || !action)
                        continue; /* events of a lease that does not exist: the foreign keys' */
                if (strcmp(action, "release") == 0 || strcmp(action, "expire") == 0)
                        out->ended = true;
                if (strcmp(action, "lease") != 0)
                        continue;
                if (!column_is_null(ev, 2) && column_int(ev, 2) == port)
                        out->made = true;
                if (out->first_made == 0 || column_int(ev, 4) < out->first_made) {
                        out->first_made = column_int(ev, 4);
                        out->host_differs = text_is_not(column_text(lease, 2),
                                                        column_text(ev, 3));
                }
        }
        return r;
}

static void judge_lease(struct query *lease, const struct lease_events *ev,
                        struct rsap_store_check_report *out)
{
        char id[24];

        snprintf(id, sizeof(id), "%lld", (long long)column_int(lease, 0));
        if (!ev->made)
                store_check_add_problem(out, "lease %s has no 'lease' event", id);
        /* No 'lease' event at all: SQL's subquery is NULL, a host of none. */
        if (ev->first_made ? ev->host_differs : !column_is_null(lease, 2))
                store_check_add_problem(out, "lease %s: its holder's host differs from its 'lease' event", id);
        if (column_int(lease, 3) == (ev->ended ? 1 : 0))
                store_check_add_problem(out, "lease %s: active or not, unlike its events", id);
}

static int check_leases(struct rsap_store *store, struct rsap_store_check_report *out)
{
        _cleanup_(query_finish) struct query lease = { 0 }, ev = { 0 };
        int r = query_prepare(store, "SELECT id, port, host, active FROM leases ORDER BY id",
                              &lease);
        int e;

        if (r == 0)
                r = query_prepare(store, "SELECT lease_id, action, port, host, id FROM events"
                                         " INDEXED BY events_lease_made"
                                         " WHERE lease_id IS NOT NULL ORDER BY lease_id", &ev);
        if (r < 0)
                return r;
        e = query_step(&ev);
        while (e >= 0 && (r = query_step(&lease)) > 0) {
                struct lease_events found = { 0 };

                e = read_lease_events(&ev, e, &lease, &found);
                if (e >= 0)
                        judge_lease(&lease, &found, out);
        }
        return e < 0 ? e : r;
}

/*
 * Marks that lookups trust must mark every port a row names (port_marks.c):
 * a port they miss is one whose entries `rsap PORT` would not show.
 */
static int check_port_marks(struct rsap_store *store, struct rsap_store_check_report *out)
{
        _cleanup_(query_finish) struct query q = { 0 };
        _cleanup_(closep) int fd = -1;
        int r = port_marks_open_trusted(store->path, &fd);

        if (r < 0)
                return 0; /* none, or not trusted: no lookup reads them */
        r = query_prepare(store, NAMED_PORTS_SQL, &q);
        while (r == 0 && (r = query_step(&q)) > 0) {
                int64_t port = column_int(&q, 0);
                char text[200];
                bool marked;

                if (port < 0 || port > UINT16_MAX)
                        continue; /* a CHECK constraint's business */
                r = port_marks_any(fd, (uint16_t)port, (uint16_t)port, &marked);
                if (r == 0 && !marked) {
                        snprintf(text, sizeof(text), "port %d is in the registry but not in its"
                                 " port marks: remove %.120s-ports", (int)port, store->path);
                        store_check_add_problem(out, "%s", text);
                }
        }
        return r;
}

static int count_events(struct rsap_store *store, int64_t *out)
{
        _cleanup_(query_finish) struct query q = { 0 };
        int r = query_prepare(store, "SELECT count(*) FROM events", &q);

        if (r < 0)
                return r;
        r = query_step(&q);
        if (r > 0)
                *out = column_int(&q, 0);
        return r < 0 ? r : 0;
}

/* Pages SQLite could not read as a b-tree are a finding, not a failure of the check. */
static int malformed_is_a_finding(int r, struct rsap_store_check_report *out)
{
        if (r != -EBADMSG)
                return r;
        store_check_add_problem(out, "sqlite: %s", "database disk image is malformed");
        return 0;
}

/*
 * SQLite's own check.  Re-evaluating every CHECK constraint of every row is
 * most of quick_check's cost (4.4 of 5.1 s of CPU on 1,000,000 events: an IN
 * list per event), and finds only rows written with the constraints switched
 * off, by hand: the levels QUICK (rsapd's start on that registry: 4.9 s to
 * its first answer with it, 0.7-1.0 s without) and CONSISTENCY skip it, and
 * FULL keeps it, with
 * integrity_check's probe of every index per row (another 2.3 s).
 */
static int run_sqlite_check(struct rsap_store *store, enum rsap_store_check_level level,
                            struct rsap_store_check_report *out)
{
        int r = 0;

        if (level != RSAP_STORE_CHECK_FULL)
                r = store_exec(store_db(store), "PRAGMA ignore_check_constraints = ON");
        if (r < 0)
                return r;
        return run_pragma(store, level == RSAP_STORE_CHECK_FULL ? "PRAGMA integrity_check"
                                                               : "PRAGMA quick_check",
                          "sqlite: %s", out);
}

/* malformed_found: a page SQLite cannot read is a problem, not -EBADMSG. */
static int check_at(struct rsap_store *store, enum rsap_store_check_level level,
                    bool malformed_found, struct rsap_store_check_report *out)
{
        int r;

        memset(out, 0, sizeof(*out));
        /*
         * The integrity check probes every index once per row: with SQLite's
         * default cache of 2 MiB each probe of a big registry reads its pages
         * from the kernel again.  Only the checks of one-shot commands get the
         * bigger cache: rsapd's quick check at start would keep the memory.
         * They read the pages through a map too, which spares a copy of each
         * (a quarter of quick_check's CPU); rsap never truncates the file.
         */
        r = level == RSAP_STORE_CHECK_QUICK
                    ? 0
                    : store_exec(store_db(store), "PRAGMA cache_size = -" CHECK_CACHE_KIB ";"
                                                  " PRAGMA mmap_size = " CHECK_MMAP_BYTES);
        if (r == 0)
                r = store_exec(store_db(store), "BEGIN"); /* one snapshot for every rule */
        if (r < 0)
                return r;
        r = run_sqlite_check(store, level, out);
        if (r == 0 && level != RSAP_STORE_CHECK_QUICK)
                r = run_pragma(store, "PRAGMA foreign_key_check",
                               "a row of %s points to a row that does not exist", out);
        for (size_t i = 0; r == 0 && level != RSAP_STORE_CHECK_QUICK && i < ARRAY_SIZE(rules);
             i++)
                r = run_rule(store, &rules[i], out);
        if (r == 0 && level != RSAP_STORE_CHECK_QUICK)
                r = check_leases(store, out);
        if (r == 0 && level != RSAP_STORE_CHECK_QUICK)
                r = check_port_marks(store, out);
        if (r == 0)
                r = count_events(store, &out->events);
        if (malformed_found)
                r = malformed_is_a_finding(r, out);
        sqlite3_exec(store_db(store), "COMMIT", NULL, NULL, NULL);
        sqlite3_exec(store_db(store), "PRAGMA ignore_check_constraints = OFF", NULL, NULL, NULL);
        sqlite3_exec(store_db(store),
                     "PRAGMA cache_size = " SQLITE_DEFAULT_CACHE "; PRAGMA mmap_size = 0", NULL,
                     NULL, NULL);
        return r;
}

int sqlite_check(struct rsap_store *store, enum rsap_store_check_level level,
                 bool malformed_found, struct rsap_store_check_report *out)
{
        return check_at(store, level, malformed_found, out);
}
