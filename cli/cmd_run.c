/* SPDX-License-Identifier: MIT */
/*
 * rsap run --as SERVICE -- COMMAND...: runs the command so that it can bind
 * TCP sockets only to the ports the local registry gives the service (its
 * tcp assignments and the live leases in its name), with Landlock's network
 * rules: a bind to any other port fails with EACCES.  rsap becomes the
 * command (execvp), so the command keeps rsap's pid and its exit status is
 * the command's; rsap's own failures before that are 125, a command that
 * cannot be executed 126 and one not found 127, as env(1) does.  The
 * restriction holds for the command's children too: nothing undoes it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rsap/landlock.h>
#include <rsap/port.h>

#include "builtin.h"
#include "registry.h"

/* env(1)'s statuses: rsap failed, or the command could not be started. */
#define EXIT_RUN_FAILED 125
#define EXIT_NOT_EXECUTABLE 126
#define EXIT_NOT_FOUND 127
#define MAX_ALSO 256

struct run_args {
        const char *service;
        uint16_t also[MAX_ALSO];
        size_t n_also;
        bool allow_ephemeral, best_effort, dry_run;
};

static int also_option(const struct cli_command *self, struct run_args *a, const char *text)
{
        uint16_t port;

        if (rsap_port_parse(text, &port) < 0)
                return cli_usage_error(self, "--also takes a port from 1 to 65535, not '%s'",
                                       text);
        if (port == 0)
                return cli_usage_error(self, "--also 0: --allow-ephemeral allows a bind to "
                                             "port 0");
        if (a->n_also == MAX_ALSO)
                return cli_usage_error(self, "at most %d --also", MAX_ALSO);
        a->also[a->n_also++] = port;
        return -1;
}

static int run_option(const struct cli_command *self, int opt, void *data)
{
        struct run_args *a = data;

        switch (opt) {
        case 's':
                a->service = optarg;
                return -1;
        case 'a':
                return also_option(self, a, optarg);
        case 'e':
                a->allow_ephemeral = true;
                return -1;
        case 'b':
                a->best_effort = true;
                return -1;
        case 'n':
                a->dry_run = true;
                return -1;
        }
        return -2;
}

/* What the command may bind: the registry's ports, then --also's, once each. */
struct run_plan {
        struct rsap_service_ports held;
        uint16_t also[MAX_ALSO];
        size_t n_also;
        int abi;                /* rsap_landlock_abi() */
        bool enforced;          /* Landlock will restrict the command */
};

static void run_plan_clear(struct run_plan *p)
{
        rsap_service_ports_clear(&p->held);
}

static bool plan_has(const struct run_plan *p, uint16_t port)
{
        for (size_t i = 0; i < p->held.n_ports; i++)
                if (p->held.ports[i].port == port)
                        return true;
        for (size_t i = 0; i < p->n_also; i++)
                if (p->also[i] == port)
                        return true;
        return false;
}

static void plan_add_also(struct run_plan *p, const struct run_args *a)
{
        for (size_t i = 0; i < a->n_also; i++)
                if (!plan_has(p, a->also[i]))
                        p->also[p->n_also++] = a->also[i];
}

/* The registry's ports for the service; 0, or the exit status after a message. */
static int read_service_ports(struct cli *cli, struct registry_cli *rc, const char *service,
                              struct rsap_service_ports *out)
{
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        int r = registry_open_read(cli, rc, &store);

        if (r)
                return r;
        if (!store)
                return registry_no_match("no service '%s': there is no local registry at %s",
                                         service, rc->path);
        r = rsap_service_tcp_ports(store, service, out);
        if (r == -ENOENT)
                return registry_no_match("no service '%s' in the local registry, and no live "
                                         "lease named so",
                                         service);
        if (r == -EINVAL)
                return cli_error("--as takes a service name of 1 to %d characters",
                                 RSAP_NAME_MAX);
        if (r < 0)
                return registry_error(rc, r, "cannot read the registry");
        return 0;
}

/* Why Landlock cannot restrict binds here, in words. */
static void landlock_missing(int abi, char *buf, size_t size)
{
        if (abi == -ENOSYS)
                snprintf(buf, size, "this kernel has no Landlock");
        else if (abi == -EOPNOTSUPP)
                snprintf(buf, size, "Landlock is turned off on this kernel (see the lsm= boot "
                                    "parameter)");
        else if (abi < 0)
                snprintf(buf, size, "Landlock's version cannot be read: %s", strerror(-abi));
        else
                snprintf(buf, size, "this kernel's Landlock (ABI %d) has no network rules "
                                    "(ABI %d, Linux 6.7 or later)",
                         abi, RSAP_LANDLOCK_NET_ABI);
}

/* Refuses without Landlock's network rules, or with --best-effort warns and goes on. */
static int judge_landlock(const struct run_args *a, struct run_plan *p)
{
        char why[160];

        p->abi = rsap_landlock_abi();
        p->enforced = rsap_landlock_has_net(p->abi);
        if (p->enforced)
                return 0;
        landlock_missing(p->abi, why, sizeof(why));
        if (!a->best_effort)
                return cli_error("%s, so the command cannot be kept to %s's TCP ports; "
                                 "--best-effort runs it unrestricted",
                                 why, p->held.service);
        fprintf(stderr, "rsap: warning: %s: running without the port restriction "
                        "(--best-effort)\n",
                why);
        return 0;
}

static int make_plan(struct cli *cli, struct registry_cli *rc, const struct run_args *a,
                     struct run_plan *p)
{
        int r = read_service_ports(cli, rc, a->service, &p->held);

        if (r)
                return r;
        plan_add_also(p, a);
        if (p->held.n_ports + p->n_also == 0)
                return registry_no_match("'%s' holds no TCP port (no active tcp assignment, "
                                         "no live lease named so); --also PORT gives one",
                                         p->held.service);
        return judge_landlock(a, p);
}

/* Every port of the plan, and 0 with --allow-ephemeral, for Landlock. */
static size_t plan_ports(const struct run_plan *p, bool ephemeral, uint16_t *out)
{
        size_t n = 0;

        for (size_t i = 0; i < p->held.n_ports; i++)
                out[n++] = p->held.ports[i].port;
        for (size_t i = 0; i < p->n_also; i++)
                out[n++] = p->also[i];
        if (ephemeral)
                out[n++] = 0;
        return n;
}

static const char *source_name(enum rsap_local_kind kind)
{
        return kind == RSAP_LOCAL_LEASE ? "lease" : "assignment";
}

/* {"kind": "run", "service", "ports": [{"port", "source", "id"}], ...}: docs/json.md. */
static json_t *plan_to_json(const struct run_plan *p, const struct run_args *a, char **command)
{
        json_t *ports = json_array(), *argv = json_array();

        for (size_t i = 0; ports && i < p->held.n_ports; i++)
                json_array_append_new(ports, json_pack("{s:i, s:s, s:I}", "port",
                                                       p->held.ports[i].port, "source",
                                                       source_name(p->held.ports[i].kind), "id",
                                                       (json_int_t)p->held.ports[i].id));
        for (size_t i = 0; ports && i < p->n_also; i++)
                json_array_append_new(ports, json_pack("{s:i, s:s, s:n}", "port", p->also[i],
                                                       "source", "also", "id"));
        for (size_t i = 0; argv && command && command[i]; i++)
                json_array_append_new(argv, json_string(command[i]));
        return json_pack("{s:s, s:s, s:o, s:b, s:o, s:b, s:o}", "kind", "run", "service",
                         p->held.service, "ports", ports, "ephemeral", a->allow_ephemeral,
                         "landlock_abi", p->abi > 0 ? json_integer(p->abi) : json_null(),
                         "enforced", p->enforced, "command", argv);
}

static void print_plan(const struct run_plan *p, const struct run_args *a)
{
        printf("service    %s\n", p->held.service);
        for (size_t i = 0; i < p->held.n_ports; i++)
                printf("%-10s %u/tcp  %s %lld\n", i ? "" : "may bind", p->held.ports[i].port,
                       source_name(p->held.ports[i].kind), (long long)p->held.ports[i].id);
        for (size_t i = 0; i < p->n_also; i++)
                printf("%-10s %u/tcp  --also\n", i || p->held.n_ports ? "" : "may bind",
                       p->also[i]);
        printf("port 0     %s\n", a->allow_ephemeral ? "allowed: an ephemeral port"
                                                     : "refused (--allow-ephemeral allows it)");
        printf("landlock   %s\n", p->enforced ? "enforced" : "not available: unrestricted");
        printf("free       UDP, SCTP, connections: Landlock restricts TCP binds only\n");
}

static int dry_run(struct cli *cli, const struct run_plan *p, const struct run_args *a,
                   char **command)
{
        if (cli->json)
                return cli_print_json(plan_to_json(p, a, command)) ? EXIT_BAD_INPUT
                                                                   : EXIT_ANSWERED;
        print_plan(p, a);
        return EXIT_ANSWERED;
}

/* Restricts rsap itself, then becomes the command; returns only on failure. */
static int exec_restricted(const struct run_plan *p, const struct run_args *a, char **command)
{
        _cleanup_(freep) uint16_t *ports = malloc((p->held.n_ports + p->n_also + 1) *
                                                  sizeof(*ports));
        int r;

        if (!ports) {
                cli_error("out of memory");
                return EXIT_RUN_FAILED;
        }
        if (p->enforced) {
                size_t n = plan_ports(p, a->allow_ephemeral, ports);

                r = rsap_landlock_restrict_tcp_bind(ports, n);
                if (r < 0) {
                        cli_error_code(r, "cannot restrict the ports '%s' binds", command[0]);
                        return EXIT_RUN_FAILED;
                }
        }
        execvp(command[0], command);
        r = errno;
        cli_error("cannot run '%s': %s", command[0], strerror(r));
        return r == ENOENT ? EXIT_NOT_FOUND : EXIT_NOT_EXECUTABLE;
}

static int check_operands(const struct cli_command *self, const struct run_args *a, int argc,
                          char **argv)
{
        if (!a->service)
                return cli_usage_error(self, "--as SERVICE says whose ports the command may "
                                             "bind");
        if (optind == argc && !a->dry_run)
                return cli_usage_error(self, "give the command to run after '--'");
        if (optind < argc && strcmp(argv[optind - 1], "--") != 0)
                return cli_usage_error(self, "put the command after '--', so that its options "
                                             "stay its own");
        return -1;
}

static int run(struct cli *cli, int argc, char **argv, struct run_args *a)
{
        const struct cli_command *self = cli_find_command("run");
        struct registry_cli rc = { 0 };
        _cleanup_(run_plan_clear) struct run_plan p = { 0 };
        int r = registry_getopt(cli, self, &rc, argc, argv, run_option, a);

        if (r >= 0)
                return r;
        r = check_operands(self, a, argc, argv);
        if (r >= 0)
                return r;
        if (cli->json && !a->dry_run)
                return cli_usage_error(self, "--json prints the plan: give --dry-run too (the "
                                             "command's output is its own)");
        r = make_plan(cli, &rc, a, &p);
        if (r)
                return r;
        if (a->dry_run)
                return dry_run(cli, &p, a, optind < argc ? argv + optind : NULL);
        return exec_restricted(&p, a, argv + optind);
}

int cmd_run(struct cli *cli, int argc, char **argv)
{
        struct run_args a = { 0 };
        int r = run(cli, argc, argv, &a);

        /* Before the command runs, rsap's own statuses would pass for its. */
        if (!a.dry_run && r != EXIT_ANSWERED && r < EXIT_RUN_FAILED)
                return EXIT_RUN_FAILED;
        return r;
}
