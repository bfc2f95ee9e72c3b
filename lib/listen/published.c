/* SPDX-License-Identifier: MIT */
/*
 * Published ports: what the DNAT rules of nf_tables forward into other
 * namespaces, read over netlink (libmnl, libnftnl) in the calling thread's
 * network namespace, never from the output of nft or iptables.
 *
 * Docker, Podman (CNI, netavark), nerdctl and kube-proxy write their
 * forwards as a tree of chains: a nat base chain hooked at prerouting (and
 * output, for the host's own connections) jumps into a runtime's chain
 * (DOCKER, CNI-HOSTPORT-DNAT, NETAVARK-HOSTPORT-DNAT, KUBE-SERVICES), which
 * jumps on into per-container or per-service chains, the port often tested
 * in one chain and the DNAT done in another (KUBE-NODEPORTS, then
 * KUBE-SEP-*).  So the chains are read whole (two dumps: chains, rules) and
 * walked from each such base chain, each rule narrowing the transports,
 * ports and address that the rules it jumps to see.  Each port a DNAT
 * reaches with a known port becomes one entry of the list.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <rsap/basic.h>
#include <rsap/listen.h>

#include "listen_internal.h"
#include "nat_internal.h"

/* Jumps followed from a base chain: the kernel allows 16 too. */
#define MAX_DEPTH 16
/* What one recvmsg of a dump may bring: the kernel fills up to 32 KiB. */
#define DUMP_BUFFER_SIZE 32768
/* Entries one namespace's rules may add: a DNAT of every port of a range
 * counts each port, and a rule set might forward whole ranges. */
#define MAX_ENTRIES (1u << 20)
/* Up to this many entries of one namespace are searched for repeats. */
#define DEDUPE_MAX 4096

struct nat_chain {
        int family;
        char *table, *name;
        bool entry; /* a nat base chain at prerouting or output */
        struct rsap_nat_rule *rules;
        size_t n_rules, capacity;
};

struct rule_set {
        struct nat_chain *chains;
        size_t count, capacity;
};

static void rule_set_clear(struct rule_set *set)
{
        for (size_t i = 0; i < set->count; i++) {
                free(set->chains[i].table);
                free(set->chains[i].name);
                free(set->chains[i].rules);
        }
        free(set->chains);
}

static bool nat_family(int family)
{
        return family == NFPROTO_IPV4 || family == NFPROTO_IPV6 || family == NFPROTO_INET;
}

static struct nat_chain *find_chain(struct rule_set *set, int family, const char *table,
                                    const char *name)
{
        for (size_t i = 0; i < set->count; i++) {
                struct nat_chain *c = &set->chains[i];

                if (c->family == family && strcmp(c->table, table) == 0 &&
                    strcmp(c->name, name) == 0)
                        return c;
        }
        return NULL;
}

/* ---- the dumps ---------------------------------------------------------- */

struct dump {
        struct rule_set *set;
        int err;
};

static void nftnl_chain_freep(struct nftnl_chain **c)
{
        if (*c)
                nftnl_chain_free(*c);
}

static void nftnl_rule_freep(struct nftnl_rule **r)
{
        if (*r)
                nftnl_rule_free(*r);
}

static int add_chain(struct rule_set *set, int family, const char *table, const char *name,
                     bool entry)
{
        struct nat_chain *c;

        if (rsap_grow(&set->chains, &set->capacity, set->count + 1, sizeof(*set->chains)) < 0)
                return -ENOMEM;
        c = &set->chains[set->count];
        *c = (struct nat_chain){ .family = family, .entry = entry,
                                 .table = strdup(table), .name = strdup(name) };
        set->count++;
        return c->table && c->name ? 0 : -ENOMEM;
}

static int on_chain(const struct nlmsghdr *nlh, void *data)
{
        struct dump *d = data;
        _cleanup_(nftnl_chain_freep) struct nftnl_chain *c = nftnl_chain_alloc();
        const char *table, *name, *type;
        uint32_t hook;
        int family;

        if (!c || nftnl_chain_nlmsg_parse(nlh, c) < 0)
                return c ? MNL_CB_OK : (d->err = -ENOMEM, MNL_CB_ERROR);
        family = (int)nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY);
        table = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE);
        name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
        type = nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE);
        if (!nat_family(family) || !table || !name)
                return MNL_CB_OK;
        hook = nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM)
                       ? nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM) : UINT32_MAX;
        d->err = add_chain(d->set, family, table, name,
                           type && strcmp(type, "nat") == 0 &&
                                   (hook == NF_INET_PRE_ROUTING || hook == NF_INET_LOCAL_OUT));
        return d->err < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static int add_rule(struct nat_chain *c, const struct rsap_nat_rule *rule)
{
        if (rsap_grow(&c->rules, &c->capacity, c->n_rules + 1, sizeof(*c->rules)) < 0)
                return -ENOMEM;
        c->rules[c->n_rules++] = *rule;
        return 0;
}

/* A rule of a chain the chain dump listed; one that came between the two
 * dumps is not there yet. */
static int on_rule(const struct nlmsghdr *nlh, void *data)
{
        struct dump *d = data;
        _cleanup_(nftnl_rule_freep) struct nftnl_rule *r = nftnl_rule_alloc();
        struct rsap_nat_rule rule;
        struct nat_chain *c;
        const char *table, *chain;
        int family;

        if (!r)
                return d->err = -ENOMEM, MNL_CB_ERROR;
        if (!rsap_nat_rule_message_valid(nlh) || nftnl_rule_nlmsg_parse(nlh, r) < 0)
                return MNL_CB_OK;
        family = (int)nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY);
        table = nftnl_rule_get_str(r, NFTNL_RULE_TABLE);
        chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
        c = table && chain ? find_chain(d->set, family, table, chain) : NULL;
        if (!c || rsap_nat_rule_decode(r, family, &rule) < 0)
                return MNL_CB_OK; /* not decoded: skipped */
        d->err = add_rule(c, &rule);
        return d->err < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static void mnl_socket_closep(struct mnl_socket **nl)
{
        if (*nl)
                mnl_socket_close(*nl);
}

/* One dump of type over nl, each message to cb: 0 or -errno (EPERM
 * without CAP_NET_ADMIN). */
static int run_dump(struct mnl_socket *nl, uint16_t type, mnl_cb_t cb, struct dump *d)
{
        static _Thread_local char buf[DUMP_BUFFER_SIZE];
        uint32_t seq = (uint32_t)time(NULL), port = mnl_socket_get_portid(nl);
        struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, type, NFPROTO_UNSPEC,
                                                     NLM_F_DUMP | NLM_F_ACK, seq);
        ssize_t n;
        int r = MNL_CB_OK;

        if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
                return -errno;
        while (r > MNL_CB_STOP && (n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0)
                r = mnl_cb_run(buf, (size_t)n, seq, port, cb, d);
        if (d->err < 0)
                return d->err;
        if (r < 0 || n < 0)
                return -errno ? -errno : -EIO;
        return 0;
}

static int read_rule_set(struct rule_set *set)
{
        _cleanup_(mnl_socket_closep) struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
        struct dump d = { set, 0 };
        int r;

        if (!nl)
                return -errno;
        if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
                return -errno;
        r = run_dump(nl, NFT_MSG_GETCHAIN, on_chain, &d);
        if (r == 0)
                r = run_dump(nl, NFT_MSG_GETRULE, on_rule, &d);
        return r;
}

/* ---- the walk ----------------------------------------------------------- */

/* What a packet must be to get this far: the rules before narrowed it. */
struct scope {
        unsigned protocols;
        size_t n_ports; /* 0: every port */
        struct { uint16_t low, high; } ports[RSAP_NAT_MAX_PORT_RANGES];
        int daddr_family;
        unsigned char daddr[16];
        unsigned daddr_prefix;
};

static bool prefix_within(const unsigned char *a, const unsigned char *b, unsigned bits)
{
        size_t bytes = bits / 8;

        if (memcmp(a, b, bytes) != 0)
                return false;
        return bits % 8 == 0 || ((a[bytes] ^ b[bytes]) & (0xff << (8 - bits % 8))) == 0;
}

static bool narrow_address(struct scope *s, const struct rsap_nat_rule *rule)
{
        if (!rule->daddr_family)
                return true;
        if (s->daddr_family && s->daddr_family != rule->daddr_family)
                return false;
        if (s->daddr_family &&
            !prefix_within(s->daddr, rule->daddr,
                           s->daddr_prefix < rule->daddr_prefix ? s->daddr_prefix
                                                                : rule->daddr_prefix))
                return false;
        if (!s->daddr_family || rule->daddr_prefix > s->daddr_prefix) {
                s->daddr_family = rule->daddr_family;
                memcpy(s->daddr, rule->daddr, sizeof(s->daddr));
                s->daddr_prefix = rule->daddr_prefix;
        }
        return true;
}

/* The ports both allow; false when none. */
static bool narrow_ports(struct scope *s, const struct rsap_nat_rule *rule)
{
        struct scope out = *s;

        if (rule->n_ports == 0)
                return true;
        if (s->n_ports == 0) {
                s->n_ports = rule->n_ports;
                memcpy(s->ports, rule->ports, sizeof(s->ports));
                return true;
        }
        out.n_ports = 0;
        for (size_t i = 0; i < s->n_ports; i++)
                for (size_t j = 0; j < rule->n_ports && out.n_ports < RSAP_NAT_MAX_PORT_RANGES;
                     j++) {
                        uint16_t low = s->ports[i].low > rule->ports[j].low ? s->ports[i].low
                                                                            : rule->ports[j].low;
                        uint16_t high = s->ports[i].high < rule->ports[j].high
                                                ? s->ports[i].high : rule->ports[j].high;

                        if (low <= high) {
                                out.ports[out.n_ports].low = low;
                                out.ports[out.n_ports++].high = high;
                        }
                }
        *s = out;
        return s->n_ports > 0;
}

static bool narrow(struct scope *s, const struct rsap_nat_rule *rule)
{
        s->protocols &= rule->protocols;
        return s->protocols && narrow_ports(s, rule) && narrow_address(s, rule);
}

struct walk {
        const struct rsap_listen_filter *filter;
        struct rsap_listen_list *list;
        struct rule_set *set;
        size_t added;
};

/* The entry's host address: the rule's destination, else any of its family. */
static void entry_address(struct rsap_listen_socket *s, const struct scope *scope,
                          const struct nat_chain *c, const struct rsap_nat_rule *rule)
{
        if (scope->daddr_family) {
                s->family = scope->daddr_family;
                memcpy(s->addr, scope->daddr, sizeof(s->addr));
        } else {
                s->family = c->family == NFPROTO_IPV6 ||
                                    (c->family == NFPROTO_INET && rule->to_family == AF_INET6)
                                    ? AF_INET6 : AF_INET;
        }
        inet_ntop(s->family, s->addr, s->address, sizeof(s->address));
}

static int make_forward(struct walk *w, const struct nat_chain *c,
                        const struct rsap_nat_rule *rule, uint16_t port,
                        const struct rsap_listen_forward **out)
{
        struct rsap_listen_forward *fw = rsap_listen_keep(w->list, calloc(1, sizeof(*fw)));
        char table[300];
        int r;

        if (!fw)
                return -ENOMEM;
        fw->kind = RSAP_LISTEN_FORWARD_DNAT;
        snprintf(table, sizeof(table), "%s %s",
                 c->family == NFPROTO_IPV4 ? "ip" : c->family == NFPROTO_IPV6 ? "ip6" : "inet",
                 c->table);
        r = rsap_listen_keep_string(w->list, c->name, &fw->via);
        if (r == 0)
                r = rsap_listen_keep_string(w->list, table, &fw->table);
        fw->target_family = rule->to_family;
        memcpy(fw->target_addr, rule->to_addr, sizeof(fw->target_addr));
        if (rule->to_family)
                inet_ntop(rule->to_family, rule->to_addr, fw->target_address,
                          sizeof(fw->target_address));
        fw->target_port = rule->to_port_low ? rule->to_port_low : port;
        fw->target_port_high = rule->to_port_low ? rule->to_port_high : port;
        *out = fw;
        return r;
}

static bool wanted(const struct rsap_listen_filter *f, enum rsap_proto proto, uint16_t port)
{
        return (!f->protocols || (f->protocols & (1u << proto))) && port >= f->port_low &&
               port <= f->port_high;
}

static int add_entry(struct walk *w, const struct scope *scope, const struct nat_chain *c,
                     const struct rsap_nat_rule *rule, enum rsap_proto proto, uint16_t port)
{
        struct rsap_listen_list *list = w->list;
        struct rsap_listen_socket *s;
        int r;

        if (!wanted(w->filter, proto, port) || w->added >= MAX_ENTRIES)
                return 0;
        if (rsap_grow(&list->sockets, &list->capacity, list->count + 1, sizeof(*s)) < 0)
                return -ENOMEM;
        s = &list->sockets[list->count];
        *s = (struct rsap_listen_socket){ .proto = proto, .port = port };
        entry_address(s, scope, c, rule);
        r = make_forward(w, c, rule, port, &s->forward);
        if (r < 0)
                return r;
        list->count++;
        w->added++;
        return 0;
}

/* One entry per transport and port the scope leaves: a DNAT that keeps
 * every port (1:1 NAT of an address) publishes no port in particular and
 * is not listed. */
static int publish(struct walk *w, const struct scope *scope, const struct nat_chain *c,
                   const struct rsap_nat_rule *rule)
{
        int r = 0;

        if (scope->n_ports == 0)
                return 0;
        for (int p = RSAP_TRANSPORTS_FIRST; r == 0 && p <= RSAP_TRANSPORTS_LAST; p++) {
                if (!(scope->protocols & (1u << p)))
                        continue;
                for (size_t i = 0; r == 0 && i < scope->n_ports; i++)
                        for (uint32_t port = scope->ports[i].low;
                             r == 0 && port <= scope->ports[i].high; port++)
                                r = add_entry(w, scope, c, rule, (enum rsap_proto)p,
                                              (uint16_t)port);
        }
        return r;
}

static int walk_chain(struct walk *w, const struct nat_chain *c, const struct scope *from,
                      unsigned depth)
{
        int r = 0;

        for (size_t i = 0; r == 0 && i < c->n_rules; i++) {
                const struct rsap_nat_rule *rule = &c->rules[i];
                struct scope scope = *from;
                const struct nat_chain *next;

                if (rule->action == RSAP_NAT_UNREADABLE || rule->action == RSAP_NAT_NONE ||
                    !narrow(&scope, rule))
                        continue;
                if (rule->action == RSAP_NAT_DNAT) {
                        r = publish(w, &scope, c, rule);
                        continue;
                }
                next = find_chain(w->set, c->family, c->table, rule->chain);
                if (next && depth < MAX_DEPTH)
                        r = walk_chain(w, next, &scope, depth + 1);
        }
        return r;
}

/* The same forward reached twice (from prerouting and from output, as
 * Docker's chain is) is listed once: the entries this walk added, sorted,
 * each kept when it differs from the one before. */
static bool same_entry(const struct rsap_listen_socket *a, const struct rsap_listen_socket *b)
{
        const struct rsap_listen_forward *x = a->forward, *y = b->forward;

        return a->proto == b->proto && a->port == b->port && a->family == b->family &&
               memcmp(a->addr, b->addr, sizeof(a->addr)) == 0 &&
               x->target_family == y->target_family &&
               memcmp(x->target_addr, y->target_addr, sizeof(x->target_addr)) == 0 &&
               x->target_port == y->target_port && x->target_port_high == y->target_port_high &&
               strcmp(x->via, y->via) == 0 && strcmp(x->table, y->table) == 0;
}

static void drop_repeats(struct rsap_listen_list *list, size_t first)
{
        size_t kept = first;

        if (list->count - first > DEDUPE_MAX)
                return; /* whole ranges: repeats cost less than the quadratic search */
        for (size_t i = first; i < list->count; i++) {
                bool repeat = false;

                for (size_t j = first; !repeat && j < kept; j++)
                        repeat = same_entry(&list->sockets[j], &list->sockets[i]);
                if (!repeat)
                        list->sockets[kept++] = list->sockets[i];
        }
        list->count = kept;
}

int rsap_listen_read_published(const struct rsap_listen_filter *f, struct rsap_listen_list *list)
{
        _cleanup_(rule_set_clear) struct rule_set set = { 0 };
        struct walk w = { f, list, &set, 0 };
        struct scope all = { .protocols = ~0u };
        size_t first = list->count;
        int r;

        if (f->match_pid || (f->match_uid && f->uid != 0))
                return 0; /* no process holds a rule; root's */
        r = rsap_nat_chain_present();
        if (r == 0)
                return 0; /* no nat chain: nothing to read, and libnftnl not loaded */
        if (r > 0)
                r = read_rule_set(&set);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                list->unread_rule_sets++; /* EPERM, EPROTONOSUPPORT: said, not failed */
                return 0;
        }
        for (size_t i = 0; r == 0 && i < set.count; i++)
                if (set.chains[i].entry)
                        r = walk_chain(&w, &set.chains[i], &all, 0);
        drop_repeats(list, first);
        return r;
}
