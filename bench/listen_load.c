/* SPDX-License-Identifier: MIT */
/*
 * The benchmark's load: N listening TCP sockets and M bound UDP sockets spread
 * over P child processes, all on 127.0.0.1 and ::1, each port on both (see
 * slice_of).  Prints, once every child has its sockets, one line for each of the
 * children that come first, in the middle and last in pid order (as a walk
 * of /proc meets them), "first PID PORT...", "middle ..." and "last ...",
 * with a few TCP ports it alone listens on, on 127.0.0.1 and ::1 both (for
 * `rsap who PORT`), then "ready"; then waits
 * for SIGTERM, SIGINT or SIGHUP and takes every child down with it.
 * The children also die with the parent (PR_SET_PDEATHSIG), so a killed
 * benchmark leaves nothing listening.
 *
 *     listen_load TCP UDP PROCS
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* How many TCP ports each child reports. */
#define SAMPLE_PORTS 8

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
        (void)sig;
        stop_requested = 1;
}

/* Even-numbered sockets on 127.0.0.1, odd ones on ::1, so both families load. */
static int open_one(int type, unsigned index, unsigned want_port, unsigned *port_out)
{
        struct sockaddr_storage ss = { 0 };
        socklen_t len;
        int family = (index % 2) ? AF_INET6 : AF_INET;
        int fd = socket(family, type | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        if (family == AF_INET) {
                struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
                sin->sin_family = AF_INET;
                sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                sin->sin_port = htons((uint16_t)want_port);
                len = sizeof(*sin);
        } else {
                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
                sin6->sin6_family = AF_INET6;
                sin6->sin6_addr = in6addr_loopback;
                sin6->sin6_port = htons((uint16_t)want_port);
                len = sizeof(*sin6);
        }
        if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
            (type == SOCK_STREAM && listen(fd, 16) < 0) ||
            getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
                int err = -errno;
                close(fd);
                return err;
        }
        *port_out = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                             : ((struct sockaddr_in6 *)&ss)->sin6_port);
        return fd;
}

static void raise_fd_limit(unsigned wanted)
{
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < wanted) {
                rl.rlim_cur = wanted <= rl.rlim_max ? wanted : rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
}

/*
 * The ports: each child has its own slice of 10000-32767, below the
 * kernel's ephemeral range, so that tens of thousands of sockets neither
 * starve other programs of ephemeral ports nor wait on the kernel's search
 * for a free one, and every port the child takes is its own on both
 * families.  A port something else holds is passed over; a child whose
 * slice runs out takes ports the kernel picks.
 */
#define SLICES_FIRST 10000u
#define SLICES_END 32768u

struct slice {
        unsigned next, end;
};

static struct slice slice_of(unsigned index, unsigned procs)
{
        unsigned width = (SLICES_END - SLICES_FIRST) / procs;

        return (struct slice){ SLICES_FIRST + index * width, SLICES_FIRST + (index + 1) * width };
}

/* A socket on the next port of the slice, or any port once it ran out:
 * IPv4 and IPv6 sockets in turn, each pair on one port. */
static int open_next(struct slice *sl, int type, unsigned i, unsigned *port)
{
        unsigned family_port = *port; /* the pair's IPv4 port, for the IPv6 one */
        int fd;

        if (i % 2)
                return open_one(type, i, family_port, port);
        for (; sl->next < sl->end; sl->next++) {
                fd = open_one(type, i, sl->next, port);
                if (fd != -EADDRINUSE) {
                        sl->next++;
                        return fd;
                }
        }
        return open_one(type, i, 0, port);
}

/* A child: open its share, report its first TCP ports on the pipe, sleep
 * until killed. */
static void run_child(unsigned index, unsigned procs, unsigned n_tcp, unsigned n_udp,
                      int report_fd, pid_t parent)
{
        unsigned port = 0, sample[SAMPLE_PORTS] = { 0 };
        struct slice tcp = slice_of(index, procs), udp = tcp;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
                _exit(1); /* the parent died before the line above took effect */
        raise_fd_limit(n_tcp + n_udp + 64);
        for (unsigned i = 0; i < n_tcp + n_udp; i++) {
                bool is_tcp = i < n_tcp;
                unsigned k = is_tcp ? i : i - n_tcp;
                int fd = open_next(is_tcp ? &tcp : &udp, is_tcp ? SOCK_STREAM : SOCK_DGRAM, k,
                                   &port);

                if (fd == -EADDRINUSE && k % 2) /* ::1 has that port elsewhere */
                        fd = open_one(is_tcp ? SOCK_STREAM : SOCK_DGRAM, k, 0, &port);
                if (fd < 0) {
                        fprintf(stderr, "listen_load: socket %u: %s\n", i, strerror(-fd));
                        _exit(1);
                }
                if (is_tcp && k % 2 == 1 && k / 2 < SAMPLE_PORTS)
                        sample[k / 2] = port;
        }
        /* One line per child, its index then its first TCP ports, in one
         * write: shorter than PIPE_BUF, so no other child's line can cut
         * into it. */
        char line[16 + SAMPLE_PORTS * 8];
        int len = snprintf(line, sizeof(line), "%u", index);

        for (unsigned i = 0; i < SAMPLE_PORTS; i++)
                len += snprintf(line + len, sizeof(line) - (size_t)len, " %u", sample[i]);
        line[len++] = '\n';
        if (write(report_fd, line, (size_t)len) != len)
                _exit(1);
        close(report_fd);
        for (;;)
                pause();
}

/* The children first, in the middle and last by pid, with their ports. */
static void print_positions(const pid_t *kids, char (*lines)[256], unsigned procs)
{
        static const char *const names[] = { "first", "middle", "last" };
        unsigned *order = calloc(procs, sizeof(*order));

        if (!order)
                exit(1);
        for (unsigned i = 0; i < procs; i++) {
                unsigned j = i;

                for (; j > 0 && kids[order[j - 1]] > kids[i]; j--)
                        order[j] = order[j - 1];
                order[j] = i;
        }
        unsigned at[] = { 0, procs / 2, procs - 1 };
        for (unsigned k = 0; k < 3; k++)
                printf("%s %d %s", names[k], (int)kids[order[at[k]]], lines[order[at[k]]]);
        free(order);
}

static unsigned share(unsigned total, unsigned procs, unsigned i)
{
        return total / procs + (i < total % procs ? 1 : 0);
}

int main(int argc, char **argv)
{
        if (argc != 4) {
                fprintf(stderr, "usage: listen_load TCP UDP PROCS\n");
                return 2;
        }
        unsigned n_tcp = (unsigned)strtoul(argv[1], NULL, 10);
        unsigned n_udp = (unsigned)strtoul(argv[2], NULL, 10);
        unsigned procs = (unsigned)strtoul(argv[3], NULL, 10);
        if (procs == 0 || procs > 1000)
                return 2;
        pid_t *kids = calloc(procs, sizeof(*kids));
        int report[2];
        if (!kids || pipe(report) < 0)
                return 1;

        struct sigaction sa = { .sa_handler = on_stop };
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        /* Blocked until sigsuspend, so a signal between its check and the wait is not lost. */
        sigset_t stops;
        sigemptyset(&stops);
        sigaddset(&stops, SIGTERM);
        sigaddset(&stops, SIGINT);
        sigaddset(&stops, SIGHUP);
        sigprocmask(SIG_BLOCK, &stops, NULL);

        pid_t parent = getpid();
        for (unsigned i = 0; i < procs; i++) {
                kids[i] = fork();
                if (kids[i] < 0)
                        return 1;
                if (kids[i] == 0) {
                        close(report[0]);
                        run_child(i, procs, share(n_tcp, procs, i), share(n_udp, procs, i),
                                  report[1], parent);
                }
        }
        close(report[1]);

        /* Every child writes one line; EOF before that means one failed. */
        char (*lines)[256] = calloc(procs, sizeof(*lines));
        FILE *in = fdopen(report[0], "r");
        char line[256];
        unsigned ready = 0, index;
        int status = 0, skip;
        if (!lines)
                return 1;
        while (in && ready < procs && fgets(line, sizeof(line), in)) {
                if (sscanf(line, "%u %n", &index, &skip) != 1 || index >= procs ||
                    lines[index][0])
                        break; /* not a child's line: a bug here, not a failed child */
                snprintf(lines[index], sizeof(lines[index]), "%s", line + skip);
                ready++;
        }
        if (ready == procs) {
                print_positions(kids, lines, procs);
                printf("ready\n");
                fflush(stdout);
                sigset_t none;
                sigemptyset(&none);
                while (!stop_requested)
                        sigsuspend(&none);
        } else {
                fprintf(stderr, "listen_load: only %u of %u processes got ready\n", ready, procs);
                status = 1;
        }
        for (unsigned i = 0; i < procs; i++)
                kill(kids[i], SIGKILL);
        for (unsigned i = 0; i < procs; i++)
                waitpid(kids[i], NULL, 0);
        free(kids);
        free(lines);
        return status;
}
