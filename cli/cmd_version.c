/* SPDX-License-Identifier: MIT */
#include <rsap/registry.h>

#include "builtin.h"
#include "config.h"

int cmd_version(struct cli *cli, int argc, char **argv)
{
        printf("rsap %s\n", RSAP_VERSION);
        return EXIT_ANSWERED;
}
