/* SPDX-License-Identifier: MIT */
/*
 * rsap kernel-reserve [--apply]: the assigned ports merged into
 * net.ipv4.ip_local_reserved_ports, so that outgoing connections cannot take
 * a port a service is assigned.  Without --apply it only shows the plan.
 */
#include <errno.h>
#include <getopt.h>

#include <rsap/json.h>

#include "builtin.h"
#include "registry.h"

static void render_plan(const struct cli *cli, const struct rsap_kernel_reserve *k,
                        const char *path)
{
        printf("reserved now:   %s\n", k->current[0] ? k->current : "(none)");
        printf("assigned here: ");
        for (size_t i = 0; i < k->n_assigned; i++)
                printf(" %u", k->assigned[i]);
        printf("%s\n", k->n_assigned ? "" : " (none)");
        printf("%s %s%s%s (%zu port%s added)\n", k->applied ? "written:       " : "--apply writes:",
               cli_bold(cli), k->merged[0] ? k->merged : "(none)", cli_reset(cli), k->n_added,
               k->n_added == 1 ? "" : "s");
        if (k->applied)
                printf("into %s\n", path);
}

static int sysctl_error(int err, const char *path, bool writing)
{
        if (err == -ENOENT)
                return cli_error("%s does not exist: rsap reserves ports on Linux only", path);
        if (err == -EACCES || err == -EPERM || err == -EROFS)
                return cli_error("cannot %s %s: %s", writing ? "write" : "read", path,
                                 writing ? "permission denied (root can, in its network "
                                           "namespace)"
                                         : "permission denied");
        if (err == -EBADMSG)
                return cli_error("%s holds something other than a list of ports", path);
        return cli_error_code(err, "cannot %s %s", writing ? "write" : "read", path);
}

static int kernel_reserve(struct cli *cli, struct registry_cli *rc, bool apply, const char *path)
{
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        struct rsap_kernel_reserve k;
        int r;

        r = registry_open_read(cli, rc, &store);
        if (r)
                return r;
        /* The kernel's list first, alone: its errors are not the registry's. */
        r = rsap_kernel_reserve_plan(NULL, path, &k);
        if (r < 0)
                return sysctl_error(r, path, false);
        rsap_kernel_reserve_clear(&k);
        r = rsap_kernel_reserve_plan(store, path, &k);
        if (r < 0)
                return registry_error(rc, r, "cannot read the assignments");
        if (apply) {
                r = rsap_kernel_reserve_apply(&k, path);
                if (r < 0) {
                        rsap_kernel_reserve_clear(&k);
                        return sysctl_error(r, path, true);
                }
        }
        if (cli->json)
                r = cli_print_json(rsap_kernel_reserve_to_json(&k));
        else
                render_plan(cli, &k, path);
        rsap_kernel_reserve_clear(&k);
        return r ? EXIT_BAD_INPUT : EXIT_ANSWERED;
}

struct reserve_args {
        bool apply;
        const char *path;
};

/* --apply, --file PATH */
static int reserve_option(const struct cli_command *self, int opt, void *data)
{
        struct reserve_args *a = data;

        if (opt == 'a')
                a->apply = true;
        else if (opt == 'f')
                a->path = optarg;
        else
                return -2;
        return -1;
}

int cmd_kernel_reserve(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("kernel-reserve");
        struct registry_cli rc = { 0 };
        struct reserve_args a = { .path = RSAP_RESERVED_PORTS_PATH };
        int r;

        r = registry_getopt(cli, self, &rc, argc, argv, reserve_option, &a);
        if (r >= 0)
                return r;
        if (optind != argc)
                return cli_usage_error(self, "unexpected argument '%s'", argv[optind]);
        return kernel_reserve(cli, &rc, a.apply, a.path);
}
