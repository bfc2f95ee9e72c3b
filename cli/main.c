/* SPDX-License-Identifier: MIT */
/*
 * rsap: the command line.  This file holds the one table of subcommands that
 * both dispatch and `rsap help` read; each subcommand lives in cli/cmd_*.c.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "suggest.h"

static const struct cli_command commands[] = {
        { "explain", cmd_explain, "rsap [explain] [--db FILE] [--json] PORT[/PROTO] | NAME",
          "Explain a port or a service name from IANA's registry (the default command)." },
        { "search", cmd_search, "rsap search [--limit N] [--db FILE] [--json] TEXT...",
          "Find services by name, description or people, best matches first." },
        { "list", cmd_list,
          "rsap list [--assigned] [--reserved] [--unassigned] [--proto P[,P]] [--db FILE] [--json] A-B",
          "List every port of a range with its status and service." },
        { "ranges", cmd_ranges, "rsap ranges [--json]",
          "The three port ranges of RFC 6335 with live counts per protocol." },
        { "status", cmd_status, "rsap status [--json]",
          "Which registry data is in use: its source, release and record count." },
        { "update", cmd_update_exec, "rsap update [--from URL|FILE] [--json]",
          "Fetch IANA's whole registry, check it, and cache it for lookups." },
        { "export", cmd_export, "rsap export [--local [--db FILE]] --format services|csv|json | --json [--output FILE]",
          "Write the registry in services(5), IANA CSV or JSON form." },
        { "listening", cmd_listening,
          "rsap listening [--proto P[,P]] [--tcp] [--udp] [--sctp] [--dccp] [--port N|A-B] "
          "[--pid PID] [--user USER] [--command NAME] [--unregistered] [--no-process] "
          "[--db FILE] [--json]",
          "List the sockets listening on this host, their owners and services." },
        { "who", cmd_who, "rsap who [--proto P[,P]] [--tcp] [--udp] [--sctp] [--dccp] [--no-process] [--db FILE] "
          "[--json] PORT[/PROTO]",
          "Name what is bound to a port on this host; exit status 1 when nothing is." },
        { "request", cmd_request,
          "rsap request NAME --port N | --any [--range A-B] --proto P[,P] --description TEXT "
          "--assignee WHO --contact WHO [--reference TEXT] [--note TEXT] [--allow-system] "
          "[--over-iana] [--same-service] [--db PATH] [--as NAME] [--json]",
          "File a request for a port in the local registry; prints its id." },
        { "review", cmd_review,
          "rsap review [--allow-system] [--over-iana] [--db PATH] [--json] ID",
          "Show a request and every automatic check; exit status 3 when one refuses." },
        { "requests", cmd_requests, "rsap requests [--all] [--db PATH] [--json]",
          "List the pending requests of the local registry." },
        { "approve", cmd_approve,
          "rsap approve [--allow-system] [--over-iana] [--why TEXT] [--db PATH] [--as NAME] "
          "[--json] ID",
          "Assign a request's port, re-running its checks in the same transaction." },
        { "reject", cmd_reject, "rsap reject --why TEXT [--db PATH] [--as NAME] [--json] ID",
          "Decline a pending request, and record why." },
        { "deassign", cmd_deassign,
          "rsap deassign [--why TEXT] [--quarantine DURATION] [--db PATH] [--as NAME] [--json] "
          "PORT[/PROTO] | NAME | assignment:ID",
          "Return assigned ports (RFC 6335 8.2); they stay quarantined for 30 days." },
        { "transfer", cmd_transfer,
          "rsap transfer --to WHO [--contact WHO] [--why TEXT] [--db PATH] [--as NAME] [--json] "
          "PORT[/PROTO] | NAME | assignment:ID",
          "Hand a service and its assignments to a new assignee (RFC 6335 8.5)." },
        { "revoke", cmd_revoke,
          "rsap revoke --why TEXT [--quarantine DURATION] [--db PATH] [--as NAME] [--json] "
          "PORT[/PROTO] | NAME | assignment:ID",
          "Take assignments back (RFC 6335 8.4); they stay quarantined for 30 days." },
        { "history", cmd_history,
          "rsap history [--db PATH] [--json] PORT[/PROTO] | NAME | request:ID | assignment:ID "
          "| lease:ID",
          "Every event the local registry recorded for a port, a name or a record." },
        { "pick", cmd_pick,
          "rsap pick [--range A-B] [--proto P[,P]] [--count N] [--allow-iana] [--db PATH] "
          "[--json]",
          "Propose free port numbers: unassigned, unleased, not listening, not ephemeral." },
        { "lease", cmd_lease,
          "rsap lease [--range A-B] [--ttl DURATION] [--name TEXT] [--pid PID] [--db PATH] "
          "[--as NAME] [--json]",
          "Atomically hand out a free port for a test run and print it." },
        { "release", cmd_release, "rsap release [--db PATH] [--as NAME] [--json] PORT | lease:ID",
          "End a lease before its TTL does." },
        { "kernel-reserve", cmd_kernel_reserve,
          "rsap kernel-reserve [--apply] [--file PATH] [--db PATH] [--json]",
          "Show, and with --apply write, the assigned ports into ip_local_reserved_ports." },
        { "audit", cmd_audit, "rsap audit [--consistency] [--db PATH] [--json]",
          "Compare what listens here with the registries; exit status 1 on findings." },
        { "import", cmd_import,
          "rsap import [--skip-conflicts] [--db PATH] [--as NAME] [--json] FILE",
          "Merge another host's local registry export; conflicts are never overwritten." },
        { "help", cmd_help, "rsap help [--json] [COMMAND]",
          "Show the commands, or one command's usage." },
        { "version", cmd_version, "rsap version [--json]", "Show rsap's version." },
};

const char *cli_suggest_command(const char *word)
{
        const char *names[sizeof(commands) / sizeof(commands[0])];

        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                names[i] = commands[i].name;
        return suggest_nearest(word, names, sizeof(names) / sizeof(names[0]));
}

int cli_command_hint(struct cli *cli, const char *word)
{
        const char *near = cli->bare_word ? cli_suggest_command(word) : NULL;

        if (!near)
                return -1;
        return cli_error("no command or service named '%s': did you mean '%s'?", word, near);
}

const struct cli_command *cli_find_command(const char *name)
{
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (strcmp(commands[i].name, name) == 0)
                        return &commands[i];
        return NULL;
}

/* {"kind": "help", "commands": [{"name", "usage", "summary"}, ...]} */
static int print_help_json(const struct cli_command *list, size_t n)
{
        json_t *array = json_array();

        for (size_t i = 0; array && i < n; i++)
                json_array_append_new(array, json_pack("{s:s, s:s, s:s}", "name", list[i].name,
                                                       "usage", list[i].usage, "summary",
                                                       list[i].summary));
        return cli_print_json(json_pack("{s:s, s:o}", "kind", "help", "commands", array))
                       ? EXIT_BAD_INPUT
                       : EXIT_ANSWERED;
}

int cmd_help(struct cli *cli, int argc, char **argv)
{
        static const struct option options[] = { CLI_COMMON_LONG_OPTIONS, { 0 } };
        const struct cli_command *self = cli_find_command("help");
        const struct cli_command *cmd;
        int opt, r;

        /* The common options are accepted, and mean nothing here. */
        optind = 1;
        while (argc > 1 && (opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                r = cli_common_option(cli, self, opt);
                if (r >= 0)
                        return r;
        }
        argc -= optind - 1;
        argv += optind - 1;
        if (argc > 2)
                return cli_usage_error(self, "too many arguments");
        if (argc == 2) {
                cmd = cli_find_command(argv[1]);
                if (!cmd && cli_suggest_command(argv[1]))
                        return cli_error("no command '%s': did you mean '%s'?", argv[1],
                                         cli_suggest_command(argv[1]));
                if (!cmd)
                        return cli_error("no command '%s' (see 'rsap help')", argv[1]);
                if (cli->json)
                        return print_help_json(cmd, 1);
                cli_print_help(cmd);
                return EXIT_ANSWERED;
        }
        if (cli->json)
                return print_help_json(commands, sizeof(commands) / sizeof(commands[0]));
        printf("usage: rsap [COMMAND] [OPTIONS] [ARGS]\n\n"
               "Explain a port or a service name, see what listens on this host,\n"
               "and keep IANA's registry at hand.\n\n");
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                printf("  %-14s %s\n", commands[i].name, commands[i].summary);
        printf("\nThe commands take --json, --db-dir DIR and --help, before or after\n"
               "the command's name. See rsap(1) and rsap-COMMAND(1).\n");
        return EXIT_ANSWERED;
}

static bool want_color(void)
{
        const char *no_color = getenv("NO_COLOR");
        const char *term = getenv("TERM");

        if (no_color && *no_color)
                return false;
        if (term && strcmp(term, "dumb") == 0)
                return false;
        return isatty(STDOUT_FILENO);
}

/* Runs cmd with argv[0] set to the command's name. */
static int run(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
        cli_set_argv(argv);
        return cmd->run(cli, argc, argv);
}

/* Options every command takes, and how many words each spans. */
static int global_option_words(const char *arg)
{
        static const char *const with_value[] = { "--db-dir", "--db" };

        if (strcmp(arg, "--json") == 0 || strncmp(arg, "--db-dir=", 9) == 0 ||
            strncmp(arg, "--db=", 5) == 0)
                return 1;
        for (size_t i = 0; i < sizeof(with_value) / sizeof(with_value[0]); i++)
                if (strcmp(arg, with_value[i]) == 0)
                        return 2;
        return 0;
}

/*
 * `rsap --db-dir D update` means `rsap update --db-dir D`: moves the global
 * options found before the command word to just after it, so that every
 * command (rsap-update too, which is another program) parses them itself.
 */
static void move_global_options(int argc, char **argv)
{
        int end = 1, words;

        while (end < argc && (words = global_option_words(argv[end])) > 0 && end + words <= argc)
                end += words;
        if (end == 1 || end >= argc || !cli_find_command(argv[end]))
                return; /* `rsap --json 1647` needs no move: explain parses it */
        char *command = argv[end];

        memmove(argv + 2, argv + 1, (size_t)(end - 1) * sizeof(*argv));
        argv[1] = command;
}

int main(int argc, char **argv)
{
        struct cli cli = { .argv0 = "rsap", .color = want_color() };
        const struct cli_command *cmd;
        static char explain_name[] = "explain";

        move_global_options(argc, argv);
        /* An error found before getopt reaches --json is still told in JSON. */
        for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
                if (strcmp(argv[i], "--json") == 0)
                        cli_set_json_errors(true);
        if (argc < 2)
                return cmd_help(&cli, 1, argv);
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
                return cmd_help(&cli, 1, argv);
        if (strcmp(argv[1], "--version") == 0)
                return cmd_version(&cli, 1, argv);
        cmd = cli_find_command(argv[1]);
        if (cmd)
                return run(&cli, cmd, argc - 1, argv + 1);
        /* Anything else is a port or a name to explain: `rsap 1647`. */
        argv[0] = explain_name;
        cli.bare_word = true;
        return run(&cli, cli_find_command("explain"), argc, argv);
}
