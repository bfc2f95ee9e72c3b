/* SPDX-License-Identifier: MIT */
#pragma once

/* The rule decoder (nat_rule.c) as published.c calls it, on libnftnl's rule. */
#include <stdbool.h>

#include <libnftnl/rule.h>
#include <linux/netlink.h>

#include <rsap/listen.h>

/* Whether libnftnl may parse the rule message: its strings end, and every
 * expression has a name. */
bool rsap_nat_rule_message_valid(const struct nlmsghdr *nlh);
/* Whether this namespace has a chain of type nat (nat_probe.c): 1, 0, or -errno. */
int rsap_nat_chain_present(void);
