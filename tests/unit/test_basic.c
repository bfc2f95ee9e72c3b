/* SPDX-License-Identifier: MIT */
/* The base layer: array growth, the byte buffer, the /proc/PID readers, time stamps. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <rsap/basic.h>
#include <rsap/buf.h>
#include <rsap/proc.h>
#include <rsap/time.h>

/* The base layer's one growth helper: appends keep what was there, and a
 * size that would overflow is refused with the array untouched. */
static void arrays_grow_and_refuse_overflow(void **state)
{
        _cleanup_(freep) uint32_t *items = NULL;
        size_t capacity = 0;

        (void)state;
        for (uint32_t i = 0; i < 1000; i++) {
                assert_int_equal(rsap_grow(&items, &capacity, i + 1, sizeof(*items)), 0);
                assert_true(capacity >= i + 1);
                items[i] = i * 7;
        }
        for (uint32_t i = 0; i < 1000; i++)
                assert_int_equal(items[i], i * 7);
        assert_int_equal(rsap_grow(&items, &capacity, 10, sizeof(*items)), 0); /* room enough */
        assert_int_equal(rsap_grow(&items, &capacity, SIZE_MAX / 2, sizeof(*items)), -ENOMEM);
        assert_int_equal(rsap_grow(&items, &capacity, SIZE_MAX, 1), -ENOMEM);
        assert_true(capacity >= 1000);
        assert_int_equal(items[999], 999 * 7);
}

/* Appends keep every byte, the text stays NUL-terminated, printf grows it. */
static void buffer_appends_and_steals(void **state)
{
        _cleanup_(rsap_buf_free) struct rsap_buf b = { 0 };
        _cleanup_(freep) char *stolen = NULL;
        size_t len = 0;

        (void)state;
        for (int i = 0; i < 1000; i++)
                assert_int_equal(rsap_buf_printf(&b, "%04d,", i), 0);
        assert_int_equal(b.len, 5000);
        assert_int_equal(strlen(b.data), 5000);
        assert_memory_equal(b.data + 4995, "0999,", 5);
        assert_int_equal(rsap_buf_append(&b, "a\0b", 3), 0);
        assert_int_equal(b.len, 5003);
        assert_int_equal(b.data[5001], '\0');
        assert_int_equal(b.data[5003], '\0');
        rsap_buf_reset(&b);
        assert_int_equal(b.len, 0);
        assert_string_equal(b.data, "");
        assert_int_equal(rsap_buf_puts(&b, "port "), 0);
        assert_int_equal(rsap_buf_putc(&b, '1'), 0);
        stolen = rsap_buf_steal(&b, &len);
        assert_string_equal(stolen, "port 1");
        assert_int_equal(len, 6);
        assert_null(b.data);
        assert_int_equal(b.len, 0);
}

/* A failed growth is remembered: later appends refuse, and steal frees. */
static void buffer_remembers_a_failure(void **state)
{
        struct rsap_buf b = { 0 };

        (void)state;
        assert_int_equal(rsap_buf_puts(&b, "kept"), 0);
        assert_int_equal(rsap_buf_append(&b, "x", SIZE_MAX / 2), -ENOMEM);
        assert_true(rsap_buf_failed(&b));
        assert_int_equal(rsap_buf_puts(&b, "more"), -ENOMEM);
        assert_string_equal(b.data, "kept");
        assert_null(rsap_buf_steal(&b, NULL));
        assert_null(b.data);
        assert_false(rsap_buf_failed(&b));
}

/* This process's own stat and status, through /proc and through an open
 * /proc directory. */
static void proc_reads_this_process(void **state)
{
        struct rsap_proc_stat st, again;
        struct rsap_proc_uids uids;
        _cleanup_(closep) int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        (void)state;
        assert_true(proc_fd >= 0);
        assert_int_equal(rsap_proc_stat(-1, getpid(), &st), 0);
        assert_int_equal(st.ppid, getppid());
        assert_int_equal(st.state, 'R');
        assert_true(st.start_time > 0);
        assert_int_equal(rsap_proc_stat(proc_fd, getpid(), &again), 0);
        assert_true(again.start_time == st.start_time);
        assert_int_equal(rsap_proc_uids(proc_fd, getpid(), &uids), 0);
        assert_int_equal(uids.real, getuid());
        assert_int_equal(uids.effective, geteuid());
}

/* A command name with ") " in it does not shift the fields, and a process
 * that is gone is -ESRCH. */
static void proc_stat_survives_odd_names_and_exits(void **state)
{
        struct rsap_proc_stat st;
        pid_t child;
        int status;
        char comm[32];

        (void)state;
        assert_int_equal(prctl(PR_SET_NAME, "a) R 1 (b"), 0);
        assert_true(rsap_proc_read(-1, getpid(), "comm", comm, sizeof(comm)) > 0);
        assert_string_equal(comm, "a) R 1 (b\n");
        assert_int_equal(rsap_proc_stat(-1, getpid(), &st), 0);
        assert_int_equal(st.ppid, getppid());
        assert_int_equal(rsap_proc_read(-1, getpid(), "comm", comm, 4), 3); /* truncated */
        assert_string_equal(comm, "a) ");
        child = fork();
        assert_true(child >= 0);
        if (child == 0)
                _exit(0);
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_int_equal(rsap_proc_stat(-1, child, &st), -ESRCH);
        assert_int_equal(rsap_proc_uids(-1, child, &(struct rsap_proc_uids){ 0 }), -ESRCH);
}

/* UTC stamps at the edges: the epoch, a leap day, milliseconds truncated. */
static void times_format_in_utc(void **state)
{
        char buf[RSAP_TIME_SIZE];
        int64_t before, after;

        (void)state;
        rsap_time_format(0, buf, sizeof(buf));
        assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
        rsap_time_format(1709210096999999LL, buf, sizeof(buf)); /* 2024-02-29 12:34:56.999999 */
        assert_string_equal(buf, "2024-02-29T12:34:56.999Z");
        rsap_date_format(1709210096999999LL, buf, sizeof(buf));
        assert_string_equal(buf, "2024-02-29");
        rsap_time_format(-1, buf, sizeof(buf));
        assert_string_equal(buf, "?");
        before = rsap_monotonic_us();
        after = rsap_monotonic_us();
        assert_true(after >= before);
        assert_true(rsap_realtime_us() > 1700000000000000LL);
        assert_true(rsap_monotonic_ms() * 1000 <= rsap_monotonic_us());
}

/* What rsap_time_format() writes reads back; what a person types, in UTC; nonsense refused. */
static void times_parse_in_utc(void **state)
{
        static const int64_t moments[] = { 0, 1709210096999000LL, 951782400000000LL,
                                           4107542399123000LL };
        static const char *const refused[] = {
                "", "2026", "2026-13-01", "2026-02-29", "1900-02-29 00:00", "1969-12-31",
                "2026-12-01 24:00", "2026-12-01 03:60", "2026-12-01 03", "2026-12-01 3:00",
                "2026-12-01T03:00:5", "2026-12-01 03:00Zx", "2026-12-01x", "2026-12-01 03:00:00.",
        };
        char buf[RSAP_TIME_SIZE];
        int64_t us;

        (void)state;
        for (size_t i = 0; i < sizeof(moments) / sizeof(moments[0]); i++) {
                rsap_time_format(moments[i], buf, sizeof(buf));
                assert_int_equal(rsap_time_parse(buf, &us), 0);
                assert_int_equal(us, moments[i]);
        }
        assert_int_equal(rsap_time_parse("2024-02-29 12:34", &us), 0);
        assert_int_equal(us, 1709210040000000LL);
        assert_int_equal(rsap_time_parse("2024-03-01", &us), 0);
        assert_int_equal(us, 1709251200000000LL);
        assert_int_equal(rsap_time_parse("2026-12-01T03:00:05Z", &us), 0);
        assert_int_equal(us, 1796094005000000LL);
        for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
                if (rsap_time_parse(refused[i], &us) != -EINVAL)
                        fail_msg("'%s' was taken for a time", refused[i]);
}

struct waker {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool woken;
};

static void *wake_it(void *data)
{
        struct waker *w = data;

        pthread_mutex_lock(&w->lock);
        w->woken = true;
        pthread_cond_signal(&w->cond);
        pthread_mutex_unlock(&w->lock);
        return NULL;
}

/* A deadline already past times out at once, on the monotonic clock (a
 * realtime condition variable would read it as 1970 and time out too, so
 * the deadline an hour ahead is what tells the clocks apart: on the realtime
 * clock it is long past); a signal before the deadline wakes the wait. */
static void monotonic_waits_time_out_and_wake(void **state)
{
        struct waker w = { .lock = PTHREAD_MUTEX_INITIALIZER };
        pthread_t thread;
        int r = 0;

        (void)state;
        assert_int_equal(rsap_cond_init_monotonic(&w.cond), 0);
        pthread_mutex_lock(&w.lock);
        assert_int_equal(rsap_cond_wait_until_ms(&w.cond, &w.lock, rsap_monotonic_ms() - 1),
                         -ETIMEDOUT);
        assert_int_equal(pthread_create(&thread, NULL, wake_it, &w), 0);
        while (!w.woken && r == 0)
                r = rsap_cond_wait_until_ms(&w.cond, &w.lock, rsap_monotonic_ms() + 3600 * 1000);
        assert_int_equal(r, 0);
        assert_true(w.woken);
        pthread_mutex_unlock(&w.lock);
        pthread_join(thread, NULL);
        pthread_cond_destroy(&w.cond);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(arrays_grow_and_refuse_overflow),
                cmocka_unit_test(buffer_appends_and_steals),
                cmocka_unit_test(buffer_remembers_a_failure),
                cmocka_unit_test(proc_reads_this_process),
                cmocka_unit_test(proc_stat_survives_odd_names_and_exits),
                cmocka_unit_test(times_format_in_utc),
                cmocka_unit_test(times_parse_in_utc),
                cmocka_unit_test(monotonic_waits_time_out_and_wake),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
