/* SPDX-License-Identifier: MIT */
/*
 * rsap lease: atomically hands out a free port for a test run and prints
 * it, for `port=$(rsap lease)`.  The lease holds tcp and udp, and ends with
 * rsap release, its TTL, or the death of its process: by default the
 * process that ran rsap lease (the caller's shell or test runner).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <unistd.h>

#include <rsap/json.h>

#include "builtin.h"
#include "registry.h"

struct lease_args {
        struct rsap_lease_options o;
        bool have_pid;
};

static int lease_option(const struct cli_command *self, int opt, void *data)
{
        struct lease_args *a = data;
        char *end;
        long pid;

        switch (opt) {
        case 'r':
                return registry_range_option(self, optarg, &a->o.low, &a->o.high);
        case 't':
                if (rsap_ttl_parse(optarg, &a->o.ttl_us) < 0)
                        return cli_usage_error(self, "'%s' is not a TTL (such as 30s, 10m, 2h, "
                                                     "1d)",
                                               optarg);
                return -1;
        case 'n':
                a->o.name = optarg;
                return -1;
        case 'p':
                pid = strtol(optarg, &end, 10);
                if (*optarg == '\0' || *end || pid < 0 || pid > 0x3fffffff)
                        return cli_usage_error(self, "--pid takes a process id (0: no process)");
                a->o.pid = (pid_t)pid;
                a->have_pid = true;
                return -1;
        }
        return -2;
}

/* Says, as rsap pick does, how many ports of the range each rule kept out. */
static int no_free_port(const struct rsap_workflow *wf, const struct rsap_lease_options *o)
{
        struct rsap_pick_options po = {
                .low = o->low ? o->low : RSAP_DEFAULT_ANY_LOW,
                .high = o->high ? o->high : RSAP_DEFAULT_ANY_HIGH,
                .protocols = (1u << RSAP_PROTO_TCP) | (1u << RSAP_PROTO_UDP),
        };
        struct rsap_pick p;
        char why[512] = "every one is taken";

        if (rsap_pick(wf, &po, &p) == 0)
                registry_format_exclusions(&p.excluded, why, sizeof(why));
        rsap_pick_clear(&p);
        return registry_refused("no free port in %u-%u: %s", po.low, po.high, why);
}

static int lease(struct cli *cli, struct registry_cli *rc, struct lease_args *a)
{
        _cleanup_(rsap_iana_freep) struct rsap_iana *iana = NULL;
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        _cleanup_(rsap_listen_list_freep) struct rsap_listen_list *listeners = NULL;
        struct rsap_host host;
        struct rsap_workflow wf;
        struct rsap_lease l;
        int r;

        if (!a->have_pid)
                a->o.pid = getppid();
        iana = cli_open_registry(cli);
        if (!iana)
                return EXIT_BAD_INPUT;
        store = registry_open_write(cli, rc);
        if (!store)
                return EXIT_BAD_INPUT;
        registry_host(&host, &listeners, false);
        wf = (struct rsap_workflow){ store, iana, registry_actor(rc), &host };
        r = rsap_lease_take(&wf, &a->o, &l);
        if (r == -EADDRNOTAVAIL)
                return no_free_port(&wf, &a->o);
        if (r == -ESRCH)
                return cli_error("no process %d to hold the lease", (int)a->o.pid);
        if (r < 0)
                return registry_error(rc, r, "cannot lease a port");
        if (cli->json)
                r = cli_print_json(rsap_lease_to_json("lease", &l));
        else
                printf("%u\n", l.port);
        rsap_lease_clear(&l);
        return r ? EXIT_BAD_INPUT : EXIT_ANSWERED;
}

int cmd_lease(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("lease");
        struct lease_args a = { 0 };
        struct registry_cli rc = { 0 };
        int r;

        r = registry_getopt(cli, self, &rc, argc, argv, lease_option, &a);
        if (r >= 0)
                return r;
        if (optind != argc)
                return cli_usage_error(self, "unexpected argument '%s'", argv[optind]);
        return lease(cli, &rc, &a);
}
