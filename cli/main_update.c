/* SPDX-License-Identifier: MIT */
/* rsap-update: the program behind `rsap update` (see update_exec.c). */
#include <string.h>

#include "builtin.h"

static const struct cli_command update_command = {
        "update", cmd_update,
        "rsap update [--from URL|FILE] [--timeout SECONDS] [--allow-any-date] [--json]",
        "Fetch IANA's whole registry, check it, and cache it for lookups.", cli_update_options, NULL,
};

const struct cli_command *cli_find_command(const char *name)
{
        return strcmp(name, "update") == 0 ? &update_command : NULL;
}

int main(int argc, char **argv)
{
        struct cli cli = { .argv0 = "rsap" };

        cli_set_argv(argv);
        cli_scan_json(argc, argv);
        return cmd_update(&cli, argc, argv);
}
