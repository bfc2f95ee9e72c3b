/* SPDX-License-Identifier: MIT */
#pragma once

/* The rule decoder (nat_rule.c) as published.c calls it, on libnftnl's rule. */
#include <libnftnl/rule.h>

#include <rsap/listen.h>

/* One rule of a table of family (NFPROTO_*): 0 or -EBADMSG. */
int rsap_nat_rule_decode(struct nftnl_rule *r, int family, struct rsap_nat_rule *out);
