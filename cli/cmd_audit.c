/* SPDX-License-Identifier: MIT */
/*
 * rsap audit: what listens here against the registries.  Exit status 1 when
 * it finds anything, for cron and CI.  --consistency checks the database
 * itself instead: its state re-derived from its events.
 */
#include <errno.h>
#include <getopt.h>

#include <rsap/json.h>

#include "builtin.h"
#include "registry.h"
#include "render.h"

static void render_audit(const struct cli *cli, const struct rsap_audit *a)
{
        for (size_t i = 0; i < a->n_findings; i++)
                printf("%s%-14s%s %s\n", cli_yellow(cli),
                       rsap_finding_kind_name(a->findings[i].kind), cli_reset(cli),
                       render_safe(a->findings[i].message));
        if (a->n_findings == 0)
                printf("clean: %zu listening port%s, %zu local assignment%s, nothing to report\n",
                       a->n_listeners, a->n_listeners == 1 ? "" : "s", a->n_assignments,
                       a->n_assignments == 1 ? "" : "s");
}

static int audit(struct cli *cli, struct registry_cli *rc)
{
        _cleanup_(rsap_iana_freep) struct rsap_iana *iana = NULL;
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        _cleanup_(rsap_listen_list_freep) struct rsap_listen_list *listeners = NULL;
        struct rsap_listen_filter filter;
        struct rsap_host host;
        struct rsap_workflow wf;
        struct rsap_audit a;
        int r;

        r = registry_open_lookup(cli, rc, &iana, &store);
        if (r)
                return r;
        registry_host(&host, NULL, false);
        rsap_listen_filter_init(&filter);
        r = rsap_listen_collect(&filter, &listeners);
        if (r < 0)
                return cli_error_code(r, "cannot list the sockets listening here");
        host.listeners = listeners;
        wf = (struct rsap_workflow){ store, iana, NULL, &host };
        r = rsap_audit(&wf, &a);
        if (r < 0)
                return registry_error(rc, r, "cannot audit");
        if (cli->json)
                r = cli_print_json(rsap_audit_to_json(&a));
        else
                render_audit(cli, &a);
        r = r ? EXIT_BAD_INPUT : a.n_findings ? EXIT_NO_MATCH : EXIT_ANSWERED;
        rsap_audit_clear(&a);
        return r;
}

static int consistency(struct cli *cli, struct registry_cli *rc, bool full)
{
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        struct rsap_store_check_report report;
        json_t *problems;
        int r;

        r = registry_open_read(cli, rc, &store);
        if (r)
                return r;
        if (!store)
                return registry_no_match("no local registry at %s", rc->path);
        r = full ? rsap_store_check_full(store, &report) : rsap_store_check(store, &report);
        if (r < 0)
                return registry_error(rc, r, "cannot check the registry");
        if (cli->json) {
                problems = json_array();
                for (size_t i = 0; problems && i < report.n_problems &&
                                   i < RSAP_STORE_CHECK_MAX_PROBLEMS;
                     i++)
                        json_array_append_new(problems, json_string(report.problems[i]));
                if (cli_print_json(json_pack("{s:s, s:s, s:b, s:I, s:I, s:o}", "kind",
                                             "consistency", "level",
                                             full ? "full" : "consistency",
                                             "consistent", report.n_problems == 0, "events",
                                             (json_int_t)report.events, "problems",
                                             (json_int_t)report.n_problems, "found", problems)))
                        return EXIT_BAD_INPUT;
        } else if (report.n_problems == 0) {
                printf("consistent: %lld events, and the state they describe\n",
                       (long long)report.events);
        } else {
                for (size_t i = 0; i < report.n_problems && i < RSAP_STORE_CHECK_MAX_PROBLEMS; i++)
                        printf("inconsistent: %s\n", render_safe(report.problems[i]));
        }
        return report.n_problems ? EXIT_NO_MATCH : EXIT_ANSWERED;
}

struct audit_args {
        bool consistency, full;
};

/* --consistency, --full */
static int audit_option(const struct cli_command *self, int opt, void *data)
{
        struct audit_args *a = data;

        (void)self;
        if (opt == 'c')
                a->consistency = true;
        else if (opt == 'f')
                a->full = true;
        else
                return -2;
        return -1;
}

int cmd_audit(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("audit");
        struct registry_cli rc = { 0 };
        struct audit_args a = { 0 };
        int r;

        r = registry_getopt(cli, self, &rc, argc, argv, audit_option, &a);
        if (r >= 0)
                return r;
        if (optind != argc)
                return cli_usage_error(self, "unexpected argument '%s'", argv[optind]);
        if (a.full && !a.consistency)
                return cli_usage_error(self, "--full is an option of --consistency");
        return a.consistency ? consistency(cli, &rc, a.full) : audit(cli, &rc);
}
