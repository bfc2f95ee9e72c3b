/* SPDX-License-Identifier: MIT */
/* rsap reject ID --why TEXT: a pending request is declined, and why is kept. */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include <rsap/json.h>

#include "builtin.h"
#include "registry.h"

static int reject(struct cli *cli, struct registry_cli *rc, int64_t id, const char *why)
{
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        struct rsap_workflow wf = { 0 };
        struct rsap_request req;
        int r;

        store = registry_open_write(cli, rc);
        if (!store)
                return EXIT_BAD_INPUT;
        wf.store = store;
        wf.actor = registry_actor(rc);
        r = rsap_reject(&wf, id, why, &req);
        if (r == -ENOENT)
                return registry_no_match("no request %lld", (long long)id);
        if (r == -EALREADY) {
                r = registry_refused("request %lld was already %s", (long long)id,
                                     rsap_request_state_name(req.state));
                rsap_request_clear(&req);
                return r;
        }
        if (r < 0) {
                rsap_request_clear(&req); /* filled before a later step failed */
                return registry_error(rc, r, "cannot reject the request");
        }
        if (cli->json)
                r = cli_print_json(rsap_request_to_json(&req));
        else
                printf("rejected request %lld: %s\n", (long long)id, req.service);
        rsap_request_clear(&req);
        return r ? EXIT_BAD_INPUT : EXIT_ANSWERED;
}

int cmd_reject(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("reject");
        struct registry_cli rc = { 0 };
        const char *why = NULL;
        int64_t id;
        int r;

        r = registry_getopt(cli, self, &rc, argc, argv, registry_why_option, &why);
        if (r >= 0)
                return r;
        r = registry_request_id_arg(self, argc, argv, &id);
        if (r >= 0)
                return r;
        if (!why || strspn(why, " \t\n") == strlen(why))
                return cli_usage_error(self, "say why: --why TEXT");
        return reject(cli, &rc, id, why);
}
