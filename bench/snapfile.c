/* SPDX-License-Identifier: MIT */
/*
 * What reading the cached snapshot into memory costs against mapping it, as
 * rsap did before a rewritten cache file could kill it with SIGBUS:
 *
 *     bench-snapfile SNAPSHOT [ROUNDS]
 *
 * Each round runs both ways in a fresh child process, in alternating order:
 * "map" (open, mmap, rsap_iana_open_memory: the old code) and "read"
 * (rsap_iana_open_file: the whole file read into owned memory), each
 * followed by one lookup (1647/tcp, record decoded) and the free.  The child
 * reports the wall time of open+lookup and how much its resident set grew.
 * Printed: the medians of each and the median of the per-round ratios
 * read/map.  The page cache is warm (the file was just written or read), as
 * it is for a lookup after `rsap update`.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rsap/iana.h>

struct sample {
        double ms;
        double rss_kib;
};

static double now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static long resident_pages(void)
{
        long size = 0, resident = 0;
        FILE *f = fopen("/proc/self/statm", "r");

        if (f) {
                if (fscanf(f, "%ld %ld", &size, &resident) != 2)
                        resident = 0;
                fclose(f);
        }
        return resident;
}

static int open_mapped(const char *path, struct rsap_iana **reg, void **map, size_t *size)
{
        struct stat st;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0 || fstat(fd, &st) < 0)
                return -1;
        *size = (size_t)st.st_size;
        *map = mmap(NULL, *size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (*map == MAP_FAILED)
                return -1;
        return rsap_iana_open_memory(*map, *size, reg);
}

/* In the child: one open + lookup, the way named; the result on fd. */
static void measure(const char *path, bool read_whole, int out)
{
        struct rsap_iana *reg = NULL;
        struct rsap_record rec;
        struct sample s;
        uint32_t ids[16];
        void *map = NULL;
        size_t size = 0, n;
        long before = resident_pages();
        double t0 = now_ms();
        int r = read_whole ? rsap_iana_open_file(path, &reg)
                           : open_mapped(path, &reg, &map, &size);

        if (r < 0)
                _exit(1);
        n = rsap_iana_find_port(reg, 1647, RSAP_PROTO_TCP, ids, 16);
        if (n > 0)
                rsap_iana_record(reg, ids[0], &rec);
        s.ms = now_ms() - t0;
        s.rss_kib = (double)(resident_pages() - before) * (double)sysconf(_SC_PAGESIZE) / 1024;
        rsap_iana_free(reg);
        if (map)
                munmap(map, size);
        if (write(out, &s, sizeof(s)) != sizeof(s))
                _exit(1);
        _exit(n > 0 ? 0 : 1);
}

static int run_child(const char *path, bool read_whole, struct sample *s)
{
        int fds[2], status;
        pid_t pid;

        if (pipe(fds) < 0)
                return -1;
        pid = fork();
        if (pid == 0) {
                close(fds[0]);
                measure(path, read_whole, fds[1]);
        }
        close(fds[1]);
        if (pid < 0 || read(fds[0], s, sizeof(*s)) != sizeof(*s)) {
                close(fds[0]);
                return -1;
        }
        close(fds[0]);
        waitpid(pid, &status, 0);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
        qsort(v, n, sizeof(*v), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
        size_t rounds = argc > 2 ? strtoul(argv[2], NULL, 10) : 200;
        double *map_ms, *read_ms, *map_rss, *read_rss, *ratio;

        if (argc < 2 || rounds == 0) {
                fprintf(stderr, "usage: bench-snapfile SNAPSHOT [ROUNDS]\n");
                return 2;
        }
        map_ms = calloc(rounds, sizeof(double));
        read_ms = calloc(rounds, sizeof(double));
        map_rss = calloc(rounds, sizeof(double));
        read_rss = calloc(rounds, sizeof(double));
        ratio = calloc(rounds, sizeof(double));
        if (!map_ms || !read_ms || !map_rss || !read_rss || !ratio)
                return 1;
        for (size_t i = 0; i < rounds; i++) {
                struct sample m, r;
                bool map_first = i % 2 == 0;

                if ((map_first && run_child(argv[1], false, &m) < 0) ||
                    run_child(argv[1], true, &r) < 0 ||
                    (!map_first && run_child(argv[1], false, &m) < 0)) {
                        fprintf(stderr, "bench-snapfile: %s does not open\n", argv[1]);
                        return 1;
                }
                map_ms[i] = m.ms;
                read_ms[i] = r.ms;
                map_rss[i] = m.rss_kib;
                read_rss[i] = r.rss_kib;
                ratio[i] = r.ms / (m.ms > 0 ? m.ms : 1e-6);
        }
        printf("rounds %zu, open + lookup of 1647/tcp in a fresh process, medians:\n", rounds);
        printf("  map  (old)  %8.3f ms  RSS +%7.0f KiB\n", median(map_ms, rounds),
               median(map_rss, rounds));
        printf("  read (new)  %8.3f ms  RSS +%7.0f KiB\n", median(read_ms, rounds),
               median(read_rss, rounds));
        printf("  time read/map, median of paired ratios: %.2fx\n", median(ratio, rounds));
        return 0;
}
