/* SPDX-License-Identifier: MIT */
/*
 * One nf_tables rule read for what it publishes: the transport, destination
 * ports and destination address it matches, and whether it DNATs (and to
 * where) or jumps to another chain.
 *
 * A rule is a program over registers: loads (payload, meta) put packet
 * fields into registers, cmp and range test them, immediate puts constants
 * (and verdicts) there, and the nat expression reads its target from them.
 * rsap follows what each register holds, by 4-byte slot, and reads the
 * tests of the fields it knows.  iptables-nft writes the same native loads
 * and tests for -p, -d and --dport, and keeps xt matches and targets (tcp,
 * udp, multiport, DNAT) as opaque blobs of the kernel's old structures,
 * decoded here by their revision.  Anything else is passed over; a known
 * field tested in a way rsap cannot follow makes the rule unreadable.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/xt_multiport.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <netinet/in.h>

#include <rsap/basic.h>
#include <rsap/listen.h>

#include "nat_internal.h"

#define REG_BYTES 64 /* four 16-byte registers, or sixteen of 4 bytes */
#define SLOTS (REG_BYTES / 4)

enum field {
        FIELD_NONE = 0, /* nothing rsap follows */
        FIELD_L4PROTO,
        FIELD_DPORT,
        FIELD_DADDR4,
        FIELD_DADDR6,
        FIELD_CONSTANT, /* from immediate: its bytes are in data */
};

struct regs {
        enum field field[SLOTS];    /* what the slot a register starts at holds */
        unsigned prefix[SLOTS];     /* an address masked to a prefix by bitwise */
        unsigned char data[REG_BYTES];
};

struct decoder {
        struct regs regs;
        int family;      /* the table's NFPROTO_* */
        struct rsap_nat_rule *rule;
};

static const unsigned all_transports = 1u << RSAP_PROTO_TCP | 1u << RSAP_PROTO_UDP |
                                       1u << RSAP_PROTO_SCTP | 1u << RSAP_PROTO_DCCP;

/* A register's first byte in the file, or -1: NFT_REG_1..4 are 16 bytes
 * each, NFT_REG32_00..15 4 bytes each, over the same storage. */
static int reg_offset(uint32_t reg)
{
        if (reg >= NFT_REG_1 && reg <= NFT_REG_4)
                return (int)(reg - NFT_REG_1) * 16;
        if (reg >= NFT_REG32_00 && reg <= NFT_REG32_15)
                return (int)(reg - NFT_REG32_00) * 4;
        return -1;
}

static unsigned transport_bit(uint8_t ipproto)
{
        switch (ipproto) {
        case IPPROTO_TCP: return 1u << RSAP_PROTO_TCP;
        case IPPROTO_UDP: return 1u << RSAP_PROTO_UDP;
        case IPPROTO_SCTP: return 1u << RSAP_PROTO_SCTP;
        case IPPROTO_DCCP: return 1u << RSAP_PROTO_DCCP;
        default: return 0;
        }
}

static void set_field(struct regs *regs, uint32_t reg, enum field field)
{
        int off = reg_offset(reg);

        if (off >= 0) {
                regs->field[off / 4] = field;
                regs->prefix[off / 4] = field == FIELD_DADDR6 ? 128 : 32;
        }
}

static enum field get_field(const struct regs *regs, uint32_t reg, unsigned *prefix)
{
        int off = reg_offset(reg);

        if (off < 0)
                return FIELD_NONE;
        if (prefix)
                *prefix = regs->prefix[off / 4];
        return regs->field[off / 4];
}

/* ---- loads -------------------------------------------------------------- */

static enum field payload_field(const struct decoder *d, uint32_t base, uint32_t offset,
                                uint32_t len)
{
        /* an inet table holds both: the lengths tell the addresses apart */
        bool v4 = d->family != NFPROTO_IPV6, v6 = d->family != NFPROTO_IPV4;

        if (base == NFT_PAYLOAD_TRANSPORT_HEADER && offset == 2 && len == 2)
                return FIELD_DPORT;
        if (base != NFT_PAYLOAD_NETWORK_HEADER)
                return FIELD_NONE;
        if (v4 && offset == 9 && len == 1)
                return FIELD_L4PROTO;
        if (v4 && offset == 16 && len == 4)
                return FIELD_DADDR4;
        if (v6 && offset == 6 && len == 1)
                return FIELD_L4PROTO;
        if (v6 && offset == 24 && len == 16)
                return FIELD_DADDR6;
        return FIELD_NONE;
}

static void on_payload(struct decoder *d, struct nftnl_expr *e)
{
        if (!nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_DREG))
                return; /* a write to the packet, not a load */
        set_field(&d->regs, nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG),
                  payload_field(d, nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE),
                                nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET),
                                nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN)));
}

static void on_meta(struct decoder *d, struct nftnl_expr *e)
{
        if (!nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG))
                return;
        set_field(&d->regs, nftnl_expr_get_u32(e, NFTNL_EXPR_META_DREG),
                  nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY) == NFT_META_L4PROTO ? FIELD_L4PROTO
                                                                                 : FIELD_NONE);
}

/* A mask over an address keeps its leading bits: ip daddr 10.0.0.0/8. */
static unsigned mask_prefix(const unsigned char *mask, uint32_t len)
{
        unsigned bits = 0;

        for (uint32_t i = 0; i < len && mask[i] == 0xff; i++)
                bits += 8;
        if (bits < len * 8)
                for (unsigned char b = mask[bits / 8]; b & 0x80; b <<= 1)
                        bits++;
        return bits;
}

static void on_bitwise(struct decoder *d, struct nftnl_expr *e)
{
        uint32_t sreg = nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_SREG);
        uint32_t dreg = nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_DREG), mask_len = 0;
        const unsigned char *mask = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_MASK, &mask_len);
        unsigned prefix;
        enum field field = get_field(&d->regs, sreg, &prefix);

        set_field(&d->regs, dreg, FIELD_NONE);
        if ((field == FIELD_DADDR4 || field == FIELD_DADDR6) && mask && mask_len <= 16) {
                set_field(&d->regs, dreg, field);
                d->regs.prefix[reg_offset(dreg) / 4] = mask_prefix(mask, mask_len);
        } else if (field != FIELD_NONE) {
                d->rule->action = RSAP_NAT_UNREADABLE; /* a port or transport reshaped */
        }
}

static void on_immediate(struct decoder *d, struct nftnl_expr *e)
{
        uint32_t dreg = nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG), len = 0;
        const void *data;
        int off;

        if (dreg == NFT_REG_VERDICT) {
                int32_t verdict = (int32_t)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT);
                const char *chain = nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN);

                if ((verdict == NFT_JUMP || verdict == NFT_GOTO) && chain &&
                    d->rule->action == RSAP_NAT_NONE) {
                        d->rule->action = RSAP_NAT_JUMP;
                        snprintf(d->rule->chain, sizeof(d->rule->chain), "%s", chain);
                }
                return;
        }
        off = reg_offset(dreg);
        data = nftnl_expr_get(e, NFTNL_EXPR_IMM_DATA, &len);
        if (off < 0 || !data || len > (uint32_t)(REG_BYTES - off))
                return;
        memcpy(d->regs.data + off, data, len);
        set_field(&d->regs, dreg, FIELD_CONSTANT);
}

/* ---- tests -------------------------------------------------------------- */

/* A rule whose tests leave no port (dport >= 5000 and dport < 4000)
 * publishes none: skipped as unreadable. */
static void narrow_ports(struct rsap_nat_rule *rule, uint16_t low, uint16_t high)
{
        if (low > high) {
                rule->action = RSAP_NAT_UNREADABLE;
                return;
        }
        rule->n_ports = 1;
        rule->ports[0].low = low;
        rule->ports[0].high = high;
}

static uint16_t be16_at(const void *data)
{
        uint16_t v;

        memcpy(&v, data, sizeof(v));
        return ntohs(v);
}

static void test_port(struct decoder *d, uint32_t op, uint16_t port)
{
        struct rsap_nat_rule *rule = d->rule;
        uint16_t low = rule->n_ports ? rule->ports[0].low : 0;
        uint16_t high = rule->n_ports ? rule->ports[0].high : UINT16_MAX;

        if (rule->n_ports > 1)
                op = NFT_CMP_NEQ; /* two tests of a multiport: not followed */
        switch (op) {
        case NFT_CMP_EQ: low = high = port; break;
        case NFT_CMP_GTE: low = port; break;
        case NFT_CMP_GT: low = port == UINT16_MAX ? port : port + 1; break;
        case NFT_CMP_LTE: high = port; break;
        case NFT_CMP_LT: high = port ? port - 1 : 0; break;
        default: rule->action = RSAP_NAT_UNREADABLE; return;
        }
        narrow_ports(rule, low, high);
}

static void test_address(struct decoder *d, enum field field, unsigned prefix,
                         const void *data, uint32_t len)
{
        struct rsap_nat_rule *rule = d->rule;
        size_t size = field == FIELD_DADDR4 ? 4 : 16;

        if (len < size)
                return;
        rule->daddr_family = field == FIELD_DADDR4 ? AF_INET : AF_INET6;
        memset(rule->daddr, 0, sizeof(rule->daddr));
        memcpy(rule->daddr, data, size);
        rule->daddr_prefix = prefix;
}

static void on_cmp(struct decoder *d, struct nftnl_expr *e)
{
        uint32_t op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP), len = 0, prefix = 0;
        const unsigned char *data = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);
        enum field field = get_field(&d->regs, nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG),
                                     &prefix);

        if (!data || len == 0)
                return;
        if (field == FIELD_L4PROTO && op == NFT_CMP_EQ)
                d->rule->protocols &= transport_bit(data[0]);
        else if (field == FIELD_DPORT && len == 2)
                test_port(d, op, be16_at(data));
        else if ((field == FIELD_DADDR4 || field == FIELD_DADDR6) && op == NFT_CMP_EQ)
                test_address(d, field, prefix, data, len);
        /* a negated address or transport (! -d 127.0.0.0/8) narrows nothing */
}

static void on_range(struct decoder *d, struct nftnl_expr *e)
{
        uint32_t from_len = 0, to_len = 0;
        const void *from = nftnl_expr_get(e, NFTNL_EXPR_RANGE_FROM_DATA, &from_len);
        const void *to = nftnl_expr_get(e, NFTNL_EXPR_RANGE_TO_DATA, &to_len);
        enum field field = get_field(&d->regs, nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_SREG),
                                     NULL);

        if (field == FIELD_NONE)
                return;
        if (field != FIELD_DPORT || from_len != 2 || to_len != 2 ||
            nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_OP) != NFT_RANGE_EQ) {
                d->rule->action = RSAP_NAT_UNREADABLE;
                return;
        }
        test_port(d, NFT_CMP_GTE, be16_at(from));
        test_port(d, NFT_CMP_LTE, be16_at(to));
}

/* A set or a map over a field rsap follows: which ports it holds is in
 * the set's elements, which rsap does not read. */
static void on_lookup(struct decoder *d, struct nftnl_expr *e)
{
        uint32_t sreg = nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG);

        if (get_field(&d->regs, sreg, NULL) != FIELD_NONE ||
            nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG))
                d->rule->action = RSAP_NAT_UNREADABLE;
}

/* ---- nat ---------------------------------------------------------------- */

static bool read_reg(const struct decoder *d, struct nftnl_expr *e, uint16_t attr, size_t size,
                     void *out)
{
        int off;

        if (!nftnl_expr_is_set(e, attr))
                return false;
        off = reg_offset(nftnl_expr_get_u32(e, attr));
        if (off < 0 || (size_t)off + size > REG_BYTES ||
            d->regs.field[off / 4] != FIELD_CONSTANT)
                return false;
        memcpy(out, d->regs.data + off, size);
        return true;
}

static void on_nat(struct decoder *d, struct nftnl_expr *e)
{
        struct rsap_nat_rule *rule = d->rule;
        uint32_t family = nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_FAMILY);
        unsigned char port[2];

        if (nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_TYPE) != NFT_NAT_DNAT ||
            rule->action != RSAP_NAT_NONE)
                return;
        rule->action = RSAP_NAT_DNAT;
        rule->to_family = family == NFPROTO_IPV6 ? AF_INET6 : AF_INET;
        if (!read_reg(d, e, NFTNL_EXPR_NAT_REG_ADDR_MIN, rule->to_family == AF_INET ? 4 : 16,
                      rule->to_addr))
                rule->to_family = 0;
        if (read_reg(d, e, NFTNL_EXPR_NAT_REG_PROTO_MIN, 2, port))
                rule->to_port_low = rule->to_port_high = be16_at(port);
        if (rule->to_port_low && read_reg(d, e, NFTNL_EXPR_NAT_REG_PROTO_MAX, 2, port))
                rule->to_port_high = be16_at(port);
}

/* ---- xt matches and targets --------------------------------------------- */

static void xt_ports(struct decoder *d, const uint16_t dpts[2], bool inverted)
{
        if (inverted)
                d->rule->action = RSAP_NAT_UNREADABLE;
        else if (dpts[0] != 0 || dpts[1] != UINT16_MAX)
                narrow_ports(d->rule, dpts[0], dpts[1]);
}

static void xt_multiport(struct decoder *d, const struct xt_multiport_v1 *m)
{
        struct rsap_nat_rule *rule = d->rule;

        if (m->invert || m->flags != XT_MULTIPORT_DESTINATION || m->count > XT_MULTI_PORTS) {
                rule->action = RSAP_NAT_UNREADABLE;
                return;
        }
        rule->n_ports = 0;
        for (unsigned i = 0; i < m->count && rule->n_ports < RSAP_NAT_MAX_PORT_RANGES; i++) {
                bool range = m->pflags[i] && i + 1 < m->count;

                if (range && m->ports[i] > m->ports[i + 1]) {
                        rule->action = RSAP_NAT_UNREADABLE;
                        return;
                }
                rule->ports[rule->n_ports].low = m->ports[i];
                rule->ports[rule->n_ports++].high = range ? m->ports[i + 1] : m->ports[i];
                i += range;
        }
}

static void on_match(struct decoder *d, struct nftnl_expr *e)
{
        const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_MT_NAME);
        uint32_t rev = nftnl_expr_get_u32(e, NFTNL_EXPR_MT_REV), len = 0;
        const void *info = nftnl_expr_get(e, NFTNL_EXPR_MT_INFO, &len);

        if (!name || !info)
                return;
        if (strcmp(name, "tcp") == 0 && len >= sizeof(struct xt_tcp)) {
                const struct xt_tcp *t = info;

                xt_ports(d, t->dpts, t->invflags & XT_TCP_INV_DSTPT);
        } else if (strcmp(name, "udp") == 0 && len >= sizeof(struct xt_udp)) {
                const struct xt_udp *u = info;

                xt_ports(d, u->dpts, u->invflags & XT_UDP_INV_DSTPT);
        } else if (strcmp(name, "multiport") == 0 && rev == 1 &&
                   len >= sizeof(struct xt_multiport_v1)) {
                xt_multiport(d, info);
        } else if (strcmp(name, "multiport") == 0) {
                d->rule->action = RSAP_NAT_UNREADABLE;
        }
}

static void xt_dnat_to(struct rsap_nat_rule *rule, unsigned flags, const void *addr,
                       size_t addr_size, uint16_t port_min, uint16_t port_max)
{
        rule->action = RSAP_NAT_DNAT;
        if (flags & NF_NAT_RANGE_MAP_IPS) {
                rule->to_family = addr_size == 4 ? AF_INET : AF_INET6;
                memcpy(rule->to_addr, addr, addr_size);
        }
        if (flags & NF_NAT_RANGE_PROTO_SPECIFIED) {
                rule->to_port_low = ntohs(port_min);
                rule->to_port_high = ntohs(port_max);
        }
}

/* DNAT's info: revision 0 the IPv4-only nf_nat_ipv4_multi_range_compat,
 * 1 nf_nat_range, 2 nf_nat_range2 (nf_nat_range and a base port). */
static void on_target(struct decoder *d, struct nftnl_expr *e)
{
        const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME);
        uint32_t rev = nftnl_expr_get_u32(e, NFTNL_EXPR_TG_REV), len = 0;
        const void *info = nftnl_expr_get(e, NFTNL_EXPR_TG_INFO, &len);
        size_t addr_size = d->family == NFPROTO_IPV6 ? 16 : 4;

        if (!name || strcmp(name, "DNAT") != 0 || !info || d->rule->action != RSAP_NAT_NONE)
                return;
        if (rev == 0 && len >= sizeof(struct nf_nat_ipv4_multi_range_compat)) {
                const struct nf_nat_ipv4_multi_range_compat *c = info;

                if (c->rangesize == 1)
                        xt_dnat_to(d->rule, c->range[0].flags, &c->range[0].min_ip, 4,
                                   c->range[0].min.all, c->range[0].max.all);
        } else if ((rev == 1 && len >= sizeof(struct nf_nat_range)) ||
                   (rev == 2 && len >= sizeof(struct nf_nat_range2))) {
                const struct nf_nat_range *r = info; /* range2 begins as range does */

                xt_dnat_to(d->rule, r->flags, &r->min_addr, addr_size, r->min_proto.all,
                           r->max_proto.all);
        }
}

/* ---- the rule ----------------------------------------------------------- */

struct expr_handler {
        const char *name;
        void (*handle)(struct decoder *d, struct nftnl_expr *e);
};

static const struct expr_handler handlers[] = {
        { "payload", on_payload }, { "meta", on_meta },     { "bitwise", on_bitwise },
        { "immediate", on_immediate }, { "cmp", on_cmp },   { "range", on_range },
        { "lookup", on_lookup },   { "nat", on_nat },       { "match", on_match },
        { "target", on_target },
};

static int on_expr(struct nftnl_expr *e, void *data)
{
        struct decoder *d = data;
        const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

        if (!name || d->rule->action == RSAP_NAT_UNREADABLE)
                return 0;
        for (size_t i = 0; i < ARRAY_SIZE(handlers); i++)
                if (strcmp(name, handlers[i].name) == 0) {
                        handlers[i].handle(d, e);
                        return 0;
                }
        return 0; /* counter, log, limit, ct, quota...: nothing that publishes */
}

int rsap_nat_rule_decode(struct nftnl_rule *r, int family, struct rsap_nat_rule *out)
{
        struct decoder d = { .family = family, .rule = out };

        memset(out, 0, sizeof(*out));
        out->protocols = all_transports;
        if (nftnl_expr_foreach(r, on_expr, &d) < 0)
                return -EBADMSG;
        return 0;
}

/* ---- the message --------------------------------------------------------- */

/* libnftnl trusts what the kernel sends: an expression without a name, or
 * a name without its NUL, would send it past the message.  So the rule's
 * strings and each expression's name are checked first. */
static int check_expression(const struct nlattr *attr, void *data)
{
        bool *named = data;

        if (mnl_attr_get_type(attr) == NFTA_EXPR_NAME) {
                if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
                        return MNL_CB_ERROR;
                *named = true;
        }
        return MNL_CB_OK;
}

static bool expressions_valid(const struct nlattr *list)
{
        const struct nlattr *elem;

        if (mnl_attr_validate(list, MNL_TYPE_NESTED) < 0)
                return false;
        mnl_attr_for_each_nested(elem, list) {
                bool named = false;

                if (mnl_attr_get_type(elem) != NFTA_LIST_ELEM ||
                    mnl_attr_validate(elem, MNL_TYPE_NESTED) < 0 ||
                    mnl_attr_parse_nested(elem, check_expression, &named) < 0 || !named)
                        return false;
        }
        return true;
}

static int check_rule_attribute(const struct nlattr *attr, void *data)
{
        switch (mnl_attr_get_type(attr)) {
        case NFTA_RULE_TABLE:
        case NFTA_RULE_CHAIN:
                return mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0 ? MNL_CB_ERROR
                                                                        : MNL_CB_OK;
        case NFTA_RULE_EXPRESSIONS:
                return expressions_valid(attr) ? MNL_CB_OK : MNL_CB_ERROR;
        default:
                return MNL_CB_OK;
        }
}

bool rsap_nat_rule_message_valid(const struct nlmsghdr *nlh)
{
        return nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(struct nfgenmsg)) &&
               mnl_attr_parse(nlh, sizeof(struct nfgenmsg), check_rule_attribute, NULL) >= 0;
}

static void nftnl_rule_freep(struct nftnl_rule **r)
{
        if (*r)
                nftnl_rule_free(*r);
}

/* A copy of the message with a NUL after it: a string libnftnl reads
 * without checking its end (a chain's name in a verdict) stops there. */
static struct nlmsghdr *terminated_copy(const void *message, size_t size)
{
        struct nlmsghdr *copy = calloc(1, size + 1);

        if (copy)
                memcpy(copy, message, size);
        return copy;
}

int rsap_nat_rule_decode_message(const void *message, size_t size, int family,
                                 struct rsap_nat_rule *out)
{
        _cleanup_(nftnl_rule_freep) struct nftnl_rule *r = nftnl_rule_alloc();
        _cleanup_(freep) struct nlmsghdr *nlh = NULL;

        if (!r)
                return -ENOMEM;
        if (size < sizeof(*nlh) + sizeof(struct nfgenmsg))
                return -EBADMSG;
        nlh = terminated_copy(message, size);
        if (!nlh)
                return -ENOMEM;
        if (nlh->nlmsg_len > size || !rsap_nat_rule_message_valid(nlh) ||
            nftnl_rule_nlmsg_parse(nlh, r) < 0)
                return -EBADMSG;
        if (!family)
                family = (int)nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY);
        return rsap_nat_rule_decode(r, family, out);
}
