/* SPDX-License-Identifier: MIT */
/*
 * rsap audit: what listens here against the registries.  Exit status 1 when
 * it finds anything, for cron and CI.  --consistency checks the database
 * itself instead: its state re-derived from its events; --findings lists the
 * squatter findings rsapd recorded as listeners appeared (rsap/findings.h).
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <time.h>

#include <rsap/findings.h>

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
        bool consistency, full, findings;
        struct rsap_findings_query query;
        bool query_given; /* --open, --since or --port */
};

static int print_findings(struct cli *cli, const struct rsap_listen_finding *list, size_t n)
{
        json_t *array;

        if (!cli->json)
                return render_findings(cli, list, n) < 0 ? -EIO : 0;
        array = json_array();
        for (size_t i = 0; array && i < n; i++)
                json_array_append_new(array, rsap_listen_finding_to_json(&list[i]));
        return cli_print_json(json_pack("{s:s, s:o}", "kind", "findings", "findings", array));
}

static int findings(struct cli *cli, struct registry_cli *rc, const struct rsap_findings_query *q)
{
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        struct rsap_listen_finding *list = NULL;
        size_t n = 0;
        int r;

        r = registry_open_read(cli, rc, &store);
        if (r)
                return r;
        if (!store)
                return registry_no_match("no local registry at %s", rc->path);
        r = rsap_findings_list(store, q, &list, &n);
        if (r < 0)
                return registry_error(rc, r, "cannot read the findings");
        r = print_findings(cli, list, n);
        rsap_listen_findings_free(list, n);
        if (r)
                return EXIT_BAD_INPUT;
        return n ? EXIT_ANSWERED : registry_no_match("no finding recorded%s",
                                                     q->open_only ? " that is open" : "");
}

/* "2026-12-02T01:30:00Z" or "2026-12-02" (UTC). */
static int parse_since(const char *text, int64_t *us)
{
        struct tm tm = { 0 };
        const char *end = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm);

        if (!end || *end) {
                memset(&tm, 0, sizeof(tm));
                end = strptime(text, "%Y-%m-%d", &tm);
        }
        if (!end || *end)
                return -EINVAL;
        *us = (int64_t)timegm(&tm) * 1000000;
        return 0;
}

static int findings_option(const struct cli_command *self, int opt, struct audit_args *a)
{
        struct rsap_port_spec spec;

        a->query_given = true;
        if (opt == 'o') {
                a->query.open_only = true;
        } else if (opt == 's') {
                if (parse_since(optarg, &a->query.since_us) < 0)
                        return cli_usage_error(self, "--since takes a UTC time, "
                                               "YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DD");
        } else {
                if (rsap_port_spec_parse(optarg, &spec) < 0 || spec.low != spec.high)
                        return cli_usage_error(self, "--port takes one PORT or PORT/PROTO");
                a->query.port = spec.low;
                a->query.proto = spec.proto;
        }
        return -1;
}

/* --consistency, --full */
static int audit_option(const struct cli_command *self, int opt, void *data)
{
        struct audit_args *a = data;

        (void)self;
        if (opt == 'c')
                a->consistency = true;
        else if (opt == 'f')
                a->full = true;
        else if (opt == 'F')
                a->findings = true;
        else if (opt == 'o' || opt == 's' || opt == 'p')
                return findings_option(self, opt, a);
        else
                return -2;
        return -1;
}

int cmd_audit(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("audit");
        struct registry_cli rc = { 0 };
        struct audit_args a = { .query = { .port = -1 } };
        int r;

        r = registry_getopt(cli, self, &rc, argc, argv, audit_option, &a);
        if (r >= 0)
                return r;
        if (optind != argc)
                return cli_usage_error(self, "unexpected argument '%s'", argv[optind]);
        if (a.full && !a.consistency)
                return cli_usage_error(self, "--full is an option of --consistency");
        if (a.query_given && !a.findings)
                return cli_usage_error(self, "--open, --since and --port are options of --findings");
        if (a.findings && a.consistency)
                return cli_usage_error(self, "--findings and --consistency are two questions: "
                                       "ask one");
        if (a.findings)
                return findings(cli, &rc, &a.query);
        return a.consistency ? consistency(cli, &rc, a.full) : audit(cli, &rc);
}
