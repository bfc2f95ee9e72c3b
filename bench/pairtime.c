/* SPDX-License-Identifier: MIT */
/*
 * bench-pairtime: whole-process wall times of a few commands, measured round
 * by round.  Each round runs every command once, in an order shuffled anew,
 * so that whatever else the machine does at a moment weighs on all of them
 * alike; the ratio of each command to the last one is taken within the round.
 * Prints, per command, the median wall time and the median of its per-round
 * ratios to the last command, then the same for CPU time (user and system,
 * of the command and its threads): a command that spreads its work over
 * several CPUs shows it there, where wall time would hide it.
 *
 *     bench-pairtime ROUNDS WARMUP NAME=COMMAND... NAME=REFERENCE
 *
 * A COMMAND is split at spaces (no quoting: the paths the benchmark makes
 * have none); it runs with stdin and stdout on /dev/null, stderr kept, and
 * its exit status is ignored (getent's miss exits 2).  posix_spawn (vfork
 * underneath) and CLOCK_MONOTONIC keep the harness's own share small and the
 * same for every command.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_COMMANDS 8
#define MAX_WORDS 32

struct command {
        const char *name;
        char *argv[MAX_WORDS + 1];
        double *seconds; /* one per round */
        double *ratios;  /* to the reference, one per round */
        double *cpu;        /* user + system seconds, one per round */
        double *cpu_ratios; /* to the reference's, one per round */
};

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int parse_command(char *spec, struct command *c)
{
        char *eq = strchr(spec, '='), *save = NULL;
        size_t n = 0;

        if (!eq || eq == spec)
                return -EINVAL;
        *eq = '\0';
        c->name = spec;
        for (char *w = strtok_r(eq + 1, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
                if (n == MAX_WORDS)
                        return -E2BIG;
                c->argv[n++] = w;
        }
        c->argv[n] = NULL;
        return n > 0 ? 0 : -EINVAL;
}

static double timeval_seconds(struct timeval tv)
{
        return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

/* One run of the command: its wall time, from just before the spawn to the
 * end of the wait, or a negative value when it could not run; *cpu its
 * user and system time. */
static double run_once(const struct command *c, const posix_spawn_file_actions_t *fa,
                       double *cpu)
{
        double start = now();
        struct rusage usage;
        int status;
        pid_t pid;

        if (posix_spawnp(&pid, c->argv[0], fa, NULL, c->argv, environ) != 0)
                return -1;
        if (wait4(pid, &status, 0, &usage) < 0 || !WIFEXITED(status))
                return -1;
        *cpu = timeval_seconds(usage.ru_utime) + timeval_seconds(usage.ru_stime);
        return now() - start;
}

static int compare_doubles(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
        qsort(v, n, sizeof(*v), compare_doubles);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Fisher-Yates with a small xorshift: the order only has to vary. */
static void shuffle(size_t *order, size_t n, uint64_t *state)
{
        for (size_t i = n - 1; i > 0; i--) {
                size_t j;

                *state ^= *state << 13;
                *state ^= *state >> 7;
                *state ^= *state << 17;
                j = (size_t)(*state % (i + 1));
                size_t t = order[i];
                order[i] = order[j];
                order[j] = t;
        }
}

static int run_rounds(struct command *cmds, size_t n, long rounds, long warmup,
                      const posix_spawn_file_actions_t *fa)
{
        uint64_t state = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull | 1;
        size_t order[MAX_COMMANDS];
        double t[MAX_COMMANDS], cpu[MAX_COMMANDS];

        for (size_t i = 0; i < n; i++)
                order[i] = i;
        for (long r = -warmup; r < rounds; r++) {
                shuffle(order, n, &state);
                for (size_t k = 0; k < n; k++) {
                        t[order[k]] = run_once(&cmds[order[k]], fa, &cpu[order[k]]);
                        if (t[order[k]] < 0) {
                                fprintf(stderr, "bench-pairtime: %s: cannot run %s\n",
                                        cmds[order[k]].name, cmds[order[k]].argv[0]);
                                return -1;
                        }
                }
                if (r < 0)
                        continue;
                for (size_t i = 0; i < n; i++) {
                        cmds[i].seconds[r] = t[i];
                        cmds[i].ratios[r] = t[i] / t[n - 1];
                        cmds[i].cpu[r] = cpu[i];
                        /* rusage counts in microseconds, ticks on some
                         * kernels: a reference that took none gives no ratio */
                        cmds[i].cpu_ratios[r] = cpu[n - 1] > 0 ? cpu[i] / cpu[n - 1] : 0;
                }
        }
        return 0;
}

int main(int argc, char **argv)
{
        struct command cmds[MAX_COMMANDS] = { 0 };
        posix_spawn_file_actions_t fa;
        long rounds, warmup;
        size_t n = (size_t)argc - 3;

        if (argc < 5 || (size_t)argc - 3 > MAX_COMMANDS ||
            (rounds = strtol(argv[1], NULL, 10)) < 1 || (warmup = strtol(argv[2], NULL, 10)) < 0) {
                fprintf(stderr, "usage: bench-pairtime ROUNDS WARMUP NAME=COMMAND... "
                                "NAME=REFERENCE (2 to %d commands)\n", MAX_COMMANDS);
                return 2;
        }
        for (size_t i = 0; i < n; i++) {
                if (parse_command(argv[i + 3], &cmds[i]) < 0) {
                        fprintf(stderr, "bench-pairtime: '%s': want NAME=COMMAND\n", argv[i + 3]);
                        return 2;
                }
                cmds[i].seconds = calloc((size_t)rounds, sizeof(double));
                cmds[i].ratios = calloc((size_t)rounds, sizeof(double));
                cmds[i].cpu = calloc((size_t)rounds, sizeof(double));
                cmds[i].cpu_ratios = calloc((size_t)rounds, sizeof(double));
                if (!cmds[i].seconds || !cmds[i].ratios || !cmds[i].cpu || !cmds[i].cpu_ratios)
                        return 1;
        }
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        if (run_rounds(cmds, n, rounds, warmup, &fa) < 0)
                return 1;
        printf("%-14s %12s %14s %12s %14s   (%ld rounds, shuffled, after %ld warm-up rounds)\n",
               "command", "median", "median ratio", "median CPU", "CPU ratio", rounds, warmup);
        for (size_t i = 0; i < n; i++)
                printf("%-14s %9.3f ms %13.3fx %9.3f ms %13.3fx\n", cmds[i].name,
                       median(cmds[i].seconds, (size_t)rounds) * 1e3,
                       median(cmds[i].ratios, (size_t)rounds),
                       median(cmds[i].cpu, (size_t)rounds) * 1e3,
                       median(cmds[i].cpu_ratios, (size_t)rounds));
        return 0;
}
