/* SPDX-License-Identifier: MIT */
/*
 * rsap transfer TARGET --to WHO: a service, whole, passes to a new assignee
 * (RFC 6335 section 8.5); every assignment of it records the hand-over.
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include <rsap/json.h>

#include "builtin.h"
#include "registry.h"

static int transfer_error(struct registry_cli *rc, int err, const char *text, const char *to)
{
        switch (err) {
        case -ENOENT:
                return registry_no_match("no service or active assignment for %s", text);
        case -ENOTUNIQ:
                return cli_error("%s names assignments of several services: name one service "
                                 "(PORT/PROTO or the service name)",
                                 text);
        case -EALREADY:
                return registry_refused("%s already belongs to %s", text, to);
        case -EINVAL:
                return cli_error("'%s' is a lease or a request: transfer takes a port, a "
                                 "service name or assignment:ID",
                                 text);
        default:
                return registry_error(rc, err, "cannot transfer");
        }
}

static int transfer(struct cli *cli, struct registry_cli *rc, const char *text, const char *to,
                    const char *contact, const char *why)
{
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        struct rsap_workflow wf = { 0 };
        struct rsap_transfer t;
        struct rsap_target target;
        int r;

        if (rsap_target_parse(text, &target) < 0)
                return cli_error("'%s' is not a port, a service name or assignment:ID", text);
        store = registry_open_write(cli, rc);
        if (!store)
                return EXIT_BAD_INPUT;
        wf.store = store;
        wf.actor = registry_actor(rc);
        r = rsap_transfer(&wf, &target, to, contact, why, &t);
        if (r < 0) {
                rsap_transfer_clear(&t);
                return transfer_error(rc, r, text, to);
        }
        if (cli->json) {
                r = cli_print_json(rsap_transfer_to_json(&t));
        } else {
                printf("transferred %s from %s to %s (contact %s)\n", t.service, t.from, t.to,
                       t.contact_to);
                for (size_t i = 0; i < t.n_assignments; i++)
                        registry_render_assignment(cli, &t.assignments[i]);
        }
        rsap_transfer_clear(&t);
        return r ? EXIT_BAD_INPUT : EXIT_ANSWERED;
}

struct transfer_args {
        const char *to, *contact, *why;
};

static int transfer_option(const struct cli_command *self, int opt, void *data)
{
        struct transfer_args *a = data;

        if (opt != 't' && opt != 'c' && opt != 'w')
                return -2;
        *(opt == 't' ? &a->to : opt == 'c' ? &a->contact : &a->why) = optarg;
        return -1;
}

int cmd_transfer(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("transfer");
        struct registry_cli rc = { 0 };
        struct transfer_args a = { 0 };
        int r;

        r = registry_getopt(cli, self, &rc, argc, argv, transfer_option, &a);
        if (r >= 0)
                return r;
        if (optind != argc - 1)
                return cli_usage_error(self, optind == argc ? "which service, port or "
                                                              "assignment:ID?"
                                                            : "one target at a time");
        if (!a.to || strspn(a.to, " \t\n") == strlen(a.to))
                return cli_usage_error(self, "to whom? --to WHO");
        return transfer(cli, &rc, argv[optind], a.to, a.contact, a.why);
}
