/* SPDX-License-Identifier: MIT */
/*
 * The port marks (lib/local/sqlite/port_marks.c): every port a row names is
 * marked before its commit, whatever made the row; a lookup trusts the
 * marks only while the files are as the last writer left them; a writer
 * rebuilds marks it cannot trust; and a lookup they answer never opens the
 * database, which the tests see by making the database unreadable to SQLite
 * under marks that still match it.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <rsap/iana.h>
#include <rsap/store.h>
#include <rsap/workflow.h>

#define MARKS_HEADER 128 /* the header's size on disk */

struct fixture {
        char dir[64], path[128], marks[140];
        struct rsap_store *store;
        struct rsap_iana *iana;
        struct rsap_host host;
        struct rsap_workflow wf;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        snprintf(f->dir, sizeof(f->dir), "/tmp/rsap-marks-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof(f->path), "%s/registry.db", f->dir);
        snprintf(f->marks, sizeof(f->marks), "%s-ports", f->path);
        assert_int_equal(rsap_store_open(f->path, RSAP_STORE_WRITE, 0, &f->store), 0);
        assert_int_equal(rsap_iana_open_builtin(&f->iana), 0);
        f->host = (struct rsap_host){ .have_ephemeral = true, .ephemeral_low = 32768,
                                      .ephemeral_high = 60999 };
        f->wf = (struct rsap_workflow){ f->store, f->iana, "tester", &f->host };
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        static const char *const suffixes[] = { "", "-wal", "-shm", "-ports" };
        struct fixture *f = *state;
        char path[200];

        rsap_store_close(f->store);
        rsap_iana_free(f->iana);
        for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
                snprintf(path, sizeof(path), "%s%s", f->path, suffixes[i]);
                unlink(path);
        }
        assert_int_equal(rmdir(f->dir), 0); /* nothing else was left */
        free(f);
        return 0;
}

static int64_t file_request(struct fixture *f, const char *name, uint16_t port)
{
        struct rsap_request_input in = {
                .service = name, .port = port, .protocols = 1u << RSAP_PROTO_TCP,
                .description = "a service of the tests", .assignee = "Alice",
                .contact = "ops@example.com",
        };
        int64_t id = 0;

        assert_int_equal(rsap_request_file(&f->wf, &in, &id), 0);
        return id;
}

static void assign(struct fixture *f, const char *name, uint16_t port)
{
        struct rsap_review_options o = { .over_iana = true };
        struct rsap_approval a;

        assert_int_equal(rsap_approve(&f->wf, file_request(f, name, port), &o, "tests", &a), 0);
        rsap_approval_clear(&a);
}

static uint16_t lease(struct fixture *f, uint16_t low, uint16_t high)
{
        struct rsap_lease_options o = { .low = low, .high = high, .name = "ci run" };
        struct rsap_lease l;
        uint16_t port;

        assert_int_equal(rsap_lease_take(&f->wf, &o, &l), 0);
        port = l.port;
        rsap_lease_clear(&l);
        return port;
}

/* The byte of the marks for port, as the file holds it; -1 when there is no file. */
static int mark_of(const struct fixture *f, uint16_t port)
{
        unsigned char mark;
        int fd = open(f->marks, O_RDONLY);
        ssize_t n;

        if (fd < 0)
                return -1;
        n = pread(fd, &mark, 1, MARKS_HEADER + port);
        close(fd);
        assert_int_equal(n, 1);
        return mark;
}

static void set_mark(const struct fixture *f, uint16_t port, unsigned char mark)
{
        int fd = open(f->marks, O_WRONLY);

        assert_true(fd >= 0);
        assert_int_equal(pwrite(fd, &mark, 1, MARKS_HEADER + port), 1);
        close(fd);
}

static size_t marked_count(const struct fixture *f)
{
        size_t n = 0;

        for (uint32_t port = 0; port <= UINT16_MAX; port++)
                n += mark_of(f, (uint16_t)port) == 1;
        return n;
}

/* What a lookup store says about port: its entries' count, or a negative code. */
static int lookup(const struct fixture *f, uint16_t port)
{
        struct rsap_store *store;
        struct rsap_local_list list;
        int r = rsap_store_open(f->path, RSAP_STORE_LOOKUP, 0, &store);

        if (r < 0)
                return r;
        r = rsap_local_for_port(store, port, RSAP_PROTO_NONE, &list);
        if (r == 0) {
                r = (int)list.n_entries;
                rsap_local_list_clear(&list);
        }
        rsap_store_close(store);
        return r;
}

/*
 * Garbage where the database's first page was, with the size and the
 * change time it had: the marks still match, SQLite cannot read it.
 */
static void spoil_database_keeping_stamp(const struct fixture *f)
{
        char garbage[100];
        struct stat st;
        struct timespec times[2];
        int fd;

        assert_int_equal(stat(f->path, &st), 0);
        memset(garbage, 'x', sizeof(garbage));
        fd = open(f->path, O_WRONLY);
        assert_true(fd >= 0);
        assert_int_equal(pwrite(fd, garbage, sizeof(garbage), 0), (ssize_t)sizeof(garbage));
        close(fd);
        times[0] = st.st_atim;
        times[1] = st.st_mtim;
        assert_int_equal(utimensat(AT_FDCWD, f->path, times, 0), 0);
}

/*
 * What a writer stamps, written as it would be: each file's device, inode,
 * size and modification time, after the 16 bytes of magic, version and flag.
 */
static void stamp_as_a_writer_would(const struct fixture *f)
{
        static const char *const suffixes[] = { "", "-wal" };
        const uint32_t stamped = 1;
        char path[200];
        int fd = open(f->marks, O_WRONLY);

        assert_true(fd >= 0);
        for (size_t i = 0; i < 2; i++) {
                struct stat st = { 0 };
                uint64_t fields[5] = { 0 };

                snprintf(path, sizeof(path), "%s%s", f->path, suffixes[i]);
                if (stat(path, &st) == 0) {
                        fields[0] = st.st_dev;
                        fields[1] = st.st_ino;
                        fields[2] = (uint64_t)st.st_size;
                        fields[3] = (uint64_t)st.st_mtim.tv_sec;
                        fields[4] = (uint64_t)st.st_mtim.tv_nsec;
                }
                assert_int_equal(pwrite(fd, fields, sizeof(fields), 16 + (off_t)(i * sizeof(fields))),
                                 (ssize_t)sizeof(fields));
        }
        assert_int_equal(pwrite(fd, &stamped, sizeof(stamped), 12), (ssize_t)sizeof(stamped));
        close(fd);
}

/* In a child: a request on port through a store of its own; the exit status says how it went. */
static pid_t file_request_in_child(struct fixture *f, uint16_t port)
{
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                struct rsap_request_input in = {
                        .service = "theirs", .port = port, .protocols = 1u << RSAP_PROTO_TCP,
                        .description = "a service of the tests", .assignee = "Bob",
                        .contact = "ops@example.com",
                };
                struct rsap_store *store;
                int64_t id;

                if (rsap_store_open(f->path, RSAP_STORE_WRITE, 0, &store) < 0)
                        _exit(2);
                f->wf.store = store;
                _exit(rsap_request_file(&f->wf, &in, &id) == 0 ? 0 : 1);
        }
        return pid;
}

/* ---- tests ----------------------------------------------------------------------- */

static void every_kind_of_row_marks_its_port(void **state)
{
        struct fixture *f = *state;
        uint16_t leased;

        file_request(f, "asked", 20001);
        assign(f, "given", 20002);
        leased = lease(f, 20010, 20020);
        assert_int_equal(mark_of(f, 20001), 1);
        assert_int_equal(mark_of(f, 20002), 1);
        assert_int_equal(mark_of(f, leased), 1);
        assert_int_equal(marked_count(f), 3);
}

static void a_lookup_the_marks_answer_never_opens_the_database(void **state)
{
        struct fixture *f = *state;

        assign(f, "given", 20002);
        assert_int_equal(lookup(f, 20002), 1);
        assert_int_equal(lookup(f, 20003), 0);
        spoil_database_keeping_stamp(f);
        /* Unmarked: answered without SQLite, as before the damage. */
        assert_int_equal(lookup(f, 20003), 0);
        /* Marked: SQLite is asked, and finds the damage. */
        assert_true(lookup(f, 20002) < 0);
}

static void marks_that_differ_from_the_files_are_not_trusted(void **state)
{
        struct fixture *f = *state;
        struct stat st;
        struct timespec times[2];

        assign(f, "given", 20002);
        spoil_database_keeping_stamp(f);
        assert_int_equal(lookup(f, 20003), 0);
        /* The same file one nanosecond later: written by someone else. */
        assert_int_equal(stat(f->path, &st), 0);
        times[0] = st.st_atim;
        times[1] = st.st_mtim;
        times[1].tv_nsec = (times[1].tv_nsec + 1) % 1000000000;
        assert_int_equal(utimensat(AT_FDCWD, f->path, times, 0), 0);
        assert_true(lookup(f, 20003) < 0);
}

static void a_writer_rebuilds_marks_it_cannot_trust(void **state)
{
        struct fixture *f = *state;
        uint16_t leased;

        file_request(f, "asked", 20001);
        leased = lease(f, 20010, 20020);
        /* A mark lost and the files changed behind rsap's back (the stamp no
         * longer matches): the next write starts from the tables. */
        set_mark(f, 20001, 0);
        assert_int_equal(utimensat(AT_FDCWD, f->path, NULL, 0), 0);
        assign(f, "given", 20002);
        assert_int_equal(mark_of(f, 20001), 1);
        assert_int_equal(mark_of(f, leased), 1);
        assert_int_equal(mark_of(f, 20002), 1);
        assert_int_equal(marked_count(f), 3);
        /* Removed: made again at the next write. */
        assert_int_equal(unlink(f->marks), 0);
        assert_int_equal(lookup(f, 20001), 1);
        file_request(f, "later", 20003);
        assert_int_equal(marked_count(f), 4);
}

static void a_writer_marks_the_file_another_writer_made_anew(void **state)
{
        struct fixture *f = *state;
        struct rsap_store *other;

        file_request(f, "asked", 20001);
        /* Another command removes and rebuilds the file while this store is open. */
        assert_int_equal(unlink(f->marks), 0);
        assert_int_equal(rsap_store_open(f->path, RSAP_STORE_WRITE, 0, &other), 0);
        f->wf.store = other;
        file_request(f, "theirs", 20004);
        rsap_store_close(other);
        f->wf.store = f->store;
        file_request(f, "mine", 20005);
        assert_int_equal(mark_of(f, 20001), 1);
        assert_int_equal(mark_of(f, 20004), 1);
        assert_int_equal(mark_of(f, 20005), 1);
        assert_int_equal(lookup(f, 20005), 1);
}

/*
 * A writer let in by another's commit finds the files changed before that
 * commit's stamp is written: it waits for the stamp (the lock the other
 * holds meanwhile) instead of rebuilding the marks.
 */
static void a_writer_waits_for_the_stamp_of_the_commit_before(void **state)
{
        struct fixture *f = *state;
        struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
        struct stat before, after;
        int fd, status;
        pid_t child;

        file_request(f, "asked", 20001);
        assert_int_equal(stat(f->marks, &before), 0);
        /* Between a commit and its stamp, as that writer would be. */
        fd = open(f->marks, O_RDWR);
        assert_true(fd >= 0);
        assert_int_equal(fcntl(fd, F_OFD_SETLK, &lock), 0);
        assert_int_equal(utimensat(AT_FDCWD, f->path, NULL, 0), 0);
        child = file_request_in_child(f, 20002);
        usleep(200 * 1000); /* time for the child to reach the lock: it passes either way */
        stamp_as_a_writer_would(f);
        lock.l_type = F_UNLCK;
        assert_int_equal(fcntl(fd, F_OFD_SETLK, &lock), 0);
        close(fd);
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_int_equal(stat(f->marks, &after), 0);
        assert_int_equal(after.st_ino, before.st_ino); /* not made anew */
        assert_int_equal(mark_of(f, 20001), 1);
        assert_int_equal(mark_of(f, 20002), 1);
        assert_int_equal(lookup(f, 20002), 1);
}

static void the_consistency_check_finds_a_port_the_marks_miss(void **state)
{
        struct fixture *f = *state;
        struct rsap_store_check_report report;

        assign(f, "given", 20002);
        assert_int_equal(rsap_store_check(f->store, &report), 0);
        assert_int_equal(report.n_problems, 0);
        set_mark(f, 20002, 0); /* the stamp still matches: lookups trust it */
        assert_int_equal(lookup(f, 20002), 0);
        assert_int_equal(rsap_store_check(f->store, &report), 0);
        assert_int_equal(report.n_problems, 1);
        assert_non_null(strstr(report.problems[0], "port 20002 is in the registry but not in"));
}

static void a_range_lookup_asks_sqlite_when_any_port_is_marked(void **state)
{
        struct fixture *f = *state;
        struct rsap_store *store;
        struct rsap_local_list list;

        assign(f, "given", 30000);
        spoil_database_keeping_stamp(f);
        assert_int_equal(rsap_store_open(f->path, RSAP_STORE_LOOKUP, 0, &store), 0);
        assert_int_equal(rsap_local_for_range(store, 1024, 29999, &list), 0);
        assert_int_equal(list.n_entries, 0);
        rsap_local_list_clear(&list);
        assert_true(rsap_local_for_range(store, 25000, 40000, &list) < 0);
        /* Once the open failed, every later question says so. */
        assert_true(rsap_local_for_range(store, 1024, 1100, &list) < 0);
        rsap_store_close(store);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(every_kind_of_row_marks_its_port, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(
                        a_lookup_the_marks_answer_never_opens_the_database, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        marks_that_differ_from_the_files_are_not_trusted, setup, teardown),
                cmocka_unit_test_setup_teardown(a_writer_rebuilds_marks_it_cannot_trust,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(
                        a_writer_marks_the_file_another_writer_made_anew, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        a_writer_waits_for_the_stamp_of_the_commit_before, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        the_consistency_check_finds_a_port_the_marks_miss, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        a_range_lookup_asks_sqlite_when_any_port_is_marked, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
