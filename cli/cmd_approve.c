/* SPDX-License-Identifier: MIT */
/* rsap approve ID: the checks again, and the assignment, in one transaction. */
#include <errno.h>
#include <getopt.h>

#include <rsap/json.h>

#include "builtin.h"
#include "registry.h"

static void render_approval(const struct cli *cli, const struct rsap_approval *a)
{
        const struct rsap_review *rv = &a->review;

        printf("approved request %lld: %s\n", (long long)rv->request.id, rv->request.service);
        for (size_t i = 0; i < a->n_assignments; i++)
                registry_render_assignment(cli, &a->assignments[i]);
        for (size_t i = 0; i < rv->n_checks; i++)
                if (rv->checks[i].verdict != RSAP_VERDICT_PASS)
                        registry_render_check(cli, &rv->checks[i]);
}

/* One line per refusing check: each says what to change. */
static void report_refusal(const struct rsap_approval *a)
{
        const struct rsap_review *rv = &a->review;

        for (size_t i = 0; i < rv->n_checks; i++)
                if (rv->checks[i].verdict == RSAP_VERDICT_REFUSED)
                        fprintf(stderr, "rsap: request %lld refused: %s\n",
                                (long long)rv->request.id, rv->checks[i].message);
}

static int approve(struct cli *cli, struct registry_cli *rc, int64_t id,
                   const struct rsap_review_options *options, const char *why)
{
        _cleanup_(rsap_iana_freep) struct rsap_iana *iana = NULL;
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        _cleanup_(rsap_listen_list_freep) struct rsap_listen_list *listeners = NULL;
        struct rsap_host host;
        struct rsap_workflow wf;
        struct rsap_approval a;
        int r, status = EXIT_ANSWERED;

        iana = cli_open_registry(cli);
        if (!iana)
                return EXIT_BAD_INPUT;
        store = registry_open_write(cli, rc);
        if (!store)
                return EXIT_BAD_INPUT;
        registry_host(&host, &listeners, true);
        wf = (struct rsap_workflow){ store, iana, registry_actor(rc), &host };
        r = rsap_approve(&wf, id, options, why, &a);
        if (r == -ENOENT)
                status = registry_no_match("no request %lld", (long long)id);
        else if (r == -EPERM || r == -EALREADY)
                status = EXIT_REFUSED;
        else if (r < 0)
                status = registry_error(rc, r, "cannot approve the request");
        if (status == EXIT_ANSWERED || status == EXIT_REFUSED) {
                if (cli->json && cli_print_json(rsap_approval_to_json(&a)))
                        status = EXIT_BAD_INPUT;
                else if (status == EXIT_REFUSED)
                        report_refusal(&a); /* with --json too: the answer's error says it */
                else if (!cli->json)
                        render_approval(cli, &a);
        }
        rsap_approval_clear(&a);
        return status;
}

struct approve_args {
        struct rsap_review_options review;
        const char *why;
};

static int approve_option(const struct cli_command *self, int opt, void *data)
{
        struct approve_args *a = data;

        if (opt == 'w') {
                a->why = optarg;
                return -1;
        }
        return registry_review_option(self, opt, &a->review);
}

int cmd_approve(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("approve");
        struct approve_args a = { 0 };
        struct registry_cli rc = { 0 };
        int64_t id;
        int r;

        r = registry_getopt(cli, self, &rc, argc, argv, approve_option, &a);
        if (r >= 0)
                return r;
        r = registry_request_id_arg(self, argc, argv, &id);
        if (r >= 0)
                return r;
        return approve(cli, &rc, id, &a.review, a.why);
}
