/* SPDX-License-Identifier: MIT */
/*
 * The storage backends' contract (lib/local/backend.h), each case written
 * once against the interface and run against every backend of the table:
 * a transaction not committed leaves nothing, one holder per port/protocol,
 * append-only events, quarantines, leases by holder and host, history in
 * the order recorded, and a consistency check that finds a state row
 * changed behind the store's back.  A backend in the table without a way
 * here to make a fresh store of it fails the suite: it must add one.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include <rsap/findings.h>
#include <rsap/iana.h>
#include <rsap/listen_history.h>
#include <rsap/proc.h>
#include <rsap/store.h>
#include <rsap/workflow.h>

#include "store_internal.h"

#define T0 (1800000000LL * 1000000) /* pinned */
#define DAY (86400LL * 1000000)

/* How to make a fresh, empty store of one backend, and remove it again. */
struct backend_fixture {
        const char *scheme;
        int (*make)(char *uri, size_t size, char *dir, size_t dir_size);
        void (*remove)(const char *dir);
};

static int sqlite_make(char *uri, size_t size, char *dir, size_t dir_size)
{
        snprintf(dir, dir_size, "/tmp/rsap-contract-XXXXXX");
        if (!mkdtemp(dir))
                return -errno;
        snprintf(uri, size, "sqlite:%s/registry.db", dir);
        return 0;
}

static void sqlite_remove(const char *dir)
{
        static const char *const suffixes[] = { "", "-wal", "-shm", "-journal", "-ports" };
        char path[256];

        for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
                snprintf(path, sizeof(path), "%s/registry.db%s", dir, suffixes[i]);
                unlink(path);
        }
        rmdir(dir);
}

/*
 * PostgreSQL: a schema of its own in the database RSAP_TEST_STORE names (a
 * server tests/registry/pg_server.sh started), reached through the URI's
 * search_path, and dropped after.  The schema's name is the test's own, so
 * the SQL made of it here takes no outside value.
 */
static int pg_admin(const char *verb, const char *schema, const char *tail)
{
        char sql[128];
        PGconn *db = PQconnectdb(getenv("RSAP_TEST_STORE"));
        PGresult *res;
        int r = -EIO;

        snprintf(sql, sizeof(sql), "%s SCHEMA %s%s", verb, schema, tail);
        if (PQstatus(db) == CONNECTION_OK) {
                res = PQexec(db, sql);
                r = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -EIO;
                if (r < 0)
                        fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(res));
                PQclear(res);
        }
        PQfinish(db);
        return r;
}

static int pg_make(char *uri, size_t size, char *dir, size_t dir_size)
{
        static unsigned n;

        snprintf(dir, dir_size, "contract_%ld_%u", (long)getpid(), n++);
        snprintf(uri, size, "%s&options=-csearch_path%%3D%s", getenv("RSAP_TEST_STORE"), dir);
        return pg_admin("CREATE", dir, "");
}

static void pg_remove(const char *dir)
{
        (void)pg_admin("DROP", dir, " CASCADE");
}

static const struct backend_fixture fixtures[] = {
        { "sqlite", sqlite_make, sqlite_remove },
        { "postgresql", pg_make, pg_remove },
};

struct fixture {
        const struct backend_fixture *backend;
        char dir[64], uri[512];
        struct rsap_store *store;
};

static const struct backend_fixture *current; /* the backend the group runs against */

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        f->backend = current;
        assert_int_equal(current->make(f->uri, sizeof(f->uri), f->dir, sizeof(f->dir)), 0);
        assert_int_equal(rsap_store_open(f->uri, RSAP_STORE_WRITE, 0, &f->store), 0);
        assert_string_equal(f->store->backend->scheme, current->scheme);
        rsap_store_set_clock(f->store, T0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        rsap_store_close(f->store);
        f->backend->remove(f->dir);
        free(f);
        return 0;
}

/* ---- helpers --------------------------------------------------------------------------- */

static int64_t service(struct fixture *f, const char *name)
{
        struct store_service s = { .name = (char *)name, .assignee = "Alice",
                                   .contact = "alice@example.com", .created_us = T0 };
        int64_t id = 0;

        assert_int_equal(STORE_OP(f->store, service_insert)(f->store, &s, &id), 0);
        return id;
}

static int assign(struct fixture *f, int64_t service_id, uint16_t port, enum rsap_proto proto,
                  int64_t *id_out)
{
        struct assignment_fields a = { .service_id = service_id, .port = port, .proto = proto,
                                       .description = "contract" };

        return STORE_OP(f->store, assignment_insert)(f->store, &a, id_out);
}

static int lease(struct fixture *f, uint16_t port, pid_t pid, const char *host, int64_t *id_out)
{
        struct rsap_lease l = { .port = port, .name = "run", .pid = pid, .pid_start = 4242,
                                .host = (char *)host, .leased_us = T0,
                                .expires_us = T0 + DAY, .active = true };

        return STORE_OP(f->store, lease_insert)(f->store, &l, id_out);
}

static int event(struct fixture *f, const char *action, int port, const char *reason)
{
        struct store_event ev = { .actor = "tester", .action = action, .port = port,
                                  .reason = reason };

        return store_append_event(f->store, &ev, NULL);
}

static int count_holding(const struct store_holding *h, void *arg)
{
        (void)h;
        (*(size_t *)arg)++;
        return 0;
}

static size_t holdings_on(struct fixture *f, uint16_t port)
{
        size_t n = 0;

        assert_int_equal(STORE_OP(f->store, holdings)(f->store, port, port, RSAP_PROTO_NONE,
                                                      true, count_holding, &n),
                         0);
        return n;
}

static size_t events_on(struct fixture *f, uint16_t port)
{
        struct rsap_target t = { .kind = RSAP_TARGET_PORT, .port = port };
        struct rsap_history h;
        size_t n;

        assert_int_equal(rsap_history(f->store, &t, &h), 0);
        n = h.n_events;
        rsap_history_clear(&h);
        return n;
}

/* Inside a walk of the holdings of a port, the same walk again: a backend
 * that reuses what it prepared must not hand out the statement in use. */
struct nested_walk {
        struct fixture *f;
        size_t outer, inner;
};

static int walk_again(const struct store_holding *h, void *arg)
{
        struct nested_walk *w = arg;

        w->outer++;
        return STORE_OP(w->f->store, holdings)(w->f->store, h->port, h->port, RSAP_PROTO_NONE,
                                                true, count_holding, &w->inner);
}

/* ---- the cases ----------------------------------------------------------------------------- */

static void uncommitted_transactions_leave_nothing(void **state)
{
        struct fixture *f = *state;
        struct store_tx tx = { 0 };
        struct rsap_request *list;
        size_t n;
        int64_t id;

        assert_int_equal(store_tx_begin(f->store, &tx), 0);
        assert_int_equal(assign(f, service(f, "gone"), 20100, RSAP_PROTO_TCP, &id), 0);
        assert_int_equal(lease(f, 20101, 0, "a", &id), 0);
        assert_int_equal(event(f, "approve", 20100, NULL), 0);
        store_tx_end(&tx); /* not committed */
        assert_int_equal(holdings_on(f, 20100) + holdings_on(f, 20101), 0);
        assert_int_equal(events_on(f, 20100), 0);
        assert_int_equal(STORE_OP(f->store, request_list)(f->store, false, &list, &n), 0);
        assert_int_equal(n, 0);
        free(list);
        /* The same, committed, stays. */
        assert_int_equal(store_tx_begin(f->store, &tx), 0);
        assert_int_equal(assign(f, service(f, "kept"), 20100, RSAP_PROTO_TCP, &id), 0);
        assert_int_equal(store_tx_commit(&tx), 0);
        store_tx_end(&tx);
        assert_int_equal(holdings_on(f, 20100), 1);
}

/* What rsapd's cached answers rely on: another connection's commit moves the
 * data version; reading, or a transaction left uncommitted, does not. */
static void another_connections_commit_changes_the_data_version(void **state)
{
        struct fixture *f = *state;
        struct rsap_store *other = NULL;
        struct store_tx tx = { 0 };
        int64_t before, after, id;

        assert_int_equal(rsap_store_open(f->uri, RSAP_STORE_WRITE, 0, &other), 0);
        assert_int_equal(rsap_store_data_version(f->store, &before), 0);
        assert_int_equal(holdings_on(f, 20100), 0);
        assert_int_equal(store_tx_begin(other, &tx), 0);
        assert_int_equal(STORE_OP(other, lease_insert)(other, &(struct rsap_lease){
                .port = 20100, .name = "run", .host = "a", .leased_us = T0,
                .expires_us = T0 + DAY, .active = true }, &id), 0);
        store_tx_end(&tx); /* not committed */
        assert_int_equal(rsap_store_data_version(f->store, &after), 0);
        assert_int_equal(after, before);
        assert_int_equal(store_tx_begin(other, &tx), 0);
        assert_int_equal(STORE_OP(other, lease_insert)(other, &(struct rsap_lease){
                .port = 20100, .name = "run", .host = "a", .leased_us = T0,
                .expires_us = T0 + DAY, .active = true }, &id), 0);
        assert_int_equal(store_tx_commit(&tx), 0);
        store_tx_end(&tx);
        assert_int_equal(rsap_store_data_version(f->store, &after), 0);
        assert_true(after != before);
        rsap_store_close(other);
}

static void one_holder_per_port_and_protocol(void **state)
{
        struct fixture *f = *state;
        int64_t s = service(f, "held"), id;

        assert_int_equal(assign(f, s, 20100, RSAP_PROTO_TCP, &id), 0);
        assert_int_equal(assign(f, s, 20100, RSAP_PROTO_TCP, &id), -EEXIST);
        assert_int_equal(lease(f, 20100, 0, NULL, &id), -EEXIST);
        assert_int_equal(assign(f, s, 20100, RSAP_PROTO_UDP, &id), 0);
        assert_int_equal(lease(f, 20101, 0, NULL, &id), 0);
        assert_int_equal(assign(f, s, 20101, RSAP_PROTO_UDP, &id), -EEXIST);
        assert_int_equal(lease(f, 20101, 0, NULL, &id), -EEXIST);
        assert_int_equal(holdings_on(f, 20100), 2);
        assert_int_equal(holdings_on(f, 20101), 2);
}

/* A refusal inside a transaction is an answer: the rest of it goes on and commits. */
static void a_refused_write_undoes_only_itself(void **state)
{
        _cleanup_(store_tx_end) struct store_tx tx = { 0 };
        struct fixture *f = *state;
        int64_t s = service(f, "kept"), id;

        assert_int_equal(store_tx_begin(f->store, &tx), 0);
        assert_int_equal(assign(f, s, 20100, RSAP_PROTO_TCP, &id), 0);
        assert_int_equal(assign(f, s, 20100, RSAP_PROTO_TCP, &id), -EEXIST);
        assert_int_equal(assign(f, s, 20100, RSAP_PROTO_UDP, &id), 0);
        assert_int_equal(store_tx_commit(&tx), 0);
        assert_int_equal(holdings_on(f, 20100), 2);
}

static void one_service_per_name_whatever_its_case(void **state)
{
        struct fixture *f = *state;
        struct store_service s = { .name = "WEB", .assignee = "Bob", .contact = "b",
                                   .created_us = T0 };
        struct store_service found;
        int64_t id = 0;

        service(f, "web");
        assert_int_equal(STORE_OP(f->store, service_insert)(f->store, &s, &id), -EEXIST);
        assert_int_equal(STORE_OP(f->store, service_get)(f->store, "Web", &found), 0);
        assert_string_equal(found.name, "web");
        store_service_clear(&found);
}

static void a_question_asked_within_its_own_answer(void **state)
{
        struct fixture *f = *state;
        struct nested_walk w = { .f = f };
        int64_t s = service(f, "asked"), id;

        assert_int_equal(assign(f, s, 20100, RSAP_PROTO_TCP, &id), 0);
        assert_int_equal(assign(f, s, 20100, RSAP_PROTO_UDP, &id), 0);
        assert_int_equal(STORE_OP(f->store, holdings)(f->store, 20100, 20100, RSAP_PROTO_NONE,
                                                      true, walk_again, &w),
                         0);
        assert_int_equal(w.outer, 2);
        assert_int_equal(w.inner, 4);
        /* Asked many times over, one after the other, it answers the same. */
        for (int i = 0; i < 100; i++)
                assert_int_equal(holdings_on(f, 20100), 2);
}

static void events_are_append_only(void **state)
{
        struct fixture *f = *state;

        assert_int_equal(event(f, "lease", 20100, "first"), 0);
        assert_int_equal(STORE_OP(f->store, tamper)(f->store, STORE_TAMPER_EVENT_UPDATE),
                         -ENOTRECOVERABLE);
        assert_int_equal(STORE_OP(f->store, tamper)(f->store, STORE_TAMPER_EVENT_DELETE),
                         -ENOTRECOVERABLE);
        assert_int_equal(events_on(f, 20100), 1);
}

static int collect_quarantine(const struct store_quarantine *q, void *arg)
{
        *(struct store_quarantine *)arg = *q;
        return 0;
}

static void released_ports_are_quarantined(void **state)
{
        struct fixture *f = *state;
        struct store_quarantine q = { 0 };
        int64_t id;

        assert_int_equal(assign(f, service(f, "returned"), 20100, RSAP_PROTO_TCP, &id), 0);
        assert_int_equal(STORE_OP(f->store, assignment_end)(f->store, id, T0, T0 + DAY), 0);
        assert_int_equal(holdings_on(f, 20100), 0);
        assert_int_equal(STORE_OP(f->store, quarantines)(f->store, 20100, 20100, RSAP_PROTO_TCP,
                                                         T0 + DAY - 1, collect_quarantine, &q),
                         0);
        assert_int_equal(q.assignment_id, id);
        assert_int_equal(q.until_us, T0 + DAY);
        assert_int_equal(q.ended_us, T0);
        memset(&q, 0, sizeof(q));
        assert_int_equal(STORE_OP(f->store, quarantines)(f->store, 20100, 20100, RSAP_PROTO_TCP,
                                                         T0 + DAY, collect_quarantine, &q),
                         0);
        assert_int_equal(q.assignment_id, 0);
        /* The port is free for a new holder. */
        assert_int_equal(assign(f, service(f, "next"), 20100, RSAP_PROTO_TCP, &id), 0);
        assert_int_equal(holdings_on(f, 20100), 1);
}

struct walked {
        uint16_t last_port;
        size_t n;
};

static int count_walked(const struct rsap_assignment *a, void *arg)
{
        struct walked *w = arg;

        assert_true(a->active);
        assert_true(a->port >= w->last_port); /* by port */
        w->last_port = a->port;
        w->n++;
        return 0;
}

/* The walk visits what the list holds; the counts follow quarantines as time passes. */
static void assignments_walked_and_counted(void **state)
{
        struct fixture *f = *state;
        struct store_assignment_query q = { .all = true, .active_only = true, .by_port = true };
        struct store_counts c = { 0 };
        struct rsap_assignment *list;
        struct walked w = { 0 };
        size_t n;
        int64_t id;

        assert_int_equal(assign(f, service(f, "late"), 20300, RSAP_PROTO_TCP, &id), 0);
        assert_int_equal(assign(f, service(f, "early"), 20100, RSAP_PROTO_UDP, &id), 0);
        assert_int_equal(assign(f, service(f, "ended"), 20200, RSAP_PROTO_TCP, &id), 0);
        assert_int_equal(STORE_OP(f->store, assignment_end)(f->store, id, T0, T0 + DAY), 0);
        assert_int_equal(STORE_OP(f->store, assignments_walk)(f->store, &q, count_walked, &w),
                         0);
        assert_int_equal(w.n, 2);
        assert_int_equal(w.last_port, 20300);
        assert_int_equal(STORE_OP(f->store, assignments)(f->store, &q, &list, &n), 0);
        assert_int_equal(n, 2);
        rsap_assignment_list_free(list, n);
        assert_int_equal(STORE_OP(f->store, counts)(f->store, T0 + DAY - 1, &c), 0);
        assert_int_equal(c.assignments, 3);
        assert_int_equal(STORE_OP(f->store, counts)(f->store, T0 + DAY, &c), 0);
        assert_int_equal(c.assignments, 2);
        assert_int_equal(c.requests, 0);
}

static void leases_keep_their_holder_and_host(void **state)
{
        struct fixture *f = *state;
        struct store_lease_query active = { .all = true, .active_only = true };
        struct rsap_lease *list;
        size_t n;
        int64_t a, b;

        assert_int_equal(lease(f, 20100, 4321, "host-a", &a), 0);
        assert_int_equal(lease(f, 20101, 0, NULL, &b), 0);
        assert_int_equal(STORE_OP(f->store, leases)(f->store, &active, &list, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(list[0].id, a);
        assert_int_equal(list[0].pid, 4321);
        assert_int_equal(list[0].pid_start, 4242);
        assert_non_null(list[0].host);
        assert_string_equal(list[0].host, "host-a");
        assert_int_equal(list[1].pid, 0);
        assert_null(list[1].host);
        for (size_t i = 0; i < n; i++)
                rsap_lease_clear(&list[i]);
        free(list);
        assert_int_equal(STORE_OP(f->store, lease_end)(f->store, a, T0 + 1), 0);
        assert_int_equal(holdings_on(f, 20100), 0);
        assert_int_equal(STORE_OP(f->store, leases)(f->store, &active, &list, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(list[0].id, b);
        rsap_lease_clear(&list[0]);
        free(list);
}

/* What pick reads instead of every holding: the assigned ports of a range
 * on the protocols asked for, and the holdings of the active leases. */
static void pick_reads_assigned_ports_and_active_leases(void **state)
{
        struct fixture *f = *state;
        struct rsap_port_set *set = calloc(1, sizeof(*set));
        unsigned tcp = 1u << RSAP_PROTO_TCP, udp = 1u << RSAP_PROTO_UDP;
        int64_t s = service(f, "runs"), id, last = 0, l;
        size_t n = 0;

        assert_non_null(set);
        /* 20095-20225 on tcp: across two 64-port block boundaries (20096, 20160). */
        for (uint16_t port = 20095; port <= 20225; port++)
                assert_int_equal(assign(f, s, port, RSAP_PROTO_TCP, &last), 0);
        assert_int_equal(assign(f, s, 20300, RSAP_PROTO_UDP, &id), 0);
        assert_int_equal(STORE_OP(f->store, assigned_ports)(f->store, 20100, 20300, tcp, set), 0);
        assert_int_equal(rsap_port_set_count(set), 20225 - 20100 + 1);
        assert_false(rsap_port_set_has(set, 20099));
        assert_true(rsap_port_set_has(set, 20100));
        assert_true(rsap_port_set_has(set, 20225));
        assert_false(rsap_port_set_has(set, 20300));
        memset(set, 0, sizeof(*set));
        assert_int_equal(STORE_OP(f->store, assigned_ports)(f->store, 20100, 20300, udp, set), 0);
        assert_int_equal(rsap_port_set_count(set), 1);
        /* An ended assignment's port is no longer assigned (its quarantine is another question). */
        assert_int_equal(STORE_OP(f->store, assignment_end)(f->store, last, T0, T0), 0);
        memset(set, 0, sizeof(*set));
        assert_int_equal(STORE_OP(f->store, assigned_ports)(f->store, 20225, 20225, tcp, set), 0);
        assert_int_equal(rsap_port_set_count(set), 0);
        /* Leases are not assignments; their holdings come from the active leases. */
        assert_int_equal(lease(f, 20400, 0, NULL, &l), 0);
        memset(set, 0, sizeof(*set));
        assert_int_equal(STORE_OP(f->store, assigned_ports)(f->store, 20400, 20400, tcp | udp,
                                                            set),
                         0);
        assert_int_equal(rsap_port_set_count(set), 0);
        assert_int_equal(STORE_OP(f->store, lease_holdings)(f->store, 20000, 20500,
                                                            count_holding, &n),
                         0);
        assert_int_equal(n, 2);
        assert_int_equal(STORE_OP(f->store, lease_end)(f->store, l, T0 + 1), 0);
        n = 0;
        assert_int_equal(STORE_OP(f->store, lease_holdings)(f->store, 20000, 20500,
                                                            count_holding, &n),
                         0);
        assert_int_equal(n, 0);
        free(set);
}

static void history_keeps_the_order_of_recording(void **state)
{
        struct fixture *f = *state;
        struct rsap_target t = { .kind = RSAP_TARGET_PORT, .port = 20100 };
        static const char *const reasons[] = { "one", "two", "three" };
        struct rsap_history h;

        for (size_t i = 0; i < 3; i++) {
                rsap_store_set_clock(f->store, T0 + 10 - (int64_t)i); /* clocks may step back */
                assert_int_equal(event(f, "lease", 20100, reasons[i]), 0);
        }
        assert_int_equal(event(f, "lease", 20200, "elsewhere"), 0);
        assert_int_equal(rsap_history(f->store, &t, &h), 0);
        assert_int_equal(h.n_events, 3);
        for (size_t i = 0; i < 3; i++) {
                assert_string_equal(h.events[i].reason, reasons[i]);
                assert_non_null(h.events[i].host);
                assert_string_equal(h.events[i].host, rsap_store_host(f->store));
                if (i > 0)
                        assert_true(h.events[i].id > h.events[i - 1].id);
        }
        rsap_history_clear(&h);
}

static void the_check_finds_state_changed_behind_its_back(void **state)
{
        struct fixture *f = *state;
        struct rsap_iana *iana;
        struct rsap_workflow wf = { f->store, NULL, "tester", NULL };
        struct rsap_request_input in = {
                .service = "honest", .port = 20100, .protocols = 1u << RSAP_PROTO_TCP,
                .description = "d", .assignee = "Alice", .contact = "alice@example.com",
        };
        struct rsap_store_check_report report;
        struct rsap_approval approval;
        int64_t id;

        assert_int_equal(rsap_iana_open_builtin(&iana), 0);
        wf.iana = iana;
        assert_int_equal(rsap_request_file(&wf, &in, &id), 0);
        assert_int_equal(rsap_approve(&wf, id, NULL, NULL, &approval), 0);
        rsap_approval_clear(&approval);
        assert_int_equal(rsap_store_check(f->store, &report), 0);
        assert_int_equal(report.n_problems, 0);
        assert_int_equal(STORE_OP(f->store, tamper)(f->store, STORE_TAMPER_SERVICE_ASSIGNEE), 0);
        assert_int_equal(rsap_store_check(f->store, &report), 0);
        assert_int_equal(report.n_problems, 1);
        assert_non_null(strstr(report.problems[0], "service honest"));
        rsap_iana_free(iana);
}

/* ---- squatters: the judge reads the store, findings are kept in it -------------------- */

/* A socket on port/proto held by one process (pid, command), or by none (pid 0). */
struct one_socket {
        struct rsap_listen_socket sock;
        struct rsap_listen_owner owner;
};

static const struct rsap_listen_socket *socket_of(struct one_socket *s, uint16_t port,
                                                  enum rsap_proto proto, pid_t pid,
                                                  const char *command)
{
        memset(s, 0, sizeof(*s));
        s->sock = (struct rsap_listen_socket){ .proto = proto, .family = 2, .port = port };
        snprintf(s->sock.address, sizeof(s->sock.address), "127.0.0.1");
        if (pid > 0) {
                s->owner.pid = pid;
                snprintf(s->owner.command, sizeof(s->owner.command), "%s", command);
                s->sock.owners = &s->owner;
                s->sock.n_owners = 1;
        }
        return &s->sock;
}

static struct rsap_squat_verdict judged(struct rsap_squat_judge *judge,
                                        const struct rsap_iana *iana,
                                        const struct rsap_listen_socket *sock)
{
        struct rsap_squat_verdict v;

        assert_int_equal(rsap_squat_classify(judge, iana, NULL, sock, &v), 0);
        return v;
}

/* A port IANA assigns nothing to on tcp, found rather than assumed. */
static uint16_t port_iana_leaves(const struct rsap_iana *iana)
{
        for (uint16_t port = 40000; port < 49151; port++)
                if (!rsap_listen_port_registered(iana, port, RSAP_PROTO_TCP))
                        return port;
        fail_msg("IANA assigns every port of 40000-49150");
        return 0;
}

static void squatters_assigned_port(void **state)
{
        struct fixture *f = *state;
        _cleanup_(rsap_squat_judge_freep) struct rsap_squat_judge *judge = NULL;
        struct one_socket s;
        struct rsap_squat_verdict v;
        int64_t id;

        assert_int_equal(assign(f, service(f, "webadm"), 20443, RSAP_PROTO_TCP, &id), 0);
        assert_int_equal(rsap_squat_judge_read(f->store, &judge), 0);
        v = judged(judge, NULL, socket_of(&s, 20443, RSAP_PROTO_TCP, 812, "WebAdm"));
        assert_int_equal(v.kind, RSAP_SQUAT_NONE); /* its own service, whatever the case */
        v = judged(judge, NULL, socket_of(&s, 20443, RSAP_PROTO_TCP, 813, "nginx"));
        assert_int_equal(v.kind, RSAP_SQUAT_ASSIGNED_TO_OTHER);
        assert_string_equal(v.service, "webadm");
        assert_int_equal(v.assignment_id, id);
        assert_int_equal(v.lease_id, 0);
        /* The same port on udp is not assigned: nobody registered it. */
        v = judged(judge, NULL, socket_of(&s, 20443, RSAP_PROTO_UDP, 813, "nginx"));
        assert_int_equal(v.kind, RSAP_SQUAT_UNREGISTERED);
        /* No owner visible: nothing said of an assigned port. */
        v = judged(judge, NULL, socket_of(&s, 20443, RSAP_PROTO_TCP, 0, NULL));
        assert_int_equal(v.kind, RSAP_SQUAT_NONE);
}

static void squatters_leased_port(void **state)
{
        struct fixture *f = *state;
        _cleanup_(rsap_squat_judge_freep) struct rsap_squat_judge *judge = NULL;
        struct rsap_proc_stat me;
        struct rsap_lease l = { .port = 20500, .name = "ci-run", .pid = getpid(),
                                .leased_us = T0, .expires_us = T0 + DAY, .active = true };
        struct one_socket s;
        struct rsap_squat_verdict v;
        int64_t id;

        assert_int_equal(rsap_proc_stat(-1, getpid(), &me), 0);
        l.pid_start = me.start_time;
        assert_int_equal(STORE_OP(f->store, lease_insert)(f->store, &l, &id), 0);
        assert_int_equal(rsap_squat_judge_read(f->store, &judge), 0);
        v = judged(judge, NULL, socket_of(&s, 20500, RSAP_PROTO_TCP, getpid(), "anything"));
        assert_int_equal(v.kind, RSAP_SQUAT_NONE); /* the holder itself */
        v = judged(judge, NULL, socket_of(&s, 20500, RSAP_PROTO_UDP, 1, "ci-run"));
        assert_int_equal(v.kind, RSAP_SQUAT_NONE); /* the lease's name */
        /* pid 1 is no descendant of this process. */
        v = judged(judge, NULL, socket_of(&s, 20500, RSAP_PROTO_TCP, 1, "squatter"));
        assert_int_equal(v.kind, RSAP_SQUAT_LEASED_TO_OTHER);
        assert_int_equal(v.lease_id, id);
        assert_int_equal(v.assignment_id, 0);
        assert_string_equal(v.service, "ci-run");
}

static void squatters_unregistered_port(void **state)
{
        struct fixture *f = *state;
        _cleanup_(rsap_squat_judge_freep) struct rsap_squat_judge *judge = NULL;
        struct rsap_iana *iana = NULL;
        struct rsap_host host = { .have_ephemeral = true, .ephemeral_low = 32768,
                                  .ephemeral_high = 60999 };
        struct rsap_squat_verdict v;
        struct one_socket s;
        uint16_t free_port;

        assert_int_equal(rsap_iana_open_builtin(&iana), 0);
        free_port = port_iana_leaves(iana);
        assert_int_equal(rsap_squat_judge_read(f->store, &judge), 0);
        v = judged(judge, iana, socket_of(&s, free_port, RSAP_PROTO_TCP, 900, "daemon"));
        assert_int_equal(v.kind, RSAP_SQUAT_UNREGISTERED);
        assert_null(v.service);
        /* Seen by nobody: still nobody registered the port. */
        v = judged(judge, iana, socket_of(&s, free_port, RSAP_PROTO_TCP, 0, NULL));
        assert_int_equal(v.kind, RSAP_SQUAT_UNREGISTERED);
        /* IANA's port: not a squatter for this registry. */
        v = judged(judge, iana, socket_of(&s, 22, RSAP_PROTO_TCP, 900, "daemon"));
        assert_int_equal(v.kind, RSAP_SQUAT_NONE);
        /* A resolver's reply socket in the ephemeral range is a client's. */
        assert_int_equal(rsap_squat_classify(judge, iana, &host,
                                             socket_of(&s, 50001, RSAP_PROTO_UDP, 900, "dig"),
                                             &v),
                         0);
        assert_int_equal(v.kind, RSAP_SQUAT_NONE);
        rsap_iana_free(iana);
}

static void findings_are_recorded_and_resolved_once(void **state)
{
        struct fixture *f = *state;
        struct rsap_squat_verdict v = { .kind = RSAP_SQUAT_UNREGISTERED };
        struct rsap_findings_query by_port = { .port = 20600, .proto = RSAP_PROTO_TCP };
        struct rsap_findings_query open = { .port = -1, .open_only = true };
        struct rsap_listen_finding made, other, *list;
        struct one_socket s;
        size_t n;

        assert_int_equal(rsap_listen_finding_make(&v, socket_of(&s, 20600, RSAP_PROTO_TCP, 77,
                                                               "squatd"),
                                                  T0, &made),
                         0);
        assert_int_equal(rsap_findings_record(f->store, &made), 0);
        assert_true(made.id > 0);
        assert_int_equal(rsap_listen_finding_make(&v, socket_of(&s, 20601, RSAP_PROTO_TCP, 78,
                                                               "other"),
                                                  T0 + 5, &other),
                         0);
        assert_int_equal(rsap_findings_record(f->store, &other), 0);
        assert_int_equal(rsap_findings_list(f->store, &by_port, &list, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(list[0].id, made.id);
        assert_int_equal(list[0].kind, RSAP_SQUAT_UNREGISTERED);
        assert_int_equal(list[0].found_us, T0);
        assert_int_equal(list[0].resolved_us, 0);
        assert_string_equal(list[0].address, "127.0.0.1");
        assert_string_equal(list[0].host, rsap_store_host(f->store));
        assert_non_null(strstr(list[0].owners, "\"squatd\""));
        rsap_listen_findings_free(list, n);

        assert_int_equal(rsap_findings_resolve(f->store, made.id, T0 + 10), 0);
        assert_int_equal(rsap_findings_resolve(f->store, made.id, T0 + 20), -EALREADY);
        assert_int_equal(rsap_findings_resolve(f->store, other.id + 100, T0 + 20), -ENOENT);
        assert_int_equal(rsap_findings_list(f->store, &open, &list, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(list[0].id, other.id);
        rsap_listen_findings_free(list, n);
        assert_int_equal(rsap_findings_list(f->store, &by_port, &list, &n), 0);
        assert_int_equal(list[0].resolved_us, T0 + 10);
        rsap_listen_findings_free(list, n);
        rsap_listen_finding_clear(&made);
        rsap_listen_finding_clear(&other);
}

/* ---- listening intervals -------------------------------------------------------------------- */

#define SEC 1000000LL

static int64_t listener(struct fixture *f, uint16_t port, const char *command, int64_t start_us)
{
        struct rsap_interval iv = { .proto = RSAP_PROTO_TCP, .port = port,
                                    .address = "127.0.0.1", .netns = 4026531840ULL,
                                    .uid = 1000, .pid = 4242, .pid_start = 77,
                                    .command = (char *)command, .exe = "/usr/bin/x",
                                    .owners = "[{\"pid\":4242}]", .started_us = start_us };
        int64_t id = 0;

        assert_int_equal(rsap_interval_open(f->store, &iv, &id), 0);
        assert_true(id > 0);
        return id;
}

static struct rsap_interval_list intervals(struct fixture *f, enum rsap_interval_scope scope,
                                           uint16_t port, int64_t at_us)
{
        struct rsap_interval_query q = { .scope = scope, .port = port, .at_us = at_us,
                                         .host = rsap_store_host(f->store) };
        struct rsap_interval_list list;

        assert_int_equal(rsap_intervals_query(f->store, &q, &list), 0);
        return list;
}

static void intervals_open_close_and_answer_by_port_time_and_start(void **state)
{
        struct fixture *f = *state;
        int64_t a = listener(f, 20100, "postgres", T0), b = listener(f, 20100, "pg2", T0 + 10 * SEC);
        struct rsap_interval_list l;

        (void)listener(f, 20200, "other", T0 + 20 * SEC);
        assert_int_equal(rsap_interval_close(f->store, a, T0 + 5 * SEC), 0);
        /* Closed once: a second close finds nothing open. */
        assert_int_equal(rsap_interval_close(f->store, a, T0 + 6 * SEC), -ENOENT);
        /* A clock stepped back ends it at its start, never before. */
        assert_int_equal(rsap_interval_close(f->store, b, T0), 0);
        l = intervals(f, RSAP_INTERVALS_PORT, 20100, 0);
        assert_int_equal(l.n, 2);
        assert_int_equal(l.items[0].id, a);
        assert_string_equal(l.items[0].command, "postgres");
        assert_string_equal(l.items[0].exe, "/usr/bin/x");
        assert_string_equal(l.items[0].address, "127.0.0.1");
        assert_int_equal(l.items[0].pid, 4242);
        assert_int_equal(l.items[0].pid_start, 77);
        assert_int_equal(l.items[0].uid, 1000);
        assert_true(l.items[0].netns == 4026531840ULL);
        assert_int_equal(l.items[0].end, RSAP_INTERVAL_STOPPED);
        assert_int_equal(l.items[0].started_us, T0);
        assert_int_equal(l.items[0].ended_us, T0 + 5 * SEC);
        assert_int_equal(l.items[1].ended_us, T0 + 10 * SEC);
        rsap_interval_list_clear(&l);
        /* At T0 + 3 s only a was open; at T0 + 25 s only the one on 20200. */
        l = intervals(f, RSAP_INTERVALS_AT, 0, T0 + 3 * SEC);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.items[0].id, a);
        rsap_interval_list_clear(&l);
        l = intervals(f, RSAP_INTERVALS_AT, 0, T0 + 25 * SEC);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.items[0].port, 20200);
        assert_int_equal(l.items[0].end, RSAP_INTERVAL_OPEN);
        assert_int_equal(l.items[0].ended_us, 0);
        rsap_interval_list_clear(&l);
        /* The moment it ended it was not open any more. */
        l = intervals(f, RSAP_INTERVALS_AT, 0, T0 + 5 * SEC);
        assert_int_equal(l.n, 0);
        rsap_interval_list_clear(&l);
        l = intervals(f, RSAP_INTERVALS_SINCE, 0, T0 + 10 * SEC);
        assert_int_equal(l.n, 2);
        assert_int_equal(l.items[0].id, b);
        assert_int_equal(l.items[1].port, 20200);
        rsap_interval_list_clear(&l);
}

static void open_intervals_close_as_unknown_at_their_last_sighting(void **state)
{
        struct fixture *f = *state;
        char here[256];
        int64_t mine, theirs, n = 0;
        struct rsap_interval_query q = { .scope = RSAP_INTERVALS_PORT, .port = 20100 };
        struct rsap_interval_list l;

        snprintf(here, sizeof(here), "%s", rsap_store_host(f->store));
        mine = listener(f, 20100, "mine", T0);
        assert_int_equal(rsap_intervals_touch(f->store, T0 + 7 * SEC), 0);
        /* A touch never moves a sighting back. */
        assert_int_equal(rsap_intervals_touch(f->store, T0 + 3 * SEC), 0);
        /* An open interval's last sighting is its recorder's last poll. */
        assert_int_equal(rsap_intervals_query(f->store, &q, &l), 0);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.items[0].last_seen_us, T0 + 7 * SEC);
        rsap_interval_list_clear(&l);
        /* Another host's open interval is that host's recorder's to close. */
        rsap_store_set_host(f->store, "elsewhere");
        theirs = listener(f, 20100, "theirs", T0 + SEC);
        rsap_store_set_host(f->store, here);
        assert_int_equal(rsap_intervals_close_unknown(f->store, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(rsap_intervals_query(f->store, &q, &l), 0); /* every host's */
        assert_int_equal(l.n, 2);
        assert_int_equal(l.items[0].id, mine);
        assert_string_equal(l.items[0].host, here);
        assert_int_equal(l.items[0].end, RSAP_INTERVAL_UNKNOWN);
        assert_int_equal(l.items[0].ended_us, T0 + 7 * SEC);
        assert_int_equal(l.items[0].last_seen_us, T0 + 7 * SEC);
        assert_int_equal(l.items[1].id, theirs);
        assert_string_equal(l.items[1].host, "elsewhere");
        assert_int_equal(l.items[1].end, RSAP_INTERVAL_OPEN);
        rsap_interval_list_clear(&l);
}

/* n intervals of one program on 20300, each 1 s long, 2 s apart from start_us. */
static void churn(struct fixture *f, int n, int64_t start_us)
{
        for (int i = 0; i < n; i++) {
                int64_t at = start_us + i * 2 * SEC;

                assert_int_equal(rsap_interval_close(f->store, listener(f, 20300, "churn", at),
                                                     at + SEC),
                                 0);
        }
}

static void intervals_stay_within_retention_and_cap(void **state)
{
        struct fixture *f = *state;
        struct rsap_interval_policy p = { .retention_us = DAY, .cap = 10, .short_us = 60 * SEC };
        struct rsap_interval_upkeep u;
        struct rsap_interval_list l;
        int64_t now = T0 + 2 * DAY + DAY / 2, day2 = T0 + 2 * DAY, open;

        /* Ended long before the retention period: goes whatever the cap. */
        assert_int_equal(rsap_interval_close(f->store, listener(f, 20100, "old", T0), T0 + SEC), 0);
        for (int i = 0; i < 3; i++) { /* 5 minutes each: not short, never compacted */
                int64_t at = day2 - 3600 * SEC + i * 600 * SEC;

                assert_int_equal(rsap_interval_close(f->store, listener(f, 20400, "steady", at),
                                                     at + 300 * SEC),
                                 0);
        }
        churn(f, 30, day2);
        open = listener(f, 20500, "open", T0);
        assert_int_equal(rsap_intervals_upkeep(f->store, &p, now, &u), 0);
        assert_int_equal(u.expired, 1);
        assert_int_equal(u.compacted, 30);
        assert_int_equal(u.dropped, 0);
        assert_int_equal(u.rows, 5);
        l = intervals(f, RSAP_INTERVALS_PORT, 20300, 0);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.items[0].count, 30);
        assert_int_equal(l.items[0].started_us, day2);
        assert_int_equal(l.items[0].ended_us, day2 + 29 * 2 * SEC + SEC);
        assert_int_equal(l.items[0].pid, 4242);
        assert_int_equal(l.items[0].end, RSAP_INTERVAL_STOPPED);
        rsap_interval_list_clear(&l);
        /* Within the cap nothing more happens. */
        assert_int_equal(rsap_intervals_upkeep(f->store, &p, now, &u), 0);
        assert_int_equal(u.expired + u.compacted + u.dropped, 0);
        assert_int_equal(u.rows, 5);
        /* Five more, then a cap of 2: they join the row's count; the steady ones ended first go. */
        churn(f, 5, day2 + 100 * SEC);
        p.cap = 2;
        assert_int_equal(rsap_intervals_upkeep(f->store, &p, now, &u), 0);
        assert_int_equal(u.compacted, 6);
        assert_int_equal(u.dropped, 2);
        assert_int_equal(u.rows, 3);
        l = intervals(f, RSAP_INTERVALS_PORT, 20300, 0);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.items[0].count, 35);
        assert_int_equal(l.items[0].started_us, day2);
        rsap_interval_list_clear(&l);
        l = intervals(f, RSAP_INTERVALS_PORT, 20400, 0);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.items[0].started_us, day2 - 3600 * SEC + 2 * 600 * SEC);
        rsap_interval_list_clear(&l);
        /* The open interval stays, and a compaction row is never open at a moment. */
        l = intervals(f, RSAP_INTERVALS_AT, 0, day2 + 10 * SEC);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.items[0].id, open);
        rsap_interval_list_clear(&l);
}

/* ---- every backend ------------------------------------------------------------------------ */

static const struct backend_fixture *fixture_for(const char *scheme)
{
        for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
                if (strcmp(fixtures[i].scheme, scheme) == 0)
                        return &fixtures[i];
        return NULL;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
                T(uncommitted_transactions_leave_nothing),
                T(another_connections_commit_changes_the_data_version),
                T(one_holder_per_port_and_protocol),
                T(a_refused_write_undoes_only_itself),
                T(one_service_per_name_whatever_its_case),
                T(a_question_asked_within_its_own_answer),
                T(events_are_append_only),
                T(released_ports_are_quarantined),
                T(assignments_walked_and_counted),
                T(leases_keep_their_holder_and_host),
                T(pick_reads_assigned_ports_and_active_leases),
                T(history_keeps_the_order_of_recording),
                T(the_check_finds_state_changed_behind_its_back),
                T(intervals_open_close_and_answer_by_port_time_and_start),
                T(open_intervals_close_as_unknown_at_their_last_sighting),
                T(intervals_stay_within_retention_and_cap),
                T(squatters_assigned_port),
                T(squatters_leased_port),
                T(squatters_unregistered_port),
                T(findings_are_recorded_and_resolved_once),
#undef T
        };
        const struct rsap_store_backend *const *backends;
        const char *server = getenv("RSAP_TEST_STORE");
        size_t n;
        int failed = 0;

        backends = store_backends(&n);
        for (size_t i = 0; i < n; i++) {
                /*
                 * The server backends need a server (RSAP_TEST_STORE, which
                 * the -pg test entries set); with one, only they run.
                 */
                bool wants_server = strcmp(backends[i]->scheme, "sqlite") != 0;

                if (wants_server != (server != NULL)) {
                        printf("# %s: not in this run (%s)\n", backends[i]->scheme,
                               server ? "RSAP_TEST_STORE names a server"
                                      : "no RSAP_TEST_STORE: see registry-contract-pg");
                        continue;
                }
                if (server && strncmp(server, backends[i]->scheme, strlen(backends[i]->scheme)))
                        continue;
                current = fixture_for(backends[i]->scheme);
                if (!current) {
                        fprintf(stderr, "backend %s has no fixture in test_store_contract.c\n",
                                backends[i]->scheme);
                        return 1;
                }
                failed += cmocka_run_group_tests_name(backends[i]->scheme, tests, NULL, NULL);
        }
        return failed ? 1 : 0;
}
