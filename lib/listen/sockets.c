/* SPDX-License-Identifier: MIT */
/*
 * The sockets: one sock_diag dump per family and transport, TCP's two
 * families in one, with the state and port filters in the request so the
 * kernel sends only what was asked for, the dumps shared out between a few
 * threads.  /proc/net/{tcp,tcp6,udp,
 * udp6} stand in when the kernel refuses the netlink socket (some sandboxes
 * and LSM policies do).
 *
 * The netlink messages are built and read here, in a few lines, rather than
 * with libmnl: loading one more shared library costs every `rsap PORT` about
 * 70 microseconds, a twentieth of getent's whole answer (bench/README.md).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include <rsap/listen.h>

#include <rsap/basic.h>

/* The kernel's TCP states (include/net/tcp_states.h) that sock_diag filters
 * on: listening TCP, SCTP and DCCP sockets are in LISTEN, bound UDP sockets
 * that are not connected in CLOSE, as `ss -l` asks for them. */
enum { KERNEL_TCP_CLOSE = 7, KERNEL_TCP_LISTEN = 10 };

/* This thread's /proc/net: /proc/net is /proc/self/net, the namespace of
 * the process's first thread, where a thread that entered another namespace
 * (netns.c) must read its own. */
#define PROC_NET "/proc/thread-self/net"

/* 32 KiB: the most a netlink dump puts in one datagram. */
#define DUMP_BUFFER_SIZE 32768

struct transport {
        enum rsap_proto proto;
        int ipproto;
        uint16_t both_families_type; /* the old request that dumps both at once; 0: none */
        uint32_t states;      /* bit set of kernel states to dump */
        const char *kernel_name;  /* its line in /proc/net/protocols */
        const char *kernel_trace; /* a path that exists when the kernel has it */
        const char *kernel_trace_dir; /* where that path would be */
};

static const struct transport transports[] = {
        { RSAP_PROTO_TCP, IPPROTO_TCP, TCPDIAG_GETSOCK, 1u << KERNEL_TCP_LISTEN, NULL, NULL,
          NULL },
        { RSAP_PROTO_UDP, IPPROTO_UDP, 0, 1u << KERNEL_TCP_CLOSE, NULL, NULL, NULL },
        { RSAP_PROTO_SCTP, IPPROTO_SCTP, 0, 1u << KERNEL_TCP_LISTEN, "SCTP", PROC_NET "/sctp",
          PROC_NET },
        { RSAP_PROTO_DCCP, IPPROTO_DCCP, DCCPDIAG_GETSOCK, 1u << KERNEL_TCP_LISTEN, "DCCP",
          "/sys/module/dccp", "/sys/module" },
};

static bool proto_wanted(const struct rsap_listen_filter *f, enum rsap_proto proto)
{
        return f->protocols == 0 || (f->protocols & (1u << proto));
}

static bool port_and_uid_wanted(const struct rsap_listen_filter *f, uint16_t port, uid_t uid)
{
        if (port < f->port_low || port > f->port_high)
                return false;
        return !f->match_uid || uid == f->uid;
}

/* ---- the list ----------------------------------------------------------- */

static struct rsap_listen_socket *list_append(struct rsap_listen_list *list)
{
        if (rsap_grow(&list->sockets, &list->capacity, list->count + 1,
                      sizeof(*list->sockets)) < 0)
                return NULL;
        struct rsap_listen_socket *s = &list->sockets[list->count++];
        memset(s, 0, sizeof(*s));
        return s;
}

/* "a.b.c.d" by hand: inet_ntop formats it with sprintf, which costs more than
 * the rest of reading a socket. */
static void format_ipv4(const unsigned char addr[4], char out[16])
{
        char *p = out;

        for (int i = 0; i < 4; i++) {
                unsigned byte = addr[i];

                if (byte >= 100)
                        *p++ = (char)('0' + byte / 100);
                if (byte >= 10)
                        *p++ = (char)('0' + byte / 10 % 10);
                *p++ = (char)('0' + byte % 10);
                *p++ = i < 3 ? '.' : '\0';
        }
}

/* Remembers the last index looked up: sockets bound to a device are rare
 * and usually bound to the same one. */
struct ifname_cache {
        unsigned index;
        char name[IF_NAMESIZE];
};

static void interface_name(struct ifname_cache *cache, unsigned index, char *out, size_t size)
{
        if (index == 0) {
                out[0] = '\0';
                return;
        }
        if (cache->index != index) {
                if (!if_indextoname(index, cache->name))
                        snprintf(cache->name, sizeof(cache->name), "if%u", index);
                cache->index = index;
        }
        snprintf(out, size, "%s", cache->name);
}

static struct rsap_listen_socket *add_socket(struct rsap_listen_list *list,
                                             struct ifname_cache *ifc, enum rsap_proto proto,
                                             int family, const void *addr, uint16_t port,
                                             unsigned ifindex, uid_t uid, uint64_t inode)
{
        struct rsap_listen_socket *s = list_append(list);

        if (!s)
                return NULL;
        s->proto = proto;
        s->family = family;
        memcpy(s->addr, addr, family == AF_INET ? 4 : 16);
        if (family == AF_INET)
                format_ipv4(s->addr, s->address);
        else if (!inet_ntop(family, s->addr, s->address, sizeof(s->address)))
                snprintf(s->address, sizeof(s->address), "?");
        interface_name(ifc, ifindex, s->interface, sizeof(s->interface));
        s->port = port;
        s->uid = uid;
        s->inode = inode;
        return s;
}

/* ---- netlink ------------------------------------------------------------ */

struct dump {
        struct rsap_listen_list *list;
        const struct rsap_listen_filter *filter;
        enum rsap_proto proto;
        uint16_t message_type; /* what the kernel answers with: the request's type */
        struct ifname_cache ifc;
};

/* The IPv6 socket's INET_DIAG_SKV6ONLY attribute, if the message has one. */
static void read_v6only(const struct nlmsghdr *nlh, size_t header, struct rsap_listen_socket *s)
{
        size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(header);

        while (off + NLA_HDRLEN <= nlh->nlmsg_len) {
                const struct nlattr *attr = (const struct nlattr *)((const char *)nlh + off);

                if (attr->nla_len < NLA_HDRLEN || attr->nla_len > nlh->nlmsg_len - off)
                        return;
                if ((attr->nla_type & NLA_TYPE_MASK) == INET_DIAG_SKV6ONLY &&
                    attr->nla_len > NLA_HDRLEN)
                        s->v6only = *((const uint8_t *)attr + NLA_HDRLEN) != 0;
                off += NLA_ALIGN(attr->nla_len);
        }
}

/* One socket of a dump: 0, or -ENOMEM. */
static int on_diag_message(const struct nlmsghdr *nlh, struct dump *d)
{
        const struct inet_diag_msg *m = NLMSG_DATA(nlh);
        struct rsap_listen_socket *s;
        uint16_t port;

        if (nlh->nlmsg_type != d->message_type || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
                return 0;
        if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
                return 0;
        port = ntohs(m->id.idiag_sport);
        if (!port_and_uid_wanted(d->filter, port, m->idiag_uid))
                return 0;
        s = add_socket(d->list, &d->ifc, d->proto, m->idiag_family, m->id.idiag_src, port,
                       m->id.idiag_if, m->idiag_uid, m->idiag_inode);
        if (!s)
                return -ENOMEM;
        s->cookie = (uint64_t)m->id.idiag_cookie[1] << 32 | m->id.idiag_cookie[0];
        if (m->idiag_family == AF_INET6)
                read_v6only(nlh, sizeof(*m), s);
        return 0;
}

/* One message of the dump of seq: 1 at its end (NLMSG_DONE), 0 to go on,
 * or the error the kernel or the list ran into. */
static int on_message(const struct nlmsghdr *nlh, uint32_t seq, uint32_t portid, struct dump *d)
{
        if (nlh->nlmsg_seq != seq || (nlh->nlmsg_pid && nlh->nlmsg_pid != portid))
                return -EPROTO;
        if (nlh->nlmsg_type == NLMSG_DONE)
                return 1;
        if (nlh->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(nlh);

                if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
                        return -EBADMSG;
                return e->error < 0 ? e->error : 1;
        }
        if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
                return 0; /* NOOP, OVERRUN: nothing to read */
        return on_diag_message(nlh, d);
}

/* The messages of one datagram, each checked to lie inside it. */
static int on_datagram(const char *buf, size_t size, uint32_t seq, uint32_t portid,
                       struct dump *d)
{
        size_t off = 0;

        while (size - off >= NLMSG_HDRLEN) {
                const struct nlmsghdr *nlh = (const void *)(buf + off);
                size_t step = NLMSG_ALIGN(nlh->nlmsg_len);
                int r;

                if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > size - off)
                        return -EBADMSG;
                r = on_message(nlh, seq, portid, d);
                if (r != 0)
                        return r;
                off = step < size - off ? off + step : size;
        }
        return 0;
}

/*
 * The port range as inet_diag bytecode: "sport >= low" then "sport <= high".
 * Each test is two ops (the second carries the port); on success it steps to
 * the next test, on failure it jumps 4 bytes past the end, which rejects.
 * Returns the length in bytes, 0 when every port is wanted.
 */
static size_t port_bytecode(const struct rsap_listen_filter *f, struct inet_diag_bc_op ops[4])
{
        size_t n = 0;

        if (f->port_low > 0) {
                ops[n] = (struct inet_diag_bc_op){ .code = INET_DIAG_BC_S_GE, .yes = 8 };
                ops[n + 1] = (struct inet_diag_bc_op){ .no = f->port_low };
                n += 2;
        }
        if (f->port_high < UINT16_MAX) {
                ops[n] = (struct inet_diag_bc_op){ .code = INET_DIAG_BC_S_LE, .yes = 8 };
                ops[n + 1] = (struct inet_diag_bc_op){ .no = f->port_high };
                n += 2;
        }
        for (size_t i = 0; i < n; i += 2)
                ops[i].no = (unsigned short)((n - i) * sizeof(*ops) + 4);
        return n * sizeof(*ops);
}

/*
 * One port, also as the request's source port: the kernel then passes over
 * every other TCP listener with one comparison, before it would run the
 * bytecode on it.  Only where the kernel has always compared it in network
 * order (inet_diag_dump_icsk: TCP, DCCP); UDP's dump has compared it in
 * either order over the years, so UDP relies on the bytecode alone.  0
 * (every port) for a range.
 */
static uint16_t request_sport(const struct transport *t, const struct rsap_listen_filter *f)
{
        if (f->port_low != f->port_high)
                return 0;
        switch (t->proto) {
        case RSAP_PROTO_TCP:
        case RSAP_PROTO_DCCP:
                return htons(f->port_low);
        default:
                return 0;
        }
}

/* A netlink socket for sock_diag, and the port id the kernel gave it. */
struct diag_socket {
        int fd;
        uint32_t portid;
};

static int diag_socket_open(struct diag_socket *nl)
{
        struct sockaddr_nl addr = { .nl_family = AF_NETLINK };
        socklen_t len = sizeof(addr);
        int r;

        nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
        if (nl->fd < 0)
                return -errno;
        if (bind(nl->fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
            getsockname(nl->fd, (struct sockaddr *)&addr, &len) == 0) {
                nl->portid = addr.nl_pid;
                return 0;
        }
        r = -errno;
        close(nl->fd);
        nl->fd = -1;
        return r;
}

static void diag_socket_closep(struct diag_socket *nl)
{
        if (nl->fd >= 0)
                close(nl->fd);
}

/*
 * The request: sock_diag's, for one family, or with family AF_UNSPEC the old
 * inet_diag one (TCPDIAG_GETSOCK), which the kernel answers with the sockets
 * of both families from one walk of the transport's table: a dump's cost is
 * that walk, whatever the filter, so TCP is walked once rather than twice.
 * Every part a multiple of 4 bytes: no padding between them.
 */
struct dump_request {
        struct nlmsghdr nlh;
        union {
                struct inet_diag_req_v2 v2;
                struct inet_diag_req both; /* AF_UNSPEC */
        } req;
        struct nlattr bytecode;
        struct inet_diag_bc_op ops[4];
};

/* Fills in the request's header; returns where the bytecode goes. */
static struct nlattr *dump_request_head(struct dump_request *msg, int family,
                                        const struct transport *t,
                                        const struct rsap_listen_filter *f)
{
        size_t req_size = family == AF_UNSPEC ? sizeof(msg->req.both) : sizeof(msg->req.v2);

        msg->nlh.nlmsg_len = NLMSG_LENGTH(req_size);
        msg->nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        if (family == AF_UNSPEC) {
                msg->nlh.nlmsg_type = t->both_families_type;
                msg->req.both.idiag_family = AF_INET; /* ignored: a dump gives both */
                msg->req.both.idiag_states = t->states;
                msg->req.both.id.idiag_sport = request_sport(t, f);
        } else {
                msg->nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
                msg->req.v2.sdiag_family = (uint8_t)family;
                msg->req.v2.sdiag_protocol = (uint8_t)t->ipproto;
                msg->req.v2.idiag_states = t->states;
                msg->req.v2.id.idiag_sport = request_sport(t, f);
        }
        return (struct nlattr *)((char *)msg + NLMSG_HDRLEN + NLMSG_ALIGN(req_size));
}

static int send_dump_request(const struct diag_socket *nl, uint32_t seq, int family,
                             const struct transport *t, const struct rsap_listen_filter *f)
{
        struct dump_request msg = { 0 };
        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
        struct inet_diag_bc_op ops[4];
        size_t bc_len = port_bytecode(f, ops);
        struct nlattr *bytecode = dump_request_head(&msg, family, t, f);

        _Static_assert(sizeof(struct inet_diag_req) % 4 == 0 &&
                               sizeof(struct inet_diag_req_v2) % 4 == 0,
                       "the bytecode attribute follows either request unpadded");
        msg.nlh.nlmsg_seq = seq;
        if (bc_len) {
                bytecode->nla_type = INET_DIAG_REQ_BYTECODE;
                bytecode->nla_len = (uint16_t)(NLA_HDRLEN + bc_len);
                memcpy((char *)bytecode + NLA_HDRLEN, ops, bc_len);
                msg.nlh.nlmsg_len += NLA_HDRLEN + (uint32_t)bc_len;
        }
        if (sendto(nl->fd, &msg, msg.nlh.nlmsg_len, 0, (struct sockaddr *)&kernel,
                   sizeof(kernel)) < 0)
                return -errno;
        return 0;
}

/* One dump: every socket of one family and transport. */
static int dump_one(const struct diag_socket *nl, char *buf, uint32_t seq, int family,
                    const struct transport *t, struct dump *d)
{
        int r = send_dump_request(nl, seq, family, t, d->filter);

        if (r < 0)
                return r;
        d->proto = t->proto;
        d->message_type = family == AF_UNSPEC ? t->both_families_type : SOCK_DIAG_BY_FAMILY;
        for (;;) {
                struct sockaddr_nl from;
                struct iovec iov = { .iov_base = buf, .iov_len = DUMP_BUFFER_SIZE };
                struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from),
                                     .msg_iov = &iov, .msg_iovlen = 1 };
                ssize_t n = recvmsg(nl->fd, &mh, 0);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EPROTO; /* the kernel never sends an empty datagram */
                if (mh.msg_flags & MSG_TRUNC)
                        return -ENOSPC;
                if (from.nl_pid != 0)
                        continue; /* not from the kernel */
                r = on_datagram(buf, (size_t)n, seq, nl->portid, d);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
}

/* What an optional dump (IPv6, SCTP, DCCP) answers when the kernel has no
 * such family or protocol: there are simply none of those sockets. */
static bool means_absent(int err)
{
        return err == -ENOENT || err == -EINVAL || err == -EPROTONOSUPPORT ||
               err == -EAFNOSUPPORT || err == -EOPNOTSUPP;
}

/*
 * Whether the kernel has a protocol at all.  Asking sock_diag about SCTP
 * would make the kernel load the sctp module just to answer "none".  Each
 * module leaves a trace that costs one access(2): /proc/net/sctp (made in
 * every network namespace SCTP serves) and /sys/module/dccp.  Only without
 * /sys is /proc/net/protocols read, whose every line the kernel formats anew,
 * which costs as much as a whole dump.
 */
struct kernel_protocols {
        char text[8192]; /* /proc/net/protocols, read once per listing */
        bool read;
};

static bool listed_in_proc_net_protocols(struct kernel_protocols *k, const char *name)
{
        size_t len = strlen(name);

        if (!k->read) {
                int fd = open(PROC_NET "/protocols", O_RDONLY | O_CLOEXEC);
                ssize_t n = fd < 0 ? -1 : read(fd, k->text, sizeof(k->text) - 1);

                if (fd >= 0)
                        close(fd);
                k->text[n > 0 ? n : 0] = '\0';
                k->read = true;
        }
        for (const char *line = k->text; *line; line = strchrnul(line, '\n') + (*line != '\0')) {
                if (strncmp(line, name, len) == 0 && (line[len] == ' ' || line[len] == '\t'))
                        return true;
                if (!*strchrnul(line, '\n'))
                        break;
        }
        return false;
}

/* proc_net_seen: /proc/net/sockstat was just read, so /proc/net is there. */
static bool trace_dir_exists(const struct transport *t, bool proc_net_seen)
{
        if (proc_net_seen && strcmp(t->kernel_trace_dir, PROC_NET) == 0)
                return true;
        return access(t->kernel_trace_dir, F_OK) == 0;
}

static bool kernel_has_protocol(struct kernel_protocols *k, const struct transport *t,
                                bool proc_net_seen)
{
        if (access(t->kernel_trace, F_OK) == 0)
                return true;
        if (errno == ENOENT && trace_dir_exists(t, proc_net_seen))
                return false;
        return listed_in_proc_net_protocols(k, t->kernel_name);
}

/*
 * The dumps run on up to this many threads, each with its own netlink socket
 * and list: the kernel builds a dump in the reading thread, so two dumps on
 * two CPUs take the time of one.
 */
#define MAX_DUMP_THREADS 4

/* One dump: a family of a transport. */
struct dump_job {
        const struct transport *transport;
        int family; /* AF_UNSPEC: both, in one dump (transport->both_families_type) */
};

struct dump_queue {
        const struct rsap_listen_filter *filter;
        struct dump_job jobs[ARRAY_SIZE(transports) * 2];
        size_t n_jobs;
        atomic_size_t next;
};

struct dumper {
        struct dump_queue *queue;
        struct rsap_listen_list list; /* this thread's sockets */
        int err;
};

/* IPv6, SCTP and DCCP may be missing from a kernel: then there are none. */
static bool job_optional(const struct dump_job *job)
{
        return job->transport->kernel_name || job->family == AF_INET6;
}

/* One job's dump; an optional one the kernel lacks leaves nothing. */
static int run_family_job(const struct diag_socket *nl, char *buf, uint32_t *seq,
                          const struct dump_job *job, struct dump *d)
{
        size_t before = d->list->count;
        int r = dump_one(nl, buf, (*seq)++, job->family, job->transport, d);

        if (r < 0 && job_optional(job) && means_absent(r)) {
                d->list->count = before;
                return 0;
        }
        return r;
}

/* Both families in one dump; where the kernel no longer takes the old
 * request, one dump each. */
static int run_job(const struct diag_socket *nl, char *buf, uint32_t *seq,
                   const struct dump_job *job, struct dump *d)
{
        size_t before = d->list->count;
        int r;

        if (job->family != AF_UNSPEC)
                return run_family_job(nl, buf, seq, job, d);
        r = dump_one(nl, buf, (*seq)++, AF_UNSPEC, job->transport, d);
        if (r == 0 || !means_absent(r))
                return r;
        d->list->count = before;
        r = run_family_job(nl, buf, seq, &(struct dump_job){ job->transport, AF_INET }, d);
        if (r == 0)
                r = run_family_job(nl, buf, seq, &(struct dump_job){ job->transport, AF_INET6 },
                                   d);
        return r;
}

static void *run_dumper(void *data)
{
        struct dumper *dp = data;
        struct dump_queue *q = dp->queue;
        _cleanup_(diag_socket_closep) struct diag_socket nl = { .fd = -1 };
        _cleanup_(freep) char *buf = malloc(DUMP_BUFFER_SIZE);
        struct dump d = { .list = &dp->list, .filter = q->filter };
        uint32_t seq = 1;
        size_t i;

        dp->err = diag_socket_open(&nl);
        if (dp->err < 0)
                return NULL;
        if (!buf) {
                dp->err = -ENOMEM;
                return NULL;
        }
        while (dp->err == 0 && (i = atomic_fetch_add(&q->next, 1)) < q->n_jobs)
                dp->err = run_job(&nl, buf, &seq, &q->jobs[i], &d);
        return NULL;
}

/*
 * What /proc/net/sockstat and sockstat6 say: "sockets: used N", and per
 * transport and family "TCP: inuse N", "UDP6: inuse N" and so on, -1 when
 * not said.  A transport's "inuse" counts its sockets in the kernel's
 * lookup tables, listening and bound ones included, in this network
 * namespace; a dump walks those tables whole, whatever the filter, so a
 * family with none is not worth a dump.  Both files cost less than one.
 */
struct sockstat {
        bool proc_net_seen; /* sockstat could be read */
        long used;
        long inuse[RSAP_PROTO_COUNT][2]; /* [proto][0 IPv4, 1 IPv6] */
};

/* The number after "WORD " in "NAME: WORD N ...", or -1. */
static long count_after(const char *line, const char *word)
{
        const char *p = strstr(line, word);
        char *end;
        long n;

        if (!p || p[strlen(word)] != ' ')
                return -1;
        n = strtol(p + strlen(word) + 1, &end, 10);
        return end == p + strlen(word) + 1 || n < 0 ? -1 : n;
}

/* Reads one of the files; family_index 1 for sockstat6, whose names end in
 * 6 ("TCP6").  By hand rather than with sscanf(), which costs more than
 * reading the file. */
static void read_sockstat_file(const char *path, struct sockstat *st, int family_index)
{
        static const char *const names[RSAP_PROTO_COUNT] = {
                [RSAP_PROTO_TCP] = "TCP", [RSAP_PROTO_UDP] = "UDP",
                [RSAP_PROTO_SCTP] = "SCTP", [RSAP_PROTO_DCCP] = "DCCP",
        };
        char text[1024], *line, *save = NULL;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);

        if (fd >= 0)
                close(fd);
        text[n > 0 ? n : 0] = '\0';
        if (n > 0)
                st->proc_net_seen = true;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                size_t len = strcspn(line, ":");

                if (line[len] != ':')
                        continue;
                if (family_index == 0 && len == 7 && memcmp(line, "sockets", 7) == 0) {
                        st->used = count_after(line, "used");
                        continue;
                }
                if (family_index == 1) {
                        if (len < 2 || line[len - 1] != '6')
                                continue;
                        len--;
                }
                for (size_t p = 0; p < RSAP_PROTO_COUNT; p++)
                        if (names[p] && strlen(names[p]) == len && memcmp(line, names[p], len) == 0)
                                st->inuse[p][family_index] = count_after(line + len, " inuse");
        }
}

static void read_sockstat(struct sockstat *st)
{
        st->proc_net_seen = false;
        st->used = -1;
        for (size_t p = 0; p < RSAP_PROTO_COUNT; p++)
                st->inuse[p][0] = st->inuse[p][1] = -1;
        read_sockstat_file(PROC_NET "/sockstat", st, 0);
        read_sockstat_file(PROC_NET "/sockstat6", st, 1);
}

/* The dumps f asks for, the big ones (TCP, then UDP) first so that the
 * threads finish together; none for a family the kernel says has no socket
 * of that transport. */
static void plan_dumps(struct dump_queue *q, const struct rsap_listen_filter *f,
                       const struct sockstat *st)
{
        static const int families[] = { AF_INET, AF_INET6 };
        struct kernel_protocols k; /* not zeroed: 8 KiB that only a read fills */

        k.read = false;
        q->filter = f;
        q->n_jobs = 0;
        atomic_init(&q->next, 0);
        for (size_t i = 0; i < ARRAY_SIZE(transports); i++) {
                const struct transport *t = &transports[i];

                if (!proto_wanted(f, t->proto))
                        continue;
                if (t->kernel_name && !kernel_has_protocol(&k, t, st->proc_net_seen))
                        continue;
                if (t->both_families_type && st->inuse[t->proto][0] != 0 &&
                    st->inuse[t->proto][1] != 0) {
                        q->jobs[q->n_jobs++] = (struct dump_job){ t, AF_UNSPEC };
                        continue;
                }
                for (size_t j = 0; j < ARRAY_SIZE(families); j++)
                        if (st->inuse[t->proto][j] != 0)
                                q->jobs[q->n_jobs++] = (struct dump_job){ t, families[j] };
        }
}

/*
 * Threads pay off only when the kernel has many sockets to walk (a dump
 * visits every socket of its family, whatever the filter); starting one costs
 * more than a whole dump on an ordinary host.  /proc/net/sockstat says how
 * many sockets are in use (unknown counts as many).
 */
#define SOCKETS_WORTH_A_THREAD 2000

static size_t dumper_count(size_t n_jobs, const struct sockstat *st)
{
        long cpus;
        size_t n;

        if (n_jobs <= 1 || (st->used >= 0 && st->used < SOCKETS_WORTH_A_THREAD))
                return n_jobs ? 1 : 0;
        cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus > 0 ? (size_t)cpus : 1;
        if (n > MAX_DUMP_THREADS)
                n = MAX_DUMP_THREADS;
        return n < n_jobs ? n : n_jobs;
}

/* Moves a dumper's sockets to the end of list: the first dumper's array
 * becomes the list's, rather than a copy that would double the memory of a
 * big listing for a moment. */
static int take_sockets(struct rsap_listen_list *list, struct rsap_listen_list *from)
{
        size_t needed = list->count + from->count;

        if (from->count == 0)
                return 0;
        if (!list->sockets) {
                list->sockets = TAKE_PTR(from->sockets);
                list->capacity = from->capacity;
                list->count = from->count;
                return 0;
        }
        if (rsap_grow(&list->sockets, &list->capacity, needed, sizeof(*list->sockets)) < 0)
                return -ENOMEM;
        memcpy(list->sockets + list->count, from->sockets, from->count * sizeof(*from->sockets));
        list->count = needed;
        return 0;
}

static int read_netlink(const struct rsap_listen_filter *f, struct rsap_listen_list *list)
{
        struct dump_queue q;
        struct dumper dumpers[MAX_DUMP_THREADS] = { 0 };
        pthread_t threads[MAX_DUMP_THREADS];
        bool started[MAX_DUMP_THREADS] = { false };
        struct sockstat st;
        size_t n;
        int r = 0;

        read_sockstat(&st);
        plan_dumps(&q, f, &st);
        n = dumper_count(q.n_jobs, &st);
        for (size_t i = 0; i < n; i++)
                dumpers[i].queue = &q;
        for (size_t i = 1; i < n; i++)
                started[i] = pthread_create(&threads[i], NULL, run_dumper, &dumpers[i]) == 0;
        if (n > 0)
                run_dumper(&dumpers[0]);
        for (size_t i = 1; i < n; i++) {
                if (started[i])
                        pthread_join(threads[i], NULL);
        }
        for (size_t i = 0; i < n; i++) {
                if (r == 0)
                        r = dumpers[i].err;
                if (r == 0)
                        r = take_sockets(list, &dumpers[i].list);
                free(dumpers[i].list.sockets);
        }
        return r;
}

/* ---- /proc/net ---------------------------------------------------------- */

/* The kernel prints each 32-bit word of an address as the native integer
 * that the word's bytes make; reading them back the same way restores the
 * bytes, on either endianness. */
static int parse_hex_address(const char *hex, unsigned char *addr, size_t n_words)
{
        if (strlen(hex) != n_words * 8)
                return -EINVAL;
        for (size_t i = 0; i < n_words; i++) {
                char word_text[9];
                uint32_t word;

                memcpy(word_text, hex + i * 8, 8);
                word_text[8] = '\0';
                word = (uint32_t)strtoul(word_text, NULL, 16);
                memcpy(addr + i * 4, &word, 4);
        }
        return 0;
}

static int parse_proc_line(const char *line, int family, unsigned want_state,
                           const struct rsap_listen_filter *f, struct rsap_listen_list *list,
                           enum rsap_proto proto)
{
        char hex[33];
        unsigned port, state;
        unsigned long uid;
        unsigned long long inode;
        unsigned char addr[16] = { 0 };
        struct ifname_cache none = { 0 };

        /* "  0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000
         *  00000000     0        0 12345 ..." */
        if (sscanf(line, " %*u: %32[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %lu %*d %llu", hex, &port,
                   &state, &uid, &inode) != 5)
                return 0; /* the heading */
        if (state != want_state || port > UINT16_MAX)
                return 0;
        if (parse_hex_address(hex, addr, family == AF_INET ? 1 : 4) < 0)
                return 0;
        if (!port_and_uid_wanted(f, (uint16_t)port, (uid_t)uid))
                return 0;
        if (!add_socket(list, &none, proto, family, addr, (uint16_t)port, 0, (uid_t)uid, inode))
                return -ENOMEM;
        return 0;
}

static int read_proc_file(const char *path, int family, enum rsap_proto proto,
                          unsigned want_state, const struct rsap_listen_filter *f,
                          struct rsap_listen_list *list)
{
        _cleanup_(freep) char *line = NULL;
        size_t size = 0;
        int r = 0;
        FILE *in = fopen(path, "re");

        if (!in)
                return -errno;
        while (r == 0 && getline(&line, &size, in) > 0)
                r = parse_proc_line(line, family, want_state, f, list, proto);
        fclose(in);
        return r;
}

static int read_procfs(const struct rsap_listen_filter *f, struct rsap_listen_list *list)
{
        static const struct {
                const char *path;
                int family;
                enum rsap_proto proto;
                unsigned state;
        } files[] = {
                { PROC_NET "/tcp", AF_INET, RSAP_PROTO_TCP, KERNEL_TCP_LISTEN },
                { PROC_NET "/tcp6", AF_INET6, RSAP_PROTO_TCP, KERNEL_TCP_LISTEN },
                { PROC_NET "/udp", AF_INET, RSAP_PROTO_UDP, KERNEL_TCP_CLOSE },
                { PROC_NET "/udp6", AF_INET6, RSAP_PROTO_UDP, KERNEL_TCP_CLOSE },
        };

        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                int r;

                if (!proto_wanted(f, files[i].proto))
                        continue;
                r = read_proc_file(files[i].path, files[i].family, files[i].proto,
                                   files[i].state, f, list);
                /* No tcp6 without IPv6; no tcp at all means no /proc/net. */
                if (r == -ENOENT && files[i].family == AF_INET6)
                        continue;
                if (r < 0)
                        return r == -ENOENT || r == -EACCES ? -EPROTONOSUPPORT : r;
        }
        return 0;
}

/* ---- choosing the source ------------------------------------------------ */

/* Errors that mean "this kernel or sandbox will not answer sock_diag". */
static bool netlink_refused(int err)
{
        return err == -EPROTONOSUPPORT || err == -EAFNOSUPPORT || err == -EACCES ||
               err == -EPERM || err == -ENOENT || err == -EOPNOTSUPP || err == -ECONNREFUSED;
}

int rsap_listen_read_sockets(const struct rsap_listen_filter *f, struct rsap_listen_list *list)
{
        size_t before = list->count;
        int r;

        if (f->source == RSAP_LISTEN_SOURCE_PROCFS) {
                list->source = RSAP_LISTEN_SOURCE_PROCFS;
                return read_procfs(f, list);
        }
        r = read_netlink(f, list);
        list->source = RSAP_LISTEN_SOURCE_NETLINK;
        if (r >= 0)
                return 0;
        if (f->source == RSAP_LISTEN_SOURCE_NETLINK || !netlink_refused(r))
                return netlink_refused(r) ? -EAFNOSUPPORT : r;
        list->count = before; /* whatever the refused dump had added */
        list->source = RSAP_LISTEN_SOURCE_PROCFS;
        return read_procfs(f, list);
}
