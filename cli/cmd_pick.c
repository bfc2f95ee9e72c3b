/* SPDX-License-Identifier: MIT */
/* rsap pick: free port numbers, lowest first, one per line. */
#include <getopt.h>
#include <stdlib.h>

#include <rsap/json.h>

#include "builtin.h"
#include "registry.h"

static int pick_option(const struct cli_command *self, int opt, void *data)
{
        struct rsap_pick_options *o = data;
        char *end;
        long count;

        switch (opt) {
        case 'r':
                return registry_range_option(self, optarg, &o->low, &o->high);
        case 'p':
                return registry_proto_option(self, optarg, &o->protocols);
        case 'n':
                count = strtol(optarg, &end, 10);
                if (*optarg == '\0' || *end || count < 1 || count > 65536)
                        return cli_usage_error(self, "--count takes a number from 1 to 65536");
                o->count = (size_t)count;
                return -1;
        case 'I':
                o->allow_iana = true;
                return -1;
        }
        return -2;
}

static int pick(struct cli *cli, struct registry_cli *rc, const struct rsap_pick_options *o)
{
        _cleanup_(rsap_iana_freep) struct rsap_iana *iana = NULL;
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        _cleanup_(rsap_listen_list_freep) struct rsap_listen_list *listeners = NULL;
        struct rsap_host host;
        struct rsap_workflow wf;
        struct rsap_pick p;
        int r;

        r = registry_open_lookup(cli, rc, &iana, &store);
        if (r)
                return r;
        registry_host(&host, &listeners, false);
        wf = (struct rsap_workflow){ store, iana, NULL, &host };
        r = rsap_pick(&wf, o, &p);
        if (r < 0)
                return registry_error(rc, r, "cannot pick a port");
        if (cli->json)
                r = cli_print_json(rsap_pick_to_json(&p));
        if (p.n_ports == 0) {
                char why[512];

                registry_format_exclusions(&p.excluded, why, sizeof(why));
                fprintf(stderr, "rsap: no free port in %u-%u: %s\n", p.options.low,
                        p.options.high, why);
        }
        for (size_t i = 0; !cli->json && i < p.n_ports; i++)
                printf("%u\n", p.ports[i]);
        r = r ? EXIT_BAD_INPUT : p.n_ports > 0 ? EXIT_ANSWERED : EXIT_NO_MATCH;
        rsap_pick_clear(&p);
        return r;
}

int cmd_pick(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("pick");
        struct rsap_pick_options o = { 0 };
        struct registry_cli rc = { 0 };
        int r;

        r = registry_getopt(cli, self, &rc, argc, argv, pick_option, &o);
        if (r >= 0)
                return r;
        if (optind != argc)
                return cli_usage_error(self, "unexpected argument '%s'", argv[optind]);
        return pick(cli, &rc, &o);
}
