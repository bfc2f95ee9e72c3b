/* SPDX-License-Identifier: MIT */
/*
 * rsap_nat_rule_decode: what one nf_tables rule publishes.  The input is a
 * small program that builds the rule with libnftnl's setters, one
 * expression after another (payload, meta, cmp, range, bitwise, immediate
 * data or verdicts, lookup, nat, xt matches and targets of any revision,
 * and kinds the decoder passes over), with registers, lengths and blobs as
 * the bytes say: the decoder reads registers and blobs itself, and must
 * check every one.  (libnftnl's own parser of netlink messages trusts the
 * kernel, so the bytes do not go through it.)  Whatever decodes must make
 * sense: port ranges in order and within the bound, an action rsap knows.
 *
 * Each expression: one byte of kind, then what that kind reads (below);
 * the rule ends with the input.  The first byte is the table's family.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <rsap/listen.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
        const uint8_t *p;
        size_t left;
};

static uint8_t byte(struct input *in)
{
        if (in->left == 0)
                return 0;
        in->left--;
        return *in->p++;
}

/* A register number or a field: small values mostly, any now and then. */
static uint32_t u32(struct input *in)
{
        uint8_t b = byte(in);

        if (b != 0xff)
                return b;
        return (uint32_t)byte(in) << 24 | (uint32_t)byte(in) << 16 | (uint32_t)byte(in) << 8 |
               byte(in);
}

/* A blob of the length the next byte says, or what is left; an xt info
 * (up to 255 bytes) is handed over, libnftnl freeing it with the
 * expression, and data (up to 16 bytes, a register's: libnftnl 1.2 copies
 * it into a fixed buffer without checking the length) copied. */
static void set_blob(struct nftnl_expr *e, uint16_t attr, struct input *in, bool handed_over)
{
        size_t len = handed_over ? byte(in) : byte(in) % 17;
        void *copy;

        if (len > in->left)
                len = in->left;
        copy = handed_over ? malloc(len ? len : 1) : NULL;
        if (handed_over && !copy)
                return;
        if (copy)
                memcpy(copy, in->p, len);
        nftnl_expr_set(e, attr, copy ? copy : in->p, (uint32_t)len);
        in->p += len;
        in->left -= len;
}

static const char *const xt_names[] = { "tcp", "udp", "multiport", "DNAT", "addrtype", "" };
static const char *const passed_over[] = { "counter", "log", "limit", "ct", "quota" };

static struct nftnl_expr *load(struct input *in, uint8_t kind)
{
        struct nftnl_expr *e = nftnl_expr_alloc(kind == 0 ? "payload" : "meta");

        if (!e)
                return NULL;
        if (kind == 0) {
                nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, u32(in));
                nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, u32(in));
                nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, u32(in));
                if (byte(in) & 1) /* else a write: no destination */
                        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, u32(in));
        } else {
                nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, u32(in));
                nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, u32(in));
        }
        return e;
}

static struct nftnl_expr *test(struct input *in, uint8_t kind)
{
        struct nftnl_expr *e = nftnl_expr_alloc(kind == 2 ? "cmp" : kind == 3 ? "range"
                                                                              : "bitwise");

        if (!e)
                return NULL;
        if (kind == 2) {
                nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, u32(in));
                nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, u32(in));
                set_blob(e, NFTNL_EXPR_CMP_DATA, in, false);
        } else if (kind == 3) {
                nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, u32(in));
                nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, u32(in));
                set_blob(e, NFTNL_EXPR_RANGE_FROM_DATA, in, false);
                set_blob(e, NFTNL_EXPR_RANGE_TO_DATA, in, false);
        } else {
                nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, u32(in));
                nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, u32(in));
                nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, u32(in));
                if (byte(in) & 1)
                        set_blob(e, NFTNL_EXPR_BITWISE_MASK, in, false);
        }
        return e;
}

static struct nftnl_expr *immediate(struct input *in)
{
        struct nftnl_expr *e = nftnl_expr_alloc("immediate");
        uint32_t dreg = u32(in);

        if (!e)
                return NULL;
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, dreg);
        if (dreg == NFT_REG_VERDICT) {
                /* libnftnl frees a verdict's chain only for a jump or goto */
                static const int32_t verdicts[] = { NFT_JUMP, NFT_GOTO, NF_ACCEPT, NFT_RETURN,
                                                    NF_DROP, NFT_CONTINUE };
                int32_t verdict = verdicts[byte(in) % 6];

                nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
                if (verdict == NFT_JUMP || verdict == NFT_GOTO)
                        nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, "CHAIN");
        } else {
                set_blob(e, NFTNL_EXPR_IMM_DATA, in, false);
        }
        return e;
}

static struct nftnl_expr *nat(struct input *in)
{
        static const uint16_t regs[] = { NFTNL_EXPR_NAT_REG_ADDR_MIN, NFTNL_EXPR_NAT_REG_ADDR_MAX,
                                         NFTNL_EXPR_NAT_REG_PROTO_MIN,
                                         NFTNL_EXPR_NAT_REG_PROTO_MAX };
        struct nftnl_expr *e = nftnl_expr_alloc("nat");
        uint8_t present;

        if (!e)
                return NULL;
        nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, u32(in));
        nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, u32(in));
        present = byte(in);
        for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
                if (present & (1u << i))
                        nftnl_expr_set_u32(e, regs[i], u32(in));
        return e;
}

static struct nftnl_expr *xt(struct input *in, bool target)
{
        struct nftnl_expr *e = nftnl_expr_alloc(target ? "target" : "match");

        if (!e)
                return NULL;
        nftnl_expr_set_str(e, target ? NFTNL_EXPR_TG_NAME : NFTNL_EXPR_MT_NAME,
                           xt_names[byte(in) % (sizeof(xt_names) / sizeof(xt_names[0]))]);
        nftnl_expr_set_u32(e, target ? NFTNL_EXPR_TG_REV : NFTNL_EXPR_MT_REV, byte(in) % 4);
        set_blob(e, target ? NFTNL_EXPR_TG_INFO : NFTNL_EXPR_MT_INFO, in, true);
        return e;
}

static struct nftnl_expr *lookup(struct input *in)
{
        struct nftnl_expr *e = nftnl_expr_alloc("lookup");

        if (!e)
                return NULL;
        nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, u32(in));
        if (byte(in) & 1)
                nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, u32(in));
        nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, "__set0");
        return e;
}

static struct nftnl_expr *next_expression(struct input *in)
{
        uint8_t kind = byte(in) % 11;

        switch (kind) {
        case 0: case 1: return load(in, kind);
        case 2: case 3: case 4: return test(in, kind);
        case 5: return immediate(in);
        case 6: return nat(in);
        case 7: case 8: return xt(in, kind == 8);
        case 9: return lookup(in);
        default:
                return nftnl_expr_alloc(passed_over[byte(in) % 5]);
        }
}

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
        static const int families[] = { NFPROTO_IPV4, NFPROTO_IPV6, NFPROTO_INET };
        struct input in = { data, size };
        int family = families[byte(&in) % 3];
        struct nftnl_rule *r = nftnl_rule_alloc();
        struct rsap_nat_rule rule;

        if (!r)
                return 0;
        for (unsigned n = 0; in.left > 0 && n < 64; n++) {
                struct nftnl_expr *e = next_expression(&in);

                if (e)
                        nftnl_rule_add_expr(r, e);
        }
        if (rsap_nat_rule_decode(r, family, &rule) == 0)
                check(&rule);
        nftnl_rule_free(r);
        return 0;
}
