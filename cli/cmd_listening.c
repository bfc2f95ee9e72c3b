/* SPDX-License-Identifier: MIT */
/*
 * rsap listening: the sockets listening on this host, one line each, with
 * the IANA service of their port and the processes that hold them.  `rsap
 * who` is this command narrowed to one port (cmd_who.c).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rsap/json.h>
#include <rsap/listen.h>

#include "builtin.h"

struct listening_request {
        struct rsap_listen_filter filter;
        bool unregistered;
};

/* ---- options ------------------------------------------------------------ */

static int parse_port_option(const struct cli_command *self, const char *text,
                             struct listening_request *req)
{
        struct rsap_port_spec spec;
        int r = rsap_port_spec_parse(text, &spec);

        if (r == -ERANGE)
                return cli_usage_error(self, "--port '%s': a port is a number from 0 to 65535",
                                       text);
        if (r < 0)
                return cli_usage_error(self, "--port '%s' is not a port or a range A-B", text);
        req->filter.port_low = spec.low;
        req->filter.port_high = spec.high;
        /* "--port 53/udp" narrows the protocols as --udp would. */
        if (spec.proto != RSAP_PROTO_NONE)
                req->filter.protocols |= 1u << spec.proto;
        return -1;
}

static int parse_pid_option(const struct cli_command *self, const char *text,
                            struct listening_request *req)
{
        char *end;
        long pid;

        errno = 0;
        pid = strtol(text, &end, 10);
        if (errno || end == text || *end || pid <= 0 || pid > INT_MAX)
                return cli_usage_error(self, "--pid '%s' is not a process id", text);
        req->filter.match_pid = true;
        req->filter.pid = (pid_t)pid;
        return -1;
}

/* A user name, or a uid in decimal (which need not have a name). */
static int parse_user_option(const struct cli_command *self, const char *text,
                             struct listening_request *req)
{
        char buf[4096], *end;
        struct passwd pw, *found = NULL;
        unsigned long uid;

        errno = 0;
        uid = strtoul(text, &end, 10);
        if (*text >= '0' && *text <= '9' && !*end && !errno && uid < (uid_t)-1) {
                req->filter.uid = (uid_t)uid;
        } else if (getpwnam_r(text, &pw, buf, sizeof(buf), &found) == 0 && found) {
                req->filter.uid = pw.pw_uid;
        } else {
                return cli_usage_error(self, "--user '%s': no such user", text);
        }
        req->filter.match_uid = true;
        return -1;
}

/* Returns -1 when opt was an option of this command, else an exit status. */
static int listening_option(struct cli *cli, const struct cli_command *self, int opt,
                            struct listening_request *req)
{
        switch (opt) {
        case 't':
                req->filter.protocols |= 1u << RSAP_PROTO_TCP;
                return -1;
        case 'u':
                req->filter.protocols |= 1u << RSAP_PROTO_UDP;
                return -1;
        case 's':
                req->filter.protocols |= 1u << RSAP_PROTO_SCTP;
                return -1;
        case 'd':
                req->filter.protocols |= 1u << RSAP_PROTO_DCCP;
                return -1;
        case 'p':
                return parse_port_option(self, optarg, req);
        case 'P':
                return parse_pid_option(self, optarg, req);
        case 'U':
                return parse_user_option(self, optarg, req);
        case 'r':
                req->unregistered = true;
                return -1;
        case 'n':
                req->filter.find_owners = false;
                return -1;
        default:
                return cli_common_option(cli, self, opt);
        }
}

/* ---- text --------------------------------------------------------------- */

/* "127.0.0.1:631", "[::1]:631", "0.0.0.0%lo:53", "[fe80::1%eth0]:546". */
static void format_endpoint(const struct rsap_listen_socket *s, char *buf, size_t size)
{
        const char *pct = s->interface[0] ? "%" : "";

        if (s->family == AF_INET6)
                snprintf(buf, size, "[%s%s%s]:%u", s->address, pct, s->interface, s->port);
        else
                snprintf(buf, size, "%s%s%s:%u", s->address, pct, s->interface, s->port);
}

static const char *user_text(const char *name, uid_t uid, char *buf, size_t size)
{
        if (name)
                return name;
        snprintf(buf, size, "%lu", (unsigned long)uid);
        return buf;
}

static bool same_process_kind(const struct rsap_listen_owner *a, const struct rsap_listen_owner *b)
{
        return a->uid == b->uid && strcmp(a->command, b->command) == 0;
}

/*
 * "sshd[812] root", and for a server whose workers share the socket
 * "nginx[900] root, nginx[901,902] www-data": owners of one command and user
 * are told once, with their pids together.
 */
static void print_owners(const struct cli *cli, const struct rsap_listen_socket *s)
{
        char uid_buf[24];

        if (s->owners_hidden) {
                printf("%s(not visible)%s %s", cli_dim(cli), cli_reset(cli),
                       user_text(s->user, s->uid, uid_buf, sizeof(uid_buf)));
                return;
        }
        for (size_t i = 0, groups = 0; i < s->n_owners; i++) {
                const struct rsap_listen_owner *o = &s->owners[i];
                size_t j;

                for (j = 0; j < i && !same_process_kind(&s->owners[j], o); j++)
                        ;
                if (j < i)
                        continue; /* told with the first of its kind */
                printf("%s%s[%d", groups++ ? ", " : "", o->command, (int)o->pid);
                for (j = i + 1; j < s->n_owners; j++) {
                        if (same_process_kind(&s->owners[j], o))
                                printf(",%d", (int)s->owners[j].pid);
                }
                printf("] %s", user_text(o->user, o->uid, uid_buf, sizeof(uid_buf)));
        }
}

struct widths {
        int endpoint, service;
};

static const char *service_of(const struct rsap_registry *reg, const struct rsap_listen_socket *s)
{
        const char *name = rsap_registry_service_name(reg, s->port, s->proto);

        return name ? name : "-";
}

static struct widths measure(const struct rsap_listen_list *list, const struct rsap_registry *reg)
{
        struct widths w = { (int)strlen("ADDRESS:PORT"), (int)strlen("SERVICE") };
        char endpoint[96];

        for (size_t i = 0; i < list->count; i++) {
                int len;

                format_endpoint(&list->sockets[i], endpoint, sizeof(endpoint));
                len = (int)strlen(endpoint);
                if (len > w.endpoint)
                        w.endpoint = len;
                len = (int)strlen(service_of(reg, &list->sockets[i]));
                if (len > w.service)
                        w.service = len;
        }
        return w;
}

static void print_table(const struct cli *cli, const struct rsap_listen_list *list,
                        const struct rsap_registry *reg)
{
        struct widths w = measure(list, reg);
        char endpoint[96], uid_buf[24];

        printf("%s%-5s  %-*s  %-*s  %s%s\n", cli_bold(cli), "PROTO", w.endpoint, "ADDRESS:PORT",
               w.service, "SERVICE", list->owners_looked_up ? "PROCESS" : "USER", cli_reset(cli));
        for (size_t i = 0; i < list->count; i++) {
                const struct rsap_listen_socket *s = &list->sockets[i];

                format_endpoint(s, endpoint, sizeof(endpoint));
                printf("%-5s  %-*s  %-*s  ", rsap_proto_name(s->proto), w.endpoint, endpoint,
                       w.service, service_of(reg, s));
                if (list->owners_looked_up)
                        print_owners(cli, s);
                else
                        fputs(user_text(s->user, s->uid, uid_buf, sizeof(uid_buf)), stdout);
                putchar('\n');
        }
}

/* Once, and only when it is true: some owner was hidden by permissions. */
static void hint_hidden_owners(const struct rsap_listen_list *list)
{
        if (!list->owners_looked_up || list->unreadable_processes == 0)
                return;
        for (size_t i = 0; i < list->count; i++) {
                if (list->sockets[i].owners_hidden) {
                        fprintf(stderr, "rsap: the processes of other users are not visible; "
                                        "root sees them\n");
                        return;
                }
        }
}

/* ---- the command -------------------------------------------------------- */

static int collect_error(int err, const struct rsap_listen_filter *f)
{
        if (err == -EPROTONOSUPPORT || err == -EAFNOSUPPORT)
                return cli_error("cannot list sockets: this system has neither the sock_diag "
                                 "netlink interface nor /proc/net (rsap reads Linux's)");
        if (err == -EACCES && f->match_pid)
                return cli_error("cannot read the descriptors of process %d: %s (root can)",
                                 (int)f->pid, strerror(EACCES));
        return cli_error_code(err, "cannot list sockets");
}

static int run_listening(struct cli *cli, const struct listening_request *req)
{
        _cleanup_(rsap_registry_freep) struct rsap_registry *reg = NULL;
        _cleanup_(rsap_listen_list_freep) struct rsap_listen_list *list = NULL;
        static char out_buf[1 << 16];
        int r;

        reg = cli_open_registry(cli);
        if (!reg)
                return EXIT_BAD_INPUT;
        r = rsap_listen_collect(&req->filter, &list);
        if (r < 0)
                return collect_error(r, &req->filter);
        if (req->unregistered)
                rsap_listen_list_keep_unregistered(list, reg);
        /* Thousands of lines: write them in large blocks. */
        setvbuf(stdout, out_buf, _IOFBF, sizeof(out_buf));
        if (cli->json)
                r = cli_print_json(rsap_listen_list_to_json(list, reg));
        else if (list->count > 0)
                print_table(cli, list, reg);
        hint_hidden_owners(list);
        if (r != 0 || fflush(stdout) != 0)
                return cli_error("cannot write the output");
        return list->count > 0 ? EXIT_ANSWERED : EXIT_NO_MATCH;
}

int cmd_listening(struct cli *cli, int argc, char **argv)
{
        static const struct option options[] = {
                { "tcp", no_argument, NULL, 't' },
                { "udp", no_argument, NULL, 'u' },
                { "sctp", no_argument, NULL, 's' },
                { "dccp", no_argument, NULL, 'd' },
                { "port", required_argument, NULL, 'p' },
                { "pid", required_argument, NULL, 'P' },
                { "user", required_argument, NULL, 'U' },
                { "unregistered", no_argument, NULL, 'r' },
                { "no-process", no_argument, NULL, 'n' },
                CLI_COMMON_LONG_OPTIONS,
                { 0 },
        };
        const struct cli_command *self = cli_find_command("listening");
        struct listening_request req = { .unregistered = false };
        int opt, r;

        rsap_listen_filter_init(&req.filter);
        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                r = listening_option(cli, self, opt, &req);
                if (r >= 0)
                        return r;
        }
        if (optind < argc)
                return cli_usage_error(self, "unexpected argument '%s'", argv[optind]);
        return run_listening(cli, &req);
}
