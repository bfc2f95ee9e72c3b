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
#include "registry.h"

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

/* --proto P[,P] and its short forms --tcp, --udp, --sctp, --dccp: -1 when
 * taken, -2 when opt is another option, else the exit status. */
static int who_proto_option(const struct cli_command *self, int opt, unsigned *protocols)
{
        unsigned more = 0;
        int r = -1;

        switch (opt) {
        case 'R':
                r = registry_proto_option(self, optarg, &more);
                break;
        case 't':
                more = 1u << RSAP_PROTO_TCP;
                break;
        case 'u':
                more = 1u << RSAP_PROTO_UDP;
                break;
        case 's':
                more = 1u << RSAP_PROTO_SCTP;
                break;
        case 'd':
                more = 1u << RSAP_PROTO_DCCP;
                break;
        default:
                return -2;
        }
        *protocols |= more;
        return r;
}

struct who_args {
        unsigned protocols;
        bool no_process;
        bool all_namespaces;
        char *netns; /* --netns NAME|PID|PATH */
        char *container; /* --container NAME|ID */
        char *db;
};

/* The protocols, --no-process, -A, --netns, --container, --db FILE; the
 * listing checks -A, --netns and --container. */
static int who_option(const struct cli_command *self, int opt, void *data)
{
        struct who_args *a = data;

        if (opt == 'n')
                a->no_process = true;
        else if (opt == 'B')
                a->db = optarg;
        else if (opt == 'A')
                a->all_namespaces = true;
        else if (opt == 'N')
                a->netns = optarg;
        else if (opt == 'C')
                a->container = optarg;
        else
                return who_proto_option(self, opt, &a->protocols);
        return -1;
}

int cmd_who(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("who");
        struct who_args a = { 0 };
        struct rsap_port_spec spec;
        const char *what;
        char port_text[8], proto_text[32];
        char *listening_argv[16];
        int r, n = 0;

        r = cli_getopt(cli, self, argc, argv, who_option, &a);
        if (r >= 0)
                return r;
        if (optind != argc - 1)
                return cli_usage_error(self, optind == argc ? "which port?" : "one port at a time");
        what = argv[optind];
        r = parse_who_port(self, what, &spec);
        if (r >= 0)
                return r;
        if (spec.proto != RSAP_PROTO_NONE) {
                if (a.protocols && a.protocols != 1u << spec.proto)
                        return cli_usage_error(self, "'%s' names the protocol and --proto "
                                                     "another: give one of them",
                                               what);
                a.protocols = 1u << spec.proto;
        }

        /* --json and --db-dir are already in cli; the listing reads them there. */
        snprintf(port_text, sizeof(port_text), "%u", spec.low);
        listening_argv[n++] = (char *)"listening";
        listening_argv[n++] = (char *)"--port";
        listening_argv[n++] = port_text;
        if (a.protocols) {
                rsap_proto_format_list(a.protocols, proto_text, sizeof(proto_text));
                listening_argv[n++] = (char *)"--proto";
                listening_argv[n++] = proto_text;
        }
        if (a.no_process)
                listening_argv[n++] = (char *)"--no-process";
        if (a.all_namespaces)
                listening_argv[n++] = (char *)"--all-namespaces";
        if (a.netns) {
                listening_argv[n++] = (char *)"--netns";
                listening_argv[n++] = a.netns;
        }
        if (a.container) {
                listening_argv[n++] = (char *)"--container";
                listening_argv[n++] = a.container;
        }
        if (a.db) {
                listening_argv[n++] = (char *)"--db";
                listening_argv[n++] = a.db;
        }
        listening_argv[n] = NULL;
        optind = 0; /* a fresh getopt scan of the new arguments */
        cli_set_argv(listening_argv);
        r = cmd_listening(cli, n, listening_argv);
        if (r == EXIT_NO_MATCH)
                fprintf(stderr, "rsap: nothing is bound to %s %s\n", what,
                        a.container        ? "in that container"
                        : a.all_namespaces ? "in any network namespace of this host"
                        : a.netns          ? "in that network namespace"
                                         : "on this host");
        return r;
}
