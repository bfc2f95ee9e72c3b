/* SPDX-License-Identifier: MIT */
/*
 * rsap_nat_rule_decode_message: a rule as the kernel's nf_tables dump sends
 * it.  The kernel is trusted more than a file, but the decoder reads blobs
 * (xt matches and targets, register data) whose sizes it must check itself.
 * Whatever decodes must make sense: port ranges in order and within the
 * bound, an action rsap knows.  The seeds are real rules of Docker's, CNI's,
 * netavark's and kube-proxy's layouts and native ones, as a dump gave them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rsap/listen.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct rsap_nat_rule *rule)
{
        if (rule->n_ports > RSAP_NAT_MAX_PORT_RANGES || rule->action > RSAP_NAT_UNREADABLE)
                abort();
        for (size_t i = 0; i < rule->n_ports; i++)
                if (rule->ports[i].low > rule->ports[i].high)
                        abort();
        if (memchr(rule->chain, '\0', sizeof(rule->chain)) == NULL)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const int families[] = { 0, 2, 10, 1 }; /* its own, ip, ip6, inet */
        /* Netlink messages are 4-byte aligned: a copy, so that the input's
         * own alignment does not matter. */
        uint32_t *copy = malloc(size + 4);
        struct rsap_nat_rule rule;

        if (!copy)
                return 0;
        memcpy(copy, data, size);
        for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
                int r = rsap_nat_rule_decode_message(copy, size, families[i], &rule);

                if (r == 0)
                        check(&rule);
                else if (r != -EBADMSG && r != -ENOMEM)
                        abort();
        }
        free(copy);
        return 0;
}
