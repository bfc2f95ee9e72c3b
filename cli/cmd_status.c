/* SPDX-License-Identifier: MIT */
/* rsap status: which registry data lookups use, and whether it is sound. */
#include <errno.h>
#include <getopt.h>

#include <rsap/json.h>
#include <rsap/paths.h>

#include "builtin.h"
#include "render.h"

/* What rsap_snapshot_validate_file() said of the cache, for its line. */
static const char *cache_state(int verified)
{
        switch (verified) {
        case 0:
                return "verified";
        case -EPROTONOSUPPORT:
                return "written by another version of rsap, in another format: run 'rsap update'";
        default:
                return "absent";
        }
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("status");
        _cleanup_(rsap_iana_freep) struct rsap_iana *reg = NULL;
        struct rsap_iana_info info;
        char dir[4096], path[4200];
        int r, verified;

        r = cli_getopt(cli, self, argc, argv, NULL, NULL);
        if (r >= 0)
                return r;
        if (optind != argc)
                return cli_usage_error(self, "no arguments expected");
        /* The data directory is where `rsap update` writes; the cache shown
         * is the one lookups read, which may be the system's. */
        r = rsap_data_dir(cli->db_dir, dir, sizeof(dir));
        if (r == -ENOENT)
                snprintf(dir, sizeof(dir), "%s", RSAP_SYSTEM_DATA_DIR);
        else if (r < 0)
                return cli_error_code(r, "cannot find the data directory");
        r = rsap_cache_in_use(cli->db_dir, path, sizeof(path));
        if (r == -ENOENT)
                r = rsap_cache_path(dir, path, sizeof(path));
        if (r < 0)
                return cli_error_code(r, "cannot find the cached registry");
        verified = rsap_snapshot_validate_file(path);
        if (verified < 0 && verified != -ENOENT && verified != -EPROTONOSUPPORT)
                return verified == -EBADMSG
                               ? cli_error("%s is corrupt: run 'rsap update' again, or remove it",
                                           path)
                               : cli_error_code(verified, "cannot read %s", path);
        reg = cli_open_registry(cli);
        if (!reg)
                return EXIT_BAD_INPUT;
        rsap_iana_info(reg, &info);
        if (cli->json) {
                json_t *o = rsap_status_to_json(reg, dir, path, verified == 0);

                return cli_print_json(o) ? EXIT_BAD_INPUT : EXIT_ANSWERED;
        }
        printf("%-10s %s\n", "data", verified == 0 ? "cached copy of IANA's registry"
                                      : verified == -ENOENT ? "built-in copy (no cached copy yet)"
                                                            : "built-in copy");
        printf("%-10s %s\n", "source", rsap_source_name(info.source));
        printf("%-10s %s\n", "release", info.release ? info.release : "unknown");
        printf("%-10s %zu\n", "records", info.records);
        printf("%-10s %zu\n", "people", info.people);
        printf("%-10s %s (%s)\n", "cache", path, cache_state(verified));
        if (verified != 0)
                printf("\n%s'rsap update' fetches IANA's newest release%s\n",
                       cli_dim(cli), cli_reset(cli));
        return EXIT_ANSWERED;
}
