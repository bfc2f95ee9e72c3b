/* SPDX-License-Identifier: MIT */
/*
 * The rule decoder on rules built here with libnftnl, as the kernel would
 * send them back: xt DNAT targets of every revision (the old IPv4-only
 * compat structure among them, which no current iptables writes), xt tcp and
 * multiport matches, native tests, and rules of expressions rsap does not
 * know; then the forwarders' argument parsers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

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

#include <rsap/listen.h>

static char message[16384];

static struct nftnl_rule *new_rule(int family)
{
        struct nftnl_rule *r = nftnl_rule_alloc();

        assert_non_null(r);
        nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, (uint32_t)family);
        nftnl_rule_set_str(r, NFTNL_RULE_TABLE, "nat");
        nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "DOCKER");
        return r;
}

static void add(struct nftnl_rule *r, struct nftnl_expr *e)
{
        assert_non_null(e);
        nftnl_rule_add_expr(r, e);
}

static struct nftnl_expr *blob(const char *kind, const char *name, uint32_t rev,
                               const void *info, size_t size)
{
        bool target = strcmp(kind, "target") == 0;
        struct nftnl_expr *e = nftnl_expr_alloc(kind);
        void *copy = malloc(size);

        assert_non_null(copy);
        memcpy(copy, info, size);
        nftnl_expr_set_str(e, target ? NFTNL_EXPR_TG_NAME : NFTNL_EXPR_MT_NAME, name);
        nftnl_expr_set_u32(e, target ? NFTNL_EXPR_TG_REV : NFTNL_EXPR_MT_REV, rev);
        nftnl_expr_set(e, target ? NFTNL_EXPR_TG_INFO : NFTNL_EXPR_MT_INFO, copy, (uint32_t)size);
        return e;
}

static struct nftnl_expr *meta_l4proto(uint8_t proto, struct nftnl_expr **cmp)
{
        struct nftnl_expr *e = nftnl_expr_alloc("meta");

        nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
        *cmp = nftnl_expr_alloc("cmp");
        nftnl_expr_set_u32(*cmp, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
        nftnl_expr_set_u32(*cmp, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
        nftnl_expr_set(*cmp, NFTNL_EXPR_CMP_DATA, &proto, 1);
        return e;
}

static void add_tcp(struct nftnl_rule *r)
{
        struct nftnl_expr *cmp, *meta = meta_l4proto(IPPROTO_TCP, &cmp);

        add(r, meta);
        add(r, cmp);
}

/* The rule through the kernel's wire format, then decoded. */
static int decode(struct nftnl_rule *r, int family, struct rsap_nat_rule *out)
{
        struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(message, NFT_MSG_NEWRULE, (uint16_t)family,
                                                     0, 1);
        int ret;

        nftnl_rule_nlmsg_build_payload(nlh, r);
        ret = rsap_nat_rule_decode_message(message, nlh->nlmsg_len, 0, out);
        nftnl_rule_free(r);
        return ret;
}

static void expect_target(const struct rsap_nat_rule *rule, const char *addr, uint16_t low,
                          uint16_t high)
{
        char text[64];

        assert_int_equal(rule->action, RSAP_NAT_DNAT);
        assert_non_null(inet_ntop(rule->to_family, rule->to_addr, text, sizeof(text)));
        assert_string_equal(text, addr);
        assert_int_equal(rule->to_port_low, low);
        assert_int_equal(rule->to_port_high, high);
}

static void test_xt_dnat_revisions(void **state)
{
        struct nf_nat_ipv4_multi_range_compat compat = { .rangesize = 1 };
        struct nf_nat_range2 range2 = { .flags = NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED };
        struct nf_nat_range range1 = { .flags = NF_NAT_RANGE_MAP_IPS };
        struct xt_tcp tcp = { .spts = { 0, 65535 }, .dpts = { 8080, 8080 } };
        struct rsap_nat_rule rule;
        struct nftnl_rule *r;

        (void)state;
        compat.range[0].flags = NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED;
        inet_pton(AF_INET, "172.17.0.2", &compat.range[0].min_ip);
        compat.range[0].max_ip = compat.range[0].min_ip;
        compat.range[0].min.all = compat.range[0].max.all = htons(80);
        r = new_rule(NFPROTO_IPV4);
        add_tcp(r);
        add(r, blob("match", "tcp", 0, &tcp, sizeof(tcp)));
        add(r, blob("target", "DNAT", 0, &compat, sizeof(compat)));
        assert_int_equal(decode(r, NFPROTO_IPV4, &rule), 0);
        expect_target(&rule, "172.17.0.2", 80, 80);
        assert_int_equal(rule.protocols, 1u << RSAP_PROTO_TCP);
        assert_int_equal(rule.n_ports, 1);
        assert_int_equal(rule.ports[0].low, 8080);
        assert_int_equal(rule.ports[0].high, 8080);

        inet_pton(AF_INET6, "fd00::5", &range2.min_addr);
        range2.min_proto.all = htons(8000);
        range2.max_proto.all = htons(8009);
        r = new_rule(NFPROTO_IPV6);
        add(r, blob("target", "DNAT", 2, &range2, sizeof(range2)));
        assert_int_equal(decode(r, NFPROTO_IPV6, &rule), 0);
        expect_target(&rule, "fd00::5", 8000, 8009);

        inet_pton(AF_INET, "10.0.0.1", &range1.min_addr);
        r = new_rule(NFPROTO_IPV4);
        add(r, blob("target", "DNAT", 1, &range1, sizeof(range1)));
        assert_int_equal(decode(r, NFPROTO_IPV4, &rule), 0);
        expect_target(&rule, "10.0.0.1", 0, 0); /* the port is kept */

        /* A blob shorter than its revision's structure is not read. */
        r = new_rule(NFPROTO_IPV4);
        add(r, blob("target", "DNAT", 2, &range2, sizeof(range2) - 1));
        assert_int_equal(decode(r, NFPROTO_IPV4, &rule), 0);
        assert_int_equal(rule.action, RSAP_NAT_NONE);
}

static void test_multiport(void **state)
{
        struct xt_multiport_v1 m = { .flags = XT_MULTIPORT_DESTINATION, .count = 4,
                                     .ports = { 8081, 9000, 9010, 8443 },
                                     .pflags = { 0, 1, 0, 0 } };
        struct rsap_nat_rule rule;
        struct nftnl_rule *r = new_rule(NFPROTO_IPV4);

        (void)state;
        add_tcp(r);
        add(r, blob("match", "multiport", 1, &m, sizeof(m)));
        assert_int_equal(decode(r, NFPROTO_IPV4, &rule), 0);
        assert_int_equal(rule.n_ports, 3);
        assert_int_equal(rule.ports[0].low, 8081);
        assert_int_equal(rule.ports[0].high, 8081);
        assert_int_equal(rule.ports[1].low, 9000); /* 9000:9010, a range */
        assert_int_equal(rule.ports[1].high, 9010);
        assert_int_equal(rule.ports[2].low, 8443);

        m.invert = 1; /* ! --dports: not followed */
        r = new_rule(NFPROTO_IPV4);
        add(r, blob("match", "multiport", 1, &m, sizeof(m)));
        assert_int_equal(decode(r, NFPROTO_IPV4, &rule), 0);
        assert_int_equal(rule.action, RSAP_NAT_UNREADABLE);
}

/* Expressions that publish nothing are passed over; the rule still reads. */
static void test_unknown_expressions(void **state)
{
        static const char *const kinds[] = { "counter", "limit", "ct", "log", "quota",
                                             "socket", "numgen", "hash", "fib", "rt" };
        struct nf_nat_range2 range2 = { .flags = NF_NAT_RANGE_MAP_IPS };
        struct rsap_nat_rule rule;
        struct nftnl_rule *r = new_rule(NFPROTO_IPV4);

        (void)state;
        inet_pton(AF_INET, "10.0.0.9", &range2.min_addr);
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
                add(r, nftnl_expr_alloc(kinds[i]));
        add(r, blob("target", "DNAT", 2, &range2, sizeof(range2)));
        assert_int_equal(decode(r, NFPROTO_IPV4, &rule), 0);
        expect_target(&rule, "10.0.0.9", 0, 0);
}

/* A set over the port: which ports, rsap cannot tell, so the rule is skipped. */
static void test_lookup_unreadable(void **state)
{
        struct rsap_nat_rule rule;
        struct nftnl_rule *r = new_rule(NFPROTO_IPV4);
        struct nftnl_expr *payload = nftnl_expr_alloc("payload");
        struct nftnl_expr *lookup = nftnl_expr_alloc("lookup");

        (void)state;
        nftnl_expr_set_u32(payload, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
        nftnl_expr_set_u32(payload, NFTNL_EXPR_PAYLOAD_OFFSET, 2);
        nftnl_expr_set_u32(payload, NFTNL_EXPR_PAYLOAD_LEN, 2);
        nftnl_expr_set_u32(payload, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG32_03);
        nftnl_expr_set_u32(lookup, NFTNL_EXPR_LOOKUP_SREG, NFT_REG32_03);
        nftnl_expr_set_str(lookup, NFTNL_EXPR_LOOKUP_SET, "__set0");
        add_tcp(r);
        add(r, payload);
        add(r, lookup);
        assert_int_equal(decode(r, NFPROTO_IPV4, &rule), 0);
        assert_int_equal(rule.action, RSAP_NAT_UNREADABLE);
}

static void test_garbage(void **state)
{
        struct rsap_nat_rule rule;
        unsigned char junk[64];

        (void)state;
        memset(junk, 0xa5, sizeof(junk));
        assert_int_equal(rsap_nat_rule_decode_message(junk, 3, 0, &rule), -EBADMSG);
        assert_int_equal(rsap_nat_rule_decode_message(junk, sizeof(junk), 0, &rule), -EBADMSG);
}

/* libnftnl would take an expression without a name, or a chain's name
 * without its NUL, for a string: the message is refused before. */
static void test_message_checked(void **state)
{
        static char buf[512];
        struct rsap_nat_rule rule;
        struct nlmsghdr *nlh;
        struct nlattr *list, *elem;
        struct nfgenmsg *nfg;

        (void)state;
        for (int form = 0; form < 2; form++) {
                memset(buf, 0, sizeof(buf));
                nlh = mnl_nlmsg_put_header(buf);
                nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE;
                nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
                nfg->nfgen_family = NFPROTO_IPV4;
                if (form == 0) {
                        list = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
                        elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
                        mnl_attr_put_u32(nlh, NFTA_EXPR_DATA, 0); /* and no name */
                        mnl_attr_nest_end(nlh, elem);
                        mnl_attr_nest_end(nlh, list);
                } else {
                        mnl_attr_put(nlh, NFTA_RULE_CHAIN, 6, "DOCKER"); /* no NUL */
                }
                assert_int_equal(rsap_nat_rule_decode_message(buf, nlh->nlmsg_len, 0, &rule),
                                 -EBADMSG);
        }
}

static int target_of(const char *command, const char *const *argv, size_t argc,
                     enum rsap_proto proto, uint16_t port, struct rsap_listen_forward *fw)
{
        memset(fw, 0, sizeof(*fw));
        return rsap_listen_forwarder_target(command, argv, argc, proto, port, fw);
}

static void test_docker_proxy(void **state)
{
        const char *argv[] = { "/usr/bin/docker-proxy", "-proto", "tcp", "-host-ip", "0.0.0.0",
                               "-host-port", "8080", "-container-ip", "172.17.0.2",
                               "-container-port", "80", "-use-listen-fd" };
        struct rsap_listen_forward fw;

        (void)state;
        assert_int_equal(target_of("docker-proxy", argv, 12, RSAP_PROTO_TCP, 8080, &fw), 1);
        assert_string_equal(fw.target_address, "172.17.0.2");
        assert_int_equal(fw.target_port, 80);
        /* Another port or transport than the arguments': not this socket's. */
        assert_int_equal(target_of("docker-proxy", argv, 12, RSAP_PROTO_TCP, 8081, &fw), 0);
        assert_int_equal(target_of("docker-proxy", argv, 12, RSAP_PROTO_UDP, 8080, &fw), 0);
        assert_int_equal(target_of("docker-proxy", argv, 11, RSAP_PROTO_TCP, 8080, &fw), 1);
        assert_int_equal(target_of("docker-proxy", argv, 10, RSAP_PROTO_TCP, 8080, &fw), 0);
        assert_int_equal(target_of("nginx", argv, 12, RSAP_PROTO_TCP, 8080, &fw), -EINVAL);
}

static void test_pasta(void **state)
{
        const char *argv[] = { "pasta", "--config-net", "-t", "8080,~9005,9000-9010:80-90",
                               "-u", "127.0.0.1%lo/5353:53", "--tcp-ports", "[::1]/7000",
                               "12345" };
        struct rsap_listen_forward fw;

        (void)state;
        assert_int_equal(target_of("pasta", argv, 9, RSAP_PROTO_TCP, 8080, &fw), 1);
        assert_int_equal(fw.target_port, 8080);
        assert_string_equal(fw.target_address, "");
        assert_int_equal(target_of("pasta", argv, 9, RSAP_PROTO_TCP, 9003, &fw), 1);
        assert_int_equal(fw.target_port, 83); /* the range maps port for port */
        assert_int_equal(target_of("pasta", argv, 9, RSAP_PROTO_UDP, 5353, &fw), 1);
        assert_int_equal(fw.target_port, 53);
        assert_int_equal(target_of("pasta.avx2", argv, 9, RSAP_PROTO_TCP, 7000, &fw), 1);
        assert_int_equal(fw.target_port, 7000);
        assert_int_equal(target_of("pasta", argv, 9, RSAP_PROTO_UDP, 8080, &fw), 0);
        assert_int_equal(target_of("pasta", argv, 9, RSAP_PROTO_TCP, 9011, &fw), 0);
        assert_int_equal(target_of("pasta", argv, 9, RSAP_PROTO_TCP, 9005, &fw), 0); /* ~9005 */
        assert_int_equal(target_of("slirp4netns", argv, 9, RSAP_PROTO_TCP, 8080, &fw), 0);
        assert_int_equal(target_of("rootlessport", argv, 9, RSAP_PROTO_TCP, 8080, &fw), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_xt_dnat_revisions),
                cmocka_unit_test(test_multiport),
                cmocka_unit_test(test_unknown_expressions),
                cmocka_unit_test(test_lookup_unreadable),
                cmocka_unit_test(test_garbage),
                cmocka_unit_test(test_message_checked),
                cmocka_unit_test(test_docker_proxy),
                cmocka_unit_test(test_pasta),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
