/* SPDX-License-Identifier: MIT */
/* rsap [explain] PORT[/PROTO] | NAME: the answer a person searching a port wants. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <string.h>

#include <rsap/answer.h>
#include <rsap/error.h>
#include <rsap/explain.h>
#include <rsap/json.h>
#include <rsap/listen.h>

#include "builtin.h"
#include "registry.h"
#include "render.h"

/* The local registry, when there is one; its errors end the lookup. */
struct local_source {
        struct registry_cli rc;
        struct rsap_store *store; /* NULL: there is no local registry */
};

/* What to show: --full (-v) gives every field of every record. */
static bool full;

static int explain_port(struct cli *cli, struct rsap_iana *reg,
                        const struct rsap_port_spec *spec, struct local_source *local)
{
        struct rsap_answer_sources src = {
                .iana = reg, .store = local->store, .listeners = true, .owners = true,
        };
        struct rsap_port_answer a;
        enum rsap_answer_part failed;
        int r;

        r = rsap_answer_port(&src, spec->low, spec->proto, &a, &failed);
        if (r < 0 && failed == RSAP_ANSWER_LOCAL)
                return registry_error(&local->rc, r, "cannot read the local registry");
        if (r < 0)
                return cli_error_code(r, "cannot explain port %u", spec->low);
        if (cli->json)
                r = cli_print_json(rsap_port_answer_to_json(reg, &a));
        else if (render_port_answer(cli, reg, &a, full) < 0)
                r = cli_error("out of memory");
        rsap_port_answer_clear(&a);
        return r ? EXIT_BAD_INPUT : EXIT_ANSWERED;
}

/* The words of the JSON answer's error (rsap/error.h), on stderr. */
static void report_no_service(const char *name, enum rsap_name_problem problem)
{
        char message[512];

        rsap_no_service_message(name, problem, message, sizeof(message));
        fprintf(stderr, "rsap: %s\n", message);
}

static int explain_name(struct cli *cli, struct rsap_iana *reg, const char *name,
                        struct local_source *local)
{
        struct rsap_name_answer a;
        enum rsap_answer_part failed;
        enum rsap_name_problem problem;
        bool found;
        int r, status;

        r = rsap_answer_name(&(struct rsap_answer_sources){ .iana = reg, .store = local->store },
                             name, &a, &failed);
        if (r < 0 && failed == RSAP_ANSWER_LOCAL)
                return registry_error(&local->rc, r, "cannot read the local registry");
        if (r == -EINVAL)
                return cli_error(*name ? "'%.40s...' is too long for a service name"
                                       : "a service name cannot be empty",
                                 name);
        if (r < 0)
                return cli_error_code(r, "cannot look up '%s'", name);
        found = a.n_ids > 0 || (a.local && a.local->n_entries > 0);
        if (!found && (status = cli_command_hint(cli, name)) >= 0) {
                rsap_name_answer_clear(&a); /* `rsap listnig`: a command, mistyped */
                return status;
        }
        problem = a.problem;
        if (!found && problem != RSAP_NAME_OK) {
                /* No record has it, and no service could: a usage error, in
                 * the words rsapd says it (rsap/error.h). */
                char message[512];

                rsap_bad_name_message(name, problem, message, sizeof(message));
                rsap_name_answer_clear(&a);
                return cli_error("%s", message);
        }
        status = found ? EXIT_ANSWERED : EXIT_NO_MATCH;
        if (cli->json)
                r = cli_print_json(rsap_name_answer_to_json(reg, &a));
        else if (found && render_name_answer(cli, reg, &a, full) < 0)
                r = cli_error("out of memory");
        if (!found)
                report_no_service(name, a.problem);
        rsap_name_answer_clear(&a);
        return r ? EXIT_BAD_INPUT : status;
}

/* `rsap 6000-6010` is `rsap list 6000-6010`: the same command answers. */
static int explain_range(struct cli *cli, const struct registry_cli *rc, char *range)
{
        static char list_name[] = "list", db_option[] = "--db";
        char *argv[5] = { list_name, range };
        int argc = 2;

        if (rc->db) {
                argv[1] = db_option;
                argv[2] = (char *)(uintptr_t)rc->db; /* one of our own arguments */
                argv[3] = range;
                argc = 4;
        }
        optind = 0; /* glibc's getopt starts afresh on the new argv */
        cli_set_argv(argv);
        return cmd_list(cli, argc, argv);
}

/* Says precisely what is wrong with text that looked like a port. */
static int port_error(const char *text, int err)
{
        char message[512]; /* the words rsapd's API says too (rsap/error.h) */

        rsap_port_error_message(text, err, message, sizeof(message));
        return cli_error("%s", message);
}

/* --full, -v */
static int full_option(const struct cli_command *self, int opt, void *data)
{
        if (opt != 'v')
                return -2;
        full = true;
        return -1;
}

int cmd_explain(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("explain");
        _cleanup_(rsap_iana_freep) struct rsap_iana *reg = NULL;
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        struct local_source local = { 0 };
        struct rsap_port_spec spec;
        char *what;
        int r, parsed;

        full = false;
        r = registry_getopt(cli, self, &local.rc, argc, argv, full_option, NULL);
        if (r >= 0)
                return r;
        if (optind != argc - 1)
                return cli_usage_error(self, optind == argc ? "which port or name?"
                                                            : "one port or name at a time");
        what = argv[optind];
        if (!*what)
                return cli_error("a service name cannot be empty");
        parsed = rsap_text_is_numeric(what) ? rsap_port_spec_parse(what, &spec) : -EINVAL;
        if (parsed == 0 && spec.low != spec.high)
                return explain_range(cli, &local.rc, what);
        r = registry_open_explain(cli, &local.rc, &reg, &store);
        if (r)
                return r;
        local.store = store;
        if (!rsap_text_is_numeric(what))
                return explain_name(cli, reg, what, &local);
        if (parsed == 0)
                return explain_port(cli, reg, &spec, &local);
        /* A few legacy names start with a digit ("914c/g"). */
        if (rsap_iana_find_name(reg, what, NULL, 0) > 0)
                return explain_name(cli, reg, what, &local);
        return port_error(what, parsed);
}
