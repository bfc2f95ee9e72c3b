/* SPDX-License-Identifier: MIT */
/*
 * The floor under `rsap listening` and `rsap who PORT`: the least work that
 * can answer them, in one thread, printing nothing, for bench/listening.sh
 * to time rsap against.
 *
 *     listen_floor list        the sock_diag dumps rsap makes (listening TCP
 *                              of both families in one, bound UDP of each),
 *                              then one readlink pass over every /proc/PID/fd
 *     listen_floor who PORT    the same dumps with the port in the request,
 *                              then /proc/PID/fd in pid order until every
 *                              socket on the port has an owner
 *     listen_floor namespaces PREFIX [owners]
 *                              the same dumps in its own network namespace
 *                              and in each /run/netns/PREFIX*, entered with
 *                              setns() and a netlink socket opened there
 *                              (bench/namespaces.sh: the bare dumps of every
 *                              namespace); with "owners", then one readlink
 *                              pass over every /proc/PID/fd for all of them
 *
 * Exits 0 when it saw at least one socket (and, for who, an owner of each),
 * else 1: a floor that found nothing did less than rsap and must not count.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

/* The dumps' inodes in order, then a table twice their number (open
 * addressing, 0 free), as small as rsap's own index. */
static uint64_t *dumped, *inodes;
static unsigned char *owned;
static size_t n_dumped, dumped_size, mask, n_sockets, n_unowned;

static void remember(uint64_t inode)
{
        if (n_dumped == dumped_size) {
                dumped_size = dumped_size ? 2 * dumped_size : 1024;
                dumped = realloc(dumped, dumped_size * sizeof(*dumped));
                if (!dumped)
                        exit(2);
        }
        dumped[n_dumped++] = inode;
}

static void index_dumped(void)
{
        size_t size = 16;

        while (size < 2 * n_dumped)
                size *= 2;
        mask = size - 1;
        inodes = calloc(size, sizeof(*inodes));
        owned = calloc(size, 1);
        if (!inodes || !owned)
                exit(2);
        for (size_t i = 0; i < n_dumped; i++) {
                size_t slot = (size_t)(dumped[i] * 0x9E3779B97F4A7C15ull >> 20) & mask;

                while (inodes[slot] && inodes[slot] != dumped[i])
                        slot = (slot + 1) & mask;
                if (!inodes[slot])
                        n_sockets++, n_unowned++;
                inodes[slot] = dumped[i];
        }
}

/* Marks the socket owned; whether it is one of the dump's. */
static int claim(uint64_t inode)
{
        for (size_t slot = (size_t)(inode * 0x9E3779B97F4A7C15ull >> 20) & mask; inodes[slot];
             slot = (slot + 1) & mask) {
                if (inodes[slot] == inode) {
                        if (!owned[slot])
                                n_unowned--;
                        owned[slot] = 1;
                        return 1;
                }
        }
        return 0;
}

/* family AF_UNSPEC: TCP's both families in one walk (TCPDIAG_GETSOCK), as
 * rsap asks; the port, if any, both in the bytecode and, for TCP, as the
 * request's source port. */
static int dump(int fd, int family, int proto, uint32_t states, int port)
{
        struct {
                struct nlmsghdr nlh;
                union {
                        struct inet_diag_req_v2 v2;
                        struct inet_diag_req both;
                } req;
                struct nlattr bc;
                struct inet_diag_bc_op ops[4];
        } msg = { 0 };
        static char buf[32768];
        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
        size_t req_size = family == AF_UNSPEC ? sizeof(msg.req.both) : sizeof(msg.req.v2);
        char *bc = (char *)&msg + NLMSG_HDRLEN + req_size;
        uint16_t sport = proto == IPPROTO_TCP ? htons((uint16_t)port) : 0;

        msg.nlh.nlmsg_len = NLMSG_LENGTH(req_size);
        msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        if (family == AF_UNSPEC) {
                msg.nlh.nlmsg_type = TCPDIAG_GETSOCK;
                msg.req.both.idiag_family = AF_INET;
                msg.req.both.idiag_states = states;
                msg.req.both.id.idiag_sport = sport;
        } else {
                msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
                msg.req.v2.sdiag_family = (uint8_t)family;
                msg.req.v2.sdiag_protocol = (uint8_t)proto;
                msg.req.v2.idiag_states = states;
                msg.req.v2.id.idiag_sport = sport;
        }
        if (port > 0) { /* sport >= port && sport <= port */
                struct nlattr attr = { NLA_HDRLEN + 4 * sizeof(struct inet_diag_bc_op),
                                       INET_DIAG_REQ_BYTECODE };
                struct inet_diag_bc_op ops[4] = {
                        { INET_DIAG_BC_S_GE, 8, 4 * 4 + 4 }, { 0, 0, (unsigned short)port },
                        { INET_DIAG_BC_S_LE, 8, 2 * 4 + 4 }, { 0, 0, (unsigned short)port },
                };

                memcpy(bc, &attr, sizeof(attr));
                memcpy(bc + NLA_HDRLEN, ops, sizeof(ops));
                msg.nlh.nlmsg_len += attr.nla_len;
        }
        if (sendto(fd, &msg, msg.nlh.nlmsg_len, 0, (struct sockaddr *)&kernel,
                   sizeof(kernel)) < 0)
                return -1;
        for (;;) {
                ssize_t n = recv(fd, buf, sizeof(buf), 0);

                if (n <= 0)
                        return -1;
                for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, (size_t)n);
                     h = NLMSG_NEXT(h, n)) {
                        if (h->nlmsg_type == NLMSG_DONE)
                                return 0;
                        if (h->nlmsg_type == NLMSG_ERROR)
                                exit(2);
                        remember(((struct inet_diag_msg *)NLMSG_DATA(h))->idiag_inode);
                }
        }
}

static void scan(int proc, const char *pid, char *dents)
{
        char path[300], link[64];
        int fd;
        long n;

        snprintf(path, sizeof(path), "%s/fd", pid);
        fd = openat(proc, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return;
        while ((n = getdents64(fd, dents, 32768)) > 0) {
                for (long off = 0; off < n;) {
                        struct dirent64 *e = (void *)(dents + off);
                        ssize_t len;

                        off += e->d_reclen;
                        if (e->d_name[0] == '.')
                                continue;
                        len = readlinkat(fd, e->d_name, link, sizeof(link) - 1);
                        if (len > 8 && memcmp(link, "socket:[", 8) == 0) {
                                link[len] = '\0';
                                claim(strtoull(link + 8, NULL, 10));
                        }
                }
        }
        close(fd);
}

/* The dumps of list in the namespace the calling thread is in. */
static void dump_here(void)
{
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

        if (fd < 0)
                exit(2);
        dump(fd, AF_UNSPEC, IPPROTO_TCP, 1u << 10, 0); /* TCP_LISTEN */
        dump(fd, AF_INET, IPPROTO_UDP, 1u << 7, 0);    /* TCP_CLOSE */
        dump(fd, AF_INET6, IPPROTO_UDP, 1u << 7, 0);
        close(fd);
}

/* Its own namespace's dumps, then each /run/netns/PREFIX*'s. */
static void dump_namespaces(const char *prefix)
{
        DIR *dir = opendir("/run/netns");
        struct dirent *e;

        dump_here();
        while (dir && (e = readdir(dir))) {
                char path[300];
                int ns;

                if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
                        continue;
                snprintf(path, sizeof(path), "/run/netns/%s", e->d_name);
                ns = open(path, O_RDONLY | O_CLOEXEC);
                if (ns < 0 || setns(ns, CLONE_NEWNET) < 0)
                        exit(2);
                close(ns);
                dump_here();
        }
        if (dir)
                closedir(dir);
}

static int by_pid(const struct dirent **a, const struct dirent **b)
{
        return atoi((*a)->d_name) - atoi((*b)->d_name);
}

static int is_pid(const struct dirent *e)
{
        return e->d_name[0] >= '1' && e->d_name[0] <= '9';
}

int main(int argc, char **argv)
{
        int who = argc == 3 && strcmp(argv[1], "who") == 0;
        int port = who ? atoi(argv[2]) : 0;
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
        int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent **pids;
        char *dents = malloc(32768);
        int n;

        if (argc >= 3 && strcmp(argv[1], "namespaces") == 0) {
                bool owners = argc == 4 && strcmp(argv[3], "owners") == 0;

                dump_namespaces(argv[2]);
                if (!owners)
                        return n_dumped > 0 ? 0 : 1;
                index_dumped();
                n = proc < 0 || !dents ? -1 : scandirat(proc, ".", &pids, is_pid, NULL);
                for (int i = 0; i < n; i++)
                        scan(proc, pids[i]->d_name, dents);
                return n_sockets > 0 ? 0 : 1;
        }

        if (!(who || (argc == 2 && strcmp(argv[1], "list") == 0)) || (who && port <= 0)) {
                fprintf(stderr, "usage: listen_floor list | listen_floor who PORT | "
                                "listen_floor namespaces PREFIX [owners]\n");
                return 2;
        }
        if (fd < 0 || proc < 0 || !dents)
                return 2;
        dump(fd, AF_UNSPEC, IPPROTO_TCP, 1u << 10, port); /* TCP_LISTEN */
        dump(fd, AF_INET, IPPROTO_UDP, 1u << 7, port);    /* TCP_CLOSE */
        dump(fd, AF_INET6, IPPROTO_UDP, 1u << 7, port);
        index_dumped();
        n = scandirat(proc, ".", &pids, is_pid, who ? by_pid : NULL);
        for (int i = 0; i < n && (!who || n_unowned > 0); i++)
                scan(proc, pids[i]->d_name, dents);
        return n_sockets > 0 && (!who || n_unowned == 0) ? 0 : 1;
}
