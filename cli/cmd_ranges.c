/* SPDX-License-Identifier: MIT */
/* rsap ranges: RFC 6335's three classes with live counts per protocol. */
#include <getopt.h>

#include <rsap/json.h>

#include "builtin.h"
#include "render.h"

static void render_range(const struct cli *cli, const struct rsap_iana *reg,
                         const struct rsap_range_info *range)
{
        printf("%s%s%s %u-%u\n  %s\n", cli_bold(cli), range->title, cli_reset(cli), range->low,
               range->high, range->meaning);
        printf("  %-6s %10s %10s %10s\n", "", "assigned", "reserved", "unassigned");
        for (unsigned p = RSAP_TRANSPORTS_FIRST; p <= RSAP_TRANSPORTS_LAST; p++) {
                struct rsap_range_counts c;

                rsap_iana_range_counts(reg, range->id, (enum rsap_proto)p, &c);
                printf("  %-6s %10u %10u %10u\n", rsap_proto_name((enum rsap_proto)p), c.assigned,
                       c.reserved, c.unassigned);
        }
}

int cmd_ranges(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("ranges");
        _cleanup_(rsap_iana_freep) struct rsap_iana *reg = NULL;
        int r;

        r = cli_getopt(cli, self, argc, argv, NULL, NULL);
        if (r >= 0)
                return r;
        if (optind != argc)
                return cli_usage_error(self, "no arguments expected");
        reg = cli_open_registry(cli);
        if (!reg)
                return EXIT_BAD_INPUT;
        if (cli->json)
                return cli_print_json(rsap_ranges_to_json(reg)) ? EXIT_BAD_INPUT : EXIT_ANSWERED;
        for (unsigned i = 0; i < RSAP_RANGE_COUNT; i++) {
                if (i)
                        putchar('\n');
                render_range(cli, reg, rsap_range_info((enum rsap_range_class)i));
        }
        render_data_footer(cli, reg);
        return EXIT_ANSWERED;
}
