/* SPDX-License-Identifier: MIT */
/*
 * Crashes: a child files and approves requests in a loop, reporting each one
 * on a pipe only after its transaction committed; the parent kills it with
 * SIGKILL at a random moment, 100 times (every other time after a random
 * number of reported commits, so that there always are some).  The child
 * must die of that SIGKILL, not give up on its own.  After every kill the database
 * must open, hold every reported request and approval, and be consistent:
 * nothing half-written (rsap_store_check_full re-derives the state from the
 * events and runs SQLite's integrity check).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include <rsap/store.h>
#include <rsap/workflow.h>

#define KILLS 100
#define MAX_REPORTS 100000

enum report_kind { FILED = 1, APPROVED = 2 };

struct report {
        int32_t kind;
        int32_t pad;
        int64_t request_id;
};

static int failures;

static void failure(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void failure(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "FAIL: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        failures++;
}

static void send_report(int fd, enum report_kind kind, int64_t id)
{
        struct report r = { .kind = kind, .request_id = id };

        if (write(fd, &r, sizeof(r)) != sizeof(r))
                _exit(3);
}

/* The child: request, approve, report; until killed. */
static void approve_forever(const char *path, int fd, const struct rsap_iana *iana)
{
        struct rsap_review_options over = { .over_iana = true };
        struct rsap_store *store;
        struct rsap_workflow wf;
        char name[32];

        if (rsap_store_open(path, RSAP_STORE_WRITE, 60000, &store) < 0)
                _exit(2);
        wf = (struct rsap_workflow){ store, iana, "crash-test", NULL };
        for (unsigned i = 0;; i++) {
                struct rsap_request_input in = {
                        .protocols = 1u << RSAP_PROTO_TCP,
                        .description = "killed at random", .assignee = "Crash Test",
                        .contact = "crash@example.com",
                };
                struct rsap_approval a;
                int64_t id;

                snprintf(name, sizeof(name), "c%u-%d", i, (int)getpid());
                in.service = name;
                in.port = (uint16_t)(20000 + (getpid() * 7 + i) % 12000);
                if (rsap_request_file(&wf, &in, &id) < 0)
                        _exit(4);
                send_report(fd, FILED, id);
                if (rsap_approve(&wf, id, &over, "loop", &a) == 0)
                        send_report(fd, APPROVED, id);
                rsap_approval_clear(&a);
        }
}

static long long count(sqlite3 *db, const char *sql, int64_t id)
{
        sqlite3_stmt *stmt = NULL;
        long long n = -1;

        if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
                return -1;
        sqlite3_bind_int64(stmt, 1, id);
        if (sqlite3_step(stmt) == SQLITE_ROW)
                n = sqlite3_column_int64(stmt, 0);
        sqlite3_finalize(stmt);
        return n;
}

/* Every report the child made before it died is in the database. */
static void verify_reports(const char *path, const struct report *reports, size_t n)
{
        sqlite3 *db;

        if (n == 0)
                return; /* killed before it committed anything, perhaps before the file existed */
        if (access(path, F_OK) < 0) {
                failure("%zu commits were reported but %s does not exist", n, path);
                return;
        }
        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
                failure("%s cannot be opened", path);
                sqlite3_close(db);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                int64_t id = reports[i].request_id;

                if (reports[i].kind == FILED &&
                    count(db, "SELECT count(*) FROM events WHERE request_id = ? AND"
                              " action = 'request'", id) != 1)
                        failure("request %lld was reported filed but is missing", (long long)id);
                if (reports[i].kind == APPROVED &&
                    count(db, "SELECT count(*) FROM assignments WHERE request_id = ? AND active",
                          id) != 1)
                        failure("request %lld was reported approved but is missing",
                                (long long)id);
        }
        sqlite3_close(db);
}

/* 1 when the store was there and checked, 0 when the child died before it made it. */
static int verify_store(const char *path, int kill_number)
{
        struct rsap_store_check_report report;
        struct rsap_store *store;
        int r;

        if (access(path, F_OK) < 0)
                return 0; /* killed before it made the file */
        r = rsap_store_open(path, RSAP_STORE_WRITE, 60000, &store);
        if (r < 0) {
                failure("the database does not open after kill %d: %s", kill_number, strerror(-r));
                return 1;
        }
        r = rsap_store_check_full(store, &report);
        if (r < 0)
                failure("check failed after kill %d: %s", kill_number, strerror(-r));
        for (size_t i = 0; r == 0 && i < report.n_problems && i < RSAP_STORE_CHECK_MAX_PROBLEMS;
             i++)
                failure("inconsistent after kill %d: %s", kill_number, report.problems[i]);
        rsap_store_close(store);
        return 1;
}

/* Reads reports until there are want of them (or max), or the pipe ends. */
static size_t read_reports(int fd, struct report *reports, size_t n, size_t want, size_t max)
{
        while (n < want && n < max &&
               read(fd, &reports[n], sizeof(reports[n])) == (ssize_t)sizeof(reports[n]))
                n++;
        return n;
}

/* The child must die of our SIGKILL: one that gave up on its own (it could not
 * open the database, a write failed) would leave nothing to verify. */
static void expect_killed(int status, int kill_number)
{
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
                failure("the child was not killed at kill %d but %s %d", kill_number,
                        WIFEXITED(status) ? "exited" : "died of signal",
                        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

int main(void)
{
        static struct report reports[MAX_REPORTS];
        char dir[] = "/tmp/rsap-crash-XXXXXX", path[64], cleanup[128];
        struct rsap_iana *iana;
        size_t total_filed = 0, total_approved = 0;
        int stores_checked = 0;

        if (!mkdtemp(dir) || rsap_iana_open_builtin(&iana) < 0)
                return 99;
        snprintf(path, sizeof(path), "%s/registry.db", dir);
        srand((unsigned)time(NULL) ^ (unsigned)getpid());
        for (int k = 0; k < KILLS; k++) {
                int fds[2], status;
                pid_t child;
                size_t n = 0;

                if (pipe(fds) < 0)
                        return 99;
                child = fork();
                if (child == 0) {
                        close(fds[0]);
                        approve_forever(path, fds[1], iana);
                }
                close(fds[1]);
                /* Every other kill comes after 1 to 40 reported commits, whatever the
                 * machine's speed; the rest anywhere from opening the database on. */
                if (k % 2 == 0)
                        n = read_reports(fds[0], reports, 0, 1 + (size_t)(rand() % 40), MAX_REPORTS);
                else
                        usleep((useconds_t)(rand() % 30000));
                kill(child, SIGKILL);
                if (waitpid(child, &status, 0) != child)
                        return 99;
                expect_killed(status, k);
                n = read_reports(fds[0], reports, n, MAX_REPORTS, MAX_REPORTS);
                close(fds[0]);
                if (k % 2 == 0 && n == 0)
                        failure("kill %d was to come after a commit, but none was reported", k);
                for (size_t i = 0; i < n; i++)
                        reports[i].kind == FILED ? total_filed++ : total_approved++;
                verify_reports(path, reports, n);
                stores_checked += verify_store(path, k);
        }
        /* Half the kills follow at least one commit each: fewer means the child
         * never got going, and nothing above was tested. */
        if (total_filed < KILLS / 2 || total_approved < KILLS / 4 || stores_checked < KILLS / 2)
                failure("only %zu requests, %zu approvals and %d checked stores in %d kills",
                        total_filed, total_approved, stores_checked, KILLS);
        printf("%d kills: %zu requests and %zu approvals reported, all there; %s\n", KILLS,
               total_filed, total_approved, failures ? "FAILED" : "consistent after each");
        rsap_iana_free(iana);
        snprintf(cleanup, sizeof(cleanup), "rm -rf '%s'", dir);
        if (system(cleanup) != 0)
                fprintf(stderr, "could not remove %s\n", dir);
        return failures ? 1 : 0;
}
