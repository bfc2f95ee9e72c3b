/* SPDX-License-Identifier: MIT */
/* rsap release PORT | lease:ID: ends a lease before its TTL does. */
#include <errno.h>
#include <getopt.h>

#include <rsap/json.h>

#include "builtin.h"
#include "registry.h"

static int release(struct cli *cli, struct registry_cli *rc, const char *text)
{
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        struct rsap_workflow wf = { 0 };
        struct rsap_target target;
        struct rsap_lease l;
        int r;

        if (rsap_target_parse(text, &target) < 0 ||
            (target.kind != RSAP_TARGET_PORT && target.kind != RSAP_TARGET_LEASE))
                return cli_error("'%s' is not a port or lease:ID", text);
        store = registry_open_write(cli, rc);
        if (!store)
                return EXIT_BAD_INPUT;
        wf.store = store;
        wf.actor = registry_actor(rc);
        r = rsap_lease_release(&wf, &target, &l);
        if (r == -ENOENT)
                return registry_no_match("no live lease on %s", text);
        if (r < 0)
                return registry_error(rc, r, "cannot release the lease");
        if (cli->json)
                r = cli_print_json(rsap_lease_to_json("release", &l));
        else
                printf("released lease %lld: port %u\n", (long long)l.id, l.port);
        rsap_lease_clear(&l);
        return r ? EXIT_BAD_INPUT : EXIT_ANSWERED;
}

int cmd_release(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("release");
        struct registry_cli rc = { 0 };
        int r;

        r = registry_getopt(cli, self, &rc, argc, argv, NULL, NULL);
        if (r >= 0)
                return r;
        if (optind != argc - 1)
                return cli_usage_error(self, optind == argc ? "which port?"
                                                            : "one port at a time");
        return release(cli, &rc, argv[optind]);
}
