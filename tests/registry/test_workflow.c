/* SPDX-License-Identifier: MIT */
/*
 * The local registry's rules, one test each, with the refusal messages the
 * front ends show.  Every test gets a fresh database in a temporary
 * directory, IANA's built-in data, a pinned clock and a made-up host (an
 * ephemeral range of 32768-60999 and the listeners it declares), so that
 * nothing depends on the machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <rsap/fileio.h>
#include <rsap/name.h>
#include <rsap/store.h>
#include <rsap/workflow.h>

#define T0 (1800000000LL * 1000000) /* 2027-01-15, pinned */
#define DAY (86400LL * 1000000)
#define TCP (1u << RSAP_PROTO_TCP)
#define UDP (1u << RSAP_PROTO_UDP)

struct fixture {
        char dir[64], path[512];
        char schema[64];           /* PostgreSQL's, under RSAP_TEST_STORE */
        struct rsap_store *store;
        struct rsap_iana *iana;
        struct rsap_host host;
        struct rsap_workflow wf;
        struct rsap_listen_list listeners;
        struct rsap_listen_socket sockets[16];
        struct rsap_listen_owner owners[16];
};

/*
 * With RSAP_TEST_STORE (a PostgreSQL server of tests/registry/pg_server.sh),
 * each test's store is a schema of its own in that database, reached
 * through the URI's search_path; its name is the test's own, so the SQL
 * made of it takes no outside value.
 */
static const char *pg_server;

static void pg_admin(const char *verb, const char *schema, const char *tail)
{
        char sql[128];
        PGconn *db = PQconnectdb(pg_server);
        PGresult *res;

        snprintf(sql, sizeof(sql), "%s SCHEMA %s%s", verb, schema, tail);
        assert_int_equal(PQstatus(db), CONNECTION_OK);
        PQclear(PQexec(db, "SET client_min_messages = warning")); /* no notice per table dropped */
        res = PQexec(db, sql);
        assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
        PQclear(res);
        PQfinish(db);
}

/* The tests of SQLite's own (its files, its pragmas, its locks) skip on PostgreSQL. */
#define SQLITE_ONLY()                                                                              do {                                                                                               if (pg_server)                                                                                     skip();                                                                    } while (0)

static void store_location(struct fixture *f)
{
        static unsigned n;

        if (!pg_server) {
                snprintf(f->path, sizeof(f->path), "%s/registry.db", f->dir);
                return;
        }
        snprintf(f->schema, sizeof(f->schema), "workflow_%ld_%u", (long)getpid(), n++);
        pg_admin("CREATE", f->schema, "");
        snprintf(f->path, sizeof(f->path), "%s&options=-csearch_path%%3D%s", pg_server,
                 f->schema);
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        snprintf(f->dir, sizeof(f->dir), "/tmp/rsap-registry-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        store_location(f);
        assert_int_equal(rsap_store_open(f->path, RSAP_STORE_WRITE, 0, &f->store), 0);
        assert_int_equal(rsap_iana_open_builtin(&f->iana), 0);
        rsap_store_set_clock(f->store, T0);
        f->host = (struct rsap_host){ .have_ephemeral = true, .ephemeral_low = 32768,
                                      .ephemeral_high = 60999 };
        f->wf = (struct rsap_workflow){ f->store, f->iana, "tester", &f->host };
        *state = f;
        return 0;
}

static void remove_files(const char *dir)
{
        static const char *const suffixes[] = { "", "-wal", "-shm", "-journal", "-ports" };
        static const char *const names[] = { "registry.db", "other.db", "reserved", "bad.db" };
        char path[256];

        for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
                for (size_t s = 0; s < sizeof(suffixes) / sizeof(suffixes[0]); s++) {
                        snprintf(path, sizeof(path), "%s/%s%s", dir, names[n], suffixes[s]);
                        unlink(path);
                }
        }
        rmdir(dir);
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        rsap_store_close(f->store);
        rsap_iana_free(f->iana);
        remove_files(f->dir);
        if (*f->schema)
                pg_admin("DROP", f->schema, " CASCADE");
        free(f);
        return 0;
}

/* ---- helpers ---------------------------------------------------------------------- */

static void listen_on(struct fixture *f, uint16_t port, enum rsap_proto proto,
                      const char *command, pid_t pid)
{
        size_t i = f->listeners.count++;
        struct rsap_listen_socket *s = &f->sockets[i];

        memset(s, 0, sizeof(*s));
        s->proto = proto;
        s->port = port;
        s->family = AF_INET;
        if (command) {
                f->owners[i].pid = pid;
                snprintf(f->owners[i].command, sizeof(f->owners[i].command), "%s", command);
                s->owners = &f->owners[i];
                s->n_owners = 1;
        }
        f->listeners.sockets = f->sockets;
        f->host.listeners = &f->listeners;
}

static struct rsap_request_input input(const char *name, int port, unsigned protocols,
                                       const char *assignee)
{
        return (struct rsap_request_input){
                .service = name,
                .any_port = port < 0,
                .port = port < 0 ? 0 : (uint16_t)port,
                .protocols = protocols,
                .description = "a service of the tests",
                .assignee = assignee,
                .contact = "ops@example.com",
        };
}

static int64_t file_input(struct fixture *f, const struct rsap_request_input *in)
{
        int64_t id = 0;

        assert_int_equal(rsap_request_file(&f->wf, in, &id), 0);
        assert_true(id > 0);
        return id;
}

static int64_t file(struct fixture *f, const char *name, int port, unsigned protocols,
                    const char *assignee)
{
        struct rsap_request_input in = input(name, port, protocols, assignee);

        return file_input(f, &in);
}

static int approve_with(struct fixture *f, int64_t id, bool over_iana, bool allow_system)
{
        struct rsap_review_options o = { .over_iana = over_iana, .allow_system = allow_system };
        struct rsap_approval a;
        int r = rsap_approve(&f->wf, id, &o, "tests", &a);

        rsap_approval_clear(&a);
        return r;
}

static int approve(struct fixture *f, int64_t id)
{
        return approve_with(f, id, false, false);
}

/* Files and approves a tcp assignment; returns the request id. */
static int64_t assign(struct fixture *f, const char *name, int port, const char *assignee)
{
        int64_t id = file(f, name, port, TCP, assignee);

        assert_int_equal(approve(f, id), 0);
        return id;
}

static const struct rsap_check *find_check(const struct rsap_review *rv,
                                           enum rsap_check_code code, enum rsap_proto proto)
{
        for (size_t i = 0; i < rv->n_checks; i++)
                if (rv->checks[i].code == code &&
                    (proto == RSAP_PROTO_NONE || rv->checks[i].proto == proto))
                        return &rv->checks[i];
        return NULL;
}

/* The review of request id has a check with that verdict whose message holds text. */
static void want_check_with(struct fixture *f, int64_t id,
                              const struct rsap_review_options *options,
                              enum rsap_check_code code, enum rsap_proto proto,
                              enum rsap_verdict verdict, const char *text)
{
        struct rsap_review rv;
        const struct rsap_check *c;

        assert_int_equal(rsap_review(&f->wf, id, options, &rv), 0);
        c = find_check(&rv, code, proto);
        if (!c)
                fail_msg("no check %s in the review of request %lld", rsap_check_code_name(code),
                         (long long)id);
        if (c->verdict != verdict || !strstr(c->message, text))
                fail_msg("check %s: %s '%s', wanted %s with '%s'", rsap_check_code_name(code),
                         rsap_verdict_name(c->verdict), c->message, rsap_verdict_name(verdict),
                         text);
        rsap_review_clear(&rv);
}

static void want_check(struct fixture *f, int64_t id, enum rsap_check_code code,
                         enum rsap_proto proto, enum rsap_verdict verdict, const char *text)
{
        want_check_with(f, id, NULL, code, proto, verdict, text);
}

static void want_no_check(struct fixture *f, int64_t id, enum rsap_check_code code)
{
        struct rsap_review rv;

        assert_int_equal(rsap_review(&f->wf, id, NULL, &rv), 0);
        assert_null(find_check(&rv, code, RSAP_PROTO_NONE));
        rsap_review_clear(&rv);
}

/* A second connection, as a person with the sqlite3 shell would have. */
static sqlite3 *raw(struct fixture *f)
{
        sqlite3 *db = NULL;

        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
        return db;
}

/*
 * The tests' SQL in PostgreSQL's words: the state columns are numbers there
 * ("WHERE active" is "WHERE active = 1"), and the foreign keys always hold.
 */
static void pg_dialect(const char *sql, char *out, size_t size)
{
        static const char *const words[][2] = {
                { "PRAGMA foreign_keys = ON; ", "" },
                { "NOT active", "active = 0" },
                { "WHERE active", "WHERE active = 1" },
                { "AND active", "AND active = 1" },
                { "last_insert_rowid()", "lastval()" },
        };
        size_t used = 0;

        while (*sql && used + 1 < size) {
                const char *to = NULL;
                size_t len = 0;

                for (size_t i = 0; !to && i < sizeof(words) / sizeof(words[0]); i++) {
                        len = strlen(words[i][0]);
                        /* "WHERE active = 0" is already both dialects' */
                        if (strncmp(sql, words[i][0], len) == 0 && strncmp(sql + len, " =", 2))
                                to = words[i][1];
                }
                if (to) {
                        used += (size_t)snprintf(out + used, size - used, "%s", to);
                        sql += len;
                } else {
                        out[used++] = *sql++;
                }
        }
        out[used < size ? used : size - 1] = '\0';
}

/* Whether the test's store is the PostgreSQL one (a test may open a file beside it). */
static bool on_pg(const struct fixture *f)
{
        return pg_server && strncmp(f->path, "postgres", 8) == 0;
}

/* A result as SQLite would have said it: a refusal of the schema's rules is a constraint's. */
static int pg_raw_exec(struct fixture *f, const char *sql)
{
        char text[2048];
        PGconn *db = PQconnectdb(f->path);
        PGresult *res;
        const char *state;
        int rc;

        pg_dialect(sql, text, sizeof(text));
        assert_int_equal(PQstatus(db), CONNECTION_OK);
        res = PQexec(db, text);
        state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK)
                rc = SQLITE_OK;
        else
                rc = state && (strncmp(state, "23", 2) == 0 || strcmp(state, "P0001") == 0)
                             ? SQLITE_CONSTRAINT
                             : SQLITE_ERROR;
        if (rc == SQLITE_ERROR) /* what the test did not expect: say why */
                fprintf(stderr, "# %s: %s", text, PQresultErrorMessage(res));
        PQclear(res);
        PQfinish(db);
        return rc;
}

static long long pg_raw_count(struct fixture *f, const char *sql)
{
        char text[2048];
        PGconn *db = PQconnectdb(f->path);
        PGresult *res;
        long long n = -1;

        pg_dialect(sql, text, sizeof(text));
        assert_int_equal(PQstatus(db), CONNECTION_OK);
        res = PQexec(db, text);
        assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
        if (PQntuples(res) > 0)
                n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        PQfinish(db);
        return n;
}

static int raw_exec(struct fixture *f, const char *sql)
{
        sqlite3 *db;
        int rc;

        if (on_pg(f))
                return pg_raw_exec(f, sql);
        db = raw(f);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        sqlite3_close(db);
        return rc;
}

static long long raw_count(struct fixture *f, const char *sql)
{
        sqlite3 *db;

        if (on_pg(f))
                return pg_raw_count(f, sql);
        db = raw(f);
        sqlite3_stmt *stmt = NULL;
        long long n = -1;

        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
        if (sqlite3_step(stmt) == SQLITE_ROW)
                n = sqlite3_column_int64(stmt, 0);
        sqlite3_finalize(stmt);
        sqlite3_close(db);
        return n;
}

static void expect_consistent(struct fixture *f)
{
        struct rsap_store_check_report report;

        assert_int_equal(rsap_store_check(f->store, &report), 0);
        if (report.n_problems)
                fail_msg("inconsistent: %s", report.problems[0]);
}

/* ---- the service name --------------------------------------------------------------- */

static void name_syntax_follows_rfc6335(void **state)
{
        struct fixture *f = *state;

        /* The words a user reads, written out here: not rebuilt from the code under test. */
        want_check(f, file(f, "foo--bar", 20100, TCP, "Alice"), RSAP_CHECK_NAME_SYNTAX, 0,
                     RSAP_VERDICT_REFUSED,
                     "service name 'foo--bar' is malformed: a service name cannot contain "
                     "\"--\" (RFC 6335 section 5.1)");
        want_check(f, file(f, "a-much-too-long-name", 20100, TCP, "Alice"),
                     RSAP_CHECK_NAME_SYNTAX, 0, RSAP_VERDICT_REFUSED,
                     "service name 'a-much-too-long-name' is malformed: a service name has at "
                     "most 15 characters (RFC 6335 section 5.1)");
        want_check(f, file(f, "good-name", 20100, TCP, "Alice"), RSAP_CHECK_NAME_SYNTAX, 0,
                     RSAP_VERDICT_PASS,
                     "service name 'good-name' is well-formed (RFC 6335 section 5.1)");
}

static void iana_names_need_same_service(void **state)
{
        struct fixture *f = *state;
        struct rsap_request_input same = input("https", 20100, TCP, "Alice");
        int64_t id = file(f, "HTTPS", 20100, TCP, "Alice");

        want_check(f, id, RSAP_CHECK_NAME_IANA, 0, RSAP_VERDICT_REFUSED,
                     "service name 'HTTPS' is registered by IANA (443/tcp); choose another "
                     "name, or --same-service if this is that service on another port");
        assert_int_equal(approve(f, id), -EPERM);
        same.same_service = true;
        want_check(f, file_input(f, &same), RSAP_CHECK_NAME_IANA, 0, RSAP_VERDICT_ALLOWED,
                     "accepted as that same service on another port (--same-service)");
        want_check(f, file(f, "brand-new", 20100, TCP, "Alice"), RSAP_CHECK_NAME_IANA, 0,
                     RSAP_VERDICT_PASS, "service name 'brand-new' is not registered by IANA");
}

static void local_names_belong_to_one_assignee(void **state)
{
        struct fixture *f = *state;
        int64_t other, same;

        assign(f, "orders", 20100, "Alice");
        other = file(f, "ORDERS", 20101, TCP, "Bob");
        want_check(f, other, RSAP_CHECK_NAME_LOCAL, 0, RSAP_VERDICT_REFUSED,
                     "service name 'orders' is registered here to Alice since "
                     "2027-01-15T08:00:00.000Z; a name is one service: choose another, or let "
                     "Alice request more ports for it");
        assert_int_equal(approve(f, other), -EPERM);
        same = file(f, "orders", 20102, UDP, "alice");
        want_check(f, same, RSAP_CHECK_NAME_LOCAL, 0, RSAP_VERDICT_PASS,
                     "this request adds ports or protocols to that same service");
        assert_int_equal(approve(f, same), 0);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM services"), 1);
}

static void competing_name_requests_warn(void **state)
{
        struct fixture *f = *state;

        file(f, "shared", 20100, TCP, "Alice");
        want_check(f, file(f, "Shared", 20101, TCP, "Bob"), RSAP_CHECK_NAME_PENDING, 0,
                     RSAP_VERDICT_WARNING, "request 1 by Alice also asks for the name 'Shared'");
}

/* ---- the range ------------------------------------------------------------------------ */

static void dynamic_ports_are_never_assigned(void **state)
{
        struct fixture *f = *state;
        int64_t id = file(f, "dyn", 50000, TCP, "Alice");

        want_check(f, id, RSAP_CHECK_RANGE, 0, RSAP_VERDICT_REFUSED,
                     "port 50000 is a Dynamic Port (49152-65535): Dynamic Ports are never "
                     "assigned (RFC 6335 section 6)");
        assert_int_equal(approve_with(f, id, true, true), -EPERM);
}

static void system_ports_need_allow_system(void **state)
{
        struct fixture *f = *state;
        struct rsap_review_options allow = { .allow_system = true };
        /* 4/tcp: a System Port that IANA has never assigned or reserved. */
        int64_t id = file(f, "sys", 4, TCP, "Alice");

        want_check(f, id, RSAP_CHECK_RANGE, 0, RSAP_VERDICT_REFUSED,
                     "port 4 is a System Port (0-1023): --allow-system to assign one");
        assert_int_equal(approve(f, id), -EPERM);
        want_check_with(f, id, &allow, RSAP_CHECK_RANGE, 0, RSAP_VERDICT_ALLOWED,
                          "port 4 is a System Port (0-1023); allowed by --allow-system");
        assert_int_equal(approve_with(f, id, false, true), 0);
        want_check(f, file(f, "usr", 20100, TCP, "Alice"), RSAP_CHECK_RANGE, 0,
                     RSAP_VERDICT_PASS, "port 20100 is a User Port (1024-49151)");
}

/* ---- one port ---------------------------------------------------------------------------- */

static void iana_assignments_need_over_iana_and_are_remembered(void **state)
{
        struct fixture *f = *state;
        struct rsap_target port = { .kind = RSAP_TARGET_PORT, .port = 8443 };
        struct rsap_history h;
        int64_t id = file(f, "web-admin", 8443, TCP | UDP, "Alice");

        want_check(f, id, RSAP_CHECK_IANA, RSAP_PROTO_TCP, RSAP_VERDICT_REFUSED,
                     "port 8443/tcp is assigned by IANA to pcsync-https; --over-iana to register "
                     "over it");
        want_check(f, id, RSAP_CHECK_IANA, RSAP_PROTO_UDP, RSAP_VERDICT_REFUSED,
                     "port 8443/udp is assigned by IANA to pcsync-https");
        assert_int_equal(approve(f, id), -EPERM);
        assert_int_equal(approve_with(f, id, true, false), 0);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM assignments"
                                      " WHERE over_iana = 'pcsync-https'"),
                         2);
        assert_int_equal(rsap_history(f->store, &port, &h), 0);
        assert_int_equal(h.n_events, 3);
        assert_string_equal(h.events[1].action, "approve");
        assert_non_null(strstr(h.events[1].details, "\"over_iana\":\"pcsync-https\""));
        rsap_history_clear(&h);
}

static void iana_reserved_ports_need_over_iana(void **state)
{
        struct fixture *f = *state;

        want_check(f, file(f, "edge", 1024, TCP, "Alice"), RSAP_CHECK_IANA, RSAP_PROTO_TCP,
                     RSAP_VERDICT_REFUSED,
                     "port 1024/tcp is reserved by IANA; --over-iana to register over it");
}

static void local_assignments_are_refused(void **state)
{
        struct fixture *f = *state;
        int64_t id;

        assign(f, "first", 20100, "Alice");
        id = file(f, "second", 20100, TCP, "Bob");
        want_check(f, id, RSAP_CHECK_ASSIGNED, RSAP_PROTO_TCP, RSAP_VERDICT_REFUSED,
                     "port 20100/tcp is assigned here to first (assignment 1, Alice)");
        assert_int_equal(approve_with(f, id, true, true), -EPERM);
        expect_consistent(f);
}

static void leases_hold_ports_until_they_end(void **state)
{
        struct fixture *f = *state;
        struct rsap_lease_options o = { .low = 20100, .high = 20100, .ttl_us = 60LL * 1000000,
                                        .name = "ci run" };
        struct rsap_lease l;
        int64_t id;

        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), 0);
        assert_int_equal(l.port, 20100);
        rsap_lease_clear(&l);
        id = file(f, "late", 20100, TCP, "Alice");
        want_check(f, id, RSAP_CHECK_LEASED, RSAP_PROTO_TCP, RSAP_VERDICT_REFUSED,
                     "port 20100/tcp is leased (lease 1 'ci run', until 2027-01-15T08:01:00.000Z)");
        assert_int_equal(approve(f, id), -EPERM);
        rsap_store_set_clock(f->store, T0 + 61LL * 1000000);
        want_check(f, id, RSAP_CHECK_LEASED, RSAP_PROTO_TCP, RSAP_VERDICT_PASS,
                     "port 20100/tcp: lease 1 has ended; the port is free");
        assert_int_equal(approve(f, id), 0);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM events WHERE action = 'expire'"
                                      " AND reason LIKE 'its TTL ran out at %'"),
                         1);
        expect_consistent(f);
}

static void released_ports_are_quarantined(void **state)
{
        struct fixture *f = *state;
        struct rsap_target name = { .kind = RSAP_TARGET_NAME };
        struct rsap_assignment *ended;
        size_t n;
        int64_t id;

        assign(f, "gone", 20100, "Alice");
        snprintf(name.name, sizeof(name.name), "gone");
        assert_int_equal(rsap_deassign(&f->wf, &name, "retired", 30 * DAY, &ended, &n), 0);
        assert_int_equal(n, 1);
        assert_false(ended[0].active);
        assert_true(ended[0].quarantine_until_us == T0 + 30 * DAY);
        rsap_assignment_list_free(ended, n);
        id = file(f, "gone", 20100, TCP, "Alice");
        want_check(f, id, RSAP_CHECK_QUARANTINE, RSAP_PROTO_TCP, RSAP_VERDICT_REFUSED,
                     "port 20100/tcp was released by gone (assignment 1) on "
                     "2027-01-15T08:00:00.000Z and is quarantined until 2027-02-14T08:00:00.000Z");
        assert_int_equal(approve(f, id), -EPERM);
        rsap_store_set_clock(f->store, T0 + 31 * DAY);
        want_check(f, id, RSAP_CHECK_QUARANTINE, RSAP_PROTO_TCP, RSAP_VERDICT_PASS,
                     "port 20100/tcp is not quarantined");
        assert_int_equal(approve(f, id), 0);
        expect_consistent(f);
}

static void competing_port_requests_warn(void **state)
{
        struct fixture *f = *state;

        file(f, "one", 20100, TCP, "Alice");
        want_check(f, file(f, "two", 20100, TCP | UDP, "Bob"), RSAP_CHECK_REQUESTED,
                     RSAP_PROTO_TCP, RSAP_VERDICT_WARNING, "request 1 (one) also asks for 20100/tcp");
}

static void listeners_warn_without_refusing(void **state)
{
        struct fixture *f = *state;
        int64_t id;

        listen_on(f, 20100, RSAP_PROTO_TCP, "nginx", 42);
        id = file(f, "web", 20100, TCP | UDP, "Alice");
        want_check(f, id, RSAP_CHECK_LISTENING, RSAP_PROTO_TCP, RSAP_VERDICT_WARNING,
                     "something listens on 20100/tcp on this host now: nginx (pid 42)");
        want_check(f, id, RSAP_CHECK_LISTENING, RSAP_PROTO_UDP, RSAP_VERDICT_PASS,
                     "nothing listens on 20100/udp on this host");
        assert_int_equal(approve(f, id), 0);
}

static void ephemeral_and_browser_ports_warn(void **state)
{
        struct fixture *f = *state;
        int64_t low = file(f, "ephem", 40000, TCP, "Alice");
        int64_t x11 = file(f, "xish", 6000, TCP, "Alice");

        want_check(f, low, RSAP_CHECK_EPHEMERAL, 0, RSAP_VERDICT_WARNING,
                     "port 40000 is inside this host's ephemeral range 32768-60999: outgoing "
                     "connections may take it");
        want_check(f, x11, RSAP_CHECK_BROWSER, 0, RSAP_VERDICT_WARNING,
                     "browsers refuse to connect to port 6000 (a bad port of the Fetch standard)");
        want_no_check(f, file(f, "plain", 20100, TCP, "Alice"), RSAP_CHECK_BROWSER);
}

/* ---- --any ---------------------------------------------------------------------------- */

static void any_port_takes_the_first_free_one(void **state)
{
        struct fixture *f = *state;
        struct rsap_request_input in = input("chosen", -1, TCP, "Alice");
        struct rsap_lease_options o = { .low = 20101, .high = 20101, .ttl_us = DAY };
        struct rsap_approval a;
        struct rsap_lease l;
        int64_t id;

        assign(f, "taken", 20100, "Bob");
        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), 0);
        rsap_lease_clear(&l);
        in.has_range = true;
        in.range_low = 20100;
        in.range_high = 20105;
        id = file_input(f, &in);
        want_check(f, id, RSAP_CHECK_FREE_PORT, 0, RSAP_VERDICT_PASS,
                     "port 20102 is the first free port of 20100-20105 on tcp");
        assert_int_equal(rsap_approve(&f->wf, id, NULL, NULL, &a), 0);
        assert_int_equal(a.n_assignments, 1);
        assert_int_equal(a.assignments[0].port, 20102);
        rsap_approval_clear(&a);

        in.service = "crowded";
        in.range_low = in.range_high = 20100;
        want_check(f, file_input(f, &in), RSAP_CHECK_FREE_PORT, 0, RSAP_VERDICT_REFUSED,
                     "no port in 20100-20100 is free on tcp");
        in.service = "dynamic";
        in.range_low = 50000;
        in.range_high = 50010;
        want_check(f, file_input(f, &in), RSAP_CHECK_RANGE, 0, RSAP_VERDICT_REFUSED,
                     "range 50000-50010 has no port that may be assigned");
}

/* ---- decisions ------------------------------------------------------------------------ */

static void requests_are_decided_once(void **state)
{
        struct fixture *f = *state;
        struct rsap_request r;
        int64_t approved = assign(f, "once", 20100, "Alice");
        int64_t pending = file(f, "maybe", 20101, TCP, "Bob");

        assert_int_equal(approve(f, approved), -EALREADY);
        want_check(f, approved, RSAP_CHECK_STATE, 0, RSAP_VERDICT_REFUSED,
                     "request 1 was already approved");
        assert_int_equal(rsap_reject(&f->wf, pending, NULL, &r), -EINVAL);
        rsap_request_clear(&r);
        assert_int_equal(rsap_reject(&f->wf, pending, "", &r), -EINVAL); /* why, in words */
        rsap_request_clear(&r);
        assert_int_equal(rsap_reject(&f->wf, approved, "too late", &r), -EALREADY);
        rsap_request_clear(&r);
        assert_int_equal(rsap_reject(&f->wf, pending, "no such need", &r), 0);
        assert_int_equal(r.state, RSAP_REQUEST_REJECTED);
        rsap_request_clear(&r);
        assert_int_equal(approve(f, pending), -EALREADY);
        assert_int_equal(approve(f, 99), -ENOENT);
        expect_consistent(f);
}

static void deassign_revoke_and_transfer_follow_rfc6335(void **state)
{
        struct fixture *f = *state;
        struct rsap_target port = { .kind = RSAP_TARGET_PORT, .port = 20100 };
        struct rsap_target one = { .kind = RSAP_TARGET_ASSIGNMENT, .id = 1 };
        struct rsap_assignment *ended;
        struct rsap_transfer t;
        size_t n;

        assign(f, "alpha", 20100, "Alice");
        assign(f, "beta", 20101, "Bob");
        assert_int_equal(rsap_revoke(&f->wf, &one, NULL, DAY, &ended, &n), -EINVAL);
        assert_int_equal(rsap_transfer(&f->wf, &port, "Carol", NULL, "reorg", &t), 0);
        assert_string_equal(t.from, "Alice");
        assert_string_equal(t.to, "Carol");
        assert_string_equal(t.contact_to, "ops@example.com");
        assert_int_equal(t.n_assignments, 1);
        assert_string_equal(t.assignments[0].assignee, "Carol");
        rsap_transfer_clear(&t);
        assert_int_equal(rsap_transfer(&f->wf, &port, "carol", NULL, NULL, &t), -EALREADY);
        rsap_transfer_clear(&t);
        assert_int_equal(rsap_revoke(&f->wf, &one, "unreachable", DAY, &ended, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(ended[0].service, "alpha");
        rsap_assignment_list_free(ended, n);
        assert_int_equal(rsap_deassign(&f->wf, &one, NULL, DAY, &ended, &n), -ENOENT);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM events WHERE action = 'revoke'"
                                      " AND reason = 'unreachable'"),
                         1);
        expect_consistent(f);
}

static void transfer_names_one_service(void **state)
{
        struct fixture *f = *state;
        struct rsap_target port = { .kind = RSAP_TARGET_PORT, .port = 20100 };
        struct rsap_transfer t;

        assign(f, "tcp-side", 20100, "Alice");
        assert_int_equal(approve(f, file(f, "udp-side", 20100, UDP, "Bob")), 0);
        assert_int_equal(rsap_transfer(&f->wf, &port, "Carol", NULL, NULL, &t), -ENOTUNIQ);
        rsap_transfer_clear(&t);
        port.proto = RSAP_PROTO_UDP;
        assert_int_equal(rsap_transfer(&f->wf, &port, "Carol", "carol@x", NULL, &t), 0);
        assert_string_equal(t.service, "udp-side");
        rsap_transfer_clear(&t);
        expect_consistent(f);
}

/* ---- history and the database's own guarantees -------------------------------------- */

static void history_keeps_every_event(void **state)
{
        struct fixture *f = *state;
        struct rsap_target port = { .kind = RSAP_TARGET_PORT, .port = 20100 };
        struct rsap_target name = { .kind = RSAP_TARGET_NAME, .name = "KEPT" };
        struct rsap_target request = { .kind = RSAP_TARGET_REQUEST, .id = 1 };
        struct rsap_target assignment = { .kind = RSAP_TARGET_ASSIGNMENT, .id = 1 };
        struct rsap_assignment *ended;
        struct rsap_history h;
        size_t n;

        assign(f, "kept", 20100, "Alice");
        f->wf.actor = "someone-else";
        assert_int_equal(rsap_deassign(&f->wf, &port, "moved", DAY, &ended, &n), 0);
        rsap_assignment_list_free(ended, n);
        assert_int_equal(rsap_history(f->store, &port, &h), 0);
        assert_int_equal(h.n_events, 3);
        assert_string_equal(h.events[0].action, "request");
        assert_string_equal(h.events[1].action, "approve");
        assert_string_equal(h.events[2].action, "deassign");
        assert_string_equal(h.events[0].actor, "tester");
        assert_string_equal(h.events[2].actor, "someone-else");
        assert_string_equal(h.events[2].reason, "moved");
        assert_true(h.events[2].time_us == T0);
        rsap_history_clear(&h);
        assert_int_equal(rsap_history(f->store, &name, &h), 0);
        assert_int_equal(h.n_events, 3);
        rsap_history_clear(&h);
        assert_int_equal(rsap_history(f->store, &request, &h), 0);
        assert_int_equal(h.n_events, 3);
        rsap_history_clear(&h);
        assert_int_equal(rsap_history(f->store, &assignment, &h), 0);
        assert_int_equal(h.n_events, 2);
        rsap_history_clear(&h);
        /* The assignment that ended stays. */
        assert_int_equal(raw_count(f, "SELECT count(*) FROM assignments WHERE NOT active"), 1);
}

static void events_are_append_only(void **state)
{
        struct fixture *f = *state;

        assign(f, "fixed", 20100, "Alice");
        assert_int_equal(raw_exec(f, "UPDATE events SET actor = 'mallory'"), SQLITE_CONSTRAINT);
        assert_int_equal(raw_exec(f, "DELETE FROM events"), SQLITE_CONSTRAINT);
        assert_int_equal(raw_exec(f, "DELETE FROM assignments"), SQLITE_CONSTRAINT);
        assert_int_equal(raw_exec(f, "DELETE FROM requests"), SQLITE_CONSTRAINT);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM events WHERE actor = 'tester'"), 2);
}

static void the_database_refuses_double_holders(void **state)
{
        struct fixture *f = *state;

        /* Its raw rows lean on SQLite's foreign keys being off on a raw connection;
         * PostgreSQL always checks them (the contract suite holds its keys). */
        SQLITE_ONLY();
        assign(f, "holder", 20100, "Alice");
        /* Whatever the code does, the schema holds. */
        assert_int_equal(raw_exec(f, "INSERT INTO holdings (port, protocol, kind, lease_id)"
                                     " VALUES (20100, 'tcp', 'lease', NULL)"),
                         SQLITE_CONSTRAINT);
        /* A lease row that every CHECK takes (no foreign keys on this raw connection):
         * on a free port it goes in, on the held 20100/tcp only the primary key
         * (port, protocol) refuses it. */
        assert_int_equal(raw_exec(f, "INSERT INTO holdings (port, protocol, kind, lease_id)"
                                     " VALUES (20200, 'tcp', 'lease', 999)"),
                         SQLITE_OK);
        assert_int_equal(raw_exec(f, "INSERT INTO holdings (port, protocol, kind, lease_id)"
                                     " VALUES (20100, 'tcp', 'lease', 998)"),
                         SQLITE_CONSTRAINT);
        assert_int_equal(raw_exec(f, "INSERT INTO holdings (port, protocol, kind, lease_id)"
                                     " VALUES (20100, 'udp', 'lease', 997)"),
                         SQLITE_OK);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM holdings WHERE port = 20100 AND"
                                      " protocol = 'tcp'"),
                         1);
        assert_int_equal(raw_exec(f, "INSERT INTO services (name, assignee, contact, created_us)"
                                     " VALUES ('HOLDER', 'Bob', 'b', 1)"),
                         SQLITE_CONSTRAINT);
        assert_int_equal(raw_exec(f, "PRAGMA foreign_keys = ON; INSERT INTO assignments"
                                     " (service_id, port, protocol, description, assigned_us)"
                                     " VALUES (1, 20100, 'tcp', 'x', 1)"),
                         SQLITE_CONSTRAINT);
}

/* A request row that every other CHECK takes, with the given protocol bits. */
static int raw_request(struct fixture *f, int protocols)
{
        char sql[320];

        snprintf(sql, sizeof(sql),
                 "INSERT INTO requests (service, port, range_low, range_high, protocols,"
                 " description, assignee, contact, requested_by, requested_us)"
                 " VALUES ('raw', 20400, 20400, 20400, %d, 'd', 'a', 'c', 'mallory', 1)",
                 protocols);
        return raw_exec(f, sql);
}

static void the_database_refuses_impossible_leases_and_requests(void **state)
{
        struct fixture *f = *state;

        /* Whatever the code forgets, one live lease per port... */
        assert_int_equal(raw_exec(f, "INSERT INTO leases (port, expires_us, leased_us)"
                                     " VALUES (20300, 1, 1)"),
                         SQLITE_OK);
        assert_int_equal(raw_exec(f, "INSERT INTO leases (port, expires_us, leased_us)"
                                     " VALUES (20300, 2, 2)"),
                         SQLITE_CONSTRAINT);
        /* ...beside any number of ended ones, and never on port 0 ("any port"). */
        assert_int_equal(raw_exec(f, "INSERT INTO leases (port, expires_us, leased_us, active,"
                                     " ended_us) VALUES (20300, 1, 1, 0, 1)"),
                         SQLITE_OK);
        assert_int_equal(raw_exec(f, "INSERT INTO leases (port, expires_us, leased_us)"
                                     " VALUES (0, 1, 1)"),
                         SQLITE_CONSTRAINT);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM leases WHERE active"), 1);
        /* A request's protocols are a set of transports: tcp and udp are 2 and 4; none
         * (bit 0), the empty set and bits past dccp's are refused. */
        assert_int_equal(raw_request(f, (1 << RSAP_PROTO_TCP) | (1 << RSAP_PROTO_UDP)), SQLITE_OK);
        assert_int_equal(raw_request(f, 1 << RSAP_PROTO_DCCP), SQLITE_OK);
        assert_int_equal(raw_request(f, 0), SQLITE_CONSTRAINT);
        assert_int_equal(raw_request(f, (1 << RSAP_PROTO_NONE) | (1 << RSAP_PROTO_TCP)),
                         SQLITE_CONSTRAINT);
        assert_int_equal(raw_request(f, 1 << RSAP_PROTO_COUNT), SQLITE_CONSTRAINT);
        assert_int_equal(raw_request(f, -2), SQLITE_CONSTRAINT);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM requests"), 2);
}

static void consistency_check_finds_tampering(void **state)
{
        struct fixture *f = *state;
        struct rsap_store_check_report report;

        assign(f, "honest", 20100, "Alice");
        expect_consistent(f);
        assert_int_equal(raw_exec(f, "UPDATE services SET assignee = 'Mallory'"), SQLITE_OK);
        assert_int_equal(rsap_store_check(f->store, &report), 0);
        assert_int_equal(report.n_problems, 1);
        assert_non_null(strstr(report.problems[0], "service honest: its assignee differs"));
        assert_int_equal(raw_exec(f, "DELETE FROM holdings"), SQLITE_OK);
        assert_int_equal(rsap_store_check(f->store, &report), 0);
        assert_int_equal(report.n_problems, 2);
}

/* A lease moved to another host behind the store's back would outlive its process. */
static void consistency_check_finds_a_moved_lease(void **state)
{
        struct fixture *f = *state;
        struct rsap_lease_options o = { .low = 20100, .high = 20100, .ttl_us = DAY };
        struct rsap_store_check_report report;
        struct rsap_lease l;

        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), 0);
        rsap_lease_clear(&l);
        expect_consistent(f);
        assert_int_equal(raw_exec(f, "UPDATE leases SET host = 'elsewhere'"), SQLITE_OK);
        assert_int_equal(rsap_store_check(f->store, &report), 0);
        assert_int_equal(report.n_problems, 1);
        assert_non_null(strstr(report.problems[0], "lease 1: its holder's host differs"));
}

/* An ended lease edited behind the store's back: moved to another port, or live again. */
static void consistency_check_finds_a_changed_lease(void **state)
{
        struct fixture *f = *state;
        struct rsap_lease_options o = { .low = 20100, .high = 20100, .ttl_us = DAY };
        struct rsap_target port = { .kind = RSAP_TARGET_PORT, .port = 20100 };
        struct rsap_store_check_report report;
        struct rsap_lease l;

        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), 0);
        rsap_lease_clear(&l);
        assert_int_equal(rsap_lease_release(&f->wf, &port, &l), 0);
        rsap_lease_clear(&l);
        expect_consistent(f);
        assert_int_equal(raw_exec(f, "UPDATE leases SET port = 20101"), SQLITE_OK);
        assert_int_equal(rsap_store_check(f->store, &report), 0);
        assert_int_equal(report.n_problems, 1);
        assert_non_null(strstr(report.problems[0], "lease 1 has no 'lease' event"));
        assert_int_equal(raw_exec(f, "UPDATE leases SET port = 20100, active = 1, ended_us = NULL"),
                         SQLITE_OK);
        assert_int_equal(rsap_store_check(f->store, &report), 0);
        assert_int_equal(report.n_problems, 2);
        assert_non_null(strstr(report.problems[0], "lease 1 is active but holds no port"));
        assert_non_null(strstr(report.problems[1], "lease 1: active or not, unlike its events"));
}

/* held_bits, which pick reads alone, must be what the holdings say: a bit
 * lost, a bit too many, a block of a protocol no assignment holds. */
static void consistency_check_finds_changed_held_bits(void **state)
{
        static const char *const damage[] = {
                "UPDATE held_bits SET bits = 0",
                "UPDATE held_bits SET bits = bits | 1",
                "INSERT INTO held_bits (protocol, block, bits) VALUES ('udp', 5, 4)",
        };
        struct fixture *f = *state;
        struct rsap_store_check_report report;

        SQLITE_ONLY();
        assign(f, "web", 20100, "Alice");
        expect_consistent(f);
        for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
                assert_int_equal(raw_exec(f, damage[i]), SQLITE_OK);
                assert_int_equal(rsap_store_check(f->store, &report), 0);
                assert_int_equal(report.n_problems, 1);
                assert_non_null(strstr(report.problems[0],
                                       "held_bits differs from the assignments' holdings"));
                assert_int_equal(raw_exec(f, "DELETE FROM held_bits;"
                                             " INSERT INTO held_bits (protocol, block, bits)"
                                             " SELECT protocol, port >> 6, sum(1 << (port & 63))"
                                             " FROM holdings WHERE kind = 'assignment'"
                                             " GROUP BY protocol, port >> 6"),
                                 SQLITE_OK);
                expect_consistent(f);
        }
        assert_non_null(strstr(report.problems[0], "udp 320-383"));
}

/* rsap_request_file()'s answer for a request one field away from a good one. */
static int file_changed(struct fixture *f, void (*change)(struct rsap_request_input *))
{
        struct rsap_request_input in = input("good", 20100, TCP, "Alice");
        int64_t id = 0;

        change(&in);
        return rsap_request_file(&f->wf, &in, &id);
}

static void no_service(struct rsap_request_input *in) { in->service = ""; }
static void long_service(struct rsap_request_input *in)
{
        in->service = "a-service-name-of-sixty-four-characters-which-is-one-too-many-xx";
}
static void no_description(struct rsap_request_input *in) { in->description = ""; }
static void no_assignee(struct rsap_request_input *in) { in->assignee = NULL; }
static void no_contact(struct rsap_request_input *in) { in->contact = ""; }
static void escape_in_description(struct rsap_request_input *in) { in->description = "a\x1b[2Jb"; }
static void bell_in_note(struct rsap_request_input *in) { in->note = "ding\x07"; }
static void lines_in_reference(struct rsap_request_input *in) { in->reference = "RFC\n6335"; }
static void lines_in_note(struct rsap_request_input *in) { in->note = "first line\nsecond"; }
static void no_protocol(struct rsap_request_input *in) { in->protocols = 0; }
static void protocol_none(struct rsap_request_input *in) { in->protocols |= 1u << RSAP_PROTO_NONE; }
static void range_without_any(struct rsap_request_input *in)
{
        in->has_range = true;
        in->range_low = 20000;
        in->range_high = 20200;
}
static void range_upside_down(struct rsap_request_input *in)
{
        in->any_port = true;
        in->has_range = true;
        in->range_low = 20200;
        in->range_high = 20000;
}

/* What the front ends check first, the library checks again: rsapd and the CLI
 * share it, and a third caller may forget. */
static void the_library_refuses_bad_arguments(void **state)
{
        struct fixture *f = *state;
        struct rsap_target port = { .kind = RSAP_TARGET_PORT, .port = 20100 };
        struct rsap_lease_options lease = { .low = 20300, .high = 20200 };
        struct rsap_pick_options pick = { .low = 20300, .high = 20200 };
        struct rsap_assignment *ended = NULL;
        struct rsap_transfer t;
        struct rsap_pick p;
        struct rsap_lease l;
        size_t n;

        assert_int_equal(file_changed(f, no_service), -EINVAL);
        assert_int_equal(file_changed(f, long_service), -EINVAL);
        assert_int_equal(file_changed(f, no_description), -EINVAL);
        assert_int_equal(file_changed(f, no_assignee), -EINVAL);
        assert_int_equal(file_changed(f, no_contact), -EINVAL);
        assert_int_equal(file_changed(f, escape_in_description), -EILSEQ);
        assert_int_equal(file_changed(f, bell_in_note), -EILSEQ);
        assert_int_equal(file_changed(f, lines_in_reference), -EILSEQ);
        assert_int_equal(file_changed(f, no_protocol), -EINVAL);
        assert_int_equal(file_changed(f, protocol_none), -EINVAL);
        assert_int_equal(file_changed(f, range_without_any), -EINVAL);
        assert_int_equal(file_changed(f, range_upside_down), -EINVAL);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM requests"), 0);
        assert_int_equal(file_changed(f, lines_in_note), 0); /* a note may have lines */

        assert_int_equal(rsap_lease_take(&f->wf, &lease, &l), -EINVAL);
        lease = (struct rsap_lease_options){ .low = 20200, .high = 20300, .ttl_us = -1 };
        assert_int_equal(rsap_lease_take(&f->wf, &lease, &l), -EINVAL);
        lease = (struct rsap_lease_options){ .low = 20200, .high = 20300, .pid = -1 };
        assert_int_equal(rsap_lease_take(&f->wf, &lease, &l), -EINVAL);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM leases"), 0);
        assert_int_equal(rsap_pick(&f->wf, &pick, &p), -EINVAL);
        rsap_pick_clear(&p);
        pick = (struct rsap_pick_options){ .count = 65537 };
        assert_int_equal(rsap_pick(&f->wf, &pick, &p), -EINVAL);
        rsap_pick_clear(&p);

        assign(f, "kept", 20100, "Alice");
        assert_int_equal(rsap_deassign(&f->wf, &port, "done", -1, &ended, &n), -EINVAL);
        assert_int_equal(n, 0);
        assert_int_equal(rsap_transfer(&f->wf, &port, "", NULL, "why", &t), -EINVAL);
        rsap_transfer_clear(&t);
        assert_int_equal(rsap_transfer(&f->wf, &port, "Eve\x1b[0m", NULL, "why", &t), -EILSEQ);
        rsap_transfer_clear(&t);
        assert_int_equal(rsap_transfer(&f->wf, &port, "Eve", "e@x\r\nBcc: y", "why", &t),
                         -EILSEQ);
        rsap_transfer_clear(&t);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM assignments WHERE active"), 1);
        expect_consistent(f);
}

/* --any below the User Ports starts at 1024 unless System Ports are allowed. */
static void any_port_ranges_start_at_the_user_ports(void **state)
{
        struct fixture *f = *state;
        struct rsap_request_input in = input("low", -1, TCP, "Alice");
        struct rsap_review rv;
        int64_t id;

        in.has_range = true;
        in.range_low = 100;
        in.range_high = 1100;
        id = file_input(f, &in);
        assert_int_equal(rsap_review(&f->wf, id, NULL, &rv), 0);
        assert_true(rv.port >= 1024 && rv.port <= 1100);
        rsap_review_clear(&rv);
}

/* ---- pick --------------------------------------------------------------------------------- */

static size_t pick(struct fixture *f, uint16_t low, uint16_t high, bool allow_iana,
                   uint16_t *ports, size_t max)
{
        struct rsap_pick_options o = { .low = low, .high = high, .count = max,
                                       .allow_iana = allow_iana };
        struct rsap_pick p;
        size_t n;

        assert_int_equal(rsap_pick(&f->wf, &o, &p), 0);
        n = p.n_ports;
        memcpy(ports, p.ports, n * sizeof(*ports));
        rsap_pick_clear(&p);
        return n;
}

static void pick_follows_every_rule(void **state)
{
        struct fixture *f = *state;
        struct rsap_lease_options o = { .low = 20102, .high = 20102, .ttl_us = DAY };
        struct rsap_target gone = { .kind = RSAP_TARGET_PORT, .port = 20103 };
        struct rsap_assignment *ended;
        struct rsap_lease l;
        uint16_t ports[8];
        size_t n;

        assign(f, "assigned", 20100, "Alice");
        file(f, "requested", 20101, TCP, "Alice");
        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), 0);
        rsap_lease_clear(&l);
        assign(f, "quarantined", 20103, "Alice");
        assert_int_equal(rsap_deassign(&f->wf, &gone, NULL, DAY, &ended, &n), 0);
        rsap_assignment_list_free(ended, n);
        listen_on(f, 20104, RSAP_PROTO_UDP, NULL, 0);
        assert_int_equal(pick(f, 20100, 20110, false, ports, 2), 2);
        assert_int_equal(ports[0], 20105);
        assert_int_equal(ports[1], 20106);
        /* IANA's, unless allowed; bad ports and the ephemeral range, always. */
        assert_int_equal(pick(f, 8443, 8443, false, ports, 1), 0);
        assert_int_equal(pick(f, 8443, 8443, true, ports, 1), 1);
        assert_int_equal(pick(f, 6566, 6566, true, ports, 1), 0);
        assert_int_equal(pick(f, 40000, 40010, true, ports, 1), 0);
        assert_true(rsap_port_browser_blocked(10080));
        assert_true(rsap_port_browser_blocked(0));
        assert_false(rsap_port_browser_blocked(8080));
}

/* Assignments on port..last/tcp straight into the tables, as an import of thousands would. */
static void raw_assign_run(struct fixture *f, int port, int last)
{
        char sql[1024];

        snprintf(sql, sizeof(sql),
                 "INSERT %s INTO services (id, name, assignee, contact, created_us)"
                 " VALUES (1000, 'run', 'Alice', 'a@example.com', 0)%s;"
                 " WITH RECURSIVE p(n) AS (SELECT %d UNION ALL SELECT n + 1 FROM p WHERE n < %d)"
                 " INSERT INTO assignments (service_id, port, protocol, description, assigned_us)"
                 " SELECT 1000, n, 'tcp', 'run', 0 FROM p;"
                 " INSERT INTO holdings (port, protocol, kind, assignment_id)"
                 " SELECT port, protocol, 'assignment', id FROM assignments"
                 " WHERE active AND port BETWEEN %d AND %d",
                 on_pg(f) ? "" : "OR IGNORE", on_pg(f) ? " ON CONFLICT DO NOTHING" : "", port,
                 last, port, last);
        assert_int_equal(raw_exec(f, sql), SQLITE_OK);
}

static struct rsap_pick pick_with(struct fixture *f, uint16_t low, uint16_t high,
                                  unsigned protocols, size_t count)
{
        struct rsap_pick_options o = { .low = low, .high = high, .protocols = protocols,
                                       .count = count, .allow_iana = true };
        struct rsap_pick p;

        assert_int_equal(rsap_pick(&f->wf, &o, &p), 0);
        return p;
}

/* A taken run across 64-port blocks: the first free ports after it, at its ends and in it. */
static void pick_walks_past_a_taken_run(void **state)
{
        struct fixture *f = *state;
        struct rsap_lease_options o = { .low = 20050, .high = 20251, .ttl_us = DAY };
        struct rsap_lease l;
        struct rsap_pick p;
        uint16_t ports[4];

        raw_assign_run(f, 20050, 20250); /* 20032..20095 is one block: 20049 shares it */
        assert_int_equal(pick(f, 20050, 20300, true, ports, 2), 2);
        assert_int_equal(ports[0], 20251);
        assert_int_equal(ports[1], 20252);
        assert_int_equal(pick(f, 20050, 20251, true, ports, 4), 1);
        assert_int_equal(ports[0], 20251);
        assert_int_equal(pick(f, 20049, 20250, true, ports, 4), 1);
        assert_int_equal(ports[0], 20049);
        p = pick_with(f, 20050, 20250, TCP | UDP, 1);
        assert_int_equal(p.n_ports, 0);
        assert_int_equal(p.excluded.local_assignment, 201);
        rsap_pick_clear(&p);
        /* The run is tcp's: udp is free all along it. */
        p = pick_with(f, 20050, 20250, UDP, 1);
        assert_int_equal(p.n_ports, 1);
        assert_int_equal(p.ports[0], 20050);
        assert_int_equal(p.excluded.local_assignment, 0);
        rsap_pick_clear(&p);
        /* A lease's draws find the one free port beside the run. */
        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), 0);
        assert_int_equal(l.port, 20251);
        rsap_lease_clear(&l);
        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), -EADDRNOTAVAIL);
}

/*
 * Leases are drawn evenly from the free ports, however they sit: here three
 * free ports, two at the range's start and one at its end, 61 taken between.
 * 900 draws: each port's count is Binomial(900, 1/3), mean 300, sd 14; all
 * three fall in 200..400 except with probability below 1e-10.  A draw
 * biased to where the free ports are dense gives the last one far fewer.
 */
static void leases_spread_evenly_over_sparse_free_ports(void **state)
{
        struct fixture *f = *state;
        struct rsap_lease_options o = { .low = 20100, .high = 20163, .ttl_us = DAY };
        struct rsap_target target = { .kind = RSAP_TARGET_PORT };
        unsigned counts[3] = { 0 };
        struct rsap_lease l;

        raw_assign_run(f, 20102, 20162);
        for (int i = 0; i < 900; i++) {
                assert_int_equal(rsap_lease_take(&f->wf, &o, &l), 0);
                assert_true(l.port == 20100 || l.port == 20101 || l.port == 20163);
                counts[l.port == 20163 ? 2 : l.port - 20100]++;
                target.port = l.port;
                rsap_lease_clear(&l);
                assert_int_equal(rsap_lease_release(&f->wf, &target, &l), 0);
                rsap_lease_clear(&l);
        }
        for (int i = 0; i < 3; i++) {
                assert_true(counts[i] >= 200);
                assert_true(counts[i] <= 400);
        }
}

/*
 * Each port is counted once, under the first rule that keeps it, where the
 * kinds overlap: a bad port assigned, an sctp assignment under a lease, a
 * lease and a request, a quarantine and a request.
 */
static void pick_counts_each_port_under_its_first_rule(void **state)
{
        struct fixture *f = *state;
        struct rsap_pick p;

        raw_assign_run(f, 6665, 6665);
        assert_int_equal(
                raw_exec(f, "INSERT INTO assignments (service_id, port, protocol, description,"
                            " assigned_us) VALUES (1000, 6670, 'sctp', 'd', 0);"
                            " INSERT INTO holdings (port, protocol, kind, assignment_id)"
                            " VALUES (6670, 'sctp', 'assignment', last_insert_rowid());"
                            " INSERT INTO assignments (service_id, port, protocol, description,"
                            " assigned_us, active, ended_us, quarantine_until_us) VALUES"
                            " (1000, 6672, 'tcp', 'd', 0, 0, 1, 1900000000000000),"
                            " (1000, 6673, 'tcp', 'd', 0, 0, 1, 1900000000000000),"
                            " (1000, 6674, 'tcp', 'd', 0, 0, 1, 1);"
                            " INSERT INTO requests (service, port, range_low, range_high,"
                            " protocols, description, assignee, contact, requested_by,"
                            " requested_us) VALUES"
                            " ('r1', 6671, 6671, 6671, 2, 'd', 'a', 'c', 'a', 0),"
                            " ('r2', 6672, 6672, 6672, 2, 'd', 'a', 'c', 'a', 0)"),
                SQLITE_OK);
        assert_int_equal(raw_exec(f, "INSERT INTO leases (id, port, expires_us, leased_us) VALUES"
                                     " (1, 6670, 1900000000000000, 0),"
                                     " (2, 6671, 1900000000000000, 0);"
                                     " INSERT INTO holdings (port, protocol, kind, lease_id)"
                                     " SELECT port, p.column1, 'lease', id FROM leases,"
                                     " (VALUES ('tcp'), ('udp')) p"),
                         SQLITE_OK);
        p = pick_with(f, 6665, 6674, TCP | UDP | (1u << RSAP_PROTO_SCTP), 4);
        assert_int_equal(p.n_ports, 1);
        assert_int_equal(p.ports[0], 6674); /* its quarantine has ended */
        assert_int_equal(p.excluded.browser, 5);
        assert_int_equal(p.excluded.local_assignment, 1);
        assert_int_equal(p.excluded.lease, 1);
        assert_int_equal(p.excluded.request, 1);
        assert_int_equal(p.excluded.quarantine, 1);
        rsap_pick_clear(&p);
        /* Without sctp, the lease is what keeps 6670. */
        p = pick_with(f, 6665, 6674, TCP, 4);
        assert_int_equal(p.excluded.local_assignment, 0);
        assert_int_equal(p.excluded.lease, 2);
        assert_int_equal(p.excluded.request, 1);
        assert_int_equal(p.excluded.quarantine, 1);
        rsap_pick_clear(&p);
}

/* ---- leases ----------------------------------------------------------------------------- */

static void leases_never_overlap(void **state)
{
        struct fixture *f = *state;
        struct rsap_lease_options o = { .low = 20100, .high = 20102, .ttl_us = DAY };
        struct rsap_target port = { .kind = RSAP_TARGET_PORT };
        struct rsap_lease l[4];
        bool seen[3] = { false, false, false };

        for (int i = 0; i < 3; i++) {
                assert_int_equal(rsap_lease_take(&f->wf, &o, &l[i]), 0);
                assert_in_range(l[i].port, 20100, 20102);
                assert_false(seen[l[i].port - 20100]);
                seen[l[i].port - 20100] = true;
        }
        assert_int_equal(rsap_lease_take(&f->wf, &o, &l[3]), -EADDRNOTAVAIL);
        port.port = l[1].port;
        assert_int_equal(rsap_lease_release(&f->wf, &port, &l[3]), 0);
        assert_false(l[3].active);
        rsap_lease_clear(&l[3]);
        assert_int_equal(rsap_lease_release(&f->wf, &port, &l[3]), -ENOENT);
        assert_int_equal(rsap_lease_take(&f->wf, &o, &l[3]), 0);
        assert_int_equal(l[3].port, l[1].port);
        for (int i = 0; i < 4; i++)
                rsap_lease_clear(&l[i]);
        expect_consistent(f);
}

static void leases_die_with_their_process(void **state)
{
        struct fixture *f = *state;
        struct rsap_lease_options o = { .low = 20100, .high = 20100, .ttl_us = DAY };
        struct rsap_lease l;
        pid_t child = fork();

        assert_true(child >= 0);
        if (child == 0) {
                pause();
                _exit(0);
        }
        o.pid = child;
        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), 0);
        rsap_lease_clear(&l);
        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), -EADDRNOTAVAIL);
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        o.pid = getpid();
        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), 0);
        rsap_lease_clear(&l);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM events WHERE action = 'expire'"
                                      " AND reason LIKE 'its process % ended'"),
                         1);
        /* A pid the kernel gave to another process: the start time differs. */
        assert_int_equal(raw_exec(f, "UPDATE leases SET pid_start = pid_start + 1 WHERE active"),
                         SQLITE_OK);
        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), 0);
        rsap_lease_clear(&l);
        assert_int_equal(rsap_process_start_time(child, &(uint64_t){ 0 }), -ESRCH);
        expect_consistent(f);
}

/* ---- hosts ---------------------------------------------------------------------------------- */

/*
 * The store again, as the host named host would open it.  $RSAP_HOST is
 * read once per process (rsap/host.h): one process plays several hosts
 * with rsap_store_set_host(), as it pins the clock.
 */
static void reopen_as(struct fixture *f, const char *host)
{
        rsap_store_close(f->store);
        assert_int_equal(rsap_store_open(f->path, RSAP_STORE_WRITE, 0, &f->store), 0);
        rsap_store_set_host(f->store, host);
        assert_string_equal(rsap_store_host(f->store), host);
        rsap_store_set_clock(f->store, T0);
        f->wf.store = f->store;
}

/*
 * A child that waits until bury() kills it, or until this process ends: a
 * test that fails before bury() must not leave it holding the test's output.
 */
static pid_t paused_child(void)
{
        pid_t child = fork();

        assert_true(child >= 0);
        if (child == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                pause();
                _exit(0);
        }
        return child;
}

static void bury(pid_t child)
{
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
}

static void other_hosts_leases_outlive_their_pid_here(void **state)
{
        struct fixture *f = *state;
        struct rsap_lease_options o = { .low = 20100, .high = 20100, .ttl_us = DAY };
        struct rsap_lease l;
        uint16_t ports[1];
        pid_t child = paused_child();

        reopen_as(f, "a");
        o.pid = child;
        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), 0);
        assert_non_null(l.host);
        assert_string_equal(l.host, "a");
        rsap_lease_clear(&l);
        bury(child);
        /* Host b sees no process `child`: the lease is a's, alive until its TTL. */
        reopen_as(f, "b");
        assign(f, "elsewhere", 20200, "Alice");
        assert_int_equal(pick(f, 20100, 20100, true, ports, 1), 0);
        o.pid = 0;
        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), -EADDRNOTAVAIL);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM leases WHERE active AND host = 'a'"), 1);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM events WHERE action = 'approve'"
                                      " AND host = 'b'"),
                         1);
        /* Host a knows its process ended: the next write there ends the lease. */
        reopen_as(f, "a");
        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), 0);
        rsap_lease_clear(&l);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM events WHERE action = 'expire'"
                                      " AND host = 'a' AND reason LIKE 'its process % ended'"),
                         1);
        expect_consistent(f);
}

static void other_hosts_leases_end_with_their_ttl(void **state)
{
        struct fixture *f = *state;
        struct rsap_lease_options o = { .low = 20100, .high = 20100, .ttl_us = DAY,
                                        .pid = getpid() };
        struct rsap_lease l;

        reopen_as(f, "b");
        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), 0);
        rsap_lease_clear(&l);
        reopen_as(f, "a");
        rsap_store_set_clock(f->store, T0 + DAY - 1);
        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), -EADDRNOTAVAIL);
        rsap_store_set_clock(f->store, T0 + DAY);
        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), 0);
        assert_string_equal(l.host, "a");
        rsap_lease_clear(&l);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM events WHERE action = 'expire'"
                                      " AND host = 'a' AND reason LIKE 'its TTL ran out%'"),
                         1);
        expect_consistent(f);
}

static void take_one_lease(struct fixture *f, uint16_t port, int64_t ttl_us, pid_t pid)
{
        struct rsap_lease_options o = { .low = port, .high = port, .ttl_us = ttl_us, .pid = pid };
        struct rsap_lease l;

        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), 0);
        rsap_lease_clear(&l);
}

/* The background reaper ends what a take would find dead, and only that. */
static void reaping_ends_only_dead_leases(void **state)
{
        struct fixture *f = *state;
        pid_t here = paused_child(), there = paused_child();
        size_t n = 99;

        reopen_as(f, "a");
        take_one_lease(f, 20100, DAY, here);      /* its holder dies */
        take_one_lease(f, 20101, DAY / 2, 0);     /* its TTL runs out */
        take_one_lease(f, 20102, 2 * DAY, getpid()); /* alive */
        reopen_as(f, "b");
        take_one_lease(f, 20103, 2 * DAY, there); /* b's holder: a cannot judge it */
        bury(here);
        bury(there);
        reopen_as(f, "a");
        rsap_store_set_clock(f->store, T0 + DAY / 2);
        assert_int_equal(rsap_leases_reap(&f->wf, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM leases WHERE active"), 2);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM leases WHERE active"
                                      " AND port IN (20102, 20103)"),
                         2);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM events WHERE action = 'expire'"
                                      " AND port IN (20100, 20101)"),
                         2);
        /* Nothing left to end: a second pass ends none and records nothing. */
        assert_int_equal(rsap_leases_reap(&f->wf, &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM events WHERE action = 'expire'"), 2);
        expect_consistent(f);
}

/* A dead holder's lease frees its port for pick and lease; a take ends only that one. */
static void dead_leases_free_their_port(void **state)
{
        struct fixture *f = *state;
        struct rsap_lease_options o = { .low = 20100, .high = 20100, .ttl_us = DAY };
        pid_t a = paused_child(), b = paused_child();
        struct rsap_lease l;
        uint16_t ports[1];

        o.pid = a;
        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), 0);
        rsap_lease_clear(&l);
        o = (struct rsap_lease_options){ .low = 20101, .high = 20101, .ttl_us = DAY, .pid = b };
        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), 0);
        rsap_lease_clear(&l);
        assert_int_equal(pick(f, 20100, 20101, true, ports, 1), 0);
        bury(a);
        bury(b);
        assert_int_equal(pick(f, 20100, 20100, true, ports, 1), 1);
        assert_int_equal(ports[0], 20100);
        o = (struct rsap_lease_options){ .low = 20100, .high = 20100, .ttl_us = DAY };
        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), 0);
        assert_int_equal(l.port, 20100);
        rsap_lease_clear(&l);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM events WHERE action = 'expire'"
                                      " AND lease_id = 1"),
                         1);
        /* 20101's dead lease is left to the write that meets it. */
        assert_int_equal(raw_count(f, "SELECT count(*) FROM leases WHERE active AND id = 2"), 1);
        expect_consistent(f);
}

static off_t file_size(const char *dir, const char *name)
{
        char path[256];
        struct stat st;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        return stat(path, &st) == 0 ? st.st_size : -1;
}

/*
 * The last connection's close leaves the log as it is (no checkpoint, no
 * unlink: the syncs were most of a lease's cost), while the schema a
 * connection makes goes into the file itself at once.
 */
static void closing_keeps_the_log(void **state)
{
        struct fixture *f = *state;
        struct rsap_lease_options o = { .low = 20100, .high = 20100, .ttl_us = DAY };
        struct rsap_lease l;
        char copy[160];
        void *data = NULL;
        size_t size = 0;
        sqlite3 *db;
        sqlite3_stmt *stmt;

        SQLITE_ONLY();
        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), 0);
        rsap_lease_clear(&l);
        rsap_store_close(f->store);
        f->store = NULL;
        assert_true(file_size(f->dir, "registry.db-wal") > 0);
        /* The file alone, without its log: the schema is there, the lease not yet. */
        snprintf(copy, sizeof(copy), "%s/other.db", f->dir);
        assert_int_equal(rsap_read_regular_file(f->path, 1 << 24, &data, &size), 0);
        assert_int_equal(rsap_file_replace(copy, data, size, 0600), 0);
        free(data);
        assert_int_equal(sqlite3_open(copy, &db), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM leases", -1, &stmt, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(stmt, 0), 0);
        sqlite3_finalize(stmt);
        sqlite3_close(db);
        reopen_as(f, "a");
        assert_int_equal(raw_count(f, "SELECT count(*) FROM leases WHERE active"), 1);
        /* Past 1 MiB, the close checkpoints the log and empties it: 40 leases, some 2.8 MB. */
        o = (struct rsap_lease_options){ .low = 20200, .high = 20299, .ttl_us = DAY };
        for (int i = 0; i < 40; i++) {
                assert_int_equal(rsap_lease_take(&f->wf, &o, &l), 0);
                rsap_lease_clear(&l);
        }
        assert_true(file_size(f->dir, "registry.db-wal") > 1024 * 1024);
        rsap_store_close(f->store);
        f->store = NULL;
        assert_int_equal(file_size(f->dir, "registry.db-wal"), 0);
        reopen_as(f, "a");
        assert_int_equal(raw_count(f, "SELECT count(*) FROM leases WHERE active"), 41);
}

static void history_names_each_events_host(void **state)
{
        struct fixture *f = *state;
        struct rsap_target target = { .kind = RSAP_TARGET_PORT, .port = 20300 };
        struct rsap_history h;
        json_t *json;

        reopen_as(f, "a");
        int64_t id = file(f, "hosted", 20300, TCP, "Alice");

        reopen_as(f, "b");
        assert_int_equal(approve(f, id), 0);
        assert_int_equal(rsap_history(f->store, &target, &h), 0);
        assert_int_equal(h.n_events, 2);
        assert_string_equal(h.events[0].host, "a");
        assert_string_equal(h.events[1].host, "b");
        json = rsap_history_to_json(&h);
        assert_string_equal(json_string_value(json_object_get(
                                    json_array_get(json_object_get(json, "events"), 1), "host")),
                            "b");
        json_decref(json);
        rsap_history_clear(&h);
}

/* The fixture's moment: its leases were taken a few seconds before, for a day. */
#define SCHEMA1_NOW_US (1796143600LL * 1000000)

static void schema1_databases_migrate(void **state)
{
        struct fixture *f = *state;
        struct rsap_target lease = { .kind = RSAP_TARGET_LEASE, .id = 1 };
        struct rsap_history h;
        void *sql = NULL;
        size_t size;
        sqlite3 *db;

        SQLITE_ONLY();
        rsap_store_close(f->store);
        f->store = NULL;
        snprintf(f->path, sizeof(f->path), "%s/other.db", f->dir);
        assert_int_equal(rsap_read_regular_file(SCHEMA1_SQL, 1 << 20, &sql, &size), 0);
        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        free(sql);
        assert_int_equal(rsap_store_open(f->path, RSAP_STORE_READ, 0, &f->store), -ESTALE);
        reopen_as(f, "b");
        rsap_store_set_clock(f->store, SCHEMA1_NOW_US);
        assert_int_equal(rsap_store_schema_version(f->store), RSAP_STORE_SCHEMA_VERSION);
        expect_consistent(f);
        /* Migration 4: the consistency rules' indexes replace the narrower ones. */
        assert_int_equal(raw_count(f, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
                                      " AND name IN ('events_request_action',"
                                      " 'events_assignment_made', 'events_lease_made',"
                                      " 'assignments_quarantine')"),
                         4);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM sqlite_master WHERE name IN"
                                      " ('events_request', 'events_assignment', 'events_lease')"),
                         0);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM events WHERE host IS NOT NULL"), 0);
        assert_int_equal(rsap_history(f->store, &lease, &h), 0);
        assert_int_equal(h.n_events, 1);
        assert_null(h.events[0].host);
        rsap_history_clear(&h);
        /* Migration 3 summed up the assignment's holding (20400/tcp: block 318, bit 48). */
        assert_int_equal(raw_count(f, "SELECT bits FROM held_bits WHERE protocol = 'tcp'"
                                      " AND block = 318"),
                         1LL << 48);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM held_bits"), 1);
        /* A lease of no known host could only be this host's: its dead process ends it. */
        assert_int_equal(approve(f, 2), 0);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM leases WHERE active"), 0);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM events WHERE action = 'expire'"
                                      " AND lease_id = 1 AND host = 'b'"),
                         1);
        expect_consistent(f);
}

/* ---- store URIs ----------------------------------------------------------------------------- */

static void store_uris_pick_the_backend(void **state)
{
        struct fixture *f = *state;
        struct rsap_store *other = NULL;
        struct rsap_request r;
        char uri[600];

        SQLITE_ONLY();
        assert_int_equal(rsap_store_uri_check(f->path), 0);
        assert_int_equal(rsap_store_uri_check("registry.db"), 0);
        assert_int_equal(rsap_store_uri_check("./a:b.db"), 0);
        assert_int_equal(rsap_store_uri_check("postgresql://db.example/rsap"), 0);
        assert_int_equal(rsap_store_uri_check("POSTGRES://db.example/rsap"), 0);
        assert_int_equal(rsap_store_uri_check("mysql://db.example/rsap"), -EPFNOSUPPORT);
        assert_int_equal(rsap_store_uri_check("a:b.db"), -EPFNOSUPPORT);
        assert_int_equal(rsap_store_uri_check("sqlite:"), -EPFNOSUPPORT);
        assert_int_equal(rsap_store_uri_check(""), -EPFNOSUPPORT);
        assert_string_equal(rsap_store_uri_file("sqlite:/x/y.db"), "/x/y.db");
        assert_string_equal(rsap_store_uri_file("/x/y.db"), "/x/y.db");
        assert_null(rsap_store_uri_file("postgres://x/y"));
        /* No server there (a socket directory that does not exist): nothing leaves the host. */
        assert_int_equal(rsap_store_open("postgres:///rsap?host=/nonexistent-rsap-pg",
                                         RSAP_STORE_WRITE, 0, &other), -ECONNREFUSED);
        assert_null(other);
        /* sqlite:PATH is the file PATH: what one wrote, the other reads. */
        file(f, "by-path", 20500, TCP, "Alice");
        snprintf(uri, sizeof(uri), "sqlite:%s", f->path);
        assert_int_equal(rsap_store_open(uri, RSAP_STORE_READ, 0, &other), 0);
        assert_string_equal(rsap_store_path(other), f->path);
        assert_int_equal(rsap_store_file_schema_version(uri), RSAP_STORE_SCHEMA_VERSION);
        assert_int_equal(rsap_request_get(other, 1, &r), 0);
        assert_string_equal(r.service, "by-path");
        rsap_request_clear(&r);
        rsap_store_close(other);
}

/* ---- kernel-reserve ------------------------------------------------------------------------ */

static void kernel_reserve_keeps_what_is_there(void **state)
{
        struct fixture *f = *state;
        struct rsap_kernel_reserve k;
        struct rsap_port_set set;
        char path[128], text[64];
        FILE *file_out;

        snprintf(path, sizeof(path), "%s/reserved", f->dir);
        file_out = fopen(path, "w");
        assert_non_null(file_out);
        fputs("8080,9000-9002\n", file_out);
        fclose(file_out);
        assign(f, "reserved-one", 20100, "Alice");
        assert_int_equal(approve_with(f, file(f, "inside", 9001, TCP, "Alice"), true, false), 0);
        assert_int_equal(rsap_kernel_reserve_plan(f->store, path, &k), 0);
        assert_string_equal(k.current, "8080,9000-9002");
        assert_string_equal(k.merged, "8080,9000-9002,20100");
        assert_int_equal(k.n_assigned, 2);
        assert_int_equal(k.n_added, 1);
        assert_int_equal(rsap_kernel_reserve_apply(&k, path), 0);
        rsap_kernel_reserve_clear(&k);
        assert_int_equal(rsap_kernel_reserve_plan(f->store, path, &k), 0);
        assert_string_equal(k.current, "8080,9000-9002,20100");
        assert_int_equal(k.n_added, 0);
        rsap_kernel_reserve_clear(&k);
        assert_int_equal(rsap_port_set_parse("1,3-5,65535", &set), 0);
        assert_int_equal(rsap_port_set_count(&set), 5);
        assert_int_equal(rsap_port_set_format(&set, text, sizeof(text)), 0);
        assert_string_equal(text, "1,3-5,65535");
        assert_int_equal(rsap_port_set_parse("5-3", &set), -EINVAL);
        assert_int_equal(rsap_port_set_parse("70000", &set), -EINVAL);
        assert_int_equal(rsap_port_set_parse("1;2", &set), -EINVAL);
}

/* ---- audit ------------------------------------------------------------------------------ */

static const struct rsap_finding *finding(const struct rsap_audit *a, enum rsap_finding_kind kind,
                                          uint16_t port)
{
        for (size_t i = 0; i < a->n_findings; i++)
                if (a->findings[i].kind == kind && a->findings[i].port == port)
                        return &a->findings[i];
        return NULL;
}

static void audit_finds_three_kinds(void **state)
{
        struct fixture *f = *state;
        const struct rsap_finding *x;
        struct rsap_audit a;

        assign(f, "good", 20100, "Alice");
        assign(f, "other", 20101, "Bob");
        assign(f, "silent", 20102, "Bob");
        listen_on(f, 22, RSAP_PROTO_TCP, "sshd", 10);      /* IANA's ssh: registered */
        listen_on(f, 20100, RSAP_PROTO_TCP, "good", 11);   /* its own port */
        listen_on(f, 20101, RSAP_PROTO_TCP, "good", 11);   /* another service's */
        listen_on(f, 20150, RSAP_PROTO_TCP, "nginx", 12);  /* nobody's */
        listen_on(f, 40000, RSAP_PROTO_UDP, "resolver", 13); /* a client socket */
        assert_int_equal(rsap_audit(&f->wf, &a), 0);
        assert_int_equal(a.n_findings, 3);
        x = finding(&a, RSAP_FINDING_WRONG_SERVICE, 20101);
        assert_non_null(x);
        assert_string_equal(x->message, "20101/tcp is assigned here to other, but good (pid 11), "
                                        "a service registered here, listens on it");
        x = finding(&a, RSAP_FINDING_UNREGISTERED, 20150);
        assert_non_null(x);
        assert_string_equal(x->message, "nginx (pid 12) listens on 20150/tcp, a port neither "
                                        "IANA nor the local registry assigns");
        x = finding(&a, RSAP_FINDING_NOT_LISTENING, 20102);
        assert_non_null(x);
        assert_string_equal(x->message, "20102/tcp is assigned to silent (assignment 3), but "
                                        "nothing listens on it here");
        assert_int_equal(a.n_listeners, 4);
        assert_int_equal(a.n_assignments, 3);
        rsap_audit_clear(&a);
}

/* rsapd reads the facts under its store lock and compares them after: the
 * comparison must need nothing of the store, here closed in between. */
static void audit_compares_without_the_store(void **state)
{
        struct fixture *f = *state;
        struct rsap_audit_facts *facts = NULL;
        struct rsap_audit a;

        assign(f, "good", 20100, "Alice");
        assign(f, "silent", 20102, "Bob");
        listen_on(f, 20100, RSAP_PROTO_TCP, "good", 11);
        listen_on(f, 20150, RSAP_PROTO_TCP, "nginx", 12);
        assert_int_equal(rsap_audit_read(f->store, &facts), 0);
        rsap_store_close(f->store);
        f->store = NULL;
        assert_int_equal(rsap_audit_check(facts, f->iana, &f->host, &a), 0);
        assert_int_equal(a.n_findings, 2);
        assert_non_null(finding(&a, RSAP_FINDING_UNREGISTERED, 20150));
        assert_non_null(finding(&a, RSAP_FINDING_NOT_LISTENING, 20102));
        assert_int_equal(a.n_assignments, 2);
        rsap_audit_clear(&a);
        rsap_audit_facts_free(facts);
}

/*
 * The audit on a host with thousands of sockets against a brute-force
 * oracle: every rule of audit.c done again the slow way (each listener pair
 * against every assignment, every socket and every service name), findings
 * compared one by one, in order.
 */
#define ORACLE_SOCKETS 3000
#define ORACLE_ASSIGNMENTS 600

struct oracle_held {
        uint16_t port;
        enum rsap_proto proto;
        int64_t id;
        const char *service;
};

struct oracle {
        const struct rsap_listen_list *list;
        const struct rsap_host *host;
        const struct rsap_iana *iana;
        struct oracle_held *held;
        size_t n_held;
        char **lines;
        size_t n_lines;
        size_t n_listeners, n_assignments;
};

static void oracle_add(struct oracle *o, enum rsap_finding_kind kind, uint16_t port,
                       enum rsap_proto proto, const char *service, int64_t id,
                       const struct rsap_listen_owner *owner, const char *message)
{
        char line[600], who[64] = "-";

        if (owner)
                snprintf(who, sizeof(who), "%s (pid %d)", owner->command, (int)owner->pid);
        snprintf(line, sizeof(line), "%s %u/%s %s %lld %s: %s", rsap_finding_kind_name(kind),
                 port, rsap_proto_name(proto), service ? service : "-", (long long)id, who,
                 message);
        o->lines = realloc(o->lines, (o->n_lines + 1) * sizeof(*o->lines));
        assert_non_null(o->lines);
        o->lines[o->n_lines] = strdup(line);
        assert_non_null(o->lines[o->n_lines++]);
}

static bool oracle_is_service(const struct oracle *o, const char *command)
{
        for (size_t i = 0; i < o->n_held; i++)
                if (strcasecmp(o->held[i].service, command) == 0)
                        return true;
        return false;
}

static const struct rsap_listen_owner *oracle_service_owner(const struct oracle *o, uint16_t port,
                                                            enum rsap_proto proto, bool any)
{
        for (size_t i = 0; i < o->list->count; i++) {
                const struct rsap_listen_socket *s = &o->list->sockets[i];

                if (s->port != port || s->proto != proto)
                        continue;
                for (size_t k = 0; k < s->n_owners; k++)
                        if (any || oracle_is_service(o, s->owners[k].command))
                                return &s->owners[k];
        }
        return NULL;
}

static void oracle_wrong_service(struct oracle *o, uint16_t port, enum rsap_proto proto,
                                 const char *holder, const char *by_whom, int64_t id)
{
        const struct rsap_listen_owner *svc = oracle_service_owner(o, port, proto, false);
        char message[320];

        if (!svc || !holder || strcasecmp(svc->command, holder) == 0)
                return;
        snprintf(message, sizeof(message),
                 "%u/%s is assigned %s to %s, but %s (pid %d), a service registered here, "
                 "listens on it",
                 port, rsap_proto_name(proto), by_whom, holder, svc->command, (int)svc->pid);
        oracle_add(o, RSAP_FINDING_WRONG_SERVICE, port, proto, holder, id, svc, message);
}

static void oracle_listener(struct oracle *o, uint16_t port, enum rsap_proto proto)
{
        const struct rsap_listen_owner *owner;
        char message[320], who[64];

        for (size_t i = 0; i < o->n_held; i++)
                if (o->held[i].port == port && o->held[i].proto == proto) {
                        oracle_wrong_service(o, port, proto, o->held[i].service, "here",
                                             o->held[i].id);
                        return;
                }
        if (rsap_iana_port_status(o->iana, port, proto) == RSAP_STATUS_ASSIGNED) {
                oracle_wrong_service(o, port, proto, rsap_iana_service_name(o->iana, port, proto),
                                     "by IANA", 0);
                return;
        }
        owner = oracle_service_owner(o, port, proto, false);
        if (!owner)
                owner = oracle_service_owner(o, port, proto, true);
        if (owner)
                snprintf(who, sizeof(who), "%s (pid %d)", owner->command, (int)owner->pid);
        else
                snprintf(who, sizeof(who), "a process this user cannot see");
        snprintf(message, sizeof(message),
                 "%s listens on %u/%s, a port neither IANA nor the local registry assigns", who,
                 port, rsap_proto_name(proto));
        oracle_add(o, RSAP_FINDING_UNREGISTERED, port, proto, NULL, 0, owner, message);
}

static void oracle_run(struct oracle *o)
{
        for (size_t i = 0; i < o->list->count; i++) {
                const struct rsap_listen_socket *s = &o->list->sockets[i];
                bool seen = false;

                for (size_t j = 0; j < i; j++)
                        seen |= o->list->sockets[j].port == s->port &&
                                o->list->sockets[j].proto == s->proto;
                if (seen || (s->proto == RSAP_PROTO_UDP && s->port >= o->host->ephemeral_low &&
                             s->port <= o->host->ephemeral_high))
                        continue;
                o->n_listeners++;
                oracle_listener(o, s->port, s->proto);
        }
        for (size_t i = 0; i < o->n_held; i++) {
                const struct oracle_held *h = &o->held[i];
                bool listening = false;
                char message[320];

                o->n_assignments++;
                for (size_t j = 0; j < o->list->count; j++)
                        listening |= o->list->sockets[j].port == h->port &&
                                     o->list->sockets[j].proto == h->proto;
                if (listening)
                        continue;
                snprintf(message, sizeof(message),
                         "%u/%s is assigned to %s (assignment %lld), but nothing listens on it "
                         "here",
                         h->port, rsap_proto_name(h->proto), h->service, (long long)h->id);
                oracle_add(o, RSAP_FINDING_NOT_LISTENING, h->port, h->proto, h->service, h->id,
                           NULL, message);
        }
}

static int oracle_socket_order(const void *a, const void *b)
{
        const struct rsap_listen_socket *x = a, *y = b;

        if (x->proto != y->proto)
                return x->proto < y->proto ? -1 : 1;
        if (x->port != y->port)
                return x->port < y->port ? -1 : 1;
        return memcmp(x->addr, y->addr, sizeof(x->addr));
}

/* The order of the store's holdings: by port, then protocol by name. */
static int oracle_held_order(const void *a, const void *b)
{
        const struct oracle_held *x = a, *y = b;

        if (x->port != y->port)
                return x->port < y->port ? -1 : 1;
        return strcmp(rsap_proto_name(x->proto), rsap_proto_name(y->proto));
}

/* ORACLE_ASSIGNMENTS services svc0.. on distinct ports of 20000-20999, tcp or udp. */
static void oracle_import(struct fixture *f)
{
        struct rsap_import_result result = { 0 };
        size_t size = 0;
        char *csv = NULL;
        FILE *out = open_memstream(&csv, &size);

        assert_non_null(out);
        fputs("service,port,protocol,assignee,contact,description\n", out);
        for (int i = 0; i < ORACLE_ASSIGNMENTS; i++)
                fprintf(out, "svc%d,%d,%s,Team %d,t@example.com,a service\n", i,
                        20000 + (i * 7) % 1000, i % 3 ? "tcp" : "udp", i % 9);
        assert_int_equal(fclose(out), 0);
        assert_int_equal(rsap_local_import(&f->wf, csv, size, "oracle.csv", true, &result), 0);
        assert_true(result.imported > ORACLE_ASSIGNMENTS / 2);
        rsap_import_result_clear(&result);
        free(csv);
}

static void oracle_read_held(struct fixture *f, struct oracle *o, struct rsap_local_list *local)
{
        assert_int_equal(rsap_local_for_range(f->store, 0, 65535, local), 0);
        o->held = calloc(local->n_entries, sizeof(*o->held));
        assert_non_null(o->held);
        for (size_t i = 0; i < local->n_entries; i++) {
                const struct rsap_local_entry *e = &local->entries[i];

                assert_int_equal(e->kind, RSAP_LOCAL_ASSIGNMENT);
                o->held[o->n_held++] = (struct oracle_held){
                        (uint16_t)e->port, e->protocols == TCP ? RSAP_PROTO_TCP : RSAP_PROTO_UDP,
                        e->id, e->service };
        }
        qsort(o->held, o->n_held, sizeof(*o->held), oracle_held_order);
}

/* Sockets on 19990-21009 (some assigned, some not), on IANA's ports and in the
 * ephemeral range; owners that are local services (in any case), others, none. */
static void oracle_sockets(struct rsap_listen_socket *sockets, struct rsap_listen_owner *owners)
{
        static const char *const others[] = { "nginx", "sshd", "postgres", "Svc3", "SVC12" };

        srand(1647);
        for (size_t i = 0; i < ORACLE_SOCKETS; i++) {
                struct rsap_listen_socket *s = &sockets[i];
                int pick = rand() % 10;

                memset(s, 0, sizeof(*s));
                s->proto = rand() % 2 ? RSAP_PROTO_TCP : RSAP_PROTO_UDP;
                s->port = (uint16_t)(pick == 0 ? 1 + rand() % 1024
                                     : pick == 1 ? 40000 + rand() % 100
                                                 : 19990 + rand() % 1020);
                s->family = AF_INET;
                s->addr[0] = 127;
                s->addr[3] = (unsigned char)(i % 251);
                owners[i].pid = (pid_t)(100 + i);
                if (rand() % 4 == 0)
                        snprintf(owners[i].command, sizeof(owners[i].command), "%s",
                                 others[rand() % (int)(sizeof(others) / sizeof(others[0]))]);
                else
                        snprintf(owners[i].command, sizeof(owners[i].command), "%s%d",
                                 rand() % 2 ? "svc" : "SVC", rand() % (ORACLE_ASSIGNMENTS + 50));
                s->owners = &owners[i];
                s->n_owners = rand() % 8 ? 1 : 0;
        }
        qsort(sockets, ORACLE_SOCKETS, sizeof(*sockets), oracle_socket_order);
}

static void audit_agrees_with_brute_force(void **state)
{
        struct fixture *f = *state;
        struct rsap_listen_socket *sockets = calloc(ORACLE_SOCKETS, sizeof(*sockets));
        struct rsap_listen_owner *owners = calloc(ORACLE_SOCKETS, sizeof(*owners));
        struct rsap_listen_list list = { .sockets = sockets, .count = ORACLE_SOCKETS };
        struct rsap_local_list local = { 0 };
        struct oracle o = { .list = &list, .host = &f->host, .iana = f->iana };
        struct rsap_audit a;

        assert_non_null(sockets);
        assert_non_null(owners);
        oracle_import(f);
        oracle_sockets(sockets, owners);
        f->host.listeners = &list;
        oracle_read_held(f, &o, &local);
        oracle_run(&o);
        assert_int_equal(rsap_audit(&f->wf, &a), 0);
        assert_true(o.n_lines > 100);
        assert_int_equal(a.n_findings, o.n_lines);
        for (size_t i = 0; i < a.n_findings; i++) {
                const struct rsap_finding *x = &a.findings[i];
                char line[600];

                snprintf(line, sizeof(line), "%s %u/%s %s %lld %s: %s",
                         rsap_finding_kind_name(x->kind), x->port, rsap_proto_name(x->proto),
                         x->service ? x->service : "-", (long long)x->assignment_id,
                         x->listener ? x->listener : "-", x->message);
                assert_string_equal(line, o.lines[i]);
                free(o.lines[i]);
        }
        assert_int_equal(a.n_listeners, o.n_listeners);
        assert_int_equal(a.n_assignments, o.n_assignments);
        rsap_audit_clear(&a);
        rsap_local_list_clear(&local);
        free(o.lines);
        free(o.held);
        free(sockets);
        free(owners);
        f->host.listeners = NULL;
}

/* ---- counts ------------------------------------------------------------------------------ */

struct counts_seen {
        size_t assignments, requests, leases; /* the most each count reached */
};

/* rsap_local_counts() against what the home page counted before: every entry of every port. */
static void expect_counts_agree(struct fixture *f, struct counts_seen *seen)
{
        struct rsap_local_list list = { 0 };
        struct rsap_local_counts c;
        size_t n[3] = { 0 };

        assert_int_equal(rsap_local_for_range(f->store, 0, 65535, &list), 0);
        for (size_t i = 0; i < list.n_entries; i++)
                n[list.entries[i].kind]++;
        rsap_local_list_clear(&list);
        assert_int_equal(rsap_local_counts(f->store, &c), 0);
        assert_int_equal(c.assignments, n[RSAP_LOCAL_ASSIGNMENT]);
        assert_int_equal(c.requests, n[RSAP_LOCAL_REQUEST]);
        assert_int_equal(c.leases, n[RSAP_LOCAL_LEASE]);
        seen->assignments = c.assignments > seen->assignments ? c.assignments : seen->assignments;
        seen->requests = c.requests > seen->requests ? c.requests : seen->requests;
        seen->leases = c.leases > seen->leases ? c.leases : seen->leases;
}

static void lease_for(struct fixture *f, uint16_t port, int64_t ttl_us, pid_t pid)
{
        struct rsap_lease_options o = { .low = port, .high = port, .ttl_us = ttl_us, .pid = pid };
        struct rsap_lease l;

        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), 0);
        rsap_lease_clear(&l);
}

static void end_assignment(struct fixture *f, uint16_t port, int64_t quarantine_us, bool revoke)
{
        struct rsap_target t = { .kind = RSAP_TARGET_PORT, .port = port };
        struct rsap_assignment *ended;
        size_t n;

        assert_int_equal(revoke ? rsap_revoke(&f->wf, &t, "misused", quarantine_us, &ended, &n)
                                : rsap_deassign(&f->wf, &t, "retired", quarantine_us, &ended, &n),
                         0);
        rsap_assignment_list_free(ended, n);
}

static void counts_agree_with_the_entries_after_every_write(void **state)
{
        static const char csv[] = "service,port,protocol,assignee,contact,description\n"
                                  "moved,20400,tcp,Dan,d@example.com,from elsewhere\n";
        struct fixture *f = *state;
        struct rsap_target port = { .kind = RSAP_TARGET_PORT, .port = 20100 };
        struct rsap_import_result result = { 0 };
        struct counts_seen seen = { 0 };
        struct rsap_transfer t;
        struct rsap_request r;
        struct rsap_lease l;
        pid_t child = paused_child();

        expect_counts_agree(f, &seen);
        assign(f, "kept", 20100, "Alice");
        assign(f, "quarantined", 20101, "Bob");
        assign(f, "freed", 20102, "Bob");
        assign(f, "revoked", 20103, "Bob");
        assert_int_equal(approve(f, file(f, "both", 20104, TCP | UDP, "Carol")), 0);
        expect_counts_agree(f, &seen);
        file(f, "pending", 20200, TCP, "Alice");
        file(f, "anywhere", -1, TCP, "Alice");     /* no port: not counted */
        assert_int_equal(rsap_reject(&f->wf, file(f, "refused", 20201, TCP, "Bob"), "no", &r), 0);
        rsap_request_clear(&r);
        expect_counts_agree(f, &seen);
        end_assignment(f, 20101, DAY, false);     /* quarantined: still counted */
        end_assignment(f, 20102, 0, false);       /* free at once */
        end_assignment(f, 20103, 2 * DAY, true);
        expect_counts_agree(f, &seen);
        assert_int_equal(rsap_transfer(&f->wf, &port, "Erin", NULL, "reorg", &t), 0);
        rsap_transfer_clear(&t);
        assert_int_equal(rsap_local_import(&f->wf, csv, strlen(csv), "a.csv", false, &result), 0);
        rsap_import_result_clear(&result);
        expect_counts_agree(f, &seen);
        lease_for(f, 20300, 60LL * 1000000, 0);
        lease_for(f, 20301, DAY, getpid());
        lease_for(f, 20302, DAY, child);
        lease_for(f, 20303, DAY, 0);
        expect_counts_agree(f, &seen);
        bury(child);                               /* its lease dies with it, unreaped */
        port.port = 20303;
        assert_int_equal(rsap_lease_release(&f->wf, &port, &l), 0);
        rsap_lease_clear(&l);
        expect_counts_agree(f, &seen);
        rsap_store_set_clock(f->store, T0 + DAY + 1); /* a TTL and a quarantine ran out */
        expect_counts_agree(f, &seen);
        rsap_store_set_clock(f->store, T0 + 3 * DAY);
        expect_counts_agree(f, &seen);
        /* Every kind was there to count, and went. */
        assert_true(seen.assignments >= 6 && seen.requests >= 1 && seen.leases >= 4);
}

/* ---- import and export ---------------------------------------------------------------- */

static char *export_text(struct rsap_store *store, enum rsap_export_format format, size_t *size)
{
        char *text = NULL;
        FILE *out = open_memstream(&text, size);

        assert_non_null(out);
        assert_int_equal(rsap_local_export(store, format, out), 0);
        fclose(out);
        return text;
}

static void expect_export(struct fixture *f, enum rsap_export_format format, const char *path)
{
        void *want = NULL;
        size_t want_size, size;
        char *text = export_text(f->store, format, &size);

        assert_int_equal(rsap_read_regular_file(path, 1 << 20, &want, &want_size), 0);
        assert_int_equal(size, want_size);
        assert_memory_equal(text, want, size);
        free(want);
        free(text);
}

/* An export of a registry with every kind of field, against the bytes the
 * export made when it still read the whole registry first (tests/fixtures). */
static void exports_match_their_fixtures(void **state)
{
        static const char csv[] =
                "service,port,protocol,assignee,contact,description,reference,note,assigned\n"
                "quoted,20300,udp,\"Ops, Inc.\",ops@example.com,\"says \"\"hi\"\", twice\","
                "RFC 6335,\"two\nlines\",2026-03-01T10:00:00.000Z\n"
                "unicode,20301,tcp,Zoë,z@example.com,ünïcode; and #,,,"
                "2026-03-02T10:00:00.000Z\n";
        static const struct {
                enum rsap_export_format format;
                const char *file;
        } formats[] = {
                { RSAP_EXPORT_JSON, FIXTURES_DIR "/local-export.json" },
                { RSAP_EXPORT_CSV, FIXTURES_DIR "/local-export.csv" },
                { RSAP_EXPORT_SERVICES, FIXTURES_DIR "/local-export.services" },
        };
        struct fixture *f = *state;
        struct rsap_target gone = { .kind = RSAP_TARGET_PORT, .port = 20102 };
        struct rsap_import_result result = { 0 };
        struct rsap_assignment *ended;
        size_t n;

        expect_export(f, RSAP_EXPORT_JSON, FIXTURES_DIR "/local-export-empty.json");
        assign(f, "web-admin", 20200, "Alice");
        assign(f, "gone", 20102, "Bob");
        assert_int_equal(approve(f, file(f, "both", 20100, TCP | UDP, "Carol")), 0);
        assert_int_equal(rsap_deassign(&f->wf, &gone, "retired", DAY, &ended, &n), 0);
        rsap_assignment_list_free(ended, n);
        assert_int_equal(rsap_local_import(&f->wf, csv, strlen(csv), "a.csv", false, &result), 0);
        assert_int_equal(result.imported, 2);
        rsap_import_result_clear(&result);
        for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
                expect_export(f, formats[i].format, formats[i].file);
}

static void import_never_overwrites(void **state)
{
        struct fixture *f = *state;
        struct rsap_import_result result;
        struct rsap_store *other;
        char path[128];
        size_t size;
        char *json, *csv;

        assign(f, "moved", 20100, "Alice");
        assign(f, "clash", 20101, "Alice");
        json = export_text(f->store, RSAP_EXPORT_JSON, &size);
        csv = export_text(f->store, RSAP_EXPORT_CSV, &(size_t){ 0 });
        snprintf(path, sizeof(path), "%s/other.db", f->dir);
        assert_int_equal(rsap_store_open(path, RSAP_STORE_WRITE, 0, &other), 0);
        rsap_store_close(f->store);
        f->store = other;
        f->wf.store = other;
        memcpy(f->path, path, sizeof(path));
        rsap_store_set_clock(other, T0);
        assign(f, "resident", 20101, "Bob");

        assert_int_equal(rsap_local_import(&f->wf, json, size, "a.json", false, &result), -EEXIST);
        assert_int_equal(result.n_conflicts, 1);
        assert_string_equal(result.conflicts[0].message,
                            "20101/tcp is assigned here to resident (assignment 1); the file gives "
                            "it to clash");
        rsap_import_result_clear(&result);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM assignments"), 1);

        assert_int_equal(rsap_local_import(&f->wf, json, size, "a.json", true, &result), 0);
        assert_int_equal(result.imported, 1);
        assert_int_equal(result.n_conflicts, 1);
        rsap_import_result_clear(&result);
        assert_int_equal(rsap_local_import(&f->wf, csv, strlen(csv), "a.csv", true, &result), 0);
        assert_int_equal(result.imported, 0);
        assert_int_equal(result.unchanged, 1);
        rsap_import_result_clear(&result);
        assert_int_equal(rsap_local_import(&f->wf, "{\"kind\": 1}", 11, "bad", false, &result),
                         -EBADMSG);
        assert_non_null(strstr(result.error, "not an export of a local registry"));
        rsap_import_result_clear(&result);
        assert_int_equal(rsap_local_import(&f->wf, "service,port\nx,1\n", 18, "bad", false,
                                           &result),
                         -EBADMSG);
        assert_string_equal(result.error, "the CSV has no 'protocol' column");
        rsap_import_result_clear(&result);
        expect_consistent(f);
        free(json);
        free(csv);
}

/* The one-line error rsap_local_import() gives text that is not a clean export. */
static const char *import_error(struct fixture *f, const char *text)
{
        static struct rsap_import_result result;

        rsap_import_result_clear(&result);
        assert_int_equal(rsap_local_import(&f->wf, text, strlen(text), "bad", false, &result),
                         -EBADMSG);
        assert_int_equal(result.imported, 0);
        return result.error;
}

#define ENTRY(fields) "{\"kind\": \"local-registry\", \"assignments\": [{" fields "}]}"
#define GOOD "\"service\": \"svc\", \"port\": 20100, \"protocol\": \"tcp\", " \
             "\"assignee\": \"Alice\", \"contact\": \"a@example.com\", \"description\": \"d\""

static void import_refuses_malformed_entries(void **state)
{
        struct fixture *f = *state;

        /* jansson words the rest of the line */
        assert_int_equal(strncmp(import_error(f, "{\"kind\": "), "JSON line 1: ", 13), 0);
        assert_string_equal(import_error(f, "{\"kind\": \"local-registry\", \"assignments\": [1]}"),
                            "assignment 1 is not an object");
        assert_string_equal(import_error(f, ENTRY(GOOD ", \"port\": \"80\"")),
                            "assignment 1: the port is a number from 0 to 65535");
        assert_string_equal(import_error(f, ENTRY(GOOD ", \"port\": -1")),
                            "assignment 1: the port is a number from 0 to 65535");
        assert_string_equal(import_error(f, ENTRY(GOOD ", \"protocol\": \"ipx\"")),
                            "assignment 1: the protocol is tcp, udp, sctp or dccp");
        assert_string_equal(import_error(f, ENTRY(GOOD ", \"service\": \"a\\u001b[2Jb\"")),
                            "assignment 1: the service name holds a control character");
        assert_string_equal(import_error(f, ENTRY(GOOD ", \"service\": \"-dash-\"")),
                            "assignment 1: '-dash-' is not a well-formed service name");
        assert_string_equal(import_error(f, ENTRY(GOOD ", \"service\": \"\"")),
                            "assignment 1: '' is not a well-formed service name");
        assert_string_equal(import_error(f, ENTRY(GOOD ", \"contact\": \"\"")),
                            "assignment 1: service, port, protocol, assignee, contact and "
                            "description are required");
        assert_string_equal(import_error(f, ENTRY(GOOD ", \"note\": \"line\\u0007\"")),
                            "assignment 1: a field holds a control character or a byte that is "
                            "not UTF-8 (only a note may hold line breaks)");
        assert_string_equal(import_error(f, ENTRY(GOOD ", \"reference\": \"two\\nlines\"")),
                            "assignment 1: a field holds a control character or a byte that is "
                            "not UTF-8 (only a note may hold line breaks)");
        /* The CSV form: the same rules, counted in lines. */
        assert_string_equal(import_error(f, ""), "the file is empty");
        assert_string_equal(import_error(f, "service,port,protocol,assignee,contact,description\n"
                                            "svc,http,tcp,Alice,a,d\n"),
                            "line 2: the port is a number from 0 to 65535");
        assert_string_equal(import_error(f, "service,port,protocol,assignee,contact,description\n"
                                            "svc,20100,tcp,Alice,,d\n"),
                            "line 2: service, port, protocol, assignee, contact and description "
                            "are required");
        assert_int_equal(raw_count(f, "SELECT count(*) FROM assignments"), 0);
        /* A note may hold line breaks; this one goes in. */
        {
                const char *ok = ENTRY(GOOD ", \"note\": \"two\\nlines\"");
                struct rsap_import_result result;

                assert_int_equal(rsap_local_import(&f->wf, ok, strlen(ok), "ok", false, &result), 0);
                assert_int_equal(result.imported, 1);
                rsap_import_result_clear(&result);
        }
}

/* Besides another holder, a lease, a quarantine and a name held by someone else
 * are conflicts: reported, and nothing imported unless asked to skip them. */
static void import_conflicts_with_what_is_here(void **state)
{
        struct fixture *f = *state;
        struct rsap_lease_options o = { .low = 20110, .high = 20110, .ttl_us = 3600LL * 1000000,
                                        .name = "ci" };
        struct rsap_target gone = { .kind = RSAP_TARGET_NAME, .name = "gone" };
        struct rsap_import_result result;
        struct rsap_assignment *ended;
        struct rsap_lease l;
        size_t n;
        const char *text =
                "{\"kind\": \"local-registry\", \"assignments\": ["
                "{\"service\": \"leased\", \"port\": 20110, \"protocol\": \"tcp\","
                " \"assignee\": \"Bob\", \"contact\": \"b\", \"description\": \"d\"},"
                "{\"service\": \"later\", \"port\": 20111, \"protocol\": \"tcp\","
                " \"assignee\": \"Bob\", \"contact\": \"b\", \"description\": \"d\"},"
                "{\"service\": \"ALICES\", \"port\": 20112, \"protocol\": \"udp\","
                " \"assignee\": \"Bob\", \"contact\": \"b\", \"description\": \"d\"},"
                "{\"service\": \"fresh\", \"port\": 20113, \"protocol\": \"sctp\","
                " \"assignee\": \"Bob\", \"contact\": \"b\", \"description\": \"d\"}]}";

        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), 0);
        rsap_lease_clear(&l);
        assign(f, "gone", 20111, "Alice");
        assert_int_equal(rsap_deassign(&f->wf, &gone, "retired", 30 * DAY, &ended, &n), 0);
        rsap_assignment_list_free(ended, n);
        assign(f, "alices", 20120, "Alice");

        assert_int_equal(rsap_local_import(&f->wf, text, strlen(text), "b.json", false, &result),
                         -EEXIST);
        assert_int_equal(result.n_conflicts, 3);
        assert_int_equal(result.imported, 0);
        assert_string_equal(result.conflicts[0].message, "20110/tcp is leased here (lease 1)");
        assert_string_equal(result.conflicts[1].message,
                            "20111/tcp is quarantined here until 2027-02-14T08:00:00.000Z");
        assert_string_equal(result.conflicts[2].message,
                            "service name 'ALICES' is registered here to Alice; the file says Bob");
        rsap_import_result_clear(&result);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM assignments WHERE port = 20113"), 0);

        assert_int_equal(rsap_local_import(&f->wf, text, strlen(text), "b.json", true, &result), 0);
        assert_int_equal(result.n_conflicts, 3);
        assert_int_equal(result.imported, 1);
        rsap_import_result_clear(&result);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM assignments WHERE port = 20113 AND"
                                      " protocol = 'sctp' AND active"),
                         1);
        expect_consistent(f);
}

/* ---- opening ----------------------------------------------------------------------------- */

static void write_file(const char *path, const void *data, size_t size)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, size), (ssize_t)size);
        close(fd);
}

static void broken_databases_are_refused(void **state)
{
        struct fixture *f = *state;
        struct rsap_store *s = NULL;
        char path[128];
        struct stat st;

        SQLITE_ONLY();
        snprintf(path, sizeof(path), "%s/bad.db", f->dir);
        assert_int_equal(rsap_store_open(path, RSAP_STORE_READ, 0, &s), -ENOENT);
        assert_int_equal(access(path, F_OK), -1); /* reading never creates */
        write_file(path, "this is not a database, only some text that is long enough to fill a "
                         "header of one hundred bytes ........................",
                   120);
        assert_int_equal(rsap_store_open(path, RSAP_STORE_READ, 0, &s), -EBADMSG);
        assert_int_equal(rsap_store_open(path, RSAP_STORE_WRITE, 0, &s), -EBADMSG);
        /* A real database cut in half. */
        for (int i = 0; i < 40; i++)
                assign(f, i % 2 ? "odd-one" : "even-one", 20100 + i, "Alice");
        assert_int_equal(raw_exec(f, "PRAGMA wal_checkpoint(TRUNCATE)"), SQLITE_OK);
        assert_int_equal(stat(f->path, &st), 0);
        assert_int_equal(truncate(f->path, st.st_size / 2), 0);
        assert_int_equal(rsap_store_open(f->path, RSAP_STORE_READ, 0, &s), -EBADMSG);
        assert_int_equal(rsap_store_open(f->path, RSAP_STORE_WRITE, 0, &s), -EBADMSG);
        /* A schema from the future. */
        unlink(path);
        assert_int_equal(rsap_store_open(path, RSAP_STORE_WRITE, 0, &s), 0);
        rsap_store_close(s);
        {
                sqlite3 *db;

                assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
                assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL),
                                 SQLITE_OK);
                sqlite3_close(db);
        }
        assert_int_equal(rsap_store_open(path, RSAP_STORE_READ, 0, &s), -EPROTONOSUPPORT);
        assert_int_equal(rsap_store_open(path, RSAP_STORE_WRITE, 0, &s), -EPROTONOSUPPORT);
        assert_null(s);
}

static void a_held_lock_times_out_cleanly(void **state)
{
        struct fixture *f = *state;
        struct rsap_store *impatient;
        int64_t id;
        sqlite3 *db;

        SQLITE_ONLY();
        db = raw(f);
        assert_int_equal(rsap_store_open(f->path, RSAP_STORE_WRITE, 50, &impatient), 0);
        assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
        f->wf.store = impatient;
        {
                struct rsap_request_input in = input("blocked", 20100, TCP, "Alice");

                assert_int_equal(rsap_request_file(&f->wf, &in, &id), -EBUSY);
        }
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(db);
        f->wf.store = f->store;
        rsap_store_close(impatient);
        assert_int_equal(raw_count(f, "SELECT count(*) FROM requests"), 0);
}

/* ---- parsing --------------------------------------------------------------------------------- */

static void durations_and_targets_parse_strictly(void **state)
{
        struct rsap_target t;
        int64_t us;

        assert_int_equal(rsap_duration_parse("30s", &us), 0);
        assert_true(us == 30LL * 1000000);
        assert_int_equal(rsap_duration_parse("10m", &us), 0);
        assert_true(us == 600LL * 1000000);
        assert_int_equal(rsap_duration_parse("2h", &us), 0);
        assert_int_equal(rsap_duration_parse("1d", &us), 0);
        assert_true(us == DAY);
        assert_int_equal(rsap_duration_parse("0s", &us), 0);
        assert_int_equal(rsap_duration_parse("", &us), -EINVAL);
        assert_int_equal(rsap_duration_parse("10", &us), -EINVAL);
        assert_int_equal(rsap_duration_parse("1.5h", &us), -EINVAL);
        assert_int_equal(rsap_duration_parse("5x", &us), -EINVAL);
        assert_int_equal(rsap_duration_parse("-1s", &us), -EINVAL);
        assert_int_equal(rsap_duration_parse("99999999d", &us), -ERANGE);

        assert_int_equal(rsap_target_parse("8443", &t), 0);
        assert_int_equal(t.kind, RSAP_TARGET_PORT);
        assert_int_equal(t.port, 8443);
        assert_int_equal(rsap_target_parse("8443/udp", &t), 0);
        assert_int_equal(t.proto, RSAP_PROTO_UDP);
        assert_int_equal(rsap_target_parse("request:12", &t), 0);
        assert_int_equal(t.kind, RSAP_TARGET_REQUEST);
        assert_true(t.id == 12);
        assert_int_equal(rsap_target_parse("assignment:5", &t), 0);
        assert_int_equal(t.kind, RSAP_TARGET_ASSIGNMENT);
        assert_int_equal(rsap_target_parse("lease:3", &t), 0);
        assert_int_equal(t.kind, RSAP_TARGET_LEASE);
        assert_int_equal(rsap_target_parse("r12", &t), 0);
        assert_int_equal(t.kind, RSAP_TARGET_NAME);
        assert_int_equal(rsap_target_parse("3com-tsmux", &t), 0);
        assert_int_equal(t.kind, RSAP_TARGET_NAME);
        assert_int_equal(rsap_target_parse("8443/xyz", &t), -EINVAL);
        assert_int_equal(rsap_target_parse("1-2", &t), -EINVAL);
        assert_int_equal(rsap_target_parse("lease:x", &t), -EINVAL);
        assert_int_equal(rsap_target_parse("70000", &t), -ERANGE);
}

static void lease_named(struct fixture *f, uint16_t port, const char *name)
{
        struct rsap_lease_options o = { .low = port, .high = port, .ttl_us = 60LL * 1000000,
                                        .name = name };
        struct rsap_lease l;

        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), 0);
        assert_int_equal(l.port, port);
        rsap_lease_clear(&l);
}

/* "20100 assignment, 20200 lease": the ports rsap run would allow, in order. */
static void want_service_ports(struct fixture *f, const char *service, const char *want)
{
        static const char *const kinds[] = { "assignment", "request", "lease" };
        struct rsap_service_ports sp;
        char got[256] = "";

        assert_int_equal(rsap_service_tcp_ports(f->store, service, &sp), 0);
        for (size_t i = 0; i < sp.n_ports; i++)
                snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%u %s",
                         i ? ", " : "", sp.ports[i].port, kinds[sp.ports[i].kind]);
        if (strcmp(got, want) != 0)
                fail_msg("ports of %s: '%s', wanted '%s'", service, got, want);
        rsap_service_ports_clear(&sp);
}

static void service_ports_are_tcp_assignments_and_named_leases(void **state)
{
        struct fixture *f = *state;
        struct rsap_target name = { .kind = RSAP_TARGET_NAME, .name = "runweb" };
        struct rsap_service_ports sp;
        struct rsap_assignment *ended = NULL;
        size_t n = 0;

        assign(f, "runweb", 20110, "Alice");
        assert_int_equal(approve(f, file(f, "runweb", 20101, UDP, "Alice")), 0);
        assign(f, "runother", 20102, "Bob");
        lease_named(f, 20200, "RunWeb");
        lease_named(f, 20201, "ci run");
        want_service_ports(f, "RUNWEB", "20110 assignment, 20200 lease");
        assert_int_equal(rsap_service_tcp_ports(f->store, "RUNWEB", &sp), 0);
        assert_string_equal(sp.service, "runweb");
        rsap_service_ports_clear(&sp);
        want_service_ports(f, "runother", "20102 assignment");
        /* A lease taken for a service the registry does not have yet. */
        want_service_ports(f, "ci run", "20201 lease");
        assert_int_equal(rsap_service_tcp_ports(f->store, "nosuch", &sp), -ENOENT);
        assert_int_equal(rsap_service_tcp_ports(f->store, "", &sp), -EINVAL);
        /* Past the TTL the lease holds nothing; a returned port is not the service's. */
        rsap_store_set_clock(f->store, T0 + 61LL * 1000000);
        want_service_ports(f, "runweb", "20110 assignment");
        assert_int_equal(rsap_service_tcp_ports(f->store, "ci run", &sp), -ENOENT);
        assert_int_equal(rsap_deassign(&f->wf, &name, "retired", DAY, &ended, &n), 0);
        rsap_assignment_list_free(ended, n);
        want_service_ports(f, "runweb", "");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
                T(name_syntax_follows_rfc6335),
                T(iana_names_need_same_service),
                T(local_names_belong_to_one_assignee),
                T(competing_name_requests_warn),
                T(dynamic_ports_are_never_assigned),
                T(system_ports_need_allow_system),
                T(iana_assignments_need_over_iana_and_are_remembered),
                T(iana_reserved_ports_need_over_iana),
                T(local_assignments_are_refused),
                T(leases_hold_ports_until_they_end),
                T(released_ports_are_quarantined),
                T(competing_port_requests_warn),
                T(listeners_warn_without_refusing),
                T(ephemeral_and_browser_ports_warn),
                T(any_port_takes_the_first_free_one),
                T(any_port_ranges_start_at_the_user_ports),
                T(the_library_refuses_bad_arguments),
                T(requests_are_decided_once),
                T(deassign_revoke_and_transfer_follow_rfc6335),
                T(transfer_names_one_service),
                T(history_keeps_every_event),
                T(events_are_append_only),
                T(the_database_refuses_double_holders),
                T(the_database_refuses_impossible_leases_and_requests),
                T(consistency_check_finds_tampering),
                T(consistency_check_finds_a_changed_lease),
                T(consistency_check_finds_a_moved_lease),
                T(consistency_check_finds_changed_held_bits),
                T(pick_follows_every_rule),
                T(pick_walks_past_a_taken_run),
                T(pick_counts_each_port_under_its_first_rule),
                T(leases_spread_evenly_over_sparse_free_ports),
                T(dead_leases_free_their_port),
                T(leases_never_overlap),
                T(leases_die_with_their_process),
                T(other_hosts_leases_outlive_their_pid_here),
                T(other_hosts_leases_end_with_their_ttl),
                T(reaping_ends_only_dead_leases),
                T(closing_keeps_the_log),
                T(history_names_each_events_host),
                T(schema1_databases_migrate),
                T(store_uris_pick_the_backend),
                T(kernel_reserve_keeps_what_is_there),
                T(audit_finds_three_kinds),
                T(audit_compares_without_the_store),
                T(audit_agrees_with_brute_force),
                T(counts_agree_with_the_entries_after_every_write),
                T(import_never_overwrites),
                T(exports_match_their_fixtures),
                T(import_refuses_malformed_entries),
                T(import_conflicts_with_what_is_here),
                T(broken_databases_are_refused),
                T(a_held_lock_times_out_cleanly),
                T(service_ports_are_tcp_assignments_and_named_leases),
                cmocka_unit_test(durations_and_targets_parse_strictly),
#undef T
        };

        pg_server = getenv("RSAP_TEST_STORE");
        return cmocka_run_group_tests(tests, NULL, NULL);
}
