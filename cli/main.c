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

/*
 * Each command's own options: getopt_long reads them (cli_getopt_options())
 * and --help prints them, one line each, so the two cannot disagree.  The
 * common options (--json, --db-dir, --help) follow every table.  The value
 * is what the command's option switch sees.  explain's table is mirrored in
 * cli/cmd_explain.c and update's lives in common.c (rsap-update links no
 * main.c); tests/docs/check_docs.sh holds them, the completion and the man
 * pages to this table.
 */
#define DB_OPTION(what)                                                                  \
        { "db", required_argument, 'B', "FILE", "the local registry's database " what }
#define AS_OPTION { "as", required_argument, 'A', "NAME", "who made the change, for its event" }
/* The commands that change the registry take --as; those that only read it, --db alone. */
#define REGISTRY_OPTIONS DB_OPTION("(default DIR/registry.db)"), AS_OPTION
#define REGISTRY_READ_OPTIONS DB_OPTION("(default DIR/registry.db)")
#define ALLOW_SYSTEM_OPTION                                                              \
        { "allow-system", no_argument, 'S', NULL, "let the check pass a System Port (0-1023)" }
#define OVER_IANA_OPTION                                                                 \
        { "over-iana", no_argument, 'I', NULL, "let the check pass a port IANA assigned" }
#define QUARANTINE_OPTION                                                                \
        { "quarantine", required_argument, 'q', "DURATION",                               \
          "how long the ports stay out of use (30d)" }
#define WHY_OPTION(what) { "why", required_argument, 'w', "TEXT", what }

static const struct cli_option explain_options[] = {
        { "full", no_argument, 'v', NULL, "every field of every record (-v for short)" },
        DB_OPTION("to show beside IANA's"),
        { 0 },
};
static const struct cli_option search_options[] = {
        { "limit", required_argument, 'n', "N", "show at most N results (default 20)" },
        DB_OPTION("to search too"),
        { 0 },
};
static const struct cli_option list_options[] = {
        { "assigned", no_argument, 'a', NULL, "the assigned ports only" },
        { "reserved", no_argument, 'r', NULL, "the reserved ports only" },
        { "unassigned", no_argument, 'u', NULL, "the unassigned ports only" },
        { "proto", required_argument, 'p', "P[,P]", "these transports only: tcp, udp, sctp, dccp" },
        DB_OPTION("to show beside IANA's"),
        { 0 },
};
static const struct cli_option no_options[] = { { 0 } };
static const struct cli_option export_options[] = {
        { "format", required_argument, 'f', "FORMAT",
          "services, csv or json; systemd, nft, firewalld or srv (the local registry's)" },
        { "output", required_argument, 'o', "FILE", "write to FILE instead of standard output" },
        { "local", no_argument, 'l', NULL, "the local registry's assignments instead of IANA's" },
        { "service", required_argument, 's', "NAME",
          "one service's assignments (required for systemd and firewalld)" },
        { "unit", required_argument, 'u', "UNIT", "systemd: the unit the drop-in is for" },
        { "domain", required_argument, 'm', "DOMAIN", "srv: the zone's domain (required)" },
        { "target", required_argument, 't', "HOST", "srv: the host the records point to (required)" },
        DB_OPTION("to export, with --local or a configuration format"),
        { 0 },
};
static const struct cli_option listening_options[] = {
        { "proto", required_argument, 'R', "P[,P]", "these transports only: tcp, udp, sctp, dccp" },
        { "tcp", no_argument, 't', NULL, "short for --proto tcp" },
        { "udp", no_argument, 'u', NULL, "short for --proto udp" },
        { "sctp", no_argument, 's', NULL, "short for --proto sctp" },
        { "dccp", no_argument, 'd', NULL, "short for --proto dccp" },
        { "port", required_argument, 'p', "N|A-B", "the sockets on this port or range only" },
        { "pid", required_argument, 'P', "PID", "the sockets this process holds" },
        { "user", required_argument, 'U', "USER", "the sockets this user (name or uid) created" },
        { "command", required_argument, 'c', "NAME",
          "the sockets of processes whose command name begins with NAME (as lsof -c)" },
        { "unregistered", no_argument, 'r', NULL, "the sockets on ports nobody registered" },
        { "no-process", no_argument, 'n', NULL, "do not look for the owning processes" },
        { "all-namespaces", no_argument, 'A', NULL,
          "the sockets of every network namespace on the host (also -A)" },
        { "netns", required_argument, 'N', "NAME|PID|PATH",
          "the sockets of one network namespace: an ip-netns name, a process's, or a file" },
        { "watch", no_argument, 'W', NULL,
          "print each socket that starts or stops listening, as it does, until interrupted" },
        { "interval", required_argument, 'I', "MS",
          "with --watch: look for new sockets every MS milliseconds (default 1000)" },
        { "container", required_argument, 'C', "NAME|ID",
          "the sockets of processes in this container (its name, or its id's first digits)" },
        DB_OPTION("to show beside IANA's"),
        { "at", required_argument, 'a', "TIME",
          "what rsapd recorded listening at TIME (UTC: 2026-12-01 03:00), not what listens now" },
        { "since", required_argument, 'S', "DURATION|TIME",
          "what rsapd recorded listening since then (1h: an hour ago)" },
        { "new", no_argument, 'w', NULL, "with --since: only the listeners that appeared since" },
        { 0 },
};
static const struct cli_option who_options[] = {
        { "proto", required_argument, 'R', "P[,P]", "these transports only: tcp, udp, sctp, dccp" },
        { "tcp", no_argument, 't', NULL, "short for --proto tcp" },
        { "udp", no_argument, 'u', NULL, "short for --proto udp" },
        { "sctp", no_argument, 's', NULL, "short for --proto sctp" },
        { "dccp", no_argument, 'd', NULL, "short for --proto dccp" },
        { "no-process", no_argument, 'n', NULL, "do not look for the owning processes" },
        { "all-namespaces", no_argument, 'A', NULL,
          "the sockets of every network namespace on the host (also -A)" },
        { "netns", required_argument, 'N', "NAME|PID|PATH",
          "the sockets of one network namespace: an ip-netns name, a process's, or a file" },
        { "container", required_argument, 'C', "NAME|ID",
          "the sockets of processes in this container (its name, or its id's first digits)" },
        DB_OPTION("to show beside IANA's"),
        { 0 },
};
static const struct cli_option request_options[] = {
        { "port", required_argument, 'p', "N", "the port asked for" },
        { "any", no_argument, 'y', NULL, "let the registry choose a free port of --range" },
        { "range", required_argument, 'r', "A-B",
          "with --any: where to choose (default 1024-49151)" },
        { "proto", required_argument, 'P', "P[,P]", "the transports: tcp, udp, sctp, dccp" },
        { "description", required_argument, 'd', "TEXT", "what the service is" },
        { "assignee", required_argument, 'a', "WHO", "who the port is for" },
        { "contact", required_argument, 'c', "WHO", "who answers for it" },
        { "reference", required_argument, 'R', "TEXT", "a document that describes the protocol" },
        { "note", required_argument, 'n', "TEXT", "anything else the reviewer should know" },
        ALLOW_SYSTEM_OPTION,
        OVER_IANA_OPTION,
        { "same-service", no_argument, 's', NULL, "NAME is IANA's service, here on another port" },
        REGISTRY_OPTIONS,
        { 0 },
};
static const struct cli_option review_options[] = {
        ALLOW_SYSTEM_OPTION,
        OVER_IANA_OPTION,
        REGISTRY_READ_OPTIONS,
        { 0 },
};
static const struct cli_option requests_options[] = {
        { "all", no_argument, 'a', NULL, "decided requests too, not only pending ones" },
        REGISTRY_READ_OPTIONS,
        { 0 },
};
static const struct cli_option approve_options[] = {
        ALLOW_SYSTEM_OPTION,
        OVER_IANA_OPTION,
        WHY_OPTION("why it is approved, for the record"),
        REGISTRY_OPTIONS,
        { 0 },
};
static const struct cli_option reject_options[] = {
        WHY_OPTION("why it is declined (required)"),
        REGISTRY_OPTIONS,
        { 0 },
};
static const struct cli_option deassign_options[] = {
        WHY_OPTION("why the ports are returned"),
        QUARANTINE_OPTION,
        REGISTRY_OPTIONS,
        { 0 },
};
static const struct cli_option revoke_options[] = {
        WHY_OPTION("why the ports are taken back (required)"),
        QUARANTINE_OPTION,
        REGISTRY_OPTIONS,
        { 0 },
};
static const struct cli_option transfer_options[] = {
        { "to", required_argument, 't', "WHO", "the new assignee (required)" },
        { "contact", required_argument, 'c', "WHO", "the new contact (by default it stays)" },
        WHY_OPTION("why it changes hands"),
        REGISTRY_OPTIONS,
        { 0 },
};
static const struct cli_option history_options[] = {
        { "listening", no_argument, 'L', NULL,
          "what rsapd saw listen on the port, from when to when, instead of its events" },
        REGISTRY_READ_OPTIONS,
        { 0 },
};
static const struct cli_option release_options[] = {
        REGISTRY_OPTIONS,
        { 0 },
};
static const struct cli_option pick_options[] = {
        { "range", required_argument, 'r', "A-B", "where to look (default 1024-49151)" },
        { "proto", required_argument, 'p', "P[,P]", "free on these transports (default tcp,udp)" },
        { "count", required_argument, 'n', "N", "propose N ports (default 1)" },
        { "allow-iana", no_argument, 'I', NULL, "propose ports IANA assigned or reserved too" },
        REGISTRY_READ_OPTIONS,
        { 0 },
};
static const struct cli_option lease_options[] = {
        { "range", required_argument, 'r', "A-B", "where to look (default 1024-49151)" },
        { "ttl", required_argument, 't', "DURATION", "how long the lease lives (default 10m)" },
        { "name", required_argument, 'n', "TEXT", "what the port is for" },
        { "pid", required_argument, 'p', "PID", "the process the lease dies with (0: none)" },
        REGISTRY_OPTIONS,
        { 0 },
};
static const struct cli_option kernel_reserve_options[] = {
        { "apply", no_argument, 'a', NULL, "write the merged list into the kernel's file" },
        { "file", required_argument, 'f', "PATH", "the file instead of ip_local_reserved_ports" },
        REGISTRY_READ_OPTIONS,
        { 0 },
};
static const struct cli_option audit_options[] = {
        { "consistency", no_argument, 'c', NULL, "check the database's history instead" },
        { "full", no_argument, 'f', NULL, "with --consistency: SQLite's integrity_check too" },
        { "findings", no_argument, 'F', NULL, "list the squatter findings rsapd recorded instead" },
        { "open", no_argument, 'o', NULL, "with --findings: only those not resolved" },
        { "since", required_argument, 's', "TIME", "with --findings: found at or after TIME (UTC)" },
        { "port", required_argument, 'p', "PORT[/PROTO]", "with --findings: on that port only" },
        REGISTRY_READ_OPTIONS,
        { 0 },
};
/* rsap db check's: --db, not --as (a check records no actor). */
static const struct cli_option db_options[] = {
        { "full", no_argument, 'f', NULL, "SQLite's integrity_check instead of quick_check" },
        REGISTRY_READ_OPTIONS,
        { 0 },
};
static const struct cli_option run_options[] = {
        { "as", required_argument, 's', "SERVICE", "the service whose TCP ports the command may bind" },
        { "also", required_argument, 'a', "PORT", "one more TCP port for this run (repeatable)" },
        { "allow-ephemeral", no_argument, 'e', NULL, "let it bind port 0 (an ephemeral port)" },
        { "best-effort", no_argument, 'b', NULL, "without Landlock's network rules: warn, run unrestricted" },
        { "dry-run", no_argument, 'n', NULL, "print the ports it would allow, run nothing" },
        REGISTRY_READ_OPTIONS,
        { 0 },
};
static const struct cli_option import_options[] = {
        { "skip-conflicts", no_argument, 's', NULL, "import the rest when some conflict" },
        REGISTRY_OPTIONS,
        { 0 },
};

static const struct cli_option check_options[] = {
        { "service", required_argument, 's', "NAME",
          "the service the files' ports are for, instead of their own names" },
        { "env-file", required_argument, 'e', "FILE",
          "Compose variables from FILE instead of the .env beside each file" },
        { "ignore", required_argument, 'i', "KIND[,KIND]",
          "leave out findings of these kinds: listening, local, iana, ephemeral, browser, "
          "duplicate" },
        { "request", no_argument, 'r', NULL, "file a request for each port with no finding" },
        { "assignee", required_argument, 'a', "WHO", "with --request: who the ports are for" },
        { "contact", required_argument, 'c', "WHO", "with --request: who answers for them" },
        { "description", required_argument, 'd', "TEXT",
          "with --request: what the service is (default: the file it came from)" },
        REGISTRY_OPTIONS,
        { 0 },
};

static const struct cli_command commands[] = {
        { "explain", cmd_explain,
          "rsap [explain] [--full|-v] [--db FILE] [--json] PORT[/PROTO] | NAME | A-B",
          "Explain a port or a service name from IANA's registry (the default command).",
          explain_options, "v" },
        { "search", cmd_search, "rsap search [--limit N] [--db FILE] [--json] TEXT...",
          "Find services by name, description or people, best matches first.", search_options, NULL },
        { "list", cmd_list,
          "rsap list [--assigned] [--reserved] [--unassigned] [--proto P[,P]] [--db FILE] [--json] A-B",
          "List every port of a range with its status and service.", list_options, NULL },
        { "ranges", cmd_ranges, "rsap ranges [--json]",
          "The three port ranges of RFC 6335 with live counts per protocol.", no_options, NULL },
        { "status", cmd_status, "rsap status [--json]",
          "Which registry data is in use: its source, release and record count.", no_options, NULL },
        { "update", cmd_update_exec,
          "rsap update [--from URL|FILE] [--timeout SECONDS] [--allow-any-date] [--json]",
          "Fetch IANA's whole registry, check it, and cache it for lookups.", cli_update_options, NULL },
        { "export", cmd_export, "rsap export [--local [--db FILE]] --format services|csv|json | --json [--output FILE]"
          " | --format systemd|nft|firewalld|srv [--service NAME] [--unit UNIT] [--domain DOMAIN --target HOST]",
          "Write the registry in services(5), IANA CSV or JSON form; the local one as configurations too.",
          export_options, NULL },
        { "listening", cmd_listening,
          "rsap listening [--proto P[,P]] [--tcp] [--udp] [--sctp] [--dccp] [--port N|A-B] "
          "[--pid PID] [--user USER] [--command NAME] [--unregistered] [--no-process] "
          "[-A|--all-namespaces|--netns NAME|PID|PATH] [--container NAME|ID] "
          "[--watch [--interval MS]] [--at TIME|--since DURATION|TIME [--new]] [--db FILE] [--json]",
          "List the sockets listening on this host, their owners and services.",
          listening_options, "A" },
        { "who", cmd_who,
          "rsap who [--proto P[,P]] [--tcp] [--udp] [--sctp] [--dccp] [--no-process] "
          "[-A|--all-namespaces|--netns NAME|PID|PATH] [--container NAME|ID] [--db FILE] [--json] "
          "PORT[/PROTO]",
          "Name what is bound to a port on this host; exit status 1 when nothing is.",
          who_options, "A" },
        { "request", cmd_request,
          "rsap request NAME --port N | --any [--range A-B] --proto P[,P] --description TEXT "
          "--assignee WHO --contact WHO [--reference TEXT] [--note TEXT] [--allow-system] "
          "[--over-iana] [--same-service] [--db PATH] [--as NAME] [--json]",
          "File a request for a port in the local registry; prints its id.", request_options, NULL },
        { "review", cmd_review,
          "rsap review [--allow-system] [--over-iana] [--db PATH] [--json] ID",
          "Show a request and every automatic check; exit status 3 when one refuses.",
          review_options, NULL },
        { "requests", cmd_requests, "rsap requests [--all] [--db PATH] [--json]",
          "List the pending requests of the local registry.", requests_options, NULL },
        { "approve", cmd_approve,
          "rsap approve [--allow-system] [--over-iana] [--why TEXT] [--db PATH] [--as NAME] "
          "[--json] ID",
          "Assign a request's port, re-running its checks in the same transaction.",
          approve_options, NULL },
        { "reject", cmd_reject, "rsap reject --why TEXT [--db PATH] [--as NAME] [--json] ID",
          "Decline a pending request, and record why.", reject_options, NULL },
        { "deassign", cmd_deassign,
          "rsap deassign [--why TEXT] [--quarantine DURATION] [--db PATH] [--as NAME] [--json] "
          "PORT[/PROTO] | NAME | assignment:ID",
          "Return assigned ports (RFC 6335 8.2); they stay quarantined for 30 days.",
          deassign_options, NULL },
        { "transfer", cmd_transfer,
          "rsap transfer --to WHO [--contact WHO] [--why TEXT] [--db PATH] [--as NAME] [--json] "
          "PORT[/PROTO] | NAME | assignment:ID",
          "Hand a service and its assignments to a new assignee (RFC 6335 8.5).",
          transfer_options, NULL },
        { "revoke", cmd_revoke,
          "rsap revoke --why TEXT [--quarantine DURATION] [--db PATH] [--as NAME] [--json] "
          "PORT[/PROTO] | NAME | assignment:ID",
          "Take assignments back (RFC 6335 8.4); they stay quarantined for 30 days.",
          revoke_options, NULL },
        { "history", cmd_history,
          "rsap history [--listening] [--db PATH] [--json] PORT[/PROTO] | NAME | request:ID "
          "| assignment:ID | lease:ID",
          "Every event the local registry recorded for a port, a name or a record.",
          history_options, NULL },
        { "pick", cmd_pick,
          "rsap pick [--range A-B] [--proto P[,P]] [--count N] [--allow-iana] [--db PATH] "
          "[--json]",
          "Propose free port numbers: unassigned, unleased, not listening, not ephemeral.",
          pick_options, NULL },
        { "lease", cmd_lease,
          "rsap lease [--range A-B] [--ttl DURATION] [--name TEXT] [--pid PID] [--db PATH] "
          "[--as NAME] [--json]",
          "Atomically hand out a free port for a test run and print it.", lease_options, NULL },
        { "release", cmd_release, "rsap release [--db PATH] [--as NAME] [--json] PORT | lease:ID",
          "End a lease before its TTL does.", release_options, NULL },
        { "kernel-reserve", cmd_kernel_reserve,
          "rsap kernel-reserve [--apply] [--file PATH] [--db PATH] [--json]",
          "Show, and with --apply write, the assigned ports into ip_local_reserved_ports.",
          kernel_reserve_options, NULL },
        { "audit", cmd_audit, "rsap audit [--consistency [--full] | --findings [--open] [--since TIME] [--port PORT[/PROTO]]] [--db PATH] [--json]",
          "Compare what listens here with the registries; exit status 1 on findings.",
          audit_options, NULL },
        { "db", cmd_db, "rsap db check [--full] [--db PATH] [--json]",
          "Check the registry database: sound pages, and a state its events explain.",
          db_options, NULL },
        { "import", cmd_import,
          "rsap import [--skip-conflicts] [--db PATH] [--as NAME] [--json] FILE",
          "Merge another host's local registry export; conflicts are never overwritten.",
          import_options, NULL },
        { "check", cmd_check,
          "rsap check [--service NAME] [--env-file FILE] [--ignore KIND[,KIND]] "
          "[--request --assignee WHO --contact WHO [--description TEXT]] [--db PATH] "
          "[--as NAME] [--json] FILE...",
          "Check the ports of Compose files and Kubernetes manifests against this host.",
          check_options, NULL },
        { "run", cmd_run,
          "rsap run --as SERVICE [--also PORT]... [--allow-ephemeral] [--best-effort] "
          "[--dry-run [--json]] [--db PATH] -- COMMAND [ARG]...",
          "Run a command that may bind only its service's TCP ports (Landlock; UDP is free).",
          run_options, NULL },
        { "help", cmd_help, "rsap help [--json] [COMMAND]",
          "Show the commands, or one command's usage.", no_options, NULL },
        { "version", cmd_version, "rsap version [--json]", "Show rsap's version.", no_options, NULL },
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
                json_array_append_new(array, json_pack("{s:s, s:s, s:s, s:o}", "name",
                                                       list[i].name, "usage", list[i].usage,
                                                       "summary", list[i].summary, "options",
                                                       cli_options_to_json(&list[i])));
        return cli_print_json(json_pack("{s:s, s:o}", "kind", "help", "commands", array))
                       ? EXIT_BAD_INPUT
                       : EXIT_ANSWERED;
}

int cmd_help(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("help");
        const struct cli_command *cmd;
        int r;

        /* The common options are accepted, and mean nothing here. */
        r = cli_only_common_options(cli, self, argc, argv);
        if (r >= 0)
                return r;
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

/* How many words are neither options nor the value of --db or --db-dir. */
static int operands(int argc, char **argv)
{
        int n = 0;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--db") == 0 || strcmp(argv[i], "--db-dir") == 0)
                        i++;
                else if (argv[i][0] != '-')
                        n++;
        }
        return n;
}

int main(int argc, char **argv)
{
        struct cli cli = { .argv0 = "rsap", .color = want_color() };
        const struct cli_command *cmd;
        static char explain_name[] = "explain";

        move_global_options(argc, argv);
        cli_scan_json(argc, argv);
        if (argc < 2)
                return cmd_help(&cli, 1, argv);
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
                return cmd_help(&cli, 1, argv);
        if (strcmp(argv[1], "--version") == 0)
                return cmd_version(&cli, 1, argv);
        cmd = cli_find_command(argv[1]);
        if (cmd)
                return run(&cli, cmd, argc - 1, argv + 1);
        /* `rsap serach remote desktop`: explain takes one operand, so a near
         * miss of a command followed by more is a command mistyped. */
        if (operands(argc, argv) > 1 && cli_suggest_command(argv[1]))
                return cli_error("no command '%s': did you mean '%s'?", argv[1],
                                 cli_suggest_command(argv[1]));
        /* Anything else is a port or a name to explain: `rsap 1647`. */
        argv[0] = explain_name;
        cli.bare_word = true;
        return run(&cli, cli_find_command("explain"), argc, argv);
}
