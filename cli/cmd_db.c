/* SPDX-License-Identifier: MIT */
/*
 * rsap db ACTION: the registry database itself, as opposed to what it
 * records.  One action so far, check: is the file sound (SQLite's
 * quick_check, or integrity_check with --full) and is its state what its
 * events say.  Exit status 0 clean, 1 problems found, 2 the check could not
 * run.  Actions that set a database up (init, migrate for another engine)
 * belong in the same table.
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include <rsap/json.h>

#include "builtin.h"
#include "registry.h"

struct db_check_args {
        bool full;
};

static int db_check_option(const struct cli_command *self, int opt, void *data)
{
        struct db_check_args *a = data;

        (void)self;
        if (opt != 'f')
                return -2;
        a->full = true;
        return -1;
}

static const char *level_name(enum rsap_store_check_level level)
{
        return level == RSAP_STORE_CHECK_FULL ? "full" : "consistency";
}

/* A file SQLite cannot open as a database: one problem, found before any check. */
static void unreadable_report(struct rsap_store_check_report *report)
{
        memset(report, 0, sizeof(*report));
        report->events = -1;
        report->n_problems = 1;
        snprintf(report->problems[0], sizeof(report->problems[0]),
                 "the file is not a usable SQLite database (corrupt, truncated or not SQLite)");
}

static int print_report(const struct cli *cli, const struct registry_cli *rc,
                        enum rsap_store_check_level level,
                        const struct rsap_store_check_report *report)
{
        size_t kept = report->n_problems < RSAP_STORE_CHECK_MAX_PROBLEMS
                              ? report->n_problems
                              : RSAP_STORE_CHECK_MAX_PROBLEMS;
        json_t *found;

        if (cli->json) {
                found = json_array();
                for (size_t i = 0; found && i < kept; i++)
                        json_array_append_new(found, json_string(report->problems[i]));
                return cli_print_json(json_pack(
                        "{s:s, s:s, s:s, s:b, s:o, s:I, s:o}", "kind", "db-check", "path",
                        rc->path, "level", level_name(level), "clean", report->n_problems == 0,
                        "events",
                        report->events >= 0 ? json_integer((json_int_t)report->events)
                                            : json_null(),
                        "problems", (json_int_t)report->n_problems, "found", found));
        }
        if (report->n_problems == 0) {
                printf("clean: %s, %s check, %lld events and the state they describe\n",
                       rc->path, level == RSAP_STORE_CHECK_FULL ? "integrity" : "quick",
                       (long long)report->events);
                return 0;
        }
        for (size_t i = 0; i < kept; i++)
                printf("%sproblem%s  %s\n", cli_yellow(cli), cli_reset(cli), report->problems[i]);
        if (report->n_problems > kept)
                printf("%sproblem%s  ... and %zu more\n", cli_yellow(cli), cli_reset(cli),
                       report->n_problems - kept);
        return 0;
}

static int db_check(struct cli *cli, const struct cli_command *self, int argc, char **argv)
{
        /* db_options in main.c: --full and --db, without --as (a check records no actor). */
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        struct rsap_store_check_report report;
        struct db_check_args a = { 0 };
        struct registry_cli rc = { 0 };
        enum rsap_store_check_level level;
        int r;

        r = registry_getopt(cli, self, &rc, argc, argv, db_check_option, &a);
        if (r >= 0)
                return r;
        if (optind != argc)
                return cli_usage_error(self, "unexpected argument '%s'", argv[optind]);
        if (!registry_path(cli, &rc))
                return EXIT_BAD_INPUT;
        level = a.full ? RSAP_STORE_CHECK_FULL : RSAP_STORE_CHECK_CONSISTENCY;
        r = rsap_store_open(rc.path, RSAP_STORE_READ, 0, &store);
        if (r == -ENOENT)
                return cli_error("no registry at %s: nothing to check", rc.path);
        if (r == -EBADMSG)
                unreadable_report(&report);
        else if (r < 0)
                return registry_error(&rc, r, "cannot check the registry");
        else if ((r = rsap_store_check_level(store, level, &report)) < 0)
                return registry_error(&rc, r, "cannot check the registry");
        if (print_report(cli, &rc, level, &report) < 0)
                return EXIT_BAD_INPUT;
        return report.n_problems ? EXIT_NO_MATCH : EXIT_ANSWERED;
}

static const struct {
        const char *name;
        int (*run)(struct cli *cli, const struct cli_command *self, int argc, char **argv);
} actions[] = {
        { "check", db_check },
};

/* How many words an option before the action spans (main moves the global
 * ones there: `rsap --json db check`); 0 for the action itself. */
static int option_words(const char *arg)
{
        if (arg[0] != '-')
                return 0;
        return strcmp(arg, "--db") == 0 || strcmp(arg, "--db-dir") == 0 ? 2 : 1;
}

int cmd_db(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("db");
        int at = 1;
        char *action;

        while (at < argc && option_words(argv[at]) > 0) {
                if (strcmp(argv[at], "--help") == 0 || strcmp(argv[at], "-h") == 0)
                        return cli_common_option(cli, self, 'h');
                at += option_words(argv[at]);
        }
        if (at >= argc)
                return cli_usage_error(self, "say what to do with the database: check");
        /* The action becomes argv[0] of its own options, the ones before it included. */
        action = argv[at];
        memmove(&argv[2], &argv[1], (size_t)(at - 1) * sizeof(*argv));
        argv[1] = action;
        for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
                if (strcmp(action, actions[i].name) == 0) {
                        cli_set_argv(argv + 1);
                        optind = 1;
                        return actions[i].run(cli, self, argc - 1, argv + 1);
                }
        }
        return cli_usage_error(self, "'%s' is not something rsap db does (check)", action);
}
