/* SPDX-License-Identifier: MIT */
/*
 * The benchmark's load: N listening TCP sockets and M bound UDP sockets spread
 * over P child processes, all on 127.0.0.1 and ::1 with ports the kernel
 * picks.  Prints "ready PORT..." once every child has its sockets (the first
 * TCP ports of the middle child, for `rsap who PORT`), then waits
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
static int open_one(int type, unsigned index, unsigned *port_out)
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
                len = sizeof(*sin);
        } else {
                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
                sin6->sin6_family = AF_INET6;
                sin6->sin6_addr = in6addr_loopback;
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

/* A child: open its share, report its first TCP ports on the pipe, sleep
 * until killed. */
static void run_child(unsigned index, unsigned n_tcp, unsigned n_udp, int report_fd,
                      pid_t parent)
{
        unsigned port = 0, sample[SAMPLE_PORTS] = { 0 };

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
                _exit(1); /* the parent died before the line above took effect */
        raise_fd_limit(n_tcp + n_udp + 64);
        for (unsigned i = 0; i < n_tcp + n_udp; i++) {
                int fd = open_one(i < n_tcp ? SOCK_STREAM : SOCK_DGRAM, i, &port);
                if (fd < 0) {
                        fprintf(stderr, "listen_load: socket %u: %s\n", i, strerror(-fd));
                        _exit(1);
                }
                if (i < n_tcp && i < SAMPLE_PORTS)
                        sample[i] = port;
        }
        /* One line per child: its index, then its first TCP ports. */
        dprintf(report_fd, "%u ", index);
        for (unsigned i = 0; i < SAMPLE_PORTS; i++)
                dprintf(report_fd, "%u%c", sample[i], i + 1 < SAMPLE_PORTS ? ' ' : '\n');
        close(report_fd);
        for (;;)
                pause();
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
                        run_child(i, share(n_tcp, procs, i), share(n_udp, procs, i), report[1],
                                  parent);
                }
        }
        close(report[1]);

        /* Every child writes one line; EOF before that means one failed.  The
         * sample is the child in the middle of the pids, as a walk of /proc
         * meets them. */
        FILE *in = fdopen(report[0], "r");
        char line[256], sample[256] = "";
        unsigned ready = 0, index;
        int status = 0, skip;
        while (in && ready < procs && fgets(line, sizeof(line), in)) {
                ready++;
                if (sscanf(line, "%u %n", &index, &skip) == 1 && index == procs / 2)
                        snprintf(sample, sizeof(sample), "%s", line + skip);
        }
        if (ready == procs) {
                printf("ready %s", sample);
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
        return status;
}
