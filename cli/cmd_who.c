/* SPDX-License-Identifier: MIT */
/*
 * rsap who PORT[/PROTO]: what is bound to a port on this host.  It is `rsap
 * listening --port PORT [--PROTO]` with the answer in the exit status (0
 * bound, 1 not, 2 bad input), so scripts can ask; this file checks the port
 * and hands over, and the listing prints the same columns and JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "builtin.h"

/* Says precisely what is wrong with PORT[/PROTO]. */
static int port_error(const struct cli_command *self, const char *text, int err)
{
        const char *slash = strchr(text, '/');
        enum rsap_proto proto;

        if (err == -ERANGE)
                return cli_error("'%s': a port is a number from 0 to 65535", text);
        if (slash && rsap_text_is_numeric(text) && rsap_proto_parse(slash + 1, &proto) < 0)
                return cli_error("'%s': unknown protocol '%s' (tcp, udp, sctp or dccp)", text,
                                 slash + 1);
        return cli_usage_error(self, "'%s' is not a port (0-65535, optionally /tcp, /udp, "
                                     "/sctp or /dccp)",
                               text);
}

static int parse_who_port(const struct cli_command *self, const char *text,
                          struct rsap_port_spec *spec)
{
        int r = rsap_port_spec_parse(text, spec);

        if (r < 0)
                return port_error(self, text, r);
        if (spec->low != spec->high)
                return cli_error("'%s' is a range: use 'rsap listening --port %s'", text, text);
        return -1;
}

int cmd_who(struct cli *cli, int argc, char **argv)
{
        static const struct option options[] = {
                { "no-process", no_argument, NULL, 'n' },
                { "db", required_argument, NULL, 'B' },
                CLI_COMMON_LONG_OPTIONS,
                { 0 },
        };
        static const char *const proto_options[RSAP_PROTO_COUNT] = {
                [RSAP_PROTO_TCP] = "--tcp",
                [RSAP_PROTO_UDP] = "--udp",
                [RSAP_PROTO_SCTP] = "--sctp",
                [RSAP_PROTO_DCCP] = "--dccp",
        };
        const struct cli_command *self = cli_find_command("who");
        struct rsap_port_spec spec;
        const char *what;
        bool no_process = false;
        char *db = NULL;
        char port_text[8];
        char *listening_argv[12];
        int opt, r, n = 0;

        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                if (opt == 'n') {
                        no_process = true;
                        continue;
                }
                if (opt == 'B') {
                        db = optarg;
                        continue;
                }
                r = cli_common_option(cli, self, opt);
                if (r >= 0)
                        return r;
        }
        if (optind != argc - 1)
                return cli_usage_error(self, optind == argc ? "which port?" : "one port at a time");
        what = argv[optind];
        r = parse_who_port(self, what, &spec);
        if (r >= 0)
                return r;

        /* --json and --db-dir are already in cli; the listing reads them there. */
        snprintf(port_text, sizeof(port_text), "%u", spec.low);
        listening_argv[n++] = (char *)"listening";
        listening_argv[n++] = (char *)"--port";
        listening_argv[n++] = port_text;
        if (spec.proto != RSAP_PROTO_NONE)
                listening_argv[n++] = (char *)proto_options[spec.proto];
        if (no_process)
                listening_argv[n++] = (char *)"--no-process";
        if (db) {
                listening_argv[n++] = (char *)"--db";
                listening_argv[n++] = db;
        }
        listening_argv[n] = NULL;
        optind = 0; /* a fresh getopt scan of the new arguments */
        cli_set_argv(listening_argv);
        r = cmd_listening(cli, n, listening_argv);
        if (r == EXIT_NO_MATCH && !cli->json)
                fprintf(stderr, "rsap: nothing is bound to %s on this host\n", what);
        return r;
}
