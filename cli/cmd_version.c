/* SPDX-License-Identifier: MIT */
#include <getopt.h>

#include <rsap/iana.h>

#include "builtin.h"
#include "config.h"

int cmd_version(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("version");
        int r;

        /* `rsap --version` comes here with argc 1: nothing to read. */
        r = cli_only_common_options(cli, self, argc, argv);
        if (r >= 0)
                return r;
        if (argc > 1 && optind < argc)
                return cli_usage_error(self, "unexpected argument '%s'", argv[optind]);
        if (cli->json)
                return cli_print_json(json_pack("{s:s, s:s}", "kind", "version", "version",
                                                RSAP_VERSION))
                               ? EXIT_BAD_INPUT
                               : EXIT_ANSWERED;
        printf("rsap %s\n", RSAP_VERSION);
        return EXIT_ANSWERED;
}
