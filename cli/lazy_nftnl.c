/* SPDX-License-Identifier: MIT */
/*
 * libnftnl and libmnl, loaded when rsap first reads nf_tables' DNAT rules
 * (lib/listen/published.c), which it does only where a nat chain exists
 * (nat_probe.c).  Linked into rsap, the two made every start map and
 * relocate two more shared libraries: 0.107 ms more for `rsap --version`,
 * 1.25x (bench-pairtime, 300 rounds), for rules most hosts do not have.
 * As for libpq (lazy_pq.c), rsap defines the functions lib/listen/ calls
 * as forwarders, each against the library's own prototype so that the
 * compiler checks it; a function the rule reader starts to call without one
 * here fails rsap's link.  libnftnl needs libmnl, so loading it maps both.
 */
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include "lazy_load.h"

static struct lazy_library libnftnl = { .file = "libnftnl.so.11", .system = true,
                                        .needed_for = "published ports (libnftnl)" };
static struct lazy_library libmnl = { .file = "libmnl.so.0", .system = true,
                                      .needed_for = "published ports (libmnl)" };

#define NFTNL(ret, name, params, args) LAZY_FORWARD(&libnftnl, ret, name, params, args)
#define MNL(ret, name, params, args) LAZY_FORWARD(&libmnl, ret, name, params, args)

NFTNL(struct nftnl_chain *, nftnl_chain_alloc, (void), ())
LAZY_FORWARD_VOID(&libnftnl, nftnl_chain_free, (const struct nftnl_chain *c), (c))
NFTNL(const char *, nftnl_chain_get_str, (const struct nftnl_chain *c, uint16_t attr), (c, attr))
NFTNL(uint32_t, nftnl_chain_get_u32, (const struct nftnl_chain *c, uint16_t attr), (c, attr))
NFTNL(bool, nftnl_chain_is_set, (const struct nftnl_chain *c, uint16_t attr), (c, attr))
NFTNL(int, nftnl_chain_nlmsg_parse, (const struct nlmsghdr *nlh, struct nftnl_chain *t),
      (nlh, t))
NFTNL(struct nftnl_rule *, nftnl_rule_alloc, (void), ())
LAZY_FORWARD_VOID(&libnftnl, nftnl_rule_free, (const struct nftnl_rule *r), (r))
NFTNL(const char *, nftnl_rule_get_str, (const struct nftnl_rule *r, uint16_t attr), (r, attr))
NFTNL(uint32_t, nftnl_rule_get_u32, (const struct nftnl_rule *r, uint16_t attr), (r, attr))
NFTNL(int, nftnl_rule_nlmsg_parse, (const struct nlmsghdr *nlh, struct nftnl_rule *t), (nlh, t))
NFTNL(int, nftnl_expr_foreach,
      (struct nftnl_rule *r, int (*cb)(struct nftnl_expr *e, void *data), void *data),
      (r, cb, data))
NFTNL(const void *, nftnl_expr_get, (const struct nftnl_expr *expr, uint16_t type,
                                     uint32_t *data_len),
      (expr, type, data_len))
NFTNL(const char *, nftnl_expr_get_str, (const struct nftnl_expr *expr, uint16_t type),
      (expr, type))
NFTNL(uint32_t, nftnl_expr_get_u32, (const struct nftnl_expr *expr, uint16_t type), (expr, type))
NFTNL(bool, nftnl_expr_is_set, (const struct nftnl_expr *expr, uint16_t type), (expr, type))
NFTNL(struct nlmsghdr *, nftnl_nlmsg_build_hdr,
      (char *buf, uint16_t type, uint16_t family, uint16_t flags, uint32_t seq),
      (buf, type, family, flags, seq))

MNL(struct mnl_socket *, mnl_socket_open, (int bus), (bus))
MNL(int, mnl_socket_bind, (struct mnl_socket *nl, unsigned int groups, pid_t pid),
    (nl, groups, pid))
MNL(int, mnl_socket_close, (struct mnl_socket *nl), (nl))
MNL(unsigned int, mnl_socket_get_portid, (const struct mnl_socket *nl), (nl))
MNL(ssize_t, mnl_socket_sendto, (const struct mnl_socket *nl, const void *req, size_t siz),
    (nl, req, siz))
MNL(ssize_t, mnl_socket_recvfrom, (const struct mnl_socket *nl, void *buf, size_t siz),
    (nl, buf, siz))
MNL(int, mnl_cb_run, (const void *buf, size_t numbytes, unsigned int seq, unsigned int portid,
                      mnl_cb_t cb_data, void *data),
    (buf, numbytes, seq, portid, cb_data, data))
MNL(size_t, mnl_nlmsg_size, (size_t len), (len))
MNL(uint16_t, mnl_attr_get_type, (const struct nlattr *attr), (attr))
MNL(uint16_t, mnl_attr_get_payload_len, (const struct nlattr *attr), (attr))
MNL(void *, mnl_attr_get_payload, (const struct nlattr *attr), (attr))
MNL(bool, mnl_attr_ok, (const struct nlattr *attr, int len), (attr, len))
MNL(struct nlattr *, mnl_attr_next, (const struct nlattr *attr), (attr))
MNL(int, mnl_attr_parse, (const struct nlmsghdr *nlh, unsigned int offset, mnl_attr_cb_t cb,
                          void *data),
    (nlh, offset, cb, data))
MNL(int, mnl_attr_parse_nested, (const struct nlattr *attr, mnl_attr_cb_t cb, void *data),
    (attr, cb, data))
MNL(int, mnl_attr_validate, (const struct nlattr *attr, enum mnl_attr_data_type type),
    (attr, type))
