/* SPDX-License-Identifier: MIT */
/*
 * Whether the calling thread's network namespace has a nat chain at all,
 * before published.c reads the rules with libnftnl and libmnl.  Most hosts
 * have none; rsap then never loads those two libraries (cli/lazy_nftnl.c),
 * which cost a lookup 0.1 ms of dynamic loading, more than the rest of its
 * "on this host" part.  So this is one dump of the chains read by hand, as
 * sockets.c reads sock_diag's, each message and attribute bounds-checked,
 * looking only at each chain's type.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <rsap/basic.h>

#include "nat_internal.h"

#define CHAIN_MESSAGE ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWCHAIN)

/* Whether the chain message names its type "nat". */
static bool is_nat_chain(const struct nlmsghdr *nlh)
{
        size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));

        while (off + NLA_HDRLEN <= nlh->nlmsg_len) {
                const struct nlattr *attr = (const struct nlattr *)((const char *)nlh + off);
                size_t len = attr->nla_len;

                if (len < NLA_HDRLEN || len > nlh->nlmsg_len - off)
                        return false;
                if ((attr->nla_type & NLA_TYPE_MASK) == NFTA_CHAIN_TYPE &&
                    len - NLA_HDRLEN >= sizeof("nat") &&
                    memcmp((const char *)attr + NLA_HDRLEN, "nat", sizeof("nat")) == 0)
                        return true;
                off += NLA_ALIGN(len);
        }
        return false;
}

/* One message: 1 a nat chain (or the dump's end, *done), 0 go on, or -errno. */
static int on_message(const struct nlmsghdr *nlh, uint32_t seq, bool *done)
{
        if (nlh->nlmsg_seq != seq)
                return -EPROTO;
        if (nlh->nlmsg_type == NLMSG_DONE) {
                *done = true;
                return 0;
        }
        if (nlh->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(nlh);

                if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
                        return -EBADMSG;
                *done = true;
                return e->error < 0 ? e->error : 0;
        }
        return nlh->nlmsg_type == CHAIN_MESSAGE && is_nat_chain(nlh);
}

static int on_datagram(const char *buf, size_t size, uint32_t seq, bool *done)
{
        size_t off = 0;

        while (!*done && size - off >= NLMSG_HDRLEN) {
                const struct nlmsghdr *nlh = (const void *)(buf + off);
                size_t step = NLMSG_ALIGN(nlh->nlmsg_len);
                int r;

                if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > size - off)
                        return -EBADMSG;
                r = on_message(nlh, seq, done);
                if (r != 0)
                        return r;
                off = step < size - off ? off + step : size;
        }
        return 0;
}

static int ask_chains(int fd, uint32_t seq)
{
        struct {
                struct nlmsghdr nlh;
                struct nfgenmsg nfg;
        } req = {
                .nlh = { .nlmsg_len = sizeof(req),
                         .nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETCHAIN,
                         .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = seq },
                .nfg = { .nfgen_family = NFPROTO_UNSPEC, .version = NFNETLINK_V0 },
        };
        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

        if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
                return -errno;
        return 0;
}

int rsap_nat_chain_present(void)
{
        char buf[8192]; /* a chain's message is small; a datagram holds several */
        _cleanup_(closep) int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
        uint32_t seq = (uint32_t)time(NULL);
        bool done = false;
        int r = 0;

        if (fd < 0)
                return -errno;
        r = ask_chains(fd, seq);
        while (r == 0 && !done) {
                ssize_t n = recv(fd, buf, sizeof(buf), 0);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                r = n == 0 ? -EPROTO : on_datagram(buf, (size_t)n, seq, &done);
        }
        return r;
}
