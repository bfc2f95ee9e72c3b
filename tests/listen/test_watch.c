/* SPDX-License-Identifier: MIT */
/*
 * The change engine (rsap/watch.h) against real sockets, in a network
 * namespace of its own (exit 77 where none may be made), so that nothing
 * else starts or stops listening while it runs.  No timings: a test waits
 * until a dump is due, or until the event descriptor is readable, and then
 * asserts what the step told.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include <rsap/watch.h>

#define SKIP_STATUS 77
#define MAX_SEEN 64
#define HOUR_MS 3600000u

/* ---- sockets ------------------------------------------------------------ */

struct opened {
        int fd;
        uint16_t port;
        uint64_t inode;
};

/* A socket bound to 127.0.0.1 on a port the kernel chooses (or port),
 * listening when TCP. */
static struct opened must_open(int type, uint16_t port)
{
        struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
        socklen_t len = sizeof(sin);
        struct opened o = { .fd = socket(AF_INET, type | SOCK_CLOEXEC, 0) };
        struct stat st;
        int one = 1;

        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_true(o.fd >= 0);
        setsockopt(o.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(o.fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
            (type == SOCK_STREAM && listen(o.fd, 8) < 0) ||
            getsockname(o.fd, (struct sockaddr *)&sin, &len) < 0 || fstat(o.fd, &st) < 0)
                fail_msg("cannot open a socket: %s", strerror(errno));
        o.port = ntohs(sin.sin_port);
        o.inode = (uint64_t)st.st_ino;
        return o;
}

/* ---- what the engine tells ---------------------------------------------- */

struct seen {
        enum rsap_watch_change change;
        enum rsap_proto proto;
        uint16_t port;
        uint64_t inode;
        pid_t first_owner; /* 0: none */
        char command[RSAP_LISTEN_COMMAND_SIZE];
};

struct record {
        struct seen seen[MAX_SEEN];
        size_t n;
        int answer; /* what the callback returns */
};

static int on_change(const struct rsap_watch_event *ev, void *userdata)
{
        struct record *rec = userdata;
        const struct rsap_listen_socket *s = ev->socket;
        struct seen *e;

        assert_true(rec->n < MAX_SEEN);
        assert_true(ev->at_us > 0);
        assert_ptr_equal(s, &ev->list->sockets[ev->index]);
        assert_true(ev->list->owners_looked_up);
        e = &rec->seen[rec->n++];
        *e = (struct seen){ ev->change, s->proto, s->port, s->inode, 0, "" };
        if (s->n_owners > 0) {
                e->first_owner = s->owners[0].pid;
                snprintf(e->command, sizeof(e->command), "%s", s->owners[0].command);
        }
        return rec->answer;
}

static struct rsap_watch *must_watch(unsigned interval_ms, bool quiet_start)
{
        struct rsap_watch_options o = { .interval_ms = interval_ms, .quiet_start = quiet_start };
        struct rsap_watch *w = NULL;

        rsap_listen_filter_init(&o.filter);
        assert_int_equal(rsap_watch_new(&o, &w), 0);
        return w;
}

/* Waits until a dump is due (the engine's own timeout), then steps. */
static int step_with_dump(struct rsap_watch *w, struct record *rec)
{
        int left;

        while ((left = rsap_watch_timeout_ms(w)) > 0)
                poll(NULL, 0, left);
        return rsap_watch_step(w, on_change, rec);
}

/* A socket of the test's own in the TCP and UDP destroy groups, opened
 * before the engine's: the kernel hands an event to the newest member
 * first, so once the probe has one, the engine has it too. */
static int open_probe(void)
{
        struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = 1u << 0 | 1u << 1 };
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
        return fd;
}

/* Reads the probe until the kernel has sent count destroy events of
 * sockets on port (either end), then steps once: what that step tells came
 * from those events when no dump is due. */
static int step_after_destroys(struct rsap_watch *w, struct record *rec, int probe,
                               uint16_t port, int count)
{
        char buf[8192];

        while (count > 0) {
                ssize_t n = recv(probe, buf, sizeof(buf), 0);
                const struct nlmsghdr *nlh = (const void *)buf;
                const struct inet_diag_msg *m = NLMSG_DATA(nlh);

                assert_true(n >= (ssize_t)NLMSG_LENGTH(sizeof(*m)));
                if (ntohs(m->id.idiag_sport) == port || ntohs(m->id.idiag_dport) == port)
                        count--;
        }
        return rsap_watch_step(w, on_change, rec);
}

static const struct seen *find_seen(const struct record *rec, uint64_t inode)
{
        for (size_t i = 0; i < rec->n; i++)
                if (rec->seen[i].inode == inode)
                        return &rec->seen[i];
        return NULL;
}

static void assert_ours(const struct seen *e, enum rsap_watch_change change, uint16_t port)
{
        assert_non_null(e);
        assert_int_equal(e->change, change);
        assert_int_equal(e->port, port);
        assert_int_equal(e->first_owner, getpid());
        assert_string_equal(e->command, "test_watch");
}

/* ---- tests -------------------------------------------------------------- */

/* The first step tells of every socket already listening, with owners. */
static void test_first_batch(void **state)
{
        struct opened tcp = must_open(SOCK_STREAM, 0), udp = must_open(SOCK_DGRAM, 0);
        struct rsap_watch *w = must_watch(HOUR_MS, false);
        struct record rec = { 0 };

        (void)state;
        assert_int_equal(rsap_watch_step(w, on_change, &rec), 0);
        assert_int_equal(rec.n, 2);
        assert_ours(find_seen(&rec, tcp.inode), RSAP_WATCH_STARTED, tcp.port);
        assert_ours(find_seen(&rec, udp.inode), RSAP_WATCH_STARTED, udp.port);
        assert_int_equal(find_seen(&rec, udp.inode)->proto, RSAP_PROTO_UDP);
        assert_int_equal(rsap_watch_count(w), 2);
        rsap_watch_free(w);
        close(tcp.fd);
        close(udp.fd);
}

/* quiet_start: the same set known, nothing told; later starts are told. */
static void test_quiet_start(void **state)
{
        struct opened before = must_open(SOCK_STREAM, 0), after;
        struct rsap_watch *w = must_watch(1, true);
        struct record rec = { 0 };

        (void)state;
        assert_int_equal(rsap_watch_step(w, on_change, &rec), 0);
        assert_int_equal(rec.n, 0);
        assert_int_equal(rsap_watch_count(w), 1);
        after = must_open(SOCK_STREAM, 0);
        assert_int_equal(step_with_dump(w, &rec), 0);
        assert_int_equal(rec.n, 1);
        assert_ours(&rec.seen[0], RSAP_WATCH_STARTED, after.port);
        assert_int_equal(rec.seen[0].inode, after.inode);
        rsap_watch_free(w);
        close(before.fd);
        close(after.fd);
}

/* A closed listener is told of from its destroy event, before any dump,
 * with the owners it started with. */
static void test_stop_from_event(void **state)
{
        struct opened tcp = must_open(SOCK_STREAM, 0), udp = must_open(SOCK_DGRAM, 0);
        int probe = open_probe();
        struct rsap_watch *w = must_watch(HOUR_MS, true);
        struct record rec = { 0 };

        (void)state;
        assert_int_equal(rsap_watch_step(w, on_change, &rec), 0);
        assert_true(rsap_watch_timeout_ms(w) > 0); /* no dump before the hour is out */
        close(tcp.fd);
        assert_int_equal(step_after_destroys(w, &rec, probe, tcp.port, 1), 0);
        assert_int_equal(rec.n, 1);
        assert_ours(&rec.seen[0], RSAP_WATCH_STOPPED, tcp.port);
        assert_int_equal(rec.seen[0].inode, tcp.inode);
        close(udp.fd);
        assert_int_equal(step_after_destroys(w, &rec, probe, udp.port, 1), 0);
        assert_int_equal(rec.n, 2);
        assert_ours(&rec.seen[1], RSAP_WATCH_STOPPED, udp.port);
        assert_int_equal(rsap_watch_count(w), 0);
        rsap_watch_free(w);
        close(probe);
}

/* A connection that closes sends destroy events too: none is a stop. */
static void test_other_destroys_ignored(void **state)
{
        struct opened l = must_open(SOCK_STREAM, 0);
        struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(l.port) };
        int probe = open_probe(), c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), a;
        struct rsap_watch *w = must_watch(HOUR_MS, true);
        struct record rec = { 0 };

        (void)state;
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(rsap_watch_step(w, on_change, &rec), 0);
        assert_int_equal(connect(c, (struct sockaddr *)&to, sizeof(to)), 0);
        a = accept(l.fd, NULL, NULL);
        assert_true(a >= 0);
        close(c);
        close(a);
        assert_int_equal(step_after_destroys(w, &rec, probe, l.port, 2), 0);
        assert_int_equal(rec.n, 0);
        assert_int_equal(rsap_watch_count(w), 1);
        close(l.fd);
        assert_int_equal(step_after_destroys(w, &rec, probe, l.port, 1), 0);
        assert_int_equal(rec.n, 1);
        assert_ours(&rec.seen[0], RSAP_WATCH_STOPPED, l.port);
        rsap_watch_free(w);
        close(probe);
}

/* A socket that stops listening without being destroyed (a UDP socket that
 * connects, a listener shut down) is told of by the next dump's diff. */
static void test_stop_from_dump(void **state)
{
        struct opened tcp = must_open(SOCK_STREAM, 0), udp = must_open(SOCK_DGRAM, 0);
        struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(tcp.port) };
        struct rsap_watch *w = must_watch(1, true);
        struct record rec = { 0 };

        (void)state;
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(rsap_watch_step(w, on_change, &rec), 0);
        assert_int_equal(connect(udp.fd, (struct sockaddr *)&to, sizeof(to)), 0);
        assert_int_equal(shutdown(tcp.fd, SHUT_RDWR), 0);
        assert_int_equal(step_with_dump(w, &rec), 0);
        assert_int_equal(rec.n, 2);
        assert_ours(find_seen(&rec, tcp.inode), RSAP_WATCH_STOPPED, tcp.port);
        assert_ours(find_seen(&rec, udp.inode), RSAP_WATCH_STOPPED, udp.port);
        assert_int_equal(rsap_watch_count(w), 0);
        rsap_watch_free(w);
        close(tcp.fd);
        close(udp.fd);
}

/* The same port closed and opened again between two dumps is a stop and a
 * start: the diff goes by socket, not by port. */
static void test_same_port_again(void **state)
{
        struct opened first = must_open(SOCK_STREAM, 0), again;
        struct rsap_watch *w = must_watch(1, true);
        struct record rec = { 0 };

        (void)state;
        /* Whether the stop comes from its event or from the dump, it comes
         * before the start. */
        assert_int_equal(rsap_watch_step(w, on_change, &rec), 0);
        close(first.fd);
        again = must_open(SOCK_STREAM, first.port);
        assert_int_equal(step_with_dump(w, &rec), 0);
        assert_int_equal(rec.n, 2);
        assert_int_equal(rec.seen[0].change, RSAP_WATCH_STOPPED);
        assert_int_equal(rec.seen[0].inode, first.inode);
        assert_ours(&rec.seen[1], RSAP_WATCH_STARTED, first.port);
        assert_int_equal(rec.seen[1].inode, again.inode);
        assert_int_equal(rsap_watch_count(w), 1);
        rsap_watch_free(w);
        close(again.fd);
}

/* Sockets the filter leaves out start and stop untold. */
static void test_filter(void **state)
{
        struct rsap_watch_options o = { .interval_ms = 1, .quiet_start = true };
        struct rsap_watch *w = NULL;
        struct record rec = { 0 };
        struct opened tcp, udp;
        int probe = open_probe();

        (void)state;
        rsap_listen_filter_init(&o.filter);
        o.filter.protocols = 1u << RSAP_PROTO_UDP;
        assert_int_equal(rsap_watch_new(&o, &w), 0);
        assert_int_equal(rsap_watch_step(w, on_change, &rec), 0);
        tcp = must_open(SOCK_STREAM, 0);
        udp = must_open(SOCK_DGRAM, 0);
        assert_int_equal(step_with_dump(w, &rec), 0);
        assert_int_equal(rec.n, 1);
        assert_ours(&rec.seen[0], RSAP_WATCH_STARTED, udp.port);
        close(tcp.fd);
        assert_int_equal(step_after_destroys(w, &rec, probe, tcp.port, 1), 0);
        assert_int_equal(rec.n, 1);
        close(udp.fd);
        assert_int_equal(step_after_destroys(w, &rec, probe, udp.port, 1), 0);
        assert_int_equal(rec.n, 2);
        assert_int_equal(rec.seen[1].change, RSAP_WATCH_STOPPED);
        assert_int_equal(rec.seen[1].inode, udp.inode);
        rsap_watch_free(w);
        close(probe);
}

/* A callback's negative answer ends the telling and is returned; the
 * engine's state is up to date all the same. */
static void test_callback_stops(void **state)
{
        struct opened a = must_open(SOCK_STREAM, 0), b = must_open(SOCK_STREAM, 0);
        struct rsap_watch *w = must_watch(HOUR_MS, false);
        struct record rec = { .answer = -ECANCELED };

        (void)state;
        assert_int_equal(rsap_watch_step(w, on_change, &rec), -ECANCELED);
        assert_int_equal(rec.n, 1);
        assert_int_equal(rsap_watch_count(w), 2);
        rsap_watch_free(w);
        close(a.fd);
        close(b.fd);
}

static void test_other_namespaces_refused(void **state)
{
        struct rsap_watch_options o = { 0 };
        struct rsap_watch *w = NULL;

        (void)state;
        rsap_listen_filter_init(&o.filter);
        o.filter.netns = RSAP_LISTEN_NETNS_ALL;
        assert_int_equal(rsap_watch_new(&o, &w), -EINVAL);
        assert_null(w);
}

/* ---- a namespace of its own --------------------------------------------- */

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

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_first_batch),
                cmocka_unit_test(test_quiet_start),
                cmocka_unit_test(test_stop_from_event),
                cmocka_unit_test(test_other_destroys_ignored),
                cmocka_unit_test(test_stop_from_dump),
                cmocka_unit_test(test_same_port_again),
                cmocka_unit_test(test_filter),
                cmocka_unit_test(test_callback_stops),
                cmocka_unit_test(test_other_namespaces_refused),
        };
        int r = enter_netns();

        if (r < 0) {
                fprintf(stderr, "skipped: no network namespace: %s\n", strerror(-r));
                return SKIP_STATUS;
        }
        return cmocka_run_group_tests_name("watch", tests, NULL, NULL);
}
