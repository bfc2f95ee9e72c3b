/* SPDX-License-Identifier: MIT */
/* rsap requests [--all]: the pending requests (or every one), oldest first. */
#include <getopt.h>

#include <rsap/json.h>

#include "builtin.h"
#include "registry.h"
#include "render.h"

static void render_requests(const struct cli *cli, const struct rsap_request *list, size_t n)
{
        printf("%s%-6s %-10s %-16s %-24s %-20s %s%s\n", cli_bold(cli), "ID", "STATE", "SERVICE",
               "PORT", "ASSIGNEE", "REQUESTED", cli_reset(cli));
        for (size_t i = 0; i < n; i++) {
                char ports[64], when[RSAP_TIME_SIZE];

                registry_request_ports(&list[i], ports, sizeof(ports));
                rsap_time_format(list[i].requested_us, when, sizeof(when));
                printf("%-6lld %-10s %-16s %-24s %-20s %s by %s\n", (long long)list[i].id,
                       rsap_request_state_name(list[i].state), render_safe(list[i].service),
                       ports, render_safe(list[i].assignee), when,
                       render_safe(list[i].requested_by));
        }
}

static int list_requests(struct cli *cli, struct registry_cli *rc, bool all)
{
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        struct rsap_request *list = NULL;
        size_t n = 0;
        int r;

        r = registry_open_read(cli, rc, &store);
        if (r)
                return r;
        if (store) {
                r = rsap_request_list(store, !all, &list, &n);
                if (r < 0)
                        return registry_error(rc, r, "cannot read the requests");
        }
        if (cli->json)
                r = cli_print_json(rsap_request_list_to_json(list, n));
        else if (n > 0)
                render_requests(cli, list, n);
        else
                fprintf(stderr, "rsap: no %srequests\n", all ? "" : "pending ");
        rsap_request_list_free(list, n);
        if (r)
                return EXIT_BAD_INPUT;
        return n > 0 ? EXIT_ANSWERED : EXIT_NO_MATCH;
}

/* --all */
static int all_option(const struct cli_command *self, int opt, void *flag)
{
        if (opt != 'a')
                return -2;
        *(bool *)flag = true;
        return -1;
}

int cmd_requests(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("requests");
        struct registry_cli rc = { 0 };
        bool all = false;
        int r;

        r = registry_getopt(cli, self, &rc, argc, argv, all_option, &all);
        if (r >= 0)
                return r;
        if (optind != argc)
                return cli_usage_error(self, "unexpected argument '%s'", argv[optind]);
        return list_requests(cli, &rc, all);
}
