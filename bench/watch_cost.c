/* SPDX-License-Identifier: MIT */
/*
 * bench-watch-cost: the CPU time of following a host's listeners for a while
 * (bench/watch.sh).  Two sides, each printing one line
 * "NAME CPU_SECONDS WALL_SECONDS START_CPU_SECONDS SOCKETS" (0 for what a
 * side does not have):
 *
 *     bench-watch-cost engine N INTERVAL_MS
 *         the change engine as a recorder drives it (every socket reported
 *         at the start, owners looked up, a callback that counts): the first
 *         step (START_CPU_SECONDS: the whole listing with every owner), then
 *         N more dumps, one every INTERVAL_MS, in its own poll() loop; CPU is
 *         this process's user and system time over those N dumps
 *         (getrusage), every thread of it; SOCKETS how many it follows.
 *     bench-watch-cost command N COMMAND [ARG...]
 *         runs COMMAND (a shell loop of ss, say), waits for it and reports
 *         its CPU time and that of every process it waited for
 *         (RUSAGE_CHILDREN); N is only printed back.
 *
 * Measures; asserts nothing.
 */
#include <errno.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include <rsap/watch.h>

extern char **environ;

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_seconds(int who)
{
        struct rusage ru;

        getrusage(who, &ru);
        return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

static int count_change(const struct rsap_watch_event *ev, void *data)
{
        (void)ev;
        ++*(size_t *)data;
        return 0;
}

/* Steps until n dumps have been made after the first step. */
static int follow(struct rsap_watch *w, unsigned n, size_t *changes)
{
        for (unsigned dumps = 0; dumps < n;) {
                struct pollfd p = { .fd = rsap_watch_fd(w), .events = POLLIN };
                int due = rsap_watch_timeout_ms(w), r;

                if (due > 0 && poll(&p, 1, due) < 0 && errno != EINTR)
                        return -errno;
                dumps += rsap_watch_timeout_ms(w) == 0;
                r = rsap_watch_step(w, count_change, changes);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int run_engine(unsigned n, unsigned interval_ms)
{
        struct rsap_watch_options o = { .interval_ms = interval_ms };
        struct rsap_watch *w = NULL;
        size_t changes = 0;
        double cpu0, cpu1, wall0, start_cpu;
        int r;

        rsap_listen_filter_init(&o.filter);
        r = rsap_watch_new(&o, &w);
        if (r == 0)
                r = rsap_watch_step(w, count_change, &changes);
        start_cpu = cpu_seconds(RUSAGE_SELF);
        cpu0 = start_cpu;
        wall0 = now();
        if (r == 0)
                r = follow(w, n, &changes);
        cpu1 = cpu_seconds(RUSAGE_SELF);
        if (r < 0) {
                fprintf(stderr, "bench-watch-cost: %s\n", strerror(-r));
                rsap_watch_free(w);
                return 1;
        }
        printf("engine %.4f %.4f %.4f %zu\n", cpu1 - cpu0, now() - wall0, start_cpu,
               rsap_watch_count(w));
        rsap_watch_free(w);
        return 0;
}

static int run_command(char **argv)
{
        double wall0 = now();
        pid_t pid;
        int status;

        if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0) {
                fprintf(stderr, "bench-watch-cost: cannot run %s\n", argv[0]);
                return 1;
        }
        if (waitpid(pid, &status, 0) < 0)
                return 1;
        printf("command %.4f %.4f 0 0\n", cpu_seconds(RUSAGE_CHILDREN), now() - wall0);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc == 4 && strcmp(argv[1], "engine") == 0)
                return run_engine((unsigned)strtoul(argv[2], NULL, 10),
                                  (unsigned)strtoul(argv[3], NULL, 10));
        if (argc >= 4 && strcmp(argv[1], "command") == 0)
                return run_command(argv + 3);
        fprintf(stderr, "usage: bench-watch-cost engine N INTERVAL_MS | "
                        "command N COMMAND [ARG...]\n");
        return 2;
}
