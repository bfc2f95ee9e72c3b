/* SPDX-License-Identifier: MIT */
/* rsap review ID: a request and every automatic check, changing nothing. */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include <rsap/json.h>

#include "builtin.h"
#include "registry.h"
#include "render.h"

static void field(const char *key, const char *value)
{
        if (value)
                printf("  %-12s %s\n", key, render_safe(value));
}

/* A multi-line field: each of its lines under the first, at the value's column. */
static void lines_field(const char *key, const char *value)
{
        if (!value)
                return;
        for (;;) {
                size_t len = strcspn(value, "\n");

                printf("  %-12s %s\n", key, render_safe_n(value, len));
                if (!value[len])
                        return;
                value += len + 1;
                key = "";
        }
}

static void render_request(const struct cli *cli, const struct rsap_request *r)
{
        char ports[64], requested[RSAP_TIME_SIZE + 64], when[RSAP_TIME_SIZE];

        registry_request_ports(r, ports, sizeof(ports));
        rsap_time_format(r->requested_us, when, sizeof(when));
        snprintf(requested, sizeof(requested), "%s by %s", when, r->requested_by);
        printf("%srequest %lld%s: %s on %s, %s\n", cli_bold(cli), (long long)r->id, cli_reset(cli),
               render_safe(r->service), ports, rsap_request_state_name(r->state));
        field("description", r->description);
        field("assignee", r->assignee);
        field("contact", r->contact);
        field("reference", r->reference);
        lines_field("note", r->note);
        field("requested", requested);
}

static void render_review(const struct cli *cli, const struct rsap_review *rv)
{
        long long id = (long long)rv->request.id;

        render_request(cli, &rv->request);
        printf("checks:\n");
        for (size_t i = 0; i < rv->n_checks; i++)
                registry_render_check(cli, &rv->checks[i]);
        if (rv->n_refused == 0 && rv->port >= 0)
                printf("result: approvable%s: rsap approve %lld\n",
                       rv->n_warnings ? " (mind the warnings)" : "", id);
        else
                printf("result: %zu check%s refuse%s; 'rsap approve %lld' would refuse it\n",
                       rv->n_refused, rv->n_refused == 1 ? "" : "s",
                       rv->n_refused == 1 ? "s" : "", id);
}

static int review(struct cli *cli, struct registry_cli *rc, int64_t id,
                  const struct rsap_review_options *options)
{
        _cleanup_(rsap_iana_freep) struct rsap_iana *iana = NULL;
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        _cleanup_(rsap_listen_list_freep) struct rsap_listen_list *listeners = NULL;
        struct rsap_host host;
        struct rsap_workflow wf;
        struct rsap_review rv;
        int r, status;

        r = registry_open_lookup(cli, rc, &iana, &store);
        if (r)
                return r;
        if (!store)
                return registry_no_match("no request %lld: %s holds no local registry yet",
                                         (long long)id, rc->path);
        registry_host(&host, &listeners, true);
        wf = (struct rsap_workflow){ store, iana, registry_actor(rc), &host };
        r = rsap_review(&wf, id, options, &rv);
        if (r == -ENOENT)
                return registry_no_match("no request %lld", (long long)id);
        if (r < 0)
                return registry_error(rc, r, "cannot review the request");
        status = rv.n_refused == 0 && rv.port >= 0 ? EXIT_ANSWERED : EXIT_REFUSED;
        if (cli->json)
                r = cli_print_json(rsap_review_to_json(&rv));
        else
                render_review(cli, &rv);
        rsap_review_clear(&rv);
        return r ? EXIT_BAD_INPUT : status;
}

int cmd_review(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("review");
        struct rsap_review_options review_options = { 0 };
        struct registry_cli rc = { 0 };
        int64_t id;
        int r;

        r = registry_getopt(cli, self, &rc, argc, argv, registry_review_option, &review_options);
        if (r >= 0)
                return r;
        r = registry_request_id_arg(self, argc, argv, &id);
        if (r >= 0)
                return r;
        return review(cli, &rc, id, &review_options);
}
