/* SPDX-License-Identifier: MIT */
/*
 * rsap deassign TARGET: the assignee returns its ports (RFC 6335 section
 * 8.2).  rsap revoke (8.4) is the same act by the registry, so both run
 * registry_end_command(); revoke requires a reason.  The ports stay
 * quarantined, not handed out again, for --quarantine (30 days).
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include <rsap/json.h>

#include "builtin.h"
#include "registry.h"

static void render_ended(const struct cli *cli, const char *verb, const struct rsap_assignment *list,
                         size_t n)
{
        char until[RSAP_TIME_SIZE];

        printf("%s:\n", verb);
        for (size_t i = 0; i < n; i++)
                registry_render_assignment(cli, &list[i]);
        if (n > 0) {
                rsap_time_format(list[0].quarantine_until_us, until, sizeof(until));
                printf("quarantined until %s: not handed out again before\n", until);
        }
}

static int target_error(const struct rsap_target *t, const char *text)
{
        if (t->kind == RSAP_TARGET_LEASE)
                return registry_no_match("'%s' is a lease: use 'rsap release'", text);
        return registry_no_match("no active assignment for %s", text);
}

static int end(struct cli *cli, struct registry_cli *rc, const char *text,
               enum registry_end_kind kind, const char *why, int64_t quarantine_us)
{
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        struct rsap_workflow wf = { 0 };
        struct rsap_assignment *list = NULL;
        struct rsap_target target;
        const char *verb = kind == REGISTRY_END_REVOKE ? "revoked" : "deassigned";
        size_t n = 0;
        int r;

        if (rsap_target_parse(text, &target) < 0)
                return cli_error("'%s' is not a port, a service name or assignment:ID", text);
        store = registry_open_write(cli, rc);
        if (!store)
                return EXIT_BAD_INPUT;
        wf.store = store;
        wf.actor = registry_actor(rc);
        r = kind == REGISTRY_END_REVOKE ? rsap_revoke(&wf, &target, why, quarantine_us, &list, &n)
                                        : rsap_deassign(&wf, &target, why, quarantine_us, &list, &n);
        if (r == -ENOENT || r == -EINVAL)
                return target_error(&target, text);
        if (r < 0)
                return registry_error(rc, r, kind == REGISTRY_END_REVOKE ? "cannot revoke"
                                                                         : "cannot deassign");
        if (cli->json)
                r = cli_print_json(rsap_ended_to_json(kind == REGISTRY_END_REVOKE ? "revoke"
                                                                                  : "deassign",
                                                      list, n));
        else
                render_ended(cli, verb, list, n);
        rsap_assignment_list_free(list, n);
        return r ? EXIT_BAD_INPUT : EXIT_ANSWERED;
}

struct end_args {
        const char *why;
        int64_t quarantine_us;
};

/* --why TEXT, --quarantine DURATION */
static int end_option(const struct cli_command *self, int opt, void *data)
{
        struct end_args *a = data;

        if (opt != 'q')
                return registry_why_option(self, opt, &a->why);
        if (rsap_quarantine_parse(optarg, &a->quarantine_us) < 0)
                return cli_usage_error(self, "'%s' is not a duration (such as 30s, 10m, 2h, "
                                             "30d; 0s for none)",
                                       optarg);
        return -1;
}

int registry_end_command(struct cli *cli, int argc, char **argv, enum registry_end_kind kind)
{
        const struct cli_command *self =
                cli_find_command(kind == REGISTRY_END_REVOKE ? "revoke" : "deassign");
        struct registry_cli rc = { 0 };
        struct end_args a = { .quarantine_us = RSAP_DEFAULT_QUARANTINE_US };
        int r;

        r = registry_getopt(cli, self, &rc, argc, argv, end_option, &a);
        if (r >= 0)
                return r;
        if (optind != argc - 1)
                return cli_usage_error(self, optind == argc ? "which port, name or assignment:ID?"
                                                            : "one target at a time");
        if (kind == REGISTRY_END_REVOKE && (!a.why || strspn(a.why, " \t\n") == strlen(a.why)))
                return cli_usage_error(self, "say why: --why TEXT");
        return end(cli, &rc, argv[optind], kind, a.why, a.quarantine_us);
}

int cmd_deassign(struct cli *cli, int argc, char **argv)
{
        return registry_end_command(cli, argc, argv, REGISTRY_END_DEASSIGN);
}
