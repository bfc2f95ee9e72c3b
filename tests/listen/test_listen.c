/* SPDX-License-Identifier: MIT */
/*
 * The listen library against real sockets: each test opens its own
 * listeners on loopback and finds them by inode in what rsap_listen_collect
 * reports, so other sockets on the host do not matter.
 *
 *     test_listen            on the host
 *     test_listen --netns    in a network namespace of its own, where the
 *                            wildcard tests run too (exit 77 when none may
 *                            be made)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <rsap/answer.h>
#include <rsap/host.h>
#include <rsap/iana.h>
#include <rsap/json.h>
#include <rsap/listen.h>
#include <rsap/workflow.h>

#define SKIP_STATUS 77
#define KID_NAME "rsap-listen-kid"

static bool in_netns;
static bool have_ipv6;

/* ---- sockets ------------------------------------------------------------ */

struct opened {
        int fd;
        uint16_t port;
        uint64_t inode;
};

static int family_of(const char *address)
{
        return strchr(address, ':') ? AF_INET6 : AF_INET;
}

/* Opens a bound (and for TCP, listening) socket; port 0 lets the kernel
 * choose.  fd is -errno on failure. */
static struct opened open_socket(int type, const char *address, uint16_t port, int flags)
{
        struct opened o = { .fd = -1 };
        struct sockaddr_storage ss = { 0 };
        socklen_t len;
        int family = family_of(address), one = 1;
        struct stat st;

        o.fd = socket(family, type | SOCK_CLOEXEC, 0);
        if (o.fd < 0) {
                o.fd = -errno;
                return o;
        }
        if (flags & 1)
                setsockopt(o.fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
        if (family == AF_INET6)
                setsockopt(o.fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        if (family == AF_INET) {
                struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

                sin->sin_family = AF_INET;
                sin->sin_port = htons(port);
                inet_pton(AF_INET, address, &sin->sin_addr);
                len = sizeof(*sin);
        } else {
                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

                sin6->sin6_family = AF_INET6;
                sin6->sin6_port = htons(port);
                inet_pton(AF_INET6, address, &sin6->sin6_addr);
                len = sizeof(*sin6);
        }
        if (bind(o.fd, (struct sockaddr *)&ss, len) < 0 ||
            (type == SOCK_STREAM && listen(o.fd, 8) < 0) ||
            getsockname(o.fd, (struct sockaddr *)&ss, &len) < 0 || fstat(o.fd, &st) < 0) {
                int err = -errno;

                close(o.fd);
                o.fd = err;
                return o;
        }
        o.port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                         : ((struct sockaddr_in6 *)&ss)->sin6_port);
        o.inode = (uint64_t)st.st_ino;
        return o;
}

static struct opened must_open(int type, const char *address, uint16_t port, int flags)
{
        struct opened o = open_socket(type, address, port, flags);

        if (o.fd < 0)
                fail_msg("cannot bind %s port %u: %s", address, port, strerror(-o.fd));
        return o;
}

#define REUSEPORT 1

/* ---- collecting --------------------------------------------------------- */

static struct rsap_listen_list *collect(const struct rsap_listen_filter *f)
{
        struct rsap_listen_list *list = NULL;
        int r = rsap_listen_collect(f, &list);

        if (r < 0)
                fail_msg("rsap_listen_collect: %s", strerror(-r));
        return list;
}

static struct rsap_listen_list *collect_port(uint16_t port, bool owners)
{
        struct rsap_listen_filter f;

        rsap_listen_filter_init(&f);
        f.port_low = f.port_high = port;
        f.find_owners = owners;
        return collect(&f);
}

/* For a child process, where a failed assertion would not reach cmocka. */
static int collect_port_quiet(uint16_t port, struct rsap_listen_list **list)
{
        struct rsap_listen_filter f;

        rsap_listen_filter_init(&f);
        f.port_low = f.port_high = port;
        return rsap_listen_collect(&f, list);
}

static const struct rsap_listen_socket *find_inode(const struct rsap_listen_list *list,
                                                   uint64_t inode)
{
        for (size_t i = 0; i < list->count; i++) {
                if (list->sockets[i].inode == inode)
                        return &list->sockets[i];
        }
        return NULL;
}

static const struct rsap_listen_owner *find_owner(const struct rsap_listen_socket *s, pid_t pid)
{
        for (size_t i = 0; i < s->n_owners; i++) {
                if (s->owners[i].pid == pid)
                        return &s->owners[i];
        }
        return NULL;
}

static void own_command(char *buf, size_t size)
{
        FILE *f = fopen("/proc/self/comm", "re");

        assert_non_null(f);
        assert_non_null(fgets(buf, (int)size, f));
        buf[strcspn(buf, "\n")] = '\0';
        fclose(f);
}

/* The socket is listed once, with these fields, held by this process alone. */
static void assert_reported(const struct opened *o, enum rsap_proto proto, const char *address)
{
        struct rsap_listen_list *list = collect_port(o->port, true);
        const struct rsap_listen_socket *s = find_inode(list, o->inode);
        char command[RSAP_LISTEN_COMMAND_SIZE];

        own_command(command, sizeof(command));
        assert_non_null(s);
        assert_int_equal(s->proto, proto);
        assert_int_equal(s->family, family_of(address));
        assert_string_equal(s->address, address);
        assert_int_equal(s->port, o->port);
        assert_int_equal(s->uid, geteuid());
        assert_true(list->owners_looked_up);
        assert_false(s->owners_hidden);
        assert_int_equal(s->n_owners, 1);
        assert_int_equal(s->owners[0].pid, getpid());
        assert_string_equal(s->owners[0].command, command);
        assert_int_equal(s->owners[0].uid, geteuid());
        if (geteuid() == 0 && !in_netns) {
                assert_non_null(s->user);
                assert_string_equal(s->user, "root");
        }
        rsap_listen_list_free(list);
}

static void skip_without_ipv6(void)
{
        if (!have_ipv6)
                skip();
}

/* ---- the tests: one socket each ----------------------------------------- */

static void test_tcp4_loopback(void **state)
{
        struct opened o = must_open(SOCK_STREAM, "127.0.0.1", 0, 0);

        (void)state;
        assert_reported(&o, RSAP_PROTO_TCP, "127.0.0.1");
        close(o.fd);
}

static void test_tcp4_other_loopback(void **state)
{
        struct opened o = must_open(SOCK_STREAM, "127.0.0.2", 0, 0);

        (void)state;
        assert_reported(&o, RSAP_PROTO_TCP, "127.0.0.2");
        close(o.fd);
}

static void test_tcp6_loopback(void **state)
{
        (void)state;
        skip_without_ipv6();
        struct opened o = must_open(SOCK_STREAM, "::1", 0, 0);

        assert_reported(&o, RSAP_PROTO_TCP, "::1");
        close(o.fd);
}

static void test_udp4_loopback(void **state)
{
        struct opened o = must_open(SOCK_DGRAM, "127.0.0.1", 0, 0);

        (void)state;
        assert_reported(&o, RSAP_PROTO_UDP, "127.0.0.1");
        close(o.fd);
}

static void test_udp6_loopback(void **state)
{
        (void)state;
        skip_without_ipv6();
        struct opened o = must_open(SOCK_DGRAM, "::1", 0, 0);

        assert_reported(&o, RSAP_PROTO_UDP, "::1");
        close(o.fd);
}

/* Wildcard addresses reach beyond loopback: only inside our namespace. */
static void test_wildcards(void **state)
{
        (void)state;
        if (!in_netns)
                skip();
        struct opened tcp4 = must_open(SOCK_STREAM, "0.0.0.0", 0, 0);
        struct opened udp4 = must_open(SOCK_DGRAM, "0.0.0.0", 0, 0);

        assert_reported(&tcp4, RSAP_PROTO_TCP, "0.0.0.0");
        assert_reported(&udp4, RSAP_PROTO_UDP, "0.0.0.0");
        if (have_ipv6) {
                struct opened tcp6 = must_open(SOCK_STREAM, "::", 0, 0);
                struct rsap_listen_list *list = collect_port(tcp6.port, false);

                assert_reported(&tcp6, RSAP_PROTO_TCP, "::");
                assert_true(find_inode(list, tcp6.inode)->v6only);
                rsap_listen_list_free(list);
                close(tcp6.fd);
        }
        close(tcp4.fd);
        close(udp4.fd);
}

/* ---- groups, sharing, closing ------------------------------------------- */

static void test_reuseport_group(void **state)
{
        struct opened tcp[3], udp[2];

        (void)state;
        tcp[0] = must_open(SOCK_STREAM, "127.0.0.1", 0, REUSEPORT);
        for (size_t i = 1; i < 3; i++)
                tcp[i] = must_open(SOCK_STREAM, "127.0.0.1", tcp[0].port, REUSEPORT);
        udp[0] = must_open(SOCK_DGRAM, "127.0.0.1", 0, REUSEPORT);
        udp[1] = must_open(SOCK_DGRAM, "127.0.0.1", udp[0].port, REUSEPORT);

        struct rsap_listen_list *list = collect_port(tcp[0].port, true);
        for (size_t i = 0; i < 3; i++) {
                const struct rsap_listen_socket *s = find_inode(list, tcp[i].inode);

                assert_non_null(s);
                assert_int_equal(s->port, tcp[0].port);
                assert_non_null(find_owner(s, getpid()));
        }
        rsap_listen_list_free(list);
        list = collect_port(udp[0].port, true);
        for (size_t i = 0; i < 2; i++)
                assert_non_null(find_inode(list, udp[i].inode));
        rsap_listen_list_free(list);
        for (size_t i = 0; i < 3; i++)
                close(tcp[i].fd);
        for (size_t i = 0; i < 2; i++)
                close(udp[i].fd);
}

struct kid {
        pid_t pid;
        int control; /* closing it ends the child */
        struct opened own; /* a socket the child opened after the fork */
};

/* A child named KID_NAME holding whatever was open at the fork, and a UDP
 * socket of its own; it lives until control is closed. */
static struct kid start_kid(void)
{
        int to_kid[2], from_kid[2];
        struct kid k = { 0 };

        assert_int_equal(pipe2(to_kid, O_CLOEXEC), 0);
        assert_int_equal(pipe2(from_kid, O_CLOEXEC), 0);
        k.pid = fork();
        assert_true(k.pid >= 0);
        if (k.pid == 0) {
                char byte;
                struct opened own;

                prctl(PR_SET_NAME, KID_NAME);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                own = open_socket(SOCK_DGRAM, "127.0.0.1", 0, 0);
                if (write(from_kid[1], &own, sizeof(own)) != sizeof(own))
                        _exit(1);
                close(to_kid[1]);
                while (read(to_kid[0], &byte, 1) > 0)
                        ;
                _exit(0);
        }
        close(to_kid[0]);
        close(from_kid[1]);
        assert_int_equal(read(from_kid[0], &k.own, sizeof(k.own)), sizeof(k.own));
        close(from_kid[0]);
        assert_true(k.own.fd >= 0);
        k.control = to_kid[1];
        return k;
}

static void stop_kid(struct kid *k)
{
        int status;

        close(k->control);
        assert_int_equal(waitpid(k->pid, &status, 0), k->pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_shared_after_fork(void **state)
{
        struct opened shared = must_open(SOCK_STREAM, "127.0.0.1", 0, 0);
        struct kid k = start_kid();
        struct rsap_listen_list *list = collect_port(shared.port, true);
        const struct rsap_listen_socket *s = find_inode(list, shared.inode);
        char command[RSAP_LISTEN_COMMAND_SIZE];

        (void)state;
        own_command(command, sizeof(command));
        assert_non_null(s);
        assert_int_equal(s->n_owners, 2);
        assert_true(s->owners[0].pid < s->owners[1].pid);
        assert_non_null(find_owner(s, getpid()));
        assert_string_equal(find_owner(s, getpid())->command, command);
        assert_non_null(find_owner(s, k.pid));
        assert_string_equal(find_owner(s, k.pid)->command, KID_NAME);
        rsap_listen_list_free(list);

        /* The child's own socket is the child's alone. */
        list = collect_port(k.own.port, true);
        s = find_inode(list, k.own.inode);
        assert_non_null(s);
        assert_int_equal(s->n_owners, 1);
        assert_int_equal(s->owners[0].pid, k.pid);
        assert_string_equal(s->owners[0].command, KID_NAME);
        rsap_listen_list_free(list);

        /* Closed in the parent, it stays the child's. */
        close(shared.fd);
        list = collect_port(shared.port, true);
        s = find_inode(list, shared.inode);
        assert_non_null(s);
        assert_int_equal(s->n_owners, 1);
        assert_int_equal(s->owners[0].pid, k.pid);
        rsap_listen_list_free(list);
        stop_kid(&k);
}

/* A child holding the socket fd (and what else was open at the fork but
 * the descriptors in [first, last]); it lives until *control is closed. */
static pid_t start_lean_kid(int first, int last, int *control)
{
        int to_kid[2], from_kid[2];
        char byte = 0;
        pid_t pid;

        assert_int_equal(pipe2(to_kid, O_CLOEXEC), 0);
        assert_int_equal(pipe2(from_kid, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                close(to_kid[1]);
                for (int fd = first; fd <= last; fd++)
                        close(fd);
                if (write(from_kid[1], &byte, 1) != 1)
                        _exit(1);
                while (read(to_kid[0], &byte, 1) > 0)
                        ;
                _exit(0);
        }
        close(to_kid[0]);
        close(from_kid[1]);
        assert_int_equal(read(from_kid[0], &byte, 1), 1);
        close(from_kid[0]);
        *control = to_kid[1];
        return pid;
}

/*
 * The walk stops inside a process once every socket has an owner: this
 * process, with thousands of descriptors before the socket's, is still
 * being read on one thread when another finds the socket in the child that
 * shares it; it is left half read, and must then be read whole as the
 * child's parent.  Each round makes that likely where there are two CPUs.
 */
static void test_shared_with_a_busy_parent(void **state)
{
        enum { BUSY = 4000 };
        int first = -1, last = -1, control;
        struct opened shared;
        struct rlimit files, wanted;
        pid_t kid;

        (void)state;
        /* A user's soft limit is often 1024: raise it for the test's own
         * descriptors, or skip where the hard limit does not allow them. */
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &files), 0);
        wanted = files;
        if (wanted.rlim_cur < BUSY + 256)
                wanted.rlim_cur = BUSY + 256;
        if (wanted.rlim_max != RLIM_INFINITY && wanted.rlim_cur > wanted.rlim_max) {
                fprintf(stderr, "skipped: a hard limit of %llu open files\n",
                        (unsigned long long)files.rlim_max);
                skip();
        }
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &wanted), 0);
        for (int i = 0; i < BUSY; i++) {
                last = open("/dev/null", O_RDONLY | O_CLOEXEC);
                assert_true(last >= 0);
                if (first < 0)
                        first = last;
        }
        shared = must_open(SOCK_STREAM, "127.0.0.1", 0, 0);
        kid = start_lean_kid(first, last, &control);
        for (int round = 0; round < 10; round++) {
                struct rsap_listen_list *list = collect_port(shared.port, true);
                const struct rsap_listen_socket *s = find_inode(list, shared.inode);

                assert_non_null(s);
                assert_int_equal(s->n_owners, 2);
                assert_non_null(find_owner(s, getpid()));
                assert_non_null(find_owner(s, kid));
                rsap_listen_list_free(list);
        }
        close(control);
        assert_int_equal(waitpid(kid, NULL, 0), kid);
        close(shared.fd);
        for (int fd = first; fd <= last; fd++)
                close(fd);
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &files), 0);
}

/* A process holding one socket in three descriptors is one owner, and so is
 * its child that inherited all three: the owner lists are exact. */
static void test_one_owner_per_process(void **state)
{
        struct opened o = must_open(SOCK_STREAM, "127.0.0.1", 0, 0);
        int copies[2] = { fcntl(o.fd, F_DUPFD_CLOEXEC, 0), fcntl(o.fd, F_DUPFD_CLOEXEC, 0) };
        struct rsap_listen_list *list;
        const struct rsap_listen_socket *s;
        struct kid k;

        (void)state;
        assert_true(copies[0] >= 0 && copies[1] >= 0);
        list = collect_port(o.port, true);
        s = find_inode(list, o.inode);
        assert_non_null(s);
        assert_int_equal(s->n_owners, 1);
        assert_int_equal(s->owners[0].pid, getpid());
        rsap_listen_list_free(list);

        k = start_kid();
        list = collect_port(o.port, true);
        s = find_inode(list, o.inode);
        assert_non_null(s);
        assert_int_equal(s->n_owners, 2);
        assert_int_equal(s->owners[0].pid, getpid() < k.pid ? getpid() : k.pid);
        assert_int_equal(s->owners[1].pid, getpid() < k.pid ? k.pid : getpid());
        rsap_listen_list_free(list);

        close(o.fd);
        close(copies[0]);
        close(copies[1]);
        list = collect_port(o.port, true);
        s = find_inode(list, o.inode);
        assert_non_null(s);
        assert_int_equal(s->n_owners, 1);
        assert_int_equal(s->owners[0].pid, k.pid);
        rsap_listen_list_free(list);
        stop_kid(&k);
}

static void test_closed_is_gone(void **state)
{
        struct opened tcp = must_open(SOCK_STREAM, "127.0.0.1", 0, 0);
        struct opened udp = must_open(SOCK_DGRAM, "127.0.0.1", 0, 0);
        struct rsap_listen_list *list;

        (void)state;
        list = collect_port(tcp.port, false);
        assert_non_null(find_inode(list, tcp.inode));
        rsap_listen_list_free(list);
        close(tcp.fd);
        list = collect_port(tcp.port, false);
        assert_null(find_inode(list, tcp.inode));
        rsap_listen_list_free(list);

        list = collect_port(udp.port, true);
        assert_non_null(find_inode(list, udp.inode));
        rsap_listen_list_free(list);
        close(udp.fd);
        list = collect_port(udp.port, true);
        assert_null(find_inode(list, udp.inode));
        rsap_listen_list_free(list);
}

/* ---- filters ------------------------------------------------------------ */

/* A TCP listener and a UDP socket on the same port number. */
static void open_pair(struct opened *tcp, struct opened *udp)
{
        for (int attempt = 0; attempt < 50; attempt++) {
                *tcp = must_open(SOCK_STREAM, "127.0.0.1", 0, 0);
                *udp = open_socket(SOCK_DGRAM, "127.0.0.1", tcp->port, 0);
                if (udp->fd >= 0)
                        return;
                close(tcp->fd);
        }
        fail_msg("no port free for both TCP and UDP");
}

static void test_protocol_filter(void **state)
{
        struct opened tcp, udp;
        struct rsap_listen_filter f;
        struct rsap_listen_list *list;

        (void)state;
        open_pair(&tcp, &udp);
        rsap_listen_filter_init(&f);
        f.port_low = f.port_high = tcp.port;
        f.protocols = 1u << RSAP_PROTO_UDP;
        list = collect(&f);
        assert_null(find_inode(list, tcp.inode));
        assert_non_null(find_inode(list, udp.inode));
        rsap_listen_list_free(list);

        f.protocols = 1u << RSAP_PROTO_TCP;
        list = collect(&f);
        assert_non_null(find_inode(list, tcp.inode));
        assert_null(find_inode(list, udp.inode));
        rsap_listen_list_free(list);

        f.protocols = (1u << RSAP_PROTO_TCP) | (1u << RSAP_PROTO_UDP);
        list = collect(&f);
        assert_non_null(find_inode(list, tcp.inode));
        assert_non_null(find_inode(list, udp.inode));
        rsap_listen_list_free(list);
        close(tcp.fd);
        close(udp.fd);
}

static void test_port_range_filter(void **state)
{
        struct opened o = must_open(SOCK_STREAM, "127.0.0.1", 0, 0);
        struct rsap_listen_filter f;
        struct rsap_listen_list *list;

        (void)state;
        rsap_listen_filter_init(&f);
        f.find_owners = false;
        f.port_low = o.port > 5 ? o.port - 5 : 0;
        f.port_high = o.port;
        list = collect(&f);
        assert_non_null(find_inode(list, o.inode));
        for (size_t i = 0; i < list->count; i++) {
                assert_true(list->sockets[i].port >= f.port_low);
                assert_true(list->sockets[i].port <= f.port_high);
        }
        rsap_listen_list_free(list);

        f.port_low = o.port + 1;
        f.port_high = UINT16_MAX;
        list = collect(&f);
        assert_null(find_inode(list, o.inode));
        rsap_listen_list_free(list);
        close(o.fd);
}

/* TCP and UDP, IPv4 and IPv6, all on one port. */
struct port_set {
        struct opened s[4];
};

static const char *const set_addresses[4] = { "127.0.0.1", "::1", "127.0.0.1", "::1" };

static void close_set(struct port_set *ps)
{
        for (size_t i = 0; i < 4; i++)
                if (ps->s[i].fd >= 0)
                        close(ps->s[i].fd);
}

/* The set on port (0: the kernel picks it); false when a bind fails. */
static bool open_set(struct port_set *ps, uint16_t port)
{
        for (size_t i = 0; i < 4; i++)
                ps->s[i].fd = -1;
        for (size_t i = 0; i < 4; i++) {
                if (!have_ipv6 && i % 2)
                        continue;
                ps->s[i] = open_socket(i < 2 ? SOCK_STREAM : SOCK_DGRAM, set_addresses[i],
                                       port, 0);
                if (ps->s[i].fd < 0) {
                        close_set(ps);
                        return false;
                }
                port = ps->s[i].port;
        }
        return true;
}

/* The set's sockets, and none of another port. */
static void assert_only_set(const struct rsap_listen_list *list, const struct port_set *ps)
{
        for (size_t i = 0; i < 4; i++)
                if (ps->s[i].fd >= 0)
                        assert_non_null(find_inode(list, ps->s[i].inode));
        for (size_t i = 0; i < list->count; i++)
                assert_int_equal(list->sockets[i].port, ps->s[0].port);
}

/*
 * One port asked: the kernel filters on it (bytecode and source port), and
 * TCP's two families come in one dump.  A second set sits on the port with
 * its bytes swapped, where a port put in the request in the wrong byte
 * order would find sockets; a third on a port of the kernel's choosing.
 */
static void test_one_port_filter(void **state)
{
        struct port_set mine, swapped;
        struct opened other = must_open(SOCK_STREAM, "127.0.0.1", 0, 0);
        struct rsap_listen_list *list;
        int tries = 0;

        (void)state;
        for (;; tries++) {
                assert_true(tries < 100);
                if (!open_set(&mine, 0))
                        continue;
                uint16_t port = mine.s[0].port;
                uint16_t swap = (uint16_t)(port << 8 | port >> 8);

                if (swap != port && swap != other.port && open_set(&swapped, swap))
                        break;
                close_set(&mine);
        }
        list = collect_port(mine.s[0].port, false);
        assert_only_set(list, &mine);
        rsap_listen_list_free(list);
        list = collect_port(swapped.s[0].port, false);
        assert_only_set(list, &swapped);
        rsap_listen_list_free(list);
        close_set(&mine);
        close_set(&swapped);
        close(other.fd);
}

static void test_uid_filter(void **state)
{
        struct opened o = must_open(SOCK_STREAM, "127.0.0.1", 0, 0);
        struct rsap_listen_filter f;
        struct rsap_listen_list *list;

        (void)state;
        rsap_listen_filter_init(&f);
        f.port_low = f.port_high = o.port;
        f.match_uid = true;
        f.uid = geteuid();
        list = collect(&f);
        assert_non_null(find_inode(list, o.inode));
        rsap_listen_list_free(list);
        f.uid = geteuid() + 1;
        list = collect(&f);
        assert_null(find_inode(list, o.inode));
        rsap_listen_list_free(list);
        close(o.fd);
}

static void test_pid_filter(void **state)
{
        struct opened shared = must_open(SOCK_STREAM, "127.0.0.1", 0, 0);
        struct kid k = start_kid();
        struct opened mine = must_open(SOCK_STREAM, "127.0.0.1", 0, 0);
        struct rsap_listen_filter f;
        struct rsap_listen_list *list;
        const struct rsap_listen_socket *s;

        (void)state;
        rsap_listen_filter_init(&f);
        f.match_pid = true;
        f.pid = k.pid;
        list = collect(&f);
        assert_non_null(find_inode(list, k.own.inode));
        s = find_inode(list, shared.inode);
        assert_non_null(s);
        assert_int_equal(s->n_owners, 2); /* every owner, not only the one asked for */
        assert_null(find_inode(list, mine.inode));
        rsap_listen_list_free(list);

        f.pid = getpid();
        f.find_owners = false;
        list = collect(&f);
        assert_non_null(find_inode(list, mine.inode));
        assert_non_null(find_inode(list, shared.inode));
        assert_null(find_inode(list, k.own.inode));
        assert_false(list->owners_looked_up);
        rsap_listen_list_free(list);
        stop_kid(&k);

        /* A process that is gone holds nothing. */
        f.pid = k.pid;
        list = collect(&f);
        assert_int_equal(list->count, 0);
        rsap_listen_list_free(list);
        close(shared.fd);
        close(mine.fd);
}

static void test_without_owners(void **state)
{
        struct opened o = must_open(SOCK_STREAM, "127.0.0.1", 0, 0);
        struct rsap_listen_list *list = collect_port(o.port, false);
        const struct rsap_listen_socket *s = find_inode(list, o.inode);

        (void)state;
        assert_non_null(s);
        assert_false(list->owners_looked_up);
        assert_int_equal(s->n_owners, 0);
        assert_false(s->owners_hidden);
        rsap_listen_list_free(list);
        close(o.fd);
}

/* ---- sources and order -------------------------------------------------- */

static void test_procfs_matches_netlink(void **state)
{
        struct opened o[4];
        size_t n = 0;
        struct rsap_listen_filter f;
        struct rsap_listen_list *netlink, *procfs;

        (void)state;
        o[n++] = must_open(SOCK_STREAM, "127.0.0.1", 0, 0);
        o[n++] = must_open(SOCK_DGRAM, "127.0.0.1", 0, 0);
        if (have_ipv6) {
                o[n++] = must_open(SOCK_STREAM, "::1", 0, 0);
                o[n++] = must_open(SOCK_DGRAM, "::1", 0, 0);
        }
        rsap_listen_filter_init(&f);
        f.source = RSAP_LISTEN_SOURCE_NETLINK;
        netlink = collect(&f);
        f.source = RSAP_LISTEN_SOURCE_PROCFS;
        procfs = collect(&f);
        assert_int_equal(netlink->source, RSAP_LISTEN_SOURCE_NETLINK);
        assert_int_equal(procfs->source, RSAP_LISTEN_SOURCE_PROCFS);
        for (size_t i = 0; i < n; i++) {
                const struct rsap_listen_socket *a = find_inode(netlink, o[i].inode);
                const struct rsap_listen_socket *b = find_inode(procfs, o[i].inode);

                assert_non_null(a);
                assert_non_null(b);
                assert_int_equal(a->proto, b->proto);
                assert_int_equal(a->family, b->family);
                assert_string_equal(a->address, b->address);
                assert_int_equal(a->port, b->port);
                assert_int_equal(a->uid, b->uid);
                assert_int_equal(a->n_owners, 1);
                assert_int_equal(b->n_owners, 1);
                assert_int_equal(b->owners[0].pid, getpid());
                close(o[i].fd);
        }
        rsap_listen_list_free(netlink);
        rsap_listen_list_free(procfs);
}

static void test_sorted(void **state)
{
        struct opened a = must_open(SOCK_STREAM, "127.0.0.1", 0, 0);
        struct opened b = must_open(SOCK_DGRAM, "127.0.0.1", 0, 0);
        struct rsap_listen_filter f;
        struct rsap_listen_list *list;

        (void)state;
        rsap_listen_filter_init(&f);
        f.find_owners = false;
        list = collect(&f);
        assert_true(list->count >= 2);
        for (size_t i = 1; i < list->count; i++) {
                const struct rsap_listen_socket *x = &list->sockets[i - 1], *y = &list->sockets[i];

                assert_true(x->proto <= y->proto);
                if (x->proto == y->proto)
                        assert_true(x->port <= y->port);
                if (x->proto == y->proto && x->port == y->port && x->family == y->family)
                        assert_true(memcmp(x->addr, y->addr, sizeof(x->addr)) <= 0);
                if (x->proto == y->proto && x->port == y->port && x->family != y->family)
                        assert_int_equal(x->family, AF_INET);
        }
        rsap_listen_list_free(list);
        close(a.fd);
        close(b.fd);
}

/* Without root, another user's socket is listed with its user, and its
 * owner is said to be hidden rather than guessed. */
static void test_hidden_owner_without_root(void **state)
{
        (void)state;
        if (geteuid() != 0 || in_netns)
                skip();
        struct opened o = must_open(SOCK_STREAM, "127.0.0.1", 0, 0);
        pid_t pid = fork();
        int status;

        assert_true(pid >= 0);
        if (pid == 0) {
                struct rsap_listen_list *list = NULL;
                const struct rsap_listen_socket *s;

                close(o.fd); /* so only the root parent holds it */
                if (setgid(65534) < 0 || setuid(65534) < 0)
                        _exit(10);
                if (collect_port_quiet(o.port, &list) < 0)
                        _exit(11);
                s = find_inode(list, o.inode);
                if (!s)
                        _exit(12);
                if (s->uid != 0 || !s->user || strcmp(s->user, "root") != 0)
                        _exit(13);
                if (!s->owners_hidden || s->n_owners != 0)
                        _exit(14);
                if (list->unreadable_processes == 0)
                        _exit(15);
                rsap_listen_list_free(list);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        close(o.fd);
}

/* ---- values built by hand: JSON and registration ------------------------ */

static struct rsap_listen_list *hand_made_list(void)
{
        struct rsap_listen_list *list = calloc(1, sizeof(*list));

        assert_non_null(list);
        list->sockets = calloc(2, sizeof(*list->sockets));
        assert_non_null(list->sockets);
        list->count = list->capacity = 2;
        list->source = RSAP_LISTEN_SOURCE_NETLINK;
        list->sockets[0] = (struct rsap_listen_socket){
                .proto = RSAP_PROTO_TCP, .family = AF_INET, .address = "127.0.0.1",
                .port = 22, .uid = 0, .user = "root", .inode = 1001,
        };
        list->sockets[1] = (struct rsap_listen_socket){
                .proto = RSAP_PROTO_UDP, .family = AF_INET6, .address = "::1",
                .port = 1023, .uid = 65534, .inode = 1002, .v6only = true,
        };
        return list;
}

static void test_json(void **state)
{
        struct rsap_iana *reg = NULL;
        struct rsap_listen_list *list = hand_made_list();
        struct rsap_listen_owner owner = { .pid = 42, .uid = 0, .user = "root",
                                           .command = "sshd" };
        json_t *json, *first, *second;
        char *whole, *streamed = NULL;
        size_t streamed_size = 0;
        FILE *out;

        (void)state;
        assert_int_equal(rsap_iana_open_builtin(&reg), 0);
        list->owners_looked_up = true;
        list->sockets[0].owners = &owner;
        list->sockets[0].n_owners = 1;
        list->sockets[1].owners_hidden = true;

        json = rsap_listen_list_to_json(list, reg, NULL);
        assert_non_null(json);
        assert_int_equal(json_array_size(json), 2);
        first = json_array_get(json, 0);
        second = json_array_get(json, 1);
        assert_string_equal(json_string_value(json_object_get(first, "protocol")), "tcp");
        assert_string_equal(json_string_value(json_object_get(first, "address")), "127.0.0.1");
        assert_int_equal(json_integer_value(json_object_get(first, "port")), 22);
        assert_string_equal(json_string_value(json_object_get(first, "service")), "ssh");
        assert_string_equal(json_string_value(json_object_get(first, "user")), "root");
        assert_true(json_is_null(json_object_get(first, "ipv6_only")));
        assert_true(json_is_true(json_object_get(first, "processes_visible")));
        json_t *process = json_array_get(json_object_get(first, "processes"), 0);
        assert_int_equal(json_integer_value(json_object_get(process, "pid")), 42);
        assert_string_equal(json_string_value(json_object_get(process, "command")), "sshd");
        assert_string_equal(json_string_value(json_object_get(process, "user")), "root");
        assert_true(json_is_null(json_object_get(second, "user")));
        assert_int_equal(json_integer_value(json_object_get(second, "uid")), 65534);
        assert_true(json_is_true(json_object_get(second, "ipv6_only")));
        assert_int_equal(json_array_size(json_object_get(second, "processes")), 0);
        assert_true(json_is_false(json_object_get(second, "processes_visible")));

        /* Streamed, the same bytes. */
        whole = json_dumps(json, RSAP_JSON_DUMP_FLAGS);
        out = open_memstream(&streamed, &streamed_size);
        assert_int_equal(rsap_listen_list_write_json(list, reg, NULL, out), 0);
        fclose(out);
        assert_string_equal(streamed, whole);
        free(whole);
        free(streamed);
        json_decref(json);

        /* No registry: no service.  No owners looked up: null processes. */
        list->owners_looked_up = false;
        json = rsap_listen_list_to_json(list, NULL, NULL);
        first = json_array_get(json, 0);
        assert_true(json_is_null(json_object_get(first, "service")));
        assert_true(json_is_null(json_object_get(first, "processes")));
        assert_true(json_is_null(json_object_get(first, "processes_visible")));
        json_decref(json);

        list->count = 0;
        json = rsap_listen_list_to_json(list, reg, NULL);
        whole = json_dumps(json, RSAP_JSON_DUMP_FLAGS);
        out = open_memstream(&streamed, &streamed_size);
        assert_int_equal(rsap_listen_list_write_json(list, reg, NULL, out), 0);
        fclose(out);
        assert_string_equal(streamed, whole);
        free(whole);
        free(streamed);
        json_decref(json);

        list->sockets[0].owners = NULL;
        rsap_listen_list_free(list);
        rsap_iana_free(reg);
}

/* IANA's assignment, or an active local one, registers a port; a lease does not. */
static void test_unregistered(void **state)
{
        struct rsap_iana *reg = NULL;
        struct rsap_listening_answer a = { .list = hand_made_list() };
        struct rsap_local_entry held[] = {
                { .kind = RSAP_LOCAL_LEASE, .port = 1023, .protocols = 1u << RSAP_PROTO_UDP,
                  .state = "live" },
                { .kind = RSAP_LOCAL_ASSIGNMENT, .port = 1023,
                  .protocols = 1u << RSAP_PROTO_UDP, .state = "active" },
        };
        struct rsap_local_list local = { held, 2 };

        (void)state;
        assert_int_equal(rsap_iana_open_builtin(&reg), 0);
        assert_true(rsap_listen_port_registered(reg, 22, RSAP_PROTO_TCP));
        assert_false(rsap_listen_port_registered(reg, 1023, RSAP_PROTO_UDP));
        assert_false(rsap_listen_port_registered(NULL, 22, RSAP_PROTO_TCP));
        rsap_listening_keep_unregistered(&a, reg);
        assert_int_equal(a.list->count, 1);
        assert_int_equal(a.list->sockets[0].port, 1023);
        rsap_listening_answer_clear(&a);

        a.list = hand_made_list();
        rsap_listening_keep_unregistered(&a, NULL);
        assert_int_equal(a.list->count, 2);
        rsap_listening_answer_clear(&a);

        /* The assignment outranks the lease, and it registers 1023/udp. */
        a.list = hand_made_list();
        assert_int_equal(rsap_listening_join(&a, &local), 0);
        assert_null(rsap_listening_holding(&a, 0));
        assert_ptr_equal(rsap_listening_holding(&a, 1), &held[1]);
        rsap_listening_keep_unregistered(&a, reg);
        assert_int_equal(a.list->count, 0);
        rsap_listening_answer_clear(&a);

        /* A lease alone holds it without registering it. */
        a.list = hand_made_list();
        local.n_entries = 1;
        assert_int_equal(rsap_listening_join(&a, &local), 0);
        assert_ptr_equal(rsap_listening_holding(&a, 1), &held[0]);
        rsap_listening_keep_unregistered(&a, reg);
        assert_int_equal(a.list->count, 1);
        assert_ptr_equal(rsap_listening_holding(&a, 0), &held[0]);
        rsap_listening_answer_clear(&a);
        rsap_iana_free(reg);
}

/* ---- answers from a list already collected ------------------------------ */

/* A port answer: from src->sockets when set, else from the kernel. */
static struct rsap_port_answer port_answer(const struct rsap_iana *reg,
                                           const struct rsap_listen_list *sockets, bool owners,
                                           uint16_t port, enum rsap_proto proto)
{
        struct rsap_answer_sources src = { .iana = reg, .listeners = true, .owners = owners,
                                           .sockets = sockets };
        struct rsap_port_answer a;
        enum rsap_answer_part failed;

        assert_int_equal(rsap_answer_port(&src, port, proto, &a, &failed), 0);
        assert_int_equal(a.listeners_error, 0);
        assert_non_null(a.listening.list);
        return a;
}

/*
 * The same sockets and owners.  How many processes could not be read is left
 * out: as another user, a walk for every socket meets all of them, a walk for
 * one port stops once it has its owners, and others' processes come and go.
 */
static bool same_sockets(const struct rsap_listen_list *a, const struct rsap_listen_list *b)
{
        struct rsap_listen_list a_copy = *a;

        a_copy.unreadable_processes = b->unreadable_processes;
        return rsap_listen_list_equal(&a_copy, b);
}

static void assert_same_port_answer(const struct rsap_iana *reg,
                                    const struct rsap_listen_list *every, bool owners,
                                    uint16_t port, enum rsap_proto proto)
{
        struct rsap_port_answer given = port_answer(reg, every, owners, port, proto);
        struct rsap_port_answer kernel = port_answer(reg, NULL, owners, port, proto);

        assert_true(kernel.listening.list->count > 0);
        assert_true(same_sockets(given.listening.list, kernel.listening.list));
        rsap_port_answer_clear(&given);
        rsap_port_answer_clear(&kernel);
}

/* TCP and UDP on one port, a neighbour on another: the answer built from
 * every socket of the host says what the kernel says of the port. */
static void test_answer_from_given_sockets(void **state)
{
        struct opened tcp = must_open(SOCK_STREAM, "127.0.0.1", 0, 0);
        struct opened udp = must_open(SOCK_DGRAM, "127.0.0.1", tcp.port, 0);
        struct opened other = must_open(SOCK_STREAM, "127.0.0.1", 0, 0);
        struct rsap_listen_list *every = collect(NULL);
        struct rsap_iana *reg = NULL;

        (void)state;
        assert_int_equal(rsap_iana_open_builtin(&reg), 0);
        assert_non_null(find_inode(every, other.inode));
        assert_same_port_answer(reg, every, true, tcp.port, RSAP_PROTO_NONE);
        assert_same_port_answer(reg, every, false, tcp.port, RSAP_PROTO_NONE);
        assert_same_port_answer(reg, every, true, tcp.port, RSAP_PROTO_UDP);

        struct rsap_port_answer a = port_answer(reg, every, true, tcp.port, RSAP_PROTO_TCP);
        const struct rsap_listen_socket *s = find_inode(a.listening.list, tcp.inode);
        assert_non_null(s);
        assert_int_equal(s->n_owners, 1);
        assert_null(find_inode(a.listening.list, udp.inode));
        rsap_port_answer_clear(&a);
        rsap_listen_list_free(every);
        rsap_iana_free(reg);
        close(tcp.fd);
        close(udp.fd);
        close(other.fd);
}

/* A list without the port: the answer has no listeners, and no error. */
static void test_answer_from_sockets_without_the_port(void **state)
{
        struct opened o = must_open(SOCK_STREAM, "127.0.0.1", 0, 0);
        struct opened other = must_open(SOCK_STREAM, "127.0.0.1", 0, 0);
        struct rsap_listen_list *elsewhere = collect_port(other.port, true);
        struct rsap_iana *reg = NULL;

        (void)state;
        assert_int_equal(rsap_iana_open_builtin(&reg), 0);
        assert_non_null(find_inode(elsewhere, other.inode));
        struct rsap_port_answer a = port_answer(reg, elsewhere, true, o.port, RSAP_PROTO_NONE);
        assert_int_equal(a.listening.list->count, 0);
        rsap_port_answer_clear(&a);
        rsap_listen_list_free(elsewhere);
        rsap_iana_free(reg);
        close(o.fd);
        close(other.fd);
}

/* rsap_answer_listening from a list: the sockets f selects, as collected. */
static void test_listening_from_given_sockets(void **state)
{
        struct opened tcp = must_open(SOCK_STREAM, "127.0.0.1", 0, 0);
        struct opened udp = must_open(SOCK_DGRAM, "127.0.0.1", tcp.port, 0);
        /* Another process's socket, owned and in the list: not this pid's. */
        struct kid k = start_kid();
        struct rsap_listen_list *every = collect(NULL);
        struct rsap_answer_sources src = { .sockets = every };
        struct rsap_listening_answer given, kernel;
        struct rsap_listen_filter f;
        enum rsap_answer_part failed;

        (void)state;
        /* Every port, this process's sockets: the two, not the child's own. */
        assert_non_null(find_inode(every, k.own.inode));
        rsap_listen_filter_init(&f);
        f.match_pid = true;
        f.pid = getpid();
        assert_int_equal(rsap_answer_listening(&src, &f, false, &given, &failed), 0);
        src.sockets = NULL;
        assert_int_equal(rsap_answer_listening(&src, &f, false, &kernel, &failed), 0);
        assert_int_equal(given.list->count, 2);
        assert_true(same_sockets(given.list, kernel.list));
        rsap_listening_answer_clear(&given);
        rsap_listening_answer_clear(&kernel);

        /* A pid cannot be matched in a list without owners. */
        f.find_owners = false;
        src.sockets = collect(&f);
        assert_int_equal(rsap_answer_listening(&src, &f, false, &given, &failed), -EINVAL);
        assert_int_equal(failed, RSAP_ANSWER_LISTENERS);
        rsap_listen_list_free((struct rsap_listen_list *)src.sockets);
        rsap_listen_list_free(every);
        stop_kid(&k);
        close(tcp.fd);
        close(udp.fd);
}

/* ---- origins ------------------------------------------------------------ */

static int enter_netns(void);

static uint64_t own_netns_inode(void)
{
        struct stat st;

        assert_int_equal(stat("/proc/self/ns/net", &st), 0);
        return (uint64_t)st.st_ino;
}

/* A socket collected here says this host and this namespace; in a namespace
 * of the test's own, which /run/netns does not name, no name. */
static void test_origin_here(void **state)
{
        struct opened o = must_open(SOCK_STREAM, "127.0.0.1", 0, 0);
        struct rsap_listen_list *list = collect_port(o.port, false);
        const struct rsap_listen_socket *s = find_inode(list, o.inode);
        json_t *json, *netns;

        (void)state;
        assert_non_null(s);
        assert_string_equal(s->origin.host, rsap_host_name());
        assert_int_equal(s->origin.netns_inode, own_netns_inode());
        if (in_netns)
                assert_null(s->origin.netns_name);
        json = rsap_listen_list_to_json(list, NULL, NULL);
        json_t *first = json_array_get(json, (size_t)(s - list->sockets));
        assert_string_equal(json_string_value(json_object_get(first, "host")), rsap_host_name());
        netns = json_object_get(first, "netns");
        assert_int_equal(json_integer_value(json_object_get(netns, "inode")), own_netns_inode());
        json_decref(json);
        rsap_listen_list_free(list);
        close(o.fd);
}

/* What `test_listen --print-host` prints: the host of a socket it collects. */
static int print_host(void)
{
        struct opened o = open_socket(SOCK_STREAM, "127.0.0.1", 0, 0);
        struct rsap_listen_list *list = NULL;
        const struct rsap_listen_socket *s;

        if (o.fd < 0 || collect_port_quiet(o.port, &list) < 0)
                return 1;
        s = find_inode(list, o.inode);
        if (!s)
                return 1;
        printf("%s\n", s->origin.host);
        rsap_listen_list_free(list);
        return 0;
}

/* The host name of a fresh process with RSAP_HOST set to value (NULL: unset):
 * the name is read once per process, so each case needs its own. */
static void host_of_fresh_process(const char *value, char *out, size_t size)
{
        int fds[2];
        pid_t pid;
        int status;
        ssize_t n;

        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                dup2(fds[1], STDOUT_FILENO);
                if (value)
                        setenv("RSAP_HOST", value, 1);
                else
                        unsetenv("RSAP_HOST");
                execl("/proc/self/exe", "test_listen", "--print-host", (char *)NULL);
                _exit(127);
        }
        close(fds[1]);
        n = read(fds[0], out, size - 1);
        close(fds[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_true(n > 0);
        out[n] = '\0';
        out[strcspn(out, "\n")] = '\0';
}

static void test_origin_host_from_environment(void **state)
{
        char host[300];
        struct utsname u;

        (void)state;
        assert_int_equal(uname(&u), 0);
        host_of_fresh_process("b", host, sizeof(host));
        assert_string_equal(host, "b");
        host_of_fresh_process(NULL, host, sizeof(host));
        assert_string_equal(host, u.nodename);
        host_of_fresh_process("", host, sizeof(host));
        assert_string_equal(host, u.nodename);
        host_of_fresh_process("b\xc3\xa9 \x1b", host, sizeof(host)); /* JSON and terminals */
        assert_string_equal(host, "b????");
}

#define NETNS_DIR "/run/netns"

/* In a child: a new namespace named as `ip netns add` names one (a bind
 * mount of it under /run/netns), and a socket in it.  0 when the socket's
 * origin is that namespace and name, SKIP_STATUS when no such namespace
 * may be made, else the step that failed. */
static int named_netns_child(const char *name, const char *path)
{
        struct rsap_listen_list *list = NULL;
        const struct rsap_listen_socket *s;
        struct opened o;
        int fd, r;

        if (enter_netns() < 0 || (mkdir(NETNS_DIR, 0755) < 0 && errno != EEXIST))
                return SKIP_STATUS;
        fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
        if (fd < 0)
                return SKIP_STATUS;
        close(fd);
        if (mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) < 0)
                return SKIP_STATUS;
        o = open_socket(SOCK_STREAM, "127.0.0.1", 0, 0);
        if (o.fd < 0 || collect_port_quiet(o.port, &list) < 0)
                return 2;
        s = find_inode(list, o.inode);
        if (!s)
                return 3;
        r = s->origin.netns_inode != own_netns_inode() ? 4
            : !s->origin.netns_name || strcmp(s->origin.netns_name, name) != 0 ? 5 : 0;
        rsap_listen_list_free(list);
        return r;
}

static void test_origin_named_netns(void **state)
{
        char name[64], path[128];
        pid_t pid;
        int status;

        (void)state;
        if (geteuid() != 0 || in_netns)
                skip(); /* mounting under /run/netns takes root of the host */
        snprintf(name, sizeof(name), "rsap-test-%d", (int)getpid());
        snprintf(path, sizeof(path), "%s/%s", NETNS_DIR, name);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(named_netns_child(name, path));
        assert_int_equal(waitpid(pid, &status, 0), pid);
        umount2(path, MNT_DETACH); /* as `ip netns delete` does, whatever the child did */
        unlink(path);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == SKIP_STATUS)
                skip();
        assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- setup -------------------------------------------------------------- */

static bool ipv6_works(void)
{
        struct opened o = open_socket(SOCK_STREAM, "::1", 0, 0);

        if (o.fd < 0)
                return false;
        close(o.fd);
        return true;
}

static int write_file(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = write(fd, text, strlen(text));
        close(fd);
        return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

/* A new network namespace (and a user namespace to allow it, when not
 * root) with its loopback up. */
static int enter_netns(void)
{
        uid_t uid = geteuid();
        gid_t gid = getegid();
        char map[64];
        struct ifreq ifr = { 0 };
        int fd, r;

        if (unshare(CLONE_NEWNET) < 0) {
                if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
                        return -errno;
                snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
                write_file("/proc/self/setgroups", "deny");
                if (write_file("/proc/self/uid_map", map) < 0)
                        return -EPERM;
                snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
                write_file("/proc/self/gid_map", map);
        }
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
        r = ioctl(fd, SIOCGIFFLAGS, &ifr);
        ifr.ifr_flags |= IFF_UP;
        if (r == 0)
                r = ioctl(fd, SIOCSIFFLAGS, &ifr);
        r = r < 0 ? -errno : 0;
        close(fd);
        return r;
}

int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tcp4_loopback),
                cmocka_unit_test(test_tcp4_other_loopback),
                cmocka_unit_test(test_tcp6_loopback),
                cmocka_unit_test(test_udp4_loopback),
                cmocka_unit_test(test_udp6_loopback),
                cmocka_unit_test(test_wildcards),
                cmocka_unit_test(test_reuseport_group),
                cmocka_unit_test(test_shared_after_fork),
                cmocka_unit_test(test_shared_with_a_busy_parent),
                cmocka_unit_test(test_one_owner_per_process),
                cmocka_unit_test(test_closed_is_gone),
                cmocka_unit_test(test_protocol_filter),
                cmocka_unit_test(test_port_range_filter),
                cmocka_unit_test(test_one_port_filter),
                cmocka_unit_test(test_uid_filter),
                cmocka_unit_test(test_pid_filter),
                cmocka_unit_test(test_without_owners),
                cmocka_unit_test(test_procfs_matches_netlink),
                cmocka_unit_test(test_sorted),
                cmocka_unit_test(test_hidden_owner_without_root),
                cmocka_unit_test(test_json),
                cmocka_unit_test(test_unregistered),
                cmocka_unit_test(test_answer_from_given_sockets),
                cmocka_unit_test(test_answer_from_sockets_without_the_port),
                cmocka_unit_test(test_listening_from_given_sockets),
                cmocka_unit_test(test_origin_here),
                cmocka_unit_test(test_origin_host_from_environment),
                cmocka_unit_test(test_origin_named_netns),
        };

        if (argc > 1 && strcmp(argv[1], "--print-host") == 0)
                return print_host();

        if (argc > 1 && strcmp(argv[1], "--netns") == 0) {
                int r = enter_netns();

                if (r < 0) {
                        fprintf(stderr, "skipped: no network namespace: %s\n", strerror(-r));
                        return SKIP_STATUS;
                }
                in_netns = true;
        }
        have_ipv6 = ipv6_works();
        return cmocka_run_group_tests_name(in_netns ? "listen (netns)" : "listen", tests, NULL,
                                           NULL);
}
